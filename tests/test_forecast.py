"""Tests of hotspots.evaluate.forecast: features, methods, no leakage, a planted signal, calibration."""

from __future__ import annotations

import dataclasses
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import ndimage

import hotspots.evaluate.measures as M
import hotspots.evaluate.rolling as E
from hotspots import columns as C
from hotspots.errors import ConfigError, InputError
from hotspots.evaluate.forecast import backtest as B
from hotspots.evaluate.forecast import calibration as K
from hotspots.evaluate.forecast import config as FC
from hotspots.evaluate.forecast import ensemble as EN
from hotspots.evaluate.forecast import features as FE
from hotspots.evaluate.forecast import models as MO
from hotspots.units import cell_centres, make_grid

MONTHS = [f"2020-{m:02d}" for m in range(1, 13)]
FAST = FC.FAST_CONFIG


def toy_grid(n: int = 30, size: float = 100.0) -> gpd.GeoDataFrame:
    return make_grid(shapely.box(0, 0, n * size, n * size), cell_size=size)


def incidents_from(matrix: np.ndarray, grid: gpd.GeoDataFrame, months: list[str]) -> gpd.GeoDataFrame:
    """One point per incident at its cell's centre (vectorised)."""
    counts = np.asarray(matrix, dtype=np.int64)
    cell, month = np.nonzero(counts)
    reps = counts[cell, month]
    xy = cell_centres(grid)[np.repeat(cell, reps)]
    return gpd.GeoDataFrame(
        {C.MONTH: np.asarray(months, dtype=object)[np.repeat(month, reps)], C.HARM: 1.0},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=C.CRS,
    )


def history_of(grid: gpd.GeoDataFrame, m: np.ndarray) -> FE.History:
    return FE.History(m, FE.Lattice.from_grid(grid))


@pytest.fixture(scope="module")
def toy():
    """A 30 x 30 grid, 12 months of Poisson counts around a few hot cells (seeded)."""
    grid = toy_grid()
    rng = np.random.default_rng(1)
    rate = np.full(len(grid), 0.02)
    rate[rng.choice(len(grid), 60, replace=False)] = rng.gamma(2.0, 1.0, 60)
    m = rng.poisson(np.repeat(rate[:, None], 12, axis=1)).astype(float)
    return grid, m


# --------------------------------------------------------------------------------------
# measures, lattice, history
# --------------------------------------------------------------------------------------


def test_pei_fast_matches_evaluate_pei():
    rng = np.random.default_rng(0)
    for trial in range(30):
        n = int(rng.integers(20, 400))
        test = rng.poisson(0.5, n).astype(float)
        if trial % 3 == 0:
            s = rng.poisson(0.3, n).astype(float)  # heavy ties at zero and one
        elif trial % 3 == 1:
            s = rng.random(n)
        else:
            s = np.zeros(n)  # all tied
        for cov in (0.01, 0.05, 0.1, 0.5, 1.0):
            want = M.pei(s, test, coverage=cov)
            got = FE.pei_fast(s, test, cov)
            assert (np.isnan(want) and np.isnan(got)) or got == pytest.approx(want, abs=1e-12)


def test_lattice_neighbours_and_smoothing():
    grid = toy_grid(10)
    lat = FE.Lattice.from_grid(grid)
    v = np.zeros(len(grid))
    centre = 5 * 10 + 5
    v[centre] = 3.0
    nb = lat.neighbour_sum(v)
    assert nb[centre] == pytest.approx(0.0, abs=1e-12)
    ring = sorted(r * 10 + c for r in (4, 5, 6) for c in (4, 5, 6) if r * 10 + c != centre)
    assert sorted(np.flatnonzero(nb > 1e-9)) == ring
    assert np.allclose(nb[nb > 1e-9], 3.0)
    sm = lat.smooth(v, 100.0)
    assert sm.sum() == pytest.approx(3.0, rel=1e-3)  # mass kept away from the edge
    assert sm.argmax() == centre


