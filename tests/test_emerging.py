"""Tests of hotspots.detect.emerging: Mann-Kendall vs scipy, classification rules on hand-built
cubes, the exact cube test and the space-time Gi* wiring, planted patterns end to end, consecutive
months and coverage, bad input, real data."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from hotspots.detect import emerging as E
from hotspots.detect.gistar import gistar, grid_weights
from hotspots.errors import HotspotsWarning, InputError
from hotspots.units import CELL_ID, assign_cells, make_grid

T = 12
MONTHS = [f"2020-{m:02d}" for m in range(1, 13)]
CITY_CENTRE = (457_224.0, 339_852.0)  # Old Market Square, Nottingham (BNG)


# --------------------------------------------------------------------------------------
# Mann-Kendall
# --------------------------------------------------------------------------------------


def test_mann_kendall_matches_scipy_kendalltau_with_ties():
    rng = np.random.default_rng(1)
    X = np.vstack([rng.integers(0, 4, (150, T)), rng.normal(size=(50, T)), np.arange(T)[None, :] ** 2])
    tau, p = E.mann_kendall(X)
    for i, row in enumerate(X):
        ref = stats.kendalltau(np.arange(T), row, method="asymptotic")
        if np.isnan(ref.statistic):
            assert tau[i] == 0 and p[i] == 1
        else:
            assert tau[i] == pytest.approx(ref.statistic, abs=1e-12)
            assert p[i] == pytest.approx(ref.pvalue, abs=1e-12)


def test_mann_kendall_direct_formula_small_case():
    x = np.array([1.0, 3.0, 2.0, 2.0, 5.0])
    # S by hand: pairs (i<j) sign(x_j - x_i)
    s = sum(np.sign(x[j] - x[i]) for i in range(5) for j in range(i + 1, 5))
    assert s == 5  # +4 from the 1, -2 +1 from the 3, 0 +1 and +1 from the 2s
    var = (5 * 4 * 15 - 2 * 1 * 9) / 18  # one tie group of 2
    tau, p = E.mann_kendall(x)
    assert p[0] == pytest.approx(2 * stats.norm.sf(5 / np.sqrt(var)))
    assert tau[0] == pytest.approx(5 / np.sqrt(10 * (10 - 1)))


def test_mann_kendall_constant_and_errors():
    tau, p = E.mann_kendall(np.ones((2, 6)))
    assert tau.tolist() == [0.0, 0.0] and p.tolist() == [1.0, 1.0]
    with pytest.raises(InputError, match="at least 3 time steps, got 2"):
        E.mann_kendall([[1, 2]])
    with pytest.raises(InputError, match="NaN or infinity"):
        E.mann_kendall([[1, np.nan, 2]])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=3, max_size=15))
def test_mann_kendall_property(row):
    tau, p = E.mann_kendall(row)
    assert -1 - 1e-12 <= tau[0] <= 1 + 1e-12 and 0 <= p[0] <= 1
    rev_tau, rev_p = E.mann_kendall(row[::-1])
    assert rev_tau[0] == pytest.approx(-tau[0]) and rev_p[0] == pytest.approx(p[0])


# --------------------------------------------------------------------------------------
# classification rules on hand-built cubes
# --------------------------------------------------------------------------------------


def flags(months: list[int]) -> np.ndarray:
    f = np.zeros(T, dtype=bool)
    f[months] = True
    return f


ALL = list(range(T))
CASES = [
    # (name, hot months, cold months, gi_tau, gi_p, expected)
    ("new", [11], [], 0.0, 1.0, E.NEW_HOT),
    ("consecutive", [9, 10, 11], [], 0.5, 0.04, E.CONSECUTIVE_HOT),
    ("intensifying", ALL, [], 0.6, 0.01, E.INTENSIFYING_HOT),
    ("persistent", ALL, [], 0.1, 0.6, E.PERSISTENT_HOT),
    ("persistent with one gap", [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11], [], 0.0, 1.0, E.PERSISTENT_HOT),
    ("diminishing", ALL, [], -0.6, 0.01, E.DIMINISHING_HOT),
    ("sporadic", [2, 5, 11], [], 0.0, 1.0, E.SPORADIC_HOT),
    ("sporadic, 10 of 12", [0, 1, 2, 3, 5, 6, 7, 9, 10, 11], [], 0.0, 1.0, E.SPORADIC_HOT),
    ("sporadic, run after gap", [1, 10, 11], [], 0.0, 1.0, E.SPORADIC_HOT),
    ("oscillating", [5, 11], [1], 0.0, 1.0, E.OSCILLATING_HOT),
    ("historical", list(range(11)), [], -0.3, 0.2, E.HISTORICAL_HOT),
    ("cold before, newly hot (ArcGIS text: new)", [11], [0, 1], 0.0, 1.0, E.NEW_HOT),
    ("no pattern: hot once long ago", [3], [], 0.0, 1.0, E.NO_PATTERN),
    ("no pattern: nothing", [], [], 0.0, 1.0, E.NO_PATTERN),
    ("new cold", [], [11], 0.0, 1.0, E.NEW_COLD),
    ("consecutive cold", [], [10, 11], 0.0, 1.0, E.CONSECUTIVE_COLD),
    ("intensifying cold: z falling", [], ALL, -0.6, 0.01, E.INTENSIFYING_COLD),
    ("persistent cold", [], ALL, 0.0, 1.0, E.PERSISTENT_COLD),
    ("diminishing cold: z rising", [], ALL, 0.6, 0.01, E.DIMINISHING_COLD),
    ("sporadic cold", [], [4, 11], 0.0, 1.0, E.SPORADIC_COLD),
    ("oscillating cold", [3], [7, 11], 0.0, 1.0, E.OSCILLATING_COLD),
    ("historical cold", [], list(range(11)), 0.0, 1.0, E.HISTORICAL_COLD),
    ("final month decides: hot 11 months, cold in the last = new cold", list(range(11)), [11], 0.0, 1.0, E.NEW_COLD),
]


@pytest.mark.parametrize("name, hot, cold, tau, p, expected", CASES, ids=[c[0] for c in CASES])
def test_classification_rules(name, hot, cold, tau, p, expected):
    out = E.classify_emerging(flags(hot)[None, :], flags(cold)[None, :], [tau], [p], alpha=0.05)
    assert out.tolist() == [expected]


def test_every_class_is_reachable_and_vectorised():
    hot = np.vstack([flags(c[1]) for c in CASES])
    cold = np.vstack([flags(c[2]) for c in CASES])
    out = E.classify_emerging(hot, cold, [c[3] for c in CASES], [c[4] for c in CASES])
    assert out.tolist() == [c[5] for c in CASES]
    assert set(out) == set(E.EMERGING_CLASSES)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from([-1, 0, 1]), min_size=T, max_size=T),
    st.floats(-1, 1),
    st.floats(0, 1),
)
def test_classification_invariants(states, tau, p):
    s = np.array(states)
    out = E.classify_emerging((s == 1)[None, :], (s == -1)[None, :], [tau], [p])[0]
    assert out in E.EMERGING_CLASSES
    if s[-1] == 1:
        assert out in E.HOT_CLASSES and out != E.HISTORICAL_HOT
    elif s[-1] == -1:
        assert out in E.COLD_CLASSES and out != E.HISTORICAL_COLD
    if not (s == 1).any():
        assert out not in E.HOT_CLASSES
    if not (s == -1).any():
        assert out not in E.COLD_CLASSES
    if s[-1] == 0 and out != E.NO_PATTERN:
        assert out in (E.HISTORICAL_HOT, E.HISTORICAL_COLD)


def test_classification_bad_input():
    with pytest.raises(InputError, match="both a hot and a cold spot"):
        E.classify_emerging(np.ones((1, 12), bool), np.ones((1, 12), bool), [0], [1])
    with pytest.raises(InputError, match="arrays of one shape"):
        E.classify_emerging(np.ones((1, 12), bool), np.ones((2, 12), bool), [0], [1])


# --------------------------------------------------------------------------------------
# the space-time cube
# --------------------------------------------------------------------------------------


def test_space_time_weights_structure():
    Ws = np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1]])
    W = E.space_time_weights(Ws, 3, time_window=1).toarray()
    assert W.shape == (9, 9)
    # bin (cell 0, month 1) = row 3: cells 0, 1 in months 1 and 0
    assert np.flatnonzero(W[3]).tolist() == [0, 1, 3, 4]
    # month 0 has no earlier month
    assert np.flatnonzero(W[0]).tolist() == [0, 1]
    assert (E.space_time_weights(Ws, 3, time_window=0).toarray() == np.kron(np.eye(3), Ws)).all()


def synthetic(plants: dict[tuple[float, float], list[float]], *, seed: int = 0, background: float = 0.4):
    """Incidents on a 3 km x 3 km area of 100 m cells: Poisson background in every cell and
    month, plus ``plants[(x, y)][t]`` incidents per month in each cell of the 3 x 3 block
    centred on (x, y)."""
    rng = np.random.default_rng(seed)
    grid = make_grid(shapely.box(0, 0, 3_000, 3_000), cell_size=100)
    centres = np.column_stack([grid.centroid.x, grid.centroid.y])
    rows = []
    for t, month in enumerate(MONTHS):
        n = rng.poisson(background, len(grid))
        for (px, py), series in plants.items():
            block = (np.abs(centres[:, 0] - px) < 150) & (np.abs(centres[:, 1] - py) < 150)
            n[block] += int(series[t])
        cell = np.repeat(np.arange(len(grid)), n)
        xy = centres[cell] + rng.uniform(-49, 49, (len(cell), 2))
        rows.append(pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "month": month}))
    df = pd.concat(rows, ignore_index=True)
    inc = gpd.GeoDataFrame(
        {"month": df["month"], "harm": 1.0}, geometry=gpd.points_from_xy(df["x"], df["y"]), crs="EPSG:27700"
    )
    return inc, grid


def cell_at(grid, x, y) -> int:
    return int(np.flatnonzero(grid.contains(shapely.Point(x, y)).to_numpy())[0])


PLANTS = {
    (550.0, 550.0): [0] * 11 + [25],  # new
    (2450.0, 550.0): [10] * 12,  # persistent
    (550.0, 2450.0): [6 + 3 * t for t in range(12)],  # intensifying ...
    (1550.0, 2450.0): [39 - 3 * t for t in range(12)],  # ... balanced by a falling one: month totals stay level
    (2450.0, 2450.0): [10] * 11 + [0],  # historical
    (1550.0, 1550.0): [8, 0, 0, 8, 0, 0, 0, 8, 0, 0, 0, 8],  # sporadic
}
"""Planted series (incidents per month in each cell of a 3 x 3 block) over a background of 2 per cell-month.

