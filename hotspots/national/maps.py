"""The national map: one small offline page of the forces and the act-now places of England and Wales.

Drawing all 34,753 LSOAs would make a page of tens of megabytes, so the page draws the 43
force areas (coloured by harm per 1,000 residents a year, each with its row of the force
table) and, in full, only the places in the national "act now" tier, with their national rank.
It is built from the same parts as the run's maps (:mod:`hotspots.present.maps`: layers, the
page, offline Leaflet), so it opens by double-click with no internet.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.national.compare import NAME
from hotspots.national.detect import FORCE
from hotspots.present.maps.build import map_html
from hotspots.present.maps.geometry import WGS84, dissolve_by
from hotspots.present.maps.layers.base import Layer, Legend, label, polygon_features, search_entry
from hotspots.present.maps.page import MapPage
from hotspots.present.maps.palette import tier_colours
from hotspots.present.maps.text import esc, fmt, pct
from hotspots.rank.columns import ACT_NOW, TIER

FORCE_SIMPLIFY_M = 500.0
"""Force outlines are simplified to this tolerance (metres)."""
PLACE_SIMPLIFY_M = 50.0
"""Act-now places are simplified to this tolerance (metres)."""
CLASSES = 5
"""Colour classes of the force layer (quintiles of harm per 1,000 residents a year)."""
NOTES = (
    "<p>Places are LSOAs ranked over all of England and Wales at once (harm axis with its likely range; "
    "need axis from the English Indices of Deprivation 2019). Force areas are coloured by harm per 1,000 "
    "residents a year (IoD2019 mid-2015 residents; none are bundled for Wales, so Welsh forces are grey). "
    "Only the act-now places are drawn; every place is in places.csv.</p>"
)


def _force_layer(outlines: gpd.GeoDataFrame, forces: pd.DataFrame) -> Layer:
    table = forces.set_index(FORCE)
    rate = table["harm_per_1000_yr"].reindex(outlines[FORCE]).to_numpy(dtype=float)
    ok = np.isfinite(rate)
    colours = [*tier_colours(CLASSES + 1)[:CLASSES][::-1], "#bdbdbd"]
    cls = np.full(len(outlines), CLASSES, dtype=int)
    if ok.any():
        edges = np.nanquantile(rate[ok], np.linspace(0, 1, CLASSES + 1))
        cls[ok] = np.clip(np.searchsorted(edges[1:-1], rate[ok], side="right"), 0, CLASSES - 1)
    rows = table.reindex(outlines[FORCE])
    fields = [
        ("Incidents", [fmt(v) for v in rows["incidents"]]),
        ("Incidents a year per 1,000 residents", [fmt(v) for v in rows["incidents_per_1000_yr"]]),
        ("Harm a year per 1,000 residents", [fmt(v) for v in rows["harm_per_1000_yr"]]),
        ("Share of harm in its top 5 % of places", [pct(v) for v in rows["top5_harm_share"]]),
        (
            "Gini (chance floor)",
            [f"{fmt(g)} ({fmt(f)})" for g, f in zip(rows["gini"], rows["gini_chance_floor"], strict=True)],
        ),
        ("Act-now places", [fmt(v) for v in rows["act_now_places"]]),
    ]
    names = [esc(n) for n in rows["force_name"].fillna(pd.Series(outlines[FORCE].to_numpy(), index=rows.index))]
    feats = polygon_features(
        outlines,
        ids=outlines[FORCE].astype(str).tolist(),
        titles=names,
        values=[v for _, v in fields],
        classes=cls.tolist(),
        tolerance=FORCE_SIMPLIFY_M,
        precision=4,
    )
    inner = {f["properties"]["i"]: f["properties"]["p"] for f in feats}
    search = [
        search_entry(n, "district", key="forces", fid=fid, at=inner[fid], zoom=9)
        for fid, n in zip(outlines[FORCE].astype(str), names, strict=True)
        if fid in inner
    ]
    labels = [
        label(inner[fid], n, min_zoom=7, max_zoom=10, priority=i, css="place")
        for i, (fid, n) in enumerate(zip(outlines[FORCE].astype(str), names, strict=True))
        if fid in inner
    ]
    items = [
        (colours[i], ("lowest" if i == 0 else "highest" if i == CLASSES - 1 else f"quintile {i + 1}"), "box")
        for i in range(CLASSES)
    ]
    items.append((colours[CLASSES], "no residents bundled (Wales)", "box"))
    return Layer(
        key="forces",
        name="Police force areas",
        show=True,
        features=feats,
        fields=[esc(k) for k, _ in fields],
        tip=2,
        palette=colours,
        style={"fill": [0.45] * (CLASSES + 1), "weight": 1.0, "line": "#444444"},
        legend=Legend(title="Harm a year per 1,000 residents", items=items, note="Click a force for its figures."),
        labels=labels,
        search=search,
    )


def _places_layer(places: gpd.GeoDataFrame, top: int) -> Layer:
    act = places[places[TIER] == ACT_NOW].sort_values(C.RANK, kind="stable").reset_index(drop=True)
    n = len(places)
    fields = [
        ("Force", [esc(v) for v in act[FORCE]]),
        ("District", [esc(v) for v in act[C.DISTRICT]]),
        (
            "National harm rank",
            [
                f"{fmt(r)} of {n:,} (likely {fmt(lo)}\u2013{fmt(hi)})"
                for r, lo, hi in zip(act[C.RANK], act["rank_low"], act["rank_high"], strict=True)
            ],
        ),
        ("Why", [esc(v) for v in act[C.REASON]]),
        ("LSOA code", [esc(v) for v in act[C.LSOA_CODE]]),
    ]
    colour = tier_colours(3)[0]
    feats = polygon_features(
        act,
        ids=act[C.LSOA_CODE].astype(str).tolist(),
        titles=[esc(v) for v in act[C.LSOA_NAME]],
        values=[v for _, v in fields],
        tolerance=PLACE_SIMPLIFY_M,
        precision=5,
    )
    inner = {f["properties"]["i"]: f["properties"]["p"] for f in feats}
    panel, search = [], []
    for i, r in enumerate(act.itertuples(index=False)):
        code = str(getattr(r, C.LSOA_CODE))
        if code not in inner:
            continue
        title = esc(getattr(r, C.LSOA_NAME))
        search.append(search_entry(f"{title} ({esc(code)})", "place", key="places", fid=code, at=inner[code], zoom=14))
        if i < top:
            panel.append([f"{fmt(getattr(r, C.RANK))}. {title} \u00b7 {esc(getattr(r, FORCE))}", code])
    return Layer(
        key="places",
        name="Act-now places",
        show=True,
        features=feats,
        fields=[esc(k) for k, _ in fields],
        tip=3,
        palette=[colour],
        style={"fill": [0.8], "weight": 0.5, "line": "#5b5b5b"},
        legend=Legend(title="Act-now places", items=[(colour, f"act now: high harm ({len(act):,} places)", "box")]),
        search=search,
        panel={"title": f"Top {min(top, len(act))} places in England and Wales", "items": panel},
    )


def national_map(
    lsoa: gpd.GeoDataFrame,
    forces: np.ndarray,
    table: pd.DataFrame,
    places: gpd.GeoDataFrame,
    *,
    period: str,
    top: int = 20,
) -> str:
    """The national page's HTML (self-contained).

    Parameters
    ----------
    lsoa
        Every LSOA (geometry), aligned to ``forces``.
    forces
        Force of each LSOA.
    table
        The force comparison table (:func:`hotspots.national.compare.force_table`).
    places
        The national ranking with ``force`` and geometry.
    period
        The data period shown under the title.
    top
        Places listed in the panel.
    """
    outlines = dissolve_by(gpd.GeoDataFrame({FORCE: forces}, geometry=lsoa.geometry.values, crs=C.CRS), FORCE)
    layers = [_force_layer(outlines, table), _places_layer(places, top)]
    minx, miny, maxx, maxy = gpd.GeoSeries(outlines.geometry.values, crs=C.CRS).to_crs(WGS84).total_bounds
    page = MapPage(
        audience="board",
        title="Serious violence: England and Wales",
        subtitle=f"{NAME} \u00b7 data period {period}",
        notes=NOTES,
        bounds=[[round(float(miny), 4), round(float(minx), 4)], [round(float(maxy), 4), round(float(maxx), 4)]],
        layers=layers,
    )
    return map_html(page)


__all__ = ["national_map"]
