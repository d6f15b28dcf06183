"""Offline browser assets for the maps: fetch, verify, vendor (:mod:`.vendor`) and inline (:mod:`.inline`) them.

A page that loads Leaflet from a content delivery network is blank on a laptop with no
internet (``L is not defined``). The maps reference Leaflet by its CDN address and
:func:`inline_html` replaces it by the copy vendored from npm at the pinned version and
integrity (``hotspots/present/assets.lock.json``; ``python -m hotspots.present.assets install``,
run by ``setup.sh``). The page's own script and style are ours and inlined as they are.
"""

from hotspots.present.assets.cli import main
from hotspots.present.assets.inline import URL_MAP, external_urls, inline_css, inline_html
from hotspots.present.assets.vendor import (
    DEFAULT_VENDOR_DIR,
    INSTALL_HINT,
    LOCK_FILE,
    AssetError,
    Package,
    install,
    problems,
    read_lock,
    require_installed,
    sri,
    vendor_dir,
    verify_integrity,
)

__all__ = [
    "DEFAULT_VENDOR_DIR",
    "INSTALL_HINT",
    "LOCK_FILE",
    "URL_MAP",
    "AssetError",
    "Package",
    "external_urls",
    "inline_css",
    "inline_html",
    "install",
    "main",
    "problems",
    "read_lock",
    "require_installed",
    "sri",
    "vendor_dir",
    "verify_integrity",
]
