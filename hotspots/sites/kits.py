"""Where to put the next bleed-control kits.

A maximal covering location model (Church & ReVelle 1974, :func:`select_sites`) chooses
``p`` sites among candidates (NTE venues, the public locations incidents are recorded at,
user-supplied sites) to maximise the harm-weighted violence within a walking radius, solved
exactly with HiGHS on a sparse coverage structure. Existing kits and defibrillators are
fixed sites: what they already cover is not counted again. :func:`coverage_curve`,
:func:`radius_sensitivity` and :func:`kits_for_target` give the order of value, the curve
for 1..p kits, the answer at other radii and the fewest kits covering a target share of harm.

Every verb is a pure function on GeoDataFrames in EPSG:27700, and has a twin on a model
already built (:func:`build_model`; ``kits_of_model``, ``curve_of_model``, ``target_of_model``)
so that one run builds each model once. The pipeline stage :func:`hotspots.sites.stage.site`
sites the kits and the youth outreach zones from the loaded study; the pipeline writes the files.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.errors import HotspotsWarning, InputError
from hotspots.io.sites import SITE_ID, SITE_NAME, SITE_SOURCE, SOURCE_CANDIDATE, _check_unique
from hotspots.sites import mclp as _mclp
from hotspots.sites.candidates import _to_bng, _xy, demand_points
from hotspots.sites.config import DEFAULT_KIT_RADIUS_M, DEFAULT_SENSITIVITY_RADII_M
from hotspots.steps import progress

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------
# Output columns
# --------------------------------------------------------------------------------------

ORDER = C.ORDER  # 1 = the kit that adds the most harm; each next adds the most of what is left
X = "x"  # easting, metres (EPSG:27700)
Y = "y"  # northing, metres (EPSG:27700)
LON = "lon"  # longitude, degrees (EPSG:4326)
LAT = "lat"  # latitude, degrees (EPSG:4326)
COVERED_HARM = "covered_harm"  # harm within the radius of this kit (overlaps counted in each)
MARGINAL_HARM = "marginal_harm"  # harm this kit adds beyond fixed sites and kits of lower order
CUMULATIVE_COVERAGE_PCT = "cumulative_coverage_pct"  # % of all harm covered by fixed sites + kits 1..order

BLEED_KIT_COLUMNS = [
    SITE_ID,
    ORDER,
    SITE_SOURCE,
    SITE_NAME,
    X,
    Y,
    LON,
    LAT,
    COVERED_HARM,
    MARGINAL_HARM,
    CUMULATIVE_COVERAGE_PCT,
]
"""Columns of :func:`select_sites` (plus ``geometry``), ``bleed_kits.csv`` and layer ``bleed_kits``."""

KITS = "kits"  # number of new kits
CURVE_COLUMNS = [KITS, COVERED_HARM, "coverage_pct"]
"""Columns of :func:`coverage_curve`: kits (0..p), harm covered by fixed sites plus the best
``kits`` new kits, and that harm as a % of all harm."""
COVERAGE_PCT = "coverage_pct"

SENSITIVITY_COLUMNS = ["radius_m", "kits", "existing_covered_harm", COVERED_HARM, COVERAGE_PCT, "optimal"]
"""Columns of :func:`radius_sensitivity`."""

# --------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------
# Bleed-control kits
# --------------------------------------------------------------------------------------


@dataclass
class Model:
    """Demand, candidates and their coverage at one radius (what every kit verb solves on).

    Attributes
    ----------
    demand
        Demand points (:func:`demand_points`).
    candidates
        Candidate sites, EPSG:27700.
    radius
        Walking radius, metres.
    cover
        Demand x candidate 0/1 sparse matrix (within ``radius``).
    weights
        Harm of every demand point.
    fixed
        Demand already covered by existing kits and defibrillators.
    total
        All harm.
    """

    demand: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    radius: float
    cover: Any
    weights: np.ndarray
    fixed: np.ndarray
    total: float

    @property
    def fixed_harm(self) -> float:
        """Harm already covered by the fixed sites."""
        return float(self.weights[self.fixed].sum())


def build_model(
    incidents: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    radius: float,
    fixed: gpd.GeoDataFrame | None,
    p: int | None = None,
    demand: gpd.GeoDataFrame | None = None,
) -> Model:
    """The covering model of ``incidents`` and ``candidates`` at ``radius`` (checks every input).

    ``demand`` is ``demand_points(incidents)`` when the caller already has it (not recomputed).
    """
    if not isinstance(radius, (int, float)) or not radius > 0:
        raise InputError(f"radius must be > 0 metres, got {radius!r}. A 90-second fetch is 60-115 m; use 100.")
    cand = _to_bng(candidates, "candidates")
    if len(cand) == 0:
        raise InputError("no candidate sites. Add [sites] candidates (venues, incident_locations, candidate_sites).")
    if SITE_ID in cand.columns:
        _check_unique(cand, "candidate sites")
    if p is not None:
        if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 1:
            raise InputError(f"p must be a whole number of kits >= 1, got {p!r}.")
        if p > len(cand):
            raise InputError(
                f"p = {p} kits is more than the {len(cand)} candidate sites. Lower p or add candidate sites."
            )
    demand = demand_points(incidents) if demand is None else demand
    dxy = _xy(demand)
    cover = _mclp.coverage_matrix(dxy, _xy(cand), radius)
    w = demand[C.HARM].to_numpy(dtype=float)
    fixed_mask = np.zeros(len(demand), dtype=bool)
    if fixed is not None and len(fixed):
        f = _to_bng(fixed, "fixed sites")
        if SITE_ID in f.columns:
            _check_unique(f, "existing kits and defibrillators")
        fixed_mask = _mclp.covered_mask(_mclp.coverage_matrix(dxy, _xy(f), radius), np.arange(len(f)))
    return Model(demand, cand, float(radius), cover, w, fixed_mask, float(w.sum()))


PERCENT = 100.0
"""Coverage targets are per cent of all harm, at most this."""


def _pct(value: float, total: float) -> float:
    return 100.0 * value / total if total > 0 else 0.0


def select_sites(
    incidents: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    p: int = 10,
    radius: float = DEFAULT_KIT_RADIUS_M,
    fixed: gpd.GeoDataFrame | None = None,
    time_limit: float | None = None,
    demand: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Choose ``p`` bleed-control kit sites maximising the harm within walking reach (exact MCLP).

    Parameters
    ----------
    incidents
        Incident frame with ``harm``; incidents at the same point are one demand point
        (:func:`demand_points`).
    candidates
        Candidate sites (:func:`kit_candidates`): ``site_id, source, name`` + points.
    p
        Number of new kits.
    radius
        Walking radius a kit serves, metres (straight line).
    fixed
        Existing kits and defibrillators: demand within ``radius`` of any is already covered
        and not counted again.
    time_limit
        Seconds allowed to the solver (None: no limit). When it is reached, the best
        solution found is returned with ``attrs["mclp"]["optimal"]`` False and its gap.
    demand
        ``demand_points(incidents)`` when the caller already has it (not recomputed; pass the
        same frame to every verb of one run).

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`BLEED_KIT_COLUMNS` + geometry, EPSG:27700, one row per chosen kit in order of
        value: ``order`` 1 adds the most harm, each next kit adds the most of what is still
        uncovered (``marginal_harm``, non-increasing); ``covered_harm`` is all harm within
        its radius; ``cumulative_coverage_pct`` is the % of all harm covered by the fixed
        sites and kits ``1..order``. Fewer than ``p`` rows when fewer candidates reach any
        uncovered harm (a warning says so). ``attrs["mclp"]`` holds the solve statistics.

    Raises
    ------
    InputError
        ``p`` < 1 or more than the candidates, ``radius`` <= 0, no demand, duplicate site ids,
        a frame without CRS.

    Notes
    -----
    Maximal covering location problem (Church & ReVelle 1974)::

        maximise   sum_i h_i y_i
        subject to y_i <= sum_{j : d_ij <= r} x_j,   sum_j x_j = p,
                   x_j in {0, 1},  0 <= y_i <= 1

    over demand points ``i`` not already within ``r`` of a fixed site, with ``h_i`` the
    summed harm. Only pairs within the radius enter the model (KD-tree radius query), and
    demand points reached by the same candidates are merged, so the model stays small;
    HiGHS (:func:`scipy.optimize.milp`) solves it to proven optimality (relative gap 1e-9).
    The order of value is the greedy order of the optimal set by marginal harm.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> inc = gpd.GeoDataFrame({"harm": [1.0, 1.0, 5.0]},
    ...     geometry=[Point(0, 0), Point(50, 0), Point(1000, 0)], crs="EPSG:27700")
    >>> cand = gpd.GeoDataFrame({"site_id": ["a", "b"], "source": "candidate", "name": ""},
    ...     geometry=[Point(25, 0), Point(990, 0)], crs="EPSG:27700")
    >>> select_sites(inc, cand, p=1, radius=100)[["site_id", "marginal_harm"]].values.tolist()
    [['b', 5.0]]
    """
    m = build_model(incidents, candidates, radius=radius, fixed=fixed, p=p, demand=demand)
    return kits_of_model(m, p, time_limit=time_limit)


