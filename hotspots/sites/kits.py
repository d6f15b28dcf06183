"""Where to put the next bleed-control kits.

A maximal covering location model (Church & ReVelle 1974, :func:`select_sites`) chooses
``p`` sites among candidates (NTE venues, the public locations incidents are recorded at,
user-supplied sites) to maximise the harm-weighted violence within a walking radius, solved
exactly with HiGHS on a sparse coverage structure. Existing kits and defibrillators are
fixed sites: what they already cover is not counted again. :func:`coverage_curve`,
:func:`radius_sensitivity` and :func:`kits_for_target` give the order of value, the curve
for 1..p kits, the answer at other radii and the fewest kits covering a target share of harm.

Every verb is a pure function on GeoDataFrames in EPSG:27700; :func:`run_stage` is the
pipeline adapter that reads the optional point files, sites the kits and the youth outreach
zones (:mod:`hotspots.sites.outreach`), and writes ``bleed_kits.csv``, ``outreach.csv`` and
``sites.gpkg``.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.errors import ConfigError, HotspotsWarning, InputError
from hotspots.io.write import write_csv, write_layer
from hotspots.sites import mclp as _mclp
from hotspots.sites.candidates import (  # noqa: F401  (re-exported: the public API lives here)
    CANDIDATE_SOURCES,
    DEFAULT_EXCLUDE_LOCATIONS,
    DEMAND_COLUMNS,
    SITE_COLUMNS,
    SITE_ID,
    SITE_NAME,
    SITE_SOURCE,
    SOURCE_CANDIDATE,
    SOURCE_DEFIB,
    SOURCE_KIT,
    SOURCE_LOCATION,
    SOURCE_VENUE,
    PointFile,
    _check_unique,
    _location_pattern,
    _to_bng,
    _xy,
    demand_points,
    empty_sites,
    kit_candidates,
    read_site_file,
)
from hotspots.sites.outreach import OutreachConfig, outreach_zones

if TYPE_CHECKING:  # pragma: no cover
    from hotspots.pipeline import RunContext

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------
# Output columns
# --------------------------------------------------------------------------------------

ORDER = "order"  # 1 = the kit that adds the most harm; each next adds the most of what is left
X = "x"  # easting, metres (EPSG:27700)
Y = "y"  # northing, metres (EPSG:27700)
LON = "lon"  # longitude, degrees (EPSG:4326)
LAT = "lat"  # latitude, degrees (EPSG:4326)
COVERED_HARM = "covered_harm"  # harm within the radius of this kit (overlaps counted in each)
MARGINAL_HARM = "marginal_harm"  # harm this kit adds beyond fixed sites and kits of lower order
CUMULATIVE_COVERAGE_PCT = "cumulative_coverage_pct"  # % of all harm covered by fixed sites + kits 1..order

BLEED_KIT_COLUMNS = [SITE_ID, ORDER, SITE_SOURCE, SITE_NAME, X, Y, LON, LAT, COVERED_HARM, MARGINAL_HARM,
                     CUMULATIVE_COVERAGE_PCT]
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


def _point_file(value: Any, key: str) -> PointFile | None:
    if value is None or isinstance(value, PointFile):
        return value
    if isinstance(value, (str, Path)):
        return PointFile(path=Path(value))
    raise ConfigError(f"[sites] key {key!r} must be a file path or a table, got {value!r}.")  # pragma: no cover


@dataclass(frozen=True)
class SitesConfig:
    """``[sites]``: bleed-control kit siting.

    Attributes
    ----------
    p
        Number of new kits to site (default 10).
    radius_m
        Walking radius a kit serves, metres (default 100: a 90-second fetch).
    sensitivity_radii_m
        Radii of the sensitivity run (default 60, 100, 200 m).
    target_pct
        Coverage target of the set-covering mode: fewest kits so that fixed sites plus new
        kits reach this % of all harm (default 50).
    candidates
        Candidate sources: any of ``"venues"``, ``"incident_locations"``,
        ``"candidate_sites"`` (default all three; the last only when a file is given).
    candidate_sites, existing_kits, defibrillators
        Optional point files (a path, or a table with ``path, crs, id, name, x, y``).
    exclude_locations
        Case-insensitive regular expressions searched in the location text of incident-location
        candidates (``"On or near Hospital"``); a location matching any is not a candidate
        (its incidents stay in the demand). Default :data:`DEFAULT_EXCLUDE_LOCATIONS`; ``[]``
        keeps every location.
    time_limit_s
        Seconds allowed to each exact solve (default 120); a solve that hits it reports
        its gap in the manifest.
    """

    p: int = 10
    radius_m: float = 100.0
    sensitivity_radii_m: tuple[float, ...] = (60.0, 100.0, 200.0)
    target_pct: float = 50.0
    candidates: tuple[str, ...] = CANDIDATE_SOURCES
    candidate_sites: PointFile | Path | None = None
    existing_kits: PointFile | Path | None = None
    defibrillators: PointFile | Path | None = None
    exclude_locations: tuple[str, ...] = DEFAULT_EXCLUDE_LOCATIONS
    time_limit_s: float = 120.0

    def __post_init__(self) -> None:
        if self.p < 1:
            raise ConfigError(f"[sites] key 'p' must be at least 1 kit, got {self.p!r}.")
        for key in ("radius_m", "time_limit_s"):
            if not getattr(self, key) > 0:
                raise ConfigError(f"[sites] key {key!r} must be > 0, got {getattr(self, key)!r}.")
        for r in self.sensitivity_radii_m:
            if not r > 0:
                raise ConfigError(f"[sites] key 'sensitivity_radii_m' values must be > 0 metres, got {r!r}.")
        if not 0 < self.target_pct <= 100:
            raise ConfigError(f"[sites] key 'target_pct' must be in (0, 100], got {self.target_pct!r}.")
        for c in self.candidates:
            if c not in CANDIDATE_SOURCES:
                raise ConfigError(
                    f"[sites] key 'candidates': unknown source {c!r}. Valid: {', '.join(CANDIDATE_SOURCES)}."
                )
        for key in ("candidate_sites", "existing_kits", "defibrillators"):
            object.__setattr__(self, key, _point_file(getattr(self, key), key))
        _location_pattern(self.exclude_locations, ConfigError, "[sites] key 'exclude_locations'")



# --------------------------------------------------------------------------------------
# Bleed-control kits
# --------------------------------------------------------------------------------------


@dataclass
class _Model:
    """Demand, candidates and their coverage at one radius."""

    demand: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    radius: float
    cover: Any
    weights: np.ndarray
    fixed: np.ndarray
    total: float

    @property
    def fixed_harm(self) -> float:
        return float(self.weights[self.fixed].sum())


def _model(
    incidents: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    radius: float,
    fixed: gpd.GeoDataFrame | None,
    p: int | None = None,
) -> _Model:
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
    demand = demand_points(incidents)
    dxy = _xy(demand)
    cover = _mclp.coverage_matrix(dxy, _xy(cand), radius)
    w = demand[C.HARM].to_numpy(dtype=float)
    fixed_mask = np.zeros(len(demand), dtype=bool)
    if fixed is not None and len(fixed):
        f = _to_bng(fixed, "fixed sites")
        if SITE_ID in f.columns:
            _check_unique(f, "existing kits and defibrillators")
        fixed_mask = _mclp.covered_mask(_mclp.coverage_matrix(dxy, _xy(f), radius), np.arange(len(f)))
    return _Model(demand, cand, float(radius), cover, w, fixed_mask, float(w.sum()))


def _pct(value: float, total: float) -> float:
    return 100.0 * value / total if total > 0 else 0.0


def select_sites(
    incidents: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    p: int = 10,
    radius: float = 100.0,
    fixed: gpd.GeoDataFrame | None = None,
    time_limit: float | None = None,
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
        Seconds allowed to the solver (None: no limit).

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
    m = _model(incidents, candidates, radius=radius, fixed=fixed, p=p)
    sol = _mclp.solve_mclp(m.cover, m.weights, p, fixed=m.fixed, time_limit=time_limit)
    if len(sol.sites) < p:
        warnings.warn(
            f"only {len(sol.sites)} of the {len(m.candidates)} candidates reach harm not already covered "
            f"within {radius:g} m; {len(sol.sites)} kits are returned instead of p = {p}.",
            HotspotsWarning,
            stacklevel=2,
        )
    order, marginal = _mclp.greedy_order(m.cover, m.weights, sol.sites, fixed=m.fixed)
    kits = _kit_rows(m, order, marginal)
    kits.attrs["mclp"] = {
        "p": int(p), "radius_m": float(radius), "optimal": bool(sol.optimal), "gap": sol.gap,
        "status": sol.status, "solve_s": round(sol.seconds, 3), "demand_points": len(m.demand),
        "candidates": len(m.candidates), "model_rows": sol.n_rows, "model_columns": sol.n_cols,
        "model_pairs": sol.n_pairs, "total_harm": m.total, "existing_covered_harm": m.fixed_harm,
        "covered_harm": m.fixed_harm + sol.objective,
        "coverage_pct": _pct(m.fixed_harm + sol.objective, m.total),
    }
    return kits


def _kit_rows(m: _Model, order: np.ndarray, marginal: np.ndarray) -> gpd.GeoDataFrame:
    cand = m.candidates.iloc[order]
    csc = m.cover.tocsc()
    covered = np.array([m.weights[csc.indices[csc.indptr[j]: csc.indptr[j + 1]]].sum() for j in order], dtype=float)
    xy = _xy(cand) if len(cand) else np.zeros((0, 2))
    ll = cand.geometry.to_crs("EPSG:4326") if len(cand) else cand.geometry
    cum = m.fixed_harm + np.cumsum(marginal)
    return gpd.GeoDataFrame(
        {
            SITE_ID: cand[SITE_ID].astype(str).to_numpy(dtype=object) if SITE_ID in cand else order.astype(str),
            ORDER: np.arange(1, len(order) + 1, dtype=np.int64),
            SITE_SOURCE: cand[SITE_SOURCE].to_numpy(dtype=object) if SITE_SOURCE in cand else SOURCE_CANDIDATE,
            SITE_NAME: cand[SITE_NAME].fillna("").to_numpy(dtype=object) if SITE_NAME in cand else "",
            X: xy[:, 0], Y: xy[:, 1],
            LON: shapely.get_x(ll.values).astype(float), LAT: shapely.get_y(ll.values).astype(float),
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
    radius: float = 100.0,
    fixed: gpd.GeoDataFrame | None = None,
    time_limit: float | None = None,
) -> pd.DataFrame:
    """Harm covered by the best ``k`` new kits, for ``k = 0..p``, each solved exactly.

    Returns
    -------
    pandas.DataFrame
        :data:`CURVE_COLUMNS`: ``kits`` (0 = fixed sites only), ``covered_harm`` (harm within
        the radius of the fixed sites or the optimal ``kits`` new sites) and ``coverage_pct``
        (% of all harm). Optimal for every ``k`` (not the nested greedy order), so it never
        falls as kits are added; the optimal sets for different ``k`` need not be nested.
    """
    m = _model(incidents, candidates, radius=radius, fixed=fixed, p=p)
    red = _mclp.reduce_model(m.cover, m.weights, m.fixed)
    rows = [(0, m.fixed_harm)]
    for k in range(1, p + 1):
        sol = _mclp.solve_mclp(m.cover, m.weights, k, reduced=red, time_limit=time_limit)
        rows.append((k, m.fixed_harm + sol.objective))
    df = pd.DataFrame(rows, columns=[KITS, COVERED_HARM])
    df[COVERED_HARM] = np.maximum.accumulate(df[COVERED_HARM].to_numpy())  # guards a time-limited solve
    df[COVERAGE_PCT] = [_pct(v, m.total) for v in df[COVERED_HARM]]
    return df


def radius_sensitivity(
    incidents: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    p: int = 10,
    radii: tuple[float, ...] = (60.0, 100.0, 200.0),
    fixed: gpd.GeoDataFrame | None = None,
    time_limit: float | None = None,
) -> pd.DataFrame:
    """The optimal ``p`` kits' coverage at each walking radius.

    Returns
    -------
    pandas.DataFrame
        :data:`SENSITIVITY_COLUMNS`: ``radius_m``, ``kits`` chosen, ``existing_covered_harm``
        (by fixed sites at that radius), ``covered_harm`` and ``coverage_pct`` (fixed sites
        plus the optimal kits), ``optimal`` (proven by the solver).
    """
    rows = []
    for r in radii:
        m = _model(incidents, candidates, radius=r, fixed=fixed, p=p)
        sol = _mclp.solve_mclp(m.cover, m.weights, p, fixed=m.fixed, time_limit=time_limit)
        cov = m.fixed_harm + sol.objective
        rows.append((float(r), len(sol.sites), m.fixed_harm, cov, _pct(cov, m.total), bool(sol.optimal)))
    return pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)


def kits_for_target(
    incidents: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    target_pct: float,
    radius: float = 100.0,
    fixed: gpd.GeoDataFrame | None = None,
    time_limit: float | None = None,
) -> dict[str, Any]:
    """How many kits cover ``target_pct`` % of all harm? (exact set covering with a target).

    Parameters
    ----------
    target_pct
        Share of all harm (fixed sites included) to reach, in per cent (0, 100].

    Returns
    -------
    dict
        ``target_pct``, ``radius_m``, ``kits`` (fewest new kits), ``site_ids`` (one such set),
        ``covered_harm`` and ``coverage_pct`` reached, ``existing_coverage_pct``, ``optimal``.

    Raises
    ------
    InputError
        The target is outside (0, 100], or unreachable with every candidate (the message
        gives the most reachable %).
    """
    if not isinstance(target_pct, (int, float)) or not 0 < target_pct <= 100:
        raise InputError(f"target_pct must be a percentage in (0, 100], got {target_pct!r}.")
    m = _model(incidents, candidates, radius=radius, fixed=fixed)
    need = target_pct / 100.0 * m.total - m.fixed_harm
    red = _mclp.reduce_model(m.cover, m.weights, m.fixed)
    if red.coverable + m.fixed_harm < target_pct / 100.0 * m.total * (1 - 1e-12):
        best = _pct(red.coverable + m.fixed_harm, m.total)
        raise InputError(
            f"a {target_pct:g} % coverage target cannot be reached within {radius:g} m: every candidate "
            f"together covers {best:.1f} % of harm. Lower target_pct, widen the radius or add candidate sites."
        )
    sol = _mclp.solve_target(m.cover, m.weights, need, reduced=red, time_limit=time_limit)
    cov = m.fixed_harm + sol.objective
    return {
        "target_pct": float(target_pct), "radius_m": float(radius), "kits": int(len(sol.sites)),
        "site_ids": m.candidates[SITE_ID].iloc[sol.sites].astype(str).tolist() if SITE_ID in m.candidates
        else sol.sites.tolist(),
        "covered_harm": cov, "coverage_pct": _pct(cov, m.total),
        "existing_coverage_pct": _pct(m.fixed_harm, m.total), "optimal": bool(sol.optimal),
        "gap": sol.gap, "solve_s": round(sol.seconds, 3),
    }


# --------------------------------------------------------------------------------------
# Pipeline stage
# --------------------------------------------------------------------------------------


def _fixed_sites(cfg: SitesConfig) -> gpd.GeoDataFrame | None:
    parts = []
    if cfg.existing_kits is not None:
        parts.append(read_site_file(cfg.existing_kits, source=SOURCE_KIT))
    if cfg.defibrillators is not None:
        parts.append(read_site_file(cfg.defibrillators, source=SOURCE_DEFIB))
    if not parts:
        return None
    fixed = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=C.CRS)
    _check_unique(fixed, "existing kits and defibrillators")
    return fixed


def run_stage(ctx: RunContext) -> None:
    """Pipeline stage ``sites``: bleed-control kits and youth outreach zones.

    Reads the optional ``[sites]`` point files, then writes ``bleed_kits.csv``,
    ``outreach.csv`` and layers ``bleed_kits``, ``outreach`` (and ``fixed_sites`` when
    existing kits or defibrillators are given) of ``sites.gpkg``. Puts ``"bleed_kits"``,
    ``"coverage_curve"``, ``"outreach"`` (and ``"fixed_sites"``) in ``ctx.results``; the
    solve statistics, coverage curve, radius sensitivity and set-covering answer go in the
    manifest under ``"sites"``.
    """
    cfg: SitesConfig = ctx.config.stage("sites")
    ocfg: OutreachConfig = ctx.config.stage("outreach")
    study = ctx.study
    inc = study.analysis_incidents
    extra = read_site_file(cfg.candidate_sites, source=SOURCE_CANDIDATE) if cfg.candidate_sites else None
    fixed = _fixed_sites(cfg)
    cand = kit_candidates(inc, venues=study.venues, extra=extra, sources=cfg.candidates,
                          exclude_locations=tuple(cfg.exclude_locations))
    limit = cfg.time_limit_s
    kits = select_sites(inc, cand, p=cfg.p, radius=cfg.radius_m, fixed=fixed, time_limit=limit)
    curve = coverage_curve(inc, cand, p=cfg.p, radius=cfg.radius_m, fixed=fixed, time_limit=limit)
    sens = radius_sensitivity(inc, cand, p=cfg.p, radii=tuple(cfg.sensitivity_radii_m), fixed=fixed,
                              time_limit=limit)
    try:
        target: dict[str, Any] = kits_for_target(inc, cand, target_pct=cfg.target_pct, radius=cfg.radius_m,
                                                 fixed=fixed, time_limit=limit)
    except InputError as exc:  # an unreachable target is an answer, not a failed run
        warnings.warn(str(exc), HotspotsWarning, stacklevel=2)
        target = {"target_pct": cfg.target_pct, "radius_m": cfg.radius_m, "reachable": False, "message": str(exc)}
    stats = kits.attrs.get("mclp", {})
    ctx.record("sites", candidates={k: int(v) for k, v in cand[SITE_SOURCE].value_counts().items()},
               excluded_locations=cand.attrs.get("excluded_locations", 0),
               demand_points=stats.get("demand_points"),
               fixed_sites=0 if fixed is None else len(fixed))
    ctx.extra["sites"] = {
        "bleed_kits": stats,
        "coverage_curve": curve.to_dict(orient="records"),
        "radius_sensitivity": sens.to_dict(orient="records"),
        "kits_for_target": target,
    }
    hot = None
    lsoa_res = ctx.results.get("lsoa")
    if lsoa_res is not None and {C.LSOA_CODE, "gi_z"} <= set(lsoa_res.columns):
        hot = pd.DataFrame(lsoa_res[[C.LSOA_CODE, "gi_z"]])
    grid = ctx.results.get("grid")
    zones = outreach_zones(inc, study.lsoa, grid=grid, hot=hot, categories=tuple(ocfg.categories), top=ocfg.top,
                           weights=ocfg.weights, cell_size=ocfg.cell_size_m)
    ctx.record("outreach", hotspot_strength="detect stage LSOA gi_z" if hot is not None
               else "Gi* z of youth-relevant harm, queen contiguity",
               focal_cells="detect stage grid" if grid is not None else f"{ocfg.cell_size_m:g} m lattice")
    out = ctx.out
    gpkg = out / "sites.gpkg"
    write_csv(kits, ctx.output(out / "bleed_kits.csv", f"{len(kits)} bleed-control kit sites in order of value"))
    write_layer(kits, gpkg, "bleed_kits")
    write_csv(zones, ctx.output(out / "outreach.csv", f"{len(zones)} youth outreach zones"))
    write_layer(zones, gpkg, "outreach")
    if fixed is not None:
        write_layer(fixed, gpkg, "fixed_sites")
        ctx.results["fixed_sites"] = fixed
    ctx.output(gpkg, "layers bleed_kits, outreach" + (", fixed_sites" if fixed is not None else ""))
    ctx.results["bleed_kits"] = kits
    ctx.results["coverage_curve"] = curve
    ctx.results["outreach"] = zones
    log.info("sites: %d kits cover %.1f %% of harm within %g m; %d outreach zones", len(kits),
             stats.get("coverage_pct", 0.0), cfg.radius_m, len(zones))
