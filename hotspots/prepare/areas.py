"""Assign incidents and venues to the study area's LSOAs: by their own code, point in polygon, or nearest."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.io.raw import RawFile
from hotspots.prepare.config import DEFAULT_MAX_OUTSIDE_SHARE
from hotspots.prepare.rows import colname, shown

log = logging.getLogger(__name__)


CODE_AGREEMENT_M = 1000.0
"""Metres a point may lie from the polygon of its own LSOA code and the code still be trusted.

On the real 2019-09 Nottinghamshire file the furthest is 164 m (generalised boundaries);
a point further away than this has wrong coordinates or a wrong code."""


def is_member(text: pd.Series, values: Collection[str]) -> np.ndarray:
    """Which strings of ``text`` are in ``values`` (missing never), as a boolean array.

    The same answer as ``text.isin(values)`` on a string Series, by Python set look-ups:
    pandas' arrow-string ``isin`` converts every one of ``values`` to a scalar first, which
    took most of cleaning's time with the ~33,000 codes of England as ``values``.
    """
    known = values if isinstance(values, set | frozenset) else set(values)
    arr = text.to_numpy(dtype=object, na_value=None)
    return np.fromiter((v is not None and v in known for v in arr), dtype=bool, count=len(arr))


def stripped_codes(codes: pd.Series) -> np.ndarray:
    """LSOA codes as an object array of stripped strings, None where missing (as the area checks compare them)."""
    text = pd.Series(codes).astype("string").str.strip()
    return text.to_numpy(dtype=object, na_value=None)


def stripped_members(codes: np.ndarray, values: set[str] | frozenset[str]) -> np.ndarray:
    """:func:`is_member` on a :func:`stripped_codes` array."""
    return np.fromiter((v is not None and v in values for v in codes), dtype=bool, count=len(codes))


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
    study = set(lsoa[C.LSOA_CODE])
    clean_codes = stripped_codes(codes)
    in_study = stripped_members(clean_codes, study)
    if in_study.any() and np.isfinite(code_agreement):
        bad = stripped_disagree(np.asarray(points.values), clean_codes, in_study, lsoa, code_agreement)
        clean_codes = clean_codes.copy()
        clean_codes[bad] = None
        in_study = in_study & ~bad
    out_code, assigned = assign_stripped(
        points, clean_codes, in_study, lsoa, known=study | (known_codes or set()), tolerance=tolerance
    )
    return (
        pd.Series(out_code, index=points.index, dtype=object),
        pd.Series(assigned, index=points.index, dtype=object),
    )


def assign_stripped(
    points: gpd.GeoSeries,
    codes: np.ndarray,
    in_study: np.ndarray,
    lsoa: gpd.GeoDataFrame,
    *,
    known: set[str],
    tolerance: float,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`assign_areas` on vetted codes: (lsoa_code, assigned) as object arrays.

    ``codes`` are :func:`stripped_codes` already checked against their points, ``in_study``
    which of them are study-area codes, ``known`` every known code (study area included).
    """
    known_outside = stripped_members(codes, known) & ~in_study
    out_code = np.full(len(codes), None, dtype=object)
    out_code[in_study] = codes[in_study]
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
    return out_code, assigned


def code_disagrees(
    points: gpd.GeoSeries, codes: pd.Series, lsoa: gpd.GeoDataFrame, *, distance: float = CODE_AGREEMENT_M
) -> np.ndarray:
    """Flag rows whose study-area LSOA code names a polygon further than ``distance`` metres from the point.

    Rows without a code, or with a code outside the study area, are never flagged.
    """
    clean_codes = stripped_codes(pd.Series(codes).reset_index(drop=True))
    has = stripped_members(clean_codes, set(lsoa[C.LSOA_CODE]))
    return stripped_disagree(np.asarray(points.values), clean_codes, has, lsoa, distance)


def stripped_disagree(
    points: np.ndarray, codes: np.ndarray, has: np.ndarray, lsoa: gpd.GeoDataFrame, distance: float
) -> np.ndarray:
    """:func:`code_disagrees` on :func:`stripped_codes` (``has``: which are study-area codes)."""
    out = np.zeros(len(codes), dtype=bool)
    if has.any():
        polys = pd.Series(lsoa.geometry.values, index=pd.Index(lsoa[C.LSOA_CODE]))
        idx = np.flatnonzero(has)
        geoms = polys.reindex(codes[idx]).to_numpy()
        out[idx] = ~shapely.dwithin(points[idx], geoms, distance)
    return out


@dataclass(frozen=True)
class AreaRules:
    """How rows are placed in the study area, and how many may fall outside it.

    Attributes
    ----------
    lsoa
        Study-area LSOAs (``lsoa_code``, geometry) in EPSG:27700.
    known_codes
        Every LSOA code known beyond the study area (England from the deprivation file,
        England and Wales from a national boundary file), or None; see :func:`assign_areas`.
    tolerance
        Metres for nearest-polygon assignment.
    max_outside_share
        Largest share (0-1) of a file's located in-scope rows that may lie outside the
        area; more is an :class:`InputError` (another area's file). None: no limit.
    area
        How the area is named in messages, e.g. ``"the study area (Camden, 133 LSOAs)"``.
    """

    lsoa: gpd.GeoDataFrame
    known_codes: set[str] | None = None
    tolerance: float = 250.0
    max_outside_share: float | None = DEFAULT_MAX_OUTSIDE_SHARE
    area: str = "the study area"


def check_outside(rf: RawFile, idx: np.ndarray, outside: np.ndarray, rules: AreaRules, *, what: str) -> None:
    """Raise :class:`InputError` when too many of a file's located rows lie outside the study area.

    ``what`` names the rows (``"located in-scope rows"``, ``"located venues"``).
    """
    located, n_out = len(idx), int(outside.sum())
    if not located or not n_out:
        return
    df = rf.frame
    xcol, ycol = colname(rf, "x"), colname(rf, "y")
    i = int(idx[np.flatnonzero(outside)[0]])
    first = f"{rf.row_label(i)}, {xcol} = {shown(df['x'].iloc[i])}, {ycol} = {shown(df['y'].iloc[i])}"
    if n_out == located:
        b = rules.lsoa.to_crs("EPSG:4326").total_bounds
        raise InputError(
            f"{rf.path}: none of the {located} {what} falls inside the study area "
            f"(the LSOA boundaries cover longitude {b[0]:.3f}..{b[2]:.3f}, latitude {b[1]:.3f}..{b[3]:.3f}; "
            f"first: {first}). Check the coordinate columns and crs, or the [boundaries] file."
        )
    share = n_out / located
    limit = rules.max_outside_share
    if limit is not None and share > limit:
        raise InputError(
            f"{rf.path}: {n_out:,} of the {located:,} {what} ({share:.1%}) lie outside {rules.area}, more than "
            f"[study] max_outside_share ({limit:.0%}) (first: {first}). Is the file for another area? Use the file "
            "for this area; if it deliberately covers a larger area, set [study] max_outside_share higher"
            + (" (or clip_to_area = true in [venues])." if rf.source == "venues" else ".")
        )
