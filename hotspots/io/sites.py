"""Site files: existing bleed-control kits, defibrillators and candidate kit sites.

The site frame schema (``site_id, source, name`` + points, :data:`SITE_COLUMNS`) and
:func:`read_site_file`, which reads a ``[sites]`` point file (CSV with lon/lat or
easting/northing, GeoPackage or GeoJSON) into it, checking every row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.io.config import PointFile
from hotspots.io.coords import check_coordinate_ranges, to_bng
from hotspots.io.tables import TABLE_SUFFIXES, VECTOR_SUFFIXES, read_header, read_table, suffix
from hotspots.io.vector import read_vector_file

SITE_ID = "site_id"  # "venue:<venue_id>", "location:E<easting>N<northing>", "candidate:<id>", "kit:<id>", ...


SITE_SOURCE = "source"  # "venue", "incident_location" or "candidate" (or "existing_kit", "defibrillator")


SITE_NAME = "name"  # venue name, police.uk location text, or the user's name column


SITE_COLUMNS = [SITE_ID, SITE_SOURCE, SITE_NAME]
"""Columns of a candidate or fixed-site frame (plus ``geometry``)."""


SOURCE_VENUE = "venue"


SOURCE_LOCATION = "incident_location"


SOURCE_CANDIDATE = "candidate"


SOURCE_KIT = "existing_kit"


SOURCE_DEFIB = "defibrillator"


def _sites_frame(ids: Any, source: Any, names: Any, geometry: Any) -> gpd.GeoDataFrame:
    ids = pd.Series(ids, dtype=object).to_numpy()
    if isinstance(names, str):
        names = [names] * len(ids)
    if isinstance(source, str):
        source = [source] * len(ids)
    return gpd.GeoDataFrame(
        {
            SITE_ID: ids,
            SITE_SOURCE: pd.Series(source, dtype=object).to_numpy(),
            SITE_NAME: pd.Series(names, dtype=object).fillna("").astype(str).to_numpy(),
        },
        geometry=gpd.GeoSeries(geometry, crs=C.CRS).values,
        crs=C.CRS,
    )


def empty_sites() -> gpd.GeoDataFrame:
    """A site frame with no rows and the :data:`SITE_COLUMNS` schema."""
    return _sites_frame([], SOURCE_CANDIDATE, [], [])


def _check_unique(sites: pd.DataFrame, what: str) -> None:
    dup = sites[SITE_ID].duplicated(keep=False)
    if dup.any():
        ids = sites.loc[dup, SITE_ID].astype(str).unique()[:3]
        rows = np.flatnonzero(sites[SITE_ID].astype(str).eq(ids[0]).to_numpy()) + 1
        raise InputError(
            f"{what}: duplicate site_id {ids[0]!r} (rows {', '.join(map(str, rows[:5]))})"
            f"{' and others: ' + ', '.join(map(repr, ids[1:])) if len(ids) > 1 else ''}. "
            "Give every site a unique id."
        )


_LON = ("lon", "longitude", "lng", "long")


_LAT = ("lat", "latitude")


_EAST = ("easting", "x", "east", "bng_x")


_NORTH = ("northing", "y", "north", "bng_y")


def _find(columns: list[str], names: tuple[str, ...]) -> str | None:
    low = {c.lower(): c for c in columns}
    return next((low[n] for n in names if n in low), None)


def _vector_sites(path: Path, spec: PointFile, source: str, where: str) -> tuple[pd.DataFrame, list[str], Any, Any]:
    """(attribute table, columns, eastings, northings) of a vector site file."""
    gdf = read_vector_file(
        path,
        what=source,
        empty_hint=" Add sites, or remove the key from [sites].",
        crs=spec.crs,
        crs_hint=", or set crs in the [sites] table for this file",
    )
    cols = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    empty = gdf.geometry.isna() | gdf.geometry.is_empty
    if empty.any():
        i = int(np.flatnonzero(empty.to_numpy())[0])
        raise InputError(f"{where}: feature {i + 1} has no geometry. Remove it or fix its location.")
    geom = gdf.geometry.to_crs(C.CRS)
    if not (geom.geom_type == "Point").all():
        geom = geom.representative_point()
    return (
        pd.DataFrame(gdf.drop(columns=gdf.geometry.name)),
        cols,
        shapely.get_x(geom.values),
        shapely.get_y(geom.values),
    )


def _coordinate_columns(cols: list[str], spec: PointFile, where: str) -> tuple[str, str, str]:
    """(x column, y column, CRS) of a CSV site file."""
    lon, lat, east, north = _find(cols, _LON), _find(cols, _LAT), _find(cols, _EAST), _find(cols, _NORTH)
    if spec.x is not None and spec.y is not None:
        if spec.crs is None:
            raise InputError(
                f"{where}: set crs for the columns {spec.x!r}/{spec.y!r} in the [sites] table for this file "
                '(e.g. crs = "EPSG:4326" for lon/lat, "EPSG:27700" for easting/northing).'
            )
        xcol, ycol, crs = spec.x, spec.y, spec.crs
    elif lon and lat:
        xcol, ycol, crs = lon, lat, spec.crs or "EPSG:4326"
    elif east and north:
        xcol, ycol, crs = east, north, spec.crs or C.CRS
    else:
        raise InputError(
            f"{where}: no coordinate columns. Found {cols}; name them lon/lat or easting/northing, "
            "or set x, y and crs in the [sites] table for this file."
        )
    for col in (xcol, ycol):
        if col not in cols:
            raise InputError(f"{where}: no column {col!r}. Found {cols}.")
    return xcol, ycol, crs


def _table_sites(path: Path, spec: PointFile, where: str) -> tuple[pd.DataFrame, list[str], Any, Any]:
    """(table, columns, eastings, northings) of a CSV site file, every coordinate checked."""
    cols = read_header(path, encoding=spec.encoding)
    xcol, ycol, crs = _coordinate_columns(cols, spec, where)
    table, _ = read_table(path, encoding=spec.encoding, what=where)
    vals = {}
    for col in (xcol, ycol):
        num = pd.to_numeric(table[col], errors="coerce")
        bad = num.isna() | ~np.isfinite(num.to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"{where}: row {i + 1}, column {col!r}: {table[col].iloc[i]!r} is not a coordinate. "
                "Fix or remove the row."
            )
        vals[col] = num.to_numpy(dtype=float)
    x, y = vals[xcol], vals[ycol]
    origin = (x == 0) & (y == 0)
    if origin.any():
        i = int(np.flatnonzero(origin)[0])
        raise InputError(f"{where}: row {i + 1} is at (0, 0), a missing location. Fix or remove the row.")
    check_coordinate_ranges(x, y, crs, where, xcol, ycol, fix="set crs in the [sites] table for this file")
    bx, by = to_bng(x, y, crs)
    return table, cols, bx, by


def read_site_file(spec: PointFile | str | Path, *, source: str = SOURCE_CANDIDATE) -> gpd.GeoDataFrame:
    """Read a point file of sites (existing kits, defibrillators or candidate sites).

    A CSV needs coordinate columns: ``lon``/``lat`` (or ``longitude``/``latitude``, read as
    EPSG:4326), ``easting``/``northing`` (EPSG:27700), or the columns named by ``spec.x``/
    ``spec.y`` with ``spec.crs``. A GeoPackage/GeoJSON carries its CRS. Points are
    reprojected to EPSG:27700.

    Parameters
    ----------
    spec
        The file and its column mapping (a bare path uses the defaults of :class:`PointFile`).
    source
        Value of the ``source`` column, and prefix of ``site_id`` (``"<source>:<id>"``).

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`SITE_COLUMNS` in EPSG:27700, one row per file row.

    Raises
    ------
    InputError
        Missing file or column, unknown CRS, a coordinate that is missing or not a number
        (naming the row and column), whole-file coordinate mistakes (swapped lon/lat,
        metres labelled as degrees), or a repeated id.
    """
    if not isinstance(spec, PointFile):
        spec = PointFile(path=Path(spec))
    path = Path(spec.path)
    kind = suffix(path)
    where = f"{source} file {path}"
    if kind in VECTOR_SUFFIXES:
        table, cols, bx, by = _vector_sites(path, spec, source, where)
    elif kind in TABLE_SUFFIXES:
        table, cols, bx, by = _table_sites(path, spec, where)
    else:
        raise InputError(
            f"{where}: unknown file type {kind!r}. Use CSV (lon/lat or easting/northing), GeoPackage or GeoJSON."
        )
    idcol = spec.id or _find(cols, ("id", "site_id"))
    namecol = spec.name or _find(cols, ("name", "site_name"))
    for key, given in (("id", spec.id), ("name", spec.name)):
        if given is not None and given not in table.columns:
            raise InputError(f"{where}: no column {given!r} (the [sites] {key} column). Found {cols}.")
    raw_ids = table[idcol].astype(str) if idcol else pd.Series(np.arange(1, len(table) + 1)).astype(str)
    sites = _sites_frame(
        (f"{source}:" + raw_ids).to_numpy(), source, table[namecol] if namecol else "", gpd.points_from_xy(bx, by)
    )
    _check_unique(sites, where)
    return sites


def fixed_sites(
    existing_kits: gpd.GeoDataFrame | None, defibrillators: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame | None:
    """Existing kits and defibrillators as one site frame (None when neither is given).

    Raises
    ------
    InputError
        Two fixed sites share a ``site_id``.
    """
    parts = [f for f in (existing_kits, defibrillators) if f is not None]
    if not parts:
        return None
    fixed = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=C.CRS)
    _check_unique(fixed, "existing kits and defibrillators")
    return fixed
