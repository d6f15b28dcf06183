"""Raw component values of every LSOA for the rank stage (:func:`place_components`).

Importable as :func:`hotspots.rank.stage.place_components`.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.errors import HotspotsWarning, InputError
from hotspots.io.iod import national_n
from hotspots.prepare.deprivation import (
    IMD_NC_DECILE,
    IMD_NC_SCORE,
    exponential_transform,
    idaci_rate,
    imd_without_crime,
)
from hotspots.rank.config import (
    CYP_DECILE,
    CYP_NEED,
    DEPRIVATION_SCORE,
    GI_Z,
    HARM,
    HARM_NEAR,
    HARM_RATE,
    HOTSPOT_CLASS,
    IDACI_RATE_COL,
    IMD_DECILE,
    IMD_NC_DECILE_COL,
    KDE,
    N_INCIDENTS,
    NEAR_VENUE_SHARE,
    POPULATION,
    VENUE_DENSITY,
    VENUES_NEAR,
    check_options,
)


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
                f"place_components: the lsoa frame has no {col!r} column; load it with hotspots.prepare.study.load_study."
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
    n_england = national_n(deprivation if deprivation is not None else lsoa)  # 32,844 (IoD2019) or 33,755 (IoD2025)
    if deprivation_measure == "imd":
        if C.IMD_RANK in lsoa.columns:
            dep = exponential_transform(pd.to_numeric(lsoa[C.IMD_RANK], errors="coerce"), n_england)
    else:
        source = deprivation if deprivation is not None else lsoa
        ranks_ok = all(f"{d}_rank" in source.columns for d in C.DOMAINS if d != "crime")
        if ranks_ok:
            src = pd.DataFrame(source.drop(columns="geometry", errors="ignore"))
            src = src[src[f"{C.DOMAINS[0]}_rank"].notna()]
            nc = imd_without_crime(src).set_index(C.LSOA_CODE)
            dep = nc[IMD_NC_SCORE].reindex(codes).to_numpy(dtype=float)
            imd_nc_decile = nc[IMD_NC_DECILE].astype(float).reindex(codes).to_numpy(dtype=float)
    idaci = idaci_rate(lsoa, required=False).to_numpy(dtype=float)  # derived (IoD2019) or official (IoD2025)
    cyp_rank = pd.to_numeric(lsoa[C.CYP_RANK], errors="coerce").to_numpy(dtype=float) if C.CYP_RANK in lsoa else nan
    cyp_need = 100.0 * (n_england - cyp_rank + 1.0) / n_england

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
