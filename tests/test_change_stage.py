"""The change stage on the real bundled data: units, sources, whole-area claims, similarity, interventions."""

from __future__ import annotations

import dataclasses
import tomllib
import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import CONFIG

from hotspots import columns as C
from hotspots.config import config_from_dict
from hotspots.errors import ConfigError, HotspotsWarning, InputError
from hotspots.evaluate.change import CHANGE_CLASSES, CHANGE_COLUMNS
from hotspots.evaluate.change_config import ChangeConfig, InterventionConfig
from hotspots.evaluate.change_extras import DETAIL_COLUMNS
from hotspots.evaluate.change_stage import ChangeResult, change
from hotspots.evaluate.impact import IMPACT_COLUMNS

ROBBERY = {
    "before": "2020-01..2020-12",
    "after": "2022-01..2022-12",
    "sources": ["city_robbery_2020", "city_robbery_2022"],
}
HALVES = {"before": "2020-01..2020-06", "after": "2020-07..2020-12", "sources": ["city_violence_2020"]}


def run(study, **kw) -> ChangeResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HotspotsWarning)
        entries = kw.pop("interventions", ())
        return change(study, ChangeConfig(**kw), interventions=entries)


@pytest.fixture(scope="module")
def robbery(study):
    return run(study, **ROBBERY)


def test_robbery_2020_vs_2022_assigns_both_periods_by_location(study, robbery):
    t = robbery.table
    assert list(t.columns) == [*CHANGE_COLUMNS, "geometry"] and t.crs == C.CRS
    city = study.lsoa[study.lsoa[C.DISTRICT] == "Nottingham"]
    assert len(t) == len(city) == 182  # the source districts: City-only data are judged on the City
    assert set(t["change_class"]) <= set(CHANGE_CLASSES)
    assert (t["before_months"] == 12).all() and (t["after_months"] == 12).all()
    # the 2022 file carries LSOA codes and the 2020 file does not: both are placed by location, so the
    # counts per LSOA are those of a spatial join, not of the 2022 file's own codes
    inc = study.incidents[study.incidents[C.SOURCE] == "city_robbery_2022"]
    own = inc[C.LSOA_CODE].value_counts()
    moved = (t.set_index("unit_id")["after"] - own.reindex(t["unit_id"]).fillna(0).to_numpy()).abs().sum()
    assert moved > 0  # some points lie in another polygon than their code says
    assert t["before"].sum() + t["after"].sum() + robbery.table.attrs["change"]["outside_units"] == 491 + 555
    assert robbery.area.before == t["before"].sum() and robbery.area.after == t["after"].sum()
    assert robbery.area.seasonal.matched
    assert any("data only in the before period" in n for n in robbery.notes)
    assert any("COVID-19 restrictions" in n for n in robbery.notes)


def test_zero_in_both_periods_is_no_data_not_a_test(robbery):
    t = robbery.table
    none = t[(t["before"] == 0) & (t["after"] == 0)]
    assert len(none) > 0 and (none["change_class"] == "no data").all()
    assert none["p_value"].isna().all() and none["q_value"].isna().all() and none["mde_pct"].isna().all()
    assert robbery.summary["tested"] == len(t) - len(none)


def test_default_allows_for_month_to_month_variation_and_says_so(robbery):
    d = robbery.summary["dispersion"]
    assert d["setting"] == "auto" and d["nb2_c"] > 0 and d["max_design_effect"] > 1
    assert any("vary more from month to month" in n for n in robbery.notes)
    assert list(robbery.detail.columns) == DETAIL_COLUMNS and len(robbery.detail) == len(robbery.table)
    assert (robbery.detail["design_effect"] >= 1).all()


def test_plain_setting_flags_more_than_the_default(study, robbery):
    plain = run(study, **ROBBERY, dispersion="none")
    tested = robbery.table["change_class"] != "no data"
    pp, pa = plain.table.loc[tested, "p_value"], robbery.table.loc[tested, "p_value"]
    assert (pp <= pa + 1e-12).mean() > 0.85  # rounding the effective counts can move small units either way
    assert pp.min() < pa.min()
    assert plain.summary["classes"]["significant rise"] >= robbery.summary["classes"]["significant rise"]


def test_similarity_sppt_and_gi_agreement(robbery):
    assert 0 <= robbery.sppt.robust_s_index <= 1 and "85%" in robbery.sppt.variant
    assert robbery.classes is not None and robbery.classes.units == 182
    assert -1 <= robbery.classes.kappa <= 1
    assert set(robbery.detail["sppt_s"]) <= {-1, 0, 1}


