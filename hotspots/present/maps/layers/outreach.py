"""Youth outreach zones, each with a start point inside it on a named street.

The sites stage gives each zone a focal point: the centre of its grid cell with the most
youth-relevant harm. That centre can fall outside the zone (the cell straddles its edge) and
is a coordinate, not a place. The map starts each zone at the police.uk map point with a
street name that lies inside the zone nearest that focal point (so: inside the zone, on a
named street); a zone with no such point starts at its focal point when it lies inside,
else at a point inside the zone, described by the nearest street.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.present.maps.context import MapContext
from hotspots.present.maps.geometry import inner_points
from hotspots.present.maps.layers.base import (
    Layer,
    LayerSpec,
    Legend,
    label,
    point_features,
    polygon_features,
    search_entry,
)
from hotspots.present.maps.names import Gazetteer
from hotspots.present.maps.palette import START, ZONE
from hotspots.present.maps.text import esc, fmt, join_names, pct

REQUIRED = (C.ZONE_ID, C.RANK, "lsoa_codes", "youth_harm", "idaci_rate", "focal_x", "focal_y", C.REASON)
"""Columns of ``outreach`` the layer reads."""

FIELDS = [
    "Start",
    "Rank",
    "Youth-relevant harm",
    "Children in income-deprived families",
    "Places (LSOAs)",
    "Why",
]
"""Popup rows of a zone."""

_START_SENTENCE = re.compile(r"\s*Start at the [^.]*?centred on E [\d,]+, N [\d,]+[^.]*\.")


def zone_geometry(zones: pd.DataFrame, lsoa: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The zones with their polygons: their own geometry, else the union of their LSOAs."""
    if isinstance(zones, gpd.GeoDataFrame) and zones.geometry.name in zones.columns and zones.crs is not None:
        return zones.to_crs(C.CRS).reset_index(drop=True)
    geoms = []
    for codes in zones["lsoa_codes"]:
        wanted = lsoa_list(codes)
        geoms.append(lsoa.loc[lsoa[C.LSOA_CODE].isin(wanted)].geometry.union_all())
    return gpd.GeoDataFrame(pd.DataFrame(zones).reset_index(drop=True), geometry=geoms, crs=lsoa.crs)


def lsoa_list(codes: object) -> list[str]:
    """The LSOA codes of a zone (``;`` or ``,`` separated)."""
    return [c.strip() for c in str(codes).replace(";", ",").split(",") if c.strip()]


def start_points(zones: gpd.GeoDataFrame, gaz: Gazetteer) -> tuple[np.ndarray, list[str], np.ndarray]:
    """A start point per zone (eastings/northings), its street ("" if none inside) and whether it is on that street.

    See the module notes for the rule.
    """
    focal = zones[["focal_x", "focal_y"]].to_numpy(dtype=float)
    out = focal.copy()
    street = [""] * len(zones)
    on_street = np.zeros(len(zones), dtype=bool)
    geoms = zones.geometry.to_numpy()
    s_xy = np.column_stack(
        [shapely.get_x(gaz.streets.geometry.to_numpy()), shapely.get_y(gaz.streets.geometry.to_numpy())]
    )
    inside_pairs = (
        gaz.streets.sindex.query(geoms, predicate="contains")
        if len(gaz.streets)
        else (np.array([], int), np.array([], int))
    )
    inner = inner_points(zones) if len(zones) else np.zeros((0, 2))
    for k in range(len(zones)):
        cand = inside_pairs[1][inside_pairs[0] == k]
        if len(cand) and np.isfinite(focal[k]).all():
            best = cand[np.argmin(np.hypot(*(s_xy[cand] - focal[k]).T))]
            out[k] = s_xy[best]
            street[k] = str(gaz.streets["street"].iloc[best])
            on_street[k] = True
        elif not (np.isfinite(focal[k]).all() and shapely.contains_xy(geoms[k], *focal[k])):
            out[k] = inner[k]
    return out, street, on_street


def reason_without_start(text: object) -> str:
    """The zone's reason without the sites stage's "Start at the grid cell centred on E ..., N ..." sentence."""
    return _START_SENTENCE.sub("", str(text)).strip() if isinstance(text, str) else ""


