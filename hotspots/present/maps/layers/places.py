"""Priority places: LSOAs coloured by tier, named by LSOA and ward, with rank, likely range and reason.

Reads the rank stage's ``places``. The tier's words come from ``tier_name`` when the rank
stage writes it ("act now: high harm", "prevent: high need", "monitor"), else "Tier 1", "Tier 2"...
from ``tier``; the lowest tier is drawn in a neutral grey. The Board sees counts under
``[maps] suppress_below`` as "<5"; the analyst also sees a curated set of the components
(the full set stays in ``places.csv``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.present.maps.context import MapContext
from hotspots.present.maps.layers.base import Layer, LayerSpec, Legend, label, polygon_features, search_entry
from hotspots.present.maps.palette import tier_colours
from hotspots.present.maps.text import count_text, esc, fmt, missing, pct, suppress_counts_in_text

TIER_NAME = "tier_name"
"""Optional column with the tier's words (written by the two-axis ranking)."""

REQUIRED = (
    C.LSOA_CODE,
    C.LSOA_NAME,
    C.DISTRICT,
    C.RANK,
    "score",
    "rank_low",
    "rank_high",
    "p_top_n",
    "tier",
    C.REASON,
)
"""Columns of ``places`` the layer reads."""

ANALYST_FIELDS: list[tuple[str, str, Callable[[Any], str]]] = [
    ("harm", "Harm (weighted incidents)", fmt),
    ("harm_per_1000_yr", "Harm per 1,000 residents a year", fmt),
    ("harm_rate", "Harm per 1,000 residents", fmt),
    ("population", "Residents", fmt),
    ("hotspot_class", "Hot spot (Gi*)", esc),
    ("gi_z", "Hot-spot strength (Gi* z)", fmt),
    ("venues_near", "Night-time venues nearby", fmt),
    ("imd_nc_decile", "Deprivation decile, crime left out (1 = most deprived)", fmt),
    ("idaci_rate_derived", "Children in income-deprived families", pct),
    ("cyp_decile", "Young people's education decile (1 = most deprived)", fmt),
    ("score", "Priority score (0 to 1)", fmt),
]
"""Analyst popup rows: column, plain label, formatter (shown when the column is present)."""


def tier_label(tier: object, name: object = None) -> str:
    """The tier in words: ``tier_name`` with a capital first letter, else ``"Tier 2"`` (escaped)."""
    if isinstance(name, str) and name.strip():
        s = name.strip()
        return esc(s[0].upper() + s[1:])
    if missing(tier):
        return "n/a"
    s = str(tier)
    try:
        s = str(int(float(s)))
    except ValueError:
        return esc(s)
    return f"Tier {s}"


def _tier_order(tiers: pd.Series) -> list[Any]:
    def _key(t: Any) -> tuple[float, str]:  # Any: whatever the tier column holds (float() is tried)
        try:
            return (float(t), str(t))
        except (TypeError, ValueError):
            digits = "".join(ch for ch in str(t) if ch.isdigit())
            return (float(digits) if digits else float("inf"), str(t))

    return sorted(tiers.dropna().unique().tolist(), key=_key)


def _rank_text(r: Any, lo: Any, hi: Any, n: int) -> str:
    if missing(r):
        return "n/a"
    likely = "" if missing(lo) or missing(hi) else f" (likely {fmt(lo)}\u2013{fmt(hi)})"
    return f"{fmt(r)} of {n:,}{likely}"


def _fields(places: pd.DataFrame, ctx: MapContext) -> list[tuple[str, list[str]]]:
    n = len(places)
    col = {c: places[c].tolist() for c in places.columns if c != "geometry"}
    names = col.get(TIER_NAME, [None] * n)
    out: list[tuple[str, list[str]]] = [
        ("Where", [esc(ctx.lsoa_area(c, d)) for c, d in zip(col[C.LSOA_CODE], col[C.DISTRICT], strict=True)]),
        ("Priority", [tier_label(t, nm) for t, nm in zip(col["tier"], names, strict=True)]),
    ]
    if "harm_rank" in col:
        lo = col.get("harm_rank_low", [None] * n)
        hi = col.get("harm_rank_high", [None] * n)
        out.append(("Harm rank", [_rank_text(*v, n) for v in zip(col["harm_rank"], lo, hi, strict=True)]))
        if "need_rank" in col:
            out.append(("Need rank", [_rank_text(v, None, None, n) for v in col["need_rank"]]))
    else:
        ranks = zip(col[C.RANK], col["rank_low"], col["rank_high"], strict=True)
        out.append(("Rank", [_rank_text(*v, n) for v in ranks]))
    out.append(("Why", [esc(suppress_counts_in_text(r, below=ctx.suppress)) for r in col[C.REASON]]))
    counts = ctx.lsoa_counts
    if counts is not None:
        out.append(
            ("Violent incidents", [count_text(counts.get(c), suppress_below=ctx.suppress) for c in col[C.LSOA_CODE]])
        )
    out.append(("Chance of being in the top group", [pct(v) for v in col["p_top_n"]]))
    if ctx.audience == "analyst":
        out += [(label_, [f(v) for v in col[c]]) for c, label_, f in ANALYST_FIELDS if c in col]
    out.append(("LSOA code", [esc(c) for c in col[C.LSOA_CODE]]))
    return out


