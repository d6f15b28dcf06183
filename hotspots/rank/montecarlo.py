"""The composite score's Monte Carlo: ranks of every place in perturbed worlds (for :mod:`hotspots.rank.composite`).

Every draw redraws the counts of the components that depend on them (Poisson, from the
observed counts) and perturbs the weights, rescales and recombines; blocks of draws are
vectorised (numpy) and run on threads, one seeded generator per block, so the result does
not depend on the number of threads.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hotspots.errors import InputError
from hotspots.rank.columns import HARM, HARM_NEAR, N_INCIDENTS, POPULATION
from hotspots.rank.components.registry import REGISTRY, RESAMPLED
from hotspots.rank.options import GEOMETRIC_FLOOR, INTERVAL
from hotspots.rank.scale import scale

BLOCK_CELLS = 2_000_000
"""Draws are simulated in blocks of about this many place-draws (memory stays flat)."""

MAX_WORKERS = 4
"""Threads for the blocks of draws at most."""


@dataclass(frozen=True)
class Perturbation:
    """How the weights and counts are perturbed (see :func:`hotspots.rank.composite.rank_places`)."""

    weight_noise: str
    concentration: float
    sigma: float
    resample: bool


def weight_draws(rng: np.random.Generator, w: np.ndarray, d: int, how: Perturbation) -> np.ndarray:
    """``d`` perturbed copies of the weights ``w`` (rows sum to 1)."""
    w = w / w.sum()
    if how.weight_noise == "none" or len(w) == 1:
        return np.broadcast_to(w, (d, len(w))).copy()
    if how.weight_noise == "dirichlet":
        return rng.dirichlet(how.concentration * w, size=d)
    wd = w * np.exp(rng.normal(0.0, how.sigma, size=(d, len(w))))
    return wd / wd.sum(axis=1, keepdims=True)


def poisson_harm(rng: np.random.Generator, lam: np.ndarray, has: np.ndarray, mh: np.ndarray, d: int) -> np.ndarray:
    """``d`` Poisson(lam) draws per place times the place's mean harm (float32), 0 where lam = 0."""
    if has.all():
        out = np.empty((d, len(lam)), dtype=np.float32)
        np.multiply(rng.poisson(lam, size=(d, len(lam))), mh, out=out, casting="unsafe")
        return out
    out = np.zeros((d, len(lam)), dtype=np.float32)
    idx = np.flatnonzero(has)
    if len(idx):
        out[:, idx] = rng.poisson(lam[idx], size=(d, len(idx))) * mh[idx]
    return out


class _Counts:
    """Expected counts near and away from venues, and the per-resident factor, of every place."""

    def __init__(self, components: pd.DataFrame, names: list[str]) -> None:
        p = len(components)
        for c in (N_INCIDENTS, HARM, HARM_NEAR, POPULATION):
            if c not in components.columns and not (c == HARM_NEAR and "near_venue_share" not in names):
                raise InputError(
                    f"rank_places: resampling counts needs the column {c!r}; build components with "
                    "place_components or pass resample_counts=False."
                )

        def num(c: str) -> np.ndarray:
            return pd.to_numeric(components[c], errors="coerce").fillna(0).to_numpy(dtype=float)

        n_obs, harm = num(N_INCIDENTS), num(HARM)
        hn = num(HARM_NEAR) if HARM_NEAR in components else np.zeros(p)
        pop = pd.to_numeric(components[POPULATION], errors="coerce").to_numpy(dtype=float)
        mean_harm = np.where(n_obs > 0, harm / np.where(n_obs > 0, n_obs, 1), 0.0)
        # split the count in proportion to harm near / away from venues (same mean harm)
        self.lam_near = np.where(harm > 0, n_obs * hn / np.where(harm > 0, harm, 1), 0.0)
        self.lam_far = np.maximum(n_obs - self.lam_near, 0.0)
        self.per_1000 = np.where(pop > 0, 1000.0 / np.where(pop > 0, pop, 1), np.nan).astype(np.float32)
        self.has_near, self.has_far = self.lam_near > 0, self.lam_far > 0
        self.mh32 = mean_harm.astype(np.float32)

    def draw(self, rng: np.random.Generator, d: int) -> tuple[np.ndarray, np.ndarray]:
        """(total harm, harm near venues) of ``d`` draws, float32."""
        near = poisson_harm(rng, self.lam_near, self.has_near, self.mh32, d)
        total = poisson_harm(rng, self.lam_far, self.has_far, self.mh32, d)
        total += near
        return total, near


