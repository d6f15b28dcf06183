"""Benchmark of the per-unit change tests: 1,000,000 SYNTHETIC incidents over 217,886 grid cells.

The incidents are synthetic (labelled so in the output): cell rates drawn from a gamma distribution
(strongly concentrated, like crime on a 100 m grid), 24 months with month-to-month shocks per cell
(negative binomial, c = 0.2, so the default ``dispersion="auto"`` has something to allow for),
before = the first 12 months, after = the last 12, and a 30 % fall planted in 2 % of the cells. The
unit count is that of a force's 100 m grid (217,886 cells).

Timed (best of 3 unless noted, one process, perf_counter):
  tally      incidents -> per-cell before/after counts, months, marks (tally_periods, with the
             dispersion estimate)
  tests+BH   the default test: design effects, exact tests + exact intervals, BH, classes (TARGET < 2 s)
  plain      the same with dispersion "none"
  mde        mde_fall for every tested cell
  table      the whole unit_change (tests, BH, classes, mde, frame)
  harm       harm_change with three marks (1, 1.5, 4) on the same cells
  worst      tests + BH when nearly every unit has a distinct (before, after) pair (no de-duplication gain)
Peer: a plain loop of scipy.stats.binomtest (p-value only) over the tested cells, then BH: timed on
a random subset of 5,000 cells and extrapolated, or over every tested cell with ``--full-loop``.

Run: .venv/bin/python scripts/bench_change.py [--full-loop]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats

from hotspots.evaluate.change import (
    classify_change,
    count_change,
    fdr_bh,
    harm_change,
)
from hotspots.evaluate.change_table import unit_change, unit_dispersion
from hotspots.evaluate.power import mde_fall
from hotspots.evaluate.tally import tally_periods
from hotspots.months import check_periods

N_INCIDENTS = 1_000_000
N_CELLS = 217_886
MONTHS = 24
SUBSET = 5_000


def best_of(fn: Callable[[], Any], reps: int = 3) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def synthetic(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cells, months and harm of 1,000,000 synthetic incidents; and the cells with a planted fall."""
    rate = rng.gamma(0.15, 1.0, N_CELLS)
    fall = rng.random(N_CELLS) < 0.02
    c = 0.2
    weight = rate[:, None] * rng.gamma(1 / c, c, size=(N_CELLS, MONTHS))
    weight[np.ix_(fall, np.arange(12, MONTHS))] *= 0.7
    flat = weight.ravel() / weight.sum()
    idx = rng.choice(flat.size, size=N_INCIDENTS, p=flat)
    cell, month_idx = np.divmod(idx, MONTHS)
    months_all = np.array([f"{2020 + i // 12}-{i % 12 + 1:02d}" for i in range(MONTHS)])
    harm = rng.choice([1.0, 1.5, 4.0], size=N_INCIDENTS, p=[0.8, 0.12, 0.08])
    return cell, months_all[month_idx], harm, fall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full-loop", action="store_true", help="run the scipy loop over every tested cell")
    args = ap.parse_args()
    rng = np.random.default_rng(20261129)
    cell, month, harm, fall = synthetic(rng)
    months_all = sorted(set(month))
    periods = check_periods("2020-01..2020-12", "2021-01..2021-12", incident_months=months_all)
    print(f"SYNTHETIC data: {N_INCIDENTS:,} incidents over {N_CELLS:,} grid cells, {MONTHS} months (2020 vs 2021)")

    t_tally, tally = best_of(lambda: tally_periods(cell, month, n_units=N_CELLS, periods=periods, harm=harm))
    b, a = tally.before, tally.after
    tested = (a + b) > 0
    pairs = len(np.unique(np.stack([a[tested], b[tested]]), axis=1).T)
    print(
        f"cells with an incident: {int(tested.sum()):,}; distinct (before, after) pairs: {pairs:,}; max count in a "
        f"cell: {int((a + b).max())}; estimated NB2 c = {tally.dispersion.c:.3f} (planted 0.2)"
    )

    def tests_bh(setting: str) -> tuple[Any, np.ndarray, np.ndarray]:
        phi, _, _, _ = unit_dispersion(tally, setting)
        r = count_change(b, a, before_months=12, after_months=12, dispersion=phi)
        q = fdr_bh(np.where(r.tested, r.p_value, np.nan))
        return r, q, classify_change(r.rate_ratio, q, r.tested)

    t_tests, (res, _, cls) = best_of(lambda: tests_bh("auto"))
    t_plain, (res_plain, _, cls_plain) = best_of(lambda: tests_bh("none"))
    t_mde, _ = best_of(lambda: mde_fall(b[tested], before_months=12, after_months=12, nb2_c=tally.dispersion.c), reps=1)
    ids = np.arange(N_CELLS)
    t_table, _ = best_of(lambda: unit_change(tally, unit_id=ids), reps=1)
    t_harm, _ = best_of(
        lambda: harm_change(
            tally.before_marks, tally.after_marks, tally.mark_values, before_months=12, after_months=12
        ),
        reps=1,
    )
    big_b = rng.integers(0, 3000, N_CELLS)
    big_a = rng.binomial(big_b + rng.integers(0, 50, N_CELLS), 0.45)
    n_distinct = len(np.unique(big_b.astype(np.int64) * 10_000 + big_a))
    t_worst, _ = best_of(lambda: fdr_bh(count_change(big_b, big_a, before_months=12, after_months=12).p_value), reps=1)

    # the peer: a plain loop of scipy.stats.binomtest, then BH
    cells = np.flatnonzero(tested) if args.full_loop else rng.choice(np.flatnonzero(tested), SUBSET, replace=False)
    t0 = time.perf_counter()
    loop_p = np.array([stats.binomtest(int(a[i]), int(a[i] + b[i]), 0.5).pvalue for i in cells])
    t_loop = time.perf_counter() - t0
    t0 = time.perf_counter()
    stats.false_discovery_control(res_plain.p_value[tested], method="bh")
    t_bh = time.perf_counter() - t0
    loop_all = t_loop if args.full_loop else t_loop * tested.sum() / SUBSET
    same = np.array_equal(loop_p, res_plain.p_value[cells])

    print(f"\n{'step':<66}{'seconds':>10}")
    print("-" * 76)
    rows = [
        ("tally: 1,000,000 incidents -> per cell and month, dispersion", t_tally),
        ("default tests (auto) + exact intervals + BH + classes (TARGET < 2 s)", t_tests),
        ("plain exact tests (none) + exact intervals + BH + classes", t_plain),
        ("minimum detectable fall (mde_fall) for every tested cell", t_mde),
        ("whole change.csv table (unit_change: tests, BH, classes, mde)", t_table),
        ("harm test, 3 marks (harm_change: exact p + exact interval)", t_harm),
        (f"worst case: plain tests + BH, {n_distinct:,} distinct pairs", t_worst),
        (f"peer: scipy.stats.binomtest loop, {len(cells):,} cells (measured)", t_loop),
        (
            f"peer: scipy.stats.binomtest loop + BH, all {int(tested.sum()):,} cells"
            + ("" if args.full_loop else " (EXTRAPOLATED)"),
            loop_all + t_bh,
        ),
    ]
    for name, t in rows:
        print(f"{name:<66}{t:>10.2f}")
    print("-" * 76)
    print(
        f"speed-up of the plain tests + BH over the scipy loop: {(loop_all + t_bh) / t_plain:,.0f}x; "
        f"target < 2 s for the default tests + BH: {'met' if t_tests < 2 else 'NOT met'} ({t_tests:.2f} s)"
    )
    print(f"p-values identical to scipy.stats.binomtest on the {len(cells):,} cells looped: {same}")
    for label, c in (("default (auto)", cls), ("plain (none)", cls_plain)):
        hit = int(((c == "significant fall") & fall).sum())
        other = int(((c == "significant fall") | (c == "significant rise")).sum()) - hit
        print(f"{label}: planted-fall cells flagged 'significant fall' {hit} of {int(fall.sum())}; other cells {other}")
    del res


if __name__ == "__main__":
    main()
