"""Benchmark the offline maps: size, build time and time to interactive in Chromium, beside the peer.

Runs the pipeline once on the bundled data (detect, rank, sites), then for each audience
builds and writes the self-contained map and opens it in a fresh headless Chromium (network
blocked) in a fresh process, on a desktop (1400 x 900) and a phone (390 x 844) viewport,
``--repeat`` times. Time to interactive (TTI) is the page's own clock (``performance.now()``,
from navigation start) when its script has drawn every layer, bound every click and set
``HS.ready``; the benchmark then clicks the first feature of a layer that is on and checks
that a popup opens. The peer is geopandas' ``GeoDataFrame.explore()`` (folium's defaults, CDN
assets) on the same places and grid layers: its size, build time, and what it shows offline
(its time is to the ``load`` event and to its first drawn shape). ``--also DIR`` times the
maps of another run folder (e.g. one written by an earlier version) the same way.

    .venv/bin/python scripts/bench_maps.py [--out DIR] [--repeat 3] [--also DIR]

Target (issue 13): time to interactive under 1.5 s per map on the default run.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

TARGET_S = 1.5
"""Time to interactive each map must stay under."""

VIEWPORTS = {"desktop": (1400, 900), "phone": (390, 844)}

RENDER = r"""
import json, sys, time
from pathlib import Path
from playwright.sync_api import sync_playwright
sys.path.insert(0, sys.argv[2])
from browser import CHROMIUM, LAUNCH_ARGS
path, w, h = Path(sys.argv[1]), int(sys.argv[3]), int(sys.argv[4])
out = {"blocked": 0, "errors": 0, "first_error": "", "tti_s": None, "load_s": None, "drawn_s": None, "click": ""}
with sync_playwright() as p:
    b = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
    page = b.new_page(viewport={"width": w, "height": h})
    blocked, errors = [], []
    def route(r):
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()
    page.route("**/*", route)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    t = time.perf_counter()
    page.goto(path.as_uri(), wait_until="load")
    out["load_s"] = time.perf_counter() - t
    try:
        page.wait_for_function("document.querySelectorAll('path.leaflet-interactive').length > 0", timeout=10000)
        out["drawn_s"] = time.perf_counter() - t
    except Exception:
        pass
    if page.evaluate("!!(window.HS && window.HS.ready)"):
        out["tti_s"] = page.evaluate("HS.tti") / 1000
        title = page.evaluate(
            "(() => { const l = HS.data.layers.find(x => x.show && x.interactive && x.features.length);"
            " const f = l.features[0].properties; HS.index[l.key][f.i].openPopup(); return f.t; })()"
        )
        page.wait_for_selector(".leaflet-popup-content", timeout=3000)
        out["click"] = "popup" if page.locator(".leaflet-popup-content").count() else "none"
    out["shapes"] = page.evaluate("document.querySelectorAll('path.leaflet-interactive, .leaflet-marker-icon').length")
    b.close()
out.update(blocked=len(blocked), errors=len(errors), first_error=errors[0][:60] if errors else "")
print(json.dumps(out))
"""


def render(path: Path, viewport: str) -> dict:
    """Open ``path`` in a fresh process and browser; return its timings and problems."""
    w, h = VIEWPORTS[viewport]
    cmd = [sys.executable, "-c", RENDER, str(path), str(ROOT / "tests"), str(w), str(h)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    if out.returncode != 0:
        return {"tti_s": None, "load_s": None, "drawn_s": None, "shapes": 0, "blocked": -1, "errors": -1,
                "click": "", "first_error": (out.stderr.strip().splitlines() or ["?"])[-1][:60]}  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(runs: list[dict], key: str) -> float:
    """Median of a timing over the runs (nan when a run never got there)."""
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if len(vals) == len(runs) else float("nan")


def main() -> None:
    """Build the maps, time them in Chromium and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="folder for the maps (default a temp folder)")
    parser.add_argument("--repeat", type=int, default=3, help="fresh browsers per map and viewport (default 3)")
    parser.add_argument("--also", type=Path, default=None, help="a run folder whose maps/*.html to time too")
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
        f"grid {len(results['grid']):,} cells, {len(results['places'])} places, {len(run.study.venues)} venues"
    )
    rows = []
    for audience in maps.AUDIENCES:
        t = time.perf_counter()
        path = maps.write_map(maps.build_map(audience, results, run.study), out / "maps" / f"{audience}.html")
        rows.append((f"hotspots {audience}", path, time.perf_counter() - t))
    if args.also:
        rows += [(f"{args.also.name} {p.stem}", p, float("nan")) for p in sorted((args.also / "maps").glob("*.html"))]

    # peer: geopandas explore() with folium's defaults (CDN assets), same places and grid
    t = time.perf_counter()
    m = results["places"].explore(
        column="tier", categorical=True, tiles=None, tooltip=["lsoa_name", "rank", "tier", "reason"]
    )
    grid = results["grid"]
    grid[grid["hotspot_class"] != "not significant"].explore(m=m, column="hotspot_class", categorical=True)
    peer = out / "maps" / "peer_explore.html"
    m.save(str(peer))
    rows.append(("geopandas explore (peer)", peer, time.perf_counter() - t))

    print(f"\n{args.repeat} fresh Chromium processes per map and viewport, network blocked; medians\n")
    head = f"{'map':<26} {'view':<8} {'MB':>6} {'build s':>8} {'TTI s':>6} {'load s':>7} {'drawn s':>8} {'shapes':>7}"
    print(head + f" {'blocked':>8} {'errors':>7} {'click':>6}  verdict")
    for name, path, build in rows:
        for view in VIEWPORTS:
            runs = [render(path, view) for _ in range(args.repeat)]
            tti = median(runs, "tti_s")
            r = runs[-1]
            verdict = "ok" if tti < TARGET_S else ("SLOW" if math.isfinite(tti) else "no TTI (not a hotspots page)")
            print(
                f"{name:<26} {view:<8} {path.stat().st_size / 1e6:>6.2f} {build:>8.2f} {tti:>6.2f} "
                f"{median(runs, 'load_s'):>7.2f} {median(runs, 'drawn_s'):>8.2f} {r['shapes']:>7} {r['blocked']:>8} "
                f"{r['errors']:>7} {r['click'] or '-':>6}  {verdict} {r['first_error']}"
            )
    print(
        "\nTTI: the page's clock from navigation start until every layer is drawn and clickable "
        f"(target < {TARGET_S} s). load s: to the load event; drawn s: to the first shape (nan = never). "
        "Network blocked: the peer's CDN scripts cannot load, so offline it draws nothing."
    )


if __name__ == "__main__":
    main()
