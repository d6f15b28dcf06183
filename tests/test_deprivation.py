"""Tests for hotspots.prepare.deprivation: IMD without crime (official IoD method) and the derived IDACI rate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots import columns as C
from hotspots.errors import HotspotsWarning, InputError
from hotspots.prepare.deprivation import (
    IDACI_RATE,
    IMD_NC_COLUMNS,
    IMD_NC_DECILE,
    IMD_NC_RANK,
    IMD_NC_SCORE,
    IMD_WEIGHTS,
    N_ENGLAND,
    combine_domains,
    exponential_transform,
    idaci_rate,
    imd_without_crime,
)


@pytest.fixture(scope="module")
def england(study):
    return study.deprivation


def test_bundled_deprivation_is_all_england(england):
    assert len(england) == N_ENGLAND
    assert england[C.LSOA_CODE].is_unique


def test_official_method_reproduces_official_imd_rank(england):
    """Oracle: all seven domains with the published weights give the official IMD rank."""
    before = england.copy()
    res = combine_domains(england, weights=IMD_WEIGHTS)
    diff = (res["rank"].astype(int) - england[C.IMD_RANK]).abs()
    assert (diff == 0).mean() >= 0.996
    assert diff.max() <= 2
    # deciles follow the IoD rule ceil(rank * 10 / N) and so match the official ones
    assert (res["decile"].astype(int) == england[C.IMD_DECILE]).mean() >= 0.999
    pd.testing.assert_frame_equal(england, before)  # input not mutated


def test_imd_without_crime_national(england):
    nc = imd_without_crime(england)
    assert list(nc.columns) == IMD_NC_COLUMNS
    assert nc.index.equals(england.index)
    assert sorted(nc[IMD_NC_RANK].astype(int)) == list(range(1, N_ENGLAND + 1))
    assert nc[IMD_NC_DECILE].value_counts().sort_index().tolist() == [3284, 3284, 3285, 3284, 3285] * 2
    assert nc[IMD_NC_SCORE].between(0, 100).all()
    # the same ranking as the IMD, but not identical: Crime has been taken out
    rho = np.corrcoef(nc[IMD_NC_RANK].astype(float), england[C.IMD_RANK])[0, 1]
    assert 0.98 < rho < 1.0
    assert (nc[IMD_NC_RANK].astype(int) != england[C.IMD_RANK]).mean() > 0.5
    # score higher = more deprived = smaller rank
    top = nc[IMD_NC_SCORE].idxmax()
    assert nc.loc[top, IMD_NC_RANK] == 1


def test_imd_without_crime_equals_renormalised_six_domains(england):
    sub = england.head(50)
    with pytest.warns(HotspotsWarning, match="relative to the LSOAs given"):
        nc = imd_without_crime(sub)
    six = {k: v for k, v in IMD_WEIGHTS.items() if k != "crime"}
    expected = sum(v * exponential_transform(sub[f"{k}_rank"], N_ENGLAND) for k, v in six.items()) / sum(six.values())
    np.testing.assert_allclose(nc[IMD_NC_SCORE], expected, rtol=1e-12)
    # crime rank does not matter
    changed = sub.assign(crime_rank=1)
    with pytest.warns(HotspotsWarning):
        pd.testing.assert_frame_equal(imd_without_crime(changed), nc)


def test_exponential_transform_endpoints_and_monotone():
    x = exponential_transform(np.arange(1, 101), 100)
    assert x[0] == pytest.approx(100.0)
    assert np.all(np.diff(x) < 0)
    assert x[-1] > 0


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 1000), min_size=2, max_size=30), st.integers(0, 5))
def test_combine_monotone_in_each_domain(ranks, i):
    """Making one domain more deprived (smaller rank) never lowers the score."""
    n = 1000
    df = pd.DataFrame({C.LSOA_CODE: [f"E{j}" for j in range(len(ranks))]})
    for d in C.DOMAINS:
        df[f"{d}_rank"] = ranks
    dom = [d for d in C.DOMAINS if d != "crime"][i]
    worse = df.copy()
    worse[f"{dom}_rank"] = np.maximum(1, df[f"{dom}_rank"] - 7)
    a = combine_domains(df, weights=IMD_WEIGHTS, n=n)["score"]
    b = combine_domains(worse, weights=IMD_WEIGHTS, n=n)["score"]
    assert (b >= a - 1e-12).all()


def test_missing_rank_left_missing_not_ranked(england):
    sub = england.head(20).copy()
    sub["income_rank"] = sub["income_rank"].astype(float)
    sub.loc[sub.index[3], "income_rank"] = np.nan
    with pytest.warns(HotspotsWarning):
        nc = imd_without_crime(sub)
    assert pd.isna(nc[IMD_NC_SCORE].iloc[3]) and pd.isna(nc[IMD_NC_RANK].iloc[3])
    assert sorted(nc[IMD_NC_RANK].dropna().astype(int)) == list(range(1, 20))


def test_bad_deprivation_frames(england):
    sub = england.head(5)
    with pytest.raises(InputError, match=r"no column\(s\) 'health_rank'.*read_deprivation"):
        combine_domains(sub.drop(columns="health_rank"))
    bad = sub.assign(income_rank=[1, 2, 0, 4, 5])
    with pytest.raises(
        InputError, match=r"row 3 \(LSOA 'E01000003'\), column 'income_rank': rank 0 is outside 1\.\.32844"
    ):
        combine_domains(bad)
    dup = pd.concat([sub, sub.head(1)])
    with pytest.raises(InputError, match="'E01000001' appears more than once"):
        combine_domains(dup)
    with pytest.raises(InputError, match=r"unknown domain\(s\) 'wealth'.*Valid domains: income"):
        combine_domains(sub, weights={"wealth": 1.0})
    with pytest.raises(InputError, match="must be finite and >= 0"):
        combine_domains(sub, weights={"income": -1.0, "health": 2.0})
    with pytest.raises(InputError, match="all zero"):
        combine_domains(sub, weights={"income": 0.0})
    with pytest.raises(InputError, match="must be a DataFrame"):
        imd_without_crime([1, 2])  # type: ignore[arg-type]


# --- IDACI rate --------------------------------------------------------------------------


def test_idaci_rate_real_data(study):
    lsoa = study.lsoa
    rate = idaci_rate(lsoa)
    assert rate.name == IDACI_RATE
    assert rate.index.equals(lsoa.index)
    suppressed = lsoa[C.IDACI_NUMERATOR].isna()
    assert suppressed.sum() > 0  # the bundled data has suppressed numerators
    assert rate[suppressed].isna().all()  # never zero
    ok = rate.dropna()
    assert ok.between(0, 1).all()
    assert len(ok) == (~suppressed & (lsoa[C.CHILDREN_0_15] > 0)).sum()
    np.testing.assert_allclose(ok, (lsoa[C.IDACI_NUMERATOR] / lsoa[C.CHILDREN_0_15])[ok.index])


def test_idaci_rate_small():
    df = pd.DataFrame(
        {
            C.LSOA_CODE: ["a", "b", "c", "d"],
            C.IDACI_NUMERATOR: [30.0, np.nan, 0.0, 5.0],
            C.CHILDREN_0_15: [120, 80, 50, 0],
        }
    )
    r = idaci_rate(df)
    assert r.iloc[0] == 0.25
    assert np.isnan(r.iloc[1])  # suppressed -> NaN
    assert r.iloc[2] == 0.0  # a real zero stays zero
    assert np.isnan(r.iloc[3])  # no children -> undefined


def test_idaci_rate_errors():
    with pytest.raises(InputError, match=r"no column\(s\) 'idaci_numerator'.*\[deprivation\] indicators"):
        idaci_rate(pd.DataFrame({C.CHILDREN_0_15: [1]}))
    df = pd.DataFrame({C.LSOA_CODE: ["x", "y"], C.IDACI_NUMERATOR: [1.0, -2.0], C.CHILDREN_0_15: [5, 5]})
    with pytest.raises(InputError, match=r"row 2 \(LSOA 'y'\), column 'idaci_numerator': -2\.0 is negative"):
        idaci_rate(df)
