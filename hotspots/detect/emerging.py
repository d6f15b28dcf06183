"""Emerging hot spots: a calibrated test per cell-month, Mann-Kendall trends, ArcGIS's patterns.

:func:`emerging_hotspots` bins one source's incidents into grid cells by month (the
space-time cube) over **consecutive months only** (a gap is never filled with zeros: the
longest consecutive run is analysed and the rest named, or an error names the gap), keeps the
cells inside the source's coverage that hold at least one incident (as ArcGIS analyses only
locations with data), tests every bin's space-time neighbourhood sum exactly under the
exposure null ``lambda(i, t) = pi_i N_t`` (:func:`hotspots.detect.cube.cube_exact`; negative
binomial with the Pearson dispersion of the cell-month counts by default), controls the false
discovery rate over the cells x months, tests each cell's series for a monotonic trend
(:func:`hotspots.detect.trend.mann_kendall`), and classifies each cell into the patterns of
ArcGIS Pro's Emerging Hot Spot Analysis (:func:`hotspots.detect.patterns.classify_emerging`).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.detect._marks import mark_mix
from hotspots.detect.cube import cube_exact, cube_gistar, space_time_weights
from hotspots.detect.gistar import MIN_UNITS, fdr_bh, grid_weights
from hotspots.detect.methods.exact import DEFAULT_DISPERSION, check_dispersion
from hotspots.detect.patterns import (
    COLD_CLASSES,
    CONSECUTIVE_COLD,
    CONSECUTIVE_HOT,
    DIMINISHING_COLD,
    DIMINISHING_HOT,
    EMERGING_CLASSES,
    HISTORICAL_COLD,
    HISTORICAL_HOT,
    HOT_CLASSES,
    INTENSIFYING_COLD,
    INTENSIFYING_HOT,
    MIN_MONTHS_ARCGIS,
    NEW_COLD,
    NEW_HOT,
    NO_PATTERN,
    NOT_ANALYSED,
    OSCILLATING_COLD,
    OSCILLATING_HOT,
    PERSISTENCE,
    PERSISTENT_COLD,
    PERSISTENT_HOT,
    SPORADIC_COLD,
    SPORADIC_HOT,
    classify_emerging,
)
from hotspots.detect.trend import MIN_TIMES, mann_kendall
from hotspots.errors import HotspotsWarning, InputError
from hotspots.months import MONTH_PATTERN, format_months, longest_run, missing_months
from hotspots.units import CELL_ID, assign_cells, grid_spec
from hotspots.validate import check_points, check_projected

if TYPE_CHECKING:
    from hotspots.units import AreaLike

log = logging.getLogger(__name__)

# --- output columns -------------------------------------------------------------------
EMERGING_CLASS = C.EMERGING_CLASS  # one of EMERGING_CLASSES, or NOT_ANALYSED
TREND_TAU = "trend_tau"  # Kendall tau-b of the cell's monthly values against time
TREND_P = "trend_p"  # two-sided Mann-Kendall p of that trend
GI_TREND_TAU = "gi_trend_tau"  # Kendall tau-b of the cell's monthly strength z against time
GI_TREND_P = "gi_trend_p"  # its Mann-Kendall p (drives intensifying / diminishing)
HOT_MONTHS = "hot_months"  # months the cell is a significant hot spot
COLD_MONTHS = "cold_months"  # months the cell is a significant cold spot
FINAL_GI_Z = "final_gi_z"  # strength z of the last month

EMERGING_COLUMNS = [
    CELL_ID,
    EMERGING_CLASS,
    TREND_TAU,
    TREND_P,
    GI_TREND_TAU,
    GI_TREND_P,
    HOT_MONTHS,
    COLD_MONTHS,
    FINAL_GI_Z,
]
"""Columns of :func:`emerging_hotspots` (a plain DataFrame aligned to the grid)."""

INFERENCES = ("exact", "analytic")
"""Tests of a bin: the exact test under the exposure null (default) or ArcGIS's analytic space-time Gi*."""


@dataclass(frozen=True)
class MonthPlan:
    """The months an emerging hot spot analysis uses, and those it cannot.

    Attributes
    ----------
    months
        The months analysed: consecutive, ascending.
    with_data
        Every candidate month holding at least one incident.
    gaps
        Months without data between the first and the last month with data.
    left_out
        Months with data outside the analysed run (because of a gap).
    """

    months: list[str]
    with_data: list[str]
    gaps: list[str]
    left_out: list[str]

    def describe(self) -> dict[str, Any]:
        """Plain summary for the manifest."""
        return {
            "months": f"{self.months[0]}..{self.months[-1]}",
            "n_months": len(self.months),
            "month_gaps": format_months(self.gaps) if self.gaps else "none",
            "months_left_out": format_months(self.left_out) if self.left_out else "none",
        }


