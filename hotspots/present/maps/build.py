"""Interactive, offline, self-contained maps for three audiences.

``hotspots run`` writes ``OUT/maps/board.html``, ``OUT/maps/outreach.html`` and
``OUT/maps/analyst.html``. Each is one HTML file with Leaflet and every plugin inlined
(see :mod:`hotspots.present.assets`), so it opens by double-click on a laptop with no internet
and sends no request anywhere.

Audiences
---------
board
    Priority places coloured by tier, bleed-kit sites with their coverage circles,
    district and ward outlines. Never individual incidents; incident counts under 5
    shown as "<5".
outreach
    Youth outreach zones with their focal points, bleed-kit sites, NTE venues
    (clustered markers), outlines.
analyst
    Everything: tiers, Gi* hot and cold spots on the grid and on LSOAs, the KDE
    surface, density clusters, NTE zones, venues, kits, outreach zones, emerging hot
    spots (when computed), outlines.

Every layer can be switched on and off in the layer control; each coloured layer has a
legend shown while the layer is on. Every text from the data is escaped.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
from folium.plugins import FastMarkerCluster

from hotspots import columns as C
from hotspots.detect.stage import DetectResult
from hotspots.errors import HotspotsWarning, InputError
from hotspots.prepare.study import Study
from hotspots.present import assets
from hotspots.present.maps.config import AUDIENCES, KDE_SCHEMES, TILE_PROVIDERS, MapsConfig
from hotspots.present.maps.style import (
    GI_COLOURS,
    KDE_COLOURS,
    STYLE,
    TIER_COLOURS,
    WGS84,
    InfoBox,
    Legend,
    count_text,
    dissolve_by,
    esc,
    fmt,
    polygon_layer,
    suppress_counts_in_text,
    table,
)
from hotspots.rank.stage import RankResult
from hotspots.sites.config import DEFAULT_KIT_RADIUS_M
from hotspots.sites.stage import SitesResult

log = logging.getLogger(__name__)


ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0 (data.police.uk). "
    "Source: Office for National Statistics licensed under the OGL v3.0. Contains OS data &copy; Crown copyright "
    "and database right 2011&#47;2022. English Indices of Deprivation 2019 (MHCLG, OGL v3.0). Open Pubs (OGL v3.0; "
    "contains OS, Royal Mail and National Statistics data)."
)
"""Data attribution shown on every map (static text, already HTML)."""

METHODS = {
    "board": (
        "Places are LSOAs ranked by a composite priority score (harm-weighted violence, hotspot strength, "
        "night-time-economy exposure, deprivation without its crime domain, youth need); the interval is the "
        "5th-95th percentile rank over Monte Carlo draws. Kit sites maximise harm-weighted violence within "
        "walking distance (maximal covering model). Counts under 5 are shown as &lt;5."
    ),
    "outreach": (
        "Outreach zones group adjacent top-ranked LSOAs for youth-relevant violence (robbery, weapons, violence), "
        "youth deprivation (derived IDACI rate, Children and Young People sub-domain) and hotspot strength; "
        "start from the focal point (the densest cell). Kit sites maximise harm-weighted violence within "
        "walking distance. Venues are the 2017 Open Pubs list."
    ),
    "analyst": (
        "Gi* (Getis &amp; Ord 1992) with binary weights including self, analytic z, Benjamini-Hochberg FDR; classes "
        "at 99&#47;95&#47;90 % confidence as ArcGIS Gi_Bin. KDE: kernel density of harm on the grid, classed with "
        "mapclassify. Clusters: density-based footprints ranked by harm per km&sup2;. police.uk points are snapped to "
        "map points and dates are months only."
    ),
}


# columns each result must have for its layer
REQUIRED = {
    "places": [
        "lsoa_code",
        "lsoa_name",
        "district",
        "rank",
        "score",
        "rank_low",
        "rank_high",
        "p_top_n",
        "tier",
        "reason",
    ],
    "grid": ["cell_id", "hotspot_class"],
    "lsoa": ["lsoa_code", "n", "hotspot_class"],
    "clusters": ["cluster_id", "rank", "n", "harm", "area_km2", "harm_per_km2"],
    "nte_zones": ["zone_id", "venues", "n_within", "harm_within"],
    "bleed_kits": ["site_id", "order", "source", "name", "covered_harm", "marginal_harm", "cumulative_coverage_pct"],
    "outreach": ["zone_id", "rank", "lsoa_codes", "youth_harm", "idaci_rate", "focal_x", "focal_y", "reason"],
}
"""Columns each ``results`` frame must carry for its map layer."""

PRODUCER = {
    "places": "rank",
    "grid": "detect",
    "lsoa": "detect",
    "clusters": "detect",
    "nte_zones": "detect",
    "bleed_kits": "sites",
    "outreach": "sites",
}

PRIMARY = {"board": "places", "outreach": "outreach", "analyst": "grid"}
"""The result an audience's map cannot be made without."""

