"""Whole-area claims: quasi-Poisson rate ratio, seasonal matching and comparison areas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hotspots.errors import InputError
from hotspots.evaluate.area import area_change, area_change_from_totals, compare_areas


def months(year, first=1, last=12):
    return [f"{year}-{m:02d}" for m in range(first, last + 1)]


def series(values, labels):
    return pd.Series(values, index=labels, dtype=float)


def test_unmatched_periods_give_the_plain_quasi_poisson_closed_form():
    b = series([30, 41, 25, 38, 33, 29], months(2020, 1, 6))
    a = series([22, 35, 20, 19, 31, 24], months(2020, 7, 12))
    r = area_change(b, a)
    assert r.seasonal is not None
    assert not r.seasonal.matched
    # Poisson MLE of the ratio of two constant rates is the ratio of totals per month
    assert r.rate_ratio == pytest.approx((a.sum() / 6) / (b.sum() / 6), rel=1e-10)
    # dispersion: Pearson chi-square around each period's mean, over n - 2 df
    pearson = ((b - b.mean()) ** 2 / b.mean()).sum() + ((a - a.mean()) ** 2 / a.mean()).sum()
    assert r.dispersion == pytest.approx(pearson / 10, rel=1e-8)
    se = np.sqrt(max(r.dispersion, 1) * (1 / b.sum() + 1 / a.sum()))
    assert r.log_se == pytest.approx(se, rel=1e-8)
    t = stats.t.ppf(0.975, 10)
    assert r.lower == pytest.approx(r.rate_ratio * np.exp(-t * se), rel=1e-8)
    assert r.exact_p == pytest.approx(stats.binomtest(int(a.sum()), int(a.sum() + b.sum()), 0.5).pvalue)


def test_overdispersion_widens_the_interval():
    rng = np.random.default_rng(1)
    calm_b, calm_a = rng.poisson(100, 12), rng.poisson(100, 12)
    wild_b = rng.poisson(100 * rng.gamma(4, 0.25, 12))
    wild_a = rng.poisson(100 * rng.gamma(4, 0.25, 12))
    calm = area_change(series(calm_b, months(2020)), series(calm_a, months(2021)))
    wild = area_change(series(wild_b, months(2020)), series(wild_a, months(2021)))
    assert wild.dispersion > 5 > calm.dispersion
    assert np.log(wild.upper / wild.lower) > 2 * np.log(calm.upper / calm.lower)
    assert calm.dispersion_used == max(calm.dispersion, 1.0)


def test_matched_periods_fit_calendar_month_effects():
    season = np.array([80, 85, 95, 100, 110, 130, 140, 135, 115, 100, 90, 85], dtype=float)
    b = series(season, months(2020))
    a = series(season * 0.8, months(2022))  # a clean 20 % fall, strong seasonality
    r = area_change(b, a)
    assert r.seasonal is not None
    assert r.seasonal.matched and "calendar month" in r.method
    assert r.rate_ratio == pytest.approx(0.8, rel=1e-9)
    # seasonality is absorbed by the month effects: no spurious overdispersion
    assert r.dispersion < 1e-6
    plain = area_change(b, a, seasonal_effects=False)
    assert plain.dispersion > 3  # without month effects the seasonal swings look like noise


def test_quarter_without_month_effects_flags_seasonality_in_the_method():
    r = area_change(series([10, 12, 9], months(2020, 1, 3)), series([15, 14, 16], months(2020, 4, 6)))
    assert r.seasonal is not None
    assert not r.seasonal.matched and "not matched by calendar month" in r.seasonal.note


def test_zero_period_falls_back_to_exact_interval():
    r = area_change(series([3, 2, 4], months(2020, 1, 3)), series([0, 0, 0], months(2020, 4, 6)))
    assert r.rate_ratio == 0 and r.lower == 0 and "exact conditional" in r.method


def test_too_few_months_uses_poisson_and_says_so():
    r = area_change(series([30], ["2020-01"]), series([20], ["2021-01"]))
    assert np.isnan(r.dispersion) and r.dispersion_used == 1.0 and "too few months" in r.method


@pytest.mark.parametrize(
    ("b", "a", "match"),
    [
        (series([1, 2], ["2020-01", "2020-02"]), series([1], ["2020-02"]), r"the periods share month\(s\) 2020-02"),
        (series([], []), series([1], ["2020-02"]), r"before has no months"),
        (
            series([1, -2], ["2020-01", "2020-02"]),
            series([1], ["2020-03"]),
            r"before counts must be numbers >= 0; 2020-02 has -2.0",
        ),
        (series([1], ["Jan"]), series([1], ["2020-03"]), r"before must be indexed by months 'YYYY-MM'"),
    ],
)
def test_area_change_errors(b, a, match):
    with pytest.raises(InputError, match=match):
        area_change(b, a)


def test_compare_areas_ratio_of_rate_ratios():
    here = area_change_from_totals(1000, 870, before_months=12, after_months=12, label="Nottinghamshire")
    comp = area_change_from_totals(40000, 42400, before_months=12, after_months=12, label="England and Wales")
    c = compare_areas(here, comp)
    assert c.ratio == pytest.approx(0.87 / 1.06)
    se = np.sqrt(1 / 1000 + 1 / 870 + 1 / 40000 + 1 / 42400)
    z = stats.norm.ppf(0.975)
    assert (c.lower, c.upper) == pytest.approx((c.ratio * np.exp(-z * se), c.ratio * np.exp(z * se)))
    assert c.relative_change_pct == pytest.approx(100 * (0.87 / 1.06 - 1))
    assert c.sentence.startswith("Nottinghamshire fell 13 % while England and Wales rose 6 %: relative fall 18 %")
    # a published ratio adds no sampling error
    fixed = compare_areas(here, 1.06, comparison_label="England and Wales")
    assert fixed.upper - fixed.lower < c.upper - c.lower
    small = area_change_from_totals(60, 52, before_months=12, after_months=12, label="A small area")
    assert "within what chance alone could produce" in compare_areas(small, 1.06).sentence


def test_compare_errors():
    here = area_change_from_totals(10, 8, before_months=12, after_months=12)
    with pytest.raises(InputError, match=r"comparison ratio must be positive"):
        compare_areas(here, -1.0)
    with pytest.raises(InputError, match=r"both totals must be positive"):
        area_change_from_totals(0, 5, before_months=12, after_months=12)
    with pytest.raises(InputError, match=r"dispersion must be >= 1"):
        area_change_from_totals(5, 5, before_months=12, after_months=12, dispersion=0.5)
