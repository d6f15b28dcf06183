"""Per-unit change tests: scipy oracles, harm test, BH, classes and the change.csv contract."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hotspots.errors import InputError
from hotspots.evaluate._exact import binom_p_two_sided, clopper_pearson
from hotspots.evaluate._harm import _harm_pmf, mark_lattice
from hotspots.evaluate.change import (
    CHANGE_CLASSES,
    CHANGE_COLUMNS,
    count_change,
    fdr_bh,
    harm_change,
)
from hotspots.evaluate.change_table import unit_change
from hotspots.evaluate.tally import estimate_dispersion, tally_periods
from hotspots.months import check_periods

MONTHS = [f"2020-{m:02d}" for m in range(1, 13)]


def scipy_p(before, after, tb, ta):
    """The oracle: a plain loop of scipy.stats.binomtest."""
    out = []
    for b, a in zip(before, after, strict=True):
        n = int(a + b)
        out.append(np.nan if n == 0 else stats.binomtest(int(a), n, ta / (ta + tb)).pvalue)
    return np.array(out)


@pytest.mark.parametrize(
    ("before", "after", "tb", "ta"),
    [
        ([30, 0, 5, 0, 7, 1, 100, 12], [12, 0, 5, 9, 0, 1, 130, 3], 12, 12),
        ([10, 4, 0, 25, 60, 3], [2, 9, 4, 25, 20, 0], 9, 3),  # unequal exposure
        ([1, 2, 3, 50, 500], [0, 7, 3, 10, 460], 5, 7),
    ],
)
def test_count_p_matches_binomtest_on_hand_cases(before, after, tb, ta):
    r = count_change(np.array(before), np.array(after), before_months=tb, after_months=ta)
    np.testing.assert_array_equal(r.p_value, scipy_p(before, after, tb, ta))
    assert np.array_equal(r.tested, np.array(before) + np.array(after) > 0)


def test_count_p_matches_binomtest_on_random_cases():
    rng = np.random.default_rng(12)
    for tb, ta in ((12, 12), (6, 3), (2, 10), (11, 13)):
        lam = rng.gamma(0.6, 15, size=250)
        b = rng.poisson(lam * tb)
        a = rng.poisson(lam * ta * rng.uniform(0.3, 2.0, size=250))
        r = count_change(b, a, before_months=tb, after_months=ta)
        np.testing.assert_array_equal(r.p_value, scipy_p(b, a, tb, ta))
        assert (b + a == 0).any()  # zeros included


def test_binom_p_vectorised_equals_scipy_bit_for_bit_on_all_small_cases():
    cases = [(k, n, p) for n in range(1, 26) for k in range(n + 1) for p in (0.5, 0.2, 12 / 19)]
    k, n, p = (np.array(c, dtype=float) for c in zip(*cases, strict=True))
    expected = np.array([stats.binomtest(int(a), int(b), c).pvalue for a, b, c in cases])
    np.testing.assert_array_equal(binom_p_two_sided(k, n, p), expected)


def test_clopper_pearson_matches_scipy():
    cases = [(0, 5), (5, 5), (3, 17), (40, 41), (1, 1), (250, 900)]
    lo, hi = clopper_pearson(np.array([c[0] for c in cases]), np.array([c[1] for c in cases]), confidence=0.9)
    for (k, n), low, high in zip(cases, lo, hi, strict=True):
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.9, method="exact")
        assert low == pytest.approx(ci.low, abs=1e-9)
        assert high == pytest.approx(ci.high, abs=1e-9)


def test_rate_ratio_and_interval():
    r = count_change(np.array([40, 0, 10, 0]), np.array([10, 5, 0, 0]), before_months=12, after_months=6)
    np.testing.assert_allclose(r.rate_ratio[:3], [(10 / 6) / (40 / 12), np.inf, 0.0])
    assert np.isnan(r.rate_ratio[3]) and np.isnan(r.p_value[3])
    # interval = Clopper-Pearson on after/(after+before) transformed by pi/(1-pi) * tb/ta
    ci = stats.binomtest(10, 50).proportion_ci(method="exact")
    assert r.rr_lower[0] == pytest.approx(ci.low / (1 - ci.low) * 2, rel=1e-9)
    assert r.rr_upper[0] == pytest.approx(ci.high / (1 - ci.high) * 2, rel=1e-9)
    assert r.rr_upper[1] == np.inf and r.rr_lower[2] == 0.0


def test_interval_covers_the_truth_at_least_95_percent():
    rng = np.random.default_rng(3)
    lam = rng.gamma(1.0, 8, size=20000)
    r = count_change(rng.poisson(lam * 6), rng.poisson(lam * 6 * 0.7), before_months=6, after_months=6)
    ok = r.tested
    cover = (r.rr_lower[ok] <= 0.7) & (r.rr_upper[ok] >= 0.7)
    assert cover.mean() >= 0.95


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"before": np.array([1.5]), "after": np.array([1])},
            r"before counts must be whole numbers >= 0; unit 0 has 1.5",
        ),
        ({"before": np.array([1]), "after": np.array([-1])}, r"after counts must be whole numbers >= 0"),
        ({"before": np.array([1, 2]), "after": np.array([1])}, r"differ in length"),
    ],
)
def test_count_change_errors(kwargs, match):
    with pytest.raises(InputError, match=match):
        count_change(**kwargs, before_months=6, after_months=6)


def test_zero_exposure_is_an_error():
    with pytest.raises(InputError, match=r"both periods need months with data"):
        count_change(np.array([1]), np.array([1]), before_months=0, after_months=6)


# --- harm --------------------------------------------------------------------------------


def brute_harm_p(bm, am, vals, p0):
    """Enumerate every split of the unit's incidents: the exact conditional distribution of the after sum."""
    tot = np.asarray(bm) + np.asarray(am)
    dist: dict[int, float] = {}
    for x in itertools.product(*[range(t + 1) for t in tot]):
        pr = float(np.prod([stats.binom.pmf(xi, t, p0) for xi, t in zip(x, tot, strict=True)]))
        s = round(float(np.dot(x, vals)) * 100)
        dist[s] = dist.get(s, 0.0) + pr
    d = dist[round(float(np.dot(am, vals)) * 100)]
    return min(1.0, sum(v for v in dist.values() if v <= d * (1 + 1e-7)))


