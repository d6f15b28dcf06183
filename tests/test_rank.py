"""Tests for the rank stage: components, scaling, composite score, Monte Carlo, reasons, profiles, the stage."""

from __future__ import annotations

import dataclasses
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.stats
from conftest import assert_frame_contract
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from hotspots import columns as C
from hotspots.config import config_from_dict
from hotspots.errors import ConfigError, HotspotsWarning, InputError
from hotspots.rank import concentration as evaluate
from hotspots.rank.scale import _average_rank
from hotspots.rank.stage import (
    COMPONENT_COLUMNS,
    COMPONENTS,
    COMPOSITE_PLACES_COLUMNS,
    CONTRIB,
    DEFAULT_WEIGHTS,
    DISTRICT_COLUMNS,
    PLACES_COLUMNS,
    RankConfig,
    composite_score,
    district_profiles,
    place_components,
    rank,
    rank_places,
    scale,
)

OLD_MARKET_SQUARE = "E01033400"  # Nottingham 039B: the LSOA holding Old Market Square (city centre)


def synthetic(n: int = 40, seed: int = 1) -> pd.DataFrame:
    """A components frame with every column, planted values, no geometry."""
    rng = np.random.default_rng(seed)
    pop = rng.integers(1000, 3000, n).astype(float)
    cnt = rng.poisson(rng.gamma(0.8, 10, n))
    harm = cnt * rng.uniform(1, 2, n)
    near = harm * rng.uniform(0, 1, n)
    return pd.DataFrame(
        {
            C.LSOA_CODE: [f"L{i:03d}" for i in range(n)],
            C.LSOA_NAME: [f"Place {i}" for i in range(n)],
            C.DISTRICT: np.where(np.arange(n) % 3 == 0, "City", np.where(np.arange(n) % 3 == 1, "North", "South")),
            "population": pop,
            "n": cnt,
            "harm": harm,
            "harm_near": near,
            "harm_rate": harm / pop * 1000,
            "gi_z": rng.normal(0, 2, n),
            "hotspot_class": ["not significant"] * n,
            "kde": rng.gamma(1, 100, n),
            "venues_near": rng.integers(0, 20, n).astype(float),
            "venue_density": rng.gamma(1, 5, n),
            "near_venue_share": np.where(harm > 0, near / np.where(harm > 0, harm, 1), 0.0),
            "deprivation_score": rng.uniform(0, 80, n),
            "imd_decile": rng.integers(1, 11, n).astype(float),
            "imd_nc_decile": rng.integers(1, 11, n).astype(float),
            "idaci_rate_derived": rng.uniform(0, 0.5, n),
            "cyp_need": rng.uniform(0, 100, n),
            "cyp_decile": rng.integers(1, 11, n).astype(float),
        }
    )


# --- scaling ------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 6).map(float), st.just(np.nan)), min_size=1, max_size=40))
def test_average_rank_matches_scipy(values):
    x = np.array(values)
    got = _average_rank(x[None])[0]
    ok = ~np.isnan(x)
    if ok.any():
        np.testing.assert_allclose(got[ok], scipy.stats.rankdata(x[ok], method="average"))


def test_scalings_match_library_oracles():
    rng = np.random.default_rng(3)
    x = rng.gamma(1, 10, 200)
    x[::7] = x[1]  # ties
    np.testing.assert_allclose(scale(x, "percentile"), scipy.stats.rankdata(x) / len(x))
    np.testing.assert_allclose(scale(x, "minmax"), MinMaxScaler().fit_transform(x[:, None])[:, 0])
    np.testing.assert_allclose(scale(x, "zscore"), StandardScaler().fit_transform(x[:, None])[:, 0])
    # rows of a (draws, places) matrix are scaled independently
    m = np.vstack([x, 2 * x + 1])
    np.testing.assert_allclose(scale(m, "percentile")[1], scale(x, "percentile"))
    # NaN stays NaN and is left out of the statistics
    y = np.append(x, np.nan)
    assert np.isnan(scale(y, "zscore")[-1])
    np.testing.assert_allclose(scale(y, "zscore")[:-1], scale(x, "zscore"))
    # constant columns: neutral values, no division by zero
    assert scale(np.ones(5), "minmax").tolist() == [0.5] * 5
    assert scale(np.ones(5), "zscore").tolist() == [0.0] * 5


