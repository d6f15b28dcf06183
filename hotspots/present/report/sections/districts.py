"""Section "Districts and concentration": rates a year with the residents' year, the Gini beside its chance floor.

Both come from the rank stage (:mod:`hotspots.rank.districts`, :mod:`hotspots.rank.concentration`),
computed on the incidents the places are ranked on: each source annualised by its own months,
so that a one-month and a twelve-month source are never added as if they covered the same time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.present.report.context import Inputs, Parts
from hotspots.present.report.figures import city_label, city_name, concentration_figure, districts_figure
from hotspots.present.report.tables import TOP_SHARE, fmt_num, fmt_pct, top_share
from hotspots.present.report.text import tier_words
from hotspots.rank import concentration as conc_mod
from hotspots.rank.columns import (
    GINI,
    GINI_FLOOR,
    HARM_PER_1000_YR,
    INCIDENTS_PER_1000_YR,
    POPULATION_YEAR,
)

TOTAL_ROW = "All"
"""The rank stage's whole-area row of ``districts.csv``."""
MONTHS_A_YEAR = 12
HALF = 0.5


def _intro(inp: Inputs, names: list[str]) -> str:
    """The districts named as the data name them; ``[study] city_districts`` first and called cities."""
    cities = [c for c in getattr(inp.study, "city_districts", []) if c in names]
    n = len(names)
    if cities:
        named = ", ".join(city_name(c, cities) for c in cities)
        return f"{named} and the {n - len(cities)} other district{'s' if n - len(cities) != 1 else ''}."
    return f"The {n} district{'s' if n != 1 else ''} of the study area."


def _population(inp: Inputs, d: pd.DataFrame) -> str:
    """The residents the rates are per, e.g. ``"IoD2019 mid-2015 population"``; empty without residents."""
    if C.POPULATION in d and not pd.to_numeric(d[C.POPULATION], errors="coerce").gt(0).any():
        return ""
    v = getattr(inp.study, "vintage", None)
    if v is not None:
        return f"{v.name} mid-{v.population_year} population"
    years = d[POPULATION_YEAR].dropna() if POPULATION_YEAR in d else pd.Series(dtype=object)
    return f"{years.iloc[0]} population" if len(years) else "residents"


def _rate_words(inp: Inputs, population: str) -> str:
    if not population:
        return "No population is configured (no deprivation data), so there are no rates per resident."
    ev = inp.evidence().get("sources") or {}
    short = [
        f"{s} ({int(v['months'])} month{'s' if int(v['months']) != 1 else ''})"
        for s, v in ev.items()
        if 0 < int(v.get("months") or 0) < MONTHS_A_YEAR
    ]
    text = (
        f"Rates are incidents a year per 1,000 residents ({population}): each source's incidents are multiplied "
        "by 12 over the months it covers before they are added up."
    )
    if short:
        text += (
            f" Annualising does not make a short source representative of a year: {', '.join(short)} "
            "stands for its months only."
        )
    return text


def _gini_words(conc: dict[str, Any], n: int) -> str:
    g = conc.get("gini")
    floor = conc.get("gini_chance_floor_residents") or {}
    if g is None or not np.isfinite(g):
        return ""
    text = f"The Gini of incidents over the area's LSOAs is {g:.2f}"
    mean, hi = floor.get("mean"), floor.get("high")
    if mean is None or not np.isfinite(mean):
        return text + " (no chance floor: no residents are known)."
    draws = int(floor.get("draws") or 0)
    text += (
        f", against a chance floor of {mean:.2f}: the Gini the same {n:,} incidents give when they fall at random "
        f"in proportion to residents ({draws} simulations"
        + (f", 95 % of them {floor['low']:.2f} to {hi:.2f}" if hi is not None and np.isfinite(hi) else "")
        + "). "
    )
    if hi is not None and np.isfinite(hi) and g > hi:
        text += "Violence is concentrated beyond what chance alone gives."
    else:
        text += "That is no more concentrated than chance alone gives."
    return text


def city_first(d: pd.DataFrame, cities: list[str]) -> pd.DataFrame:
    """``[study] city_districts`` first (in their order), the others as the rank stage sorts them, the total last."""
    first = {c: i for i, c in enumerate(cities)}
    key = [(name == TOTAL_ROW, first.get(name, len(first))) for name in d[C.DISTRICT].astype(str)]
    return d.iloc[sorted(range(len(d)), key=lambda i: key[i])]


