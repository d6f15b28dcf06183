"""Tests of hotspots.detect.clusters: planted clusters, duplicates, weights, bad input, real data."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import assert_frame_contract
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots.detect import clusters as K
from hotspots.errors import HotspotsWarning, InputError

CENTRES = np.array([[2_000.0, 2_000.0], [7_000.0, 3_000.0], [4_000.0, 8_000.0]])
SPREADS = [40.0, 80.0, 160.0]  # tightest first: expected rank order by harm per km²
CITY_CENTRE = (457_224.0, 339_852.0)  # Old Market Square, Nottingham (BNG)


def planted(seed: int = 0, n_cluster: int = 150, n_background: int = 300) -> gpd.GeoDataFrame:
    """Three Gaussian clusters of equal size and different spread on a uniform background."""
    rng = np.random.default_rng(seed)
    parts = [rng.normal(c, s, (n_cluster, 2)) for c, s in zip(CENTRES, SPREADS, strict=False)]
    parts.append(rng.uniform(0, 10_000, (n_background, 2)))
    xy = np.vstack(parts)
    truth = np.r_[np.repeat([0, 1, 2], n_cluster), np.full(n_background, -1)]
    return gpd.GeoDataFrame(
        {"harm": np.ones(len(xy)), "truth": truth}, geometry=gpd.points_from_xy(*xy.T), crs="EPSG:27700"
    )


def containing(out: gpd.GeoDataFrame, xy) -> list[int]:
    p = shapely.Point(*xy)
    return out.loc[out.contains(p), "rank"].tolist()


def labels_of(out: gpd.GeoDataFrame, pts: gpd.GeoDataFrame) -> np.ndarray:
    """Rank of the footprint holding each point (-1 = none; first rank when several)."""
    lab = np.full(len(pts), -1)
    for r, geom in zip(out["rank"][::-1], out.geometry[::-1], strict=False):
        lab[pts.within(geom).to_numpy()] = r
    return lab


@pytest.mark.parametrize("method, selection", [("hdbscan", "eom"), ("dbscan", "leaf")])
def test_planted_clusters_found_and_ranked_by_density(method, selection):
    pts = planted()
    before = pts.copy()
    out = K.density_clusters(pts, method=method, selection=selection, weights=None)
    assert_frame_contract(out, K.CLUSTER_COLUMNS)
    assert pts.equals(before)  # input not mutated
    ranks = [containing(out, c) for c in CENTRES]
    assert all(len(r) == 1 for r in ranks), ranks  # each planted centre in exactly one footprint
    assert [r[0] for r in ranks] == [1, 2, 3]  # tightest cluster first
    top3 = out.iloc[:3]
    assert (top3["n"] >= 120).all() and (top3["n"] <= 260).all(), top3["n"].tolist()
    assert out["rank"].tolist() == list(range(1, len(out) + 1))
    assert out["cluster_id"].tolist() == out["rank"].tolist()
    assert np.all(np.diff(out["harm_per_km2"].to_numpy()) <= 1e-9)
    np.testing.assert_allclose(out["harm_per_km2"], out["harm"] / out["area_km2"])
    np.testing.assert_allclose(out["area_km2"], out.area / 1e6)
    assert out["n"].sum() + out.attrs["noise"] == len(pts)
    assert out.attrs["auto"]["method"] == method


def test_leaf_selection_finds_pure_cores_ranked_by_blob_density():
    """The default HDBSCAN "leaf" selection may split a blob into cores, but never mixes
    blobs, and every core of a tighter blob outranks every core of a looser one."""
    pts = planted()
    out = K.density_clusters(pts, weights=None)
    lab = labels_of(out, pts)
    truth = pts["truth"].to_numpy()
    blob_of_rank = {}
    for r in out["rank"]:
        members = truth[lab == r]
        vals, counts = np.unique(members, return_counts=True)
        blob_of_rank[r] = int(vals[np.argmax(counts)])
        assert counts.max() >= 0.9 * len(members)  # pure
    for b in range(3):
        assert (lab[truth == b] > 0).mean() >= 0.3  # each blob's core is in some cluster
    order = [blob_of_rank[r] for r in sorted(blob_of_rank) if blob_of_rank[r] >= 0]
    assert order[0] == 0, order  # the densest core is in the tightest blob
    mean_rank = [np.mean([i for i, b in enumerate(order) if b == blob]) for blob in range(3)]
    assert mean_rank == sorted(mean_rank), order  # tighter blobs rank higher on average


def test_automatic_parameters_announced_and_recorded(caplog):
    pts = planted()
    with caplog.at_level("INFO", logger="hotspots.detect.clusters"):
        out = K.density_clusters(pts, method="dbscan", weights=None)
    auto = out.attrs["auto"]
    assert auto["min_samples"] == K.auto_min_samples(len(pts))
    assert K.EPS_RANGE_M[0] <= auto["eps_m"] <= K.EPS_RANGE_M[1]
    assert "eps_m set to" in caplog.text and "min_samples set to" in caplog.text
    given_ = K.density_clusters(pts, method="dbscan", weights=None, eps=150.0, min_samples=10)
    assert "eps_m" not in given_.attrs["auto"] and "min_samples" not in given_.attrs["auto"]
    h = K.density_clusters(pts, weights=None)
    assert h.attrs["auto"]["min_cluster_size"] == K.auto_min_cluster_size(h.attrs["auto"]["distinct_locations"])


def test_weighted_core_distance_by_hand():
    xy = np.array([[0.0, 0.0], [3.0, 0.0], [10.0, 0.0]])
    w = np.array([1.0, 2.0, 5.0])
    # min_samples 3: point 0 needs itself (1) + point 1 (2) -> 3 m; point 1 has 2, +1 -> 3 m;
    # point 2 has 5 alone -> 0.
    np.testing.assert_allclose(K.weighted_core_distance(xy, w, 3), [3.0, 3.0, 0.0])
    # min_samples 8: everyone needs all points
    np.testing.assert_allclose(K.weighted_core_distance(xy, w, 8), [10.0, 7.0, 10.0])
    # never reached: distance to the farthest location
    np.testing.assert_allclose(K.weighted_core_distance(xy, w, 100), [10.0, 7.0, 10.0])


def test_duplicates_are_weights_not_clusters():
    """police.uk-style snapping: many crimes at few map points must not give one cluster per point."""
    rng = np.random.default_rng(3)
    snap = rng.normal((5_000, 5_000), 60, (25, 2))  # 25 map points in a hot spot
    counts = rng.integers(5, 40, 25)
    background = rng.uniform(0, 10_000, (200, 2))
    xy = np.vstack([np.repeat(snap, counts, axis=0), background])
    pts = gpd.GeoDataFrame({"harm": np.ones(len(xy))}, geometry=gpd.points_from_xy(*xy.T), crs="EPSG:27700")
    out = K.density_clusters(pts, weights="harm", selection="eom")
    assert out.attrs["auto"]["distinct_locations"] == 225
    hits = containing(out, (5_000, 5_000))
    assert hits == [1]
    assert out.iloc[0]["n"] >= counts.sum() * 0.75  # fringe map points outside the core footprint drop out
    # the default leaf selection may split the hot spot into cores, but each core is a
    # group of map points, never one busy point on its own
    leaf = K.density_clusters(pts, weights="harm")
    assert leaf.iloc[0].geometry.distance(shapely.Point(5_000, 5_000)) < 150
    assert leaf.iloc[0]["n"] >= 5 * 5 and (leaf["area_km2"] > np.pi * 0.05**2 * 1.05).all()
    # what the dedupe avoids: scikit-learn's HDBSCAN on the raw duplicated points gives
    # clusters made of single map points
    from sklearn.cluster import HDBSCAN

    raw = HDBSCAN(min_cluster_size=5, copy=True).fit(xy).labels_
    sizes = [len(np.unique(xy[raw == lab], axis=0)) for lab in range(raw.max() + 1)]
    assert min(sizes) == 1


def test_harm_weights_change_the_ranking():
    rng = np.random.default_rng(5)
    a = rng.normal((1_000, 1_000), 60, (100, 2))
    b = rng.normal((5_000, 1_000), 60, (100, 2))
    bg = rng.uniform(0, 6_000, (100, 2))
    xy = np.vstack([a, b, bg])
    harm = np.r_[np.ones(100), np.full(100, 4.0), np.ones(100)]
    pts = gpd.GeoDataFrame({"harm": harm}, geometry=gpd.points_from_xy(*xy.T), crs="EPSG:27700")
    out = K.density_clusters(pts, method="dbscan", eps=150.0, min_samples=20)
    assert containing(out, (5_000, 1_000)) == [1]
    assert containing(out, (1_000, 1_000)) == [2]
    assert out.iloc[0]["harm"] == pytest.approx(4.0 * out.iloc[0]["n"], rel=0.05)


def test_single_location_cluster_has_area():
    xy = np.vstack([np.zeros((30, 2)), np.random.default_rng(1).uniform(2_000, 9_000, (40, 2))])
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*xy.T), crs="EPSG:27700")
    out = K.density_clusters(pts, method="dbscan", weights=None, eps=100.0, min_samples=10)
    assert len(out) == 1 and out.iloc[0]["n"] == 30
    assert out.iloc[0]["area_km2"] == pytest.approx(np.pi * 50**2 / 1e6, rel=0.02)


@pytest.mark.parametrize("selection", ["leaf", "eom"])
def test_spanning_tree_hdbscan_equals_full_matrix_hdbscan(selection):
    """Oracle: scikit-learn's HDBSCAN on the full weighted mutual-reachability matrix."""
    from sklearn.cluster import HDBSCAN
    from sklearn.metrics import adjusted_rand_score

    pts = planted(4)
    xy, _, _, weight = K.distinct_locations(pts, np.ones(len(pts)))
    labels, _, auto = K.cluster_locations(xy, weight, min_samples=8, selection=selection)
    core = K.weighted_core_distance(xy, weight, 8)
    full = HDBSCAN(
        min_cluster_size=auto["min_cluster_size"],
        min_samples=1,
        metric="precomputed",
        cluster_selection_method=selection,
        copy=True,
    ).fit(K.mutual_reachability(xy, core))
    assert adjusted_rand_score(full.labels_, labels) == 1.0
    assert labels.max() >= 2


