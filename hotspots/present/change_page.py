"""The Board's page on change (``change.html``) and the "What changed" section of the run report.

:func:`change_context` turns a :class:`~hotspots.evaluate.change_stage.ChangeResult` into plain
sentences and table rows: what changed (the whole area's change with its interval, and the places
that changed), how sure we are (the test, the false discovery rate), what could have been seen
(the minimum detectable fall) and whether the pattern stayed the same; and, with interventions,
each one's impact. The template ``change_section.html.j2`` lays them out; it is included by
``change_page.html.j2`` (the standalone page of ``hotspots change``) and by the run report when
``[change]`` is configured, so the two never say different things.

The standalone page has no script, a Content-Security-Policy that blocks every network request,
fits A4 when printed and reflows on a phone. Counts under ``small_count`` are shown as "<5".
"""

from __future__ import annotations

import datetime as _dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hotspots import __version__
from hotspots.evaluate.area import ci_phrase, format_p
from hotspots.evaluate.change import FALL, NO_CLEAR_CHANGE, NO_DATA, RISE
from hotspots.evaluate.change_stage import ChangeResult

TEMPLATE_DIR = Path(__file__).resolve().parent / "report" / "templates"
"""The report's templates folder, which holds the change page and section too."""
PAGE_TEMPLATE = "change_page.html.j2"
SECTION_TEMPLATE = "change_section.html.j2"
UNIT_WORDS = {"lsoa": ("LSOA", "LSOAs"), "grid": ("grid cell", "grid cells"), "district": ("district", "districts")}
UNIT_TITLES = {
    "lsoa": ("LSOA", "an LSOA"),
    "grid": ("Grid cell", "a grid cell"),
    "district": ("District", "a district"),
}
TOP_ROWS = 10


def _count(v: Any, *, small: int, harm: bool) -> str:
    f = float(v)
    if harm:
        return f"{f:,.1f}"
    return f"<{small}" if small and 0 < f < small else f"{f:,.0f}"


def _pct(rr: float) -> str:
    if np.isnan(rr):
        return "n/a"
    if np.isinf(rr):
        return "new"
    return f"{100 * (rr - 1):+.0f} %"


def _interval(lo: float, hi: float) -> str:
    if np.isnan(lo) or np.isnan(hi):
        return "n/a"
    top = "no upper limit" if np.isinf(hi) else f"{100 * (hi - 1):+.0f} %"
    return f"{100 * (lo - 1):+.0f} % to {top}"


def _area_sentences(r: ChangeResult, what: str) -> list[str]:
    ac = r.area
    p = r.periods
    harm = r.measure == "harm"
    amount = (lambda v: f"{v:,.1f}") if harm else (lambda v: f"{v:,.0f}")
    direction = "fall" if ac.rate_ratio < 1 else "rise"
    move = "no change" if ac.rate_ratio == 1 else f"a {direction} of {abs(ac.pct_change):.0f} % per month"
    if not math.isfinite(ac.rate_ratio):
        return [f"Across {ac.label}, {what} went from {amount(ac.before)} to {amount(ac.after)}."]
    out = [
        f"Across {ac.label}, {what} went from {amount(ac.before)} in {p.before_months} months to "
        f"{amount(ac.after)} in {p.after_months} months: {move} "
        f"({100 * ac.confidence:.0f} % CI {ci_phrase(ac.lower, ac.upper)})."
    ]
    clear = ac.upper < 1 or ac.lower > 1
    sure = "more than chance would explain" if clear else "within what chance alone could produce"
    out.append(f"That is {sure} ({format_p(ac.p_value)}, allowing for month-to-month variation).")
    if r.comparison is not None:
        out.append(r.comparison.sentence)
    return out


