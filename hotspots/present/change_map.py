"""The change map (``maps/change.html``): each unit coloured by its change class, intervention areas outlined.

One self-contained page like the run's maps (Leaflet and every plugin inlined by
:mod:`hotspots.present.assets`; no request leaves the page unless ``[maps] tiles`` is set), built
from the :class:`~hotspots.evaluate.change_stage.ChangeResult` with the run maps' building blocks
(:mod:`hotspots.present.maps.style`). Significant falls are blue, significant rises red, units with
no clear change light grey, units with no data outlined only. Hovering shows a unit's counts, rate
ratio and interval, q-value and the smallest fall that could have been seen there; incident counts
under ``[maps] suppress_below`` are shown as "<5".
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.evaluate.change import FALL, NO_CLEAR_CHANGE, NO_DATA, RISE
from hotspots.evaluate.change_stage import ChangeResult
from hotspots.present import assets
from hotspots.present.maps.config import TILE_PROVIDERS, MapsConfig
from hotspots.present.maps.style import (
    STYLE,
    WGS84,
    InfoBox,
    Legend,
    count_text,
    dissolve_by,
    esc,
    fmt,
    polygon_layer,
)

CHANGE_COLOURS = {FALL: "#2166ac", RISE: "#b2182b", NO_CLEAR_CHANGE: "#e7e7e7"}
"""Fill colour of each change class (no data is not filled)."""

ROLE_COLOURS = {
    "treated": "#1b7837",
    "control": "#762a83",
    "displacement": "#5aae61",
    "displacement_control": "#c2a5cf",
}
"""Outline colour of each intervention area."""

UNIT_WORDS = {"lsoa": "LSOA", "grid": "Grid cell", "district": "District"}

RATIO_BINS = [
    (0.0, 0.5, "fell by more than half", "#2166ac"),
    (0.5, 0.8, "fell 20-50 %", "#67a9cf"),
    (0.8, 1.25, "little change (-20 % to +25 %)", "#f7f7f7"),
    (1.25, 2.0, "rose 25-100 %", "#ef8a62"),
    (2.0, np.inf, "more than doubled (or new)", "#b2182b"),
]
"""Classes of the rate ratio for the "size of change" layer: (from, to, label, colour); ``to`` is exclusive."""


def ratio_colours(rate_ratio: pd.Series) -> list[str]:
    """The colour of each rate ratio's :data:`RATIO_BINS` class (new incidents where there were none: the top class)."""
    rr = rate_ratio.to_numpy(dtype=float)
    out = np.full(len(rr), "", dtype=object)
    for lo, hi, _, colour in RATIO_BINS:
        out[(rr >= lo) & (rr < hi)] = colour
    out[np.isinf(rr)] = RATIO_BINS[-1][3]
    return out.tolist()


def _ratio_text(rr: float, lo: float, hi: float) -> str:
    if np.isnan(rr):
        return "n/a"
    est = "new (none before)" if np.isinf(rr) else f"{100 * (rr - 1):+.0f} %"
    upper = "no limit" if np.isinf(hi) else f"{100 * (hi - 1):+.0f} %"
    return f"{esc(est)} (95 % CI {100 * (lo - 1):+.0f} % to {esc(upper)})"


def _unit_fields(t: pd.DataFrame, result: ChangeResult, suppress: int | None) -> list[tuple[str, list[str]]]:
    harm = result.measure == "harm"
    tb, ta = result.periods.before_months, result.periods.after_months
    amount = (lambda v: fmt(round(float(v), 1))) if harm else (lambda v: count_text(v, suppress_below=suppress))
    what = "Harm" if harm else "Incidents"
    return [
        (UNIT_WORDS[result.units], [f"{esc(n)} ({esc(i)})" for n, i in zip(t["unit_name"], t["unit_id"], strict=True)]),
        ("Change", [esc(c) for c in t["change_class"]]),
        (f"{what} before ({tb} months)", [amount(v) for v in t["before"]]),
        (f"{what} after ({ta} months)", [amount(v) for v in t["after"]]),
        (
            "Change per month",
            [_ratio_text(r, lo, hi) for r, lo, hi in zip(t["rate_ratio"], t["rr_lower"], t["rr_upper"], strict=True)],
        ),
        ("q (FDR)", [fmt(q, 2) for q in t["q_value"]]),
        (
            "Smallest fall that could be seen",
            [
                "n/a" if i == "merged" else (f"{v:.0f} %" if np.isfinite(v) else "none (too few incidents)")
                for i, v in zip(t["unit_id"], t["mde_pct"], strict=True)
            ],
        ),
    ]