@pytest.mark.parametrize("units", ["grid", "district"])
def test_other_units(study, units):
    r = run(study, **HALVES, units=units, cell_size=500.0 if units == "grid" else None)
    t = r.table
    if units == "grid":
        assert t["unit_name"].str.startswith("cell ").all() and r.auto["area_districts"] == ["Nottingham"]
    else:
        assert t["unit_name"].tolist() == ["Nottingham"] and r.classes is None  # Gi* needs three units
        assert any("Gi* maps not compared" in n for n in r.notes)
    assert t["before"].sum() == r.area.before


def test_harm_measure_and_comparison_districts(study):
    r = run(
        study,
        before="2020-01..2020-06",
        after="2020-07..2020-12",
        sources=["county_weapons_2020"],
        measure="harm",
        districts=["Nottingham"],
        comparison_districts=["Mansfield", "Ashfield"],
    )
    assert r.measure == "harm" and r.table["before"].dtype == float
    assert r.comparison is not None and "while Mansfield and Ashfield" in r.comparison.sentence
    assert r.comparison.ratio == pytest.approx(r.area.rate_ratio / r.comparison.comparison_ratio)
    weight = study.incidents.loc[study.incidents[C.SOURCE] == "county_weapons_2020", C.HARM].unique()
    assert len(weight) == 1 and weight[0] != 1  # one harm weight for possession of weapons
    assert r.area.before == pytest.approx(r.table["before"].sum())
    assert (r.table["before"] % weight[0] == 0).all() and r.table["before"].sum() > 0


def test_comparison_ratio_sentence(study):
    r = run(study, **HALVES, comparison_ratio=1.06, comparison_label="England and Wales")
    assert r.comparison.sentence.startswith("Nottingham fell 5 % while England and Wales rose 6 %")
    assert r.summary["comparison"]["sentence"] == r.comparison.sentence


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"before": "2020-01..2020-06", "after": "2020-05..2020-12"}, r"overlap in 2 month\(s\) \(2020-05..2020-06\)"),
        (
            {"before": "2019-09", "after": "2020-07..2020-12", "sources": ["city_violence_2020"]},
            r"has no month with data: the selected sources cover 2020-01 to 2020-12",
        ),
        ({"before": "2021-01", "after": "2021-02"}, r"--before \(2021-01\) has no month with data in any source"),
        ({"before": "2019-09", "after": "2022-01"}, r"no source has data in both periods"),
        (
            {**HALVES, "districts": ["Notingham"]},
            r"\[change\] key 'districts': unknown district 'Notingham'\. Did you mean 'Nottingham'\?",
        ),
        (
            {**HALVES, "comparison_districts": ["Gedlin"]},
            r"\[change\] key 'comparison_districts': unknown district 'Gedlin'\. Did you mean 'Gedling'\?",
        ),
        ({**HALVES, "sources": ["violence"]}, r"unknown source 'violence'"),
    ],
)
def test_bad_periods_and_names(study, kw, match):
    with pytest.raises(InputError, match=match):
        run(study, **kw)


# --- the intervention register -----------------------------------------------------------------------

CENTRE = "E01033406"  # a City-centre LSOA
CONTROL = ["E01013855"]


@pytest.fixture(scope="module")
def study_with_area(study, tmp_path_factory):
    """The study with a treated area read from a polygon file, as load_study reads [[intervention]] files."""
    path = tmp_path_factory.mktemp("areas") / "treated.geojson"
    study.lsoa[study.lsoa[C.LSOA_CODE] == CENTRE][["geometry"]].to_crs("EPSG:4326").to_file(path)
    from hotspots.io.areas import read_area_file

    return dataclasses.replace(study, areas={"pilot:treated": read_area_file(path, what="treated")}), path


def test_intervention_register_wdd_harm_and_stored_geometry(study_with_area):
    study, path = study_with_area
    entries = (
        InterventionConfig(
            name="pilot", start="2020-07", months=6, treated=path, control_lsoas=CONTROL, buffer_m=200.0
        ),
        InterventionConfig(name="no control", start="2020-07", months=6, treated_lsoas=[CENTRE]),
    )
    r = run(study, **HALVES, interventions=entries)
    imp = r.impact
    assert list(imp.columns) == IMPACT_COLUMNS and len(imp) == 4
    assert imp["measure"].tolist() == ["count", "harm", "count", "harm"]
    pilot = imp.iloc[0]
    # counted by location: the file and the LSOA list give the same treated area
    assert pilot["treated_before"] == imp.iloc[2]["treated_before"] > 0
    assert (
        pilot["wdd"]
        == (pilot["treated_after"] - pilot["treated_before"])
        - (pilot["control_after"] - pilot["control_before"])
        + pilot["wdd_displacement"]
    )
    assert pilot["before"] == "2020-01..2020-06" and pilot["period_months"] == 6
    assert 0 < pilot["mde_pct"] < 100
    lone = imp.iloc[2]
    assert np.isnan(lone["wdd"]) and np.isnan(lone["ratio_vs_control"])
    assert lone["verdict"].startswith("no control area") and 0 <= lone["treated_p"] <= 1
    areas = r.intervention_areas
    assert set(areas["role"]) == {"treated", "control", "displacement", "displacement_control"}
    assert areas.crs == C.CRS and (areas["area_km2"] > 0).all()
    ring = areas[(areas["intervention"] == "pilot") & (areas["role"] == "displacement")].geometry.iloc[0]
    assert not ring.intersects(study.lsoa[study.lsoa[C.LSOA_CODE] == CENTRE].geometry.iloc[0].buffer(-1))


