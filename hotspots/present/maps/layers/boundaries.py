"""Boundary lines (LSOAs, wards, districts) with their names as labels.

Boundaries are drawn beneath every other layer and never take a click, so a click on a
place, zone or cell always reaches it. District names show at county zoom, ward names from
zoom 12 (only where a ward file is configured); both are searchable.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd

from hotspots import columns as C
from hotspots.present.maps.context import MapContext
from hotspots.present.maps.geometry import inner_points, lat_lon
from hotspots.present.maps.layers.base import Layer, LayerSpec, Legend, label, polygon_features, search_entry
from hotspots.present.maps.palette import OUTLINES
from hotspots.present.maps.text import esc

WARD_MIN_ZOOM = 12
"""Ward names appear from this zoom."""

DISTRICT_MAX_ZOOM = 13
"""District names disappear beyond this zoom."""


def _outline(
    ctx: MapContext,
    gdf: gpd.GeoDataFrame | None,
    *,
    key: str,
    name: str,
    name_col: str | None,
    colour: str,
    weight: float,
    show: bool,
    labels: tuple[int, int, int] | None = None,
    kind: str = "",
) -> Layer | None:
    if gdf is None or len(gdf) == 0:
        return None
    feats, lab, search = _outline_parts(ctx, gdf, key=key, name_col=name_col, labels=labels, kind=kind)
    return Layer(
        key=key,
        name=name,
        show=show,
        pane="outlines",
        interactive=False,
        features=list(feats),  # the entries are shared by the maps of a run, the lists are the layer's own
        palette=[colour],
        style={"fill": 0.0, "weight": weight, "line": colour},
        legend=Legend(title=name, items=[(colour, name.lower(), "line")]) if key != "lsoa_outlines" else None,
        labels=list(lab),
        search=list(search),
    )


def _outline_parts(
    ctx: MapContext,
    gdf: gpd.GeoDataFrame,
    *,
    key: str,
    name_col: str | None,
    labels: tuple[int, int, int] | None,
    kind: str,
) -> tuple[list[dict[str, Any]], list[list[Any]], list[dict[str, Any]]]:
    """The outlines' features, labels and search entries, made once per boundary frame and drawing options.

    Every map of a run draws the same boundaries: they are kept in :attr:`Gazetteer.cache`
    with the frame they were made from, and made again for another frame.
    """
    cache_key = f"outline.{key}.{ctx.opts.simplify_m}.{ctx.opts.precision}"
    hit = ctx.gaz.cache.get(cache_key)
    if hit is not None and hit[0] is gdf:
        return hit[1]
    frame = gdf.reset_index(drop=True)
    names = [esc(v) for v in frame[name_col]] if name_col and name_col in frame.columns else [""] * len(frame)
    feats = polygon_features(
        frame,
        ids=[f"{key}{i}" for i in range(len(frame))],
        titles=names,
        values=[],
        tolerance=ctx.opts.simplify_m,
        precision=ctx.opts.precision,
        coverage=True,
    )
    lab: list[list[Any]] = []
    search: list[dict[str, Any]] = []
    if labels is not None and any(names):
        lo, hi, prio = labels
        at = lat_lon(inner_points(frame))
        lab = [
            label(a, n, min_zoom=lo, max_zoom=hi, priority=prio, css=key) for a, n in zip(at, names, strict=True) if n
        ]
        zoom = 12 if key == "districts" else 14
        search = [
            search_entry(f"{n} {kind}".strip(), kind, key=None, fid=None, at=a, zoom=zoom)
            for a, n in zip(at, names, strict=True)
            if n
        ]
    ctx.gaz.cache[cache_key] = (gdf, (feats, lab, search))
    return feats, lab, search


def build_lsoa(ctx: MapContext, show: bool) -> Layer | None:
    """LSOA outlines (thin grey lines, no labels)."""
    return _outline(
        ctx,
        ctx.lsoa,
        key="lsoa_outlines",
        name="LSOA outlines",
        name_col=None,
        colour=OUTLINES["lsoa"],
        weight=0.4,
        show=show,
    )


def build_wards(ctx: MapContext, show: bool) -> Layer | None:
    """Ward outlines with ward names (where a ward file is configured)."""
    return _outline(
        ctx,
        getattr(ctx.study, "wards", None),
        key="wards",
        name="Wards",
        name_col=C.WARD_NAME,
        colour=OUTLINES["ward"],
        weight=1.0,
        show=show,
        labels=(WARD_MIN_ZOOM, 16, 300),
        kind="ward",
    )


def build_districts(ctx: MapContext, show: bool) -> Layer | None:
    """District outlines with district names."""
    return _outline(
        ctx,
        getattr(ctx.study, "districts", None),
        key="districts",
        name="Districts",
        name_col=C.DISTRICT_NAME_COL,
        colour=OUTLINES["district"],
        weight=2.0,
        show=show,
        labels=(0, DISTRICT_MAX_ZOOM, 200),
        kind="district",
    )


LSOA = LayerSpec(key="lsoa_outlines", build=build_lsoa)
"""Registry entry (LSOA outlines)."""

WARDS = LayerSpec(key="wards", build=build_wards)
"""Registry entry (wards)."""

DISTRICTS = LayerSpec(key="districts", build=build_districts)
"""Registry entry (districts)."""
