"""Benchmark: exact sparse MCLP (hotspots) against spopt's dense MCLP, side by side.

Instances are SYNTHETIC: demand points sampled (with replacement) from the real police.uk
snapped locations of the bundled Nottinghamshire data and jittered (sigma 60 m), weighted by
the sampled incidents' harm; candidates sampled from the real locations and venues, jittered
(sigma 30 m). Sizes from issue 5:

* 10,000 demand x 1,000 candidates, radius 250 m, p = 30 (target: under 2 s incl. build)
* 20,000 demand x 2,000 candidates, radius 250 m, p = 20 (target: under 5 s incl. build)

plus the real bundled data (distinct snapped locations as demand, venues + locations as
candidates, radius 100 m, p = 10; hotspots only: a dense spopt model would hold 27 M pairs).

Each measurement runs in a fresh Python process. hotspots: model build (KD-tree radius
query to a sparse coverage matrix) and solve (reduction, LP relaxation + heuristic +
reduced-cost fixing, HiGHS on what is left) times and peak RSS. spopt:
cost matrix (scipy cdist), ``MCLP.from_cost_matrix`` build and CBC solve times, peak RSS.
The optimal objectives must agree.

Usage::

    .venv/bin/python scripts/bench_sites.py               # everything (~12 min: spopt builds are slow)
    .venv/bin/python scripts/bench_sites.py --skip-spopt-large   # skip spopt on the 20k x 2k instance
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASES = [
    {"name": "synthetic 10k x 1k", "n": 10_000, "m": 1_000, "radius": 250.0, "p": 30, "target_s": 2.0},
    {"name": "synthetic 20k x 2k", "n": 20_000, "m": 2_000, "radius": 250.0, "p": 20, "target_s": 5.0},
]

CHILD_OURS = r"""
import json, resource, sys, time
import numpy as np
t_import = time.perf_counter()
from hotspots.sites import mclp as _mclp
d = np.load(sys.argv[1])
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
c0 = time.process_time()
t0 = time.perf_counter()
A = _mclp.coverage_matrix(d["demand"], d["sites"], float(d["radius"]))
t1 = time.perf_counter()
sol = _mclp.solve_mclp(A, d["weights"], int(d["p"]))
t2 = time.perf_counter()
cpu = time.process_time() - c0
print(json.dumps({"build_s": t1 - t0, "solve_s": t2 - t1, "cpu_s": cpu, "objective": sol.objective, "optimal": sol.optimal,
                  "pairs": int(A.nnz), "reduced": [sol.n_rows, sol.n_cols], "status": sol.status,
                  "solved": [sol.extra.get("solved_rows", sol.n_rows), sol.extra.get("solved_cols", sol.n_cols)],
                  "lp_bound": sol.extra.get("lp_bound"), "heuristic": sol.extra.get("heuristic"),
                  "rss_before_mb": rss0 / 1024, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

CHILD_SPOPT = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
import numpy as np, pulp
from scipy.spatial.distance import cdist
from spopt.locate import MCLP
d = np.load(sys.argv[1])
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
c0 = time.process_time()
t0 = time.perf_counter()
cost = cdist(d["demand"], d["sites"])
t1 = time.perf_counter()
model = MCLP.from_cost_matrix(cost, d["weights"], service_radius=float(d["radius"]), p_facilities=int(d["p"]))
t2 = time.perf_counter()
model.solve(pulp.PULP_CBC_CMD(msg=False))
t3 = time.perf_counter()
cpu = time.process_time() - c0  # CBC runs as a child process: its CPU time is not included
print(json.dumps({"cpu_s": cpu, "cost_s": t1 - t0, "build_s": t2 - t1, "solve_s": t3 - t2,
                  "objective": float(pulp.value(model.problem.objective)),
                  "status": pulp.LpStatus[model.problem.status],
                  "rss_before_mb": rss0 / 1024, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def real_points():
    """Distinct snapped incident locations (with summed harm) and venues of the bundled data."""
    import hotspots.sites.candidates as Cand
    from hotspots.config import load_config
    from hotspots.prepare.study import load_study

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = load_study(load_config())
    demand = Cand.demand_points(study.incidents)
    dxy = np.column_stack([demand.geometry.x, demand.geometry.y])
    cand = Cand.kit_candidates(study.incidents, venues=study.venues)
    cxy = np.column_stack([cand.geometry.x, cand.geometry.y])
    inc_xy = np.column_stack([study.incidents.geometry.x, study.incidents.geometry.y])
    return dxy, demand["harm"].to_numpy(float), cxy, inc_xy, study.incidents["harm"].to_numpy(float)


def synthetic(case, inc_xy, inc_harm, cand_xy, seed=0):
    """SYNTHETIC instance sampled around the real snapped locations."""
    rng = np.random.default_rng(seed)
    i = rng.integers(0, len(inc_xy), case["n"])
    demand = inc_xy[i] + rng.normal(0, 60.0, (case["n"], 2))
    j = rng.choice(len(cand_xy), case["m"], replace=len(cand_xy) < case["m"])
    sites = cand_xy[j] + rng.normal(0, 30.0, (case["m"], 2))
    return demand, inc_harm[i], sites


def run_child(code, path):
    out = subprocess.run([sys.executable, "-c", code, str(path)], check=False, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--skip-spopt-large",
        action="store_true",
        help="skip spopt on the 20k x 2k instance (its dense build takes ~8-9 minutes)",
    )
    ap.add_argument("--skip-spopt", action="store_true", help="skip spopt entirely")
    args = ap.parse_args()

    dxy, dharm, cxy, inc_xy, inc_harm = real_points()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        instances = []
        for case in CASES:
            demand, w, sites = synthetic(case, inc_xy, inc_harm, cxy)
            instances.append((case, demand, w, sites))
        instances.append(
            (
                {
                    "name": "real Notts 4.8k x 5.7k",
                    "n": len(dxy),
                    "m": len(cxy),
                    "radius": 100.0,
                    "p": 10,
                    "target_s": None,
                    "real": True,
                },
                dxy,
                dharm,
                cxy,
            )
        )
        for case, demand, w, sites in instances:
            path = Path(tmp) / f"{case['n']}x{case['m']}.npz"
            np.savez(path, demand=demand, weights=w, sites=sites, radius=case["radius"], p=case["p"])
            ours = run_child(CHILD_OURS, path)
            row = {"case": case, "ours": ours, "spopt": None}
            skip = args.skip_spopt or case.get("real") or (args.skip_spopt_large and case["n"] >= 20_000)
            if not skip:
                print(f"[{time.strftime('%H:%M:%S')}] spopt on {case['name']} ...", file=sys.stderr, flush=True)
                row["spopt"] = run_child(CHILD_SPOPT, path)
            rows.append(row)
            print(f"[{time.strftime('%H:%M:%S')}] done {case['name']}", file=sys.stderr, flush=True)

    print("\nExact MCLP: hotspots (sparse radius query + HiGHS) vs spopt MCLP.from_cost_matrix (dense + CBC)")
    print("Each side in a fresh process; times in seconds (wall; cpu = this process's CPU time); memory = peak RSS")
    print(
        f"of that process (MB). Load average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())} "
        f"on {os.cpu_count()} cores (other work on the machine inflates wall times).\n"
    )
    head = (
        f"{'instance':<24} {'r m':>5} {'p':>3} | {'ours build':>10} {'solve':>7} {'total':>7} {'target':>7} "
        f"{'cpu':>6} {'peak MB':>8} | {'spopt cost':>10} {'build':>8} {'solve':>7} {'total':>8} {'peak MB':>8} | "
        f"{'objective ours':>15} {'spopt':>12} {'same':>5}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        c, o, s = r["case"], r["ours"], r["spopt"]
        total = o["build_s"] + o["solve_s"]
        tgt = f"<{c['target_s']:g} {'ok' if total < c['target_s'] else 'MISS'}" if c["target_s"] else "-"
        if s:
            st = s["cost_s"] + s["build_s"] + s["solve_s"]
            same = "yes" if abs(s["objective"] - o["objective"]) <= 1e-6 * max(1.0, abs(o["objective"])) else "NO"
            sp = (
                f"{s['cost_s']:>10.2f} {s['build_s']:>8.1f} {s['solve_s']:>7.2f} {st:>8.1f} {s['peak_rss_mb']:>8.0f}",
                f"{s['objective']:>12.1f}",
                same,
            )
        else:
            sp = (f"{'skipped':>10} {'':>8} {'':>7} {'':>8} {'':>8}", f"{'-':>12}", "-")
        print(
            f"{c['name']:<24} {c['radius']:>5.0f} {c['p']:>3} | {o['build_s']:>10.3f} {o['solve_s']:>7.3f} "
            f"{total:>7.3f} {tgt:>7} {o['cpu_s']:>6.2f} {o['peak_rss_mb']:>8.0f} | {sp[0]} | {o['objective']:>15.1f} {sp[1]} {sp[2]:>5}"
        )
    print("\nours: pairs within radius / reduced model (rows x columns) / model left after LP reduced-cost fixing")
    print("(the MILP HiGHS solves); LP bound and heuristic solution; RSS before the measured step")
    for r in rows:
        o = r["ours"]
        lp = f"  LP bound {o['lp_bound']:.1f} heuristic {o['heuristic']:.1f}" if o.get("lp_bound") is not None else ""
        print(
            f"  {r['case']['name']:<24} pairs {o['pairs']:>8,}  reduced {o['reduced'][0]:>6,} x {o['reduced'][1]:>5,}"
            f"  after fixing {o['solved'][0]:>6,} x {o['solved'][1]:>5,}{lp}  optimal {o['optimal']}"
            f"  RSS before {o['rss_before_mb']:.0f} MB  ({o['status']})"
        )
    if any(r["spopt"] for r in rows):
        print("spopt: RSS before the measured step")
        for r in rows:
            if r["spopt"]:
                print(f"  {r['case']['name']:<24} {r['spopt']['rss_before_mb']:.0f} MB, status {r['spopt']['status']}")
    if args.skip_spopt_large and not args.skip_spopt:
        print("\nspopt was SKIPPED on the 20k x 2k instance (--skip-spopt-large).")


if __name__ == "__main__":
    main()
