"""Interactive, offline, self-contained maps for three audiences.

``hotspots run`` writes ``OUT/maps/board.html``, ``OUT/maps/outreach.html`` and
``OUT/maps/analyst.html``. Each is one HTML file with Leaflet and the page's own script
inlined (see :mod:`hotspots.present.assets`): it opens by double-click with no internet and,
with ``[maps] basemap = "none"`` (the default), sends no request anywhere.

Audiences
---------
board
    Priority places coloured by tier, bleed-kit sites with their reach, ward and district
    outlines and names, street names. Never individual incidents; counts under 5 read "<5".
outreach
    Youth outreach zones with a start point each, kit sites, night-time venues, outlines,
    names.
analyst
    Everything: hot and cold spots (grid and LSOA), the KDE surface, emerging hot spots,
    density clusters, NTE zones, priority places, zones, venues, kits, incidents by month
    with a month filter.

Which layers each map draws is the registry in :mod:`hotspots.present.maps.layers`. Every
page has a search box (places, wards, streets, kits, zones), a panel of the top places,
zones and kits, one collapsible legend and a layer control; see ``docs/maps.md``.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots import parallel
from hotspots.detect.stage import DetectResult
from hotspots.errors import InputError
from hotspots.prepare.study import Study
from hotspots.present import assets
from hotspots.present.maps.config import AUDIENCES, BASEMAPS, TITLES, MapsConfig
from hotspots.present.maps.context import MapContext, MapOptions, check_result, make_gazetteer
from hotspots.present.maps.geometry import WGS84
from hotspots.present.maps.layers import AUDIENCE_LAYERS, REGISTRY, Layer
from hotspots.present.maps.names import Gazetteer
from hotspots.present.maps.page import MapPage, render_page
from hotspots.present.maps.text import esc
from hotspots.rank.stage import RankResult
from hotspots.sites.config import DEFAULT_KIT_RADIUS_M
from hotspots.sites.stage import SitesResult
from hotspots.steps import step

if TYPE_CHECKING:
    from hotspots.evaluate.forecast.stage import ForecastResult

log = logging.getLogger(__name__)

ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0 (data.police.uk). "
    "Source: Office for National Statistics licensed under the OGL v3.0. Contains OS data &copy; Crown copyright "
    "and database right 2011&#47;2022. English Indices of Deprivation 2019 (MHCLG, OGL v3.0). Open Pubs (OGL v3.0; "
    "contains OS, Royal Mail and National Statistics data)."
)
"""The default data attribution (HTML); a loaded study gives its own (``study.attribution``: the data it used)."""

METHODS = {
    "board": (
        "Places are LSOAs (neighbourhoods of about 1,500 residents) in priority tiers; the likely range "
        "of each rank comes from simulating the next period's counts. Kit sites reach the most harm-weighted "
        "violence within a short walk (maximal covering model). Counts under 5 are shown as &lt;5. Street "
        "names come from police.uk's location names."
    ),
    "outreach": (
        "Outreach zones group adjacent top-ranked LSOAs for youth-relevant violence (robbery, weapons, violence), "
        "children in income-deprived families and hot-spot strength. Each zone starts at the named street inside "
        "it nearest its busiest grid cell. Kit sites reach the most harm-weighted violence within a short walk."
    ),
    "analyst": (
        "Gi* (Getis &amp; Ord 1992) with binary weights including self, analytic z, Benjamini-Hochberg false "
        "discovery rate; classes at 99&#47;95&#47;90 % confidence as ArcGIS Gi_Bin. KDE: kernel density of harm on "
        "the grid, classed with mapclassify. Clusters: density-based footprints ranked by harm per km&sup2;. "
        "police.uk points are snapped to map points and dates are months only. Every column is in the run's "
        "CSV and GeoPackage files."
    ),
}
"""What each map's method note says (static HTML)."""

FOR_WHOM = {"board": "the Strategic Board", "outreach": "outreach coordinators", "analyst": "analysts"}
"""Who each map is for (the run's output list)."""

PAD_M = 500.0
"""The outreach map opens on its zones and kits with this margin (metres)."""


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector inside the block (restored after, also on error).

    A page holds millions of small lists and tuples (coordinates, features); every few thousand
    new objects the collector would walk them all, for cycles a page does not make (reference
    counting frees them). Paused, the maps stage takes about a sixth less CPU time.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def page_bounds(geoms: gpd.GeoSeries) -> list[list[float]]:
    """``[[south, west], [north, east]]`` of ``geoms`` (any CRS), the view a page opens on."""
    minx, miny, maxx, maxy = geoms.to_crs(WGS84).total_bounds
    return [[round(float(miny), 5), round(float(minx), 5)], [round(float(maxy), 5), round(float(maxx), 5)]]