def start_texts(start: np.ndarray, street: list[str], on_street: np.ndarray, gaz: Gazetteer) -> list[str]:
    """Where each start point is, in words: ``"On or near Shelton Street, St. Ann's ward, Nottingham"``."""
    near = gaz.near(start)
    return [
        (f"On or near {s}" if on else (f"Near {n}" if n else "Inside the zone")) + (f", {a}" if a else "")
        for s, on, n, a in zip(street, on_street, near, gaz.area_at(start), strict=True)
    ]


def zone_names(zones: pd.DataFrame, ctx: MapContext) -> tuple[list[str], list[str]]:
    """Each zone's wards (else districts) and its LSOAs by name, as short lists in words (not escaped)."""
    district = ctx.lsoa.set_index(C.LSOA_CODE)[C.DISTRICT]
    wards, places = [], []
    for codes in zones["lsoa_codes"]:
        members = lsoa_list(codes)
        w = [x for x in dict.fromkeys(ctx.gaz.lsoa_ward.get(c, "") for c in members) if x]
        w = w or [x for x in dict.fromkeys(str(district.get(c, "")) for c in members) if x]
        wards.append(join_names(w, most=3))
        places.append(join_names([ctx.lsoa_names.get(c, c) for c in members], most=8))
    return wards, places


def build(ctx: MapContext, show: bool) -> Layer | None:
    """Zones (named by their wards), start markers, zone labels, search entries and the zone list."""
    df = ctx.frame("outreach")
    if df is None or len(df) == 0:
        return None
    zones = zone_geometry(df, ctx.lsoa).sort_values(C.RANK, kind="stable").reset_index(drop=True)
    start, street, on_street = start_points(zones, ctx.gaz)
    where = [esc(s) for s in start_texts(start, street, on_street, ctx.gaz)]
    ids = [str(z) for z in zones[C.ZONE_ID]]
    wards, places = zone_names(zones, ctx)
    titles = [f"Zone {esc(z)}: {esc(w)}" if w else f"Zone {esc(z)}" for z, w in zip(ids, wards, strict=True)]
    values = [
        where,
        [fmt(r) for r in zones[C.RANK]],
        [fmt(v) for v in zones["youth_harm"]],
        [pct(v) for v in zones["idaci_rate"]],
        [esc(p) for p in places],
        [esc(reason_without_start(r)) for r in zones[C.REASON]],
    ]
    o = ctx.opts
    feats = polygon_features(
        zones, ids=ids, titles=titles, values=values, tolerance=o.simplify_m, precision=o.precision
    )
    pts = point_features(
        start,
        ids=[f"start:{z}" for z in ids],
        titles=[f"Start here: zone {esc(z)}" for z in ids],
        values=[where, titles],
        shape="start",
        classes=[1] * len(ids),
        fields=["Where", "Zone"],
    )
    inner = {f["properties"]["i"]: f["properties"]["p"] for f in feats}
    shown = [(k, z, t, w) for k, (z, t, w) in enumerate(zip(ids, titles, where, strict=True)) if z in inner]
    panel = [[t, z] for _, z, t, _ in shown][: o.top]
    return Layer(
        key="outreach",
        name="Youth outreach zones",
        show=show,
        features=feats,
        points=pts,
        fields=FIELDS,
        tip=1,
        palette=[ZONE, START],
        style={"fill": 0.3, "weight": 2, "line": "#00442d"},
        legend=Legend(
            title="Youth outreach zones",
            items=[(ZONE, "zone (adjacent priority LSOAs)", "box"), (START, "start point, on a named street", "start")],
            note="Each zone starts at the named street inside it nearest its busiest cell.",
        ),
        labels=[label(inner[z], esc(z), min_zoom=0, priority=k, css="zone") for k, z, _, _ in shown],
        search=[
            search_entry(f"{t}, start {w}", "zone", key="outreach", fid=z, at=inner[z], zoom=15) for _, z, t, w in shown
        ],
        panel={"title": f"Outreach zones ({len(panel)})", "items": panel},
    )


SPEC = LayerSpec(key="outreach", build=build, needs={"outreach": REQUIRED})
"""Registry entry."""
