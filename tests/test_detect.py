"""The detect stage end to end on the bundled Nottinghamshire data."""

from __future__ import annotations

import dataclasses
import json
import warnings

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from conftest import CONFIG, assert_frame_contract

from hotspots import columns as C
from hotspots.config import config_from_dict, load_config
from hotspots.detect.gistar import CLASSES, HOT_99
from hotspots.detect.lisa import HH, LISA_CLASSES
from hotspots.detect.stage import LAYER_COLUMNS, DetectConfig, choose_emerging_source, detect
from hotspots.errors import ConfigError, HotspotsWarning
from hotspots.pipeline import run

OLD_MARKET_SQUARE = (-1.1500, 52.9530)


@pytest.fixture(scope="module")
def detected(tmp_path_factory):
    out = tmp_path_factory.mktemp("detect_run")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run(load_config(CONFIG), out, stages=["detect"])


def square_point():
    return gpd.GeoSeries([shapely.Point(*OLD_MARKET_SQUARE)], crs=4326).to_crs(C.CRS).iloc[0]


def test_city_centre_is_a_99_percent_hot_spot(detected):
    grid = detected.run.detect.grid
    lsoa = detected.run.detect.lsoa
    sq = square_point()
    cell = grid[grid.contains(sq)]
    assert len(cell) == 1 and cell["hotspot_class"].iloc[0] == HOT_99
    area = lsoa[lsoa.contains(sq)]
    assert area["hotspot_class"].iloc[0] == HOT_99
    assert area["lisa_class"].iloc[0] == HH
    # the KDE peaks within a kilometre of the square
    assert grid.loc[grid["kde"].idxmax(), "geometry"].distance(sq) < 1000


def test_geopackage_layers_have_the_documented_columns(detected):
    path = detected.out / "hotspots.gpkg"
    assert "hotspots.gpkg" in detected.outputs
    layers = dict(pyogrio.list_layers(path))
    assert set(layers) == set(LAYER_COLUMNS)
    for name, cols in LAYER_COLUMNS.items():
        gdf = gpd.read_file(path, layer=name)
        assert_frame_contract(gdf, cols)
        assert_frame_contract(detected.run.detect.layers()[name], cols)
        assert len(gdf) == len(detected.run.detect.layers()[name])
        numeric = gdf.select_dtypes("number")
        assert not numeric.isna().any().any(), f"NaN written in layer {name}"


def test_results_are_consistent(detected, study):
    grid, lsoa = detected.run.detect.grid, detected.run.detect.lsoa
    assert grid["n"].sum() == len(study.analysis_incidents) == lsoa["n"].sum()
    assert grid["harm"].sum() == pytest.approx(study.analysis_incidents[C.HARM].sum())
    assert set(grid["hotspot_class"]) <= set(CLASSES)
    assert set(lsoa["lisa_class"]) <= set(LISA_CLASSES)
    assert (grid["gi_q"] >= grid["gi_p"] - 1e-15).all()
    assert len(lsoa) == 679
    clusters, zones = detected.run.detect.clusters, detected.run.detect.nte_zones
    assert len(clusters) > 0 and len(zones) > 0
    assert list(clusters["rank"]) == list(range(1, len(clusters) + 1))
    # the densest cluster and the busiest NTE zone are in central Nottingham
    sq = square_point()
    assert zones.geometry.iloc[0].distance(sq) < 1500
    assert clusters.geometry.distance(sq).min() < 500


def test_emerging_hot_spots_on_city_violence(detected):
    em = detected.run.detect.emerging
    assert em.attrs["source"] == "city_violence_2020"
    grid = detected.run.detect.grid
    assert (grid["emerging_class"].to_numpy() == em["emerging_class"].to_numpy()).all()
    cell = grid[grid.contains(square_point())]
    assert "hot spot" in cell["emerging_class"].iloc[0]


