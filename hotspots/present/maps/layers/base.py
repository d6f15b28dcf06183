"""What a map layer is: the :class:`Layer` a layer module builds and the :class:`LayerSpec` that registers it.

A layer module turns stage results into a :class:`Layer`: features with a title, a class
(index into the layer's palette) and popup values already escaped and formatted; a legend;
labels; entries for the search box and the panel. The page (:mod:`hotspots.present.maps.page`)
serialises layers to JSON and the page's script (``ui/map.js``) draws them, so a layer module
never writes markup or script.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np

from hotspots.present.maps.geometry import geojson_all, inner_points, lat_lon, web_geometry
from hotspots.present.maps.text import esc

if TYPE_CHECKING:  # pragma: no cover
    from hotspots.present.maps.context import MapContext

PANES = ("outlines", "features", "rings", "points", "markers")
"""Where a layer is drawn, bottom to top: boundary lines (never clickable), filled areas,
kit coverage rings (never clickable), dots (canvas), markers. Labels are drawn above the areas
and never take a click."""

SHAPES = ("box", "line", "dashed", "ring", "dot", "kit", "start")
"""Legend and marker shapes: filled box, line, dashed line, dashed ring, dot, kit (square with a cross), start
(triangle)."""


@dataclass
class Legend:
    """A layer's section of the page's one legend.

    ``items`` are ``(colour, label, shape)`` with the label already escaped; ``shape`` one of :data:`SHAPES`.
    """

    title: str
    items: list[tuple[str, str, str]]
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        """The legend as the page's script reads it."""
        return {"title": esc(self.title), "items": [list(i) for i in self.items], "note": self.note}


@dataclass
class Layer:
    """One toggleable layer of a map, ready to serialise.

    Attributes
    ----------
    key
        Unique name in the page (search and panel entries point at features by ``key`` and id).
    name
        Label in the layer control (plain text).
    show
        Shown when the page opens.
    pane
        Where the areas are drawn, one of :data:`PANES` (points go to ``markers``, or to
        ``points`` for dots, and their rings to ``rings``).
    interactive
        Features open a popup on click and a tooltip on hover (boundaries: False).
    features
        Areas: GeoJSON features whose properties are ``i`` (id), ``t`` (title), ``v`` (values,
        one per field), ``c`` (class: index into ``palette``), ``p`` (an inner point, lat/lon).
    points
        Points: dicts with ``i``, ``t``, ``v``, ``c``, ``ll`` (lat/lon), ``s`` (shape) and
        optionally ``n`` (text on the marker), ``r`` (ring radius, metres), ``m`` (counts by month)
        and ``f`` (their own field labels, when they differ from the areas').
    fields
        Popup row labels (escaped); empty values are left out of the popup.
    tip
        How many fields the hover tooltip shows after the title.
    palette
        Colours indexed by a feature's ``c``.
    style
        Drawing options for the page's script: ``fill`` (opacity, or one per class), ``weight``,
        ``line`` (one colour for every outline; None: each feature's class colour), ``dash`` (an SVG
        dash pattern such as ``"7 5"``, or one per class), ``outline`` (True: lines only, no fill, so
        a click inside reaches the layers beneath), ``radius`` (dots).
    legend
        Its section of the legend, or None.
    labels
        ``[lat, lon, text, min_zoom, max_zoom, priority, css_class]`` drawn while the layer is on.
    search
        Search entries: ``{"l": label, "k": kind, "ly": key, "id": feature id, "p": [lat, lon], "z": zoom}``.
    panel
        ``{"title": ..., "items": [[label, feature id], ...]}`` for the panel of top items, or None.
    extra
        Anything else the page's script needs for this kind of layer (e.g. the months).
    """

    key: str
    name: str
    show: bool
    pane: str = "features"
    interactive: bool = True
    features: list[dict[str, Any]] = field(default_factory=list)
    points: list[dict[str, Any]] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    tip: int = 0
    palette: list[str] = field(default_factory=list)
    style: dict[str, Any] = field(default_factory=dict)
    legend: Legend | None = None
    labels: list[list[Any]] = field(default_factory=list)
    search: list[dict[str, Any]] = field(default_factory=list)
    panel: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The layer as the page's script reads it."""
        return {
            "key": self.key,
            "name": esc(self.name),
            "show": self.show,
            "pane": self.pane,
            "interactive": self.interactive,
            "features": self.features,
            "points": self.points,
            "fields": self.fields,
            "tip": self.tip,
            "palette": self.palette,
            "style": self.style,
            "legend": self.legend.to_json() if self.legend else None,
            "labels": self.labels,
            "panel": self.panel,
            "extra": self.extra,
        }

    def popup(self, feature_id: str) -> dict[str, str]:
        """``{label: value}`` of one feature's popup as the page shows it (for tests and checks)."""
        for f in [*self.features, *self.points]:
            props = f.get("properties", f)
            if props["i"] == feature_id:
                rows = {"title": props["t"]}
                labels = props.get("f", self.fields)
                rows.update({k: v for k, v in zip(labels, props["v"], strict=False) if v != ""})
                return rows
        raise KeyError(feature_id)

    def ids(self) -> list[str]:
        """Feature ids (areas, then points) in drawing order."""
        return [f.get("properties", f)["i"] for f in [*self.features, *self.points]]


