"""The Board report: one self-contained HTML page and PNG figures for board packs.

:func:`build_report` turns the run's frames into a :class:`Report` (the HTML text and
the PNG bytes of each figure) without touching the disk; :func:`run_stage` writes
``OUT/report.html`` and ``OUT/figures/*.png``. The figure functions
(:func:`top_places_figure`, :func:`districts_figure`, :func:`concentration_figure`,
:func:`monthly_trend_figure`, :func:`coverage_figure`; defined in :mod:`hotspots.present.report.figures`)
are pure: frames in, a matplotlib :class:`~matplotlib.figure.Figure` out, drawn on the
non-interactive Agg canvas (no pyplot, no global backend switch). The tables and the
number formatting they share with the page (:func:`lsoa_counts`, :func:`district_summary`,
:func:`fmt_count`, ...) are defined in :mod:`hotspots.present.report.tables`; all of these are
importable from here (``__all__``).

The page needs nothing but a browser: no script at all, plain CSS, figures inlined as
``data:image/png;base64`` URIs, and a Content-Security-Policy that forbids every
network request, so it opens by double-click on a locked-down laptop and is safe to
e-mail. The template is rendered by Jinja2 with autoescape on: a place or venue name
such as ``<script>`` is shown as text. Counts of incidents under ``small_count`` (5)
are shown as ``"<5"``, in tables and inside the places' reasons (Board disclosure control).

Districts and the headline concentration are compared like for like, on the sources
that cover every district (:func:`force_wide_sources`): a City-only extract pooled with
force-wide data would make the City look worse for a reason that is only about which
data exist.

A section whose input is absent (no monthly data, the sites stage not run, ...) says
so in words; it never shows a placeholder number.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape
from matplotlib.figure import Figure

from hotspots import __version__
from hotspots import columns as C
from hotspots.detect.emerging import EMERGING_CLASS, EMERGING_CLASSES
from hotspots.detect.emerging import NOT_ANALYSED as EMERGING_NOT_ANALYSED
from hotspots.detect.gistar import CLASSES, HOTSPOT_CLASS, HOTSPOT_CLASSES, NOT_ANALYSED
from hotspots.detect.stage import DetectResult
from hotspots.evaluate.change_stage import ChangeResult
from hotspots.prepare.scope import SCOPE_CATEGORIES
from hotspots.prepare.study import Study
from hotspots.present.change_page import change_context
from hotspots.present.report.config import ReportConfig
from hotspots.present.report.figures import (
    SOURCE_LINE,
    city_label,
    city_name,
    concentration_figure,
    coverage_figure,
    districts_figure,
    figure_png,
    monthly_trend_figure,
    top_places_figure,
)
from hotspots.present.report.tables import (
    DISTRICT_COLUMNS,
    KIT_CUMULATIVE,
    KIT_MARGINAL,
    KIT_NAME,
    KIT_ORDER,
    KIT_SOURCE,
    LSOA_COUNT_COLUMNS,
    MONTHLY_COLUMNS,
    PLACE_P_TOP_N,
    PLACE_RANK,
    PLACE_RANK_HIGH,
    PLACE_RANK_LOW,
    PLACE_REASON,
    PLACE_TIER,
    TOP_SHARE,
    district_summary,
    fmt_count,
    fmt_num,
    fmt_pct,
    force_wide_sources,
    is_tier1,
    lsoa_counts,
    lsoa_wards,
    mask_small_counts,
    monthly_counts,
    require_columns,
    tier_label,
    top_share,
)
from hotspots.rank import concentration as evaluate
from hotspots.rank.stage import RankResult
from hotspots.sites.stage import SitesResult
from hotspots.steps import step

__all__ = [
    "ATTRIBUTION",
    "DISTRICT_COLUMNS",
    "FIGURES_DIR",
    "FIGURE_FILES",
    "FIGURE_TITLES",
    "LSOA_COUNT_COLUMNS",
    "MONTHLY_COLUMNS",
    "REPORT_FILE",
    "TEMPLATE",
    "TEMPLATE_DIR",
    "TOP_SHARE",
    "Report",
    "ReportConfig",
    "build_report",
    "concentration_figure",
    "coverage_figure",
    "district_summary",
    "districts_figure",
    "figure_png",
    "fmt_count",
    "force_wide_sources",
    "is_tier1",
    "lsoa_counts",
    "lsoa_wards",
    "mask_small_counts",
    "monthly_counts",
    "monthly_trend_figure",
    "report",
    "top_places_figure",
    "top_share",
]

log = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE = "report.html.j2"

REPORT_FILE = "report.html"
FIGURES_DIR = "figures"
FIGURE_FILES: dict[str, str] = {
    "top_places": "top_places.png",
    "districts": "districts.png",
    "concentration": "concentration.png",
    "monthly_trend": "monthly_trend.png",
    "coverage_curve": "coverage_curve.png",
}
"""Figure name -> file name under ``OUT/figures/``."""
FIGURE_TITLES: dict[str, str] = {
    "top_places": "top places with rank intervals",
    "districts": "incidents per 1,000 residents by district",
    "concentration": "concentration (Lorenz) curve over LSOAs",
    "monthly_trend": "incidents per month by source",
    "coverage_curve": "bleed-kit coverage curve",
}

ATTRIBUTION = [  # the default; a loaded study gives its own (study.attribution: only the data it used)
    "Crime: Contains public sector information licensed under the Open Government Licence v3.0 (data.police.uk).",
    "Boundaries: Source: Office for National Statistics licensed under the OGL v3.0. Contains OS data © Crown "
    "copyright and database right 2011/2022.",
    "Deprivation: English Indices of Deprivation 2019, Ministry of Housing, Communities & Local Government (MHCLG), "
    "licensed under the Open Government Licence v3.0.",
    "Venues: Open Pubs (GetTheData, from Food Standards Agency food hygiene ratings and the ONS Postcode Directory), "
    "licensed under the Open Government Licence v3.0; contains OS data © Crown copyright and database right, Royal "
    "Mail data © Royal Mail copyright and database right, and National Statistics data © Crown copyright and "
    "database right.",
]
"""Attribution lines printed in the report and on every figure's source line (shortened)."""