# --- invariants (hypothesis) ------------------------------------------------------------------

METHODS = [
    ("percentile", "weighted_mean"),
    ("minmax", "weighted_mean"),
    ("zscore", "weighted_mean"),
    ("percentile", "geometric_mean"),
    ("minmax", "geometric_mean"),
]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(2, 30),
    method=st.sampled_from(METHODS),
    comp=st.sampled_from(list(COMPONENTS)),
    place=st.integers(0, 29),
    bump=st.floats(0.001, 1e4),
    weights=st.dictionaries(st.sampled_from(list(COMPONENTS)), st.floats(0.01, 5), min_size=1),
)
def test_raising_a_component_never_lowers_the_score(seed, n, method, comp, place, bump, weights):
    df = synthetic(n, seed)
    weights = {**weights, comp: weights.get(comp, 1.0)}  # the raised component has positive weight
    place %= n
    scaling, combine = method
    before = composite_score(df, weights=weights, scaling=scaling, combine=combine)
    col = COMPONENTS[comp]
    up = df.copy()
    up.loc[place, col] = up.loc[place, col] + bump
    after = composite_score(up, weights=weights, scaling=scaling, combine=combine)
    assert after.iloc[place] >= before.iloc[place] - 1e-12


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 60),
    method=st.sampled_from(METHODS),
    noise=st.sampled_from(["dirichlet", "lognormal", "none"]),
    top_n=st.integers(1, 30),
)
def test_ranks_permutation_intervals_contain_rank(seed, n, method, noise, top_n):
    df = synthetic(n, seed)
    out = rank_places(df, scaling=method[0], combine=method[1], draws=40, seed=seed, weight_noise=noise, top_n=top_n)
    assert sorted(out["rank"]) == list(range(1, n + 1))
    assert (out["rank_low"] <= out["rank"]).all() and (out["rank"] <= out["rank_high"]).all()
    assert out["rank_low"].between(1, n).all() and out["rank_high"].between(1, n).all()
    assert out["p_top_n"].between(0, 1).all()
    # P(top n) sums to min(top_n, n) over places: every draw has exactly that many in the top
    assert out["p_top_n"].sum() == pytest.approx(min(top_n, n))
    assert out["tier"].isin([1, 2, 3]).all()
    assert out["score"].is_monotonic_decreasing


def test_same_seed_same_output_different_seed_differs():
    df = synthetic(80, 5)
    a = rank_places(df, draws=300, seed=11)
    b = rank_places(df, draws=300, seed=11)
    pd.testing.assert_frame_equal(a, b)
    c = rank_places(df, draws=300, seed=12)
    assert not a["p_top_n"].equals(c["p_top_n"]) or not a["rank_high"].equals(c["rank_high"])
    pd.testing.assert_series_equal(a["rank"], c["rank"])  # the point ranking does not depend on the seed


def test_no_noise_means_no_uncertainty():
    df = synthetic(30, 2)
    out = rank_places(df, draws=50, weight_noise="none", resample_counts=False)
    assert (out["rank_low"] == out["rank"]).all() and (out["rank_high"] == out["rank"]).all()
    assert ((out["rank"] <= 20) == (out["p_top_n"] == 1.0)).all()
    zero = rank_places(df, draws=0)
    assert (zero["rank_low"] == zero["rank"]).all()


def test_planted_dominant_place_is_first_and_certain():
    df = synthetic(50, 7)
    big = df.index[17]
    for col in COMPONENTS.values():
        df.loc[big, col] = df[col].max() * 3 + 1
    df.loc[big, ["n", "harm"]] = [500, 800.0]
    df.loc[big, "harm_rate"] = 800.0 / df.loc[big, "population"] * 1000
    df.loc[big, "harm_near"] = 700.0
    df.loc[big, "near_venue_share"] = 700 / 800
    out = rank_places(df, draws=200, seed=0)
    top = out.iloc[0]
    assert top[C.LSOA_CODE] == "L017"
    assert top["rank_low"] == 1 and top["rank_high"] == 1 and top["p_top_n"] == 1.0 and top["tier"] == 1
    # the contributions of a weighted mean sum to the score
    contrib = out[[CONTRIB[k] for k in COMPONENTS]].sum(axis=1)
    np.testing.assert_allclose(contrib, out["score"])
    assert top["reason"].startswith("Top 2% harm-weighted violence")  # 1 of 50 places = top 2 %


