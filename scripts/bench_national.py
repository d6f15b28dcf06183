"""Time ``hotspots national`` on a SYNTHETIC national year, with 1 and 2 local Dask workers.

The archive is SYNTHETIC (labelled so in its name, its zip comment and every row's Context):
a year (2018-10 to 2019-09) of police.uk street-level rows, built from the one real bundled
month (Nottinghamshire, 2019-09, 11,472 rows) replicated over England's 32,844 LSOAs:

* rows per LSOA and month ~ Poisson(total / 12 x w_j / sum w), with ``w_j`` = residents
  (IoD2019 mid-2015) x the real month's rows per resident in the LSOA's IMD decile (so the
  deprivation gradient is the real one, measured on Nottinghamshire);
* each row copies a real row (its crime type, outcome), drawn at random;
* each LSOA has snap points placed at random inside it (as police.uk snaps to map points),
  used with Zipf weights, so that crime concentrates in a few points as in real data;
* Crime IDs are random 64-hex strings; files are ``YYYY-MM/YYYY-MM-<force>-street.csv`` by the
  LSOA's force. Wales has no rows (no residents are bundled for it).

Then ``hotspots national`` runs in a fresh process per worker count, and the table gives
wall time, CPU time (every process of the run: driver, nanny and worker processes) and peak
memory (the largest sum of resident set sizes of those processes, sampled every 0.25 s: an upper
bound, shared pages counted in each process), with the targets beside them: under 5 minutes
and under 16 GB on one machine.

Run::

    python scripts/bench_national.py                 # build (cached in /tmp) and time 1 and 2 workers
    python scripts/bench_national.py --rows 500000   # a smaller archive
    python scripts/bench_national.py --scheduler tcp://host:8786   # a real cluster (archive on a shared path)

A cluster beyond this machine cannot be tested here; ``--scheduler`` is how to point the run at one.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil
import pyproj
import shapely

ROOT = Path(__file__).resolve().parent.parent
REAL_MONTH = ROOT / "data/crime/police_uk/2019-09/2019-09-nottinghamshire-street.csv.gz"
MONTHS = [f"{y}-{m:02d}" for y, m in [(2018, 10), (2018, 11), (2018, 12)] + [(2019, k) for k in range(1, 10)]]
TARGET_WALL_S = 300.0
TARGET_PEAK_GB = 16.0
LABEL = "SYNTHETIC (hotspots scripts/bench_national.py)"


def _england() -> tuple[pd.DataFrame, np.ndarray]:
    """England's LSOAs: code, name, force, residents, IMD decile; and their polygons (EPSG:27700)."""
    from hotspots.io import load
    from hotspots.io.config import BoundariesConfig, DeprivationConfig
    from hotspots.newforce import BundledData
    from hotspots.prepare.forces import DISTRICTS_TABLE, list_forces

    d = BundledData.in_folder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lsoa = load.read_lsoa_boundaries(BoundariesConfig(lsoa=d.lsoa_boundaries))
        dep = load.read_deprivation(DeprivationConfig(domains=d.iod_domains, population=d.iod_population))
    lsoa = lsoa.merge(dep[["lsoa_code", "population", "imd_decile"]], on="lsoa_code", how="inner")
    force = pd.read_csv(DISTRICTS_TABLE, dtype=str).set_index("lad19cd")["force"]
    names = list_forces().set_index("force")["force_name"]
    lsoa["force"] = lsoa["district_code"].map(force)
    lsoa["force_name"] = lsoa["force"].map(names)
    return pd.DataFrame(lsoa.drop(columns="geometry")), np.asarray(lsoa.geometry.values)


def _real_rows() -> pd.DataFrame:
    return pd.read_csv(REAL_MONTH, dtype=str, keep_default_na=False)


