"""Where detached youth outreach should work: scored LSOAs grouped into zones.

:func:`outreach_zones` ranks LSOAs by youth-relevant violence, youth deprivation and
hotspot strength (:func:`outreach_places`), groups the top places into contiguous zones,
and gives each a focal point (the densest grid cell's centre) and a plain-language reason.

Every verb is a pure function on GeoDataFrames in EPSG:27700. The pipeline stage
:func:`hotspots.sites.stage.site` runs it beside the bleed-control kits; the pipeline writes
``outreach.csv`` and layer ``outreach`` of ``sites.gpkg``.
"""

from __future__ import annotations

import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.errors import HotspotsWarning, InputError
from hotspots.prepare.scope import YOUTH_CATEGORIES
from hotspots.sites.candidates import _to_bng, _xy
from hotspots.sites.config import DEFAULT_SCORE_WEIGHTS, _check_weights

# --------------------------------------------------------------------------------------
# Output columns
# --------------------------------------------------------------------------------------

ZONE_ID = C.ZONE_ID  # "Z01", "Z02", ... in rank order
RANK = C.RANK  # 1 = first priority
LSOA_CODES = "lsoa_codes"  # LSOA 2011 codes in the zone, ";"-separated, best-scoring first
YOUTH_HARM = "youth_harm"  # harm of youth-relevant incidents in the zone (relative harm units)
IDACI = "idaci_rate"  # derived IDACI: children 0-15 in income-deprived families / children 0-15 (0-1)
FOCAL_X = "focal_x"  # easting of the focal point (centre of the zone's densest grid cell), metres
FOCAL_Y = "focal_y"  # northing of the focal point, metres
REASON = C.REASON  # plain-language reason for the zone

OUTREACH_COLUMNS = [ZONE_ID, RANK, LSOA_CODES, YOUTH_HARM, IDACI, FOCAL_X, FOCAL_Y, REASON]
"""Columns of :func:`outreach_zones` (plus ``geometry``), ``outreach.csv`` and layer ``outreach``."""

SCORE = "outreach_score"
PLACE_COLUMNS = [C.LSOA_CODE, "youth_n", YOUTH_HARM, IDACI, C.CYP_RANK, "gi_z", SCORE]
"""Columns of :func:`outreach_places` (plus ``geometry``)."""


# --------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------
# Scoring and zones
# --------------------------------------------------------------------------------------

_CATEGORY_LABEL = {
    "robbery": "robbery",
    "robbery_personal": "personal robbery",
    "weapons_possession": "weapons possession",
    "knife_possession": "knife possession",
    "violence_sexual": "violence and sexual offences",
    "gbh_serious_wounding": "GBH / serious wounding",
    "abh": "ABH",
}


def _youth(incidents: gpd.GeoDataFrame, categories: tuple[str, ...]) -> gpd.GeoDataFrame:
    inc = _to_bng(incidents, "incidents")
    for col in (C.SCOPE, C.HARM, C.LSOA_CODE):
        if col not in inc.columns:
            raise InputError(f"incidents have no column {col!r}; pass the canonical incident frame (study.incidents).")
    return inc[inc[C.SCOPE].isin(list(categories)) & (pd.to_numeric(inc[C.HARM], errors="coerce") > 0)]


def _pct_rank(s: pd.Series) -> pd.Series:
    return s.rank(pct=True, method="average")