def plan_months(month_col: pd.Series, months: list[str] | None, *, min_months: int) -> MonthPlan:
    """Choose consecutive months with data: all of them, or the longest run when there are gaps.

    Parameters
    ----------
    month_col
        The incidents' ``month`` (YYYY-MM).
    months
        Months asked for (None = every month with data).
    min_months
        Fewest consecutive months accepted.

    Raises
    ------
    InputError
        No month with data; months not written YYYY-MM; fewer than ``min_months`` months, or
        fewer than ``min_months`` consecutive ones (the message names the gaps).
    """
    present = set(month_col.dropna().astype(str).unique())
    if months is None:
        if not present:
            raise InputError("incidents have no months: emerging hot spots need monthly data.")
        asked = sorted(present)
    else:
        asked = sorted({str(m) for m in months})
        if not asked:
            raise InputError("months is empty: pass the months to analyse (YYYY-MM), or None for all.")
        for m in asked:
            if MONTH_PATTERN.match(m) is None:
                raise InputError(f"months must be written YYYY-MM, got {m!r}.")
    with_data = sorted(set(asked) & present)
    if not with_data:
        raise InputError(f"no incidents fall in the months {asked[0]} to {asked[-1]}.")
    run = longest_run(with_data)
    gaps = missing_months(with_data)
    left_out = sorted(set(with_data) - set(run))
    plan = MonthPlan(months=run, with_data=with_data, gaps=gaps, left_out=left_out)
    _check_length(plan, min_months)
    return plan


def _check_length(plan: MonthPlan, min_months: int) -> None:
    T = len(plan.months)
    if plan.gaps:
        gaps = f"no data for {format_months(plan.gaps)} ({len(plan.gaps)} month(s))"
        if min_months > T:
            raise InputError(
                f"the months with data ({format_months(plan.with_data)}) are not consecutive: {gaps}. Months "
                f"without data are never counted as zero; the longest consecutive run, {format_months(plan.months)}, "
                f"has {T} month(s), but emerging hot spot analysis needs at least {min_months} consecutive months. "
                f"Use a source with a complete monthly series."
            )
        warnings.warn(
            f"the months with data are not consecutive ({gaps}); emerging hot spots are analysed over the longest "
            f"consecutive run, {format_months(plan.months)} ({T} months), and leave out "
            f"{format_months(plan.left_out)}.",
            HotspotsWarning,
            stacklevel=3,
        )
    elif min_months > T:
        raise InputError(
            f"only {T} month(s) ({plan.months[0]} to {plan.months[-1]}); emerging hot spot analysis "
            f"needs at least {min_months} monthly time steps (ArcGIS requires 10) for the "
            "Mann-Kendall trend to mean anything. Use a source with a longer monthly series."
        )
    if T < MIN_MONTHS_ARCGIS:
        warnings.warn(
            f"only {T} months: fewer than the 10 time steps ArcGIS requires; a Mann-Kendall "
            "trend over so few months can rarely be significant, so intensifying and "
            "diminishing patterns will be rare.",
            HotspotsWarning,
            stacklevel=3,
        )


def cell_exposure(
    grid: gpd.GeoDataFrame, *, area: AreaLike | None = None, exposure: npt.ArrayLike | None = None
) -> np.ndarray:
    """Exposure of each grid cell: ``exposure`` as given, else its area inside ``area`` (or its whole area).

    Cells that do not overlap ``area`` get 0 either way (they are outside the source's coverage).
    """
    cells = np.asarray(grid.geometry.values)
    if exposure is not None:
        e = np.asarray(exposure, dtype=float).ravel()
        if len(e) != len(grid):
            raise InputError(f"exposure has {len(e)} values but the grid has {len(grid)} cells; they must match.")
        if not (np.isfinite(e).all() and (e >= 0).all()):
            raise InputError("exposure must be a finite number >= 0 for every cell.")
    else:
        e = shapely.area(cells)
    if area is not None:
        geom = area if isinstance(area, shapely.Geometry) else shapely.union_all(np.asarray(area.geometry.values))
        inside = shapely.area(shapely.intersection(cells, geom))
        e = inside if exposure is None else np.where(inside > 0, e, 0.0)
    return np.asarray(e, dtype=float)


