"""What the forecasts add to ``hotspots evaluate``: new rows, paired differences, the nested choice, a verdict.

:func:`evaluate_forecasts` runs the forecasting methods on the very folds, grid and months that
:func:`hotspots.evaluate.rolling.evaluate_study` ran the existing methods on, compares them fold
by fold with long-run counts and with the best existing method, chooses the recommended method on
earlier folds and scores it on later ones, tables the calibration by decile of the forecast and
tests kit siting on the future (:mod:`hotspots.evaluate.kits_backtest`). :func:`merge_evaluation`
puts the new methods into the evaluation's tables; :func:`format_forecasts` is the printed verdict.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.errors import HotspotsWarning
from hotspots.evaluate.config import EvaluateConfig
from hotspots.evaluate.folds import calendar
from hotspots.evaluate.forecast.backtest import DETAIL, ForecastBacktest, backtest_matrix, folds_from_results
from hotspots.evaluate.forecast.calibration import calibration_figure, figure_png
from hotspots.evaluate.forecast.choice import (
    BASELINE,
    nested_choice,
    nested_summary,
    paired_differences,
    recommend_method,
    verdict,
    verdict_text,
    window_label,
)
from hotspots.evaluate.forecast.config import FORECAST_METHODS, METHOD_DEFINITIONS, ForecastConfig
from hotspots.evaluate.forecast.features import Lattice, static_features
from hotspots.evaluate.measures import PEI
from hotspots.evaluate.rolling import month_matrix
from hotspots.evaluate.summary import COVERAGE, HORIZON, METHOD, summarise_backtest
from hotspots.io.write import jsonable

if TYPE_CHECKING:
    from hotspots.prepare.study import Study
    from hotspots.sites.config import SitesConfig

log = logging.getLogger(__name__)

CALIBRATION_FIGURE = "forecast_calibration.png"
"""File the CLI writes next to ``evaluation.json``: calibration of the recommended forecast by decile."""

NOT_EXISTING = ("random", *FORECAST_METHODS[2:])
"""Methods that are not "existing" candidates for the best existing method (the baseline to beat)."""


@dataclass(frozen=True)
class ForecastEvaluation:
    """What :func:`evaluate_forecasts` adds to an evaluation.

    Attributes
    ----------
    backtest
        The forecasting methods' rows, calibration and fits (:class:`ForecastBacktest`).
    results
        Every method's backtest rows (the existing methods' and the new ones').
    paired
        :func:`~hotspots.evaluate.forecast.choice.paired_differences` of every method against
        long-run counts and against the best existing method.
    nested, nested_summary
        The nested choice among the forecast methods, fold by fold and summarised, against each
        baseline.
    recommended
        Horizon -> :func:`~hotspots.evaluate.forecast.choice.recommend_method`.
    best_existing
        Horizon -> the best existing method (not a new forecast, not random) by mean PEI.
    verdicts
        :func:`~hotspots.evaluate.forecast.choice.verdict` of the recommended method against counts and
        against the best existing method, per horizon.
    kits, kits_summary
        :func:`hotspots.evaluate.kits_backtest.kits_backtest` and its fold means (None when not run).
    figures
        File name -> PNG bytes (the CLI writes them next to ``evaluation.json``).
    report
        The JSON-ready ``forecast`` section of ``evaluation.json``.
    notes
        Plain-language notes (folds not run, kits skipped).
    """

    backtest: ForecastBacktest
    results: pd.DataFrame
    paired: pd.DataFrame
    nested: pd.DataFrame
    nested_summary: pd.DataFrame
    recommended: dict[int, dict[str, Any]]
    best_existing: dict[int, str]
    verdicts: list[dict[str, Any]]
    kits: pd.DataFrame | None = None
    kits_summary: pd.DataFrame | None = None
    figures: dict[str, bytes] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _best_existing(results: pd.DataFrame, horizon: int, coverage: float) -> str | None:
    r = results[(results[HORIZON] == horizon) & np.isclose(results[COVERAGE].astype(float), coverage)]
    r = r[~r[METHOD].isin(NOT_EXISTING)]
    if r.empty:
        return None
    return str(r.groupby(METHOD, sort=False)[PEI].mean().idxmax())


def _compare(
    results: pd.DataFrame, horizons: list[int], coverage: float
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[int, dict[str, Any]], dict[int, str], list[dict[str, Any]]]:
    """Paired differences, nested choice, recommendation and verdicts against counts and the best existing method."""
    ran = list(dict.fromkeys(results[METHOD]))
    best = {h: b for h in horizons if (b := _best_existing(results, h, coverage)) is not None}
    baselines = [b for b in dict.fromkeys(["counts", *best.values(), "composite"]) if b in ran]
    candidates = [m for m in FORECAST_METHODS if m in ran]
    paired = pd.concat([paired_differences(results, baseline=b) for b in baselines], ignore_index=True)
    nested = pd.concat(
        [nested_choice(results, coverage=coverage, candidates=candidates, baseline=b) for b in baselines],
        ignore_index=True,
    )
    nsum = pd.concat(
        [nested_summary(nested[nested[BASELINE] == b], coverage=coverage) for b in baselines], ignore_index=True
    )
    recommended = {h: recommend_method(results, horizon=h, coverage=coverage, candidates=candidates) for h in horizons}
    verdicts = []
    for h in horizons:
        rec = recommended[h]["method"]
        for b in dict.fromkeys(["counts", best.get(h, "counts")]):
            if b in ran:
                v = verdict(paired, nsum, method=rec, baseline=b, horizon=h, coverage=coverage)
                v["text"] = verdict_text(v)
                verdicts.append(v)
    return paired, nested, nsum, recommended, best, verdicts


def evaluate_forecasts(
    study: Study,
    evaluated: dict[str, Any],
    *,
    ecfg: EvaluateConfig,
    fcfg: ForecastConfig | None = None,
    sites: SitesConfig | None = None,
) -> ForecastEvaluation | None:
    """Backtest the forecasting methods beside the existing ones, compare, choose and test kits on the future.

    Parameters
    ----------
    study
        The loaded :class:`~hotspots.prepare.study.Study`.
    evaluated
        What :func:`hotspots.evaluate.rolling.evaluate_study` returned for it (``results``,
        ``report``, ``grid``): the forecasts run on its source, grid, months and folds.
    ecfg
        The ``[evaluate]`` section (``forecast_methods``, ``kit_methods``, ``coverages``, ``weights``).
    fcfg
        The ``[forecast]`` section (the methods' settings; ``select_coverage`` is the share of the
        area at which methods are compared and chosen).
    sites
        The ``[sites]`` section (kits: ``p``, ``radius_m``, ``exclude_locations``, ``time_limit_s``);
        defaults when None.

    Returns
    -------
    ForecastEvaluation or None
        None when neither forecasts nor kits are asked for.
    """
    from hotspots.sites.config import SitesConfig

    fcfg = fcfg or ForecastConfig()
    sites = sites or SitesConfig()
    methods = list(ecfg.forecast_methods)
    if not methods and not ecfg.kit_methods:
        return None
    rep = evaluated["report"]
    src = rep["source"]
    months = calendar(rep["incidents"]["months"])  # the months with data, as a consecutive calendar
    grid = evaluated["grid"]
    old = evaluated["results"]
    inc = study.incidents[study.incidents[C.SOURCE] == src]
    notes: list[str] = []
    folds, skipped = folds_from_results(old, months)
    notes += skipped
    coverage = float(fcfg.select_coverage)
    covs = [float(c) for c in ecfg.coverages]
    if not any(np.isclose(c, coverage) for c in covs):
        covs.append(coverage)
    t0 = time.perf_counter()
    mat, _ = month_matrix(inc, grid, months=months, weights=ecfg.weights)
    static = static_features(grid, venues=study.venues, lsoa=study.lsoa, venue_radius_m=fcfg.venue_radius_m)
    run = ["counts", *methods]  # counts for its calibration; its rows come from evaluate_study
    fb = backtest_matrix(
        mat,
        months=months,
        lattice=Lattice.from_grid(grid),
        static=static,
        methods=run,
        coverages=covs,
        folds=folds,
        cfg=fcfg,
    )
    fb = ForecastBacktest(
        results=fb.results[fb.results[METHOD].isin(methods)].reset_index(drop=True),
        calibration=fb.calibration,
        fits=fb.fits[fb.fits[METHOD].isin(methods)].reset_index(drop=True),
    )
    seconds = {"forecasts": round(time.perf_counter() - t0, 2)}
    results = pd.concat([old, fb.results], ignore_index=True) if len(fb.results) else old
    horizons = sorted(int(h) for h in results[HORIZON].unique())
    paired, nested, nsum, recommended, best, verdicts = _compare(results, horizons, coverage)

    kits = kits_summary = None
    if ecfg.kit_methods:
        kits, kits_summary, note = _kits(study, inc, months, [(f.horizon, f.fold, f.k) for f in folds], ecfg, sites)
        seconds["kits"] = round(time.perf_counter() - t0 - seconds["forecasts"], 2)
        if note:
            notes.append(note)

    figures = {}
    if len(fb.calibration):
        show = list(dict.fromkeys([recommended[h]["method"] for h in horizons] + ["counts"]))
        fig = calibration_figure(
            fb.calibration, methods=show, horizons=horizons, title=f"{src}: forecast against what happened"
        )
        figures[CALIBRATION_FIGURE] = figure_png(fig)
    fe = ForecastEvaluation(
        backtest=fb,
        results=results,
        paired=paired,
        nested=nested,
        nested_summary=nsum,
        recommended=recommended,
        best_existing=best,
        verdicts=verdicts,
        kits=kits,
        kits_summary=kits_summary,
        figures=figures,
        notes=notes,
    )
    report = _report(fe, fcfg=fcfg, methods=methods, coverage=coverage, seconds=seconds)
    return ForecastEvaluation(**{**fe.__dict__, "report": report})


def _kits(
    study: Any, inc: Any, months: list[str], folds: list[tuple[int, int, int]], ecfg: EvaluateConfig, sites: Any
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, str | None]:
    from hotspots.errors import InputError
    from hotspots.evaluate.kits_backtest import kits_backtest, summarise_kits

    methods = list(ecfg.kit_methods)
    if not folds:
        return None, None, "kits were not tested on the future: no fold is an expanding window over consecutive months"
    if "busiest_venues" in methods and (study.venues is None or not len(study.venues)):
        methods.remove("busiest_venues")
        if not methods:
            return None, None, "kits were not tested on the future: 'busiest_venues' needs [venues]"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HotspotsWarning)
            kb = kits_backtest(
                inc,
                venues=study.venues,
                months=months,
                p=sites.p,
                radius=sites.radius_m,
                horizons=sorted({f[0] for f in folds}),
                min_train_months=min(f[2] for f in folds),
                methods=methods,
                exclude_locations=sites.exclude_locations,
                time_limit=sites.time_limit_s,
                folds=folds,
            )
    except InputError as exc:
        return None, None, f"kits were not tested on the future: {exc}"
    return kb, summarise_kits(kb), None


def _report(
    fe: ForecastEvaluation, *, fcfg: ForecastConfig, methods: list[str], coverage: float, seconds: dict[str, float]
) -> dict[str, Any]:
    fb = fe.backtest
    fits = fb.fits.assign(**{DETAIL: fb.fits[DETAIL].map(lambda d: {k: v for k, v in d.items() if k != "features"})})
    out: dict[str, Any] = {
        "methods": {m: METHOD_DEFINITIONS[m] for m in methods},
        "metrics": jsonable(fb.results),
        "mean": jsonable(summarise_backtest(fb.results)) if len(fb.results) else [],
        "config": fcfg.to_dict(),
        "select_coverage": coverage,
        "best_existing": {str(h): m for h, m in fe.best_existing.items()},
        "paired_differences": jsonable(fe.paired),
        "nested_choice": {
            "rule": f"each fold uses the forecast method ({', '.join(m for m in FORECAST_METHODS)}) with the best "
            f"mean PEI at {coverage:.0%} of the area over the earlier folds whose test window ended by its last "
            "training month, and is scored on its own test window; folds with no such earlier fold use counts and "
            "are not scored",
            "per_fold": jsonable(fe.nested),
            "summary": jsonable(fe.nested_summary),
        },
        "recommended": {
            str(h): {
                **r,
                "why": f"best mean PEI at {coverage:.0%} of the area over every completed fold among the forecast "
                "methods: what the nested rule picks for the next period; its honest accuracy is the nested "
                "estimate",
            }
            for h, r in fe.recommended.items()
        },
        "verdicts": jsonable(fe.verdicts),
        "calibration": jsonable(fb.calibration),
        "calibration_figure": CALIBRATION_FIGURE if fe.figures else None,
        "fits": jsonable(fits),
        "notes": fe.notes,
        "seconds": seconds,
        "limitations": "expanding-window folds share training months and next-quarter test windows overlap, so the "
        "folds are not independent: fold standard errors understate the uncertainty",
    }
    if fe.kits is not None and fe.kits_summary is not None:
        from hotspots.evaluate.kits_backtest import KIT_METHOD_DEFINITIONS

        out["kits_backtest"] = {
            "methods": {m: KIT_METHOD_DEFINITIONS[m] for m in dict.fromkeys(fe.kits[METHOD])},
            "per_fold": jsonable(fe.kits),
            "mean": jsonable(fe.kits_summary),
        }
    return jsonable(out)


def merge_evaluation(evaluated: dict[str, Any], fe: ForecastEvaluation | None) -> dict[str, Any]:
    """``evaluated`` with the ``forecast`` section in its report and every method in its printed summary.

    ``report["forecast"]`` holds the new methods' fold rows (``metrics``) and fold means (``mean``)
    beside the comparisons; the existing keys of the report are left as they are. ``results`` and
    ``summary`` (what ``hotspots evaluate`` prints) get the new methods' rows. ``evaluated`` is not
    changed.
    """
    if fe is None:
        return evaluated
    out = dict(evaluated)
    if len(fe.backtest.results):
        out["results"] = fe.results
        out["summary"] = summarise_backtest(fe.results)
    out["report"] = {**evaluated["report"], "forecast": fe.report}
    return out


def format_forecasts(fe: ForecastEvaluation) -> str:
    """The printed verdict: the recommended forecast per test window, against counts and the best existing method."""
    lines = ["forecasting methods (rows above; settings in [forecast]):"]
    lines += [f"  {m}: {d}" for m, d in fe.report.get("methods", {}).items()]
    lines.append("forecasts (chosen and scored without looking ahead):")
    for h, r in fe.recommended.items():
        label = window_label(h)
        lines.append(
            f"  recommended for the {label}: {r['method']} (best mean PEI at {r['coverage']:.0%} over the completed "
            f"folds among the forecast methods; best of all methods: {r['best_overall']})"
        )
    lines += [f"  {v['text']}" for v in fe.verdicts]
    if fe.kits_summary is not None and len(fe.kits_summary):
        lines.append("kits chosen on months 1..k and scored on the months after (fold means, % of harm covered):")
        for r in fe.kits_summary.itertuples(index=False):
            label = window_label(int(r.horizon))
            lines.append(
                f"  {label}, {r.method}: in sample {r.in_sample_pct:.1f} %, out of sample {r.out_of_sample_pct:.1f} % "
                f"({r.retention:.2f} of in sample), best possible with hindsight {r.best_possible_pct:.1f} %"
            )
    lines += [f"  note: {n}" for n in fe.notes]
    if fe.figures:
        lines.append(f"  calibration by decile of the forecast: evaluation.json and {CALIBRATION_FIGURE}")
    return "\n".join(lines) + "\n"