def test_spanning_tree_is_the_minimum_one():
    from scipy.sparse.csgraph import minimum_spanning_tree

    rng = np.random.default_rng(2)
    xy = rng.uniform(0, 1_000, (300, 2))
    core = K.weighted_core_distance(xy, rng.integers(1, 4, 300).astype(float), 6)
    tree = K.mutual_reachability_mst(xy, core)
    ref = minimum_spanning_tree(K.mutual_reachability(xy, core))
    assert tree.nnz == 2 * 299
    assert tree.sum() / 2 == pytest.approx(ref.sum(), rel=1e-12)


def test_result_does_not_depend_on_row_order():
    pts = planted(6)
    out = K.density_clusters(pts, weights=None)
    shuffled = pts.sample(frac=1.0, random_state=1)
    again = K.density_clusters(shuffled, weights=None)
    assert out.drop(columns="geometry").equals(again.drop(columns="geometry"))
    assert out.geometry.geom_equals_exact(again.geometry, tolerance=1e-6).all()


def test_hdbscan_falls_back_to_dbscan_when_too_many_locations(monkeypatch):
    monkeypatch.setattr(K, "MAX_HDBSCAN_LOCATIONS", 100)
    with pytest.warns(HotspotsWarning, match="more than the weighted HDBSCAN handles"):
        out = K.density_clusters(planted(), weights=None, selection="eom")
    assert out.attrs["auto"]["method"] == "dbscan"
    assert containing(out, CENTRES[0]) == [1]


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 120))
def test_invariants_on_random_points(seed, n):
    rng = np.random.default_rng(seed)
    xy = np.round(rng.uniform(0, 2_000, (n, 2)) / 50) * 50  # snapped, many duplicates
    pts = gpd.GeoDataFrame(
        {"harm": rng.choice([1.0, 2.0, 4.0], n)}, geometry=gpd.points_from_xy(*xy.T), crs="EPSG:27700"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HotspotsWarning)
        for method in ("hdbscan", "dbscan"):
            out = K.density_clusters(pts, method=method, min_samples=3)
            assert list(out.columns) == [*K.CLUSTER_COLUMNS, "geometry"]
            assert out["n"].sum() + out.attrs["noise"] == n
            assert sorted(out["rank"]) == list(range(1, len(out) + 1))
            assert (out["area_km2"] > 0).all()
            assert out["harm"].sum() <= pts["harm"].sum() + 1e-9


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------