@dataclass(frozen=True)
class LayerSpec:
    """A registry entry: how to build one layer and which stage results it draws.

    Attributes
    ----------
    key
        The layer's key (unique).
    build
        ``build(ctx, show) -> Layer | None`` (None: nothing to draw).
    needs
        Result name -> columns the layer reads (checked before building; a missing
        result leaves the layer out with a warning unless it is the audience's main one).
    """

    key: str
    build: Callable[[MapContext, bool], Layer | None]
    needs: dict[str, tuple[str, ...]] = field(default_factory=dict)


def polygon_features(
    gdf: gpd.GeoDataFrame,
    *,
    ids: Sequence[str],
    titles: Sequence[str],
    values: Sequence[Sequence[str]],
    classes: Sequence[int] | None = None,
    tolerance: float,
    precision: int,
    coverage: bool = False,
) -> list[dict[str, Any]]:
    """GeoJSON features for polygons (see :class:`Layer`); ``values`` is one sequence per field."""
    if len(gdf) == 0:
        return []
    geoms = web_geometry(gdf, tolerance=tolerance, precision=precision, coverage=coverage).to_numpy()
    inner = lat_lon(inner_points(gdf), precision=precision)
    cls = [0] * len(gdf) if classes is None else [int(c) for c in classes]
    out = []
    for i, g in enumerate(geojson_all(geoms)):
        if g is None:
            continue
        props = {
            "i": str(ids[i]),
            "t": titles[i],
            "v": [vals[i] for vals in values],
            "c": cls[i],
            "p": [float(inner[i, 0]), float(inner[i, 1])],
        }
        out.append({"type": "Feature", "geometry": g, "properties": props})
    return out


def point_features(
    xy: np.ndarray,
    *,
    ids: Sequence[str],
    titles: Sequence[str],
    values: Sequence[Sequence[str]],
    shape: str,
    classes: Sequence[int] | None = None,
    texts: Sequence[str] | None = None,
    radius_m: float | None = None,
    fields: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Point features (see :class:`Layer`) at eastings/northings ``xy`` (n, 2); non-finite points are left out."""
    ll = lat_lon(xy)
    places = ll.tolist()
    out = []
    for i in np.flatnonzero(np.isfinite(ll).all(axis=1)).tolist():
        f: dict[str, Any] = {
            "i": str(ids[i]),
            "t": titles[i],
            "v": [vals[i] for vals in values],
            "c": 0 if classes is None else int(classes[i]),
            "ll": places[i],
            "s": shape,
        }
        if texts is not None:
            f["n"] = texts[i]
        if radius_m is not None:
            f["r"] = float(radius_m)
        if fields is not None:
            f["f"] = list(fields)
        out.append(f)
    return out


def search_entry(
    label: str, kind: str, *, key: str | None, fid: str | None, at: Sequence[float], zoom: int
) -> dict[str, Any]:
    """One search entry (``label`` escaped already; ``at`` latitude/longitude)."""
    entry: dict[str, Any] = {"l": label, "k": kind, "p": [float(at[0]), float(at[1])], "z": int(zoom)}
    if key is not None:
        entry["ly"] = key
        entry["id"] = fid
    return entry


def polygon_search(
    features: list[dict[str, Any]], ids: Sequence[str], where: Sequence[str], kind: str, *, key: str, zoom: int = 15
) -> list[dict[str, Any]]:
    """One search entry per polygon feature: its title and where it is (``where`` not escaped yet)."""
    return [
        search_entry(f"{f['properties']['t']}, {esc(w)}", kind, key=key, fid=i, at=f["properties"]["p"], zoom=zoom)
        for f, i, w in zip(features, ids, where, strict=False)
    ]


def label(
    at: Sequence[float], text: str, *, min_zoom: int, max_zoom: int = 20, priority: int, css: str
) -> list[float | int | str]:
    """One label (``text`` escaped already; ``at`` latitude/longitude); lower ``priority`` is placed first."""
    return [float(at[0]), float(at[1]), text, int(min_zoom), int(max_zoom), int(priority), css]
