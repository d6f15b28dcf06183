"""What changed between two periods (the map of ``hotspots change``): each unit by its change class.

Reads the change stage's :class:`~hotspots.evaluate.change_stage.ChangeResult` (``ctx.results["change"]``).
Two layers:

``change``
    Each unit (LSOA, district or grid cell) coloured by ``change_class``: a significant fall in
    blue, a significant rise in vermillion, no clear change neutral grey, no data (no incident in
    either period) unfilled (see :data:`~hotspots.present.maps.palette.CHANGE_COLOURS`). The
    significant units are labelled, listed in the panel (strongest evidence first) and, with every
    drawn unit, searchable. A grid with more tested cells than ``[maps] max_cells`` draws its
    significant cells one by one and the cells with no clear change as one shape; a grid's cells
    with no data are not drawn.
``change_size``
    The size of every change, significant or not (off when the page opens).

Popups use plain labels: where the unit is, the result, incidents (or harm) in each period with
counts from 1 to ``[maps] suppress_below`` - 1 shown as "<5", the change per month and the rate
ratio with their interval, the false discovery rate and the smallest fall that could have been seen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.present.maps.context import MapContext
from hotspots.present.maps.geometry import dissolve_by, inner_points
from hotspots.present.maps.layers.base import Layer, LayerSpec, Legend, label, polygon_features, search_entry
from hotspots.present.maps.palette import CHANGE_COLOURS, CHANGE_SIZE_COLOURS
from hotspots.present.maps.text import count_text, esc, fmt

if TYPE_CHECKING:  # pragma: no cover
    from hotspots.evaluate.change_stage import ChangeResult

FALL, RISE, NO_CLEAR, NO_DATA = CHANGE_COLOURS
"""The classes of ``change_class``, in palette order."""

CLASSES = list(CHANGE_COLOURS)

CLASS_WORDS = {
    FALL: "Significant fall",
    RISE: "Significant rise",
    NO_CLEAR: "No clear change",
    NO_DATA: "No data: no incident in either period",
}
"""How a popup and the legend say each class."""

UNIT_WORDS = {"lsoa": ("LSOA", "LSOAs"), "grid": ("grid cell", "cells"), "district": ("district", "districts")}

RATIO_BINS = [
    (0.0, 0.5, "fell by more than half"),
    (0.5, 0.8, "fell 20-50 %"),
    (0.8, 1.25, "little change (-20 % to +25 %)"),
    (1.25, 2.0, "rose 25-100 %"),
    (2.0, np.inf, "more than doubled (or new)"),
]
"""Classes of the rate ratio for the size layer: (from, to (exclusive), label); colours
:data:`~hotspots.present.maps.palette.CHANGE_SIZE_COLOURS`."""

MERGED = "merged"
"""Feature id of the one shape holding a large grid's cells with no clear change."""

PANEL_MAX = 100
"""The panel lists at most this many significant units."""


def ratio_classes(rate_ratio: pd.Series) -> np.ndarray:
    """The :data:`RATIO_BINS` class of each rate ratio (infinite, new where there were none: the top class)."""
    rr = rate_ratio.to_numpy(dtype=float)
    out = np.full(len(rr), 2, dtype=int)
    for i, (lo, hi, _) in enumerate(RATIO_BINS):
        out[(rr >= lo) & (rr < hi)] = i
    out[np.isposinf(rr)] = len(RATIO_BINS) - 1
    return out


def pct_change(rr: float) -> str:
    """A rate ratio as a change in per cent: ``"-35 %"``, ``"+120 %"``, ``"new (none before)"``."""
    r = float(rr)
    if np.isnan(r):
        return ""
    if np.isinf(r):
        return "new (none before)"
    return f"{100 * (r - 1):+.0f} %".replace("-", "\u2212")


