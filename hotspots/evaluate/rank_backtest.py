"""Do the harm-axis rank intervals hold? A rolling-origin backtest of their coverage.

For every fold (train on months 1..k, an expanding window) the intervals of
:func:`hotspots.rank.intervals.rank_intervals` are computed from the training months only,
with ``horizon`` = the test window, and each place's observed rank over the test window (month
k+1, or months k+1..k+3) is compared with its interval. ``rank_interval_coverage`` is the share
of place-folds whose observed rank falls inside (nominal 0.90); the median interval width is
reported beside it, because intervals that are merely wide would also cover.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hotspots import columns as C
from hotspots.errors import HotspotsWarning, InputError
from hotspots.rank.axes import tied_ranks
from hotspots.rank.columns import HARM_RANK, HARM_RANK_HIGH, HARM_RANK_LOW
from hotspots.rank.eb import Dispersion, estimate_dispersion, mark_scale
from hotspots.rank.intervals import rank_intervals
from hotspots.rank.monthly import monthly_harm

MATRIX = 2
"""Dimensions of a places x months matrix."""
MIN_TRAIN = 2
"""Fewest training months (the overdispersion needs two)."""
TOP_SHARE = 0.1
"""Coverage is also reported for the training period's top 10 % of places (by harm rank)."""
QUARTER = 3
"""A three-month horizon is printed as "next quarter"."""

__all__ = [
    "RANK_BACKTEST_COLUMNS",
    "RANK_SUMMARY_COLUMNS",
    "format_rank_backtest",
    "monthly_harm",
    "rank_interval_backtest",
    "summarise_rank_backtest",
]

HORIZON = "horizon"  # test window in months (1 = next month, 3 = next quarter)
FOLD = "fold"  # 1-based fold within the horizon
TRAIN_END = "train_end"  # last training month (YYYY-MM)
TEST_START = "test_start"  # first test month
TEST_END = "test_end"  # last test month
PLACES = "places"  # places ranked
TEST_HARM = "test_harm"  # harm in the test window, all places
COVERAGE = "rank_interval_coverage"  # share of places whose test-window rank is inside its interval (0-1)
COVERAGE_RAW = "coverage_unwidened"  # the same before widening intervals to contain the point rank
BELOW = "share_better_than_interval"  # share observed at a better (smaller) rank than the interval
ABOVE = "share_worse_than_interval"  # share observed at a worse (larger) rank than the interval
MEDIAN_WIDTH = "median_width"  # median of rank_high - rank_low (ranks)
MEAN_WIDTH = "mean_width"  # mean of rank_high - rank_low
MEDIAN_WIDTH_SHARE = "median_width_share"  # median width / places
COVERAGE_TOP = "coverage_top_decile"  # coverage among the training period's top 10 % of places (harm rank)
WIDTH_TOP = "median_width_top_decile"  # median width among those places (ranks)
PHI = "phi"  # estimated quasi-Poisson dispersion of the training months
INV_KAPPA = "inv_kappa"  # estimated NB2 part
SECONDS = "seconds"  # time for the fold's intervals

RANK_BACKTEST_COLUMNS = [
    HORIZON,
    FOLD,
    TRAIN_END,
    TEST_START,
    TEST_END,
    PLACES,
    TEST_HARM,
    COVERAGE,
    COVERAGE_RAW,
    BELOW,
    ABOVE,
    MEDIAN_WIDTH,
    MEAN_WIDTH,
    MEDIAN_WIDTH_SHARE,
    COVERAGE_TOP,
    WIDTH_TOP,
    PHI,
    INV_KAPPA,
    SECONDS,
]
"""Columns of :func:`rank_interval_backtest`: one row per horizon x fold."""

RANK_SUMMARY_COLUMNS = [
    HORIZON,
    "folds",
    PLACES,
    COVERAGE,
    COVERAGE_RAW,
    BELOW,
    ABOVE,
    MEDIAN_WIDTH,
    MEDIAN_WIDTH_SHARE,
    COVERAGE_TOP,
    WIDTH_TOP,
    "min_fold_coverage",
    "max_fold_coverage",
]
"""Columns of :func:`summarise_rank_backtest`: one row per horizon."""