def test_poisson_resampling_widens_small_count_intervals():
    """A place ranked on a handful of incidents is less certain than one ranked on hundreds."""
    df = synthetic(60, 9)
    out = rank_places(df, weights={"harm_count": 1.0}, draws=400, weight_noise="none", seed=3)
    width = out["rank_high"] - out["rank_low"]
    small = out["n"].between(1, 5)
    large = out["n"] >= 30
    assert small.any() and large.any()
    # counts of 1-5 incidents are much less certain than counts of 30 or more (21 vs 4 ranks here)
    assert width[small].mean() > 2 * width[large].mean()
    # without count resampling and weight noise there is no uncertainty at all
    fixed = rank_places(df, weights={"harm_count": 1.0}, draws=100, weight_noise="none", resample_counts=False)
    unique = ~fixed["score"].duplicated(keep=False)  # tied places may take any rank within their tie
    assert unique.sum() > 40
    assert (fixed.loc[unique, "rank_high"] == fixed.loc[unique, "rank_low"]).all()


def test_tier_rule():
    df = synthetic(100, 4)
    out = rank_places(df, draws=0, tier1_share=0.05, tier2_share=0.10)
    assert out["tier"].value_counts().to_dict() == {1: 5, 2: 10, 3: 85}
    out = rank_places(df.head(7), draws=0, tier1_share=0.05, tier2_share=0.10)
    assert out["tier"].tolist() == [1, 2, 3, 3, 3, 3, 3]  # ceil: at least one place per tier


def test_missing_component_reweighted_not_ranked_last():
    df = synthetic(30, 8)
    hot = df["harm"].idxmax()
    df.loc[hot, "idaci_rate_derived"] = np.nan  # suppressed IDACI
    full = rank_places(df.fillna({"idaci_rate_derived": df["idaci_rate_derived"].median()}), draws=0)
    out = rank_places(df, draws=0)
    row = out.set_index(C.LSOA_CODE).loc[df.loc[hot, C.LSOA_CODE]]
    assert row["missing"] == "idaci"
    assert "no data for idaci" in row["reason"]
    assert np.isnan(row[CONTRIB["idaci"]])
    assert row["rank"] < len(df)  # not last
    assert abs(row["rank"] - full.set_index(C.LSOA_CODE).loc[row.name, "rank"]) <= 5
    assert (out.loc[out[C.LSOA_CODE] != row.name, "missing"] == "").all()
    with pytest.raises(InputError, match=r"1 place\(s\) lack data for a weighted component, e\.g\. 'L\d+' \(idaci\)"):
        rank_places(df, draws=0, on_missing="error")
    # with the component weighted 0 nothing is missing
    w = {k: v for k, v in DEFAULT_WEIGHTS.items() if k != "idaci"}
    assert (rank_places(df, weights=w, draws=0)["missing"] == "").all()


# --- bad input and config ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ({"harm_rate": -0.5}, r"\[rank\] weights: weight of 'harm_rate' is negative \(-0\.5\); weights must be >= 0"),
        ({"harm_rate": 0, "kde": 0.0}, r"\[rank\] weights: all weights are zero"),
        ({"violence": 1.0}, r"unknown component\(s\) 'violence'\. Valid components: harm_rate, harm_count, gi_z"),
        ({}, r"must be a non-empty table"),
        ({"harm_rate": float("nan")}, r"weight of 'harm_rate' must be a finite number"),
    ],
)
def test_bad_weights_config(weights, match):
    with pytest.raises(ConfigError, match=match):
        RankConfig(weights=weights)


