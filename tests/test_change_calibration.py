"""Calibration by simulation on the real bundled data (City violence 2020, City LSOAs by location).

The defaults are checked as the CLI runs them: the month-to-month dispersion is re-estimated in
every simulated data set (``dispersion="auto"``) and the units are tested with Benjamini-Hochberg.
Vectorised where it matters: one simulated data set is one ``bincount``; longer runs of the same
checks (1,000 data sets and the whole-month splits) are in ``scripts/calibrate_change.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hotspots import columns as C
from hotspots.evaluate._exact import binom_p_two_sided
from hotspots.evaluate.change import count_change
from hotspots.evaluate.change_table import unit_change
from hotspots.evaluate.change_units import assign_lsoa
from hotspots.evaluate.power import mde_fall
from hotspots.evaluate.tally import estimate_dispersion, tally_periods
from hotspots.months import check_periods

SIMS = 300
MONTHS = [f"2020-{m:02d}" for m in range(1, 13)]


@pytest.fixture(scope="module")
def city(study):
    """City violence 2020: each incident's City LSOA position (by location, -1 outside) and month index."""
    lsoa = study.lsoa[study.lsoa[C.DISTRICT] == "Nottingham"].reset_index(drop=True)
    vio = study.incidents[study.incidents[C.SOURCE] == "city_violence_2020"]
    pos = pd.Index(lsoa[C.LSOA_CODE]).get_indexer(assign_lsoa(vio, study.lsoa, tolerance=250.0))
    mon = vio[C.MONTH].str[5:7].astype(int).to_numpy() - 1
    ok = pos >= 0
    return {"lsoa": lsoa, "vio": vio, "pos": pos, "mon": mon, "unit": pos[ok], "month": mon[ok], "n": len(lsoa)}


def month_matrix(unit, month, n_units):
    return np.bincount(unit * 12 + month, minlength=n_units * 12).reshape(n_units, 12)


def default_test(mat, *, after=slice(6, 12), before=slice(0, 6)):
    """p-values of the default test (auto dispersion) for one units x months matrix."""
    b, a = mat[:, before].sum(axis=1), mat[:, after].sum(axis=1)
    tb, ta = mat[:, before].shape[1], mat[:, after].shape[1]
    d = estimate_dispersion(mat[:, before], mat[:, after])
    phi = d.phi((a + b) / (tb + ta))
    return count_change(b, a, before_months=tb, after_months=ta, dispersion=phi).p_value, b, a


def bh_any(p):
    ok = np.isfinite(p)
    return bool((stats.false_discovery_control(p[ok]) <= 0.05).any())


@pytest.mark.parametrize("shuffle", ["permute", "iid"])
def test_months_shuffled_rarely_flag_any_unit_and_p_values_are_super_uniform(city, shuffle):
    """No change anywhere: at most 5 % of shuffled data sets have any LSOA at q <= 0.05."""
    rng = np.random.default_rng(20261129)
    unit, month, n = city["unit"], city["month"], city["n"]
    flagged, ps, big = 0, [], []
    tot = np.bincount(unit, minlength=n)
    for _ in range(SIMS):
        m = rng.permutation(month) if shuffle == "permute" else rng.integers(0, 12, len(month))
        p, _, _ = default_test(month_matrix(unit, m, n))
        flagged += bh_any(p)
        ps.append(p[np.isfinite(p)])
        big.append(p[tot >= 50])
    share = flagged / SIMS
    assert share <= 0.05, share
    pv, pb = np.concatenate(ps), np.concatenate(big)
    for x in (0.01, 0.05, 0.1, 0.25, 0.5):
        assert (pv <= x).mean() <= x + 0.004, (x, (pv <= x).mean())  # super-uniform (discreteness: conservative)
    # close to uniform where counts are large; with the month labels permuted the real monthly totals (and
    # their lockdown dips) are kept, which the dispersion estimate counts as variation: a little conservative
    for x in (0.05, 0.1, 0.25):
        assert (pb <= x).mean() >= 0.6 * x, (x, (pb <= x).mean())


