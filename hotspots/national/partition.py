"""Per-force partitions with a margin, so that a partitioned national run equals one single run.

The national grid is one lattice (:class:`Lattice`: square cells of ``cell_size`` metres,
origin on a multiple of the cell size), so every partition's grid (:func:`hotspots.units.make_grid`
over its LSOAs) has the same cells as a grid over the whole country. A partition is a force's
LSOAs (its **core**) and every LSOA meeting the core's bounding box widened by the **margin**
(:attr:`GridSettings.margin`: the larger of the KDE kernel's reach and the Gi* neighbourhood,
plus three cell diagonals). Inside that window:

* a cell is **owned** by the force of the LSOA holding its centre (the lowest LSOA code on a
  shared edge), or, for a cell whose centre lies outside every LSOA (a coastal sliver), of the
  LSOA covering most of it: every cell belongs to exactly one partition;
* every LSOA meeting an owned cell, or a queen neighbour of one, lies in the window, so the
  owned cells are clipped, counted and given their exposure exactly as in one national grid;
* every incident within the kernel's reach of an owned cell's centre lies in the window, so
  the KDE at owned cells is the national KDE;
* every contiguity neighbour of a core LSOA lies in the window (it touches the core).

The hot spot test's null needs national totals (incidents N, exposure E, the dispersion and
the harm marks): :func:`prepare_partition` returns each partition's owned units, the driver
adds them up (:mod:`hotspots.national.detect`), and :func:`infer_partition` then tests the owned
units with the national null. p-values come back; the FDR correction runs once, nationally.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from hotspots import columns as C
from hotspots.detect._marks import MarkMix
from hotspots.detect.exposure import RESIDENTS, areal_exposure, unit_exposure
from hotspots.detect.gistar import contiguity_weights, grid_weights
from hotspots.detect.kde import hotspot_kde
from hotspots.detect.methods.exact import exact_test
from hotspots.errors import HotspotsWarning, InputError
from hotspots.rank.components.hotspot import kde_per_lsoa
from hotspots.units import CELL_ID, cell_centres, count_in_units, make_grid

SQRT2 = math.sqrt(2.0)
MARGIN_CELLS = 3
"""Cell diagonals added to the margin beyond the kernel and neighbourhood reach (clipping, binning, ownership)."""


@dataclass(frozen=True)
class Lattice:
    """The national square lattice: cell ``(row, col)`` spans ``x0 + col s .. x0 + (col + 1) s`` (same for y).

    Attributes
    ----------
    cell_size
        Side of a cell in metres (``s``).
    x0, y0
        South-west corner of cell (0, 0), multiples of ``cell_size``.
    ncols, nrows
        Columns and rows; the national ``cell_id`` is ``row * ncols + col``.
    """

    cell_size: float
    x0: float
    y0: float
    ncols: int
    nrows: int

    @classmethod
    def covering(cls, bounds: tuple[float, float, float, float], cell_size: float) -> Lattice:
        """The lattice whose cells cover ``bounds`` (minx, miny, maxx, maxy), anchored on multiples of the cell size."""
        minx, miny, maxx, maxy = bounds
        x0 = math.floor(minx / cell_size) * cell_size
        y0 = math.floor(miny / cell_size) * cell_size
        return cls(
            cell_size=float(cell_size),
            x0=x0,
            y0=y0,
            ncols=max(1, math.ceil((maxx - x0) / cell_size)),
            nrows=max(1, math.ceil((maxy - y0) / cell_size)),
        )

    def national_ids(self, grid: gpd.GeoDataFrame) -> np.ndarray:
        """National ``cell_id`` of each cell of a grid made by :func:`make_grid` on the same cell size."""
        spec = grid.attrs["grid"]
        rows, cols = np.divmod(grid[CELL_ID].to_numpy(dtype=np.int64), spec["ncols"])
        col0 = round((spec["x0"] - self.x0) / self.cell_size)
        row0 = round((spec["y0"] - self.y0) / self.cell_size)
        return (rows + row0) * self.ncols + (cols + col0)

    def centres(self, ids: np.ndarray) -> np.ndarray:
        """Centres (n, 2) of national cells."""
        rows, cols = np.divmod(np.asarray(ids, dtype=np.int64), self.ncols)
        s = self.cell_size
        return np.column_stack([self.x0 + (cols + 0.5) * s, self.y0 + (rows + 0.5) * s])


@dataclass(frozen=True)
class GridSettings:
    """What the partitions compute and with which parameters (one set for the whole country).

    Attributes
    ----------
    cell_size
        Square cell side, metres.
    bandwidth
        KDE quartic radius or Gaussian sigma, metres.
    kernel
        ``"quartic"`` or ``"gaussian"``.
    weights
        ``"harm"`` (harm sums and harm-weighted KDE) or ``"count"``.
    grid_exposure
        ``"area"`` (clipped cell area) or ``"residents"`` (LSOA residents shared out by area).
    neighbour_distance
        Fixed distance band of the grid's Gi* neighbourhood (None = queen).
    lsoa_exposure
        ``"population"`` or ``"area"`` (when no LSOA has residents).
    kde_aggregate
        ``"max"`` or ``"mean"`` of the cells in an LSOA (:func:`kde_per_lsoa`).
    """

    cell_size: float
    bandwidth: float
    kernel: str = "quartic"
    weights: str = "harm"
    grid_exposure: str = "area"
    neighbour_distance: float | None = None
    lsoa_exposure: str = C.POPULATION
    kde_aggregate: str = "max"

    @property
    def kde_reach(self) -> float:
        """Metres from a cell centre within which incidents change its KDE (quartic radius; 4 Gaussian sigmas)."""
        return self.bandwidth if self.kernel == "quartic" else 4.0 * self.bandwidth

    @property
    def gi_reach(self) -> float:
        """Metres from a cell centre to the farthest centre in its Gi* neighbourhood (queen: one diagonal)."""
        return self.cell_size * SQRT2 if self.neighbour_distance is None else float(self.neighbour_distance)

    @property
    def margin(self) -> float:
        """Metres each partition's window extends beyond its force: ``max(kde_reach, gi_reach) + 3 cell diagonals``."""
        return max(self.kde_reach, self.gi_reach) + MARGIN_CELLS * self.cell_size * SQRT2