FIXED_PLACE_COLUMNS = set(REQUIRED["places"]) | {"geometry"}


class _Opts:
    def __init__(
        self,
        *,
        tolerance: float,
        precision: int,
        max_cells: int,
        kde_scheme: str,
        kde_classes: int,
        suppress_below: int,
        kit_radius: float,
    ) -> None:
        self.tolerance = tolerance
        self.precision = precision
        self.max_cells = max_cells
        self.kde_scheme = kde_scheme
        self.kde_classes = kde_classes
        self.suppress_below = suppress_below
        self.kit_radius = kit_radius


# --------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------


def _frame(results: dict[str, Any], key: str, audience: str, *, required: bool) -> pd.DataFrame | None:
    df = results.get(key)
    if df is None:
        if required:
            raise InputError(
                f"the {audience} map needs results[{key!r}], made by the {PRODUCER[key]} stage; "
                f"run `hotspots run` with the {PRODUCER[key]} stage before maps."
            )
        warnings.warn(
            f"{audience} map: no {key!r} result (made by the {PRODUCER[key]} stage); its layer is left out.",
            HotspotsWarning,
            stacklevel=3,
        )
        return None
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"results[{key!r}] must be a (Geo)DataFrame, got {type(df).__name__}.")
    missing = [c for c in REQUIRED[key] if c not in df.columns]
    if missing:
        raise InputError(
            f"results[{key!r}] lacks column(s) {missing} needed by the {audience} map; "
            f"it has {list(df.columns)}. The {PRODUCER[key]} stage must write the documented columns."
        )
    return df


