"""The calibrated hot spot test: tails (oracles: scipy, brute-force convolution), options, the verb, errors."""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely
from esda.smoothing import Empirical_Bayes
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from hotspots.detect._marks import mark_mix
from hotspots.detect._montecarlo import permutation_test, simulate_null
from hotspots.detect._saddle import saddlepoint_tails
from hotspots.detect._tails import MAX_LOG_ZERO, compound_poisson_tails
from hotspots.detect.exposure import areal_exposure
from hotspots.detect.gistar import CLASSES, NOT_ANALYSED, classify, fdr_bh, gistar, grid_weights
from hotspots.detect.gistar import GISTAR_COLUMNS as INFERENCE_COLUMNS
from hotspots.detect.inference import hotspot_gistar
from hotspots.detect.methods.eb_rate import eb_rates
from hotspots.detect.methods.exact import exact_test, min_expected_for_cold
from hotspots.errors import HotspotsWarning, InputError
from hotspots.units import make_grid


def local_sums(W, values):
    return np.asarray(W @ np.asarray(values, dtype=float))


MIX = {1.0: 2972, 1.5: 1143, 4.0: 85}  # the default run's harm marks


def brute_pmf(lam: float, mix, s_max: int) -> np.ndarray:
    """Pmf of sum_t j_t Poisson(lam f_t) on the lattice by direct convolution of scipy pmfs."""
    pmf = np.zeros(s_max + 1)
    pmf[0] = 1.0
    for jt, ft in zip(mix.steps, mix.freqs, strict=True):
        q = np.zeros(s_max + 1)
        k = np.arange(s_max // jt + 1)
        q[k * jt] = stats.poisson.pmf(k, lam * ft)
        pmf = np.convolve(pmf, q)[: s_max + 1]
    return pmf


# --------------------------------------------------------------------------------------
# marks and tails
# --------------------------------------------------------------------------------------


def test_mark_mix_finds_the_lattice():
    m = mark_mix(MIX)
    assert m.delta == 0.5
    assert m.steps is not None and m.steps.tolist() == [2, 3, 8]
    assert m.n == 4200
    assert m.mean == pytest.approx((2972 + 1.5 * 1143 + 4 * 85) / 4200)
    defaults = mark_mix([0.3, 1.0, 1.5, 1.8, 2.5, 4.0, 4.5, 5.0, 10.0, 18.0, 30.0, 70.0])  # scope.HARM_WEIGHTS
    assert defaults.delta == pytest.approx(0.1)
    assert defaults.steps is not None and defaults.steps.max() == 700
    assert mark_mix([1.0, math.sqrt(2)]).delta is None
    z = mark_mix([0.0, 0.0, 1.0])
    assert (z.zeros, z.n, z.values.tolist()) == (2, 3, [1.0])


@pytest.mark.parametrize(
    ("marks", "match"),
    [
        ([], "no harm marks"),
        ([1.0, -1.0], "finite numbers >= 0"),
        ([1.0, np.nan], "finite numbers >= 0"),
        ([0.0, 0.0], "every harm mark is 0"),
        ({1.0: 2.5}, "whole numbers >= 0"),
    ],
)
def test_mark_mix_errors(marks, match):
    with pytest.raises(InputError, match=match):
        mark_mix(marks)


@pytest.mark.parametrize("lam", [0.01, 0.5, 3.0, 16.0, 50.0, 200.0])
def test_panjer_tails_equal_brute_force_convolution(lam):
    mix = mark_mix(MIX)
    s_max = int(lam * 6 + 40 * math.sqrt(lam) + 200)
    pmf = brute_pmf(lam, mix, s_max)
    cdf, sf = np.cumsum(pmf), np.cumsum(pmf[::-1])[::-1]
    k = np.unique(np.r_[0:5, np.linspace(0, s_max - 100, 40).astype(int)])
    up, low, exact = compound_poisson_tails(k[None, :] * 0.5, np.array([lam]), mix)
    assert exact.all()
    ok = sf[k] > 1e-250
    np.testing.assert_allclose(np.exp(up[0][ok]), sf[k][ok], rtol=1e-8)
    np.testing.assert_allclose(np.exp(low[0]), cdf[k], rtol=1e-10)


def test_counts_equal_scipy_poisson():
    mix = mark_mix([1.0])
    lam = np.array([0.3, 5.0, 30.0, 2000.0])
    k = np.tile(np.arange(0, 120), (4, 1)).astype(float)
    up, low, exact = compound_poisson_tails(k, lam, mix)
    assert exact.all()
    np.testing.assert_allclose(np.exp(up), stats.poisson.sf(k - 1, lam[:, None]), rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(np.exp(low), stats.poisson.cdf(k, lam[:, None]), rtol=1e-10, atol=1e-300)


def test_scaled_single_mark_is_a_scaled_poisson():
    up, low, _ = compound_poisson_tails(np.array([[6.0, 1.5]]), np.array([1.2]), mark_mix([1.5, 1.5]))
    np.testing.assert_allclose(np.exp(up[0]), stats.poisson.sf([3, 0], 1.2), rtol=1e-12)
    np.testing.assert_allclose(np.exp(low[0]), stats.poisson.cdf([4, 1], 1.2), rtol=1e-12)


def test_tails_far_below_the_float_range_keep_their_size():
    up, _, _ = compound_poisson_tails(np.array([[2000.0]]), np.array([20.0]), mark_mix([1.0]))
    assert up[0, 0] == pytest.approx(stats.poisson.logpmf(2000, 20), rel=1e-3)
    up, _, _ = compound_poisson_tails(np.array([[2000.0]]), np.array([20.0]), mark_mix(MIX))
    assert np.isfinite(up[0, 0]) and up[0, 0] < -700
    z, p, _ = exact_test(np.array([2000.0]), np.array([20.0]), mark_mix(MIX))
    assert p[0] == 0.0 and np.isfinite(z[0]) and z[0] > 38


@pytest.mark.parametrize("lam", [50.0, 200.0, 600.0])
def test_saddlepoint_accuracy_against_exact(lam):
    """Lugannani-Rice (lattice-corrected) within 1 % of the exact tails where p is 1e-12 .. 0.1."""
    mix = mark_mix(MIX)
    mean = lam * mix.mean / 0.5
    k = np.arange(int(mean * 0.4), int(mean * 2.5))
    x = k[None, :] * 0.5
    ex_up, ex_low, _ = compound_poisson_tails(x, np.array([lam]), mix)
    sp_up, sp_low = saddlepoint_tails(x, np.array([lam]), mix)
    for ex, sa in ((ex_up, sp_up), (ex_low, sp_low)):
        sel = (ex > math.log(1e-12)) & (ex < math.log(0.1))
        assert sel.sum() > 10
        np.testing.assert_allclose(np.exp(sa[sel]), np.exp(ex[sel]), rtol=0.01)


def test_saddlepoint_takes_over_beyond_max_steps_and_large_lambda():
    mix = mark_mix(MIX)
    x = np.array([40.0, 40.0, 3000.0])
    lam = np.array([16.0, 16.0, MAX_LOG_ZERO * 2])
    _, _, exact = compound_poisson_tails(x, lam, mix, max_steps=10_000)
    assert exact.tolist() == [True, True, False]
    _, _, exact = compound_poisson_tails(x[:1], lam[:1], mix, max_steps=20)
    assert not exact[0]
    with pytest.raises(InputError, match="max_steps"):
        compound_poisson_tails(x, lam, mix, method="exact")
    with pytest.raises(InputError, match="no lattice"):
        compound_poisson_tails(x, lam, mark_mix([1.0, math.sqrt(2)]), method="exact")
    up, _, exact = compound_poisson_tails(np.array([30.0]), np.array([10.0]), mark_mix([1.0, math.sqrt(2)]))
    assert not exact[0] and up[0] < math.log(1e-3)


def test_off_lattice_sums_and_bad_inputs_are_errors():
    with pytest.raises(InputError, match=r"not a multiple of the marks' lattice 0\.5"):
        compound_poisson_tails(np.array([1.25]), np.array([2.0]), mark_mix(MIX))
    with pytest.raises(InputError, match="method must be"):
        compound_poisson_tails(np.array([1.0]), np.array([2.0]), mark_mix(MIX), method="normal")
    with pytest.raises(InputError, match="finite and >= 0"):
        compound_poisson_tails(np.array([1.0]), np.array([-2.0]), mark_mix(MIX))
    with pytest.raises(InputError, match="rows but lam has"):
        compound_poisson_tails(np.array([1.0, 2.0]), np.array([2.0]), mark_mix(MIX))


@settings(max_examples=60, deadline=None)
@given(
    lam=st.floats(0.0, 300.0),
    k=st.integers(0, 1500),
)
def test_tails_are_probabilities_and_cover_the_line(lam, k):
    """P(H >= k) and P(H <= k) are in [0, 1] and add to at least 1 (they share P(H = k))."""
    up, low, _ = compound_poisson_tails(np.array([k * 0.5]), np.array([lam]), mark_mix(MIX))
    assert up[0] <= 0 and low[0] <= 0
    assert np.exp(up[0]) + np.exp(low[0]) >= 1 - 1e-9


def test_exact_test_p_and_z():
    mix = mark_mix([1.0])
    z, p, _ = exact_test(np.array([0.0, 10.0, 2.0]), np.array([5.0, 2.0, 2.0]), mix)
    assert p[0] == pytest.approx(2 * math.exp(-5.0))
    assert z[0] == pytest.approx(stats.norm.ppf(math.exp(-5.0)))
    assert p[1] == pytest.approx(2 * stats.poisson.sf(9, 2.0))
    assert z[1] == pytest.approx(stats.norm.isf(stats.poisson.sf(9, 2.0)))
    assert z[2] == 0.0 or abs(z[2]) < 0.7


def test_min_expected_for_cold():
    best, lone = min_expected_for_cold(679, q=0.05)
    assert best == pytest.approx(math.log(40))
    assert lone == pytest.approx(math.log(2 * 679 / 0.05))
    # an empty neighbourhood just above the lone bound is cold at q <= 0.05, just below it is not
    mix = mark_mix([1.0])
    for lam, cold in ((lone + 0.01, True), (lone - 0.01, False)):
        lams = np.full(679, 8.0)
        lams[0] = lam
        obs = np.full(679, 8.0)
        obs[0] = 0.0
        _, p, _ = exact_test(obs, lams, mix)
        assert bool(fdr_bh(p)[0] <= 0.05) is cold


# --------------------------------------------------------------------------------------
# simulation, permutation, EB, classes
# --------------------------------------------------------------------------------------


def test_simulate_null_conserves_incidents_and_marks():
    mix = mark_mix(MIX)
    prob = np.r_[np.full(50, 1.0), np.full(50, 3.0)]
    c, h = simulate_null(prob, mix, 400, seed=1)
    assert (c.sum(axis=1) == 4200).all()
    np.testing.assert_allclose(h.sum(axis=1), 2972 + 1.5 * 1143 + 4 * 85)
    share = c[:, 50:].sum() / c.sum()
    assert share == pytest.approx(0.75, abs=0.005)
    c2, _ = simulate_null(prob, mix, 400, seed=1)
    assert (c == c2).all()
    c3, _ = simulate_null(np.ones(10_000), mark_mix([1.0] * 50), 3, seed=0)  # few incidents, many units
    assert (c3.sum(axis=1) == 50).all()


def test_permutation_p_agrees_with_exact_p():
    """Monte Carlo under the same null is an oracle for the exact p (within MC error)."""
    rng = np.random.default_rng(5)
    grid = make_grid(shapely.box(0, 0, 2000, 2000), cell_size=200)
    W = grid_weights(grid)
    prob = np.full(len(grid), 1 / len(grid))
    mix = mark_mix(np.repeat([1.0, 1.5, 4.0], [60, 30, 10]))
    _, h = simulate_null(prob, mix, 1, seed=rng)
    local = local_sums(W, h[0])
    lam = mix.n * local_sums(W, prob)
    _, p_exact, _ = exact_test(local, lam, mix)
    _, p_mc = permutation_test(local, W, prob, mix, counts=False, permutations=4000, seed=1)
    assert np.abs(p_mc - p_exact).max() < 0.05


def test_eb_rates_equal_esda_empirical_bayes():
    rng = np.random.default_rng(0)
    pop = rng.integers(500, 3000, 200).astype(float)
    risk = rng.gamma(4, 1 / 4, 200) * 0.01
    x = rng.poisson(pop * risk).astype(float)
    np.testing.assert_allclose(eb_rates(x, pop), Empirical_Bayes(x, pop).r.ravel(), rtol=1e-12)
    # no extra variation: every rate shrinks to the overall rate
    np.testing.assert_allclose(eb_rates([1.0, 1.0, 1.0], [1.0, 1.0, 1.0]), 1.0)
    with pytest.raises(InputError, match="exposure > 0"):
        eb_rates([1.0, 2.0], [1.0, 0.0])


def test_classify_needs_an_incident_for_hot_but_not_for_cold():
    z = np.array([5.0, 5.0, -5.0, 2.0, 1.0])
    q = np.array([0.001, 0.001, 0.001, 0.03, 0.08])
    n = np.array([1, 0, 0, 2, 1])
    assert classify(z, q, n).tolist() == ["hot 99%", "not significant", "cold 99%", "hot 95%", "hot 90%"]


# --------------------------------------------------------------------------------------
# the public function
# --------------------------------------------------------------------------------------


def _toy_grid(seed: int = 0, *, cluster: bool = True) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Make a 20 x 20 grid of 100 m cells, 300 incidents at random plus (optionally) 40 in 4 cells."""
    rng = np.random.default_rng(seed)
    grid = make_grid(shapely.box(0, 0, 2000, 2000), cell_size=100)
    cell = rng.integers(0, len(grid), 300)
    if cluster:
        cell = np.r_[cell, np.repeat([210, 211, 230, 231], 10)]
    marks = rng.choice([1.0, 1.5, 4.0], size=len(cell), p=[0.7, 0.27, 0.03])
    n = np.bincount(cell, minlength=len(grid))
    harm = np.bincount(cell, weights=marks, minlength=len(grid))
    attrs = dict(grid.attrs)
    grid = grid.assign(n=n, harm=harm)
    grid.attrs = attrs
    return grid, marks


def test_output_contract_and_planted_cluster():
    grid, marks = _toy_grid()
    before_cols = list(grid.columns)
    snapshot = grid.copy()
    out = hotspot_gistar(grid, value="harm", marks=marks)
    assert list(out.columns) == [*(c for c in before_cols if c != "geometry"), *INFERENCE_COLUMNS, "geometry"]
    assert out.index.equals(grid.index) and out.crs == grid.crs
    assert out.attrs["grid"] == grid.attrs["grid"]
    pd.testing.assert_frame_equal(grid, snapshot)  # input unchanged
    assert set(out["hotspot_class"]) <= set(CLASSES)
    assert out.loc[[210, 211, 230, 231], "hotspot_class"].eq("hot 99%").all()
    assert (out.loc[out["hotspot_class"].str.startswith("hot"), "n"] >= 1).all()
    # an interior cell's neighbourhood is 9 of the 400 equal cells: 9/400 of N x the mean mark
    assert out.loc[210, "local_expected"] == pytest.approx(9 / 400 * len(marks) * marks.mean())
    assert out.loc[210, "local_sum"] == grid.loc[[189, 190, 191, 209, 210, 211, 229, 230, 231], "harm"].sum()
    info = out.attrs["inference"]
    assert (info["inference"], info["exposure"], info["incidents"], info["lattice"]) == ("exact", "area (m²)", 340, 0.5)


def test_counts_need_no_marks_and_equal_poisson():
    grid, _ = _toy_grid()
    out = hotspot_gistar(grid, value="n", dispersion=1.0)
    W = grid_weights(grid)
    lam = grid["n"].sum() * local_sums(W, np.full(len(grid), 1 / len(grid)))
    local = local_sums(W, grid["n"].to_numpy(float))
    p = np.minimum(1, 2 * np.minimum(stats.poisson.sf(local - 1, lam), stats.poisson.cdf(local, lam)))
    np.testing.assert_allclose(out["gi_p"], p, rtol=1e-9)


def test_no_hot_spots_on_a_random_map_warns():
    grid, marks = _toy_grid(3, cluster=False)
    with pytest.warns(HotspotsWarning, match="no unit is a significant"):
        out = hotspot_gistar(grid, value="harm", marks=marks)
    assert (out["hotspot_class"] == "not significant").all()


def test_units_without_exposure_are_not_analysed():
    grid, marks = _toy_grid()
    grid = grid.assign(residents=np.where(np.arange(len(grid)) < 20, 0.0, 100.0))
    grid.attrs = {"grid": grid.attrs["grid"]}
    lost = int(grid["n"].iloc[:20].sum())
    keep = np.arange(len(grid)) >= 20
    with pytest.warns(HotspotsWarning, match=f"{lost} incidents lie in"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "the marks passed imply", HotspotsWarning)  # marks include the lost ones
        out = hotspot_gistar(grid, value="harm", marks=marks, exposure="residents")
    assert (out["hotspot_class"].iloc[:20] == NOT_ANALYSED).all()
    assert out[INFERENCE_COLUMNS].iloc[:20].drop(columns="hotspot_class").isna().all().all()
    assert out["gi_p"].iloc[20:].notna().all()
    assert out.attrs["inference"]["units_not_analysed"] == 20
    assert out.attrs["inference"]["incidents"] == int(grid["n"][keep].sum())


def test_analytic_option_is_todays_gistar():
    grid, _ = _toy_grid()
    out = hotspot_gistar(grid, value="harm", inference="analytic")
    z, p = gistar(grid["harm"].to_numpy(), grid_weights(grid))
    np.testing.assert_allclose(out["gi_z"], z)
    np.testing.assert_allclose(out["gi_p"], p)


def test_eb_rate_and_permutation_options_find_the_cluster():
    grid, marks = _toy_grid()
    for inference in ("eb_rate", "permutation"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HotspotsWarning)
            out = hotspot_gistar(grid, value="harm", marks=marks, inference=inference, permutations=999, seed=1)
        assert out.loc[[210, 211, 230, 231], "hotspot_class"].str.startswith("hot").all(), inference


def test_permutation_floor_is_stated():
    grid, marks = _toy_grid()
    with pytest.warns(HotspotsWarning) as rec:
        out = hotspot_gistar(grid, value="harm", marks=marks, inference="permutation", permutations=99)
    messages = " | ".join(str(w.message) for w in rec)
    assert "smallest Monte Carlo p is 1/(R+1) = 0.01 per tail (0.02 two-sided)" in messages
    assert "'hot 99%' (q <= 0.01) needs p <= 2.5e-05 for a lone unit" in messages
    assert "no unit is a significant hot or cold spot" in messages  # the floor leaves BH nothing to reject
    assert out["gi_p"].min() >= 2 / 100
    with pytest.raises(InputError, match="permutations must be a positive"):
        hotspot_gistar(grid, value="harm", marks=marks, inference="permutation", permutations=0)


def test_polygons_use_population_and_contiguity():
    cells = make_grid(shapely.box(0, 0, 1000, 1000), cell_size=100)
    rng = np.random.default_rng(2)
    pop = rng.integers(800, 2000, len(cells)).astype(float)
    polys = gpd.GeoDataFrame(
        {"n": rng.poisson(pop / 400), "population": pop}, geometry=cells.geometry.values, crs=cells.crs
    )
    polys.loc[44, "n"] = 40
    out = hotspot_gistar(polys, value="n", dispersion=1.0)
    assert out.attrs["inference"]["exposure"] == "population"
    assert out.loc[44, "hotspot_class"] == "hot 99%"


def test_areal_exposure_conserves_residents():
    src = gpd.GeoDataFrame(
        {"population": [100.0, 100.0]}, geometry=[shapely.box(0, 0, 200, 100), shapely.box(200, 0, 300, 100)], crs=27700
    )
    grid = make_grid(src, cell_size=50)
    e = areal_exposure(grid, src)
    assert e.sum() == pytest.approx(200.0)
    assert sorted(set(e.round(9))) == [12.5, 25.0]  # 8 cells share the large polygon, 4 the small one
    with pytest.raises(InputError, match="no column 'residents'"):
        areal_exposure(grid, src, column="residents")
    with pytest.raises(InputError, match="differ in CRS"):
        areal_exposure(grid, src.set_crs(3857, allow_override=True))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"inference": "bayes"}, "inference must be one of"),
        ({"value": "violence"}, "no value column 'violence'"),
        ({"count": "k"}, "no count column 'k'"),
        ({"value": "harm"}, "needs the harm marks of the incidents: pass marks="),
        ({"value": "n", "exposure": "people"}, "no exposure column 'people'"),
        ({"value": "n", "exposure": "neg"}, "row 0 .* is -1.0; it must be >= 0"),
        ({"value": "n", "exposure": "zero"}, "only 0 unit"),
        ({"value": "n", "count": "frac"}, "counts are whole numbers"),
        ({"value": "n", "weights": sp.eye(3)}, "weights are 3 x 3 but there are 400 units"),
    ],
)
def test_errors(kwargs, match):
    grid, _ = _toy_grid()
    attrs = dict(grid.attrs)
    grid = grid.assign(neg=-1.0, zero=0.0, frac=0.5)
    grid.attrs = attrs
    with pytest.raises(InputError, match=match):
        hotspot_gistar(grid, **kwargs)


def test_input_type_errors():
    grid, marks = _toy_grid()
    with pytest.raises(InputError, match="must be a GeoDataFrame"):
        hotspot_gistar(pd.DataFrame(grid.drop(columns="geometry")))
    with pytest.raises(InputError, match="units are empty"):
        hotspot_gistar(grid.iloc[:0])
    with pytest.raises(InputError, match="geographic CRS"):
        hotspot_gistar(grid.to_crs(4326), marks=marks)
    poly = gpd.GeoDataFrame({"n": [1, 2]}, geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs=27700)
    with pytest.raises(InputError, match="no 'population' column for the default exposure"):
        hotspot_gistar(poly, value="n")


def test_marks_that_do_not_match_the_units_warn():
    grid, marks = _toy_grid()
    with pytest.warns(HotspotsWarning, match="pass the marks of exactly the incidents"):
        hotspot_gistar(grid, value="harm", marks=np.r_[marks, np.full(200, 4.0)])


# --------------------------------------------------------------------------------------
# negative binomial null (dispersion > 1)
# --------------------------------------------------------------------------------------


def brute_nb_pmf(mu: float, phi: float, mix, s_max: int) -> np.ndarray:
    """Pmf of a negative-binomial(mean mu, variance phi mu) count of marks, by summing k-fold convolutions."""
    f = np.zeros(s_max + 1)
    for jt, ft in zip(mix.steps, mix.freqs, strict=True):
        f[jt] = ft
    out = np.zeros(s_max + 1)
    conv = np.zeros(s_max + 1)
    conv[0] = 1.0
    for k in range(s_max // int(mix.steps.min()) + 1):
        out += stats.nbinom.pmf(k, mu / (phi - 1), 1 / phi) * conv
        conv = np.convolve(conv, f)[: s_max + 1]
    return out


@pytest.mark.parametrize(("mu", "phi"), [(0.3, 7.3), (5.0, 2.0), (16.0, 7.3)])
def test_negative_binomial_panjer_equals_brute_force(mu, phi):
    mix = mark_mix(MIX)
    pmf = brute_nb_pmf(mu, phi, mix, 900)
    cdf, sf = np.cumsum(pmf), np.cumsum(pmf[::-1])[::-1]
    k = np.unique(np.r_[0:5, np.linspace(0, 500, 30).astype(int)])
    up, low, exact = compound_poisson_tails(k[None, :] * 0.5, np.array([mu]), mix, dispersion=phi)
    assert exact.all()
    np.testing.assert_allclose(np.exp(up[0]), sf[k], rtol=1e-9)
    np.testing.assert_allclose(np.exp(low[0]), cdf[k], rtol=1e-10)


def test_negative_binomial_counts_equal_scipy():
    lam = np.array([0.5, 10.0, 80.0])
    k = np.tile(np.arange(0, 200), (3, 1)).astype(float)
    up, low, _ = compound_poisson_tails(k, lam, mark_mix([1.0]), dispersion=3.0)
    r = lam[:, None] / 2.0
    np.testing.assert_allclose(np.exp(up), stats.nbinom.sf(k - 1, r, 1 / 3), rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(np.exp(low), stats.nbinom.cdf(k, r, 1 / 3), rtol=1e-9, atol=1e-300)


def test_negative_binomial_saddlepoint_within_two_percent():
    mix = mark_mix(MIX)
    x = np.arange(20, 700)[None, :] * 0.5
    ex_up, _, _ = compound_poisson_tails(x, np.array([40.0]), mix, dispersion=3.0)
    sp_up, _ = saddlepoint_tails(x, np.array([40.0]), mix, dispersion=3.0)
    sel = (ex_up > math.log(1e-12)) & (ex_up < math.log(0.1))
    np.testing.assert_allclose(np.exp(sp_up[sel]), np.exp(ex_up[sel]), rtol=0.02)


def test_dispersion_is_conservative_and_estimated():
    grid, marks = _toy_grid()
    pois = hotspot_gistar(grid, value="harm", marks=marks, dispersion=1.0)
    nb = hotspot_gistar(grid, value="harm", marks=marks)
    phi = nb.attrs["inference"]["dispersion"]
    assert phi > 1
    tail = pois["gi_p"] < 0.05
    assert (nb.loc[tail, "gi_p"] >= pois.loc[tail, "gi_p"]).all()  # heavier tails: larger p where it matters
    assert (nb["gi_q"] <= 0.05).sum() < (pois["gi_q"] <= 0.05).sum()
    assert nb.loc[[210, 211, 230, 231], "hotspot_class"].str.startswith("hot").all()
    assert pois.attrs["inference"]["dispersion"] == 1.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dispersion": 0.5}, "dispersion must be 'pearson' or a number >= 1"),
        ({"dispersion": "quasi"}, "dispersion must be 'pearson' or a number >= 1"),
        (
            {"dispersion": 2.0, "inference": "analytic"},
            r"dispersion applies to the inference methods that use it \(\['exact'\]\), not 'analytic'",
        ),
    ],
)
def test_dispersion_errors(kwargs, match):
    grid, marks = _toy_grid()
    with pytest.raises(InputError, match=match):
        hotspot_gistar(grid, value="harm", marks=marks, **kwargs)
    with pytest.raises(InputError, match="dispersion must be a number >= 1"):
        compound_poisson_tails(np.array([1.0]), np.array([1.0]), mark_mix(MIX), dispersion=0.9)


def test_hex_grid_distance_band_and_raw_p():
    rng = np.random.default_rng(4)
    hexes = make_grid(shapely.box(0, 0, 3000, 3000), cell_size=200, shape="hex")
    n = rng.poisson(2.0, len(hexes))
    n[len(hexes) // 2] += 40
    attrs = dict(hexes.attrs)
    hexes = hexes.assign(n=n)
    hexes.attrs = attrs
    out = hotspot_gistar(hexes, value="n", distance=450.0, fdr=False, dispersion=1.0)
    assert out.loc[len(hexes) // 2, "hotspot_class"] == "hot 99%"
    np.testing.assert_array_equal(out["gi_q"], out["gi_p"])
    W = grid_weights(hexes, distance=450.0)
    np.testing.assert_allclose(out["local_sum"], local_sums(W, n.astype(float)))


# --------------------------------------------------------------------------------------
# the registry: a new method is one module plus one entry
# --------------------------------------------------------------------------------------


def test_a_registered_method_is_used_by_the_verb_and_accepted_by_the_config(monkeypatch):
    from hotspots.detect import registry
    from hotspots.detect.config import DetectConfig
    from hotspots.detect.problem import MethodResult

    def infer(problem, options):  # "everything is a hot spot where the local sum beats its expectation"
        z = problem.local - problem.expected
        return MethodResult(z=z, p=np.where(z > 0, 1e-6, 1.0), info={"toy": True})

    toy = registry.InferenceMethod("toy", infer, "a toy", calibrated=False)
    monkeypatch.setitem(registry.METHODS, "toy", toy)
    grid, marks = _toy_grid()
    out = hotspot_gistar(grid, value="harm", marks=marks, inference="toy")
    assert out.attrs["inference"]["toy"] is True and out.attrs["inference"]["method"] == "a toy"
    hot = out["hotspot_class"] == "hot 99%"
    assert hot.any() and (out.loc[hot, "n"] >= 1).all()
    assert DetectConfig(inference="toy").method_dispersion is None
    with pytest.raises(InputError, match=r"dispersion applies to the inference methods that use it"):
        hotspot_gistar(grid, value="harm", marks=marks, inference="toy", dispersion=2.0)


def test_every_registered_method_runs_and_names_itself():
    from hotspots.detect.registry import INFERENCES, METHODS

    assert INFERENCES[0] == "exact" and set(INFERENCES) == {"exact", "analytic", "permutation", "eb_rate"}
    grid, marks = _toy_grid()
    for name, method in METHODS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HotspotsWarning)
            out = hotspot_gistar(grid, value="harm", marks=marks, inference=name, permutations=199)
        assert out.attrs["inference"]["inference"] == name and out.attrs["inference"]["method"] == method.summary
        assert out["gi_p"].between(0, 1).all()


def test_missing_exposure_means_not_analysed_with_a_warning():
    cells = make_grid(shapely.box(0, 0, 500, 500), cell_size=100)
    pop = np.full(len(cells), 1000.0)
    pop[3] = np.nan
    polys = gpd.GeoDataFrame(
        {"n": np.arange(len(cells)) % 3, "population": pop}, geometry=cells.geometry.values, crs=27700
    )
    with pytest.warns(
        HotspotsWarning, match=r"1 units have no 'population' \(e.g. row 3, index 3\); they are not analysed"
    ):
        out = hotspot_gistar(polys, value="n")
    assert out.loc[3, "hotspot_class"] == NOT_ANALYSED and np.isnan(out.loc[3, "gi_p"])
    assert out.attrs["inference"]["units_not_analysed"] == 1


@pytest.mark.parametrize("dispersion", [1.0, 8.0])
def test_panjer_batches_of_equal_truncation_give_the_same_bits(monkeypatch, dispersion):
    """Running chunks with the same truncation point together changes no tail, not even in the last bit."""
    from hotspots.detect import _tails

    rng = np.random.default_rng(3)
    lam = np.concatenate([np.full(300, 40.0), rng.uniform(0.5, 60.0, 200)])  # many units share the largest lam
    x = np.column_stack([rng.integers(0, 200, len(lam)) * 0.5, rng.integers(0, 80, len(lam)) * 0.5])
    mix = mark_mix(MIX)
    monkeypatch.setattr(_tails, "_CHUNK_CELLS", 20_000)
    monkeypatch.setattr(_tails, "_BATCH_CELLS", 20_000)  # every chunk alone
    alone = compound_poisson_tails(x, lam, mix, dispersion=dispersion)
    monkeypatch.setattr(_tails, "_BATCH_CELLS", 10**9)  # equal chunks together
    together = compound_poisson_tails(x, lam, mix, dispersion=dispersion)
    for a, b in zip(alone, together, strict=True):
        assert np.array_equal(a, b, equal_nan=True)
    s_need = np.repeat([30, 40], [1500, 500])
    monkeypatch.setattr(_tails, "_CHUNK_CELLS", 500 * 41)
    # chunks of at most 20,500 cells: 0-661 and 661-1322 (s_max 30), 1322-1822 and 1822-2000 (s_max 40)
    assert _tails._chunks(s_need, np.arange(len(s_need))) == [(0, 1322, 30), (1322, 2000, 40)]


def _panjer_one_row_at_a_time(fam, rows, s_max):
    """Panjer's recursion one lattice step at a time (the reference for the blocked version)."""
    n = len(rows)
    out = np.zeros((s_max + 1, n))
    out[0] = np.exp(fam.log_p0()[rows])
    a, b = (0.0, fam.mu[rows]) if fam.phi == 1.0 else (fam.q, (fam.r[rows] - 1.0) * fam.q)
    norm = 1.0 / (1.0 - a * fam.f0)
    for s in range(1, s_max + 1):
        g, acc = out[s], np.zeros(n)
        for jt, ft in zip(fam.j.astype(np.int64), fam.f, strict=True):
            if jt <= s:
                prev = out[s - jt]
                if a:
                    acc += prev * ft
                g += prev * (ft * jt)
        g *= b
        g /= s
        if a:
            acc *= a
            g += acc
        if norm != 1.0:
            g *= norm
    return out


def test_blocked_panjer_recursion_is_bit_identical_to_one_step_at_a_time():
    from hotspots.detect._family import Family
    from hotspots.detect._tails import _panjer_pmf

    rng = np.random.default_rng(7)
    for _ in range(150):
        k = int(rng.integers(1, 5))
        j = np.sort(rng.choice(np.arange(1, 12), size=k, replace=False)).astype(float)
        f0 = float(rng.choice([0.0, 0.1]))
        fam = Family(
            mu=rng.gamma(2, 5, (n := int(rng.integers(1, 30)))),
            phi=float(rng.choice([1.0, 1.7, 4.0])),
            j=j,
            f=rng.dirichlet(np.ones(k)) * (1 - f0),
            f0=f0,
        )
        s_max = int(rng.integers(0, 120))
        rows = np.arange(n)
        assert np.array_equal(_panjer_pmf(fam, rows, s_max), _panjer_one_row_at_a_time(fam, rows, s_max))