def test_intervention_errors(study):
    """Unknown LSOAs, periods outside the data, overlapping areas (the file path only has to exist)."""
    with pytest.raises(InputError, match=r"'treated_lsoas': 'E0100000X' is not an LSOA of the study area"):
        run(
            study,
            **HALVES,
            interventions=(InterventionConfig(name="x", start="2020-07", months=6, treated_lsoas=["E0100000X"]),),
        )
    with pytest.raises(InputError, match=r"'x' after period has 1; the WDD test compares equal periods"):
        run(
            study,
            **HALVES,
            interventions=(InterventionConfig(name="x", start="2020-12", months=6, treated_lsoas=[CENTRE]),),
        )
    with pytest.raises(InputError, match=r"'x' before period \(2023-01..2023-06\) has no month with data"):
        run(
            study,
            **HALVES,
            interventions=(InterventionConfig(name="x", start="2023-07", months=6, treated_lsoas=[CENTRE]),),
        )
    centre = study.lsoa.set_index(C.LSOA_CODE).geometry[CENTRE]
    big = dataclasses.replace(study, areas={"x:treated": gpd.GeoDataFrame(geometry=[centre.buffer(500)], crs=C.CRS)})
    entry = InterventionConfig(name="x", start="2020-07", months=6, treated=CONFIG, control_lsoas=[CENTRE])
    with pytest.raises(InputError, match=r"the treated and control areas overlap"):
        run(big, **HALVES, interventions=(entry,))


def test_config_sections_are_checked(tmp_path):
    raw = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    cases = [
        ({"change": {"before": "2020-01"}}, r"\[change\] needs both 'before' and 'after'"),
        ({"change": {"before": "2020-01", "after": "2020-02", "units": "ward"}}, r"'units' must be one of lsoa, grid"),
        ({"change": {"before": "2020-01", "after": "2020-02", "dispersion": 0.5}}, r"'dispersion' must be 'auto'"),
        ({"change": {"before": "2020-1", "after": "2020-02"}}, r"\[change\] key 'before': '2020-1' is not a month"),
        (
            {"change": {"before": "2020-01", "after": "2020-02", "sources": ["polise_uk"]}},
            r"\[change\] key 'sources' names unknown source\(s\) 'polise_uk'\. Did you mean 'police_uk'\?",
        ),
        ({"intervention": [{"name": "a", "start": "2020-07"}]}, r"has no treated area"),
        (
            {"intervention": [{"name": "a", "start": "2020-07", "treated_lsoas": ["E1"], "buffer_m": 100}]},
            r"sets 'buffer_m' without a control area",
        ),
        ({"intervention": [{"name": "a", "start": "2020-07", "treated": "nope.gpkg"}]}, r"file not found"),
        (
            {"intervention": [{"name": "a", "start": "2020-07", "treated_lsoas": ["E1"]}] * 2},
            r"names must be unique; repeated: a",
        ),
    ]
    for extra, match in cases:
        with pytest.raises(ConfigError, match=match):
            config_from_dict({**raw, **extra}, path=CONFIG)


def test_intervention_polygon_file_is_read_and_hashed_at_load(tmp_path):
    from hotspots.prepare.study import load_study

    path = tmp_path / "t.gpkg"
    gpd.GeoDataFrame(geometry=[shapely.box(455000, 339000, 458000, 341000)], crs=C.CRS).to_file(path)
    raw = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    raw["intervention"] = [{"name": "box", "start": "2020-07", "months": 3, "treated": str(path)}]
    cfg = config_from_dict(raw, path=CONFIG)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = load_study(cfg)
    assert list(study.areas) == ["box:treated"] and study.areas["box:treated"].crs == C.CRS
    rec = [i for i in study.inputs if i["role"] == "area:box:treated"]
    assert len(rec) == 1 and len(rec[0]["sha256"]) == 64
