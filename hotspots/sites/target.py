"""The fewest kits covering a target share of harm: exact partial set covering, with a greedy fallback.

:func:`solve_target` answers "how many kits cover 50 % of harm?" (``[sites] target_pct``) on
the sparse covering structure of :mod:`hotspots.sites.cover`, exactly with HiGHS. Candidates
that share no demand with any other (after the reduction, their whole reach is their own)
and carry the same weight are interchangeable; as separate binaries they make
branch-and-bound explore every permutation of them (thousands of candidates worth exactly
1.0 or 1.5 harm in a large force), so each such class is one integer variable.

Before branch-and-bound, the LP relaxation gives a lower bound on the number of kits, the
greedy cover and the exact optimum over the LP solution's support give an answer ``U``,
and LP reduced-cost fixing tightens every integer variable to the values a solution with
fewer than ``U`` kits could take (the kit count is an integer, so the room left is
``U - 1 - bound``, which fixes most candidates out). HiGHS then solves the tightened model:
its optimum, or ``U`` when it has none below ``U``, is the fewest kits of the whole model
(proven, not approximate). On the synthetic Metropolitan-size force this took the solve from
16 to about 4 CPU seconds (docs/performance.md). When the time limit leaves no exact answer,
the best answer found (at worst the lazy greedy cover) is returned, flagged not proven
optimal: a time limit never turns a reachable target into an "unreachable" one.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from hotspots.errors import InputError
from hotspots.sites.cover import (
    MIP_REL_GAP,
    SUPPORT_SOLVE_S,
    Deadline,
    Reduced,
    Solution,
    covered_weight,
    reduce_model,
)

if TYPE_CHECKING:
    from scipy.optimize import OptimizeResult

HALF = 0.5
"""A binary variable above this is 1."""

LP_SUPPORT_EPS = 1e-6
"""An LP value above this puts the candidate in the LP solution's support."""

OPTIMAL, TIME_LIMIT, INFEASIBLE = 0, 1, 2
"""scipy.optimize.milp's status codes."""

FIX_EPS = 1e-6
"""Safety margin (per kit of the answer) on the LP bound before it proves or fixes anything."""


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
    The LP bound, the heuristic answers and reduced-cost fixing (:func:`_fewest`) shrink what
    HiGHS has to search without changing the optimum; ``extra`` records them (``lp_bound``,
    ``greedy``, ``heuristic``, ``lp_fixed``).

    Parameters
    ----------
    cover, weights, fixed, reduced
        As in :func:`hotspots.sites.mclp.solve_mclp`.
    target
        Weight to add beyond what fixed sites cover.
    time_limit
        Seconds allowed (None: no limit). The greedy answer is computed first; when the time
        limit stops the solve before it proves an answer, the best answer found (never worse
        than the greedy one) is returned with ``optimal=False`` (it may use more kits than
        needed; ``gap`` is the relative distance from the best lower bound when there is one).

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
    greedy = greedy_target(red, target - tol)
    if deadline.spent():
        best = _Answer(greedy, False, None, "time limit: greedy solution returned", {})
    else:
        best = _fewest(_Classes.build(red, target - tol), greedy, deadline)
    chosen = np.sort(red.columns[best.mask])
    return Solution(
        sites=chosen,
        objective=covered_weight(cover, weights, fixed, chosen),
        optimal=best.optimal,
        gap=best.gap,
        status=best.status,
        seconds=time.perf_counter() - t0,
        extra={"greedy": int(greedy.sum()), **best.extra},
        **stats,
    )


@dataclass
class _Answer:
    """A set of reduced candidates (``mask``) reaching the target, and what is known of it."""

    mask: np.ndarray
    optimal: bool
    gap: float | None
    status: str
    extra: dict