def rank_interval_backtest(
    monthly: npt.ArrayLike,
    *,
    months: Sequence[str] | None = None,
    scale: float | None = None,
    marks: npt.ArrayLike | None = None,
    horizons: Sequence[int] = (1, 3),
    min_train_months: int = 3,
    draws: int = 1000,
    seed: int = 0,
    level: float = 0.90,
    dispersion: str | Dispersion = "estimate",
    workers: int = 2,
) -> pd.DataFrame:
    """Rolling-origin coverage of the harm-axis rank intervals.

    Parameters
    ----------
    monthly
        ``(places, months)`` harm per place and month (:func:`monthly_harm`), every place of
        the evaluation area (zeros included), consecutive months.
    months
        Month labels (YYYY-MM) for the report; default ``"1"``, ``"2"``, ...
    scale
        Harm per pseudo-count; default :func:`~hotspots.rank.eb.mark_scale` of ``marks``
        (or 1 when ``marks`` is None too).
    marks
        Harm marks of the incidents (for ``scale``).
    horizons
        Test windows in months.
    min_train_months
        Months in the first training window.
    draws, seed, level
        As :func:`~hotspots.rank.intervals.rank_intervals`.
    dispersion
        ``"estimate"`` (from each fold's training months only) or a fixed :class:`~hotspots.rank.eb.Dispersion`
        (e.g. ``Dispersion()`` for Poisson, an ablation).
    workers
        Threads for the draws.

    Returns
    -------
    pandas.DataFrame
        :data:`RANK_BACKTEST_COLUMNS`, one row per horizon x fold. ``rank_interval_coverage``
        uses the published (widened) intervals; ``coverage_unwidened`` the raw predictive ones.

    Raises
    ------
    InputError
        Not 2-D, negative values, too few months, bad horizons.

    Notes
    -----
    The observed rank of a place is :func:`~hotspots.rank.axes.tied_ranks` of the test
    window's harm over all places (the number of places with at least as much harm), the rule
    used for the simulated ranks. Nothing from the test window is used to build the interval:
    the prior, the overdispersion and the posterior come from the training months.
    """
    where = "rank_interval_backtest"
    m, labels = _checked(monthly, months, horizons, min_train_months, where)
    if dispersion != "estimate" and not isinstance(dispersion, Dispersion):
        raise InputError(f"{where}: `dispersion` must be 'estimate' or a Dispersion, got {dispersion!r}.")
    fixed = dispersion if isinstance(dispersion, Dispersion) else None
    s = float(scale) if scale is not None else (mark_scale(marks) if marks is not None else 1.0)
    rows, skipped = [], []
    t = m.shape[1]
    for h in horizons:
        for fold, k in enumerate(range(min_train_months, t - h + 1), start=1):
            train, test = m[:, :k], m[:, k : k + h].sum(axis=1)
            if test.sum() <= 0 or train.sum() <= 0:
                skipped.append(f"{labels[k]}..{labels[k + h - 1]} (horizon {h})")
                continue
            disp = fixed if fixed is not None else estimate_dispersion(train, scale=s)
            iv_args = {"scale": s, "dispersion": disp, "draws": draws, "seed": seed + 1000 * h + fold}
            row = _fold_row(train, test, h, iv_args, level=level, workers=workers)
            row.update({FOLD: fold, TRAIN_END: labels[k - 1], TEST_START: labels[k], TEST_END: labels[k + h - 1]})
            rows.append(row)
    if skipped:
        warnings.warn(
            f"rank_interval_backtest: {len(skipped)} fold(s) with no incidents in the training or test months were "
            f"skipped: {', '.join(skipped)}.",
            HotspotsWarning,
            stacklevel=2,
        )
    out = pd.DataFrame(rows, columns=RANK_BACKTEST_COLUMNS)
    out.attrs["skipped_folds"] = skipped
    return out


