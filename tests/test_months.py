"""Month lists, periods, exposure and seasonal matching."""

from __future__ import annotations

import warnings

import pytest

from hotspots.errors import HotspotsWarning, InputError
from hotspots.months import (
    check_periods,
    format_months,
    intervention_periods,
    months_with_data,
    overlap,
    parse_months,
    seasonal_match,
)

DATA_2020 = [f"2020-{m:02d}" for m in range(1, 13)]


def test_parse_ranges_and_single_months():
    assert parse_months("2020-01..2020-03,2020-09") == ["2020-01", "2020-02", "2020-03", "2020-09"]
    assert parse_months(" 2020-11 .. 2021-02 ") == ["2020-11", "2020-12", "2021-01", "2021-02"]
    assert parse_months(["2020-05", "2020-01..2020-02"]) == ["2020-01", "2020-02", "2020-05"]
    assert parse_months("2020-04..2020-04") == ["2020-04"]


def test_format_round_trip():
    months = parse_months("2020-01..2020-06,2020-09,2021-01..2021-02")
    assert format_months(months) == "2020-01..2020-06,2020-09,2021-01..2021-02"
    assert parse_months(format_months(months)) == months


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("", r"--before is empty"),
        ("   ", r"--before is empty"),
        ([], r"--before is empty"),
        ("2020-13", r"'2020-13' is not a month"),
        ("2020-1", r"'2020-1' is not a month"),
        ("Jan 2020", r"'Jan 2020' is not a month"),
        ("2020-01...2020-03", r"is not a month"),
        ("2020-06..2020-01", r"range '2020-06..2020-01' runs backwards .* write it as '2020-01..2020-06'"),
        ("2020-01..2020-03,2020-02", r"month 2020-02 is listed twice \(in '2020-01..2020-03' and '2020-02'\)"),
        ("2020-01,2020-01", r"month 2020-01 is listed twice"),
        ("2020-01,,2020-02", r"empty item between commas"),
        (5, r"must be text"),
    ],
)
def test_parse_errors(spec, match):
    with pytest.raises(InputError, match=match):
        parse_months(spec, what="--before")


def test_overlap_and_months_with_data():
    assert overlap(["2020-01", "2020-02"], ["2020-02", "2020-03"]) == ["2020-02"]
    assert overlap(["2020-01"], ["2020-02"]) == []
    assert months_with_data(["2020-01", "2020-03", None, "2020-03"], ["2020-01", "2020-02", "2020-03"]) == [
        "2020-01",
        "2020-03",
    ]


def test_check_periods_exposure_is_months_with_data():
    inc = [m for m in DATA_2020 if m != "2020-05"]  # a source with May missing
    with pytest.warns(HotspotsWarning, match=r"--before: 1 of its 6 months have no data \(2020-05\)"):
        p = check_periods("2020-01..2020-06", "2020-07..2020-12", incident_months=inc)
    assert (p.before_months, p.after_months) == (5, 6)
    assert p.before_missing == ["2020-05"]
    assert p.before == parse_months("2020-01..2020-06")


def test_check_periods_clean_case_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = check_periods("2020-01..2020-06", "2020-07..2020-12", incident_months=DATA_2020)
    assert (p.before_months, p.after_months) == (6, 6)


@pytest.mark.parametrize(
    ("before", "after", "match"),
    [
        ("2020-01..2020-06", "2020-06..2020-12", r"--before and --after overlap in 1 month\(s\) \(2020-06\)"),
        ("2020-01..2020-06", "", r"--after is empty"),
        (
            "2019-01..2019-12",
            "2020-01..2020-12",
            r"--before \(2019-01..2019-12\) has no month with data: .* 2020-01 to 2020-12",
        ),
        ("2020-01..2020-06", "2023-01..2023-06", r"--after \(2023-01..2023-06\) has no month with data"),
    ],
)
def test_check_periods_errors(before, after, match):
    with pytest.raises(InputError, match=match):
        check_periods(before, after, incident_months=DATA_2020)


def test_check_periods_equal_length():
    with pytest.raises(InputError, match=r"has 6 months with data and .* has 3; the WDD test compares equal periods"):
        check_periods("2020-01..2020-06", "2020-07..2020-09", incident_months=DATA_2020, equal_length=True)


def test_intervention_periods():
    assert intervention_periods("2021-02", months=3) == (
        ["2020-11", "2020-12", "2021-01"],
        ["2021-02", "2021-03", "2021-04"],
    )
    with pytest.raises(InputError, match=r"whole number of months >= 1, got 0"):
        intervention_periods("2021-02", months=0)
    with pytest.raises(InputError, match=r"'2021-2' is not a month"):
        intervention_periods("2021-2", months=3)


def test_seasonal_match():
    assert seasonal_match(parse_months("2020-01..2020-12"), parse_months("2022-01..2022-12")).matched
    s = seasonal_match(parse_months("2020-01..2020-06"), parse_months("2020-07..2020-12"))
    assert not s.matched
    assert s.before_only == [1, 2, 3, 4, 5, 6]
    assert s.after_only == [7, 8, 9, 10, 11, 12]
    assert "not matched by calendar month" in s.note
    # two Januaries against one is not matched
    s2 = seasonal_match(["2019-01", "2020-01"], ["2021-01"])
    assert not s2.matched and s2.before_only == [1] and s2.after_only == []
