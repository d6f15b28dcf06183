"""Analysis units: regular grids (square or hexagonal) and LSOAs with counts, harm and rates.

Every grid is in EPSG:27700 (metres), clipped to the study area, and carries its lattice in
``grid.attrs["grid"]`` (shape, cell size, origin, rows, columns). ``cell_id`` encodes the
lattice position (``cell_id = row * ncols + col``), so points are binned, KDE surfaces are
sampled and neighbours are found with integer arithmetic, never with spatial joins.

Square cells: ``cell_size`` is the side length. Hexagonal cells (pointy-top, odd rows shifted
half a cell to the right): ``cell_size`` is the distance between the centres of neighbouring
cells (the flat-to-flat width), so a hexagon has area ``cell_size**2 * sqrt(3) / 2``.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.validate import check_points, check_projected

if TYPE_CHECKING:
    #: a study area: polygons (a GeoDataFrame / GeoSeries in EPSG:27700) or one shapely geometry
    AreaLike: TypeAlias = gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry

log = logging.getLogger(__name__)

MIN_POINTS = 2
"""Fewest distinct locations a bandwidth can be chosen from (a spread needs two)."""
MAX_GRID_CELLS = 5_000_000
"""Largest grid :func:`make_grid` builds (about 0.5 GB of polygons): a smaller cell over a larger area is an error."""

CELL_ID = C.CELL_ID
"""Grid cell identifier: ``row * ncols + col`` of the lattice in ``grid.attrs["grid"]``."""
N = C.N
"""Number of incidents in the unit."""
HARM_SUM = C.HARM_SUM
"""Sum of the incidents' harm weights in the unit (relative units, see :mod:`hotspots.prepare.scope`)."""
RATE_PER_1000 = C.RATE_PER_1000
"""Incidents per 1,000 residents (IoD2019 mid-2015 population)."""

GRID_COLUMNS = [CELL_ID]
"""Columns of :func:`make_grid` (plus geometry)."""
COUNT_COLUMNS = [N, HARM_SUM]
"""Columns of :func:`count_in_units`."""
LSOA_UNIT_COLUMNS = [C.LSOA_CODE, N, HARM_SUM, RATE_PER_1000, C.POPULATION]
"""Columns of :func:`lsoa_units` (plus geometry)."""

GRID_SHAPES = ("square", "hex")

SQRT3 = math.sqrt(3.0)


# --------------------------------------------------------------------------------------
# validation helpers (shared with kde / gistar / detect)
# --------------------------------------------------------------------------------------


