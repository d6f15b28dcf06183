"""Tests of "where next": the forecast after the data, street names, the forecast stage and its outputs."""

from __future__ import annotations

import json
import re
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.evaluate.forecast import config as FC
from hotspots.evaluate.forecast import stage as ST
from hotspots.evaluate.forecast import where_next as WN
from hotspots.present.maps.layers import where_next as MN
from hotspots.present.report.where_next import where_next_section
from hotspots.units import cell_centres, make_grid

XSS = "<img src=x onerror=alert(1)>"


def toy_world():
    grid = make_grid(shapely.box(0, 0, 1000, 1000), cell_size=100)
    xy = cell_centres(grid)
    rng = np.random.default_rng(0)
    months = [f"2020-{m:02d}" for m in range(1, 7)]
    counts = np.zeros((len(grid), 6), dtype=int)
    counts[55] = [3, 4, 2, 5, 3, 4]
    counts[12] = [0, 0, 1, 2, 3, 4]
    counts[rng.choice(len(grid), 10, replace=False), rng.integers(0, 6, 10)] += 1
    cell, month = np.nonzero(counts)
    reps = counts[cell, month]
    pts = xy[np.repeat(cell, reps)] + np.array([10.0, -5.0])  # incidents 11 m from the centre
    inc = gpd.GeoDataFrame(
        {C.MONTH: np.asarray(months, dtype=object)[np.repeat(month, reps)], C.HARM: 1.0},
        geometry=gpd.points_from_xy(pts[:, 0], pts[:, 1]),
        crs=C.CRS,
    )
    return grid, inc, counts, months


def test_where_next_counts_and_attrs():
    grid, inc, counts, _ = toy_world()
    layer = WN.where_next(inc, grid, method="counts", horizon=3)
    assert list(layer.columns) == [*WN.WHERE_NEXT_COLUMNS, "geometry"]
    np.testing.assert_allclose(layer[WN.FORECAST], 3 * counts.mean(axis=1))
    assert layer[WN.FORECAST_RANK].iloc[55] == 1 and layer[WN.LONG_RUN].iloc[55] == counts[55].sum()
    assert layer[WN.RECENT].iloc[12] == 9
    assert layer.attrs["forecast_months"] == ["2020-07", "2020-08", "2020-09"]
    assert layer.attrs["trained_on"] == ["2020-01", "2020-06"]
    ens = WN.where_next(inc, grid, method="ensemble", horizon=1, cfg=FC.FAST_CONFIG)
    assert ens.attrs["detail"]["inner_folds"] == 5 and (ens[WN.FORECAST] >= 0).all()
    with pytest.raises(InputError, match=r"one of counts, last_period, ensemble, poisson, hgb, got 'kde'"):
        WN.where_next(inc, grid, method="kde")


def test_name_cells_and_top_cells():
    grid, inc, _, _ = toy_world()
    c55 = cell_centres(grid)[55] + np.array([10.0, -5.0])  # the busiest snap point of cell 55
    named = gpd.GeoDataFrame(
        {C.LOCATION: ["On or near Parking Area", "On or near Goose Gate", "On or near ", "On or near Far Road"]},
        geometry=gpd.points_from_xy(
            [c55[0] + 3, c55[0] + 40, c55[0], c55[0] + 900], [c55[1], c55[1], c55[1] + 1, c55[1]]
        ),
        crs=C.CRS,
    )
    layer = WN.where_next(inc, grid, method="counts", horizon=1)
    top = WN.top_cells(layer, named=named, incidents=inc, grid=grid, top=2)
    assert list(top.columns) == WN.TOP_COLUMNS
    first = top.iloc[0]
    assert first[C.CELL_ID] == grid[C.CELL_ID].iloc[55]
    assert first[WN.LOCATION] == "Parking Area" and first[WN.NAME_DISTANCE_M] == pytest.approx(3.0)
    assert first[WN.STREET] == "Goose Gate"  # the nearest label that reads like a street
    assert (first[WN.X], first[WN.Y]) == pytest.approx((c55[0], c55[1]))
    assert top[C.RANK].tolist() == [1, 2]
    far = WN.name_cells(layer.iloc[[0]], named=named, max_distance=150)  # cell 0 is over 150 m from any name
    assert far[WN.LOCATION].iloc[0] == "" and np.isnan(far[WN.NAME_DISTANCE_M].iloc[0])
    with pytest.raises(InputError, match="named points need a 'location' column"):
        WN.name_cells(layer.iloc[[0]], named=named.drop(columns=[C.LOCATION]))
    with pytest.raises(InputError, match="top must be a whole number of cells >= 1, got 0"):
        WN.top_cells(layer, top=0)