@dataclass
class Report:
    """A rendered report: the HTML text, each figure's PNG bytes, and the key numbers."""

    html: str
    figures: dict[str, bytes] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


def _png_size(png: bytes) -> tuple[int, int]:
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


# --------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------


def _pivot_hotspots(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Gi* class counts as a table: one row per class, one column per unit (grid cells, LSOAs)."""
    units = list(dict.fromkeys(r["unit"] for r in rows))
    if not units:
        return {"units": [], "rows": []}
    totals = {r["unit"]: r["of"] for r in rows}
    body = []
    for cls in CLASSES:
        cells = {r["unit"]: r["count"] for r in rows if r["cls"] == cls}
        if all(c == "0" for c in cells.values()) and (cls.startswith("cold") or cls == NOT_ANALYSED):
            continue
        body.append({"cls": cls, "counts": [cells.get(u, "") for u in units]})
    return {"units": [f"{u} (of {totals[u]:,})" for u in units], "rows": body}


def _auto_rows(auto: dict[str, dict[str, Any]]) -> list[dict[str, str]]:
    rows = []
    for stage, params in (auto or {}).items():
        for k, v in (params or {}).items():
            if isinstance(v, float):
                text = f"{v:,.4g}"
            elif isinstance(v, (dict, list, tuple)):
                text = json.dumps(v, default=str)
            else:
                text = str(v)
            if len(text) > 160:
                text = text[:157] + "..."
            rows.append({"stage": stage, "param": str(k), "value": text})
    return rows


def _methods(results: dict[str, Any]) -> list[str]:
    m = [
        "Incidents are police.uk street-level crimes in the VRU's scope (violence and sexual offences, robbery, "
        "possession of weapons), each with a harm weight from the ONS Crime Severity Score (category-level proxies).",
    ]
    if "grid" in results:
        m.append(
            "Hot spots: a regular grid over the area; kernel density estimation (KDE) of harm-weighted incidents; "
            "Getis-Ord Gi* with Benjamini-Hochberg false discovery rate control, classed as hot or cold at 99, 95 "
            "and 90 % confidence (Getis & Ord 1992; Ord & Getis 1995; Chainey 2014)."
        )
    if "places" in results:
        m.append(
            "Place ranking: each LSOA's composite score combines harm-weighted violence, hotspot strength, "
            "night-time-economy exposure, deprivation (IMD recomputed without its Crime domain, to avoid "
            "double-counting) and youth need; Monte Carlo draws resample counts (Poisson) and perturb the weights "
            "to give each place's rank interval and its chance of being in the top group."
        )
    if "emerging" in results:
        m.append(
            "Emerging hot spots: Gi* per month on the grid and a Mann-Kendall trend test per cell, classed with the "
            "ArcGIS Emerging Hot Spot Analysis categories (new, consecutive, intensifying, persistent, ...)."
        )
    if "bleed_kits" in results:
        m.append(
            "Bleed-control kits: a maximal covering location model (Church & ReVelle 1974) solved exactly, choosing "
            "sites that maximise the harm-weighted violence within a short walk; kits are listed in order of the "
            "harm each adds."
        )
    return m


def build_report(
    study: Any,
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
) -> Report:
    """Build the Board report from a study and the stages' results, without writing anything.

    Parameters
    ----------
    study
        The :class:`hotspots.prepare.study.Study` (``incidents``, ``lsoa``, ``coverage``,
        ``caveats``, ``period``, ``config``).
    results
        The run's results by name (``"places"``, ``"lsoa"``, ``"grid"``, ``"emerging"``,
        ``"bleed_kits"``, ``"coverage_curve"``); any may be absent and its section says so.
    auto
        Automatically chosen parameters by stage (listed under Methods).
    title
        Page title (default ``"<study name>: serious violence hot spots"``).
    top
        Number of top places listed and drawn, and the top-N cut of the district table.
    small_count
        Counts below it are shown as ``"<small_count"``.
    dpi
        PNG resolution.
    radius
        Bleed-kit walking radius (metres), for the coverage figure.
    extra
        The stages' manifest entries by stage (``ctx.extra``): the sites stage's radius
        sensitivity and kits-for-target answer, the detect stage's note when emerging hot
        spots were not analysed.
    created
        Date stamp shown on the page (default today, UTC).
    change
        The "What changed" section (:func:`hotspots.present.change_page.change_context`); None
        (no ``[change]`` section) leaves it out.

    Returns
    -------
    Report
        ``html`` (the whole page), ``figures`` (name -> PNG bytes, see
        :data:`FIGURE_FILES`), ``summary`` (the headline numbers as plain values).

    Raises
    ------
    InputError
        A stage result lacks a column the report needs (the message names it).
    """
    b = _Builder(study, results, top=top, small=small_count, dpi=dpi, radius=radius, extra=extra or {})
    name = study.name or "Study area"
    title = title or f"{name}: serious violence hot spots"
    created = created or _dt.datetime.now(_dt.UTC).strftime("%d %B %Y")
    variables: dict[str, Any] = {}
    for section in (
        b.scope_and_sources,
        b.places,
        b.comparison_basis,
        b.districts,
        b.concentration,
        b.hotspots,
        b.trend,
        b.emerging,
        b.kits,
    ):
        with step(section.__name__):
            variables.update(section())
    variables["headline"] = b.headline()
    variables["key_points"] = b.key_points()
    fig_ctx: dict[str, Any] = {}
    for key, png in b.figures.items():
        w, h = _png_size(png)
        fig_ctx[key] = {
            "uri": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
            "width": round(w * 96 / dpi),
            "height": round(h * 96 / dpi),
            "caption": b.captions.get(key, _CAPTIONS[key]),
        }
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    html = env.get_template(TEMPLATE).render(
        title=title,
        study_name=name,
        period=study.period,
        created=created,
        version=__version__,
        small_count=small_count,
        top=top,
        methods=_methods(results),
        auto_rows=_auto_rows(auto or {}),
        caveats=_caveats(study),
        attribution=getattr(study, "attribution", ATTRIBUTION),
        figures=_Figs(fig_ctx),
        change=change,
        **variables,
    )
    return Report(html=html, figures=b.figures, summary=b.summary)


@dataclass
class _Builder:
    """Builds each section's template variables, figures and summary numbers."""

    study: Any
    results: dict[str, Any]
    top: int
    small: int
    dpi: int
    radius: float | None
    extra: dict[str, Any]
    figures: dict[str, bytes] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.cities = list(getattr(self.study, "city_districts", []))
        self.source = str(getattr(self.study, "source_line", SOURCE_LINE))
        self.inc = self.study.incidents
        self.counts = lsoa_counts(self.inc, self.study.lsoa)
        self.counts_cmp = self.counts
        self.summary.update({"incidents": len(self.inc), "period": self.study.period})

    @property
    def several_sources(self) -> bool:
        """True when the incidents come from more than one source."""
        return len(self.inc) > 0 and self.inc[C.SOURCE].nunique() > 1

    def count(self, n: Any) -> str:
        return fmt_count(n, small=self.small)

    def add_figure(self, key: str, fig: Figure) -> None:
        self.figures[key] = figure_png(fig, dpi=self.dpi)

    def scope_and_sources(self) -> dict[str, Any]:
        inc, rows, sources = self.inc, [], []
        if len(inc):
            g = inc.groupby(C.SCOPE)
            harm = g[C.HARM].sum()
            for sc, n in g.size().sort_values(ascending=False).items():
                rows.append(
                    {
                        "scope": str(sc),
                        "description": SCOPE_CATEGORIES.get(str(sc), ""),
                        "n": self.count(n),
                        "harm": fmt_num(harm[sc], 0),
                    }
                )
            self.summary["by_scope"] = {str(k): int(v) for k, v in g.size().items()}
        cov = self.study.coverage
        if cov is not None and len(cov):
            for r in cov.itertuples(index=False):
                sources.append(
                    {
                        "source": r.source,
                        "first_month": r.first_month,
                        "last_month": r.last_month,
                        "months": int(r.months),
                        "scope": r.scope,
                        "incidents": self.count(r.incidents),
                        "lsoas": f"{int(r.lsoas):,}",
                    }
                )
        used = list(self.study.config.study.sources)
        if used:
            note = (
                "Place analyses (hot spots, ranking, bleed-control kits, outreach) use only "
                f"{', '.join(used)} ([study] sources), so that places are compared on the same evidence; "
                "every source feeds the monthly trend and the emerging hot spots where named."
            )
        else:
            note = (
                "The sources cover different periods, offences and areas (above) and are pooled for the hot spot and "
                "ranking analysis. Counts are therefore not a single year of all violence; compare places and "
                "districts, not totals with other publications."
            )
        return {"scope_rows": rows, "sources": sources, "sources_note": note}

    def places(self) -> dict[str, Any]:
        places = self.results.get("places")
        rows: list[dict[str, str]] = []
        p_top_label = "the top group"
        if places is not None and len(places):
            require_columns(
                places,
                [C.LSOA_CODE, PLACE_RANK, PLACE_RANK_LOW, PLACE_RANK_HIGH, PLACE_TIER, PLACE_REASON],
                "results['places']",
            )
            n_by_code = self.counts.set_index(C.LSOA_CODE)["n"]
            ward_of = lsoa_wards(self.study.lsoa, getattr(self.study, "wards", None))
            p = places.sort_values(PLACE_RANK)
            top_n = (getattr(places, "attrs", {}).get("rank") or {}).get("top_n")
            if top_n:
                p_top_label = f"the top {int(top_n)}"
            for r in p.head(self.top).to_dict("records"):
                code = str(r[C.LSOA_CODE])
                n = r["n"] if "n" in r and pd.notna(r["n"]) else n_by_code.get(code, 0)
                rows.append(
                    {
                        "rank": f"{int(r[PLACE_RANK])}",
                        "name": str(r.get(C.LSOA_NAME, code)),
                        "code": code,
                        "district": str(r.get(C.DISTRICT, "")),
                        "ward": str(ward_of.get(code, "")),
                        "tier": tier_label(r[PLACE_TIER]),
                        "css": "tier1" if is_tier1(r[PLACE_TIER]) else "",
                        "interval": f"{int(r[PLACE_RANK_LOW])}–{int(r[PLACE_RANK_HIGH])}",
                        "p_top": fmt_pct(r.get(PLACE_P_TOP_N), 0),
                        "n": self.count(n),
                        "reason": mask_small_counts(str(r[PLACE_REASON]), small=self.small),
                    }
                )
            self.add_figure("top_places", top_places_figure(p, top=self.top, source=self.source))
            self.summary["tier1_places"] = int(p[PLACE_TIER].map(is_tier1).sum())
            self.summary["top_places"] = p.head(self.top)[C.LSOA_CODE].astype(str).tolist()
        return {"places_rows": rows, "p_top_label": p_top_label}

    def comparison_basis(self) -> dict[str, Any]:
        inc = self.inc
        fw = force_wide_sources(inc, self.study.lsoa)
        all_sources = list(dict.fromkeys(inc[C.SOURCE].astype(str))) if len(inc) else []
        partial = [src for src in all_sources if src not in fw]
        self.like_for_like = bool(fw and partial)
        self.partial = partial if fw else []
        note = ""
        if self.like_for_like:
            cmp_inc = inc[inc[C.SOURCE].isin(fw)]
            self.counts_cmp = lsoa_counts(cmp_inc, self.study.lsoa)
            note = (
                f"Like for like: these figures use only the sources that cover every district ({', '.join(fw)}; "
                f"{len(cmp_inc):,} incidents). Sources that cover part of the area ({', '.join(partial)}) are left "
                "out here, because they would make the districts they cover look worse."
            )
        elif partial:
            note = (
                "No source covers every district, so these figures pool all sources: districts are not "
                "compared like for like."
            )
        self.summary["comparison_sources"] = fw if self.like_for_like else all_sources
        return {"basis_note": note}

    def districts(self) -> dict[str, Any]:
        rows = []
        cnt = self.counts_cmp
        if cnt[C.DISTRICT].notna().any():
            dist = district_summary(cnt, places=self.results.get("places"), top_n=self.top, first=self.cities)
            for r in dist.to_dict("records"):
                rows.append(
                    {
                        "district": city_label(r[C.DISTRICT], self.cities),
                        "lsoas": f"{r['lsoas']:,}",
                        "population": fmt_num(r[C.POPULATION], 0),
                        "n": self.count(r["n"]),
                        "rate": fmt_num(r["rate_per_1000"], 1),
                        "harm_rate": fmt_num(r["harm_per_1000"], 1),
                        "top_n": "n/a" if pd.isna(r["top_n_places"]) else f"{int(r['top_n_places'])}",
                        "tier1": "n/a" if pd.isna(r["tier1_places"]) else f"{int(r['tier1_places'])}",
                        "share50": fmt_pct(r["share_lsoas_50"], 0),
                        "gini": fmt_num(r["gini"], 2),
                    }
                )
            if len(dist):
                fig = districts_figure(dist, small=self.small, cities=self.cities, source=self.source)
                self.add_figure("districts", fig)
                self.summary["districts"] = dist.to_dict("records")
                self.captions["districts"] = _districts_caption(self.cities)
        return {"district_rows": rows, "districts_intro": self.districts_intro(len(rows))}

    def districts_intro(self, n: int) -> str:
        """The district section's first sentence, from the data and ``[study] city_districts``."""
        v = getattr(self.study, "vintage", None)
        cities = [c for c in self.cities if c in set(self.counts_cmp[C.DISTRICT].dropna())]
        if cities:
            named = ", ".join(city_name(c, self.cities) for c in cities)
            area = f"{named} and the {n - len(cities)} other district{'s' if n - len(cities) != 1 else ''}."
        else:
            area = f"The {n} district{'s' if n != 1 else ''} of the study area."
        if v is None:
            return f"{area} No population is configured (no deprivation data), so there are no rates per resident."
        return f"{area} Rates are incidents per 1,000 residents ({v.name} mid-{v.population_year} population)."

    def concentration(self) -> dict[str, Any]:
        c = self.counts_cmp["n"].to_numpy(dtype=float)
        if c.sum() <= 0:
            return {"concentration": None}
        sh, k = top_share(c, TOP_SHARE)
        half = evaluate.share_holding(c, 0.5)
        sentence = (
            f"The busiest {100 * TOP_SHARE:.0f} % of LSOAs ({k} of {len(c):,}) hold {100 * sh:.1f} % of the "
            f"incidents in scope; half of all incidents are in {100 * half:.1f} % of LSOAs. The Gini coefficient "
            f"over LSOAs is {evaluate.gini(c):.2f} (generalised Gini for sparse counts, Bernasco & Steenbeek 2017: "
            f"{evaluate.generalised_gini(c):.2f})."
        )
        self.add_figure(
            "concentration",
            concentration_figure(evaluate.lorenz(c), share=TOP_SHARE, unit="LSOAs", source=self.source),
        )
        self.summary.update({"top5_share": sh, "top5_places": k, "share_lsoas_50": half})
        return {"concentration": {"sentence": sentence}}

    def hotspots(self) -> dict[str, Any]:
        rows = []
        for unit, key in (("grid cells", "grid"), ("LSOAs", "lsoa")):
            frame = self.results.get(key)
            if frame is not None and len(frame) and HOTSPOT_CLASS in frame.columns:
                vc = frame[HOTSPOT_CLASS].astype(str).value_counts()
                for cls in CLASSES:
                    rows.append({"unit": unit, "cls": cls, "count": f"{int(vc.get(cls, 0)):,}", "of": len(frame)})
                self.summary[f"gistar_{key}"] = {cls: int(vc.get(cls, 0)) for cls in CLASSES}
        return {"hotspot_table": _pivot_hotspots(rows)}

    def trend(self) -> dict[str, Any]:
        monthly = monthly_counts(self.inc)
        if not len(monthly) or not (monthly.groupby(C.SOURCE)[C.MONTH].nunique() > 1).any():
            return {"trend_sentence": ""}
        self.add_figure("monthly_trend", monthly_trend_figure(monthly, source=self.source))
        cov = self.study.coverage
        spans = (
            [f"{r.source} {r.first_month} to {r.last_month}" for r in cov.itertuples(index=False)]
            if cov is not None
            else []
        )
        return {
            "trend_sentence": (
                "Each panel is one source; the sources cover different periods ("
                + "; ".join(spans)
                + "), so their lines are not one continuous series. Month is the finest date police.uk publishes."
            )
        }

    def emerging(self) -> dict[str, Any]:
        emerging = self.results.get("emerging")
        out: dict[str, Any] = {
            "emerging_rows": [],
            "emerging_sentence": "",
            "emerging_absent": "the detect stage did not produce one",
        }
        note = (self.extra.get("detect") or {}).get("emerging")
        if emerging is None or EMERGING_CLASS not in getattr(emerging, "columns", []) or not len(emerging):
            if isinstance(note, str):
                out["emerging_absent"] = note
            elif emerging is not None:
                out["emerging_absent"] = "the emerging hot spot analysis returned no cells"
            return out
        vc = emerging[EMERGING_CLASS].astype(str).value_counts()
        analysed = int(len(emerging) - vc.get(EMERGING_NOT_ANALYSED, 0))
        order = [c for c in EMERGING_CLASSES if vc.get(c, 0) > 0]
        order += sorted(c for c in vc.index if c not in EMERGING_CLASSES and c != EMERGING_NOT_ANALYSED)
        hot = int(sum(v for k, v in vc.items() if k.endswith("hot spot")))
        cold = int(sum(v for k, v in vc.items() if k.endswith("cold spot")))
        attrs = getattr(emerging, "attrs", {}) or {}
        src, months = attrs.get("source"), (attrs.get("auto") or {}).get("months")
        out["emerging_rows"] = [{"cls": k, "cells": f"{int(vc[k]):,}"} for k in order]
        out["emerging_sentence"] = (
            "Gi* hot spots month by month on the grid, and the trend in each cell (Mann-Kendall)"
            + (f", from {src}" if src else "")
            + (f" ({months})" if months else "")
            + f": of {analysed:,} cells analysed, {hot:,} show a hot spot pattern and {cold:,} a cold spot pattern."
            + (
                f" The other {len(emerging) - analysed:,} grid cells lie outside the area this source covers and "
                "were not analysed."
                if analysed < len(emerging)
                else ""
            )
        )
        self.summary["emerging"] = {str(k): int(v) for k, v in vc.items()}
        return out

    def kits(self) -> dict[str, Any]:
        kits = self.results.get("bleed_kits")
        curve = self.results.get("coverage_curve")
        if kits is None or not len(kits):
            return {"kit_rows": [], "kits_sentence": ""}
        require_columns(kits, [KIT_ORDER, KIT_NAME, KIT_SOURCE, KIT_MARGINAL, KIT_CUMULATIVE], "results['bleed_kits']")
        ks = kits.sort_values(KIT_ORDER)
        where = self.where(ks)
        rows = [
            {
                "order": f"{int(r[KIT_ORDER])}",
                "name": "" if pd.isna(r[KIT_NAME]) else str(r[KIT_NAME]),
                "where": w,
                "source": str(r[KIT_SOURCE]),
                "marginal": fmt_num(r[KIT_MARGINAL], 1),
                "cumulative": f"{float(r[KIT_CUMULATIVE]):.1f} %",
            }
            for r, w in zip(ks.to_dict("records"), where, strict=False)
        ]
        final_pct = float(ks[KIT_CUMULATIVE].iloc[-1])
        sentence = (
            f"{len(ks)} kits sited in order of value cover {final_pct:.1f} % of harm-weighted violence"
            + (f" within {self.radius:.0f} m" if self.radius else "")
            + ". The first kits add the most; the curve shows where extra kits stop adding much."
        )
        info = self.extra.get("sites") or {}
        parts = [
            f"{float(r['coverage_pct']):.1f} % at {float(r['radius_m']):.0f} m"
            for r in info.get("radius_sensitivity") or []
            if "coverage_pct" in r and "radius_m" in r
        ]
        if parts:
            sentence += f" With the same number of kits the share covered is {', '.join(parts)}."
        target = info.get("kits_for_target") or {}
        if target.get("kits") is not None and target.get("target_pct") is not None:
            sentence += (
                f" Covering {float(target['target_pct']):.0f} % of harm"
                + (f" within {float(target['radius_m']):.0f} m" if target.get("radius_m") else "")
                + f" would take {int(target['kits']):,} kits."
            )
            self.summary["kits_for_target"] = {"target_pct": target["target_pct"], "kits": int(target["kits"])}
        if curve is not None and len(curve):
            self.add_figure("coverage_curve", coverage_figure(curve, radius=self.radius, source=self.source))
        self.summary.update({"kits": len(ks), "kits_coverage_pct": final_pct})
        return {"kit_rows": rows, "kits_sentence": sentence}

    def where(self, sites: pd.DataFrame) -> list[str]:
        """Ward (where known) and district of each site from its ``x``/``y`` (BNG metres)."""
        if not {"x", "y"} <= set(sites.columns) or not len(sites):
            return [""] * len(sites)
        lsoa = self.study.lsoa
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(sites["x"], sites["y"]), crs=lsoa.crs)
        j = gpd.sjoin(pts, lsoa[[C.LSOA_CODE, C.DISTRICT, "geometry"]], how="left", predicate="within")
        j = j[~j.index.duplicated()]
        ward_of = lsoa_wards(lsoa, getattr(self.study, "wards", None))
        out = []
        for code, district in zip(j[C.LSOA_CODE], j[C.DISTRICT], strict=False):
            if pd.isna(code):
                out.append("")
                continue
            ward = ward_of.get(code)
            out.append(f"{ward} ward, {district}" if ward else str(district))
        return out

    def key_points(self) -> list[str]:
        """Plain sentences for the Board, each computed from the numbers in the report."""
        s, out = self.summary, []
        places = self.results.get("places")
        if places is not None and len(places) and C.DISTRICT in places.columns:
            top = places.sort_values(PLACE_RANK).head(self.top)
            by = top[C.DISTRICT].astype(str).map(lambda d: city_name(d, self.cities)).value_counts()
            if len(by) == 1:
                text = f"All {len(top)} top-ranked places are in {by.index[0]}."
            else:
                text = f"Of the {len(top)} top-ranked places, " + ", ".join(f"{v} in {k}" for k, v in by.items()) + "."
            ranked = set(self.study.analysis_incidents[C.SOURCE].astype(str))
            rank_partial = [src for src in self.partial if src in ranked]
            if rank_partial:
                text += (
                    f" The ranking pools every source, including some that cover only part of the area "
                    f"({', '.join(rank_partial)}), which favours the places they cover."
                )
            out.append(text)
            if "tier1_places" in s:
                out.append(f"{s['tier1_places']:,} places are in Tier 1, the Board's first priority.")
        if "gistar_lsoa" in s:
            hot99 = s["gistar_lsoa"].get(HOTSPOT_CLASSES[0], 0)
            out.append(f"{hot99:,} LSOAs are statistically significant hot spots at 99 % confidence (Gi*).")
        if "top5_share" in s:
            out.append(
                f"Violence is concentrated: the busiest {100 * TOP_SHARE:.0f} % of LSOAs hold "
                f"{100 * s['top5_share']:.0f} % of incidents"
                + (" (force-wide sources)." if self.like_for_like else ".")
            )
        dist = s.get("districts")
        if dist:
            d = pd.DataFrame(dist).dropna(subset=["rate_per_1000"])
            if len(d) > 1:
                hi, lo = d.loc[d["rate_per_1000"].idxmax()], d.loc[d["rate_per_1000"].idxmin()]
                out.append(
                    f"The highest rate is in {city_name(hi[C.DISTRICT], self.cities)} ({hi['rate_per_1000']:.1f} "
                    f"per 1,000 residents), the lowest in {city_name(lo[C.DISTRICT], self.cities)} "
                    f"({lo['rate_per_1000']:.1f})" + (", like for like." if self.like_for_like else ".")
                )
        if "kits" in s:
            out.append(
                f"{s['kits']} bleed-control kits placed in order of value would put {s['kits_coverage_pct']:.1f} % of "
                "harm-weighted violence within a short walk of one"
                + (f" ({self.radius:.0f} m)." if self.radius else ".")
            )
        return out

    def headline(self) -> list[dict[str, str]]:
        s = self.summary
        out = [
            {"value": self.count(len(self.inc)), "label": "incidents in scope"},
            {
                "value": self.study.period,
                "label": "data period (sources differ, see below)" if self.several_sources else "data period",
            },
        ]
        if "tier1_places" in s:
            out.append({"value": f"{s['tier1_places']:,}", "label": "places (LSOAs) in Tier 1"})
        else:
            out.append({"value": "not ranked", "label": "places in Tier 1: the rank stage did not run"})
        if "top5_share" in s:
            basis = "; force-wide sources)" if self.like_for_like else ")"
            out.append(
                {
                    "value": f"{100 * s['top5_share']:.0f} %",
                    "label": f"of incidents are in the top {100 * TOP_SHARE:.0f} % of places "
                    f"({s['top5_places']} LSOAs{basis}",
                }
            )
        if "kits" in s:
            out.append(
                {
                    "value": f"{s['kits']}",
                    "label": f"bleed-control kits sited, covering {s['kits_coverage_pct']:.1f} % of harm",
                }
            )
        else:
            out.append({"value": "not sited", "label": "bleed-control kits: the sites stage did not run"})
        return out


