"""Distinct locations and their grid merge (hotspots.locations), and the demand and candidates built on them."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.locations import AGGREGATION_RESOLUTIONS_M, aggregate_locations, most_frequent, unique_xy
from hotspots.sites.candidates import demand_points, kit_candidates

# --- the memory-light functions agree with the exact ones ---------------------------------


def test_unique_xy_equals_numpy_unique_rows():
    rng = np.random.default_rng(0)
    xy = rng.integers(0, 30, (5000, 2)).astype(float) * 7.5
    u, inv = unique_xy(xy)
    u2, inv2 = np.unique(xy, axis=0, return_inverse=True)
    assert np.array_equal(u, u2) and np.array_equal(inv, inv2.ravel())


def _value_counts_lambda(groups, values, n):
    """The code demand_points used before: a value_counts per group (the oracle)."""
    names = pd.DataFrame({"k": groups, "loc": values}).dropna()
    top = names.groupby("k")["loc"].agg(lambda s: s.value_counts().index[0])
    return pd.Series(top.reindex(range(n)).to_numpy(dtype=object)).fillna("").to_numpy(dtype=object)


@pytest.mark.parametrize("seed", range(5))
def test_most_frequent_equals_value_counts_per_group(seed):
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, 300, 4000)
    pool = np.array(["On or near A", "On or near B", "On or near C", None, "On or near Hospital"], dtype=object)
    values = pool[rng.integers(0, len(pool), 4000)]  # many ties in count: the first seen wins
    got = most_frequent(groups, values, 305)  # groups with no rows give ""
    assert got.tolist() == _value_counts_lambda(groups, values, 305).tolist()


# --- aggregate_locations ------------------------------------------------------------------


def test_nothing_merged_at_or_below_the_cap():
    xy = np.array([[0.0, 0.0], [0.4, 0.0], [5.0, 5.0]])
    rep, w, inv, r = aggregate_locations(xy, np.ones(3), max_locations=3)
    assert r is None and rep.tolist() == [0, 1, 2] and inv.tolist() == [0, 1, 2] and w.tolist() == [1, 1, 1]


def test_finest_resolution_that_fits_and_the_heaviest_member_represents():
    # two clumps 100 m apart, each of three points within 0.9 m; the middle one is heaviest
    xy = np.array([[10.1, 10.1], [10.5, 10.5], [10.9, 10.2], [110.2, 10.3], [110.4, 10.4], [110.8, 10.8]])
    w = np.array([1.0, 5.0, 1.0, 2.0, 1.0, 2.0])
    rep, wa, inv, r = aggregate_locations(xy, w, max_locations=2)
    assert r == 1.0
    assert rep.tolist() == [1, 3]  # the heaviest; ties go to the first member
    assert wa.tolist() == [7.0, 5.0]
    assert inv.tolist() == [0, 0, 0, 1, 1, 1]


def test_weight_is_conserved_and_no_point_moves_beyond_a_cell_diagonal():
    rng = np.random.default_rng(0)
    xy = rng.normal(0, 40, (5000, 2))
    w = rng.uniform(0.5, 4, 5000)
    rep, wa, inv, r = aggregate_locations(xy, w, max_locations=500)
    assert len(rep) <= 500 and r in AGGREGATION_RESOLUTIONS_M
    assert wa.sum() == pytest.approx(w.sum())
    assert np.bincount(inv, weights=w) == pytest.approx(wa)
    moved = np.hypot(*(xy - xy[rep][inv]).T)
    assert moved.max() <= r * np.sqrt(2) + 1e-9
    finer = AGGREGATION_RESOLUTIONS_M[AGGREGATION_RESOLUTIONS_M.index(r) - 1]  # would not have fitted
    assert len(np.unique(np.floor(xy / finer).astype(np.int64), axis=0)) > 500


def test_the_coarsest_resolution_is_used_even_when_it_does_not_fit():
    xy = np.column_stack([np.arange(50) * 1000.0, np.zeros(50)])
    rep, _, _, r = aggregate_locations(xy, np.ones(50), max_locations=10)
    assert r == AGGREGATION_RESOLUTIONS_M[-1] and len(rep) == 50


@pytest.mark.parametrize("cap", [0, -3, 2.5, True])
def test_bad_cap(cap):
    with pytest.raises(InputError, match=r"max_locations must be a whole number >= 1, got"):
        aggregate_locations(np.zeros((2, 2)), np.ones(2), max_locations=cap)


def test_length_mismatch():
    with pytest.raises(InputError, match=r"xy has 2 locations but weight has 3 values"):
        aggregate_locations(np.zeros((2, 2)), np.ones(3), max_locations=1)


# --- demand and candidates ----------------------------------------------------------------


def _incidents(xy, harm, loc=None):
    cols = {C.HARM: harm} if loc is None else {C.HARM: harm, C.LOCATION: loc}
    return gpd.GeoDataFrame(cols, geometry=gpd.points_from_xy(*np.asarray(xy).T), crs=C.CRS)


def test_snapped_demand_is_never_merged(study):
    inc = study.place_incidents("kits")
    full = demand_points(inc)
    capped = demand_points(inc, max_points=100_000)
    assert capped.attrs["aggregated_m"] is None and capped.attrs["distinct_locations"] == len(full)
    pd.testing.assert_frame_equal(
        pd.DataFrame(full.drop(columns="geometry")), pd.DataFrame(capped.drop(columns="geometry"))
    )


def test_jittered_copies_merge_above_the_cap():
    """SYNTHETIC: 20 jittered copies (sigma 25 m) of 100 snapped points: about one location per incident."""
    rng = np.random.default_rng(1)
    snaps = rng.uniform(0, 3000, (100, 2))
    xy = np.repeat(snaps, 20, axis=0) + rng.normal(0, 25, (2000, 2))
    inc = _incidents(xy, np.ones(2000), np.repeat(np.array([f"On or near {i}" for i in range(100)]), 20))
    full = demand_points(inc)
    assert len(full) == 2000 and full.attrs["aggregated_m"] is None
    merged = demand_points(inc, max_points=300)
    assert len(merged) <= 300 and merged.attrs["aggregated_m"] in AGGREGATION_RESOLUTIONS_M
    assert merged.attrs["distinct_locations"] == 2000
    assert merged["n"].sum() == 2000 and merged[C.HARM].sum() == pytest.approx(2000)
    assert merged[C.LOCATION].str.startswith("On or near").all()
    xy_m = np.column_stack([merged.geometry.x, merged.geometry.y])
    assert np.array_equal(xy_m, xy_m[np.lexsort((xy_m[:, 1], xy_m[:, 0]))])  # still ordered by easting


def test_kit_candidates_thinned_and_venues_kept():
    rng = np.random.default_rng(2)
    inc = _incidents(rng.normal(0, 50, (3000, 2)), np.ones(3000))
    venues = gpd.GeoDataFrame(
        {C.VENUE_ID: ["1", "2"], C.VENUE_NAME: ["a", "b"]}, geometry=gpd.points_from_xy([0, 10], [0, 10]), crs=C.CRS
    )
    dem = demand_points(inc)
    cand = kit_candidates(inc, venues=venues, demand=dem, max_locations=400)
    assert cand.attrs["locations_thinned_m"] in AGGREGATION_RESOLUTIONS_M
    assert (cand["source"] == "venue").sum() == 2
    assert (cand["source"] == "incident_location").sum() <= 400
    assert cand["site_id"].is_unique
    same = kit_candidates(inc, venues=venues, demand=dem)
    assert same.attrs["locations_thinned_m"] is None and len(same) == len(kit_candidates(inc, venues=venues))
