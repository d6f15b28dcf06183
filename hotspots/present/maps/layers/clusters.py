"""Density clusters: footprints of dense incident groups, ranked by harm per km² (analyst map)."""

from __future__ import annotations

from hotspots import columns as C
from hotspots.present.maps.context import MapContext
from hotspots.present.maps.geometry import inner_points
from hotspots.present.maps.layers.base import Layer, LayerSpec, Legend, polygon_features, polygon_search
from hotspots.present.maps.palette import CLUSTER
from hotspots.present.maps.text import esc, fmt

REQUIRED = ("cluster_id", C.RANK, C.N, C.HARM, "area_km2", "harm_per_km2")
"""Columns of ``clusters`` the layer reads."""


def build(ctx: MapContext, show: bool) -> Layer | None:
    """Cluster footprints named by the nearest street and ward."""
    if ctx.frame("clusters") is None:
        return None
    cl = ctx.geo("clusters").sort_values(C.RANK, kind="stable").reset_index(drop=True)
    xy = inner_points(cl) if len(cl) else None
    describe = ctx.gaz.describe(xy) if xy is not None else []
    ids = [str(c) for c in cl["cluster_id"]]
    titles = [f"Density cluster {esc(i)} (rank {fmt(r)})" for i, r in zip(ids, cl[C.RANK], strict=True)]
    feats = polygon_features(
        cl,
        ids=ids,
        titles=titles,
        values=[
            [esc(d) for d in describe],
            [fmt(v) for v in cl[C.N]],
            [fmt(v) for v in cl[C.HARM]],
            [fmt(v) for v in cl["area_km2"]],
            [fmt(v) for v in cl["harm_per_km2"]],
        ],
        tolerance=ctx.opts.simplify_m,
        precision=ctx.opts.precision,
    )
    search = polygon_search(feats, ids, describe, "cluster", key="clusters")
    return Layer(
        key="clusters",
        name="Density clusters",
        show=show,
        features=feats,
        fields=["Where", "Incidents", "Harm", "Area (km\u00b2)", "Harm per km\u00b2"],
        tip=1,
        palette=[CLUSTER],
        style={"fill": 0.25, "weight": 1.5, "line": CLUSTER},
        legend=Legend(
            title="Density clusters", items=[(CLUSTER, "cluster footprint", "box")], note="Ranked by harm per km&sup2;."
        ),
        search=search,
    )


SPEC = LayerSpec(key="clusters", build=build, needs={"clusters": REQUIRED})
"""Registry entry."""
