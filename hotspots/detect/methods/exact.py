"""The exact tail test of each unit's neighbourhood sum under an exposure null (the default method).

Null: the N incidents fall independently in unit j with probability ``e_j / sum e`` (its share
of the exposure: residents for LSOAs, area for grid cells), their harm marks fixed. The
neighbourhood count is then Binomial(N, pi_i); the test uses Poisson(N pi_i) (never less
conservative than the binomial in the tails; Anderson & Samuels 1967) and, for harm sums, the
compound Poisson ``sum_t m_t Poisson(N_t pi_i)``, whose tails are exact by Panjer's (1981)
recursion on the marks' lattice (:mod:`hotspots.detect._tails`). With dispersion phi > 1 each
unit's count is gamma-mixed Poisson (negative binomial, variance phi mu), still exact by
Panjer's (a, b, 0) recursion. ``dispersion="pearson"`` (the default) estimates phi from the
unit counts (:func:`pearson_dispersion`): real crime counts vary between units far more than the
Poisson null allows (7.3 on the bundled LSOAs), and without it a plain Poisson null calls most
busy places hot.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special

from hotspots.detect._marks import MarkMix
from hotspots.detect._saddle import log_p_zero
from hotspots.detect._tails import MAX_STEPS, compound_poisson_tails
from hotspots.detect.gistar import MIN_UNITS
from hotspots.detect.problem import InferenceOptions, LocalProblem, MethodResult
from hotspots.errors import InputError

DEFAULT_DISPERSION = "pearson"
"""Dispersion used when none is given: estimated from the unit counts."""


def exact_test(
    local: npt.ArrayLike,
    lam: npt.ArrayLike,
    mix: MarkMix,
    *,
    dispersion: float = 1.0,
    method: str = "auto",
    max_steps: int = MAX_STEPS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two-sided exact p-values and equivalent z of observed local sums under the exposure null.

    Parameters
    ----------
    local
        Observed local sums (harm units, or counts with a one-value ``mix``), shape (n,) or
        (n, m) for m maps sharing the expectations.
    lam
        Expected number of incidents in each neighbourhood, ``N * pi_i``, shape (n,).
    mix
        Mark mix of the incidents (:func:`hotspots.detect._marks.mark_mix`).
    dispersion
        Variance / mean of the neighbourhood count under the null: 1 = Poisson (default), > 1
        = negative binomial (:func:`pearson_dispersion`).
    method, max_steps
        ``"auto"`` (exact where possible, else saddlepoint), ``"exact"`` or ``"saddlepoint"``;
        largest lattice sum computed exactly per unit.

    Returns
    -------
    z, p, exact
        ``z``: the standard normal deviate with the same one-sided tail as the smaller exact
        tail, signed (positive = more than expected); ``p``: ``min(1, 2 min(P(H >= h),
        P(H <= h)))``; ``exact``: per unit, True where the tails are exact (False where the
        saddlepoint was used).

    Examples
    --------
    >>> from hotspots.detect._marks import mark_mix
    >>> mix = mark_mix([1.0] * 10)
    >>> z, p, _ = exact_test([10.0, 0.0], [2.0, 2.0], mix)
    >>> bool(p[0] < 1e-4), bool(z[1] < 0)
    (True, True)
    """
    log_up, log_low, exact = compound_poisson_tails(
        local, lam, mix, dispersion=dispersion, method=method, max_steps=max_steps
    )
    z, p = z_and_p(log_up, log_low)
    return z, p, exact


