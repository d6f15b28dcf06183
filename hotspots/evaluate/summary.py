"""The backtest's result columns and their summaries: fold means, the text table, the verdict on the baselines."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from hotspots.errors import InputError
from hotspots.evaluate.measures import CELLS, HIT_RATE, HITS, MAX_HITS, PAI, PEI, RRI, TEST_TOTAL, TRAIN_TOTAL

# --------------------------------------------------------------------------------------
# output columns
# --------------------------------------------------------------------------------------

HORIZON = "horizon"  # test window length in months (1 = next month, 3 = next quarter)
FOLD = "fold"  # 1-based fold number within the horizon
TRAIN_START = "train_start"  # first training month, YYYY-MM
TRAIN_END = "train_end"  # last training month, YYYY-MM
TEST_START = "test_start"  # first test month, YYYY-MM
TEST_END = "test_end"  # last test month, YYYY-MM
TRAIN_MONTHS = "train_months"  # the training months (all with data), as a month list "A..B,C"
TEST_MONTHS = "test_months"  # the test months (all with data), as a month list
METHOD = "method"  # prediction method (see METHODS)
COVERAGE = "coverage"  # share of the grid's cells selected as hotspots (0-1)
BACKTEST_COLUMNS = [
    HORIZON,
    FOLD,
    TRAIN_START,
    TRAIN_END,
    TEST_START,
    TEST_END,
    TRAIN_MONTHS,
    TEST_MONTHS,
    METHOD,
    COVERAGE,
    CELLS,
    TRAIN_TOTAL,
    TEST_TOTAL,
    HITS,
    MAX_HITS,
    HIT_RATE,
    PAI,
    PEI,
    RRI,
]
"""Columns of :func:`hotspots.evaluate.rolling.backtest`: one row per fold x method x coverage."""

FOLDS = "folds"  # number of folds averaged
QUARTER = 3  # a horizon of three months is called "next quarter"
SUMMARY_COLUMNS = [HORIZON, METHOD, COVERAGE, FOLDS, HIT_RATE, PAI, PEI, RRI]
"""Columns of :func:`summarise_backtest`: fold means per horizon x method x coverage."""


def summarise_backtest(results: pd.DataFrame) -> pd.DataFrame:
    """Mean of each metric over the folds, per horizon x method x coverage.

    Returns
    -------
    pandas.DataFrame
        :data:`SUMMARY_COLUMNS`, methods in the order they were run.
    """
    missing = [c for c in BACKTEST_COLUMNS if c not in results.columns]
    if missing:
        raise InputError(f"results lack columns {missing}; pass the frame returned by backtest().")
    order = {m: i for i, m in enumerate(dict.fromkeys(results[METHOD]))}
    g = results.groupby([HORIZON, METHOD, COVERAGE], sort=False)
    s = g[[HIT_RATE, PAI, PEI, RRI]].mean()
    s[FOLDS] = g[FOLD].nunique()
    s = s.reset_index()
    s["_o"] = s[METHOD].map(order)
    s = s.sort_values([HORIZON, "_o", COVERAGE], kind="stable").drop(columns="_o").reset_index(drop=True)
    return s[SUMMARY_COLUMNS]


def format_table(summary: pd.DataFrame) -> str:
    """The summary as a text table: one block per horizon, methods x coverages."""
    lines = []
    covs = sorted(summary[COVERAGE].unique())
    for h, block in summary.groupby(HORIZON, sort=True):
        folds = int(block[FOLDS].max())
        label = "next month" if h == 1 else ("next quarter" if h == QUARTER else f"next {h} months")
        lines.append(f"test window: {label} (horizon {h}), mean over {folds} folds")
        head = f"{'method':<12}" + "".join(f" | {f'{c:.0%} of area':^31}" for c in covs)
        sub = f"{'':<12}" + "".join(f" | {'hit%':>6} {'PAI':>6} {'PEI':>6} {'RRI':>6}" + " " * 3 for _ in covs)
        lines += [head, sub, "-" * len(sub)]
        for method, mb in block.groupby(METHOD, sort=False):
            cells = []
            for c in covs:
                r = mb[mb[COVERAGE] == c]
                if len(r) == 0:
                    cells.append(" " * 31)
                    continue
                r = r.iloc[0]
                cells.append(f" | {r[HIT_RATE] * 100:6.1f} {r[PAI]:6.2f} {r[PEI]:6.3f} {_fmt(r[RRI]):>6}   ")
            lines.append(f"{method:<12}" + "".join(cells))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _fmt(v: float) -> str:
    return "n/a" if not np.isfinite(v) else f"{v:.2f}"


def versus_baseline(summary: pd.DataFrame, baselines: Iterable[str] = ("random", "counts")) -> list[dict[str, Any]]:
    """Does any method beat each baseline? Per horizon x coverage, compared on mean PEI.

    Returns
    -------
    list of dict
        ``horizon, coverage, baseline, baseline_pei, best_method`` (best of the other
        methods), ``best_pei, beats_baseline``.
    """
    out = []
    for (h, cov), block in summary.groupby([HORIZON, COVERAGE], sort=True):
        for b in baselines:
            base = block[block[METHOD] == b]
            others = block[block[METHOD] != b]
            if len(base) == 0 or len(others) == 0:
                continue
            bv = float(base[PEI].iloc[0])
            top = others.sort_values(PEI, ascending=False, kind="stable").iloc[0]
            out.append(
                {
                    HORIZON: int(h),
                    COVERAGE: float(cov),
                    "baseline": b,
                    "baseline_pei": bv,
                    "best_method": str(top[METHOD]),
                    "best_pei": float(top[PEI]),
                    "beats_baseline": bool(top[PEI] > bv + 1e-9),
                }
            )
    return out


def format_verdict(rows: list[dict[str, Any]]) -> str:
    """One line per horizon x coverage x baseline: the best other method and whether it wins."""
    lines = ["versus the baselines (mean PEI):"]
    for r in rows:
        label = (
            "next month"
            if r[HORIZON] == 1
            else ("next quarter" if r[HORIZON] == QUARTER else f"next {r[HORIZON]} months")
        )
        verdict = "beats" if r["beats_baseline"] else "does NOT beat"
        lines.append(
            f"  {label}, {r[COVERAGE]:.0%} of area: best other method {r['best_method']} "
            f"({r['best_pei']:.3f}) {verdict} {r['baseline']} ({r['baseline_pei']:.3f})"
        )
    return "\n".join(lines) + "\n"


__all__ = [
    "BACKTEST_COLUMNS",
    "COVERAGE",
    "FOLD",
    "FOLDS",
    "HORIZON",
    "METHOD",
    "SUMMARY_COLUMNS",
    "TEST_END",
    "TEST_MONTHS",
    "TEST_START",
    "TRAIN_END",
    "TRAIN_MONTHS",
    "TRAIN_START",
    "format_table",
    "format_verdict",
    "summarise_backtest",
    "versus_baseline",
]
