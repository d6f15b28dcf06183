"""Section "Where to act": the places of each tier, defined in words, with their likely ranks.

The Board part lists the first ``[report] top`` places of each priority tier in the Board's
order (``order``: act now by harm rank, prevent by need rank); the appendix lists every place
of those tiers with its one-line reason. With ``[rank] method = "composite"`` the tiers are
"Tier 1" and "Tier 2" and the ranks and intervals are the composite's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from hotspots import columns as C
from hotspots.present.report.context import Inputs, Parts
from hotspots.present.report.figures import top_places_figure
from hotspots.present.report.tables import (
    PLACE_RANK,
    PLACE_RANK_HIGH,
    PLACE_RANK_LOW,
    PLACE_REASON,
    PLACE_TIER,
    fmt_num,
    lsoa_wards,
    mask_small_counts,
    require_columns,
)
from hotspots.present.report.text import RANK_INTERVAL_COVERAGE, tier_words
from hotspots.rank.columns import (
    ACT_NOW,
    HARM_RANK,
    HARM_RANK_HIGH,
    HARM_RANK_LOW,
    HARM_RATE_YR,
    MONITOR,
    NEED_SCORE,
    ORDER,
    PREVENT,
)

PRIORITY_TIERS = (ACT_NOW, PREVENT)
"""The tiers the report lists place by place (the last tier, monitor, is counted only)."""


@dataclass
class Tier:
    """One tier as the report shows it.

    Attributes
    ----------
    tier
        1, 2 or 3.
    name
        Its plain name with a capital ("Act now: high harm", "Tier 1").
    definition
        What puts a place in it, in words, with this run's numbers.
    short
        The same in a few words (page 1).
    count
        Places in the tier.
    rows
        The first ``top`` places (dicts of display strings).
    all_rows
        Every place of the tier (for the appendix).
    districts
        Places of the tier per district, most first.
    stay
        Places of the tier whose likely rank stays inside it (the upper end of the interval at most
        ``count``); None without intervals.
    """

    tier: int
    name: str
    definition: str
    short: str
    count: int
    rows: list[dict[str, str]] = field(default_factory=list)
    all_rows: list[dict[str, str]] = field(default_factory=list)
    districts: list[tuple[str, int]] = field(default_factory=list)
    stay: int | None = None

    @property
    def key(self) -> str:
        """An id for the page (``act-now``, ``prevent``, ``monitor``, ``tier-1``...)."""
        return self.name.split(":")[0].strip().lower().replace(" ", "-")


def board_order(places: pd.DataFrame) -> pd.DataFrame:
    """Places in the Board's order (``order`` when the rank stage gives it, else ``rank``)."""
    key = ORDER if ORDER in places.columns else PLACE_RANK
    return places.sort_values([key, C.LSOA_CODE], kind="stable")


def _rank_cols(places: pd.DataFrame) -> tuple[str, str, str]:
    if {HARM_RANK, HARM_RANK_LOW, HARM_RANK_HIGH} <= set(places.columns):
        return HARM_RANK, HARM_RANK_LOW, HARM_RANK_HIGH
    return PLACE_RANK, PLACE_RANK_LOW, PLACE_RANK_HIGH


DEFAULT_ACT_SHARE = 0.05
DEFAULT_PREVENT_SHARE = 0.15


def _definitions(inp: Inputs, sizes: dict[int, int], n_places: int) -> dict[int, tuple[str, str]]:
    """What puts a place in each tier, in words: (full, short)."""
    t = inp.summary("rank").get("tiers") or {}
    if not inp.axes:
        return {
            1: (
                f"the {sizes.get(1, 0):,} places with the highest composite priority score (harm, hot spot "
                "strength, night-time economy, deprivation and youth need combined)",
                "the highest composite priority score",
            ),
            2: (f"the next {sizes.get(2, 0):,} places on the same score", "the next on the same score"),
            3: ("every other place", "every other place"),
        }
    if t.get("act_rule") == "harm" and t.get("act_harm_share"):
        pct = f"{100 * float(t['act_harm_share']):.0f} %"
        act = (
            f"the fewest places with the most harm that together hold {pct} of all the harm ranked; harm is "
            "incidents weighted by seriousness",
            f"the fewest places holding {pct} of the harm",
        )
    else:
        share = f"{100 * float(t.get('act_share') or DEFAULT_ACT_SHARE):.0f} %"
        act = (
            f"the {share} of places with the most harm ({sizes.get(1, 0):,} of {n_places:,}, places tied at the "
            "cut-off included); harm is incidents weighted by seriousness",
            f"the {share} of places with the most harm",
        )
    prevent_share = f"{100 * float(t.get('prevent_share') or DEFAULT_PREVENT_SHARE):.0f} %"
    prevent = (
        f"places not in the first tier whose need (deprivation and youth need together) is among the "
        f"{prevent_share} highest in the area",
        f"not in the first tier, but need (deprivation and youth need) among the area's highest {prevent_share}",
    )
    monitor = "every other place: neither its harm nor its need stands out; keep watching"
    return {ACT_NOW: act, PREVENT: prevent, MONITOR: (monitor, "every other place")}


