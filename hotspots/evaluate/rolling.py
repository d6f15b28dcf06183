"""Concentration of violence and honest evaluation of hotspot predictions.

Two families of measures:

* **Concentration** (how unequal violence is across places): :func:`gini`,
  :func:`generalised_gini` (Bernasco & Steenbeek 2017, for sparse counts where places
  outnumber crimes), :func:`lorenz` (curve data) and :func:`share_holding` (the smallest
  share of places holding half of the violence).
* **Hit-rate metrics** of a prediction (a score per cell) against what happened next:
  :func:`hit_rate`, :func:`pai`, :func:`pei`, :func:`rri`, at a given share of the
  area, and :func:`backtest`, a rolling-origin backtest of several methods on monthly
  data (train on months up to *k*, test on the next month or quarter).

The hit-rate functions live in :mod:`hotspots.evaluate.measures` and the concentration
measures in :mod:`hotspots.rank.concentration`. Every function is pure (arrays or frames in,
numbers or frames out). ``hotspots evaluate`` (:mod:`hotspots.cli`) wraps :func:`evaluate_study`
and writes ``OUT/evaluation.json``.

Selecting "the top x % of the area" from scores with ties (most cells have no crime) is
done deterministically by *expected value*: cells scoring above the cut-off are selected
whole, and the cells tied at the cut-off share the remaining selection equally (the
average of every random tie-break). A constant score therefore selects every cell with
weight x and scores exactly the uniform-random expectation: hit rate = x, PAI = 1.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.evaluate.config import COVERAGES, DEFAULT_COMPOSITE_WEIGHTS, METHODS, EvaluateConfig, _check_options
from hotspots.evaluate.folds import Fold, SkippedFold, calendar, explicit_fold, rolling_folds, warn_skipped
from hotspots.evaluate.measures import (
    HIT_RATE,
    PAI,
    PEI,
    RRI,
    TEST_TOTAL,
    TRAIN_TOTAL,
    _coverage_metrics,
    _ranked,
    _scores_array,
)
from hotspots.evaluate.scores import FoldScorer, PlaceScorer, rank_config_or_default
from hotspots.evaluate.summary import (
    BACKTEST_COLUMNS,
    COVERAGE,
    FOLD,
    FOLDS,
    HORIZON,
    METHOD,
    SUMMARY_COLUMNS,
    TEST_END,
    TEST_MONTHS,
    TEST_START,
    TRAIN_END,
    TRAIN_MONTHS,
    TRAIN_START,
    format_table,
    format_verdict,
    summarise_backtest,
    versus_baseline,
)
from hotspots.io.write import jsonable
from hotspots.months import format_months, longest_run, missing_months
from hotspots.prepare.coverage import source_area
from hotspots.rank.concentration import concentration

if TYPE_CHECKING:
    from hotspots.prepare.study import Study
    from hotspots.rank.config import RankConfig

log = logging.getLogger(__name__)

GRID_METHODS = tuple(m for m in METHODS if m != "place_score")
"""The methods that need nothing but incidents and a grid (the default of :func:`backtest`)."""

DEFINITIONS: dict[str, str] = {
    "coverage": "share of the grid's cells selected as predicted hotspots (the cells with the highest "
    "scores; cells tied at the cut-off share the remaining selection equally, i.e. the expected "
    "value of a random tie-break)",
    "hit_rate": "test incidents in the selected cells / all test incidents in the area",
    "pai": "Predictive Accuracy Index (Chainey, Tompson & Uhlig 2008): hit rate / area share, "
    "with area share = selected cells / all cells (= coverage); 1 = no better than random",
    "pei": "PEI (Predictive Efficiency Index, Hunt 2016): hits / the most test incidents any selection of the "
    "same number of cells could have held (the top cells of the test period itself); 1 = perfect "
    "(PAI / the PAI of the perfect selection of the same area; called PEI* in earlier versions, but PEI* "
    "(White, Hunt & Green 2023) is a different index, not computed here)",
    "rri": "Recapture Rate Index (Levine 2008): (test incidents in selection / test total) / "
    "(training incidents in selection / training total); about 1 = the selected cells keep "
    "their share of violence, < 1 = their share falls in the test period, NaN when the "
    "selection held no training incidents",
    "folds": "rolling origin: train on every month with data before calendar month k (expanding window), test on "
    "the `horizon` months from k; k runs from min_train_months to the last month that leaves a full test window. "
    "A fold is skipped (and named) when a month of its test window, or the month just before it, has no data: a "
    "missing month is never counted as zero (last_period counts the last `horizon` training months with data). "
    "With --train/--test: one fold of the months given",
}
"""Plain-language definitions printed by ``hotspots evaluate`` and written to evaluation.json."""

METHOD_DEFINITIONS: dict[str, str] = {
    "counts": "last period's counts, long run: incidents per cell over all training months",
    "last_period": "incidents per cell in the last training period as long as the test window "
    "(last month for next-month tests, last quarter for next-quarter tests)",
    "kde": "kernel density of the training incidents at each cell (hotspots.detect.kde.hotspot_kde; "
    "bandwidth from the training incidents of each fold unless [evaluate] kde_bandwidth is set)",
    "gistar": "Gi* z-score of the training counts per cell (queen neighbours plus the cell itself)",
    "composite": "weighted mean of the percentile ranks of counts, kde and gistar "
    "([evaluate] composite_weights): the place-ranking composite recipe applied to grid cells "
    "with the grid's own components",
    "place_score": "the Board's LSOA priority score (hotspots.rank.stage composite of harm rate and count, Gi*, KDE, "
    "NTE venues, deprivation, youth need with the [rank] weights), recomputed in every fold from the training "
    "incidents only; each cell takes its LSOA's score, so cells of one LSOA tie",
    "random": "naive baseline: uniform random selection, scored by its expected value "
    "(hit rate = coverage, PAI = 1 exactly; no seed needed)",
}
"""What each method in :data:`METHODS` scores."""


# --------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------
# backtest
# --------------------------------------------------------------------------------------


def month_matrix(
    incidents: gpd.GeoDataFrame, grid: gpd.GeoDataFrame, *, months: Sequence[str], weights: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Incidents per grid cell and month.

    Returns
    -------
    (matrix, cell)
        ``matrix`` (cells x months) of counts (or harm sums with ``weights="harm"``),
        and each incident's row position in ``grid`` (-1 outside the grid or outside
        ``months``).
    """
    from hotspots.units import assign_cells

    pos = assign_cells(incidents, grid)
    col = pd.Index(list(months)).get_indexer(incidents[C.MONTH].astype(object))
    w = np.ones(len(incidents)) if weights in (None, "count") else incidents[C.HARM].to_numpy(dtype=float)
    ok = (pos >= 0) & (col >= 0)
    m = np.zeros((len(grid), len(months)))
    np.add.at(m, (pos[ok], col[ok]), w[ok])
    pos = np.where(ok, pos, -1)
    return m, pos