def _legend(places: pd.DataFrame, tiers: list[Any], colours: list[str]) -> Legend:
    names = places[TIER_NAME].tolist() if TIER_NAME in places.columns else [None] * len(places)
    counts = places["tier"].value_counts()
    items = []
    for t, c in zip(tiers, colours, strict=True):
        words = {tier_label(t, nm) for tt, nm in zip(places["tier"], names, strict=True) if tt == t}
        items.append((c, f"{' / '.join(sorted(words))} ({int(counts.get(t, 0)):,} places)", "box"))
    return Legend(
        title="Priority places",
        items=items,
        note="Rank 1 = highest priority. Click a place for its rank, likely range and reason.",
    )


def _finders(
    places: pd.DataFrame, feats: list[dict[str, Any]], where: list[str], first_tier: Any, ctx: MapContext
) -> tuple[list[list[Any]], list[dict[str, Any]], list[list[str]]]:
    """Labels (the top places, then the rest of the first tier), search entries and the panel's top places."""
    inner = {f["properties"]["i"]: f["properties"]["p"] for f in feats}
    labels, search, panel = [], [], []
    rows = zip(
        places[C.LSOA_CODE].tolist(),
        places[C.LSOA_NAME].tolist(),
        places[C.RANK].tolist(),
        places[C.DISTRICT].tolist(),
        places["tier"].tolist(),
        strict=True,
    )
    for i, (code_, name, rank_, district, tier) in enumerate(rows):
        code, title, rank = str(code_), esc(name), fmt(rank_)
        at = inner.get(code)
        if at is None:
            continue
        area = f", {where[i]}" if where[i] else ""
        search.append(search_entry(f"{title} ({esc(code)}){area}", "place", key="places", fid=code, at=at, zoom=15))
        if i < ctx.opts.top:
            labels.append(label(at, f"{rank} \u00b7 {title}", min_zoom=10, priority=i, css="place top"))
            short = ctx.gaz.lsoa_ward.get(code) or district
            panel.append(
                [f"{rank}. {title}" + (f" \u00b7 {esc(short)}" if isinstance(short, str) and short else ""), code]
            )
        elif first_tier is not None and tier == first_tier:
            labels.append(label(at, f"{rank} \u00b7 {title}", min_zoom=13, priority=100 + i, css="place"))
    return labels, search, panel


def build(ctx: MapContext, show: bool) -> Layer | None:
    """The priority-places layer (see the module notes)."""
    df = ctx.frame("places")
    if df is None:
        return None
    places = ctx.with_lsoa_geometry(df, "places").sort_values(C.RANK, kind="stable").reset_index(drop=True)
    tiers = _tier_order(places["tier"])
    colours = tier_colours(len(tiers))
    cls_of = {t: i for i, t in enumerate(tiers)}
    fields = _fields(places, ctx)
    o = ctx.opts
    feats = polygon_features(
        places,
        ids=places[C.LSOA_CODE].astype(str).tolist(),
        titles=[esc(n) for n in places[C.LSOA_NAME]],
        values=[v for _, v in fields],
        classes=[cls_of.get(t, len(tiers) - 1) for t in places["tier"]],
        tolerance=o.simplify_m,
        precision=o.precision,
        coverage=True,
    )
    first_tier = tiers[0] if len(tiers) > 1 else None
    labels, search, panel = _finders(places, feats, fields[0][1], first_tier, ctx)
    return Layer(
        key="places",
        name="Priority places",
        show=show,
        features=feats,
        fields=[esc(k) for k, _ in fields],
        tip=3,
        palette=colours,
        style={"fill": [0.7] * max(0, len(tiers) - 1) + [0.35], "weight": 0.5, "line": "#5b5b5b"},
        legend=_legend(places, tiers, colours),
        labels=labels,
        search=search,
        panel={"title": f"Top {min(o.top, len(places))} places", "items": panel},
    )


SPEC = LayerSpec(key="places", build=build, needs={"places": REQUIRED})
"""Registry entry."""


def tier_classes(tiers: pd.Series) -> np.ndarray:
    """Index of each tier in its order (lowest priority last): the class a place is drawn with."""
    order = {t: i for i, t in enumerate(_tier_order(tiers))}
    return np.array([order.get(t, len(order) - 1) for t in tiers], dtype=int)
