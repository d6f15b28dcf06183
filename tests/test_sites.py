"""Bleed-control kit siting: exact sparse MCLP against spopt, order of value, set covering, bad input."""

from __future__ import annotations

import itertools
import json
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pulp
import pytest
from conftest import assert_frame_contract
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist

import hotspots.io.config as IOC
import hotspots.io.sites as IOS
import hotspots.sites.candidates as Cand
import hotspots.sites.config as SC
import hotspots.sites.kits as K
from hotspots import columns as C
from hotspots.config import build_section
from hotspots.errors import ConfigError, HotspotsWarning, InputError
from hotspots.sites import mclp as _mclp


def _incidents(xy, harm=None, crs=C.CRS):
    xy = np.asarray(xy, dtype=float)
    harm = np.ones(len(xy)) if harm is None else np.asarray(harm, dtype=float)
    return gpd.GeoDataFrame(
        {C.HARM: harm, C.LOCATION: [f"On or near {i}" for i in range(len(xy))]},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=crs,
    )


def _sites(xy, prefix="c", crs=C.CRS):
    xy = np.asarray(xy, dtype=float)
    return gpd.GeoDataFrame(
        {
            K.SITE_ID: [f"{prefix}{i}" for i in range(len(xy))],
            K.SITE_SOURCE: K.SOURCE_CANDIDATE,
            K.SITE_NAME: [f"site {i}" for i in range(len(xy))],
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=crs,
    )


def _brute(d, s, w, r, p, fixed_xy=None):
    """Best coverage over every p-subset (tiny instances only)."""
    a = cdist(d, s) <= r
    base = np.zeros(len(d), bool) if fixed_xy is None else (cdist(d, fixed_xy) <= r).any(axis=1)
    best = 0.0
    for combo in itertools.combinations(range(len(s)), p):
        best = max(best, w[base | a[:, list(combo)].any(axis=1)].sum())
    return best


def _spopt(d, s, w, r, p, fixed_xy=None):
    from spopt.locate import MCLP

    sites = s if fixed_xy is None else np.vstack([s, fixed_xy])
    pre = None
    if fixed_xy is not None:
        pre = np.r_[np.zeros(len(s), int), np.ones(len(fixed_xy), int)]
        p = p + len(fixed_xy)
    model = MCLP.from_cost_matrix(cdist(d, sites), w, service_radius=r, p_facilities=p, predefined_facilities_arr=pre)
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    return float(pulp.value(model.problem.objective))


# --------------------------------------------------------------------------------------
# the solver core
# --------------------------------------------------------------------------------------


def test_coverage_matrix_is_the_dense_radius_test():
    rng = np.random.default_rng(0)
    d, s = rng.uniform(0, 500, (300, 2)), rng.uniform(0, 500, (50, 2))
    s[0] = d[0]  # zero distance counts
    s[1] = d[1] + [80.0, 0.0]  # exactly on the radius counts
    A = _mclp.coverage_matrix(d, s, 80.0)
    np.testing.assert_array_equal(A.toarray().astype(bool), cdist(d, s) <= 80.0)
    assert A[0, 0] == 1 and A[1, 1] == 1


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_mclp_optimum_equals_spopt(seed):
    rng = np.random.default_rng(seed)
    d = rng.uniform(0, 1000, (120, 2))
    s = np.vstack([d[rng.choice(120, 25, replace=False)], rng.uniform(0, 1000, (10, 2))])
    w = rng.integers(1, 10, 120).astype(float)
    p = 3 + seed
    sol = _mclp.solve_mclp(_mclp.coverage_matrix(d, s, 150.0), w, p)
    assert sol.optimal and len(sol.sites) == p
    assert sol.objective == pytest.approx(_spopt(d, s, w, 150.0, p))


def test_mclp_with_fixed_sites_equals_spopt_with_predefined_facilities():
    rng = np.random.default_rng(7)
    d = rng.uniform(0, 1000, (120, 2))
    s = d[rng.choice(120, 30, replace=False)]
    fixed = rng.uniform(0, 1000, (3, 2))
    w = rng.integers(1, 10, 120).astype(float)
    inc, cand, fx = _incidents(d, w), _sites(s), _sites(fixed, prefix="kit")
    kits = K.select_sites(inc, cand, p=4, radius=150.0, fixed=fx)
    stats = kits.attrs["mclp"]
    assert stats["covered_harm"] == pytest.approx(_spopt(d, s, w, 150.0, 4, fixed_xy=fixed))
    base = w[(cdist(d, fixed) <= 150.0).any(axis=1)].sum()
    assert stats["existing_covered_harm"] == pytest.approx(base) and base > 0
    # marginal harm never counts what the fixed sites already cover
    assert kits[K.MARGINAL_HARM].sum() == pytest.approx(stats["covered_harm"] - base)


def test_planted_toy_with_hand_computed_optimum():
    # three clusters: 10 harm at x=0, 6 at x=1000, 5 at x=2000; a site between the first two
    # reaches nothing; p=2 must take the 10 and the 6 (16), not the 10 and the 5.
    d = [(0, 0)] * 10 + [(1000, 0)] * 6 + [(2000, 0)] * 5
    cand = _sites([(500, 0), (10, 0), (2010, 0), (990, 0)])
    kits = K.select_sites(_incidents(d), cand, p=2, radius=100.0)
    assert kits[K.SITE_ID].tolist() == ["c1", "c3"]  # in order of value
    assert kits[K.MARGINAL_HARM].tolist() == [10.0, 6.0]
    assert kits[K.CUMULATIVE_COVERAGE_PCT].tolist() == pytest.approx([100 * 10 / 21, 100 * 16 / 21])
    curve = K.coverage_curve(_incidents(d), cand, p=3, radius=100.0)
    assert curve[K.COVERED_HARM].tolist() == [0.0, 10.0, 16.0, 21.0]
    assert list(curve.columns) == K.CURVE_COLUMNS


def test_reduction_keeps_the_optimum_on_overlapping_sites():
    # every candidate overlaps others: dominance, merged rows and folded singletons all apply
    rng = np.random.default_rng(11)
    d = rng.uniform(0, 400, (40, 2))
    s = np.vstack([d[:8], d[:3] + 1.0, rng.uniform(0, 400, (4, 2))])
    w = rng.integers(1, 5, 40).astype(float)
    A = _mclp.coverage_matrix(d, s, 90.0)
    red = _mclp.reduce_model(A, w, None)
    assert len(red.columns) < len(s)  # near-duplicate sites are dominated
    assert red.col_weights.sum() > 0  # some demand is reached by one candidate only
    assert red.coverable == pytest.approx(w[A.toarray().any(axis=1)].sum())
    for p in (1, 2, 3):
        assert _mclp.solve_mclp(A, w, p).objective == pytest.approx(_brute(d, s, w, 90.0, p))


def _plain_milp(A, w, p):
    """The MCLP optimum on the reduced model without LP reduced-cost fixing."""
    red = _mclp.reduce_model(A, w, None)
    n, m = red.cover.shape
    cost = -np.concatenate([red.col_weights, red.weights])
    card = np.concatenate([np.ones(m), np.zeros(n)])
    return _mclp._solve_reduced(red, cost, card, (p, p), cover=A, weights=w, fixed=None, time_limit=None, t0=0.0)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.integers(2, 9))
