"""Inputs of the bleed-kit siting (private helpers of :mod:`hotspots.sites.kits`).

The site frame schema (``site_id, source, name`` + points), the ``[sites]`` point files
(:class:`PointFile`, :func:`read_site_file`), the demand points incidents are aggregated
into (:func:`demand_points`) and the candidate kit sites (:func:`kit_candidates`). The
public names are re-exported by :mod:`hotspots.sites.kits`, where the API is documented.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.errors import ConfigError, InputError
from hotspots.io.load import TABLE_SUFFIXES, VECTOR_SUFFIXES, _suffix, read_header, read_table, read_vector_file
from hotspots.prepare.clean import check_coordinate_ranges, to_bng

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------
# Site frames
# --------------------------------------------------------------------------------------

SITE_ID = "site_id"  # "venue:<venue_id>", "location:E<easting>N<northing>", "candidate:<id>", "kit:<id>", ...
SITE_SOURCE = "source"  # "venue", "incident_location" or "candidate" (or "existing_kit", "defibrillator")
SITE_NAME = "name"  # venue name, police.uk location text, or the user's name column

SITE_COLUMNS = [SITE_ID, SITE_SOURCE, SITE_NAME]
"""Columns of a candidate or fixed-site frame (plus ``geometry``)."""

DEMAND_COLUMNS = [C.LOCATION, "n", C.HARM]
"""Columns of :func:`demand_points` (plus ``geometry``)."""

SOURCE_VENUE = "venue"
SOURCE_LOCATION = "incident_location"
SOURCE_CANDIDATE = "candidate"
SOURCE_KIT = "existing_kit"
SOURCE_DEFIB = "defibrillator"
CANDIDATE_SOURCES = ("venues", "incident_locations", "candidate_sites")

DEFAULT_EXCLUDE_LOCATIONS = ("hospital", "prison", "police station")
"""Incident locations that are not kit candidates by default (case-insensitive regular
expressions searched in the police.uk location text): places with clinical or first-aid
staff of their own, where a community kit makes little sense."""


def _xy(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    geom = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    return np.column_stack([shapely.get_x(geom.values), shapely.get_y(geom.values)]).astype(float)


def _check_frame(gdf: Any, what: str, points: bool = True) -> None:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"`{what}` must be a GeoDataFrame, got {type(gdf).__name__}.")
    if gdf.crs is None:
        raise InputError(f"`{what}` has no CRS. Set it (e.g. gdf.set_crs('EPSG:27700')) first.")
    if points and len(gdf) and not (gdf.geometry.geom_type == "Point").all():
        bad = gdf.geometry.geom_type[gdf.geometry.geom_type != "Point"]
        raise InputError(f"`{what}` row {bad.index[0]!r} is a {bad.iloc[0]}, not a Point.")


def _to_bng(gdf: gpd.GeoDataFrame, what: str, points: bool = True) -> gpd.GeoDataFrame:
    _check_frame(gdf, what, points)
    if not gdf.crs.equals(C.CRS):
        log.info("%s reprojected from %s to %s", what, gdf.crs.to_string(), C.CRS)
        return gdf.to_crs(C.CRS)
    return gdf


def _sites_frame(ids: Any, source: Any, names: Any, geometry: Any) -> gpd.GeoDataFrame:
    ids = pd.Series(ids, dtype=object).to_numpy()
    if isinstance(names, str):
        names = [names] * len(ids)
    if isinstance(source, str):
        source = [source] * len(ids)
    return gpd.GeoDataFrame(
        {SITE_ID: ids, SITE_SOURCE: pd.Series(source, dtype=object).to_numpy(),
         SITE_NAME: pd.Series(names, dtype=object).fillna("").astype(str).to_numpy()},
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


# --------------------------------------------------------------------------------------
# Demand and candidates
# --------------------------------------------------------------------------------------


def demand_points(incidents: gpd.GeoDataFrame, *, weights: str = C.HARM) -> gpd.GeoDataFrame:
    """Aggregate incidents at the same (snapped) location into demand points.

    police.uk snaps every crime to one of a fixed set of anonymised public locations, so many
    incidents share a point: each distinct point becomes one demand point carrying the
    incident count and the summed harm.

    Parameters
    ----------
    incidents
        Canonical incident frame (any projected or geographic CRS; reprojected to EPSG:27700).
    weights
        Column summed into ``harm`` (default the harm weight).

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`DEMAND_COLUMNS`: ``location`` (most frequent location text at the point, ""
        when none), ``n`` (incidents), ``harm`` (summed weight), EPSG:27700, ordered by
        easting then northing.

    Raises
    ------
    InputError
        No incidents with harm > 0 (nothing to cover), or the weight column is missing.
    """
    inc = _to_bng(incidents, "incidents")
    if weights not in inc.columns:
        raise InputError(f"incidents have no column {weights!r} to weigh demand by.")
    w = pd.to_numeric(inc[weights], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    if len(inc) == 0 or not (w > 0).any():
        raise InputError(
            "no demand inside the study area: no incidents with harm > 0 to cover. Check the [study] "
            "date window and the [scope] mapping (every in-scope incident has harm > 0)."
        )
    xy = _xy(inc)
    ok = np.isfinite(xy).all(axis=1) & (w > 0)
    xy, w = xy[ok], w[ok]
    loc = inc[C.LOCATION].astype(object).to_numpy()[ok] if C.LOCATION in inc.columns else np.full(len(w), None)
    uniq, inverse = np.unique(xy, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    harm = np.bincount(inverse, weights=w, minlength=len(uniq))
    n = np.bincount(inverse, minlength=len(uniq))
    names = pd.DataFrame({"k": inverse, "loc": loc}).dropna()
    top = names.groupby("k")["loc"].agg(lambda s: s.value_counts().index[0]) if len(names) else pd.Series(dtype=object)
    location = pd.Series(top.reindex(range(len(uniq))).to_numpy(dtype=object)).fillna("").to_numpy(dtype=object)
    return gpd.GeoDataFrame(
        {C.LOCATION: location, "n": n.astype(np.int64), C.HARM: harm},
        geometry=gpd.points_from_xy(uniq[:, 0], uniq[:, 1]),
        crs=C.CRS,
    )


def _location_pattern(patterns: tuple[str, ...], exc: type[Exception], where: str) -> re.Pattern[str] | None:
    """One case-insensitive regex matching any of ``patterns`` (None when there are none)."""
    for pat in patterns:
        try:
            one = re.compile(pat, re.IGNORECASE)
        except re.error as err:
            raise exc(
                f"{where}: {pat!r} is not a regular expression ({err}). Escape special characters "
                "with a backslash, in a TOML literal string: 'St\\. Ann'."
            ) from None
        if one.search(""):
            raise exc(f"{where}: {pat!r} matches an empty location text, so it would exclude every "
                      "location. Give a word or phrase, e.g. 'hospital'.")
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{pat})" for pat in patterns), re.IGNORECASE)


def kit_candidates(
    incidents: gpd.GeoDataFrame,
    *,
    venues: gpd.GeoDataFrame | None = None,
    extra: gpd.GeoDataFrame | None = None,
    sources: tuple[str, ...] = CANDIDATE_SOURCES,
    exclude_locations: tuple[str, ...] = DEFAULT_EXCLUDE_LOCATIONS,
) -> gpd.GeoDataFrame:
    """Candidate kit sites: NTE venues, incident locations and user sites.

    Parameters
    ----------
    incidents
        Incident frame; its distinct (snapped) points are the public locations incidents
        are recorded at (``site_id`` ``"location:E<easting>N<northing>"``, name the
        location text).
    venues
        Venue frame (``venue_id, name``); ``site_id`` ``"venue:<venue_id>"``.
    extra
        User candidate sites as read by :func:`read_site_file` (``site_id, source, name``).
    sources
        Which of ``"venues"``, ``"incident_locations"``, ``"candidate_sites"`` to use.
    exclude_locations
        Case-insensitive regular expressions searched in the location text of the incident
        locations (default :data:`DEFAULT_EXCLUDE_LOCATIONS`: hospital, prison, police
        station); a location matching any is dropped as a candidate. Venues and user sites
        are never dropped, and demand is not affected.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`SITE_COLUMNS` in EPSG:27700. ``attrs["excluded_locations"]`` is the number
        of incident locations dropped by ``exclude_locations``.

    Raises
    ------
    InputError
        Two candidates share a ``site_id``; a pattern is not a regular expression or
        matches an empty location text.
    """
    pats = (exclude_locations,) if isinstance(exclude_locations, str) else tuple(exclude_locations)
    exclude = _location_pattern(pats, InputError, "exclude_locations")
    excluded = 0
    parts = []
    if "venues" in sources and venues is not None and len(venues):
        v = _to_bng(venues, "venues")
        parts.append(_sites_frame("venue:" + v[C.VENUE_ID].astype(str), SOURCE_VENUE,
                                  v[C.VENUE_NAME] if C.VENUE_NAME in v else "", v.geometry.values))
    if "incident_locations" in sources and len(incidents):
        d = demand_points(incidents)
        xy = _xy(d)
        ids = [f"location:E{x:.0f}N{y:.0f}" for x, y in xy]
        loc = _sites_frame(ids, SOURCE_LOCATION, d[C.LOCATION], d.geometry.values)
        loc = loc.drop_duplicates(SITE_ID)  # points within a metre share an id: keep one
        if exclude is not None:
            drop = loc[SITE_NAME].str.contains(exclude).to_numpy(dtype=bool)
            excluded = int(drop.sum())
            if excluded:
                names = loc.loc[drop, SITE_NAME].value_counts()
                log.info("%d incident locations excluded as kit candidates: %s", excluded,
                         ", ".join(f"{k!r} ({v})" for k, v in names.head(10).items()))
            loc = loc[~drop]
        parts.append(loc)
    if "candidate_sites" in sources and extra is not None and len(extra):
        e = _to_bng(extra, "candidate sites")
        parts.append(_sites_frame(e[SITE_ID], e[SITE_SOURCE] if SITE_SOURCE in e else SOURCE_CANDIDATE,
                                  e[SITE_NAME] if SITE_NAME in e else "", e.geometry.values))
    if not parts:
        out = empty_sites()
    else:
        out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=C.CRS)
        _check_unique(out, "candidate sites")
    out.attrs["excluded_locations"] = excluded
    return out


# --------------------------------------------------------------------------------------
# Point files
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PointFile:
    """A point file of sites: CSV (lon/lat or easting/northing) or GeoPackage/GeoJSON.

    Attributes
    ----------
    path
        The file, relative to the config file.
    crs
        CRS of ``x``/``y`` in a CSV. Defaults to EPSG:4326 when the CSV has ``lon``/``lat``
        (or ``longitude``/``latitude``) columns and EPSG:27700 when it has
        ``easting``/``northing``; required when ``x``/``y`` name other columns, and for a
        vector file that carries no CRS.
    id, name, x, y
        Column names. ``id`` defaults to ``id`` when present, else the row number; ``name``
        to ``name`` when present.
    encoding
        Text encoding of a CSV (default UTF-8, falling back to Windows-1252 with a warning).
    """

    path: Path
    crs: str | None = None
    id: str | None = None
    name: str | None = None
    x: str | None = None
    y: str | None = None
    encoding: str | None = None

    def __post_init__(self) -> None:
        if not Path(self.path).exists():
            raise ConfigError(f"site file not found: {self.path}. Paths are relative to the config file.")
        if (self.x is None) != (self.y is None):
            raise ConfigError(f"site file {self.path}: give both x and y column names, or neither.")


_LON = ("lon", "longitude", "lng", "long")
_LAT = ("lat", "latitude")
_EAST = ("easting", "x", "east", "bng_x")
_NORTH = ("northing", "y", "north", "bng_y")


def _find(columns: list[str], names: tuple[str, ...]) -> str | None:
    low = {c.lower(): c for c in columns}
    return next((low[n] for n in names if n in low), None)


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
    suffix = _suffix(path)
    where = f"{source} file {path}"
    if suffix in VECTOR_SUFFIXES:
        gdf = read_vector_file(path, what=source, empty_hint=" Add sites, or remove the key from [sites].",
                               crs=spec.crs, crs_hint=", or set crs in the [sites] table for this file")
        cols = [str(c) for c in gdf.columns if c != gdf.geometry.name]
        empty = gdf.geometry.isna() | gdf.geometry.is_empty
        if empty.any():
            i = int(np.flatnonzero(empty.to_numpy())[0])
            raise InputError(f"{where}: feature {i + 1} has no geometry. Remove it or fix its location.")
        geom = gdf.geometry.to_crs(C.CRS)
        if not (geom.geom_type == "Point").all():
            geom = geom.representative_point()
        bx, by = shapely.get_x(geom.values), shapely.get_y(geom.values)
        table = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    elif suffix in TABLE_SUFFIXES:
        cols = read_header(path, encoding=spec.encoding)
        lon, lat, east, north = _find(cols, _LON), _find(cols, _LAT), _find(cols, _EAST), _find(cols, _NORTH)
        xcol: str
        ycol: str
        crs: str
        if spec.x is not None and spec.y is not None:
            xcol, ycol = spec.x, spec.y
            if spec.crs is None:
                raise InputError(
                    f"{where}: set crs for the columns {xcol!r}/{ycol!r} in the [sites] table for this file "
                    '(e.g. crs = "EPSG:4326" for lon/lat, "EPSG:27700" for easting/northing).'
                )
            crs = spec.crs
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
        check_coordinate_ranges(x, y, crs, where, xcol, ycol)
        bx, by = to_bng(x, y, crs)
        geom = gpd.GeoSeries(gpd.points_from_xy(bx, by), crs=C.CRS)
    else:
        raise InputError(f"{where}: unknown file type {suffix!r}. Use CSV (lon/lat or easting/northing), "
                         "GeoPackage or GeoJSON.")
    idcol = spec.id or _find(cols, ("id", "site_id"))
    namecol = spec.name or _find(cols, ("name", "site_name"))
    for key, given in (("id", spec.id), ("name", spec.name)):
        if given is not None and given not in table.columns:
            raise InputError(f"{where}: no column {given!r} (the [sites] {key} column). Found {cols}.")
    raw_ids = table[idcol].astype(str) if idcol else pd.Series(np.arange(1, len(table) + 1)).astype(str)
    sites = _sites_frame((f"{source}:" + raw_ids).to_numpy(), source,
                         table[namecol] if namecol else "", gpd.points_from_xy(bx, by))
    _check_unique(sites, where)
    return sites