def _outreach_focus(frames: dict[str, pd.DataFrame]) -> gpd.GeoSeries | None:
    parts = []
    zones = frames.get("outreach")
    if isinstance(zones, gpd.GeoDataFrame) and zones.crs is not None and len(zones):
        parts.append(zones.to_crs(C.CRS).geometry)
    kits = frames.get("bleed_kits")
    if kits is not None and len(kits) and {"x", "y"} <= set(kits.columns):
        parts.append(gpd.GeoSeries(gpd.points_from_xy(kits["x"], kits["y"]), crs=C.CRS))
    if not parts:
        return None
    focus = gpd.GeoSeries(pd.concat(parts, ignore_index=True), crs=C.CRS).buffer(PAD_M)
    return focus if np.isfinite(focus.total_bounds).all() else None


def study_attribution(study: object) -> str:
    """The credit for the data the study used (HTML), or the default :data:`ATTRIBUTION`."""
    attribution = getattr(study, "attribution", None)
    return esc(" ".join(attribution)) if attribution else ATTRIBUTION


def build_map(
    audience: str,
    results: dict[str, Any],
    study: Study,
    *,
    basemap: str = "none",
    options: MapOptions | None = None,
    gazetteer: Gazetteer | None = None,
) -> MapPage:
    """Build one audience's map from the stage results.

    Parameters
    ----------
    audience
        ``"board"``, ``"outreach"`` or ``"analyst"``.
    results
        ``places``, ``grid``, ``lsoa``, ``clusters``, ``nte_zones``, ``bleed_kits``,
        ``outreach`` (the documented columns, EPSG:27700), as :func:`stage_results` makes them.
    study
        The loaded :class:`~hotspots.prepare.study.Study` (LSOAs, boundaries, venues,
        incidents, name, period).
    basemap
        A key of :data:`~hotspots.present.maps.config.BASEMAPS`.
    options
        Drawing options (default :class:`~hotspots.present.maps.context.MapOptions`).
    gazetteer
        Street and area names (built from the study when not given).

    Returns
    -------
    MapPage
        Write it with :func:`write_map`, or get its HTML with :func:`map_html`.

    Raises
    ------
    InputError
        The audience or base map is unknown, its main result is missing, or a result lacks a
        documented column.
    """
    with gc_paused():
        return _build_map(audience, results, study, basemap=basemap, options=options, gazetteer=gazetteer)


def _build_map(
    audience: str,
    results: dict[str, Any],
    study: Study,
    *,
    basemap: str,
    options: MapOptions | None,
    gazetteer: Gazetteer | None,
) -> MapPage:
    if audience not in AUDIENCES:
        raise InputError(f"unknown map audience {audience!r}; choose from {list(AUDIENCES)}.")
    if basemap not in BASEMAPS:
        raise InputError(f"unknown base map {basemap!r}; choose from {list(BASEMAPS)}.")
    frames: dict[str, pd.DataFrame] = {}
    wanted = AUDIENCE_LAYERS[audience]
    for key, _ in wanted:
        for name, columns in REGISTRY[key].needs.items():
            if name not in frames and (df := check_result(results, name, columns, audience)) is not None:
                frames[name] = df
    if "lsoa" in results and isinstance(results["lsoa"], pd.DataFrame):
        frames.setdefault("lsoa", results["lsoa"])
    ctx = MapContext(
        audience=audience,
        study=study,
        frames=frames,
        opts=options or MapOptions(),
        gaz=gazetteer or make_gazetteer(study),
    )
    layers = build_layers(ctx, wanted)
    focus = _outreach_focus(frames) if audience == "outreach" else None
    bounds = page_bounds(focus if focus is not None else gpd.GeoSeries([study.area], crs=C.CRS))
    notes = f"<p>{METHODS[audience]}</p><p>{study_attribution(study)}</p>"
    return MapPage(
        audience=audience,
        title=TITLES[audience],
        subtitle=f"{study.name} \u00b7 data period {study.analysis_period}",
        notes=notes,
        bounds=bounds,
        layers=layers,
        basemap=BASEMAPS[basemap],
    )


def build_layers(ctx: MapContext, wanted: list[tuple[str, bool]]) -> list[Layer]:
    """The registered layers ``wanted`` (``(key, on at opening)``, bottom to top) that have something to draw.

    A layer whose results (``needs``) are not in ``ctx.frames`` is left out, as is one whose
    builder returns None.
    """
    layers = []
    for key, show in wanted:
        spec = REGISTRY[key]
        if any(name not in ctx.frames for name in spec.needs):
            continue
        layer = spec.build(ctx, show)
        if layer is not None:
            layers.append(layer)
    return layers


def map_html(page: MapPage) -> str:
    """The map as one self-contained HTML page (Leaflet inlined; the base map's tile URL the only address left).

    Raises
    ------
    AssetError
        The offline assets are not installed, or the page references an unmapped URL.
    """
    allow = (page.basemap.prefix,) if page.basemap is not None else ()
    with gc_paused():
        return assets.inline_html(render_page(page), allow=allow)


