"""Exact covering-location solvers on a sparse coverage structure (private helpers of :mod:`hotspots.sites`).

The maximal covering location problem (MCLP; Church & ReVelle 1974) and the partial
set-covering problem ("fewest sites covering a target share of demand") are written as
mixed-integer programmes over *only the demand-site pairs within the radius*, found by a
KD-tree radius query, and solved exactly with HiGHS (:func:`scipy.optimize.milp`).
spopt's ``MCLP.from_cost_matrix`` builds a dense ``n_demand x n_sites`` model instead; the
tests use it as the oracle for the optimal objective.

Before solving, the model is reduced without changing its optimum:

* demand with zero weight, demand already covered by fixed sites (existing kits,
  defibrillators), and demand no candidate can reach are dropped (they cannot change which
  candidates are best);
* candidates that reach no remaining demand are dropped;
* demand points reached by exactly the same set of candidates are merged (weights summed).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.spatial import cKDTree

from hotspots._errors import InputError

log = logging.getLogger(__name__)

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
        cover=sub.astype(np.int8), weights=merged_w[~single], col_weights=col_w.astype(float),
        columns=cols, coverable=float(wsub.sum()),
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
        True when HiGHS proved optimality (or the instance was trivial).
    gap
        Relative MIP gap reported by HiGHS (0 when proven optimal).
    n_pairs, n_rows, n_cols
        Size of the reduced model (pairs within the radius, merged demand rows, useful candidates).
    seconds
        Wall-clock time of the solve (model build from the sparse structure included).
    """

    sites: np.ndarray
    objective: float
    optimal: bool = True
    gap: float = 0.0
    n_pairs: int = 0
    n_rows: int = 0
    n_cols: int = 0
    seconds: float = 0.0
    status: str = "optimal"
    extra: dict = field(default_factory=dict)


def _solve_reduced(
    red: Reduced,
    cost: np.ndarray,
    row: np.ndarray,
    bounds: tuple[float, float],
    *,
    cover: sp.csr_matrix,
    weights: np.ndarray,
    fixed: np.ndarray | None,
    time_limit: float | None,
    t0: float,
) -> Solution:
    """Solve one covering MILP on the reduced model with HiGHS and map the answer back.

    Variables are ``[x_0..x_{m-1}, y_0..y_{n-1}]`` (``x`` binary, ``y`` in [0, 1]), with
    objective ``cost`` (minimised), the cover rows ``y_i - sum_j a_ij x_j <= 0`` and the one
    extra constraint ``bounds[0] <= row @ [x, y] <= bounds[1]`` (the number of kits for the
    MCLP, the weight reached for the target problem).
    """
    n, m = red.cover.shape
    integrality = np.concatenate([np.ones(m), np.zeros(n)])
    constraints = [LinearConstraint(sp.csr_matrix(row[None, :]), *bounds)]
    if n:
        a = sp.hstack([-red.cover.astype(float), sp.identity(n, format="csr")], format="csr")
        constraints.insert(0, LinearConstraint(a, -np.inf, 0.0))
    options = {"mip_rel_gap": MIP_REL_GAP, "presolve": True}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    res = milp(cost, integrality=integrality, bounds=Bounds(0, 1), constraints=constraints, options=options)
    if res.x is None:
        raise InputError(
            f"the solver found no solution ({res.message}). Raise [sites] time_limit_s or use fewer candidates."
        )
    chosen = np.sort(red.columns[res.x[:m] > 0.5])
    return Solution(
        sites=chosen,
        objective=_objective(cover, weights, fixed, chosen),
        optimal=res.status == 0,
        gap=float(getattr(res, "mip_gap", 0.0) or 0.0),
        seconds=time.perf_counter() - t0,
        status=str(res.message),
        n_pairs=int(red.cover.nnz),
        n_rows=n,
        n_cols=m,
    )


def _objective(cover: sp.csr_matrix, weights: np.ndarray, fixed: np.ndarray | None, sites: np.ndarray) -> float:
    hit = covered_mask(cover, sites)
    if fixed is not None:
        hit &= ~np.asarray(fixed, dtype=bool)
    return float(np.asarray(weights, dtype=float)[hit].sum())


