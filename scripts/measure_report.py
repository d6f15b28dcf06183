"""Measure Board reports in Chromium: size, A4 pages (the Board part and the whole), page 1, phone width.

Usage::

    python scripts/measure_report.py RUN_DIR [RUN_DIR ...]

Each RUN_DIR holds a ``report.html`` (``hotspots run`` writes one). For each, prints a row:
the file size, the number of figures, the A4 pages Chromium prints (``page.pdf(format="A4")``
with the report's own ``@page`` margins) for the whole page and for the Board part (the page
with ``#appendix`` and the footer removed; reports without an appendix count whole), whether
page 1 (``#answer`` alone) fits one page, and the sideways scroll on a 390 px phone. Pass an
earlier run folder beside a new one to see them side by side. Uses Debian's Chromium
(``/usr/bin/chromium``, or ``HOTSPOTS_CHROMIUM``) through Playwright; nothing leaves the machine.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("HOTSPOTS_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
A4_CONTENT_PX = 703


def pages(pdf: bytes) -> int:
    """Pages in a PDF Chromium wrote."""
    return pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")


def measure(browser, path: Path) -> dict[str, object]:
    """One report's measurements."""
    ctx = browser.new_context(viewport={"width": A4_CONTENT_PX, "height": 1000})
    ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
    page = ctx.new_page()
    page.goto(path.resolve().as_uri())
    page.emulate_media(media="print")
    total = pages(page.pdf(format="A4", print_background=True))
    has_appendix = page.locator("#appendix").count() > 0
    page.evaluate("document.getElementById('appendix')?.remove(); document.querySelector('footer')?.remove()")
    board = pages(page.pdf(format="A4", print_background=True)) if has_appendix else total
    first = "n/a"
    if page.locator("#answer").count():
        page.evaluate("[...document.querySelectorAll('#board > :not(#answer)')].forEach(e => e.remove())")
        first = "yes" if pages(page.pdf(format="A4", print_background=True)) == 1 else "no"
    ctx.close()
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    page = ctx.new_page()
    page.goto(path.resolve().as_uri())
    scroll = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    figures = page.eval_on_selector_all("img", "els => els.length")
    ctx.close()
    return {
        "report": str(path),
        "MB": f"{path.stat().st_size / 1e6:.2f}",
        "figures": figures,
        "A4 pages": total,
        "Board part": board,
        "page 1 fits": first,
        "phone sideways px": scroll,
    }


def main(argv: list[str]) -> int:
    """Print one row per run folder."""
    if not argv:
        print(__doc__)
        return 2
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        rows = [measure(browser, Path(a) / "report.html") for a in argv]
        browser.close()
    keys = list(rows[0])
    print(" | ".join(keys))
    for r in rows:
        print(" | ".join(str(r[k]) for k in keys))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