def _row(inp: Inputs, r: dict[str, Any], ward_of: pd.Series, cols: tuple[str, str, str]) -> dict[str, str]:
    code = str(r[C.LSOA_CODE])
    rank, lo, hi = (r[c] for c in cols)
    ward = ward_of.get(code)
    district = "" if pd.isna(r.get(C.DISTRICT)) else str(r.get(C.DISTRICT, ""))
    return {
        "order": f"{int(r[ORDER])}" if ORDER in r and pd.notna(r[ORDER]) else f"{int(r[PLACE_RANK])}",
        "name": str(r.get(C.LSOA_NAME) or code),
        "code": code,
        "where": f"{ward} ward, {district}" if isinstance(ward, str) and ward else district,
        "rank": "n/a" if pd.isna(rank) else f"{int(rank)}",
        "likely": "n/a" if pd.isna(lo) or pd.isna(hi) else f"{int(lo)}–{int(hi)}",
        "n": inp.count(r.get(C.N, 0)),
        "rate": fmt_num(r.get(HARM_RATE_YR), 0),
        "need": fmt_num(r.get(NEED_SCORE), 0),
        "reason": mask_small_counts(str(r.get(PLACE_REASON, "")), small=inp.small),
    }


def tiers(inp: Inputs) -> list[Tier]:
    """Every tier with its definition, size, districts and rows (empty without ranked places)."""
    places = inp.frame("places")
    if places is None:
        return []
    require_columns(
        places,
        [C.LSOA_CODE, PLACE_RANK, PLACE_RANK_LOW, PLACE_RANK_HIGH, PLACE_TIER, PLACE_REASON],
        "results['places']",
    )
    p = board_order(places)
    cols = _rank_cols(p)
    sizes = {int(k): int(v) for k, v in p[PLACE_TIER].value_counts().items()}
    words = _definitions(inp, sizes, len(p))
    ward_of = lsoa_wards(inp.study.lsoa, getattr(inp.study, "wards", None))
    out = []
    for t in sorted(sizes):
        g = p[p[PLACE_TIER] == t]
        full, short = words.get(t, ("", ""))
        tier = Tier(tier=t, name=tier_words(inp.tier_name(t)), definition=full, short=short, count=len(g))
        if C.DISTRICT in g.columns:
            tier.districts = [(str(k), int(v)) for k, v in g[C.DISTRICT].astype(str).value_counts().items()]
        high = pd.to_numeric(g[cols[2]], errors="coerce")
        if high.notna().any():
            tier.stay = int((high <= len(g)).sum())
        if t in PRIORITY_TIERS:
            tier.all_rows = [_row(inp, r, ward_of, cols) for r in g.to_dict("records")]
            tier.rows = tier.all_rows[: inp.top]
        out.append(tier)
    return out


def interval_words(inp: Inputs) -> str:
    """What a place's likely rank means and how often such ranges held, in words."""
    if inp.axes:
        cov = RANK_INTERVAL_COVERAGE["axes"]
        return (
            "“Likely rank” is a 90 % predictive interval: the range the place's harm rank should fall in over "
            "a next period as long as this one, drawn from simulated next periods that allow for chance "
            f"variation in small counts. In backtests on {cov.data}, such ranges held for "
            f"{100 * cov.next_month:.0f} % of places next month and {100 * cov.next_quarter:.0f} % next quarter "
            f"({cov.source}); hotspots evaluate measures it on your own data. A wide range is honest: with few "
            "incidents, places cannot be told apart."
        )
    cov = RANK_INTERVAL_COVERAGE["composite"]
    return (
        "“Likely rank” here is the 5th to 95th percentile of the composite rank over Monte Carlo draws. "
        f"In backtests on {cov.data} such intervals held for only {100 * cov.next_month:.0f} % of places next "
        f"month ({cov.source}): read them as too narrow."
    )


def places_section(inp: Inputs, parts: Parts, all_tiers: list[Tier]) -> dict[str, Any]:
    """Template variables of "Where to act" and the rank-interval figure (``top_places``)."""
    places = inp.frame("places")
    if places is None:
        return {"tiers": [], "interval_words": ""}
    p = pd.DataFrame(places.drop(columns="geometry", errors="ignore"))
    for to, col in zip((PLACE_RANK, PLACE_RANK_LOW, PLACE_RANK_HIGH), _rank_cols(places), strict=True):
        p[to] = places[col].to_numpy()
    names = {t.tier: t.name for t in all_tiers}
    interval = (
        "line = 90 % predictive interval of next period's rank"
        if inp.axes
        else "line = 5th-95th percentile over Monte Carlo draws"
    )
    fig = top_places_figure(p, top=inp.top, tier_names=names, interval=interval, source=inp.source_line)
    k = min(inp.top, len(p))
    first = p.sort_values([PLACE_RANK, C.LSOA_CODE]).iloc[0]
    parts.add_figure(
        "top_places",
        fig,
        caption=f"The {k} places with the most harm: the dot is the place's rank, the line the range its rank is "
        "likely to fall in next period (90 %). Colour = tier.",
        alt=f"Chart of the {k} places ranked first on harm with their likely ranges; the first is "
        f"{first.get(C.LSOA_NAME, first[C.LSOA_CODE])} (rank {int(first[PLACE_RANK])}, likely "
        f"{int(first[PLACE_RANK_LOW])} to {int(first[PLACE_RANK_HIGH])}).",
    )
    parts.summary["tiers"] = {t.name: t.count for t in all_tiers}
    parts.summary["top_places"] = board_order(places).head(inp.top)[C.LSOA_CODE].astype(str).tolist()
    listed = [t for t in all_tiers if t.tier in PRIORITY_TIERS]
    return {"tiers": listed, "all_tiers": all_tiers, "interval_words": interval_words(inp), "top": inp.top}