def _area_geometry(area: Any) -> tuple[shapely.Geometry, Any]:
    """The study area as one shapely geometry and its CRS (None for a bare geometry)."""
    if isinstance(area, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if len(area) == 0:
            raise InputError("area is empty: pass the study-area polygons (e.g. study.lsoa).")
        check_projected(area, "area")
        return shapely.union_all(area.geometry.values), area.crs
    if isinstance(area, shapely.Geometry):
        if area.is_empty:
            raise InputError("area is an empty geometry: pass the study-area polygon(s).")
        return area, None
    raise InputError(
        f"area must be a shapely geometry or a GeoDataFrame/GeoSeries in {C.CRS}, got {type(area).__name__}."
    )


def show(value: object) -> str:
    """``repr`` of a cell value for an error message (numpy scalars shown as plain Python)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def unit_values(units: gpd.GeoDataFrame, value: str, *, need: str) -> np.ndarray:
    """Column ``value`` of ``units`` as floats; an error naming the first missing or non-numeric row.

    ``need`` says why every unit needs a number and what to do, ending the message.
    """
    x = pd.to_numeric(units[value], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(x).all():
        i = int(np.flatnonzero(~np.isfinite(x))[0])
        raise InputError(
            f"units column {value!r} row {i} (index {units.index[i]!r}) is {show(units[value].iloc[i])}; {need}."
        )
    return x


def point_xy(incidents: gpd.GeoDataFrame) -> np.ndarray:
    """Coordinates of point geometries as an (n, 2) float array (empty points dropped)."""
    geom = incidents.geometry.values
    xy = shapely.get_coordinates(geom)
    if len(xy) != len(geom):
        raise InputError("incidents contain empty or multi-part points; clean them first.")
    return xy


def _weights_of(incidents: gpd.GeoDataFrame, weights: str | None) -> np.ndarray:
    """Per-incident weight: 1 for ``None``/``"count"``, else the named column."""
    if weights is None or weights == "count":
        return np.ones(len(incidents))
    if weights not in incidents.columns:
        raise InputError(
            f"incidents have no column {weights!r} to weight by; use 'count' or one of "
            f"{[c for c in incidents.columns if c != 'geometry']}."
        )
    w = pd.to_numeric(incidents[weights], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if len(bad):
        i = int(bad[0])
        raise InputError(
            f"incidents column {weights!r} must hold non-negative numbers; row {i} "
            f"(index {incidents.index[i]!r}) has {show(incidents[weights].iloc[i])}. Fix or drop it."
        )
    return w


# --------------------------------------------------------------------------------------
# grids
# --------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------
# scale rules: KDE bandwidth and cell size
# --------------------------------------------------------------------------------------

KERNELS = ("quartic", "gaussian")


GAUSSIAN_PER_QUARTIC = 1.0 / 2.778
"""Gaussian sigma per quartic radius with the same smoothing (canonical bandwidths,
Marron & Nolan 1988: the biweight radius equivalent to a Gaussian sigma is 2.778 sigma)."""


def choose_bandwidth(incidents: gpd.GeoDataFrame, *, weights: str | None = "harm", kernel: str = "quartic") -> float:
    """Bandwidth (metres) by ArcGIS Pro's spatial Silverman rule.

    ``h = 0.9 * min(SD, sqrt(1 / ln 2) * Dm) * n ** -0.2``, where SD is the (weighted)
    standard distance of the points, Dm their (weighted) median distance from the
    (weighted) mean centre and n the sum of the weights. This is the quartic search radius
    ArcGIS's Kernel Density tool uses by default; for the Gaussian kernel the sigma with the
    same smoothing is ``h / 2.778``.

    Parameters
    ----------
    incidents
        Points in a projected CRS (metres).
    weights
        Column of weights (``"harm"``), or ``None``/``"count"`` for one per point.
    kernel
        ``"quartic"`` (radius) or ``"gaussian"`` (sigma).

    Returns
    -------
    float
        Bandwidth in metres.

    Raises
    ------
    InputError
        Fewer than two distinct locations (no spread to base a bandwidth on).

    Notes
    -----
    Silverman, B. W. (1986) Density Estimation for Statistics and Data Analysis, eq. 3.31;
    Esri, "How Kernel Density works" (ArcGIS Pro 3).
    """
    if kernel not in KERNELS:
        raise InputError(f"kernel must be one of {list(KERNELS)}, got {kernel!r}.")
    check_points(incidents, what="incidents")
    xy = point_xy(incidents)
    w = _weights_of(incidents, weights)
    if len(xy) < MIN_POINTS or len(np.unique(xy, axis=0)) < MIN_POINTS or w.sum() <= 0:
        raise InputError(
            f"cannot choose a bandwidth from {len(xy)} point(s) at {len(np.unique(xy, axis=0)) if len(xy) else 0} "
            f"distinct location(s): pass bandwidth= in metres."
        )
    tot = w.sum()
    centre = (xy * w[:, None]).sum(axis=0) / tot
    d2 = ((xy - centre) ** 2).sum(axis=1)
    sd = math.sqrt((w * d2).sum() / tot)
    d = np.sqrt(d2)
    order = np.argsort(d)
    cum = np.cumsum(w[order])
    dm = float(d[order][np.searchsorted(cum, 0.5 * tot)])
    h = 0.9 * min(sd, math.sqrt(1.0 / math.log(2.0)) * dm) * tot**-0.2
    if kernel == "gaussian":
        h *= GAUSSIAN_PER_QUARTIC
    log.info("KDE bandwidth set to %.0f m automatically (%s kernel, ArcGIS/Silverman rule)", h, kernel)
    return float(h)


def _nice(x: float) -> float:
    """Round ``x`` to the nearest 1, 2, 2.5 or 5 times a power of ten (in log space)."""
    if not x > 0:
        raise InputError(f"cannot choose a cell size from a non-positive extent ({x!r} m).")
    k = math.floor(math.log10(x))
    cands = [m * 10.0**e for e in (k - 1, k, k + 1) for m in (1, 2, 2.5, 5)]
    return float(min(cands, key=lambda c: abs(math.log(c / x))))


def choose_cell_size(incidents: gpd.GeoDataFrame, area: AreaLike) -> float:
    """Cell size (metres): sfhotspot's rule, capped so the default KDE bandwidth spans two cells.

    ``nice(min(S / 50, h / 2))``: S is the shorter side of the bounding box of the study
    ``area`` (and of the incidents where they extend beyond it), h the default quartic KDE
    bandwidth of the incidents (:func:`choose_bandwidth`, unweighted), and
    ``nice`` rounds to the nearest 1, 2, 2.5 or 5 times a power of ten; never below 10 m.

    Parameters
    ----------
    incidents
        Incident points in a projected CRS (metres). With fewer than two distinct
        locations only the sfhotspot part of the rule applies.
    area
        Study area (shapely geometry or GeoDataFrame in metres).

    Returns
    -------
    float
        Cell size in metres.

    Notes
    -----
    Ashby, M. (2023) sfhotspot: "cell size is set so that there are 50 cells on the shorter
    side of the grid" (1,000 m for Nottinghamshire, about 45 x 80 km). That alone leaves the
    county's 18,581 incidents, which concentrate in Nottingham, under a bandwidth (about
    480 m) smaller than a cell, so the KDE would not smooth at all; the cap gives 250 m.

    Examples
    --------
    >>> import shapely, geopandas as gpd
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0, 10_000], [0, 40_000]), crs="EPSG:27700")
    >>> choose_cell_size(pts, shapely.box(0, 0, 10_000, 40_000))
    200.0
    """
    geom, _ = _area_geometry(area)
    check_points(incidents, what="incidents")
    minx, miny, maxx, maxy = geom.bounds
    if len(incidents):
        ix0, iy0, ix1, iy1 = incidents.total_bounds
        minx, miny, maxx, maxy = min(minx, ix0), min(miny, iy0), max(maxx, ix1), max(maxy, iy1)
    short = min(maxx - minx, maxy - miny)
    raw = short / 50.0
    why = f"shorter side {short:.0f} m / 50"
    try:
        h = choose_bandwidth(incidents, weights=None)
    except InputError:
        h = math.inf
    if h / 2 < raw:
        raw, why = h / 2, f"half the default KDE bandwidth ({h:.0f} m); sfhotspot's rule gave {short / 50:.0f} m"
    size = max(10.0, _nice(raw))
    log.info("cell size set to %g m automatically (%s)", size, why)
    return size


def make_grid(area: AreaLike, *, cell_size: float, shape: str = "square") -> gpd.GeoDataFrame:
    """A grid of square or hexagonal cells covering the study area, clipped to it.

    Parameters
    ----------
    area
        Study area: a shapely (multi)polygon in EPSG:27700 or a GeoDataFrame/GeoSeries
        in a projected CRS (its union is used).
    cell_size
        Square side, or distance between neighbouring hexagon centres, in metres.
    shape
        ``"square"`` or ``"hex"``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``cell_id`` (int, ``row * ncols + col``) and the clipped cell polygon, in the
        area's CRS (EPSG:27700 for a bare geometry), ordered by ``cell_id`` with a
        RangeIndex. ``attrs["grid"]`` holds ``shape, cell_size, x0, y0, nrows, ncols``:
        the centre of cell (row, col) is ``(x0 + (col + 0.5) * cell_size, y0 + (row + 0.5)
        * cell_size)`` for squares, and ``(x0 + (col + 0.5 * (row % 2)) * cell_size,
        y0 + row * cell_size * sqrt(3) / 2)`` for hexagons.

    Raises
    ------
    InputError
        Bad shape, non-positive cell size, empty area, geographic CRS, or more than 5
        million cells.

    Examples
    --------
    >>> import shapely
    >>> g = make_grid(shapely.box(0, 0, 1000, 500), cell_size=100)
    >>> len(g), g.attrs["grid"]["ncols"]
    (50, 10)
    """
    if shape not in GRID_SHAPES:
        raise InputError(f"grid shape must be one of {list(GRID_SHAPES)}, got {shape!r}.")
    if not (isinstance(cell_size, (int, float)) and math.isfinite(cell_size) and cell_size > 0):
        raise InputError(f"cell_size must be a positive number of metres, got {cell_size!r}.")
    cell_size = float(cell_size)
    geom, crs = _area_geometry(area)
    minx, miny, maxx, maxy = geom.bounds
    if shape == "square":
        x0 = math.floor(minx / cell_size) * cell_size
        y0 = math.floor(miny / cell_size) * cell_size
        ncols = max(1, math.ceil((maxx - x0) / cell_size))
        nrows = max(1, math.ceil((maxy - y0) / cell_size))
    else:
        h = cell_size * SQRT3 / 2
        r = cell_size / SQRT3  # circumradius
        x0 = math.floor((minx - cell_size) / cell_size) * cell_size
        y0 = math.floor((miny - r) / h) * h
        ncols = math.ceil((maxx + cell_size - x0) / cell_size) + 1
        nrows = math.ceil((maxy + r - y0) / h) + 1
    if nrows * ncols > MAX_GRID_CELLS:
        raise InputError(
            f"a {cell_size:g} m grid over this area would have {nrows * ncols:,} cells "
            f"(limit 5,000,000); choose a larger cell_size."
        )
    rows, cols = np.divmod(np.arange(nrows * ncols, dtype=np.int64), ncols)
    cells = _cell_polygons(rows, cols, shape=shape, cell_size=cell_size, x0=x0, y0=y0)
    shapely.prepare(geom)
    keep = shapely.intersects(geom, cells) & ~shapely.touches(geom, cells)
    ids = (rows * ncols + cols)[keep]
    cells = cells[keep]
    inside = shapely.contains_properly(geom, cells)
    clipped = cells.copy()
    clipped[~inside] = shapely.intersection(cells[~inside], geom)
    # drop slivers that are not areal after clipping
    areal = shapely.area(clipped) > 1e-6 * cell_size**2
    grid = gpd.GeoDataFrame(
        {CELL_ID: ids[areal]}, geometry=clipped[areal], crs=crs if crs is not None else C.CRS
    ).reset_index(drop=True)
    grid.attrs["grid"] = {
        "shape": shape,
        "cell_size": cell_size,
        "x0": float(x0),
        "y0": float(y0),
        "nrows": int(nrows),
        "ncols": int(ncols),
    }
    log.info("grid: %d %s cells of %g m", len(grid), shape, cell_size)
    return grid


def _cell_polygons(
    rows: np.ndarray, cols: np.ndarray, *, shape: str, cell_size: float, x0: float, y0: float
) -> np.ndarray:
    if shape == "square":
        xa = x0 + cols * cell_size
        ya = y0 + rows * cell_size
        return shapely.box(xa, ya, xa + cell_size, ya + cell_size)
    cx, cy = _hex_centres(rows, cols, cell_size=cell_size, x0=x0, y0=y0)
    r = cell_size / SQRT3
    ang = np.deg2rad(np.arange(30, 390, 60))
    xs = cx[:, None] + r * np.cos(ang)[None, :]
    ys = cy[:, None] + r * np.sin(ang)[None, :]
    ring = np.stack([xs, ys], axis=-1)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    return shapely.polygons(ring)


def _hex_centres(rows, cols, *, cell_size: float, x0: float, y0: float):
    cx = x0 + (cols + 0.5 * (rows % 2)) * cell_size
    cy = y0 + rows * cell_size * SQRT3 / 2
    return cx, cy


def grid_spec(grid: gpd.GeoDataFrame) -> dict[str, Any]:
    """The lattice of a grid made by :func:`make_grid` (``attrs["grid"]``)."""
    spec = grid.attrs.get("grid") if hasattr(grid, "attrs") else None
    if not spec or CELL_ID not in grid.columns:
        raise InputError(
            "grid has no lattice information (attrs['grid'] and a 'cell_id' column); "
            "make it with hotspots.units.make_grid, and keep attrs when filtering."
        )
    return spec


def cell_centres(grid: gpd.GeoDataFrame) -> np.ndarray:
    """Lattice centres of the grid's cells as an (n, 2) array (not the clipped centroids)."""
    spec = grid_spec(grid)
    rows, cols = np.divmod(grid[CELL_ID].to_numpy(dtype=np.int64), spec["ncols"])
    if spec["shape"] == "square":
        s = spec["cell_size"]
        return np.column_stack([spec["x0"] + (cols + 0.5) * s, spec["y0"] + (rows + 0.5) * s])
    cx, cy = _hex_centres(rows, cols, cell_size=spec["cell_size"], x0=spec["x0"], y0=spec["y0"])
    return np.column_stack([cx, cy])


