"""Assign incidents and venues to the study area's LSOAs: by their own code, point in polygon, or nearest."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots import columns as C

log = logging.getLogger(__name__)


CODE_AGREEMENT_M = 1000.0
"""Metres a point may lie from the polygon of its own LSOA code and the code still be trusted.

On the real 2019-09 Nottinghamshire file the furthest is 164 m (generalised boundaries);
a point further away than this has wrong coordinates or a wrong code."""


def assign_areas(
    points: gpd.GeoSeries,
    codes: pd.Series,
    lsoa: gpd.GeoDataFrame,
    *,
    known_codes: set[str] | None = None,
    tolerance: float = 250.0,
    code_agreement: float = CODE_AGREEMENT_M,
) -> tuple[pd.Series, pd.Series]:
    """Assign each point to a study-area LSOA: by code, point in polygon, or nearest within ``tolerance``.

    Parameters
    ----------
    points
        Points in EPSG:27700.
    codes
        The row's own LSOA code (NaN when none).
    lsoa
        Study-area LSOA polygons with ``lsoa_code``.
    known_codes
        Every LSOA 2011 code known (e.g. all of England from IoD2019). A row whose code is
        known but not in the study area is outside it; a row whose code is unknown (a 2021
        code, a typo) is assigned spatially.
    tolerance
        Metres a point outside every polygon may be from the nearest and still be assigned.
    code_agreement
        Metres a point may be from the polygon of its own study-area code for the code to be
        used; further away, the row is assigned spatially (see :func:`code_disagrees`).
        ``inf`` skips the check (for codes the caller has already vetted).

    Returns
    -------
    lsoa_code, assigned : Series aligned to ``points``
        ``assigned`` is ``"code"``, ``"point_in_polygon"``, ``"nearest"``, or ``""``
        (outside the study area).
    """
    study_codes = pd.Index(lsoa[C.LSOA_CODE])
    codes = codes.astype(object).where(codes.notna(), None)
    clean_codes = codes.astype("string").str.strip()
    in_study = clean_codes.isin(study_codes).fillna(False).to_numpy(dtype=bool)
    if in_study.any() and np.isfinite(code_agreement):
        bad = code_disagrees(points, clean_codes, lsoa, distance=code_agreement)
        clean_codes = clean_codes.where(~bad)
        in_study = in_study & ~bad
    known = set(study_codes) | (known_codes or set())
    known_outside = (clean_codes.isin(known).fillna(False).to_numpy(dtype=bool)) & ~in_study
    out_code = np.asarray(np.where(in_study, clean_codes.to_numpy(dtype=object), None), dtype=object)
    assigned = np.asarray(np.where(in_study, C.ASSIGNED_BY_CODE, ""), dtype=object)

    todo = ~in_study & ~known_outside
    if todo.any():
        pts = gpd.GeoDataFrame(geometry=points.values[todo], crs=C.CRS)
        pts["_i"] = np.flatnonzero(todo)
        poly = lsoa[[C.LSOA_CODE, "geometry"]]
        hit = gpd.sjoin(pts, poly, how="inner", predicate="within")
        hit = hit[~hit["_i"].duplicated()]
        out_code[hit["_i"].to_numpy()] = hit[C.LSOA_CODE].to_numpy()
        assigned[hit["_i"].to_numpy()] = C.ASSIGNED_POINT_IN_POLYGON
        rest = pts[~pts["_i"].isin(hit["_i"])]
        if len(rest) and tolerance > 0:
            near = gpd.sjoin_nearest(rest, poly, how="inner", max_distance=tolerance)
            near = near[~near["_i"].duplicated()]
            out_code[near["_i"].to_numpy()] = near[C.LSOA_CODE].to_numpy()
            assigned[near["_i"].to_numpy()] = C.ASSIGNED_NEAREST
    return (
        pd.Series(out_code, index=points.index, dtype=object),
        pd.Series(assigned, index=points.index, dtype=object),
    )


def code_disagrees(
    points: gpd.GeoSeries, codes: pd.Series, lsoa: gpd.GeoDataFrame, *, distance: float = CODE_AGREEMENT_M
) -> np.ndarray:
    """Flag rows whose study-area LSOA code names a polygon further than ``distance`` metres from the point.

    Rows without a code, or with a code outside the study area, are never flagged.
    """
    codes = pd.Series(codes).reset_index(drop=True).astype("string").str.strip()
    polys = pd.Series(lsoa.geometry.values, index=pd.Index(lsoa[C.LSOA_CODE]))
    has = codes.isin(polys.index).fillna(False).to_numpy(dtype=bool)
    out = np.zeros(len(codes), dtype=bool)
    if has.any():
        idx = np.flatnonzero(has)
        geoms = polys.reindex(codes.to_numpy(dtype=object)[idx]).to_numpy()
        out[idx] = ~shapely.dwithin(np.asarray(points.values)[idx], geoms, distance)
    return out