def test_empty_points_keep_schema():
    pts = planted().iloc[:0]
    with pytest.warns(HotspotsWarning, match="got 0 point"):
        out = K.density_clusters(pts)
    assert_frame_contract(out, K.CLUSTER_COLUMNS)
    assert len(out) == 0


def test_one_point_warns():
    with pytest.warns(HotspotsWarning, match=r"got 1 point\(s\); at least 2"):
        out = K.density_clusters(planted().iloc[:1])
    assert len(out) == 0 and list(out.columns) == [*K.CLUSTER_COLUMNS, "geometry"]


def test_no_cluster_warns_and_keeps_schema():
    xy = np.array([[0, 0], [5_000, 0], [0, 5_000], [5_000, 5_000]], dtype=float)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*xy.T), crs="EPSG:27700")
    with pytest.warns(HotspotsWarning, match="found no cluster"):
        out = K.density_clusters(pts, method="dbscan", weights=None, eps=100.0)
    assert_frame_contract(out, K.CLUSTER_COLUMNS)


def test_all_points_at_one_location():
    pts = gpd.GeoDataFrame(
        {"harm": np.ones(50)}, geometry=gpd.points_from_xy(np.zeros(50), np.zeros(50)), crs="EPSG:27700"
    )
    with pytest.warns(HotspotsWarning, match=r"\(1 distinct locations\); HDBSCAN needs at least min_cluster_size=5"):
        out = K.density_clusters(pts)
    assert len(out) == 0
    one = K.density_clusters(pts, method="dbscan")  # DBSCAN: one heavy location is a cluster
    assert one[["n", "harm"]].values.tolist() == [[50, 50.0]]
    assert one["area_km2"].item() == pytest.approx(np.pi * 0.05**2, rel=0.01)


