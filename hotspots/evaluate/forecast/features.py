"""Features of every grid cell for the forecasts, built from training months only.

The square :class:`Lattice` (neighbour sums and Gaussian smoothing by array filters), the
per-cell features of place (:func:`static_features`: NTE venues, deprivation) and of history
(:func:`cell_features`: counts over several windows, neighbours, smoothed counts), and an O(n)
PEI (:func:`pei_fast`) for the many comparisons of the ensemble's inner folds.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import ndimage
from scipy.spatial import cKDTree

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.evaluate.forecast.config import ForecastConfig

log = logging.getLogger(__name__)

# feature names (columns of :func:`cell_features`)
F_HISTORY = "history_months"  # months of training history at the origin
F_RATE_ALL = "rate_all"  # incidents per month over every training month (the long run)
F_LAG1 = "lag1"  # incidents in the last training month
F_RATE_3 = "rate_3"  # incidents per month over the last 3 training months
F_RATE_6 = "rate_6"  # incidents per month over the last 6 training months
F_RATE_12 = "rate_12"  # incidents per month over the last 12 months (only with long data)
F_MONTH = "month_of_year"  # calendar month (1-12) of the first forecast month (only with long data)
F_ACTIVE = "active_share"  # share of training months with at least one incident
F_SQRT = "sqrt_rate"  # mean of the square roots of the monthly counts (damps one-month bursts)
F_NEIGHBOUR = "neighbour_rate"  # long-run rate summed over the 8 queen neighbours
F_NEIGHBOUR_3 = "neighbour_rate_3"  # last-3-month rate summed over the 8 queen neighbours
F_VENUE_DENSITY = "venue_density_km2"  # NTE venues within venue_radius_m of the cell centre, per km2
F_VENUE_DISTANCE = "venue_distance_m"  # metres from the cell centre to the nearest NTE venue
F_IMD = C.IMD_RANK  # IMD rank of the cell's LSOA (1 = most deprived in England)
STATIC_FEATURES = [F_VENUE_DENSITY, F_VENUE_DISTANCE, F_IMD]
"""Columns of :func:`static_features` (the cell's place, not its history)."""


EPS = 1e-9
"""Tolerance of the selection arithmetic (``coverage * cells`` is a whole number within it), as the measures."""

TRUNCATE = 3.0
"""Gaussian kernels are cut at this many standard deviations (as ``scipy.ndimage.gaussian_filter``)."""


def smooth_feature(sigma_m: float) -> str:
    """Name of the Gaussian-smoothed long-run rate feature with bandwidth ``sigma_m`` metres."""
    return f"smooth_{sigma_m:g}m"


# --------------------------------------------------------------------------------------
# the lattice: neighbour sums and Gaussian smoothing by array filters
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lattice:
    """Where a grid's cells sit on their square lattice, for neighbour sums and smoothing.

    Attributes
    ----------
    nrows, ncols
        Lattice shape.
    cell_size
        Square side, metres.
    ids
        ``cell_id`` (``row * ncols + col``) of each grid cell, in the grid's row order.
    """

    nrows: int
    ncols: int
    cell_size: float
    ids: np.ndarray

    @classmethod
    def from_grid(cls, grid: gpd.GeoDataFrame) -> Lattice:
        """The lattice of a square grid from :func:`hotspots.units.make_grid`.

        Raises
        ------
        InputError
            The grid has no lattice information, or is hexagonal.
        """
        from hotspots.units import CELL_ID, grid_spec

        spec = grid_spec(grid)
        if spec["shape"] != "square":
            raise InputError(
                f"forecasts need a square grid (neighbour sums and smoothing run on its lattice), got "
                f"shape {spec['shape']!r}. Make the evaluation grid with shape='square'."
            )
        return cls(
            int(spec["nrows"]), int(spec["ncols"]), float(spec["cell_size"]), grid[CELL_ID].to_numpy(dtype=np.int64)
        )

    def _plane(self, values: np.ndarray) -> np.ndarray:
        plane = np.zeros(self.nrows * self.ncols)
        plane[self.ids] = values
        return plane.reshape(self.nrows, self.ncols)

    def neighbour_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` over each cell's 8 queen neighbours (the cell itself excluded).

        Two passes of a 3-cell running sum (separable), minus the cell itself.
        """
        plane = self._plane(values)
        box = ndimage.uniform_filter1d(plane, 3, axis=0, mode="constant")
        box = ndimage.uniform_filter1d(box, 3, axis=1, mode="constant")
        return (9.0 * box - plane).ravel()[self.ids]

    def smooth(self, values: np.ndarray, sigma_m: float) -> np.ndarray:
        """Gaussian-weighted local mean of ``values`` (bandwidth ``sigma_m`` metres, cut at 3 sigma).

        Cells off the study area count as zero (violence is not recorded there). The result is
        ``scipy.ndimage.gaussian_filter(plane, sigma_m / cell_size, mode="constant", truncate=3)``;
        when few cells are non-zero it is computed as the sum of one kernel patch per non-zero
        cell instead (the same sums in another order: equal up to rounding, much faster on a
        sparse force-wide grid).
        """
        v = np.asarray(values, dtype=float)
        sigma = sigma_m / self.cell_size
        radius = int(TRUNCATE * sigma + 0.5)
        taps = 2 * radius + 1
        nz = np.flatnonzero(v)
        if 15 * len(nz) * taps >= self.nrows * self.ncols:  # measured break-even: dense filter is cheaper
            return ndimage.gaussian_filter(self._plane(v), sigma, mode="constant", truncate=TRUNCATE).ravel()[self.ids]
        x = np.arange(-radius, radius + 1)
        kern = np.exp(-0.5 / (sigma * sigma) * x**2)
        kern = kern / kern.sum()
        row, col = np.divmod(self.ids[nz], self.ncols)
        rr = row[:, None, None] + x[None, :, None]
        cc = col[:, None, None] + x[None, None, :]
        w = v[nz][:, None, None] * kern[None, :, None] * kern[None, None, :]
        inside = (rr >= 0) & (rr < self.nrows) & (cc >= 0) & (cc < self.ncols)
        flat = (rr * self.ncols + cc)[inside]
        plane = np.bincount(flat, weights=w[inside], minlength=self.nrows * self.ncols)
        return plane[self.ids]


class History:
    """A cells x months matrix with the windows every forecast reads, computed once.

    Window means come from cumulative sums over the months, and Gaussian-smoothed windows from
    cumulative sums of smoothed months (smoothing is linear, so the smoothed mean of a window is
    the mean of the smoothed months): every fold, inner fold and feature reads the same arrays
    and no month is smoothed twice. A value at origin ``j`` sums months ``1..j`` only, in the same
    order whatever months follow, so caching leaks nothing from later months.

    Parameters
    ----------
    matrix
        Incidents (or harm) per cell and month.
    lattice
        The grid's :class:`Lattice` (same cells, same order).
    cache_bytes
        Memory allowed to the smoothed cumulative sums; beyond it each window is smoothed when
        asked (slower, same values up to rounding).
    """

    TRANSFORMS = ("raw", "sqrt", "active")

    def __init__(self, matrix: np.ndarray, lattice: Lattice, *, cache_bytes: float = 768e6) -> None:
        m = np.asarray(matrix, dtype=float)
        if m.ndim != 2:  # noqa: PLR2004 (a matrix has two axes)
            raise InputError(f"matrix must be cells x months (2-D), got shape {m.shape}.")
        if len(lattice.ids) != m.shape[0]:
            raise InputError(f"lattice has {len(lattice.ids)} cells but the matrix has {m.shape[0]} rows.")
        if (m < 0).any() or not np.isfinite(m).all():
            raise InputError("matrix must hold finite counts >= 0.")
        self.matrix = m
        self.lattice = lattice
        self.cache_bytes = float(cache_bytes)
        self._cum: dict[str, np.ndarray] = {}
        self._smooth: dict[tuple[str, float], np.ndarray] = {}
        self._neighbours: np.ndarray | None = None

    @property
    def n_months(self) -> int:
        """Months (columns) of the matrix."""
        return int(self.matrix.shape[1])

    def _monthly(self, transform: str) -> np.ndarray:
        if transform == "raw":
            return self.matrix
        if transform == "sqrt":
            return np.sqrt(self.matrix)
        if transform == "active":
            return (self.matrix > 0).astype(float)
        raise InputError(f"transform must be one of {', '.join(self.TRANSFORMS)}, got {transform!r}.")

    def _cumulative(self, transform: str) -> np.ndarray:
        """Months + 1 rows (0 first) x cells: row ``j`` sums months ``1..j`` (rows are contiguous)."""
        if transform not in self._cum:
            x = self._monthly(transform)
            c = np.zeros((x.shape[1] + 1, x.shape[0]))
            np.cumsum(x.T, axis=0, out=c[1:])
            self._cum[transform] = c
        return self._cum[transform]

    def _span(self, j: int, window: int | None) -> tuple[int, int]:
        if isinstance(j, bool) or not isinstance(j, (int, np.integer)) or not 1 <= j <= self.n_months:
            raise InputError(f"origin must be a whole number of months in 1..{self.n_months}, got {j!r}.")
        w = int(j) if window is None else min(int(window), int(j))
        return int(j) - w, w

    @staticmethod
    def _diff(c: np.ndarray, j: int, lo: int, w: int, rows: np.ndarray | None) -> np.ndarray:
        if rows is None:
            return (c[j] - c[lo]) / w
        return (c[j, rows] - c[lo, rows]) / w

    def window(
        self, j: int, window: int | None = None, transform: str = "raw", *, rows: np.ndarray | None = None
    ) -> np.ndarray:
        """Mean per month over months ``j - w + 1..j`` (``w = min(window, j)``; all ``j`` months when None).

        ``transform``: ``"raw"`` counts, ``"sqrt"`` their square roots, ``"active"`` 1 where a month
        has an incident. ``rows``: only these cells (positions), in that order.
        """
        lo, w = self._span(j, window)
        return self._diff(self._cumulative(transform), j, lo, w, rows)

    def neighbours(self, j: int, window: int | None = None, *, rows: np.ndarray | None = None) -> np.ndarray:
        """:meth:`window` summed over each cell's 8 queen neighbours (:meth:`Lattice.neighbour_sum`)."""
        lo, w = self._span(j, window)
        if self._neighbours is None:
            x = self.matrix
            c = np.zeros((x.shape[1] + 1, x.shape[0]))
            for i in range(x.shape[1]):
                col = x[:, i]
                c[i + 1] = c[i] + (self.lattice.neighbour_sum(col) if col.any() else 0.0)
            self._neighbours = c
        return self._diff(self._neighbours, j, lo, w, rows)

    def smoothed(
        self,
        j: int,
        sigma_m: float,
        window: int | None = None,
        transform: str = "raw",
        *,
        rows: np.ndarray | None = None,
    ) -> np.ndarray:
        """:meth:`window` smoothed by :meth:`Lattice.smooth` with bandwidth ``sigma_m`` metres."""
        lo, w = self._span(j, window)
        key = (transform, float(sigma_m))
        if key not in self._smooth:
            need = 8.0 * self.matrix.shape[0] * (self.n_months + 1) * (len(self._smooth) + 1)
            if need > self.cache_bytes:
                out = self.lattice.smooth(self.window(j, window, transform), sigma_m)
                return out if rows is None else out[rows]
            x = self._monthly(transform)
            c = np.zeros((x.shape[1] + 1, x.shape[0]))
            for i in range(x.shape[1]):
                col = x[:, i]
                c[i + 1] = c[i] + (self.lattice.smooth(col, sigma_m) if col.any() else 0.0)
            self._smooth[key] = c
        return self._diff(self._smooth[key], j, lo, w, rows)


def static_features(
    grid: gpd.GeoDataFrame,
    *,
    venues: gpd.GeoDataFrame | None = None,
    lsoa: gpd.GeoDataFrame | None = None,
    venue_radius_m: float = 200.0,
) -> pd.DataFrame:
    """Per-cell features of place: NTE venue density and distance, deprivation of the LSOA.

    Parameters
    ----------
    grid
        The evaluation grid (EPSG:27700).
    venues
        NTE venues (points, e.g. ``study.venues``); None gives NaN venue features.
    lsoa
        LSOAs with an ``imd_rank`` column (``study.lsoa``); None gives NaN ranks.
    venue_radius_m
        Radius of the density count, metres.

    Returns
    -------
    pandas.DataFrame
        :data:`STATIC_FEATURES`, one row per grid cell (grid order, RangeIndex):
        ``venue_density_km2`` (venues within ``venue_radius_m`` of the cell centre per km2),
        ``venue_distance_m`` (metres to the nearest venue) and ``imd_rank`` (IoD2019 rank of
        the LSOA holding the cell's representative point, nearest LSOA when none; 1 = most
        deprived; NaN when unknown).
    """
    from hotspots.evaluate.scores import cells_to_units
    from hotspots.units import cell_centres, point_xy

    n = len(grid)
    out = pd.DataFrame(
        {F_VENUE_DENSITY: np.full(n, np.nan), F_VENUE_DISTANCE: np.full(n, np.nan), F_IMD: np.full(n, np.nan)}
    )
    if n == 0:
        return out
    xy = cell_centres(grid)
    if venues is not None and len(venues):
        v = venues.to_crs(grid.crs) if venues.crs is not None and not venues.crs.equals(grid.crs) else venues
        tree = cKDTree(point_xy(v))
        area_km2 = math.pi * venue_radius_m**2 / 1e6
        out[F_VENUE_DENSITY] = tree.query_ball_point(xy, venue_radius_m, return_length=True) / area_km2
        out[F_VENUE_DISTANCE] = tree.query(xy)[0]
    if lsoa is not None and len(lsoa) and F_IMD in lsoa.columns:
        unit = cells_to_units(grid, lsoa)
        ranks = pd.to_numeric(lsoa[F_IMD], errors="coerce").to_numpy(dtype=float)
        out[F_IMD] = np.where(unit >= 0, ranks[np.clip(unit, 0, None)], np.nan)
    return out


def feature_names(cfg: ForecastConfig, *, seasonal: bool) -> list[str]:
    """The columns of :func:`cell_features` for these settings."""
    names = [F_HISTORY, F_RATE_ALL, F_LAG1, F_RATE_3, F_RATE_6]
    if seasonal:
        names += [F_RATE_12, F_MONTH]
    names += [F_ACTIVE, F_SQRT, F_NEIGHBOUR, F_NEIGHBOUR_3]
    names += [smooth_feature(s) for s in cfg.smooth_m]
    return names + STATIC_FEATURES


def feature_array(
    history: History,
    k: int,
    *,
    static: pd.DataFrame | None = None,
    start_month: int | None = None,
    seasonal: bool = False,
    cfg: ForecastConfig | None = None,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`cell_features` as a float array (columns :func:`feature_names`), for ``rows`` (positions) or all cells."""
    cfg = cfg or ForecastConfig()
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= history.n_months:
        raise InputError(f"origin k must be a whole number of months in 1..{history.n_months}, got {k!r}.")
    if seasonal and start_month is None:
        raise InputError("seasonal features need start_month, the calendar month (1-12) of the first column.")
    k = int(k)
    n_cells = history.matrix.shape[0]
    if static is not None and len(static) != n_cells:
        raise InputError(
            f"static features have {len(static)} rows but the matrix has {n_cells} cells; build them on the same grid."
        )
    n = n_cells if rows is None else len(rows)
    names = feature_names(cfg, seasonal=seasonal)
    cols: dict[str, Any] = {
        F_HISTORY: float(k),
        F_RATE_ALL: history.window(k, rows=rows),
        F_LAG1: history.window(k, 1, rows=rows),
        F_RATE_3: history.window(k, 3, rows=rows),
        F_RATE_6: history.window(k, 6, rows=rows),
        F_ACTIVE: history.window(k, None, "active", rows=rows),
        F_SQRT: history.window(k, None, "sqrt", rows=rows),
        F_NEIGHBOUR: history.neighbours(k, rows=rows),
        F_NEIGHBOUR_3: history.neighbours(k, 3, rows=rows),
    }
    if seasonal:
        cols[F_RATE_12] = history.window(k, 12, rows=rows)
        cols[F_MONTH] = float((int(start_month or 1) - 1 + k) % 12 + 1)
    for s in cfg.smooth_m:
        cols[smooth_feature(s)] = history.smoothed(k, s, rows=rows)
    for c in STATIC_FEATURES:
        if static is not None and c in static.columns:
            v = static[c].to_numpy(dtype=float)
            cols[c] = v if rows is None else v[rows]
        else:
            cols[c] = np.nan
    out = np.empty((n, len(names)), order="F")  # filled column by column
    for i, name in enumerate(names):
        out[:, i] = cols[name]
    return out


def cell_features(
    history: History,
    k: int,
    *,
    static: pd.DataFrame | None = None,
    start_month: int | None = None,
    seasonal: bool = False,
    cfg: ForecastConfig | None = None,
) -> pd.DataFrame:
    """Features of every cell at forecast origin ``k``, from the first ``k`` months only.

    Parameters
    ----------
    history
        The :class:`History` of the incidents per cell and month.
    k
        Months of history: the features use months ``1..k`` and nothing after them.
    static
        :func:`static_features` of the grid (None: NaN columns).
    start_month
        Calendar month (1-12) of the matrix's first column; needed with ``seasonal``.
    seasonal
        Add the 12-month window and the month of year of the first forecast month (use only
        when the training data are long enough, see ``[forecast] seasonal_min_months``).
    cfg
        Settings (smoothing bandwidths).

    Returns
    -------
    pandas.DataFrame
        :func:`feature_names` columns, one row per cell: ``history_months`` (k), ``rate_all``,
        ``lag1`` (last month), ``rate_3``, ``rate_6`` (incidents per month over all, the last 3,
        the last 6 months, or fewer when fewer exist), ``rate_12`` and ``month_of_year`` (seasonal
        only), ``active_share`` (share of months with an incident), ``sqrt_rate`` (mean square root
        of the monthly counts), ``neighbour_rate`` / ``neighbour_rate_3`` (long-run / last-3-month
        rate summed over the 8 queen neighbours), ``smooth_<s>m`` (Gaussian-smoothed long-run rate,
        bandwidth s metres), and the static features.

    Raises
    ------
    InputError
        ``k`` outside 1..months, ``seasonal`` without ``start_month``, static features of another grid.
    """
    cfg = cfg or ForecastConfig()
    arr = feature_array(history, k, static=static, start_month=start_month, seasonal=seasonal, cfg=cfg)
    return pd.DataFrame(arr, columns=feature_names(cfg, seasonal=seasonal))


# --------------------------------------------------------------------------------------
# PEI at one coverage, O(n) (the inner folds compare many settings)
# --------------------------------------------------------------------------------------


def most_hits(test: np.ndarray, coverage: float) -> float:
    """The most test incidents any selection of ``coverage * n`` cells holds (PEI's denominator)."""
    n = len(test)
    k = coverage * n
    whole = min(math.floor(k + EPS), n)
    desc = np.sort(test)[::-1]
    frac = k - whole
    return float(desc[:whole].sum() + (frac * desc[whole] if frac > EPS and whole < n else 0.0))


def pei_fast(scores: np.ndarray, test: np.ndarray, coverage: float, max_hits: float | None = None) -> float:
    """PEI of ``scores`` at one ``coverage``, identical to :func:`hotspots.evaluate.measures.pei`.

    Uses a partial sort (``numpy.partition``) instead of a full one; cells tied at the cut-off
    share the remaining selection equally, as in :func:`hotspots.evaluate.measures.selection`.
    NaN when the test window holds no incidents.
    """
    s = np.asarray(scores, dtype=float)
    t = np.asarray(test, dtype=float)
    n = len(s)
    k = coverage * n
    kk = max(1, math.ceil(k - EPS))
    pos = s[s > 0]  # partition the positive scores only: numpy's partition crawls through many tied zeros
    if len(pos) >= kk:
        cut = np.partition(pos, len(pos) - kk)[len(pos) - kk]
    else:
        rest = np.sort(s[s <= 0])
        cut = rest[len(rest) - (kk - len(pos))]
    above = s > cut
    tied = s == cut
    frac = (k - above.sum()) / tied.sum()
    hits = float(t[above].sum() + frac * t[tied].sum())
    mh = most_hits(t, coverage) if max_hits is None else max_hits
    return hits / mh if mh > 0 else float("nan")
