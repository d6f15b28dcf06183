"""Pipeline stage ``forecast``: where violence is likely next, with how accurate that has been.

For each place-analysis source (``[study] sources``) with a monthly series long enough,
:func:`forecast` backtests the ``[forecast] methods`` on rolling folds of the source's own months,
recommends the method with the best PEI at ``select_coverage`` of the area (the method the
nested rule would pick next), reports its nested accuracy (each fold's method chosen on earlier
folds only), and forecasts the ``horizon`` months after the data for every grid cell; the top
cells are named after the nearest police.uk location of any source. A source with too few
consecutive months is skipped with a plain note. Nothing is read or written here: the pipeline
writes ``where_next.csv`` and ``where_next.gpkg``.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from hotspots import columns as C
from hotspots.errors import HotspotsWarning, InputError
from hotspots.evaluate.forecast.backtest import backtest_matrix
from hotspots.evaluate.forecast.choice import (
    BASELINE_MEAN,
    CHOSEN,
    DIFFERENCE,
    FOLDS,
    MEAN,
    SE,
    nested_choice,
    nested_summary,
    recommend_method,
    window_label,
)
from hotspots.evaluate.forecast.config import ForecastConfig, auto_cell_size
from hotspots.evaluate.forecast.ensemble import EnsembleSearch
from hotspots.evaluate.forecast.features import History, Lattice, static_features
from hotspots.evaluate.forecast.where_next import (
    FORECAST,
    FORECAST_RANK,
    LAT,
    LOCATION,
    LON,
    LONG_RUN,
    NAME_DISTANCE_M,
    RECENT,
    STREET,
    X,
    Y,
    top_cells,
    where_next_matrix,
)
from hotspots.months import month_runs
from hotspots.results import AutoChoices

if TYPE_CHECKING:
    from hotspots.prepare.study import Study

log = logging.getLogger(__name__)

FORECAST_MONTHS = "forecast_months"  # the months forecast, "YYYY-MM..YYYY-MM"
METHOD = "method"  # the recommended method the forecast comes from
CELL_SIZE_M = "cell_size_m"  # side of the source's grid cells, metres
BACKTEST_PEI = "backtest_pei"  # nested PEI at select_coverage: chosen on earlier folds, scored on later
BACKTEST_COUNTS_PEI = "backtest_counts_pei"  # long-run counts on the same folds
BACKTEST_FOLDS = "backtest_folds"  # folds the nested accuracy is the mean of
WHERE_NEXT_COLUMNS = [
    C.SOURCE,
    C.RANK,
    C.CELL_ID,
    FORECAST,
    FORECAST_MONTHS,
    LONG_RUN,
    RECENT,
    LOCATION,
    STREET,
    NAME_DISTANCE_M,
    X,
    Y,
    LON,
    LAT,
    METHOD,
    CELL_SIZE_M,
    BACKTEST_PEI,
    BACKTEST_COUNTS_PEI,
    BACKTEST_FOLDS,
]
"""Columns of ``where_next.csv`` (:attr:`ForecastResult.table`): the ranked top cells of every forecast source."""

AREA_SHARE = "area_share"  # share of the source's cells with a forecast at least as high (rank / cells, 0-1)
LAYER_COLUMNS = [C.SOURCE, C.CELL_ID, FORECAST, FORECAST_RANK, AREA_SHARE, LONG_RUN, RECENT]
"""Columns of the ``where_next`` layer (:attr:`ForecastResult.layer`, plus geometry)."""


def consecutive_months(months: list[str]) -> list[str]:
    """The latest run of consecutive months among ``months`` (YYYY-MM, any order).

    Examples
    --------
    >>> consecutive_months(["2019-07", "2020-07", "2020-08", "2020-09"])
    ['2020-07', '2020-08', '2020-09']
    """
    runs = month_runs(months)
    return runs[-1] if runs else []


@dataclass(frozen=True)
class SourceForecast:
    """The "where next" forecast of one source.

    Attributes
    ----------
    source
        The ``[[crime]]`` name.
    months
        The consecutive months learnt from.
    forecast_months
        The months forecast.
    cell_size
        Side of the grid cells, metres.
    cells
        Cells of the source's grid (its districts).
    method
        The recommended method (best mean PEI at ``select_coverage`` over the completed folds).
    ranking
        Candidate -> its mean PEI over every fold.
    accuracy
        The nested accuracy: ``pei`` (chosen on earlier folds, scored on later ones),
        ``counts_pei`` (long-run counts on the same folds), ``difference``, ``se``, ``folds``,
        ``chosen`` (the methods chosen, in fold order), ``coverage``; None values when no fold
        could be scored.
    layer
        The cells in the top ``layer_share`` of the forecast: :data:`LAYER_COLUMNS` + geometry.
    top
        The ``top`` cells, ranked and named (:data:`~hotspots.evaluate.forecast.where_next.TOP_COLUMNS`).
    detail
        What the recommended method chose or fitted for the forecast.
    """

    source: str
    months: list[str]
    forecast_months: list[str]
    cell_size: float
    cells: int
    method: str
    ranking: dict[str, float]
    accuracy: dict[str, Any]
    layer: gpd.GeoDataFrame
    top: pd.DataFrame
    detail: dict[str, Any] = field(default_factory=dict)

    def accuracy_text(self) -> str:
        """The backtest accuracy in one plain sentence."""
        a = self.accuracy
        cov = f"{a['coverage']:.0%}"
        if a.get("pei") is None:
            return f"no backtest fold could be scored yet ({len(self.months)} months): its accuracy is unknown"
        return (
            f"backtest (method chosen on earlier months, scored on the months after, {a['folds']} folds): the "
            f"forecast's top {cov} of cells held {a['pei']:.0%} of the incidents the best {cov} held "
            f"(PEI {a['pei']:.3f}; long-run counts {a['counts_pei']:.3f}, difference "
            f"{a['difference']:+.3f}" + (f" ± {a['se']:.3f}" if a.get("se") is not None else "") + ")"
        )


@dataclass(frozen=True)
class ForecastResult:
    """Result of the ``forecast`` stage.

    Attributes
    ----------
    sources
        One :class:`SourceForecast` per source forecast.
    skipped
        ``{"source", "months", "note"}`` for every place-analysis source not forecast, and why.
    horizon
        Months ahead.
    auto
        Parameters chosen automatically (cell size per source, the months used).
    summary
        The manifest entry: per source the method, cell size, months, accuracy and top names.
    """

    sources: tuple[SourceForecast, ...]
    skipped: tuple[dict[str, Any], ...]
    horizon: int
    auto: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def table(self) -> pd.DataFrame:
        """``where_next.csv``: :data:`WHERE_NEXT_COLUMNS`, every source's top cells.

        The pipeline writes it with :func:`hotspots.io.write.write_csv`, which makes every text cell
        spreadsheet-safe.
        """
        parts = []
        for s in self.sources:
            t = s.top.copy()
            t.insert(0, C.SOURCE, s.source)
            t[FORECAST_MONTHS] = f"{s.forecast_months[0]}..{s.forecast_months[-1]}"
            t[METHOD] = s.method
            t[CELL_SIZE_M] = s.cell_size
            t[BACKTEST_PEI] = s.accuracy.get("pei")
            t[BACKTEST_COUNTS_PEI] = s.accuracy.get("counts_pei")
            t[BACKTEST_FOLDS] = s.accuracy.get("folds")
            parts.append(t)
        if not parts:
            return pd.DataFrame(columns=WHERE_NEXT_COLUMNS)
        return pd.concat(parts, ignore_index=True)[WHERE_NEXT_COLUMNS]

    @property
    def layer(self) -> gpd.GeoDataFrame:
        """The ``where_next`` layer: :data:`LAYER_COLUMNS` + cell polygons (EPSG:27700), every source."""
        parts = [s.layer for s in self.sources]
        if not parts:
            return gpd.GeoDataFrame({c: [] for c in LAYER_COLUMNS}, geometry=[], crs=C.CRS)
        return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=C.CRS)

    def report_block(self) -> dict[str, Any]:
        """The data of the report's "where next" block (plain values; see :mod:`hotspots.present.report.where_next`)."""
        when = window_label(self.horizon)
        return {
            "title": f"Where next: the {when}",
            "horizon": self.horizon,
            "sources": [
                {
                    "source": s.source,
                    "method": s.method,
                    "months": f"{s.months[0]} to {s.months[-1]}",
                    "forecast_months": f"{s.forecast_months[0]} to {s.forecast_months[-1]}",
                    "cell_size_m": s.cell_size,
                    "accuracy": s.accuracy_text(),
                    "pei": s.accuracy.get("pei"),
                    "counts_pei": s.accuracy.get("counts_pei"),
                    "rows": [
                        {
                            "rank": int(r[C.RANK]),
                            "street": str(r[STREET] or ""),
                            "location": str(r[LOCATION] or ""),
                            "forecast": float(r[FORECAST]),
                            "long_run": float(r[LONG_RUN]),
                            "recent": float(r[RECENT]),
                            "lon": float(r[LON]),
                            "lat": float(r[LAT]),
                        }
                        for _, r in s.top.iterrows()
                    ],
                }
                for s in self.sources
            ],
            "skipped": [d["note"] for d in self.skipped],
            "caveat": "Forecasts are expected incidents per grid cell, learnt from the source's own months; "
            "police.uk locations are snapped to nearby map points, so a cell is named after the nearest one.",
        }