def outreach_places(
    incidents: gpd.GeoDataFrame,
    lsoa: gpd.GeoDataFrame,
    *,
    hot: pd.DataFrame | None = None,
    categories: tuple[str, ...] = YOUTH_CATEGORIES,
    weights: dict[str, float] | None = None,
) -> gpd.GeoDataFrame:
    """Score every LSOA for detached youth outreach.

    Parameters
    ----------
    incidents
        Canonical incident frame (``scope``, ``harm``, ``lsoa_code``).
    lsoa
        LSOA frame with IoD2019 columns (``idaci_numerator``, ``children_0_15``, ``cyp_rank``),
        e.g. ``study.lsoa``.
    hot
        Hotspot strength per LSOA: a frame with ``lsoa_code`` and ``gi_z`` (the detect
        stage's LSOA layer). None: Gi* z of youth-relevant harm on queen contiguity
        (:func:`hotspots.detect.gistar.gistar`).
    categories
        Scope categories counted as youth-relevant violence.
    weights
        Component weights (:data:`DEFAULT_SCORE_WEIGHTS`).

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`PLACE_COLUMNS` + geometry, one row per LSOA, best first: ``youth_n``
        (youth-relevant incidents), ``youth_harm``, ``idaci_rate`` (derived, NaN where
        suppressed), ``cyp_rank`` (1 = most deprived in England), ``gi_z`` and
        ``outreach_score`` in [0, 1].

    Notes
    -----
    Each component is turned into a percentile rank among the LSOAs (higher = more need:
    more youth harm, stronger hotspot, higher IDACI rate, lower CYP rank), and the score is
    their weighted mean over the components an LSOA has (a suppressed IDACI numerator
    drops that component for that LSOA rather than counting as zero).
    """
    from hotspots.detect import gistar
    from hotspots.prepare.deprivation import idaci_rate

    w = dict(DEFAULT_SCORE_WEIGHTS if weights is None else weights)
    _check_weights(w, InputError, "outreach weights")
    areas = _to_bng(lsoa, "lsoa", points=False)
    if C.LSOA_CODE not in areas.columns or len(areas) == 0:
        raise InputError("`lsoa` must be the LSOA frame (study.lsoa) with an 'lsoa_code' column and rows.")
    youth = _youth(incidents, categories)
    codes = areas[C.LSOA_CODE].astype(str)
    g = youth.groupby(youth[C.LSOA_CODE].astype(str))[C.HARM]
    n = g.size().reindex(codes).fillna(0).astype(np.int64).to_numpy()
    harm = g.sum().reindex(codes).fillna(0.0).to_numpy(dtype=float)
    idaci = idaci_rate(areas, required=False).to_numpy(dtype=float)
    cyp = (
        pd.to_numeric(areas[C.CYP_RANK], errors="coerce").to_numpy(dtype=float)
        if C.CYP_RANK in areas.columns
        else np.full(len(areas), np.nan)
    )
    if hot is not None:
        if C.LSOA_CODE not in hot.columns or "gi_z" not in hot.columns:
            raise InputError("`hot` must have columns 'lsoa_code' and 'gi_z' (the detect stage's LSOA layer).")
        z = hot.set_index(hot[C.LSOA_CODE].astype(str))["gi_z"].reindex(codes).to_numpy(dtype=float)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HotspotsWarning)
            z, _ = gistar.gistar(harm, gistar.contiguity_weights(areas))
    comp = pd.DataFrame(
        {
            "youth_harm": _pct_rank(pd.Series(harm)),
            "hotspot": _pct_rank(pd.Series(z)),
            "idaci": _pct_rank(pd.Series(idaci)),
            "cyp": _pct_rank(pd.Series(-cyp)),
        }
    )
    wv = pd.Series(w).reindex(comp.columns).fillna(0.0)
    have = comp.notna()
    score = (comp.fillna(0.0) * wv).sum(axis=1) / (have * wv).sum(axis=1).replace(0.0, np.nan)
    out = gpd.GeoDataFrame(
        {
            C.LSOA_CODE: codes.to_numpy(dtype=object),
            "youth_n": n,
            YOUTH_HARM: harm,
            IDACI: idaci,
            C.CYP_RANK: cyp,
            "gi_z": z,
            SCORE: score.fillna(0.0).to_numpy(),
        },
        geometry=areas.geometry.values,
        crs=areas.crs,
    )
    return out.sort_values([SCORE, YOUTH_HARM, C.LSOA_CODE], ascending=[False, False, True], kind="stable")


def _focal_cells(youth: gpd.GeoDataFrame, grid: gpd.GeoDataFrame | None, cell_size: float) -> pd.DataFrame:
    """Per youth incident: the centre of its grid cell and the cell's density tie-breaker."""
    xy = _xy(youth) if len(youth) else np.zeros((0, 2))
    if grid is not None and len(grid):
        g = _to_bng(grid, "grid", points=False)
        pt, cell = g.sindex.query(
            gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=C.CRS).values, predicate="intersects"
        )
        first = pd.Series(cell, index=pt).groupby(level=0).first()
        pos = np.full(len(xy), -1, dtype=np.int64)
        pos[first.index.to_numpy()] = first.to_numpy()
        found = pos >= 0
        cent = shapely.centroid(g.geometry.values)
        cx = np.where(found, shapely.get_x(cent[np.maximum(pos, 0)]), np.nan)
        cy = np.where(found, shapely.get_y(cent[np.maximum(pos, 0)]), np.nan)
        tie = (
            pd.to_numeric(g["kde"], errors="coerce").to_numpy(dtype=float)[np.maximum(pos, 0)]
            if "kde" in g.columns
            else np.zeros(len(xy))
        )
        tie = np.where(found, tie, 0.0)
    else:
        found = np.zeros(len(xy), dtype=bool)
        cx = cy = tie = np.full(len(xy), np.nan)
    # incidents outside every cell (or no grid): a cell_size lattice aligned to the National Grid
    lx = (np.floor(xy[:, 0] / cell_size) + 0.5) * cell_size
    ly = (np.floor(xy[:, 1] / cell_size) + 0.5) * cell_size
    return pd.DataFrame(
        {
            "cx": np.where(found, cx, lx),
            "cy": np.where(found, cy, ly),
            "tie": np.nan_to_num(tie),
            C.LSOA_CODE: youth[C.LSOA_CODE].astype(str).to_numpy(),
            C.HARM: youth[C.HARM].to_numpy(dtype=float),
            C.SCOPE: youth[C.SCOPE].astype(str).to_numpy(),
        }
    )


