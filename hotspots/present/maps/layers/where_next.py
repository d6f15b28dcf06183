"""Where next (analyst map): the cells most likely to see violence next, from the ``forecast`` stage.

The ``where_next`` layer of the stage (the cells in the top share of each source's forecast) is
drawn in bands of the area (top 1 %, 1-2 %, 2-5 %); the ranked list (``where_next.csv``) is drawn
as dots named after their street, listed in the panel and searchable, with the forecast's
backtest accuracy in each popup. A layer with more cells than ``[maps] max_cells`` is drawn as
one shape per band.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hotspots import columns as C
from hotspots.present.maps.context import MapContext
from hotspots.present.maps.geometry import dissolve_by, inner_points
from hotspots.present.maps.layers.base import (
    Layer,
    LayerSpec,
    Legend,
    label,
    point_features,
    polygon_features,
    search_entry,
)
from hotspots.present.maps.text import esc, fmt

NAME = "Where next (forecast)"
"""Layer name in the layer control."""

CELLS = (C.SOURCE, C.CELL_ID, "forecast", "forecast_rank", "area_share", "long_run", "recent")
"""Columns of ``where_next`` the layer reads (:data:`hotspots.evaluate.forecast.stage.LAYER_COLUMNS`)."""

TOP = (
    C.SOURCE,
    C.RANK,
    "forecast",
    "forecast_months",
    "long_run",
    "recent",
    "location",
    "street",
    "x",
    "y",
    "method",
    "backtest_pei",
    "backtest_counts_pei",
    "backtest_folds",
)
"""Columns of ``where_next_top`` (``where_next.csv``) the layer reads."""

BANDS = ((0.01, "top 1 % of the area", "#3f007d"), (0.02, "top 1-2 %", "#6a51a3"), (1.0, "top 2-5 %", "#9e9ac8"))
"""Bands of the forecast by share of the source's area: upper bound, label, colour (ColorBrewer Purples)."""

DOT = "#e66100"
"""The ranked cells (an orange dot over the purple bands)."""

CELL_FIELDS = [
    "Where",
    "Band",
    "Expected incidents",
    "Rank in its source",
    "Incidents, all months",
    "Incidents, last months",
]
"""Popup rows of a cell."""

TOP_FIELDS = [
    "Where",
    "Expected incidents",
    "Incidents, all months",
    "Incidents, last months",
    "Nearest police.uk location",
    "Forecast by",
    "Backtest PEI at 5 %",
]
"""Popup rows of a ranked cell."""


def band_of(share: npt.ArrayLike) -> list[int]:
    """The band (index into :data:`BANDS`) of each area share."""
    out = []
    for s in np.asarray(share, dtype=float):
        out.append(next(i for i, (hi, _, _) in enumerate(BANDS) if s <= hi or i == len(BANDS) - 1))
    return out


def _cells(ctx: MapContext) -> tuple[list[dict[str, Any]], list[str]]:
    g = ctx.geo("where_next").reset_index(drop=True)
    bands = band_of(g["area_share"])
    o = ctx.opts
    if len(g) > o.max_cells:
        merged = dissolve_by(g.assign(band=bands)[["band", "geometry"]], "band")
        feats = polygon_features(
            merged,
            ids=[f"band:{b}" for b in merged["band"]],
            titles=[esc(BANDS[int(b)][1].capitalize()) for b in merged["band"]],
            values=[[fmt(n) for n in merged["cells"]]],
            classes=[int(b) for b in merged["band"]],
            tolerance=0.0,
            precision=o.precision,
        )
        return feats, ["Cells"]
    xy = inner_points(g)
    near = ctx.gaz.near(xy)
    feats = polygon_features(
        g,
        ids=[f"{s}:{c}" for s, c in zip(g[C.SOURCE], g[C.CELL_ID], strict=True)],
        titles=[f"Forecast cell{f' near {esc(n)}' if n else ''}" for n in near],
        values=[
            [esc(a) for a in ctx.gaz.area_at(xy)],
            [esc(BANDS[b][1]) for b in bands],
            [fmt(v) for v in g["forecast"]],
            [fmt(v) for v in g["forecast_rank"]],
            [fmt(v) for v in g["long_run"]],
            [fmt(v) for v in g["recent"]],
        ],
        classes=bands,
        tolerance=0.0,
        precision=o.precision,
    )
    return feats, CELL_FIELDS


