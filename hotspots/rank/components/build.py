"""Raw component values of every LSOA for the rank stage (:func:`place_components`)."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.errors import HotspotsWarning, InputError
from hotspots.prepare.deprivation import IMD_NC_DECILE, IMD_NC_RANK, IMD_NC_SCORE, idaci_rate, imd_without_crime
from hotspots.rank.columns import (
    COMPONENT_COLUMNS,
    CYP_DECILE,
    DEPRIVATION_RANKED,
    GI_Z,
    HARM,
    HARM_NEAR,
    HOTSPOT_CLASS,
    IMD_DECILE,
    IMD_NC_DECILE_COL,
    IMD_NC_RANK_COL,
    N_INCIDENTS,
    PLACE_ID_COLUMNS,
    POPULATION,
    VENUES_NEAR,
)
from hotspots.rank.components.base import ComponentContext
from hotspots.rank.components.registry import REGISTRY
from hotspots.rank.options import check_options


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
        ranked nationally; None uses ``lsoa``'s own rows (ranks then relative).
    detect_lsoa
        The detect stage's LSOA frame with ``lsoa_code, gi_z, hotspot_class``; None leaves
        the Gi* component missing.
    grid
        The detect stage's grid with a ``kde`` column; None leaves the KDE component missing.
    venue_radius
        Metres (see ``venues_near``, ``near_venue_share``).
    deprivation_measure
        ``"imd_without_crime"`` or ``"imd"`` (the official IMD rank, exponentially transformed).
    kde_aggregate
        ``"max"`` or ``"mean"`` of the cells whose centre lies in the LSOA; an LSOA containing
        no cell centre takes the cell under its representative point.

    Returns
    -------
    geopandas.GeoDataFrame
        ``lsoa_code, lsoa_name, district``, the context columns (``population, n, harm,
        harm_near, hotspot_class, venues_near, imd_decile, imd_nc_decile, imd_nc_rank,
        deprivation_ranked, cyp_decile``) and one column per registered component
        (:data:`hotspots.rank.components.registry.COMPONENTS`), geometry; one row per LSOA in
        ``lsoa``'s order and index. Missing data stays NaN, never 0.

    Raises
    ------
    InputError
        ``lsoa`` lacks a required column or an option is invalid.
    """
    check_options(
        venue_radius=venue_radius,
        deprivation=deprivation_measure,
        kde_aggregate=kde_aggregate,
        where="place_components",
        error=InputError,
    )
    for col in (C.LSOA_CODE, C.POPULATION):
        if col not in lsoa.columns:
            raise InputError(
                f"place_components: the lsoa frame has no {col!r} column; "
                "load it with hotspots.prepare.study.load_study."
            )
    ctx = component_context(
        lsoa,
        incidents,
        venues=venues,
        deprivation=deprivation,
        detect_lsoa=detect_lsoa,
        grid=grid,
        venue_radius=venue_radius,
        deprivation_measure=deprivation_measure,
        kde_aggregate=kde_aggregate,
    )
    idx = lsoa.index
    cols: dict[str, object] = {
        C.LSOA_CODE: ctx.codes,
        C.LSOA_NAME: lsoa[C.LSOA_NAME].to_numpy() if C.LSOA_NAME in lsoa else ctx.codes,
        C.DISTRICT: lsoa[C.DISTRICT].to_numpy() if C.DISTRICT in lsoa else None,
        POPULATION: ctx.population,
        N_INCIDENTS: ctx.n.astype(np.int64),
        HARM: ctx.harm,
        HARM_NEAR: ctx.harm_near,
        HOTSPOT_CLASS: ctx.hotspot_class,
        VENUES_NEAR: ctx.venues_near,
        IMD_DECILE: ctx.numeric(C.IMD_DECILE),
        IMD_NC_DECILE_COL: ctx.imd_nc_decile,
        IMD_NC_RANK_COL: ctx.imd_nc_rank,
        DEPRIVATION_RANKED: np.full(len(lsoa), ctx.ranked),
        CYP_DECILE: ctx.numeric(C.CYP_DECILE),
    }
    for comp in REGISTRY.values():
        cols[comp.column] = np.asarray(comp.compute(ctx), dtype=float)
    cols[GI_Z] = ctx.gi_z
    order = [*PLACE_ID_COLUMNS, *COMPONENT_COLUMNS, IMD_NC_RANK_COL, DEPRIVATION_RANKED]
    order += [c for c in cols if c not in order]  # registered components beyond the built-in ones
    out = pd.DataFrame({c: cols[c] for c in order}, index=idx)
    return gpd.GeoDataFrame(out, geometry=lsoa.geometry.values, crs=lsoa.crs, index=idx)


