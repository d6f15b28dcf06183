"""Shared input checks: one place for the checks every stage makes on what it is given.

Each raises :class:`~hotspots.errors.ConfigError` or :class:`~hotspots.errors.InputError`
with a message that says what is wrong, where, and how to fix it.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.errors import ConfigError, InputError

_MONTH_RE = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def suggest(key: str, valid: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` for the closest of ``valid`` to ``key`` (empty when none is close)."""
    close = difflib.get_close_matches(key, list(valid), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def check_month(value: str | None, where: str) -> str | None:
    """``value`` when it is a month written ``YYYY-MM`` (or None); :class:`ConfigError` otherwise."""
    if value is None:
        return None
    if not _MONTH_RE.fullmatch(value):
        raise ConfigError(f"{where} must be a month written YYYY-MM, got {value!r}.")
    return value


def folder_message(path: Path, what: str = "file") -> str:
    """The message for a folder given where a file is expected, naming the files inside it."""
    inside = sorted(p.name for p in path.iterdir() if p.is_file() and not p.name.startswith("."))[:5]
    hint = f" It holds {', '.join(map(repr, inside))}: give one of them." if inside else " It holds no files."
    return f"{what} {os.path.normpath(path)} is a folder, not a file; give the file itself.{hint}"


def require_file(path: Path | None, where: str) -> None:
    """Raise :class:`ConfigError` when ``path`` is given and is not an existing file (missing, or a folder)."""
    if path is None:
        return
    if path.is_dir():
        raise ConfigError(f"{where}: {folder_message(path, 'the path')}")
    if not path.exists():
        shown = os.path.normpath(path)
        raise ConfigError(f"{where}: file not found: {shown}. Paths are relative to the config file.")


def counts_array(counts: npt.ArrayLike, what: str = "counts") -> np.ndarray:
    """``counts`` as a 1-D float array of non-negative finite numbers, one per place; else :class:`InputError`."""
    try:
        x = np.asarray(counts, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} must be numbers (one per place), got {type(counts).__name__}: {exc}") from exc
    if len(x) == 0:
        raise InputError(f"{what} is empty; pass one count per place (zeros included).")
    bad = np.flatnonzero(~np.isfinite(x) | (x < 0))
    if len(bad):
        i = int(bad[0])
        raise InputError(
            f"{what} must be non-negative finite numbers; position {i} holds {float(x[i])!r}. "
            f"Count places without crime as 0 and drop missing values."
        )
    return x


def check_projected(gdf: gpd.GeoDataFrame | gpd.GeoSeries, what: str, *, purpose: str = "hot spot analysis") -> None:
    """Raise :class:`InputError` unless ``gdf`` has a projected CRS in metres.

    ``what`` names the frame and ``purpose`` the work that needs metres, in the message.
    """
    if gdf.crs is None:
        raise InputError(
            f"{what} has no CRS; distance work needs metres. Set it with "
            f"`.set_crs('{C.CRS}')` (British National Grid) or the CRS of the coordinates."
        )
    if gdf.crs.is_geographic:
        raise InputError(
            f"{what} is in a geographic CRS ({gdf.crs.to_string()}), in degrees; {purpose} needs "
            f"distances in metres. Use `.to_crs('{C.CRS}')` first."
        )


def check_points(
    points: object, *, what: str = "points", weights: str | None = None, purpose: str = "hot spot analysis"
) -> None:
    """Check that ``points`` is a point GeoDataFrame in a projected CRS (metres).

    ``points`` may be anything (it is what a caller passed); ``what`` names it and
    ``purpose`` the work that needs metres, in the messages.

    Raises
    ------
    InputError
        Not a GeoDataFrame, no CRS, a geographic CRS (degrees), non-point or missing
        geometries, or a bad ``weights`` column (missing, non-numeric, negative, NaN).
    """
    if not isinstance(points, gpd.GeoDataFrame):
        raise InputError(f"{what} must be a GeoDataFrame of points, got {type(points).__name__}.")
    check_projected(points, what, purpose=purpose)
    if len(points):
        geom = points.geometry
        bad = geom.isna() | geom.is_empty
        if bad.any():
            row = points.index[np.flatnonzero(bad.to_numpy())[0]]
            raise InputError(f"{what} row {row!r} has an empty or missing geometry; drop such rows first.")
        kinds = shapely.get_type_id(geom.to_numpy())
        if (kinds != 0).any():
            row = points.index[np.flatnonzero(kinds != 0)[0]]
            raise InputError(
                f"{what} row {row!r} is a {geom.iloc[np.flatnonzero(kinds != 0)[0]].geom_type}, "
                "not a Point; use point geometries (e.g. `.centroid`)."
            )
    if weights is not None:
        if weights not in points.columns:
            raise InputError(
                f"{what} has no weights column {weights!r}; columns are "
                f"{', '.join(map(str, points.columns))}. Pass weights=None to count points."
            )
        w = pd.to_numeric(points[weights], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"{what} column {weights!r} row {points.index[i]!r} has the value "
                f"{points[weights].tolist()[i]!r}; weights must be finite numbers >= 0."
            )
