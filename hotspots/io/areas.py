"""Polygon files of the intervention register (``[[intervention]] treated`` / ``control``).

Read at load like every other input (and hashed in the manifest): any format GDAL reads, with a
CRS, holding polygons. The features are reprojected to EPSG:27700; the stage unions them into
one treated or control area.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.io.load import read_vector_file

POLYGON_TYPES = {"Polygon", "MultiPolygon"}


def read_area_file(path: Path, *, what: str) -> gpd.GeoDataFrame:
    """Read a polygon file into EPSG:27700.

    Parameters
    ----------
    path
        The file (GeoPackage, GeoJSON, shapefile, ...), with a CRS.
    what
        What it holds, for messages (e.g. ``"[[intervention]] 'Street triage' treated area"``).

    Returns
    -------
    geopandas.GeoDataFrame
        The file's features (geometry only), in EPSG:27700.

    Raises
    ------
    InputError
        The file is missing, unreadable, empty or without a CRS, or a feature is not a polygon
        (naming the first one and its type).
    """
    gdf = read_vector_file(path, what=what, empty_hint=" Draw the area's polygon(s) in it.")
    geoms = gdf.geometry.to_numpy()
    kinds = shapely.get_type_id(geoms)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        raise InputError(f"{what} file {path}: feature {int(missing.argmax()) + 1} has no geometry; delete it.")
    bad = ~((kinds == shapely.GeometryType.POLYGON) | (kinds == shapely.GeometryType.MULTIPOLYGON))
    if bad.any():
        i = int(bad.argmax())
        raise InputError(
            f"{what} file {path}: feature {i + 1} is a {geoms[i].geom_type}, not a polygon; "
            f"an area must be drawn as polygons."
        )
    out = gpd.GeoDataFrame(geometry=gdf.geometry.values, crs=gdf.crs)
    return out.to_crs(C.CRS) if not out.crs.equals(C.CRS) else out