def _with_lsoa_geometry(df: pd.DataFrame, lsoa: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    if isinstance(df, gpd.GeoDataFrame) and df.geometry.name in df.columns and df.geometry.notna().all():
        return df.to_crs(C.CRS) if df.crs is not None and not df.crs.equals(C.CRS) else df
    geo = lsoa[[C.LSOA_CODE, "geometry"]].merge(
        pd.DataFrame(df).drop(columns="geometry", errors="ignore"), on=C.LSOA_CODE, how="inner"
    )
    if len(geo) < len(df):
        raise InputError(f"{what}: {len(df) - len(geo)} row(s) have an lsoa_code that is not a study-area LSOA.")
    return gpd.GeoDataFrame(geo, geometry="geometry", crs=lsoa.crs)


def _geo(df: pd.DataFrame, what: str) -> gpd.GeoDataFrame:
    if not isinstance(df, gpd.GeoDataFrame) or df.crs is None:
        raise InputError(f"results[{what!r}] must be a GeoDataFrame with a CRS (EPSG:27700).")
    return df if df.crs.equals(C.CRS) else df.to_crs(C.CRS)


# --------------------------------------------------------------------------------------
# layers
# --------------------------------------------------------------------------------------


def _tier_order(tiers: pd.Series) -> list[Any]:
    vals = [t for t in tiers.dropna().unique().tolist()]

    def key(t: Any) -> tuple[float, str]:
        digits = "".join(ch for ch in str(t) if ch.isdigit())
        return (float(digits) if digits else float("inf"), str(t))

    return sorted(vals, key=key)


def _tier_label(t: Any) -> str:
    s = str(t)
    return esc(s if not s.isdigit() else f"Tier {s}")


def _places_layer(
    m: folium.Map, places: gpd.GeoDataFrame, lsoa_counts: pd.Series | None, audience: str, o: _Opts, *, show: bool
) -> folium.FeatureGroup:
    tiers = _tier_order(places["tier"])
    colour_of = {t: TIER_COLOURS[min(i, len(TIER_COLOURS) - 1)] for i, t in enumerate(tiers)}
    suppress = o.suppress_below if audience == "board" else None
    components = [
        c for c in places.columns if c not in FIXED_PLACE_COLUMNS and pd.api.types.is_numeric_dtype(places[c])
    ]
    n_places = len(places)
    col = {c: places[c].tolist() for c in places.columns if c != "geometry"}
    fields: list[tuple[str, list[str]]] = [
        ("Place", [f"{esc(a)} ({esc(b)})" for a, b in zip(col["lsoa_name"], col["district"], strict=False)]),
        (
            "Rank",
            [
                f"{fmt(r)} of {n_places:,} (likely {fmt(lo)}\u2013{fmt(hi)})"
                for r, lo, hi in zip(col["rank"], col["rank_low"], col["rank_high"], strict=False)
            ],
        ),
        ("Tier", [_tier_label(t) for t in col["tier"]]),
        ("Why", [esc(suppress_counts_in_text(r, below=suppress)) for r in col["reason"]]),
        ("LSOA", [esc(c) for c in col["lsoa_code"]]),
        ("Score", [fmt(v) for v in col["score"]]),
        ("Chance in top group", [f"{fmt(100 * float(v), 2)} %" if pd.notna(v) else "n/a" for v in col["p_top_n"]]),
    ]
    if lsoa_counts is not None:
        fields.append(
            ("Violent incidents", [count_text(lsoa_counts.get(c), suppress_below=suppress) for c in col["lsoa_code"]])
        )
    if audience == "analyst":
        fields += [(c, [fmt(v) for v in col[c]]) for c in components]
    colours = [colour_of.get(t, TIER_COLOURS[-1]) for t in col["tier"]]
    group = polygon_layer(
        places,
        name="Priority places (tiers)",
        colours=colours,
        fields=fields,
        tip=[0, 1, 2, 3],
        tolerance=o.tolerance,
        precision=o.precision,
        coverage=True,
        fill_opacity=0.7,
        line_colour="#7a7a7a",
        weight=0.4,
        show=show,
    )
    group.add_to(m)
    counts = places["tier"].value_counts()
    items = [(colour_of[t], f"{_tier_label(t)} ({counts.get(t, 0):,} places)") for t in tiers]
    Legend(
        map_name=m.get_name(),
        layer=group,
        title="Priority tier",
        items=items,
        note="Rank 1 = highest priority. Hover for the reason, click for the numbers.",
    ).add_to(m)
    return group


def _gi_layer(
    m: folium.Map, units: gpd.GeoDataFrame, *, name: str, label: str, o: _Opts, show: bool, key: str
) -> folium.FeatureGroup | None:
    sig = units[units["hotspot_class"].isin(list(GI_COLOURS))]
    if len(sig) > o.max_cells:
        sig = dissolve_by(sig[["hotspot_class", "geometry"]], "hotspot_class")
        fields = [("Class", [esc(c) for c in sig["hotspot_class"]]), ("Cells", [fmt(n) for n in sig["cells"]])]
    else:
        fields = [(label, [esc(v) for v in sig[key]]), ("Class", [esc(c) for c in sig["hotspot_class"]])]
        for col, lab in (("n", "Incidents"), ("harm", "Harm"), ("gi_z", "Gi* z"), ("gi_q", "q (FDR)")):
            if col in sig.columns:
                fields.append((lab, [fmt(v) for v in sig[col]]))
    colours = [GI_COLOURS[c] for c in sig["hotspot_class"]]
    group = polygon_layer(
        sig,
        name=name,
        colours=colours,
        fields=fields,
        popup=False,
        tolerance=0.0,
        precision=o.precision,
        fill_opacity=0.7,
        line_colour=None,
        weight=0.3,
        show=show,
    )
    group.add_to(m)
    counts = units["hotspot_class"].value_counts()
    items = [(c, f"{esc(k)} ({counts.get(k, 0):,})") for k, c in GI_COLOURS.items()]
    Legend(
        map_name=m.get_name(),
        layer=group,
        title=name,
        items=items,
        note="Getis-Ord Gi*, FDR-adjusted; not significant not drawn.",
    ).add_to(m)
    return group


def classify_kde(values: pd.Series, *, scheme: str, k: int) -> tuple[np.ndarray, list[float]]:
    """Class of each positive KDE value (-1 for zero/NaN) and the class upper bounds.

    Parameters
    ----------
    values
        Density per km² aligned to the grid.
    scheme
        Key of :data:`KDE_SCHEMES` (a mapclassify classifier).
    k
        Number of classes (ignored by head/tail breaks).
    """
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    pos = np.isfinite(v) & (v > 0)
    cls = np.full(len(v), -1, dtype=int)
    if pos.sum() == 0:
        return cls, []
    kwargs = {} if scheme == "head_tail_breaks" else {"k": min(k, int(np.unique(v[pos]).size))}
    if scheme != "head_tail_breaks" and kwargs["k"] < 2:
        cls[pos] = 0
        return cls, [float(v[pos].max())]
    clf = getattr(mapclassify, KDE_SCHEMES[scheme])(v[pos], **kwargs)
    yb = np.asarray(clf.yb, dtype=int)
    bins = [float(b) for b in clf.bins]
    if len(bins) > len(KDE_COLOURS):  # head/tail breaks on very skewed data: merge the top classes
        yb = np.minimum(yb, len(KDE_COLOURS) - 1)
        bins = [*bins[: len(KDE_COLOURS) - 1], bins[-1]]
    cls[pos] = yb
    return cls, bins


def _kde_layer(m: folium.Map, grid: gpd.GeoDataFrame, o: _Opts, *, show: bool) -> folium.FeatureGroup | None:
    cls, bins = classify_kde(grid["kde"], scheme=o.kde_scheme, k=o.kde_classes)
    if not bins:
        return None
    g = grid.assign(_cls=cls)[cls >= 0]
    nb = len(bins)
    palette = KDE_COLOURS[:nb] if nb <= len(KDE_COLOURS) else KDE_COLOURS
    lows = [0.0, *bins[:-1]]
    labels = [f"{fmt(lo)} \u2013 {fmt(hi)}" for lo, hi in zip(lows, bins, strict=False)]
    if len(g) > o.max_cells:
        g = dissolve_by(g[["_cls", "geometry"]], "_cls")
        fields = [("KDE per km\u00b2", [labels[c] for c in g["_cls"]]), ("Cells", [fmt(n) for n in g["cells"]])]
    else:
        fields = [("KDE per km\u00b2", [fmt(v) for v in g["kde"]]), ("Class", [labels[c] for c in g["_cls"]])]
    colours = [palette[c] for c in g["_cls"]]
    group = polygon_layer(
        g,
        name="KDE surface (harm density)",
        colours=colours,
        fields=fields,
        popup=False,
        tolerance=0.0,
        precision=o.precision,
        fill_opacity=0.6,
        line_colour=None,
        weight=0,
        show=show,
    )
    group.add_to(m)
    Legend(
        map_name=m.get_name(),
        layer=group,
        title="KDE surface (harm density)",
        items=list(zip(palette, labels, strict=False)),
        note=f"Harm-weighted density per km&sup2;, {esc(o.kde_scheme.replace('_', ' '))} classes; zero not drawn.",
    ).add_to(m)
    return group


def _clusters_layer(m: folium.Map, clusters: gpd.GeoDataFrame, o: _Opts, *, show: bool) -> folium.FeatureGroup:
    fields = [
        (
            "Density cluster",
            [f"{esc(c)} (rank {fmt(r)})" for c, r in zip(clusters["cluster_id"], clusters["rank"], strict=False)],
        ),
        ("Incidents", [fmt(v) for v in clusters["n"]]),
        ("Harm", [fmt(v) for v in clusters["harm"]]),
        ("Area (km\u00b2)", [fmt(v) for v in clusters["area_km2"]]),
        ("Harm per km\u00b2", [fmt(v) for v in clusters["harm_per_km2"]]),
    ]
    group = polygon_layer(
        clusters,
        name="Density clusters",
        colours="#6a3d9a",
        fields=fields,
        tolerance=o.tolerance,
        precision=o.precision,
        fill_opacity=0.25,
        line_colour="#6a3d9a",
        weight=1.5,
        show=show,
    )
    group.add_to(m)
    Legend(
        map_name=m.get_name(),
        layer=group,
        title="Density clusters",
        items=[("#6a3d9a", "cluster footprint")],
        note="Ranked by harm per km&sup2;.",
    ).add_to(m)
    return group


def _nte_layer(m: folium.Map, zones: gpd.GeoDataFrame, o: _Opts, *, show: bool) -> folium.FeatureGroup:
    fields = [
        ("NTE zone", [esc(z) for z in zones["zone_id"]]),
        ("Venues", [fmt(v) for v in zones["venues"]]),
        ("Incidents within", [fmt(v) for v in zones["n_within"]]),
        ("Harm within", [fmt(v) for v in zones["harm_within"]]),
    ]
    group = polygon_layer(
        zones,
        name="NTE zones",
        colours="#1f78b4",
        fields=fields,
        tolerance=o.tolerance,
        precision=o.precision,
        fill_opacity=0.2,
        line_colour="#1f78b4",
        weight=2,
        show=show,
    )
    group.add_to(m)
    Legend(
        map_name=m.get_name(),
        layer=group,
        title="NTE zones",
        items=[("#1f78b4", "night-time economy zone")],
        note="Venue clusters; violence inside and near each.",
    ).add_to(m)
    return group


VENUE_MARKER_JS = """function (row) {
    var icon = L.AwesomeMarkers.icon({prefix: 'fa', icon: 'martini-glass', markerColor: 'darkblue',
                                      iconColor: 'white', extraClasses: 'fa-rotate-0'});
    var marker = L.marker(new L.LatLng(row[0], row[1]), {icon: icon});
    marker.bindTooltip(row[2]);
    marker.bindPopup(row[3], {maxWidth: 320});
    return marker;
}"""
"""Builds one venue marker from a row ``[lat, lon, tooltip, popup]`` (both already escaped HTML)."""


def _venues_layer(m: folium.Map, venues: gpd.GeoDataFrame, *, show: bool) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name="NTE venues (2017)", show=show)
    pts = venues.to_crs(WGS84)
    rows = []
    for row, geom in zip(pts.itertuples(index=False), pts.geometry, strict=False):
        if geom is None or geom.is_empty:
            continue
        r = row._asdict()
        name = esc(r.get(C.VENUE_NAME, "")) or "venue"
        body = table(
            [
                ("Address", esc(r.get(C.VENUE_ADDRESS, ""))),
                ("Postcode", esc(r.get(C.VENUE_POSTCODE, ""))),
                ("LSOA", esc(r.get(C.LSOA_CODE, ""))),
            ],
            title=name,
        )
        rows.append([round(geom.y, 6), round(geom.x, 6), name, body])
    # one data array and one marker function instead of a folium element per venue (fast to write)
    FastMarkerCluster(rows, callback=VENUE_MARKER_JS, name="venues", control=False).add_to(group)
    group.add_to(m)
    Legend(
        map_name=m.get_name(),
        layer=group,
        title="NTE venues (2017)",
        items=[("#0067a3", "pub or bar (Open Pubs, Aug 2017)")],
        note="Numbers are clusters of venues; zoom in to split them.",
    ).add_to(m)
    return group