The exact test asks whether a bin holds more than its share of *that month's* incidents, so a
block rising while the rest of the area stays level intensifies; the falling block keeps the
monthly totals level so that the persistent block stays persistent."""
BACKGROUND = 2.0


def test_gistar_of_the_cube_matches_the_formula():
    inc, grid = synthetic({(550.0, 550.0): [3] * 12}, seed=2, background=1.0)
    out = E.emerging_hotspots(inc, grid, time_window=1, fdr=False, inference="analytic")
    assert out.attrs["auto"]["cells_analysed"] == len(grid)  # every cell holds an incident
    # rebuild the cube and the Gi* z of the final month of one cell by hand
    pos = assign_cells(inc, grid)
    t = pd.Index(MONTHS).get_indexer(inc["month"])
    cube = np.zeros((len(grid), T))
    np.add.at(cube, (pos, t), 1.0)
    Ws = grid_weights(grid).toarray()
    i = cell_at(grid, 550, 550)
    nb = np.flatnonzero(Ws[i])
    x = cube.ravel()
    n, xbar, s = x.size, x.mean(), x.std()
    lag = cube[nb, T - 1].sum() + cube[nb, T - 2].sum()
    wi = 2 * len(nb)
    z = (lag - xbar * wi) / (s * np.sqrt((n * wi - wi**2) / (n - 1)))
    assert out.loc[i, E.FINAL_GI_Z] == pytest.approx(z, rel=1e-9)


@pytest.mark.parametrize("time_window", [0, 1, 2])
@pytest.mark.parametrize("distance", [None, 250.0])
def test_cube_gistar_matches_gistar_on_space_time_weights(time_window, distance):
    """Oracle: B1's analytic gistar on the explicit (cells x months)^2 space-time weights."""
    rng = np.random.default_rng(time_window)
    grid = make_grid(shapely.box(0, 0, 1_500, 1_200), cell_size=100)
    cube = rng.poisson(1.5, (len(grid), T)).astype(float)
    cube[40:45, 6:] += 6
    Ws = grid_weights(grid, distance=distance)
    z, p = E.cube_gistar(cube, Ws, time_window=time_window)
    z_ref, p_ref = gistar(cube.T.ravel(), E.space_time_weights(Ws, T, time_window=time_window))
    np.testing.assert_allclose(z, z_ref.reshape(T, -1).T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(p, p_ref.reshape(T, -1).T, rtol=1e-10, atol=1e-14)


def test_cube_gistar_zero_variance_warns():
    with pytest.warns(HotspotsWarning, match="zero variance"):
        z, p = E.cube_gistar(np.ones((4, T)), np.eye(4))
    assert (z == 0).all() and (p == 1).all()


def test_planted_patterns_per_month():
    inc, grid = synthetic(PLANTS, background=BACKGROUND)
    before = inc.copy()
    out = E.emerging_hotspots(inc, grid, time_window=0)
    assert inc.equals(before)
    assert list(out.columns) == E.EMERGING_COLUMNS
    assert out.index.equals(grid.index)
    assert (out[CELL_ID].to_numpy() == grid[CELL_ID].to_numpy()).all()
    got = {k: out.loc[cell_at(grid, *k), E.EMERGING_CLASS] for k in PLANTS}
    assert got == {
        (550.0, 550.0): E.NEW_HOT,
        (2450.0, 550.0): E.PERSISTENT_HOT,
        (550.0, 2450.0): E.INTENSIFYING_HOT,
        (1550.0, 2450.0): E.HISTORICAL_HOT,  # hot while high, not in its last (low) months
        (2450.0, 2450.0): E.HISTORICAL_HOT,
        (1550.0, 1550.0): E.SPORADIC_HOT,
    }
    # trend of counts: rising where planted rising
    i = cell_at(grid, 550, 2450)
    assert out.loc[i, E.TREND_TAU] > 0.8 and out.loc[i, E.TREND_P] < 0.001
    assert out.loc[i, E.GI_TREND_TAU] > 0.8
    assert out.loc[cell_at(grid, 2450, 550), E.HOT_MONTHS] == 12
    # background: almost every cell is "no pattern" (FDR keeps false alarms rare)
    far = out[E.EMERGING_CLASS].value_counts()
    assert far.get(E.NO_PATTERN, 0) >= 0.85 * len(grid)
    assert sum(out.attrs["class_counts"].values()) == out.attrs["auto"]["cells_analysed"] == len(grid)
    auto = out.attrs["auto"]
    assert auto["inference"] == "exact" and auto["dispersion_rule"] == "pearson (estimated)" and auto["dispersion"] > 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_complete_spatial_randomness_gives_no_pattern(seed):
    """FDR over the cube: on Poisson noise with no structure, (almost) no cell has a pattern."""
    inc, grid = synthetic({}, seed=seed, background=1.0)
    for dispersion in ("pearson", 1.0):
        out = E.emerging_hotspots(inc, grid, dispersion=dispersion)
        assert out.attrs["class_counts"][E.NO_PATTERN] >= 0.99 * len(grid)


def test_space_time_window_default():
    inc, grid = synthetic(PLANTS, background=BACKGROUND)
    out = E.emerging_hotspots(inc, grid)  # time_window=1 as ArcGIS
    assert out.attrs["auto"]["time_window"] == 1
    assert out.loc[cell_at(grid, 550, 550), E.EMERGING_CLASS] == E.NEW_HOT
    assert out.loc[cell_at(grid, 2450, 550), E.EMERGING_CLASS] == E.PERSISTENT_HOT
    assert out.loc[cell_at(grid, 550, 2450), E.EMERGING_CLASS] == E.INTENSIFYING_HOT
    assert out.loc[cell_at(grid, 1550, 2450), E.EMERGING_CLASS] == E.DIMINISHING_HOT


def test_cube_exact_equals_the_exact_test_by_hand():
    """Bin (i, t): Poisson tail of its window's neighbourhood count with mean (W pi)_i (N_t + N_t-1)."""
    from scipy import stats

    from hotspots.detect.cube import cube_exact
    from hotspots.detect.methods.exact import exact_test

    rng = np.random.default_rng(3)
    grid = make_grid(shapely.box(0, 0, 800, 800), cell_size=100)
    counts = rng.poisson(1.0, (len(grid), T)).astype(float)
    counts[20, 8:] += 9
    e = rng.uniform(1, 3, len(grid))
    W = grid_weights(grid)
    z, p, info = cube_exact(counts, counts, W, e, E.mark_mix([1.0]), time_window=1, dispersion=1.0)
    assert info["dispersion"] == 1.0
    pi = e / e.sum()
    n_t = counts.sum(axis=0)
    i, t = 20, 10
    nb = W[[i]].toarray().ravel() > 0
    lam = pi[nb].sum() * (n_t[t] + n_t[t - 1])
    k = counts[nb][:, [t - 1, t]].sum()
    assert p[i, t] == pytest.approx(min(1.0, 2 * stats.poisson.sf(k - 1, lam)), rel=1e-9)
    z1, p1, _ = exact_test(np.array([k]), np.array([lam]), E.mark_mix([1.0]))
    assert z[i, t] == pytest.approx(z1[0]) and p1[0] == pytest.approx(p[i, t])
    # month 0 has no earlier month: its window is the month itself
    lam0 = pi[nb].sum() * n_t[0]
    assert p[i, 0] == pytest.approx(
        min(
            1.0, 2 * min(stats.poisson.sf(counts[nb, 0].sum() - 1, lam0), stats.poisson.cdf(counts[nb, 0].sum(), lam0))
        ),
        rel=1e-9,
    )


def test_cells_without_incidents_or_outside_the_area_are_not_analysed():
    inc, grid = synthetic({(550.0, 550.0): [5] * 12, (2450.0, 2450.0): [5] * 12}, background=0.0)
    out = E.emerging_hotspots(inc, grid)
    far = cell_at(grid, 1550, 1550)
    assert out.loc[far, E.EMERGING_CLASS] == E.NOT_ANALYSED
    assert np.isnan(out.loc[far, E.TREND_P]) and out.loc[far, E.HOT_MONTHS] == -1
    assert out.attrs["auto"]["cells_analysed"] == 18  # the two planted 3 x 3 blocks: cells with data (ArcGIS)
    # the source covers only the western half: cells outside are not analysed and their incidents named
    with pytest.warns(HotspotsWarning, match=r"lie outside the analysed cells \(outside the grid or the source's"):
        half = E.emerging_hotspots(inc, grid, area=shapely.box(0, 0, 1500, 3000))
    assert half.attrs["auto"]["cells_analysed"] == 9
    assert half.loc[cell_at(grid, 2450, 2450), E.EMERGING_CLASS] == E.NOT_ANALYSED
    assert half.attrs["auto"]["incidents_outside_analysed_cells"] == 9 * 5 * 12
    # a cell's exposure is its part inside the area
    e = E.cell_exposure(grid, area=shapely.box(0, 0, 150, 3000))
    assert e[cell_at(grid, 50, 50)] == pytest.approx(100 * 100) and e[cell_at(grid, 150 - 1, 50)] == pytest.approx(
        50 * 100
    )
    assert e[cell_at(grid, 550, 50)] == 0


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------


def test_too_few_months_is_a_clear_error():
    inc, grid = synthetic({(550.0, 550.0): [5] * 12})
    six = inc[inc["month"] <= "2020-06"]
    with pytest.raises(
        InputError, match=r"only 6 month\(s\) \(2020-01 to 2020-06\); emerging hot spot analysis needs at least 10"
    ):
        E.emerging_hotspots(six, grid)
    with pytest.warns(HotspotsWarning, match="fewer than the 10 time steps ArcGIS requires"):
        E.emerging_hotspots(six, grid, min_months=5)


def test_gaps_are_never_zero_filled():
    inc, grid = synthetic({(550.0, 550.0): [5] * 12})
    gap = inc[inc["month"] != "2020-05"]
    # Jan-Apr and Jun-Dec: the longest consecutive run (7 months) is too short for the default 10
    with pytest.raises(
        InputError,
        match=r"months with data \(2020-01..2020-04,2020-06..2020-12\) are not consecutive: no data for 2020-05 "
        r"\(1 month\(s\)\). Months without data are never counted as zero; the longest consecutive run, "
        r"2020-06..2020-12, has 7 month\(s\)",
    ):
        E.emerging_hotspots(gap, grid)
    with pytest.warns(
        HotspotsWarning,
        match=r"analysed over the longest consecutive run, 2020-06..2020-12 \(7 months\), "
        r"and leave out 2020-01..2020-04",
    ):
        out = E.emerging_hotspots(gap, grid, min_months=5)
    auto = out.attrs["auto"]
    assert auto["n_months"] == 7 and auto["month_gaps"] == "2020-05" and auto["months_left_out"] == "2020-01..2020-04"
    assert auto["incidents_outside_months"] == (gap["month"] < "2020-05").sum()


def test_three_julys_a_year_apart_are_not_a_25_month_series():
    inc, grid = synthetic({(550.0, 550.0): [5] * 12})
    julys = inc[inc["month"].isin(["2020-01", "2020-02", "2020-03"])].assign(
        month=lambda d: d["month"].map({"2020-01": "2016-07", "2020-02": "2017-07", "2020-03": "2018-07"})
    )
    with pytest.raises(InputError, match=r"no data for 2016-08..2017-06,2017-08..2018-06 \(22 month\(s\)\)"):
        E.emerging_hotspots(julys, grid)
    with pytest.raises(InputError, match=r"the longest consecutive run, 2018-07, has 1 month\(s\)"):
        E.emerging_hotspots(julys, grid, min_months=3)
    plan = E.plan_months(julys["month"], None, min_months=1)
    assert plan.months == ["2018-07"] and plan.left_out == ["2016-07", "2017-07"] and len(plan.gaps) == 22


def test_explicit_months_and_bad_months():
    inc, grid = synthetic({(550.0, 550.0): [5] * 12})
    out = E.emerging_hotspots(inc, grid, months=MONTHS[1:])
    assert out.attrs["auto"]["months"] == "2020-02..2020-12"
    with pytest.raises(InputError, match="months must be written YYYY-MM, got '2020/03'"):
        E.emerging_hotspots(inc, grid, months=["2020/03", *MONTHS[1:]])
    with pytest.raises(InputError, match="months is empty"):
        E.emerging_hotspots(inc, grid, months=[])
    with pytest.raises(InputError, match="no incidents fall in the months 2021-01 to 2021-12"):
        E.emerging_hotspots(inc, grid, months=[f"2021-{m:02d}" for m in range(1, 13)])


def test_geographic_crs_and_foreign_grid_are_errors():
    inc, grid = synthetic({(550.0, 550.0): [5] * 12})
    with pytest.raises(InputError, match="geographic CRS"):
        E.emerging_hotspots(inc.to_crs("EPSG:4326"), grid)
    plain = gpd.GeoDataFrame({CELL_ID: grid[CELL_ID]}, geometry=grid.geometry.values, crs=grid.crs)
    with pytest.raises(InputError, match="grid has no lattice information"):
        E.emerging_hotspots(inc, plain)


def test_incidents_outside_the_grid():
    inc, grid = synthetic({(550.0, 550.0): [5] * 12})
    far = inc.set_geometry(inc.translate(50_000, 0))
    with pytest.raises(InputError, match="falls inside a grid cell; check that the grid covers"):
        E.emerging_hotspots(far, grid)


def test_empty_incidents_and_bad_options():
    inc, grid = synthetic({(550.0, 550.0): [5] * 12})
    with pytest.raises(InputError, match="incidents have no months"):
        E.emerging_hotspots(inc.iloc[:0], grid)
    with pytest.raises(InputError, match="time_window must be a whole number of months >= 0, got -1"):
        E.emerging_hotspots(inc, grid, time_window=-1)
    with pytest.raises(InputError, match="value must be 'n' or 'harm', got 'kde'"):
        E.emerging_hotspots(inc, grid, value="kde")
    with pytest.raises(InputError, match="no 'month' column"):
        E.emerging_hotspots(inc.drop(columns="month"), grid)


# --------------------------------------------------------------------------------------
# real data: Nottingham City violence, 2020
# --------------------------------------------------------------------------------------


def test_real_city_violence_2020(study):
    from hotspots.prepare.coverage import source_area

    inc = study.incidents
    v = inc[inc["source"] == "city_violence_2020"]
    grid = make_grid(study.area, cell_size=250)
    area, districts = source_area(v, study.lsoa)
    assert districts == ["Nottingham"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", HotspotsWarning)  # 12 full months, all inside the City: no warning
        out = E.emerging_hotspots(v, grid, area=area)
    auto = out.attrs["auto"]
    assert auto["n_months"] == 12 and auto["incidents_used"] == len(v) == 13_335
    assert auto["month_gaps"] == "none" and 1 < auto["dispersion"] < 10
    counts = out.attrs["class_counts"]
    analysed = auto["cells_analysed"]
    assert sum(counts.values()) == analysed
    assert (out[E.EMERGING_CLASS] == E.NOT_ANALYSED).sum() == len(grid) - analysed
    # analysed cells hold incidents and lie in the City
    pos = assign_cells(v, grid)
    has = np.bincount(pos[pos >= 0], minlength=len(grid)) > 0
    ok = (out[E.EMERGING_CLASS] != E.NOT_ANALYSED).to_numpy()
    assert has[ok].all() and grid.geometry[ok].intersects(area).all()
    # most cells show no pattern; a core of persistent hot spots; a sensible minority of others
    assert counts[E.NO_PATTERN] >= 0.8 * analysed
    assert counts[E.PERSISTENT_HOT] >= 5
    hot = sum(counts[c] for c in E.HOT_CLASSES)
    assert 0.01 * analysed <= hot <= 0.2 * analysed
    centre = cell_at(grid, *CITY_CENTRE)
    # the city centre is hot in 10 of 12 months (not in May and June 2020, after the first lockdown emptied it)
    assert out.loc[centre, E.EMERGING_CLASS] in E.HOT_CLASSES
    assert out.loc[centre, E.HOT_MONTHS] >= 10
