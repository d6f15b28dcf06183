"""Near-optimal alternatives to the chosen bleed-control kits: the list is not the only good answer.

The maximal covering model (:func:`hotspots.sites.kits.select_sites`) returns one optimal set
of kits, but other sets are nearly as good; the Board should read the list as "one of
several near-equivalent answers", with each kit's interchangeable sites beside it.

* :func:`kit_alternatives`: for each chosen kit, every other candidate that could replace it
  (the other kits kept) while the kits still cover at least ``share`` (99 %) of the optimal
  harm, computed exactly on the covering model by a vectorised single-swap evaluation.
* :func:`most_different_set`: the best set of ``p`` kits sharing at most half of the chosen
  sites, solved exactly (HiGHS) on the same model: how much of the optimum a quite different
  list still reaches.

Coverage here is the harm the new kits add beyond what existing kits and defibrillators
already cover (the model's objective); with no existing sites it is all the harm they cover.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.io.sites import SITE_ID, SITE_NAME, SITE_SOURCE
from hotspots.sites import mclp as _mclp
from hotspots.sites.candidates import _xy
from hotspots.sites.kits import Model, build_model

HALF = 0.5
"""A binary variable above this is 1."""

DEFAULT_SHARE = 0.99
"""Alternatives keep at least this share of the optimal coverage (within 1 % of the optimum)."""

KIT_ID = "kit_site_id"  # the chosen kit this row could replace
KIT_ORDER = "kit_order"  # that kit's order in bleed_kits
DISTANCE_M = "distance_m"  # metres from the chosen kit to the alternative site
SWAP_COVERED = "covered_harm"  # harm the kits cover with this swap (beyond existing sites)
SWAP_PCT = "pct_of_optimum"  # that harm as a % of the optimal kits' harm

ALTERNATIVE_COLUMNS = [KIT_ID, KIT_ORDER, SITE_ID, SITE_SOURCE, SITE_NAME, "x", "y", DISTANCE_M, SWAP_COVERED, SWAP_PCT]
"""Columns of :func:`kit_alternatives` (``kit_alternatives.csv``), sorted by kit order, then % of optimum."""

ALTERNATIVES = "alternatives"  # bleed_kits: candidate sites that could replace this kit within 1 % of the optimum
NEAREST_ALTERNATIVE_M = "nearest_alternative_m"  # bleed_kits: metres to the nearest of them (NaN if none)
EXISTING_SITES = "existing_sites_supplied"  # bleed_kits: existing kits + defibrillators supplied (0 = none given)


def _chosen(m: Model, kits: pd.DataFrame) -> np.ndarray:
    """Candidate positions of the chosen kits, in the kits' order."""
    if SITE_ID not in kits.columns or SITE_ID not in m.candidates.columns:
        raise InputError("kit_alternatives: kits and candidates need a 'site_id' column (select_sites gives one).")
    pos = pd.Index(m.candidates[SITE_ID].astype(str)).get_indexer(kits[SITE_ID].astype(str))
    if (pos < 0).any():
        bad = kits[SITE_ID].astype(str).to_numpy()[pos < 0][0]
        raise InputError(f"kit_alternatives: kit {bad!r} is not among the candidate sites.")
    return pos


def swap_values(m: Model, chosen: np.ndarray) -> tuple[float, np.ndarray]:
    """Objective of ``chosen`` and of every single swap: ``(objective, values[kit, candidate])``.

    ``values[a, k]`` is the harm covered (beyond the fixed sites) when kit ``chosen[a]`` is
    replaced by candidate ``k`` and the other kits stay; ``-inf`` where ``k`` is already chosen.
    Computed exactly: the harm lost is the demand only that kit reaches, the harm gained is
    what ``k`` reaches of the demand left uncovered (one sparse product per kit).
    """
    w = np.where(m.fixed, 0.0, m.weights)
    cover = sp.csr_matrix(m.cover).astype(np.int32)
    x = np.zeros(cover.shape[1], dtype=np.int32)
    x[chosen] = 1
    cnt = cover @ x
    objective = float(w[cnt > 0].sum())
    cover_t = cover.T.tocsr().astype(float)
    cols = cover.tocsc()
    values = np.empty((len(chosen), cover.shape[1]))
    for a, j in enumerate(chosen):
        rows = cols.indices[cols.indptr[j] : cols.indptr[j + 1]]
        only = rows[cnt[rows] == 1]
        lost = float(w[only].sum())
        left = np.where(cnt == 0, w, 0.0)
        left[only] = w[only]
        values[a] = objective - lost + cover_t @ left
    values[:, chosen] = -np.inf
    return objective, values


