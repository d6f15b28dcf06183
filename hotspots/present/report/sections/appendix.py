"""The appendix: sources, offence groups, institutions left out, methods, automatic choices, caveats.

Also the attribution; the full place lists come from :mod:`~hotspots.present.report.sections.places`.
"""

from __future__ import annotations

import json
from typing import Any

from hotspots import columns as C
from hotspots.present.report.context import Inputs
from hotspots.present.report.sections.detection import METHOD_LABELS
from hotspots.present.report.tables import fmt_num
from hotspots.present.report.text import (
    ATTRIBUTION,
    METHOD_TEXT,
    SCOPE_CATEGORIES,
    caveats,
    inference_method,
    plain,
    scope_label,
    scopes_label,
)

MAX_PARAM_CHARS = 160
"""Automatic choices longer than this are cut (the manifest has them whole)."""
MAX_INSTITUTION_ROWS = 15
"""Institutional snap points listed (the busiest; institutions.csv has them all)."""


def sources_rows(inp: Inputs) -> list[dict[str, str]]:
    """Every loaded source: its months, offence groups, incidents, LSOAs and what it is used for."""
    cov = inp.study.coverage
    if cov is None or not len(cov):
        return []
    used = set((inp.evidence().get("sources") or {}).keys())
    return [
        {
            "source": str(r.source),
            "months": f"{r.first_month} to {r.last_month}",
            "n_months": f"{int(r.months)}",
            "scope": scopes_label(r.scope),
            "incidents": inp.count(r.incidents),
            "lsoas": f"{int(r.lsoas):,}",
            "use": "places (ranking, kits, hot spots) and trend" if str(r.source) in used else "trend, emerging",
        }
        for r in cov.itertuples(index=False)
    ]


def scope_rows(inp: Inputs) -> list[dict[str, str]]:
    """Incidents and harm the places rest on, per offence group (plain names)."""
    study = inp.study
    pick = getattr(study, "place_incidents", None)
    inc = pick("rank") if callable(pick) else study.analysis_incidents
    if not len(inc):
        return []
    g = inc.groupby(C.SCOPE)
    harm = g[C.HARM].sum()
    return [
        {
            "scope": scope_label(sc),
            "description": plain(SCOPE_CATEGORIES.get(str(sc), "")),
            "n": inp.count(n),
            "harm": fmt_num(harm[sc], 0),
        }
        for sc, n in g.size().sort_values(ascending=False).items()
    ]


def institution_rows(inp: Inputs) -> list[dict[str, str]]:
    """The busiest institutional snap points of the place-analysis sources."""
    table = getattr(inp.study, "institutions", None)
    if table is None or not len(table):
        return []
    used = set((inp.evidence().get("sources") or {}).keys())
    t = table[table["sources"].astype(str).str.split(";").map(lambda s: bool(used & set(s)))] if used else table
    t = t.sort_values("incidents", ascending=False).head(MAX_INSTITUTION_ROWS)
    return [
        {
            "institution": str(r["institution"]),
            "location": str(r["location"]),
            "matched": str(r["matched_by"]),
            "sources": str(r["sources"]).replace(";", ", "),
            "incidents": inp.count(r["incidents"]),
        }
        for r in t.to_dict("records")
    ]


def methods(inp: Inputs) -> list[str]:
    """What each stage that ran did, in a sentence or two each."""
    res = inp.results
    out = [METHOD_TEXT["scope"], METHOD_TEXT["institutions"]]
    if res.get("grid") is not None or res.get("lsoa") is not None:
        method = inference_method(inp.auto.get("detect") or {})
        out.append(METHOD_TEXT["hot_spots"].format(method=METHOD_LABELS.get(method, method)))
    if inp.frame("places") is not None:
        out.append(METHOD_TEXT["axes" if inp.axes else "composite"])
    if inp.frame("emerging") is not None:
        out.append(METHOD_TEXT["emerging"])
    if inp.frame("bleed_kits") is not None:
        out.append(METHOD_TEXT["kits"])
    return out


def auto_rows(auto: dict[str, dict[str, Any]]) -> list[dict[str, str]]:
    """Every automatically chosen parameter as ``stage, parameter, value`` (long values cut)."""
    rows = []
    for stage, params in (auto or {}).items():
        for k, v in (params or {}).items():
            if isinstance(v, float):
                text = f"{v:,.4g}"
            elif isinstance(v, (dict, list, tuple)):
                text = json.dumps(v, default=str)
            else:
                text = str(v)
            if len(text) > MAX_PARAM_CHARS:
                text = text[: MAX_PARAM_CHARS - 3] + "..."
            rows.append({"stage": stage, "param": str(k), "value": text})
    return rows


def appendix_section(inp: Inputs) -> dict[str, Any]:
    """Template variables of the appendix (the place lists are added by the builder)."""
    return {
        "sources": sources_rows(inp),
        "scope_rows": scope_rows(inp),
        "institution_rows": institution_rows(inp),
        "methods": methods(inp),
        "auto_rows": auto_rows(inp.auto),
        "caveats": caveats(inp.study),
        "attribution": list(getattr(inp.study, "attribution", ATTRIBUTION)),
    }