def test_manifest_records_every_automatic_choice(detected):
    m = json.loads((detected.out / "manifest.json").read_text())
    auto = m["auto"]["detect"]
    # bundled config: the 4,200 force-wide incidents ([study] sources); sfhotspot's rule gives
    # 1,000 m (below half the ~2.1 km Silverman bandwidth)
    assert auto["sources"] == ["county_weapons_2020", "police_uk"] and auto["incidents"] == 4200
    assert auto["cell_size_m"] == 1000.0
    assert 1800 < auto["kde_bandwidth_m"] < 2400
    for key in ("cell_size_rule", "kde_bandwidth_rule", "gi_neighbourhood", "clusters", "lisa"):
        assert key in auto
    # the emerging source is named in the config, so it is not an automatic choice
    assert "emerging_source" not in auto and m["config"]["detect"]["emerging_source"] == "city_violence_2020"
    assert m["detect"]["grid_classes"][HOT_99] > 0
    assert m["status"] == "ok"


def test_emerging_with_too_few_months_is_announced(study, tmp_path):
    cfg = DetectConfig(emerging_source="police_uk", cell_size=1000.0, bandwidth=1500.0)
    with pytest.warns(HotspotsWarning, match=r"emerging hot spots not analysed: .*month"):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="^(?!emerging)")
            res = detect(study, cfg)
    assert (res.grid["emerging_class"] == "not analysed").all()
    assert res.emerging is None
    assert res.auto.get("cell_size_m") is None  # given, not chosen
    assert res.grid["hotspot_class"].eq(HOT_99).any()


def test_choose_emerging_source(study):
    assert choose_emerging_source(study.incidents) == "city_violence_2020"
    assert choose_emerging_source(study.incidents.iloc[:0]) is None