def test_lp_fixing_keeps_the_optimum(seed, p):
    # clustered demand and overlapping candidates: the LP relaxation is often fractional
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 2000, (12, 2))
    d = centres[rng.integers(0, 12, 300)] + rng.normal(0, 120, (300, 2))
    s = centres[rng.integers(0, 12, 60)] + rng.normal(0, 150, (60, 2))
    w = rng.integers(1, 20, 300).astype(float)
    A = _mclp.coverage_matrix(d, s, 150.0)
    sol, plain = _mclp.solve_mclp(A, w, p), _plain_milp(A, w, p)
    assert sol.optimal and plain.optimal
    assert sol.objective == pytest.approx(plain.objective, rel=1e-9)
    if sol.n_cols > p:
        assert len(sol.sites) == p and len(set(sol.sites.tolist())) == p


def test_lp_fixing_drops_candidates_and_matches_the_plain_milp():
    rng = np.random.default_rng(5)
    centres = rng.uniform(0, 3000, (30, 2))
    d = centres[rng.integers(0, 30, 3000)] + rng.normal(0, 80, (3000, 2))
    s = centres[rng.integers(0, 30, 400)] + rng.normal(0, 60, (400, 2))
    w = rng.integers(1, 30, 3000).astype(float)
    A = _mclp.coverage_matrix(d, s, 120.0)
    red = _mclp.reduce_model(A, w, None)
    paths = set()
    for p in (5, 12, 20, 30):
        work, info = _mclp.lp_fix(red, p)
        paths.add("proven" if info.get("proven") else "fixed")
        assert info["heuristic"] <= info["lp_bound"] + 1e-6
        if not info.get("proven"):
            assert info["lp_fixed"] > 0 and work.cover.shape[1] < red.cover.shape[1]
            assert set(info["incumbent"].tolist()) <= set(work.columns.tolist())
        sol = _mclp.solve_mclp(A, w, p, reduced=red)
        assert sol.objective == pytest.approx(_plain_milp(A, w, p).objective, rel=1e-9)
        assert info["heuristic"] <= sol.objective + 1e-9 <= info["lp_bound"] + 1e-6
        assert len(sol.sites) == p
    assert paths == {"proven", "fixed"}  # both ways out of lp_fix are exercised


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.integers(1, 6))
def test_coverage_never_falls_as_kits_are_added(seed, p):
    rng = np.random.default_rng(seed)
    d = rng.uniform(0, 600, (40, 2))
    s = np.vstack([d[:10], rng.uniform(0, 600, (6, 2))])
    w = rng.integers(1, 6, 40).astype(float)
    curve = K.coverage_curve(_incidents(d, w), _sites(s), p=p, radius=80.0)
    assert (np.diff(curve[K.COVERED_HARM]) >= -1e-9).all()
    kits = K.select_sites(_incidents(d, w), _sites(s), p=p, radius=80.0)
    assert (np.diff(kits[K.MARGINAL_HARM]) <= 1e-9).all()  # order of value
    assert (np.diff(kits[K.CUMULATIVE_COVERAGE_PCT]) >= -1e-9).all()
    assert kits.attrs["mclp"]["covered_harm"] == pytest.approx(curve[K.COVERED_HARM].iloc[len(kits)])