def _unit_rows(r: ChangeResult, small: int) -> tuple[list[dict[str, str]], str]:
    t = r.table
    harm = r.measure == "harm"
    sig = t[t["change_class"].isin([FALL, RISE])].sort_values("p_value")
    one, many = UNIT_WORDS[r.units]
    if len(sig):
        shown = sig.head(TOP_ROWS)
        note = (
            f"The {len(shown)} {many if len(shown) > 1 else one} with the strongest evidence of change"
            + (f" (of {len(sig)})" if len(sig) > len(shown) else "")
            + "."
        )
    else:
        shown = t[t["change_class"] == NO_CLEAR_CHANGE].sort_values("p_value").head(5)
        note = (
            f"No {one} changed by more than chance would explain. The {len(shown)} closest to doing so are shown: "
            f"none of them is evidence of change on its own."
        )
    rows = [
        {
            "name": str(x.unit_name),
            "id": str(x.unit_id),
            "before": _count(x.before, small=small, harm=harm),
            "after": _count(x.after, small=small, harm=harm),
            "change": _pct(float(x.rate_ratio)),
            "interval": _interval(float(x.rr_lower), float(x.rr_upper)),
            "q": f"{x.q_value:.2g}",
            "cls": str(x.change_class),
        }
        for x in shown.itertuples()
    ]
    return rows, note


def _mde_sentences(r: ChangeResult, small: int) -> tuple[list[str], list[dict[str, str]]]:
    t = r.table
    p = r.periods
    cfg = r.config
    one, many = UNIT_WORDS[r.units]
    tested = t[t["change_class"] != NO_DATA]
    mde = tested["mde_pct"]
    ok = mde.notna()
    out: list[str] = []
    if ok.any():
        out.append(
            f"With {p.before_months} months before and {p.after_months} after, a fall smaller than "
            f"{mde[ok].median():.0f} % in a typical {one} (the median of those where any fall could be seen) "
            f"cannot be told from chance."
        )
        busiest = tested.loc[tested["before"].idxmax()]
        if np.isfinite(busiest["mde_pct"]):
            out.append(
                f"Even in the busiest {one}, {busiest['unit_name']}, a fall would have to be at least "
                f"{busiest['mde_pct']:.0f} % to be seen."
            )
    none = int((~ok).sum())
    if none:
        out.append(
            f"In {none:,} of the {len(tested):,} {many} with data no fall at all could be told from chance: "
            f"they have too few incidents."
        )
    alpha = cfg.mde_alpha if cfg.mde_alpha is not None else cfg.alpha
    out.append(
        f"These figures are for {100 * cfg.power:.0f} % power at a two-sided {100 * alpha:g} % level for one "
        f"{one} looked at on its own (before the correction for looking at many), allowing for month-to-month "
        f"variation; screening every {one} at once needs larger falls still."
    )
    harm = r.measure == "harm"
    busy = tested.sort_values("before", ascending=False).head(5)
    rows = [
        {
            "name": str(x.unit_name),
            "before": _count(x.before, small=small, harm=harm),
            "mde": f"{x.mde_pct:.0f} %" if np.isfinite(x.mde_pct) else "none",
        }
        for x in busy.itertuples()
    ]
    return out, rows


def _similarity(r: ChangeResult) -> list[str]:
    many = UNIT_WORDS[r.units][1]
    out = []
    s = r.sppt
    if np.isfinite(s.robust_s_index):
        out.append(
            f"Andresen's spatial point pattern test: {100 * s.robust_s_index:.0f} % of {many} with incidents hold a "
            f"similar share of the area's incidents in both periods (robust S index; {s.variant.split(';')[0]})."
        )
    if r.classes is not None:
        c = r.classes
        out.append(
            f"Gi* hot and cold spots: {100 * c.agreement:.0f} % of {many} are in the same class in both periods "
            f"(Cohen's kappa {c.kappa:.2f}; 1 = the same map, 0 = no more alike than chance)."
        )
    return out


def _impact_rows(r: ChangeResult, small: int) -> list[dict[str, str]]:
    if r.impact is None:
        return []
    rows = []
    for name, g in r.impact.groupby("intervention", sort=False):
        c = g[g["measure"] == "count"].iloc[0]
        h = g[g["measure"] == "harm"].iloc[0]
        control = pd.notna(c["control_before"])

        def wdd(x: pd.Series) -> str:
            if pd.isna(x["wdd"]):
                return "no control"
            return f"{x['wdd']:+,.0f} ({x['wdd_lower']:+,.0f} to {x['wdd_upper']:+,.0f}; {format_p(x['wdd_p'])})"

        rows.append(
            {
                "name": str(name),
                "periods": f"{c['before']} vs {c['after']}",
                "treated": f"{_count(c['treated_before'], small=small, harm=False)} → "
                f"{_count(c['treated_after'], small=small, harm=False)}",
                "control": f"{_count(c['control_before'], small=small, harm=False)} → "
                f"{_count(c['control_after'], small=small, harm=False)}"
                if control
                else "none",
                "wdd": wdd(c),
                "harm_wdd": wdd(h),
                "rvc": f"{_pct(c['ratio_vs_control'])} ({_interval(c['rvc_lower'], c['rvc_upper'])})"
                if control
                else "n/a",
                "mde": f"{c['mde_pct']:.0f} %" if np.isfinite(c["mde_pct"]) else "none",
                "verdict": str(c["verdict"]),
            }
        )
    return rows