def test_sparse_smoothing_equals_the_gaussian_filter():
    """The patch sum used on sparse grids gives scipy's gaussian_filter (constant mode, cut at 3 sigma)."""
    grid = make_grid(shapely.box(0, 0, 20_000, 12_000).difference(shapely.box(3000, 3000, 6000, 6000)), cell_size=100)
    lat = FE.Lattice.from_grid(grid)
    rng = np.random.default_rng(3)
    for nnz in (5, 40, 3000):  # sparse, sparse, dense (the filter itself)
        v = np.zeros(len(grid))
        v[rng.choice(len(grid), nnz, replace=False)] = rng.integers(1, 5, nnz)
        v[0] = 2.0  # a cell at the lattice's corner: its kernel is cut by the edge
        for sigma in (100.0, 250.0, 1000.0):
            want = ndimage.gaussian_filter(lat._plane(v), sigma / 100, mode="constant", truncate=3.0).ravel()[lat.ids]
            np.testing.assert_allclose(lat.smooth(v, sigma), want, rtol=1e-10, atol=1e-14)


def test_lattice_needs_square_grid():
    hexgrid = make_grid(shapely.box(0, 0, 1000, 1000), cell_size=100, shape="hex")
    with pytest.raises(InputError, match="square grid"):
        FE.Lattice.from_grid(hexgrid)


def test_history_windows_and_smoothing_are_the_direct_ones(toy):
    grid, m = toy
    h = history_of(grid, m)
    for j, w in ((6, None), (6, 3), (2, 3), (12, 1)):
        lo = j - (j if w is None else min(w, j))
        np.testing.assert_allclose(h.window(j, w), m[:, lo:j].mean(axis=1))
        np.testing.assert_allclose(h.window(j, w, "sqrt"), np.sqrt(m[:, lo:j]).mean(axis=1))
        np.testing.assert_allclose(h.window(j, w, "active"), (m[:, lo:j] > 0).mean(axis=1))
        direct = h.lattice.smooth(m[:, lo:j].mean(axis=1), 250.0)
        np.testing.assert_allclose(h.smoothed(j, 250.0, w), direct, atol=1e-12)
        np.testing.assert_allclose(h.neighbours(j, w), h.lattice.neighbour_sum(m[:, lo:j].mean(axis=1)), atol=1e-12)
    rows = np.array([5, 2, 800])
    np.testing.assert_allclose(h.smoothed(6, 500.0, 3, rows=rows), h.smoothed(6, 500.0, 3)[rows])
    tight = FE.History(m, h.lattice, cache_bytes=1)  # no cache: each window smoothed when asked
    np.testing.assert_allclose(tight.smoothed(6, 500.0), h.smoothed(6, 500.0), atol=1e-12)
    with pytest.raises(InputError, match=r"origin must be a whole number of months in 1\.\.12, got 13"):
        h.window(13)
    with pytest.raises(InputError, match="matrix must hold finite counts >= 0"):
        FE.History(-m, h.lattice)


def test_static_features_hand_computed():
    grid = toy_grid(5)
    xy = cell_centres(grid)
    venues = gpd.GeoDataFrame(geometry=gpd.points_from_xy([xy[0, 0]], [xy[0, 1]]), crs=C.CRS)
    halves = [shapely.box(0, 0, 250, 500), shapely.box(250, 0, 500, 500)]
    lsoa = gpd.GeoDataFrame({FE.F_IMD: [10, 2000]}, geometry=halves, crs=C.CRS)
    st = FE.static_features(grid, venues=venues, lsoa=lsoa, venue_radius_m=150.0)
    assert list(st.columns) == FE.STATIC_FEATURES
    area = np.pi * 0.15**2
    # cell 0 holds the venue; its right and upper neighbours are 100 m away, the diagonal 141 m
    assert st[FE.F_VENUE_DENSITY].iloc[0] == pytest.approx(1 / area)
    assert st[FE.F_VENUE_DISTANCE].iloc[0] == pytest.approx(0.0)
    assert st[FE.F_VENUE_DISTANCE].iloc[6] == pytest.approx(np.hypot(100, 100))
    assert st[FE.F_VENUE_DENSITY].iloc[2] == 0.0
    assert st[FE.F_IMD].iloc[0] == 10 and st[FE.F_IMD].iloc[4] == 2000
    assert FE.static_features(grid).isna().all().all()


