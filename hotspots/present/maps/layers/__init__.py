"""The map-layer registry: every layer the maps can draw, and which audience sees which.

Each layer lives in its own module of this package and exposes a
:class:`~hotspots.present.maps.layers.base.LayerSpec` (a ``build(ctx, show)`` function and the
stage results it reads). :data:`REGISTRY` lists them by key; :data:`AUDIENCE_LAYERS` says,
per audience, which layers its map draws, bottom to top, and which are on when the page
opens. Adding a layer is one new module plus one entry here (and a line in an audience's
list); see ``docs/maps.md``.
"""

from __future__ import annotations

from hotspots.present.maps.layers import (
    boundaries,
    change,
    clusters,
    emerging,
    gistar,
    interventions,
    kde,
    kits,
    monthly,
    nte,
    outreach,
    places,
    streets,
    venues,
    where_next,
)
from hotspots.present.maps.layers.base import Layer, LayerSpec, Legend

REGISTRY: dict[str, LayerSpec] = {
    spec.key: spec
    for spec in (
        boundaries.LSOA,
        boundaries.WARDS,
        boundaries.DISTRICTS,
        places.SPEC,
        kde.SPEC,
        gistar.GRID,
        gistar.LSOA,
        emerging.SPEC,
        clusters.SPEC,
        nte.SPEC,
        outreach.SPEC,
        monthly.SPEC,
        venues.SPEC,
        kits.SPEC,
        streets.SPEC,
        where_next.SPEC,
        change.SPEC,
        change.SIZE,
        interventions.SPEC,
    )
}
"""Every map layer by key."""

AUDIENCE_LAYERS: dict[str, list[tuple[str, bool]]] = {
    "board": [
        ("wards", True),
        ("districts", True),
        ("places", True),
        ("kits", True),
        ("streets", True),
    ],
    "outreach": [
        ("lsoa_outlines", False),
        ("wards", True),
        ("districts", True),
        ("outreach", True),
        ("venues", True),
        ("kits", True),
        ("streets", True),
    ],
    "analyst": [
        ("lsoa_outlines", False),
        ("wards", False),
        ("districts", True),
        ("places", False),
        ("kde", False),
        ("gi_grid", True),
        ("gi_lsoa", False),
        ("emerging", False),
        ("clusters", False),
        ("nte_zones", False),
        ("outreach", False),
        ("where_next", False),
        ("monthly", False),
        ("venues", False),
        ("kits", False),
        ("streets", True),
    ],
    "change": [
        ("wards", True),
        ("districts", True),
        ("change_size", False),
        ("change", True),
        ("interventions", True),
        ("streets", True),
    ],
}
"""Per map: ``(layer key, on when the page opens)``, drawn in this order (later on top). The three
``[maps] audiences`` of ``hotspots run``, and ``change``, the map of ``hotspots change``."""

__all__ = ["AUDIENCE_LAYERS", "REGISTRY", "Layer", "LayerSpec", "Legend"]
