"""Benchmark: load and clean 1,000,000 police.uk rows against a bare pandas/geopandas baseline.

The input is SYNTHETIC: the real September 2019 Nottinghamshire street-level file
(``data/crime/police_uk/2019-09/2019-09-nottinghamshire-street.csv.gz``, 11,472 rows)
repeated until there are 1,000,000 rows, each copy with new Crime IDs and its located
points jittered by up to about 30 m, written uncompressed in the data.police.uk archive
layout ``2019-09/2019-09-nottinghamshire-street.csv``.

Each side runs in a fresh Python process, so peak memory (``ru_maxrss``) is that side's
own:

* **hotspots**: :func:`hotspots.io.load.read_police_uk` + :func:`hotspots.prepare.clean.clean_incidents`
  against the bundled 679 LSOA polygons and the 32,844 IoD2019 codes (read before the
  timer starts, reported separately); every row must be accounted for
  (read = used + dropped).
* **baseline**: ``pandas.read_csv`` + ``geopandas.points_from_xy`` + ``to_crs(27700)``,
  the least any tool must do to turn the file into projected points.

Targets (issue 2): hotspots under 10 s and under 2 GB, and within 1.5x of the baseline's time.

Usage::

    .venv/bin/python scripts/bench_load.py            # 1,000,000 rows, 3 repeats each
    .venv/bin/python scripts/bench_load.py --rows 200000 --repeats 1
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "data" / "crime" / "police_uk" / "2019-09" / "2019-09-nottinghamshire-street.csv.gz"
CONFIG = ROOT / "data" / "nottinghamshire.toml"
TARGET_S = 10.0
TARGET_MB = 2048.0
TARGET_RATIO = 1.5


def build(rows: int, folder: Path, *, seed: int = 0) -> Path:
    """Write ``rows`` SYNTHETIC police.uk rows built from the real 2019-09 month."""
    import numpy as np
    import pandas as pd

    real = pd.read_csv(REAL, dtype=str, keep_default_na=False, na_values=[""])
    rng = np.random.default_rng(seed)
    reps = -(-rows // len(real))
    big = pd.concat([real] * reps, ignore_index=True).iloc[:rows].copy()
    copy_no = np.repeat(np.arange(reps), len(real))[:rows]
    # new, unique 64-hex-digit Crime IDs where the real row has one (ASB rows have none)
    has_id = big["Crime ID"].notna().to_numpy()
    ids = np.array([f"{i:064x}" for i in range(rows)], dtype=object)
    big["Crime ID"] = np.where(has_id, ids, None)
    for col, scale in (("Longitude", 0.0004), ("Latitude", 0.00027)):
        v = pd.to_numeric(big[col], errors="coerce").to_numpy()
        j = np.where(copy_no == 0, 0.0, rng.uniform(-scale, scale, rows))
        big[col] = pd.Series(np.round(v + j, 6)).map(lambda f: "" if np.isnan(f) else f"{f:.6f}")
    out = folder / "2019-09" / "2019-09-nottinghamshire-street.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    big.to_csv(out, index=False)
    return out


def _rss_mb() -> float:
    # ru_maxrss is KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker_hotspots(path: Path) -> dict:
    import warnings

    from hotspots.config import load_config
    from hotspots.io import load
    from hotspots.prepare import clean

    cfg = load_config(CONFIG)
    t = time.perf_counter()
    lsoa = load.read_lsoa_boundaries(cfg.boundaries)
    known = set(load.read_deprivation(cfg.deprivation)["lsoa_code"])
    setup = time.perf_counter() - t
    t0 = time.perf_counter()
    raw = load.read_police_uk(path, source="police_uk")
    t1 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _inc, acc = clean.clean_incidents([raw], lsoa, known_codes=known, base=path.parent.parent)
    t2 = time.perf_counter()
    f = acc.files[0]
    if not f.balanced() or f.rows_read != len(raw.frame):
        raise SystemExit(f"row accounting does not balance: {f.to_dict()}")
    return {
        "seconds": t2 - t0,
        "read_s": t1 - t0,
        "clean_s": t2 - t1,
        "setup_s": setup,
        "peak_mb": _rss_mb(),
        "rows_read": f.rows_read,
        "rows_used": f.rows_used,
        "rows_dropped": f.rows_dropped,
        "dropped": f.dropped,
        "assigned": f.assigned,
    }


def worker_baseline(path: Path) -> dict:
    import geopandas as gpd
    import pandas as pd

    t0 = time.perf_counter()
    df = pd.read_csv(path)
    pts = gpd.GeoSeries(gpd.points_from_xy(df["Longitude"], df["Latitude"]), crs="EPSG:4326").to_crs(27700)
    t1 = time.perf_counter()
    return {"seconds": t1 - t0, "peak_mb": _rss_mb(), "rows_read": len(df), "points": len(pts)}


def run_fresh(kind: str, path: Path) -> dict:
    """Run one worker in a fresh interpreter and return its JSON result."""
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", kind, str(path)],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if proc.returncode != 0:
        raise SystemExit(f"{kind} worker failed:\n{proc.stderr}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["process_s"] = time.perf_counter() - t
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3, help="fresh processes per side; the best time is reported")
    ap.add_argument("--worker", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        kind, path = args.worker
        fn = worker_hotspots if kind == "hotspots" else worker_baseline
        print(json.dumps(fn(Path(path))))
        return

    with tempfile.TemporaryDirectory(prefix="bench_load_") as tmp:
        t = time.perf_counter()
        path = build(args.rows, Path(tmp))
        size_mb = path.stat().st_size / 1e6
        print(
            f"SYNTHETIC input: {args.rows:,} police.uk rows (the real 2019-09 Nottinghamshire month repeated, "
            f"new Crime IDs, coordinates jittered up to ~30 m), {size_mb:.0f} MB CSV, built in "
            f"{time.perf_counter() - t:.1f} s"
        )
        print(
            f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; each run in a fresh process; "
            f"best of {args.repeats}\n"
        )
        results: dict[str, list[dict]] = {"hotspots": [], "baseline": []}
        for _ in range(args.repeats):
            for kind in ("baseline", "hotspots"):
                results[kind].append(run_fresh(kind, path))
    best = {k: min(v, key=lambda r: r["seconds"]) for k, v in results.items()}
    peak = {k: max(r["peak_mb"] for r in v) for k, v in results.items()}
    h, b = best["hotspots"], best["baseline"]
    ratio_t = h["seconds"] / b["seconds"]
    ratio_m = peak["hotspots"] / peak["baseline"]
    rows = [
        ("", "hotspots load+clean", "bare baseline", "ratio", "target"),
        (
            "time (s)",
            f"{h['seconds']:.2f}",
            f"{b['seconds']:.2f}",
            f"{ratio_t:.2f}x",
            f"< {TARGET_S:.0f} s, <= {TARGET_RATIO}x",
        ),
        (
            "peak memory (MB, ru_maxrss)",
            f"{peak['hotspots']:.0f}",
            f"{peak['baseline']:.0f}",
            f"{ratio_m:.2f}x",
            f"< {TARGET_MB:.0f} MB",
        ),
        (
            "process wall incl. imports (s)",
            f"{h['process_s']:.2f}",
            f"{b['process_s']:.2f}",
            f"{h['process_s'] / b['process_s']:.2f}x",
            "",
        ),
        ("rows read", f"{h['rows_read']:,}", f"{b['rows_read']:,}", "", ""),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)))
    print(
        f"\nhotspots: read {h['read_s']:.2f} s + clean {h['clean_s']:.2f} s "
        f"(boundaries and IoD2019 codes read before the timer: {h['setup_s']:.2f} s)"
    )
    print(
        f"row accounting: {h['rows_read']:,} read = {h['rows_used']:,} used + {h['rows_dropped']:,} dropped "
        f"{h['dropped']}; LSOA assigned {h['assigned']}"
    )
    print("all times: " + "; ".join(f"{k} " + ", ".join(f"{r['seconds']:.2f}" for r in v) for k, v in results.items()))
    ok = h["seconds"] < TARGET_S and peak["hotspots"] < TARGET_MB and ratio_t <= TARGET_RATIO
    print("targets met" if ok else "TARGETS NOT MET")


if __name__ == "__main__":
    main()
