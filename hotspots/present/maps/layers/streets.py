"""Street names from police.uk location names, shown from ``[maps] street_zoom`` and searchable.

Generic location types ("Supermarket", "Parking Area", ...; see
:mod:`hotspots.present.maps.names`) are left out. One label per street name in each
400 m square, at the map point nearest the square's middle.
"""

from __future__ import annotations

from hotspots.present.maps.context import MapContext
from hotspots.present.maps.geometry import lat_lon
from hotspots.present.maps.layers.base import Layer, LayerSpec, label, search_entry
from hotspots.present.maps.names import street_labels
from hotspots.present.maps.text import esc


def build(ctx: MapContext, show: bool) -> Layer | None:
    """Street-name labels and search entries (None when the data has no named map points)."""
    lab = street_labels(ctx.gaz)
    if len(lab) == 0:
        return None
    xy = lab[["x", "y"]].to_numpy(dtype=float)
    at = lat_lon(xy)
    areas = ctx.gaz.area_at(xy)
    names = [esc(s) for s in lab["street"]]
    z = ctx.opts.street_zoom
    return Layer(
        key="streets",
        name=f"Street names (from zoom {z})",
        show=show,
        pane="outlines",
        interactive=False,
        labels=[label(a, n, min_zoom=z, priority=1000, css="street") for a, n in zip(at, names, strict=True)],
        search=[
            search_entry(f"{n}, {esc(a)}" if a else n, "street", key=None, fid=None, at=p, zoom=17)
            for p, n, a in zip(at, names, areas, strict=True)
        ],
    )


SPEC = LayerSpec(key="streets", build=build)
"""Registry entry."""