def _interval_pct(lo: Any, hi: Any, confidence: float) -> str:
    lo_f, hi_f = float(lo), float(hi)
    if np.isnan(lo_f) or np.isnan(hi_f):
        return ""
    top = "no upper limit" if np.isinf(hi_f) else pct_change(hi_f)
    return f"{100 * confidence:.0f} % interval {pct_change(lo_f)} to {top}"


def _ratio_text(rr: Any, lo: Any, hi: Any) -> str:
    r = float(rr)
    if np.isnan(r):
        return ""
    if np.isinf(r):
        return "none before"
    top = "no limit" if np.isinf(float(hi)) else fmt(round(float(hi), 2))
    return f"{fmt(round(r, 2))} ({fmt(round(float(lo), 2))} to {top})"


def _mde_text(v: Any) -> str:
    f = float(v)
    return f"{f:.0f} %" if np.isfinite(f) else "none (too few incidents)"


def _amount(result: ChangeResult, suppress: int) -> Any:
    if result.measure == "harm":
        return lambda v: fmt(round(float(v), 1))
    return lambda v: count_text(v, suppress_below=suppress)


def _where(units: gpd.GeoDataFrame, result: ChangeResult, ctx: MapContext) -> tuple[list[str], list[str]]:
    """Each unit's title and where it is (ward and district; a grid cell by its nearest street)."""
    ids = units["unit_id"].astype(str).tolist()
    if result.units == "grid":
        xy = inner_points(units)
        near = [f" near {esc(s)}" if s else "" for s in ctx.gaz.near(xy)]
        titles = [
            esc(n) if i == MERGED else f"Grid cell {esc(i)}{s}"
            for i, n, s in zip(ids, units["unit_name"], near, strict=True)
        ]
        return titles, ["" if i == MERGED else esc(a) for i, a in zip(ids, ctx.gaz.area_at(xy), strict=True)]
    titles = [esc(n) for n in units["unit_name"]]
    if result.units == "lsoa":
        district = ctx.lsoa.set_index(C.LSOA_CODE)[C.DISTRICT] if C.DISTRICT in ctx.lsoa else pd.Series(dtype=object)
        return titles, [esc(ctx.lsoa_area(c, district.get(c))) for c in ids]
    return titles, [""] * len(ids)


def unit_fields(units: gpd.GeoDataFrame, result: ChangeResult, ctx: MapContext) -> list[tuple[str, list[str]]]:
    """Popup rows of each unit: ``(plain label, values)``, values escaped (empty ones are not shown)."""
    harm = result.measure == "harm"
    p = result.periods
    conf = result.config.confidence
    amount = _amount(result, ctx.opts.suppress_below)
    what = "Harm" if harm else "Incidents"
    merged = (units["unit_id"] == MERGED).to_numpy()
    _, where = _where(units, result, ctx)
    col = {c: units[c].tolist() for c in units.columns if c != "geometry"}
    data = [c != NO_DATA and not m for c, m in zip(col["change_class"], merged, strict=True)]

    def only(values: list[str]) -> list[str]:
        return [v if ok else "" for v, ok in zip(values, data, strict=True)]

    code = {"lsoa": "LSOA code", "district": "District code", "grid": "Cell"}[result.units]
    return [
        ("Where", where),
        ("Result", [CLASS_WORDS.get(c, esc(c)) for c in col["change_class"]]),
        (
            "Change per month",
            only(
                [
                    f"{pct_change(r)} ({_interval_pct(lo, hi, conf)})" if _interval_pct(lo, hi, conf) else pct_change(r)
                    for r, lo, hi in zip(col["rate_ratio"], col["rr_lower"], col["rr_upper"], strict=True)
                ]
            ),
        ),
        (
            f"{what} before ({p.before_months} months)",
            ["" if m else amount(v) for v, m in zip(col["before"], merged, strict=True)],
        ),
        (
            f"{what} after ({p.after_months} months)",
            ["" if m else amount(v) for v, m in zip(col["after"], merged, strict=True)],
        ),
        (
            "Rate ratio (after \u00f7 before, per month)",
            only([_ratio_text(*v) for v in zip(col["rate_ratio"], col["rr_lower"], col["rr_upper"], strict=True)]),
        ),
        ("False discovery rate (q)", only([fmt(float(q)) for q in col["q_value"]])),
        ("Smallest fall that could be seen", only([_mde_text(v) for v in col["mde_pct"]])),
        (code, ["" if m else esc(i) for i, m in zip(col["unit_id"], merged, strict=True)]),
    ]