def component_context(
    lsoa: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    *,
    venues: gpd.GeoDataFrame | None,
    deprivation: pd.DataFrame | None,
    detect_lsoa: pd.DataFrame | None,
    grid: gpd.GeoDataFrame | None,
    venue_radius: float,
    deprivation_measure: str,
    kde_aggregate: str,
) -> ComponentContext:
    """The shared per-LSOA inputs of every component (see :class:`ComponentContext`)."""
    from hotspots.units import lsoa_units

    codes = lsoa[C.LSOA_CODE].astype(str).to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HotspotsWarning)  # missing population is reported by the stage
        units = lsoa_units(incidents, lsoa)
    harm = units["harm"].to_numpy(dtype=float)
    near, venues_near, inside = _venue_exposure(lsoa, incidents, venues, codes, venue_radius)
    gi_z, gi_class = _detect_columns(detect_lsoa, codes)
    nc_score, nc_decile, nc_rank, ranked = _imd_without_crime(lsoa, deprivation, codes)
    nan = np.full(len(lsoa), np.nan)
    return ComponentContext(
        lsoa=lsoa,
        incidents=incidents,
        venues=venues,
        deprivation=deprivation,
        detect_lsoa=detect_lsoa,
        grid=grid,
        venue_radius=venue_radius,
        deprivation_measure=deprivation_measure,
        kde_aggregate=kde_aggregate,
        codes=codes,
        n=units["n"].to_numpy(dtype=float),
        harm=harm,
        population=pd.to_numeric(lsoa[C.POPULATION], errors="coerce").to_numpy(dtype=float),
        area_km2=lsoa.geometry.area.to_numpy() / 1e6,
        harm_near=near,
        venues_near=venues_near,
        venues_inside=inside,
        gi_z=gi_z,
        hotspot_class=gi_class,
        imd_nc_score=nc_score,
        imd_nc_decile=nc_decile,
        imd_nc_rank=nc_rank,
        ranked=ranked,
        idaci=idaci_rate(lsoa, required=False).to_numpy(dtype=float),  # derived (IoD2019) or official (IoD2025)
        cyp_rank=pd.to_numeric(lsoa[C.CYP_RANK], errors="coerce").to_numpy(dtype=float) if C.CYP_RANK in lsoa else nan,
    )


def _venue_exposure(
    lsoa: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    venues: gpd.GeoDataFrame | None,
    codes: np.ndarray,
    radius: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(harm within ``radius`` of a venue, venues within ``radius`` of the LSOA, venues inside it)."""
    nan = np.full(len(lsoa), np.nan)
    if venues is None:
        return nan, nan.copy(), nan.copy()
    harm_near = np.zeros(len(lsoa))
    if len(venues) and len(incidents):
        inc_i, _ = venues.sindex.query(incidents.geometry.values, predicate="dwithin", distance=radius)
        near = np.zeros(len(incidents), dtype=bool)
        near[np.unique(inc_i)] = True
        hn = (
            pd.Series(incidents[C.HARM].to_numpy(dtype=float)[near])
            .groupby(incidents[C.LSOA_CODE].astype(str).to_numpy()[near])
            .sum()
        )
        harm_near = hn.reindex(codes).fillna(0.0).to_numpy()
    lsoa_i = (
        venues.sindex.query(lsoa.geometry.values, predicate="dwithin", distance=radius)[0]
        if len(venues)
        else np.array([], dtype=int)
    )
    venues_near = np.bincount(lsoa_i, minlength=len(lsoa)).astype(float)
    inside = venues[C.LSOA_CODE].astype(str).value_counts() if len(venues) else pd.Series(dtype=float)
    return harm_near, venues_near, inside.reindex(codes).fillna(0).to_numpy(dtype=float)


def _detect_columns(detect_lsoa: pd.DataFrame | None, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The detect stage's Gi* z and class per LSOA (NaN / None without them)."""
    gi_z = np.full(len(codes), np.nan)
    gi_class = np.array([None] * len(codes), dtype=object)
    if detect_lsoa is not None and GI_Z in detect_lsoa.columns:
        d = pd.DataFrame(detect_lsoa.drop(columns="geometry", errors="ignore"))
        d = d.assign(_code=d[C.LSOA_CODE].astype(str)).drop_duplicates("_code").set_index("_code")
        gi_z = pd.to_numeric(d[GI_Z], errors="coerce").reindex(codes).to_numpy(dtype=float)
        if HOTSPOT_CLASS in d.columns:
            gi_class = d[HOTSPOT_CLASS].astype(object).reindex(codes).to_numpy(dtype=object)
    return gi_z, gi_class


def _imd_without_crime(
    lsoa: gpd.GeoDataFrame, deprivation: pd.DataFrame | None, codes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """IMD without crime (score, decile, rank) per LSOA and how many LSOAs it was ranked among."""
    nan = np.full(len(codes), np.nan)
    source = deprivation if deprivation is not None else lsoa
    if not all(f"{d}_rank" in source.columns for d in C.DOMAINS if d != "crime"):
        return nan, nan.copy(), nan.copy(), float("nan")
    src = pd.DataFrame(source.drop(columns="geometry", errors="ignore"))
    src = src[src[f"{C.DOMAINS[0]}_rank"].notna()]
    if len(src) == 0:
        return nan, nan.copy(), nan.copy(), float("nan")
    nc = imd_without_crime(src).set_index(C.LSOA_CODE)
    return (
        nc[IMD_NC_SCORE].reindex(codes).to_numpy(dtype=float),
        nc[IMD_NC_DECILE].astype(float).reindex(codes).to_numpy(dtype=float),
        nc[IMD_NC_RANK].astype(float).reindex(codes).to_numpy(dtype=float),
        float(len(src)),
    )