def _kits_lonlat(kits: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    if {"lon", "lat"} <= set(kits.columns):
        return kits["lon"].to_numpy(dtype=float), kits["lat"].to_numpy(dtype=float)
    if isinstance(kits, gpd.GeoDataFrame) and kits.crs is not None:
        pts = kits.to_crs(WGS84).geometry
        return pts.x.to_numpy(), pts.y.to_numpy()
    if {"x", "y"} <= set(kits.columns):
        pts = gpd.GeoSeries(gpd.points_from_xy(kits["x"], kits["y"]), crs=C.CRS).to_crs(WGS84)
        return pts.x.to_numpy(), pts.y.to_numpy()
    raise InputError("results['bleed_kits'] has no lon/lat, x/y or geometry to place the kits.")


def _kits_layer(m: folium.Map, kits: pd.DataFrame, o: _Opts, *, show: bool) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name="Bleed-control kit sites", show=show)
    lon, lat = _kits_lonlat(kits)
    order = kits.sort_values("order").index
    pos = {ix: i for i, ix in enumerate(kits.index)}
    for ix in order:
        r = kits.loc[ix]
        i = pos[ix]
        if not (np.isfinite(lon[i]) and np.isfinite(lat[i])):
            continue
        title = f"Kit {fmt(r['order'])}: {esc(r['name'])}"
        body = table(
            [
                ("Site", esc(r["site_id"])),
                ("Candidate from", esc(r["source"])),
                ("Harm covered", fmt(r["covered_harm"])),
                ("Harm this kit adds", fmt(r["marginal_harm"])),
                ("Cumulative coverage", f"{fmt(r['cumulative_coverage_pct'])} %"),
                ("Radius", f"{fmt(o.kit_radius)} m walk"),
            ],
            title=title,
        )
        loc = [round(float(lat[i]), 6), round(float(lon[i]), 6)]
        folium.Circle(
            loc,
            radius=o.kit_radius,
            color="#cb181d",
            weight=1.5,
            fill=True,
            fill_opacity=0.12,
            tooltip=folium.Tooltip(title),
        ).add_to(group)
        folium.Marker(
            loc,
            icon=folium.Icon(prefix="fa", icon="kit-medical", color="red", icon_color="white"),
            tooltip=folium.Tooltip(title),
            popup=folium.Popup(body, max_width=320),
        ).add_to(group)
    group.add_to(m)
    Legend(
        map_name=m.get_name(),
        layer=group,
        title="Bleed-control kit sites",
        items=[("#cb181d", f"kit site and its {fmt(o.kit_radius)} m coverage circle")],
        note="Hover or click a kit for its place in the order of value (harm each kit adds).",
    ).add_to(m)
    return group


