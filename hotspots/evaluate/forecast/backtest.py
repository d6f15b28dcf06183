"""Rolling-origin backtest of the forecasts, on the folds and measures of ``hotspots evaluate``.

Every forecast is in incidents (or harm) expected in each cell over the test window, so it is
checked for calibration (:func:`~hotspots.evaluate.forecast.calibration.calibration_table`) as well
as ranked (PEI, PAI, hit rate and RRI through :mod:`hotspots.evaluate.measures`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.evaluate.config import _check_options
from hotspots.evaluate.folds import calendar
from hotspots.evaluate.forecast.calibration import CALIBRATION_COLUMNS, calibration_table, pool_calibration
from hotspots.evaluate.forecast.config import FORECAST_METHODS, ForecastConfig
from hotspots.evaluate.forecast.ensemble import EnsembleSearch
from hotspots.evaluate.forecast.features import History, Lattice, static_features
from hotspots.evaluate.forecast.models import forecast_cells
from hotspots.evaluate.measures import _coverage_metrics, _ranked
from hotspots.evaluate.rolling import month_matrix
from hotspots.evaluate.summary import (
    BACKTEST_COLUMNS,
    COVERAGE,
    FOLD,
    HORIZON,
    METHOD,
    TEST_END,
    TEST_MONTHS,
    TEST_START,
    TRAIN_END,
    TRAIN_MONTHS,
    TRAIN_START,
)
from hotspots.months import format_months, parse_months

log = logging.getLogger(__name__)

SECONDS = "seconds"  # time spent forecasting one fold with one method
DETAIL = "detail"  # what the fold chose or fitted (ensemble setting, training rows)
FIT_COLUMNS = [HORIZON, FOLD, TRAIN_END, METHOD, SECONDS, DETAIL]
"""Columns of :attr:`ForecastBacktest.fits`."""


@dataclass(frozen=True)
class ForecastFold:
    """One rolling-origin fold on consecutive months: train on months ``1..k``, test on ``k+1..k+horizon``.

    Attributes
    ----------
    horizon
        Test window length in months.
    fold
        Fold number within the horizon (1-based).
    k
        Training months (the first ``k`` months of the series).
    """

    horizon: int
    fold: int
    k: int


def forecast_folds(n_months: int, horizons: Sequence[int], min_train_months: int) -> list[ForecastFold]:
    """The rolling folds of ``n_months`` consecutive months: k from ``min_train_months`` to ``n_months - h``.

    They are the folds :func:`hotspots.evaluate.rolling.backtest` runs when every month has data.
    """
    return [
        ForecastFold(int(h), i, k)
        for h in horizons
        for i, k in enumerate(range(min_train_months, n_months - int(h) + 1), start=1)
    ]


def folds_from_results(results: pd.DataFrame, months: Sequence[str]) -> tuple[list[ForecastFold], list[str]]:
    """The folds a backtest of ``hotspots evaluate`` ran, for the forecasts to run the same ones.

    Parameters
    ----------
    results
        Rows of :func:`hotspots.evaluate.rolling.backtest` (``horizon, fold, train_months,
        test_months``).
    months
        The calendar months of the evaluated series, consecutive and in order.

    Returns
    -------
    (folds, skipped)
        The folds that train on every month from the first up to the last training month and
        test on the months right after it, and a note for each fold that does not (a fold whose
        training months have a gap, or an explicit ``--train``/``--test`` fold that is not such a
        window): the forecasts learn from a consecutive series, so such folds are left out and
        said so.
    """
    cal = list(months)
    out: list[ForecastFold] = []
    skipped: list[str] = []
    for r in (
        results[[HORIZON, FOLD, TRAIN_MONTHS, TEST_MONTHS]].drop_duplicates([HORIZON, FOLD]).itertuples(index=False)
    ):
        h, fold = int(r[0]), int(r[1])
        train, test = parse_months(str(r[2])), parse_months(str(r[3]))
        k = len(train)
        if train == cal[:k] and test == cal[k : k + h] and len(test) == h:
            out.append(ForecastFold(h, fold, k))
        else:
            skipped.append(
                f"horizon {h} fold {fold} (train {r[2]}, test {r[3]}) is not an expanding window over consecutive "
                "months from the first: the forecasts are not run on it"
            )
    return out, skipped


@dataclass(frozen=True)
class ForecastBacktest:
    """Result of :func:`backtest_matrix` and :func:`forecast_backtest`.

    Attributes
    ----------
    results
        :data:`hotspots.evaluate.rolling.BACKTEST_COLUMNS`, one row per horizon x fold x method
        x coverage, on the folds and measures of ``hotspots evaluate`` (concatenate the two to
        compare every method).
    calibration
        ``horizon, method`` + :data:`~hotspots.evaluate.forecast.calibration.CALIBRATION_COLUMNS`:
        the forecast against the test counts by decile of the forecast, deciles cut within each
        fold and pooled over the folds.
    fits
        :data:`FIT_COLUMNS`: what each fold chose or fitted (the ensemble setting and its
        inner-fold PEI, the model's training rows) and the seconds it took.
    """

    results: pd.DataFrame
    calibration: pd.DataFrame
    fits: pd.DataFrame


def _check_matrix(m: np.ndarray, months: list[str], lattice: Lattice, methods: Sequence[str]) -> None:
    for mth in methods:
        if mth not in FORECAST_METHODS:
            raise InputError(f"unknown forecast method {mth!r}; choose from {', '.join(FORECAST_METHODS)}.")
    if not methods:
        raise InputError(f"methods is empty; choose from {', '.join(FORECAST_METHODS)}.")
    if m.ndim != 2 or m.shape[1] != len(months):  # noqa: PLR2004 (a matrix has two axes)
        raise InputError(f"matrix must be cells x months with {len(months)} month columns, got shape {m.shape}.")
    if len(lattice.ids) != m.shape[0]:
        raise InputError(f"lattice has {len(lattice.ids)} cells but the matrix has {m.shape[0]} rows.")


def backtest_matrix(
    matrix: np.ndarray,
    *,
    months: Sequence[str],
    lattice: Lattice,
    static: pd.DataFrame | None = None,
    methods: Sequence[str] = FORECAST_METHODS,
    coverages: Sequence[float] = (0.01, 0.05, 0.10),
    horizons: Sequence[int] = (1, 3),
    min_train_months: int = 3,
    folds: Sequence[ForecastFold] | None = None,
    cfg: ForecastConfig | None = None,
    bins: int = 10,
    calibrate: bool = True,
    history: History | None = None,
    search: EnsembleSearch | None = None,
) -> ForecastBacktest:
    """Rolling-origin backtest of the forecast methods on a cells x months matrix.

    Parameters
    ----------
    matrix
        Incidents (or harm) per cell and month, cells x months.
    months
        The months of the columns, in order (YYYY-MM).
    lattice, static
        The grid's :class:`~hotspots.evaluate.forecast.features.Lattice` and
        :func:`~hotspots.evaluate.forecast.features.static_features`.
    methods
        Any of :data:`~hotspots.evaluate.forecast.config.FORECAST_METHODS`.
    coverages, horizons, min_train_months
        As :func:`hotspots.evaluate.rolling.backtest`; the folds train on months ``1..k`` for
        k from ``min_train_months`` to ``len(months) - h`` and test on months ``k+1..k+h``.
    folds
        The folds to run instead (e.g. :func:`folds_from_results`); ``horizons`` and
        ``min_train_months`` are then not used.
    cfg
        Forecast settings (``[forecast]``; :data:`~hotspots.evaluate.forecast.config.FAST_CONFIG`
        in tests). Its ``seed`` seeds the model fits and the subsampling of training rows.
    bins
        Calibration bins (10 = deciles).
    calibrate
        Table the calibration (False: an empty ``calibration``, a little faster).
    history, search
        A :class:`~hotspots.evaluate.forecast.features.History` and an
        :class:`~hotspots.evaluate.forecast.ensemble.EnsembleSearch` of the same matrix to reuse
        (and fill: the caller may use them for the forecast after the data).

    Returns
    -------
    ForecastBacktest
        ``results``, ``calibration`` and ``fits``.

    Raises
    ------
    InputError
        Unknown method, bad options, a matrix that does not match ``months`` or the lattice,
        or too few months for one fold.
    """
    cfg = cfg or ForecastConfig()
    m = np.asarray(matrix, dtype=float)
    months = list(months)
    _check_matrix(m, months, lattice, methods)
    if folds is None:
        _check_options(
            methods=["counts"],
            coverages=coverages,
            horizons=horizons,
            min_train_months=min_train_months,
            weights=None,
            composite_weights=None,
        )
        need = min_train_months + min(horizons)
        if len(months) < need:
            raise InputError(
                f"too few months for a backtest: {len(months)}, but min_train_months={min_train_months} plus a test "
                f"window of {min(horizons)} needs at least {need}. Use a source with more months or lower "
                "min_train_months."
            )
        folds = forecast_folds(len(months), horizons, min_train_months)
    start_month = int(pd.Period(months[0], freq="M").month)
    history = history if history is not None else History(m, lattice)
    if search is None and "ensemble" in methods:
        search = EnsembleSearch(history, cfg)
    rows: list[dict[str, Any]] = []
    cal: list[pd.DataFrame] = []
    fits: list[dict[str, Any]] = []
    covs = [float(c) for c in coverages]
    for f in folds:
        k, h = f.k, f.horizon
        train = k * history.window(k)
        test = h * history.window(k + h, h)
        ranked = _ranked(test)
        where = {
            HORIZON: h,
            FOLD: f.fold,
            TRAIN_START: months[0],
            TRAIN_END: months[k - 1],
            TEST_START: months[k],
            TEST_END: months[k + h - 1],
            TRAIN_MONTHS: format_months(months[:k]),
            TEST_MONTHS: format_months(months[k : k + h]),
        }
        for mth in methods:
            t0 = time.perf_counter()
            fc, info = forecast_cells(
                mth, history, k, h, static=static, start_month=start_month, cfg=cfg, search=search
            )
            fits.append(
                {
                    HORIZON: h,
                    FOLD: f.fold,
                    TRAIN_END: months[k - 1],
                    METHOD: mth,
                    SECONDS: round(time.perf_counter() - t0, 3),
                    DETAIL: info,
                }
            )
            for cov, metrics in zip(covs, _coverage_metrics(fc, test, train, covs, ranked=ranked), strict=True):
                rows.append({**where, METHOD: mth, COVERAGE: cov, **metrics})
            if calibrate:
                c = calibration_table(fc, test, bins=bins)
                c.insert(0, METHOD, mth)
                c.insert(0, HORIZON, h)
                cal.append(c)
    results = pd.DataFrame(rows, columns=BACKTEST_COLUMNS)
    pooled = []
    if cal:
        calib = pd.concat(cal, ignore_index=True)
        for (h, mth), block in calib.groupby([HORIZON, METHOD], sort=False):
            p = pool_calibration([block[CALIBRATION_COLUMNS]])
            p.insert(0, METHOD, mth)
            p.insert(0, HORIZON, h)
            pooled.append(p)
    calibration = (
        pd.concat(pooled, ignore_index=True)
        if pooled
        else pd.DataFrame(columns=[HORIZON, METHOD, *CALIBRATION_COLUMNS])
    )
    return ForecastBacktest(results=results, calibration=calibration, fits=pd.DataFrame(fits, columns=FIT_COLUMNS))


def forecast_backtest(
    incidents: gpd.GeoDataFrame,
    grid: gpd.GeoDataFrame,
    *,
    months: Sequence[str] | None = None,
    methods: Sequence[str] = FORECAST_METHODS,
    coverages: Sequence[float] = (0.01, 0.05, 0.10),
    horizons: Sequence[int] = (1, 3),
    min_train_months: int = 3,
    folds: Sequence[ForecastFold] | None = None,
    weights: str | None = "count",
    venues: gpd.GeoDataFrame | None = None,
    lsoa: gpd.GeoDataFrame | None = None,
    cfg: ForecastConfig | None = None,
) -> ForecastBacktest:
    """Rolling-origin backtest of the forecast methods on incidents, on a square grid.

    Parameters
    ----------
    incidents
        Canonical incident frame (``month`` YYYY-MM, points) in the grid's CRS.
    grid
        Square evaluation grid from :func:`hotspots.units.make_grid`.
    months
        The months in order (default: first to last incident month, empty months included).
    methods, coverages, horizons, min_train_months, folds, cfg
        As :func:`backtest_matrix`.
    weights
        ``"count"`` or ``"harm"`` (harm-weighted counts).
    venues, lsoa
        ``study.venues`` and ``study.lsoa`` for the static features (None: NaN features).

    Returns
    -------
    ForecastBacktest
        ``results`` (the columns of :func:`hotspots.evaluate.rolling.backtest`), ``calibration``
        and ``fits``.

    Raises
    ------
    InputError
        Unknown method, bad options, a hexagonal grid, incidents without months, too few months.

    Notes
    -----
    Only months ``1..k`` enter fold k: features, training rows, inner folds of the ensemble and
    the subsampling (seeded by ``seed, k, h``). Rolling-origin evaluation follows Tashman (2000,
    *International Journal of Forecasting* 16, 437-450); Poisson models of lagged counts and
    neighbourhood features follow the spatio-temporal crime forecasting of Mohler & Porter (2018,
    *Statistical Analysis and Data Mining* 11, 16-29) in spirit.
    """
    if not isinstance(incidents, gpd.GeoDataFrame):
        raise InputError(f"incidents must be a GeoDataFrame, got {type(incidents).__name__}.")
    if C.MONTH not in incidents.columns:
        raise InputError("incidents have no 'month' column (YYYY-MM); the backtest needs monthly data.")
    if months is None:
        present = sorted(incidents[C.MONTH].dropna().astype(str).unique())
        if not present:
            raise InputError("incidents have no months; the backtest needs monthly data.")
        months = calendar(present)
    cfg = cfg or ForecastConfig()
    lattice = Lattice.from_grid(grid)
    mat, _ = month_matrix(incidents, grid, months=list(months), weights=weights)
    static = static_features(grid, venues=venues, lsoa=lsoa, venue_radius_m=cfg.venue_radius_m)
    return backtest_matrix(
        mat,
        months=list(months),
        lattice=lattice,
        static=static,
        methods=methods,
        coverages=coverages,
        horizons=horizons,
        min_train_months=min_train_months,
        folds=folds,
        cfg=cfg,
    )