def kit_alternatives(
    incidents: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    kits: pd.DataFrame,
    *,
    radius: float,
    fixed: gpd.GeoDataFrame | None = None,
    share: float = DEFAULT_SHARE,
    demand: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Every candidate that could replace each chosen kit and keep ``share`` of the optimal coverage.

    Parameters
    ----------
    incidents, candidates, radius, fixed
        As given to :func:`~hotspots.sites.kits.select_sites`.
    kits
        Its result (``site_id``, ``order``).
    share
        Keep at least this share of the chosen kits' coverage (default 0.99: within 1 %).
    demand
        ``demand_points(incidents)`` when the caller already has it (not recomputed).

    Returns
    -------
    pandas.DataFrame
        :data:`ALTERNATIVE_COLUMNS`: ``kit_site_id`` and ``kit_order`` (the kit replaced),
        the alternative's ``site_id``, ``source``, ``name``, ``x``, ``y`` (EPSG:27700),
        ``distance_m`` from the kit, ``covered_harm`` with the swap and ``pct_of_optimum``;
        sorted by kit order, then coverage (best first). ``attrs["objective"]`` is the chosen
        kits' coverage.
    """
    if not 0 < share <= 1:
        raise InputError(f"kit_alternatives: share must be in (0, 1] (0.99 = within 1 %), got {share!r}.")
    m = build_model(incidents, candidates, radius=radius, fixed=fixed, demand=demand)
    return alternatives_of_model(m, kits, share=share)


def alternatives_of_model(m: Model, kits: pd.DataFrame, *, share: float = DEFAULT_SHARE) -> pd.DataFrame:
    """:func:`kit_alternatives` on a model already built (:func:`hotspots.sites.kits.build_model`)."""
    if not 0 < share <= 1:
        raise InputError(f"kit_alternatives: share must be in (0, 1] (0.99 = within 1 %), got {share!r}.")
    chosen = _chosen(m, kits)
    objective, values = swap_values(m, chosen)
    a_idx, k_idx = np.nonzero(values >= share * objective - 1e-9 * max(objective, 1.0))
    xy = _xy(m.candidates)
    cand = m.candidates
    order = kits["order"].to_numpy() if "order" in kits.columns else np.arange(1, len(kits) + 1)
    out = pd.DataFrame(
        {
            KIT_ID: kits[SITE_ID].astype(str).to_numpy()[a_idx],
            KIT_ORDER: np.asarray(order)[a_idx],
            SITE_ID: cand[SITE_ID].astype(str).to_numpy()[k_idx],
            SITE_SOURCE: cand[SITE_SOURCE].to_numpy(dtype=object)[k_idx] if SITE_SOURCE in cand else "",
            SITE_NAME: cand[SITE_NAME].fillna("").to_numpy(dtype=object)[k_idx] if SITE_NAME in cand else "",
            "x": xy[k_idx, 0],
            "y": xy[k_idx, 1],
            DISTANCE_M: np.hypot(*(xy[k_idx] - xy[chosen[a_idx]]).T),
            SWAP_COVERED: values[a_idx, k_idx],
            SWAP_PCT: 100.0 * values[a_idx, k_idx] / objective if objective > 0 else np.nan,
        }
    )
    out = out.sort_values([KIT_ORDER, SWAP_COVERED, DISTANCE_M], ascending=[True, False, True], kind="stable")
    out = out.reset_index(drop=True)[ALTERNATIVE_COLUMNS]
    out.attrs["objective"] = objective
    return out


def most_different_set(
    incidents: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    kits: pd.DataFrame,
    *,
    radius: float,
    fixed: gpd.GeoDataFrame | None = None,
    max_shared: int | None = None,
    time_limit: float | None = None,
    demand: gpd.GeoDataFrame | None = None,
) -> dict[str, Any]:
    """The best ``p`` kits sharing at most ``max_shared`` of the chosen sites (exact MILP).

    Parameters
    ----------
    kits
        The chosen kits (:func:`~hotspots.sites.kits.select_sites`), ``p`` rows.
    max_shared
        Chosen sites the other set may keep (default ``p // 2``).
    time_limit
        Seconds allowed to HiGHS; when it is reached, its best set so far (``optimal``
        False), or no set when it has none yet.
    demand
        ``demand_points(incidents)`` when the caller already has it (not recomputed).

    Returns
    -------
    dict
        ``max_shared``, ``site_ids`` (the other set), ``shared`` (how many chosen sites or
        their twins it keeps),
        ``covered_harm`` and ``pct_of_optimum``, ``optimal`` (proven), ``solve_s``.

    Notes
    -----
    The maximal covering model of :func:`hotspots.sites.mclp.solve_mclp` over the demand and
    candidates that matter (uncovered demand with harm, candidates reaching some), with one
    more row: ``sum of x_j over the chosen sites and their twins <= max_shared``, where a twin
    is a candidate reaching exactly the same demand as a chosen site (the same point under
    another name), so a site cannot be "replaced" by itself; at most ``p`` sites (fewer when
    fewer candidates are useful). Dominated candidates are kept: one that reaches less than
    a chosen site may be what the other set needs once that site is forbidden.
    """
    m = build_model(incidents, candidates, radius=radius, fixed=fixed, demand=demand)
    return most_different_of_model(m, kits, max_shared=max_shared, time_limit=time_limit)


def most_different_of_model(
    m: Model, kits: pd.DataFrame, *, max_shared: int | None = None, time_limit: float | None = None
) -> dict[str, Any]:
    """:func:`most_different_set` on a model already built (:func:`hotspots.sites.kits.build_model`)."""
    t0 = time.perf_counter()
    deadline = _mclp.Deadline.after(time_limit)
    chosen = _chosen(m, kits)
    p = len(chosen)
    k_max = p // 2 if max_shared is None else int(max_shared)
    objective = float(np.where(m.fixed, 0.0, m.weights)[_mclp.covered_mask(m.cover, chosen)].sum())
    cover, weights, columns = _useful(m)
    cover, weights, col_weights, columns, twin = _compact(cover, weights, columns, _twins(cover, columns, chosen))
    prob = _Shared(cover, weights, col_weights, twin, p, k_max)
    picked, optimal, status = _solve_shared(prob, deadline)
    other = np.sort(columns[picked])
    covered = float(np.where(m.fixed, 0.0, m.weights)[_mclp.covered_mask(m.cover, other)].sum())
    return {
        "max_shared": k_max,
        "site_ids": m.candidates[SITE_ID].astype(str).to_numpy()[other].tolist(),
        "shared": int((picked & twin).sum()),
        "covered_harm": covered,
        "pct_of_optimum": 100.0 * covered / objective if objective > 0 else None,
        "optimal": optimal,
        "solve_s": round(time.perf_counter() - t0, 3),
        "status": status,
    }


@dataclass
class _Shared:
    """The most-different-set problem: an MCLP of at most ``p`` sites, at most ``k_max`` of them ``twin``."""

    cover: sp.csr_matrix
    weights: np.ndarray
    col_weights: np.ndarray
    twin: np.ndarray
    p: int
    k_max: int

    def value(self, sel: np.ndarray) -> float:
        """Weight the candidates of mask ``sel`` reach."""
        hit = (self.cover @ sel.astype(np.int32)) > 0
        return float(self.col_weights[sel].sum() + self.weights[hit].sum())

    def greedy(self) -> np.ndarray:
        """Greedy: ``p`` times the candidate adding the most, twins only while fewer than ``k_max`` are chosen."""
        cc = self.cover.tocsc()
        ct = cc.T.tocsr().astype(float)
        sel = np.zeros(cc.shape[1], dtype=bool)
        left = self.weights.astype(float).copy()
        for _ in range(self.p):
            gain = self.col_weights + ct @ left
            gain[sel] = -np.inf
            if (sel & self.twin).sum() >= self.k_max:
                gain[self.twin] = -np.inf
            j = int(np.argmax(gain)) if len(gain) else -1
            if j < 0 or not gain[j] > 0:
                break
            sel[j] = True
            left[cc.indices[cc.indptr[j] : cc.indptr[j + 1]]] = 0.0
        return sel


def _solve_shared(prob: _Shared, deadline: _mclp.Deadline) -> tuple[np.ndarray, bool, str]:
    """Solve :class:`_Shared` exactly: LP reduced-cost fixing against the greedy set, then HiGHS.

    The same argument as :func:`hotspots.sites.mclp.lp_fix`, with the sharing row's dual in the
    reduced costs: every candidate whose reduced cost proves it is in no set as good as the
    greedy one is dropped before the MILP (on the 100,000-incident benchmark force this takes
    the solve from about 8 s to under 1 s). Returns (mask of chosen candidates, proven optimal,
    status); when the time limit is reached, the better of HiGHS's incumbent and the greedy set.
    """
    greedy = prob.greedy()
    n, mc = prob.cover.shape
    if deadline.spent() or mc == 0:
        return greedy, mc == 0, "time limit: greedy solution returned" if mc else "no useful candidate"
    cost = -np.concatenate([prob.col_weights, prob.weights])
    a = sp.hstack([-prob.cover.astype(float), sp.identity(n, format="csr")], format="csr")
    card = np.concatenate([np.ones(mc), np.zeros(n)])
    share = np.concatenate([prob.twin.astype(float), np.zeros(n)])
    left = deadline.left()
    lp = linprog(
        cost,
        A_ub=sp.vstack([a, sp.csr_matrix(card[None, :]), sp.csr_matrix(share[None, :])], format="csr"),
        b_ub=np.concatenate([np.zeros(n), [prob.p, prob.k_max]]),
        bounds=(0, 1),
        method="highs",
        options={} if left is None else {"time_limit": left},
    )
    keep = np.ones(mc, dtype=bool)
    v = prob.value(greedy)
    tol = _mclp.MIP_REL_GAP * max(1.0, abs(v))
    if lp.status == 0 and lp.x is not None:
        marg = np.minimum(np.asarray(lp.ineqlin.marginals, dtype=float), 0.0)
        r = cost - a.T @ marg[:n] - marg[n] * card - marg[n + 1] * share
        bound = marg[n] * prob.p + marg[n + 1] * prob.k_max + float(np.minimum(r, 0.0).sum())
        if -bound <= v + tol:
            return greedy, True, "optimal (greedy solution meets the LP bound)"
        keep = ~(bound + np.maximum(r[:mc], 0.0) > -v + tol) | greedy
    if deadline.spent():
        return greedy, False, "time limit: greedy solution returned"
    cols = np.flatnonzero(keep)
    sub = prob.cover[:, cols].tocsr()
    rows = np.flatnonzero(np.diff(sub.indptr) > 0)
    sub, nr, k = sub[rows], len(rows), len(cols)
    card = np.concatenate([np.ones(k), np.zeros(nr)])
    shared_row = np.concatenate([prob.twin[cols].astype(float), np.zeros(nr)])
    cons = [LinearConstraint(card[None, :], 0, prob.p), LinearConstraint(shared_row[None, :], 0, prob.k_max)]
    if nr:
        a = sp.hstack([-sub.astype(float), sp.identity(nr, format="csr")], format="csr")
        cons.insert(0, LinearConstraint(a, -np.inf, 0.0))
    options: dict[str, Any] = {"mip_rel_gap": _mclp.MIP_REL_GAP}
    left = deadline.left()
    if left is not None:
        options["time_limit"] = left
    res = milp(
        -np.concatenate([prob.col_weights[cols], prob.weights[rows]]),
        integrality=card,
        bounds=Bounds(0, 1),
        constraints=cons,
        options=options,
    )
    if res.x is None:
        return greedy, False, f"time limit: greedy solution returned ({res.message})"
    picked = np.zeros(mc, dtype=bool)
    picked[cols[res.x[:k] > HALF]] = True
    if res.status != 0 and prob.value(greedy) > prob.value(picked):
        return greedy, False, "time limit: greedy solution returned"
    return picked, bool(res.status == 0), str(res.message)


def _useful(m: Model) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Demand rows that can still be covered (harm, not fixed, reached) x the candidates reaching any."""
    cover = sp.csr_matrix(m.cover)
    keep = (m.weights > 0) & ~m.fixed & (np.diff(cover.indptr) > 0)
    sub = cover[np.flatnonzero(keep)]
    columns = np.flatnonzero(np.diff(sub.tocsc().indptr) > 0)
    return sub[:, columns].tocsr(), m.weights[keep], columns


def _compact(
    cover: sp.csr_matrix, weights: np.ndarray, columns: np.ndarray, twin: np.ndarray
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The same problem, smaller: one candidate per identical reach, identical demand rows merged.

    Demand reached by one candidate only is folded into that candidate's objective weight
    (``col_weights``). Unlike :func:`hotspots.sites.mclp.reduce_model` no candidate reaching a strict subset of
    another's demand is dropped: with the sharing row it may be needed.
    """
    csc = cover.tocsc()
    keys = [csc.indices[csc.indptr[j] : csc.indptr[j + 1]].tobytes() for j in range(csc.shape[1])]
    _, first = np.unique(np.array(keys, dtype=object), return_index=True)
    keep = np.sort(first)
    sub = cover[:, keep].tocsr()
    sub.sort_indices()
    rows = [sub.indices[sub.indptr[i] : sub.indptr[i + 1]].tobytes() for i in range(sub.shape[0])]
    _, first_row, inverse = np.unique(np.array(rows, dtype=object), return_index=True, return_inverse=True)
    merged_w = np.bincount(inverse.ravel(), weights=weights, minlength=len(first_row))
    sub = sub[first_row].tocsr()
    single = np.diff(sub.indptr) == 1
    col_w = np.bincount(sub.indices[sub.indptr[:-1][single]], weights=merged_w[single], minlength=len(keep))
    return sub[~single].tocsr(), merged_w[~single], col_w.astype(float), columns[keep], twin[keep]


def _twins(cover: sp.csr_matrix, columns: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Mask over ``columns``: a chosen site or a candidate reaching exactly the same demand as one."""
    csc = cover.tocsc()
    reach = [csc.indices[csc.indptr[j] : csc.indptr[j + 1]].tobytes() for j in range(csc.shape[1])]
    chosen_reach = {reach[j] for j in np.flatnonzero(np.isin(columns, chosen))}
    return np.array([r in chosen_reach for r in reach], dtype=bool) | np.isin(columns, chosen)


def annotate_kits(kits: gpd.GeoDataFrame, alternatives: pd.DataFrame, *, existing_sites: int) -> gpd.GeoDataFrame:
    """``kits`` with :data:`ALTERNATIVES`, :data:`NEAREST_ALTERNATIVE_M` and :data:`EXISTING_SITES` added."""
    out = kits.copy()
    ids = out[SITE_ID].astype(str)
    g = alternatives.groupby(KIT_ID)
    out[ALTERNATIVES] = g.size().reindex(ids).fillna(0).astype(np.int64).to_numpy()
    out[NEAREST_ALTERNATIVE_M] = g[DISTANCE_M].min().reindex(ids).to_numpy(dtype=float)
    out[EXISTING_SITES] = int(existing_sites)
    geom = out.pop(C.GEOMETRY) if C.GEOMETRY in out.columns else None
    if geom is not None:
        out = gpd.GeoDataFrame(out, geometry=geom.values, crs=kits.crs)
    return out