def kits_of_model(m: Model, p: int, *, time_limit: float | None = None) -> gpd.GeoDataFrame:
    """:func:`select_sites` on a model already built (:func:`build_model`)."""
    sol = _mclp.solve_mclp(m.cover, m.weights, p, fixed=m.fixed, time_limit=time_limit)
    if len(sol.sites) < p:
        warnings.warn(
            f"only {len(sol.sites)} of the {len(m.candidates)} candidates reach harm not already covered "
            f"within {m.radius:g} m; {len(sol.sites)} kits are returned instead of p = {p}.",
            HotspotsWarning,
            stacklevel=2,
        )
    order, marginal = _mclp.greedy_order(m.cover, m.weights, sol.sites, fixed=m.fixed)
    kits = _kit_rows(m, order, marginal)
    kits.attrs["mclp"] = {
        "p": int(p),
        "radius_m": float(m.radius),
        "optimal": bool(sol.optimal),
        "gap": sol.gap,
        "status": sol.status,
        "solve_s": round(sol.seconds, 3),
        "demand_points": len(m.demand),
        "candidates": len(m.candidates),
        "model_rows": sol.n_rows,
        "model_columns": sol.n_cols,
        "model_pairs": sol.n_pairs,
        "total_harm": m.total,
        "existing_covered_harm": m.fixed_harm,
        "covered_harm": m.fixed_harm + sol.objective,
        "coverage_pct": _pct(m.fixed_harm + sol.objective, m.total),
    }
    return kits