def test_bad_rank_config_from_toml_table(config):
    raw = dict(config.raw)
    with pytest.raises(
        ConfigError, match=r"\[rank\] key 'scaling' must be one of 'percentile', 'minmax', 'zscore', got 'rank'"
    ):
        config_from_dict({**raw, "rank": {"scaling": "rank"}}, path=config.path)
    with pytest.raises(ConfigError, match=r"\[rank\] weights: weight of 'kde' is negative"):
        config_from_dict({**raw, "rank": {"weights": {"kde": -1}}}, path=config.path)
    with pytest.raises(ConfigError, match=r"unknown key 'weight' in \[rank\]\. Did you mean 'weights'\?"):
        config_from_dict({**raw, "rank": {"weight": {"kde": 1}}}, path=config.path)
    with pytest.raises(ConfigError, match=r"geometric_mean' needs positive scaled values"):
        RankConfig(scaling="zscore", combine="geometric_mean")
    with pytest.raises(ConfigError, match=r"tier1_share \(0\.6\) must be in \(0, 1\], .* together at most 1"):
        RankConfig(tier1_share=0.6, tier2_share=0.5)
    with pytest.raises(ConfigError, match=r"'draws' must be >= 0"):
        RankConfig(draws=-1)
    with pytest.raises(ConfigError, match=r"'deprivation' must be one of 'imd_without_crime', 'imd'"):
        RankConfig(deprivation="imd2015")
    table = {"method": "composite", "weights": {"harm_rate": 2}, "draws": 10}
    cfg = config_from_dict({**raw, "rank": table}, path=config.path)
    assert cfg.rank.weights == {"harm_rate": 2.0}
    with pytest.raises(ConfigError, match=r"\[rank\] key 'weights' applies only to method = 'composite'"):
        config_from_dict({**raw, "rank": {"weights": {"harm_rate": 2}}}, path=config.path)
    with pytest.raises(ConfigError, match=r"\[rank\] key 'act_share' applies only to method = 'axes'"):
        RankConfig(method="composite", act_share=0.1)
    with pytest.raises(ConfigError, match=r"\[rank\] key 'method' must be one of 'axes', 'composite'"):
        RankConfig(method="score")
    with pytest.raises(ConfigError, match=r"'draws' must be >= 1 with method = 'axes'"):
        RankConfig(draws=0)
    with pytest.raises(ConfigError, match=r"'act_share' must be a share in \(0, 1\]"):
        RankConfig(act_share=5)


def test_bad_rank_places_input():
    df = synthetic(10)
    with pytest.raises(InputError, match=r"rank_places weights: unknown component\(s\) 'x'"):
        rank_places(df, weights={"x": 1})
    with pytest.raises(InputError, match=r"no column\(s\) 'kde'; build it with place_components"):
        rank_places(df.drop(columns="kde"), draws=0)
    with pytest.raises(InputError, match=r"component\(s\) 'gi_z' have no data for any place"):
        rank_places(df.assign(gi_z=np.nan), draws=0)
    with pytest.raises(InputError, match="is empty"):
        rank_places(df.head(0))
    with pytest.raises(InputError, match="must be a DataFrame with an 'lsoa_code' column"):
        rank_places(df.drop(columns=C.LSOA_CODE))
    with pytest.raises(InputError, match=r"rank_places key 'scaling' must be one of"):
        rank_places(df, scaling="robust")
    # only the weighted components are needed
    out = rank_places(df[[C.LSOA_CODE, "harm_rate"]], weights={"harm_rate": 1}, draws=0)
    assert list(out.columns) == COMPOSITE_PLACES_COLUMNS


# --- components on real data ------------------------------------------------------------


@pytest.fixture(scope="module")
def components(study):
    from hotspots.detect.inference import hotspot_gistar
    from hotspots.units import lsoa_units

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HotspotsWarning)
        gi = hotspot_gistar(lsoa_units(study.incidents, study.lsoa), value="harm", marks=study.incidents["harm"])
    return place_components(
        study.lsoa, study.incidents, venues=study.venues, deprivation=study.deprivation, detect_lsoa=gi
    )


