"""Benchmark: rank all 32,844 English LSOAs with 1,000 Monte Carlo draws.

Deprivation is REAL (IoD2019 File 2 and File 6 from ``data/iod2019``: the IMD-without-crime
score is computed nationally, population from File 6). Violence counts, venues, Gi* z, KDE
and the youth-need values are SYNTHETIC (seeded, labelled as such): the bundled crime data
covers Nottinghamshire only. Nine components, default weights, percentile scaling,
weighted mean, Dirichlet weight noise and Poisson resampling: the full default method.

Each method runs in a fresh Python process (time and peak memory are its own):

* ``hotspots``: :func:`hotspots.rank.stage.rank_places` (vectorised blocks of draws, 2 threads);
* ``loop baseline``: the textbook way, one draw at a time in a Python loop with
  ``scipy.stats.rankdata`` for every component and for the final ranking (same model,
  same seeds per draw cannot be shared, so its intervals agree statistically, not exactly).

Run: ``.venv/bin/python scripts/bench_rank.py [--draws 1000]``. Target: under 10 s.
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
        }
    )


def run_hotspots(draws: int) -> dict:
    import tracemalloc

    from hotspots.rank.stage import rank_places

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

    from hotspots.rank.stage import COMPONENTS, DEFAULT_WEIGHTS, RESAMPLED

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
    ap.add_argument("--worker", choices=["hotspots", "loop"])
    ap.add_argument("--skip-loop", action="store_true", help="do not run the slow loop baseline")
    a = ap.parse_args()
    if a.worker:
        res = run_hotspots(a.draws) if a.worker == "hotspots" else run_loop(a.draws)
        print(json.dumps(res))
        return
    rows = {}
    for worker in ["hotspots"] + ([] if a.skip_loop else ["loop"]):
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
        f"{a.draws:,} Monte Carlo draws, 9 components, each method in a fresh process\n"
    )
    print(
        f"{'method':<42}{'CPU s':>8}{'time s':>9}{'peak traced MB':>16}{'max RSS MB':>12}{'median 5-95 width':>19}{'P(top20)=1':>12}"
    )
    labels = {"hotspots": "hotspots.rank.stage.rank_places", "loop": "loop baseline (scipy rankdata per draw)"}
    for k, r in rows.items():
        print(
            f"{labels[k]:<42}{r['cpu_seconds']:>8.2f}{r['seconds']:>9.2f}{r['peak_traced_mb']:>16.0f}{r['maxrss_mb']:>12.0f}"
            f"{r['median_interval_width']:>19.0f}{r['top20_certain']:>12d}"
        )
    if "loop" in rows:
        same = rows["hotspots"]["top_codes"] == rows["loop"]["top_codes"]
        print(
            f"\npoint top 20 identical in both: {same}; speed-up {rows['loop']['seconds'] / rows['hotspots']['seconds']:.1f}x"
        )
    verdict = "PASS" if rows["hotspots"]["seconds"] < 10 else "FAIL"
    print(f"target < 10 s wall: {verdict}")
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    print(
        f"machine: {cores} cores, 1-minute load average {load:.1f} at the end"
        + (" (busy: wall times are inflated; CPU s is the fairer figure)" if load > cores else "")
    )


if __name__ == "__main__":
    main()
