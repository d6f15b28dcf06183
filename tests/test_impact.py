"""WDD and its harm form against Wheeler & Ratcliffe's worked examples; before/after against control."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from scipy import stats

from hotspots.errors import HotspotsWarning, InputError
from hotspots.evaluate.impact import IMPACT_COLUMNS, impact_areas, intervention_impact
from hotspots.evaluate.wdd import ratio_vs_control, wdd, wdd_harm

# Wheeler & Ratcliffe (2018), Crime Science 7:11, worked example, as pinned in the ptools test suite
# (apwheele/ptools tests/testthat/test-wdd.R, "Est & Variance Paper"):
#   ptools::wdd(control = c(308, 318), treated = c(207, 110), disp_control = c(150, 140),
#               disp_treated = c(178, 157), alpha = 0.05)  ->  -118, sqrt(1568), Z -2.98, CI -196 .. -40
PAPER = {"treated": (207, 110), "control": (308, 318), "displacement": (178, 157), "displacement_control": (150, 140)}


def test_wdd_reproduces_the_paper_example():
    r = wdd(PAPER["treated"], PAPER["control"], PAPER["displacement"], PAPER["displacement_control"])
    assert r.estimate == -118
    assert r.se == pytest.approx(np.sqrt(1568))
    assert round(r.z, 2) == -2.98
    assert (round(r.lower), round(r.upper)) == (-196, -40)
    assert r.local == (110 - 207) - (318 - 308)
    assert r.displacement == (157 - 178) - (140 - 150)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(118 / np.sqrt(1568)))


def test_wdd_ptools_small_examples():
    # ptools tests "Local -10", "Displacement -10", "Total -20"
    assert wdd((20, 10), (20, 20)).local == -10
    assert wdd((20, 20), (20, 20), (20, 10), (20, 20)).displacement == -10
    assert wdd((20, 10), (20, 20), (20, 10), (20, 20)).estimate == -20


def test_wdd_time_weights_blog_example():
    # Wheeler (2021) "The WDD test with different pre/post time periods": treated 80 -> 20,
    # control 100 -> 50, two years before and one after: -20 crimes per year, variance 115
    r = wdd((80, 20), (100, 50), time_weights=(2, 1))
    assert r.estimate == pytest.approx(-20)
    assert r.se**2 == pytest.approx(115)


def test_wdd_area_weights_ptools_example():
    # ptools test "Area Weights": area_weights = c(0.9, 1.2, 1.6, 1.5) for control, treated,
    # disp_control, disp_treated -> -99.69444444, 35.4280755, -2.813995483, -169.1321965, -30.25669241
    r = wdd(
        PAPER["treated"],
        PAPER["control"],
        PAPER["displacement"],
        PAPER["displacement_control"],
        area_weights={"control": 0.9, "treated": 1.2, "displacement_control": 1.6, "displacement": 1.5},
    )
    np.testing.assert_allclose(
        [r.estimate, r.se, r.z, r.lower, r.upper],
        [-99.69444444, 35.4280755, -2.813995483, -169.1321965, -30.25669241],
        rtol=1e-8,
    )


def test_wdd_harm_equals_ptools_wdd_harm_example():
    # ptools::wdd_harm example: robbery wdd(c(20,20), c(20,10)), burglary wdd(c(30,30), c(25,20)),
    # theft wdd(c(80,60), c(70,20)), weights 10, 5, 1. By its formula (sum of w*est, sum of w^2*var):
    # estimate 10*(-10) + 5*(-5) + 1*(-30) = -155, variance 100*70 + 25*105 + 1*230 = 9855.
    rob, burg, theft = 10.0, 5.0, 1.0
    t = ([rob] * 20 + [burg] * 25 + [theft] * 70, [rob] * 10 + [burg] * 20 + [theft] * 20)
    c = ([rob] * 20 + [burg] * 30 + [theft] * 80, [rob] * 20 + [burg] * 30 + [theft] * 60)
    r = wdd_harm(t, c, confidence=0.9)
    assert r.estimate == -155
    assert r.se**2 == pytest.approx(9855)
    assert r.lower == pytest.approx(-155 - stats.norm.ppf(0.95) * np.sqrt(9855))
    # with every weight 1 the harm WDD is the count WDD
    ones = wdd_harm(([1.0] * 207, [1.0] * 110), ([1.0] * 308, [1.0] * 318))
    assert ones.estimate == wdd((207, 110), (308, 318)).estimate and ones.se == wdd((207, 110), (308, 318)).se


def test_wdd_null_calibration_by_simulation():
    """Under no effect (equal expected counts everywhere) the WDD z is about standard normal."""
    rng = np.random.default_rng(3)
    sims = 20000
    t0, t1, c0, c1 = (rng.poisson(150, sims) for _ in range(4))
    z = ((t1 - t0) - (c1 - c0)) / np.sqrt(t0 + t1 + c0 + c1)
    assert abs((np.abs(z) > 1.96).mean() - 0.05) < 0.006


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (((10, 5), (10, 10), (3, 3)), {}, r"give both displacement and displacement_control"),
        (((10, -5), (10, 10)), {}, r"treated counts must be numbers >= 0"),
        (((10,), (10, 10)), {}, r"treated must be a \(before, after\) pair"),
        (((10, 5), (10, 10)), {"time_weights": (0, 1)}, r"time and area weights must be positive"),
        (((10, 5), (10, 10)), {"area_weights": {"treatd": 2}}, r"area_weights has unknown area\(s\) \['treatd'\]"),
    ],
)
def test_wdd_errors(args, kwargs, match):
    with pytest.raises(InputError, match=match):
        wdd(*args, **kwargs)


def test_ratio_vs_control_counts_is_fisher_exact():
    r = ratio_vs_control((100, 60), (300, 290))
    table = [[60, 100], [290, 300]]
    assert r.p_value == pytest.approx(stats.fisher_exact(table).pvalue)
    ci = stats.contingency.odds_ratio(table, kind="conditional").confidence_interval()
    assert (r.lower, r.upper) == pytest.approx((ci.low, ci.high))
    assert r.ratio == pytest.approx((60 / 100) / (290 / 300))
    assert (r.treated_change_pct, round(r.control_change_pct, 3)) == (-40.0, -3.333)


def test_ratio_vs_control_harm_is_wald_with_compound_variance():
    r = ratio_vs_control((200.0, 120.0), (600.0, 580.0), treated_sq=(500.0, 300.0), control_sq=(1500.0, 1450.0))
    se = np.sqrt(500 / 200**2 + 300 / 120**2 + 1500 / 600**2 + 1450 / 580**2)
    ratio = (120 / 200) / (580 / 600)
    assert r.upper == pytest.approx(ratio * np.exp(stats.norm.ppf(0.975) * se))
    with pytest.raises(InputError, match=r"give both treated_sq and control_sq"):
        ratio_vs_control((1, 2), (3, 4), treated_sq=(1, 2))


def square(x0, y0, side):
    return shapely.box(x0, y0, x0 + side, y0 + side)


def test_impact_areas_rings_and_errors():
    areas = impact_areas(square(0, 0, 100), square(1000, 0, 100), buffer_m=50)
    assert areas["displacement"].area == pytest.approx(shapely.buffer(square(0, 0, 100), 50).area - 100 * 100)
    assert not areas["displacement"].intersects(shapely.Point(50, 50))
    with pytest.raises(InputError, match=r"the treated and control areas overlap"):
        impact_areas(square(0, 0, 100), square(50, 0, 100))
    with pytest.raises(InputError, match=r"positive number of metres, got -5"):
        impact_areas(square(0, 0, 100), square(1000, 0, 100), buffer_m=-5)
    with pytest.warns(HotspotsWarning, match=r"displacement ring of one area overlaps the other area"):
        impact_areas(square(0, 0, 100), square(120, 0, 100), buffer_m=50)


def test_intervention_impact_row_on_planted_points():
    """Points laid out by hand: 40 -> 20 in the treated square, 40 -> 40 in the control, 10 -> 15 in the ring."""
    pts, months = [], []

    def put(x, y, n, month):
        pts.extend([(x, y)] * n)
        months.extend([month] * n)

    put(50, 50, 40, "2021-01")
    put(50, 50, 20, "2021-04")
    put(1050, 50, 40, "2021-02")
    put(1050, 50, 40, "2021-05")
    put(130, 50, 10, "2021-03")  # displacement ring (30 m outside the treated square)
    put(130, 50, 15, "2021-06")
    put(50, 50, 99, "2020-06")  # outside both periods: ignored
    row = intervention_impact(
        "test scheme",
        np.array(pts, dtype=float),
        np.array(months),
        treated=square(0, 0, 100),
        control=square(1000, 0, 100),
        start="2021-04",
        months=3,
        buffer_m=50,
    )
    assert list(row) == IMPACT_COLUMNS
    assert (row["treated_before"], row["treated_after"], row["control_before"], row["control_after"]) == (
        40,
        20,
        40,
        40,
    )
    assert (row["displacement_before"], row["displacement_after"]) == (10, 15)
    assert (row["displacement_control_before"], row["displacement_control_after"]) == (0, 0)
    assert row["wdd"] == (20 - 40) - (40 - 40) + (15 - 10) - 0
    assert row["wdd_se"] == pytest.approx(np.sqrt(40 + 20 + 40 + 40 + 10 + 15))
    assert row["before"] == "2021-01..2021-03" and row["after"] == "2021-04..2021-06"
    assert 0 < row["mde_pct"] < 100
    assert row["verdict"] == "no clear difference from the control trend (p = 0.24)"


def test_intervention_impact_errors():
    xy = np.zeros((1, 2))
    with pytest.raises(InputError, match=r"measure='harm' needs each incident's harm weight"):
        intervention_impact(
            "x",
            xy,
            ["2021-01"],
            treated=square(0, 0, 1),
            control=square(5, 5, 1),
            start="2021-02",
            months=1,
            measure="harm",
        )
    with pytest.raises(InputError, match=r"xy must be an n x 2 array"):
        intervention_impact(
            "x",
            np.zeros(3),
            ["2021-01"] * 3,
            treated=square(0, 0, 1),
            control=square(5, 5, 1),
            start="2021-02",
            months=1,
        )


def test_intervention_without_control_tests_the_treated_area_alone():
    xy = np.array([(50.0, 50.0)] * 60)
    months = np.array(["2021-01"] * 40 + ["2021-04"] * 20)
    row = intervention_impact("alone", xy, months, treated=square(0, 0, 100), start="2021-04", months=3)
    assert (row["treated_before"], row["treated_after"]) == (40, 20)
    assert np.isnan(row["wdd"]) and np.isnan(row["control_before"]) and np.isnan(row["ratio_vs_control"])
    assert row["treated_p"] == pytest.approx(stats.binomtest(20, 60, 0.5).pvalue)
    assert row["treated_change_pct"] == pytest.approx(-50.0)
    assert row["verdict"].startswith("no control area: the treated area alone shows a 50 % fall (p = 0.01")
    assert 0 < row["mde_pct"] < 100
    with pytest.raises(InputError, match=r"a displacement buffer needs a control area"):
        intervention_impact("alone", xy, months, treated=square(0, 0, 100), start="2021-04", months=3, buffer_m=50)


def test_intervention_harm_row_uses_harm_sums_and_sum_of_squares():
    pts = [(50.0, 50.0)] * 30 + [(1050.0, 50.0)] * 30
    months = ["2021-01"] * 10 + ["2021-04"] * 20 + ["2021-01"] * 15 + ["2021-04"] * 15
    harm = np.array([4.0] * 10 + [1.0] * 20 + [1.5] * 30)
    row = intervention_impact(
        "harm",
        np.array(pts),
        np.array(months),
        treated=square(0, 0, 100),
        control=square(1000, 0, 100),
        start="2021-04",
        months=3,
        harm=harm,
        measure="harm",
    )
    assert (row["treated_before"], row["treated_after"]) == (40.0, 20.0)
    assert row["wdd"] == (20 - 40) - (22.5 - 22.5)
    assert row["wdd_se"] == pytest.approx(np.sqrt(10 * 16 + 20 * 1 + 30 * 1.5**2))
    assert row["verdict"].startswith("20 less harm than the control trend predicts") or "no clear" in row["verdict"]
