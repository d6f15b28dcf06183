"""The Board report: one self-contained HTML page that leads with the answer, and its PNG figures.

:func:`report` (the pipeline stage) and :func:`build_report` (from a results dict) return a
:class:`Report` (the HTML, each figure's PNG bytes and the headline numbers) without touching
the disk; the pipeline writes ``OUT/report.html`` and ``OUT/figures/*.png``.

The page has two parts. **The Board report** (at most six A4 pages for the default run):
page 1 answers the Board's questions (where to act, how sure, what the data rest on, what
changed when ``[change]`` is configured) beside a static map of the priority places and kits;
then the places of each tier, the kits with their alternatives, districts and concentration,
hot spots, and a glossary. **The appendix** (from a new page) holds the sources, the full lists
of places with their reasons, the remaining figures, methods, automatic choices, caveats and
attribution. docs/report.md says where every number comes from.

The page needs nothing but a browser: no script, inline CSS, figures as ``data:image/png``
URIs with alt text, and a Content-Security-Policy that forbids every network request. Jinja2
renders it with autoescape on: a place or venue named ``<script>`` is shown as text. Counts
of incidents under ``small_count`` are shown as ``"<5"``, in tables and inside reasons.
Tables stack into labelled rows on a phone. A section whose input is absent says so in words.
"""

from __future__ import annotations

import base64
import datetime as _dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from hotspots import __version__
from hotspots.detect.stage import DetectResult
from hotspots.evaluate.change_stage import ChangeResult
from hotspots.prepare.study import Study
from hotspots.present.change_page import change_context
from hotspots.present.report.config import ReportConfig
from hotspots.present.report.context import Inputs, Parts
from hotspots.present.report.sections.answer import answer_section
from hotspots.present.report.sections.appendix import appendix_section
from hotspots.present.report.sections.detection import emerging_section, hot_spots_section, trend_section
from hotspots.present.report.sections.districts import districts_section
from hotspots.present.report.sections.kits import kits_section
from hotspots.present.report.sections.places import places_section, tiers
from hotspots.present.report.text import glossary
from hotspots.present.report.where_next import where_next_section
from hotspots.rank.stage import RankResult
from hotspots.sites.stage import SitesResult
from hotspots.steps import step

if TYPE_CHECKING:
    from hotspots.evaluate.forecast.stage import ForecastResult

__all__ = ["FIGURES_DIR", "FIGURE_FILES", "FIGURE_TITLES", "REPORT_FILE", "Report", "build_report", "report"]

log = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE = "report.html.j2"
REPORT_FILE = "report.html"
FIGURES_DIR = "figures"
FIGURE_FILES: dict[str, str] = {
    "priority_map": "priority_map.png",
    "top_places": "top_places.png",
    "coverage_curve": "coverage_curve.png",
    "districts": "districts.png",
    "concentration": "concentration.png",
    "monthly_trend": "monthly_trend.png",
}
"""Figure name -> file name under ``OUT/figures/``."""
FIGURE_TITLES: dict[str, str] = {
    "priority_map": "map of priority places and bleed-control kits",
    "top_places": "first places on harm with their likely ranks",
    "coverage_curve": "bleed-kit coverage curve",
    "districts": "incidents a year per 1,000 residents by district",
    "concentration": "concentration (Lorenz) curve over LSOAs",
    "monthly_trend": "incidents per month by source",
}
"""Figure name -> what it shows (the manifest's description of each PNG)."""
CSS_PX_PER_INCH = 96


@dataclass
class Report:
    """A rendered report: the HTML text, each figure's PNG bytes, and the key numbers."""

    html: str
    figures: dict[str, bytes] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels of PNG bytes (from the IHDR chunk)."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


class _Figs(dict):
    """Figure lookup for the template: a missing figure is falsy, not an error."""

    def __getattr__(self, key: str) -> Any:
        return self.get(key)


def _figure_context(parts: Parts, dpi: int) -> _Figs:
    out = _Figs()
    for key, png in parts.figures.items():
        w, h = png_size(png)
        out[key] = {
            "uri": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
            "width": round(w * CSS_PX_PER_INCH / dpi),
            "height": round(h * CSS_PX_PER_INCH / dpi),
            "caption": parts.text[key].caption,
            "alt": parts.text[key].alt,
        }
    return out