def _districts_caption(cities: list[str]) -> str:
    text = "Incidents in scope per 1,000 residents; the figure in brackets is the count."
    if cities:
        text += f" Darker bars: {', '.join(cities)} ([study] city_districts)."
    return text


def _caveats(study: Any) -> list[str]:
    """The study's caveats plus those about boundaries, deprivation and venues it does not already state."""
    out = list(study.caveats)
    said = " ".join(out).lower()
    code_column = str(getattr(study.config.boundaries, "lsoa_code_column", ""))
    year = {"LSOA11CD": "2011 ", "LSOA21CD": "2021 "}.get(code_column.upper(), "")
    out.append(
        f"Places are {year}Lower Layer Super Output Areas on the configured boundaries; rows whose LSOA code is of "
        "another vintage (newer police.uk files use 2021 codes) are assigned to these areas by location."
    )
    v = getattr(study, "vintage", None)
    if v is not None and v.name == "IoD2019":
        out.append(
            "The English Indices of Deprivation 2019 (IoD2019) mostly describe 2015/16; deprivation may have "
            "changed since."
        )
    elif v is not None:
        out.append(
            f"The {v.title} ({v.name}) describe the years before its publication (population mid-{v.population_year}); "
            "deprivation may have changed since."
        )
    snap = study.config.venues.snapshot if study.config.venues is not None else None
    if study.venues is not None and snap and "snapshot" not in said:
        out.append(f"The venue list is a {snap} snapshot: venues opened or closed since are not reflected.")
    return out


