"""Building blocks of the maps: escaping, geometry for the web, GeoJSON layers, legends, notes.

Every text that comes from the data goes through :func:`esc` before it reaches the page:
folium writes tooltips and popups into JavaScript template literals and ``innerHTML``,
so a venue called ``<img src=x onerror=alert(1)>`` would otherwise run.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template

WGS84 = "EPSG:4326"

GI_COLOURS = {
    "hot 99%": "#b2182b",
    "hot 95%": "#ef8a62",
    "hot 90%": "#fddbc7",
    "cold 90%": "#d1e5f0",
    "cold 95%": "#67a9cf",
    "cold 99%": "#2166ac",
}
"""Gi* class colours (red hot, blue cold, as ArcGIS's Hot Spot Analysis renderer)."""

KDE_COLOURS = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026", "#800026", "#4d0013"]
"""Sequential yellow-orange-red for the KDE classes (lowest first)."""

TIER_COLOURS = ["#a50f15", "#fb6a4a", "#fcbba1", "#fee5d9", "#f7f7f7"]
"""Tier 1 (darkest) to the lowest tier."""


# --------------------------------------------------------------------------------------
# text
# --------------------------------------------------------------------------------------


def esc(value: Any) -> str:
    r"""Escape a data value for HTML inside a JavaScript template literal.

    ``html.escape`` plus the characters that matter inside backtick strings (`` ` ``,
    ``$``, ``\\``), ``/`` and ``:`` (so no text from the data can form ``</script>`` or a URL,
    and a name that mentions a web address never trips the external-URL check).
    Missing values become an empty string.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    s = html.escape(str(value), quote=True)
    return (
        s.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;").replace("/", "&#47;").replace(":", "&#58;")
    )


def fmt(value: Any, digits: int = 3) -> str:
    """A number for people: integers with thousands separators, others to ``digits`` significant figures."""
    if value is None or value is pd.NA:
        return "n/a"
    try:
        f = float(value)
    except (TypeError, ValueError):
        return esc(value)
    if math.isnan(f):
        return "n/a"
    if f.is_integer() and abs(f) < 1e15:
        return f"{int(f):,}"
    if abs(f) >= 1000:
        return f"{f:,.0f}"
    return f"{f:.{digits}g}"


def count_text(n: Any, *, suppress_below: int | None) -> str:
    """An incident count, shown as ``"<5"`` (for ``suppress_below=5``) when small and positive."""
    if n is None or n is pd.NA or (isinstance(n, float) and math.isnan(n)):
        return "n/a"
    if suppress_below and 0 < float(n) < suppress_below:
        return f"&lt;{suppress_below}"
    return fmt(n)


_COUNT_IN_TEXT = re.compile(
    r"(?<![\d.,])(\d+)(\s+(?:violent\s+)?(?:incidents?|crimes?|offences?|robberies|robbery))\b", re.I
)


def suppress_counts_in_text(text: Any, *, below: int | None) -> Any:
    """Replace incident counts from 1 to ``below - 1`` written in free text (e.g. a reason) by ``"<below"``.

    ``"Top 49% harm-weighted violence (4 incidents)"`` becomes ``"... (<5 incidents)"``.
    Apply before :func:`esc`.
    """
    if not below or not isinstance(text, str):
        return text

    def repl(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return f"<{below}{m.group(2)}" if 0 < n < below else m.group(0)

    return _COUNT_IN_TEXT.sub(repl, text)


def table(rows: Iterable[tuple[str, str]], *, title: str | None = None) -> str:
    """An HTML table of (label, value) pairs; both must already be escaped/formatted."""
    head = f"<b>{title}</b><br>" if title else ""
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f"{head}<table class='hs-table'>{body}</table>"


# --------------------------------------------------------------------------------------
# geometry
# --------------------------------------------------------------------------------------


def web_geometry(gdf: gpd.GeoDataFrame, *, tolerance: float, precision: int, coverage: bool = False) -> gpd.GeoSeries:
    """Simplify (metres, in the frame's CRS), reproject to WGS84 and round coordinates.

    ``coverage=True`` simplifies polygons that tile the plane (LSOAs, wards, districts)
    together so neighbours keep a shared edge (``shapely.coverage_simplify``).
    """
    geoms = gdf.geometry.to_numpy()
    if tolerance > 0 and len(geoms):
        simplified = None
        if coverage:
            try:
                simplified = shapely.coverage_simplify(geoms, tolerance)
            except Exception:  # not a valid coverage: fall back to per-polygon simplification
                simplified = None
        if simplified is None:
            simplified = shapely.simplify(geoms, tolerance, preserve_topology=True)
        geoms = simplified
    out = gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs).to_crs(WGS84)
    factor = 10.0**precision
    rounded = shapely.transform(out.to_numpy(), lambda c: np.round(c * factor) / factor)
    return gpd.GeoSeries(rounded, index=gdf.index, crs=WGS84)


def feature_collection(geoms: gpd.GeoSeries, props: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection with numbered ids and the given properties."""
    feats = []
    for i, (g, p) in enumerate(zip(geoms.to_numpy(), props, strict=False)):
        if g is None or g.is_empty:
            continue
        feats.append({"type": "Feature", "id": str(i), "properties": p, "geometry": shapely.geometry.mapping(g)})
    return {"type": "FeatureCollection", "features": feats}


def dissolve_by(gdf: gpd.GeoDataFrame, column: str) -> gpd.GeoDataFrame:
    """Union the polygons of each value of ``column`` (used when a grid has too many cells to draw)."""
    parts = []
    for value, grp in gdf.groupby(column, sort=False, observed=True):
        try:
            geom = shapely.coverage_union_all(grp.geometry.to_numpy())
        except Exception:
            geom = shapely.union_all(grp.geometry.to_numpy())
        parts.append({column: value, "cells": len(grp), "geometry": geom})
    return gpd.GeoDataFrame(parts, geometry="geometry", crs=gdf.crs)


# --------------------------------------------------------------------------------------
# layers
# --------------------------------------------------------------------------------------


def polygon_layer(
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    colours: Sequence[str] | str | None,
    fields: Sequence[tuple[str, Sequence[str]]],
    tip: Sequence[int] | None = None,
    popup: bool = True,
    tolerance: float,
    precision: int,
    coverage: bool = False,
    fill_opacity: float = 0.65,
    line_colour: str | None = "#555555",
    weight: float = 0.5,
    show: bool = True,
) -> folium.FeatureGroup:
    """A toggleable group with one GeoJSON layer of polygons.

    ``fields`` are ``(label, values)`` pairs, one value per row, already escaped or
    formatted (:func:`esc`, :func:`fmt`): the page holds them as plain feature properties
    and Leaflet lays them out as a table, so no markup is repeated per feature. The
    tooltip shows the fields numbered in ``tip`` (default all), the popup shows all.
    ``colours`` is a fill colour per row, one colour for all, or None for outlines only.
    """
    group = folium.FeatureGroup(name=name, show=show)
    if len(gdf) == 0:
        return group
    geoms = web_geometry(gdf, tolerance=tolerance, precision=precision, coverage=coverage)
    if colours is None or isinstance(colours, str):
        colours = [colours or ""] * len(gdf)
    keys = [f"f{i}" for i in range(len(fields))]
    props = []
    for i in range(len(gdf)):
        p = {k: vals[i] for k, (_, vals) in zip(keys, fields, strict=False)}
        p["c"] = colours[i]
        props.append(p)
    data = feature_collection(geoms, props)
    filled = fill_opacity > 0 and any(colours)
    labels = [esc(label) for label, _ in fields]
    tip = list(range(len(fields))) if tip is None else list(tip)

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        c = feature["properties"]["c"]
        return {
            "fillColor": c or "#000000",
            "fillOpacity": fill_opacity if (filled and c) else 0.0,
            "color": line_colour or c or "#555555",
            "weight": weight,
        }

    gj = folium.GeoJson(
        data,
        name=name,
        style_function=style,
        highlight_function=lambda f: {"weight": max(weight * 3, 2), "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(
            fields=[keys[i] for i in tip],
            aliases=[labels[i] for i in tip],
            sticky=True,
            class_name="foliumtooltip hs-tip",
        ),
        popup=folium.GeoJsonPopup(fields=keys, aliases=labels, class_name="foliumpopup hs-pop") if popup else None,
        smooth_factor=1.0,
    )
    gj.add_to(group)
    return group


class Legend(MacroElement):
    """A legend box shown only while its layer is on the map.

    ``items`` are ``(colour, label)`` pairs (labels already escaped).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this.map_name }};
            var layer = {{ this.layer_name }};
            var ctl = L.control({position: {{ this.position|tojson }}});
            ctl.onAdd = function () {
                var div = L.DomUtil.create('div', 'hs-legend leaflet-control');
                div.setAttribute('data-layer', {{ this.title|tojson }});
                div.innerHTML = {{ this.body|tojson }};
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            ctl.addTo(map);
            function sync() {
                ctl.getContainer().style.display = map.hasLayer(layer) ? '' : 'none';
            }
            sync();
            map.on('overlayadd overlayremove', sync);
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        *,
        map_name: str,
        layer: folium.FeatureGroup,
        title: str,
        items: Sequence[tuple[str, str]],
        note: str = "",
        position: str = "bottomright",
    ) -> None:
        super().__init__()
        self._name = "Legend"
        self.map_name = map_name
        self.layer_name = layer.get_name()
        self.title = title
        self.position = position
        rows = "".join(
            f"<div><span class='hs-swatch' style='background:{c}'></span>{label}</div>" for c, label in items
        )
        extra = f"<div class='hs-note'>{note}</div>" if note else ""
        self.body = f"<div class='hs-legend-title'>{esc(title)}</div>{rows}{extra}"


class InfoBox(MacroElement):
    """A fixed Leaflet control holding ready HTML (title, notes, attribution)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var ctl = L.control({position: {{ this.position|tojson }}});
            ctl.onAdd = function () {
                var div = L.DomUtil.create('div', {{ this.css_class|tojson }} + ' leaflet-control');
                div.innerHTML = {{ this.body|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            ctl.addTo({{ this.map_name }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, *, map_name: str, body: str, position: str, css_class: str) -> None:
        super().__init__()
        self._name = "InfoBox"
        self.map_name = map_name
        self.body = body
        self.position = position
        self.css_class = css_class


STYLE = """
<style>
.hs-legend, .hs-title, .hs-notes { background: rgba(255,255,255,0.93); padding: 6px 9px; border-radius: 5px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.35); font: 12px/1.35 system-ui, -apple-system, "Segoe UI", Arial, sans-serif;
  color: #222; }
.hs-title { font-size: 15px; max-width: 420px; }
.hs-title h1 { font-size: 17px; margin: 0 0 2px 0; font-weight: 600; }
.hs-notes { max-width: 430px; font-size: 11px; }
.hs-notes summary { cursor: pointer; font-weight: 600; }
.hs-legend-title { font-weight: 600; margin-bottom: 3px; }
.hs-swatch { display: inline-block; width: 14px; height: 14px; margin-right: 6px; vertical-align: -2px;
  border: 1px solid #777; }
.hs-note { color: #555; margin-top: 3px; max-width: 220px; }
.hs-table th, .hs-table td, .leaflet-tooltip th, .leaflet-tooltip td, .leaflet-popup-content th, .leaflet-popup-content td {
  padding: 1px 4px; vertical-align: top; text-align: left; font-size: 12px; }
.leaflet-container .leaflet-tooltip { white-space: normal; max-width: 440px; }
.leaflet-container .leaflet-tooltip td { min-width: 200px; }
.leaflet-container .leaflet-tooltip th { white-space: nowrap; }
.folium-map.leaflet-container { background: #f4f3ef; }
.leaflet-tooltip, .leaflet-popup-content { font: 12px/1.35 system-ui, -apple-system, "Segoe UI", Arial, sans-serif; }
.leaflet-popup-content { max-width: 360px; }
</style>
"""
"""Page CSS for the legends, title and notes."""