def backtest(
    incidents: gpd.GeoDataFrame,
    grid: gpd.GeoDataFrame,
    *,
    months: Sequence[str] | None = None,
    methods: Sequence[str] = GRID_METHODS,
    coverages: Sequence[float] = COVERAGES,
    horizons: Sequence[int] = (1, 3),
    min_train_months: int = 3,
    weights: str | None = "count",
    bandwidth: float | None = None,
    kernel: str = "quartic",
    composite_weights: dict[str, float] | None = None,
    lsoa: gpd.GeoDataFrame | None = None,
    venues: gpd.GeoDataFrame | None = None,
    deprivation: pd.DataFrame | None = None,
    rank_config: RankConfig | None = None,
    train: str | Sequence[str] | None = None,
    test: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Rolling-origin backtest of hotspot prediction methods on monthly data (or one explicit fold).

    For each horizon h and each calendar month k from ``min_train_months`` on, every method
    scores the grid's cells from the incidents of the months before k (expanding window)
    and is judged on the incidents of the h months from k at each coverage. Only months
    **with data** (at least one incident) are used: a fold whose test window, or the month
    just before it, has no data is skipped with a warning
    (:func:`hotspots.evaluate.folds.rolling_folds`); a missing month is never counted as zero.

    Parameters
    ----------
    incidents
        Canonical incident frame (``month`` YYYY-MM, point geometry) in the grid's CRS.
    grid
        Grid from :func:`hotspots.units.make_grid` (the evaluation area).
    months
        The calendar months of the backtest, in order (default every month from the first to
        the last incident). Incidents in other months are ignored; months without incidents
        have no data.
    methods
        Methods to compare (see :data:`METHODS`).
    coverages
        Shares of the cells selected as hotspots.
    horizons
        Test window lengths in months.
    min_train_months
        Fewest training months with data in a fold.
    weights
        ``"count"`` or ``"harm"`` (harm-weighted counts for training, testing and KDE).
    bandwidth, kernel
        Passed to :func:`hotspots.detect.kde.hotspot_kde` (``bandwidth=None``: chosen there,
        from each fold's training incidents only).
    composite_weights
        Weights of ``counts``, ``kde``, ``gistar`` in the ``composite`` method.
    lsoa, venues, deprivation
        ``study.lsoa``, ``study.venues``, ``study.deprivation``: the inputs of the
        ``place_score`` method (only ``lsoa`` is required for it).
    rank_config
        A :class:`hotspots.rank.stage.RankConfig` for ``place_score`` (default ``[rank]`` defaults).
    train, test
        Explicit month lists (``"2016-07,2017-07"``, ranges ``A..B``; both or neither): one
        fold instead of the rolling ones (``horizons`` and ``months`` are then not used).

    Returns
    -------
    pandas.DataFrame
        :data:`BACKTEST_COLUMNS`, one row per fold x method x coverage; ``attrs["bandwidths"]``
        lists the KDE bandwidth of each fold when reported; ``attrs["skipped"]`` the folds
        left out for want of data.

    Raises
    ------
    InputError
        Unknown method, bad coverage/horizon, incidents without a ``month`` column,
        ``place_score`` without ``lsoa``, bad month lists, or no usable fold.
    """
    composite_weights = dict(DEFAULT_COMPOSITE_WEIGHTS if composite_weights is None else composite_weights)
    _check_backtest(
        incidents,
        methods=methods,
        coverages=coverages,
        horizons=horizons,
        min_train_months=min_train_months,
        weights=weights,
        composite_weights=composite_weights,
        lsoa=lsoa,
        train=train,
        test=test,
    )
    with_data = sorted(set(incidents[C.MONTH].dropna().astype(str)))
    folds, skipped, months = _plan(with_data, months, train, test, horizons=horizons, min_train=min_train_months)
    mat, pos = month_matrix(incidents, grid, months=months, weights=weights)
    scorer = FoldScorer(
        incidents.iloc[np.flatnonzero(pos >= 0)],
        grid,
        months,
        mat,
        methods=methods,
        kde_weights="count" if weights in (None, "count") else C.HARM,
        bandwidth=bandwidth,
        kernel=kernel,
        composite_weights=composite_weights,
        place=PlaceScorer(lsoa, venues, deprivation, rank_config, grid) if "place_score" in methods else None,
    )
    rows: list[dict[str, Any]] = []
    number: dict[int, int] = {}
    covs = [float(c) for c in coverages]
    for fold in folds:
        number[fold.horizon] = number.get(fold.horizon, 0) + 1
        train_total, test_total = scorer.total(fold.train), scorer.total(fold.test)
        scores = scorer.scores(fold)
        ranked = _ranked(test_total)
        for method in methods:
            s = _scores_array(scores[method])
            metrics = _coverage_metrics(s, test_total, train_total, covs, ranked=ranked)
            for cov, m in zip(covs, metrics, strict=False):
                rows.append({**_fold_cells(fold, number[fold.horizon]), METHOD: method, COVERAGE: cov, **m})
    out = pd.DataFrame(rows, columns=BACKTEST_COLUMNS)
    out.attrs["bandwidths"] = dict(scorer.bandwidths)
    out.attrs["skipped"] = [{HORIZON: s.horizon, "test": format_months(s.test), "reason": s.reason} for s in skipped]
    return out


def _fold_cells(fold: Fold, number: int) -> dict[str, Any]:
    return {
        HORIZON: fold.horizon,
        FOLD: number,
        TRAIN_START: fold.train[0],
        TRAIN_END: fold.train[-1],
        TEST_START: fold.test[0],
        TEST_END: fold.test[-1],
        TRAIN_MONTHS: format_months(fold.train),
        TEST_MONTHS: format_months(fold.test),
    }


def _plan(
    with_data: list[str],
    months: Sequence[str] | None,
    train: str | Sequence[str] | None,
    test: str | Sequence[str] | None,
    *,
    horizons: Sequence[int],
    min_train: int,
) -> tuple[list[Fold], list[SkippedFold], list[str]]:
    """The folds (explicit or rolling), the skipped ones, and the months of the month matrix."""
    if not with_data:
        raise InputError("incidents have no months; the backtest needs monthly data.")
    if train is not None and test is not None:
        fold = explicit_fold(train, test, with_data=with_data)
        return [fold], [], sorted({*fold.train, *fold.test})
    cal = calendar(with_data) if months is None else list(months)
    need = min_train + min(horizons)
    if len(cal) < need:
        raise InputError(
            f"too few months for a backtest: {len(cal)} month(s) ({cal[0] if cal else '-'} to "
            f"{cal[-1] if cal else '-'}), but min_train_months={min_train} plus a test window of "
            f"{min(horizons)} needs at least {need}. Use a source with more months or lower min_train_months."
        )
    folds, skipped = rolling_folds(cal, with_data, horizons=horizons, min_train=min_train)
    if not folds:
        gaps = missing_months(with_data)
        raise InputError(
            f"no fold of the backtest has data in every month it needs: the source has data for "
            f"{format_months(with_data)}"
            + (f" and none for {format_months(gaps)}" if gaps else "")
            + ". Missing months are never counted as zero; give the months to compare with --train and --test "
            "(e.g. --train 2016-07,2017-07 --test 2018-07), or use a source with a complete monthly series."
        )
    warn_skipped(skipped, used=len(folds))
    return folds, skipped, cal


def _check_backtest(
    incidents: Any,
    *,
    methods: Sequence[str],
    coverages: Sequence[float],
    horizons: Sequence[int],
    min_train_months: int,
    weights: str | None,
    composite_weights: dict[str, float],
    lsoa: Any,
    train: Any,
    test: Any,
) -> None:
    _check_options(
        methods=methods,
        coverages=coverages,
        horizons=horizons,
        min_train_months=min_train_months,
        weights=weights,
        composite_weights=composite_weights,
    )
    if not isinstance(incidents, gpd.GeoDataFrame):
        raise InputError(f"incidents must be a GeoDataFrame, got {type(incidents).__name__}.")
    if C.MONTH not in incidents.columns:
        raise InputError("incidents have no 'month' column (YYYY-MM); the backtest needs monthly data.")
    if "place_score" in methods and lsoa is None:
        raise InputError(
            "method 'place_score' needs the LSOAs: pass lsoa=study.lsoa (and venues=, deprivation=), "
            "or leave 'place_score' out of methods."
        )
    if weights == "harm" and C.HARM not in incidents.columns:
        raise InputError("weights='harm' but incidents have no 'harm' column; use weights='count'.")
    if (train is None) != (test is None):
        raise InputError("give both --train and --test (month lists such as 2016-07,2017-07 and 2018-07), or neither.")


# --------------------------------------------------------------------------------------
# the study-level evaluation (what `hotspots evaluate` runs)
# --------------------------------------------------------------------------------------


def choose_source(incidents: pd.DataFrame, source: str | None = None) -> str:
    """The source to evaluate: ``source`` if given, else the one with the most months.

    Ties go to the source with the most incidents, then by name.
    """
    if C.SOURCE not in incidents.columns or C.MONTH not in incidents.columns:
        raise InputError(
            "incidents need 'source' and 'month' columns; load them with hotspots.prepare.study.load_study."
        )
    known = sorted(incidents[C.SOURCE].dropna().astype(str).unique())
    if source is not None:
        if source not in known:
            raise InputError(f"no crime source named {source!r} among the incidents; choose from {', '.join(known)}.")
        return source
    if not known:
        raise InputError("there are no incidents to evaluate; check the [[crime]] sources with `hotspots check`.")
    stats = incidents.groupby(C.SOURCE)[C.MONTH].agg(["nunique", "size"])
    stats = stats.reset_index().sort_values(["nunique", "size", C.SOURCE], ascending=[False, False, True])
    return str(stats[C.SOURCE].iloc[0])


def evaluation_area(
    incidents: pd.DataFrame, lsoa: gpd.GeoDataFrame, *, area: str = "source_districts", min_district_share: float = 0.01
) -> tuple[shapely.Geometry, list[str]]:
    """The area a source is judged on: its districts (or the whole study area).

    With ``area="source_districts"`` the area is the union of the LSOAs of every district
    holding at least ``min_district_share`` of the incidents (so City-only data are
    judged on the City, not on a county of empty cells that would inflate every PAI).

    Returns
    -------
    (geometry, districts)
        The area (shapely, EPSG:27700) and the names of the districts in it.
    """
    if area == "study" or C.DISTRICT not in lsoa.columns:
        return shapely.union_all(lsoa.geometry.values), sorted(
            lsoa.get(C.DISTRICT, pd.Series(dtype=str)).dropna().unique()
        )
    return source_area(incidents, lsoa, min_district_share=min_district_share)


def evaluate_study(
    study: Study,
    cfg: EvaluateConfig | None = None,
    *,
    source: str | None = None,
    cell_size: float | None = None,
    rank_config: RankConfig | None = None,
    train: str | Sequence[str] | None = None,
    test: str | Sequence[str] | None = None,
) -> dict[str, Any]:
    """Backtest the hotspot methods on one source of a loaded study.

    Parameters
    ----------
    study
        A :class:`hotspots.prepare.study.Study`.
    cfg
        The ``[evaluate]`` settings (defaults when None).
    source
        Overrides ``cfg.source``.
    cell_size
        Grid cell size in metres when ``cfg.cell_size`` is not set (default 100).
    rank_config
        The ``[rank]`` settings used by the ``place_score`` method (defaults when None).
    train, test
        Explicit month lists for one fold (``hotspots evaluate --train ... --test ...``).

    Returns
    -------
    dict
        ``summary`` and ``results`` (DataFrames) and ``report``, a JSON-ready dict with
        the source, area, grid, months (with data, and the gaps), folds (used and skipped),
        per-fold and mean metrics and the definitions.
    """
    from hotspots.units import make_grid

    cfg = cfg or EvaluateConfig()
    src = choose_source(study.incidents, source or cfg.source)
    inc = study.incidents[study.incidents[C.SOURCE] == src]
    geom, districts = evaluation_area(inc, study.lsoa, area=cfg.area, min_district_share=cfg.min_district_share)
    size = float(cfg.cell_size or cell_size or 100.0)
    grid = make_grid(geom, cell_size=size, shape="square")
    results = backtest(
        inc,
        grid,
        methods=cfg.methods,
        coverages=cfg.coverages,
        horizons=cfg.horizons,
        min_train_months=cfg.min_train_months,
        weights=cfg.weights,
        bandwidth=cfg.kde_bandwidth,
        kernel=cfg.kde_kernel,
        composite_weights=cfg.composite_weights,
        lsoa=study.lsoa,
        venues=study.venues,
        deprivation=study.deprivation,
        rank_config=rank_config,
        train=train,
        test=test,
    )
    summary = summarise_backtest(results)
    report = {
        "source": src,
        "area": {"rule": cfg.area, "districts": districts, "area_km2": round(geom.area / 1e6, 2)},
        "grid": {"shape": "square", "cell_size_m": size, "cells": len(grid)},
        **_data_report(study, inc, grid, districts),
        "weights": cfg.weights,
        "kde_bandwidth_m": results.attrs.get("bandwidths") or cfg.kde_bandwidth,
        "config": jsonable(cfg),
        "rank_config": jsonable(rank_config_or_default(rank_config)) if "place_score" in cfg.methods else None,
        "definitions": DEFINITIONS,
        "methods": {m: METHOD_DEFINITIONS[m] for m in cfg.methods},
        "folds": jsonable(results[FOLD_COLUMNS].drop_duplicates([HORIZON, FOLD]).reset_index(drop=True)),
        "folds_explicit": train is not None,
        "folds_skipped": results.attrs.get("skipped", []),
        "metrics": jsonable(results),
        "mean": jsonable(summary),
        "versus_baseline": versus_baseline(summary),
    }
    out = {"summary": summary, "results": results, "report": report, "grid": grid}
    months = longest_run(inc[C.MONTH].dropna().astype(str).unique())  # rank intervals need consecutive months
    out.update(_rank_intervals(study, inc, districts, months, cfg, report))
    return out


FOLD_COLUMNS = [HORIZON, FOLD, TRAIN_START, TRAIN_END, TEST_START, TEST_END, TRAIN_MONTHS, TEST_MONTHS]
FOLD_COLUMNS += [TRAIN_TOTAL, TEST_TOTAL]
"""Columns of ``evaluation.json`` ``folds``: one row per fold used."""


def _data_report(study: Any, inc: gpd.GeoDataFrame, grid: gpd.GeoDataFrame, districts: list[str]) -> dict[str, Any]:
    """The source's months (with data, gaps), incidents used and its concentration, for evaluation.json."""
    with_data = sorted(set(inc[C.MONTH].dropna().astype(str)))
    mat, pos = month_matrix(inc, grid, months=with_data, weights="count")
    lsoa_counts = (
        inc[C.LSOA_CODE]
        .value_counts()
        .reindex(study.lsoa[C.LSOA_CODE][study.lsoa[C.DISTRICT].isin(districts)], fill_value=0)
        if C.DISTRICT in study.lsoa.columns
        else inc[C.LSOA_CODE].value_counts()
    )
    gaps = missing_months(with_data)
    return {
        "incidents": {
            "used": int((pos >= 0).sum()),
            "outside_area": int((pos < 0).sum()),
            "months": with_data,
            "month_gaps": format_months(gaps) if gaps else "none",
        },
        "concentration": {
            "grid_cells": concentration(mat.sum(axis=1)),
            "lsoas": concentration(lsoa_counts.to_numpy()),
        },
    }


__all__ = [
    "BACKTEST_COLUMNS",
    "COVERAGE",
    "DEFINITIONS",
    "FOLD",
    "FOLDS",
    "FOLD_COLUMNS",
    "GRID_METHODS",
    "HIT_RATE",
    "HORIZON",
    "METHOD",
    "METHODS",
    "METHOD_DEFINITIONS",
    "PAI",
    "PEI",
    "RRI",
    "SUMMARY_COLUMNS",
    "TEST_END",
    "TEST_MONTHS",
    "TEST_START",
    "TRAIN_END",
    "TRAIN_MONTHS",
    "TRAIN_START",
    "backtest",
    "choose_source",
    "evaluate_study",
    "evaluation_area",
    "format_table",
    "format_verdict",
    "month_matrix",
    "summarise_backtest",
    "versus_baseline",
]


def _rank_intervals(
    study: Any, inc: pd.DataFrame, districts: list[str], months: list[str], cfg: EvaluateConfig, report: dict[str, Any]
) -> dict[str, Any]:
    """The harm-rank interval backtest over the evaluation area's LSOAs (:mod:`hotspots.evaluate.rank_backtest`)."""
    if cfg.rank_draws <= 0:
        return {}
    from hotspots.evaluate.rank_backtest import rank_interval_evaluation

    lsoa = study.lsoa
    institutions = getattr(getattr(study, "config", None), "institutions", None)
    if institutions is not None and "rank" in institutions.exclude_from and C.INSTITUTION in inc.columns:
        inc = inc[inc[C.INSTITUTION].astype(str) == ""]  # as the rank stage: institutional snap points left out
    in_area = lsoa[C.DISTRICT].isin(districts) if C.DISTRICT in lsoa.columns else np.ones(len(lsoa), dtype=bool)
    ev = rank_interval_evaluation(
        inc,
        lsoa.loc[in_area, C.LSOA_CODE].astype(str).tolist(),
        months,
        horizons=cfg.horizons,
        min_train_months=max(cfg.min_train_months, 2),
        draws=cfg.rank_draws,
    )
    report.update(ev["report"])
    return {"rank_intervals": ev}
