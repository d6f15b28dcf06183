"""The change page and the change map in a real browser (Playwright driving Debian's Chromium), offline.

Both pages are opened from ``file://`` with every other request aborted: nothing may be blocked
or fail, no console error, no dialog (a place named like markup must render as text). The Board
page must reflow on a phone (no sideways scrolling at 390 px) and fit A4 when printed.
"""

from __future__ import annotations

import dataclasses
import warnings

import pytest
from browser import assert_clean, assert_not_blank, open_offline, requires_chromium

from hotspots.errors import HotspotsWarning
from hotspots.evaluate.change_config import ChangeConfig
from hotspots.evaluate.change_stage import change
from hotspots.present.change_map import change_map
from hotspots.present.change_page import change_page

pytestmark = requires_chromium

HOSTILE = "<img src=x onerror=alert(1)>Nottingham`${alert(2)}`</script>"
PHONE = {"width": 390, "height": 800}
A4_CONTENT_PX = 703  # A4 at 96 px per inch less the 12 mm side margins


@pytest.fixture(scope="module")
def pages(study, tmp_path_factory):
    cfg = ChangeConfig(
        before="2020-01..2020-12", after="2022-01..2022-12", sources=["city_robbery_2020", "city_robbery_2022"]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HotspotsWarning)
        r = change(study, cfg)
    t = r.table.copy()
    first = t["p_value"].idxmin()
    t.loc[first, "unit_name"] = HOSTILE  # the unit listed first on the page
    t.attrs = dict(r.table.attrs)
    r = dataclasses.replace(r, table=t)
    out = tmp_path_factory.mktemp("change_pages")
    (out / "change.html").write_text(change_page(r, study_name=HOSTILE), encoding="utf-8")
    (out / "map.html").write_text(change_map(r, study_name=HOSTILE), encoding="utf-8")
    return out


def test_board_page_offline_phone_and_a4(chromium, pages):
    page, log = open_offline(chromium, pages / "change.html", viewport=PHONE)
    try:
        assert_clean(log)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert HOSTILE in page.inner_text("#change-table")  # shown as text, never run
        assert page.locator("script").count() == 0
        page.emulate_media(media="print")
        page.set_viewport_size({"width": A4_CONTENT_PX, "height": 1000})
        assert page.evaluate("document.documentElement.scrollWidth") <= A4_CONTENT_PX
    finally:
        page.context.close()


def test_change_map_offline_and_drawn(chromium, pages):
    page, log = open_offline(chromium, pages / "map.html", settle_ms=800)
    try:
        assert_clean(log)
        assert_not_blank(page)
        control = page.inner_text(".leaflet-control-layers")
        assert "Change between the periods" in control and "Size of change (significant or not)" in control
        assert page.locator("path.leaflet-interactive").count() >= 150
        page.locator("path.leaflet-interactive").first.hover()
        page.wait_for_timeout(200)
        assert not log.dialogs
    finally:
        page.context.close()