def solve_mclp(
    cover: sp.csr_matrix,
    weights: np.ndarray,
    p: int,
    *,
    fixed: np.ndarray | None = None,
    time_limit: float | None = None,
    reduced: Reduced | None = None,
) -> Solution:
    """Choose ``p`` candidates maximising the demand weight within reach (exact MCLP).

    Formulation (Church & ReVelle 1974), on the reduced model (:func:`reduce_model`)::

        maximise   sum_j v_j x_j + sum_i w_i y_i
        subject to y_i <= sum_{j in N_i} x_j   for every demand i reached by 2+ candidates
                   sum_j x_j = p
                   x_j in {0, 1},  0 <= y_i <= 1

    where ``v_j`` is the weight only candidate ``j`` reaches. ``y`` may be continuous: for
    integer ``x`` the optimum sets ``y_i = 1`` exactly when ``i`` is reached. When no more
    than ``p`` candidates remain after the reduction, all of them are chosen and fewer than
    ``p`` sites are returned (they already reach every reachable demand).

    Parameters
    ----------
    cover
        Demand x candidate 0/1 matrix (:func:`coverage_matrix`).
    weights
        Demand weights (harm), length ``n_demand``.
    p
        Number of new sites.
    fixed
        Boolean mask of demand already covered by fixed sites; excluded from the objective.
    time_limit
        Seconds allowed to HiGHS; on hitting it the best solution found is returned with
        ``optimal=False`` and its gap.
    reduced
        The model already reduced by :func:`reduce_model` with the same ``fixed`` (to reuse
        across several ``p``).
    """
    t0 = time.perf_counter()
    red = reduced if reduced is not None else reduce_model(cover, weights, fixed)
    n, m = red.cover.shape
    stats = dict(n_pairs=int(red.cover.nnz), n_rows=n, n_cols=m)
    if p <= 0 or m == 0:
        return Solution(sites=np.zeros(0, dtype=int), objective=0.0, seconds=time.perf_counter() - t0, **stats)
    if m <= p:
        chosen = np.sort(red.columns)
        return Solution(
            sites=chosen, objective=_objective(cover, weights, fixed, chosen),
            seconds=time.perf_counter() - t0, status="all useful candidates chosen", **stats,
        )
    if p == 1:  # exact by enumeration: the candidate reaching the most weight (HiGHS finds p=1 slow)
        reach = red.col_weights + red.cover.T @ red.weights
        chosen = red.columns[[int(np.argmax(reach))]]
        return Solution(
            sites=chosen, objective=_objective(cover, weights, fixed, chosen),
            seconds=time.perf_counter() - t0, status="optimal (enumeration)", **stats,
        )
    cost = -np.concatenate([red.col_weights, red.weights])
    card = np.concatenate([np.ones(m), np.zeros(n)])
    return _solve_reduced(
        red, cost, card, (p, p), cover=cover, weights=weights, fixed=fixed, time_limit=time_limit, t0=t0
    )


def solve_target(
    cover: sp.csr_matrix,
    weights: np.ndarray,
    target: float,
    *,
    fixed: np.ndarray | None = None,
    time_limit: float | None = None,
    reduced: Reduced | None = None,
) -> Solution:
    """Fewest candidates whose reach adds at least ``target`` demand weight (exact partial set covering).

    Formulation (the LSCP of Toregas et al. 1971 with a coverage target instead of full
    coverage), on the reduced model::

        minimise   sum_j x_j
        subject to y_i <= sum_{j in N_i} x_j   for every demand i reached by 2+ candidates
                   sum_j v_j x_j + sum_i w_i y_i >= target
                   x_j in {0, 1},  0 <= y_i <= 1

    Raises
    ------
    InputError
        When even every candidate together cannot reach ``target`` (the message gives the
        most they can reach).
    """
    t0 = time.perf_counter()
    red = reduced if reduced is not None else reduce_model(cover, weights, fixed)
    n, m = red.cover.shape
    stats = dict(n_pairs=int(red.cover.nnz), n_rows=n, n_cols=m)
    if target <= 0:
        return Solution(sites=np.zeros(0, dtype=int), objective=0.0, seconds=time.perf_counter() - t0, **stats)
    tol = 1e-9 * max(1.0, float(red.coverable))
    if red.coverable + tol < target:
        raise InputError(
            f"the coverage target cannot be reached: every candidate together adds {red.coverable:.6g} "
            f"weight within the radius, below the target {target:.6g}. Lower the target, widen the radius, "
            "or add candidate sites."
        )
    cost = np.concatenate([np.ones(m), np.zeros(n)])
    reach = np.concatenate([red.col_weights, red.weights])
    bounds = (target - tol, np.inf)
    return _solve_reduced(
        red, cost, reach, bounds, cover=cover, weights=weights, fixed=fixed, time_limit=time_limit, t0=t0
    )


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