def _outreach_layer(
    m: folium.Map, zones: pd.DataFrame, lsoa: gpd.GeoDataFrame, o: _Opts, *, show: bool
) -> folium.FeatureGroup:
    if isinstance(zones, gpd.GeoDataFrame) and zones.geometry.name in zones.columns:
        geo = _geo(zones, "outreach")
    else:  # dissolve the zone's LSOAs
        geoms = []
        for codes in zones["lsoa_codes"]:
            codes_list = [c.strip() for c in str(codes).replace(";", ",").split(",") if c.strip()]
            geoms.append(lsoa.loc[lsoa[C.LSOA_CODE].isin(codes_list)].geometry.union_all())
        geo = gpd.GeoDataFrame(pd.DataFrame(zones).reset_index(drop=True), geometry=geoms, crs=lsoa.crs)
    fields = [
        ("Outreach zone", [f"{esc(z)} (rank {fmt(r)})" for z, r in zip(geo["zone_id"], geo["rank"], strict=False)]),
        ("Why", [esc(v) for v in geo["reason"]]),
        ("Youth-relevant harm", [fmt(v) for v in geo["youth_harm"]]),
        ("IDACI rate (derived)", [fmt(v) for v in geo["idaci_rate"]]),
        ("LSOAs", [esc(v) for v in geo["lsoa_codes"]]),
    ]
    tips = [
        table([(esc(k), vals[i]) for k, vals in fields[1:]], title=f"Outreach zone {fields[0][1][i]}")
        for i in range(len(geo))
    ]
    group = polygon_layer(
        geo,
        name="Youth outreach zones",
        colours="#238b45",
        fields=fields,
        tip=[0, 1],
        tolerance=o.tolerance,
        precision=o.precision,
        fill_opacity=0.3,
        line_colour="#00441b",
        weight=2,
        show=show,
    )
    focal = gpd.GeoSeries(gpd.points_from_xy(geo["focal_x"], geo["focal_y"]), crs=C.CRS).to_crs(WGS84)
    for tip, pt, r in zip(tips, focal, geo.itertuples(index=False), strict=False):
        if pt is None or pt.is_empty or not np.isfinite(pt.x):
            continue
        folium.Marker(
            [round(pt.y, 6), round(pt.x, 6)],
            icon=folium.Icon(prefix="fa", icon="person-walking", color="green", icon_color="white"),
            tooltip=folium.Tooltip(f"Start here: outreach zone {esc(r.zone_id)}"),
            popup=folium.Popup(tip, max_width=340),
        ).add_to(group)
    group.add_to(m)
    Legend(
        map_name=m.get_name(),
        layer=group,
        title="Youth outreach zones",
        items=[("#238b45", "zone (adjacent priority LSOAs)")],
        note="Walking figure = focal point (densest cell) to start from.",
    ).add_to(m)
    return group