@dataclass(frozen=True)
class PartitionSpec:
    """One force's partition.

    Attributes
    ----------
    force
        police.uk force id of the core.
    window
        (minx, miny, maxx, maxy): the core's bounding box widened by the margin (metres).
    lsoa
        Positions, in the national LSOA frame, of the LSOAs meeting the window.
    core
        Per window LSOA: True when it belongs to ``force``.
    """

    force: str
    window: tuple[float, float, float, float]
    lsoa: np.ndarray
    core: np.ndarray


def plan_partitions(lsoa: gpd.GeoDataFrame, forces: np.ndarray, *, margin: float) -> list[PartitionSpec]:
    """One :class:`PartitionSpec` per force, largest first (by window LSOAs).

    Parameters
    ----------
    lsoa
        National LSOAs (EPSG:27700).
    forces
        The force of each LSOA (aligned to ``lsoa``).
    margin
        Metres (:attr:`GridSettings.margin`).
    """
    geoms = np.asarray(lsoa.geometry.values)
    tree = shapely.STRtree(geoms)
    specs = []
    for force in sorted(pd.unique(forces)):
        core = np.flatnonzero(forces == force)
        minx, miny, maxx, maxy = shapely.total_bounds(geoms[core])
        window = (float(minx - margin), float(miny - margin), float(maxx + margin), float(maxy + margin))
        hit = np.unique(tree.query(shapely.box(*window), predicate="intersects"))
        specs.append(PartitionSpec(str(force), window, hit, forces[hit] == force))
    specs.sort(key=lambda s: -len(s.lsoa))
    return specs


def in_window(x: np.ndarray, y: np.ndarray, window: tuple[float, float, float, float]) -> np.ndarray:
    """Mask of points inside a window (edges included)."""
    minx, miny, maxx, maxy = window
    return (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)