def test_place_components_contract_and_counts(study, components):
    assert_frame_contract(
        components,
        [C.LSOA_CODE, C.LSOA_NAME, C.DISTRICT, *COMPONENT_COLUMNS, "imd_nc_rank", "deprivation_ranked"],
        index=study.lsoa.index,
    )
    assert (components["deprivation_ranked"] == 32_844).all()  # IMD without crime ranked over England
    assert components["n"].sum() == len(study.incidents)
    assert components["harm"].sum() == pytest.approx(study.incidents[C.HARM].sum())
    assert (components["harm_near"] <= components["harm"] + 1e-9).all()
    assert components["near_venue_share"].between(0, 1).all()
    assert components["kde"].isna().all()  # no grid given: missing, not zero
    assert components["gi_z"].notna().all()
    # suppressed IDACI stays missing
    assert components["idaci_rate_derived"].isna().sum() == study.lsoa[C.IDACI_NUMERATOR].isna().sum() > 0
    # IMD without crime national deciles; deprivation agrees with IMD broadly
    rho = scipy.stats.spearmanr(components["deprivation_score"], -study.lsoa[C.IMD_RANK]).statistic
    assert rho > 0.95


def test_venue_counts_match_brute_force(study, components):
    v = study.venues
    rng = np.random.default_rng(0)
    for i in rng.choice(len(study.lsoa), 15, replace=False):
        geom = study.lsoa.geometry.iloc[i]
        assert components["venues_near"].iloc[i] == (v.distance(geom) <= 200).sum()
        inside = (v[C.LSOA_CODE] == study.lsoa[C.LSOA_CODE].iloc[i]).sum()
        assert components["venue_density"].iloc[i] == pytest.approx(inside / (geom.area / 1e6))
    # harm near venues: brute force over incidents of one busy LSOA
    code = components.loc[components["harm"].idxmax(), C.LSOA_CODE]
    inc = study.incidents[study.incidents[C.LSOA_CODE] == code]
    d = np.array([v.distance(p).min() for p in inc.geometry])
    expect = inc[C.HARM].to_numpy()[d <= 200].sum()
    assert components.set_index(C.LSOA_CODE).loc[code, "harm_near"] == pytest.approx(expect)


def test_kde_aggregation_from_grid(study, components):
    from hotspots.units import make_grid

    grid = make_grid(study.area, cell_size=500)
    cx = grid.geometry.centroid.x.to_numpy()
    grid = grid.assign(kde=cx - cx.min())  # planted: KDE grows eastwards
    dep = study.deprivation
    mx = place_components(study.lsoa, study.incidents, grid=grid, deprivation=dep)["kde"]
    mean = place_components(study.lsoa, study.incidents, grid=grid, deprivation=dep, kde_aggregate="mean")["kde"]
    assert mx.notna().all()  # small LSOAs with no cell centre take the cell under them
    assert (mx >= mean - 1e-9).all()
    i = int(np.argmax(study.lsoa.geometry.area.to_numpy()))
    inside = grid.geometry.centroid.within(study.lsoa.geometry.iloc[i])
    assert mx.iloc[i] == pytest.approx(grid.loc[inside, "kde"].max())


def test_missing_deprivation_rows_reported(study):
    lsoa = study.lsoa.copy()
    lost = lsoa[C.LSOA_CODE].iloc[:3].tolist()
    dep = study.deprivation[~study.deprivation[C.LSOA_CODE].isin(lost)]
    for c in [c for c in lsoa.columns if c.endswith(("_rank", "_decile")) or c == C.IDACI_NUMERATOR]:
        lsoa.loc[lsoa.index[:3], c] = np.nan
    with pytest.warns(HotspotsWarning, match="relative to the LSOAs given"):
        comps = place_components(lsoa, study.incidents, venues=study.venues, deprivation=dep)
    assert comps["deprivation_score"].iloc[:3].isna().all()
    w = {"harm_rate": 1.0, "deprivation": 1.0, "cyp": 1.0}
    out = rank_places(comps, weights=w, draws=0).set_index(C.LSOA_CODE)
    assert (out.loc[lost, "missing"] == "deprivation;cyp").all()
    with pytest.raises(InputError, match=r"3 place\(s\) lack data .* \(deprivation, cyp\)"):
        rank_places(comps, weights=w, draws=0, on_missing="error")


# --- district profiles and the stage on real data --------------------------------------------


@pytest.fixture(scope="module")
def detected(config, study):
    """The detect stage on the bundled study (its Gi* and KDE are rank components)."""
    from hotspots.detect import detect

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return detect(study, config.detect)