def test_mark_lattice():
    assert mark_lattice(np.array([1.0, 1.5, 4.0])) == (0.5, pytest.approx(np.array([2, 3, 8])))
    step, steps = mark_lattice(np.array([0.25, 2.0]))
    assert step == 0.25 and steps.tolist() == [1, 8]
    with pytest.raises(InputError, match=r"harm marks must be positive"):
        mark_lattice(np.array([0.0, 1.0]))
    with pytest.raises(InputError, match=r"is not a simple fraction; round the \[scope\] harm weights"):
        mark_lattice(np.array([1.0, np.pi]))


def test_harm_p_equals_brute_force_enumeration():
    rng = np.random.default_rng(5)
    vals = np.array([1.0, 1.5, 4.0])
    rows_b, rows_a, expected = [], [], []
    for _ in range(60):
        tot = rng.integers(0, 4, size=3)
        if (tot > 0).sum() < 2:
            continue
        am = np.array([rng.integers(0, t + 1) for t in tot])
        rows_b.append(tot - am)
        rows_a.append(am)
        expected.append(brute_harm_p(tot - am, am, vals, 4 / (4 + 8)))
    r = harm_change(np.array(rows_b), np.array(rows_a), vals, before_months=8, after_months=4)
    np.testing.assert_allclose(r.p_value, expected, rtol=1e-12, atol=1e-15)


def test_harm_with_one_mark_is_the_count_test():
    vals = np.array([1.0, 1.5, 4.0])
    bm = np.array([[10, 0, 0], [0, 7, 0], [0, 0, 0]])
    am = np.array([[3, 0, 0], [0, 0, 0], [0, 0, 0]])
    r = harm_change(bm, am, vals, before_months=12, after_months=12)
    c = count_change(bm.sum(axis=1), am.sum(axis=1), before_months=12, after_months=12)
    np.testing.assert_array_equal(r.p_value, c.p_value)
    np.testing.assert_array_equal(r.rr_lower[:2], c.rr_lower[:2])
    assert not r.tested[2]