def _checked(
    monthly: npt.ArrayLike, months: Sequence[str] | None, horizons: Sequence[int], min_train_months: int, where: str
) -> tuple[np.ndarray, list[str]]:
    """The monthly matrix and month labels, checked."""
    m = np.asarray(monthly, dtype=float)
    if m.ndim != MATRIX:
        raise InputError(f"{where}: `monthly` must be places x months (2-D), got shape {m.shape!r}.")
    if (~np.isfinite(m)).any() or (m < 0).any():
        raise InputError(f"{where}: `monthly` has negative or non-finite values.")
    t = m.shape[1]
    labels = list(months) if months is not None else [str(i + 1) for i in range(t)]
    if len(labels) != t:
        raise InputError(f"{where}: {len(labels)} month labels for {t} months.")
    if not horizons or any(isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in horizons):
        raise InputError(f"{where}: `horizons` must be whole numbers of months >= 1, got {list(horizons)!r}.")
    if isinstance(min_train_months, bool) or not isinstance(min_train_months, int) or min_train_months < MIN_TRAIN:
        raise InputError(f"{where}: `min_train_months` must be a whole number >= 2, got {min_train_months!r}.")
    if t < min_train_months + min(horizons):
        raise InputError(
            f"{where}: {t} months are too few: min_train_months={min_train_months} plus a test window of "
            f"{min(horizons)} needs {min_train_months + min(horizons)}."
        )
    return m, labels


def _fold_row(
    train: np.ndarray, test: np.ndarray, h: int, iv_args: dict[str, Any], *, level: float, workers: int
) -> dict[str, Any]:
    """One fold: the intervals from the training months, scored against the test window's ranks."""
    p, k = train.shape
    t0 = time.perf_counter()
    iv = rank_intervals(train.sum(axis=1), months=k, horizon=h, level=level, workers=workers, widen=False, **iv_args)
    secs = time.perf_counter() - t0
    lo_raw, hi_raw = iv[HARM_RANK_LOW].to_numpy(), iv[HARM_RANK_HIGH].to_numpy()
    point = iv[HARM_RANK].to_numpy()
    lo, hi = np.minimum(lo_raw, point), np.maximum(hi_raw, point)
    obs = tied_ranks(test)
    inside = (obs >= lo) & (obs <= hi)
    top = point <= math.ceil(TOP_SHARE * p)
    disp = iv_args["dispersion"]
    return {
        HORIZON: h,
        PLACES: p,
        TEST_HARM: float(test.sum()),
        COVERAGE: float(inside.mean()),
        COVERAGE_RAW: float(((obs >= lo_raw) & (obs <= hi_raw)).mean()),
        BELOW: float((obs < lo).mean()),
        ABOVE: float((obs > hi).mean()),
        MEDIAN_WIDTH: float(np.median(hi - lo)),
        MEAN_WIDTH: float(np.mean(hi - lo)),
        MEDIAN_WIDTH_SHARE: float(np.median(hi - lo) / p),
        COVERAGE_TOP: float(inside[top].mean()) if top.any() else float("nan"),
        WIDTH_TOP: float(np.median((hi - lo)[top])) if top.any() else float("nan"),
        PHI: disp.phi,
        INV_KAPPA: disp.inv_kappa,
        SECONDS: round(secs, 3),
    }


def summarise_rank_backtest(results: pd.DataFrame) -> pd.DataFrame:
    """One row per horizon: coverage and widths pooled over the folds (:data:`RANK_SUMMARY_COLUMNS`).

    Coverage is the mean over folds (every fold ranks the same places, so this is the share
    of all place-folds); the median width is the median of the folds' median widths.
    """
    miss = [c for c in RANK_BACKTEST_COLUMNS if c not in results.columns]
    if miss:
        raise InputError(f"summarise_rank_backtest: results lack {miss}; pass rank_interval_backtest's frame.")
    g = results.groupby(HORIZON, sort=True)
    out = pd.DataFrame(
        {
            "folds": g[FOLD].nunique(),
            PLACES: g[PLACES].max(),
            COVERAGE: g[COVERAGE].mean(),
            COVERAGE_RAW: g[COVERAGE_RAW].mean(),
            BELOW: g[BELOW].mean(),
            ABOVE: g[ABOVE].mean(),
            MEDIAN_WIDTH: g[MEDIAN_WIDTH].median(),
            MEDIAN_WIDTH_SHARE: g[MEDIAN_WIDTH_SHARE].median(),
            COVERAGE_TOP: g[COVERAGE_TOP].mean(),
            WIDTH_TOP: g[WIDTH_TOP].median(),
            "min_fold_coverage": g[COVERAGE].min(),
            "max_fold_coverage": g[COVERAGE].max(),
        }
    ).reset_index()
    return out[RANK_SUMMARY_COLUMNS]