def _kit_rows(m: Model, order: np.ndarray, marginal: np.ndarray) -> gpd.GeoDataFrame:
    cand = m.candidates.iloc[order]
    csc = m.cover.tocsc()
    covered = np.array([m.weights[csc.indices[csc.indptr[j] : csc.indptr[j + 1]]].sum() for j in order], dtype=float)
    xy = _xy(cand) if len(cand) else np.zeros((0, 2))
    ll = cand.geometry.to_crs("EPSG:4326") if len(cand) else cand.geometry
    cum = m.fixed_harm + np.cumsum(marginal)
    return gpd.GeoDataFrame(
        {
            SITE_ID: cand[SITE_ID].astype(str).to_numpy(dtype=object) if SITE_ID in cand else order.astype(str),
            ORDER: np.arange(1, len(order) + 1, dtype=np.int64),
            SITE_SOURCE: cand[SITE_SOURCE].to_numpy(dtype=object) if SITE_SOURCE in cand else SOURCE_CANDIDATE,
            SITE_NAME: cand[SITE_NAME].fillna("").to_numpy(dtype=object) if SITE_NAME in cand else "",
            X: xy[:, 0],
            Y: xy[:, 1],
            LON: shapely.get_x(ll.values).astype(float),
            LAT: shapely.get_y(ll.values).astype(float),
            COVERED_HARM: covered,
            MARGINAL_HARM: np.asarray(marginal, dtype=float),
            CUMULATIVE_COVERAGE_PCT: np.array([_pct(c, m.total) for c in cum], dtype=float),
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=C.CRS,
    )


def coverage_curve(
    incidents: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    p: int = 10,
    radius: float = DEFAULT_KIT_RADIUS_M,
    fixed: gpd.GeoDataFrame | None = None,
    time_limit: float | None = None,
    demand: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Harm covered by the best ``k`` new kits, for ``k = 0..p``, each solved exactly.

    ``time_limit`` is the seconds allowed to all ``p`` solves together: a solve started when
    it is spent returns its heuristic solution, flagged. ``demand`` as in :func:`select_sites`.

    Returns
    -------
    pandas.DataFrame
        :data:`CURVE_COLUMNS`: ``kits`` (0 = fixed sites only), ``covered_harm`` (harm within
        the radius of the fixed sites or the optimal ``kits`` new sites) and ``coverage_pct``
        (% of all harm). Optimal for every ``k`` (not the nested greedy order), so it never
        falls as kits are added; the optimal sets for different ``k`` need not be nested.
        ``attrs["optimal"]`` is False when any solve stopped at the time limit.
    """
    m = build_model(incidents, candidates, radius=radius, fixed=fixed, p=p, demand=demand)
    return curve_of_model(m, p, time_limit=time_limit)


def curve_of_model(m: Model, p: int, *, time_limit: float | None = None) -> pd.DataFrame:
    """:func:`coverage_curve` on a model already built (:func:`build_model`)."""
    deadline = _mclp.Deadline.after(time_limit)
    red = _mclp.reduce_model(m.cover, m.weights, m.fixed)
    rows = [(0, m.fixed_harm)]
    optimal = True
    for k in progress(range(1, p + 1), desc="coverage curve", total=p, unit="solve"):
        sol = _mclp.solve_mclp(m.cover, m.weights, k, reduced=red, time_limit=deadline.left())
        rows.append((k, m.fixed_harm + sol.objective))
        optimal &= bool(sol.optimal)
    df = pd.DataFrame(rows, columns=[KITS, COVERED_HARM])
    df[COVERED_HARM] = np.maximum.accumulate(df[COVERED_HARM].to_numpy())  # guards a time-limited solve
    df[COVERAGE_PCT] = [_pct(v, m.total) for v in df[COVERED_HARM]]
    df.attrs["optimal"] = optimal
    return df


def radius_sensitivity(
    incidents: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    p: int = 10,
    radii: tuple[float, ...] = DEFAULT_SENSITIVITY_RADII_M,
    fixed: gpd.GeoDataFrame | None = None,
    time_limit: float | None = None,
    demand: gpd.GeoDataFrame | None = None,
    models: dict[float, Model] | None = None,
) -> pd.DataFrame:
    """The optimal ``p`` kits' coverage at each walking radius.

    ``time_limit`` is the seconds allowed to all radii together; ``demand`` as in
    :func:`select_sites`; ``models`` the models already built, by radius (reused).

    Returns
    -------
    pandas.DataFrame
        :data:`SENSITIVITY_COLUMNS`: ``radius_m``, ``kits`` chosen, ``existing_covered_harm``
        (by fixed sites at that radius), ``covered_harm`` and ``coverage_pct`` (fixed sites
        plus the optimal kits), ``optimal`` (proven by the solver; False for the best
        solution found when the time limit was reached).
    """
    deadline = _mclp.Deadline.after(time_limit)
    models = models or {}
    rows = []
    for r in radii:
        m = models.get(float(r)) or build_model(incidents, candidates, radius=r, fixed=fixed, p=p, demand=demand)
        sol = _mclp.solve_mclp(m.cover, m.weights, p, fixed=m.fixed, time_limit=deadline.left())
        cov = m.fixed_harm + sol.objective
        rows.append((float(r), len(sol.sites), m.fixed_harm, cov, _pct(cov, m.total), bool(sol.optimal)))
    return pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)


def kits_for_target(
    incidents: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    target_pct: float,
    radius: float = DEFAULT_KIT_RADIUS_M,
    fixed: gpd.GeoDataFrame | None = None,
    time_limit: float | None = None,
    demand: gpd.GeoDataFrame | None = None,
) -> dict[str, Any]:
    """How many kits cover ``target_pct`` % of all harm? (exact set covering with a target).

    Parameters
    ----------
    target_pct
        Share of all harm (fixed sites included) to reach, in per cent (0, 100].
    time_limit
        Seconds allowed to the solver. When it is reached before an answer is proven, the
        better of HiGHS's best answer and the greedy one is returned with ``optimal`` False
        (it may use more kits than the fewest): a reachable target is never reported
        unreachable because of the time limit.
    demand
        As in :func:`select_sites`.

    Returns
    -------
    dict
        ``target_pct``, ``radius_m``, ``kits`` (fewest new kits), ``site_ids`` (one such set),
        ``covered_harm`` and ``coverage_pct`` reached, ``existing_coverage_pct``, ``optimal``,
        ``gap`` (None when unknown), ``solve_s``, ``status``.

    Raises
    ------
    InputError
        The target is outside (0, 100], or unreachable with every candidate (the message
        gives the most reachable %).
    """
    if not isinstance(target_pct, (int, float)) or not 0 < target_pct <= PERCENT:
        raise InputError(f"target_pct must be a percentage in (0, 100], got {target_pct!r}.")
    m = build_model(incidents, candidates, radius=radius, fixed=fixed, demand=demand)
    return target_of_model(m, target_pct, time_limit=time_limit)


def target_of_model(m: Model, target_pct: float, *, time_limit: float | None = None) -> dict[str, Any]:
    """:func:`kits_for_target` on a model already built (:func:`build_model`)."""
    if not isinstance(target_pct, (int, float)) or not 0 < target_pct <= PERCENT:
        raise InputError(f"target_pct must be a percentage in (0, 100], got {target_pct!r}.")
    need = target_pct / 100.0 * m.total - m.fixed_harm
    red = _mclp.reduce_model(m.cover, m.weights, m.fixed)
    if red.coverable + m.fixed_harm < target_pct / 100.0 * m.total * (1 - 1e-12):
        best = _pct(red.coverable + m.fixed_harm, m.total)
        raise InputError(
            f"a {target_pct:g} % coverage target cannot be reached within {m.radius:g} m: every candidate "
            f"together covers {best:.1f} % of harm. Lower target_pct, widen the radius or add candidate sites."
        )
    sol = _mclp.solve_target(m.cover, m.weights, need, reduced=red, time_limit=time_limit)
    cov = m.fixed_harm + sol.objective
    return {
        "target_pct": float(target_pct),
        "radius_m": float(m.radius),
        "kits": len(sol.sites),
        "site_ids": m.candidates[SITE_ID].iloc[sol.sites].astype(str).tolist()
        if SITE_ID in m.candidates
        else sol.sites.tolist(),
        "covered_harm": cov,
        "coverage_pct": _pct(cov, m.total),
        "existing_coverage_pct": _pct(m.fixed_harm, m.total),
        "optimal": bool(sol.optimal),
        "gap": sol.gap,
        "solve_s": round(sol.seconds, 3),
        "status": sol.status,
    }
