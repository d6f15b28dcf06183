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
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from hotspots import report as R

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium not found (install Debian's 'chromium'; .ci/run does)"),
]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[test])")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def report_path(tmp_path_factory, study, config):
    """A report written by the stage from the real study and documented stage results."""
    from test_report import make_results

    out = tmp_path_factory.mktemp("report_run")
    ctx = SimpleNamespace(config=config, study=study, out=out, results=make_results(study), auto={}, outputs={},
                          extra={})
    ctx.output = lambda path, desc: path
    R.run_stage(ctx)
    return out / R.REPORT_FILE


def open_offline(browser, path: Path, *, media: str = "screen", width: int = 1200):
    """Open ``path`` with the network cut off; collect failures, console errors and dialogs."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    seen = {"blocked": [], "failed": [], "console": [], "dialogs": [], "page_errors": []}

    def route(r):
        url = r.request.url
        if url.startswith(("file:", "data:")):
            r.continue_()
        else:
            seen["blocked"].append(url)
            r.abort()

    page.route("**/*", route)
    page.on("requestfailed", lambda req: seen["failed"].append(req.url))
    page.on("console", lambda msg: seen["console"].append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: seen["page_errors"].append(str(exc)))

    def on_dialog(d):
        seen["dialogs"].append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    page.emulate_media(media=media)
    page.goto(path.resolve().as_uri(), wait_until="load")
    return page, seen


def test_report_loads_offline_without_errors(browser, report_path):
    page, seen = open_offline(browser, report_path)
    try:
        assert seen["blocked"] == [], f"requests left the page: {seen['blocked'][:5]}"
        assert seen["failed"] == [], f"failed requests: {seen['failed'][:5]}"
        assert seen["console"] == [], f"console errors: {seen['console'][:5]}"
        assert seen["page_errors"] == [] and seen["dialogs"] == []
        imgs = page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth, e.naturalHeight])")
        assert len(imgs) == len(R.FIGURE_FILES)
        assert all(c and w > 0 and h > 0 for c, w, h in imgs), imgs
        assert page.title().endswith("serious violence hot spots")
        for sid in ("headline", "top-places", "districts", "concentration", "trend", "bleed-kits", "caveats",
                    "attribution"):
            assert page.locator(f"section#{sid}").is_visible(), sid
    finally:
        page.close()


def test_report_screenshot_not_blank(browser, report_path):
    from PIL import Image, ImageStat

    page, _ = open_offline(browser, report_path)
    try:
        shot = page.screenshot(full_page=True)
    finally:
        page.close()
    img = Image.open(io.BytesIO(shot)).convert("L")
    assert img.height > 3000  # a long page, not an empty one
    assert ImageStat.Stat(img).stddev[0] > 20  # text and figures, not a flat colour
    # the first figure's region carries ink too
    assert len(img.resize((64, 256)).getcolors(maxcolors=256 * 256)) > 50


def test_markup_in_data_renders_as_text_and_runs_nothing(browser, report_path):
    from test_report import XSS_PLACE, XSS_VENUE

    page, seen = open_offline(browser, report_path)
    try:
        assert seen["dialogs"] == []
        cell = page.locator("#places-table td", has_text=XSS_PLACE)
        assert cell.count() == 1 and cell.first.is_visible()
        assert page.locator("#kits-table").get_by_text(XSS_VENUE, exact=True).count() == 1
        assert page.eval_on_selector_all("script", "els => els.length") == 0
        assert page.eval_on_selector_all("img[onerror]", "els => els.length") == 0
    finally:
        page.close()


def test_print_layout_fits_a4(browser, report_path):
    # A4 at 96 px per inch is 794 px wide; minus the 12 mm margins about 703 px.
    page, seen = open_offline(browser, report_path, media="print", width=703)
    try:
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"print layout is {overflow}px wider than an A4 page"
        widest = page.eval_on_selector_all("img", "els => Math.max(...els.map(e => e.getBoundingClientRect().width))")
        assert 0 < widest <= 703
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf[:5] == b"%PDF-" and pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= 3
        assert seen["console"] == []
    finally:
        page.close()