@dataclass(frozen=True)
class _Classes:
    """The MILP of :func:`solve_target` with interchangeable candidates merged into integer classes.

    Variables ``[x (k shared candidates), z (nv classes), y (n rows)]``; every constraint is
    ``a @ v <= b`` (the cover rows, then the target row negated).
    """

    red: Reduced
    mix: np.ndarray  # reduced candidates sharing demand: one binary each
    pure: np.ndarray  # the others, grouped into classes of equal weight
    cls: np.ndarray  # class of each of ``pure``
    upper: np.ndarray  # upper bound of every variable (lower bounds are 0)
    a: sp.csr_matrix
    b: np.ndarray

    @classmethod
    def build(cls, red: Reduced, target: float) -> _Classes:
        """The class model of ``red`` for ``target``."""
        n = red.cover.shape[0]
        pure = np.diff(red.cover.tocsc().indptr) == 0
        mix, pure_idx = np.flatnonzero(~pure), np.flatnonzero(pure)
        vals, klass, cnts = np.unique(red.col_weights[pure], return_inverse=True, return_counts=True)
        nv = len(vals)
        reach = np.concatenate([red.col_weights[mix], vals, red.weights])
        rows = sp.hstack(
            [-red.cover[:, mix].astype(float), sp.csr_matrix((n, nv)), sp.identity(n, format="csr")], format="csr"
        )
        return cls(
            red=red,
            mix=mix,
            pure=pure_idx,
            cls=klass.ravel(),
            upper=np.concatenate([np.ones(len(mix)), cnts.astype(float), np.ones(n)]),
            a=sp.vstack([rows, sp.csr_matrix(-reach[None, :])], format="csr"),
            b=np.concatenate([np.zeros(n), [-target]]),
        )

    @property
    def n_int(self) -> int:
        """Number of integer variables (``x`` and ``z``)."""
        return len(self.upper) - self.red.cover.shape[0]

    @property
    def cost(self) -> np.ndarray:
        """Objective: one per kit (``x`` and ``z``), nothing for ``y``."""
        return np.concatenate([np.ones(self.n_int), np.zeros(self.red.cover.shape[0])])

    def mask(self, v: np.ndarray) -> np.ndarray:
        """The reduced candidates a solution vector ``v`` chooses (a class's count: its first members)."""
        k = len(self.mix)
        take = np.round(v[k : self.n_int]).astype(int)
        sel = np.zeros(self.red.cover.shape[1], dtype=bool)
        sel[self.mix[v[:k] > HALF]] = True
        for c in np.flatnonzero(take > 0):
            sel[self.pure[self.cls == c][: take[c]]] = True
        return sel

    def reaches(self, sel: np.ndarray) -> bool:
        """True when the reduced candidates ``sel`` reach the target."""
        red = self.red
        got = red.col_weights[sel].sum() + red.weights[(red.cover @ sel.astype(np.int32)) > 0].sum()
        return bool(got >= -self.b[-1])

    def solve(
        self, lower: np.ndarray, upper: np.ndarray, time_limit: float | None, *, presolve: bool = True
    ) -> tuple[np.ndarray | None, OptimizeResult]:
        """HiGHS on this model within the bounds: (the chosen mask or None, scipy's result)."""
        n_int, n = self.n_int, self.red.cover.shape[0]
        options: dict = {"mip_rel_gap": MIP_REL_GAP, "presolve": presolve}
        if time_limit is not None:
            options["time_limit"] = float(time_limit)
        res = milp(
            self.cost,
            integrality=np.concatenate([np.ones(n_int), np.zeros(n)]),
            bounds=Bounds(lower, upper),
            constraints=[LinearConstraint(self.a, -np.inf, self.b)],
            options=options,
        )
        if res.x is None:
            return None, res
        sel = self.mask(res.x)
        return (sel if self.reaches(sel) else None), res


def _fewest(model: _Classes, greedy: np.ndarray, deadline: Deadline) -> _Answer:
    """The fewest kits: LP bound, heuristic answer ``U``, reduced-cost fixing, then HiGHS on what is left.

    The LP relaxation's duals ``lam <= 0`` give reduced costs ``r = cost - a.T @ lam`` and the
    bound ``L = lam @ b + sum(min(r * upper, 0))``, valid for any ``lam <= 0`` (weak duality,
    so it holds whatever the duals' accuracy). Every solution ``v`` in the box costs at least
    ``L + sum_{r_j > 0} r_j v_j + sum_{r_j < 0} |r_j| (upper_j - v_j)``, so a solution with at
    most ``U - 1`` kits keeps every integer variable within ``floor((U - 1 - L) / |r_j|)`` of
    the bound the LP puts it at. HiGHS on the model tightened so finds the fewest kits when
    fewer than ``U`` suffice, and otherwise proves that none do (no solution, or none below
    ``U``): either way the answer is the optimum of the whole model.
    """
    lp = _relax(model, deadline)
    if lp is None:  # no LP bound in the time left: HiGHS on the whole model, or the greedy answer
        return _whole(model, greedy, deadline)
    lam = np.minimum(np.asarray(lp.ineqlin.marginals, dtype=float), 0.0)
    r = model.cost - model.a.T @ lam
    bound = float(lam @ model.b + np.minimum(r * model.upper, 0.0).sum())
    best = _support(model, lp.x, deadline, greedy)
    kits = int(best.sum())
    eps = FIX_EPS * max(1, kits)
    lowest = max(math.ceil(bound - eps), 0)
    extra: dict = {"lp_bound": bound, "heuristic": kits}
    if kits <= lowest:
        return _Answer(best, True, 0.0, "optimal (heuristic answer meets the LP bound)", extra)
    lower, upper = _fix(model, r, kits - 1 - bound + eps)
    extra["lp_fixed"] = int((upper[: len(model.mix)] == 0).sum())
    if deadline.spent():
        return _Answer(best, False, (kits - lowest) / kits, "time limit: heuristic solution returned", extra)
    sel, res = model.solve(lower, upper, deadline.left(), presolve=False)
    status = getattr(res, "status", 4)
    if sel is not None and sel.sum() < kits:
        best = sel
    # infeasible: no solution with fewer than ``kits`` kits; 0: the optimum of the tightened model (one HiGHS
    # found but that misses the target on our check does not count as proof)
    if status == INFEASIBLE or (status == OPTIMAL and (sel is not None or res.fun > kits - HALF)):
        return _Answer(best, True, 0.0, "optimal (LP-bound fixing, then HiGHS)", extra)
    dual = getattr(res, "mip_dual_bound", None)
    if dual is not None and np.isfinite(dual):
        lowest = max(lowest, min(math.ceil(float(dual) - eps), kits))
    kits = int(best.sum())
    why = "time limit" if status == TIME_LIMIT else "not proven optimal"
    return _Answer(best, False, max(kits - lowest, 0) / kits, f"{why}: {res.message}", extra)


