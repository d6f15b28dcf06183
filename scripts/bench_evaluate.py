"""Benchmark: the rolling-origin backtest at force scale against a plain geopandas baseline.

The input is SYNTHETIC: the real 2020 Nottingham City violence points
(``data/crime/derived/nottingham_violence_2020.csv.gz``, 13,335 rows, 12 months) repeated
until there are ``--rows`` incidents (default 1,000,000), each copy jittered by up to about
30 m and keeping its month. The grid is 100 m over the whole of Nottinghamshire (the
bundled 679 LSOAs, about 216,000 cells), so the backtest sees a force-sized grid.

Each side runs in a fresh Python process, so peak memory (``ru_maxrss``) is its own:

* **hotspots (all grid methods)**: :func:`hotspots.evaluate.rolling` with every method
  that needs only incidents and a grid (``GRID_METHODS``: counts, last_period, kde, gistar,
  composite, random; ``place_score`` depends on the LSOAs, not on the number of
  incidents), horizons 1 and 3 (16 folds), coverages 1 %, 5 %, 10 %.
* **hotspots (all methods, fixed bandwidth)**: the same with ``bandwidth=400`` m, where the
  training KDE of each fold is a running sum of one surface per month.
* **hotspots (counts)**: the same with the ``counts`` method only.
* **baseline (counts)**: what an analyst would write with geopandas for the ``counts``
  method alone: per fold, ``geopandas.sjoin`` of the training and the test incidents to
  the grid, ``value_counts`` per cell, the top cells by ``sort_values`` (ties by cell
  order), hits and the best possible hits.

The two ``counts`` sides must agree on hit rate wherever the cut-off does not fall in a tie
(the baseline breaks ties by cell order, hotspots by expected value); the script prints the
largest difference in PEI at 5 % as a check.

Target (issue 4): the backtest runs in seconds, not minutes.

Usage::

    .venv/bin/python scripts/bench_evaluate.py                 # 1,000,000 incidents
    .venv/bin/python scripts/bench_evaluate.py --rows 200000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "data" / "crime" / "derived" / "nottingham_violence_2020.csv.gz"
LSOA = ROOT / "data" / "boundaries" / "lsoa2011_bsc_nottinghamshire.gpkg"
CELL = 100.0
COVERAGES = (0.01, 0.05, 0.10)
HORIZONS = (1, 3)
MIN_TRAIN = 3
TARGET_S = 60.0


def build(rows: int, path: Path, *, seed: int = 0) -> None:
    """Write ``rows`` SYNTHETIC incidents (x, y in EPSG:27700, month index) to ``path`` (.npz)."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    real = pd.read_csv(REAL)
    pts = gpd.GeoSeries(gpd.points_from_xy(real.longitude, real.latitude), crs="EPSG:4326").to_crs("EPSG:27700")
    months = sorted(real.month.unique())
    m = pd.Index(months).get_indexer(real.month)
    reps = -(-rows // len(real))
    rng = np.random.default_rng(seed)
    x = np.tile(pts.x.to_numpy(), reps)[:rows] + rng.uniform(-30, 30, reps * len(real))[:rows]
    y = np.tile(pts.y.to_numpy(), reps)[:rows] + rng.uniform(-30, 30, reps * len(real))[:rows]
    month = np.tile(m, reps)[:rows]
    np.savez(path, x=x, y=y, month=month, months=np.array(months))


def _load(path: Path):
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    d = np.load(path)
    months = [str(s) for s in d["months"]]
    inc = gpd.GeoDataFrame(
        {"month": pd.Series(np.array(months, dtype=object)[d["month"]], dtype=object), "harm": 1.0},
        geometry=gpd.points_from_xy(d["x"], d["y"]),
        crs="EPSG:27700",
    )
    return inc, months


def _grid():
    import geopandas as gpd

    from hotspots.units import make_grid

    lsoa = gpd.read_file(LSOA).to_crs("EPSG:27700")
    return make_grid(lsoa, cell_size=CELL)


def run_ours(path: Path, methods: tuple[str, ...], bandwidth: float | None = None) -> dict:
    import warnings

    from hotspots.evaluate.rolling import backtest

    inc, months = _load(path)
    t = time.perf_counter()
    grid = _grid()
    t_grid = time.perf_counter() - t
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = backtest(
            inc,
            grid,
            months=months,
            methods=methods,
            coverages=COVERAGES,
            horizons=HORIZONS,
            min_train_months=MIN_TRAIN,
            weights="count",
            bandwidth=bandwidth,
        )
    secs = time.perf_counter() - t
    r5 = res[(res.method == "counts") & (res.coverage == 0.05)]
    return {
        "seconds": secs,
        "grid_seconds": t_grid,
        "cells": len(grid),
        "rows": len(res),
        "pei5": r5.pei.round(6).tolist(),
    }


def run_baseline(path: Path) -> dict:
    """The counts method written the plain geopandas way, one spatial join per fold."""
    import geopandas as gpd
    import numpy as np

    inc, months = _load(path)
    t = time.perf_counter()
    grid = _grid()
    t_grid = time.perf_counter() - t
    t = time.perf_counter()
    mi = {m: i for i, m in enumerate(months)}
    month_idx = inc["month"].map(mi).to_numpy()
    cells = grid[["cell_id", "geometry"]]
    n = len(cells)
    pei5 = []
    rows = 0

    def counts_of(points):
        j = gpd.sjoin(points[["geometry"]], cells, how="inner", predicate="within")
        vc = j["index_right"].value_counts()
        c = np.zeros(n)
        c[vc.index.to_numpy()] = vc.to_numpy()
        return c

    for h in HORIZONS:
        for k in range(MIN_TRAIN, len(months) - h + 1):
            train = counts_of(inc[month_idx < k])
            test = counts_of(inc[(month_idx >= k) & (month_idx < k + h)])
            order = np.argsort(-train, kind="stable")
            best = np.sort(test)[::-1]
            for cov in COVERAGES:
                sel = round(cov * n)
                hits = test[order[:sel]].sum()
                mx = best[:sel].sum()
                rows += 1
                if cov == 0.05:
                    pei5.append(round(float(hits / mx), 6))
    secs = time.perf_counter() - t
    return {"seconds": secs, "grid_seconds": t_grid, "cells": n, "rows": rows, "pei5": pei5}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--one", choices=["all", "fixed", "counts", "baseline"], help=argparse.SUPPRESS)
    ap.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        if a.one == "baseline":
            out = run_baseline(a.data)
        else:
            from hotspots.evaluate.rolling import GRID_METHODS

            if a.one == "counts":
                out = run_ours(a.data, ("counts",))
            else:
                out = run_ours(a.data, GRID_METHODS, bandwidth=400.0 if a.one == "fixed" else None)
        out["peak_mb"] = _rss_mb()
        print(json.dumps(out))
        return

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "incidents.npz"
        t = time.perf_counter()
        build(a.rows, data)
        print(
            f"built {a.rows:,} SYNTHETIC incidents (real 2020 City violence, repeated and jittered) "
            f"in {time.perf_counter() - t:.1f} s"
        )
        results = {}
        for side in ("all", "fixed", "counts", "baseline"):
            p = subprocess.run(
                [sys.executable, __file__, "--one", side, "--data", str(data)],
                capture_output=True,
                text=True,
                check=True,
            )
            results[side] = json.loads(p.stdout.strip().splitlines()[-1])
    cells = results["all"]["cells"]
    folds = len(results["baseline"]["pei5"])
    print(
        f"grid: {cells:,} cells of {CELL:g} m over Nottinghamshire; {folds} folds (horizons {HORIZONS}), "
        f"coverages {COVERAGES}"
    )
    print()
    print(f"{'side':<34} {'seconds':>9} {'peak MB':>9} {'result rows':>12}")
    labels = {
        "all": "hotspots backtest, 6 grid methods",
        "fixed": "  same, fixed 400 m KDE bandwidth",
        "counts": "hotspots backtest, counts only",
        "baseline": "geopandas sjoin per fold, counts",
    }
    for side, lab in labels.items():
        r = results[side]
        print(f"{lab:<34} {r['seconds']:9.2f} {r['peak_mb']:9.0f} {r['rows']:12,}")
    print(f"(grid building, not timed above: {results['all']['grid_seconds']:.1f} s)")
    diff = max(abs(x - y) for x, y in zip(results["counts"]["pei5"], results["baseline"]["pei5"], strict=False))
    print(
        f"counts PEI at 5 %: largest difference hotspots vs baseline over {folds} folds = {diff:.4f} "
        f"(ties at the cut-off: expected value vs cell order)"
    )
    ok = results["all"]["seconds"] < TARGET_S
    print(f"target: all methods under {TARGET_S:.0f} s -> {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