def monte_carlo(
    components: pd.DataFrame,
    names: list[str],
    raw: np.ndarray,
    available: np.ndarray,
    w: np.ndarray,
    *,
    scaling: str,
    combine: str,
    top_n: int,
    draws: int,
    seed: int,
    how: Perturbation,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ranks of every place in ``draws`` perturbed worlds; returns (5th pct, 95th pct, P(top n))."""
    k, p = raw.shape
    res = [i for i, nm in enumerate(names) if nm in RESAMPLED] if how.resample else []
    resamplers = {i: fn for i in res if (fn := REGISTRY[names[i]].resample) is not None}
    fixed = [i for i in range(k) if i not in res]
    counts = _Counts(components, names) if res else None
    A = available.astype(float)

    def term(sc: np.ndarray) -> np.ndarray:
        if combine == "weighted_mean":
            return np.nan_to_num(sc, nan=0.0) if np.isnan(sc).any() else sc
        return np.log(np.maximum(np.nan_to_num(sc, nan=1.0), GEOMETRIC_FLOOR))

    fixed_terms = term(scale(raw[fixed], scaling)) * A[fixed] if fixed else np.empty((0, p))
    block = max(1, min(draws, int(BLOCK_CELLS // max(p, 1))))
    starts = list(range(0, draws, block))
    seqs = np.random.SeedSequence(seed).spawn(len(starts))
    ranks = np.empty((draws, p), dtype=np.int32)

    def run_block(b: int) -> None:
        rng = np.random.default_rng(seqs[b])
        d = min(block, draws - starts[b])
        wd = weight_draws(rng, w, d, how)
        den = wd @ A
        num = wd[:, fixed] @ fixed_terms if fixed else np.zeros((d, p))
        if counts is not None:
            # float32 working precision; Poisson only where the expected count is positive
            total, near = counts.draw(rng, d)
            for i, resample in resamplers.items():
                v = resample(total, near, counts.per_1000)
                if not available[i].all():
                    v = np.where(available[i], v, np.nan)
                    num += wd[:, i : i + 1] * (term(scale(v, scaling)) * A[i])
                else:
                    num += wd[:, i : i + 1] * term(scale(v, scaling))
        with np.errstate(invalid="ignore", divide="ignore"):
            score = num / den
        s = np.where(den > 0, -score, np.inf).astype(np.float32)
        order = np.argsort(s, axis=1)  # deterministic introsort (SIMD); exact ties are rare
        flat = (order + (np.arange(d, dtype=order.dtype) * p)[:, None]).ravel()
        r = np.empty(d * p, dtype=np.int32)
        r[flat] = np.tile(np.arange(1, p + 1, dtype=np.int32), d)
        ranks[starts[b] : starts[b] + d] = r.reshape(d, p)

    workers = max(1, min(len(starts), os.cpu_count() or 1, MAX_WORKERS))
    if workers == 1:
        for b in range(len(starts)):
            run_block(b)
    else:
        with ThreadPoolExecutor(max_workers=workers) as ex:
            list(ex.map(run_block, range(len(starts))))
    top = (ranks <= top_n).sum(axis=0)
    low, high = np.percentile(ranks, INTERVAL, axis=0, method="nearest")
    return low.astype(np.int64), high.astype(np.int64), top / draws