def drawn_units(result: ChangeResult, max_cells: int) -> gpd.GeoDataFrame:
    """The units the map draws: every LSOA or district; a grid's cells with data, merged when too many."""
    t = gpd.GeoDataFrame(result.table, geometry="geometry", crs=C.CRS)
    if result.units != "grid":
        return t.reset_index(drop=True)
    drawn = t[t["change_class"] != NO_DATA]
    if len(drawn) <= max_cells:
        return drawn.reset_index(drop=True)
    sig = drawn[drawn["change_class"].isin([FALL, RISE])]
    rest = drawn[drawn["change_class"] == NO_CLEAR]
    if len(rest) == 0:
        return sig.reset_index(drop=True)
    merged = dissolve_by(rest[["change_class", "geometry"]], "change_class")
    merged = merged.assign(
        unit_id=MERGED, unit_name=f"{len(rest):,} cells with no clear change", before=np.nan, after=np.nan
    )
    return gpd.GeoDataFrame(pd.concat([sig, merged.drop(columns="cells")], ignore_index=True), crs=C.CRS)


def _significant(units: gpd.GeoDataFrame) -> pd.DataFrame:
    sig = units[units["change_class"].isin([FALL, RISE])]
    return sig.sort_values(["p_value", "unit_id"], kind="stable")


def _finders(
    units: gpd.GeoDataFrame,
    feats: list[dict[str, Any]],
    titles: list[str],
    where: list[str],
    result: ChangeResult,
    ctx: MapContext,
) -> tuple[list[list[Any]], list[dict[str, Any]], list[list[str]]]:
    """Labels of the significant units, search entries of every drawn unit, the panel's list."""
    inner = {f["properties"]["i"]: f["properties"]["p"] for f in feats}
    pos = {str(u): i for i, u in enumerate(units["unit_id"])}
    kind = "cell" if result.units == "grid" else ("district" if result.units == "district" else "place")
    search = []
    for i, uid in enumerate(units["unit_id"].astype(str)):
        if uid == MERGED or uid not in inner:
            continue
        code = "" if result.units == "grid" else f" ({esc(uid)})"
        area = f", {where[i]}" if where[i] else ""
        search.append(search_entry(f"{titles[i]}{code}{area}", kind, key="change", fid=uid, at=inner[uid], zoom=15))
    labels: list[list[Any]] = []
    panel: list[list[str]] = []
    for k, r in enumerate(_significant(units).itertuples(index=False)):
        uid = str(r.unit_id)
        if uid not in inner:
            continue
        text = f"{pct_change(r.rate_ratio)} \u00b7 {titles[pos[uid]]}"
        top = k < ctx.opts.top
        labels.append(
            label(inner[uid], text, min_zoom=10 if top else 13, priority=k, css="place top" if top else "place")
        )
        if len(panel) < PANEL_MAX:
            panel.append([text, uid])
    if not panel:  # nothing significant: the closest, as the Board page lists them
        closest = units[units["change_class"] == NO_CLEAR].sort_values(["p_value", "unit_id"], kind="stable")
        for r in closest.head(ctx.opts.top).itertuples(index=False):
            uid = str(r.unit_id)
            if uid in inner and uid != MERGED:
                panel.append([f"{pct_change(r.rate_ratio)} \u00b7 {titles[pos[uid]]}", uid])
    return labels, search, panel