def test_geographic_crs_is_an_error():
    pts = planted().to_crs("EPSG:4326")
    with pytest.raises(InputError, match=r"geographic CRS .*needs distances in metres. Use `.to_crs\('EPSG:27700'\)`"):
        K.density_clusters(pts)


def test_missing_crs_is_an_error():
    pts = planted().set_crs(None, allow_override=True)
    with pytest.raises(InputError, match="has no CRS; distance work needs metres"):
        K.density_clusters(pts)


def test_non_points_are_an_error():
    pts = planted()
    pts.loc[5, "geometry"] = shapely.box(0, 0, 1, 1)
    with pytest.raises(InputError, match="row 5 is a Polygon, not a Point"):
        K.density_clusters(pts)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"weights": "severity"}, "no weights column 'severity'"),
        ({"method": "kmeans"}, "method must be one of 'hdbscan', 'dbscan', got 'kmeans'"),
        ({"eps": -5}, "eps must be a number > 0, got -5"),
        ({"min_cluster_size": 1}, "min_cluster_size must be a whole number >= 2, got 1"),
        ({"selection": "tree"}, "selection must be 'leaf' or 'eom'"),
        ({"buffer": -1}, "buffer must be a distance in metres >= 0"),
    ],
)
def test_bad_options(kwargs, match):
    with pytest.raises(InputError, match=match):
        K.density_clusters(planted(), **kwargs)


def test_bad_weight_value_names_row():
    pts = planted()
    pts.loc[7, "harm"] = -1.0
    with pytest.raises(
        InputError, match=r"column 'harm' row 7 has the value -1\.0; weights must be finite numbers >= 0"
    ):
        K.density_clusters(pts)


# --------------------------------------------------------------------------------------
# real data
# --------------------------------------------------------------------------------------


def test_real_city_violence_top_cluster_is_city_centre(study):
    inc = study.incidents
    v = inc[inc["source"] == "city_violence_2020"]
    out = K.density_clusters(v)
    assert_frame_contract(out, K.CLUSTER_COLUMNS)
    assert 5 <= len(out) <= 60
    centre = shapely.Point(*CITY_CENTRE)
    assert out.geometry.iloc[0].distance(centre) < 500
    assert out.attrs["auto"]["distinct_locations"] == 2589
    assert out["n"].sum() + out.attrs["noise"] == len(v)


def test_real_venue_clusters(study):
    out = K.density_clusters(study.venues, weights=None)
    assert len(out) >= 5
    centre = shapely.Point(*CITY_CENTRE)
    near = out[out.distance(centre) < 1_000]
    assert near["n"].sum() >= 50  # the city-centre drinking circuits