def _snap_points(geoms: np.ndarray, k: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``k[j]`` random points inside each polygon j (rejection sampling in its bounding box)."""
    b = shapely.bounds(geoms)
    owner = np.repeat(np.arange(len(geoms)), k * 6)
    x = rng.uniform(b[owner, 0], b[owner, 2])
    y = rng.uniform(b[owner, 1], b[owner, 3])
    inside = shapely.contains_xy(geoms[owner], x, y)
    x, y, owner = x[inside], y[inside], owner[inside]
    rank = pd.Series(owner).groupby(owner).cumcount().to_numpy()
    keep = rank < k[owner]
    x, y, owner = x[keep], y[keep], owner[keep]
    got = np.bincount(owner, minlength=len(geoms))
    miss = np.flatnonzero(got == 0)  # thin polygons: their representative point
    if len(miss):
        rp = shapely.get_coordinates(shapely.point_on_surface(geoms[miss]))
        x, y, owner = np.r_[x, rp[:, 0]], np.r_[y, rp[:, 1]], np.r_[owner, miss]
    order = np.argsort(owner, kind="stable")
    return np.column_stack([x[order], y[order]]), owner[order]


def build(path: Path, rows: int, seed: int = 0) -> dict[str, float]:
    """Write the SYNTHETIC archive (see the module notes); return what it holds."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    lsoa, geoms = _england()
    real = _real_rows()
    # the real month's rows per resident by IMD decile (Nottinghamshire's LSOAs)
    notts = lsoa[lsoa["force"] == "nottinghamshire"].set_index("lsoa_code")
    per = real["LSOA code"].value_counts().reindex(notts.index).fillna(0)
    rate = (per.groupby(notts["imd_decile"]).sum() / notts.groupby("imd_decile")["population"].sum()).to_dict()
    w = lsoa["population"].to_numpy(float) * lsoa["imd_decile"].map(rate).to_numpy(float)
    w = w / w.sum()
    k = np.clip(np.round(lsoa["population"].to_numpy(float) / 100), 5, 40).astype(int)
    snaps, snap_owner = _snap_points(geoms, k, rng)
    start = np.searchsorted(snap_owner, np.arange(len(lsoa)))
    count = np.bincount(snap_owner, minlength=len(lsoa))
    to_ll = pyproj.Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    codes, names = lsoa["lsoa_code"].to_numpy(), lsoa["lsoa_name"].to_numpy()
    forces, force_names = lsoa["force"].to_numpy(), lsoa["force_name"].to_numpy()
    cols = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location", "LSOA code"]
    cols += ["LSOA name", "Crime type", "Last outcome category", "Context"]
    total = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.comment = LABEL.encode()
        for month in MONTHS:
            n_j = rng.poisson(rows / len(MONTHS) * w)
            j = np.repeat(np.arange(len(lsoa)), n_j)
            # a Zipf choice among the LSOA's snap points: rank r with weight 1 / r
            u = rng.random(len(j))
            kk = count[j]
            r = np.minimum((np.exp(u * np.log(kk + 1.0)) - 1).astype(int), kk - 1)
            xy = snaps[start[j] + r]
            lon, lat = to_ll.transform(xy[:, 0], xy[:, 1])
            t = real.iloc[rng.integers(0, len(real), len(j))]
            has_id = t["Crime ID"].to_numpy() != ""
            ids = np.where(has_id, _hex_ids(rng, len(j)), "")
            frame = pd.DataFrame(
                {
                    "Crime ID": ids,
                    "Month": month,
                    "Reported by": force_names[j],
                    "Falls within": force_names[j],
                    "Longitude": np.round(lon, 6),
                    "Latitude": np.round(lat, 6),
                    "Location": [f"On or near Synthetic Street {i}" for i in r],
                    "LSOA code": codes[j],
                    "LSOA name": names[j],
                    "Crime type": t["Crime type"].to_numpy(),
                    "Last outcome category": t["Last outcome category"].to_numpy(),
                    "Context": LABEL,
                }
            )[cols]
            for f, g in frame.groupby(forces[j], sort=True):
                buf = io.StringIO()
                g.to_csv(buf, index=False)
                zf.writestr(f"{month}/{month}-{f}-street.csv", buf.getvalue())
            total += len(frame)
            print(f"  {month}: {len(frame):,} rows", flush=True)
    return {"rows": total, "seconds": time.perf_counter() - t0, "bytes": path.stat().st_size}


def _hex_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    raw = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    return np.array([bytes(r).hex() for r in raw], dtype=object)


def _stop(root: psutil.Process) -> None:
    """Kill the run's process tree (workers first)."""
    for p in [*root.children(recursive=True), root]:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            continue


def timed_run(
    archive: Path,
    out: Path,
    *,
    workers: int,
    scheduler: str | None,
    grid: list[str],
    max_gb: float = 14.0,
    max_s: float = 1800.0,
) -> dict[str, Any]:
    """One ``hotspots national`` run in a fresh process: wall, CPU of the process tree, peak RSS sum.

    The run is stopped (and reported as such) when its processes hold more than ``max_gb`` together
    or it runs longer than ``max_s``: the machine is shared.
    """
    cmd = [sys.executable, "-m", "hotspots.cli", "-q", "national", "--archive", str(archive), "--out", str(out), *grid]
    cmd += ["--scheduler", scheduler] if scheduler else ["--workers", str(workers)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    root = psutil.Process(proc.pid)
    cpu: dict[int, float] = {}
    peak = 0.0
    while proc.poll() is None:
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        rss = 0.0
        for p in procs:
            try:
                with p.oneshot():
                    rss += p.memory_info().rss
                    c = p.cpu_times()
                    cpu[p.pid] = c.user + c.system + c.children_user + c.children_system
            except psutil.NoSuchProcess:
                continue
        peak = max(peak, rss)
        if rss > max_gb * 1e9 or time.perf_counter() - t0 > max_s:
            _stop(root)
            proc.communicate()
            why = f"over {max_gb:g} GB" if rss > max_gb * 1e9 else f"over {max_s:.0f} s"
            wall = time.perf_counter() - t0
            return {"wall": wall, "cpu": sum(cpu.values()), "peak_gb": peak / 1e9, "stdout": f"STOPPED: {why}"}
        time.sleep(0.25)
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"hotspots national failed ({proc.returncode}):\n{stderr[-3000:]}")
    return {"wall": wall, "cpu": sum(cpu.values()), "peak_gb": peak / 1e9, "stdout": stdout.strip()}


def _steps(out: Path) -> str:
    """The run's step times from its manifest."""
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    t = man["timings_s"]
    return ", ".join(f"{k} {v:.0f}" for k, v in t.items() if k != "total")


def main() -> None:
    """Build the SYNTHETIC archive if needed, time the runs, print the table."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--rows", type=int, default=5_500_000, help="rows in the synthetic year (default 5.5 million)")
    ap.add_argument("--archive", type=Path, default=None, help="where the synthetic archive is cached")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="local worker counts to time")
    ap.add_argument("--scheduler", default=None, help="a Dask scheduler address instead of local clusters")
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench_national_run"))
    ap.add_argument("--cell-size", default="250", help="grid cell (m): 250, as a county run chooses (default)")
    ap.add_argument("--bandwidth", default="500", help="KDE bandwidth (m): 500, as a county run chooses (default)")
    ap.add_argument("--max-gb", type=float, default=14.0, help="stop a run whose processes hold more (shared machine)")
    ap.add_argument("--max-s", type=float, default=1800.0, help="stop a run that takes longer")
    a = ap.parse_args()
    archive = a.archive or Path(f"/tmp/SYNTHETIC-national-{a.rows}.zip")
    if not archive.exists():
        print(f"building the SYNTHETIC archive {archive} ({a.rows:,} rows)...", flush=True)
        info = build(archive, a.rows)
        print(f"built {info['rows']:,} rows, {info['bytes'] / 1e6:,.0f} MB, in {info['seconds']:.0f} s", flush=True)
    rows = []
    for w in [0] if a.scheduler else a.workers:
        print(f"timing {'the cluster' if a.scheduler else f'{w} local worker(s)'}...", flush=True)
        grid = ["--cell-size", a.cell_size, "--bandwidth", a.bandwidth]
        r = timed_run(archive, a.out, workers=w, scheduler=a.scheduler, grid=grid, max_gb=a.max_gb, max_s=a.max_s)
        print("  " + r["stdout"], flush=True)
        if not r["stdout"].startswith("STOPPED"):
            print("  steps (s): " + _steps(a.out), flush=True)
        rows.append((a.scheduler or f"{w} local worker(s)", r))
    print(f"\nSYNTHETIC national year: {archive.name} (scripts/bench_national.py); machine: {psutil.cpu_count()} cores")
    print(f"{'run on':<22} {'wall s':>8} {'target s':>9} {'CPU s':>8} {'peak GB':>8} {'target GB':>10}  note")
    for name, r in rows:
        note = r["stdout"] if str(r["stdout"]).startswith("STOPPED") else ""
        print(
            f"{name:<22} {r['wall']:>8.0f} {TARGET_WALL_S:>9.0f} {r['cpu']:>8.0f} {r['peak_gb']:>8.1f} "
            f"{TARGET_PEAK_GB:>10.0f}  {note}"
        )


if __name__ == "__main__":
    main()