def outreach_zones(
    incidents: gpd.GeoDataFrame,
    lsoa: gpd.GeoDataFrame,
    *,
    grid: gpd.GeoDataFrame | None = None,
    hot: pd.DataFrame | None = None,
    categories: tuple[str, ...] = YOUTH_CATEGORIES,
    top: int = 25,
    weights: dict[str, float] | None = None,
    cell_size: float = 100.0,
) -> gpd.GeoDataFrame:
    """Contiguous zones for detached youth outreach, with a focal point and a reason each.

    The ``top`` best-scoring LSOAs with youth-relevant violence (:func:`outreach_places`)
    are grouped into zones: connected components of queen contiguity among them (libpysal
    ``Graph.build_contiguity`` via :func:`hotspots.detect.gistar.contiguity_weights`). Zones are
    ranked by their youth-relevant harm.

    Parameters
    ----------
    incidents, lsoa, hot, categories, weights
        As :func:`outreach_places`.
    grid
        Grid cells (the detect stage's ``grid``; ``kde`` breaks ties). The focal point is
        the centre of the zone's cell holding the most youth-relevant harm. None: a
        ``cell_size`` lattice aligned to the National Grid.
    top
        Number of top LSOAs grouped into zones.
    cell_size
        Cell size in metres of the fallback lattice.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`OUTREACH_COLUMNS` + geometry (union of the zone's LSOAs), EPSG:27700, one
        row per zone in rank order: ``lsoa_codes`` best-scoring first, ``youth_harm`` summed,
        ``idaci_rate`` children-weighted over LSOAs whose numerator is not suppressed (NaN if
        all are), ``focal_x``/``focal_y`` in metres, ``reason`` in plain language.

    Raises
    ------
    InputError
        ``top`` < 1, no youth-relevant incidents, or frames without the needed columns.
    """
    from scipy.sparse.csgraph import connected_components

    from hotspots.detect import gistar

    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise InputError(f"top must be a whole number of LSOAs >= 1, got {top!r}.")
    if not cell_size > 0:
        raise InputError(f"cell_size must be > 0 metres, got {cell_size!r}.")
    places = outreach_places(incidents, lsoa, hot=hot, categories=categories, weights=weights)
    youth = _youth(incidents, categories)
    if len(youth) == 0:
        raise InputError(
            f"no youth-relevant incidents (scope categories {', '.join(categories)}) in the study area. "
            "Check [outreach] categories against the [scope] mapping."
        )
    chosen = places[places[YOUTH_HARM] > 0].head(int(top))
    chosen = chosen.to_crs(C.CRS) if chosen.crs is not None and not chosen.crs.equals(C.CRS) else chosen
    ncomp, label = connected_components(gistar.contiguity_weights(chosen), directed=False)
    cells = _focal_cells(youth, grid, cell_size)
    areas = lsoa.set_index(lsoa[C.LSOA_CODE].astype(str))
    total_youth = float(youth[C.HARM].sum())
    months = youth[C.MONTH].dropna().astype(str) if C.MONTH in youth.columns else pd.Series(dtype=str)
    period = f"{months.min()} to {months.max()}" if len(months) else "the study period"
    from hotspots.io.iod import national_n
    from hotspots.prepare.deprivation import has_idaci, idaci_rate

    all_rates = idaci_rate(lsoa, required=False).to_numpy(dtype=float)
    idaci_source = "official" if "idaci_rate" in lsoa.columns else "derived" if has_idaci(lsoa) else ""
    n_england = national_n(lsoa)
    median_rate = float(np.nanmedian(all_rates)) if np.isfinite(all_rates).any() else np.nan
    rows = []
    for k in range(ncomp):
        member = chosen.iloc[np.flatnonzero(label == k)]
        codes = member[C.LSOA_CODE].astype(str).tolist()
        zc = cells[cells[C.LSOA_CODE].isin(codes)]
        per_cell = zc.groupby(["cx", "cy"]).agg(h=(C.HARM, "sum"), tie=("tie", "max")).reset_index()
        best = per_cell.sort_values(["h", "tie", "cx", "cy"], ascending=[False, False, True, True]).iloc[0]
        sub = areas.loc[codes]
        rate = _zone_idaci(sub)
        rows.append(
            {
                "codes": codes,
                YOUTH_HARM: float(member[YOUTH_HARM].sum()),
                IDACI: rate,
                FOCAL_X: float(best["cx"]),
                FOCAL_Y: float(best["cy"]),
                "focal_harm": float(best["h"]),
                "score": float(member[SCORE].max()),
                "gi_z": float(np.nanmax(member["gi_z"].to_numpy(dtype=float)))
                if np.isfinite(member["gi_z"].to_numpy(dtype=float)).any()
                else np.nan,
                "cyp": float(np.nanmin(member[C.CYP_RANK].to_numpy(dtype=float)))
                if np.isfinite(member[C.CYP_RANK].to_numpy(dtype=float)).any()
                else np.nan,
                "by_scope": zc.groupby(C.SCOPE).size().to_dict(),
                "district": sorted(sub[C.DISTRICT].dropna().astype(str).unique()) if C.DISTRICT in sub else [],
                "idaci_source": idaci_source,
                "n_england": n_england,
                "geometry": shapely.union_all(member.geometry.values),
            }
        )
    rows.sort(key=lambda r: (-r[YOUTH_HARM], -r["score"], r["codes"][0]))
    out = []
    for i, r in enumerate(rows, start=1):
        out.append(
            {
                ZONE_ID: f"Z{i:02d}",
                RANK: i,
                LSOA_CODES: ";".join(r["codes"]),
                YOUTH_HARM: r[YOUTH_HARM],
                IDACI: r[IDACI],
                FOCAL_X: r[FOCAL_X],
                FOCAL_Y: r[FOCAL_Y],
                REASON: _reason(r, total_youth, period, median_rate, cell_size if grid is None else None),
                "geometry": r["geometry"],
            }
        )
    if not out:
        return gpd.GeoDataFrame({c: [] for c in OUTREACH_COLUMNS}, geometry=[], crs=C.CRS)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=C.CRS)[[*OUTREACH_COLUMNS, "geometry"]]


