"""Take the README's screenshot of the Board map (not run by the site build).

Usage, after a run on the bundled data::

    .venv/bin/hotspots run --out /tmp/example
    .venv/bin/python docs/hooks/board_screenshot.py /tmp/example/maps/board.html docs/img/board-map.png

Opens the map offline in Debian's Chromium (every request other than ``file:``/``data:``
aborted), zooms to the city centre, shows the tooltip of the rank-1 place, and writes a
256-colour PNG (about 120 KB).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image
from playwright.sync_api import Route, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
CENTRE = (52.957, -1.150)
ZOOM = 13

SHOW_RANK_1 = """([lat, lon, zoom]) => {
  const m = Object.keys(window).filter(k => k.startsWith('map_')).map(k => window[k]).find(v => v instanceof L.Map);
  m.setView([lat, lon], zoom);
  let place = null, group = null;
  m.eachLayer(l => { if (!place && l.feature && String(l.feature.properties.f1 || '').startsWith('1 of')) place = l; });
  if (!place) return false;
  m.eachLayer(l => { if (!group && l.getLayers && l.getTooltip && l.getTooltip() && l.hasLayer(place)) group = l; });
  if (group) group._openTooltip({layer: place, target: place, latlng: place.getBounds().getCenter()});
  return !!group;
}"""


def _offline(route: Route) -> None:
    if route.request.url.startswith(("file:", "data:")):
        route.continue_()
    else:
        route.abort()


def main(page: Path, out: Path) -> None:
    """Screenshot ``page`` (a Board map) into ``out``."""
    raw = out.with_suffix(".raw.png")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = browser.new_page(viewport={"width": 1200, "height": 720})
        tab.route("**/*", _offline)
        tab.goto(page.resolve().as_uri())
        tab.wait_for_timeout(1500)
        if not tab.evaluate(SHOW_RANK_1, [*CENTRE, ZOOM]):
            print("warning: no rank-1 place tooltip found", file=sys.stderr)
        tab.wait_for_timeout(1200)
        tab.screenshot(path=str(raw))
        browser.close()
    image = Image.open(raw).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(out, optimize=True)
    raw.unlink()
    print(f"{out}: {out.stat().st_size / 1e3:.0f} KB")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
