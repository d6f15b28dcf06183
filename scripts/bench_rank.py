"""Benchmark: rank all 32,844 English LSOAs with 1,000 draws (axes intervals beside the composite Monte Carlo).

Deprivation is REAL (IoD2019 File 2 and File 6 from ``data/iod2019``: the IMD-without-crime
score is computed nationally, population from File 6). Violence counts, venues, Gi* z, KDE
and the youth-need values are SYNTHETIC (seeded, labelled as such): the bundled crime data
covers Nottinghamshire only. Nine components, default weights, percentile scaling,
weighted mean, Dirichlet weight noise and Poisson resampling: the full default method.

Each method runs in a fresh Python process (time and peak memory are its own):

* ``intervals``: :func:`hotspots.rank.intervals.rank_intervals`, the default method's 90 %
  predictive harm-rank intervals (negative binomial, all places re-ranked per draw), on
  SYNTHETIC monthly harm (12 months per LSOA, Gamma-Poisson, month-to-month variance
  1.15 mu + 0.05 mu^2, harm marks 1 / 1.5 / 4), the overdispersion estimated from it;
* ``axes``: :func:`hotspots.rank.places.rank_axes`, the whole default ranking (harm axis,
  need axis from the REAL IMD without crime, tiers, intervals, reasons) on the same data;
* ``hotspots``: :func:`hotspots.rank.composite.rank_places`, the composite method's Monte Carlo
  (vectorised blocks of draws, 2 threads);
* ``loop baseline``: the textbook way, one draw at a time in a Python loop with
  ``scipy.stats.rankdata`` for every component and for the final ranking (same model,
  same seeds per draw cannot be shared, so its intervals agree statistically, not exactly).

Run: ``.venv/bin/python scripts/bench_rank.py [--draws 1000]``. Target: under 10 s each.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def england_components(seed: int = 0):
    """Real national deprivation + synthetic violence for every English LSOA."""
    import numpy as np
    import pandas as pd

    from hotspots.config import load_config
    from hotspots.io.load import read_deprivation
    from hotspots.prepare.deprivation import IMD_NC_SCORE, imd_without_crime

    cfg = load_config(ROOT / "data" / "nottinghamshire.toml")
    dep = read_deprivation(cfg.deprivation)
    nc = imd_without_crime(dep)
    rng = np.random.default_rng(seed)
    n = len(dep)
    d = nc[IMD_NC_SCORE].to_numpy()
    # SYNTHETIC violence: negative binomial, more where deprivation is higher, plus NTE centres
    centre = rng.random(n) < 0.02
    lam = (1.0 + 25.0 * (d / 100.0) ** 1.5 + 120.0 * centre) * rng.gamma(2.0, 0.5, n)
    cnt = rng.poisson(lam)
    harm = cnt * rng.uniform(1.0, 1.6, n)
    near = harm * np.clip(rng.beta(1, 4, n) + 0.6 * centre, 0, 1)
    pop = dep["population"].to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "lsoa_code": dep["lsoa_code"].to_numpy(),
            "lsoa_name": dep["iod_lsoa_name"].to_numpy(),
            "district": dep["lad19_name"].to_numpy(),
            "population": pop,
            "n": cnt,
            "harm": harm,
            "harm_near": near,
            "harm_rate": harm / pop * 1000,
            "gi_z": rng.normal(0, 1.5, n) + 4 * centre,  # SYNTHETIC
            "hotspot_class": None,
            "kde": harm * rng.uniform(0.5, 1.5, n),  # SYNTHETIC
            "venues_near": rng.poisson(1 + 20 * centre).astype(float),  # SYNTHETIC
            "venue_density": rng.gamma(0.5, 2, n) + 30 * centre,  # SYNTHETIC
            "near_venue_share": np.where(harm > 0, near / np.where(harm > 0, harm, 1), 0.0),
            "deprivation_score": d,  # REAL: IMD without crime, national
            "imd_decile": dep["imd_decile"].to_numpy(dtype=float),  # REAL
            "imd_nc_decile": nc["imd_nc_decile"].astype(float).to_numpy(),  # REAL
            "idaci_rate_derived": np.where(
                rng.random(n) < 0.03, np.nan, np.clip(d / 120 + rng.normal(0, 0.05, n), 0, 1)
            ),
            "cyp_need": np.clip(d + rng.normal(0, 10, n), 0, 100),  # SYNTHETIC
            "cyp_decile": np.nan,
            "imd_nc_rank": nc["imd_nc_rank"].astype(float).to_numpy(),  # REAL
        }
    )


def synthetic_monthly(p: int, seed: int = 2):
    """SYNTHETIC monthly harm of ``p`` places over 12 months, and the harm marks behind it."""
    import numpy as np

    rng = np.random.default_rng(seed)
    theta = rng.gamma(0.4, 1.5, size=(p, 1))
    v = 0.15 * theta + 0.05 * theta**2
    counts = rng.poisson(rng.gamma(theta**2 / v, v / theta, size=(p, 12)))
    marks = rng.choice([1.0, 1.5, 4.0], p=[0.88, 0.06, 0.06], size=int(counts.sum()))
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    harm = np.bincount(cell, weights=marks, minlength=counts.size).reshape(counts.shape)
    return harm, marks


def run_intervals(draws: int, *, whole: bool = False) -> dict:
    import tracemalloc

    import numpy as np

    from hotspots.rank.eb import estimate_dispersion, mark_scale
    from hotspots.rank.intervals import rank_intervals
    from hotspots.rank.places import rank_axes

    comps = england_components()
    monthly, marks = synthetic_monthly(len(comps))
    comps["harm"] = monthly.sum(axis=1)
    comps["n"] = np.round(comps["harm"]).astype(int)
    tracemalloc.start()
    c = time.process_time()
    t = time.perf_counter()
    s = mark_scale(marks)
    disp = estimate_dispersion(monthly, scale=s)
    if whole:
        out = rank_axes(comps, months=12, dispersion=disp, scale=s, draws=draws, seed=1)
        low, high, p_top = out["harm_rank_low"], out["harm_rank_high"], out["p_top_n"]
    else:
        out = rank_intervals(comps["harm"].to_numpy(), months=12, dispersion=disp, scale=s, draws=draws, seed=1)
        low, high, p_top = out["harm_rank_low"], out["harm_rank_high"], out["p_top_n"]
    sec = time.perf_counter() - t
    cpu = time.process_time() - c
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "seconds": sec,
        "cpu_seconds": cpu,
        "peak_traced_mb": peak / 1e6,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "places": len(out),
        "median_interval_width": float(np.median((high - low).to_numpy())),
        "top20_certain": int((p_top == 1).sum()),
        "top_codes": [],
    }


def run_hotspots(draws: int) -> dict:
    import tracemalloc

    from hotspots.rank.composite import rank_places

    comps = england_components()
    tracemalloc.start()
    c = time.process_time()
    t = time.perf_counter()
    out = rank_places(comps, draws=draws, seed=1)
    sec = time.perf_counter() - t
    cpu = time.process_time() - c
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    width = (out["rank_high"] - out["rank_low"]).to_numpy()
    return {
        "seconds": sec,
        "cpu_seconds": cpu,
        "peak_traced_mb": peak / 1e6,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "places": len(out),
        "median_interval_width": float(__import__("numpy").median(width)),
        "top20_certain": int((out["p_top_n"] == 1).sum()),
        "top_codes": out["lsoa_code"].head(20).tolist(),
    }


def run_loop(draws: int) -> dict:
    """One draw at a time, scipy.stats.rankdata everywhere: the straightforward implementation."""
    import tracemalloc

    import numpy as np
    from scipy.stats import rankdata

    from hotspots.rank.components.registry import COMPONENTS, DEFAULT_WEIGHTS, RESAMPLED

    comps = england_components()
    tracemalloc.start()
    c = time.process_time()
    t = time.perf_counter()
    names = list(DEFAULT_WEIGHTS)
    w = np.array([DEFAULT_WEIGHTS[k] for k in names])
    raw = np.vstack([comps[COMPONENTS[k]].to_numpy(dtype=float) for k in names])
    avail = ~np.isnan(raw)
    p = raw.shape[1]

    def pct(x):
        ok = ~np.isnan(x)
        out = np.full(len(x), np.nan)
        out[ok] = rankdata(x[ok]) / ok.sum()
        return out

    def score(rw, wv):
        s = np.array([pct(r) for r in rw])
        ww = wv[:, None] * avail
        return (ww * np.nan_to_num(s)).sum(0) / ww.sum(0)

    point = score(raw, w)
    point_rank = rankdata(-point, method="ordinal")
    n = comps["n"].to_numpy(float)
    harm = comps["harm"].to_numpy(float)
    hn = comps["harm_near"].to_numpy(float)
    pop = comps["population"].to_numpy(float)
    mh = np.where(n > 0, harm / np.where(n > 0, n, 1), 0)
    lam_near = np.where(harm > 0, n * hn / np.where(harm > 0, harm, 1), 0)
    lam_far = np.maximum(n - lam_near, 0)
    rng = np.random.default_rng(1)
    ranks = np.empty((draws, p), dtype=np.int32)
    for d in range(draws):
        wd = rng.dirichlet(100 * w / w.sum())
        near = rng.poisson(lam_near) * mh
        total = near + rng.poisson(lam_far) * mh
        rw = raw.copy()
        for i, k in enumerate(names):
            if k in RESAMPLED:
                v = {
                    "harm_count": total,
                    "harm_rate": total / pop * 1000,
                    "near_venue_share": np.where(total > 0, near / np.where(total > 0, total, 1), 0),
                }[k]
                rw[i] = np.where(avail[i], v, np.nan)
        ranks[d] = rankdata(-score(rw, wd), method="ordinal")
    low, high = np.percentile(ranks, [5, 95], axis=0, method="nearest")
    low, high = np.minimum(low, point_rank), np.maximum(high, point_rank)
    sec = time.perf_counter() - t
    cpu = time.process_time() - c
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    order = np.argsort(point_rank)
    return {
        "seconds": sec,
        "cpu_seconds": cpu,
        "peak_traced_mb": peak / 1e6,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "places": p,
        "median_interval_width": float(np.median(high - low)),
        "top20_certain": int(((ranks <= 20).mean(0) == 1).sum()),
        "top_codes": comps["lsoa_code"].to_numpy()[order][:20].tolist(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--worker", choices=["intervals", "axes", "hotspots", "loop"])
    ap.add_argument("--skip-loop", action="store_true", help="do not run the slow loop baseline")
    a = ap.parse_args()
    if a.worker:
        runs = {
            "intervals": lambda: run_intervals(a.draws),
            "axes": lambda: run_intervals(a.draws, whole=True),
            "hotspots": lambda: run_hotspots(a.draws),
            "loop": lambda: run_loop(a.draws),
        }
        print(json.dumps(runs[a.worker]()))
        return
    rows = {}
    for worker in ["intervals", "axes", "hotspots"] + ([] if a.skip_loop else ["loop"]):
        proc = subprocess.run(
            [sys.executable, __file__, "--worker", worker, "--draws", str(a.draws)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        )
        rows[worker] = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"Ranking {rows['hotspots']['places']:,} English LSOAs (REAL IoD2019 deprivation, SYNTHETIC violence), "
        f"{a.draws:,} draws, each method in a fresh process\n"
    )
    head = f"{'method':<42}{'CPU s':>8}{'time s':>9}{'peak traced MB':>16}{'max RSS MB':>12}"
    print(head + f"{'median 5-95 width':>19}{'P(top20)=1':>12}")
    labels = {
        "intervals": "axes: rank_intervals (NB predictive)",
        "axes": "axes: rank_axes (whole default ranking)",
        "hotspots": "composite: rank_places (Monte Carlo)",
        "loop": "composite loop baseline (scipy rankdata)",
    }
    for k, r in rows.items():
        cols = f"{labels[k]:<42}{r['cpu_seconds']:>8.2f}{r['seconds']:>9.2f}{r['peak_traced_mb']:>16.0f}"
        print(cols + f"{r['maxrss_mb']:>12.0f}{r['median_interval_width']:>19.0f}{r['top20_certain']:>12d}")
    if "loop" in rows:
        same = rows["hotspots"]["top_codes"] == rows["loop"]["top_codes"]
        speed = rows["loop"]["seconds"] / rows["hotspots"]["seconds"]
        print(f"\ncomposite point top 20 identical in both: {same}; speed-up {speed:.1f}x")
    for k in ("intervals", "axes", "hotspots"):
        print(f"target < 10 s wall, {labels[k]}: {'PASS' if rows[k]['seconds'] < 10 else 'FAIL'}")
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    print(
        f"machine: {cores} cores, 1-minute load average {load:.1f} at the end"
        + (" (busy: wall times are inflated; CPU s is the fairer figure)" if load > cores else "")
    )


if __name__ == "__main__":
    main()