@pytest.mark.parametrize("target", [30.0, 55.0, 80.0])
def test_set_covering_gives_the_fewest_kits(target):
    rng = np.random.default_rng(3)
    d = rng.uniform(0, 800, (80, 2))
    s = d[rng.choice(80, 30, replace=False)]
    w = rng.integers(1, 8, 80).astype(float)
    inc, cand = _incidents(d, w), _sites(s)
    res = K.kits_for_target(inc, cand, target_pct=target, radius=120.0)
    curve = K.coverage_curve(inc, cand, p=min(30, res["kits"] + 1), radius=120.0)
    k_min = int(curve.loc[curve[K.COVERAGE_PCT] >= target - 1e-9, K.KITS].min())
    assert res["kits"] == k_min and res["optimal"]
    assert res["coverage_pct"] >= target - 1e-9
    assert len(res["site_ids"]) == res["kits"]


# --------------------------------------------------------------------------------------
# the verbs
# --------------------------------------------------------------------------------------


def test_select_sites_output_contract_and_inputs_unchanged():
    rng = np.random.default_rng(5)
    inc = _incidents(rng.uniform(0, 1000, (200, 2)), rng.integers(1, 4, 200))
    cand = _sites(rng.uniform(0, 1000, (40, 2)))
    before_inc, before_cand = inc.copy(), cand.copy()
    kits = K.select_sites(inc, cand, p=5, radius=100.0)
    assert_frame_contract(kits, K.BLEED_KIT_COLUMNS)
    assert kits[K.ORDER].tolist() == [1, 2, 3, 4, 5]
    assert kits[K.SITE_ID].is_unique
    assert (kits[K.COVERED_HARM] >= kits[K.MARGINAL_HARM] - 1e-9).all()
    np.testing.assert_allclose(kits[K.X], kits.geometry.x)
    ll = kits.geometry.to_crs("EPSG:4326")
    np.testing.assert_allclose(kits[K.LON], ll.x)
    pd.testing.assert_frame_equal(inc, before_inc)
    pd.testing.assert_frame_equal(cand, before_cand)