def _rows(inp: Inputs, d: pd.DataFrame, tier_cols: list[tuple[str, str]]) -> list[dict[str, Any]]:
    cities = list(getattr(inp.study, "city_districts", []))

    rows = []
    for r in d.to_dict("records"):
        total = r[C.DISTRICT] == TOTAL_ROW
        rows.append(
            {
                "district": "Whole area" if total else city_label(r[C.DISTRICT], cities),
                "total": total,
                "n": inp.count(r.get("incidents")),
                "rate": fmt_num(r.get(INCIDENTS_PER_1000_YR), 1),
                "harm_rate": fmt_num(r.get(HARM_PER_1000_YR), 1),
                "tiers": ["n/a" if pd.isna(r.get(c)) else f"{int(r[c])}" for c, _ in tier_cols],
                "gini": fmt_num(r.get(GINI), 2),
                "floor": fmt_num(r.get(GINI_FLOOR), 2),
            }
        )
    return rows


def _districts_figure(inp: Inputs, parts: Parts, body: pd.DataFrame, population: str) -> None:
    hi = body.loc[body[INCIDENTS_PER_1000_YR].idxmax()]
    fig = districts_figure(
        body,
        small=inp.small,
        cities=list(getattr(inp.study, "city_districts", [])),
        source=inp.source_line,
        unit=f"Incidents a year per 1,000 residents ({population})",
    )
    parts.add_figure(
        "districts",
        fig,
        caption=f"Incidents ranked, a year per 1,000 residents ({population}); the figure in brackets "
        "is the count over the sources' own periods.",
        alt=f"Bar chart of incidents a year per 1,000 residents in {len(body)} districts; highest "
        f"{hi[C.DISTRICT]} at {hi[INCIDENTS_PER_1000_YR]:.1f}.",
    )
    parts.summary["districts"] = body[[C.DISTRICT, INCIDENTS_PER_1000_YR, GINI, GINI_FLOOR]].to_dict("records")


def _concentration(inp: Inputs, parts: Parts, counts: np.ndarray, conc: dict[str, Any]) -> str:
    """The share held by the busiest places, in words, and the concentration figure."""
    sh, k = top_share(counts, TOP_SHARE)
    half = conc.get("share_places_50pct", conc_mod.share_holding(counts, HALF))
    parts.summary.update({"top5_share": sh, "top5_places": k})
    lorenz = conc.get("lorenz")
    if isinstance(lorenz, pd.DataFrame) and len(lorenz):
        floor = (conc.get("gini_chance_floor_residents") or {}).get("mean")
        parts.add_figure(
            "concentration",
            concentration_figure(lorenz, share=TOP_SHARE, gini=conc.get("gini"), floor=floor, source=inp.source_line),
            caption="For the busiest x % of LSOAs, the share of incidents they hold; the dashed line is an even "
            "spread. The chance floor is the Gini of the same incidents placed at random by residents.",
            alt=f"Concentration curve: the busiest {100 * TOP_SHARE:.0f} % of LSOAs hold {100 * sh:.0f} % of "
            "the incidents ranked.",
        )
    return (
        f"The busiest {100 * TOP_SHARE:.0f} % of LSOAs ({k} of {len(counts):,}) hold {100 * sh:.0f} % of the "
        f"incidents ranked; half of them are in {fmt_pct(half)} of LSOAs."
    )


def districts_section(inp: Inputs, parts: Parts) -> dict[str, Any]:
    """Template variables of "Districts and concentration" and the districts and concentration figures."""
    d = inp.frame("districts")
    if d is None or INCIDENTS_PER_1000_YR not in d.columns:
        return {"district_rows": []}
    conc = inp.results.get("concentration") or {}
    places = inp.frame("places")
    population = _population(inp, d)
    tier_cols = [(f"tier{t}_places", tier_words(inp.tier_name(t).split(":")[0]) + " places") for t in (1, 2)]
    d = city_first(d, list(getattr(inp.study, "city_districts", [])))
    body = d[d[C.DISTRICT] != TOTAL_ROW]
    if len(body) and population:
        _districts_figure(inp, parts, body, population)
    counts = places[C.N].to_numpy(dtype=float) if places is not None and C.N in places else np.zeros(0)
    out: dict[str, Any] = {
        "district_rows": _rows(inp, d, tier_cols),
        "tier_headers": [name for _, name in tier_cols],
        "districts_intro": _intro(inp, body[C.DISTRICT].astype(str).tolist()),
        "rate_words": _rate_words(inp, population),
        "population": population,
        "gini_words": _gini_words(conc, int(counts.sum())),
    }
    if counts.sum() > 0:
        out["share_words"] = _concentration(inp, parts, counts, conc)
    partial = inp.summary("rank").get("partial_coverage_sources") or []
    if partial:
        out["partial_words"] = (
            f"The ranking pools sources that cover only part of the area ({', '.join(partial)}): the districts "
            "they cover look worse for a reason that is only about which data exist."
        )
    return out