def test_harm_interval_inverts_the_exact_distribution():
    vals = np.array([1.0, 1.5, 4.0])
    _, steps = mark_lattice(vals)
    bm, am = np.array([[20, 8, 3]]), np.array([[10, 4, 6]])
    r = harm_change(bm, am, vals, before_months=6, after_months=6, confidence=0.9)
    s = int(am[0] @ steps)
    for rr, tail in ((r.rr_lower[0], "upper"), (r.rr_upper[0], "lower")):
        pi = rr / (1 + rr)  # equal exposures
        pmf = _harm_pmf((bm + am)[0], steps, pi)
        prob = pmf[s:].sum() if tail == "upper" else pmf[: s + 1].sum()
        assert prob == pytest.approx(0.05, abs=5e-4)  # 16 halvings: the limit to 6e-4 on the logit scale
    assert r.rate_ratio[0] == pytest.approx((am[0] @ vals) / (bm[0] @ vals))


def test_harm_change_shape_errors():
    with pytest.raises(InputError, match=r"must both be units x 3 marks"):
        harm_change(np.zeros((2, 2)), np.zeros((2, 2)), np.array([1.0, 1.5, 4.0]), before_months=6, after_months=6)


# --- BH, classes, the table ----------------------------------------------------------------


def test_fdr_bh_ignores_untested_units():
    p = np.array([0.01, np.nan, 0.04, 0.03, np.nan])
    q = fdr_bh(p)
    np.testing.assert_allclose(q[[0, 2, 3]], stats.false_discovery_control([0.01, 0.04, 0.03]))
    assert np.isnan(q[[1, 4]]).all()


def make_tally(before_counts, after_counts, harm=None, months_b=6, months_a=6):
    """Incidents per unit laid out in months, then tallied the way the CLI will."""
    unit: list[int] = []
    month: list[str] = []
    h: list[float] = []
    for u, (nb, na) in enumerate(zip(before_counts, after_counts, strict=True)):
        unit += [u] * (nb + na)
        month += [MONTHS[i % months_b] for i in range(nb)] + [MONTHS[6 + i % months_a] for i in range(na)]
        h += ([1.0] * (nb + na)) if harm is None else harm[u]
    periods = check_periods(f"2020-01..2020-{months_b:02d}", "2020-07..2020-12", incident_months=MONTHS)
    return tally_periods(
        np.array(unit),
        np.array(month),
        n_units=len(before_counts),
        periods=periods,
        harm=np.array(h) if harm is not None else None,
    )


def test_unit_change_contract_and_classes():
    before = [80, 60, 0, 5, 3]
    after = [20, 120, 0, 5, 4]
    t = make_tally(before, after)
    out = unit_change(t, unit_id=list("ABCDE"), unit_name=[f"unit {c}" for c in "ABCDE"])
    assert list(out.columns) == CHANGE_COLUMNS
    assert out["unit_id"].tolist() == list("ABCDE")
    assert out["before"].tolist() == before and out["after"].tolist() == after
    assert set(out["change_class"]) <= set(CHANGE_CLASSES)
    assert out["change_class"].tolist() == [
        "significant fall",
        "significant rise",
        "no data",
        "no clear change",
        "no clear change",
    ]
    assert (out["before_months"] == 6).all() and (out["after_months"] == 6).all()
    # no-data unit: not tested, not in BH, no p/q, and no detectable fall
    c = out.iloc[2]
    assert np.isnan(c["p_value"]) and np.isnan(c["q_value"]) and np.isnan(c["mde_pct"])
    np.testing.assert_allclose(
        out["q_value"].dropna(), stats.false_discovery_control(out["p_value"].dropna().to_numpy())
    )
    meta = out.attrs["change"]
    assert meta["tested"] == 4 and meta["classes"]["no data"] == 1 and meta["before_months"] == 6
    # mde: a busier unit can show a smaller fall
    assert out.loc[0, "mde_pct"] < out.loc[3, "mde_pct"] or np.isnan(out.loc[3, "mde_pct"])