def _accuracy(r: Any) -> str:
    if pd.isna(r.backtest_pei):
        return "not known yet"
    return f"{fmt(r.backtest_pei)} (long-run counts {fmt(r.backtest_counts_pei)}, {fmt(r.backtest_folds)} folds)"


def build(ctx: MapContext, show: bool) -> Layer | None:
    """The forecast cells in bands, and the ranked cells as named dots in the panel."""
    cells = ctx.frame("where_next")
    if cells is None or len(cells) == 0:
        return None
    feats, fields = _cells(ctx)
    top = ctx.frame("where_next_top")
    top = top if top is not None else pd.DataFrame(columns=list(TOP))
    xy = top[["x", "y"]].to_numpy(dtype=float)
    names = [str(s or loc or "unnamed cell") for s, loc in zip(top["street"], top["location"], strict=True)]
    ids = [f"next:{s}:{r}" for s, r in zip(top[C.SOURCE], top[C.RANK], strict=True)]
    titles = [f"Where next {fmt(r)}: {esc(n)}" for r, n in zip(top[C.RANK], names, strict=True)]
    rows = list(top.itertuples(index=False))
    pts = point_features(
        xy,
        ids=ids,
        titles=titles,
        values=[
            [esc(w) for w in ctx.gaz.area_at(xy)] if len(xy) else [],
            [f"{fmt(r.forecast)} ({esc(r.forecast_months)})" for r in rows],
            [fmt(r.long_run) for r in rows],
            [fmt(r.recent) for r in rows],
            [esc(r.location) for r in rows],
            [esc(f"{r.method} ({r.source})") for r in rows],
            [_accuracy(r) for r in rows],
        ],
        shape="dot",
        classes=[len(BANDS)] * len(rows),
        fields=TOP_FIELDS,
    )
    at = {p["i"]: p["ll"] for p in pts}
    ranks = [fmt(r) for r in top[C.RANK]]
    shown = [(i, t, n, r) for i, t, n, r in zip(ids, titles, names, ranks, strict=True) if i in at]
    notes = []
    for src, t in top.groupby(C.SOURCE, sort=False):
        r0 = next(t.itertuples(index=False))
        notes.append(f"{esc(src)}: {esc(r0.method)}, {esc(r0.forecast_months)}; backtest PEI {_accuracy(r0)}")
    return Layer(
        key="where_next",
        name=NAME,
        show=show,
        features=feats,
        points=pts,
        fields=fields,
        tip=3,
        palette=[b[2] for b in BANDS] + [DOT],
        style={"fill": 0.55, "weight": 0, "line": None, "radius": 7},
        legend=Legend(
            title=NAME,
            items=[(colour, esc(text), "box") for _, text, colour in BANDS] + [(DOT, "the ranked cells", "dot")],
            note="Expected incidents per cell over the forecast months. " + "<br>".join(notes),
        ),
        labels=[
            label(at[i], f"{r} \u00b7 {esc(n)}", min_zoom=13, priority=60 + k, css="kit")
            for k, (i, _, n, r) in enumerate(shown)
        ],
        search=[search_entry(t, "forecast", key="where_next", fid=i, at=at[i], zoom=16) for i, t, _, _ in shown],
        panel={"title": f"Where next ({len(shown)})", "items": [[t, i] for i, t, _, _ in shown]},
    )


SPEC = LayerSpec(key="where_next", build=build, needs={"where_next": CELLS, "where_next_top": TOP})
"""Registry entry."""
