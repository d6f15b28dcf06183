"""Screenshots of a run's Board map for the documentation (desktop and phone), offline.

Opens ``RUN_DIR/maps/board.html`` in headless Chromium with the network blocked, on a desktop
(1400 x 900: the city at zoom 13 with the rank-1 place's popup open) and a phone (390 x 844:
the page as it opens), and writes palette PNGs (256 colours) small enough for the README:

    .venv/bin/python scripts/map_screenshots.py RUN_DIR [--out docs/img]

writes ``maps_board_desktop.png`` and ``maps_board_phone.png``.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

SHOTS = {
    "maps_board_desktop.png": ({"width": 1400, "height": 900}, 13),
    "maps_board_phone.png": ({"width": 390, "height": 844}, None),
}
"""File -> (viewport, zoom on the rank-1 place with its popup open; None = the page as it opens)."""


def shoot(board: Path, out: Path) -> list[tuple[Path, int]]:
    """Write the screenshots; return each file and its size in bytes."""
    from browser import CHROMIUM, LAUNCH_ARGS
    from PIL import Image
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        for name, (viewport, zoom) in SHOTS.items():
            phone = viewport["width"] < 700
            page = browser.new_context(viewport=viewport, has_touch=phone, is_mobile=phone).new_page()
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
            page.goto(board.resolve().as_uri(), wait_until="load")
            page.wait_for_function("window.HS && HS.ready")
            if zoom is not None:
                page.evaluate(
                    """zoom => { const l = HS.data.layers.find(x => x.key === 'places');
                         const f = l.features.find(x => x.properties.c === 0) || l.features[0];
                         HS.map.setView(f.properties.p, zoom, {animate: false});
                         HS.index.places[f.properties.i].openPopup(); }""",
                    zoom,
                )
            page.wait_for_timeout(500)
            img = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
            path = out / name
            img.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
            written.append((path, path.stat().st_size))
            page.context.close()
        browser.close()
    return written


def main() -> None:
    """Parse the arguments and write the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a run folder written by `hotspots run`")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img", help="folder for the PNGs (docs/img)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for path, size in shoot(args.run_dir / "maps" / "board.html", args.out):
        print(f"{path}: {size / 1000:.0f} KB")


if __name__ == "__main__":
    main()