def _sure(r: ChangeResult) -> str:
    article = UNIT_TITLES[r.units][1]
    many = UNIT_WORDS[r.units][1]
    lead = article[0].upper() + article[1:]
    one = UNIT_WORDS[r.units][0]
    return (
        f"{lead} is called a significant fall or rise only when its change is unlikely to be "
        f"chance: an exact test for each {UNIT_WORDS[r.units][0]}, allowing for how much its counts vary from month to "
        f"month, with the Benjamini-Hochberg correction so that at most about {100 * r.config.alpha:g} % of the "
        f"{many} called significant are expected to be false alarms. The interval is the range of changes per "
        f"month that fit each {one}'s own data ({100 * r.config.confidence:.0f} %), before that correction: "
        f"it can leave out 'no change' for {article} that is not significant once all the {many} tested are "
        "taken into account."
    )


def change_context(result: ChangeResult, *, small_count: int = 5) -> dict[str, Any]:
    """The sentences and rows of the change section (template ``change_section.html.j2``).

    Parameters
    ----------
    result
        The change stage's result.
    small_count
        Incident counts from 1 to this minus one are shown as "<small_count".

    Returns
    -------
    dict
        Plain strings and lists of row dicts (the template escapes every value).
    """
    r = result
    one, many = UNIT_WORDS[r.units]
    what = "harm" if r.measure == "harm" else "incidents"
    meta = r.table.attrs["change"]
    classes = meta["classes"]
    rows, rows_note = _unit_rows(r, small_count)
    mde_sentences, mde_rows = _mde_sentences(r, small_count)
    p = r.periods
    stats = [
        {"value": _pct(r.area.rate_ratio), "label": f"change in {what} per month across {r.area.label}"},
        {"value": f"{classes[FALL]:,}", "label": f"{many} with a significant fall"},
        {"value": f"{classes[RISE]:,}", "label": f"{many} with a significant rise"},
    ]
    ok = r.table["mde_pct"].dropna()
    if len(ok):
        stats.append({"value": f"{ok.min():.0f} %", "label": f"smallest fall that could be seen in any {one}"})
    return {
        "periods": f"before {p.before[0]} to {p.before[-1]} ({p.before_months} months with data); "
        f"after {p.after[0]} to {p.after[-1]} ({p.after_months} months with data)",
        "sources": ", ".join(r.sources),
        "measure": "harm (harm-weighted incidents)" if r.measure == "harm" else "incidents",
        "unit_one": one,
        "unit_title": UNIT_TITLES[r.units][0],
        "unit_many": many,
        "stats": stats,
        "headline": _area_sentences(r, what),
        "classes": (
            f"Of {meta['tested']:,} {many} with incidents, {classes[FALL]:,} show a significant fall and "
            f"{classes[RISE]:,} a significant rise; {classes[NO_CLEAR_CHANGE]:,} show no clear change. "
            f"{classes[NO_DATA]:,} had no incidents in either period."
        ),
        "sure": _sure(r),
        "rows": rows,
        "rows_note": rows_note,
        "mde": mde_sentences,
        "mde_rows": mde_rows,
        "similarity": _similarity(r),
        "interventions": _impact_rows(r, small_count),
        "notes": list(r.notes),
        "small_count": small_count,
    }


def change_page(result: ChangeResult, *, study_name: str, small_count: int = 5, created: str | None = None) -> str:
    """The Board's change page (``change.html``): self-contained HTML, no script.

    Parameters
    ----------
    result
        The change stage's result.
    study_name
        Shown in the title.
    small_count
        Counts below it are shown as "<small_count".
    created
        Date stamp (default today, UTC).
    """
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    return env.get_template(PAGE_TEMPLATE).render(
        change=change_context(result, small_count=small_count),
        study_name=study_name,
        created=created or _dt.datetime.now(_dt.UTC).strftime("%d %B %Y"),
        version=__version__,
    )
