"""Tests of the rank-interval backtest, including the coverage requirement on the bundled City violence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hotspots import columns as C
from hotspots.errors import HotspotsWarning, InputError
from hotspots.evaluate.rank_backtest import (
    RANK_BACKTEST_COLUMNS,
    RANK_SUMMARY_COLUMNS,
    format_rank_backtest,
    rank_interval_backtest,
    summarise_rank_backtest,
)
from hotspots.rank.eb import Dispersion
from hotspots.rank.monthly import monthly_harm

MONTHS_2020 = [f"2020-{i:02d}" for i in range(1, 13)]


@pytest.fixture(scope="module")
def city_violence(study):
    """(monthly harm matrix, marks) of the bundled 2020 City violence on the City district's 182 LSOAs."""
    codes = study.lsoa.loc[study.lsoa[C.DISTRICT] == "Nottingham", C.LSOA_CODE].astype(str).tolist()
    inc = study.incidents
    inc = inc[(inc[C.SOURCE] == "city_violence_2020") & inc[C.LSOA_CODE].isin(codes)]
    return monthly_harm(inc, codes, MONTHS_2020), inc[C.HARM].to_numpy(dtype=float)


def test_city_violence_rank_interval_coverage_is_between_085_and_095(city_violence):
    """The issue's requirement, on the full rolling backtest (2020, 182 City LSOAs, 1,000 draws)."""
    m, marks = city_violence
    assert m.shape == (182, 12) and m.sum() == 13_229
    res = rank_interval_backtest(m, months=MONTHS_2020, marks=marks, horizons=(1, 3), draws=1000, seed=0)
    assert list(res.columns) == RANK_BACKTEST_COLUMNS
    assert len(res) == 9 + 7  # next month: train 3..11 months; next quarter: 3..9
    summ = summarise_rank_backtest(res).set_index("horizon")
    assert list(summ.reset_index().columns) == RANK_SUMMARY_COLUMNS
    for h in (1, 3):
        assert 0.85 <= summ.loc[h, "rank_interval_coverage"] <= 0.95, summ
        assert summ.loc[h, "median_width"] < 182  # not the whole range
    # the Poisson model of today leaves out overdispersion and covers less
    pois = summarise_rank_backtest(
        rank_interval_backtest(m, months=MONTHS_2020, marks=marks, horizons=(1,), dispersion=Dispersion())
    )
    assert pois["rank_interval_coverage"].iloc[0] < summ.loc[1, "rank_interval_coverage"]
    text = format_rank_backtest(summarise_rank_backtest(res), title="city violence")
    assert "next month" in text and "next quarter" in text


def test_monthly_harm_conserves_harm_and_ignores_other_places_and_months():
    inc = pd.DataFrame(
        {
            "lsoa_code": ["A", "A", "B", "C", "B"],
            "month": ["2020-01", "2020-02", "2020-02", "2020-01", "2019-12"],
            "harm": [1.0, 4.0, 1.5, 9.0, 2.0],
        }
    )
    m = monthly_harm(inc, ["A", "B"], ["2020-01", "2020-02"])
    np.testing.assert_array_equal(m, [[1.0, 4.0], [0.0, 1.5]])
    np.testing.assert_array_equal(
        monthly_harm(inc, ["A", "B"], ["2020-01", "2020-02"], weights="count"), [[1.0, 1.0], [0.0, 1.0]]
    )
    with pytest.raises(InputError, match=r"incidents lack column.*'harm'"):
        monthly_harm(inc.drop(columns="harm"), ["A"], ["2020-01"])
    with pytest.raises(InputError, match="`weights` must be 'harm' or 'count'"):
        monthly_harm(inc, ["A"], ["2020-01"], weights="score")


def test_backtest_uses_only_training_months_for_the_interval():
    # a test month that explodes in one place cannot change that fold's interval
    rng = np.random.default_rng(0)
    m = rng.poisson(3.0, size=(50, 5)).astype(float)
    m2 = m.copy()
    m2[7, 4] = 500.0
    a = rank_interval_backtest(m, horizons=(1,), min_train_months=4, draws=200)
    b = rank_interval_backtest(m2, horizons=(1,), min_train_months=4, draws=200)
    assert a["median_width"].iloc[0] == b["median_width"].iloc[0]
    assert a["phi"].iloc[0] == b["phi"].iloc[0]


@pytest.mark.parametrize(
    ("monthly", "kwargs", "match"),
    [
        (np.ones(4), {}, r"places x months \(2-D\)"),
        (-np.ones((3, 6)), {}, "negative or non-finite"),
        (np.ones((3, 3)), {}, "3 months are too few"),
        (np.ones((3, 6)), {"horizons": (0,)}, "`horizons` must be whole numbers of months >= 1"),
        (np.ones((3, 6)), {"min_train_months": 1}, "`min_train_months` must be a whole number >= 2"),
        (np.ones((3, 6)), {"months": ["a"]}, "1 month labels for 6 months"),
        (np.ones((3, 6)), {"dispersion": "guess"}, "`dispersion` must be 'estimate' or a Dispersion"),
    ],
)
def test_backtest_errors(monthly, kwargs, match):
    with pytest.raises(InputError, match=match):
        rank_interval_backtest(monthly, draws=10, **kwargs)


def test_summarise_needs_the_backtest_frame():
    with pytest.raises(InputError, match="results lack"):
        summarise_rank_backtest(pd.DataFrame({"horizon": [1]}))


def test_folds_without_incidents_are_skipped_with_a_warning():
    rng = np.random.default_rng(2)
    m = rng.poisson(2.0, size=(30, 8)).astype(float)
    m[:, 5] = 0.0  # a month with no incident at all (e.g. a gap in the source)
    with pytest.warns(HotspotsWarning, match=r"1 fold\(s\) with no incidents .* skipped: 6\.\.6 \(horizon 1\)"):
        res = rank_interval_backtest(m, horizons=(1,), draws=50)
    assert len(res) == 4 and res.attrs["skipped_folds"] == ["6..6 (horizon 1)"]


def test_rank_interval_evaluation_reports_coverage_and_width(study):
    from hotspots.evaluate.rank_backtest import rank_interval_evaluation

    codes = study.lsoa.loc[study.lsoa[C.DISTRICT] == "Nottingham", C.LSOA_CODE].tolist()
    inc = study.incidents[study.incidents[C.SOURCE] == "city_violence_2020"]
    ev = rank_interval_evaluation(inc, codes, MONTHS_2020, horizons=(1,), draws=200)
    cov = ev["report"]["rank_interval_coverage"]["1"]
    assert 0.85 <= cov <= 0.95
    assert ev["report"]["rank_interval_median_width"]["1"] > 0
    assert "next month" in ev["text"] and ev["report"]["rank_intervals"]["places"] == 182
