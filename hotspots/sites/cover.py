"""The sparse covering structure the kit solvers work on (private helpers of :mod:`hotspots.sites`).

:func:`coverage_matrix` finds the demand-site pairs within the radius (a KD-tree radius
query, so memory grows with the pairs, not with ``n_demand x n_sites``); :func:`reduce_model`
shrinks a covering model without changing its optimum:

* demand with zero weight, demand already covered by fixed sites (existing kits,
  defibrillators), and demand no candidate can reach are dropped (they cannot change which
  candidates are best);
* candidates that reach no remaining demand, or only a subset of another's, are dropped;
* demand points reached by exactly the same set of candidates are merged (weights summed).

:class:`Deadline` is the one time budget the sites stage passes to every solve
(``[sites] time_limit_s``); :class:`Solution` is what each solver returns.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from hotspots.errors import InputError

MIP_REL_GAP = 1e-9
"""Relative optimality gap asked of HiGHS: the solutions are optimal, not merely near-optimal."""


def coverage_matrix(demand_xy: np.ndarray, site_xy: np.ndarray, radius: float) -> sp.csr_matrix:
    """Sparse 0/1 matrix ``A[i, j] = 1`` when site ``j`` is within ``radius`` metres of demand ``i``.

    Built from a KD-tree radius query, so memory grows with the number of pairs within the
    radius, not with ``n_demand x n_sites``. Distances equal to the radius count as covered
    (as in spopt).
    """
    demand_xy = np.asarray(demand_xy, dtype=float).reshape(-1, 2)
    site_xy = np.asarray(site_xy, dtype=float).reshape(-1, 2)
    shape = (len(demand_xy), len(site_xy))
    if not radius > 0:
        raise InputError(f"radius must be > 0 metres, got {radius!r}.")
    if shape[0] == 0 or shape[1] == 0:
        return sp.csr_matrix(shape, dtype=np.int8)
    pairs = cKDTree(demand_xy).sparse_distance_matrix(cKDTree(site_xy), radius, output_type="ndarray")
    data = np.ones(len(pairs), dtype=np.int8)
    return sp.csr_matrix((data, (pairs["i"], pairs["j"])), shape=shape)


@dataclass
class Reduced:
    """A covering model reduced to the demand and candidates that matter."""

    cover: sp.csr_matrix  # merged demand (reached by 2+ kept candidates) x kept candidates
    weights: np.ndarray  # merged demand weights
    col_weights: np.ndarray  # weight of demand reached by one kept candidate only, folded into it
    columns: np.ndarray  # index of each kept candidate in the original candidate list
    coverable: float  # weight the candidates can reach (after fixed sites)


def reduce_model(cover: sp.csr_matrix, weights: np.ndarray, fixed: np.ndarray | None) -> Reduced:
    """Reduce a covering model without changing its optimal value.

    1. Drop demand with zero weight, demand already covered by fixed sites and demand no
       candidate reaches; drop candidates that reach none of what is left.
    2. Drop dominated candidates: ``j`` whose reach is a subset of another candidate's
       (for identical reaches the lowest index is kept). Any solution using ``j`` can swap
       it for the dominating one without covering less.
    3. Merge demand points reached by exactly the same candidates (weights summed).
    4. Fold demand reached by a single candidate into that candidate's own objective
       weight (``y_i = x_j`` at the optimum), removing its row.
    """
    cover = sp.csr_matrix(cover)
    w = np.asarray(weights, dtype=float)
    keep = (w > 0) & (np.diff(cover.indptr) > 0)
    if fixed is not None:
        keep &= ~np.asarray(fixed, dtype=bool)
    rows = np.flatnonzero(keep)
    sub = cover[rows].astype(np.int32)
    wsub = w[rows]
    cols = np.flatnonzero(np.diff(sub.tocsc().indptr) > 0)
    sub = sub[:, cols].tocsr()
    # 2. dominance: |N(j) & N(k)| == |N(j)| means N(j) is a subset of N(k)
    size = np.diff(sub.tocsc().indptr)
    both = (sub.T @ sub).tocoo()
    j, k, shared = both.row, both.col, both.data
    dom = (j != k) & (shared == size[j]) & ((size[k] > size[j]) | ((size[k] == size[j]) & (k < j)))
    alive = np.ones(len(cols), dtype=bool)
    alive[j[dom]] = False
    cols = cols[alive]
    sub = sub[:, np.flatnonzero(alive)].tocsr()
    sub.sort_indices()
    # 3. merge rows with identical candidate sets
    keys = [sub.indices[sub.indptr[i] : sub.indptr[i + 1]].tobytes() for i in range(sub.shape[0])]
    merged_w: np.ndarray
    if keys:
        _, first, inverse = np.unique(np.array(keys, dtype=object), return_index=True, return_inverse=True)
        merged_w = np.bincount(inverse.ravel(), weights=wsub, minlength=len(first))
        sub = sub[first]
    else:
        merged_w = np.zeros(0)
    # 4. fold single-candidate rows into the candidate's objective weight
    deg = np.diff(sub.indptr)
    single = deg == 1
    col_w = np.bincount(sub.indices[sub.indptr[:-1][single]], weights=merged_w[single], minlength=len(cols))
    sub = sub[~single].tocsr()
    return Reduced(
        cover=sub.astype(np.int8),
        weights=merged_w[~single],
        col_weights=col_w.astype(float),
        columns=cols,
        coverable=float(wsub.sum()),
    )


@dataclass
class Solution:
    """Result of one exact solve.

    Attributes
    ----------
    sites
        Chosen candidate indices (into the original candidate list), ascending.
    objective
        Demand weight newly covered by ``sites`` (excluding demand fixed sites already cover).
    optimal
        True when HiGHS proved optimality (or the instance was trivial); False for the best
        solution found when the time limit was reached.
    gap
        Relative MIP gap reported by HiGHS (0 when proven optimal); for a heuristic solution
        returned at the time limit, its relative distance from the best bound known, or None
        when the time limit left no bound.
    n_pairs, n_rows, n_cols
        Size of the reduced model (pairs within the radius, merged demand rows, useful candidates).
    seconds
        Wall-clock time of the solve (model build from the sparse structure included).
    status
        How the answer was found (HiGHS's message, or the shortcut or heuristic used).
    extra
        Further statistics (LP bound, heuristic value, candidates fixed out, ...).
    """

    sites: np.ndarray
    objective: float
    optimal: bool = True
    gap: float | None = 0.0
    n_pairs: int = 0
    n_rows: int = 0
    n_cols: int = 0
    seconds: float = 0.0
    status: str = "optimal"
    extra: dict = field(default_factory=dict)


SUPPORT_SOLVE_S = 5.0
"""Most seconds given to an exact solve over an LP solution's support (only a heuristic)."""

MIN_SOLVE_S = 0.05
"""Below this many seconds left, no exact solve is started: the best heuristic solution is returned."""


@dataclass(frozen=True)
class Deadline:
    """A moment on the :func:`time.perf_counter` clock by which solving must stop (None: no limit).

    Examples
    --------
    >>> Deadline.after(None).left() is None, Deadline.after(0.0).spent()
    (True, True)
    """

    at: float | None = None

    @classmethod
    def after(cls, seconds: float | None) -> Deadline:
        """The deadline ``seconds`` from now (None: no limit; negative counts as zero)."""
        return cls(None if seconds is None else time.perf_counter() + max(float(seconds), 0.0))

    def left(self) -> float | None:
        """Seconds left (never negative), or None without a limit."""
        return None if self.at is None else max(self.at - time.perf_counter(), 0.0)

    def spent(self) -> bool:
        """True when fewer than :data:`MIN_SOLVE_S` seconds are left: no exact solve should start."""
        left = self.left()
        return left is not None and left < MIN_SOLVE_S


def covered_weight(cover: sp.csr_matrix, weights: np.ndarray, fixed: np.ndarray | None, sites: np.ndarray) -> float:
    """Weight of the demand ``sites`` reach, leaving out demand the fixed sites already cover."""
    hit = covered_mask(cover, sites)
    if fixed is not None:
        hit &= ~np.asarray(fixed, dtype=bool)
    return float(np.asarray(weights, dtype=float)[hit].sum())


def greedy_order(
    cover: sp.csr_matrix, weights: np.ndarray, sites: np.ndarray, *, fixed: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Order ``sites`` by marginal weight: each next site adds the most not yet covered.

    Returns
    -------
    order, marginal
        The sites in order and the weight each adds (non-increasing; ties broken by the
        lower candidate index, so the order is deterministic).
    """
    sites = np.asarray(sites, dtype=int)
    w = np.asarray(weights, dtype=float)
    covered = np.zeros(cover.shape[0], dtype=bool) if fixed is None else np.asarray(fixed, dtype=bool).copy()
    cols = sp.csc_matrix(cover)[:, sites]
    remaining = list(range(len(sites)))
    order, marginal = [], []
    while remaining:
        gains = []
        for k in remaining:
            rows = cols.indices[cols.indptr[k] : cols.indptr[k + 1]]
            gains.append(float(w[rows][~covered[rows]].sum()))
        best = int(np.argmax(gains))  # first maximum: remaining is in ascending site order
        k = remaining.pop(best)
        covered[cols.indices[cols.indptr[k] : cols.indptr[k + 1]]] = True
        order.append(sites[k])
        marginal.append(gains[best])
    return np.array(order, dtype=int), np.array(marginal, dtype=float)


def covered_mask(cover: sp.csr_matrix, sites: np.ndarray) -> np.ndarray:
    """Boolean mask of demand reached by any of ``sites``."""
    sites = np.asarray(sites, dtype=int)
    if len(sites) == 0:
        return np.zeros(cover.shape[0], dtype=bool)
    return sp.csc_matrix(cover)[:, sites].sum(axis=1).A1 > 0