def lattice_index(xy: np.ndarray, spec: dict[str, Any]) -> np.ndarray:
    """Lattice ``cell_id`` of each point (``-1`` outside the lattice), by integer arithmetic."""
    s = spec["cell_size"]
    nrows, ncols = spec["nrows"], spec["ncols"]
    x, y = xy[:, 0], xy[:, 1]
    if spec["shape"] == "square":
        col = np.floor((x - spec["x0"]) / s).astype(np.int64)
        row = np.floor((y - spec["y0"]) / s).astype(np.int64)
    else:
        h = s * SQRT3 / 2
        r0 = np.floor((y - spec["y0"]) / h).astype(np.int64)
        best = np.full(len(x), np.inf)
        row = np.zeros(len(x), dtype=np.int64)
        col = np.zeros(len(x), dtype=np.int64)
        for dr in (0, 1):  # the nearest hexagon centre is in one of the two bracketing rows
            rr = r0 + dr
            cc = np.round((x - spec["x0"]) / s - 0.5 * (rr % 2)).astype(np.int64)
            cx, cy = _hex_centres(rr, cc, cell_size=s, x0=spec["x0"], y0=spec["y0"])
            for dc in (-1, 0, 1):
                d = (x - (cx + dc * s)) ** 2 + (y - cy) ** 2
                better = d < best
                best = np.where(better, d, best)
                row = np.where(better, rr, row)
                col = np.where(better, cc + dc, col)
    ok = (row >= 0) & (row < nrows) & (col >= 0) & (col < ncols)
    return np.where(ok, row * ncols + col, -1)