def test_unit_change_harm_uses_harm_sums():
    harm = [[1.0] * 30 + [4.0] * 10 + [1.0] * 5 + [4.0] * 5, [1.5] * 4]
    t = make_tally([40, 2], [10, 2], harm=harm)
    out = unit_change(t, unit_id=["A", "B"], measure="harm")
    assert out["before"].tolist() == [70.0, 3.0] and out["after"].tolist() == [25.0, 3.0]
    assert out["rate_ratio"].iloc[0] == pytest.approx(25 / 70)
    assert out.attrs["change"]["harm_marks"] == [1.0, 1.5, 4.0]


def test_tally_counts_only_months_with_data_and_units():
    periods = check_periods("2020-01..2020-03", "2020-04..2020-06", incident_months=MONTHS)
    unit = np.array([0, 0, 1, -1, 1, 0])
    month = np.array(["2020-01", "2020-04", "2020-02", "2020-02", "2020-11", "2020-06"])
    t = tally_periods(unit, month, n_units=2, periods=periods, harm=np.array([1, 4, 1.5, 1, 1, 1.0]))
    assert t.before.tolist() == [1, 1] and t.after.tolist() == [2, 0]
    assert t.outside == 1
    assert t.after_harm.tolist() == [5.0, 0.0] and t.after_harm_sq.tolist() == [17.0, 0.0]
    assert t.mark_values.tolist() == [1.0, 1.5, 4.0]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"unit": np.array([0, 5])}, r"unit positions must lie in \[-1, 1\], got 0..5"),
        ({"harm": np.array([1.0, -2.0])}, r"harm weights must be numbers >= 0; incident 1 has -2.0"),
        ({"harm": np.array([1.0])}, r"harm has 1 values for 2 incidents"),
    ],
)
def test_tally_errors(kwargs, match):
    periods = check_periods("2020-01..2020-03", "2020-04..2020-06", incident_months=MONTHS)
    args = {"unit": np.array([0, 1]), "month": np.array(["2020-01", "2020-04"]), "harm": None} | kwargs
    with pytest.raises(InputError, match=match):
        tally_periods(args["unit"], args["month"], n_units=2, periods=periods, harm=args["harm"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"measure": "rate"}, r"measure must be one of count, harm, got 'rate'"),
        ({"alpha": 5}, r"alpha must be between 0 and 1, got 5"),
        ({"unit_id": ["A"]}, r"unit_id and unit_name need 2 values"),
    ],
)
def test_unit_change_errors(kwargs, match):
    t = make_tally([3, 4], [1, 2])
    with pytest.raises(InputError, match=match):
        unit_change(t, **({"unit_id": ["A", "B"]} | kwargs))


def test_empty_unit_set_keeps_schema():
    t = make_tally([], [])
    out = unit_change(t, unit_id=[])
    assert list(out.columns) == CHANGE_COLUMNS and len(out) == 0
    assert isinstance(out, pd.DataFrame)


# --- month-to-month variation (NB2 dispersion, Rao-Scott effective counts) -------------------


def test_estimate_dispersion_closed_form():
    # one unit, one period, months (0, 6): mean 3, sum of squares 18, 1 df; the Pearson equation
    # 18 / (3 (1 + 3c)) = 1 gives c = 5/3
    d = estimate_dispersion(np.array([[0, 6]]))
    assert d.c == pytest.approx(5 / 3) and d.df == 1 and d.pearson == pytest.approx(6.0)
    # months (2, 4): 2 / 3 < 1 df, no overdispersion
    assert estimate_dispersion(np.array([[2, 4]])).c == 0.0
    assert not estimate_dispersion(np.zeros((3, 1))).estimated


def test_estimate_dispersion_solves_the_pooled_pearson_equation():
    # unit 0: months (2, 4) -> mean 3, SS 2; unit 1: (0, 0) -> no information; unit 2: (5, 5) -> SS 0.
    # Second period: unit 0 (6, 0, 0) -> mean 2, SS 24. df = 1 + 1 + 2.
    before = np.array([[2, 4], [0, 0], [5, 5]])
    after = np.array([[6, 0, 0], [0, 0, 0], [0, 0, 0]])
    d = estimate_dispersion(before, after)
    assert d.df == 4
    assert d.pearson == pytest.approx((2 / 3 + 0 + 12) / 4)
    c = d.c
    assert 2 / (3 * (1 + 3 * c)) + 0 / (5 * (1 + 5 * c)) + 24 / (2 * (1 + 2 * c)) == pytest.approx(4.0)
    np.testing.assert_allclose(d.phi(np.array([0.0, 2.0])), [1.0, 1 + 2 * c])