def _legend(result: ChangeResult) -> Legend:
    t = result.table
    counts = t["change_class"].value_counts()
    one, many = UNIT_WORDS[result.units]
    items = []
    for c, colour in CHANGE_COLOURS.items():
        n = int(counts.get(c, 0))
        words = CLASS_WORDS[c] + (" (not drawn)" if c == NO_DATA and result.units == "grid" else "")
        items.append((colour, f"{words} ({n:,} {one if n == 1 else many})", "box"))
    alpha = fmt(result.config.alpha)
    return Legend(
        title="Change between the periods",
        items=items,
        note=f"Significant: false discovery rate q &le; {alpha} (Benjamini-Hochberg). Click a unit for its numbers.",
    )


def build(ctx: MapContext, show: bool) -> Layer | None:
    """The change classes (see the module notes)."""
    result: ChangeResult | None = ctx.results.get("change")
    if result is None:
        return None
    o = ctx.opts
    units = drawn_units(result, o.max_cells)
    fields = unit_fields(units, result, ctx)
    titles, where = _where(units, result, ctx)
    feats = polygon_features(
        units,
        ids=units["unit_id"].astype(str).tolist(),
        titles=titles,
        values=[v for _, v in fields],
        classes=[CLASSES.index(c) for c in units["change_class"]],
        tolerance=0.0 if result.units == "grid" else o.simplify_m,
        precision=o.precision,
        coverage=result.units != "grid",
    )
    labels, search, panel = _finders(units, feats, titles, where, result, ctx)
    n_sig = int(units["change_class"].isin([FALL, RISE]).sum())
    title = f"Significant changes ({n_sig:,})" if n_sig else "No significant change: the closest"
    return Layer(
        key="change",
        name="Change between the periods",
        show=show,
        features=feats,
        fields=[esc(k) for k, _ in fields],
        tip=3,
        palette=list(CHANGE_COLOURS.values()),
        style={"fill": [0.75, 0.75, 0.45, 0.0], "weight": 0.5, "line": "#6b6b6b"},
        legend=_legend(result),
        labels=labels,
        search=search,
        panel={"title": title, "items": panel},
    )


def build_size(ctx: MapContext, show: bool) -> Layer | None:
    """The size of every change per month, significant or not (units with data only)."""
    result: ChangeResult | None = ctx.results.get("change")
    if result is None:
        return None
    o = ctx.opts
    units = result.table[result.table["change_class"] != NO_DATA]
    if result.units == "grid" and len(units) > o.max_cells:
        return None
    units = gpd.GeoDataFrame(units, geometry="geometry", crs=C.CRS).reset_index(drop=True)
    fields = unit_fields(units, result, ctx)
    titles, _ = _where(units, result, ctx)
    feats = polygon_features(
        units,
        ids=units["unit_id"].astype(str).tolist(),
        titles=titles,
        values=[v for _, v in fields],
        classes=ratio_classes(units["rate_ratio"]).tolist(),
        tolerance=0.0 if result.units == "grid" else o.simplify_m,
        precision=o.precision,
        coverage=result.units != "grid",
    )
    return Layer(
        key="change_size",
        name="Size of change (significant or not)",
        show=show,
        features=feats,
        fields=[esc(k) for k, _ in fields],
        tip=3,
        palette=list(CHANGE_SIZE_COLOURS),
        style={"fill": 0.75, "weight": 0.5, "line": "#6b6b6b"},
        legend=Legend(
            title="Size of change per month",
            items=[(c, esc(lab), "box") for (_, _, lab), c in zip(RATIO_BINS, CHANGE_SIZE_COLOURS, strict=True)],
            note="Whether or not the change is more than chance: most changes on small counts are not.",
        ),
    )


SPEC = LayerSpec(key="change", build=build)
"""Registry entry (change classes)."""

SIZE = LayerSpec(key="change_size", build=build_size)
"""Registry entry (size of change)."""