# --------------------------------------------------------------------------------------
# features: only training months, long-data features gated
# --------------------------------------------------------------------------------------


def test_cell_features_use_training_months_only(toy):
    grid, m = toy
    a = FE.cell_features(history_of(grid, m), 6)
    later = m.copy()
    later[:, 6:] = 99.0
    b = FE.cell_features(history_of(grid, later), 6)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == FE.feature_names(FC.ForecastConfig(), seasonal=False)
    assert np.allclose(a[FE.F_RATE_ALL], m[:, :6].mean(axis=1))
    assert np.allclose(a[FE.F_LAG1], m[:, 5])
    assert np.allclose(a[FE.F_RATE_3], m[:, 3:6].mean(axis=1))
    assert np.allclose(a[FE.F_ACTIVE], (m[:, :6] > 0).mean(axis=1))
    assert (a[FE.F_HISTORY] == 6).all()
    rows = np.array([3, 0, 17])
    np.testing.assert_allclose(FE.feature_array(history_of(grid, m), 6, rows=rows), a.to_numpy()[rows], equal_nan=True)


def test_seasonal_features_only_when_asked():
    grid = toy_grid(4)
    m = np.ones((len(grid), 30))
    h = history_of(grid, m)
    f = FE.cell_features(h, 26, seasonal=True, start_month=11)
    assert FE.F_RATE_12 in f.columns and FE.F_MONTH in f.columns
    assert (f[FE.F_MONTH] == (11 - 1 + 26) % 12 + 1).all()  # first forecast month
    assert FE.F_MONTH not in FE.cell_features(h, 26).columns
    # one year of data never teaches 12-month windows: the models train without them
    x, _, _ = MO._training_rows(history_of(grid, m[:, :12]), 12, 1, static=None, start_month=1, cfg=FAST)
    assert x.shape[1] == len(FE.feature_names(FAST, seasonal=False))
    x, _, _ = MO._training_rows(h, 26, 1, static=None, start_month=1, cfg=FAST)
    names = FE.feature_names(FAST, seasonal=True)
    assert x.shape[1] == len(names) and x[:, names.index(FE.F_HISTORY)].min() == 12  # origins start at 12


def test_cell_features_errors(toy):
    grid, m = toy
    h = history_of(grid, m)
    with pytest.raises(InputError, match=r"origin k must be a whole number of months in 1\.\.12, got 13"):
        FE.cell_features(h, 13)
    with pytest.raises(InputError, match="seasonal features need start_month"):
        FE.cell_features(h, 6, seasonal=True)
    with pytest.raises(InputError, match="static features have 3 rows but the matrix has 900 cells"):
        FE.cell_features(h, 6, static=pd.DataFrame({FE.F_IMD: [1.0, 2.0, 3.0]}))


# --------------------------------------------------------------------------------------
# the ensemble
# --------------------------------------------------------------------------------------


def test_ensemble_grid_starts_with_counts_and_counts_setting_is_counts(toy):
    grid, m = toy
    g = EN.ensemble_grid(FC.ForecastConfig())
    assert g[0] == EN.EnsembleParams("raw", 0.0, 0.0, 100.0)
    assert len(g) == len(set(g)) == 2 * 3 * (1 + 3 * 4)
    f = EN.ensemble_forecast(history_of(grid, m), 6, 3, g[0])
    assert np.allclose(f, 3 * m[:, :6].mean(axis=1))


def test_ensemble_sqrt_forecast_keeps_the_long_run_total(toy):
    grid, m = toy
    p = EN.EnsembleParams("sqrt", 0.5, 2.0, 250.0)
    f = EN.ensemble_forecast(history_of(grid, m), 6, 3, p)
    assert f.sum() == pytest.approx(3 * m[:, :6].mean(axis=1).sum())
    assert (f >= 0).all()