@dataclass
class PartitionState:
    """What a partition keeps between its two steps (no polygons: arrays and weights only).

    ``owned`` / ``core`` mark the units this partition reports; ``W`` are the weights among
    the analysed units (exposure > 0) of the window, ``analysed`` their positions.
    """

    force: str
    cell_ids: np.ndarray
    owned: np.ndarray
    cell_values: np.ndarray
    cell_counts: np.ndarray
    cell_exposure: np.ndarray
    cell_w: sp.csr_array
    cell_analysed: np.ndarray
    lsoa_pos: np.ndarray
    core: np.ndarray
    lsoa_values: np.ndarray
    lsoa_counts: np.ndarray
    lsoa_exposure: np.ndarray
    lsoa_w: sp.csr_array
    lsoa_analysed: np.ndarray


@dataclass(frozen=True)
class PartitionSummary:
    """A partition's owned cells and core LSOAs with what the national null needs.

    Cell arrays are aligned to ``cell_ids`` (national ids of the owned cells); LSOA arrays to
    ``lsoa_pos`` (positions of the core LSOAs in the national frame).
    """

    force: str
    cell_ids: np.ndarray
    cell_n: np.ndarray
    cell_harm: np.ndarray
    cell_exposure: np.ndarray
    cell_kde: np.ndarray
    lsoa_pos: np.ndarray
    lsoa_exposure: np.ndarray
    lsoa_kde: np.ndarray
    window_cells: int
    window_incidents: int


def owned_cells(grid: gpd.GeoDataFrame, lsoa: gpd.GeoDataFrame, core: np.ndarray) -> np.ndarray:
    """Cells of ``grid`` owned by the core: the LSOA holding the centre is a core LSOA (see the module notes).

    A centre on a shared edge goes to the lowest LSOA code; a cell whose centre lies outside
    every LSOA goes to the LSOA covering most of it (then the lowest code).
    """
    geoms = np.asarray(lsoa.geometry.values)
    codes = lsoa[C.LSOA_CODE].astype(str).to_numpy()
    rank = np.argsort(np.argsort(codes, kind="stable"), kind="stable")
    tree = shapely.STRtree(geoms)
    centres = shapely.points(cell_centres(grid))
    ci, li = tree.query(centres, predicate="intersects")
    owner = np.full(len(grid), -1, dtype=np.int64)
    if len(ci):
        order = np.lexsort((rank[li], ci))
        ci, li = ci[order], li[order]
        first = np.r_[True, ci[1:] != ci[:-1]]
        owner[ci[first]] = li[first]
    rest = np.flatnonzero(owner < 0)
    if len(rest):
        cells = np.asarray(grid.geometry.values)[rest]
        ri, li = tree.query(cells, predicate="intersects")
        area = shapely.area(shapely.intersection(cells[ri], geoms[li]))
        order = np.lexsort((rank[li], -area, ri))
        ri, li = ri[order], li[order]
        first = np.r_[True, ri[1:] != ri[:-1]] if len(ri) else np.zeros(0, bool)
        owner[rest[ri[first]]] = li[first]
    return (owner >= 0) & core[np.maximum(owner, 0)]


def _restricted(W: sp.csr_array, idx: np.ndarray) -> sp.csr_array:
    return sp.csr_array(W[idx][:, idx])


def prepare_partition(
    spec: PartitionSpec,
    lsoa: gpd.GeoDataFrame,
    incidents: pd.DataFrame,
    settings: GridSettings,
    lattice: Lattice,
) -> tuple[PartitionState, PartitionSummary]:
    """Step one of a partition: its grid, counts, KDE and exposure; the owned units for the national totals.

    Parameters
    ----------
    spec
        The partition.
    lsoa
        Its window LSOAs in ``spec.lsoa`` order: ``lsoa_code``, ``population``, ``n``, ``harm``
        (incidents assigned to each LSOA nationally) and geometry, EPSG:27700.
    incidents
        Incidents whose points lie in the window: ``x``, ``y``, ``harm``.
    settings, lattice
        The national grid settings and lattice.

    Returns
    -------
    state, summary
        The state for :func:`infer_partition` and the owned units for the driver.
    """
    with warnings.catch_warnings():
        # expected here and reported once by the driver: LSOAs without residents (Wales), narrow bandwidths
        warnings.simplefilter("ignore", HotspotsWarning)
        return _prepare(spec, lsoa, incidents, settings, lattice)


