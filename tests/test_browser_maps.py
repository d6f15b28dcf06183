"""The three maps in a real browser (Playwright driving Debian's Chromium), network blocked.

Each map written by the real run on the bundled data (the session's ``bundled_run``) is
opened from ``file://`` with every non-``file:``/``data:`` request aborted: no request may
be blocked or fail, no console or JavaScript error, the legend is visible, switching a
layer in the layer control changes what is drawn, and the screenshot is not blank. A
venue named ``<img src=x onerror=alert(1)>`` renders as text and runs nothing. Skips with
the reason when Playwright or Chromium is missing.
"""

from __future__ import annotations

import dataclasses

import pytest
from browser import assert_clean, assert_not_blank, open_offline, requires_chromium

from hotspots import columns as C
from hotspots.present.maps import build as maps

pytestmark = requires_chromium

XSS = "<img src=x onerror=alert(1)>"

# a layer that each map shows at first, and one it hides, to toggle
TOGGLES = {
    "board": "Bleed-control kit sites",
    "outreach": "Youth outreach zones",
    "analyst": "KDE surface (harm density)",
}


def drawn(page) -> int:
    """Interactive shapes and markers currently on the map."""
    return page.evaluate("document.querySelectorAll('path.leaflet-interactive, .leaflet-marker-icon').length")


def visible_legends(page) -> list[str]:
    return page.evaluate(
        "Array.from(document.querySelectorAll('.hs-legend'))"
        ".filter(d => d.style.display !== 'none' && d.offsetParent !== null)"
        ".map(d => d.getAttribute('data-layer'))"
    )


@pytest.mark.parametrize("audience", maps.AUDIENCES)
def test_map_loads_offline_clean_with_legend_and_content(chromium, bundled_run, audience):
    path = bundled_run.out / "maps" / f"{audience}.html"
    assert path.stat().st_size < 10e6, f"{audience}.html is {path.stat().st_size / 1e6:.1f} MB"
    page, log = open_offline(chromium, path)
    try:
        assert_clean(log)
        assert page.evaluate("typeof L") == "object"
        assert page.locator(".hs-title").inner_text().startswith(maps.TITLES[audience])
        assert bundled_run.run.study.analysis_period in page.locator(".hs-title").inner_text()
        assert "Open Government Licence v3.0" in page.locator(".hs-notes").inner_text()
        assert visible_legends(page), "no legend visible"
        assert drawn(page) > 0
        assert_not_blank(page)
    finally:
        page.context.close()


@pytest.mark.parametrize("audience", maps.AUDIENCES)
def test_layer_control_toggles_a_layer_and_its_legend(chromium, bundled_run, audience):
    page, log = open_offline(chromium, bundled_run.out / "maps" / f"{audience}.html")
    try:
        layer = TOGGLES[audience]
        box = page.locator(".leaflet-control-layers-overlays label", has_text=layer).locator("input")
        was_on = box.is_checked()
        before, legends_before = drawn(page), visible_legends(page)
        box.click()
        page.wait_for_timeout(200)
        after, legends_after = drawn(page), visible_legends(page)
        assert box.is_checked() != was_on
        if was_on:
            assert after < before and layer in legends_before and layer not in legends_after
        else:
            assert after > before and layer not in legends_before and layer in legends_after
        box.click()
        page.wait_for_timeout(200)
        again = drawn(page)
        assert (again > after) if was_on else (again < after)
        assert box.is_checked() == was_on
        assert_clean(log)
    finally:
        page.context.close()


def test_board_map_shows_tooltips_a_person_can_read(chromium, bundled_run):
    page, log = open_offline(chromium, bundled_run.out / "maps" / "board.html")
    try:
        top = bundled_run.run.rank.places.sort_values("rank").iloc[0]
        # hover the rank-1 place: its tooltip shows name, rank with interval, tier and reason
        page.evaluate(
            """code => { for (const k of Object.keys(window)) { const g = window[k];
                 if (k.startsWith('geo_json_') && g && g.eachLayer) {
                   g.eachLayer(l => { if (l.feature && Object.values(l.feature.properties).includes(code)) {
                     l.fire('mouseover', {latlng: l.getCenter()}, true); } }); } } }""",
            top[C.LSOA_CODE],
        )
        text = page.locator(".leaflet-tooltip").first.inner_text()
        assert str(top[C.LSOA_NAME]) in text and "Rank" in text and "Tier" in text
        assert str(top["reason"])[:30] in text
        assert_clean(log)
    finally:
        page.context.close()


def test_markup_in_data_renders_as_text_and_runs_nothing(chromium, bundled_run, tmp_path):
    study = bundled_run.run.study
    venues = study.venues.copy()
    venues.loc[venues.index[0], C.VENUE_NAME] = XSS
    venues.loc[venues.index[0], C.VENUE_ADDRESS] = "`${alert(2)}`</script><script>alert(3)</script>"
    s = dataclasses.replace(study, venues=venues.iloc[:1])
    outreach = bundled_run.run.sites.outreach.copy()
    outreach.loc[outreach.index[0], "reason"] = XSS
    r = bundled_run.run
    results = dict(maps.stage_results(r.detect, r.rank, r.sites), outreach=outreach)
    path = maps.write_map(maps.build_map("outreach", results, s), tmp_path / "xss.html")
    page, log = open_offline(chromium, path)
    try:
        # open the venue's popup and the place's tooltip
        page.evaluate(
            """() => { for (const k of Object.keys(window)) { const g = window[k];
                 if (k.startsWith('fast_marker_cluster_') && g && g.getLayers) {
                   for (const v of g.getLayers()) {
                     if (String(v.getPopup().getContent()).includes('onerror')) { v.openPopup(); } } } } }"""
        )
        page.wait_for_timeout(200)
        popup = page.locator(".leaflet-popup-content").first.inner_text()
        assert XSS in popup and "${alert(2)}" in popup
        assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
        assert_clean(log)  # no dialog fired, no request for 'x'
    finally:
        page.context.close()
