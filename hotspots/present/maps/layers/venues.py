"""Night-time venues (pubs and bars from ``[venues]``) as small dots, searchable by name."""

from __future__ import annotations

import numpy as np
import shapely

from hotspots import columns as C
from hotspots.present.maps.context import MapContext
from hotspots.present.maps.layers.base import Layer, LayerSpec, Legend, point_features, search_entry
from hotspots.present.maps.palette import VENUE
from hotspots.present.maps.text import esc


def build(ctx: MapContext, show: bool) -> Layer | None:
    """One dot per venue with its name, address and ward."""
    venues = getattr(ctx.study, "venues", None)
    if venues is None or len(venues) == 0:
        return None
    v = venues[venues.geometry.notna() & ~venues.geometry.is_empty].reset_index(drop=True)
    geoms = v.geometry.to_numpy()
    xy = np.column_stack([shapely.get_x(geoms), shapely.get_y(geoms)])
    names = [esc(n) or "Venue" for n in v[C.VENUE_NAME]]
    areas = ctx.gaz.area_at(xy)
    vcfg = getattr(ctx.study.config, "venues", None)
    snapshot = getattr(vcfg, "snapshot", None)
    when = f" ({esc(snapshot)})" if snapshot else ""
    kind = "pub or bar" if getattr(vcfg, "format", "open_pubs") == "open_pubs" else "venue"
    ids = [f"v{i}" for i in range(len(v))]
    pts = point_features(
        xy,
        ids=ids,
        titles=names,
        values=[
            [esc(a) for a in v.get(C.VENUE_ADDRESS, [""] * len(v))],
            [esc(p) for p in v.get(C.VENUE_POSTCODE, [""] * len(v))],
            [esc(a) for a in areas],
        ],
        shape="dot",
    )
    search = [
        search_entry(f"{p['t']}, {esc(a)}" if a else p["t"], "venue", key="venues", fid=p["i"], at=p["ll"], zoom=17)
        for p, a in zip(pts, areas, strict=False)
    ]
    return Layer(
        key="venues",
        name=f"Night-time venues{when}",
        show=show,
        pane="points",
        points=pts,
        fields=["Address", "Postcode", "Where"],
        tip=0,
        palette=[VENUE],
        style={"radius": 4},
        legend=Legend(title=f"Night-time venues{when}", items=[(VENUE, kind, "dot")]),
        search=search,
    )


SPEC = LayerSpec(key="venues", build=build)
"""Registry entry."""
