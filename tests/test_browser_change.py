"""The change page and the change map in a real browser (Playwright driving Debian's Chromium), offline.

Both pages are opened from ``file://`` with every other request aborted: nothing may be blocked
or fail, no console error, no dialog (a place named like markup must render as text). The Board
page must reflow on a phone (no sideways scrolling at 390 px) and fit A4 when printed. On the map,
on a desktop and on a phone (touch), a real click or tap on a unit opens its popup; search and the
panel find units; nothing scrolls sideways; with an OpenStreetMap base map the only requests go to
its tile server.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import pytest
from browser import PageLog, assert_clean, assert_not_blank, open_offline, requires_chromium
from test_browser_maps import (
    DESKTOP,
    PHONE,
    VIEWPORTS,
    click_feature,
    close_popup,
    popup_text,
    search_and_pick,
    visible_controls_share,
)

from hotspots.errors import HotspotsWarning
from hotspots.evaluate.change import FALL, NO_DATA, RISE
from hotspots.evaluate.change_config import ChangeConfig, InterventionConfig
from hotspots.evaluate.change_stage import change
from hotspots.present.change_map import change_map
from hotspots.present.change_page import change_page
from hotspots.present.maps.config import MapsConfig

pytestmark = requires_chromium

HOSTILE = "<img src=x onerror=alert(1)>Nottingham`${alert(2)}`</script>"
A4_CONTENT_PX = 703  # A4 at 96 px per inch less the 12 mm side margins
PILOT = InterventionConfig(
    name="pilot", start="2020-07", months=6, treated_lsoas=["E01033406"], control_lsoas=["E01013855"], buffer_m=200
)


@pytest.fixture(scope="module")
def pages(study, tmp_path_factory):
    """The robbery pages (a hostile unit name) and the violence halves' maps (with an intervention)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HotspotsWarning)
        robbery = change(
            study,
            ChangeConfig(
                before="2020-01..2020-12", after="2022-01..2022-12", sources=["city_robbery_2020", "city_robbery_2022"]
            ),
        )
        halves = change(
            study,
            ChangeConfig(before="2020-01..2020-06", after="2020-07..2020-12", sources=["city_violence_2020"]),
            interventions=(PILOT,),
        )
    t = robbery.table.copy()
    t.loc[t["p_value"].idxmin(), "unit_name"] = HOSTILE  # the unit listed first on the page and the map's panel
    t.attrs = dict(robbery.table.attrs)
    robbery = dataclasses.replace(robbery, table=t)
    # significant units for the panel: the four lowest-p units of the real halves, made significant
    h = halves.table.copy()
    low = h[h["change_class"] != NO_DATA].sort_values("p_value").index[:4]
    h.loc[low, "change_class"] = [FALL if rr < 1 else RISE for rr in h.loc[low, "rate_ratio"]]
    h.attrs = dict(halves.table.attrs)
    halves = dataclasses.replace(halves, table=h)
    out = tmp_path_factory.mktemp("change_pages")
    (out / "change.html").write_text(change_page(robbery, study_name=HOSTILE), encoding="utf-8")
    (out / "map.html").write_text(change_map(robbery, study), encoding="utf-8")
    (out / "halves.html").write_text(change_map(halves, study), encoding="utf-8")
    osm = change_map(halves, study, cfg=MapsConfig(basemap="openstreetmap"))
    (out / "osm.html").write_text(osm, encoding="utf-8")
    return out, robbery, halves


def open_map(chromium, path, viewport: dict[str, int] = DESKTOP, *, tiles: str = "") -> tuple[Any, PageLog]:
    """Open a map page from ``file://`` (a touch screen for the phone) and wait until its script is ready.

    Every other request is recorded in ``log.blocked_requests``; those to ``https://<tiles>/`` get an
    empty answer (a stand-in tile), the rest are aborted.
    """
    phone = viewport["width"] < DESKTOP["width"] / 2
    context = chromium.new_context(viewport=viewport, has_touch=phone, is_mobile=phone)
    page = context.new_page()
    log = PageLog()

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(("file:", "data:")):
            r.continue_()
            return
        log.blocked_requests.append(url)
        if tiles and url.startswith(f"https://{tiles}/"):
            r.fulfill(status=204, body="")
        else:
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: log.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: log.page_errors.append(str(e)))
    page.on("dialog", lambda d: (log.dialogs.append(d.message), d.dismiss()))
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.wait_for_function("window.HS && window.HS.ready === true", timeout=15000)
    return page, log