def test_street_pattern():
    assert WN.STREET_PATTERN.search("Goose Gate") and WN.STREET_PATTERN.search("A6008")
    assert WN.STREET_PATTERN.search("Upper Parliament Street")
    assert not WN.STREET_PATTERN.search("Parking Area") and not WN.STREET_PATTERN.search("Nightclub")


def test_consecutive_months_and_an_empty_table():
    assert ST.consecutive_months(["2020-03", "2020-01", "2020-02"]) == ["2020-01", "2020-02", "2020-03"]
    assert ST.consecutive_months(["2016-07", "2017-07", "2018-07"]) == ["2018-07"]
    assert ST.consecutive_months(["2019-12", "2020-01", "2020-05", "2020-06"]) == ["2020-05", "2020-06"]
    assert ST.consecutive_months([]) == []
    risky = ST.ForecastResult(sources=(), skipped=(), horizon=3).table
    assert list(risky.columns) == ST.WHERE_NEXT_COLUMNS and risky.empty


# --------------------------------------------------------------------------------------
# the forecast stage on the bundled data (the session's bundled run)
# --------------------------------------------------------------------------------------


def test_stage_skips_a_one_month_source_and_forecasts_the_weapons(bundled_run):
    f = bundled_run.run.forecast
    assert f is not None and f.horizon == 3
    (note,) = [s["note"] for s in f.skipped]
    assert note.startswith("police_uk: 1 consecutive month(s) (2019-09 to 2019-09); a forecast needs at least 9")
    (s,) = f.sources
    assert s.source == "county_weapons_2020" and s.months[0] == "2020-01" and s.months[-1] == "2020-12"
    assert s.forecast_months == ["2021-01", "2021-02", "2021-03"]
    assert s.method in FC.ForecastConfig().methods and set(s.ranking) == {"counts", "poisson"}
    assert s.cell_size == 200.0 and s.cells == 54_896  # force-wide: 100 m would be 217,886 cells
    a = s.accuracy
    # measured: the Poisson GLM's nested PEI at 5 % about 0.72 against long-run counts 0.40 (4 folds)
    assert a["folds"] == 4 and a["pei"] > a["counts_pei"] + 0.2
    assert 0 < a["pei"] <= 1 and a["coverage"] == 0.05
    assert len(s.top) == 10 and (s.top[WN.LOCATION].str.len() > 0).all()  # every top cell named
    assert (s.top[WN.NAME_DISTANCE_M] < 150).all()
    assert s.top[WN.FORECAST].is_monotonic_decreasing
    assert "backtest (method chosen on earlier months" in s.accuracy_text()