def _pei_row(nsum: pd.DataFrame, coverage: float) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(["pei", "counts_pei", "difference", "se", "folds", "chosen"])
    out["coverage"] = coverage
    if len(nsum):
        r = nsum.iloc[0]
        se = float(r[SE])
        out.update(
            pei=float(r[MEAN]),
            counts_pei=float(r[BASELINE_MEAN]),
            difference=float(r[DIFFERENCE]),
            se=se if math.isfinite(se) else None,
            folds=int(r[FOLDS]),
            chosen=str(r[CHOSEN]),
        )
    return out


def forecast_source(
    study: Study,
    source: str,
    incidents: gpd.GeoDataFrame,
    months: list[str],
    cfg: ForecastConfig,
    *,
    named: gpd.GeoDataFrame | None,
) -> tuple[SourceForecast, dict[str, Any]]:
    """The "where next" forecast of one source on its latest consecutive ``months`` (see :func:`forecast`)."""
    from hotspots.evaluate.rolling import evaluation_area, month_matrix
    from hotspots.units import make_grid

    geom, districts = evaluation_area(incidents, study.lsoa)
    size = float(cfg.cell_size) if cfg.cell_size is not None else auto_cell_size(geom.area, max_cells=cfg.max_cells)
    grid = make_grid(geom, cell_size=size, shape="square")
    mat, _ = month_matrix(incidents, grid, months=months)
    lattice = Lattice.from_grid(grid)
    history = History(mat, lattice)
    static = static_features(grid, venues=study.venues, lsoa=study.lsoa, venue_radius_m=cfg.venue_radius_m)
    methods = list(dict.fromkeys(["counts", *cfg.methods]))  # counts: the baseline of the accuracy
    search = EnsembleSearch(history, cfg) if "ensemble" in methods else None
    cov = float(cfg.select_coverage)
    bt = backtest_matrix(
        mat,
        months=months,
        lattice=lattice,
        static=static,
        methods=methods,
        coverages=(cov,),
        horizons=(cfg.horizon,),
        min_train_months=cfg.min_train_months,
        cfg=cfg,
        calibrate=False,
        history=history,
        search=search,
    )
    rec = recommend_method(bt.results, horizon=cfg.horizon, coverage=cov, candidates=list(cfg.methods))
    nested = nested_choice(bt.results, coverage=cov, candidates=list(cfg.methods), baseline="counts")
    accuracy = _pei_row(nested_summary(nested, coverage=cov), cov)
    layer = where_next_matrix(
        mat,
        grid,
        months=months,
        method=rec["method"],
        horizon=cfg.horizon,
        lattice=lattice,
        static=static,
        cfg=cfg,
        history=history,
        search=search,
    )
    n_layer = max(1, math.ceil(cfg.layer_share * len(layer) - 1e-9))
    top_layer = layer[layer[FORECAST_RANK] <= n_layer].copy()
    top_layer.insert(0, C.SOURCE, source)
    top_layer[AREA_SHARE] = top_layer[FORECAST_RANK] / len(layer)
    top = top_cells(layer, named=named, incidents=incidents, grid=grid, top=cfg.top, max_distance=cfg.name_distance_m)
    sf = SourceForecast(
        source=source,
        months=months,
        forecast_months=list(layer.attrs["forecast_months"]),
        cell_size=size,
        cells=len(grid),
        method=rec["method"],
        ranking=rec["ranking"],
        accuracy=accuracy,
        layer=gpd.GeoDataFrame(top_layer[[*LAYER_COLUMNS, "geometry"]], geometry="geometry", crs=C.CRS),
        top=top,
        detail=layer.attrs.get("detail", {}),
    )
    auto = {
        "cell_size_m": size,
        "cell_size_rule": "[forecast] cell_size"
        if cfg.cell_size is not None
        else (f"100 m, or the smallest of 150..2000 m keeping the grid under {cfg.max_cells:,} cells"),
        "cells": len(grid),
        "districts": districts,
        "months": f"{months[0]}..{months[-1]}",
    }
    return sf, auto


