"""Full backtest of the forecasts and of kits tested on the future, on the bundled data (docs/forecast.md).

Usage::

    .venv/bin/python scripts/forecast_backtest.py [--out DIR] [--fast] [--no-hgb] [--source NAME ...]

For each source (default the 2020 City violence and the 2020 force-wide weapons data) runs what
``hotspots evaluate`` runs (the same area, 100 m grid, rolling folds, measures) with every existing
method and every forecasting method (``hgb`` included unless ``--no-hgb``), and prints: mean PEI
(PAI) per method, the paired difference of the main methods against long-run counts and against
the composite with fold standard errors, the nested choice, the recommended method with its
calibration by decile, the verdicts, a ceiling (long-run counts against counts over every other
month, future months included), seconds per method, and the kits chosen on months 1..k and scored
on the months after. With ``--out`` writes ``evaluation_<source>.json`` and the calibration figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hotspots.config import load_config  # noqa: E402
from hotspots.evaluate import rolling as E  # noqa: E402
from hotspots.evaluate.config import KIT_METHODS, METHODS, EvaluateConfig  # noqa: E402
from hotspots.evaluate.forecast.choice import window_label  # noqa: E402
from hotspots.evaluate.forecast.config import FAST_CONFIG, ForecastConfig  # noqa: E402
from hotspots.evaluate.forecast.evaluation import evaluate_forecasts  # noqa: E402
from hotspots.evaluate.forecast.features import pei_fast  # noqa: E402
from hotspots.prepare.study import load_study  # noqa: E402

CONFIG = ROOT / "data" / "nottinghamshire.toml"
SOURCES = ("city_violence_2020", "county_weapons_2020")
MAIN = ("ensemble", "poisson", "hgb", "composite", "last_period", "kde")


def pei_table(summary: pd.DataFrame) -> str:
    """Methods x (horizon, coverage): mean PEI, PAI in brackets."""
    covs = sorted(summary["coverage"].unique())
    hs = sorted(summary["horizon"].unique())
    cols = [(h, c) for h in hs for c in covs]
    head = f"{'method':<12}" + "".join(f" | {window_label(h)[5:]:>7} {c:>4.0%}     " for h, c in cols)
    lines = [head, "-" * len(head)]
    for m in dict.fromkeys(summary["method"]):
        cells = []
        for h, c in cols:
            r = summary[(summary["method"] == m) & (summary["horizon"] == h) & np.isclose(summary["coverage"], c)]
            cells.append(" | " + (f"{r['pei'].iloc[0]:.3f} ({r['pai'].iloc[0]:5.2f})" if len(r) else " " * 15))
        lines.append(f"{m:<12}" + "".join(cells))
    return "\n".join(lines)


def print_paired(paired: pd.DataFrame) -> None:
    """Paired differences at 5 % of the area of the main methods against each baseline."""
    p5 = paired[np.isclose(paired["coverage"], 0.05)]
    for base in dict.fromkeys(p5["baseline"]):
        print(f"\npaired difference against {base}, PEI at 5 % (mean over folds +- fold SE; 95 % t interval):")
        for h in sorted(p5["horizon"].unique()):
            blk = p5[(p5["baseline"] == base) & (p5["horizon"] == h)]
            print(f"  {window_label(h)} ({base} {blk['baseline_mean'].iloc[0]:.3f}):")
            for _, r in blk.sort_values("difference", ascending=False).iterrows():
                if r["method"] in MAIN or r["method"] == "counts":
                    print(
                        f"    {r['method']:<12} {r['mean']:.3f}  diff {r['difference']:+.4f} +- {r['se']:.4f}  "
                        f"[{r['ci_low']:+.4f}, {r['ci_high']:+.4f}]  won {r['folds_won']}/{r['folds']} folds"
                    )


def print_ceiling(inc: pd.DataFrame, grid: object, months: list[str]) -> None:
    """How much more history could help: counts before the window against counts of every other month.

    For each next-quarter fold, PEI at 5 % of the long-run counts (months before the window) beside
    the counts of every month outside the window, before and after it: a forecaster that had seen
    the future months too. The gap is an upper guide to what a better use of history can gain.
    """
    m, _ = E.month_matrix(inc, grid, months=months)
    rows = []
    for k in range(3, len(months) - 2):
        test = m[:, k : k + 3].sum(axis=1)
        rows.append(
            (
                months[k - 1],
                pei_fast(m[:, :k].sum(axis=1), test, 0.05),
                pei_fast(m.sum(axis=1) - test, test, 0.05),
            )
        )
    t = pd.DataFrame(rows, columns=["train_end", "counts", "all_other_months"])
    t["gain"] = t["all_other_months"] - t["counts"]
    print("\nceiling: PEI at 5 %, next quarter, counts before the window vs counts of every other month:")
    print(t.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"mean gain from seeing every other month: {t['gain'].mean():+.4f}")


def main() -> None:
    """Run the backtests and print the tables."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--fast", action="store_true", help="test-size forecast settings (FAST_CONFIG)")
    ap.add_argument("--no-hgb", action="store_true", help="leave out the gradient boosting (slow)")
    ap.add_argument("--source", nargs="*", default=list(SOURCES))
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    pd.set_option("display.width", 220)
    pd.set_option("display.max_columns", 30)
    t0 = time.perf_counter()
    cfg = load_config(CONFIG)
    study = load_study(cfg)
    print(f"study loaded in {time.perf_counter() - t0:.1f} s")
    fcfg = FAST_CONFIG if args.fast else ForecastConfig()
    new = ["ensemble", "poisson"] + ([] if args.no_hgb else ["hgb"])
    for src in args.source:
        print("\n" + "=" * 100 + f"\n{src}\n" + "=" * 100)
        ecfg = EvaluateConfig(source=src, methods=list(METHODS), forecast_methods=new, kit_methods=list(KIT_METHODS))
        t, c = time.perf_counter(), time.process_time()
        ev = E.evaluate_study(study, ecfg, rank_config=cfg.rank)
        old_s = time.perf_counter() - t
        fe = evaluate_forecasts(study, ev, ecfg=ecfg, fcfg=fcfg, sites=cfg.sites)
        assert fe is not None
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        rep = ev["report"]
        months = rep["incidents"]["months"]
        print(
            f"area: {', '.join(rep['area']['districts'])}; {rep['grid']['cells']:,} cells of "
            f"{rep['grid']['cell_size_m']:g} m; months {months[0]}..{months[-1]}"
        )
        print("\nmean PEI (PAI) over the folds:")
        print(pei_table(E.summarise_backtest(fe.results)))
        print_paired(fe.paired)
        print("\nnested choice (forecast method chosen on earlier completed folds by PEI at 5 %, scored on the next):")
        print(fe.nested_summary.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        for v in fe.verdicts:
            print(f"verdict: {v['text']}")
        cal = fe.backtest.calibration
        for h, r in fe.recommended.items():
            print(
                f"\nrecommended for the {window_label(h)}: {r['method']} (fold mean {r['mean']:.3f}; best of all "
                f"methods {r['best_overall']} {r['best_overall_mean']:.3f})"
            )
            c = cal[(cal["horizon"] == h) & (cal["method"] == r["method"])]
            print("calibration (pooled over folds, deciles within folds):")
            print(c.drop(columns=["horizon"]).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print("\ncalibration of every forecast method, next quarter (top decile; total forecast / observed):")
        for m in dict.fromkeys(cal["method"]):
            c = cal[(cal["horizon"] == max(cal["horizon"])) & (cal["method"] == m)]
            top = c.iloc[-1]
            tot = c["predicted_total"].sum() / c["observed_total"].sum()
            print(
                f"  {m:<12} top decile forecast {top['predicted_mean']:.3f} observed {top['observed_mean']:.3f}; "
                f"total {tot:.3f}"
            )
        inc = study.incidents[study.incidents["source"] == src]
        print_ceiling(inc, ev["grid"], list(rep["incidents"]["months"]))
        fits = fe.backtest.fits
        secs = fits.groupby("method")["seconds"].sum().round(1).to_dict()
        print(
            f"\nseconds per forecast method (all folds, both horizons): {secs}; existing methods {old_s:.1f} s; "
            f"forecasts {fe.report['seconds']}; total {wall:.1f} s wall, {cpu:.1f} s CPU"
        )
        if fe.kits_summary is not None:
            print("\nkits chosen on months 1..k, scored on k+1..k+h ([sites] p and radius):")
            print(fe.kits_summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            report = {**rep, "forecast": fe.report}
            (args.out / f"evaluation_{src}.json").write_text(json.dumps(report, indent=1, default=str))
            for name, png in fe.figures.items():
                (args.out / f"{Path(name).stem}_{src}.png").write_bytes(png)
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