def test_dispersion_uses_rao_scott_effective_counts():
    b, a = np.array([60, 9, 1]), np.array([30, 3, 0])
    r = count_change(b, a, before_months=6, after_months=6, dispersion=3.0)
    np.testing.assert_array_equal(r.p_value[:2], scipy_p([20, 3], [10, 1], 6, 6))
    assert r.p_value[2] == 1.0  # fewer than one effective incident: nothing to test
    np.testing.assert_allclose(r.rate_ratio[:2], [0.5, 1 / 3])  # the estimate itself is unchanged
    # one design effect per unit
    r2 = count_change(b, a, before_months=6, after_months=6, dispersion=np.array([3.0, 1.0, 1.0]))
    np.testing.assert_array_equal(r2.p_value, [r.p_value[0], *scipy_p([9, 1], [3, 0], 6, 6)])
    with pytest.raises(InputError, match=r"dispersion must be a number >= 1"):
        count_change(b, a, before_months=6, after_months=6, dispersion=0.5)


def test_harm_dispersion_divides_every_mark():
    vals = np.array([1.0, 4.0])
    bm, am = np.array([[40, 10]]), np.array([[20, 4]])
    r = harm_change(bm, am, vals, before_months=6, after_months=6, dispersion=2.0)
    ref = harm_change(np.array([[20, 5]]), np.array([[10, 2]]), vals, before_months=6, after_months=6)
    assert r.p_value[0] == ref.p_value[0]
    assert r.rate_ratio[0] == pytest.approx((20 + 16) / (40 + 40))


def overdispersed_tally(seed=3):
    """Units whose monthly rates move from month to month (gamma shocks): c about 0.25."""
    rng = np.random.default_rng(seed)
    mu = rng.gamma(2.0, 4.0, size=(300, 1))
    counts = rng.poisson(mu * rng.gamma(4.0, 0.25, size=(300, 12)))
    unit = np.repeat(np.arange(300), counts.sum(axis=1))
    month = np.concatenate([np.repeat(MONTHS, row) for row in counts])
    periods = check_periods("2020-01..2020-06", "2020-07..2020-12", incident_months=MONTHS)
    return tally_periods(unit, month, n_units=300, periods=periods)


def test_unit_change_dispersion_auto_none_and_constant():
    t = overdispersed_tally()
    assert 0.15 < t.dispersion.c < 0.35
    auto = unit_change(t, unit_id=range(300))
    plain = unit_change(t, unit_id=range(300), dispersion="none")
    const = unit_change(t, unit_id=range(300), dispersion=2.0)
    meta = auto.attrs["change"]["dispersion"]
    assert meta["setting"] == "auto" and meta["nb2_c"] == t.dispersion.c and meta["max_design_effect"] > 2
    phi = auto.attrs["dispersion"]
    np.testing.assert_allclose(phi, 1 + t.dispersion.c * (t.before + t.after) / 12)
    # allowing for the variation makes units less significant (rounding the effective counts can
    # move a small unit's p either way) and shrinks the flagged set
    assert (auto["p_value"] >= plain["p_value"] - 1e-12).mean() > 0.95
    assert (auto["change_class"] != "no clear change").sum() < (plain["change_class"] != "no clear change").sum()
    assert (auto["mde_pct"].fillna(100) >= plain["mde_pct"].fillna(100) - 1e-9).all()
    np.testing.assert_array_equal(const.attrs["dispersion"], 2.0)
    np.testing.assert_array_equal(auto["rate_ratio"], plain["rate_ratio"])


def test_unit_change_dispersion_errors():
    t = make_tally([80, 60, 5], [20, 120, 5])
    with pytest.raises(InputError, match=r"dispersion must be 'auto' \(estimated from the data\), 'none'"):
        unit_change(t, unit_id=list("ABC"), dispersion="yes")
    with pytest.raises(InputError, match=r"or a number >= 1, got 0.5"):
        unit_change(t, unit_id=list("ABC"), dispersion=0.5)
