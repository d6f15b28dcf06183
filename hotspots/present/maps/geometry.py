"""Geometry for the web page: simplify, reproject to longitude/latitude, round, and summarise."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pyproj

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry
import shapely

from hotspots import columns as C

WGS84 = "EPSG:4326"


def web_geometry(gdf: gpd.GeoDataFrame, *, tolerance: float, precision: int, coverage: bool = False) -> gpd.GeoSeries:
    """Simplify (metres, in the frame's CRS), reproject to WGS84 and round coordinates.

    ``coverage=True`` simplifies polygons that tile the plane (LSOAs, wards, districts)
    together so neighbours keep a shared edge (``shapely.coverage_simplify``); when the
    polygons are not a valid coverage each is simplified on its own.
    """
    geoms = gdf.geometry.to_numpy()
    if tolerance > 0 and len(geoms):
        simplified = None
        if coverage:
            try:
                simplified = shapely.coverage_simplify(geoms, tolerance)
            except shapely.errors.GEOSException:
                simplified = None
        if simplified is None:
            simplified = shapely.simplify(geoms, tolerance, preserve_topology=True)
        geoms = simplified
    out = gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs).to_crs(WGS84)
    factor = 10.0**precision
    rounded = shapely.transform(out.to_numpy(), lambda c: np.round(c * factor) / factor)
    return gpd.GeoSeries(rounded, index=gdf.index, crs=WGS84)


def geojson(geom: BaseGeometry | None) -> dict[str, Any] | None:
    """The GeoJSON geometry of a shapely geometry (None when empty)."""
    if geom is None or geom.is_empty:
        return None
    return shapely.geometry.mapping(geom)


_POLYGON, _MULTIPOLYGON = 3, 6
"""Shapely's type ids of the polygons :func:`geojson_all` writes itself."""


def _cut(items: list[Any], counts: np.ndarray) -> list[tuple[Any, ...]]:
    """``items`` cut into consecutive tuples of ``counts`` items."""
    ends = np.cumsum(counts).tolist()
    return [tuple(items[a:b]) for a, b in zip([0, *ends], ends, strict=False)]


def geojson_all(geoms: np.ndarray) -> list[dict[str, Any] | None]:
    """:func:`geojson` of each geometry, polygons and multipolygons without a Python call per ring.

    The coordinates of every ring are read in one call and cut into the nested tuples
    ``shapely.geometry.mapping`` makes (same types, same order); geometries of other kinds
    (and any with z or an empty part) go through :func:`geojson` one by one.
    """
    geoms = np.asarray(geoms, dtype=object)
    out: list[dict[str, Any] | None] = [None] * len(geoms)
    if len(geoms) == 0:
        return out
    kind = shapely.get_type_id(geoms)
    fast = np.isin(kind, (_POLYGON, _MULTIPOLYGON)) & ~shapely.is_empty(geoms) & ~shapely.has_z(geoms)
    parts, part_of = shapely.get_parts(geoms[fast], return_index=True)
    if len(parts) and shapely.is_empty(parts).any():
        fast[:] = False  # an empty polygon inside a multipolygon: left to mapping
        parts, part_of = parts[:0], part_of[:0]
    for k in np.flatnonzero(~fast).tolist():
        out[k] = geojson(geoms[k])
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    xy = shapely.get_coordinates(rings)
    points = list(zip(xy[:, 0].tolist(), xy[:, 1].tolist(), strict=True))
    ring_coords = _cut(points, shapely.get_num_coordinates(rings))
    part_coords = _cut(ring_coords, np.bincount(ring_of, minlength=len(parts)))
    part_ends = np.cumsum(np.bincount(part_of, minlength=int(fast.sum()))).tolist()
    for i, a, b in zip(np.flatnonzero(fast).tolist(), [0, *part_ends], part_ends, strict=False):
        if kind[i] == _POLYGON:
            out[i] = {"type": "Polygon", "coordinates": part_coords[a]}
        else:
            out[i] = {"type": "MultiPolygon", "coordinates": part_coords[a:b]}
    return out


def lat_lon(xy: np.ndarray, *, precision: int = 6) -> np.ndarray:
    """British National Grid eastings/northings (n, 2) as rounded latitude/longitude (n, 2)."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if len(xy) == 0:
        return np.zeros((0, 2))
    # the transformation GeoSeries.to_crs makes, on the coordinates without making points
    lon, lat = _to_wgs84().transform(xy[:, 0], xy[:, 1])
    return np.round(np.column_stack([lat, lon]), precision)


@functools.cache
def _to_wgs84() -> pyproj.Transformer:
    """British National Grid to longitude/latitude, as ``geopandas`` transforms (``always_xy``)."""
    return pyproj.Transformer.from_crs(C.CRS, WGS84, always_xy=True)


def inner_points(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """A point inside each polygon (eastings/northings, (n, 2)): its centroid if inside, else a point on its surface."""
    geoms = gdf.geometry.to_numpy()
    cent = shapely.centroid(geoms)
    inside = shapely.contains(geoms, cent)
    rep = shapely.point_on_surface(geoms)
    pts = np.where(inside, cent, rep)
    return np.column_stack([shapely.get_x(pts), shapely.get_y(pts)])


def bbox(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> list[float]:
    """``[south, west, north, east]`` of the frame in latitude/longitude, rounded to 5 decimals."""
    minx, miny, maxx, maxy = gdf.to_crs(WGS84).total_bounds
    return [round(float(v), 5) for v in (miny, minx, maxy, maxx)]


def bboxes(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """``[south, west, north, east]`` of each row (n, 4) in latitude/longitude."""
    b = shapely.bounds(gdf.to_crs(WGS84).geometry.to_numpy())
    return np.round(b[:, [1, 0, 3, 2]], 5)


def dissolve_by(gdf: gpd.GeoDataFrame, column: str) -> gpd.GeoDataFrame:
    """Union the polygons of each value of ``column`` (used when a grid has too many cells to draw)."""
    parts = []
    for value, grp in gdf.groupby(column, sort=False, observed=True):
        try:
            geom = shapely.coverage_union_all(grp.geometry.to_numpy())
        except shapely.errors.GEOSException:
            geom = shapely.union_all(grp.geometry.to_numpy())
        parts.append({column: value, "cells": len(grp), "geometry": geom})
    return gpd.GeoDataFrame(parts, geometry="geometry", crs=gdf.crs)