def emerging_hotspots(
    incidents: gpd.GeoDataFrame,
    grid: gpd.GeoDataFrame,
    *,
    months: list[str] | None = None,
    min_months: int = MIN_MONTHS_ARCGIS,
    alpha: float = 0.05,
    value: Literal["n", "harm"] = "n",
    time_window: int = 1,
    distance: float | None = None,
    fdr: bool = True,
    area: AreaLike | None = None,
    exposure: npt.ArrayLike | None = None,
    inference: str = "exact",
    dispersion: float | str | None = DEFAULT_DISPERSION,
) -> pd.DataFrame:
    """Classify grid cells by how their hot-spot status changed month by month.

    Parameters
    ----------
    incidents
        One source's incidents (canonical frame: ``month`` ``"YYYY-MM"``, and ``harm`` when
        ``value="harm"``) in the grid's projected CRS.
    grid
        A grid from :func:`hotspots.units.make_grid`.
    months
        Months to analyse, ``"YYYY-MM"`` (default: every month with data). Only consecutive
        months with data are analysed: with a gap, the longest consecutive run (the latest of
        equally long runs), with a warning naming the gap and the months left out.
    min_months
        Fewest consecutive months accepted (default 10, ArcGIS's minimum). Fewer raise
        :class:`InputError`; a value below 10 is allowed but warns.
    alpha
        Significance level of a hot/cold bin (on the FDR-adjusted p when ``fdr``) and of
        the Mann-Kendall trend.
    value
        Per-bin value: ``"n"`` (incident count, default, as ArcGIS's COUNT) or ``"harm"``.
    time_window
        Earlier months in each bin's neighbourhood (default 1, as ArcGIS's default
        neighbourhood time step; 0 = each month alone).
    distance
        Spatial neighbourhood: None (default) = queen neighbours on the grid, else a
        fixed distance band in metres (:func:`hotspots.detect.gistar.grid_weights`).
    fdr
        Benjamini-Hochberg over all analysed bins (cells x months; default True).
    area
        The source's coverage (a shapely geometry or polygons, e.g. the districts it covers):
        cells outside it are not analysed, and a cell's area exposure is its part inside it.
        None = the whole grid.
    exposure
        Per-cell exposure aligned to ``grid`` (e.g. residents); None = area (inside ``area``).
    inference
        ``"exact"`` (default: the exact test of :func:`hotspots.detect.cube.cube_exact`) or
        ``"analytic"`` (ArcGIS's space-time Gi* with normal p, not calibrated).
    dispersion
        Exact test only: ``"pearson"`` (default, estimated from the cell-month counts), or a
        number >= 1 (1 = Poisson).

    Returns
    -------
    pandas.DataFrame
        Aligned to ``grid`` (same index, same order), columns :data:`EMERGING_COLUMNS`:

        ``cell_id``
            The grid's cell id.
        ``emerging_class``
            One of :data:`EMERGING_CLASSES`, or ``"not analysed"`` (outside the coverage, or no
            incident in the months analysed).
        ``trend_tau``, ``trend_p``
            Mann-Kendall trend of the cell's monthly ``value`` (tau-b, two-sided p), as
            ArcGIS's space-time cube trend.
        ``gi_trend_tau``, ``gi_trend_p``
            Mann-Kendall trend of the cell's monthly strength z (decides intensifying /
            persistent / diminishing).
        ``hot_months``, ``cold_months``
            Months the cell was a significant hot / cold spot (hot only in months with an
            incident in the cell itself).
        ``final_gi_z``
            Strength z in the final month.

        Numbers are NaN (counts -1) for ``"not analysed"`` cells. ``attrs["auto"]`` records
        the months (and any gap and months left out), cells analysed, incidents used and left
        out, the test and its dispersion; ``attrs["class_counts"]`` the cells per class.

    Raises
    ------
    InputError
        Too few (consecutive) months, months not ``YYYY-MM``, no incidents in the months, a
        geographic CRS, a grid not made by ``make_grid``, fewer than two cells to analyse, or
        bad options.

    Notes
    -----
    The null of the exact test: month t's N_t incidents (of the analysed cells) fall in cell i
    with probability pi_i, its share of the exposure; a bin's space-time neighbourhood sum is
    then compound Poisson (negative binomial with dispersion phi) with mean
    ``(W pi)_i sum_k N_{t-k}``. p-values are two-sided, BH-adjusted over the cube (Benjamini &
    Hochberg 1995). Trends use the Mann-Kendall test. Classes follow ArcGIS Pro's "How
    Emerging Hot Spot Analysis works" (:func:`classify_emerging`). Differences from ArcGIS:
    the exact test instead of the normal Gi* p; significance is ``alpha`` on FDR q; a cell is
    hot in a month only with an incident of its own that month.
    """
    _check_options(incidents, grid, value=value, time_window=time_window, alpha=alpha, min_months=min_months)
    if inference not in INFERENCES:
        raise InputError(f"inference must be one of {list(INFERENCES)}, got {inference!r}.")
    check_dispersion(dispersion)
    plan = plan_months(incidents[C.MONTH].astype("string"), months, min_months=min_months)
    cube = _build_cube(incidents, grid, plan, value=value, area=area, exposure=exposure)
    sub = grid.iloc[cube.cells]
    sub.attrs = dict(grid.attrs)
    Ws = grid_weights(sub, distance=distance)
    if inference == "exact":
        mix = mark_mix(cube.marks) if value == "harm" else mark_mix([1.0])
        Z, P, info = cube_exact(
            cube.values, cube.counts, Ws, cube.exposure, mix, time_window=time_window, dispersion=dispersion
        )
    else:
        Z, P = cube_gistar(cube.values, Ws, time_window=time_window)
        info = {}
    Q = fdr_bh(P.ravel()).reshape(P.shape) if fdr else P
    hot = (alpha > Q) & (Z > 0) & (cube.counts >= 1)
    cold = (alpha > Q) & (Z < 0)
    tau, tp = mann_kendall(cube.values)
    gtau, gp = mann_kendall(Z)
    cls = classify_emerging(hot, cold, gtau, gp, alpha=alpha)
    stats_ = {
        EMERGING_CLASS: cls,
        TREND_TAU: tau,
        TREND_P: tp,
        GI_TREND_TAU: gtau,
        GI_TREND_P: gp,
        HOT_MONTHS: hot.sum(axis=1),
        COLD_MONTHS: cold.sum(axis=1),
        FINAL_GI_Z: Z[:, -1],
    }
    out = _table(grid, cube.cells, stats_)
    counts = pd.Series(cls).value_counts()
    out.attrs["class_counts"] = {c: int(counts.get(c, 0)) for c in EMERGING_CLASSES}
    out.attrs["auto"] = {
        **plan.describe(),
        "cells_analysed": len(cube.cells),
        "cells_rule": "cells inside the source's coverage holding at least one incident in the months analysed",
        "value": value,
        "time_window": time_window,
        "neighbours": "queen" if distance is None else f"{distance:g} m band",
        "alpha": alpha,
        "fdr": fdr,
        "inference": inference,
        **info,
        "incidents_used": cube.used,
        "incidents_outside_analysed_cells": cube.outside,
        "incidents_outside_months": cube.outside_months,
    }
    log.info("emerging hot spots: %s", out.attrs["auto"])
    return out