def test_score_calibration_keeps_the_order_of_the_scores():
    cal = EN.ScoreCalibration(np.array([0.0, 1.0, 2.0]), np.array([0.0, 5.0, 5.0]))
    s = np.array([0.5, 1.5, 1.7, 1.7, 3.0, 0.0])
    f = cal(s)
    np.testing.assert_array_equal(np.argsort(-f, kind="stable"), np.argsort(-s, kind="stable"))
    assert f[2] == f[3] and f[1] < f[2] < f[4]  # flat stretch: kept apart by the tie-breaker only
    assert f[1] == pytest.approx(5.0, abs=1e-5) and f[0] == pytest.approx(2.5, abs=1e-5)


def test_calibrated_ensemble_ranks_like_its_score(toy):
    grid, m = toy
    h = history_of(grid, m)
    f, why = MO.forecast_cells("ensemble", h, 9, 3, cfg=FAST)
    assert why["calibration"].startswith("isotonic")
    params = next(p for p in EN.ensemble_grid(FAST) if p.label() == why["params"])
    score = EN.ensemble_forecast(h, 9, 3, params)
    test = m[:, 9:].sum(axis=1)
    for cov in (0.01, 0.05, 0.1):
        assert FE.pei_fast(f, test, cov) == pytest.approx(FE.pei_fast(score, test, cov), abs=1e-12)
    assert f.sum() == pytest.approx(3 * m[:, :9].mean(axis=1).sum(), rel=0.3)  # about the long-run total


def test_ensemble_search_without_inner_fold_uses_counts(toy):
    grid, m = toy
    s = EN.EnsembleSearch(history_of(grid, m), FAST)
    p, why = s.choose(1, 3)
    assert p == s.grid[0] and why["inner_folds"] == 0
    p, why = s.choose(6, 3)
    assert why["inner_folds"] == 3 and why["inner_horizon"] == 3  # inner folds train on 1..j, j = 1..3
    assert why["inner_pei"] >= why["inner_pei_counts"]


# --------------------------------------------------------------------------------------
# no leakage: adding later months never changes a fold
# --------------------------------------------------------------------------------------


def _without_seconds(fits: pd.DataFrame) -> pd.DataFrame:
    out = fits[[E.HORIZON, E.FOLD, E.METHOD, B.DETAIL]].copy()
    out[B.DETAIL] = out[B.DETAIL].map(lambda d: str({k: v for k, v in d.items() if k != "seconds"}))
    return out.reset_index(drop=True)


def test_backtest_no_leakage_adding_later_months(toy):
    grid, m = toy
    inc = incidents_from(m, grid, MONTHS)
    kw = dict(coverages=(0.01, 0.05), horizons=(1, 3), min_train_months=3, cfg=FAST)
    cut = B.forecast_backtest(inc[inc[C.MONTH] <= "2020-07"], grid, months=MONTHS[:7], **kw)
    full = B.forecast_backtest(inc, grid, months=MONTHS, **kw)
    key = [E.HORIZON, E.FOLD]
    a = cut.results.reset_index(drop=True)
    b = full.results.merge(a[key].drop_duplicates(), on=key).reset_index(drop=True)
    assert len(a) == len(b) > 0
    pd.testing.assert_frame_equal(a, b)
    # and what each fold chose or fitted is the same
    fb = full.fits.merge(cut.fits[key].drop_duplicates(), on=key)
    pd.testing.assert_frame_equal(_without_seconds(cut.fits), _without_seconds(fb))


def test_no_leakage_with_subsampled_training_rows(toy):
    grid, m = toy
    cfg = dataclasses.replace(FAST, max_rows=1500, seed=3)  # forces the seeded subsample
    a, info = MO.model_forecast("hgb", history_of(grid, m[:, :7]), 6, 1, cfg=cfg)
    later = m.copy()
    later[:, 7:] = 50
    b, _ = MO.model_forecast("hgb", history_of(grid, later), 6, 1, cfg=cfg)
    assert info["training_rows"] < 900 * 5
    np.testing.assert_array_equal(a, b)