def forecast(study: Study, cfg: ForecastConfig) -> ForecastResult:
    """Pipeline stage ``forecast``: the recommended forecast of the next ``horizon`` months per source.

    Parameters
    ----------
    study
        The loaded :class:`~hotspots.prepare.study.Study`: its place-analysis incidents
        (``[study] sources``) are forecast source by source; the location labels of every source
        name the top cells.
    cfg
        The ``[forecast]`` section.

    Returns
    -------
    ForecastResult
        One :class:`SourceForecast` per source with at least ``min_months`` consecutive months
        (the latest run of consecutive months is used), a note for every other source.

    Notes
    -----
    The accuracy beside each forecast is the nested PEI at ``select_coverage``: on rolling folds of
    the source's months, each fold uses the method with the best mean PEI over the earlier folds
    whose test window had ended, so the choice does not flatter the method chosen.
    """
    t0 = time.perf_counter()
    inc = study.analysis_incidents
    sources = list(study.config.study.sources) or sorted(inc[C.SOURCE].dropna().astype(str).unique())
    named = None
    if C.LOCATION in study.incidents.columns:
        loc = study.incidents[C.LOCATION]
        named = study.incidents[loc.notna() & (loc.astype(str).str.strip() != "")]
    auto = AutoChoices("forecast")
    done: list[SourceForecast] = []
    skipped: list[dict[str, Any]] = []
    for src in sources:
        s_inc = inc[inc[C.SOURCE] == src]
        present = sorted(s_inc[C.MONTH].dropna().astype(str).unique())
        run = consecutive_months(present)
        span = f"{present[0]} to {present[-1]}" if present else "no months"
        if len(run) < cfg.min_months:
            note = (
                f"{src}: {len(run)} consecutive month(s) ({span}); a forecast needs at least {cfg.min_months} "
                f"consecutive months ({cfg.min_train_months} to learn from, then a test window to choose the method "
                f"on and one to score the choice), so this source is not forecast"
            )
            skipped.append({"source": src, "months": len(run), "note": note})
            log.info("forecast: %s", note)
            continue
        s_inc = s_inc[s_inc[C.MONTH].astype(str).isin(run)]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", HotspotsWarning)
                sf, a = forecast_source(study, src, s_inc, run, cfg, named=named)
        except InputError as exc:
            skipped.append({"source": src, "months": len(run), "note": f"{src}: not forecast: {exc}"})
            continue
        if len(run) < len(present):
            a["note"] = f"months before {run[0]} are not used: the series has a gap"
        auto.record(**{src: a})
        done.append(sf)
    summary = {
        "horizon": cfg.horizon,
        "sources": {
            s.source: {
                "method": s.method,
                "months": f"{s.months[0]}..{s.months[-1]}",
                "forecast_months": f"{s.forecast_months[0]}..{s.forecast_months[-1]}",
                "cell_size_m": s.cell_size,
                "cells": s.cells,
                "accuracy": s.accuracy,
                "ranking": s.ranking,
                "top": [str(r[STREET] or r[LOCATION] or "") for _, r in s.top.head(3).iterrows()],
            }
            for s in done
        },
        "skipped": [d["note"] for d in skipped],
        "seconds": round(time.perf_counter() - t0, 3),
    }
    return ForecastResult(
        sources=tuple(done), skipped=tuple(skipped), horizon=cfg.horizon, auto=dict(auto), summary=summary
    )