def assign_cells(incidents: gpd.GeoDataFrame, grid: gpd.GeoDataFrame) -> np.ndarray:
    """Row position in ``grid`` of each incident's cell (``-1`` when not in any cell).

    A point in a lattice cell that was clipped away (outside the study area) gets -1.
    """
    spec = grid_spec(grid)
    ids = grid[CELL_ID].to_numpy(dtype=np.int64)
    lat = lattice_index(point_xy(incidents), spec)
    order = np.argsort(ids, kind="stable")
    pos = np.searchsorted(ids, lat, sorter=order)
    pos = np.clip(pos, 0, len(ids) - 1) if len(ids) else pos
    found = (lat >= 0) & (len(ids) > 0)
    if len(ids):
        found &= ids[order[pos]] == lat
        return np.where(found, order[pos], -1)
    return np.full(len(lat), -1)


# --------------------------------------------------------------------------------------
# counting
# --------------------------------------------------------------------------------------


def count_in_units(
    incidents: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    *,
    key: str,
    harm: str = C.HARM,
) -> pd.DataFrame:
    """Incident counts and harm sums per unit.

    Parameters
    ----------
    incidents
        Incident points (canonical frame), in the same projected CRS as ``units``.
    units
        A grid from :func:`make_grid` (``key="cell_id"``: points binned by lattice
        arithmetic) or polygons with an identifying column ``key`` (e.g. ``"lsoa_code"``:
        matched on the incidents' own ``key`` column when they have it, else by
        point-in-polygon).
    key
        Unit identifier column.
    harm
        Incident column of harm weights (missing column: harm = count).

    Returns
    -------
    pandas.DataFrame
        ``n`` (int) and ``harm`` (float) aligned to ``units``' index; units without
        incidents get 0. Incidents outside every unit are not counted (logged).
    """
    check_points(incidents, what="incidents")
    if key not in units.columns:
        raise InputError(f"units have no column {key!r}; pass key= the unit identifier column.")
    w = _weights_of(incidents, harm if harm in incidents.columns else None)
    if key == CELL_ID and "grid" in units.attrs:
        if units.crs is not None and incidents.crs is not None and not units.crs.equals(incidents.crs):
            raise InputError(f"incidents ({incidents.crs}) and grid ({units.crs}) differ in CRS; reproject one.")
        pos = assign_cells(incidents, units)
    elif key in incidents.columns:
        codes = pd.Index(units[key])
        if codes.has_duplicates:
            raise InputError(f"units column {key!r} has duplicate values, e.g. {codes[codes.duplicated()][0]!r}.")
        pos = codes.get_indexer(incidents[key])
    else:
        joined = gpd.sjoin(
            gpd.GeoDataFrame(geometry=incidents.geometry.values, crs=incidents.crs),
            gpd.GeoDataFrame(geometry=units.geometry.values, crs=units.crs),
            how="left",
            predicate="within",
        )
        joined = joined[~joined.index.duplicated()]
        pos = joined["index_right"].fillna(-1).to_numpy(dtype=np.int64)
    ok = pos >= 0
    if (~ok).any():
        log.info("%d of %d incidents fall outside every unit and are not counted", int((~ok).sum()), len(pos))
    n = np.bincount(pos[ok], minlength=len(units)).astype(np.int64)
    hs = np.bincount(pos[ok], weights=w[ok], minlength=len(units)).astype(float)
    return pd.DataFrame({N: n, HARM_SUM: hs}, index=units.index)


