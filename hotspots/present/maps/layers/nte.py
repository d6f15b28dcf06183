"""Night-time-economy zones: clusters of venues with the violence in and near them (analyst map)."""

from __future__ import annotations

from hotspots.present.maps.context import MapContext
from hotspots.present.maps.geometry import inner_points
from hotspots.present.maps.layers.base import Layer, LayerSpec, Legend, polygon_features, polygon_search
from hotspots.present.maps.palette import NTE_ZONE
from hotspots.present.maps.text import esc, fmt

REQUIRED = ("zone_id", "venues", "n_within", "harm_within")
"""Columns of ``nte_zones`` the layer reads."""


def build(ctx: MapContext, show: bool) -> Layer | None:
    """NTE zones named by the nearest street and ward."""
    if ctx.frame("nte_zones") is None:
        return None
    z = ctx.geo("nte_zones").reset_index(drop=True)
    describe = ctx.gaz.describe(inner_points(z)) if len(z) else []
    ids = [str(i) for i in z["zone_id"]]
    feats = polygon_features(
        z,
        ids=ids,
        titles=[f"Night-time economy zone {esc(i)}" for i in ids],
        values=[
            [esc(d) for d in describe],
            [fmt(v) for v in z["venues"]],
            [fmt(v) for v in z["n_within"]],
            [fmt(v) for v in z["harm_within"]],
        ],
        tolerance=ctx.opts.simplify_m,
        precision=ctx.opts.precision,
    )
    search = polygon_search(feats, ids, describe, "NTE zone", key="nte_zones")
    return Layer(
        key="nte_zones",
        name="Night-time economy zones",
        show=show,
        features=feats,
        fields=["Where", "Venues", "Incidents within", "Harm within"],
        tip=1,
        palette=[NTE_ZONE],
        style={"fill": 0.2, "weight": 2, "line": NTE_ZONE},
        legend=Legend(
            title="Night-time economy zones",
            items=[(NTE_ZONE, "cluster of pubs and bars", "box")],
            note="Venue clusters; violence inside and near each.",
        ),
        search=search,
    )


SPEC = LayerSpec(key="nte_zones", build=build, needs={"nte_zones": REQUIRED})
"""Registry entry."""
