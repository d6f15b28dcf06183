"""Incidents by month at their map points, with a month filter (analyst map).

The place-analysis incidents (``[study] sources``) are counted per map point and month; the
page's month filter sizes each dot by its count in the chosen month (or all months). Points
are named by their police.uk location, else the nearest street.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.present.maps.context import MapContext
from hotspots.present.maps.layers.base import Layer, LayerSpec, Legend, point_features
from hotspots.present.maps.names import location_names
from hotspots.present.maps.palette import MONTHLY
from hotspots.present.maps.text import esc, fmt


def monthly_counts(
    inc: gpd.GeoDataFrame,
) -> tuple[list[str], np.ndarray, list[list[list[int]]], np.ndarray, pd.DataFrame]:
    """Incidents per map point and month.

    Returns the months, the map points (n, 2), ``[[month index, count], ...]`` per point,
    each point's total, and the rows (``x, y, month, loc, m``) with their location names.
    """
    geoms = inc.geometry.to_numpy()
    d = pd.DataFrame(
        {
            "x": np.round(shapely.get_x(geoms)),
            "y": np.round(shapely.get_y(geoms)),
            "month": inc[C.MONTH].astype(str).to_numpy(),
            "loc": location_names(inc[C.LOCATION]).to_numpy() if C.LOCATION in inc.columns else "",
        }
    )
    codes, uniques = pd.factorize(d["month"])  # the months in order of appearance, then sorted
    months = sorted(uniques.tolist())
    order = {m: i for i, m in enumerate(months)}
    d["m"] = np.array([order[m] for m in uniques.tolist()], dtype=np.int64)[codes]
    per = d.groupby(["x", "y", "m"]).size().rename("n").reset_index()  # sorted by point, then month
    xy_all = per[["x", "y"]].to_numpy(dtype=float)
    starts = np.flatnonzero(np.r_[True, (np.diff(xy_all, axis=0) != 0).any(axis=1)])
    pairs = per[["m", "n"]].to_numpy().tolist()
    ends = [*starts[1:].tolist(), len(per)]
    by_month = [pairs[a:b] for a, b in zip(starts.tolist(), ends, strict=True)]
    return months, xy_all[starts], by_month, np.add.reduceat(per["n"].to_numpy(), starts), d


def build(ctx: MapContext, show: bool) -> Layer | None:
    """Dots per map point with counts by month."""
    inc = getattr(ctx.study, "analysis_incidents", None)
    if inc is None or len(inc) == 0 or C.MONTH not in inc.columns:
        return None
    inc = inc[inc[C.MONTH].notna() & inc.geometry.notna() & ~inc.geometry.is_empty]
    if len(inc) == 0:
        return None
    months, xy, by_month, totals, d = monthly_counts(inc)
    named = d[(d["loc"] != "") & ~d["loc"].str.lower().isin(ctx.gaz.generic)].groupby(["x", "y"])["loc"].first()
    loc = (
        named.reindex(pd.MultiIndex.from_arrays([xy[:, 0], xy[:, 1]])).fillna("").to_numpy()
        if len(named)
        else np.full(len(xy), "", dtype=object)
    )
    near = ctx.gaz.near(xy)
    areas = ctx.gaz.area_at(xy)
    titles = [
        esc(f"On or near {n}" if n else (f"Near {s}" if s else "Map point")) for n, s in zip(loc, near, strict=True)
    ]
    feats = point_features(
        xy,
        ids=[f"pt{k}" for k in range(len(xy))],
        titles=titles,
        values=[[esc(a) for a in areas], [fmt(t) for t in totals]],
        shape="dot",
    )
    for f, m in zip(feats, by_month, strict=False):
        f["m"] = m
    return Layer(
        key="monthly",
        name="Incidents by month",
        show=show,
        pane="points",
        points=feats,
        fields=["Where", "All months"],
        tip=0,
        palette=[MONTHLY],
        style={"radius": 3},
        legend=Legend(
            title="Incidents by month",
            items=[(MONTHLY, "map point; area grows with the count", "dot")],
            note="Pick a month in the month filter. police.uk places each crime at a nearby map point.",
        ),
        extra={"months": [esc(m) for m in months]},
    )


SPEC = LayerSpec(key="monthly", build=build)
"""Registry entry."""