def _prepare(
    spec: PartitionSpec, lsoa: gpd.GeoDataFrame, incidents: pd.DataFrame, settings: GridSettings, lattice: Lattice
) -> tuple[PartitionState, PartitionSummary]:
    area = shapely.union_all(np.asarray(lsoa.geometry.values))
    grid = make_grid(area, cell_size=settings.cell_size, shape="square")
    owned = owned_cells(grid, lsoa, spec.core)
    pts = gpd.GeoDataFrame(
        {C.HARM: incidents[C.HARM].to_numpy(dtype=float)},
        geometry=gpd.points_from_xy(incidents["x"].to_numpy(), incidents["y"].to_numpy()),
        crs=C.CRS,
    )
    harm_w = None if settings.weights == "count" else C.HARM
    counts = count_in_units(pts, grid, key=CELL_ID)
    kde = (
        hotspot_kde(pts, grid, bandwidth=settings.bandwidth, kernel=settings.kernel, weights=harm_w).to_numpy()
        if len(pts)
        else np.zeros(len(grid))
    )
    exposure_col = None
    if settings.grid_exposure == RESIDENTS:
        grid[RESIDENTS] = areal_exposure(grid, lsoa).to_numpy()
        exposure_col = RESIDENTS
    e_cell, _ = unit_exposure(grid, exposure_col)
    n_cell = counts[C.N].to_numpy(dtype=float)
    v_cell = n_cell if settings.weights == "count" else counts[C.HARM_SUM].to_numpy(dtype=float)
    a_cell = np.flatnonzero(e_cell > 0)
    w_cell = _restricted(grid_weights(grid, distance=settings.neighbour_distance), a_cell)

    units = gpd.GeoDataFrame(
        {C.LSOA_CODE: lsoa[C.LSOA_CODE].to_numpy(), C.POPULATION: lsoa[C.POPULATION].to_numpy()},
        geometry=lsoa.geometry.values,
        crs=C.CRS,
    )
    e_lsoa, _ = unit_exposure(units, settings.lsoa_exposure)
    n_lsoa = lsoa[C.N].to_numpy(dtype=float)
    v_lsoa = n_lsoa if settings.weights == "count" else lsoa[C.HARM_SUM].to_numpy(dtype=float)
    a_lsoa = np.flatnonzero(e_lsoa > 0)
    w_lsoa = _restricted(contiguity_weights(units), a_lsoa)
    core_pos = np.flatnonzero(spec.core)
    with_kde = grid.assign(kde=kde)
    with_kde.attrs = dict(grid.attrs)
    kde_core = kde_per_lsoa(units.iloc[core_pos], with_kde, how=settings.kde_aggregate)

    ids = lattice.national_ids(grid)
    state = PartitionState(
        force=spec.force,
        cell_ids=ids,
        owned=owned,
        cell_values=v_cell,
        cell_counts=n_cell,
        cell_exposure=e_cell,
        cell_w=w_cell,
        cell_analysed=a_cell,
        lsoa_pos=spec.lsoa,
        core=np.asarray(spec.core, dtype=bool),
        lsoa_values=v_lsoa,
        lsoa_counts=n_lsoa,
        lsoa_exposure=e_lsoa,
        lsoa_w=w_lsoa,
        lsoa_analysed=a_lsoa,
    )
    summary = PartitionSummary(
        force=spec.force,
        cell_ids=ids[owned],
        cell_n=n_cell[owned],
        cell_harm=counts[C.HARM_SUM].to_numpy(dtype=float)[owned],
        cell_exposure=e_cell[owned],
        cell_kde=kde[owned],
        lsoa_pos=spec.lsoa[core_pos],
        lsoa_exposure=e_lsoa[core_pos],
        lsoa_kde=kde_core,
        window_cells=len(grid),
        window_incidents=len(pts),
    )
    return state, summary


