"""Benchmark the offline maps: size, build time and render time in Chromium, beside the peer.

Runs the pipeline once on the bundled data (detect, rank, sites), then for each audience
builds and writes the self-contained map and opens it in a fresh headless Chromium
(network blocked) in a fresh process, timing from navigation to the ``load`` event and
until the map's shapes are drawn. The peer is geopandas' ``GeoDataFrame.explore()``
(folium's defaults, CDN assets) on the same places and grid layers: its size, build
time, and what it shows offline.

    .venv/bin/python scripts/bench_maps.py [--out DIR]

Targets (issue 6): each map under 10 MB and rendering in under 3 s.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

RENDER = r"""
import json, sys, time
from pathlib import Path
from playwright.sync_api import sync_playwright
sys.path.insert(0, sys.argv[2])
from browser import CHROMIUM, LAUNCH_ARGS
path = Path(sys.argv[1])
with sync_playwright() as p:
    b = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
    page = b.new_page(viewport={"width": 1280, "height": 800})
    blocked, errors = [], []
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else (blocked.append(r.request.url), r.abort()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    t = time.perf_counter()
    page.goto(path.as_uri(), wait_until="load")
    t_load = time.perf_counter() - t
    try:
        page.wait_for_function("document.querySelectorAll('path.leaflet-interactive').length > 0", timeout=10000)
        t_drawn = time.perf_counter() - t
    except Exception:
        t_drawn = float("nan")
    shapes = page.evaluate("document.querySelectorAll('path.leaflet-interactive, .leaflet-marker-icon').length")
    b.close()
print(json.dumps({"load_s": t_load, "drawn_s": t_drawn, "shapes": shapes, "blocked": len(blocked), "errors": len(errors),
                  "first_error": errors[0][:60] if errors else ""}))
"""


def render(path: Path) -> dict:
    """Open ``path`` in a fresh process and browser; return timings and problems."""
    out = subprocess.run(
        [sys.executable, "-c", RENDER, str(path), str(ROOT / "tests")], capture_output=True, text=True, timeout=300
    )
    if out.returncode != 0:
        return {
            "load_s": float("nan"),
            "drawn_s": float("nan"),
            "shapes": 0,
            "blocked": -1,
            "errors": -1,
            "first_error": out.stderr.strip().splitlines()[-1][:60],
        }
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="folder for the maps (default a temp folder)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from hotspots import pipeline
    from hotspots.config import load_config
    from hotspots.present.maps import build as maps

    out = args.out or Path(tempfile.mkdtemp(prefix="bench_maps_"))
    t = time.perf_counter()
    run = pipeline.run(load_config(), out, stages=["detect", "rank", "sites"]).run
    results = maps.stage_results(run.detect, run.rank, run.sites)
    print(
        f"pipeline (detect, rank, sites) on the bundled data: {time.perf_counter() - t:.1f} s; "
        f"grid {len(results['grid']):,} cells, {len(results['places'])} places, "
        f"{len(run.study.venues)} venues"
    )
    rows = []
    for audience in maps.AUDIENCES:
        t = time.perf_counter()
        m = maps.build_map(audience, results, run.study)
        path = maps.write_map(m, out / "maps" / f"{audience}.html")
        build = time.perf_counter() - t
        rows.append((f"hotspots {audience}", path, build, render(path)))

    # peer: geopandas explore() with folium's defaults (CDN assets), same places and grid
    places = results["places"]
    grid = results["grid"]
    t = time.perf_counter()
    m = places.explore(column="tier", categorical=True, tiles=None, tooltip=["lsoa_name", "rank", "tier", "reason"])
    grid[grid["hotspot_class"] != "not significant"].explore(m=m, column="hotspot_class", categorical=True)
    peer = out / "maps" / "peer_explore.html"
    m.save(str(peer))
    rows.append(("geopandas explore (peer)", peer, time.perf_counter() - t, render(peer)))

    print()
    print(
        f"{'map':<26} {'size MB':>8} {'build s':>8} {'load s':>7} {'drawn s':>8} {'shapes':>7} "
        f"{'blocked':>8} {'errors':>7}  first error"
    )
    for name, path, build, r in rows:
        print(
            f"{name:<26} {path.stat().st_size / 1e6:>8.2f} {build:>8.2f} {r['load_s']:>7.2f} {r['drawn_s']:>8.2f} "
            f"{r['shapes']:>7} {r['blocked']:>8} {r['errors']:>7}  {r['first_error']}"
        )
    print(
        "\nload s: navigation to the load event; drawn s: until the first shape is drawn (nan = never). "
        "Network blocked: the peer's CDN scripts cannot load, so offline it draws nothing."
    )


if __name__ == "__main__":
    main()