def test_demand_points_aggregate_snapped_locations():
    inc = _incidents([(0, 0), (0, 0), (5, 5)], [1.0, 4.0, 1.5])
    inc[C.LOCATION] = ["On or near A", "On or near A", "On or near B"]
    d = Cand.demand_points(inc)
    assert_frame_contract(d, Cand.DEMAND_COLUMNS)
    assert d["n"].tolist() == [2, 1] and d[C.HARM].tolist() == [5.0, 1.5]
    assert d[C.LOCATION].tolist() == ["On or near A", "On or near B"]


def test_inputs_in_another_crs_are_an_error_saying_how_to_reproject():
    """As every verb: no silent reprojection; a geographic or other projected CRS says what to do."""
    rng = np.random.default_rng(2)
    d = rng.uniform(450_000, 451_000, (100, 2)) + np.array([0, -110_000])
    inc, cand = _incidents(d), _sites(d[:20] + 5.0)
    with pytest.raises(InputError, match=r"incidents is in a geographic CRS .* Use `\.to_crs\('EPSG:27700'\)` first"):
        K.select_sites(inc.to_crs("EPSG:4326"), cand, p=3, radius=100.0)
    with pytest.raises(InputError, match=r"candidates is in EPSG:32630; .* Use `\.to_crs\('EPSG:27700'\)` first"):
        K.select_sites(inc, cand.to_crs("EPSG:32630"), p=3, radius=100.0)


def test_fewer_useful_candidates_than_p_warns_and_returns_them():
    inc = _incidents([(0, 0), (1000, 0)])
    cand = _sites([(0, 0), (5000, 0), (6000, 0)])
    with pytest.warns(HotspotsWarning, match=r"only 1 of the 3 candidates reach harm not already covered"):
        kits = K.select_sites(inc, cand, p=2, radius=100.0)
    assert kits[K.SITE_ID].tolist() == ["c0"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"p": 5}, r"p = 5 kits is more than the 3 candidate sites\. Lower p or add candidate sites"),
        ({"p": 0}, r"p must be a whole number of kits >= 1, got 0"),
        ({"p": 1, "radius": 0.0}, r"radius must be > 0 metres, got 0\.0"),
        ({"p": 1, "radius": -5}, r"radius must be > 0 metres, got -5"),
    ],
)
def test_bad_parameters_are_clear_errors(kwargs, match):
    with pytest.raises(InputError, match=match):
        K.select_sites(_incidents([(0, 0)]), _sites([(0, 0), (1, 1), (2, 2)]), **kwargs)


def test_no_demand_is_an_error():
    with pytest.raises(InputError, match=r"no demand inside the study area: no incidents with harm > 0"):
        K.select_sites(_incidents([(0, 0)], [0.0]), _sites([(0, 0)]), p=1)
    with pytest.raises(InputError, match=r"no demand inside the study area"):
        K.select_sites(_incidents(np.zeros((0, 2))), _sites([(0, 0)]), p=1)


def test_candidates_without_crs_and_duplicate_ids_are_errors():
    cand = _sites([(0, 0), (1, 1)])
    with pytest.raises(InputError, match=r"candidates has no CRS; distance work needs metres\. Set it"):
        K.select_sites(_incidents([(0, 0)]), cand.set_crs(None, allow_override=True), p=1)
    dup = cand.assign(**{K.SITE_ID: ["a", "a"]})
    with pytest.raises(InputError, match=r"candidate sites: duplicate site_id 'a' \(rows 1, 2\)\. Give every site"):
        K.select_sites(_incidents([(0, 0)]), dup, p=1)
    with pytest.raises(InputError, match=r"existing kits and defibrillators: duplicate site_id 'a'"):
        K.select_sites(_incidents([(0, 0)]), cand, p=1, fixed=dup)


