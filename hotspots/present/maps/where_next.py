"""The analyst map's "where next" layer: the cells most likely to see violence next, and the top list.

Draws the ``where_next`` layer of the ``forecast`` stage (:attr:`hotspots.evaluate.forecast.stage.
ForecastResult.layer`: the cells in the top share of each source's forecast) in bands of the area
(top 1 %, 1-2 %, 2-5 %, ...), and one numbered marker per cell of the ranked list
(``where_next.csv``) with its street name, forecast and backtest accuracy.
"""

from __future__ import annotations

from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.present.maps.style import Legend, dissolve_by, esc, fmt, polygon_layer, table

NAME = "Where next (forecast)"
"""Layer name in the layer control."""

BANDS = ((0.01, "top 1 % of the area", "#3f007d"), (0.02, "top 1-2 %", "#6a51a3"), (1.0, "top 2-5 %", "#9e9ac8"))
"""Bands of the forecast by share of the source's area: upper bound, label, colour."""

FORECAST, FORECAST_RANK, AREA_SHARE = "forecast", "forecast_rank", "area_share"
LONG_RUN, RECENT = "long_run", "recent"


def _band(share: np.ndarray) -> list[int]:
    out = []
    for s in share:
        out.append(next(i for i, (hi, _, _) in enumerate(BANDS) if s <= hi or i == len(BANDS) - 1))
    return out


def _months(top: pd.DataFrame | None, source: str) -> str:
    if top is None or "forecast_months" not in top.columns:
        return ""
    r = top[top[C.SOURCE] == source]
    return str(r["forecast_months"].iloc[0]) if len(r) else ""


def where_next_layer(
    m: folium.Map,
    layer: gpd.GeoDataFrame,
    top: pd.DataFrame | None,
    *,
    tolerance: float,
    precision: int,
    max_cells: int,
    show: bool = False,
) -> folium.FeatureGroup | None:
    """Add the "where next" layer (cells in bands + numbered markers of the top list) to ``m``.

    Parameters
    ----------
    m
        The analyst map.
    layer
        ``source, cell_id, forecast, forecast_rank, area_share, long_run, recent`` + cell polygons
        (EPSG:27700).
    top
        ``where_next.csv`` rows (``source, rank, forecast, forecast_months, long_run, recent,
        location, street, lon, lat, method, backtest_pei, backtest_counts_pei,
        backtest_folds``), or None.
    tolerance, precision, max_cells
        As the other layers (``[maps]``): with more cells than ``max_cells`` each band is drawn as
        one shape.
    show
        Whether the layer is on when the page opens.

    Returns
    -------
    folium.FeatureGroup or None
        The group, or None when there is nothing to draw.
    """
    if layer is None or len(layer) == 0:
        return None
    g = layer.copy()
    band = _band(g[AREA_SHARE].to_numpy(dtype=float))
    g["band"] = [BANDS[b][1] for b in band]
    colour_of = {label: colour for _, label, colour in BANDS}
    if len(g) > max_cells:
        g = dissolve_by(g[["band", "geometry"]], "band")
        fields = [("Forecast band", [esc(b) for b in g["band"]]), ("Cells", [fmt(n) for n in g["cells"]])]
    else:
        fields = [
            ("Forecast band", [esc(b) for b in g["band"]]),
            ("Source", [esc(s) for s in g[C.SOURCE]]),
            ("Expected incidents", [fmt(v) for v in g[FORECAST]]),
            ("Rank", [fmt(v) for v in g[FORECAST_RANK]]),
            ("Incidents, all months", [fmt(v) for v in g[LONG_RUN]]),
            ("Incidents, last months", [fmt(v) for v in g[RECENT]]),
        ]
    group = polygon_layer(
        g,
        name=NAME,
        colours=[colour_of[b] for b in g["band"]],
        fields=fields,
        popup=False,
        tolerance=0.0,
        precision=precision,
        fill_opacity=0.55,
        line_colour=None,
        weight=0,
        show=show,
    )
    notes = []
    if top is not None and len(top):
        for r in top.itertuples(index=False):
            _marker(r, group)
        for src, t in top.groupby(C.SOURCE, sort=False):
            r0 = t.iloc[0]
            acc = (
                f"backtest PEI {fmt(r0['backtest_pei'])} (long-run counts {fmt(r0['backtest_counts_pei'])})"
                if pd.notna(r0["backtest_pei"])
                else "backtest accuracy unknown"
            )
            notes.append(f"{esc(src)}: {esc(r0['method'])}, {esc(_months(top, str(src)))}; {acc}")
    group.add_to(m)
    Legend(
        map_name=m.get_name(),
        layer=group,
        title=NAME,
        items=[(colour, esc(label)) for _, label, colour in BANDS],
        note="Expected incidents per cell over the forecast months; numbered markers = the ranked list. "
        + "<br>".join(notes),
    ).add_to(m)
    return group


def _marker(r: Any, group: folium.FeatureGroup) -> None:
    lon, lat = float(r.lon), float(r.lat)
    if not (np.isfinite(lon) and np.isfinite(lat)):
        return
    name = str(r.street or r.location or "unnamed cell")
    title = f"Where next {int(r.rank)}: {esc(name)}"
    rows = [
        ("Source", esc(r.source)),
        ("Expected incidents", f"{fmt(r.forecast)} ({esc(r.forecast_months)})"),
        ("Incidents, all months", fmt(r.long_run)),
        ("Incidents, last months", fmt(r.recent)),
        ("Nearest police.uk location", esc(r.location)),
        ("Forecast by", esc(r.method)),
    ]
    if pd.notna(r.backtest_pei):
        rows.append(
            (
                "Backtest PEI",
                f"{fmt(r.backtest_pei)} (long-run counts {fmt(r.backtest_counts_pei)}, {fmt(r.backtest_folds)} folds)",
            )
        )
    icon = folium.DivIcon(
        html=(
            "<div style='background:#3f007d;color:#fff;border-radius:50%;width:20px;height:20px;"
            f"line-height:20px;text-align:center;font:bold 11px sans-serif'>{int(r.rank)}</div>"
        ),
        icon_size=(20, 20),
        icon_anchor=(10, 10),
    )
    folium.Marker(
        [round(lat, 6), round(lon, 6)],
        icon=icon,
        tooltip=folium.Tooltip(title),
        popup=folium.Popup(table(rows, title=title), max_width=340),
    ).add_to(group)