def test_real_city_violence_no_leakage(study):
    inc = study.incidents[study.incidents[C.SOURCE] == "city_violence_2020"]
    geom, _ = E.evaluation_area(inc, study.lsoa)
    grid = make_grid(geom, cell_size=100)
    kw = dict(coverages=(0.05,), horizons=(1,), min_train_months=3, venues=study.venues, lsoa=study.lsoa, cfg=FAST)
    full = B.forecast_backtest(inc, grid, months=MONTHS[:5], **kw)
    cut = B.forecast_backtest(inc[inc[C.MONTH] <= "2020-04"], grid, months=MONTHS[:4], **kw)
    a = full.results[full.results[E.FOLD] == 1].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, cut.results.reset_index(drop=True))
    assert len(grid) == 7797  # the grid of `hotspots evaluate`: 100 m cells over the City
    counts = a[a[E.METHOD] == "counts"][M.PEI].iloc[0]
    assert counts == pytest.approx(0.531, abs=0.001)  # the first next-month fold of `hotspots evaluate`


# --------------------------------------------------------------------------------------
# planted signal: a rising trend the long run cannot see
# --------------------------------------------------------------------------------------


def test_planted_rising_trend_beats_long_run_counts():
    grid = toy_grid(30)
    n, t = len(grid), 12
    rng = np.random.default_rng(7)
    rate = np.full((n, t), 0.05)
    cells = rng.permutation(n)
    stable, rising = cells[:100], cells[100:140]
    rate[stable] = 3.0  # busy all year
    rate[rising] = 0.8 * np.arange(t)  # none in January, 8.8 a month in December
    m = rng.poisson(rate).astype(float)
    # 5 % of 900 cells = 45: the 40 rising cells should fill them, but the long run still favours
    # the stable cells in the early folds (after 6 months: 12 against 18 incidents)
    bt = B.backtest_matrix(
        m,
        months=MONTHS,
        lattice=FE.Lattice.from_grid(grid),
        coverages=(0.05,),
        horizons=(3,),
        min_train_months=5,
        cfg=FAST,
    )
    mean = bt.results.groupby(E.METHOD)[M.PEI].mean()
    # measured with seeds 7, 8, 9: ensemble +0.06 to +0.08, hgb +0.22 to +0.24, poisson +0.16 to +0.19
    assert mean["ensemble"] > mean["counts"] + 0.04, mean
    assert mean["hgb"] > mean["counts"] + 0.1, mean
    assert mean["poisson"] > mean["counts"] + 0.1, mean
    last = bt.fits[bt.fits[E.METHOD] == "ensemble"][B.DETAIL].iloc[-1]["params"]
    assert "recent 0.5" in last  # the inner folds learnt to weigh the recent months


def test_no_signal_ensemble_does_not_lose_much(toy):
    grid, m = toy
    bt = B.backtest_matrix(
        m,
        months=MONTHS,
        lattice=FE.Lattice.from_grid(grid),
        methods=("counts", "ensemble"),
        coverages=(0.05,),
        horizons=(3,),
        cfg=FAST,
    )
    mean = bt.results.groupby(E.METHOD)[M.PEI].mean()
    assert mean["ensemble"] > mean["counts"] - 0.05


# --------------------------------------------------------------------------------------
# calibration
# --------------------------------------------------------------------------------------