def test_unreachable_target_names_the_best_reachable():
    inc = _incidents([(0, 0), (1000, 0), (2000, 0), (3000, 0)])
    with pytest.raises(
        InputError,
        match=r"a 80 % coverage target cannot be reached within 100 m: every candidate "
        r"together covers 50\.0 % of harm",
    ):
        K.kits_for_target(inc, _sites([(0, 0), (1000, 0)]), target_pct=80.0, radius=100.0)
    with pytest.raises(InputError, match=r"target_pct must be a percentage in \(0, 100\], got 120"):
        K.kits_for_target(inc, _sites([(0, 0)]), target_pct=120, radius=100.0)


def test_radius_sensitivity_grows_with_radius():
    rng = np.random.default_rng(4)
    d = rng.uniform(0, 2000, (300, 2))
    sens = K.radius_sensitivity(_incidents(d), _sites(d[:60]), p=5, radii=(60.0, 100.0, 200.0))
    assert list(sens.columns) == K.SENSITIVITY_COLUMNS
    assert sens["radius_m"].tolist() == [60.0, 100.0, 200.0]
    assert (np.diff(sens[K.COVERED_HARM]) >= 0).all() and sens["optimal"].all()


# --------------------------------------------------------------------------------------
# site files and configuration
# --------------------------------------------------------------------------------------


def test_read_site_file_csv_lonlat_and_eastings(tmp_path):
    f = tmp_path / "kits.csv"
    f.write_text("id,name,lat,lon\nK1,Library,52.9548,-1.1581\nK2,Leisure centre,52.9700,-1.1700\n")
    kits = IOS.read_site_file(f, source=IOS.SOURCE_KIT)
    assert_frame_contract(kits, IOS.SITE_COLUMNS)
    assert kits[K.SITE_ID].tolist() == ["existing_kit:K1", "existing_kit:K2"]
    assert kits[K.SITE_NAME].tolist() == ["Library", "Leisure centre"]
    assert 456_000 < kits.geometry.x.iloc[0] < 458_000 and 339_000 < kits.geometry.y.iloc[0] < 341_000
    g = tmp_path / "defib.csv"
    g.write_text("Easting,Northing\n457000,340000\n")
    d = IOS.read_site_file(g, source=IOS.SOURCE_DEFIB)
    assert d[K.SITE_ID].tolist() == ["defibrillator:1"] and d.geometry.x.iloc[0] == 457000


def test_read_site_file_vector_in_another_crs(tmp_path):
    pts = _sites([(457000, 340000)]).to_crs("EPSG:4326").rename(columns={K.SITE_ID: "id"})
    pts.to_file(tmp_path / "c.geojson", driver="GeoJSON")
    got = IOS.read_site_file(tmp_path / "c.geojson")
    assert got.crs.equals(C.CRS)
    assert got.geometry.x.iloc[0] == pytest.approx(457000, abs=0.01)
    assert got[K.SITE_ID].tolist() == ["candidate:c0"]


def test_read_site_file_errors(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("id,x_coord,y_coord\n1,457000,340000\n")
    spec = IOC.PointFile(path=f, x="x_coord", y="y_coord")
    with pytest.raises(InputError, match=r"set crs for the columns 'x_coord'/'y_coord' in the \[sites\] table"):
        IOS.read_site_file(spec)
    f.write_text("id,name\n1,a\n")
    with pytest.raises(InputError, match=r"no coordinate columns\. Found \['id', 'name'\]; name them lon/lat"):
        IOS.read_site_file(f)
    f.write_text("id,lon,lat\n1,-1.15,52.95\n2,-1.16,abc\n")
    with pytest.raises(InputError, match=r"a\.csv: row 2, column 'lat': 'abc' is not a coordinate"):
        IOS.read_site_file(f)
    f.write_text("id,lon,lat\n1,52.95,-1.15\n")
    with pytest.raises(InputError, match=r"longitude and latitude look swapped"):
        IOS.read_site_file(f)
    f.write_text("id,lon,lat\n1,-1.15,52.95\n1,-1.16,52.96\n")
    with pytest.raises(InputError, match=r"duplicate site_id 'candidate:1' \(rows 1, 2\)"):
        IOS.read_site_file(f)
    f.write_text("id,lon,lat\n1,0,0\n")
    with pytest.raises(InputError, match=r"row 1 is at \(0, 0\), a missing location"):
        IOS.read_site_file(f)
    g = tmp_path / "nocrs.geojson"
    g.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
        '"geometry":{"type":"Point","coordinates":[457000,340000]}}]}'
    )
    gdf = gpd.read_file(g).set_crs(None, allow_override=True)
    gdf.to_file(tmp_path / "nocrs.gpkg", driver="GPKG")
    with pytest.raises(InputError, match=r"has no CRS\. Save it with a CRS .* or set crs in the \[sites\] table"):
        IOS.read_site_file(tmp_path / "nocrs.gpkg")


