"""The analyst map's "where next" layer in a real browser (Playwright driving Debian's Chromium), network blocked.

Switching the layer on draws the forecast cells and the ranked cells, shows its legend, lists the
ranked cells in the panel, and a click on the first opens a popup naming its street with the
forecast's backtest accuracy; nothing is fetched and nothing errs.
"""

from __future__ import annotations

import pandas as pd
from browser import assert_clean, requires_chromium
from test_browser_maps import act, click_feature, open_map

from hotspots.present.maps.layers.where_next import NAME

pytestmark = requires_chromium


def test_where_next_layer_toggles_with_ranked_cells_legend_and_names(chromium, bundled_run):
    top = pd.read_csv(bundled_run.out / "where_next.csv", keep_default_na=False)
    page, log = open_map(chromium, bundled_run, "analyst")
    try:
        assert not page.evaluate("HS.map.hasLayer(HS.groups.where_next)")  # off when the page opens
        box = page.locator(".leaflet-control-layers-overlays label", has_text=NAME).locator("input")
        box.check(force=True)
        page.wait_for_timeout(200)
        assert page.evaluate("HS.map.hasLayer(HS.groups.where_next)")
        ids = page.evaluate("Object.keys(HS.index.where_next).filter(k => k.startsWith('next:'))")
        assert len(ids) == len(top) == 10
        legend = page.locator(".hs-legend").inner_text()
        assert NAME in legend and "top 1 % of the area" in legend
        first = top.iloc[0]
        fid = f"next:{first['source']}:1"
        text = click_feature(page, "where_next", fid, zoom=17)
        if text is None:  # covered at this zoom: open it as the panel would
            act(page, "id => HS.index.where_next[id].openPopup()", fid)
            text = page.locator(".leaflet-popup-content").first.inner_text()
        assert f"Where next 1: {first['street'] or first['location']}" in text
        assert "Backtest PEI at 5 %" in text
        assert_clean(log)
    finally:
        page.context.close()