@dataclass(frozen=True)
class NationalNull:
    """The national totals of one hot spot test (grid or LSOA): what every partition's null uses.

    Attributes
    ----------
    incidents
        N: incidents in the analysed units nationally.
    exposure
        E: total exposure of the analysed units nationally.
    dispersion
        phi, resolved nationally (:func:`hotspots.detect.methods.exact.resolve_dispersion`).
    mix
        The harm marks of the incidents (one mark of 1 for counts).
    max_steps
        Largest lattice sum computed exactly per unit.
    """

    incidents: float
    exposure: float
    dispersion: float
    mix: MarkMix
    max_steps: int


@dataclass(frozen=True)
class UnitTests:
    """Exact-test results for a partition's own units that were analysed (exposure > 0).

    ``which`` indexes the summary's owned cells (or core LSOAs); ``local`` is the observed
    neighbourhood sum, ``lam`` the expected neighbourhood count, ``z`` and ``p`` the test.
    """

    which: np.ndarray
    local: np.ndarray
    lam: np.ndarray
    z: np.ndarray
    p: np.ndarray


def _test(
    values: np.ndarray,
    exposure: np.ndarray,
    W: sp.csr_array,
    analysed: np.ndarray,
    mine: np.ndarray,
    null: NationalNull,
) -> UnitTests:
    """The exact test of the analysed units in ``mine`` under the national null."""
    local = np.asarray(W @ values[analysed])
    lam = null.incidents * np.asarray(W @ exposure[analysed]) / null.exposure
    keep = mine[analysed]
    if not keep.any():
        return UnitTests(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
    z, p, _ = exact_test(local[keep], lam[keep], null.mix, dispersion=null.dispersion, max_steps=null.max_steps)
    # position of each tested unit among the partition's own units (owned cells / core LSOAs)
    own_rank = np.cumsum(mine) - 1
    return UnitTests(which=own_rank[analysed[keep]], local=local[keep], lam=lam[keep], z=z, p=p)


def infer_partition(
    state: PartitionState, grid_null: NationalNull, lsoa_null: NationalNull
) -> tuple[UnitTests, UnitTests]:
    """Step two of a partition: the exact test of its owned cells and core LSOAs under the national nulls."""
    cells = _test(state.cell_values, state.cell_exposure, state.cell_w, state.cell_analysed, state.owned, grid_null)
    lsoas = _test(state.lsoa_values, state.lsoa_exposure, state.lsoa_w, state.lsoa_analysed, state.core, lsoa_null)
    return cells, lsoas


def check_cover(summaries: list[PartitionSummary], n_lsoa: int) -> None:
    """Raise when a cell is owned twice or an LSOA is in two cores or none (an internal error, never user input)."""
    ids = np.concatenate([s.cell_ids for s in summaries]) if summaries else np.zeros(0, np.int64)
    if len(np.unique(ids)) != len(ids):  # pragma: no cover - guards the ownership rule
        raise InputError("internal: a grid cell is owned by two partitions; please report this.")
    pos = np.concatenate([s.lsoa_pos for s in summaries]) if summaries else np.zeros(0, np.int64)
    if len(pos) != n_lsoa or len(np.unique(pos)) != n_lsoa:  # pragma: no cover
        raise InputError("internal: the partitions do not cover every LSOA exactly once; please report this.")


def partition_inputs(
    spec: PartitionSpec, lsoa: gpd.GeoDataFrame, incidents: pd.DataFrame, xy: tuple[np.ndarray, np.ndarray]
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The window's LSOAs and incidents (points in the window) of one partition, for :func:`prepare_partition`."""
    mask = in_window(xy[0], xy[1], spec.window)
    return lsoa.iloc[spec.lsoa].reset_index(drop=True), incidents.loc[mask].reset_index(drop=True)


__all__ = [
    "GridSettings",
    "Lattice",
    "NationalNull",
    "PartitionSpec",
    "PartitionState",
    "PartitionSummary",
    "UnitTests",
    "check_cover",
    "in_window",
    "infer_partition",
    "owned_cells",
    "partition_inputs",
    "plan_partitions",
    "prepare_partition",
]