def _emerging_order() -> tuple[list[str], list[str]]:
    try:
        from hotspots.detect import emerging

        return list(emerging.HOT_CLASSES), list(emerging.COLD_CLASSES)
    except (ImportError, AttributeError):  # pragma: no cover - the detect stage without emerging hot spots
        return [], []


def _emerging_layer(m: folium.Map, grid: gpd.GeoDataFrame, o: _Opts, *, show: bool) -> folium.FeatureGroup | None:
    """Cells in an emerging hot or cold spot category ("no pattern" and "not analysed" are not drawn)."""
    if "emerging_class" not in grid.columns:
        return None
    cls = grid["emerging_class"].astype("string")
    keep = cls.str.endswith("hot spot", na=False) | cls.str.endswith("cold spot", na=False)
    g = grid[keep.to_numpy()]
    if len(g) == 0:
        return None
    hot_order, cold_order = _emerging_order()
    present = set(g["emerging_class"].astype(str))
    hot = [c for c in hot_order if c in present] + sorted(
        c for c in present if c.endswith("hot spot") and c not in hot_order
    )
    cold = [c for c in cold_order if c in present] + sorted(
        c for c in present if c.endswith("cold spot") and c not in cold_order
    )
    reds = ["#67000d", "#a50f15", "#cb181d", "#ef3b2c", "#fb6a4a", "#fc9272", "#fcbba1", "#fee0d2"]
    blues = ["#08306b", "#08519c", "#2171b5", "#4292c6", "#6baed6", "#9ecae1", "#c6dbef", "#deebf7"]
    colour_of = {c: reds[i % len(reds)] for i, c in enumerate(hot)} | {
        c: blues[i % len(blues)] for i, c in enumerate(cold)
    }
    if len(g) > o.max_cells:
        g = dissolve_by(g[["emerging_class", "geometry"]], "emerging_class")
    fields = [("Emerging class", [esc(c) for c in g["emerging_class"]])]
    group = polygon_layer(
        g,
        name="Emerging hot spots",
        colours=[colour_of[str(c)] for c in g["emerging_class"]],
        fields=fields,
        popup=False,
        tolerance=0.0,
        precision=o.precision,
        fill_opacity=0.7,
        line_colour=None,
        weight=0,
        show=show,
    )
    group.add_to(m)
    counts = (
        g["emerging_class"].astype(str).value_counts()
        if "cells" not in g.columns
        else g.set_index("emerging_class")["cells"]
    )
    Legend(
        map_name=m.get_name(),
        layer=group,
        title="Emerging hot spots",
        items=[(colour_of[c], f"{esc(c)} ({int(counts.get(c, 0)):,})") for c in hot + cold],
        note="Monthly Gi* with a Mann-Kendall trend (ArcGIS categories).",
    ).add_to(m)
    return group


def _outline_layer(
    m: folium.Map,
    gdf: gpd.GeoDataFrame | None,
    *,
    name: str,
    name_col: str,
    colour: str,
    weight: float,
    o: _Opts,
    show: bool,
) -> folium.FeatureGroup | None:
    if gdf is None or len(gdf) == 0:
        return None
    values = [esc(v) for v in gdf[name_col]] if name_col in gdf.columns else [esc(name)] * len(gdf)
    group = polygon_layer(
        gdf,
        name=name,
        colours=None,
        fields=[(name.split(" (", maxsplit=1)[0], values)],
        popup=False,
        tolerance=o.tolerance,
        precision=o.precision,
        coverage=True,
        fill_opacity=0.0,
        line_colour=colour,
        weight=weight,
        show=show,
    )
    group.add_to(m)
    return group


# --------------------------------------------------------------------------------------
# maps
# --------------------------------------------------------------------------------------

FOR_WHOM = {"board": "the Strategic Board", "outreach": "outreach coordinators", "analyst": "analysts"}

TITLES = {
    "board": "Violence priority places and bleed-kit sites",
    "outreach": "Youth outreach zones, kit sites and venues",
    "analyst": "Serious violence hot spots: analyst view",
}


