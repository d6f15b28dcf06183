"""The Board report in a real browser (Playwright driving Debian's Chromium), offline.

The report is loaded from ``file://`` with every request that is not ``file:`` or
``data:`` aborted: no request may fail, no console error may appear (the page's
Content-Security-Policy would log one for any blocked load), every figure decodes, the
page is not blank, data text with markup renders as text and runs nothing, and the
print layout fits A4 without sideways overflow. Skips with a clear reason when
Playwright or Chromium is missing (``.ci/run`` installs Debian's ``chromium``).
"""

from __future__ import annotations

import io

import pytest
from browser import assert_clean, assert_not_blank, open_offline, requires_chromium

from hotspots.present.report import build as R

pytestmark = requires_chromium

A4_CONTENT_PX = 703
"""A4 is 794 px wide at 96 px per inch; minus the report's 12 mm side margins about 703 px."""


@pytest.fixture(scope="module")
def report_path(tmp_path_factory, study, config):
    """A report written by the stage from the real study and stage results with planted markup."""
    from test_report import make_results

    out = tmp_path_factory.mktemp("report_run")
    rep = R.build_report(study, make_results(study), auto={})
    (out / R.REPORT_FILE).write_text(rep.html, encoding="utf-8")
    (out / R.FIGURES_DIR).mkdir()
    for key, png in rep.figures.items():
        (out / R.FIGURES_DIR / R.FIGURE_FILES[key]).write_bytes(png)
    return out / R.REPORT_FILE


def _images(page) -> list:
    return page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth, e.naturalHeight])")


def test_bundled_run_report_in_browser(chromium, bundled_run):
    """The report of the real pipeline run: offline, clean, every figure decoded, not blank."""
    page, log = open_offline(chromium, bundled_run.out / R.REPORT_FILE)
    try:
        assert_clean(log)
        imgs = _images(page)
        assert len(imgs) == len(list((bundled_run.out / R.FIGURES_DIR).glob("*.png"))) >= 4
        assert all(c and w > 0 and h > 0 for c, w, h in imgs), imgs
        assert_not_blank(page)
        for sid in (
            "headline",
            "top-places",
            "districts",
            "concentration",
            "hotspots",
            "trend",
            "bleed-kits",
            "methods",
            "caveats",
            "attribution",
        ):
            assert page.locator(f"section#{sid}").is_visible(), sid
        rows = page.locator("#places-table tbody tr")
        assert rows.count() == 20
        places = bundled_run.run.rank.places.sort_values("rank")
        assert rows.first.locator("td").nth(1).inner_text().split("\n")[-1] == places["lsoa_code"].iloc[0]
        page.set_viewport_size({"width": A4_CONTENT_PX, "height": 1000})
        page.emulate_media(media="print")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the real report's print layout is {overflow}px wider than an A4 page"
    finally:
        page.context.close()


def test_report_loads_offline_without_errors(chromium, report_path):
    page, log = open_offline(chromium, report_path)
    try:
        assert_clean(log)
        imgs = _images(page)
        assert len(imgs) == len(R.FIGURE_FILES)
        assert all(c and w > 0 and h > 0 for c, w, h in imgs), imgs
        assert page.title().endswith("serious violence hot spots")
        for sid in (
            "headline",
            "top-places",
            "districts",
            "concentration",
            "trend",
            "bleed-kits",
            "caveats",
            "attribution",
        ):
            assert page.locator(f"section#{sid}").is_visible(), sid
    finally:
        page.context.close()


def test_report_screenshot_not_blank(chromium, report_path):
    from PIL import Image, ImageStat

    page, _ = open_offline(chromium, report_path)
    try:
        shot = page.screenshot(full_page=True)
    finally:
        page.context.close()
    img = Image.open(io.BytesIO(shot)).convert("L")
    assert img.height > 3000  # a long page, not an empty one
    assert ImageStat.Stat(img).stddev[0] > 20  # text and figures, not a flat colour
    # the first figure's region carries ink too
    assert len(img.resize((64, 256)).getcolors(maxcolors=256 * 256)) > 50


def test_markup_in_data_renders_as_text_and_runs_nothing(chromium, report_path):
    from test_report import XSS_PLACE, XSS_VENUE

    page, log = open_offline(chromium, report_path)
    try:
        assert_clean(log)  # no dialog, no error: nothing ran
        cell = page.locator("#places-table td", has_text=XSS_PLACE)
        assert cell.count() == 1 and cell.first.is_visible()
        assert page.locator("#kits-table").get_by_text(XSS_VENUE, exact=True).count() == 1
        assert page.eval_on_selector_all("script", "els => els.length") == 0
        assert page.eval_on_selector_all("img[onerror]", "els => els.length") == 0
    finally:
        page.context.close()


def test_print_layout_fits_a4(chromium, report_path):
    page, log = open_offline(chromium, report_path, viewport={"width": A4_CONTENT_PX, "height": 1000})
    try:
        page.emulate_media(media="print")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"print layout is {overflow}px wider than an A4 page"
        widest = page.eval_on_selector_all("img", "els => Math.max(...els.map(e => e.getBoundingClientRect().width))")
        assert 0 < widest <= A4_CONTENT_PX
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf[:5] == b"%PDF-" and pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= 3
        assert_clean(log)
    finally:
        page.context.close()