def _zone_idaci(sub: pd.DataFrame) -> float:
    """Children-weighted IDACI rate of a zone's LSOAs: from the numerators (IoD2019) or the official rates (IoD2025)."""
    kids = pd.to_numeric(sub[C.CHILDREN_0_15], errors="coerce") if C.CHILDREN_0_15 in sub else None
    if C.IDACI_NUMERATOR in sub and kids is not None:
        num = pd.to_numeric(sub[C.IDACI_NUMERATOR], errors="coerce")
        if num.notna().any():
            den = kids[num.notna()].sum()
            return float(num.sum() / den) if den > 0 else np.nan
    elif "idaci_rate" in sub and kids is not None:
        rate = pd.to_numeric(sub["idaci_rate"], errors="coerce")
        ok = rate.notna() & kids.notna()
        den = kids[ok].sum()
        return float((rate[ok] * kids[ok]).sum() / den) if den > 0 else np.nan
    return np.nan


def _reason(r: dict[str, Any], total: float, period: str, median_rate: float, lattice: float | None) -> str:
    n = len(r["codes"])
    where = f"{n} adjacent LSOAs" if n > 1 else "1 LSOA"
    if r["district"]:
        where += f" in {', '.join(r['district'])}"
    counts = sorted(r["by_scope"].items(), key=lambda kv: -kv[1])
    mix = ", ".join(f"{v:,} {_CATEGORY_LABEL.get(k, k.replace('_', ' '))}" for k, v in counts)
    parts = [
        f"{where}: youth-relevant harm {r[YOUTH_HARM]:,.0f} ({mix}), "
        f"{100 * r[YOUTH_HARM] / total:.1f} % of the study area's, {period}."
    ]
    if np.isfinite(r[IDACI]):
        rel = f" (study median {100 * median_rate:.0f} %)" if np.isfinite(median_rate) else ""
        label = "IDACI" if r["idaci_source"] == "official" else "derived IDACI"
        parts.append(f"{100 * r[IDACI]:.0f} % of children live in income-deprived families ({label}){rel}.")
    elif r["idaci_source"] == "derived":
        parts.append("IDACI numerator suppressed for these LSOAs.")
    elif r["idaci_source"]:
        parts.append("IDACI suppressed for these LSOAs.")
    if np.isfinite(r["cyp"]):
        parts.append(
            f"Children and Young People sub-domain rank {r['cyp']:,.0f} of {r['n_england']:,} (1 = most deprived)."
        )
    if np.isfinite(r["gi_z"]):
        parts.append(f"Hotspot strength Gi* z up to {r['gi_z']:.1f}.")
    cell = f"{lattice:g} m lattice cell" if lattice else "grid cell"
    parts.append(
        f"Start at the {cell} centred on E {r[FOCAL_X]:,.0f}, N {r[FOCAL_Y]:,.0f} "
        f"(youth-relevant harm {r['focal_harm']:,.0f} there)."
    )
    return " ".join(parts)
