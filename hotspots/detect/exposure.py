"""Exposure: what incidents are proportional to under the null of the hot spot test.

Residents for LSOAs (``population``, IoD2019 mid-2015), the cell's area for grid cells (so the
null is complete spatial randomness), or the residents of the LSOAs a cell overlaps
(:func:`areal_exposure`, the ``[detect] grid_exposure = "residents"`` option). Units with no
exposure are not analysed.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.errors import HotspotsWarning, InputError
from hotspots.units import CELL_ID
from hotspots.validate import check_projected

AREA = "area"
"""``exposure=`` value meaning each unit's own (clipped) area."""
RESIDENTS = "residents"
"""Column name :func:`areal_exposure` gives a grid's residents in the detect stage."""
GRID_EXPOSURES = (AREA, RESIDENTS)
"""Values of ``[detect] grid_exposure``."""


def areal_exposure(units: gpd.GeoDataFrame, source: gpd.GeoDataFrame, *, column: str = C.POPULATION) -> pd.Series:
    """Residents (or any count) of ``source`` polygons shared out to ``units`` by area.

    Each source polygon's ``column`` is split among the units it overlaps in proportion to
    the overlap's area (areal weighting: residents assumed spread evenly over the polygon).

    Parameters
    ----------
    units
        Grid cells (or any polygons) in a projected CRS.
    source
        Polygons with the count, e.g. ``study.lsoa`` with ``population`` (IoD2019 mid-2015).
    column
        Column of ``source`` to share out (missing values count as 0).

    Returns
    -------
    pandas.Series
        Float, aligned to ``units``' index: the share of ``column`` in each unit (0 where a
        unit overlaps no source polygon). Its total equals the total of the source polygons
        that the units cover.

    Raises
    ------
    InputError
        A missing column, a geographic CRS, or different CRSs.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> src = gpd.GeoDataFrame({"population": [100.0]}, geometry=[shapely.box(0, 0, 2, 1)], crs="EPSG:27700")
    >>> cells = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs="EPSG:27700")
    >>> areal_exposure(cells, src).tolist()
    [50.0, 50.0]
    """
    if column not in source.columns:
        raise InputError(
            f"source polygons have no column {column!r} to share out; choose one of {list(source.columns)}."
        )
    check_projected(units, "units")
    check_projected(source, "source")
    if not units.crs.equals(source.crs):
        raise InputError(f"units ({units.crs}) and source ({source.crs}) differ in CRS; reproject one with .to_crs().")
    val = pd.to_numeric(source[column], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    src = np.asarray(source.geometry.values)
    cells = np.asarray(units.geometry.values)
    tree = shapely.STRtree(src)
    ci, si = tree.query(cells, predicate="intersects")
    share = shapely.area(shapely.intersection(cells[ci], src[si])) / np.maximum(shapely.area(src[si]), 1e-12)
    out = np.bincount(ci, weights=share * val[si], minlength=len(units))
    return pd.Series(out, index=units.index, name=column)


def unit_exposure(units: gpd.GeoDataFrame, exposure: str | None) -> tuple[np.ndarray, str]:
    """Exposure of each unit and a label saying what it is.

    Parameters
    ----------
    units
        Grid cells or polygons.
    exposure
        ``None``: cell area for a grid (``attrs["grid"]``), else the ``population`` column.
        ``"area"``: each unit's own (clipped) area in m². Any other string: that column.
        Missing values in a column count as no exposure (the unit is not analysed; warned).

    Returns
    -------
    exposure, label
        Floats >= 0 per unit, and what they are (e.g. ``"population"``, ``"area (m²)"``).

    Raises
    ------
    InputError
        A missing column, or a negative exposure.
    """
    is_grid = "grid" in units.attrs and CELL_ID in units.columns
    if exposure is None:
        if is_grid:
            exposure = AREA
        elif C.POPULATION in units.columns:
            exposure = C.POPULATION
        else:
            raise InputError(
                f"units have no {C.POPULATION!r} column for the default exposure of polygons; pass exposure= the "
                f"name of a column of residents (or 'area'), e.g. units.assign(population=lsoa['population'])."
            )
    if exposure == AREA and AREA not in units.columns:
        return np.asarray(units.geometry.area, dtype=float), "area (m²)"
    if exposure not in units.columns:
        raise InputError(
            f"units have no exposure column {exposure!r}; choose 'area' or one of "
            f"{[c for c in units.columns if c != units.geometry.name]}."
        )
    e = pd.to_numeric(units[exposure], errors="coerce").to_numpy(dtype=float)
    missing = ~np.isfinite(e)
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        warnings.warn(
            f"{int(missing.sum()):,} units have no {exposure!r} (e.g. row {i}, index {units.index[i]!r}); "
            f"they are not analysed.",
            HotspotsWarning,
            stacklevel=3,
        )
        e = np.where(missing, 0.0, e)
    if (e < 0).any():
        i = int(np.flatnonzero(e < 0)[0])
        raise InputError(
            f"exposure column {exposure!r} row {i} (index {units.index[i]!r}) is {float(e[i])!r}; it must be >= 0."
        )
    return e, str(exposure)


__all__ = ["AREA", "GRID_EXPOSURES", "RESIDENTS", "areal_exposure", "unit_exposure"]
