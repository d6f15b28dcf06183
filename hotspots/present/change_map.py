"""The change map (``maps/change.html``): each unit by its change class, intervention areas outlined.

One self-contained page built with the run maps' framework (:mod:`hotspots.present.maps`: the
:class:`~hotspots.present.maps.page.MapPage`, our Leaflet script, the layer registry). Its layers
are the registry's ``AUDIENCE_LAYERS["change"]``, bottom to top: ward and district outlines with
their names, the size of every change (off at opening), the change classes
(:mod:`hotspots.present.maps.layers.change`), the intervention areas
(:mod:`hotspots.present.maps.layers.interventions`) and street names from ``[maps] street_zoom``.
The page has the maps' search box (units, wards, streets, interventions), a panel of the
significant units, one legend and a layer control. With ``[maps] basemap = "none"`` (the default)
it makes no network request at all; with a base map it fetches tiles from that server only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd

from hotspots import columns as C
from hotspots.evaluate.change_stage import ChangeResult
from hotspots.present.maps.build import build_layers, map_html, options_from, page_bounds, study_attribution
from hotspots.present.maps.config import BASEMAPS, MapsConfig
from hotspots.present.maps.context import MapContext, make_gazetteer
from hotspots.present.maps.layers import AUDIENCE_LAYERS
from hotspots.present.maps.layers.change import UNIT_WORDS
from hotspots.present.maps.names import Gazetteer
from hotspots.present.maps.page import MapPage
from hotspots.present.maps.text import esc, fmt
from hotspots.sites.config import DEFAULT_KIT_RADIUS_M

if TYPE_CHECKING:
    from hotspots.prepare.study import Study

TITLE = "What changed"
"""The change map's title."""

SEARCH_HINT = "Search places, wards, streets, interventions"
"""The change map's search box placeholder."""


def _method(result: ChangeResult) -> str:
    one = UNIT_WORDS[result.units][0]
    meta = result.table.attrs.get("change", {})
    used = meta.get("dispersion", {}).get("used", "")
    tested = meta.get("tested", int((result.table["change_class"] != "no data").sum()))
    alpha = result.config.mde_alpha or result.config.alpha
    what = "harm" if result.measure == "harm" else "incidents"
    return (
        f"Each {esc(one)}'s {what} per month after against before: an exact test allowing for month-to-month "
        f"variation ({esc(used)}), with the Benjamini-Hochberg false discovery rate over {tested:,} units with "
        f"data. Smallest fall that could be seen: {100 * result.config.power:.0f} % power, two-sided alpha "
        f"{fmt(alpha)} per unit, before the correction. Incident counts under the small-count threshold read "
        f"&lt;N. Every number is in change.csv."
    )


def change_map_page(
    result: ChangeResult,
    study: Study,
    *,
    cfg: MapsConfig | None = None,
    gazetteer: Gazetteer | None = None,
) -> MapPage:
    """The change map as a :class:`~hotspots.present.maps.page.MapPage`.

    Parameters
    ----------
    result
        The change stage's result.
    study
        The loaded :class:`~hotspots.prepare.study.Study` (name, wards, districts, LSOAs, the
        incidents' location names for street labels, attribution).
    cfg
        ``[maps]`` settings (base map, simplification, precision, max cells, small-count
        suppression, street zoom, panel size); default :class:`~hotspots.present.maps.MapsConfig`.
    gazetteer
        Street and area names (built from the study when not given).

    Returns
    -------
    MapPage
        Get its HTML with :func:`hotspots.present.maps.map_html`.
    """
    cfg = cfg or MapsConfig()
    opts = options_from(cfg, kit_radius_m=cfg.kit_radius_m or DEFAULT_KIT_RADIUS_M)
    ctx = MapContext(
        audience="change",
        study=study,
        frames={},
        opts=opts,
        gaz=gazetteer or make_gazetteer(study),
        results={"change": result},
    )
    p = result.periods
    subtitle = (
        f"{study.name} \u00b7 {', '.join(result.sources)} \u00b7 before {p.before[0]} to {p.before[-1]} "
        f"({p.before_months} months with data) \u00b7 after {p.after[0]} to {p.after[-1]} ({p.after_months})"
    )
    return MapPage(
        audience="change",
        title=TITLE,
        subtitle=subtitle,
        notes=f"<p>{_method(result)}</p><p>{study_attribution(study)}</p>",
        bounds=page_bounds(gpd.GeoSeries(result.table.geometry.values, crs=C.CRS)),
        layers=build_layers(ctx, AUDIENCE_LAYERS["change"]),
        basemap=BASEMAPS[cfg.basemap],
        search_hint=SEARCH_HINT,
    )


def change_map(
    result: ChangeResult,
    study: Study,
    *,
    cfg: MapsConfig | None = None,
    gazetteer: Gazetteer | None = None,
) -> str:
    """The change map as one self-contained HTML page (see :func:`change_map_page`).

    Returns
    -------
    str
        The page: Leaflet and the page's script inlined; no external address unless ``cfg.basemap``
        names an online base map (then only its tile server's).

    Raises
    ------
    AssetError
        The offline map assets are not installed.
    """
    return map_html(change_map_page(result, study, cfg=cfg, gazetteer=gazetteer))
