"""Inputs of the bleed-kit siting (private helpers of :mod:`hotspots.sites.kits`).

The site frame schema (``site_id, source, name`` + points), the ``[sites]`` point files
(:class:`PointFile`, :func:`read_site_file`), the demand points incidents are aggregated
into (:func:`demand_points`) and the candidate kit sites (:func:`kit_candidates`). The
public names are re-exported by :mod:`hotspots.sites.kits`, where the API is documented.
"""

from __future__ import annotations

import logging
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.io.sites import (
    SITE_ID,
    SITE_NAME,
    SITE_SOURCE,
    SOURCE_CANDIDATE,
    SOURCE_LOCATION,
    SOURCE_VENUE,
    _check_unique,
    _sites_frame,
    empty_sites,
)
from hotspots.locations import aggregate_locations, most_frequent, unique_xy
from hotspots.validate import check_points, check_projected

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------
# Site frames
# --------------------------------------------------------------------------------------


DEMAND_COLUMNS = [C.LOCATION, "n", C.HARM]
"""Columns of :func:`demand_points` (plus ``geometry``)."""

CANDIDATE_SOURCES = ("venues", "incident_locations", "candidate_sites")

DEFAULT_EXCLUDE_LOCATIONS = ("hospital", "prison", "police station")
"""Incident locations that are not kit candidates by default (case-insensitive regular
expressions searched in the police.uk location text): places with clinical or first-aid
staff of their own, where a community kit makes little sense."""