def write_map(page: MapPage, path: Path) -> Path:
    """Write the self-contained page to ``path`` (UTF-8)."""
    html = map_html(page)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


@dataclass(frozen=True)
class MapsResult:
    """Each audience's map as one self-contained HTML page.

    Attributes
    ----------
    pages
        Audience (``"board"``, ``"outreach"``, ``"analyst"``) -> the page's HTML.
    auto
        Parameters chosen automatically (the kit radius drawn).
    summary
        Each page's size in bytes and build time in seconds, and the base map.
    """

    pages: dict[str, str]
    auto: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


def stage_results(
    detected: DetectResult | None,
    ranked: RankResult | None,
    sited: SitesResult | None,
    forecast: ForecastResult | None = None,
) -> dict[str, Any]:
    """The stage results the map layers draw, by name (absent stages are left out)."""
    results: dict[str, Any] = {}
    if forecast is not None:  # the forecast stage (issue 14): layer hotspots.present.maps.layers.where_next
        results["where_next"] = forecast.layer
        results["where_next_top"] = forecast.table
    if detected is not None:
        results.update(detected.layers())
        results["emerging"] = detected.emerging
    if ranked is not None:
        results["places"] = ranked.places
    if sited is not None:
        results["bleed_kits"] = sited.kits
        results["outreach"] = sited.outreach
        results["coverage_curve"] = sited.coverage_curve
    return results


def options_from(cfg: MapsConfig, *, kit_radius_m: float) -> MapOptions:
    """The drawing options of a ``[maps]`` section."""
    return MapOptions(
        simplify_m=cfg.simplify_m,
        precision=cfg.precision,
        max_cells=cfg.max_cells,
        kde_scheme=cfg.kde_scheme,
        kde_classes=cfg.kde_classes,
        suppress_below=cfg.suppress_below,
        kit_radius_m=kit_radius_m,
        street_zoom=cfg.street_zoom,
        top=cfg.top,
    )


def build_maps(
    study: Study,
    detected: DetectResult | None,
    ranked: RankResult | None,
    sited: SitesResult | None,
    cfg: MapsConfig,
    *,
    forecast: ForecastResult | None = None,
) -> MapsResult:
    """Pipeline stage ``maps``: one self-contained page per configured audience.

    Parameters
    ----------
    study
        The loaded study (boundaries, venues, incidents, name, period).
    detected, ranked, sited
        The results of the detect, rank and sites stages (None where a stage did not run:
        its layers are left out, with a warning, unless an audience cannot do without it).
    cfg
        The ``[maps]`` section.
    forecast
        The forecast stage's result (:class:`hotspots.evaluate.forecast.stage.ForecastResult`):
        the analyst map's "where next" layer; None leaves it out.

    Returns
    -------
    MapsResult
        The pages, the kit radius drawn and each page's size and build time.
    """
    results = stage_results(detected, ranked, sited, forecast)
    radius = _kit_radius(cfg, sited)
    opts = options_from(cfg, kit_radius_m=radius)
    with step("gazetteer"):
        gaz = make_gazetteer(study)

    def one(audience: str) -> tuple[str, float]:
        t = time.perf_counter()
        with step(audience):
            page = map_html(build_map(audience, results, study, basemap=cfg.basemap, options=opts, gazetteer=gaz))
        return page, time.perf_counter() - t

    # the largest page first: it goes to a worker process when one is free (hotspots.parallel)
    order = sorted(cfg.audiences, key=lambda a: a != "analyst")
    tasks = {a: parallel.start(partial(one, a), name=f"maps.{a}") for a in order}
    pages: dict[str, str] = {}
    sizes: dict[str, Any] = {}
    for audience in cfg.audiences:
        pages[audience], seconds = tasks[audience].result()
        sizes[audience] = {"bytes": len(pages[audience].encode("utf-8")), "seconds": round(seconds, 3)}
        log.info("maps: built the %s map (%.1f MB)", audience, sizes[audience]["bytes"] / 1e6)
    sizes["basemap"] = cfg.basemap
    return MapsResult(pages=pages, auto=_auto(radius, gaz), summary=sizes)


def _kit_radius(cfg: MapsConfig, sited: SitesResult | None) -> float:
    return cfg.kit_radius_m or (sited.radius_m if sited is not None else DEFAULT_KIT_RADIUS_M)


def _auto(radius: float, gaz: Gazetteer) -> dict[str, Any]:
    return {"kit_radius_m": radius, "street_names": {"map_points": len(gaz.streets), **gaz.rows}}


def maps_auto(study: Study, sited: SitesResult | None, cfg: MapsConfig) -> dict[str, Any]:
    """The automatic choices :func:`build_maps` records (:attr:`MapsResult.auto`), without building a page.

    The report lists them; the pipeline uses this when the report is written beside the maps.
    """
    return _auto(_kit_radius(cfg, sited), make_gazetteer(study))
