"""Minimum detectable change: exact power, its rejection bounds, and achievement in simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hotspots.errors import InputError
from hotspots.evaluate._exact import binom_p_two_sided
from hotspots.evaluate.power import (
    lower_rejection_bound,
    mde_fall,
    mde_ratio_vs_control,
    mde_wdd,
    power_fall,
)


@pytest.mark.parametrize("p0", [0.5, 0.25, 0.75, 3 / 11])
def test_lower_rejection_bound_matches_brute_force(p0):
    n = np.arange(0, 120)
    k_lo = lower_rejection_bound(n, p0=p0, alpha=0.05)
    for nn in range(120):
        ks = np.arange(nn + 1)
        ks = ks[ks < nn * p0]
        rej = ks[binom_p_two_sided(ks, np.full(len(ks), nn), p0) <= 0.05]
        assert k_lo[nn] == (rej.max() if len(rej) else -1), nn


def test_power_matches_direct_summation():
    """Power = sum over (before, after) of P(before) P(after) [significant fall], summed directly."""
    mu_b, f, tb, ta = 12.0, 0.6, 6, 6
    b = np.arange(0, 60)
    a = np.arange(0, 60)
    B, A = np.meshgrid(b, a, indexing="ij")
    p = binom_p_two_sided(A, A + B, 0.5)
    hit = (p <= 0.05) & (A < B)
    direct = (stats.poisson.pmf(B, mu_b) * stats.poisson.pmf(A, mu_b * (1 - f)) * hit).sum()
    assert power_fall(mu_b, f, before_months=tb, after_months=ta) == pytest.approx(direct, abs=1e-9)


def test_mde_is_achieved_about_80_percent_of_the_time_in_simulation():
    rng = np.random.default_rng(42)
    sims = 6000
    for tb, ta in ((12, 12), (9, 3), (3, 9)):
        mus = np.array([15.0, 40.0, 120.0, 400.0])
        f = mde_fall(mus, before_months=tb, after_months=ta)
        assert np.isfinite(f).all()
        B = rng.poisson(mus[None, :], size=(sims, len(mus)))
        A = rng.poisson((mus * ta / tb * (1 - f))[None, :], size=(sims, len(mus)))
        p = binom_p_two_sided(A, A + B, ta / (ta + tb))
        achieved = ((p <= 0.05) & (A / ta < B / tb)).mean(axis=0)
        np.testing.assert_allclose(achieved, 0.8, atol=0.025)


def test_mde_shrinks_with_counts_and_is_nan_when_nothing_is_detectable():
    m = mde_fall(np.array([0.0, 3.0, 10.0, 50.0, 500.0, 5000.0]), before_months=12, after_months=12)
    assert np.isnan(m[:2]).all()  # nothing before, or too few for even a complete fall
    assert np.all(np.diff(m[2:]) < 0)
    assert m[-1] == pytest.approx(0.0546, abs=0.002)
    # the stated power is reached at the MDE and not just below it
    f = float(mde_fall(50.0, before_months=12, after_months=12))
    assert power_fall(50.0, f, before_months=12, after_months=12) >= 0.8
    assert power_fall(50.0, f - 0.01, before_months=12, after_months=12) < 0.8


def test_mde_bonferroni_alpha_is_larger():
    loose = mde_fall(100.0, before_months=12, after_months=12, alpha=0.05)
    strict = mde_fall(100.0, before_months=12, after_months=12, alpha=0.05 / 182)
    assert strict > loose


def test_mde_wdd_and_ratio_vs_control():
    f = mde_wdd(treated_before=100, control_before=300, control_after=300)
    sd = np.sqrt(100 * (2 - f) + 600)
    assert stats.norm.cdf(f * 100 / sd - stats.norm.ppf(0.975)) == pytest.approx(0.8, abs=1e-6)
    assert np.isnan(mde_wdd(treated_before=0, control_before=10, control_after=10))
    g = mde_ratio_vs_control(treated_before=100, control_before=300, control_after=300)
    se = np.sqrt(1 / 100 + 1 / (100 * (1 - g)) + 2 / 300)
    assert -np.log1p(-g) == pytest.approx((stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * se, rel=1e-6)
    assert np.isnan(mde_ratio_vs_control(treated_before=2, control_before=3, control_after=3))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"alpha": 0}, r"alpha must be between 0 and 1, got 0"),
        ({"power": 80}, r"power must be between 0 and 1, got 80 \(write 80 % as 0.8\)"),
        ({"before_months": 0}, r"exposures must be positive numbers of months"),
    ],
)
def test_power_errors(kwargs, match):
    args = {"before_months": 12, "after_months": 12} | kwargs
    with pytest.raises(InputError, match=match):
        mde_fall(10.0, **args)
