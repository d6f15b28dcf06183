"""MkDocs hook: a nav that tolerates pages being added and removed.

``mkdocs.yml`` names pages by file, as usual, and may also hold glob entries such as
``"*.md"`` or ``"reference/*.md"``. Before MkDocs builds the navigation this hook

* drops every named page that is not in ``docs/`` (logged at INFO, not a warning), so the
  nav can name pages that other branches are still writing;
* replaces each glob entry by the pages it matches that no other entry names, sorted by
  file name (``*`` does not cross ``/``), so a new page appears without editing the nav;
* drops sections left empty.

A page that neither a name nor a glob reaches is added at the end under "More", so no page
is ever unreachable.
"""

from __future__ import annotations

import fnmatch
import logging
from typing import Any

log = logging.getLogger("mkdocs.hooks.nav")

MORE = "More"


def _is_glob(entry: str) -> bool:
    return any(ch in entry for ch in "*?[")


def _matches(uri: str, pattern: str) -> bool:
    return uri.count("/") == pattern.count("/") and fnmatch.fnmatchcase(uri, pattern)


def _named(nav: list[Any]) -> set[str]:
    """Every page file the nav names explicitly (not through a glob)."""
    out: set[str] = set()
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        if isinstance(value, list):
            out |= _named(value)
        elif isinstance(value, str) and not _is_glob(value) and "://" not in value:
            out.add(value)
    return out


def _resolve(nav: list[Any], pages: list[str], taken: set[str]) -> list[Any]:
    out: list[Any] = []
    for item in nav:
        title, value = next(iter(item.items())) if isinstance(item, dict) else (None, item)
        if isinstance(value, list):
            children = _resolve(value, pages, taken)
            if children:
                out.append({title: children})
        elif not isinstance(value, str) or "://" in value:
            out.append(item)
        elif _is_glob(value):
            found = [p for p in pages if p not in taken and _matches(p, value)]
            taken.update(found)
            out.extend(found)
        elif value in pages:
            out.append(item)
        else:
            log.info("nav: %s is not in docs/ (yet); left out of the navigation", value)
    return out


def resolve_nav(nav: list[Any], pages: list[str]) -> list[Any]:
    """The nav with absent pages dropped, globs expanded and stray pages under "More"."""
    pages = sorted(pages)
    taken = _named(nav)
    out = _resolve(nav, pages, taken)
    stray = [p for p in pages if p not in taken]
    if stray:
        out.append({MORE: stray})
    return out


def on_files(files: Any, config: Any) -> Any:
    """Rewrite ``config.nav`` from the pages present (MkDocs event, before the nav is built)."""
    if config.nav:
        pages = [f.src_uri for f in files.documentation_pages()]
        config.nav = resolve_nav(config.nav, pages)
    return files