class _Figs(dict):
    """Figure lookup for the template: a missing figure is falsy, not an error."""

    def __getattr__(self, key: str) -> Any:
        return self.get(key)


_CAPTIONS = {
    "top_places": "Each dot is a place's rank; the line spans the 5th to 95th percentile of its rank over the "
    "Monte Carlo draws. Colour = tier.",
    "districts": "Incidents in scope per 1,000 residents; the figure in brackets is the count.",
    "concentration": "Concentration curve over LSOAs: for the busiest x % of places, the share of incidents they "
    "hold. The dashed line is an even spread.",
    "monthly_trend": "Incidents per month for each source and scope category. Sources cover different periods.",
    "coverage_curve": "Share of harm-weighted violence within the walking radius of at least one kit, as kits are "
    "added in order of value.",
}


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
        The ``[report]`` section (title, number of top places, small-count threshold, dpi).
    auto
        Every stage's automatic choices, listed under Methods.
    created
        Date stamp shown on the page (default today, UTC).
    changed
        The change stage's result (``[change]`` configured): adds the "What changed" section.

    Returns
    -------
    Report
        The page, its figures (PNG bytes) and the headline numbers.
    """
    from hotspots.present.maps.build import stage_results

    results = stage_results(detected, ranked, sited)
    if ranked is not None:
        results["district_profiles"] = ranked.districts
        results["concentration"] = ranked.concentration
    extra = {name: r.summary for name, r in (("detect", detected), ("rank", ranked), ("sites", sited)) if r is not None}
    return build_report(
        study,
        results,
        auto=auto,
        title=cfg.title,
        top=cfg.top,
        small_count=cfg.small_count,
        dpi=cfg.dpi,
        radius=sited.radius_m if sited is not None else None,
        extra=extra,
        created=created,
        change=None if changed is None else change_context(changed, small_count=cfg.small_count),
    )
