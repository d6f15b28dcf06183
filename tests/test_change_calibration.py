"""Calibration by simulation on the real bundled data (City violence 2020, City LSOAs).

Vectorised: every simulated map is one row of a (simulations x units) array, tested in one call.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hotspots import columns as C
from hotspots.evaluate._exact import binom_p_two_sided
from hotspots.evaluate.change import tally_periods, unit_change
from hotspots.months import check_periods

SIMS = 400


@pytest.fixture(scope="module")
def city(study):
    """City violence 2020 incidents, each with its City LSOA position (-1 outside), and the LSOA x month counts."""
    lsoa = study.lsoa[study.lsoa[C.DISTRICT] == "Nottingham"].reset_index(drop=True)
    vio = study.incidents[study.incidents[C.SOURCE] == "city_violence_2020"]
    # the 2020 file has no LSOA codes: the cleaned frame's codes were assigned by location
    assert set(vio[C.LSOA_ASSIGNED]) <= {C.ASSIGNED_POINT_IN_POLYGON, C.ASSIGNED_NEAREST}
    pos = pd.Index(lsoa[C.LSOA_CODE]).get_indexer(vio[C.LSOA_CODE])
    mon = vio[C.MONTH].str[5:7].astype(int).to_numpy() - 1
    mat = np.zeros((len(lsoa), 12), dtype=np.int64)
    ok = pos >= 0
    np.add.at(mat, (pos[ok], mon[ok]), 1)
    return {"lsoa": lsoa, "vio": vio, "pos": pos, "mat": mat}


def bh_rows(p):
    """BH per simulated map (row), over that map's tested units."""
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    for i in range(len(p)):
        q[i, ok[i]] = stats.false_discovery_control(p[i, ok[i]])
    return q


@pytest.mark.parametrize("shuffle", ["iid", "permute"])
def test_no_change_anywhere_rarely_flags_any_unit(city, shuffle):
    """Months shuffled: at most 5 % of shuffled data sets have any LSOA at q <= 0.05."""
    tot = city["mat"].sum(axis=1)
    rng = np.random.default_rng(20261129)
    if shuffle == "iid":  # every incident's half at random
        after = rng.binomial(tot[None, :], 0.5, size=(SIMS, len(tot)))
    else:  # month labels permuted across incidents (the real after total kept)
        after = rng.multivariate_hypergeometric(tot, int(city["mat"][:, 6:].sum()), size=SIMS)
    p = binom_p_two_sided(after, np.broadcast_to(tot, after.shape), 0.5)
    q = bh_rows(p)
    share_any = float((q <= 0.05).any(axis=1).mean())
    assert share_any <= 0.05, share_any
    # p-values are super-uniform (discreteness makes them conservative) and close to uniform
    # where counts are large
    pv = p[np.isfinite(p)]
    for x in (0.01, 0.05, 0.1, 0.25, 0.5):
        assert (pv <= x).mean() <= x + 0.004, (x, (pv <= x).mean())
    big = p[:, tot >= 50]
    for x in (0.05, 0.1, 0.25):
        assert (big <= x).mean() >= 0.7 * x, (x, (big <= x).mean())


def test_planted_fall_in_ten_busiest_lsoas_is_found(city):
    """A 50 % fall planted in the ten busiest LSOAs (halves Jan-Jun / Jul-Dec) is found in >= 7 of them."""
    mat = city["mat"]
    b, a = mat[:, :6].sum(axis=1), mat[:, 6:].sum(axis=1)
    top = np.argsort(-(a + b), kind="stable")[:10]
    rng = np.random.default_rng(7)
    a_sim = np.tile(a, (SIMS, 1))
    a_sim[:, top] = rng.binomial(a[top][None, :], 0.5, size=(SIMS, 10))
    p = binom_p_two_sided(a_sim, a_sim + b[None, :], 0.5)
    q = bh_rows(p)
    found = ((q[:, top] <= 0.05) & (a_sim[:, top] < b[top][None, :])).sum(axis=1)
    assert np.median(found) >= 8 and (found >= 7).mean() >= 0.95, (np.median(found), (found >= 7).mean())


def test_planted_fall_through_the_whole_table(city):
    """The same plant, once, through tally_periods and unit_change on the incidents themselves."""
    vio, pos, lsoa = city["vio"], city["pos"], city["lsoa"]
    mat = city["mat"]
    top = np.argsort(-mat.sum(axis=1), kind="stable")[:10]
    rng = np.random.default_rng(0)
    after = vio[C.MONTH].to_numpy() >= "2020-07"
    drop = np.isin(pos, top) & after & (rng.random(len(vio)) < 0.5)
    keep = ~drop
    periods = check_periods("2020-01..2020-06", "2020-07..2020-12", incident_months=vio[C.MONTH])
    t = tally_periods(pos[keep], vio[C.MONTH].to_numpy()[keep], n_units=len(lsoa), periods=periods)
    out = unit_change(t, unit_id=lsoa[C.LSOA_CODE], unit_name=lsoa[C.LSOA_NAME])
    flagged = out.iloc[top]["change_class"].eq("significant fall").sum()
    assert flagged >= 7, out.iloc[top]
    assert (out.drop(index=top)["change_class"] == "significant fall").sum() <= 2