def test_planted_fall_in_the_ten_busiest_lsoas_is_found(city):
    """A 50 % fall planted in the ten busiest LSOAs (months shuffled, halves) is found in at least 7 of them."""
    rng = np.random.default_rng(7)
    unit, month, n = city["unit"], city["month"], city["n"]
    top = np.argsort(-np.bincount(unit, minlength=n), kind="stable")[:10]
    found, others = [], []
    for _ in range(200):
        m = rng.permutation(month)
        drop = np.isin(unit, top) & (m >= 6) & (rng.random(len(m)) < 0.5)  # half the after incidents
        p, b, a = default_test(month_matrix(unit[~drop], m[~drop], n))
        q = stats.false_discovery_control(p)
        found.append(int(((q[top] <= 0.05) & (a[top] < b[top])).sum()))
        flagged = int((q <= 0.05).sum())
        others.append((flagged - int((q[top] <= 0.05).sum())) / max(flagged, 1))
    found_a = np.array(found)
    assert np.median(found_a) >= 8 and (found_a >= 7).mean() >= 0.85, (np.median(found_a), (found_a >= 7).mean())
    assert np.mean(others) <= 0.05  # the false discovery rate among the LSOAs flagged


def test_planted_fall_on_the_real_halves_plain_and_default(city):
    """The same plant on the real halves (2020's months as they were): the plain test finds it, and the
    default, which allows for the real month-to-month variation of the busiest LSOAs, finds fewer."""
    rng = np.random.default_rng(11)
    unit, month, n = city["unit"], city["month"], city["n"]
    top = np.argsort(-np.bincount(unit, minlength=n), kind="stable")[:10]
    plain, auto = [], []
    for _ in range(100):
        drop = np.isin(unit, top) & (month >= 6) & (rng.random(len(month)) < 0.5)
        mat = month_matrix(unit[~drop], month[~drop], n)
        b, a = mat[:, :6].sum(axis=1), mat[:, 6:].sum(axis=1)
        q_plain = stats.false_discovery_control(binom_p_two_sided(a, a + b, 0.5))
        q_auto = stats.false_discovery_control(default_test(mat)[0])
        plain.append(int(((q_plain[top] <= 0.05) & (a[top] < b[top])).sum()))
        auto.append(int(((q_auto[top] <= 0.05) & (a[top] < b[top])).sum()))
    assert np.median(plain) >= 8 and (np.array(plain) >= 7).mean() >= 0.95
    assert np.median(auto) < np.median(plain)


def test_planted_fall_through_the_whole_table(city):
    """One plant through tally_periods and unit_change on the incidents themselves (months shuffled)."""
    rng = np.random.default_rng(0)
    vio, pos, lsoa = city["vio"], city["pos"], city["lsoa"]
    months = rng.permutation(vio[C.MONTH].to_numpy())
    top = np.argsort(-np.bincount(pos[pos >= 0], minlength=len(lsoa)), kind="stable")[:10]
    drop = np.isin(pos, top) & (months >= "2020-07") & (rng.random(len(vio)) < 0.5)
    periods = check_periods("2020-01..2020-06", "2020-07..2020-12", incident_months=MONTHS)
    t = tally_periods(pos[~drop], months[~drop], n_units=len(lsoa), periods=periods)
    out = unit_change(t, unit_id=lsoa[C.LSOA_CODE], unit_name=lsoa[C.LSOA_NAME])
    assert out.iloc[top]["change_class"].eq("significant fall").sum() >= 7, out.iloc[top]
    assert (out.drop(index=top)["change_class"] != "no clear change").sum() <= 1
    assert out.attrs["change"]["dispersion"]["setting"] == "auto"


def test_stated_mde_is_achieved_with_overdispersed_counts():
    """Monthly counts with NB2 overdispersion c = 0.2: the default test, its design effect estimated from the
    simulated months, detects the stated minimum detectable fall about 80 % of the time."""
    rng = np.random.default_rng(5)
    c, units = 0.2, 400
    mu = np.array([4.0, 10.0, 25.0])  # incidents per month
    rates = np.repeat(mu, units // 3 + 1)[:units]
    est = estimate_dispersion(
        rng.poisson(rates[:, None] * rng.gamma(1 / c, c, size=(units, 12)))
    ).c  # the coefficient the analyst would estimate from a year of such data
    f = mde_fall(12 * rates, before_months=12, after_months=12, nb2_c=est)
    hits = []
    for _ in range(40):
        lam_b = rates[:, None] * rng.gamma(1 / c, c, size=(units, 12))
        lam_a = (rates * (1 - f))[:, None] * rng.gamma(1 / c, c, size=(units, 12))
        mat = np.hstack([rng.poisson(lam_b), rng.poisson(lam_a)])
        p, b, a = default_test(mat, before=slice(0, 12), after=slice(12, 24))
        hits.append((p <= 0.05) & (a < b))
    rate = np.array(hits).mean(axis=0)
    for m in mu:
        got = rate[rates == m].mean()
        assert 0.72 <= got <= 0.88, (m, got)
