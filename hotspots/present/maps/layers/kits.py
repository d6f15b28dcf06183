"""Bleed-control kit sites: numbered square markers with their walking-radius rings.

Each kit is named as people would find it: the venue's name, or the street of its police.uk
map point ("parking area near Milton Street" for a generic one), with the nearest street and
ward; never the internal site id or candidate source.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.io.sites import SOURCE_CANDIDATE, SOURCE_DEFIB, SOURCE_KIT, SOURCE_LOCATION, SOURCE_VENUE
from hotspots.present.maps.context import MapContext
from hotspots.present.maps.layers.base import Layer, LayerSpec, Legend, label, point_features, search_entry
from hotspots.present.maps.names import place_phrase
from hotspots.present.maps.palette import KIT
from hotspots.present.maps.text import esc, fmt, pct

REQUIRED = ("site_id", C.ORDER, "source", "name", "covered_harm", "marginal_harm", "cumulative_coverage_pct")
"""Columns of ``bleed_kits`` the layer reads."""

FIELDS = [
    "Where",
    "Chosen from",
    "Harm within reach",
    "Harm this kit adds",
    "Share of all harm within reach of kits 1 to this",
    "Reach",
]
"""Popup rows of a kit."""

SOURCE_WORDS = {
    SOURCE_VENUE: "a night-time venue",
    SOURCE_LOCATION: "a police.uk crime location",
    SOURCE_CANDIDATE: "one of your candidate sites",
    SOURCE_KIT: "an existing kit",
    SOURCE_DEFIB: "a defibrillator site",
}
"""Where a candidate site came from, in words."""


def kit_xy(kits: pd.DataFrame) -> np.ndarray:
    """Eastings/northings (n, 2) of the kits from ``x``/``y``, their geometry, or ``lon``/``lat``.

    Raises
    ------
    InputError
        The frame has no coordinates.
    """
    if {"x", "y"} <= set(kits.columns):
        return kits[["x", "y"]].to_numpy(dtype=float)
    if isinstance(kits, gpd.GeoDataFrame) and kits.crs is not None:
        pts = kits.to_crs(C.CRS).geometry
        return np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
    if {"lon", "lat"} <= set(kits.columns):
        pts = gpd.GeoSeries(gpd.points_from_xy(kits["lon"], kits["lat"]), crs="EPSG:4326").to_crs(C.CRS)
        return np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
    raise InputError("results['bleed_kits'] has no x/y, geometry or lon/lat to place the kits.")


def site_name(
    row: Any, xy: np.ndarray, ctx: MapContext
) -> str:  # Any: a DataFrame.itertuples row, a namedtuple class made at run time
    """The kit's site in words (not escaped): a venue's name, or a street / generic place near a street."""
    name = "" if row.name is None or (isinstance(row.name, float) and np.isnan(row.name)) else str(row.name)
    if row.source == SOURCE_LOCATION or name.lower().startswith("on or near"):
        return place_phrase(name, ctx.gaz, xy)
    return name or place_phrase("", ctx.gaz, xy)


def build(ctx: MapContext, show: bool) -> Layer | None:
    """Numbered kit markers, rings of the kit radius, and the kits in order in the panel."""
    kits = ctx.frame("bleed_kits")
    if kits is None or len(kits) == 0:
        return None
    kits = kits.sort_values(C.ORDER, kind="stable").reset_index(drop=True)
    xy = kit_xy(kits)
    sites = [site_name(r, xy[i], ctx) for i, r in enumerate(kits.itertuples(index=False))]
    where = ctx.gaz.describe(xy)
    order = [fmt(o) for o in kits[C.ORDER]]
    radius = ctx.opts.kit_radius_m
    titles = [f"Kit {o}: {esc(s)}" for o, s in zip(order, sites, strict=True)]
    ids = [f"kit{o}" for o in order]
    pts = point_features(
        xy,
        ids=ids,
        titles=titles,
        values=[
            [esc(w) for w in where],
            [SOURCE_WORDS.get(str(s), "a candidate site") for s in kits["source"]],
            [fmt(v) for v in kits["covered_harm"]],
            [fmt(v) for v in kits["marginal_harm"]],
            [pct(float(v) / 100) for v in kits["cumulative_coverage_pct"]],
            [f"{fmt(radius)} m walk"] * len(kits),
        ],
        shape="kit",
        texts=order,
        radius_m=radius,
    )
    at = {p["i"]: p["ll"] for p in pts}
    shown = [(k, i, t, w, s) for k, (i, t, w, s) in enumerate(zip(ids, titles, where, sites, strict=True)) if i in at]
    panel = [[t, i] for _, i, t, _, _ in shown][: ctx.opts.top]
    return Layer(
        key="kits",
        name="Bleed-control kit sites",
        show=show,
        pane="markers",
        points=pts,
        fields=FIELDS,
        tip=1,
        palette=[KIT],
        legend=Legend(
            title="Bleed-control kit sites",
            items=[
                (KIT, "kit site (number = order of value)", "kit"),
                (KIT, f"{fmt(radius)} m walk around it", "ring"),
            ],
            note="Kit 1 adds the most harm within reach; each next kit adds the most of what is left.",
        ),
        labels=[label(at[i], esc(s), min_zoom=15, priority=50 + k, css="kit") for k, i, _, _, s in shown],
        search=[
            search_entry(f"{t}, {esc(w)}" if w else t, "kit", key="kits", fid=i, at=at[i], zoom=17)
            for _, i, t, w, _ in shown
        ],
        panel={"title": f"Kits in order ({len(panel)})", "items": panel},
    )


SPEC = LayerSpec(key="kits", build=build, needs={"bleed_kits": REQUIRED})
"""Registry entry."""