def test_board_page_offline_phone_and_a4(chromium, pages):
    out, _, _ = pages
    page, log = open_offline(chromium, out / "change.html", viewport={"width": 390, "height": 800})
    try:
        assert_clean(log)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert HOSTILE in page.inner_text("#change-table")  # shown as text, never run
        assert page.locator("script").count() == 0
        page.emulate_media(media="print")
        page.set_viewport_size({"width": A4_CONTENT_PX, "height": 1000})
        assert page.evaluate("document.documentElement.scrollWidth") <= A4_CONTENT_PX
    finally:
        page.context.close()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_change_map_offline_a_click_opens_a_unit_and_nothing_scrolls_sideways(chromium, pages, viewport):
    out, robbery, _ = pages
    vp = VIEWPORTS[viewport]
    page, log = open_map(chromium, out / "map.html", vp)
    try:
        assert page.locator(".hs-title h1").inner_text() == "What changed"
        assert page.evaluate("document.documentElement.scrollWidth") <= vp["width"]
        assert page.evaluate("document.querySelectorAll('path.leaflet-interactive').length") >= 150
        share = visible_controls_share(page)
        assert share < (0.35 if viewport == "phone" else 0.4)
        if viewport == "desktop":
            control = page.inner_text(".leaflet-control-layers")
            assert "Change between the periods" in control and "Size of change (significant or not)" in control
            assert "No clear change" in page.inner_text(".hs-legend")
        t = robbery.table
        busiest = t.sort_values("before", ascending=False).iloc[0]
        text = click_feature(page, "change", str(busiest["unit_id"]), zoom=14, tap=viewport == "phone")
        assert text is not None, "the busiest unit is covered by other features"
        assert text.startswith(str(busiest["unit_name"])) and "Incidents before (12 months)" in text
        assert "Change per month" in text and "Smallest fall that could be seen" in text
        assert page.evaluate("document.documentElement.scrollWidth") <= vp["width"]
        assert_not_blank(page)
        assert_clean(log)  # basemap "none": not one request left the page
    finally:
        page.context.close()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_panel_lists_significant_units_and_search_finds_them(chromium, pages, viewport):
    out, _, halves = pages
    page, log = open_map(chromium, out / "halves.html", VIEWPORTS[viewport])
    try:
        sig = halves.table[halves.table["change_class"].isin([FALL, RISE])].sort_values("p_value")
        if viewport == "phone":
            page.locator(".hs-panel summary").click()  # collapsed on a phone
        assert page.locator(".hs-panel summary").inner_text().startswith(f"Significant changes ({len(sig)})")
        item = page.locator(".hs-list a").first
        assert str(sig["unit_name"].iloc[0]) in item.inner_text()
        item.click()
        page.wait_for_timeout(150)
        assert popup_text(page).startswith(str(sig["unit_name"].iloc[0]))
        close_popup(page)
        first = search_and_pick(page, str(sig["unit_id"].iloc[-1]))
        assert first.lower().startswith("place") and popup_text(page).startswith(str(sig["unit_name"].iloc[-1]))
        close_popup(page)
        first = search_and_pick(page, "pilot")
        assert first.lower().startswith("intervention") and "Treated area" in popup_text(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[viewport]["width"]
        assert_clean(log)
    finally:
        page.context.close()


def test_intervention_outlines_let_clicks_through_to_the_units(chromium, pages):
    out, _, _ = pages
    page, log = open_map(chromium, out / "halves.html")
    try:
        # the treated LSOA is the treated area: a click in its middle reaches the unit, not the outline
        text = click_feature(page, "change", "E01033406", zoom=16)
        assert text is not None and "LSOA code" in text and "E01033406" in text
        styles = page.evaluate(
            "() => { const s = []; HS.groups.interventions.eachLayer(g => g.eachLayer(l => "
            "s.push([l.feature.properties.i, l.options.fill, l.options.dashArray]))); return s; }"
        )
        by_role = {i.split(":")[1]: (fill, dash) for i, fill, dash in styles}
        assert by_role["treated"] == (False, None) and by_role["control"][1] == "7 5"
        assert_clean(log)
    finally:
        page.context.close()


def test_with_a_basemap_only_its_tile_server_is_asked(chromium, pages):
    out, _, _ = pages
    page, log = open_map(chromium, out / "osm.html", tiles="tile.openstreetmap.org")
    try:
        page.wait_for_timeout(500)
        assert log.blocked_requests, "no tile was requested"
        assert {u.split("/")[2] for u in log.blocked_requests} == {"tile.openstreetmap.org"}
        assert not log.page_errors and not log.dialogs
    finally:
        page.context.close()


def test_markup_in_names_renders_as_text(chromium, pages):
    out, robbery, _ = pages
    page, log = open_map(chromium, out / "map.html", PHONE)
    try:
        uid = str(robbery.table.loc[robbery.table["unit_name"] == HOSTILE, "unit_id"].iloc[0])
        page.evaluate("id => { HS.goTo('change', id, null, 15); }", uid)
        assert popup_text(page).startswith(HOSTILE)
        assert_clean(log)
    finally:
        page.context.close()
