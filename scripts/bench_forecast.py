"""Benchmark: the forecast methods on the 217,886-cell force-wide grid beside a naive pandas/scikit-learn loop.

Usage::

    .venv/bin/python scripts/bench_forecast.py

Real data: the bundled 2020 force-wide possession-of-weapons source on the 100 m grid of
``hotspots evaluate`` (217,886 cells, 12 months). Each step is timed as CPU seconds of this process
(the machine is shared; wall time is printed too) beside the straightforward way of writing it:

* features of the origins each next-quarter fold trains and forecasts from (k = 3..9, origins 1..k):
  :class:`hotspots.evaluate.forecast.features.History` (cumulative sums, each month smoothed once,
  sparse Gaussian patches) against a pandas loop that slices the month columns and smooths every
  window with ``scipy.ndimage.gaussian_filter`` each time it is needed;
* the ensemble's choice for one fold: cached inner folds and an O(n) PEI against recomputing every
  setting and scoring it with the full-sort :func:`hotspots.evaluate.measures.pei`;
* one Poisson GLM fold: subsampled rows (re-weighted), NumPy design, one thread, against a
  scikit-learn ``Pipeline(StandardScaler, PoissonRegressor)`` on every cell x origin row of a DataFrame;
* the whole next-quarter backtest (7 folds, counts + Poisson GLM + ensemble) with the package only
  (the naive loop would repeat the per-fold costs above seven times).
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hotspots import columns as C  # noqa: E402
from hotspots.config import load_config  # noqa: E402
from hotspots.evaluate.folds import calendar  # noqa: E402
from hotspots.evaluate.forecast.backtest import backtest_matrix  # noqa: E402
from hotspots.evaluate.forecast.config import ForecastConfig  # noqa: E402
from hotspots.evaluate.forecast.ensemble import EnsembleSearch  # noqa: E402
from hotspots.evaluate.forecast.features import History, Lattice, feature_array, static_features  # noqa: E402
from hotspots.evaluate.forecast.models import model_forecast  # noqa: E402
from hotspots.evaluate.measures import pei  # noqa: E402
from hotspots.evaluate.rolling import evaluation_area, month_matrix  # noqa: E402
from hotspots.prepare.study import load_study  # noqa: E402
from hotspots.units import make_grid  # noqa: E402


class Timer:
    """CPU and wall seconds of a block."""

    def __enter__(self) -> Timer:
        self.c, self.w = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu, self.wall = time.process_time() - self.c, time.perf_counter() - self.w


def naive_features(
    mat: np.ndarray, lattice: Lattice, static: pd.DataFrame, k: int, cfg: ForecastConfig
) -> pd.DataFrame:
    """The features at origin k the direct way: slice the months, smooth each window with a full filter."""

    def plane(v: np.ndarray) -> np.ndarray:
        p = np.zeros(lattice.nrows * lattice.ncols)
        p[lattice.ids] = v
        return p.reshape(lattice.nrows, lattice.ncols)

    def back(p: np.ndarray) -> np.ndarray:
        return p.ravel()[lattice.ids]

    x = pd.DataFrame(mat[:, :k])
    out = pd.DataFrame({"rate_all": x.mean(axis=1), "lag1": x.iloc[:, -1], "rate_3": x.iloc[:, -3:].mean(axis=1)})
    out["rate_6"] = x.iloc[:, -6:].mean(axis=1)
    out["active"] = (x > 0).mean(axis=1)
    out["sqrt"] = np.sqrt(x).mean(axis=1)
    ring = np.ones((3, 3))
    ring[1, 1] = 0
    out["neighbour"] = back(ndimage.correlate(plane(out["rate_all"].to_numpy()), ring, mode="constant"))
    out["neighbour_3"] = back(ndimage.correlate(plane(out["rate_3"].to_numpy()), ring, mode="constant"))
    for s in cfg.smooth_m:
        out[f"smooth_{s:g}"] = back(
            ndimage.gaussian_filter(
                plane(out["rate_all"].to_numpy()), s / lattice.cell_size, mode="constant", truncate=3
            )
        )
    return pd.concat([out, static.reset_index(drop=True)], axis=1)


def main() -> None:
    """Time each step both ways and print the table."""
    warnings.simplefilter("ignore")
    study = load_study(load_config(ROOT / "data" / "nottinghamshire.toml"))
    inc = study.incidents[study.incidents[C.SOURCE] == "county_weapons_2020"]
    geom, _ = evaluation_area(inc, study.lsoa)
    grid = make_grid(geom, cell_size=100)
    months = calendar(inc[C.MONTH].unique())
    mat, _ = month_matrix(inc, grid, months=months)
    lattice = Lattice.from_grid(grid)
    cfg = ForecastConfig()
    static = static_features(grid, venues=study.venues, lsoa=study.lsoa)
    print(f"grid: {len(grid):,} cells of 100 m, {len(months)} months, {int(mat.sum()):,} incidents (real data)\n")
    rows = []

    origins = [j for k in range(3, 10) for j in range(1, k + 1)]  # each next-quarter fold: its training origins
    with Timer() as ours:
        h = History(mat, lattice)
        for j in origins:
            feature_array(h, j, static=static, cfg=cfg)
    with Timer() as naive:
        for j in origins:
            naive_features(mat, lattice, static, j, cfg)
    rows.append((f"features of 7 folds' origins ({len(origins)} feature sets)", ours, naive))

    k, hz = 9, 3
    with Timer() as ours:
        search = EnsembleSearch(History(mat, lattice), cfg)
        search.choose(k, hz)
    grid_settings = search.grid
    with Timer() as naive:
        table = []
        for j in range(1, k - hz + 1):
            test = mat[:, j : j + hz].sum(axis=1)
            row = []
            for p in grid_settings:
                x = np.sqrt(mat[:, :j]) if p.transform == "sqrt" else mat[:, :j]
                own = (1 - p.recent_share) * x.mean(axis=1) + p.recent_share * x[:, -3:].mean(axis=1)
                score = own
                if p.prior_months > 0:
                    plane = np.zeros(lattice.nrows * lattice.ncols)
                    plane[lattice.ids] = own
                    sm = ndimage.gaussian_filter(
                        plane.reshape(lattice.nrows, lattice.ncols), p.sigma_m / 100, mode="constant", truncate=3
                    ).ravel()[lattice.ids]
                    score = (j * own + p.prior_months * sm) / (j + p.prior_months)
                row.append(pei(score, test, coverage=0.05))
            table.append(row)
        int(np.argmax(np.nanmean(np.array(table), axis=0)))
    rows.append((f"ensemble choice, one fold ({len(grid_settings)} settings x {k - hz} inner folds)", ours, naive))

    with Timer() as ours:
        model_forecast("poisson", History(mat, lattice), k, hz, static=static, start_month=1, cfg=cfg)
    with Timer() as naive:
        from sklearn.linear_model import PoissonRegressor
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        xs, ys = [], []
        for j in range(1, k):
            hh = min(hz, k - j)
            f = naive_features(mat, lattice, static, j, cfg).fillna(0.0)
            xs.append(np.log1p(f.clip(lower=0)))
            ys.append(mat[:, j : j + hh].sum(axis=1) / hh)
        model = make_pipeline(StandardScaler(), PoissonRegressor(alpha=cfg.glm_alpha, max_iter=1000))
        model.fit(pd.concat(xs, ignore_index=True), np.concatenate(ys))
        model.predict(np.log1p(naive_features(mat, lattice, static, k, cfg).fillna(0.0).clip(lower=0)))
    rows.append((f"Poisson GLM, one fold ({(k - 1) * len(grid):,} rows naive)", ours, naive))

    with Timer() as ours:
        backtest_matrix(
            mat,
            months=months,
            lattice=lattice,
            static=static,
            methods=["counts", "poisson", "ensemble"],
            coverages=(0.05,),
            horizons=(3,),
            cfg=cfg,
            calibrate=False,
        )
    rows.append(("next-quarter backtest, 7 folds, counts + poisson + ensemble", ours, None))

    w = max(len(r[0]) for r in rows)
    print(f"{'step':<{w}} | {'hotspots CPU s':>14} {'(wall)':>8} | {'naive CPU s':>11} {'(wall)':>8} | {'speed-up':>8}")
    print("-" * (w + 60))
    for name, a, b in rows:
        nb = f"{b.cpu:11.2f} {f'({b.wall:.1f})':>8}" if b is not None else f"{'-':>11} {'':>8}"
        sp = f"{b.cpu / a.cpu:7.1f}x" if b is not None and a.cpu > 0 else f"{'-':>8}"
        print(f"{name:<{w}} | {a.cpu:14.2f} {f'({a.wall:.1f})':>8} | {nb} | {sp}")


if __name__ == "__main__":
    main()