def test_sites_config_validates(tmp_path):
    f = tmp_path / "kits.csv"
    f.write_text("lon,lat\n-1.15,52.95\n")
    cfg = build_section(
        SC.SitesConfig,
        {"p": 3, "existing_kits": "kits.csv", "defibrillators": {"path": "kits.csv", "crs": "EPSG:4326"}},
        where="[sites]",
        base=tmp_path,
    )
    assert cfg.existing_kits.path == f and cfg.defibrillators.crs == "EPSG:4326"
    for table, match in [
        ({"p": 0}, r"\[sites\] key 'p' must be at least 1 kit, got 0"),
        ({"radius_m": 0}, r"\[sites\] key 'radius_m' must be > 0, got 0"),
        ({"target_pct": 0}, r"\[sites\] key 'target_pct' must be in \(0, 100\]"),
        ({"candidates": ["venues", "shops"]}, r"unknown source 'shops'\. Valid: venues, incident_locations"),
        ({"existing_kits": "nope.csv"}, r"site file not found: .*nope\.csv"),
        ({"sensitivity_radii_m": [60, -1]}, r"'sensitivity_radii_m' values must be > 0 metres, got -1"),
        (
            {"exclude_locations": ["hospital", "st (ann"]},
            r"\[sites\] key 'exclude_locations': 'st \(ann' is not a regular expression .*Escape special",
        ),
        ({"exclude_locations": ["prison|"]}, r"'prison\|' matches an empty location text, so it would exclude every"),
        ({"exclude_locations": "hospital"}, r"\[sites\] key 'exclude_locations' must be a list"),
    ]:
        with pytest.raises(ConfigError, match=match):
            build_section(SC.SitesConfig, table, where="[sites]", base=tmp_path)


def test_sites_config_exclude_locations_default_and_override(tmp_path):
    assert build_section(SC.SitesConfig, {}, where="[sites]", base=tmp_path).exclude_locations == (
        "hospital",
        "prison",
        "police station",
    )
    cfg = build_section(SC.SitesConfig, {"exclude_locations": []}, where="[sites]", base=tmp_path)
    assert cfg.exclude_locations == ()


# --------------------------------------------------------------------------------------
# excluded incident locations (hospitals, prisons, police stations)
# --------------------------------------------------------------------------------------


def _named_incidents(rows):
    """rows: (x, y, location text, harm)."""
    df = pd.DataFrame(rows, columns=["x", "y", C.LOCATION, C.HARM])
    return gpd.GeoDataFrame(df[[C.LOCATION, C.HARM]], geometry=gpd.points_from_xy(df.x, df.y), crs=C.CRS)


def _institutions():
    """The most harm at a hospital; a prison, a police station and a street elsewhere."""
    return _named_incidents(
        [(0, 0, "On or near Hospital", 10.0)] * 3
        + [(2000, 0, "On or near PRISON", 6.0)]
        + [
            (4000, 0, "On or near Police Station", 5.0),
            (6000, 0, "On or near Market Street", 2.0),
            (8000, 0, "On or near Hospital Lane", 1.0),
        ]
    )


