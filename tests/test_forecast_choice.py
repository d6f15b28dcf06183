"""Tests of hotspots.evaluate.forecast.choice: paired differences, the nested choice, the verdict."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hotspots.errors import InputError
from hotspots.evaluate.forecast import choice as CH
from hotspots.evaluate.measures import PEI
from hotspots.evaluate.rolling import COVERAGE, FOLD, HORIZON, METHOD, TEST_END, TEST_START, TRAIN_END


def results_frame(values: dict[str, list[float]], *, horizon: int = 1, coverage: float = 0.05) -> pd.DataFrame:
    """A backtest-like frame: one row per fold and method, monthly folds from 2020-03."""
    rows = []
    for m, vals in values.items():
        for i, v in enumerate(vals):
            k = 3 + i
            rows.append(
                {
                    HORIZON: horizon,
                    FOLD: i + 1,
                    "train_start": "2020-01",
                    TRAIN_END: f"2020-{k:02d}",
                    TEST_START: f"2020-{k + 1:02d}",
                    TEST_END: f"2020-{k + horizon:02d}",
                    METHOD: m,
                    COVERAGE: coverage,
                    PEI: v,
                }
            )
    return pd.DataFrame(rows)


def test_paired_differences_hand_computed():
    res = results_frame({"counts": [0.5, 0.6, 0.7], "a": [0.6, 0.6, 0.9], "random": [0.1, 0.1, 0.1]})
    p = CH.paired_differences(res)
    assert list(p.columns) == CH.PAIRED_COLUMNS
    a = p[p[METHOD] == "a"].iloc[0]
    d = np.array([0.1, 0.0, 0.2])
    assert a[CH.DIFFERENCE] == pytest.approx(d.mean())
    assert a[CH.SE] == pytest.approx(d.std(ddof=1) / np.sqrt(3))
    assert a[CH.CI_HIGH] == pytest.approx(d.mean() + stats.t.ppf(0.975, 2) * d.std(ddof=1) / np.sqrt(3))
    assert a[CH.FOLDS_WON] == 2 and a[CH.FOLDS] == 3
    assert a[CH.MEAN] == pytest.approx(0.7) and a[CH.BASELINE_MEAN] == pytest.approx(0.6)
    with pytest.raises(InputError, match="no rows of the baseline method 'composite'"):
        CH.paired_differences(res, baseline="composite")
    with pytest.raises(InputError, match=r"results lack columns \['pei'\]"):
        CH.paired_differences(res.drop(columns=[PEI]))


def test_nested_choice_uses_only_finished_earlier_folds():
    # a wins the first two folds, b the last three: the choice follows with one fold's delay
    res = results_frame({"counts": [0.5] * 5, "a": [0.9, 0.8, 0.1, 0.1, 0.1], "b": [0.2, 0.2, 0.9, 0.9, 0.9]})
    n = CH.nested_choice(res)
    assert list(n.columns) == CH.NESTED_COLUMNS
    assert n[CH.CHOSEN].tolist() == ["counts", "a", "a", "a", "b"]
    # fold 4: a's mean over folds 1-3 is 0.6, b's 0.433; fold 5: a 0.475 < b 0.55
    assert n[CH.SCORED].tolist() == [False, True, True, True, True]
    assert n[CH.VALUE].tolist() == pytest.approx([0.5, 0.8, 0.1, 0.1, 0.9])
    s = CH.nested_summary(n)
    assert s[CH.FOLDS].iloc[0] == 4 and s[CH.CHOSEN].iloc[0] == "a x3, b"
    assert s[CH.MEAN].iloc[0] == pytest.approx(np.mean([0.8, 0.1, 0.1, 0.9]))
    assert s[CH.DIFFERENCE].iloc[0] == pytest.approx(np.mean([0.3, -0.4, -0.4, 0.4]))
    # a fold is never chosen on itself or later folds: changing fold 5 changes only fold 5's value
    later = res.copy()
    later.loc[(later[FOLD] == 5) & (later[METHOD] == "a"), PEI] = 1.0
    assert CH.nested_choice(later)[CH.CHOSEN].tolist() == n[CH.CHOSEN].tolist()


def test_nested_choice_quarter_waits_for_the_test_window():
    res = results_frame({"counts": [0.5] * 5, "a": [0.9] * 5}, horizon=3)
    n = CH.nested_choice(res)
    # fold k tests months k+1..k+3: the first fold's window ends 2020-06, usable from the fold trained to 2020-06
    assert n[CH.EARLIER_FOLDS].tolist() == [0, 0, 0, 1, 2]
    assert n[CH.CHOSEN].tolist() == ["counts", "counts", "counts", "a", "a"]
    with pytest.raises(InputError, match=r"no backtest rows at coverage 0\.1"):
        CH.nested_choice(res, coverage=0.1)


def test_recommend_method():
    res = pd.concat(
        [
            results_frame({"counts": [0.5, 0.6], "ensemble": [0.55, 0.65], "composite": [0.9, 0.9]}),
            results_frame({"counts": [0.7, 0.7]}, horizon=3),
        ]
    )
    rec = CH.recommend_method(res, horizon=1)
    assert rec["method"] == "ensemble" and rec["mean"] == pytest.approx(0.6)
    assert rec["best_overall"] == "composite"
    assert CH.recommend_method(res, horizon=3)["method"] == "counts"
    with pytest.raises(InputError, match="no candidate method"):
        CH.recommend_method(res, horizon=3, candidates=("hgb",))


@pytest.mark.parametrize(
    ("a_values", "claim"),
    [
        ([0.60, 0.61, 0.62, 0.60, 0.63, 0.61], CH.BEATS),  # ahead in every fold by about 0.1
        ([0.52, 0.49, 0.51, 0.50, 0.52, 0.49], CH.AS_GOOD),  # +0.005 on average, within the noise
        ([0.49, 0.51, 0.48, 0.50, 0.49, 0.51], CH.NOT_BETTER),  # -0.003, within the noise
        ([0.40, 0.41, 0.42, 0.40, 0.43, 0.41], CH.WORSE),
    ],
)
def test_verdict_says_what_the_numbers_support(a_values, claim):
    res = results_frame({"counts": [0.5] * 6, "a": a_values})
    paired = CH.paired_differences(res)
    nsum = CH.nested_summary(CH.nested_choice(res, candidates=["counts", "a"]))
    v = CH.verdict(paired, nsum, method="a", baseline="counts", horizon=1)
    assert v["claim"] == claim
    d = np.array(a_values) - 0.5
    assert v[CH.DIFFERENCE] == pytest.approx(d.mean()) and v[CH.FOLDS] == 6
    text = CH.verdict_text(v)
    assert text.startswith(f"next month: a {claim} counts: PEI at 5% of the area")
    assert "chosen on earlier folds and scored on later ones" in text


def test_verdict_when_the_recommendation_is_the_baseline():
    res = results_frame({"counts": [0.5] * 4, "a": [0.4] * 4})
    v = CH.verdict(CH.paired_differences(res), None, method="counts", baseline="counts", horizon=1)
    assert v["claim"] == CH.SAME
    assert CH.verdict_text(v) == (
        "next month: counts stays the recommended forecast (no method beat it on the completed folds)"
    )
    assert CH.window_label(3) == "next quarter" and CH.window_label(6) == "next 6 months"