def test_calibration_table_shape_and_totals():
    rng = np.random.default_rng(0)
    pred = rng.gamma(0.5, 2.0, 5000)
    obs = rng.poisson(pred).astype(float)
    t = K.calibration_table(pred, obs)
    assert list(t.columns) == K.CALIBRATION_COLUMNS
    assert t[K.DECILE].tolist() == list(range(1, 11))
    assert t[K.CELLS].sum() == 5000 and (t[K.CELLS] == 500).all()
    assert t[K.PREDICTED_TOTAL].sum() == pytest.approx(pred.sum())
    assert t[K.OBSERVED_TOTAL].sum() == pytest.approx(obs.sum())
    assert (np.diff(t[K.PREDICTED_MEAN]) > 0).all()  # deciles in order of the forecast
    assert (t[K.FORECAST_MIN] <= t[K.FORECAST_MAX]).all()
    assert (t[K.FORECAST_MAX].to_numpy()[:-1] <= t[K.FORECAST_MIN].to_numpy()[1:]).all()
    # a calibrated forecast: observed within sampling error of predicted in every decile
    se = np.sqrt(t[K.PREDICTED_MEAN] / t[K.CELLS])
    assert (np.abs(t[K.OBSERVED_MEAN] - t[K.PREDICTED_MEAN]) < 4 * se + 1e-9).all()


def test_calibration_ties_share_a_decile_and_groups_pool():
    t = K.calibration_table([0, 0, 0, 0, 0, 0, 1, 2, 3, 4], [0, 1, 0, 0, 0, 0, 1, 2, 3, 4], bins=5)
    assert t[K.DECILE].tolist() == [2, 4, 5]  # the six zeros share one bin (average rank 3.5 of 10)
    assert t[K.CELLS].tolist() == [6, 2, 2] and t[K.OBSERVED_TOTAL].tolist() == [1.0, 3.0, 7.0]
    two = K.calibration_table([1, 2, 3, 4], [1, 2, 3, 4], groups=["a", "a", "b", "b"], bins=2)
    assert two[K.CELLS].tolist() == [2, 2] and two[K.PREDICTED_TOTAL].tolist() == [4.0, 6.0]


def test_calibration_errors():
    with pytest.raises(InputError, match="predicted has 2 values but observed has 3"):
        K.calibration_table([1, 2], [1, 2, 3])
    with pytest.raises(InputError, match=r"observed must be non-negative numbers; position 1 holds -1.0"):
        K.calibration_table([1, 2], [1, -1])
    with pytest.raises(InputError, match="bins must be a whole number >= 2, got 1"):
        K.calibration_table([1, 2], [1, 2], bins=1)