def format_rank_backtest(summary: pd.DataFrame, *, title: str = "") -> str:
    """Format the summary as a text table (what ``hotspots evaluate`` prints)."""
    lines = [title] if title else []
    lines.append(
        f"{'window':<13}{'folds':>6}{'places':>8}{'coverage':>10}{'median width':>14}{'% of places':>12}"
        f"{'below':>7}{'above':>7}{'fold range':>14}{'top 10%: cov':>14}{'width':>7}"
    )
    for r in summary.itertuples(index=False):
        label = "next month" if r.horizon == 1 else ("next quarter" if r.horizon == QUARTER else f"next {r.horizon} mo")
        lines.append(
            f"{label:<13}{r.folds:>6}{r.places:>8}{r.rank_interval_coverage:>10.3f}{r.median_width:>14.1f}"
            f"{100 * r.median_width_share:>11.1f}%{r.share_better_than_interval:>7.3f}"
            f"{r.share_worse_than_interval:>7.3f}   {r.min_fold_coverage:.2f}-{r.max_fold_coverage:.2f}"
            f"{r.coverage_top_decile:>14.3f}{r.median_width_top_decile:>7.1f}"
        )
    return "\n".join(lines) + "\n"


RANK_DEFINITIONS: dict[str, str] = {
    "rank_interval_coverage": "share of place-folds whose harm rank over the test window lies inside the 90 % "
    "predictive interval computed from the training months (nominal 0.90); ranks are the number of places with at "
    "least as much harm, zero-harm places included",
    "median_width": "median over folds of the median interval width (rank_high - rank_low, in ranks): coverage alone "
    "rewards intervals that are merely wide",
    "rank_interval_folds": "rolling origin as for the hot spot methods: train on months 1..k, test on the next "
    "`horizon` months; folds with no incidents in the training or test months are skipped",
}
"""Plain-language definitions of the rank-interval backtest, printed and written to evaluation.json."""


def rank_interval_evaluation(
    incidents: pd.DataFrame,
    codes: Sequence[str],
    months: Sequence[str],
    *,
    horizons: Sequence[int] = (1, 3),
    min_train_months: int = 3,
    draws: int = 1000,
    seed: int = 0,
    level: float = 0.90,
) -> dict[str, Any]:
    """The rank-interval backtest of ``hotspots evaluate`` on one source over the evaluation area's LSOAs.

    Parameters
    ----------
    incidents
        The evaluated source's incidents (``lsoa_code``, ``month``, ``harm``).
    codes
        The evaluation area's LSOAs (every one is ranked, zero-harm ones included).
    months
        The consecutive months of the backtest.
    horizons, min_train_months, draws, seed, level
        As :func:`rank_interval_backtest`.

    Returns
    -------
    dict
        ``results`` (per fold), ``summary`` (per horizon), ``text`` (the printed table) and
        ``report``: JSON-ready ``rank_interval_coverage`` and ``rank_interval_median_width``
        per horizon (keys ``"1"``, ``"3"``), the summary, the folds, skipped folds and definitions.
    """
    codes = [str(c) for c in codes]
    inc = incidents[incidents[C.LSOA_CODE].astype(str).isin(codes)]
    m = monthly_harm(inc, codes, months)
    res = rank_interval_backtest(
        m,
        months=months,
        marks=inc[C.HARM].to_numpy(dtype=float),
        horizons=horizons,
        min_train_months=min_train_months,
        draws=draws,
        seed=seed,
        level=level,
    )
    summ = summarise_rank_backtest(res) if len(res) else pd.DataFrame(columns=RANK_SUMMARY_COLUMNS)
    by_h = summ.set_index(HORIZON) if len(summ) else summ
    report = {
        "rank_interval_coverage": {str(h): float(by_h.loc[h, COVERAGE]) for h in by_h.index},
        "rank_interval_median_width": {str(h): float(by_h.loc[h, MEDIAN_WIDTH]) for h in by_h.index},
        "rank_intervals": {
            "places": len(codes),
            "incidents": len(inc),
            "level": level,
            "draws": draws,
            "seed": seed,
            "summary": summ.to_dict(orient="records"),
            "folds": res.to_dict(orient="records"),
            "skipped_folds": res.attrs.get("skipped_folds", []),
            "definitions": RANK_DEFINITIONS,
        },
    }
    title = f"harm-rank intervals ({level:.0%}, {len(codes):,} LSOAs, {len(inc):,} incidents): next-period coverage"
    text = format_rank_backtest(summ, title=title) if len(summ) else f"{title}: no fold with data\n"
    return {"results": res, "summary": summ, "text": text, "report": report}