@pytest.fixture(scope="module")
def stage_ctx(config, study, detected, tmp_path_factory):
    """The rank stage (default: the two axes) on the real data, and the files the pipeline writes from it."""
    from types import SimpleNamespace

    from hotspots.pipeline import Run, Written, write_outputs

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = rank(study, detected, RankConfig(draws=300, seed=7))
    out = tmp_path_factory.mktemp("rank")
    written = Written(out)
    write_outputs(Run(config=config, study=study, rank=res), "rank", written)
    return SimpleNamespace(res=res, out=out, outputs=written.outputs, caught=[str(w.message) for w in caught])


@pytest.fixture(scope="module")
def composite_ctx(study, detected):
    """The rank stage with ``method = "composite"`` on the real data."""
    from types import SimpleNamespace

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = rank(study, detected, RankConfig(method="composite", draws=300, seed=7))
    return SimpleNamespace(res=res, caught=[str(w.message) for w in caught])


def test_stage_outputs_real_data(stage_ctx, study):
    ctx = stage_ctx
    places = ctx.res.places
    assert_frame_contract(places, PLACES_COLUMNS)
    n = len(study.lsoa)
    assert len(places) == n and sorted(places["order"]) == list(range(1, n + 1))
    assert places["order"].is_monotonic_increasing
    # the columns today's maps and report read repeat the harm axis
    assert (places["rank"] == places["harm_rank"]).all() and (places["score"] == places["harm_eb"]).all()
    assert (places["rank_low"] <= places["rank"]).all() and (places["rank"] <= places["rank_high"]).all()
    assert set(places["tier"]) == {1, 2, 3}
    assert set(places["tier_name"]) == {"act now: high harm", "prevent: high need", "monitor"}
    # written files
    csv = pd.read_csv(ctx.out / "places.csv")
    assert list(csv.columns) == PLACES_COLUMNS and len(csv) == n
    gpkg = gpd.read_file(ctx.out / "places.gpkg", layer="places")
    assert len(gpkg) == n and gpkg.crs.equals(C.CRS)
    assert set(ctx.outputs) >= {"places.csv", "places.gpkg", "districts.csv"}
    assert not ctx.res.auto
    assert places["gi_z"].notna().all()
    assert "partial_coverage_sources" not in ctx.res.summary
    assert places["n"].sum() == ctx.res.summary["ranked_incidents"]
    assert ctx.res.summary["method"] == "axes" and ctx.res.summary["population_year"] == "mid-2015"
    # what the ranking rests on, with each source's period: institutional snap points left out
    ev = ctx.res.summary["evidence"]
    assert ev["incidents"] == 4134 and ev["institutional_incidents_left_out"] == 66
    assert ev["sources"]["police_uk"]["months"] == 1 and ev["sources"]["county_weapons_2020"]["months"] == 12
    assert sum(s["incidents"] for s in ev["sources"].values()) == 4134


def test_composite_stage_outputs_real_data(composite_ctx, study):
    places = composite_ctx.res.places
    assert_frame_contract(places, COMPOSITE_PLACES_COLUMNS)
    n = len(study.lsoa)
    assert sorted(places["rank"]) == list(range(1, n + 1))
    assert (places["rank_low"] <= places["rank"]).all() and (places["rank"] <= places["rank_high"]).all()
    assert places["kde"].notna().all()
    assert composite_ctx.res.summary["method"] == "composite"


