"""Geometry for the web page: simplify, reproject to longitude/latitude, round, and summarise."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np

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


def lat_lon(xy: np.ndarray, *, precision: int = 6) -> np.ndarray:
    """British National Grid eastings/northings (n, 2) as rounded latitude/longitude (n, 2)."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if len(xy) == 0:
        return np.zeros((0, 2))
    pts = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=C.CRS).to_crs(WGS84)
    return np.round(np.column_stack([pts.y.to_numpy(), pts.x.to_numpy()]), precision)


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