def test_stage_outputs_csv_layer_manifest_map_and_report(bundled_run):
    out = bundled_run.out
    csv = pd.read_csv(out / "where_next.csv", keep_default_na=False)
    assert list(csv.columns) == ST.WHERE_NEXT_COLUMNS
    assert len(csv) == 10 and set(csv[C.SOURCE]) == {"county_weapons_2020"}
    assert csv[C.RANK].tolist() == list(range(1, 11)) and (csv[ST.FORECAST_MONTHS] == "2021-01..2021-03").all()
    text = [c for c in csv.columns if not pd.api.types.is_numeric_dtype(csv[c])]
    assert not any(csv[c].astype(str).str.match(r"^[=+\-@]").any() for c in text)
    layer = gpd.read_file(out / "where_next.gpkg", layer="where_next")
    assert list(layer.columns) == [*ST.LAYER_COLUMNS, "geometry"] and layer.crs.equals(C.CRS)
    assert len(layer) == int(np.ceil(0.05 * 54_896)) == round(layer[ST.AREA_SHARE].max() * 54_896)
    m = json.loads((out / "manifest.json").read_text())
    assert m["forecast"]["sources"]["county_weapons_2020"]["cell_size_m"] == 200.0
    assert m["auto"]["forecast"]["county_weapons_2020"]["cell_size_m"] == 200.0
    assert "where_next.csv" in m["outputs"] and "forecast" in m["timings_s"]
    analyst = (out / "maps" / "analyst.html").read_text(encoding="utf-8")
    assert MN.NAME in analyst and "Where next 1: " in analyst
    assert MN.NAME not in (out / "maps" / "board.html").read_text(encoding="utf-8")
    report = (out / "report.html").read_text(encoding="utf-8")
    assert '<section id="where-next">' in report and "Where next: the next quarter" in report
    assert str(csv[WN.STREET].iloc[0]) in report