def build_report(
    study: Study,
    results: dict[str, Any],
    *,
    auto: dict[str, dict[str, Any]] | None = None,
    title: str | None = None,
    top: int = 20,
    small_count: int = 5,
    dpi: int = 150,
    radius: float | None = None,
    extra: dict[str, Any] | None = None,
    created: str | None = None,
    change: dict[str, Any] | None = None,
    where_next: dict[str, Any] | None = None,
) -> Report:
    """Build the Board report from a study and the stages' results, without writing anything.

    Parameters
    ----------
    study
        The :class:`hotspots.prepare.study.Study`.
    results
        The run's results by name (:data:`~hotspots.present.report.context.RESULT_KEYS`:
        ``"places"``, ``"districts"``, ``"concentration"`` from the rank stage; ``"grid"``,
        ``"lsoa"``, ``"emerging"`` from detect; ``"bleed_kits"``, ``"coverage_curve"``,
        ``"kit_alternatives"`` from sites); any may be absent and its section says so.
    auto
        Automatically chosen parameters by stage (listed in the appendix; the detect stage's
        says which hot spot test ran).
    title
        Page title (default ``"<study name>: serious violence hot spots"``).
    top
        Places listed per tier in the Board part.
    small_count
        Counts of incidents below it are shown as ``"<small_count"``.
    dpi
        PNG resolution.
    radius
        Bleed-kit walking radius (metres).
    extra
        The stages' manifest summaries by stage (``"detect"``, ``"rank"``, ``"sites"``).
    created
        Date stamp shown on the page (default today, UTC).
    change
        The "What changed" block (``[change]`` configured;
        :func:`hotspots.present.change_page.change_context`): its ``headline`` sentences on page 1
        and its section (``change_section.html.j2``); None leaves both out.
    where_next
        The forecast stage's report block (:mod:`hotspots.present.report.where_next`), placed
        after the kits, or None.

    Returns
    -------
    Report
        ``html`` (the whole page), ``figures`` (name -> PNG bytes, see :data:`FIGURE_FILES`),
        ``summary`` (the headline numbers as plain values).

    Raises
    ------
    InputError
        A stage result lacks a column the report needs (the message names it).
    """
    inp = Inputs(
        study=study,
        results=dict(results),
        auto=dict(auto or {}),
        extra=dict(extra or {}),
        top=top,
        small=small_count,
        dpi=dpi,
        radius=radius,
    )
    parts = Parts(dpi=dpi)
    all_tiers = tiers(inp)
    variables: dict[str, Any] = {}
    sections: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        ("answer", lambda: answer_section(inp, parts, all_tiers)),
        ("places", lambda: places_section(inp, parts, all_tiers)),
        ("kits", lambda: kits_section(inp, parts)),
        ("districts", lambda: districts_section(inp, parts)),
        ("hot_spots", lambda: hot_spots_section(inp, parts)),
        ("emerging", lambda: emerging_section(inp, parts)),
        ("trend", lambda: trend_section(inp, parts)),
        ("appendix", lambda: appendix_section(inp)),
    ]
    for section, build in sections:  # each section is a step: `hotspots -v run` times it
        with step(section):
            variables.update(build())
    name = study.name or "Study area"
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    html = env.get_template(TEMPLATE).render(
        title=title or f"{name}: serious violence hot spots",
        study_name=name,
        created=created or _dt.datetime.now(_dt.UTC).strftime("%d %B %Y"),
        version=__version__,
        small_count=small_count,
        glossary=glossary(study),
        figures=_figure_context(parts, dpi),
        change=change,
        where_next_html=where_next_section(where_next, small_count=small_count),
        **variables,
    )
    return Report(html=html, figures=dict(parts.figures), summary=parts.summary)


def stage_results(
    detected: DetectResult | None, ranked: RankResult | None, sited: SitesResult | None
) -> dict[str, Any]:
    """The stage results the report reads, by name (absent stages are left out)."""
    results: dict[str, Any] = {}
    if detected is not None:
        results.update(detected.layers())
        results["emerging"] = detected.emerging
    if ranked is not None:
        results["places"] = ranked.places
        results["districts"] = ranked.districts
        results["concentration"] = ranked.concentration
    if sited is not None:
        results["bleed_kits"] = sited.kits
        results["coverage_curve"] = sited.coverage_curve
        results["kit_alternatives"] = sited.alternatives
    return results


def report(
    study: Study,
    detected: DetectResult | None,
    ranked: RankResult | None,
    sited: SitesResult | None,
    cfg: ReportConfig,
    *,
    auto: dict[str, dict[str, Any]] | None = None,
    created: str | None = None,
    changed: ChangeResult | None = None,
    forecast: ForecastResult | None = None,
) -> Report:
    """Pipeline stage ``report``: the Board report from the stages' results (nothing is written).

    Parameters
    ----------
    study
        The loaded study.
    detected, ranked, sited
        The results of the detect, rank and sites stages (None where a stage did not run:
        its section says so).
    cfg
        The ``[report]`` section (title, places listed per tier, small-count threshold, dpi).
    auto
        Every stage's automatic choices (the appendix lists them).
    created
        Date stamp shown on the page (default today, UTC).
    changed
        The change stage's result (``[change]`` configured): "What changed" on page 1 and its
        section (:func:`hotspots.present.change_page.change_context`).
    forecast
        The forecast stage's result (:class:`hotspots.evaluate.forecast.stage.ForecastResult`): its
        "where next" block after the kits; None leaves it out.

    Returns
    -------
    Report
        The page, its figures (PNG bytes) and the headline numbers.
    """
    extra = {name: r.summary for name, r in (("detect", detected), ("rank", ranked), ("sites", sited)) if r is not None}
    return build_report(
        study,
        stage_results(detected, ranked, sited),
        auto=auto,
        title=cfg.title,
        top=cfg.top,
        small_count=cfg.small_count,
        dpi=cfg.dpi,
        radius=sited.radius_m if sited is not None else None,
        extra=extra,
        created=created,
        change=None if changed is None else change_context(changed, small_count=cfg.small_count),
        where_next=forecast.report_block() if forecast is not None else None,
    )
