"""Which forecast to trust and how much better it is: paired differences and the nested choice.

* :func:`paired_differences`: each method minus a baseline (long-run counts, or the best existing
  method) fold by fold, with the fold standard error, per horizon and coverage.
* :func:`nested_choice` and :func:`nested_summary`: the method chosen on earlier folds only and
  scored on the later ones, so that choosing the best of many methods does not flatter the winner.
* :func:`recommend_method`: the method to use from now on (what the nested rule picks next).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from hotspots.errors import InputError
from hotspots.evaluate.forecast.config import FORECAST_METHODS
from hotspots.evaluate.measures import PEI
from hotspots.evaluate.summary import COVERAGE, FOLD, HORIZON, METHOD, TEST_END, TEST_START, TRAIN_END

log = logging.getLogger(__name__)

TIE = 1e-12
"""Fold differences within this are ties (not won)."""

QUARTER = 3
"""Months in a quarter (horizon 3 is called "next quarter")."""


def window_label(horizon: int) -> str:
    """``"next month"``, ``"next quarter"`` or ``"next h months"``."""
    return "next month" if horizon == 1 else ("next quarter" if horizon == QUARTER else f"next {horizon} months")


BASELINE = "baseline"  # the method compared against
FOLDS = "folds"  # folds paired (or scored)
MEAN = "mean"  # fold mean of the method's metric
BASELINE_MEAN = "baseline_mean"  # fold mean of the baseline's metric on the same folds
DIFFERENCE = "difference"  # mean of the fold-by-fold differences (method - baseline)
SE = "se"  # standard error of that mean over the folds (SD / sqrt(folds))
CI_LOW = "ci_low"  # difference - t(0.975, folds - 1) se
CI_HIGH = "ci_high"  # difference + t(0.975, folds - 1) se
FOLDS_WON = "folds_won"  # folds where the method is strictly better
PAIRED_COLUMNS = [
    HORIZON,
    COVERAGE,
    METHOD,
    BASELINE,
    FOLDS,
    MEAN,
    BASELINE_MEAN,
    DIFFERENCE,
    SE,
    CI_LOW,
    CI_HIGH,
    FOLDS_WON,
]
"""Columns of :func:`paired_differences`."""

CHOSEN = "chosen"  # the method chosen on the earlier folds
EARLIER_FOLDS = "earlier_folds"  # folds whose test window had ended by this fold's last training month
SCORED = "scored"  # False when no earlier fold had ended (the default method is used, not scored)
VALUE = "value"  # the chosen method's metric on this fold
BASELINE_VALUE = "baseline_value"  # the baseline's metric on this fold
NESTED_COLUMNS = [
    HORIZON,
    FOLD,
    TRAIN_END,
    TEST_START,
    TEST_END,
    CHOSEN,
    EARLIER_FOLDS,
    SCORED,
    VALUE,
    BASELINE,
    BASELINE_VALUE,
    DIFFERENCE,
]
"""Columns of :func:`nested_choice`."""

METRIC = "metric"  # the metric compared (pei)
NESTED_SUMMARY_COLUMNS = [HORIZON, COVERAGE, METRIC, FOLDS, CHOSEN, MEAN, BASELINE, BASELINE_MEAN, DIFFERENCE, SE]
"""Columns of :func:`nested_summary`."""


def _check_results(results: pd.DataFrame, need: Sequence[str]) -> None:
    if not isinstance(results, pd.DataFrame):
        raise InputError(f"results must be a DataFrame from a backtest, got {type(results).__name__}.")
    missing = [c for c in need if c not in results.columns]
    if missing:
        raise InputError(
            f"results lack columns {missing}; pass the frame returned by backtest() / forecast_backtest()."
        )


# --------------------------------------------------------------------------------------
# paired differences and the nested choice
# --------------------------------------------------------------------------------------


def paired_differences(
    results: pd.DataFrame, *, baseline: str = "counts", metric: str = PEI, methods: Sequence[str] | None = None
) -> pd.DataFrame:
    """Each method minus ``baseline``, fold by fold: mean difference and its fold standard error.

    Parameters
    ----------
    results
        Backtest rows (``hotspots.evaluate.backtest`` and/or :func:`forecast_backtest`, concatenated).
    baseline
        The method subtracted (default long-run ``counts``).
    metric
        Column compared (default ``pei``).
    methods
        Methods to compare (default every method but the baseline, in order of appearance).

    Returns
    -------
    pandas.DataFrame
        :data:`PAIRED_COLUMNS`, per horizon x coverage x method: ``folds`` (paired), ``mean`` and
        ``baseline_mean`` (fold means), ``difference`` (mean of the paired differences), ``se``
        (their standard deviation / sqrt(folds)), ``ci_low``/``ci_high`` (difference +- t(0.975,
        folds - 1) se) and ``folds_won`` (folds where the method is strictly better).

    Raises
    ------
    InputError
        Missing columns, or no rows of the baseline.

    Notes
    -----
    Expanding-window folds share training months and next-quarter test windows overlap, so the
    folds are not independent: the standard error is a guide to fold-to-fold variation, not a
    formal test (it understates the uncertainty when successive folds agree).
    """
    _check_results(results, [HORIZON, FOLD, METHOD, COVERAGE, metric])
    base = results[results[METHOD] == baseline]
    if base.empty:
        raise InputError(f"no rows of the baseline method {baseline!r}; run it in the backtest or pick another.")
    key = [HORIZON, COVERAGE, FOLD]
    b = base.set_index(key)[metric]
    names = [m for m in dict.fromkeys(results[METHOD]) if m != baseline] if methods is None else list(methods)
    rows = []
    for (h, cov), block in results.groupby([HORIZON, COVERAGE], sort=True):
        for m in names:
            r = block[block[METHOD] == m].set_index(key)[metric]
            pair = pd.concat([r.rename("m"), b.rename("b")], axis=1, join="inner").dropna()
            n = len(pair)
            if n == 0:
                continue
            d = pair["m"] - pair["b"]
            se = float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
            tq = float(stats.t.ppf(0.975, n - 1)) if n > 1 else float("nan")
            rows.append(
                {
                    HORIZON: int(h),
                    COVERAGE: float(cov),
                    METHOD: m,
                    BASELINE: baseline,
                    FOLDS: n,
                    MEAN: float(pair["m"].mean()),
                    BASELINE_MEAN: float(pair["b"].mean()),
                    DIFFERENCE: float(d.mean()),
                    SE: se,
                    CI_LOW: float(d.mean() - tq * se),
                    CI_HIGH: float(d.mean() + tq * se),
                    FOLDS_WON: int((d > TIE).sum()),
                }
            )
    return pd.DataFrame(rows, columns=PAIRED_COLUMNS)


def nested_choice(
    results: pd.DataFrame,
    *,
    coverage: float = 0.05,
    metric: str = PEI,
    candidates: Sequence[str] | None = None,
    default: str = "counts",
    baseline: str = "counts",
) -> pd.DataFrame:
    """Choose the method on earlier folds, score it on the next: an honest estimate of "use the best".

    For each fold of each horizon, the candidates are compared by their mean ``metric`` at
    ``coverage`` over the *earlier* folds whose test window ended by this fold's last training
    month (so the choice uses nothing the fold could not have known); the best is then scored on
    this fold. Folds with no such earlier fold use ``default`` and are not scored.

    Parameters
    ----------
    results
        Backtest rows of every candidate (and the baseline).
    coverage
        Share of the area at which methods are compared (default 5 %).
    metric
        Column compared (default ``pei``).
    candidates
        Methods that may be chosen (default every method but ``random``).
    default
        The method used before any fold has finished (default ``counts``).
    baseline
        The method the chosen one is compared with, fold by fold.

    Returns
    -------
    pandas.DataFrame
        :data:`NESTED_COLUMNS`, one row per horizon x fold: ``chosen``, ``earlier_folds`` (folds the
        choice was made on), ``scored`` (False when none), ``value`` (the chosen method's metric on
        this fold), ``baseline`` (its name), ``baseline_value`` and ``difference``.

    Raises
    ------
    InputError
        Missing columns or no rows at ``coverage``.
    """
    _check_results(results, [HORIZON, FOLD, METHOD, COVERAGE, TRAIN_END, TEST_START, TEST_END, metric])
    r = results[np.isclose(results[COVERAGE].astype(float), coverage)]
    if r.empty:
        raise InputError(
            f"no backtest rows at coverage {coverage!r}; choose one of {sorted(results[COVERAGE].unique().tolist())}."
        )
    cands = [m for m in dict.fromkeys(r[METHOD]) if m != "random"] if candidates is None else list(candidates)
    rows = []
    for h, block in r.groupby(HORIZON, sort=True):
        wide = block.pivot_table(index=FOLD, columns=METHOD, values=metric, aggfunc="first")
        info = block.drop_duplicates(FOLD).set_index(FOLD)[[TRAIN_END, TEST_START, TEST_END]].sort_index()
        for fold, f in info.iterrows():
            earlier = info.index[(info[TEST_END] <= f[TRAIN_END]).to_numpy()]
            avail = [c for c in cands if c in wide.columns]
            if len(earlier) and avail:
                means = wide.loc[earlier, avail].mean(axis=0, skipna=True)
                chosen = str(means.idxmax()) if means.notna().any() else default
            else:
                chosen = default
            val = float(wide.at[fold, chosen]) if chosen in wide.columns else float("nan")
            bval = float(wide.at[fold, baseline]) if baseline in wide.columns else float("nan")
            rows.append(
                {
                    HORIZON: int(h),
                    FOLD: int(fold),
                    TRAIN_END: f[TRAIN_END],
                    TEST_START: f[TEST_START],
                    TEST_END: f[TEST_END],
                    CHOSEN: chosen,
                    EARLIER_FOLDS: len(earlier),
                    SCORED: bool(len(earlier) > 0),
                    VALUE: val,
                    BASELINE: baseline,
                    BASELINE_VALUE: bval,
                    DIFFERENCE: val - bval,
                }
            )
    return pd.DataFrame(rows, columns=NESTED_COLUMNS)


def nested_summary(nested: pd.DataFrame, *, coverage: float = 0.05, metric: str = PEI) -> pd.DataFrame:
    """Fold means of :func:`nested_choice` over its scored folds, per horizon.

    Returns
    -------
    pandas.DataFrame
        :data:`NESTED_SUMMARY_COLUMNS`: ``folds`` scored, ``chosen`` (the methods chosen, in fold
        order, e.g. ``"counts, ensemble x3"``), ``mean`` (the nested choice), ``baseline_mean``,
        ``difference`` and its fold standard error ``se``.
    """
    _check_results(nested, NESTED_COLUMNS)
    rows = []
    for h, block in nested[nested[SCORED].astype(bool)].groupby(HORIZON, sort=True):
        d = block[DIFFERENCE]
        n = len(block)
        runs: list[list[Any]] = []
        for m in block[CHOSEN]:
            if runs and runs[-1][0] == m:
                runs[-1][1] += 1
            else:
                runs.append([m, 1])
        rows.append(
            {
                HORIZON: int(h),
                COVERAGE: float(coverage),
                METRIC: metric,
                FOLDS: n,
                CHOSEN: ", ".join(f"{m} x{c}" if c > 1 else m for m, c in runs),
                MEAN: float(block[VALUE].mean()),
                BASELINE: str(block[BASELINE].iloc[0]),
                BASELINE_MEAN: float(block[BASELINE_VALUE].mean()),
                DIFFERENCE: float(d.mean()),
                SE: float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=NESTED_SUMMARY_COLUMNS)


def recommend_method(
    results: pd.DataFrame,
    *,
    horizon: int = 3,
    coverage: float = 0.05,
    metric: str = PEI,
    candidates: Sequence[str] = FORECAST_METHODS,
) -> dict[str, Any]:
    """The method to use from now on: the best mean ``metric`` over every completed fold.

    Only forecast methods (count units) are candidates by default, because "where next" shows
    expected incidents; the best method of all (e.g. a smoothed score) is reported beside it.
    The fold mean of the winner is optimistic (it won on these folds): quote the nested estimate
    (:func:`nested_summary`) as its accuracy.

    Returns
    -------
    dict
        ``method``, ``mean`` (its fold mean), ``ranking`` (candidate -> fold mean),
        ``best_overall`` and ``best_overall_mean`` (over every method in ``results``).

    Raises
    ------
    InputError
        No candidate has rows at this horizon and coverage.
    """
    _check_results(results, [HORIZON, METHOD, COVERAGE, metric])
    r = results[(results[HORIZON] == horizon) & np.isclose(results[COVERAGE].astype(float), coverage)]
    means = r.groupby(METHOD, sort=False)[metric].mean()
    cand = means[[m for m in candidates if m in means.index]]
    if cand.empty:
        raise InputError(
            f"no candidate method among {list(candidates)} has backtest rows at horizon {horizon} "
            f"and coverage {coverage}."
        )
    best_all = means.drop(labels=["random"], errors="ignore")
    return {
        "horizon": int(horizon),
        "coverage": float(coverage),
        "metric": metric,
        "method": str(cand.idxmax()),
        "mean": float(cand.max()),
        "ranking": {k: float(v) for k, v in cand.sort_values(ascending=False).items()},
        "best_overall": str(best_all.idxmax()),
        "best_overall_mean": float(best_all.max()),
    }


# --------------------------------------------------------------------------------------
# the verdict: better, as good, or worse, said with its numbers
# --------------------------------------------------------------------------------------

BEATS = "beats"
AS_GOOD = "as good as, not reliably better than"
NOT_BETTER = "not reliably different from (slightly below on average)"
WORSE = "worse than"
SAME = "is"
"""The claims :func:`verdict` can make."""


def verdict(
    paired: pd.DataFrame,
    nested: pd.DataFrame | None,
    *,
    method: str,
    baseline: str,
    horizon: int,
    coverage: float = 0.05,
) -> dict[str, Any]:
    """Does ``method`` beat ``baseline``? The claim the numbers support, with the numbers.

    Parameters
    ----------
    paired
        :func:`paired_differences` rows (any baselines).
    nested
        :func:`nested_summary` rows (any baselines), or None.
    method, baseline, horizon, coverage
        What is compared, at which test window and share of the area.

    Returns
    -------
    dict
        ``claim``: ``"beats"`` when the 95 % t-interval of the paired difference over all folds lies
        above 0 and the nested choice (chosen on earlier folds, scored on later ones) is ahead too;
        ``"worse than"`` when the interval lies below 0; ``"as good as, not reliably better than"``
        when it spans 0 with a mean >= 0 (``"not reliably different from ..."`` when the mean is
        below 0); ``"is"`` when the method is the baseline. Beside it: ``mean``, ``baseline_mean``,
        ``difference``, ``se``, ``ci_low``, ``ci_high``, ``folds``, ``folds_won``,
        ``nested_mean``, ``nested_baseline_mean``, ``nested_difference``, ``nested_se``,
        ``nested_folds`` and ``nested_chosen`` (None where not available).
    """
    out: dict[str, Any] = {HORIZON: int(horizon), COVERAGE: float(coverage), METHOD: method, BASELINE: baseline}
    keys = [MEAN, BASELINE_MEAN, DIFFERENCE, SE, CI_LOW, CI_HIGH, FOLDS, FOLDS_WON]
    nkeys = ["nested_mean", "nested_baseline_mean", "nested_difference", "nested_se", "nested_folds", "nested_chosen"]
    out.update(dict.fromkeys(keys + nkeys))
    if nested is not None and len(nested):
        n = nested[(nested[HORIZON] == horizon) & (nested[BASELINE] == baseline)]
        if len(n):
            r = n.iloc[0]
            out.update(
                nested_mean=float(r[MEAN]),
                nested_baseline_mean=float(r[BASELINE_MEAN]),
                nested_difference=float(r[DIFFERENCE]),
                nested_se=float(r[SE]),
                nested_folds=int(r[FOLDS]),
                nested_chosen=str(r[CHOSEN]),
            )
    if method == baseline:
        out["claim"] = SAME
        return out
    p = paired[
        (paired[HORIZON] == horizon)
        & np.isclose(paired[COVERAGE].astype(float), coverage)
        & (paired[METHOD] == method)
        & (paired[BASELINE] == baseline)
    ]
    if p.empty:
        out["claim"] = None
        return out
    r = p.iloc[0]
    out.update({k: (int(r[k]) if k in (FOLDS, FOLDS_WON) else float(r[k])) for k in keys})
    lo, hi, diff = out[CI_LOW], out[CI_HIGH], out[DIFFERENCE]
    nested_ahead = out["nested_difference"] is None or out["nested_difference"] > 0
    if np.isfinite(lo) and lo > 0 and nested_ahead:
        out["claim"] = BEATS
    elif np.isfinite(hi) and hi < 0:
        out["claim"] = WORSE
    else:
        out["claim"] = AS_GOOD if diff >= 0 else NOT_BETTER
    return out


def _pm(v: Any, se: Any) -> str:
    return f"{v:+.3f} ± {se:.3f}" if se is not None and np.isfinite(se) else f"{v:+.3f}"


def verdict_text(v: dict[str, Any], *, label: str | None = None) -> str:
    """One plain sentence for a :func:`verdict`, e.g. "next quarter: ensemble is as good as counts, ..."."""
    h = v[HORIZON]
    when = label or window_label(int(h))
    cov = f"{v[COVERAGE]:.0%}"
    if v["claim"] == SAME:
        text = f"{when}: {v[METHOD]} stays the recommended forecast (no method beat it on the completed folds)"
    elif v["claim"] is None:
        return f"{when}: {v[METHOD]} and {v[BASELINE]} were not run on the same folds"
    else:
        text = (
            f"{when}: {v[METHOD]} {v['claim']} {v[BASELINE]}: PEI at {cov} of the area {v[MEAN]:.3f} against "
            f"{v[BASELINE_MEAN]:.3f}, difference {_pm(v[DIFFERENCE], v[SE])} (fold SE) over {v[FOLDS]} folds, "
            f"95 % interval {v[CI_LOW]:+.3f} to {v[CI_HIGH]:+.3f}, ahead in {v[FOLDS_WON]} of {v[FOLDS]}"
        )
    if v.get("nested_folds"):
        text += (
            f"; chosen on earlier folds and scored on later ones ({v['nested_chosen']}): {v['nested_mean']:.3f} "
            f"against {v['nested_baseline_mean']:.3f}, {_pm(v['nested_difference'], v['nested_se'])} over "
            f"{v['nested_folds']} folds"
        )
    return text
