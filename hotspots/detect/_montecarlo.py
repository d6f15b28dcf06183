"""Monte Carlo under the exposure null: simulated maps and permutation p-values.

Private to :mod:`hotspots.detect` (the ``permutation`` inference method,
:mod:`hotspots.detect.methods.permutation`); :func:`simulate_null` also drives the calibration
tests and ``scripts/null_calibration.py``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from hotspots.detect._marks import MarkMix
from hotspots.detect.gistar import LEVELS
from hotspots.errors import HotspotsWarning


def _local_sums(W: sp.csr_array, values: np.ndarray) -> np.ndarray:
    return np.asarray(W @ values)


def simulate_null(
    prob: npt.ArrayLike, mix: MarkMix, n_maps: int, *, seed: int | np.random.Generator = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Draw maps of counts and harm sums under the exposure null (the marks fixed, locations random).

    Each of the ``mix.n`` incidents falls in unit j with probability ``prob[j]``,
    independently; its mark stays its own (a conditional permutation of the marks).

    Parameters
    ----------
    prob
        Probability of each unit (exposure shares; normalised here).
    mix
        The incidents' marks.
    n_maps
        Number of maps.
    seed
        Seed or numpy Generator.

    Returns
    -------
    counts, harm
        Arrays of shape (n_maps, n_units): incidents and summed marks per unit.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    p = np.asarray(prob, dtype=float)
    p = p / p.sum()
    n = len(p)
    counts = np.zeros((n_maps, n), dtype=np.int64)
    harm = np.zeros((n_maps, n))
    values = np.concatenate([mix.values, [0.0]]) if mix.zeros else mix.values
    nums = np.concatenate([mix.counts, [mix.zeros]]) if mix.zeros else mix.counts
    for v, k in zip(values, nums, strict=True):
        if k * 4 < n:  # few incidents: draw locations (cheaper than a multinomial over many units)
            cdf = np.cumsum(p)
            loc = np.minimum(np.searchsorted(cdf, rng.random((n_maps, int(k))) * cdf[-1], side="right"), n - 1)
            x = np.zeros((n_maps, n), dtype=np.int64)
            np.add.at(x, (np.repeat(np.arange(n_maps), int(k)), loc.ravel()), 1)
        else:
            x = rng.multinomial(int(k), p, size=n_maps)
        counts += x
        harm += v * x
    return counts, harm


def permutation_test(
    local: np.ndarray,
    W: sp.csr_array,
    prob: np.ndarray,
    mix: MarkMix,
    *,
    counts: bool,
    permutations: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo p-values of observed local sums under the exposure null.

    ``permutations`` maps from :func:`simulate_null`; one-sided ``(1 + #{sim >= obs}) /
    (R + 1)`` (ties count as extreme) and likewise below, two-sided ``min(1, 2 min(.,.))``.

    Returns
    -------
    z, p
        ``z = (obs - mean of simulated) / sd of simulated`` (esda's ``z_sim``; 0 where the
        simulated sums do not vary) and the two-sided p.
    """
    rng = np.random.default_rng(seed)
    n = len(local)
    ge = np.zeros(n)
    le = np.zeros(n)
    s1 = np.zeros(n)
    s2 = np.zeros(n)
    tol = 1e-9 * np.maximum(1.0, np.abs(local))
    chunk = max(1, min(permutations, 4_000_000 // max(n, 1)))
    done = 0
    while done < permutations:
        m = min(chunk, permutations - done)
        c, h = simulate_null(prob, mix, m, seed=rng)
        sims = _local_sums(W, (c if counts else h).T)  # (n, m)
        ge += (sims >= (local - tol)[:, None]).sum(axis=1)
        le += (sims <= (local + tol)[:, None]).sum(axis=1)
        s1 += sims.sum(axis=1)
        s2 += (sims**2).sum(axis=1)
        done += m
    p_up = (ge + 1) / (permutations + 1)
    p_low = (le + 1) / (permutations + 1)
    p = np.minimum(1.0, 2.0 * np.minimum(p_up, p_low))
    mean = s1 / permutations
    sd = np.sqrt(np.maximum(0.0, s2 / permutations - mean**2))
    z = np.divide(local - mean, sd, out=np.zeros(n), where=sd > 0)
    return z, p


def warn_permutation_floor(permutations: int, n_units: int) -> None:
    """Warn when the Monte Carlo p floor keeps Benjamini-Hochberg from reaching a class's level."""
    p_min = min(1.0, 2.0 / (permutations + 1))
    notes = []
    for level, hot, _ in sorted(LEVELS):
        need = math.ceil(p_min * n_units / level)
        if need > 1:
            notes.append(
                f"'{hot}' (q <= {level:g}) needs p <= {level / n_units:.2g} for a lone unit, so only groups of at "
                f"least {need:,} units can reach it" + (" (impossible)" if need > n_units else "")
            )
    if notes:
        warnings.warn(
            f"with {permutations:,} simulations the smallest Monte Carlo p is 1/(R+1) = {1 / (permutations + 1):.2g} "
            f"per tail ({p_min:.2g} two-sided); over {n_units:,} units Benjamini-Hochberg then cannot reach "
            f"every level: " + "; ".join(notes) + ". Use inference='exact' (no floor) or more permutations.",
            HotspotsWarning,
            stacklevel=3,
        )


__all__ = ["permutation_test", "simulate_null", "warn_permutation_floor"]
