"""The fewest kits covering a target share of harm: exact partial set covering, with a greedy fallback.

:func:`solve_target` answers "how many kits cover 50 % of harm?" (``[sites] target_pct``) on
the sparse covering structure of :mod:`hotspots.sites.cover`, exactly with HiGHS. Candidates
that share no demand with any other (after the reduction, their whole reach is their own)
and carry the same weight are interchangeable; as separate binaries they make
branch-and-bound explore every permutation of them (thousands of candidates worth exactly
1.0 or 1.5 harm in a large force), so each such class is one integer variable. When the
time limit leaves no exact answer, the lazy greedy cover is returned, flagged not proven
optimal: a time limit never turns a reachable target into an "unreachable" one.
"""

from __future__ import annotations

import heapq
import time

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from hotspots.errors import InputError
from hotspots.sites.cover import MIP_REL_GAP, Deadline, Reduced, Solution, covered_weight, reduce_model

HALF = 0.5
"""A binary variable above this is 1."""


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

        minimise   sum_j x_j + sum_v z_v
        subject to y_i <= sum_{j in N_i} x_j   for every demand i reached by 2+ candidates
                   sum_j c_j x_j + sum_v v z_v + sum_i w_i y_i >= target
                   x_j in {0, 1},  z_v in {0, ..., count_v},  0 <= y_i <= 1

    where ``x_j`` are the candidates sharing demand with another (``c_j`` the weight only
    they reach) and ``z_v`` counts the chosen candidates of the class of interchangeable
    candidates worth ``v`` each (no shared demand, weight ``v``); the optimum is that of the
    one-binary-per-candidate model, and a class's chosen count maps back to its first members.

    Parameters
    ----------
    cover, weights, fixed, reduced
        As in :func:`hotspots.sites.mclp.solve_mclp`.
    target
        Weight to add beyond what fixed sites cover.
    time_limit
        Seconds allowed (None: no limit). The greedy answer is computed first; when the time
        limit stops HiGHS before it proves an answer, the better of its incumbent and the
        greedy answer is returned with ``optimal=False`` (it may use more kits than needed;
        ``gap`` is the relative distance from HiGHS's bound when it has one).

    Raises
    ------
    InputError
        When even every candidate together cannot reach ``target`` (the message gives the
        most they can reach).
    """
    t0 = time.perf_counter()
    deadline = Deadline(None if time_limit is None else t0 + max(float(time_limit), 0.0))
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
    greedy = np.sort(red.columns[greedy_target(red, target - tol)])
    fallback = Solution(
        sites=greedy,
        objective=covered_weight(cover, weights, fixed, greedy),
        optimal=False,
        gap=None,
        status="time limit: greedy solution returned",
        **stats,
    )
    if deadline.spent():
        fallback.seconds = time.perf_counter() - t0
        return fallback
    sol = _solve_classes(red, target - tol, cover=cover, weights=weights, fixed=fixed, time_limit=deadline.left())
    sol.seconds = time.perf_counter() - t0
    as_good = 0 < len(sol.sites) <= len(greedy) and sol.objective >= target - tol
    if sol.optimal or as_good:
        return sol
    # the time limit came before HiGHS found an answer as good as the greedy one
    fallback.seconds = sol.seconds
    bound = sol.extra.get("dual_bound")
    if bound is not None:  # the fewest kits HiGHS could not rule out
        fallback.gap = float((len(greedy) - bound) / max(len(greedy), 1))
    return fallback


def _solve_classes(
    red: Reduced,
    target: float,
    *,
    cover: sp.csr_matrix,
    weights: np.ndarray,
    fixed: np.ndarray | None,
    time_limit: float | None,
) -> Solution:
    """The MILP of :func:`solve_target` with interchangeable candidates merged into integer classes.

    Returns an empty, not optimal solution when HiGHS stops (time limit) without one.
    """
    n, m = red.cover.shape
    pure = np.diff(red.cover.tocsc().indptr) == 0
    mix, pure_idx = np.flatnonzero(~pure), np.flatnonzero(pure)
    vals, cls, cnts = np.unique(red.col_weights[pure], return_inverse=True, return_counts=True)
    cls = cls.ravel()
    k, nv = len(mix), len(vals)
    cost = np.concatenate([np.ones(k + nv), np.zeros(n)])
    integrality = np.concatenate([np.ones(k + nv), np.zeros(n)])
    upper = np.concatenate([np.ones(k), cnts.astype(float), np.ones(n)])
    reach = np.concatenate([red.col_weights[mix], vals, red.weights])
    constraints = [LinearConstraint(sp.csr_matrix(reach[None, :]), target, np.inf)]
    if n:
        a = sp.hstack(
            [-red.cover[:, mix].astype(float), sp.csr_matrix((n, nv)), sp.identity(n, format="csr")], format="csr"
        )
        constraints.insert(0, LinearConstraint(a, -np.inf, 0.0))
    options: dict = {"mip_rel_gap": MIP_REL_GAP}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    res = milp(
        cost,
        integrality=integrality,
        bounds=Bounds(np.zeros(k + nv + n), upper),
        constraints=constraints,
        options=options,
    )
    stats = dict(n_pairs=int(red.cover.nnz), n_rows=n, n_cols=m)
    bound = getattr(res, "mip_dual_bound", None)
    extra = {"dual_bound": float(bound)} if bound is not None and np.isfinite(bound) else {}
    if res.x is None:
        return Solution(
            sites=np.zeros(0, dtype=int), objective=0.0, optimal=False, gap=None, status=str(res.message), extra=extra
        )
    take = np.round(res.x[k : k + nv]).astype(int)
    picked = [mix[res.x[:k] > HALF]]
    picked += [pure_idx[cls == c][: take[c]] for c in np.flatnonzero(take > 0)]
    chosen = np.sort(red.columns[np.concatenate(picked)])
    return Solution(
        sites=chosen,
        objective=covered_weight(cover, weights, fixed, chosen),
        optimal=res.status == 0,
        gap=float(getattr(res, "mip_gap", 0.0) or 0.0),
        status=str(res.message),
        extra=extra,
        **stats,
    )


def greedy_target(red: Reduced, target: float) -> np.ndarray:
    """Greedy partial set cover on the reduced model: candidates by largest added weight until ``target``.

    Lazy evaluation (a candidate's added weight only falls as others are chosen, so a stale
    heap entry is re-scored only when it reaches the top), then a pass dropping chosen
    candidates the target no longer needs (smallest exclusive weight first). This is the
    answer a time limit falls back on. Returns a boolean mask over the reduced candidates.

    Examples
    --------
    >>> red = reduce_model(sp.csr_matrix(np.array([[1, 1], [1, 0], [0, 1]])), np.array([5.0, 1.0, 1.0]), None)
    >>> int(greedy_target(red, 5.5).sum())
    1
    """
    m = red.cover.shape[1]
    cc = red.cover.tocsc()
    left = red.weights.astype(float).copy()
    gain0 = red.col_weights + cc.T.astype(float) @ left
    heap = [(-g, j) for j, g in enumerate(gain0) if g > 0]
    heapq.heapify(heap)
    sel = np.zeros(m, dtype=bool)
    got = 0.0
    while got < target and heap:
        _, j = heapq.heappop(heap)
        rows = cc.indices[cc.indptr[j] : cc.indptr[j + 1]]
        g = red.col_weights[j] + float(left[rows].sum())
        if heap and g < -heap[0][0] - 1e-12:  # stale: back in with its current gain
            if g > 0:
                heapq.heappush(heap, (-g, j))
            continue
        sel[j] = True
        got += g
        left[rows] = 0.0
    # drop chosen candidates the target does not need, smallest exclusive weight first
    count = np.asarray(cc[:, sel].sum(axis=1)).ravel()

    def exclusive(j: int) -> float:
        rows = cc.indices[cc.indptr[j] : cc.indptr[j + 1]]
        return float(red.col_weights[j] + red.weights[rows][count[rows] == 1].sum())

    chosen = np.flatnonzero(sel)
    for j in chosen[np.argsort([exclusive(int(j)) for j in chosen], kind="stable")]:
        loss = exclusive(int(j))
        if got - loss >= target:
            sel[j] = False
            got -= loss
            count[cc.indices[cc.indptr[j] : cc.indptr[j + 1]]] -= 1
    return sel