def _xy(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    geom = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    return np.column_stack([shapely.get_x(geom.values), shapely.get_y(geom.values)]).astype(float)


def _to_bng(gdf: gpd.GeoDataFrame, what: str, points: bool = True) -> gpd.GeoDataFrame:
    """``gdf`` checked for distance work in metres: a GeoDataFrame in a projected CRS (points when asked).

    A geographic CRS is an error that says how to reproject, as in every other verb. The kit
    verbs report sites in British National Grid, so another projected CRS is an error too;
    the frame is returned unchanged.
    """
    if points:
        check_points(gdf, what=what, purpose="kit siting")
    else:
        if not isinstance(gdf, gpd.GeoDataFrame):
            raise InputError(f"{what} must be a GeoDataFrame, got {type(gdf).__name__}.")
        check_projected(gdf, what, purpose="kit siting")
    if not gdf.crs.equals(C.CRS):
        raise InputError(
            f"{what} is in {gdf.crs.to_string()}; kit siting works in British National Grid. "
            f"Use `.to_crs('{C.CRS}')` first."
        )
    return gdf


def demand_points(
    incidents: gpd.GeoDataFrame, *, weights: str = C.HARM, max_points: int | None = None
) -> gpd.GeoDataFrame:
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
    max_points
        Most demand points (None: no limit). Unsnapped data has about one distinct point per
        incident; above ``max_points`` the points are merged onto the finest grid (1 to 100 m)
        that brings them under it, each cell one demand point at its heaviest member
        (:func:`hotspots.locations.aggregate_locations`). ``attrs["aggregated_m"]`` gives the
        cell size (None when nothing was merged), ``attrs["distinct_locations"]`` the distinct
        points before merging.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`DEMAND_COLUMNS`: ``location`` (most frequent location text at the point, or
        in the cell, "" when none), ``n`` (incidents), ``harm`` (summed weight), EPSG:27700,
        ordered by easting then northing (by the representative's easting then northing
        when merged).

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
    uniq, inverse = unique_xy(xy)
    distinct = len(uniq)
    resolution = None
    if max_points is not None and distinct > max_points:
        rep, _, cell, resolution = aggregate_locations(
            uniq, np.bincount(inverse, weights=w, minlength=distinct), max_locations=max_points
        )
        order = np.argsort(rep, kind="stable")  # cells in the representatives' (easting, northing) order
        rank = np.empty(len(rep), dtype=np.intp)
        rank[order] = np.arange(len(rep))
        uniq, inverse = uniq[rep[order]], rank[cell[inverse]]
    harm = np.bincount(inverse, weights=w, minlength=len(uniq))
    n = np.bincount(inverse, minlength=len(uniq))
    out = gpd.GeoDataFrame(
        {C.LOCATION: most_frequent(inverse, loc, len(uniq)), "n": n.astype(np.int64), C.HARM: harm},
        geometry=gpd.points_from_xy(uniq[:, 0], uniq[:, 1]),
        crs=C.CRS,
    )
    out.attrs["aggregated_m"] = resolution
    out.attrs["distinct_locations"] = distinct
    return out


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
            raise exc(
                f"{where}: {pat!r} matches an empty location text, so it would exclude every "
                "location. Give a word or phrase, e.g. 'hospital'."
            )
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
    demand: gpd.GeoDataFrame | None = None,
    max_locations: int | None = None,
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
    demand
        ``demand_points(incidents)`` when the caller already has it (it is not recomputed).
    max_locations
        Most incident-location candidates (None: every distinct demand point). Above it the
        demand points are thinned to one per grid cell (the finest of 1 to 100 m that brings
        them under it), at the cell's heaviest point
        (:func:`hotspots.locations.aggregate_locations`); venues and user sites are kept.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`SITE_COLUMNS` in EPSG:27700. ``attrs["excluded_locations"]`` is the number
        of incident locations dropped by ``exclude_locations``; ``attrs["locations_thinned_m"]``
        the cell size incident locations were thinned to (None when they were not).

    Raises
    ------
    InputError
        Two candidates share a ``site_id``; a pattern is not a regular expression or
        matches an empty location text.
    """
    pats = (exclude_locations,) if isinstance(exclude_locations, str) else tuple(exclude_locations)
    exclude = _location_pattern(pats, InputError, "exclude_locations")
    excluded = 0
    thinned: float | None = None
    parts = []
    if "venues" in sources and venues is not None and len(venues):
        v = _to_bng(venues, "venues")
        parts.append(
            _sites_frame(
                "venue:" + v[C.VENUE_ID].astype(str),
                SOURCE_VENUE,
                v.get(C.VENUE_NAME, ""),
                v.geometry.values,
            )
        )
    if "incident_locations" in sources and len(incidents):
        d = demand_points(incidents) if demand is None else demand
        if max_locations is not None and len(d) > max_locations:
            rep, _, _, thinned = aggregate_locations(
                _xy(d), d[C.HARM].to_numpy(dtype=float), max_locations=max_locations
            )
            d = d.iloc[np.sort(rep)]
        xy = _xy(d)
        ids = [f"location:E{x:.0f}N{y:.0f}" for x, y in xy]
        loc = _sites_frame(ids, SOURCE_LOCATION, d[C.LOCATION], d.geometry.values)
        loc = loc.drop_duplicates(SITE_ID)  # points within a metre share an id: keep one
        if exclude is not None:
            drop = loc[SITE_NAME].str.contains(exclude).to_numpy(dtype=bool)
            excluded = int(drop.sum())
            if excluded:
                names = loc.loc[drop, SITE_NAME].value_counts()
                log.info(
                    "%d incident locations excluded as kit candidates: %s",
                    excluded,
                    ", ".join(f"{k!r} ({v})" for k, v in names.head(10).items()),
                )
            loc = loc[~drop]
        parts.append(loc)
    if "candidate_sites" in sources and extra is not None and len(extra):
        e = _to_bng(extra, "candidate sites")
        parts.append(
            _sites_frame(
                e[SITE_ID],
                e.get(SITE_SOURCE, SOURCE_CANDIDATE),
                e.get(SITE_NAME, ""),
                e.geometry.values,
            )
        )
    if not parts:
        out = empty_sites()
    else:
        out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=C.CRS)
        _check_unique(out, "candidate sites")
    out.attrs["excluded_locations"] = excluded
    out.attrs["locations_thinned_m"] = thinned
    return out


# --------------------------------------------------------------------------------------
# Point files
# --------------------------------------------------------------------------------------
