"""Documentation: the site builds strictly and offline, the config reference is complete, the README is short.

The site is built once per module, in this process, exactly as ``mkdocs build --strict``
does (any warning aborts: a broken link or anchor, a docstring griffe cannot read, a nav
entry that points nowhere). It is built from a copy of ``docs/`` with two dummy pages
added, to prove that a new page joins the navigation without an edit to ``mkdocs.yml``.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import shutil
import sys
import typing
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import ROOT

mkdocs_config = pytest.importorskip("mkdocs.config", reason="mkdocs is a test extra: bash setup.sh --test")

from mkdocs.commands.build import build  # noqa: E402  (after the importorskip)

from hotspots import config as cfgmod  # noqa: E402

CI_TEST_COMMAND = "bash setup.sh --test && .venv/bin/python -m pytest -q"
DUMMY_GUIDE = "zz-dummy-guide.md"
DUMMY_REFERENCE = "reference/zz-dummy-stage.md"


def _hook(name: str):
    spec = importlib.util.spec_from_file_location(f"docs_hook_{name}", ROOT / "docs" / "hooks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site built strictly from docs/ plus two dummy pages; returns the site folder."""
    tmp = tmp_path_factory.mktemp("docs")
    docs = tmp / "docs"
    shutil.copytree(ROOT / "docs", docs)
    (docs / DUMMY_GUIDE).write_text("# Dummy guide\n\nA page no nav entry names.\n", encoding="utf-8")
    (docs / DUMMY_REFERENCE).write_text("# Dummy stage\n\nAnother.\n", encoding="utf-8")
    out = tmp / "site"
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")  # Material's notice about MkDocs 2.0
    cfg = mkdocs_config.load_config(str(ROOT / "mkdocs.yml"), docs_dir=str(docs), site_dir=str(out), strict=True)
    build(cfg)  # raises mkdocs.exceptions.Abort on any warning in strict mode
    return out


def _page(site: Path, uri: str) -> str:
    return (site / uri / "index.html").read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------
# the config reference
# --------------------------------------------------------------------------------------


class _Rows(HTMLParser):
    """Table rows of a page section: ``{key: (row text, last cell text)}`` by ``<code>`` key."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row:
                self.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _section(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    nxt = re.search(r"<h[12] ", html[start:])
    return html[start : start + nxt.start()] if nxt else html[start:]


def _rows(html: str, anchor: str) -> dict[str, list[str]]:
    parser = _Rows()
    parser.feed(_section(html, anchor))
    out = {}
    for row in parser.rows:
        for i, key in enumerate(row[0].split("\n")):
            cells = [c.split("\n") for c in row]
            out[key.strip()] = [c[i] if len(c) > i else c[0] for c in cells[:3]] + [row[3]]
    return out


def _config_tables() -> list[tuple[str, type]]:
    """(anchor, dataclass) of every section and every nested table, found from the types."""
    seen: dict[type, str] = {}
    todo = list(cfgmod.SECTIONS.items())
    while todo:
        anchor, cls = todo.pop(0)
        if cls in seen:
            continue
        seen[cls] = anchor
        for tp in typing.get_type_hints(cls).values():
            for arg in (tp, *typing.get_args(tp)):
                if isinstance(arg, type) and dataclasses.is_dataclass(arg):
                    todo.append((arg.__name__.lower(), arg))
    return [(a, c) for c, a in seen.items()]


def _keys(cls: type) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(cls) if f.init and not f.metadata.get("internal")]


def test_config_reference_lists_every_key_with_type_default_and_description(site):
    html = _page(site, "config")
    tables = _config_tables()
    assert {a for a, _ in tables} >= {*cfgmod.SECTIONS, "columnmap", "pointfile"}
    for anchor, cls in tables:
        rows = _rows(html, anchor)
        for f in _keys(cls):
            where = f"[{anchor}] key {f.name!r}"
            assert f.name in rows, f"{where} is not on the built config reference page"
            _, kind, default, meaning = rows[f.name]
            assert kind, f"{where} has no type"
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            assert (default == "required") == required, f"{where}: default shown as {default!r}"
            assert meaning, (
                f"{where} has no description: add it to the Attributes section of {cls.__name__}'s docstring"
            )


def test_config_reference_shows_the_code_defaults(site):
    rows = _rows(_page(site, "config"), "detect")
    assert rows["cell_size"][2] == "unset"
    assert rows["kernel"][2] == '"quartic"'
    assert rows["permutations"][2] == "999"
    assert rows["fdr"][2] == "true"
    rows = _rows(_page(site, "config"), "sites")
    assert rows["sensitivity_radii_m"][2] == "[60.0, 100.0, 200.0]"
    assert rows["radius_m"][1] == "number"


def test_config_reference_follows_the_code(monkeypatch):
    """A key added to a dataclass appears in the generated page with its Attributes entry."""
    ref = _hook("config_reference")

    @dataclasses.dataclass(frozen=True)
    class NewSection:
        """``[new]``: a section added later.

        Attributes
        ----------
        threshold, floor
            Two numbers documented together.
        """

        threshold: float = 0.5
        floor: int = 3
        names: list[str] = dataclasses.field(default_factory=list)
        """Documented under the field."""

    monkeypatch.setitem(cfgmod.SECTIONS, "new", NewSection)
    page = ref.render()
    assert "## `[new]` {#new}" in page
    row = "| `threshold`<br>`floor` | number<br>whole number | `0.5`<br>`3` | Two numbers documented together. |"
    assert row in page
    assert "| `names` | list of strings | `[]` | Documented under the field. |" in page


# --------------------------------------------------------------------------------------
# the site
# --------------------------------------------------------------------------------------


class _Resources(HTMLParser):
    """Every URL a page loads by itself (not links a reader follows)."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("script", "img", "iframe", "audio", "video", "source", "embed") and a.get("src"):
            self.loaded.append(a["src"] or "")
        if tag == "link" and a.get("href") and (a.get("rel") or "") not in ("canonical", "alternate"):
            self.loaded.append(a["href"] or "")
        if tag == "object" and a.get("data"):
            self.loaded.append(a["data"] or "")
        for value in a.values():
            self.loaded += re.findall(r"url\(\s*['\"]?([^'\")]+)", value or "")


