"""Shared Playwright helpers for the browser tests (maps and the Board report).

The tests drive Debian's Chromium (``/usr/bin/chromium``, or ``HOTSPOTS_CHROMIUM``)
through Playwright from PyPI; ``playwright install`` is never used. Every request that
is not ``file:`` or ``data:`` is aborted and recorded, so a page passes only if it needs
nothing from the network.

Use from a test module::

    from browser import requires_chromium, open_offline, assert_clean, screenshot_stats

    pytestmark = requires_chromium

    def test_page(chromium, bundled_run):
        page, log = open_offline(chromium, bundled_run.out / "report.html")
        assert_clean(log)

``chromium`` (a session-scoped browser, in this module and re-exported by
``tests/conftest.py``) and ``bundled_run`` (the whole pipeline on the bundled data, once
per session, in ``tests/conftest.py``) are the shared fixtures.
"""

from __future__ import annotations

import io
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

CHROMIUM = Path(os.environ.get("HOTSPOTS_CHROMIUM", "/usr/bin/chromium"))
"""Debian's Chromium (apt package ``chromium``)."""

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
"""Chromium flags that work in containers and CI."""

VIEWPORT = {"width": 1280, "height": 800}


def chromium_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401  (is Playwright installed?)
    except ImportError:
        return "Playwright is not installed (pip install playwright; `bash setup.sh --test` does it)"
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)) and shutil.which(str(CHROMIUM)) is None:
        return (
            f"no Chromium at {CHROMIUM}: install Debian's package (`apt-get install chromium`; .ci/run does) "
            "or set HOTSPOTS_CHROMIUM to a Chromium binary"
        )
    return None


requires_chromium = pytest.mark.skipif(chromium_missing_reason() is not None, reason=str(chromium_missing_reason()))
"""Mark (or ``pytestmark = requires_chromium``) tests that need the browser."""


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the whole session (skips with the reason when unavailable)."""
    reason = chromium_missing_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageLog:
    """What happened while a page loaded: problems a self-contained page must not have."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    load_seconds: float = float("nan")


def open_offline(
    browser: Any, path: Path, *, viewport: dict[str, int] | None = None, settle_ms: int = 300
) -> tuple[Any, PageLog]:
    """Open ``path`` from ``file://`` with the network blocked; return the page and its log.

    Every request other than ``file:`` and ``data:`` is aborted and listed in
    ``log.blocked_requests``; dialogs (``alert``) are recorded and dismissed. The page
    is left open (close it with ``page.context.close()``).
    """
    context = browser.new_context(viewport=viewport or VIEWPORT)
    page = context.new_page()
    log = PageLog()

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(("file:", "data:")):
            r.continue_()
        else:
            log.blocked_requests.append(url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: log.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: log.page_errors.append(str(e)))
    page.on("requestfailed", lambda r: log.failed_requests.append(f"{r.url} ({r.failure})"))

    def dialog(d: Any) -> None:
        log.dialogs.append(f"{d.type}: {d.message}")
        d.dismiss()

    page.on("dialog", dialog)
    t = time.perf_counter()
    page.goto(Path(path).resolve().as_uri(), wait_until="load")
    log.load_seconds = time.perf_counter() - t
    if settle_ms:
        page.wait_for_timeout(settle_ms)
    return page, log


def assert_clean(log: PageLog) -> None:
    """No blocked or failed request, no console or page error, no dialog."""
    assert not log.blocked_requests, f"page tried to reach the network: {log.blocked_requests[:5]}"
    assert not log.failed_requests, f"failed requests: {log.failed_requests[:5]}"
    assert not log.page_errors, f"JavaScript errors: {log.page_errors[:5]}"
    assert not log.console_errors, f"console errors: {log.console_errors[:5]}"
    assert not log.dialogs, f"dialogs fired: {log.dialogs}"


@dataclass
class ScreenshotStats:
    """Pixel statistics of a screenshot (to tell a rendered page from a blank one)."""

    std: float
    colours: int
    coloured_share: float


def screenshot_stats(page: Any) -> ScreenshotStats:
    """Std of grey levels, number of distinct colours, share of clearly coloured (non-grey) pixels."""
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(page.screenshot(full_page=False))).convert("RGB"), dtype=np.int16)
    grey = img.mean(axis=2)
    sat = img.max(axis=2) - img.min(axis=2)
    colours = len(np.unique(img.reshape(-1, 3)[:: max(1, img.shape[0] * img.shape[1] // 200_000)], axis=0))
    return ScreenshotStats(std=float(grey.std()), colours=int(colours), coloured_share=float((sat > 40).mean()))


def assert_not_blank(page: Any) -> ScreenshotStats:
    """The page shows something: varied pixels, more than a handful of colours."""
    s = screenshot_stats(page)
    assert s.std > 8 and s.colours > 20, f"screenshot looks blank: {s}"
    return s
