"""Gi* hot and cold spots, on the grid and on LSOAs (analyst map).

Only significant units are drawn. A grid with more significant cells than
``[maps] max_cells`` is drawn as one shape per class. Each cell is named by the nearest
street and its ward, so a popup says where it is.
"""

from __future__ import annotations

from hotspots import columns as C
from hotspots.present.maps.context import MapContext
from hotspots.present.maps.geometry import dissolve_by, inner_points
from hotspots.present.maps.layers.base import Layer, LayerSpec, Legend, polygon_features
from hotspots.present.maps.palette import GI_COLOURS
from hotspots.present.maps.text import esc, fmt

CLASSES = list(GI_COLOURS)
"""Drawn classes, hot 99 % first."""

NOTE = "Getis-Ord Gi*, false discovery rate controlled; units not significant are not drawn."


def class_words(cls: str) -> str:
    """``"hot 99%"`` -> ``"Hot spot, 99 % confidence"``."""
    kind, _, conf = str(cls).partition(" ")
    return f"{kind.capitalize()} spot, {conf.replace('%', ' %')} confidence" if conf else esc(cls)


def _legend(title: str, counts: dict[str, int], unit: str) -> Legend:
    items = [(GI_COLOURS[k], f"{class_words(k)} ({counts.get(k, 0):,} {unit})", "box") for k in CLASSES]
    return Legend(title=title, items=items, note=NOTE)


def build_grid(ctx: MapContext, show: bool) -> Layer | None:
    """Significant grid cells, named by street and ward."""
    grid = ctx.geo("grid")
    sig = grid[grid[C.HOTSPOT_CLASS].isin(CLASSES)].reset_index(drop=True)
    classes = [CLASSES.index(c) for c in sig[C.HOTSPOT_CLASS]]
    counts = {k: int(v) for k, v in grid[C.HOTSPOT_CLASS].value_counts().items()}
    o = ctx.opts
    if len(sig) > o.max_cells:
        merged = dissolve_by(sig[[C.HOTSPOT_CLASS, "geometry"]], C.HOTSPOT_CLASS)
        feats = polygon_features(
            merged,
            ids=[f"class:{c}" for c in merged[C.HOTSPOT_CLASS]],
            titles=[class_words(c) for c in merged[C.HOTSPOT_CLASS]],
            values=[[fmt(n) for n in merged["cells"]]],
            classes=[CLASSES.index(c) for c in merged[C.HOTSPOT_CLASS]],
            tolerance=0.0,
            precision=o.precision,
        )
        fields = ["Cells"]
    else:
        xy = inner_points(sig)
        areas = ctx.gaz.area_at(xy)
        near = [f" near {esc(s)}" if s else "" for s in ctx.gaz.near(xy)]
        ids = [str(c) for c in sig[C.CELL_ID]]
        values = [
            [esc(a) for a in areas],
            [class_words(c) for c in sig[C.HOTSPOT_CLASS]],
            [fmt(v) for v in sig[C.N]] if C.N in sig else [""] * len(sig),
            [fmt(v) for v in sig[C.HARM]] if C.HARM in sig else [""] * len(sig),
            [fmt(v) for v in sig[C.GI_Z]] if C.GI_Z in sig else [""] * len(sig),
            [fmt(v) for v in sig[C.GI_Q]] if C.GI_Q in sig else [""] * len(sig),
        ]
        feats = polygon_features(
            sig,
            ids=ids,
            titles=[f"Grid cell {esc(i)}{n}" for i, n in zip(ids, near, strict=True)],
            values=values,
            classes=classes,
            tolerance=0.0,
            precision=o.precision,
        )
        fields = ["Where", "Class", "Incidents", "Harm", "Gi* z", "q (false discovery rate)"]
    return Layer(
        key="gi_grid",
        name="Hot and cold spots (grid, Gi*)",
        show=show,
        features=feats,
        fields=fields,
        tip=2,
        palette=list(GI_COLOURS.values()),
        style={"fill": 0.7, "weight": 0.3, "line": None},
        legend=_legend("Hot and cold spots (grid, Gi*)", counts, "cells"),
    )


def build_lsoa(ctx: MapContext, show: bool) -> Layer | None:
    """Significant LSOAs, named by LSOA and ward."""
    df = ctx.frame("lsoa")
    if df is None:
        return None
    units = ctx.with_lsoa_geometry(df, "lsoa")
    sig = units[units[C.HOTSPOT_CLASS].isin(CLASSES)].reset_index(drop=True)
    counts = {k: int(v) for k, v in units[C.HOTSPOT_CLASS].value_counts().items()}
    codes = sig[C.LSOA_CODE].astype(str).tolist()
    districts = ctx.lsoa.set_index(C.LSOA_CODE)[C.DISTRICT].reindex(codes).tolist()
    values = [
        [esc(ctx.lsoa_area(c, d)) for c, d in zip(codes, districts, strict=True)],
        [class_words(c) for c in sig[C.HOTSPOT_CLASS]],
        [fmt(v) for v in sig[C.N]] if C.N in sig else [""] * len(sig),
        [fmt(v) for v in sig[C.HARM]] if C.HARM in sig else [""] * len(sig),
        [fmt(v) for v in sig[C.RATE_PER_1000]] if C.RATE_PER_1000 in sig else [""] * len(sig),
        [fmt(v) for v in sig[C.GI_Z]] if C.GI_Z in sig else [""] * len(sig),
        [esc(c) for c in codes],
    ]
    feats = polygon_features(
        sig,
        ids=codes,
        titles=[esc(ctx.lsoa_names.get(c, c)) for c in codes],
        values=values,
        classes=[CLASSES.index(c) for c in sig[C.HOTSPOT_CLASS]],
        tolerance=ctx.opts.simplify_m,
        precision=ctx.opts.precision,
        coverage=False,
    )
    return Layer(
        key="gi_lsoa",
        name="Hot and cold spots (LSOA, Gi*)",
        show=show,
        features=feats,
        fields=["Where", "Class", "Incidents", "Harm", "Incidents per 1,000 residents", "Gi* z", "LSOA code"],
        tip=2,
        palette=list(GI_COLOURS.values()),
        style={"fill": 0.7, "weight": 0.5, "line": "#5b5b5b"},
        legend=_legend("Hot and cold spots (LSOA, Gi*)", counts, "LSOAs"),
    )


GRID = LayerSpec(key="gi_grid", build=build_grid, needs={"grid": (C.CELL_ID, C.HOTSPOT_CLASS)})
"""Registry entry (grid)."""

LSOA = LayerSpec(key="gi_lsoa", build=build_lsoa, needs={"lsoa": (C.LSOA_CODE, C.N, C.HOTSPOT_CLASS)})
"""Registry entry (LSOAs)."""