def _frame_box(m: folium.Map, audience: str, study_name: str, period: str) -> None:
    title = f"<h1>{esc(TITLES[audience])}</h1><div>{esc(study_name)} &middot; data period {esc(period)}</div>"
    InfoBox(map_name=m.get_name(), body=title, position="topleft", css_class="hs-title").add_to(m)
    notes = (
        f"<details open><summary>Method and sources</summary><div>{METHODS[audience]}</div>"
        f"<div style='margin-top:4px'>{ATTRIBUTION}</div></details>"
    )
    InfoBox(map_name=m.get_name(), body=notes, position="bottomleft", css_class="hs-notes").add_to(m)


def build_map(
    audience: str,
    results: dict[str, Any],
    study: Any,
    *,
    tiles: str | None = None,
    simplify_m: float = 15.0,
    precision: int = 5,
    max_cells: int = 5_000,
    kde_scheme: str = "head_tail_breaks",
    kde_classes: int = 5,
    suppress_below: int = 5,
    kit_radius_m: float = DEFAULT_KIT_RADIUS_M,
) -> folium.Map:
    """Build one audience's map from the stage results.

    Parameters
    ----------
    audience
        ``"board"``, ``"outreach"`` or ``"analyst"``.
    results
        ``results``: ``places``, ``grid``, ``lsoa``, ``clusters``, ``nte_zones``,
        ``bleed_kits``, ``outreach`` (columns as in :data:`REQUIRED`, EPSG:27700).
    study
        The loaded :class:`~hotspots.prepare.study.Study` (LSOAs, districts, wards, venues, period, name).
    tiles, simplify_m, precision, max_cells, kde_scheme, kde_classes, suppress_below, kit_radius_m
        As in :class:`MapsConfig`.

    Returns
    -------
    folium.Map
        Not yet self-contained: write it with :func:`map_html` / :func:`write_map`.

    Raises
    ------
    InputError
        The audience is unknown, its main result is missing, or a result lacks a documented column.
    """
    if audience not in AUDIENCES:
        raise InputError(f"unknown map audience {audience!r}; choose from {list(AUDIENCES)}.")
    o = _Opts(
        tolerance=simplify_m,
        precision=precision,
        max_cells=max_cells,
        kde_scheme=kde_scheme,
        kde_classes=kde_classes,
        suppress_below=suppress_below,
        kit_radius=kit_radius_m,
    )
    lsoa = study.lsoa
    primary = PRIMARY[audience]
    needed = {
        "board": ["places", "bleed_kits"],
        "outreach": ["outreach", "bleed_kits"],
        "analyst": ["grid", "lsoa", "places", "clusters", "nte_zones", "bleed_kits", "outreach"],
    }[audience]
    frames = {k: _frame(results, k, audience, required=(k == primary)) for k in needed}

    minx, miny, maxx, maxy = gpd.GeoSeries([study.area], crs=C.CRS).to_crs(WGS84).total_bounds
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=10,
        tiles=None,
        control_scale=True,
        maxZoom=19,
        minZoom=7,
    )
    m.get_root().header.add_child(folium.Element(STYLE))  # type: ignore[attr-defined]
    if tiles is not None:
        url, attr = TILE_PROVIDERS[tiles]
        folium.TileLayer(url, attr=attr, name=f"Base map ({tiles}, online)", max_zoom=19).add_to(m)
    m.fit_bounds([[float(miny), float(minx)], [float(maxy), float(maxx)]])
    _frame_box(m, audience, study.name, study.analysis_period)

    lsoa_counts = None
    if "lsoa" in results and isinstance(results.get("lsoa"), pd.DataFrame) and "n" in results["lsoa"].columns:
        lsoa_counts = results["lsoa"].set_index(C.LSOA_CODE)["n"]

    # drawn bottom to top
    if audience == "analyst":
        _outline_layer(
            m, lsoa, name="LSOA outlines", name_col=C.LSOA_NAME, colour="#9a9a9a", weight=0.4, o=o, show=False
        )
        if frames.get("places") is not None:
            _places_layer(
                m, _with_lsoa_geometry(frames["places"], lsoa, "places"), lsoa_counts, audience, o, show=False
            )
        grid = _geo(frames["grid"], "grid")
        if "kde" in grid.columns:
            _kde_layer(m, grid, o, show=False)
        _gi_layer(m, grid, name="Gi* hot and cold spots (grid)", label="Cell", o=o, show=True, key="cell_id")
        if frames.get("lsoa") is not None:
            lsoa_units = _with_lsoa_geometry(frames["lsoa"], lsoa, "lsoa")
            _gi_layer(
                m, lsoa_units, name="Gi* hot and cold spots (LSOA)", label="LSOA", o=o, show=False, key="lsoa_code"
            )
        _emerging_layer(m, grid, o, show=False)
        if frames.get("clusters") is not None:
            _clusters_layer(m, _geo(frames["clusters"], "clusters"), o, show=False)
        if frames.get("nte_zones") is not None:
            _nte_layer(m, _geo(frames["nte_zones"], "nte_zones"), o, show=False)
        if frames.get("outreach") is not None:
            _outreach_layer(m, frames["outreach"], lsoa, o, show=False)
        if results.get("where_next") is not None:  # issue 14: the forecast stage's layer
            from hotspots.present.maps.where_next import where_next_layer

            where_next_layer(
                m,
                results["where_next"],
                results.get("where_next_top"),
                tolerance=o.tolerance,
                precision=o.precision,
                max_cells=o.max_cells,
                show=False,
            )
    elif audience == "board":
        _places_layer(m, _with_lsoa_geometry(frames["places"], lsoa, "places"), lsoa_counts, audience, o, show=True)
    else:
        _outline_layer(
            m, lsoa, name="LSOA outlines", name_col=C.LSOA_NAME, colour="#9a9a9a", weight=0.4, o=o, show=True
        )
        _outreach_layer(m, frames["outreach"], lsoa, o, show=True)

    _outline_layer(
        m,
        study.wards,
        name="Ward boundaries (City)",
        name_col=C.WARD_NAME,
        colour="#525252",
        weight=1.0,
        o=o,
        show=audience != "analyst",
    )
    _outline_layer(
        m,
        study.districts,
        name="District boundaries",
        name_col=C.DISTRICT_NAME_COL,
        colour="#252525",
        weight=2.0,
        o=o,
        show=True,
    )
    if audience in ("outreach", "analyst") and study.venues is not None and len(study.venues):
        _venues_layer(m, study.venues, show=audience == "outreach")
    kits = frames.get("bleed_kits")
    if kits is not None and len(kits):
        _kits_layer(m, kits, o, show=audience != "analyst")
    if audience == "outreach":  # open on the zones and kits, not the whole county
        focus = (
            [_geo(frames["outreach"], "outreach").geometry] if isinstance(frames["outreach"], gpd.GeoDataFrame) else []
        )
        if kits is not None and len(kits):
            lon, lat = _kits_lonlat(kits)
            focus.append(gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=WGS84).to_crs(C.CRS))
        if focus:
            b = gpd.GeoSeries(pd.concat(focus), crs=C.CRS).buffer(500).to_crs(WGS84).total_bounds
            if np.isfinite(b).all():
                m.fit_bounds([[float(b[1]), float(b[0])], [float(b[3]), float(b[2])]])
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    return m