@dataclass(frozen=True)
class _Cube:
    cells: np.ndarray  # row positions in the grid of the analysed cells
    values: np.ndarray  # (cells, months) tested values
    counts: np.ndarray  # (cells, months) incident counts
    exposure: np.ndarray  # (cells,) exposure
    marks: np.ndarray  # harm of the incidents used
    used: int
    outside: int
    outside_months: int


def _build_cube(
    incidents: gpd.GeoDataFrame, grid: gpd.GeoDataFrame, plan: MonthPlan, *, value: str, area: Any, exposure: Any
) -> _Cube:
    """Bin the incidents of the planned months into the analysed cells (exposure > 0, at least one incident)."""
    tindex = pd.Index(plan.months).get_indexer(incidents[C.MONTH].astype("string").fillna(""))
    sel = tindex >= 0
    inc = incidents.iloc[np.flatnonzero(sel)]
    tindex = tindex[sel]
    pos = assign_cells(inc, grid)
    in_grid = pos >= 0
    if not in_grid.any():
        raise InputError(
            f"none of the {len(inc):,} incidents of {plan.months[0]} to {plan.months[-1]} falls inside a grid "
            "cell; check that the grid covers the incidents' area (and that both are in the same CRS)."
        )
    e = cell_exposure(grid, area=area, exposure=exposure)
    has = np.bincount(pos[in_grid], minlength=len(grid)) > 0
    cells = np.flatnonzero(has & (e > 0))
    if len(cells) < MIN_UNITS:
        raise InputError(
            f"only {len(cells)} grid cell(s) inside the source's coverage hold an incident; emerging hot spots need at "
            f"least {MIN_UNITS} (use a smaller cell size, or check the source's area)."
        )
    sub_pos = np.full(len(grid), -1)
    sub_pos[cells] = np.arange(len(cells))
    cell = np.where(in_grid, sub_pos[np.where(in_grid, pos, 0)], -1)
    keep = cell >= 0
    harm = inc[C.HARM].to_numpy(dtype=float)[keep] if value == "harm" else np.ones(int(keep.sum()))
    shape = (len(cells), len(plan.months))
    counts = np.zeros(shape)
    np.add.at(counts, (cell[keep], tindex[keep]), 1.0)
    values = counts if value == "n" else np.zeros(shape)
    if value == "harm":
        np.add.at(values, (cell[keep], tindex[keep]), harm)
    outside = int((~keep).sum())
    if outside:
        warnings.warn(
            f"{outside:,} of the {len(inc):,} incidents of {format_months(plan.months)} lie outside the analysed cells "
            "(outside the grid or the source's coverage); emerging hot spots leave them out.",
            HotspotsWarning,
            stacklevel=3,
        )
    return _Cube(
        cells=cells,
        values=values,
        counts=counts,
        exposure=e[cells],
        marks=harm,
        used=int(keep.sum()),
        outside=outside,
        outside_months=int((~sel).sum()),
    )


