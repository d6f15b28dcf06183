"""Andresen's SPPT (hand example, sampling rules) and hot spot class map comparison (sklearn oracle)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from hotspots.errors import InputError
from hotspots.evaluate.similarity import SPPT_COLUMNS, compare_classes, s_values, sppt

GI = ["hot 99%", "hot 95%", "hot 90%", "not significant", "cold 90%", "cold 95%", "cold 99%"]


def test_s_index_hand_example():
    """Hand-computed: with the whole test set in every draw the interval is the test share itself.

    base [2, 2, 0, 4] -> shares 25, 25, 0, 50 %; test [2, 1, 0, 1] -> 50, 25, 0, 25 %.
    Unit 1: 25 < 50 -> -1 (its share rose in the test data); unit 2: 25 = 25 -> 0; unit 3: 0 = 0 -> 0;
    unit 4: 50 > 25 -> +1. S = 2/4 = 0.5. Robust S leaves out unit 3 (no incident in either): 1/3.
    """
    r = sppt([2, 2, 0, 4], [2, 1, 0, 1], sample_share=1.0)
    assert r.units["s_index"].tolist() == [-1, 0, 0, 1]
    assert r.s_index == 0.5
    assert r.robust_s_index == pytest.approx(1 / 3)
    assert list(r.units.columns) == SPPT_COLUMNS
    np.testing.assert_allclose(r.units["base_pct"], [25, 25, 0, 50])


def test_s_values_by_hand():
    assert s_values(np.array([1.0, 5.0, 9.0, 5.0]), np.array([2.0, 2, 2, 5]), np.array([8.0, 8, 8, 5])).tolist() == [
        -1,
        0,
        1,
        0,
    ]


def test_interval_is_the_3rd_and_98th_of_100_ordered_shares():
    base = np.array([30, 50, 20, 0])
    test = np.array([25, 60, 15, 0])
    r = sppt(base, test, seed=11)
    # redo the draws by hand with the same generator
    rng = np.random.default_rng(11)
    live = np.flatnonzero(test > 0)
    m = round(0.85 * test.sum())
    draws = rng.multivariate_hypergeometric(test[live], m, size=100)
    pct = np.sort(100 * draws / m, axis=0)
    np.testing.assert_allclose(r.units["lower_pct"].to_numpy()[live], pct[2])
    np.testing.assert_allclose(r.units["upper_pct"].to_numpy()[live], pct[97])
    assert r.units["lower_pct"].iloc[3] == 0 == r.units["upper_pct"].iloc[3]
    assert (math.floor(0.025 * 100) + 1, math.ceil(0.975 * 100)) == (3, 98)
    assert "85% subsamples without replacement" in r.variant and "100 draws" in r.variant


def test_seeded_and_vectorised_over_many_units():
    rng = np.random.default_rng(0)
    lam = rng.gamma(0.4, 5, size=5000)
    base, test = rng.poisson(lam), rng.poisson(lam)
    a = sppt(base, test, seed=3)
    b = sppt(base, test, seed=3)
    assert a.units.equals(b.units)
    # same process: similar shares; a shuffled pattern: much less similar
    other = sppt(base, rng.permutation(test), seed=3)
    assert a.robust_s_index > other.robust_s_index + 0.1
    boot = sppt(base, test, replace=True, seed=3)
    assert "bootstrap" in boot.variant


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"base": [1, 2], "test": [1]}, r"base has 2 units and test 1"),
        ({"base": [0, 0], "test": [1, 1]}, r"both data sets need incidents"),
        ({"base": [1, 2.5], "test": [1, 1]}, r"base counts must be whole numbers >= 0; unit 1 has 2.5"),
        ({"base": [1, 2], "test": [1, 1], "sample_share": 85}, r"sample_share must be in \(0, 1\], got 85"),
        ({"base": [1, 2], "test": [1, 1], "draws": 5}, r"draws must be a whole number >= 20"),
    ],
)
def test_sppt_errors(kwargs, match):
    with pytest.raises(InputError, match=match):
        sppt(**kwargs)


def test_compare_classes_matches_sklearn_kappa():
    rng = np.random.default_rng(5)
    a = rng.choice(GI, 800, p=[0.04, 0.04, 0.04, 0.76, 0.04, 0.04, 0.04])
    b = np.where(rng.random(800) < 0.6, a, rng.choice(GI, 800))
    r = compare_classes(a, b, classes=GI)
    assert r.agreement == pytest.approx((a == b).mean())
    assert r.kappa == pytest.approx(cohen_kappa_score(a, b, labels=GI))
    assert r.weighted_kappa == pytest.approx(cohen_kappa_score(a, b, labels=GI, weights="linear"))
    assert r.crosstab.to_numpy().sum() == 800 and r.units == 800


def test_compare_classes_hand_example_and_exclusion():
    a = ["hot 99%", "hot 99%", "not significant", "not significant", "cold 99%"]
    b = ["hot 99%", "hot 95%", "not significant", "not significant", "cold 99%"]
    r = compare_classes(a, b, classes=GI)
    assert r.agreement == 0.8
    # hot 99 vs hot 95 is one step of six apart: weight 5/6
    assert r.weighted_similarity == pytest.approx((4 + 5 / 6) / 5)
    s = compare_classes(a, b, classes=GI, exclude_both="not significant")
    assert s.units == 3 and s.agreement == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("a", "b", "kwargs", "match"),
    [
        (["hot 99%"], ["hot 99%", "hot 95%"], {}, r"the maps have 1 and 2 units"),
        (["warm"], ["hot 99%"], {}, r"map a has class\(es\) \['warm'\] not in classes"),
        (["hot 99%"], ["hot 99%"], {"exclude_both": "cool"}, r"exclude_both='cool' is not one of the classes"),
        (["not significant"], ["not significant"], {"exclude_both": "not significant"}, r"no units left to compare"),
    ],
)
def test_compare_classes_errors(a, b, kwargs, match):
    with pytest.raises(InputError, match=match):
        compare_classes(a, b, classes=GI, **kwargs)