def lsoa_units(incidents: gpd.GeoDataFrame, lsoa: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """LSOAs as units: incident count, harm sum and rate per 1,000 residents.

    Incidents are matched on their ``lsoa_code`` (the canonical frame's assigned code; see
    :mod:`hotspots.prepare.clean`), which avoids the ~15 % point-in-polygon mismatch of the
    generalised BSC polygons.

    Parameters
    ----------
    incidents
        Canonical incident frame.
    lsoa
        Study-area LSOAs with ``lsoa_code``, ``population`` (IoD2019 File 6, mid-2015)
        and geometry.

    Returns
    -------
    geopandas.GeoDataFrame
        ``lsoa_code, n, harm, rate_per_1000`` (incidents per 1,000 residents; NaN only
        where the population is missing or zero, with a warning), ``population`` (the
        residents: the exposure of the hot spot test; NaN where missing) and geometry, in
        ``lsoa``'s order and CRS.
    """
    for col in (C.LSOA_CODE, C.POPULATION):
        if col not in lsoa.columns:
            raise InputError(f"lsoa frame has no {col!r} column; load it with hotspots.prepare.study.load_study.")
    check_projected(lsoa, "lsoa")
    counts = count_in_units(incidents, lsoa, key=C.LSOA_CODE)
    pop = pd.to_numeric(lsoa[C.POPULATION], errors="coerce").to_numpy(dtype=float)
    bad = ~(pop > 0)
    if bad.any():
        import warnings

        from hotspots.errors import HotspotsWarning

        warnings.warn(
            f"{int(bad.sum())} LSOAs have no population (e.g. {lsoa[C.LSOA_CODE].iloc[int(np.argmax(bad))]!r}); "
            f"their rate_per_1000 is left empty.",
            HotspotsWarning,
            stacklevel=2,
        )
    rate = np.where(bad, np.nan, counts[N].to_numpy() / np.where(bad, 1, pop) * 1000.0)
    return gpd.GeoDataFrame(
        {
            C.LSOA_CODE: lsoa[C.LSOA_CODE].to_numpy(),
            N: counts[N].to_numpy(),
            HARM_SUM: counts[HARM_SUM].to_numpy(),
            RATE_PER_1000: rate,
            C.POPULATION: pop,
        },
        geometry=lsoa.geometry.values,
        crs=lsoa.crs,
        index=lsoa.index,
    )