def test_excluded_locations_are_not_candidates_but_stay_in_demand():
    inc = _institutions()
    venues = gpd.GeoDataFrame(
        {C.VENUE_ID: ["1"], C.VENUE_NAME: ["The Prison Bar"]}, geometry=gpd.points_from_xy([2000], [5000]), crs=C.CRS
    )
    cand = Cand.kit_candidates(inc, venues=venues)
    # venues are never excluded; the default patterns are searched, case-insensitively, in the location text
    assert cand[K.SITE_NAME].tolist() == ["The Prison Bar", "On or near Market Street"]
    assert cand.attrs["excluded_locations"] == 4
    every = Cand.kit_candidates(inc, venues=venues, exclude_locations=())
    assert len(every) == 6 and every.attrs["excluded_locations"] == 0
    anchored = Cand.kit_candidates(inc, exclude_locations=(r"^on or near hospital$", "police station"))
    assert anchored[K.SITE_NAME].tolist() == [
        "On or near PRISON",
        "On or near Market Street",
        "On or near Hospital Lane",
    ]
    assert anchored.attrs["excluded_locations"] == 2
    assert Cand.kit_candidates(inc, exclude_locations="hospital").attrs["excluded_locations"] == 2  # one pattern
    # the hospital's harm is still demand: a user site 50 m away covers it and is chosen first
    extra = _sites([(50, 0)], prefix="candidate:")
    cand = Cand.kit_candidates(inc, venues=venues, extra=extra)
    kits = K.select_sites(inc, cand, p=1, radius=100.0)
    assert kits[K.SITE_ID].tolist() == ["candidate:0"] and kits[K.COVERED_HARM].iloc[0] == pytest.approx(30.0)
    assert kits.attrs["mclp"]["total_harm"] == pytest.approx(inc[C.HARM].sum())


def test_exclude_locations_errors():
    inc = _institutions()
    with pytest.raises(InputError, match=r"exclude_locations: '\[' is not a regular expression"):
        Cand.kit_candidates(inc, exclude_locations=("[",))
    with pytest.raises(InputError, match=r"exclude_locations: '\.\*' matches an empty location text"):
        Cand.kit_candidates(inc, exclude_locations=(".*",))


# --------------------------------------------------------------------------------------
# the real data, end to end
# --------------------------------------------------------------------------------------


def test_real_data_kits(study):
    cand = Cand.kit_candidates(study.incidents, venues=study.venues)
    assert set(cand[K.SITE_SOURCE]) == {Cand.SOURCE_VENUE, Cand.SOURCE_LOCATION}
    assert cand[K.SITE_ID].is_unique
    kits = K.select_sites(study.incidents, cand, p=5, radius=100.0)
    stats = kits.attrs["mclp"]
    assert stats["optimal"] and len(kits) == 5
    # the optimum is at least as good as plain greedy from scratch
    m = K.build_model(study.incidents, cand, radius=100.0, fixed=None)
    A = m.cover.tocsc()
    covered = np.zeros(A.shape[0], bool)
    for _ in range(5):
        gains = [
            m.weights[A.indices[A.indptr[j] : A.indptr[j + 1]]][
                ~covered[A.indices[A.indptr[j] : A.indptr[j + 1]]]
            ].sum()
            for j in range(A.shape[1])
        ]
        j = int(np.argmax(gains))
        covered[A.indices[A.indptr[j] : A.indptr[j + 1]]] = True
    assert stats["covered_harm"] >= m.weights[covered].sum() - 1e-9
    assert stats["total_harm"] == pytest.approx(study.incidents[C.HARM].sum())


def test_real_data_kits_avoid_hospitals_prisons_and_police_stations(study):
    every = Cand.kit_candidates(study.incidents, venues=study.venues, exclude_locations=())
    cand = Cand.kit_candidates(study.incidents, venues=study.venues)
    assert cand.attrs["excluded_locations"] >= 3  # the bundled data has all three
    assert len(every) - len(cand) == cand.attrs["excluded_locations"]
    kits = K.select_sites(study.incidents, cand, p=10, radius=100.0)
    default = "|".join(Cand.DEFAULT_EXCLUDE_LOCATIONS)
    assert not kits[K.SITE_NAME].str.contains(default, case=False).any(), kits[K.SITE_NAME].tolist()
    assert len(kits) == 10 and kits.attrs["mclp"]["optimal"]


