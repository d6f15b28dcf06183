"""Tests of hotspots.evaluate.kits_backtest: kits chosen on the past, scored on the future."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.evaluate import kits_backtest as K

A, B, CC = (0.0, 0.0), (1000.0, 0.0), (2000.0, 0.0)


def toy_incidents() -> gpd.GeoDataFrame:
    """Jan: 3 at A, 1 at B. Feb: 1 at A, 2 at B. Mar: 1 at A, 2 at C (a place never seen before)."""
    rows = (
        [("2020-01", A)] * 3
        + [("2020-01", B)]
        + [("2020-02", A)]
        + [("2020-02", B)] * 2
        + [("2020-03", A)]
        + [("2020-03", CC)] * 2
    )
    return gpd.GeoDataFrame(
        {C.MONTH: [m for m, _ in rows], C.HARM: 1.0, C.LOCATION: None}, geometry=[Point(*p) for _, p in rows], crs=C.CRS
    )


def toy_venues() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {C.VENUE_ID: ["v1", "v2"], C.VENUE_NAME: ["Near A", "Near B"]},
        geometry=[Point(50, 0), Point(1000, 60)],
        crs=C.CRS,
    )


def test_kits_backtest_hand_computed():
    res = K.kits_backtest(toy_incidents(), venues=toy_venues(), p=1, radius=100, horizons=(1, 2), min_train_months=1)
    assert list(res.columns) == K.KITS_COLUMNS
    r = res.set_index(["horizon", "fold", "method"])
    for m in K.KIT_METHODS:
        # fold 1 (train Jan, test Feb): the kit covers A: 3 of 4 in sample, 1 of 3 next month;
        # the best single kit for February (B) would have covered 2 of 3
        f1 = r.loc[(1, 1, m)]
        assert f1["in_sample_pct"] == pytest.approx(75.0)
        assert f1["out_of_sample_pct"] == pytest.approx(100 / 3)
        assert f1["best_possible_pct"] == pytest.approx(200 / 3)
        assert f1["share_of_best"] == pytest.approx(0.5)
        # fold 2 (train Jan-Feb, test Mar): A again (4 of 7); March's 2 at C are out of every candidate's reach
        f2 = r.loc[(1, 2, m)]
        assert f2["in_sample_pct"] == pytest.approx(400 / 7)
        assert f2["out_of_sample_pct"] == pytest.approx(100 / 3)
        assert f2["best_possible_pct"] == pytest.approx(100 / 3) and f2["share_of_best"] == pytest.approx(1.0)
        # next two months from January: A holds 2 of Feb-Mar's 6
        q = r.loc[(2, 1, m)]
        assert q["out_of_sample_pct"] == pytest.approx(100 / 3) and q["test_harm"] == 6
    assert (res["kits"] == 1).all()
    assert r.loc[(1, 1, "mclp")]["candidates"] == 4  # two venues + A + B
    s = K.summarise_kits(res)
    assert list(s.columns) == K.KITS_SUMMARY_COLUMNS
    mc = s[(s["horizon"] == 1) & (s["method"] == "mclp")].iloc[0]
    assert mc["folds"] == 2 and mc["retention"] == pytest.approx((100 / 3) / ((75 + 400 / 7) / 2))


def test_greedy_sites_order_ties_and_stop():
    cover = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1]])
    # every candidate reaches 2 at first: the lowest index wins; then candidate 2 adds 2, candidate 1 only 1
    assert K.greedy_sites(cover, [1.0, 1.0, 1.0, 2.0], 3).tolist() == [0, 2, 1]
    assert K.greedy_sites(cover, [1.0, 1.0, 0.0, 0.0], 3).tolist() == [0]  # nothing left to add after one
    with pytest.raises(InputError, match="p must be a whole number of kits >= 1, got 0"):
        K.greedy_sites(cover, [1, 1, 1, 1], 0)
    with pytest.raises(InputError, match="cover has 4 demand rows but weights has 2 values"):
        K.greedy_sites(cover, [1, 1], 1)


def test_busiest_venues_attribution():
    inc = toy_incidents()
    got = K.busiest_venues(inc[inc[C.MONTH] == "2020-02"], toy_venues(), p=2, radius=100)
    assert got.tolist() == [1, 0]  # B's 2 beat A's 1
    assert K.busiest_venues(inc[inc[C.MONTH] == "2020-03"], toy_venues(), p=5, radius=100).tolist() == [0]


def test_covered_harm_boundary():
    inc = toy_incidents()
    cov, tot = K.covered_harm(inc, np.array([[100.0, 0.0]]), radius=100)
    assert (cov, tot) == (5.0, 10.0)  # exactly 100 m counts as covered, as in the sites stage


def test_kits_backtest_errors():
    inc = toy_incidents()
    with pytest.raises(InputError, match="unknown kit method 'random'"):
        K.kits_backtest(inc, methods=("random",))
    with pytest.raises(InputError, match="'busiest_venues' needs venues"):
        K.kits_backtest(inc, venues=None, min_train_months=1, horizons=(1,))
    with pytest.raises(InputError, match="too few months for a kit backtest: 3, need at least 4"):
        K.kits_backtest(inc, venues=toy_venues(), min_train_months=3, horizons=(1,))
    with pytest.raises(InputError, match="radius must be > 0 metres, got 0"):
        K.kits_backtest(inc, radius=0)
    with pytest.raises(InputError, match="incidents have no 'harm' column"):
        K.kits_backtest(inc.drop(columns=[C.HARM]), venues=toy_venues())


def test_real_city_kits_future_coverage_below_in_sample(study):
    inc = study.incidents[study.incidents[C.SOURCE] == "city_violence_2020"]
    res = K.kits_backtest(inc, venues=study.venues, horizons=(3,), min_train_months=9)
    assert len(res) == 3
    r = res.set_index("method")
    assert r.loc["mclp", "in_sample_pct"] >= r.loc["greedy", "in_sample_pct"] - 1e-9  # exact beats greedy in sample
    assert r.loc["mclp", "out_of_sample_pct"] < r.loc["mclp", "in_sample_pct"]
    assert (res["out_of_sample_pct"] <= res["best_possible_pct"] + 1e-9).all()