def _units_layer(m: folium.Map, result: ChangeResult, cfg: MapsConfig) -> folium.FeatureGroup:
    t = result.table
    drawn = t[t["change_class"] != NO_DATA]
    tested = len(drawn)
    if result.units == "grid" and tested > cfg.max_cells:
        sig = drawn[drawn["change_class"].isin([FALL, RISE])]
        rest = dissolve_by(
            drawn[drawn["change_class"] == NO_CLEAR_CHANGE][["change_class", "geometry"]], "change_class"
        )
        rest = rest.assign(unit_name=f"{tested - len(sig):,} cells", unit_id="merged")
        drawn = pd.concat([sig, rest], ignore_index=True)
    drawn = gpd.GeoDataFrame(drawn, geometry="geometry", crs=C.CRS)
    group = polygon_layer(
        drawn,
        name="Change between the periods",
        colours=[CHANGE_COLOURS[c] for c in drawn["change_class"]],
        fields=_unit_fields(drawn, result, cfg.suppress_below),
        tolerance=cfg.simplify_m if result.units != "grid" else 0.0,
        precision=cfg.precision,
        coverage=result.units != "grid",
        fill_opacity=0.7,
        line_colour="#8a8a8a",
        weight=0.4,
    )
    group.add_to(m)
    counts = t["change_class"].value_counts()
    items = [(c, f"{esc(k)} ({counts.get(k, 0):,})") for k, c in CHANGE_COLOURS.items()]
    items.append(("#ffffff", f"{esc(NO_DATA)}: not drawn ({counts.get(NO_DATA, 0):,})"))
    Legend(
        map_name=m.get_name(),
        layer=group,
        title="Change between the periods",
        items=items,
        note=f"Significant: q &le; {fmt(result.config.alpha)} (Benjamini-Hochberg). Hover for the numbers.",
    ).add_to(m)
    outline = polygon_layer(
        t[t["change_class"] == NO_DATA] if result.units != "grid" else t.iloc[:0],
        name="Units with no data",
        colours=None,
        fields=[(UNIT_WORDS[result.units], [esc(n) for n in t.loc[t["change_class"] == NO_DATA, "unit_name"]])],
        popup=False,
        tolerance=cfg.simplify_m,
        precision=cfg.precision,
        coverage=True,
        fill_opacity=0.0,
        line_colour="#bdbdbd",
        weight=0.3,
        show=False,
    )
    outline.add_to(m)
    return group


def _ratio_layer(m: folium.Map, result: ChangeResult, cfg: MapsConfig) -> None:
    t = result.table
    drawn = t[t["change_class"] != NO_DATA]
    if result.units == "grid" and len(drawn) > cfg.max_cells:
        return
    group = polygon_layer(
        drawn,
        name="Size of change (significant or not)",
        colours=ratio_colours(drawn["rate_ratio"]),
        fields=_unit_fields(drawn, result, cfg.suppress_below),
        tip=[0, 1, 4],
        tolerance=cfg.simplify_m if result.units != "grid" else 0.0,
        precision=cfg.precision,
        coverage=result.units != "grid",
        fill_opacity=0.75,
        line_colour="#8a8a8a",
        weight=0.4,
        show=False,
    )
    group.add_to(m)
    Legend(
        map_name=m.get_name(),
        layer=group,
        title="Size of change per month",
        items=[(c, esc(label)) for _, _, label, c in RATIO_BINS],
        note="Whether or not the change is more than chance: most small-count changes are not. See the other layer.",
    ).add_to(m)


def _outlines(m: folium.Map, outlines: dict[str, tuple[gpd.GeoDataFrame, str]], cfg: MapsConfig) -> None:
    for name, (gdf, col) in outlines.items():
        if gdf is None or len(gdf) == 0 or col not in gdf.columns:
            continue
        polygon_layer(
            gdf,
            name=name,
            colours=None,
            fields=[(name.split(" ", 1)[0], [esc(v) for v in gdf[col]])],
            popup=False,
            tolerance=cfg.simplify_m,
            precision=cfg.precision,
            coverage=True,
            fill_opacity=0.0,
            line_colour="#252525" if name.startswith("District") else "#525252",
            weight=2.0 if name.startswith("District") else 1.0,
        ).add_to(m)