def test_stage_on_a_source_with_a_gap_uses_the_latest_run(study):
    """A source whose months have a gap is forecast from its latest consecutive run, said in the manifest."""
    import dataclasses

    inc = study.incidents
    keep = (inc[C.SOURCE] != "city_robbery_2020") | (inc[C.MONTH] != "2020-02")
    gap = dataclasses.replace(study, incidents=inc[keep])
    gap.config = dataclasses.replace(
        study.config, study=dataclasses.replace(study.config.study, sources=("city_robbery_2020",))
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = ST.forecast(gap, FC.ForecastConfig(min_months=9))
    (s,) = r.sources
    assert s.months[0] == "2020-03" and len(s.months) == 10
    assert "gap" in r.auto["city_robbery_2020"]["note"]
    assert s.cell_size == 100.0  # the City: 100 m cells


# --------------------------------------------------------------------------------------
# the map layer and the report block (escaped)
# --------------------------------------------------------------------------------------


def _toy_result_frames():
    """A forecast layer of 100 cells in the City centre and a two-row ranked list (synthetic)."""
    grid = make_grid(shapely.box(456_500, 339_500, 457_500, 340_500), cell_size=100)
    layer = grid.assign(
        **{
            C.SOURCE: "s",
            WN.FORECAST: np.linspace(2, 0.1, len(grid)),
            WN.FORECAST_RANK: np.arange(1, len(grid) + 1),
            ST.AREA_SHARE: np.arange(1, len(grid) + 1) / 2000,
            WN.LONG_RUN: 3.0,
            WN.RECENT: 1.0,
        }
    )[[*ST.LAYER_COLUMNS, "geometry"]]
    top = pd.DataFrame(
        {
            C.SOURCE: ["s", "s"],
            C.RANK: [1, 2],
            C.CELL_ID: [1, 2],
            WN.FORECAST: [2.0, 1.9],
            ST.FORECAST_MONTHS: "2021-01..2021-03",
            WN.LONG_RUN: [3.0, 2.0],
            WN.RECENT: [1.0, 0.0],
            WN.LOCATION: [XSS, ""],
            WN.STREET: ["Goose Gate", ""],
            WN.NAME_DISTANCE_M: [1.0, np.nan],
            WN.X: [457_050.0, 456_950.0],
            WN.Y: [339_950.0, 340_050.0],
            WN.LON: [-1.15, -1.149],
            WN.LAT: [52.95, 52.951],
            ST.METHOD: "poisson",
            ST.CELL_SIZE_M: 100.0,
            ST.BACKTEST_PEI: [0.7, 0.7],
            ST.BACKTEST_COUNTS_PEI: [0.4, 0.4],
            ST.BACKTEST_FOLDS: [4, 4],
        }
    )
    return layer, top


def test_map_layer_bands_ranked_dots_and_escaping(study):
    from hotspots.present.maps.context import MapContext, MapOptions, make_gazetteer
    from hotspots.present.maps.layers import AUDIENCE_LAYERS, REGISTRY

    assert ("where_next", False) in AUDIENCE_LAYERS["analyst"] and "where_next" in REGISTRY
    assert all(k != "where_next" for k, _ in AUDIENCE_LAYERS["board"] + AUDIENCE_LAYERS["outreach"])
    layer, top = _toy_result_frames()
    gaz = make_gazetteer(study)
    ctx = MapContext("analyst", study, {"where_next": layer, "where_next_top": top}, MapOptions(), gaz)
    lay = REGISTRY["where_next"].build(ctx, False)
    assert lay is not None and lay.name == MN.NAME and not lay.show
    assert len(lay.features) == 100 and [p["i"] for p in lay.points] == ["next:s:1", "next:s:2"]
    bands = [f["properties"]["c"] for f in lay.features]
    assert bands[:20] == [0] * 20 and bands[20:40] == [1] * 20 and set(bands[40:]) == {2}  # 1 %, 2 %, 5 % of 2,000
    first = lay.popup("next:s:1")
    assert first["title"] == "Where next 1: Goose Gate" and first["Expected incidents"] == "2 (2021-01..2021-03)"
    assert first["Nearest police.uk location"] == "&lt;img src=x onerror=alert(1)&gt;"
    assert first["Backtest PEI at 5 %"].startswith("0.7 (long-run counts 0.4, 4 folds)")
    assert lay.popup("next:s:2")["title"] == "Where next 2: unnamed cell"
    assert lay.panel == {
        "title": "Where next (2)",
        "items": [["Where next 1: Goose Gate", "next:s:1"], ["Where next 2: unnamed cell", "next:s:2"]],
    }
    assert "top 1 % of the area" in lay.legend.items[0][1] and "backtest PEI" in lay.legend.note
    merged = REGISTRY["where_next"].build(
        MapContext("analyst", study, {"where_next": layer, "where_next_top": top}, MapOptions(max_cells=10), gaz),
        True,
    )
    assert merged is not None and [f["properties"]["i"] for f in merged.features] == ["band:0", "band:1", "band:2"]
    empty = MapContext("analyst", study, {"where_next": layer.iloc[:0], "where_next_top": top}, MapOptions(), gaz)
    assert REGISTRY["where_next"].build(empty, False) is None


def test_report_block_escapes_and_suppresses_small_counts():
    block = {
        "title": "Where next: the next quarter",
        "sources": [
            {
                "source": "s",
                "method": "poisson",
                "months": "2020-01 to 2020-12",
                "forecast_months": "2021-01 to 2021-03",
                "cell_size_m": 200.0,
                "accuracy": "backtest (...): PEI 0.719",
                "rows": [
                    {
                        "rank": 1,
                        "street": XSS,
                        "location": "Shopping Area",
                        "forecast": 2.84,
                        "long_run": 3.0,
                        "recent": 7.0,
                    },
                ],
            }
        ],
        "skipped": ["police_uk: 1 consecutive month(s)"],
        "caveat": "Forecasts are expected incidents.",
    }
    html = where_next_section(block, small_count=5)
    assert html.startswith('<section id="where-next">') and XSS not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>.*?</td>", html)]
    assert cells[-3:] == ["2.8", "&lt;5", "7"]  # expected, all months (suppressed), last months
    assert "Backtest (...): PEI 0.719." in html and "police_uk: 1 consecutive month(s)." in html
    assert where_next_section(None) == ""


def test_doctests():
    import doctest

    from hotspots.evaluate import kits_backtest
    from hotspots.evaluate.forecast import calibration
    from hotspots.present.report import where_next as report_block

    for mod in (ST, FC, calibration, kits_backtest, report_block):
        res = doctest.testmod(mod, verbose=False)
        assert res.failed == 0 and res.attempted > 0, mod.__name__
