"""The analyst map's "where next" layer in a real browser (Playwright driving Debian's Chromium), network blocked.

Switching the layer on draws the forecast cells and the ten numbered markers of the ranked list,
shows its legend, and a marker's popup names its street; nothing is fetched and nothing errs.
"""

from __future__ import annotations

import re

import pandas as pd
from browser import assert_clean, open_offline, requires_chromium

from hotspots.present.maps.where_next import NAME

pytestmark = requires_chromium


def test_where_next_layer_toggles_with_markers_legend_and_names(chromium, bundled_run):
    top = pd.read_csv(bundled_run.out / "where_next.csv", keep_default_na=False)
    page, log = open_offline(chromium, bundled_run.out / "maps" / "analyst.html")
    try:
        markers = "document.querySelectorAll('.leaflet-marker-icon').length"
        before = page.evaluate(markers)
        box = page.locator(".leaflet-control-layers-overlays label", has_text=NAME).locator("input")
        assert not box.is_checked()  # off when the page opens
        box.click()
        page.wait_for_timeout(300)
        assert page.evaluate(markers) == before + len(top) == before + 10
        legend = page.locator(".hs-legend[data-layer='Where next (forecast)']")
        assert legend.is_visible() and "top 1 % of the area" in legend.inner_text()
        assert "backtest PEI" in legend.inner_text()
        first = top.iloc[0]
        # the markers overlap at the county zoom: send the click to marker 1 itself
        page.locator(".leaflet-marker-icon").filter(has_text=re.compile(r"^1$")).first.dispatch_event("click")
        page.wait_for_timeout(300)
        popup = page.locator(".leaflet-popup-content").inner_text()
        assert f"Where next 1: {first['street'] or first['location']}" in popup
        assert "Backtest PEI" in popup
        assert_clean(log)
    finally:
        page.context.close()
