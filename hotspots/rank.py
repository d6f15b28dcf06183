"""Rank places (LSOAs) for the Board: composite priority score, uncertainty, reasons, tiers.

The stage has three pure steps and a thin pipeline adapter:

1. :func:`place_components` gathers, for every study-area LSOA, the raw component values:
   harm-weighted violence (rate per 1,000 residents and count), hotspot strength (Gi* z of
   the LSOA and the KDE of the grid cells in it), night-time-economy (NTE) exposure (venue
   density, share of violence near a venue), deprivation (IMD without its Crime domain by
   default) and youth need (derived IDACI rate, Children and Young People sub-domain).
2. :func:`rank_places` scales each component (percentile, min-max or z-score), combines
   them (weighted or geometric mean), ranks the places, assigns Board tiers, runs a seeded
   Monte Carlo (Poisson-resampled counts, perturbed weights) for ``rank_low``/``rank_high``
   and ``p_top_n``, and writes each component's contribution and a one-line reason.
3. :func:`district_profiles` summarises Nottingham City and each county district.

:func:`run_stage` wires them to the run context and writes ``places.csv``,
``places.gpkg`` (layer ``places``) and ``districts.csv``.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots._errors import ConfigError, HotspotsWarning, InputError
from hotspots.deprivation import (
    IDACI_RATE,
    IMD_NC_DECILE,
    IMD_NC_SCORE,
    N_ENGLAND,
    exponential_transform,
    idaci_rate,
    imd_without_crime,
)

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------
# columns
# --------------------------------------------------------------------------------------

RANK = "rank"  # 1 = highest priority; a permutation of 1..N
SCORE = "score"  # composite score (weighted mean of scaled components: 0-1 for percentile/min-max)
RANK_LOW = "rank_low"  # 5th percentile of the Monte Carlo ranks (best plausible rank), widened to contain `rank`
RANK_HIGH = "rank_high"  # 95th percentile of the Monte Carlo ranks (worst plausible rank), widened to contain `rank`
P_TOP_N = "p_top_n"  # share of Monte Carlo draws (0-1) in which the place is in the top N
TIER = "tier"  # Board tier 1, 2 or 3 (see RankConfig.tier1_share / tier2_share)
REASON = "reason"  # one-line plain-language reason
MISSING = "missing"  # components with no data for this place ("" if none), ";"-separated

N_INCIDENTS = "n"  # in-scope incidents in the LSOA (count)
HARM = "harm"  # sum of harm weights of those incidents (harm-weighted count)
HARM_NEAR = "harm_near"  # harm of incidents within venue_radius m of an NTE venue
HARM_RATE = "harm_rate"  # harm per 1,000 residents (IoD2019 mid-2015 population)
GI_Z = "gi_z"  # Getis-Ord Gi* z-score of the LSOA's harm (queen contiguity), from detect
HOTSPOT_CLASS = "hotspot_class"  # Gi* class ("hot 99%" ... "cold 99%"), from detect
KDE = "kde"  # KDE of harm, per km², aggregated over grid cells whose centre is in the LSOA (max by default)
VENUES_NEAR = "venues_near"  # NTE venues within venue_radius m of the LSOA boundary (count)
VENUE_DENSITY = "venue_density"  # NTE venues in the LSOA per km² of its area
NEAR_VENUE_SHARE = "near_venue_share"  # share (0-1) of the LSOA's harm within venue_radius m of a venue
DEPRIVATION_SCORE = (
    "deprivation_score"  # 0-100, higher = more deprived: IMD-without-crime score or transformed IMD rank
)
IMD_DECILE = C.IMD_DECILE  # official IMD decile (1 = most deprived 10 % of England)
IMD_NC_DECILE_COL = IMD_NC_DECILE  # IMD-without-crime decile (1 = most deprived 10 % of England)
IDACI_RATE_COL = IDACI_RATE  # derived IDACI rate (0-1); NaN where suppressed
CYP_NEED = "cyp_need"  # 0-100: 100 x (32,844 - cyp_rank + 1) / 32,844; 100 = most deprived in England
CYP_DECILE = C.CYP_DECILE  # Children and Young People sub-domain decile (1 = most deprived)
POPULATION = C.POPULATION

COMPONENTS: dict[str, str] = {
    "harm_rate": HARM_RATE,
    "harm_count": HARM,
    "gi_z": GI_Z,
    "kde": KDE,
    "venue_density": VENUE_DENSITY,
    "near_venue_share": NEAR_VENUE_SHARE,
    "deprivation": DEPRIVATION_SCORE,
    "idaci": IDACI_RATE_COL,
    "cyp": CYP_NEED,
}
"""Component name (used in ``[rank] weights``) -> the column holding its raw value (higher = more need)."""

RESAMPLED = ("harm_rate", "harm_count", "near_venue_share")
"""Components recomputed from Poisson-resampled counts in every Monte Carlo draw."""

DEFAULT_WEIGHTS: dict[str, float] = {
    "harm_rate": 0.20,
    "harm_count": 0.20,
    "gi_z": 0.10,
    "kde": 0.10,
    "venue_density": 0.05,
    "near_venue_share": 0.05,
    "deprivation": 0.15,
    "idaci": 0.10,
    "cyp": 0.05,
}
"""Default weights: violence 60 % (rate, count, Gi*, KDE), NTE 10 %, deprivation 15 %, youth need 15 %."""

CONTRIB = {k: f"c_{k}" for k in COMPONENTS}
"""Contribution column of each component (see :func:`rank_places`)."""

COMPONENT_COLUMNS = [
    POPULATION,
    N_INCIDENTS,
    HARM,
    HARM_NEAR,
    HARM_RATE,
    GI_Z,
    HOTSPOT_CLASS,
    KDE,
    VENUES_NEAR,
    VENUE_DENSITY,
    NEAR_VENUE_SHARE,
    DEPRIVATION_SCORE,
    IMD_DECILE,
    IMD_NC_DECILE_COL,
    IDACI_RATE_COL,
    CYP_NEED,
    CYP_DECILE,
]
"""Raw component columns of :func:`place_components` (after ``lsoa_code, lsoa_name, district``)."""

PLACE_ID_COLUMNS = [C.LSOA_CODE, C.LSOA_NAME, C.DISTRICT]
PLACES_COLUMNS = (
    PLACE_ID_COLUMNS
    + [RANK, SCORE, RANK_LOW, RANK_HIGH, P_TOP_N, TIER]
    + COMPONENT_COLUMNS
    + list(CONTRIB.values())
    + [MISSING, REASON]
)
"""Columns of ``places`` (plus geometry), in order."""

DISTRICT_COLUMNS = [
    C.DISTRICT,
    "lsoas",
    POPULATION,
    "incidents",
    HARM,
    "rate_per_1000",
    "harm_per_1000",
    "top_n_places",
    "tier1_places",
    "share_lsoas_50pct",
    "gini",
    "median_rank",
]
"""Columns of :func:`district_profiles`."""

SCALINGS = ("percentile", "minmax", "zscore")
COMBINES = ("weighted_mean", "geometric_mean")
DEPRIVATION_MEASURES = ("imd_without_crime", "imd")
WEIGHT_NOISES = ("dirichlet", "lognormal", "none")
KDE_AGGREGATES = ("max", "mean")
ON_MISSING = ("reweight", "error")
GEOMETRIC_FLOOR = 0.01
"""Scaled values are floored at this before a geometric mean, so one zero does not zero the score."""
INTERVAL = (5.0, 95.0)
"""Percentiles of the Monte Carlo ranks reported as ``rank_low`` and ``rank_high``."""


# --------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------


def check_weights(
    weights: Any, *, where: str = "[rank] weights", error: type[Exception] = ConfigError
) -> dict[str, float]:
    """Validate component weights; return them as ``{component: float}`` in :data:`COMPONENTS` order.

    Raises ``error`` naming the problem: not a table, an unknown component (listing the valid
    ones), a negative or non-finite weight, or all weights zero.
    """
    if not isinstance(weights, dict) or not weights:
        raise error(f"{where} must be a non-empty table of component = weight, e.g. {{ harm_rate = 0.5 }}.")
    unknown = [k for k in weights if k not in COMPONENTS]
    if unknown:
        raise error(
            f"{where}: unknown component(s) {', '.join(map(repr, unknown))}. Valid components: {', '.join(COMPONENTS)}."
        )
    out: dict[str, float] = {}
    for k in COMPONENTS:
        if k not in weights:
            continue
        v = weights[k]
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v):
            raise error(f"{where}: weight of {k!r} must be a finite number, got {v!r}.")
        if v < 0:
            raise error(f"{where}: weight of {k!r} is negative ({v!r}); weights must be >= 0.")
        out[k] = float(v)
    if sum(out.values()) <= 0:
        raise error(f"{where}: all weights are zero; give at least one component a positive weight.")
    return out


def _choice(value: str, valid: tuple[str, ...], where: str, error: type[Exception]) -> None:
    if value not in valid:
        raise error(f"{where} must be one of {', '.join(map(repr, valid))}, got {value!r}.")


@dataclass(frozen=True)
class RankConfig:
    """``[rank]``: how places are scored, tiered and their uncertainty estimated.

    Attributes
    ----------
    weights
        ``{component = weight}``; components left out get weight 0. Valid components are
        the keys of :data:`COMPONENTS`; default :data:`DEFAULT_WEIGHTS`. Weights are
        re-normalised to sum to 1.
    scaling
        ``"percentile"`` (default), ``"minmax"`` or ``"zscore"``.
    combine
        ``"weighted_mean"`` (default) or ``"geometric_mean"`` (not with z-scores).
    deprivation
        ``"imd_without_crime"`` (default; avoids double-counting recorded crime) or ``"imd"``.
    venue_radius
        Metres: a venue this close counts as "near" (incidents and LSOAs). Default 200.
    kde_aggregate
        How grid-cell KDE values become an LSOA value: ``"max"`` (default) or ``"mean"``.
    top_n
        Size of the Board's list: ``p_top_n`` is the chance of being in the top ``top_n``.
    tier1_share, tier2_share
        Tier 1 = the top ``ceil(tier1_share x N)`` places, Tier 2 the next
        ``ceil(tier2_share x N)``, Tier 3 the rest. Defaults 0.05 and 0.10.
    draws
        Monte Carlo draws (default 1,000; 0 = no uncertainty, intervals equal the rank).
    seed
        Seed of the Monte Carlo.
    weight_noise
        ``"dirichlet"`` (default), ``"lognormal"`` or ``"none"``.
    dirichlet_concentration
        Dirichlet concentration: draws ~ Dirichlet(concentration x w); larger = tighter.
    lognormal_sigma
        Sigma of the multiplicative lognormal noise on each weight.
    resample_counts
        Poisson-resample incident counts in every draw (default true).
    on_missing
        ``"reweight"`` (default: a place missing a component is scored on the others, its
        weights re-normalised, and listed) or ``"error"``.
    sources
        Names of ``[[crime]]`` sources whose incidents are ranked (default all). Sources that
        cover only part of the area raise the places they cover; list the force-wide ones
        to compare places like for like.
    """

    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    scaling: str = "percentile"
    combine: str = "weighted_mean"
    deprivation: str = "imd_without_crime"
    venue_radius: float = 200.0
    kde_aggregate: str = "max"
    top_n: int = 20
    tier1_share: float = 0.05
    tier2_share: float = 0.10
    draws: int = 1000
    seed: int = 0
    weight_noise: str = "dirichlet"
    dirichlet_concentration: float = 100.0
    lognormal_sigma: float = 0.2
    resample_counts: bool = True
    on_missing: str = "reweight"
    sources: list[str] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", check_weights(self.weights))
        _check_options(
            scaling=self.scaling,
            combine=self.combine,
            deprivation=self.deprivation,
            venue_radius=self.venue_radius,
            kde_aggregate=self.kde_aggregate,
            top_n=self.top_n,
            tier1_share=self.tier1_share,
            tier2_share=self.tier2_share,
            draws=self.draws,
            weight_noise=self.weight_noise,
            dirichlet_concentration=self.dirichlet_concentration,
            lognormal_sigma=self.lognormal_sigma,
            on_missing=self.on_missing,
            where="[rank]",
            error=ConfigError,
        )


def _check_options(*, where: str, error: type[Exception], **o: Any) -> None:
    if "scaling" in o:
        _choice(o["scaling"], SCALINGS, f"{where} key 'scaling'", error)
    if "combine" in o:
        _choice(o["combine"], COMBINES, f"{where} key 'combine'", error)
        if o["combine"] == "geometric_mean" and o.get("scaling") == "zscore":
            raise error(
                f"{where}: combine = 'geometric_mean' needs positive scaled values; use scaling = "
                "'percentile' or 'minmax' with it, or combine = 'weighted_mean' with z-scores."
            )
    if "deprivation" in o:
        _choice(o["deprivation"], DEPRIVATION_MEASURES, f"{where} key 'deprivation'", error)
    if "kde_aggregate" in o:
        _choice(o["kde_aggregate"], KDE_AGGREGATES, f"{where} key 'kde_aggregate'", error)
    if "weight_noise" in o:
        _choice(o["weight_noise"], WEIGHT_NOISES, f"{where} key 'weight_noise'", error)
    if "on_missing" in o:
        _choice(o["on_missing"], ON_MISSING, f"{where} key 'on_missing'", error)
    if "venue_radius" in o and not o["venue_radius"] > 0:
        raise error(f"{where} key 'venue_radius' must be > 0 metres, got {o['venue_radius']!r}.")
    if "top_n" in o and not o["top_n"] >= 1:
        raise error(f"{where} key 'top_n' must be >= 1, got {o['top_n']!r}.")
    if "draws" in o and not o["draws"] >= 0:
        raise error(f"{where} key 'draws' must be >= 0 (0 = no Monte Carlo), got {o['draws']!r}.")
    t1, t2 = o.get("tier1_share", 0.05), o.get("tier2_share", 0.10)
    if not (0 < t1 <= 1 and 0 <= t2 <= 1 and t1 + t2 <= 1):
        raise error(
            f"{where}: tier1_share ({t1!r}) must be in (0, 1], tier2_share ({t2!r}) in [0, 1], and together at most 1."
        )
    if "dirichlet_concentration" in o and not o["dirichlet_concentration"] > 0:
        raise error(f"{where} key 'dirichlet_concentration' must be > 0, got {o['dirichlet_concentration']!r}.")
    if "lognormal_sigma" in o and not o["lognormal_sigma"] >= 0:
        raise error(f"{where} key 'lognormal_sigma' must be >= 0, got {o['lognormal_sigma']!r}.")


# --------------------------------------------------------------------------------------
# components
# --------------------------------------------------------------------------------------


def place_components(
    lsoa: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    *,
    venues: gpd.GeoDataFrame | None = None,
    deprivation: pd.DataFrame | None = None,
    detect_lsoa: pd.DataFrame | None = None,
    grid: gpd.GeoDataFrame | None = None,
    venue_radius: float = 200.0,
    deprivation_measure: str = "imd_without_crime",
    kde_aggregate: str = "max",
) -> gpd.GeoDataFrame:
    """Raw component values for every LSOA.

    Parameters
    ----------
    lsoa
        Study-area LSOAs (``study.lsoa``): ``lsoa_code, lsoa_name, district, population``,
        IoD2019 columns (``imd_rank``, ``imd_decile``, domain ranks, ``cyp_rank``,
        ``idaci_numerator``, ``children_0_15``; NaN where IoD2019 has no row) and geometry.
    incidents
        Canonical incident frame (counted on its ``lsoa_code``).
    venues
        NTE venues (points, ``lsoa_code``), or None (NTE components missing).
    deprivation
        IoD2019 for all of England (``study.deprivation``) so that the IMD without crime is
        ranked nationally; None uses ``lsoa``'s own rows (ranks then relative, with a warning).
    detect_lsoa
        The detect stage's LSOA frame with ``lsoa_code, gi_z, hotspot_class``; None leaves
        the Gi* component missing.
    grid
        The detect stage's grid with a ``kde`` column; None leaves the KDE component missing.
    venue_radius
        Metres (see :data:`VENUES_NEAR`, :data:`NEAR_VENUE_SHARE`).
    deprivation_measure
        ``"imd_without_crime"`` or ``"imd"`` (the official IMD rank, exponentially transformed).
    kde_aggregate
        ``"max"`` or ``"mean"`` of the cells whose centre lies in the LSOA; an LSOA containing
        no cell centre takes the cell under its representative point.

    Returns
    -------
    geopandas.GeoDataFrame
        ``lsoa_code, lsoa_name, district`` and :data:`COMPONENT_COLUMNS`, geometry; one row
        per LSOA in ``lsoa``'s order and index. Missing data stays NaN, never 0.

    Raises
    ------
    InputError
        ``lsoa`` lacks a required column or an option is invalid.
    """
    _check_options(
        venue_radius=venue_radius,
        deprivation=deprivation_measure,
        kde_aggregate=kde_aggregate,
        where="place_components",
        error=InputError,
    )
    for col in (C.LSOA_CODE, C.POPULATION):
        if col not in lsoa.columns:
            raise InputError(
                f"place_components: the lsoa frame has no {col!r} column; load it with hotspots.study.load_study."
            )
    from hotspots.units import lsoa_units

    idx = lsoa.index
    codes = lsoa[C.LSOA_CODE].astype(str).to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HotspotsWarning)  # missing population is reported below
        units = lsoa_units(incidents, lsoa)
    n = units["n"].to_numpy(dtype=float)
    harm = units["harm"].to_numpy(dtype=float)
    pop = pd.to_numeric(lsoa[C.POPULATION], errors="coerce").to_numpy(dtype=float)
    harm_rate = np.where(pop > 0, harm / np.where(pop > 0, pop, 1.0) * 1000.0, np.nan)
    area_km2 = lsoa.geometry.area.to_numpy() / 1e6

    nan = np.full(len(lsoa), np.nan)
    harm_near, venues_near, venue_density, near_share = nan.copy(), nan.copy(), nan.copy(), nan.copy()
    if venues is not None:
        harm_near = np.zeros(len(lsoa))
        if len(venues) and len(incidents):
            inc_i, _ = venues.sindex.query(incidents.geometry.values, predicate="dwithin", distance=venue_radius)
            near = np.zeros(len(incidents), dtype=bool)
            near[np.unique(inc_i)] = True
            hn = (
                pd.Series(incidents[C.HARM].to_numpy(dtype=float)[near])
                .groupby(incidents[C.LSOA_CODE].astype(str).to_numpy()[near])
                .sum()
            )
            harm_near = hn.reindex(codes).fillna(0.0).to_numpy()
        near_share = np.where(harm > 0, harm_near / np.where(harm > 0, harm, 1.0), 0.0)
        lsoa_i, _ = (
            venues.sindex.query(lsoa.geometry.values, predicate="dwithin", distance=venue_radius)
            if len(venues)
            else (np.array([], dtype=int), None)
        )
        venues_near = np.bincount(lsoa_i, minlength=len(lsoa)).astype(float)
        inside = venues[C.LSOA_CODE].astype(str).value_counts() if len(venues) else pd.Series(dtype=float)
        venue_density = inside.reindex(codes).fillna(0).to_numpy(dtype=float) / area_km2

    gi_z, gi_class = nan.copy(), pd.Series([None] * len(lsoa), dtype=object)
    if detect_lsoa is not None and GI_Z in detect_lsoa.columns:
        d = pd.DataFrame(detect_lsoa.drop(columns="geometry", errors="ignore"))
        d = d.assign(_code=d[C.LSOA_CODE].astype(str)).drop_duplicates("_code").set_index("_code")
        gi_z = pd.to_numeric(d[GI_Z], errors="coerce").reindex(codes).to_numpy(dtype=float)
        if HOTSPOT_CLASS in d.columns:
            gi_class = d[HOTSPOT_CLASS].astype(object).reindex(codes).reset_index(drop=True)

    kde = nan.copy()
    if grid is not None and KDE in grid.columns:
        kde = _kde_per_lsoa(lsoa, grid, how=kde_aggregate)

    dep, imd_nc_decile = nan.copy(), nan.copy()
    if deprivation_measure == "imd":
        if C.IMD_RANK in lsoa.columns:
            dep = exponential_transform(pd.to_numeric(lsoa[C.IMD_RANK], errors="coerce"), N_ENGLAND)
    else:
        source = deprivation if deprivation is not None else lsoa
        ranks_ok = all(f"{d}_rank" in source.columns for d in C.DOMAINS if d != "crime")
        if ranks_ok:
            src = pd.DataFrame(source.drop(columns="geometry", errors="ignore"))
            src = src[src[f"{C.DOMAINS[0]}_rank"].notna()]
            nc = imd_without_crime(src).set_index(C.LSOA_CODE)
            dep = nc[IMD_NC_SCORE].reindex(codes).to_numpy(dtype=float)
            imd_nc_decile = nc[IMD_NC_DECILE].astype(float).reindex(codes).to_numpy(dtype=float)
    if C.IDACI_NUMERATOR in lsoa.columns and C.CHILDREN_0_15 in lsoa.columns:
        idaci = idaci_rate(lsoa).to_numpy(dtype=float)
    else:
        idaci = nan.copy()
    cyp_rank = pd.to_numeric(lsoa[C.CYP_RANK], errors="coerce").to_numpy(dtype=float) if C.CYP_RANK in lsoa else nan
    cyp_need = 100.0 * (N_ENGLAND - cyp_rank + 1.0) / N_ENGLAND

    def numeric(name: str) -> np.ndarray:
        return pd.to_numeric(lsoa[name], errors="coerce").to_numpy(dtype=float) if name in lsoa else nan.copy()

    out = pd.DataFrame(
        {
            C.LSOA_CODE: codes,
            C.LSOA_NAME: lsoa[C.LSOA_NAME].to_numpy() if C.LSOA_NAME in lsoa else codes,
            C.DISTRICT: lsoa[C.DISTRICT].to_numpy() if C.DISTRICT in lsoa else None,
            POPULATION: pop,
            N_INCIDENTS: n.astype(np.int64),
            HARM: harm,
            HARM_NEAR: harm_near,
            HARM_RATE: harm_rate,
            GI_Z: gi_z,
            HOTSPOT_CLASS: gi_class.to_numpy(),
            KDE: kde,
            VENUES_NEAR: venues_near,
            VENUE_DENSITY: venue_density,
            NEAR_VENUE_SHARE: near_share,
            DEPRIVATION_SCORE: dep,
            IMD_DECILE: numeric(C.IMD_DECILE),
            IMD_NC_DECILE_COL: imd_nc_decile,
            IDACI_RATE_COL: idaci,
            CYP_NEED: cyp_need,
            CYP_DECILE: numeric(C.CYP_DECILE),
        },
        index=idx,
    )
    return gpd.GeoDataFrame(out, geometry=lsoa.geometry.values, crs=lsoa.crs, index=idx)


def _kde_per_lsoa(lsoa: gpd.GeoDataFrame, grid: gpd.GeoDataFrame, *, how: str) -> np.ndarray:
    """Aggregate grid-cell KDE to LSOAs: cells whose centre is inside, else the cell under the LSOA."""
    values = pd.to_numeric(grid[KDE], errors="coerce").to_numpy(dtype=float)
    cent = gpd.GeoSeries(grid.geometry.centroid.values, crs=grid.crs)
    poly = gpd.GeoSeries(lsoa.geometry.values, crs=lsoa.crs)
    cell_i, lsoa_i = poly.sindex.query(cent.values, predicate="within")
    agg = pd.Series(values[cell_i]).groupby(lsoa_i).agg(how)
    out = np.array(agg.reindex(np.arange(len(lsoa))).to_numpy(dtype=float), copy=True)
    empty = np.flatnonzero(np.isnan(out))
    if len(empty):
        rep = lsoa.geometry.iloc[empty].representative_point().values
        pt_i, c_i = grid.sindex.query(rep, predicate="within")
        first = pd.Series(c_i).groupby(pt_i).first()
        out[empty[first.index.to_numpy()]] = values[first.to_numpy()]
    return out


# --------------------------------------------------------------------------------------
# scaling and combination (vectorised over Monte Carlo draws: last axis = places)
# --------------------------------------------------------------------------------------


def scale(values: np.ndarray, method: str = "percentile") -> np.ndarray:
    """Scale raw component values so that higher = more need, comparably across components.

    Parameters
    ----------
    values
        ``(places,)`` or ``(draws, places)``; NaN = missing (stays NaN, ignored by the scaling).
    method
        ``"percentile"``: average rank / number of non-missing values, in (0, 1];
        ``"minmax"``: ``(x - min) / (max - min)`` in [0, 1] (0.5 when all equal);
        ``"zscore"``: ``(x - mean) / sd`` (population sd; 0 when all equal).

    Returns
    -------
    numpy.ndarray
        Same shape, float64. Each row is scaled on its own (as ArcGIS Calculate Composite
        Index does for one table). All three are non-decreasing in a place's own value.

    Examples
    --------
    >>> scale(np.array([10.0, 20.0, 20.0, np.nan]), "percentile").round(3).tolist()
    [0.333, 0.833, 0.833, nan]
    """
    _choice(method, SCALINGS, "scaling", InputError)
    x = np.atleast_2d(np.asarray(values))
    if x.dtype != np.float32:  # float32 (the Monte Carlo's working precision) is kept
        x = x.astype(np.float64)
    ok = ~np.isnan(x)
    complete = bool(ok.all())
    m = np.full((x.shape[0], 1), x.shape[1]) if complete else ok.sum(axis=1, keepdims=True)
    if method == "percentile":
        out = _average_rank(x) / np.maximum(m, 1)
    elif method == "minmax":
        lo = np.nanmin(np.where(ok, x, np.inf), axis=1, keepdims=True)
        hi = np.nanmax(np.where(ok, x, -np.inf), axis=1, keepdims=True)
        span = hi - lo
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(span > 0, (x - lo) / np.where(span > 0, span, 1.0), 0.5)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.nansum(x, axis=1, keepdims=True) / np.maximum(m, 1)
            sd = np.sqrt(np.nansum((x - mean) ** 2, axis=1, keepdims=True) / np.maximum(m, 1))
            out = np.where(sd > 0, (x - mean) / np.where(sd > 0, sd, 1.0), 0.0)
    if not complete:
        out = np.where(ok, out, np.nan)
    return out.reshape(np.shape(values))


def _average_rank(x: np.ndarray) -> np.ndarray:
    """Average ranks (1 = smallest) along the last axis, ties averaged, NaN last and ignored.

    One argsort per row, then the runs of equal values are found once over the flattened
    sorted matrix: the vectorised equivalent of ``scipy.stats.rankdata(method="average")``
    applied to every row at once.
    """
    d, p = x.shape
    nan = np.isnan(x)
    xs = np.where(nan, np.inf, x) if nan.any() else x
    order = np.argsort(xs, axis=1)  # ties get their average below, so order within ties is irrelevant
    flat = (order + (np.arange(d, dtype=order.dtype) * p)[:, None]).ravel()
    s = xs.ravel()[flat].reshape(d, p)
    new = np.empty((d, p), dtype=bool)
    new[:, 0] = True  # every row starts a run
    np.not_equal(s[:, 1:], s[:, :-1], out=new[:, 1:])
    starts = np.flatnonzero(new.ravel())
    length = np.diff(np.append(starts, d * p))
    avg = ((starts % p) + (length + 1) / 2.0).astype(x.dtype)
    r = np.empty(d * p, dtype=x.dtype)
    r[flat] = np.repeat(avg, length)
    return r.reshape(d, p)


def _combine(
    scaled: np.ndarray, weights: np.ndarray, available: np.ndarray, method: str
) -> tuple[np.ndarray, np.ndarray]:
    """Combine ``scaled (d, k, p)`` with ``weights (d, k)``; missing components re-weighted away.

    Returns the score ``(d, p)`` and the per-component terms ``(d, k, p)`` whose sum is the
    score (weighted mean) or the log of the score (geometric mean).
    """
    w = weights[:, :, None] * available[None, :, :]
    den = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(den[:, None, :] > 0, w / np.where(den[:, None, :] > 0, den[:, None, :], 1.0), 0.0)
        if method == "weighted_mean":
            terms = share * np.nan_to_num(scaled, nan=0.0)
            score = terms.sum(axis=1)
        else:
            terms = share * np.log(np.maximum(np.nan_to_num(scaled, nan=1.0), GEOMETRIC_FLOOR))
            score = np.exp(terms.sum(axis=1))
    score = np.where(den > 0, score, np.nan)
    return score, terms


def composite_score(
    components: pd.DataFrame,
    *,
    weights: dict[str, float] = DEFAULT_WEIGHTS,
    scaling: str = "percentile",
    combine: str = "weighted_mean",
) -> pd.Series:
    """The composite score of every place (no uncertainty); see :func:`rank_places`.

    Returns
    -------
    pandas.Series
        ``score`` aligned to ``components``; higher = higher priority.
    """
    w = check_weights(weights, where="composite_score weights", error=InputError)
    _check_options(scaling=scaling, combine=combine, where="composite_score", error=InputError)
    names = [k for k in COMPONENTS if w.get(k, 0) > 0]
    raw = _raw_matrix(components, names)
    scaled = scale(raw, scaling)
    score, _ = _combine(scaled[None], np.array([[w[k] for k in names]]), ~np.isnan(raw), combine)
    return pd.Series(score[0], index=components.index, name=SCORE)


def _raw_matrix(components: pd.DataFrame, names: list[str]) -> np.ndarray:
    missing = [COMPONENTS[k] for k in names if COMPONENTS[k] not in components.columns]
    if missing:
        raise InputError(
            f"the components frame has no column(s) {', '.join(map(repr, missing))}; build it with "
            "place_components, or give those components weight 0."
        )
    return np.vstack([pd.to_numeric(components[COMPONENTS[k]], errors="coerce").to_numpy(dtype=float) for k in names])


def _point_ranks(score: np.ndarray, tiebreak: np.ndarray) -> np.ndarray:
    """Ranks 1..N by descending score, ties by descending ``tiebreak`` then row order."""
    s = np.where(np.isnan(score), -np.inf, score)
    order = np.lexsort((np.arange(len(s)), -tiebreak, -s))
    r = np.empty(len(s), dtype=np.int64)
    r[order] = np.arange(1, len(s) + 1)
    return r


# --------------------------------------------------------------------------------------
# ranking with Monte Carlo uncertainty
# --------------------------------------------------------------------------------------


def rank_places(
    components: pd.DataFrame,
    *,
    weights: dict[str, float] = DEFAULT_WEIGHTS,
    scaling: str = "percentile",
    combine: str = "weighted_mean",
    top_n: int = 20,
    tier1_share: float = 0.05,
    tier2_share: float = 0.10,
    draws: int = 1000,
    seed: int = 0,
    weight_noise: str = "dirichlet",
    dirichlet_concentration: float = 100.0,
    lognormal_sigma: float = 0.2,
    resample_counts: bool = True,
    on_missing: str = "reweight",
    venue_radius: float = 200.0,
    deprivation_label: str = "IMD (excluding crime)",
) -> pd.DataFrame:
    """Score, rank and tier places, with Monte Carlo intervals, contributions and reasons.

    Parameters
    ----------
    components
        One row per place with ``lsoa_code`` and the raw component columns (see
        :data:`COMPONENTS`; :func:`place_components` builds it). Columns of components with
        weight 0 may be absent. For count resampling: ``n``, ``harm``, ``harm_near`` and
        ``population``.
    weights
        ``{component: weight}`` (non-negative, not all zero; unlisted = 0).
    scaling, combine
        See :func:`scale`; ``"weighted_mean"`` or ``"geometric_mean"`` (scaled values floored
        at :data:`GEOMETRIC_FLOOR`; needs percentile or min-max scaling).
    top_n
        Size of the Board's list for ``p_top_n``.
    tier1_share, tier2_share
        Tier rule (see :class:`RankConfig`).
    draws, seed
        Monte Carlo draws (0 = none) and seed; the same seed gives the same output, on any
        number of threads.
    weight_noise, dirichlet_concentration, lognormal_sigma
        Weight perturbation: ``w_d ~ Dirichlet(concentration x w / sum w)`` over the
        positive weights, or ``w_d = w x exp(N(0, sigma))``, or none. Zero weights stay zero.
    resample_counts
        Redraw each place's near-venue and other incident counts from Poisson(observed) in
        every draw, and recompute ``harm_rate``, ``harm_count`` and ``near_venue_share``.
    on_missing
        ``"reweight"``: a place missing a component (NaN) is scored on the others with
        their weights re-normalised, and listed in ``missing``; ``"error"``: raise.
    venue_radius, deprivation_label
        Only used in the reason text.

    Returns
    -------
    pandas.DataFrame
        (GeoDataFrame when ``components`` is one) in :data:`PLACES_COLUMNS` order, columns
        absent from ``components`` filled with NaN, sorted by ``rank``:
        ``rank`` (1..N permutation; ties by harm then input order), ``score``, ``rank_low``
        and ``rank_high`` (5th and 95th percentile of the draws' ranks, widened to contain
        ``rank``), ``p_top_n`` (0-1), ``tier`` (1-3), ``c_<component>`` (weighted mean:
        weight share x scaled value, summing to ``score``; geometric mean: weight share x
        ln(scaled), summing to ln ``score``; 0 for weight-0 components, NaN where missing),
        ``missing`` and ``reason``.

    Raises
    ------
    InputError
        Bad weights or options, a missing column, or missing data with ``on_missing="error"``.

    Notes
    -----
    Scaling and combination follow ArcGIS Pro's *Calculate Composite Index* (percentile,
    min-max and z-score scaling; weighted or geometric mean). Weighted-mean scores are
    non-decreasing in every component with positive weight, for all three scalings (the
    population z-score ``(x - mean) / sd`` has derivative ``((n-1)/n - z²/n) / sd >= 0``).
    In every draw the scaling is recomputed from that draw's values (each draw is a
    complete alternative world), and places are re-ranked; the draw loop is vectorised in
    blocks of draws (numpy), one seeded generator per block (``SeedSequence.spawn``), so
    results do not depend on the number of threads. Places with no recorded incident stay
    at zero under Poisson resampling: their uncertainty comes from the weights only.
    """
    w = check_weights(weights, where="rank_places weights", error=InputError)
    _check_options(
        scaling=scaling,
        combine=combine,
        top_n=top_n,
        tier1_share=tier1_share,
        tier2_share=tier2_share,
        draws=draws,
        weight_noise=weight_noise,
        dirichlet_concentration=dirichlet_concentration,
        lognormal_sigma=lognormal_sigma,
        on_missing=on_missing,
        where="rank_places",
        error=InputError,
    )
    if not isinstance(components, pd.DataFrame) or C.LSOA_CODE not in components.columns:
        raise InputError(
            "rank_places: `components` must be a DataFrame with an 'lsoa_code' column (see place_components)."
        )
    if len(components) == 0:
        raise InputError("rank_places: `components` is empty; there are no places to rank.")
    names = [k for k in COMPONENTS if w.get(k, 0) > 0]
    wv = np.array([w[k] for k in names])
    raw = _raw_matrix(components, names)
    available = ~np.isnan(raw)
    p = raw.shape[1]
    codes = components[C.LSOA_CODE].astype(str).to_numpy()
    lacking = ~available.all(axis=0)
    if lacking.any() and on_missing == "error":
        i = int(np.flatnonzero(lacking)[0])
        which = [names[k] for k in np.flatnonzero(~available[:, i])]
        raise InputError(
            f"rank_places: {int(lacking.sum())} place(s) lack data for a weighted component, e.g. "
            f"{codes[i]!r} ({', '.join(which)}). Set on_missing = 'reweight' to score them on the other "
            "components, or give those components weight 0."
        )
    empty = [names[k] for k in range(len(names)) if not available[k].any()]
    if empty:
        raise InputError(
            f"rank_places: component(s) {', '.join(map(repr, empty))} have no data for any place; "
            "give them weight 0 or supply the data (see place_components)."
        )

    scaled = scale(raw, scaling)
    score, terms = _combine(scaled[None], wv[None], available, combine)
    score, terms = score[0], terms[0]
    harm = (
        pd.to_numeric(components[HARM], errors="coerce").fillna(0).to_numpy(dtype=float)
        if HARM in components
        else np.zeros(p)
    )
    rank = _point_ranks(score, harm)

    n_top = min(top_n, p)
    if draws > 0:
        low, high, p_top = _monte_carlo(
            components,
            names,
            raw,
            available,
            wv,
            scaling=scaling,
            combine=combine,
            top_n=n_top,
            draws=draws,
            seed=seed,
            weight_noise=weight_noise,
            concentration=dirichlet_concentration,
            sigma=lognormal_sigma,
            resample=resample_counts,
        )
        widened = int(((rank < low) | (rank > high)).sum())
        low, high = np.minimum(low, rank), np.maximum(high, rank)
    else:
        low, high, p_top, widened = rank.copy(), rank.copy(), (rank <= n_top).astype(float), 0

    k1 = math.ceil(tier1_share * p)
    k2 = k1 + math.ceil(tier2_share * p)
    tier = np.where(rank <= k1, 1, np.where(rank <= k2, 2, 3))

    out = pd.DataFrame(index=components.index)
    for c in PLACE_ID_COLUMNS:
        out[c] = components[c].to_numpy() if c in components else None
    out[RANK] = rank
    out[SCORE] = score
    out[RANK_LOW] = low.astype(np.int64)
    out[RANK_HIGH] = high.astype(np.int64)
    out[P_TOP_N] = p_top
    out[TIER] = tier
    for c in COMPONENT_COLUMNS:
        out[c] = components[c].to_numpy() if c in components else np.nan
    for k in COMPONENTS:
        out[CONTRIB[k]] = terms[names.index(k)] if k in names else 0.0
        if k in names:
            out.loc[~available[names.index(k)], CONTRIB[k]] = np.nan
    missing = np.full(p, "", dtype=object)
    for j in np.flatnonzero(lacking):
        missing[j] = ";".join(names[k] for k in np.flatnonzero(~available[:, j]))
    out[MISSING] = missing
    out[REASON] = _reasons(out, names, wv, scaled, available, combine, venue_radius, deprivation_label)
    out.attrs["rank"] = {
        "places": p,
        "weights": dict(zip(names, (wv / wv.sum()).round(6).tolist())),
        "scaling": scaling,
        "combine": combine,
        "draws": draws,
        "seed": seed,
        "top_n": n_top,
        "tier_sizes": {"1": k1, "2": k2 - k1, "3": max(p - k2, 0)},
        "intervals_widened_to_contain_rank": widened,
        "places_with_missing_components": int(lacking.sum()),
    }
    out = out.sort_values(RANK, kind="stable")
    if isinstance(components, gpd.GeoDataFrame):
        geo = components.geometry.reindex(out.index)
        return gpd.GeoDataFrame(out, geometry=geo.values, crs=components.crs)
    return out


def _weight_draws(
    rng: np.random.Generator, w: np.ndarray, d: int, noise: str, concentration: float, sigma: float
) -> np.ndarray:
    w = w / w.sum()
    if noise == "none" or len(w) == 1:
        return np.broadcast_to(w, (d, len(w))).copy()
    if noise == "dirichlet":
        return rng.dirichlet(concentration * w, size=d)
    wd = w * np.exp(rng.normal(0.0, sigma, size=(d, len(w))))
    return wd / wd.sum(axis=1, keepdims=True)


def _poisson_harm(rng: np.random.Generator, lam: np.ndarray, has: np.ndarray, mh: np.ndarray, d: int) -> np.ndarray:
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


def _monte_carlo(
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
    weight_noise: str,
    concentration: float,
    sigma: float,
    resample: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ranks of every place in ``draws`` perturbed worlds; returns (5th pct, 95th pct, P(top n))."""
    k, p = raw.shape
    res = [i for i, nm in enumerate(names) if nm in RESAMPLED] if resample else []
    fixed = [i for i in range(k) if i not in res]
    if res:
        for c in (N_INCIDENTS, HARM, HARM_NEAR, POPULATION):
            if c not in components.columns and not (c == HARM_NEAR and "near_venue_share" not in names):
                raise InputError(
                    f"rank_places: resampling counts needs the column {c!r}; build components with "
                    "place_components or pass resample_counts=False."
                )
        n_obs = pd.to_numeric(components[N_INCIDENTS], errors="coerce").fillna(0).to_numpy(dtype=float)
        harm = pd.to_numeric(components[HARM], errors="coerce").fillna(0).to_numpy(dtype=float)
        hn = (
            pd.to_numeric(components[HARM_NEAR], errors="coerce").fillna(0).to_numpy(dtype=float)
            if HARM_NEAR in components
            else np.zeros(p)
        )
        pop = pd.to_numeric(components[POPULATION], errors="coerce").to_numpy(dtype=float)
        mean_harm = np.where(n_obs > 0, harm / np.where(n_obs > 0, n_obs, 1), 0.0)
        # split the count in proportion to harm near / away from venues (same mean harm)
        lam_near = np.where(harm > 0, n_obs * hn / np.where(harm > 0, harm, 1), 0.0)
        lam_far = np.maximum(n_obs - lam_near, 0.0)
        per_1000 = np.where(pop > 0, 1000.0 / np.where(pop > 0, pop, 1), np.nan).astype(np.float32)
        has_near, has_far = lam_near > 0, lam_far > 0
        mh32 = mean_harm.astype(np.float32)
    A = available.astype(float)

    def term(sc: np.ndarray) -> np.ndarray:
        if combine == "weighted_mean":
            return np.nan_to_num(sc, nan=0.0) if np.isnan(sc).any() else sc
        return np.log(np.maximum(np.nan_to_num(sc, nan=1.0), GEOMETRIC_FLOOR))

    fixed_terms = term(scale(raw[fixed], scaling)) * A[fixed] if fixed else np.empty((0, p))
    block = max(1, min(draws, int(2e6 // max(p, 1))))  # ~2 M cells per block keeps memory flat
    starts = list(range(0, draws, block))
    seqs = np.random.SeedSequence(seed).spawn(len(starts))
    ranks = np.empty((draws, p), dtype=np.int32)

    def run_block(b: int) -> None:
        rng = np.random.default_rng(seqs[b])
        d = min(block, draws - starts[b])
        wd = _weight_draws(rng, w, d, weight_noise, concentration, sigma)
        den = wd @ A
        num = wd[:, fixed] @ fixed_terms if fixed else np.zeros((d, p))
        if res:
            # float32 working precision; Poisson only where the expected count is positive
            near = _poisson_harm(rng, lam_near, has_near, mh32, d)
            total = _poisson_harm(rng, lam_far, has_far, mh32, d)
            total += near
            for i in res:
                nm = names[i]
                if nm == "harm_count":
                    v = total
                elif nm == "harm_rate":
                    v = total * per_1000
                else:
                    with np.errstate(invalid="ignore", divide="ignore"):
                        v = np.where(total > 0, near / np.where(total > 0, total, np.float32(1)), np.float32(0))
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

    workers = max(1, min(len(starts), os.cpu_count() or 1, 4))
    if workers == 1:
        for b in range(len(starts)):
            run_block(b)
    else:
        with ThreadPoolExecutor(max_workers=workers) as ex:
            list(ex.map(run_block, range(len(starts))))
    top = (ranks <= top_n).sum(axis=0)
    low, high = np.percentile(ranks, INTERVAL, axis=0, method="nearest")
    return low.astype(np.int64), high.astype(np.int64), top / draws


# --------------------------------------------------------------------------------------
# reasons
# --------------------------------------------------------------------------------------


def _top_pct(values: np.ndarray) -> np.ndarray:
    """'Top x %' of each value among the non-missing: ceil(100 x (values >= it) / m), at least 1."""
    ok = ~np.isnan(values)
    m = max(int(ok.sum()), 1)
    s = np.sort(values[ok])
    ge = m - np.searchsorted(s, np.where(ok, values, 0.0), side="left")
    return np.maximum(1, np.ceil(100.0 * ge / m)).astype(int)


def _reasons(
    out: pd.DataFrame,
    names: list[str],
    w: np.ndarray,
    scaled: np.ndarray,
    available: np.ndarray,
    combine: str,
    radius: float,
    dep_label: str,
) -> list[str]:
    """One plain-language line per place from its three largest weighted components."""
    strength = np.where(available, (w / w.sum())[:, None] * np.nan_to_num(scaled, nan=0.0), -np.inf)
    pct = {nm: _top_pct(pd.to_numeric(out[COMPONENTS[nm]], errors="coerce").to_numpy(dtype=float)) for nm in names}
    r0 = f"{radius:.0f} m"
    cols = {c: out[c].to_numpy() for c in COMPONENT_COLUMNS if c in out.columns}

    def phrase(nm: str, i: int) -> str:
        if nm == "harm_rate":
            return f"Top {pct[nm][i]}% harm-weighted violence per 1,000 residents ({cols[HARM_RATE][i]:.0f})"
        if nm == "harm_count":
            return f"Top {pct[nm][i]}% harm-weighted violence ({int(cols[N_INCIDENTS][i]):,} incidents)"
        if nm == "gi_z":
            cls = cols[HOTSPOT_CLASS][i]
            label = f"Gi* {cls}" if isinstance(cls, str) and cls.startswith("hot") else "Gi*"
            return f"Top {pct[nm][i]}% hot-spot strength ({label}, z = {cols[GI_Z][i]:.1f})"
        if nm == "kde":
            return f"Top {pct[nm][i]}% violence density (KDE {cols[KDE][i]:,.0f} per km²)"
        if nm == "venue_density":
            k = int(cols[VENUES_NEAR][i])
            return f"{k} NTE venue{'s' if k != 1 else ''} within {r0}"
        if nm == "near_venue_share":
            return f"{cols[NEAR_VENUE_SHARE][i]:.0%} of violence within {r0} of an NTE venue"
        if nm == "deprivation":
            dec = cols[IMD_NC_DECILE_COL][i] if "excluding" in dep_label else cols[IMD_DECILE][i]
            if pd.isna(dec):
                return f"Top {pct[nm][i]}% {dep_label} deprivation"
            return f"{dep_label} decile {int(dec)}"
        if nm == "idaci":
            return f"{cols[IDACI_RATE_COL][i]:.0%} of children in income-deprived families (derived IDACI)"
        return (
            f"Young people's education deprivation decile {int(cols[CYP_DECILE][i])}"
            if pd.notna(cols[CYP_DECILE][i])
            else f"Top {pct[nm][i]}% young people's education deprivation"
        )

    # the three largest weighted contributions among components where the place is in the top half
    top_half = np.vstack([pct[nm] <= 50 for nm in names])
    strength = np.where(top_half & (strength > 0), strength, -np.inf)
    ranked = np.argsort(-strength, axis=0, kind="stable")[:3].T
    lacking: np.ndarray = np.asarray(~available.all(axis=0))
    reasons = []
    for i in range(len(out)):
        order = [j for j in ranked[i] if np.isfinite(strength[j, i])]
        parts = [phrase(names[j], i) for j in order]
        miss = [names[j] for j in np.flatnonzero(~available[:, i])] if lacking[i] else []
        if miss:
            parts.append(f"no data for {', '.join(miss)} (scored on the rest)")
        if not order:
            parts.insert(0, "Lower priority: in the top half of places on no component")
        reasons.append("; ".join(parts))
    return reasons


# --------------------------------------------------------------------------------------
# district profiles
# --------------------------------------------------------------------------------------


def district_profiles(places: pd.DataFrame, *, top_n: int = 20, tier: int = 1) -> pd.DataFrame:
    """One row per district (Nottingham City and each county district) and a total row.

    Parameters
    ----------
    places
        Output of :func:`rank_places` (``district, population, n, harm, rank, tier``).
    top_n
        Places with ``rank <= top_n`` are counted in ``top_n_places``.
    tier
        Unused tiers are fine; ``tier1_places`` counts ``tier == 1``.

    Returns
    -------
    pandas.DataFrame
        :data:`DISTRICT_COLUMNS`: ``district`` (``"All"`` for the total row), ``lsoas``,
        ``population`` (mid-2015), ``incidents`` and ``harm`` (sums), ``rate_per_1000`` and
        ``harm_per_1000`` (per 1,000 residents), ``top_n_places``, ``tier1_places``,
        ``share_lsoas_50pct`` (smallest share of the district's LSOAs holding half its
        incidents, 0-1) and ``gini`` (Gini of incident counts over its LSOAs, 0-1), both from
        :mod:`hotspots.evaluate`, and ``median_rank``. Sorted by incidents, descending.
    """
    from hotspots.evaluate import gini, share_holding

    need = [C.DISTRICT, POPULATION, N_INCIDENTS, HARM, RANK, TIER]
    miss = [c for c in need if c not in places.columns]
    if miss:
        raise InputError(f"district_profiles: places have no column(s) {', '.join(map(repr, miss))}; use rank_places.")
    df = pd.DataFrame(places[need]).copy()
    df[C.DISTRICT] = df[C.DISTRICT].astype(object).where(df[C.DISTRICT].notna(), "(no district)")

    def row(name: str, g: pd.DataFrame) -> dict[str, Any]:
        pop = float(g[POPULATION].sum(min_count=1)) if g[POPULATION].notna().any() else float("nan")
        n = g[N_INCIDENTS].to_numpy(dtype=float)
        return {
            C.DISTRICT: name,
            "lsoas": len(g),
            POPULATION: pop,
            "incidents": int(n.sum()),
            HARM: float(g[HARM].sum()),
            "rate_per_1000": n.sum() / pop * 1000 if pop > 0 else float("nan"),
            "harm_per_1000": g[HARM].sum() / pop * 1000 if pop > 0 else float("nan"),
            "top_n_places": int((g[RANK] <= top_n).sum()),
            "tier1_places": int((g[TIER] == tier).sum()),
            "share_lsoas_50pct": share_holding(n, 0.5) if n.sum() > 0 else float("nan"),
            "gini": gini(n) if n.sum() > 0 else float("nan"),
            "median_rank": float(g[RANK].median()),
        }

    rows = [row(str(name), g) for name, g in df.groupby(C.DISTRICT, sort=True)]
    rows.sort(key=lambda r: -r["incidents"])
    rows.append(row("All", df))
    return pd.DataFrame(rows, columns=DISTRICT_COLUMNS)


def partial_sources(incidents: pd.DataFrame, lsoa: pd.DataFrame) -> list[str]:
    """Sources whose incidents fall in some districts of the study area but not all.

    Pooling such a source (e.g. a City-only extract) with force-wide ones raises the places
    it covers; the stage lists them in the manifest and ``[rank] sources`` can leave them out.
    """
    if C.DISTRICT not in lsoa.columns or len(incidents) == 0:
        return []
    district_of = pd.Series(lsoa[C.DISTRICT].to_numpy(), index=lsoa[C.LSOA_CODE].astype(str).to_numpy())
    want = set(district_of.dropna())
    d = incidents[C.LSOA_CODE].astype(str).map(district_of)
    frame = pd.DataFrame({"s": incidents[C.SOURCE].astype(str).to_numpy(), "d": d.to_numpy()}).dropna()
    return [str(src) for src, ds in frame.groupby("s", sort=True)["d"] if not set(ds) >= want]


# --------------------------------------------------------------------------------------
# pipeline stage
# --------------------------------------------------------------------------------------


def run_stage(ctx: Any) -> None:
    """Pipeline stage ``rank``: score and rank the LSOAs, profile districts, write outputs.

    Reads ``ctx.results["lsoa"]`` (Gi*) and ``ctx.results["grid"]`` (KDE) from detect; when
    detect has not run, computes Gi* on LSOA contiguity and a KDE on an automatic grid with
    the same library functions (recorded). Writes ``places.csv``, ``places.gpkg`` (layer
    ``places``) and ``districts.csv``; puts ``"places"``, ``"district_profiles"`` and
    ``"concentration"`` in ``ctx.results``; reports LSOAs with missing data (warning and
    manifest) and components with no data at all (dropped from the weights, warning).
    """
    from hotspots.evaluate import concentration, lorenz
    from hotspots.write import write_csv, write_layer

    cfg: RankConfig = ctx.config.stage("rank")
    study = ctx.study
    incidents = study.incidents
    notes: dict[str, Any] = {}
    if cfg.sources is not None:
        valid = [src.name for src in ctx.config.crime]
        unknown = [x for x in cfg.sources if x not in valid]
        if unknown or not cfg.sources:
            raise ConfigError(
                f"[rank] key 'sources' names unknown source(s) {', '.join(map(repr, unknown)) or '(none given)'}. "
                f"Valid [[crime]] names: {', '.join(valid)}."
            )
        incidents = incidents[incidents[C.SOURCE].isin(cfg.sources)]
        notes["sources"] = list(cfg.sources)
    partial = partial_sources(incidents, study.lsoa)
    if partial:
        notes["partial_coverage_sources"] = partial
        log.info("rank: sources covering only part of the area: %s", ", ".join(partial))
    detect_lsoa = ctx.results.get("lsoa")
    grid = ctx.results.get("grid")
    if cfg.sources is not None:  # detect used every source: recompute Gi* and KDE on the selected ones
        detect_lsoa, grid = None, None
    weights = dict(cfg.weights)
    if weights.get("gi_z", 0) > 0 and (detect_lsoa is None or GI_Z not in detect_lsoa.columns):
        from hotspots.gistar import hotspot_gistar
        from hotspots.units import lsoa_units

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HotspotsWarning)
            detect_lsoa = hotspot_gistar(lsoa_units(incidents, study.lsoa), value="harm")
        notes["gi_z_source"] = (
            "computed by rank (detect results absent or [rank] sources set): analytic Gi* of LSOA harm, "
            "queen contiguity"
        )
    if weights.get("kde", 0) > 0 and (grid is None or KDE not in grid.columns) and len(incidents):
        from hotspots.kde import hotspot_kde
        from hotspots.units import choose_cell_size, make_grid

        size = min(choose_cell_size(incidents, study.area), 200.0)
        grid = make_grid(study.area, cell_size=size)
        kde_values = hotspot_kde(incidents, grid)
        grid = grid.assign(**{KDE: kde_values.to_numpy()})
        notes["kde_source"] = (
            f"computed by rank (detect results absent or [rank] sources set): {size:.0f} m grid, bandwidth "
            f"{float(kde_values.attrs.get('bandwidth', float('nan'))):.0f} m"
        )
    comps = place_components(
        study.lsoa,
        incidents,
        venues=study.venues,
        deprivation=study.deprivation,
        detect_lsoa=detect_lsoa,
        grid=grid,
        venue_radius=cfg.venue_radius,
        deprivation_measure=cfg.deprivation,
        kde_aggregate=cfg.kde_aggregate,
    )
    unavailable = [k for k, v in weights.items() if v > 0 and comps[COMPONENTS[k]].isna().all()]
    if unavailable:
        msg = (
            f"rank: component(s) {', '.join(unavailable)} have no data in this study (e.g. no venues, "
            "deprivation or incidents); they are left out and the other weights re-normalised."
        )
        warnings.warn(msg, HotspotsWarning, stacklevel=2)
        for k in unavailable:
            weights.pop(k)
        if not any(v > 0 for v in weights.values()):
            raise ConfigError(f"[rank] weights: every weighted component lacks data ({', '.join(unavailable)}).")
        notes["unavailable_components"] = unavailable
    places = rank_places(
        comps,
        weights=weights,
        scaling=cfg.scaling,
        combine=cfg.combine,
        top_n=cfg.top_n,
        tier1_share=cfg.tier1_share,
        tier2_share=cfg.tier2_share,
        draws=cfg.draws,
        seed=cfg.seed,
        weight_noise=cfg.weight_noise,
        dirichlet_concentration=cfg.dirichlet_concentration,
        lognormal_sigma=cfg.lognormal_sigma,
        resample_counts=cfg.resample_counts,
        on_missing=cfg.on_missing,
        venue_radius=cfg.venue_radius,
        deprivation_label="IMD (excluding crime)" if cfg.deprivation == "imd_without_crime" else "IMD",
    )
    missing = places.loc[places[MISSING] != "", [C.LSOA_CODE, MISSING]]
    if len(missing):
        by_comp = {
            k: missing.loc[missing[MISSING].str.split(";").apply(lambda xs, k=k: k in xs), C.LSOA_CODE].tolist()
            for k in weights
        }
        by_comp = {k: v for k, v in by_comp.items() if v}
        warnings.warn(
            f"rank: {len(missing)} LSOA(s) lack data for some components ("
            + "; ".join(f"{k}: {len(v)}" for k, v in by_comp.items())
            + "); they are scored on their other components with re-normalised weights, not ranked last. "
            "See the 'missing' column and the manifest.",
            HotspotsWarning,
            stacklevel=2,
        )
        notes["missing_data"] = by_comp
    info = dict(places.attrs.get("rank", {}))
    auto = {k: notes[k] for k in ("gi_z_source", "kde_source") if k in notes}
    if auto:
        ctx.record("rank", **auto)
    ctx.extra.setdefault("rank", {}).update({**info, **notes})

    profiles = district_profiles(places, top_n=cfg.top_n)
    conc = concentration(places[N_INCIDENTS].to_numpy(dtype=float))
    conc["lorenz"] = lorenz(places[N_INCIDENTS].to_numpy(dtype=float))
    ctx.results["places"] = places
    ctx.results["district_profiles"] = profiles
    ctx.results["concentration"] = conc
    ctx.extra["rank"]["concentration_lsoa"] = {k: v for k, v in conc.items() if k != "lorenz"}

    ctx.output(write_csv(places, ctx.out / "places.csv"), "ranked LSOAs with intervals, components and reasons")
    ctx.output(write_layer(places, ctx.out / "places.gpkg", "places"), "ranked LSOAs (layer places)")
    ctx.output(
        write_csv(profiles, ctx.out / "districts.csv"), "district profiles: counts, rates, top places, concentration"
    )
    log.info("rank: %d places ranked; top: %s", len(places), places[C.LSOA_NAME].head(3).tolist())
