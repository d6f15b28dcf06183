"""Coordinates: plausibility checks and projection to British National Grid (EPSG:27700)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

import geopandas as gpd
import numpy as np
import pyproj

from hotspots import columns as C
from hotspots.errors import InputError

# Great Britain in lon/lat and in British National Grid metres.
_GB_LON = (-9.0, 2.5)


_GB_LAT = (49.0, 61.5)


_MAX_LON = 180.0
_MAX_LAT = 90.0


def check_coordinate_ranges(
    x: np.ndarray, y: np.ndarray, crs: str, where: str, xcol: str, ycol: str, *, fix: str = ""
) -> None:
    """Catch whole-file coordinate mistakes before any row is used.

    Raises :class:`InputError` when lon/lat columns hold British National Grid metres,
    when longitude and latitude look swapped, or when projected columns hold degrees.
    ``fix`` says where the file's CRS is set in the config (e.g. ``"set crs in [venues]"``);
    without it the advice names the file's own config table.
    """
    ok = np.isfinite(x) & np.isfinite(y) & ~((x == 0) & (y == 0))
    if not ok.any():
        return
    mx, my = float(np.median(x[ok])), float(np.median(y[ok]))
    geographic = pyproj.CRS.from_user_input(crs).is_geographic
    how = f" ({fix})" if fix else " (in its table of the config)"
    if geographic:
        if abs(mx) > _MAX_LON or abs(my) > _MAX_LAT:
            raise InputError(
                f"{where}: columns {xcol!r}/{ycol!r} hold values like {mx:.0f}, {my:.0f}, which are not "
                "longitude/latitude degrees; they look like British National Grid eastings/northings (metres). "
                f'Set crs = "EPSG:27700" for this file{how}.'
            )
        if _GB_LAT[0] <= mx <= _GB_LAT[1] and _GB_LON[0] <= my <= _GB_LON[1]:
            raise InputError(
                f"{where}: longitude and latitude look swapped: the longitude column {xcol!r} has median "
                f"{mx:.3f}, which is a latitude in Great Britain, and the latitude column {ycol!r} has median "
                f"{my:.3f}. "
                "Swap the two columns (or the x/y mapping in the config)."
            )
    elif abs(mx) <= _MAX_LON and abs(my) <= _MAX_LAT:
        raise InputError(
            f"{where}: columns {xcol!r}/{ycol!r} hold values like {mx:.4f}, {my:.4f}, which look like "
            f'longitude/latitude degrees, but the CRS is {crs}. Set crs = "EPSG:4326" for this file{how}.'
        )


_TRANSFORMERS: dict[str, pyproj.Transformer] = {}


def to_bng(x: np.ndarray, y: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Reproject coordinate arrays to British National Grid (EPSG:27700)."""
    src = pyproj.CRS.from_user_input(crs)
    if src.equals(pyproj.CRS.from_user_input(C.CRS)):
        return x, y
    key = src.to_wkt()
    if key not in _TRANSFORMERS:
        _TRANSFORMERS[key] = pyproj.Transformer.from_crs(src, C.CRS, always_xy=True)
    return _TRANSFORMERS[key].transform(x, y)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while creating many geometry objects.

    Each shapely Point is a tracked Python object; creating hundreds of thousands of them
    triggers repeated full collections that make ``points_from_xy`` about 5x slower.
    Points hold no reference cycles, so nothing is lost by collecting afterwards.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def points(x: np.ndarray, y: np.ndarray) -> gpd.GeoSeries:
    """Point geometries in EPSG:27700 from coordinate arrays (fast for millions of points)."""
    with _gc_paused():
        return gpd.GeoSeries(gpd.points_from_xy(x, y), crs=C.CRS)
