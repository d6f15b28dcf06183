"""Time done right: month gaps at load, backtest folds that never zero-fill, explicit --train/--test."""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

import hotspots.evaluate.rolling as E
from hotspots import columns as C
from hotspots.errors import HotspotsWarning, InputError
from hotspots.evaluate.folds import calendar, explicit_fold, rolling_folds
from hotspots.months import longest_run, missing_months, month_runs
from hotspots.prepare.coverage import month_gap_caveats, source_area
from hotspots.prepare.study import coverage_table
from hotspots.units import make_grid

JULYS = ["2016-07", "2017-07", "2018-07"]


def months_of(first: str, last: str) -> list[str]:
    return [str(p) for p in pd.period_range(first, last, freq="M")]


# --------------------------------------------------------------------------------------
# month runs and gaps
# --------------------------------------------------------------------------------------


def test_month_runs_gaps_and_the_longest_run():
    assert month_runs(JULYS) == [["2016-07"], ["2017-07"], ["2018-07"]]
    assert len(missing_months(JULYS)) == 22
    assert longest_run(JULYS) == ["2018-07"]  # the latest of equally long runs
    ms = [*months_of("2020-01", "2020-04"), *months_of("2020-06", "2020-12")]
    assert missing_months(ms) == ["2020-05"] and longest_run(ms) == months_of("2020-06", "2020-12")
    assert missing_months([]) == [] and longest_run([]) == [] and month_runs([]) == []
    assert calendar(JULYS) == months_of("2016-07", "2018-07")


def test_month_gaps_are_reported_per_source_at_load():
    df = pd.DataFrame(
        {
            C.SOURCE: ["julys"] * 3 + ["full"] * 3,
            C.MONTH: [*JULYS, "2020-01", "2020-02", "2020-03"],
            C.SCOPE: "violence_sexual",
            C.LSOA_CODE: "E01000001",
        }
    )
    caveats = month_gap_caveats(df)
    assert len(caveats) == 1 and caveats[0].startswith("Source julys has data for 3 months between 2016-07 and")
    assert "none for 22 months (2016-08..2017-06, 2017-08..2018-06)" in caveats[0]
    cov = coverage_table(df).set_index("source")
    assert cov.loc["julys", "missing_months"] == 22 and cov.loc["full", "missing_months"] == 0


def test_source_area_keeps_the_districts_a_source_covers(study):
    city = study.incidents[study.incidents[C.SOURCE] == "city_violence_2020"]
    geom, districts = source_area(city, study.lsoa)
    assert districts == ["Nottingham"]
    assert geom.area < 0.1 * shapely.union_all(study.lsoa.geometry.values).area
    _, all_districts = source_area(study.incidents[study.incidents[C.SOURCE] == "police_uk"], study.lsoa)
    assert len(all_districts) == 8


# --------------------------------------------------------------------------------------
# folds
# --------------------------------------------------------------------------------------


def test_rolling_folds_on_a_complete_series_are_the_usual_ones():
    ms = months_of("2020-01", "2020-12")
    folds, skipped = rolling_folds(ms, ms, horizons=(1, 3), min_train=3)
    assert not skipped
    assert [f.horizon for f in folds].count(1) == 9 and [f.horizon for f in folds].count(3) == 7
    f = next(f for f in folds if f.horizon == 3)
    assert (f.train, f.test, f.last) == (months_of("2020-01", "2020-03"), months_of("2020-04", "2020-06"), f.train)


def test_rolling_folds_skip_windows_with_missing_months():
    ms = months_of("2020-01", "2020-12")
    data = [m for m in ms if m != "2020-05"]
    folds, skipped = rolling_folds(ms, data, horizons=(1,), min_train=3)
    tests = [f.test[0] for f in folds]
    assert "2020-05" not in tests and "2020-06" not in tests and len(folds) == 7
    assert [s.test for s in skipped] == [["2020-05"], ["2020-06"]]
    assert "no data in test month(s) 2020-05" in skipped[0].reason
    assert "no data in 2020-05, the month before the test window" in skipped[1].reason
    assert all("2020-05" not in f.train + f.last for f in folds)  # never a zero month in training
    folds3, _ = rolling_folds(ms, data, horizons=(3,), min_train=3)
    aug = next(f for f in folds3 if f.test[0] == "2020-08")
    assert aug.last == ["2020-04", "2020-06", "2020-07"]  # the last three training months with data
    folds, _ = rolling_folds(calendar(JULYS), JULYS, horizons=(1, 3), min_train=1)
    assert folds == []


def test_explicit_fold():
    data = ["2016-07", "2017-07", "2018-07"]
    f = explicit_fold("2016-07,2017-07", "2018-07", with_data=data)
    assert (f.train, f.test, f.last, f.horizon) == (["2016-07", "2017-07"], ["2018-07"], ["2017-07"], 1)
    with pytest.warns(HotspotsWarning, match=r"--train: 1 of its 3 months have no data \(2015-07\)"):
        f = explicit_fold("2015-07,2016-07,2017-07", "2018-07", with_data=data)
    assert f.train == ["2016-07", "2017-07"]
    with pytest.raises(InputError, match=r"--test \(2019-07\) has no month with data: the source covers 2016-07 to"):
        explicit_fold("2016-07", "2019-07", with_data=data)
    with pytest.raises(InputError, match=r"--train ends 2018-07, after the first test month 2017-07"):
        explicit_fold("2016-07,2018-07", "2017-07", with_data=data)
    with pytest.raises(InputError, match=r"--train and --test share 2017-07"):
        explicit_fold("2016-07..2017-07", "2017-07", with_data=data)
    with pytest.raises(InputError, match=r"--train: '2016/07' is not a month"):
        explicit_fold("2016/07", "2017-07", with_data=data)


