"""Street names from police.uk location names, shown from ``[maps] street_zoom`` and searchable.

Generic location types ("Supermarket", "Parking Area", ...; see
:mod:`hotspots.present.maps.names`) are left out. One label per street name in each
400 m square, at the map point nearest the square's middle.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hotspots.present.maps.context import MapContext
from hotspots.present.maps.geometry import lat_lon
from hotspots.present.maps.layers.base import Layer, LayerSpec, label, search_entry
from hotspots.present.maps.names import Gazetteer, street_labels
from hotspots.present.maps.text import esc

_CACHE_KEY = "streets_layer"
"""Key of the street labels' places, names and areas in :attr:`Gazetteer.cache`."""


def street_points(gaz: Gazetteer) -> tuple[np.ndarray, list[str], list[str]]:
    """The street labels' (latitude/longitude, escaped name, escaped search text) for ``gaz``, once per gazetteer.

    Every map of a run shares the gazetteer, so the three maps place, name and locate the
    same labels once instead of three times.
    """
    hit = gaz.cache.get(_CACHE_KEY)
    if hit is None:
        lab = street_labels(gaz)
        if len(lab) == 0:
            hit = (np.zeros((0, 2)), [], [])
        else:
            xy = lab[["x", "y"]].to_numpy(dtype=float)
            names = [esc(s) for s in lab["street"]]
            areas = gaz.area_at(xy)
            search = [f"{n}, {esc(a)}" if a else n for n, a in zip(names, areas, strict=True)]
            hit = (lat_lon(xy), names, search)
        gaz.cache[_CACHE_KEY] = hit
    return hit


def street_finders(gaz: Gazetteer, zoom: int) -> tuple[list[list[Any]], list[dict[str, Any]]]:
    """The street layer's labels (shown from ``zoom``) and search entries, made once per gazetteer and zoom."""
    key = f"{_CACHE_KEY}.zoom{zoom}"
    hit = gaz.cache.get(key)
    if hit is None:
        at, names, search = street_points(gaz)
        places = at.tolist()
        hit = (
            [label(a, n, min_zoom=zoom, priority=1000, css="street") for a, n in zip(places, names, strict=True)],
            [
                search_entry(text, "street", key=None, fid=None, at=p, zoom=17)
                for p, text in zip(places, search, strict=True)
            ],
        )
        gaz.cache[key] = hit
    return hit


def build(ctx: MapContext, show: bool) -> Layer | None:
    """Street-name labels and search entries (None when the data has no named map points)."""
    z = ctx.opts.street_zoom
    labels, search = street_finders(ctx.gaz, z)
    if not labels:
        return None
    return Layer(
        key="streets",
        name=f"Street names (from zoom {z})",
        show=show,
        pane="outlines",
        interactive=False,
        labels=list(labels),  # the entries are shared by the maps of a run, the lists are the layer's own
        search=list(search),
    )


SPEC = LayerSpec(key="streets", build=build)
"""Registry entry."""