def test_sites_stage_on_real_data_with_kit_files(tmp_path, config):
    import dataclasses

    from hotspots import pipeline

    (tmp_path / "kits.csv").write_text("id,name,lon,lat\nK1,Old Market Square,-1.1500,52.9529\n")
    (tmp_path / "shops.csv").write_text("id,name,easting,northing\nS1,Corner shop,457330,340397\n")
    sites_cfg = build_section(
        SC.SitesConfig,
        {"p": 4, "existing_kits": "kits.csv", "candidate_sites": "shops.csv", "sensitivity_radii_m": [60, 100]},
        where="[sites]",
        base=tmp_path,
    )
    cfg = dataclasses.replace(config, sites=sites_cfg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HotspotsWarning)
        res = pipeline.run(cfg, tmp_path / "out", stages=["sites"])
    kits = pd.read_csv(tmp_path / "out" / "bleed_kits.csv")
    extra = ["alternatives", "nearest_alternative_m", "existing_sites_supplied"]
    assert list(kits.columns) == [*K.BLEED_KIT_COLUMNS, *extra] and len(kits) == 4
    assert (kits["existing_sites_supplied"] == 1).all()
    layer = gpd.read_file(tmp_path / "out" / "sites.gpkg", layer="bleed_kits")
    assert len(layer) == 4 and layer.crs.equals(C.CRS)
    assert gpd.read_file(tmp_path / "out" / "sites.gpkg", layer="fixed_sites")[IOS.SITE_ID].tolist() == [
        "existing_kit:K1"
    ]
    man = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert man["sites"]["bleed_kits"]["existing_covered_harm"] > 0
    assert [r["kits"] for r in man["sites"]["coverage_curve"]] == [0, 1, 2, 3, 4]
    assert [r["radius_m"] for r in man["sites"]["radius_sensitivity"]] == [60.0, 100.0]
    assert man["sites"]["kits_for_target"]["coverage_pct"] >= 50.0
    assert man["sites"]["kit_alternatives"]["existing_sites_supplied"] == 1
    assert (tmp_path / "out" / "kit_alternatives.csv").exists()
    assert "candidate" in man["auto"]["sites"]["candidates"]
    # institutional snap points are out of the kit demand ([institutions] exclude_from), so none is a candidate
    assert man["auto"]["sites"]["excluded_locations"] == 0
    # the site files were read and hashed at load, like every other input
    roles = {i["role"]: i for i in man["inputs"]}
    assert roles["existing_kits"]["rows"] == 1 and len(roles["candidate_sites"]["sha256"]) == 64
    curve = res.run.sites.coverage_curve
    assert list(curve.columns) == K.CURVE_COLUMNS
    assert curve[K.COVERED_HARM].iloc[-1] == pytest.approx(man["sites"]["bleed_kits"]["covered_harm"])
    assert len(res.run.sites.outreach) >= 1


def test_target_already_met_by_existing_kits_needs_no_new_kits():
    inc = _incidents([(0, 0), (0, 0), (0, 0), (1000, 0)])
    res = K.kits_for_target(inc, _sites([(1000, 0)]), target_pct=60.0, radius=100.0, fixed=_sites([(0, 0)], "kit"))
    assert res["kits"] == 0 and res["site_ids"] == []
    assert res["existing_coverage_pct"] == pytest.approx(75.0) and res["coverage_pct"] == pytest.approx(75.0)


def test_candidate_sources_can_be_chosen():
    inc = _incidents([(0, 0), (500, 0)])
    venues = gpd.GeoDataFrame(
        {C.VENUE_ID: ["7"], C.VENUE_NAME: ["The Bell"]}, geometry=gpd.points_from_xy([10], [0]), crs=C.CRS
    )
    extra = _sites([(250, 0)], prefix="candidate:")
    both = Cand.kit_candidates(inc, venues=venues, extra=extra)
    assert both[K.SITE_ID].tolist() == ["venue:7", "location:E0N0", "location:E500N0", "candidate:0"]
    assert both[K.SITE_NAME].tolist()[0] == "The Bell"
    only = Cand.kit_candidates(inc, venues=venues, extra=extra, sources=("venues",))
    assert only[K.SITE_ID].tolist() == ["venue:7"]
    assert len(Cand.kit_candidates(inc, sources=())) == 0