def test_config_errors_are_clear(study, tmp_path):
    base = {
        "boundaries": {"lsoa": str(CONFIG.parent / "boundaries/lsoa2011_bsc_nottinghamshire.gpkg")},
        "crime": [{"name": "x", "path": "x"}],
    }
    with pytest.raises(ConfigError, match=r"\[detect\] key 'grid_shape' must be one of \['square', 'hex'\], got 'tri'"):
        config_from_dict({**base, "detect": {"grid_shape": "tri"}})
    with pytest.raises(ConfigError, match=r"\[detect\] key 'cell_size' must be a positive number of metres, got -5"):
        config_from_dict({**base, "detect": {"cell_size": -5}})
    with pytest.raises(ConfigError, match=r"unknown key 'bandwith' in \[detect\]. Did you mean 'bandwidth'\?"):
        config_from_dict({**base, "detect": {"bandwith": 300}})
    with pytest.raises(
        ConfigError,
        match=r"\[detect\] key 'inference' must be one of "
        r"\['exact', 'analytic', 'permutation', 'eb_rate'\], got 'bootstrap'",
    ):
        DetectConfig(inference="bootstrap")
    with pytest.raises(ConfigError, match=r"\[detect\] key 'dispersion' must be 'pearson' or a number >= 1 .*got 0.5"):
        DetectConfig(dispersion=0.5)
    with pytest.raises(ConfigError, match=r"\[detect\] key 'dispersion' applies to inference \['exact'\] only"):
        DetectConfig(inference="analytic", dispersion=2.0)
    with pytest.raises(ConfigError, match=r"\[detect\] key 'grid_exposure' must be one of \['area', 'residents'\]"):
        DetectConfig(grid_exposure="people")
    assert DetectConfig(inference="analytic").method_dispersion is None
    assert DetectConfig().method_dispersion == "pearson"
    with pytest.raises(ConfigError, match=r"\[detect\] key 'sources' is no longer used: .* \[study\] sources"):
        config_from_dict({**base, "detect": {"sources": ["x"]}})
    with pytest.raises(ConfigError, match=r"'emerging_source' is 'nope', which is not a crime source"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            detect(study, DetectConfig(emerging_source="nope", cell_size=1000.0))


def test_count_weights_and_hex_grid(study, tmp_path):
    det = DetectConfig(weights="count", grid_shape="hex", cell_size=500.0, kernel="gaussian")
    city = dataclasses.replace(
        study.config, study=dataclasses.replace(study.config.study, sources=["city_violence_2020"])
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid = detect(dataclasses.replace(study, config=city), det).grid
    assert grid.attrs["grid"]["shape"] == "hex"
    assert grid["n"].sum() == (study.incidents[C.SOURCE] == "city_violence_2020").sum()
    assert grid[grid.contains(square_point())]["hotspot_class"].iloc[0] == HOT_99
    assert np.isfinite(grid["kde"]).all()


MARKET_SQUARE_LSOA = "E01033400"  # Nottingham 039B (Old Market Square)


def test_calibrated_default_on_the_bundled_data(detected):
    """The default (exact test, Pearson dispersion): 039B hot 99 %, every hot unit holds an incident."""
    grid, lsoa = detected.run.detect.grid, detected.run.detect.lsoa
    row = lsoa[lsoa["lsoa_code"] == MARKET_SQUARE_LSOA].iloc[0]
    assert row["hotspot_class"] == HOT_99 and row["n"] == 74
    assert row["local_sum"] > 3 * row["local_expected"]
    for units in (grid, lsoa):
        hot = units["hotspot_class"].str.startswith("hot")
        assert hot.any() and (units.loc[hot, "n"] >= 1).all()
        assert (units["local_sum"] >= 0).all() and (units["local_expected"] > 0).all()
    # measured (docs/detect.md): 24 hot LSOAs and 50 hot cells, against 42 and 135 with the analytic Gi*
    assert 15 <= lsoa["hotspot_class"].str.startswith("hot").sum() <= 35
    assert 30 <= grid["hotspot_class"].str.startswith("hot").sum() <= 80
    m = json.loads((detected.out / "manifest.json").read_text())
    for key in ("grid_inference", "lsoa_inference"):
        info = m["auto"]["detect"][key]
        assert info["inference"] == "exact" and info["dispersion_rule"] == "pearson (estimated)"
        assert info["dispersion"] > 1 and info["incidents"] == 4200
    assert m["auto"]["detect"]["lsoa_inference"]["exposure"] == "population"


def test_emerging_is_analysed_over_the_source_coverage_only(detected, study):
    """City-only violence: analysed cells lie in the City and hold incidents (ArcGIS: locations with data)."""
    grid = detected.run.detect.grid
    em = detected.run.detect.emerging
    auto = json.loads((detected.out / "manifest.json").read_text())["auto"]["detect"]["emerging"]
    assert auto["source_districts"] == ["Nottingham"] and auto["month_gaps"] == "none"
    analysed = em["emerging_class"] != "not analysed"
    assert analysed.sum() == auto["cells_analysed"]
    city = shapely.union_all(study.lsoa.geometry[study.lsoa["district"] == "Nottingham"].values)
    inc = study.incidents[study.incidents["source"] == "city_violence_2020"]
    from hotspots.units import assign_cells

    pos = assign_cells(inc, grid)
    has = np.bincount(pos[pos >= 0], minlength=len(grid)) > 0
    assert (has[analysed.to_numpy()]).all()
    assert grid.geometry[analysed.to_numpy()].intersects(city).all()
    assert auto["incidents_used"] == len(inc) == 13335


def test_grid_exposure_residents(study):
    cfg = DetectConfig(grid_exposure="residents", cell_size=1000.0, bandwidth=1500.0, emerging_source="police_uk")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = detect(study, cfg)
    info = res.auto["grid_inference"]
    assert info["exposure"] == "residents"
    grid = res.grid
    hot = grid["hotspot_class"].str.startswith("hot")
    assert hot.any() and (grid.loc[hot, "n"] >= 1).all()
    assert grid[grid.contains(square_point())]["hotspot_class"].iloc[0] == HOT_99
