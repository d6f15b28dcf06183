"""Page 1, "The answer": where to act, how sure, what the data rest on, what changed, and the map.

Every sentence is computed from the run. The headline count is the incidents the places
rest on (the rank stage's ``evidence``: ``[study] sources``, institutions left out), each
source with its own period; never the total of every row loaded.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.present.report.context import Inputs, Parts
from hotspots.present.report.priority_map import priority_map_figure
from hotspots.present.report.sections.detection import HOT_99, class_counts
from hotspots.present.report.sections.places import PRIORITY_TIERS, Tier
from hotspots.present.report.text import (
    CALIBRATION_SOURCE,
    HOT_SPOT_CALIBRATION,
    RANK_INTERVAL_COVERAGE,
    inference_method,
    scopes_label,
)
from hotspots.rank.columns import ACT_NOW, PREVENT

NAMED = 3
"""Places named on page 1 for the first tier (and for the second)."""
NAMED_SECOND = NAMED


def _months(n: int) -> str:
    return f"{n} month{'s' if n != 1 else ''}"


def _period(v: dict[str, Any]) -> str:
    first, last = v.get("first_month"), v.get("last_month")
    if not first:
        return "no dated incidents"
    span = first if first == last else f"{first} to {last}"
    return f"{span}, {_months(int(v.get('months') or 0))}"


def _scopes(inp: Inputs) -> dict[str, str]:
    cov = inp.study.coverage
    if cov is None or not len(cov) or "scope" not in cov.columns:
        return {}
    return {str(r.source): scopes_label(r.scope) for r in cov.itertuples(index=False)}


def rests_on(inp: Inputs, *, short: bool = False) -> list[str]:
    """What the place analyses rest on, in sentences (``short``: page 1; else the appendix's full text)."""
    ev = inp.evidence()
    sources = ev.get("sources") or {}
    scopes = {} if short else _scopes(inp)
    parts = [
        f"{name}: {inp.count(v.get('incidents'))}"
        + (f" ({scopes[name]})" if scopes.get(name) else "")
        + f" in {_period(v)}"
        for name, v in sources.items()
    ]
    out = [f"The places rest on {int(ev.get('incidents') or 0):,} incidents: " + "; ".join(parts) + "."]
    left = int(ev.get("institutional_incidents_left_out") or 0)
    if left:
        summary = getattr(inp.study, "institutions_summary", None)
        kinds = (summary() if callable(summary) else {}).get("by_institution") or {}
        named = ", ".join(f"{k} {v}" for k, v in kinds.items())
        out.append(
            f"{left:,} more, recorded at institutions ({named or 'prisons, hospitals, police stations'}), are left "
            "out" + ("." if short else ": they say little about the street (listed in institutions.csv).")
        )
    months = {int(v.get("months") or 0) for v in sources.values()}
    if len(months) > 1:
        out.append(
            "The sources cover different periods, so this is not one year of violence"
            + ("; rates are a year per 1,000 residents, each source annualised by its own months.")
        )
    cov = inp.study.coverage
    others = [] if cov is None else [str(s) for s in cov["source"] if str(s) not in sources]
    if others and not short:
        out.append(
            f"Other sources loaded ({', '.join(others)}) are not used to rank places (they cover part of the area "
            "or another period); they feed the monthly trend and the emerging hot spots."
        )
    partial = inp.summary("rank").get("partial_coverage_sources") or []
    if partial:
        out.append(
            f"The ranking pools sources that cover only part of the area ({', '.join(partial)}), which favours "
            "the places they cover."
        )
    return out


def _names(tier: Tier, k: int, *, likely: bool) -> str:
    out = []
    for r in tier.rows[:k]:
        extra = [r["where"].split(",")[0]] if r["where"] else []
        if likely and r["likely"] != "n/a":
            extra.append(f"likely rank {r['likely']}")
        out.append(f"{r['name']}" + (f" ({'; '.join(extra)})" if extra else ""))
    return ", ".join(out)


def _stay_words(tier: Tier) -> str:
    """How many of the tier's places are likely to stay in it: their likely rank stays within it."""
    n, k = tier.count, tier.stay or 0
    if k == n:
        return f"All {n:,} are likely to stay in this tier: their likely ranks stay within the first {n:,}."
    if k == 0:
        return (
            f"None of the {n:,} is sure of its place: every likely rank reaches beyond the first {n:,}, so on "
            "these data the order among places could be chance."
        )
    return (
        f"{k:,} of the {n:,} are likely to stay in this tier (their likely ranks stay within the first {n:,}); "
        "the others' likely ranks reach beyond it, so they could fall out of it in a period as long again."
    )


def _districts(tier: Tier) -> str:
    return ", ".join(f"{n} in {d}" for d, n in tier.districts)


def where_to_act(inp: Inputs, tiers: list[Tier]) -> list[dict[str, str]]:
    """One paragraph per priority tier: how many places, what puts them there, where, the first few."""
    rank = inp.summary("rank")
    out = []
    for t in tiers:
        if t.tier not in PRIORITY_TIERS:
            continue
        head = f"{t.count:,} place{'s' if t.count != 1 else ''}"
        text = f"{t.short[:1].upper()}{t.short[1:]}"
        if t.tier == ACT_NOW:
            share = (rank.get("tiers") or {}).get("harm_share_act_now")
            text += f", holding {100 * float(share):.0f} % of it." if share is not None else "."
            if t.districts:
                text += f" {_districts(t)}."
            if t.rows:
                text += f" Most harm: {_names(t, NAMED, likely=True)}."
            if t.stay is not None:
                text += f" {_stay_words(t)}"
        else:
            text += "."
            if t.districts:
                text += f" {_districts(t)}."
            if t.rows:
                text += f" Highest need: {_names(t, NAMED_SECOND, likely=False)}."
            both = (rank.get("need") or {}).get("act_now_places_also_high_need")
            if both and t.tier == PREVENT:
                text += f" {int(both)} places to act now also have high need."
        out.append({"key": t.key, "name": t.name, "head": head, "text": text})
    return out


def hot_spot_short(inp: Inputs) -> str:
    """Page 1's sentence on "hot 99 %": how many, and what the test is worth (measured)."""
    method = inference_method(inp.auto.get("detect") or inp.summary("detect"))
    cal = HOT_SPOT_CALIBRATION.get(method)
    n = class_counts(inp.results.get("lsoa")).get(HOT_99)
    here = f" ({n:,} LSOAs here)" if n is not None else ""
    lead = f"“Hot 99 %”{here} means more harm around a place than chance would put there."
    if cal is None:
        return f"{lead} How often the test used calls one where there is none has not been measured."
    sims = f"on {cal.maps} maps of the example force simulated with no hot spot at all"
    if cal.ok("lsoa") and cal.ok("grid"):
        text = (
            f"{lead} The test was checked by simulation: {sims}, {cal.lsoa99:g} % of LSOA maps and "
            f"{cal.grid99:g} % of grid maps showed one ({CALIBRATION_SOURCE})."
        )
        return text + (f" But {cal.note}." if cal.note else "")
    if cal.ok("lsoa"):
        return (
            f"{lead} The test was checked by simulation: {sims}, {cal.lsoa99:g} % of LSOA maps showed one, but "
            f"{cal.grid99:g} % of grid maps did ({CALIBRATION_SOURCE}): read grid cells' “99 %” as the strongest "
            "class, not as 99 % confidence."
        )
    return (
        f"“Hot 99 %”{here} comes from a test that is not calibrated on sparse counts: {sims}, {cal.lsoa99:g} % of "
        f"LSOA maps still showed one ({CALIBRATION_SOURCE}). Read it as the strongest class, not as 99 % confidence."
    )


def how_sure(inp: Inputs) -> list[str]:
    """What the likely ranks and "hot 99 %" mean, and what those statements rest on."""
    out = []
    if inp.frame("places") is not None:
        if inp.axes:
            cov = RANK_INTERVAL_COVERAGE["axes"]
            out.append(
                "“Likely rank” is the range a place's harm rank should fall in next period, 9 times in 10. In "
                f"backtests on {cov.short} such ranges held for {100 * cov.next_month:.0f} % of places next month "
                f"and {100 * cov.next_quarter:.0f} % next quarter ({cov.source})."
            )
        else:
            cov = RANK_INTERVAL_COVERAGE["composite"]
            out.append(
                "Rank intervals here come from the composite score's Monte Carlo draws; in backtests on "
                f"{cov.data} they held for only {100 * cov.next_month:.0f} % of places next month ({cov.source}): "
                "read them as too narrow."
            )
    if inp.results.get("lsoa") is not None or inp.results.get("grid") is not None:
        out.append(hot_spot_short(inp))
    return out


def _map(inp: Inputs, parts: Parts, tiers: list[Tier]) -> None:
    places = inp.frame("places")
    if places is None:
        return
    study = inp.study
    names = {t.tier: f"{t.name} ({t.count:,})" for t in tiers}
    series = pd.Series(places["tier"].to_numpy(), index=places[C.LSOA_CODE].astype(str))
    kits = inp.frame("bleed_kits")
    fig, info = priority_map_figure(
        study.lsoa,
        series,
        tier_names=names,
        kits=kits,
        wards=getattr(study, "wards", None),
        title=f"Where to act: {study.name or 'the study area'}",
        source=inp.source_line,
    )
    win = info["window"]
    around = ""
    if win is not None:
        cx, cy = win.x0 + win.side / 2, win.y0 + win.side / 2
        hit = study.lsoa[study.lsoa.geometry.contains(shapely.Point(cx, cy))]
        if len(hit) and C.DISTRICT in hit.columns:
            around = f" around the centre of {hit[C.DISTRICT].iloc[0]}"
    first = next((t for t in tiers if t.tier == ACT_NOW), None)
    second = next((t for t in tiers if t.tier == PREVENT), None)
    alt = [f"Map of {study.name or 'the study area'} by LSOA."]
    if first is not None:
        alt.append(f"{first.count:,} places to {first.name.lower()} in vermillion ({_districts(first)}).")
    if second is not None:
        alt.append(f"{second.count:,} places to {second.name.lower()} in blue.")
    alt.append("The other places are grey.")
    if kits is not None:
        alt.append(
            f"{len(kits)} bleed-control kits are numbered dark squares"
            + (f"; {info['kits_in_window']} of them in the enlarged panel{around}." if win is not None else ".")
        )
    caption = (
        "Places by tier, in the colours of the interactive maps; numbered squares are the bleed-control kits in "
        "order of value; district names in black."
    )
    if win is not None:
        caption += f" The right panel enlarges the {win.side / 1000:.1f} km square marked on the left"
        caption += ", with ward names." if getattr(study, "wards", None) is not None else "."
    parts.add_figure("priority_map", fig, caption=caption, alt=" ".join(alt))


def _stats(inp: Inputs, tiers: list[Tier]) -> list[dict[str, str]]:
    out = []
    for t in tiers:
        if t.tier in PRIORITY_TIERS:
            out.append({"value": f"{t.count:,}", "label": f"places: {t.name.lower()}", "key": t.key})
    if not tiers:
        out.append({"value": "not ranked", "label": "places: the rank stage did not run"})
    kits = inp.frame("bleed_kits")
    if kits is not None and "cumulative_coverage_pct" in kits:
        pct = float(kits.sort_values(C.ORDER)["cumulative_coverage_pct"].iloc[-1])
        reach = f" within {inp.radius:.0f} m" if inp.radius else " within reach"
        out.append({"value": f"{len(kits)}", "label": f"bleed-control kits: {pct:.1f} % of harm{reach}"})
    else:
        out.append({"value": "not sited", "label": "bleed-control kits: the sites stage did not run"})
    ev = inp.evidence()
    srcs = ev.get("sources") or {}
    months = sorted(m for v in srcs.values() for m in (v.get("first_month"), v.get("last_month")) if m)
    span = f"{months[0]} to {months[-1]}" if months else "no dated incidents"
    out.append(
        {
            "value": f"{int(ev.get('incidents') or 0):,}",
            "label": f"incidents the places rest on ({len(srcs)} source{'s' if len(srcs) != 1 else ''}, "
            f"{span}; periods below)",
        }
    )
    return out


def answer_section(inp: Inputs, parts: Parts, tiers: list[Tier]) -> dict[str, Any]:
    """Template variables of page 1 and the priority map figure."""
    _map(inp, parts, tiers)
    ev = inp.evidence()
    parts.summary["evidence"] = {
        "incidents": int(ev.get("incidents") or 0),
        "sources": {k: dict(v) for k, v in (ev.get("sources") or {}).items()},
    }
    return {
        "stats": _stats(inp, tiers),
        "where": where_to_act(inp, tiers),
        "tier_defs": [{"name": t.name, "definition": t.definition, "count": f"{t.count:,}"} for t in tiers],
        "sure": how_sure(inp),
        "rests_on": rests_on(inp, short=True),
        "rests_on_full": rests_on(inp),
        "headline_incidents": int(ev.get("incidents") or 0),
        "kits_sentence_p1": _kits_p1(inp),
    }


def _kits_p1(inp: Inputs) -> str:
    kits = inp.frame("bleed_kits")
    if kits is None:
        return ""
    ks = kits.sort_values(C.ORDER)
    pct = float(ks["cumulative_coverage_pct"].iloc[-1]) if "cumulative_coverage_pct" in ks else np.nan
    reach = f" within {inp.radius:.0f} m" if inp.radius else ""
    text = f"{len(ks)} bleed-control kits, each where it adds the most, put {pct:.1f} % of the harm{reach} of a kit"
    if "alternatives" in ks.columns:
        text += (
            f"; {int((ks['alternatives'].fillna(0) > 0).sum())} of them could move to another site at almost no loss"
        )
    target = inp.summary("sites").get("kits_for_target") or {}
    if target.get("kits") is not None and target.get("target_pct") is not None:
        text += f". Reaching {float(target['target_pct']):.0f} % would take {int(target['kits']):,} kits"
    return text + "."
