"""The Board report in a real browser (Playwright driving Debian's Chromium), offline.

The report of the bundled run is loaded from ``file://`` with every request that is not
``file:`` or ``data:`` aborted: no request may fail and no console error may appear (the
page's Content-Security-Policy would log one for any blocked load). Checked on a desktop
(1400x900), on a phone (390x844: no sideways scrolling, tables stacked into labelled rows) and
printed to A4 with ``page.pdf()``: page 1 alone is one page holding the answer and the map,
the Board part (everything before the appendix) is at most six pages, and nothing is wider
than the page. Skips with a clear reason when Playwright or Chromium is missing.
"""

from __future__ import annotations

import pytest
from browser import assert_clean, assert_not_blank, open_offline, requires_chromium

from hotspots.present.report import build as R

pytestmark = requires_chromium

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
A4_CONTENT_PX = 703
"""A4 is 210 mm wide; minus the report's 12 mm side margins, 186 mm = 703 px at 96 px per inch."""
BOARD_PAGES = 6
"""The Board part of the default run prints on at most this many A4 pages."""
SECTIONS = ("answer", "places", "bleed-kits", "districts", "hotspots", "glossary")
APPENDIX = ("sources", "full-lists", "more-figures", "trend", "methods", "caveats", "attribution")


def _pages(pdf: bytes) -> int:
    return pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.fixture(scope="module")
def report_path(bundled_run):
    return bundled_run.out / R.REPORT_FILE


@pytest.fixture(scope="module")
def marked_path(tmp_path_factory, bundled_run):
    """A report of the bundled run's stages with markup planted in a place's and a kit's name."""
    from test_report import stage_report

    r = bundled_run.run
    res = R.stage_results(r.detect, r.rank, r.sites)
    places = res["places"].copy()
    places.loc[places["order"] == 2, "lsoa_name"] = "<script>alert('place')</script>"
    kits = res["bleed_kits"].copy()
    kits.loc[kits["order"] == 1, "name"] = "<img src=x onerror=alert(1)>"
    res.update(places=places, bleed_kits=kits)
    out = tmp_path_factory.mktemp("marked") / R.REPORT_FILE
    out.write_text(stage_report(bundled_run, results=res).html, encoding="utf-8")
    return out


def test_report_on_a_desktop(chromium, report_path, bundled_run):
    page, log = open_offline(chromium, report_path, viewport=DESKTOP)
    try:
        assert_clean(log)
        imgs = page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth, e.alt])")
        assert len(imgs) == len(list((bundled_run.out / R.FIGURES_DIR).glob("*.png"))) == len(R.FIGURE_FILES)
        assert all(c and w > 0 and len(alt) > 30 for c, w, alt in imgs), imgs
        assert_not_blank(page)
        for sid in SECTIONS + APPENDIX:
            assert page.locator(f"section#{sid}").is_visible(), sid
        assert page.locator("#priority-map img").is_visible()
        assert page.locator("#act-now-table tbody tr").count() == 20
        assert _overflow(page) <= 0
        assert page.eval_on_selector_all("script", "els => els.length") == 0
    finally:
        page.context.close()


def test_report_on_a_phone(chromium, report_path):
    page, log = open_offline(chromium, report_path, viewport=PHONE)
    try:
        assert_clean(log)
        assert _overflow(page) <= 0, "the page scrolls sideways on a phone"
        widest = page.evaluate(
            "Math.max(...[...document.querySelectorAll('body *')].map(e => e.getBoundingClientRect().right))"
        )
        assert widest <= PHONE["width"] + 0.5, f"an element reaches {widest}px on a {PHONE['width']}px screen"
        row = page.locator("#act-now-table tbody tr").first
        assert row.evaluate("e => getComputedStyle(e).display") == "flex"  # a labelled block, not a table row
        assert page.locator("#act-now-table thead").evaluate("e => e.getBoundingClientRect().height") <= 1
        label = row.locator("td").nth(1).evaluate("e => getComputedStyle(e, '::before').content")
        assert "Place" in label
        for t in page.locator("table").all():  # tables that are not stacked scroll inside their box
            box = t.evaluate(
                "e => e.closest('.scroll') ? e.closest('.scroll').getBoundingClientRect().right : "
                "e.getBoundingClientRect().right"
            )
            assert box <= PHONE["width"] + 0.5
    finally:
        page.context.close()


def test_report_prints_on_a4(chromium, report_path):
    page, log = open_offline(chromium, report_path, viewport={"width": A4_CONTENT_PX, "height": 1000})
    try:
        page.emulate_media(media="print")
        assert _overflow(page) <= 0, "the print layout is wider than an A4 page"
        total = _pages(page.pdf(format="A4", print_background=True))
        assert page.locator("#answer").evaluate("e => getComputedStyle(e).breakAfter") == "page"
        assert page.locator("#appendix").evaluate("e => getComputedStyle(e).breakBefore") == "page"
        page.evaluate("document.getElementById('appendix').remove(); document.querySelector('footer').remove()")
        board = _pages(page.pdf(format="A4", print_background=True))
        assert board <= BOARD_PAGES, f"the Board part prints on {board} A4 pages"
        assert total > board
        page.evaluate("[...document.querySelectorAll('#board > :not(#answer)')].forEach(e => e.remove())")
        assert page.locator("#answer #priority-map img").count() == 1
        assert _pages(page.pdf(format="A4", print_background=True)) == 1, "page 1 does not fit one A4 page"
        assert_clean(log)
    finally:
        page.context.close()


def test_markup_in_data_renders_as_text_and_runs_nothing(chromium, marked_path):
    page, log = open_offline(chromium, marked_path)
    try:
        assert_clean(log)  # no dialog, no error: nothing ran
        assert page.locator("#act-now-table td", has_text="<script>alert('place')</script>").count() == 1
        assert page.locator("#kits-table").get_by_text("<img src=x onerror=alert(1)>", exact=True).count() == 1
        assert page.eval_on_selector_all("script", "els => els.length") == 0
        assert page.eval_on_selector_all("img[onerror]", "els => els.length") == 0
    finally:
        page.context.close()