def _table(grid: gpd.GeoDataFrame, cells: np.ndarray, stats_: dict[str, np.ndarray]) -> pd.DataFrame:
    """The output frame aligned to ``grid``: NaN (counts -1, class not analysed) outside ``cells``."""
    n = len(grid)
    cols: dict[str, Any] = {CELL_ID: grid[CELL_ID].to_numpy()}
    for col in EMERGING_COLUMNS[1:]:
        if col == EMERGING_CLASS:
            full: np.ndarray = np.full(n, NOT_ANALYSED, dtype=object)
        elif col in (HOT_MONTHS, COLD_MONTHS):
            full = np.full(n, -1, dtype=np.int64)
        else:
            full = np.full(n, np.nan)
        full[cells] = stats_[col]
        cols[col] = full
    return pd.DataFrame(cols, index=grid.index)


def _check_options(
    incidents: gpd.GeoDataFrame, grid: gpd.GeoDataFrame, *, value: str, time_window: Any, alpha: Any, min_months: Any
) -> None:
    check_points(incidents, what="incidents", weights="harm" if value == "harm" else None)
    check_projected(grid, "grid")
    grid_spec(grid)
    if value not in ("n", "harm"):
        raise InputError(f"value must be 'n' or 'harm', got {value!r}.")
    if not (isinstance(time_window, int) and time_window >= 0):
        raise InputError(f"time_window must be a whole number of months >= 0, got {time_window!r}.")
    if not (isinstance(alpha, float) and 0 < alpha < 1):
        raise InputError(f"alpha must be a probability between 0 and 1, got {alpha!r}.")
    if not (isinstance(min_months, int) and min_months >= MIN_TIMES):
        raise InputError(
            f"min_months must be a whole number >= {MIN_TIMES} (Mann-Kendall needs {MIN_TIMES}), got {min_months!r}."
        )
    if C.MONTH not in incidents.columns:
        raise InputError(f"incidents have no {C.MONTH!r} column (YYYY-MM); use the canonical incident frame.")
    if incidents.crs is not None and grid.crs is not None and not incidents.crs.equals(grid.crs):
        raise InputError(
            f"incidents ({incidents.crs}) and grid ({grid.crs}) differ in CRS; reproject one with `.to_crs()`."
        )


__all__ = [
    "COLD_CLASSES",
    "COLD_MONTHS",
    "CONSECUTIVE_COLD",
    "CONSECUTIVE_HOT",
    "DIMINISHING_COLD",
    "DIMINISHING_HOT",
    "EMERGING_CLASS",
    "EMERGING_CLASSES",
    "EMERGING_COLUMNS",
    "FINAL_GI_Z",
    "GI_TREND_P",
    "GI_TREND_TAU",
    "HISTORICAL_COLD",
    "HISTORICAL_HOT",
    "HOT_CLASSES",
    "HOT_MONTHS",
    "INFERENCES",
    "INTENSIFYING_COLD",
    "INTENSIFYING_HOT",
    "MIN_MONTHS_ARCGIS",
    "NEW_COLD",
    "NEW_HOT",
    "NOT_ANALYSED",
    "NO_PATTERN",
    "OSCILLATING_COLD",
    "OSCILLATING_HOT",
    "PERSISTENCE",
    "PERSISTENT_COLD",
    "PERSISTENT_HOT",
    "SPORADIC_COLD",
    "SPORADIC_HOT",
    "TREND_P",
    "TREND_TAU",
    "MonthPlan",
    "cell_exposure",
    "classify_emerging",
    "cube_gistar",
    "emerging_hotspots",
    "mann_kendall",
    "plan_months",
    "space_time_weights",
]
