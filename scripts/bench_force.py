"""Benchmark ``hotspots run`` at force scale: per-stage wall and CPU seconds, peak memory, targets beside.

Forces (the synthetic ones are built on first use by ``scripts/make_synthetic_force.py``, labelled SYNTHETIC):

* ``county``: the bundled default config (``data/nottinghamshire.toml``; real data, 679 LSOAs);
* ``gm100k``: SYNTHETIC crimes on the real LSOAs of Greater Manchester, Cheshire East and Warrington
  (2,034 LSOAs, 12 months, 99,732 in-scope incidents);
* ``met``: SYNTHETIC crimes on the real LSOAs of the 32 London boroughs, the Metropolitan Police's area
  (4,829 LSOAs, 12 months, 299,555 in-scope incidents);
* ``j100``: SYNTHETIC 100 jittered copies of the bundled police.uk month (1.15 M rows, unsnapped);
  ``j100f``: the same rows in 100 files.

Each run is a fresh Python process (``python scripts/bench_force.py _child``) under ``/usr/bin/time``:
wall and CPU (user + system) seconds and peak memory of the whole process, imports included
("cold"); inside it, each stage's wall and CPU seconds and the run's own ``total`` (the "warm" figure:
the run without the Python imports). Per-step seconds come from the run's ``manifest.json``. The
machine is shared: the 1-minute load average before and after each run is recorded beside it, and CPU
seconds are the fairer comparison. Peak memory is the larger of the process's peak resident set
(``/usr/bin/time``) and the peak, polled every 0.2 s, of the summed proportional set size (PSS) of the
process and its worker processes (:mod:`hotspots.parallel`), which share memory. A run past ``--limit-gb`` or ``--timeout`` is killed and recorded so.

``--code DIR`` runs another checkout of the package (e.g. ``git archive <commit> hotspots | tar -x -C DIR``),
``--label`` names it (``before``/``after``); results are appended to ``outputs/bench/bench_force.jsonl``
and ``--table`` prints the latest run of every force and label side by side with the targets.

Usage::

    python scripts/bench_force.py --force county --force gm100k --force met --label after
    python scripts/bench_force.py --force j100 --label after   # opt-in (about 4 minutes, 2.5 GB): only when named
    python scripts/bench_force.py --force county --code /tmp/before --label before
    python scripts/bench_force.py --table
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "outputs" / "bench"
RESULTS = BENCH / "bench_force.jsonl"
STAGES = ("load", "detect", "rank", "sites", "forecast", "change", "maps", "report")

FORCES = {
    "county": {"config": ROOT / "data" / "nottinghamshire.toml", "make": None, "target_s": 5.0, "cold_s": 8.0},
    "gm100k": {"config": BENCH / "gm100k" / "force.toml", "make": ["force", "--preset", "gm100k"], "target_s": 10.0},
    "met": {"config": BENCH / "met" / "force.toml", "make": ["force", "--preset", "met"], "target_s": 30.0},
    "j100": {"config": BENCH / "j100" / "force.toml", "make": ["jittered", "--copies", "100"], "target_s": 180.0},
    "j100f": {
        "config": BENCH / "j100f" / "force.toml",
        "make": ["jittered", "--copies", "100", "--files"],
        "target_s": 180.0,
    },
}
"""Every benchmark force: its config, how to build it, and the target (seconds; j100 also under 4 GB)."""

TARGET_GB = {"j100": 4.0, "j100f": 4.0}


def child(config: str, out: str, report: str) -> None:
    """Run the pipeline in this process, timing imports and each stage (wall and CPU)."""
    t0, c0 = time.perf_counter(), time.process_time()
    import warnings

    from hotspots import pipeline
    from hotspots.config import load_config

    row: dict = {"import": [time.perf_counter() - t0, time.process_time() - c0], "hotspots": pipeline.__file__}
    real_load = pipeline.load_study

    def load(cfg):
        t, c = time.perf_counter(), time.process_time()
        study = real_load(cfg)
        row["load"] = [time.perf_counter() - t, time.process_time() - c]
        return study

    pipeline.load_study = load
    warnings.simplefilter("ignore")
    cfg = load_config(Path(config))
    t, c = time.perf_counter(), time.process_time()
    pipeline.run(cfg, Path(out))
    # each stage's wall and CPU seconds from the manifest (a stage run in a worker process counts its own)
    man = json.loads((Path(out) / "manifest.json").read_text())
    for st in pipeline.STAGES:
        if st.name in man["timings_s"]:
            row[st.name] = [man["timings_s"][st.name], man["cpu_s"].get(st.name, 0.0)]
    row["run"] = [time.perf_counter() - t, time.process_time() - c]
    row["process"] = [time.perf_counter() - t0, time.process_time() - c0]
    Path(report).write_text(json.dumps(row))


def _pss_kb(pid: int) -> int:
    """Proportional set size: resident memory with pages shared between processes split between them."""
    try:
        with Path(f"/proc/{pid}/smaps_rollup").open() as fh:
            return next((int(line.split()[1]) for line in fh if line.startswith("Pss:")), 0)
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return 0


def ensure_force(name: str) -> Path:
    """The force's config, building the SYNTHETIC force first when it is missing."""
    spec = FORCES[name]
    cfg = Path(spec["config"])
    if not cfg.exists() and spec["make"]:
        mode, *rest = spec["make"]
        folder = cfg.parent
        print(f"building SYNTHETIC force {name} in {folder} ...", file=sys.stderr)
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "make_synthetic_force.py"), mode, str(folder), *rest], check=True
        )
    return cfg


