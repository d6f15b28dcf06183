"""The page around a map: one HTML file with Leaflet, the page's script and style, and the layers as JSON.

:func:`render_page` writes the page with Leaflet referenced by its CDN address;
:func:`hotspots.present.assets.inline_html` then inlines the vendored copy, so the written
file is self-contained. The script and style in ``ui/`` are ours, inlined as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from hotspots.present.maps.config import Basemap
from hotspots.present.maps.layers.base import Layer
from hotspots.present.maps.text import esc

LEAFLET_JS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"
LEAFLET_CSS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"
"""Leaflet as the page references it before inlining (mapped to vendored files in :mod:`hotspots.present.assets`)."""

SEARCH_KINDS = ("place", "zone", "kit", "ward", "district", "street", "venue", "cluster", "NTE zone")
"""Search results are listed in this order of kind when equally good."""

SEARCH_HINT = "Search places, wards, streets, kits, zones"
"""The search box's placeholder on the run's maps."""


def _ui(name: str) -> str:
    return resources.files("hotspots.present.maps").joinpath("ui", name).read_text(encoding="utf-8")


@dataclass
class MapPage:
    """Everything one map page shows.

    Attributes
    ----------
    audience
        ``"board"``, ``"outreach"``, ``"analyst"`` or ``"change"``.
    title, subtitle
        Plain text: the map's title, and the study name and data period.
    notes
        Ready HTML: method and sources (shown collapsed).
    bounds
        ``[[south, west], [north, east]]`` the page opens on.
    layers
        The layers, bottom to top.
    basemap
        The online base map, or None.
    search_hint
        Placeholder of the search box (plain text): what the page's search finds.
    """

    audience: str
    title: str
    subtitle: str
    notes: str
    bounds: list[list[float]]
    layers: list[Layer] = field(default_factory=list)
    basemap: Basemap | None = None
    search_hint: str = SEARCH_HINT

    def layer(self, key: str) -> Layer:
        """The layer with this key."""
        for lay in self.layers:
            if lay.key == key:
                return lay
        raise KeyError(f"no layer {key!r}; the page has {[x.key for x in self.layers]}")

    def data(self) -> dict[str, Any]:
        """The JSON the page's script reads."""
        search: list[dict[str, Any]] = []
        panel = []
        for lay in self.layers:
            search.extend(lay.search)
            if lay.panel and lay.panel["items"]:
                panel.append({"layer": lay.key, **lay.panel})
        rank = {k: i for i, k in enumerate(SEARCH_KINDS)}
        search.sort(key=lambda e: rank.get(e["k"], len(rank)))
        months = next((lay.extra["months"] for lay in self.layers if "months" in lay.extra), None)
        base = None
        if self.basemap is not None:
            b = self.basemap
            base = {
                "name": esc(b.name),
                "url": b.url,
                "attribution": b.attribution,
                "subdomains": b.subdomains,
                "maxZoom": b.max_zoom,
            }
        return {
            "audience": self.audience,
            "title": esc(self.title),
            "subtitle": esc(self.subtitle),
            "searchHint": esc(self.search_hint),
            "notes": self.notes,
            "bounds": self.bounds,
            "basemap": base,
            "layers": [lay.to_json() for lay in self.layers],
            "search": search,
            "panel": panel,
            "months": months,
        }


def _json(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    # keep the HTML parser inside the <script> element whatever the data holds
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_page(page: MapPage) -> str:
    """The page's HTML, with Leaflet still referenced by URL (inline it with :mod:`hotspots.present.assets`)."""
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        f"<title>{esc(page.title)}</title>\n"
        f'<link rel="stylesheet" href="{LEAFLET_CSS}"/>\n'
        f'<script src="{LEAFLET_JS}"></script>\n'
        f"<style>\n{_ui('map.css')}\n</style>\n</head>\n<body>\n"
        "<div id='map' role='application' aria-label='map'></div>\n"
        f"<script type='application/json' id='hs-data'>{_json(page.data())}</script>\n"
        f"<script>\n{_ui('map.js')}\n</script>\n</body>\n</html>\n"
    )