def _relax(model: _Classes, deadline: Deadline) -> Any:
    """The LP relaxation of ``model`` within the time left, or None when it does not finish."""
    left = deadline.left()
    lp = linprog(
        model.cost,
        A_ub=model.a,
        b_ub=model.b,
        bounds=np.column_stack([np.zeros(len(model.upper)), model.upper]),
        method="highs",
        options={} if left is None else {"time_limit": left},
    )
    return lp if lp.status == 0 and lp.x is not None else None


def _support(model: _Classes, x: np.ndarray, deadline: Deadline, best: np.ndarray) -> np.ndarray:
    """The better of ``best`` and HiGHS's answer over the shared candidates in the LP solution's support.

    The classes stay whole; the solve gets at most :data:`~hotspots.sites.cover.SUPPORT_SOLVE_S`
    seconds (its best answer so far is used when that runs out).
    """
    left = deadline.left()
    seconds = SUPPORT_SOLVE_S if left is None else min(SUPPORT_SOLVE_S, left)
    if seconds <= 0 or deadline.spent():
        return best
    k = len(model.mix)
    upper = model.upper.copy()
    upper[:k][x[:k] <= LP_SUPPORT_EPS] = 0.0
    sel, _ = model.solve(np.zeros(len(upper)), upper, seconds)
    return sel if sel is not None and sel.sum() < best.sum() else best


def _fix(model: _Classes, r: np.ndarray, room: float) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of every variable in a solution costing at most ``L + room`` (reduced-cost fixing: :func:`_fewest`)."""
    n_int = model.n_int
    lower, upper = np.zeros(len(model.upper)), model.upper.copy()
    ri = r[:n_int]
    with np.errstate(divide="ignore"):
        width = np.floor(room / np.abs(ri))
    width[~np.isfinite(width)] = np.inf
    up = ri > 0
    upper[:n_int][up] = np.minimum(model.upper[:n_int][up], width[up])
    down = ri < 0
    lower[:n_int][down] = np.maximum(model.upper[:n_int][down] - width[down], 0.0)
    return lower, upper


def _whole(model: _Classes, greedy: np.ndarray, deadline: Deadline) -> _Answer:
    """HiGHS on the whole class model in the time left; the greedy answer when it does no better."""
    if deadline.spent():
        return _Answer(greedy, False, None, "time limit: greedy solution returned", {})
    sel, res = model.solve(np.zeros(len(model.upper)), model.upper, deadline.left())
    dual = getattr(res, "mip_dual_bound", None)
    extra = {"dual_bound": float(dual)} if dual is not None and np.isfinite(dual) else {}
    if sel is not None and getattr(res, "status", 4) == OPTIMAL:
        return _Answer(sel, True, float(getattr(res, "mip_gap", 0.0) or 0.0), str(res.message), extra)
    best = sel if sel is not None and sel.sum() <= greedy.sum() else greedy
    gap = None if not extra else float(max(best.sum() - extra["dual_bound"], 0.0) / max(best.sum(), 1))
    status = "time limit: greedy solution returned" if best is greedy else str(res.message)
    return _Answer(best, False, gap, status, extra)


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