def test_backtest_calibration_and_fits(toy):
    grid, m = toy
    bt = B.backtest_matrix(
        m,
        months=MONTHS,
        lattice=FE.Lattice.from_grid(grid),
        coverages=(0.05,),
        horizons=(1,),
        min_train_months=9,
        cfg=FAST,
    )
    assert set(bt.calibration[E.METHOD]) == set(FC.FORECAST_METHODS)
    c = bt.calibration[bt.calibration[E.METHOD] == "counts"]
    assert c[K.CELLS].sum() == 900 * 3  # 3 folds pooled
    assert c[K.OBSERVED_TOTAL].sum() == pytest.approx(m[:, 9:].sum())
    assert set(bt.fits[E.METHOD]) == set(FC.FORECAST_METHODS) and (bt.fits[B.SECONDS] >= 0).all()
    png = K.figure_png(K.calibration_figure(bt.calibration, methods=["counts", "poisson"], title="toy"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InputError, match="table lacks columns"):
        K.calibration_figure(bt.calibration.drop(columns=[K.OBSERVED_MEAN]))


# --------------------------------------------------------------------------------------
# configuration and errors
# --------------------------------------------------------------------------------------


def test_forecast_config_errors():
    with pytest.raises(ConfigError, match=r"\[forecast\] key 'ensemble_transforms' must be among raw, sqrt"):
        FC.ForecastConfig(ensemble_transforms=("log",))
    with pytest.raises(ConfigError, match=r"'select_coverage' must be a share of the area in \(0, 1\], got 5"):
        FC.ForecastConfig(select_coverage=5)
    with pytest.raises(ConfigError, match=r"'max_rows' must be a whole number >= 1, got 0"):
        FC.ForecastConfig(max_rows=0)
    with pytest.raises(ConfigError, match="'smooth_m' must be a non-empty list of distances > 0 metres"):
        FC.ForecastConfig(smooth_m=(100.0, -1.0))
    with pytest.raises(ConfigError, match=r"'ensemble_recent_shares' must be shares in \[0, 1\]"):
        FC.ForecastConfig(ensemble_recent_shares=(1.5,))
    with pytest.raises(ConfigError, match="'methods' has unknown method 'kde'; choose from counts, last_period"):
        FC.ForecastConfig(methods=("kde",))
    with pytest.raises(ConfigError, match=r"'min_months' must be a whole number >= min_train_months \+ horizon \(6\)"):
        FC.ForecastConfig(min_months=5)
    assert FC.ForecastConfig().to_dict()["smooth_m"] == [100.0, 250.0, 500.0, 1000.0]
    assert FC.auto_cell_size(78e6, max_cells=60_000) == 100.0 and FC.auto_cell_size(2.18e9, max_cells=60_000) == 200.0


def test_forecast_errors(toy):
    grid, m = toy
    h = history_of(grid, m)
    lat = h.lattice
    with pytest.raises(InputError, match="unknown forecast method 'kde'"):
        MO.forecast_cells("kde", h, 6, 1)
    with pytest.raises(InputError, match=r"h must be a whole number of months >= 1, got 0"):
        MO.forecast_cells("counts", h, 6, 0)
    with pytest.raises(InputError, match=r"k must be a whole number of training months in 1\.\.12, got 0"):
        MO.forecast_cells("counts", h, 0, 1)
    with pytest.raises(InputError, match="model method must be 'hgb' or 'poisson', got 'glm'"):
        MO.model_forecast("glm", h, 6, 1)
    with pytest.raises(InputError, match="too few months for a backtest: 3"):
        B.backtest_matrix(m[:, :3], months=MONTHS[:3], lattice=lat)
    with pytest.raises(InputError, match="matrix must be cells x months with 12 month columns"):
        B.backtest_matrix(m[:, :5], months=MONTHS, lattice=lat)
    with pytest.raises(InputError, match="unknown forecast method 'gistar'"):
        B.backtest_matrix(m, months=MONTHS, lattice=lat, methods=("gistar",))
    inc = incidents_from(m, grid, MONTHS)
    with pytest.raises(InputError, match="no 'month' column"):
        B.forecast_backtest(inc.drop(columns=[C.MONTH]), grid)


def test_model_falls_back_to_counts_without_training_origin(toy):
    grid, m = toy
    f, info = MO.model_forecast("poisson", history_of(grid, m), 1, 3, cfg=FAST)
    assert "fallback" in info
    np.testing.assert_allclose(f, 3 * m[:, 0])


def test_unstable_model_warns(toy, monkeypatch):
    grid, m = toy
    from sklearn.ensemble import HistGradientBoostingRegressor

    monkeypatch.setattr(HistGradientBoostingRegressor, "predict", lambda self, x: np.full(len(x), 100.0))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        MO.model_forecast("hgb", history_of(grid, m), 6, 1, cfg=FAST)
    assert any("unstable" in str(x.message) for x in w)


def test_folds_from_results_mirror_evaluate(toy):
    grid, m = toy
    inc = incidents_from(m, grid, MONTHS)
    res = E.backtest(inc, grid, months=MONTHS, methods=["counts"], coverages=[0.05], horizons=[1, 3])
    folds, skipped = B.folds_from_results(res, MONTHS)
    assert folds == B.forecast_folds(12, [1, 3], 3) and skipped == []
    odd = res.copy()
    odd.loc[odd[E.FOLD] == 2, E.TRAIN_MONTHS] = "2020-02..2020-04"  # not an expanding window from the first month
    folds, skipped = B.folds_from_results(odd, MONTHS)
    assert len(folds) == len(B.forecast_folds(12, [1, 3], 3)) - 2 and len(skipped) == 2
    assert "not an expanding window over consecutive months" in skipped[0]