def bench(name: str, *, code: str | None, label: str, limit_gb: float, timeout: float, jobs: int | None = None) -> dict:
    """One fresh-process run of force ``name``; returns (and appends to :data:`RESULTS`) its figures."""
    cfg = ensure_force(name)
    out = BENCH / "runs" / f"{name}-{label}"
    report = BENCH / "runs" / f"{name}-{label}.json"
    timefile = BENCH / "runs" / f"{name}-{label}.time"
    out.parent.mkdir(parents=True, exist_ok=True)
    for p in (report, timefile):
        p.unlink(missing_ok=True)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if code:
        env["PYTHONPATH"] = str(code)
    env.pop("HOTSPOTS_JOBS", None)
    if jobs is not None:
        env["HOTSPOTS_JOBS"] = str(jobs)
    cmd = ["/usr/bin/time", "-o", str(timefile), "-f", "%e %U %S %M", sys.executable, __file__, "_child"]
    cmd += [str(cfg), str(out), str(report)]
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak, why = 0, None
    while proc.poll() is None:
        # the whole process tree at once (the run's worker processes share memory with it: PSS counts it once)
        peak = max(peak, _pss_kb(proc.pid) + sum(_pss_kb(int(c)) for c in _children(proc.pid)))
        if peak > limit_gb * 1024 * 1024:
            why = f"killed: memory > {limit_gb:g} GB"
        elif time.perf_counter() - t0 > timeout:
            why = f"killed: timeout {timeout:g} s"
        if why:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            break
        time.sleep(0.2)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    row: dict = {
        "force": name,
        "label": label,
        "code": code or str(ROOT),
        "when": time.strftime("%Y-%m-%d %H:%M"),
        "status": why or ("ok" if proc.returncode == 0 else f"exit {proc.returncode}"),
        "jobs": jobs,
        "load_before": round(load0, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "wall_s": round(time.perf_counter() - t0, 2),
    }
    if timefile.exists() and not why:
        parts = timefile.read_text().split()
        if len(parts) >= 4:
            e, u, s, m = parts[-4:]
            row.update(wall_s=float(e), cpu_s=round(float(u) + float(s), 2))
            # the larger of the largest single process (time's peak RSS) and the tree's summed PSS (polled)
            row["peak_gb"] = round(max(int(m), peak) / 1024**2, 2)
    else:
        row["peak_gb"] = round(peak / 1024**2, 2)
    if report.exists():
        child_row = json.loads(report.read_text())
        row["stages"] = {k: [round(v[0], 2), round(v[1], 2)] for k, v in child_row.items() if isinstance(v, list)}
    man = out / "manifest.json"
    if man.exists() and not why:
        m = json.loads(man.read_text())
        row["steps_s"] = m.get("timings_s", {})
        sites = m.get("sites", {})
        row["sites_limit"] = sites.get("time_limit")
    if row["status"] != "ok":
        row["stderr_tail"] = err[-800:]
    with RESULTS.open("a") as fh:
        fh.write(json.dumps(row) + "\n")
    return row


def _children(pid: int) -> list[str]:
    try:
        with Path(f"/proc/{pid}/task/{pid}/children").open() as fh:
            kids = fh.read().split()
    except (FileNotFoundError, ProcessLookupError):
        return []
    return kids + [g for k in kids for g in _children(int(k))]


def _fmt(v: float | None, digits: int = 1) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def table(path: Path = RESULTS) -> str:
    """Markdown tables of the latest run of every (force, label): whole runs, then stages (wall / CPU)."""
    rows: dict[tuple[str, str], dict] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            r = json.loads(line)
            rows[(r["force"], r["label"])] = r
    order = {f: i for i, f in enumerate(FORCES)}
    keys = sorted(rows, key=lambda k: (order.get(k[0], 99), k[1] != "before", k[1]))
    out = [
        "| force | code | status | target s | warm (run) wall / CPU s | cold (process) wall / CPU s | peak GB "
        "| load avg before / after |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for k in keys:
        r = rows[k]
        spec = FORCES.get(r["force"], {})
        st = r.get("stages", {})
        run = st.get("run", [None, None])
        target = f"{spec.get('target_s', '-')}" + (f" / {spec['cold_s']} cold" if "cold_s" in spec else "")
        if r["force"] in TARGET_GB:
            target += f", < {TARGET_GB[r['force']]:g} GB"
        out.append(
            f"| {r['force']} | {r['label']} | {r['status']} | {target} | {_fmt(run[0])} / {_fmt(run[1])} "
            f"| {_fmt(r.get('wall_s'))} / {_fmt(r.get('cpu_s'))} | {_fmt(r.get('peak_gb'), 2)} "
            f"| {r['load_before']} / {r['load_after']} |"
        )
    out += ["", "Per stage, wall / CPU seconds:", ""]
    out.append("| force | code | import | " + " | ".join(STAGES) + " |")
    out.append("|---|---|---|" + "---|" * len(STAGES))
    for k in keys:
        st = rows[k].get("stages", {})
        cells = [f"{_fmt(st[s][0])} / {_fmt(st[s][1])}" if s in st else "-" for s in ("import", *STAGES)]
        out.append(f"| {k[0]} | {k[1]} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> None:
    """Command line: see the module docstring."""
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        child(*sys.argv[2:5])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--force", action="append", choices=sorted(FORCES), default=[])
    ap.add_argument("--code", help="PYTHONPATH of another checkout of the package (default this one)")
    ap.add_argument("--label", default="after")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--limit-gb", type=float, default=8.0)
    ap.add_argument("--timeout", type=float, default=900.0)
    ap.add_argument("--jobs", type=int, default=None, help="processes at once (HOTSPOTS_JOBS; default the run's own)")
    ap.add_argument("--table", action="store_true", help="print the latest figures of every force and label")
    a = ap.parse_args()
    BENCH.mkdir(parents=True, exist_ok=True)
    for name in a.force:
        for _ in range(a.repeat):
            r = bench(name, code=a.code, label=a.label, limit_gb=a.limit_gb, timeout=a.timeout, jobs=a.jobs)
            st = r.get("stages", {})
            print(
                f"{name} [{a.label}] {r['status']}: process wall {r.get('wall_s')} s, CPU {r.get('cpu_s')} s, "
                f"peak {r.get('peak_gb')} GB, load {r['load_before']}/{r['load_after']}; "
                + ", ".join(f"{s} {st[s][0]:.1f}/{st[s][1]:.1f}" for s in ("import", *STAGES) if s in st),
                flush=True,
            )
    if a.table or not a.force:
        print(table())


if __name__ == "__main__":
    main()