def map_html(m: folium.Map, *, tiles: str | None = None) -> str:
    """The map as one self-contained HTML page (assets inlined; see :func:`hotspots.present.assets.inline_html`).

    Raises
    ------
    AssetError
        The offline assets are not installed, or the page references an unmapped URL.
    """
    allow: tuple[str, ...] = ()
    if tiles is not None:
        url = TILE_PROVIDERS[tiles][0]
        allow = (url.split("{", 1)[0],)
    return assets.inline_html(m.get_root().render(), allow=allow)


def write_map(m: folium.Map, path: Path, *, tiles: str | None = None) -> Path:
    """Write the self-contained page of ``m`` to ``path`` (UTF-8)."""
    page = map_html(m, tiles=tiles)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
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
        Each page's size in bytes and build time in seconds.
    """

    pages: dict[str, str]
    auto: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


def stage_results(
    detected: DetectResult | None,
    ranked: RankResult | None,
    sited: SitesResult | None,
    forecast: Any = None,
) -> dict[str, Any]:
    """The stage results the map layers draw, by name (absent stages are left out)."""
    results: dict[str, Any] = {}
    if forecast is not None:  # the forecast stage (issue 14): hotspots.present.maps.where_next
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


def build_maps(
    study: Study,
    detected: DetectResult | None,
    ranked: RankResult | None,
    sited: SitesResult | None,
    cfg: MapsConfig,
    *,
    forecast: Any = None,
) -> MapsResult:
    """Pipeline stage ``maps``: one self-contained page per configured audience.

    Parameters
    ----------
    study
        The loaded study (boundaries, venues, name, period).
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
    radius = cfg.kit_radius_m or (sited.radius_m if sited is not None else DEFAULT_KIT_RADIUS_M)
    pages: dict[str, str] = {}
    sizes: dict[str, Any] = {}
    for audience in cfg.audiences:
        t = time.perf_counter()
        m = build_map(
            audience,
            results,
            study,
            tiles=cfg.tiles,
            simplify_m=cfg.simplify_m,
            precision=cfg.precision,
            max_cells=cfg.max_cells,
            kde_scheme=cfg.kde_scheme,
            kde_classes=cfg.kde_classes,
            suppress_below=cfg.suppress_below,
            kit_radius_m=radius,
        )
        pages[audience] = map_html(m, tiles=cfg.tiles)
        sizes[audience] = {"bytes": len(pages[audience].encode("utf-8")), "seconds": round(time.perf_counter() - t, 3)}
        log.info("maps: built the %s map (%.1f MB)", audience, sizes[audience]["bytes"] / 1e6)
    return MapsResult(pages=pages, auto={"kit_radius_m": radius}, summary=sizes)