def test_pooled_sources_are_reported_as_partial(config, study):
    """With [study] sources empty every source is pooled, and the City-only ones are named."""
    from hotspots.detect import detect

    pooled = dataclasses.replace(config, study=dataclasses.replace(config.study, sources=[]))
    s = dataclasses.replace(study, config=pooled.inputs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = rank(s, detect(s, config.detect), RankConfig(draws=50, seed=7))
    assert "city_violence_2020" in res.summary["partial_coverage_sources"]
    assert res.places["n"].sum() == res.summary["ranked_incidents"]


def test_the_most_harm_is_act_now_and_first(stage_ctx, study):
    places = stage_ctx.res.places.set_index(C.LSOA_CODE)
    oms = places.loc[OLD_MARKET_SQUARE]
    assert places["harm"].idxmax() == OLD_MARKET_SQUARE  # 74 incidents, the most in the force
    assert oms["tier"] == 1 and oms["harm_rank"] == 1 and oms["order"] == 1
    assert oms["p_top_n"] > 0.9 and oms["harm_rank_low"] == 1
    assert oms["reason"].startswith("Act now: high harm")
    # the whole act-now tier has more harm than every monitor place
    assert places.loc[places["tier"] == 1, "harm_eb"].min() > places.loc[places["tier"] == 3, "harm_eb"].max()
    # prevent places are the high-need ones not in act now
    prevent = places[places["tier"] == 2]
    assert prevent["need_score"].min() >= places.loc[places["tier"] == 3, "need_score"].max()


def test_composite_demotes_the_most_harm(composite_ctx):
    """The composite (kept as an option) ranks the place with the most harm 11th: why the axes are the default."""
    places = composite_ctx.res.places.set_index(C.LSOA_CODE)
    oms = places.loc[OLD_MARKET_SQUARE]
    assert oms["tier"] == 1 and oms["rank"] == 11
    top10 = places.sort_values("rank").head(10)
    assert (top10[C.DISTRICT] == "Nottingham").sum() >= 5
    assert top10["reason"].str.contains("harm-weighted violence").all()


def test_stage_reports_missing_idaci(composite_ctx, stage_ctx, study):
    ctx = composite_ctx
    suppressed = set(study.lsoa.loc[study.lsoa[C.IDACI_NUMERATOR].isna(), C.LSOA_CODE])
    assert set(ctx.res.summary["missing_data"]["idaci"]) == suppressed
    assert any("lack data for some components (idaci: 93)" in m for m in ctx.caught)
    places = ctx.res.places
    flagged = places[places["missing"] != ""]
    assert set(flagged[C.LSOA_CODE]) == suppressed
    assert flagged["rank"].min() < len(places) / 2  # some are ranked high: not pushed to the bottom
    axes = stage_ctx.res.places
    assert set(axes.loc[axes["need_missing"] == "idaci", C.LSOA_CODE]) == suppressed
    assert axes["need_score"].notna().all()


def test_district_profiles(stage_ctx, study):
    prof = stage_ctx.res.districts
    assert list(prof.columns) == DISTRICT_COLUMNS
    districts = set(study.lsoa[C.DISTRICT])
    assert set(prof[C.DISTRICT]) == districts | {"All"}
    body = prof[prof[C.DISTRICT] != "All"]
    total = prof[prof[C.DISTRICT] == "All"].iloc[0]
    ranked = stage_ctx.res.summary["ranked_incidents"]
    assert body["incidents"].sum() == total["incidents"] == ranked
    assert body["lsoas"].sum() == total["lsoas"] == len(study.lsoa)
    assert body["tier1_places"].sum() == stage_ctx.res.summary["tiers"]["sizes"]["act now: high harm"]
    assert (prof["population_year"] == "mid-2015").all()
    places = stage_ctx.res.places
    inc = study.place_incidents("rank")
    district_of = study.lsoa.set_index(C.LSOA_CODE)[C.DISTRICT]
    for r in body.itertuples():
        counts = places.loc[places[C.DISTRICT] == r.district, "n"].to_numpy(dtype=float)
        assert r.gini == pytest.approx(evaluate.gini(counts))
        assert r.share_lsoas_50pct == pytest.approx(evaluate.share_holding(counts, 0.5))
        # per year: each source annualised by the months it covers (police_uk: 1 month, weapons: 12)
        months = inc.groupby(C.SOURCE)[C.MONTH].nunique()
        mine = inc[inc[C.LSOA_CODE].map(district_of) == r.district]
        per_year = sum(len(g) * 12 / months[src] for src, g in mine.groupby(C.SOURCE))
        assert r.incidents_per_year == pytest.approx(per_year)
        assert r.incidents_per_1000_yr == pytest.approx(per_year / r.population * 1000)
        # the chance floor is below the observed Gini: violence is concentrated beyond chance
        assert 0 < r.gini_chance_floor < r.gini
    written = pd.read_csv(stage_ctx.out / "districts.csv")
    assert list(written.columns) == DISTRICT_COLUMNS and len(written) == len(prof)
    with pytest.raises(InputError, match=r"places have no column\(s\) 'tier'"):
        district_profiles(places.drop(columns="tier"))


def test_concentration_has_its_chance_floor(stage_ctx):
    conc = stage_ctx.res.summary["concentration_lsoa"]
    floor = conc["gini_chance_floor_residents"]
    assert floor["low"] <= floor["mean"] <= floor["high"] < conc["gini"]
    assert conc["gini_chance_floor_area"]["mean"] > floor["mean"]  # LSOAs are drawn to equal residents, not area
    rates = stage_ctx.res.summary["rates"]
    assert rates["months_by_source"] == {"county_weapons_2020": 12, "police_uk": 1}
    assert rates["population_year"] == "mid-2015"


def test_gini_chance_floor_oracle():
    # few incidents over many equal places: the Gini is high by chance alone
    f = evaluate.gini_chance_floor(50, np.ones(1000), draws=400, seed=3)
    # oracle: direct simulation with numpy's multinomial and the plain Gini
    rng = np.random.default_rng(11)
    direct = np.mean([evaluate.gini(rng.multinomial(50, np.full(1000, 1e-3))) for _ in range(400)])
    assert f["mean"] == pytest.approx(direct, abs=0.005)
    assert f["mean"] > 0.9
    # many incidents: the floor falls towards 0
    assert evaluate.gini_chance_floor(1_000_000, np.ones(100), draws=20, seed=1)["mean"] < 0.01
    assert np.isnan(evaluate.gini_chance_floor(0, np.ones(5))["mean"])
    with pytest.raises(InputError, match="whole number"):
        evaluate.gini_chance_floor(2.5, np.ones(5))


def test_stage_drops_components_without_data(config, study, detected):
    no_venues = dataclasses.replace(study, venues=None)
    with pytest.warns(HotspotsWarning, match=r"component\(s\) venue_density, near_venue_share have no data"):
        res = rank(no_venues, detected, RankConfig(method="composite", draws=0))
    assert res.summary["unavailable_components"] == ["venue_density", "near_venue_share"]
    assert "venue_density" not in res.summary["weights"]
    with pytest.raises(ConfigError, match="every weighted component lacks data"), warnings.catch_warnings():
        warnings.simplefilter("ignore", HotspotsWarning)
        rank(no_venues, detected, RankConfig(method="composite", weights={"venue_density": 1}))


def test_partial_sources_are_the_ones_covering_part_of_the_area(study):
    from hotspots.rank.stage import partial_sources

    partial = partial_sources(study.incidents, study.lsoa)
    assert "city_violence_2020" in partial and "police_uk" not in partial
    assert partial_sources(study.analysis_incidents, study.lsoa) == []


def test_same_output_on_any_thread_count(monkeypatch):
    import hotspots.rank.montecarlo as M

    df = synthetic(1000, 6)  # 2,100 draws of 1,000 places = two blocks of draws
    a = rank_places(df, draws=2100, seed=5)
    monkeypatch.setattr(M.os, "cpu_count", lambda: 1)
    b = rank_places(df, draws=2100, seed=5)
    pd.testing.assert_frame_equal(a, b)


def test_stage_uses_detect_results(config, study, tmp_path):
    from hotspots.detect.clusters import empty_clusters
    from hotspots.detect.nte import empty_zones
    from hotspots.detect.stage import DetectResult
    from hotspots.units import make_grid

    detect_lsoa = study.lsoa[[C.LSOA_CODE]].assign(gi_z=np.linspace(-3, 3, len(study.lsoa)), hotspot_class="hot 99%")
    grid = make_grid(study.area, cell_size=1000)
    grid = grid.assign(kde=np.arange(len(grid), dtype=float))
    detected = DetectResult(
        grid=grid, lsoa=detect_lsoa, clusters=empty_clusters(), nte_zones=empty_zones(), emerging=None
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HotspotsWarning)
        res = rank(study, detected, RankConfig(method="composite", draws=0))
        axes = rank(study, detected, RankConfig(draws=10))
    places = res.places.set_index(C.LSOA_CODE)
    np.testing.assert_allclose(places.loc[detect_lsoa[C.LSOA_CODE], "gi_z"], detect_lsoa["gi_z"])
    assert places["kde"].max() <= len(grid) - 1
    assert not res.auto  # nothing recomputed
    ap = axes.places.set_index(C.LSOA_CODE)
    np.testing.assert_allclose(ap.loc[detect_lsoa[C.LSOA_CODE], "gi_z"], detect_lsoa["gi_z"])