def z_and_p(log_up: np.ndarray, log_low: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Signed normal deviate of the smaller one-sided tail and the two-sided p, from log tails."""
    upper = log_up < log_low
    lower = log_low < log_up
    log_one = np.minimum(log_up, log_low)
    p = np.minimum(1.0, 2.0 * np.exp(log_one))
    depth = np.maximum(0.0, -special.ndtri_exp(np.minimum(log_one, -1e-300)))
    z = np.where(upper, depth, np.where(lower, -depth, 0.0))
    return z, p


def pearson_dispersion(counts: npt.ArrayLike, expected: npt.ArrayLike) -> float:
    """Pearson dispersion of unit counts about their exposure expectations, at least 1.

    ``phi = sum (n_j - mu_j)² / mu_j / (n - 1)`` over units with ``mu_j > 0``: about 1 when
    incidents follow the exposure null, larger with extra-Poisson variation between units.
    The hot spots themselves inflate it, so a test using it errs on the conservative side.

    Examples
    --------
    >>> pearson_dispersion([0, 2, 4], [2.0, 2.0, 2.0])
    2.0
    """
    n = np.asarray(counts, dtype=float)
    mu = np.asarray(expected, dtype=float)
    ok = mu > 0
    if ok.sum() < MIN_UNITS:
        return 1.0
    return max(1.0, float(((n[ok] - mu[ok]) ** 2 / mu[ok]).sum() / (ok.sum() - 1)))


def resolve_dispersion(dispersion: float | str | None, counts: npt.ArrayLike, expected: npt.ArrayLike) -> float:
    """The dispersion to use: a number >= 1 as given, or the Pearson estimate (``"pearson"`` or None).

    Raises
    ------
    InputError
        Anything else (a number below 1, another string).
    """
    if dispersion is None or dispersion == "pearson":
        return pearson_dispersion(counts, expected)
    check_dispersion(dispersion)
    return float(dispersion)


def check_dispersion(dispersion: object, *, where: str = "dispersion") -> None:
    """Raise InputError unless ``dispersion`` is ``"pearson"``, None or a finite number >= 1."""
    if dispersion is None or dispersion == "pearson":
        return
    if isinstance(dispersion, bool) or not (
        isinstance(dispersion, (int, float)) and math.isfinite(dispersion) and dispersion >= 1
    ):
        raise InputError(f"{where} must be 'pearson' or a number >= 1 (1 = Poisson), got {dispersion!r}.")


def min_expected_for_cold(n_units: int, *, q: float = 0.05) -> tuple[float, float]:
    """Smallest expected neighbourhood count at which an empty neighbourhood can be a cold spot.

    An empty neighbourhood has the smallest possible lower tail, ``P(H = 0) = exp(-lam)``,
    so its two-sided p is ``2 exp(-lam)``. Under Benjamini-Hochberg it is rejected at ``q``
    when ``2 exp(-lam) <= q k / n`` with k rejections in all: ``lam >= log(2 / q)`` when
    every unit is rejected (the most favourable case) and ``lam >= log(2 n / q)`` for a
    lone cold spot.

    Returns
    -------
    best, lone
        The two thresholds (expected incidents in the neighbourhood, Poisson null).

    Examples
    --------
    >>> [round(v, 2) for v in min_expected_for_cold(2324)]
    [3.69, 11.44]
    """
    return math.log(2.0 / q), math.log(2.0 * n_units / q)


def cold_attainability(lam: np.ndarray, mix: MarkMix, phi: float) -> dict[str, Any]:
    """Where cold spots are attainable at q <= 0.05 (for the run manifest)."""
    best, lone = min_expected_for_cold(len(lam))
    # an empty neighbourhood's p is 2 P(H = 0); P(H = 0) = exp(-mu) (Poisson), (1/phi)^(mu/(phi-1)) (NB)
    scale = 1.0 if phi == 1.0 else (phi - 1.0) / math.log(phi)
    depth = -log_p_zero(lam, mix, dispersion=phi)
    return {
        "cold_min_expected_q05": {"every_unit_cold": round(best * scale, 2), "lone_cold_unit": round(lone * scale, 2)},
        "cold_attainable_units_q05": int((depth >= best).sum()),
    }


def infer(problem: LocalProblem, options: InferenceOptions) -> MethodResult:
    """Run the exact test on the analysed units (the registry's ``"exact"`` method)."""
    mix = problem.marks
    phi = resolve_dispersion(options.dispersion, problem.counts, problem.n_incidents * problem.prob)
    z, p, exact = exact_test(problem.local, problem.lam, mix, dispersion=phi, max_steps=options.max_steps)
    info = {
        "dispersion": round(phi, 4),
        "dispersion_rule": "given" if isinstance(options.dispersion, (int, float)) else "pearson (estimated)",
        "units_saddlepoint": int((~exact).sum()),
        **cold_attainability(problem.lam, mix, phi),
    }
    return MethodResult(z=z, p=p, info=info)


__all__ = [
    "DEFAULT_DISPERSION",
    "check_dispersion",
    "exact_test",
    "infer",
    "min_expected_for_cold",
    "pearson_dispersion",
    "resolve_dispersion",
    "z_and_p",
]