# --------------------------------------------------------------------------------------
# the backtest on gapped synthetic data
# --------------------------------------------------------------------------------------


def planted(months: list[str], seed: int = 0) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """SYNTHETIC: each month 30 incidents in one hot 100 m cell and 10 scattered over 2 x 2 km."""
    rng = np.random.default_rng(seed)
    frames = []
    for m in months:
        xs = np.r_[rng.uniform(1000, 1100, 30), rng.uniform(0, 2000, 10)]
        ys = np.r_[rng.uniform(1000, 1100, 30), rng.uniform(0, 2000, 10)]
        frames.append(pd.DataFrame({C.MONTH: m, C.HARM: 1.0, "x": xs, "y": ys}))
    df = pd.concat(frames, ignore_index=True)
    inc = gpd.GeoDataFrame(df.drop(columns=["x", "y"]), geometry=gpd.points_from_xy(df.x, df.y), crs=C.CRS)
    return inc, make_grid(shapely.box(0, 0, 2000, 2000), cell_size=100)


def test_backtest_skips_folds_without_data_with_a_warning():
    ms = [m for m in months_of("2020-01", "2020-12") if m != "2020-07"]
    inc, grid = planted(ms)
    with pytest.warns(HotspotsWarning, match=r"fold\(s\) skipped because months have no data .*test 2020-07"):
        res = E.backtest(inc, grid, methods=("counts", "last_period", "random"), coverages=(0.0025,), bandwidth=150)
    assert not (res[E.TEST_MONTHS].str.contains("2020-07")).any()
    assert not (res[E.TRAIN_MONTHS].str.contains("2020-07")).any()
    assert (res[E.TEST_TOTAL] > 0).all()
    assert {s["test"] for s in res.attrs["skipped"]} >= {"2020-07", "2020-08"}
    # last period: the hot cell is caught every fold, never "equal to random"
    lp = res[res[E.METHOD] == "last_period"]
    assert (lp[E.PAI] > 50).all()


def test_three_julys_need_explicit_months():
    inc, grid = planted(JULYS)
    with pytest.raises(InputError, match=r"no fold of the backtest has data in every month it needs: .*--train"):
        E.backtest(inc, grid, min_train_months=1)
    res = E.backtest(inc, grid, train="2016-07,2017-07", test="2018-07", coverages=(0.0025,), bandwidth=150)
    assert res[E.FOLD].unique().tolist() == [1] and res[E.TRAIN_MONTHS].iloc[0] == "2016-07,2017-07"
    lp = res[res[E.METHOD] == "last_period"].iloc[0]
    rnd = res[res[E.METHOD] == "random"].iloc[0]
    assert lp[E.PAI] > 10 * rnd[E.PAI] and lp[E.TRAIN_TOTAL] == 80  # two training months of 40
    with pytest.raises(InputError, match=r"give both --train and --test"):
        E.backtest(inc, grid, train="2016-07")


def test_cli_evaluate_with_explicit_months(tmp_path):
    from hotspots.cli import main

    out = tmp_path / "run"
    args = ["evaluate", "--out", str(out), "--train", "2020-01..2020-09", "--test", "2020-10..2020-12"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert "one fold: train 2020-01..2020-09, test 2020-10..2020-12" in r.output
    assert "12 months with data; gaps: none" in r.output
    rep = json.loads((out / "evaluation.json").read_text())
    assert rep["folds_explicit"] is True and len(rep["folds"]) == 1 and rep["folds_skipped"] == []
    assert rep["incidents"]["month_gaps"] == "none"
    # NOTES.md anchor: counts on 100 m cells, PEI* at 5 % = 0.70 (Jan-Sep -> Oct-Dec)
    pei = [m["pei"] for m in rep["metrics"] if m["method"] == "counts" and m["coverage"] == 0.05]
    assert pei == [pytest.approx(0.70, abs=0.04)]
    r = CliRunner().invoke(main, ["evaluate", "--out", str(out), "--train", "2020-01"])
    assert r.exit_code == 2 and "give both --train and --test" in r.output
    r = CliRunner().invoke(main, ["evaluate", "--out", str(out), "--train", "2020-13", "--test", "2020-12"])
    assert r.exit_code == 2 and "error: --train: '2020-13' is not a month" in r.output


def test_evaluation_json_names_skipped_folds(study):
    inc = study.incidents[study.incidents[C.SOURCE] == "city_violence_2020"]
    gapped = inc[inc[C.MONTH] != "2020-06"]
    grid = make_grid(source_area(inc, study.lsoa)[0], cell_size=250)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = E.backtest(gapped, grid, methods=("counts", "random"), coverages=(0.05,), horizons=(3,))
    assert any("skipped because months have no data" in str(w.message) for w in caught)
    tests = set(res[E.TEST_MONTHS])
    # k = 3..9 minus the three test windows holding June and the one starting right after it
    assert not any("2020-06" in t for t in tests) and len(tests) == 3