def _areas_layer(m: folium.Map, areas: gpd.GeoDataFrame, cfg: MapsConfig) -> None:
    group = polygon_layer(
        areas,
        name="Intervention areas",
        colours=[ROLE_COLOURS[r] for r in areas["role"]],
        fields=[
            ("Intervention", [esc(v) for v in areas["intervention"]]),
            ("Area", [esc(r.replace("_", " ")) for r in areas["role"]]),
            ("km²", [fmt(v, 3) for v in areas["area_km2"]]),
        ],
        tolerance=0.0,
        precision=cfg.precision,
        fill_opacity=0.0,
        line_colour=None,
        weight=2.5,
    )
    group.add_to(m)
    items = [(c, esc(r.replace("_", " "))) for r, c in ROLE_COLOURS.items() if r in set(areas["role"])]
    Legend(map_name=m.get_name(), layer=group, title="Intervention areas", items=items, position="bottomright").add_to(
        m
    )


def change_map(
    result: ChangeResult,
    *,
    study_name: str,
    cfg: MapsConfig | None = None,
    outlines: dict[str, tuple[gpd.GeoDataFrame, str]] | None = None,
) -> str:
    """The change map as one self-contained HTML page.

    Parameters
    ----------
    result
        The change stage's result.
    study_name
        Shown in the title box.
    cfg
        ``[maps]`` settings (tiles, simplification, precision, max cells, small-count suppression).
    outlines
        Boundary layers to draw as outlines, by layer name: ``(frame, name column)``, e.g.
        ``{"Ward boundaries": (study.wards, "ward_name")}``.

    Returns
    -------
    str
        The page (Leaflet inlined; no external request unless ``cfg.tiles`` is set).

    Raises
    ------
    AssetError
        The offline map assets are not installed.
    """
    cfg = cfg or MapsConfig()
    bounds = gpd.GeoSeries(result.table.geometry, crs=C.CRS).to_crs(WGS84).total_bounds
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=11, tiles=None, control_scale=True)
    m.get_root().header.add_child(folium.Element(STYLE))  # type: ignore[attr-defined]
    if cfg.tiles is not None:
        url, attr = TILE_PROVIDERS[cfg.tiles]
        folium.TileLayer(url, attr=attr, name=f"Base map ({cfg.tiles}, online)", max_zoom=19).add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    p = result.periods
    title = (
        f"<h1>What changed</h1><div>{esc(study_name)} &middot; {esc(', '.join(result.sources))}</div>"
        f"<div>before {esc(p.before[0])} to {esc(p.before[-1])} ({p.before_months} months with data) &middot; "
        f"after {esc(p.after[0])} to {esc(p.after[-1])} ({p.after_months})</div>"
    )
    InfoBox(map_name=m.get_name(), body=title, position="topleft", css_class="hs-title").add_to(m)
    method = (
        f"Each {esc(UNIT_WORDS[result.units].lower())}'s {'harm' if result.measure == 'harm' else 'incidents'} per "
        f"month after against before: exact test, allowing for month-to-month variation "
        f"({esc(result.table.attrs['change']['dispersion']['used'])}), Benjamini-Hochberg over "
        f"{result.table.attrs['change']['tested']:,} units with data. Smallest fall that could be seen: 80 % power, "
        f"two-sided alpha {fmt(result.config.mde_alpha or result.config.alpha)} per unit, before the correction."
    )
    notes = f"<details><summary>Method</summary><div>{method}</div></details>"
    InfoBox(map_name=m.get_name(), body=notes, position="bottomleft", css_class="hs-notes").add_to(m)
    _units_layer(m, result, cfg)
    _ratio_layer(m, result, cfg)
    _outlines(m, outlines or {}, cfg)
    if result.intervention_areas is not None and len(result.intervention_areas):
        _areas_layer(m, result.intervention_areas, cfg)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    allow: tuple[str, ...] = ()
    if cfg.tiles is not None:
        allow = (TILE_PROVIDERS[cfg.tiles][0].split("{", 1)[0],)
    return assets.inline_html(m.get_root().render(), allow=allow)