def _external(url: str) -> bool:
    return bool(re.match(r"^\s*(https?:)?//", url))


def test_site_loads_nothing_from_the_network(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 20
    for path in pages:
        parser = _Resources()
        text = path.read_text(encoding="utf-8")
        parser.feed(text)
        external = [u for u in parser.loaded if _external(u)]
        external += re.findall(r"@import\s+url\(\s*['\"]?(https?:[^'\")]+)", text)
        assert not external, f"{path.relative_to(site)} loads {external}"
    for css in site.rglob("*.css"):
        text = css.read_text(encoding="utf-8")
        found = [u for u in re.findall(r"url\(\s*['\"]?([^'\")]+)", text) if _external(u)]
        found += re.findall(r"@import\s+['\"]?(https?:[^'\";]+)", text)
        assert not found, f"{css.relative_to(site)} loads {found}"


def test_new_pages_join_the_nav_without_an_edit(site):
    home = re.sub(r"\s+", " ", _page(site, ""))

    def section(title: str, after: str) -> str:
        start = home.index(f"> {title} <")
        return home[start : home.index(f"> {after} <", start)]

    # the dummy guide lands in the Guides section by the "*.md" glob, the dummy stage under Reference
    assert "Dummy guide" in section("Guides", "Reference")
    reference = section("Reference", "Python API")
    assert "Dummy stage" in reference and "Configuration reference" in reference
    assert (site / "zz-dummy-guide" / "index.html").exists()


def test_stage_references_and_api_pages_are_built(site):
    for stage in ("prepare", "detect", "rank", "sites", "maps", "report", "evaluate"):
        assert "<h1" in _page(site, f"reference/{stage}")
    api = _page(site, "api/detect")
    for name in ("hotspot_gistar", "hotspot_kde", "DetectResult", "DetectConfig"):
        assert name in api, f"{name} is not on the detect API page"
    cli = _page(site, "cli")
    for command in ("check", "run", "evaluate"):
        assert f'id="hotspots-{command}"' in cli
    assert "detect/gistar.py" in _page(site, "development")


def test_nav_resolution():
    nav = _hook("nav")
    pages = ["index.md", "a.md", "b.md", "new.md", "reference/x.md", "reference/y.md", "api/z.md"]
    resolved = nav.resolve_nav(
        [
            {"Home": "index.md"},
            {"Guides": ["a.md", "missing.md", "*.md"]},
            {"Reference": [{"X": "reference/x.md"}, "reference/*.md"]},
            {"Gone": ["absent.md"]},
            {"Link": "https://example.org/"},
        ],
        pages,
    )
    assert resolved == [
        {"Home": "index.md"},
        {"Guides": ["a.md", "b.md", "new.md"]},
        {"Reference": [{"X": "reference/x.md"}, "reference/y.md"]},
        {"Link": "https://example.org/"},
        {"More": ["api/z.md"]},
    ]


# --------------------------------------------------------------------------------------
# the README
# --------------------------------------------------------------------------------------


def test_readme_is_a_front_page():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    assert CI_TEST_COMMAND in text, "the README must keep the test command .ci/run calls"
    assert CI_TEST_COMMAND in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for audience in ("analyst", "outreach coordinator", "Strategic Board"):
        assert audience in text
    for command in ("hotspots init", "hotspots fetch", "hotspots run --config"):
        assert command in text


def test_readme_links_and_screenshot_exist():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [t for t in targets if not _external(t) and not t.startswith("mailto:")]
    assert local
    for target in local:
        assert (ROOT / target).exists(), f"README links to {target}, which does not exist"
    image = ROOT / "docs" / "img" / "board-map.png"
    assert image.stat().st_size < 300_000
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
