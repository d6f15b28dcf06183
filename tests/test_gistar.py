"""Gi* building blocks (weights, analytic z with esda as the oracle, FDR, classes) and the verb's analytic option."""

from __future__ import annotations

import warnings

import esda
import geopandas as gpd
import numpy as np
import pytest
import scipy.sparse as sp
import shapely
from conftest import assert_frame_contract
from hypothesis import given, settings
from hypothesis import strategies as st
from libpysal.graph import Graph

from hotspots import columns as C
from hotspots.detect.gistar import (
    COLD_99,
    GISTAR_COLUMNS,
    HOT_90,
    HOT_95,
    HOT_99,
    HOTSPOT_CLASSES,
    NOT_SIGNIFICANT,
    classify,
    contiguity_weights,
    fdr_bh,
    gistar,
    grid_weights,
)
from hotspots.detect.inference import hotspot_gistar
from hotspots.errors import HotspotsWarning, InputError
from hotspots.units import CELL_ID, lsoa_units, make_grid

HOT = [HOT_99, HOT_95, HOT_90]


def esda_z(x, W):
    """esda's Gi* z (star=True, binary) for binary weights W that include self."""
    A = sp.csr_array(W).tolil()
    A.setdiag(0)
    g = Graph.from_sparse(sp.csr_array(A.tocsr()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return esda.G_Local(x, g, transform="B", star=True, permutations=0).Zs


def square_grid(n=30, size=100):
    return make_grid(shapely.box(0, 0, n * size, n * size), cell_size=size)


def with_values(grid, values):
    """Counts as both ``n`` and ``harm`` (every mark 1)."""
    attrs = dict(grid.attrs)
    v = np.asarray(values, dtype=float)
    out = grid.assign(n=np.where(np.isfinite(v), np.round(v), 0.0), harm=v)
    out.attrs = attrs
    return out


@pytest.mark.parametrize("shape", ["square", "hex"])
def test_z_matches_esda_on_grid(shape):
    g = make_grid(shapely.Point(0, 0).buffer(2000), cell_size=150, shape=shape)
    x = np.random.default_rng(1).poisson(2.0, len(g)).astype(float)
    W = grid_weights(g)
    z, p = gistar(x, W)
    np.testing.assert_allclose(z, esda_z(x, W), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(p, 2 * (1 - __import__("scipy").stats.norm.cdf(np.abs(z))), atol=1e-12)


def test_z_matches_esda_on_real_lsoa_contiguity(study):
    u = lsoa_units(study.incidents, study.lsoa)
    W = contiguity_weights(u)
    z, _ = gistar(u["harm"].to_numpy(), W)
    np.testing.assert_allclose(z, esda_z(u["harm"].to_numpy(), W), rtol=1e-9)
    assert (W.diagonal() == 1).all() and (abs(W - W.T)).sum() == 0


@pytest.mark.parametrize("shape,band", [("square", 100 * 2**0.5), ("hex", 100.0)])
def test_queen_lattice_equals_distance_band(shape, band):
    g = make_grid(shapely.Point(0, 0).buffer(1500), cell_size=100, shape=shape)
    Wq = grid_weights(g)
    Wd = grid_weights(g, distance=band)
    assert abs(Wq - Wd).sum() == 0
    deg = np.asarray(Wq.sum(axis=1)).ravel()
    assert deg.max() == (9 if shape == "square" else 7)  # neighbours + self
    assert (Wq.diagonal() == 1).all() and abs(Wq - Wq.T).sum() == 0


def test_planted_cluster_is_found():
    g = square_grid(30)
    rng = np.random.default_rng(7)
    x = rng.poisson(1.0, len(g)).astype(float)
    rows, cols = np.divmod(g[CELL_ID].to_numpy(), g.attrs["grid"]["ncols"])
    block = (rows >= 12) & (rows < 16) & (cols >= 20) & (cols < 24)
    x[block] += rng.poisson(6.0, block.sum())
    r = hotspot_gistar(with_values(g, x), value="n")
    assert_frame_contract(r, [CELL_ID, "n", "harm", *GISTAR_COLUMNS])
    assert (r.loc[block, "hotspot_class"] == HOT_99).mean() >= 0.75
    hot = r["hotspot_class"].isin(HOT).to_numpy()
    # hot cells outside the block must touch it (queen spillover), nowhere else
    near = (rows >= 11) & (rows < 17) & (cols >= 19) & (cols < 25)
    assert not (hot & ~near).any()


def test_planted_cold_spot_is_found():
    g = square_grid(30)
    x = np.random.default_rng(2).poisson(8.0, len(g)).astype(float)
    rows, cols = np.divmod(g[CELL_ID].to_numpy(), g.attrs["grid"]["ncols"])
    block = (rows < 5) & (cols < 5)
    x[block] = 0
    r = hotspot_gistar(with_values(g, x), value="n")
    inner = (rows < 4) & (cols < 4)
    assert (r.loc[inner, "hotspot_class"] == COLD_99).all()


def test_fdr_false_positives_under_csr_stay_near_alpha():
    """Complete spatial randomness, 50 points per cell on average: raw p flags ~alpha of the
    cells; BH keeps the chance of any false discovery (= FDR under the global null) near alpha.
    (With sparse counts the normal approximation understates the upper tail: at 5 points per
    cell a false hot cell appears in about 10 % of maps; see the README.)"""
    g = square_grid(40)
    W = grid_weights(g)
    raw_share, any_fdr = [], []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        xy = rng.uniform(0, 4000, (80_000, 2))
        col = (xy[:, 0] // 100).astype(int)
        row = (xy[:, 1] // 100).astype(int)
        counts = np.bincount(row * 40 + col, minlength=1600).astype(float)
        x = counts[g[CELL_ID].to_numpy()]
        _z, p = gistar(x, W)
        raw_share.append((p <= 0.05).mean())
        any_fdr.append((fdr_bh(p) <= 0.05).any())
    assert 0.04 <= np.mean(raw_share) <= 0.06
    assert np.mean(any_fdr) <= 0.125  # nominal 0.05 (0.05 measured over 200 seeds); 40 seeds here


def test_fdr_bh_matches_the_textbook_procedure():
    p = np.random.default_rng(0).uniform(0, 0.2, 200) ** 2
    m = len(p)
    order = np.argsort(p)
    q_sorted = np.minimum.accumulate((p[order] * m / np.arange(1, m + 1))[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(q_sorted, 1)
    np.testing.assert_allclose(fdr_bh(p), q)


def test_classify_thresholds():
    z = np.array([3, 3, 3, 3, -3, -3, -3, 0.5])
    q = np.array([0.005, 0.03, 0.08, 0.2, 0.01, 0.05, 0.1, 0.001])
    assert list(classify(z, q)) == [HOT_99, HOT_95, HOT_90, NOT_SIGNIFICANT, COLD_99, "cold 95%", "cold 90%", HOT_99]
    assert set(HOTSPOT_CLASSES) == {HOT_99, HOT_95, HOT_90, NOT_SIGNIFICANT, "cold 90%", "cold 95%", COLD_99}
    # with each unit's own count: hot only where the unit holds an incident; cold needs none
    own = np.array([1, 0, 1, 1, 0, 0, 0, 0])
    assert list(classify(z, q, own))[:2] == [HOT_99, NOT_SIGNIFICANT]
    assert list(classify(z, q, own))[4] == COLD_99


def test_fdr_off_classifies_on_raw_p():
    g = square_grid(20)
    x = np.random.default_rng(5).poisson(1.0, len(g)).astype(float)
    x[:3] += 6
    r = hotspot_gistar(with_values(g, x), value="n", fdr=False)
    np.testing.assert_array_equal(r["gi_q"], r["gi_p"])
    r2 = hotspot_gistar(with_values(g, x), value="n", fdr=True)
    assert (r2["gi_q"] >= r2["gi_p"]).all()
    assert r2["hotspot_class"].isin(HOT).sum() <= r["hotspot_class"].isin(HOT).sum()


def test_polygons_default_to_contiguity_and_input_is_unchanged(study):
    u = lsoa_units(study.incidents, study.lsoa)
    before = u.copy()
    r = hotspot_gistar(u, value="harm", marks=study.incidents["harm"])
    assert_frame_contract(r, [*u.columns[:-1], *GISTAR_COLUMNS], index=u.index)
    assert u.equals(before)
    square = gpd.GeoSeries([shapely.Point(-1.1500, 52.9530)], crs=4326).to_crs(C.CRS).iloc[0]
    assert r.loc[r.contains(square), "hotspot_class"].iloc[0] == HOT_99


def test_zero_variance_warns_and_writes_no_nan():
    g = square_grid(5)
    with pytest.warns(HotspotsWarning, match=r"all values are equal \(zero variance\)"):
        with pytest.warns(HotspotsWarning, match=r"no unit is a significant hot or cold spot of 'harm'"):
            r = hotspot_gistar(with_values(g, np.full(len(g), 3.0)), inference="analytic")
    assert (r["gi_z"] == 0).all() and (r["gi_p"] == 1).all()
    assert (r["hotspot_class"] == NOT_SIGNIFICANT).all()


def test_all_points_in_one_cell():
    g = square_grid(10)
    x = np.zeros(len(g))
    x[55] = 40
    r = hotspot_gistar(with_values(g, x), inference="analytic")
    assert r["gi_z"].notna().all()
    # the cell and its 8 queen neighbours all see the 40 points: z ~ 3.18, p ~ 0.0015, BH q ~ 0.016
    # ... but only the cell holding them is hot: its neighbours hold no incident
    assert r.loc[55, "hotspot_class"] == HOT_95
    assert (r.drop(index=55)["hotspot_class"] == NOT_SIGNIFICANT).all()
    np.testing.assert_allclose(r.loc[55, "gi_z"], 36.4 / (np.sqrt(16 - 0.16) * np.sqrt((900 - 81) / 99)))


def test_errors_are_clear():
    g = square_grid(5)
    with pytest.raises(InputError, match=r"one value only: Gi\* needs at least two units"):
        gistar([1.0], sp.eye_array(1))
    with pytest.raises(InputError, match=r"weights are 3 x 3 but there are 25 values"):
        gistar(np.ones(25), sp.eye_array(3))
    with pytest.raises(
        InputError, match=r"units have no value column 'rate'; choose one of \['cell_id', 'n', 'harm'\]"
    ):
        hotspot_gistar(with_values(g, np.ones(25)), value="rate")
    bad = np.ones(25)
    bad[7] = np.nan
    with pytest.raises(
        InputError, match=r"units column 'harm' row 7 \(index 7\) is nan; the hot spot test needs a number"
    ):
        hotspot_gistar(with_values(g, bad), marks=np.ones(24))
    with pytest.raises(InputError, match=r"units are empty"):
        hotspot_gistar(with_values(g, np.ones(25)).iloc[:0])
    with pytest.raises(
        InputError, match=r"inference must be one of \['exact', 'analytic', 'permutation', 'eb_rate'\], got 'bayes'"
    ):
        hotspot_gistar(with_values(g, np.ones(25)), inference="bayes")
    geo = gpd.GeoDataFrame(
        {"n": [1, 2], "harm": [1.0, 2.0]}, geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs=4326
    )
    with pytest.raises(InputError, match=r"units is in a geographic CRS"):
        hotspot_gistar(geo)
    with pytest.raises(InputError, match=r"neighbour distance must be a positive number of metres, got -5"):
        grid_weights(g, distance=-5)
    with pytest.warns(HotspotsWarning, match=r"neighbour distance 50 m is smaller than the cell size 100 m"):
        grid_weights(g, distance=50)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1e4, allow_nan=False), min_size=16, max_size=16))
def test_p_values_are_probabilities(values):
    g = make_grid(shapely.box(0, 0, 400, 400), cell_size=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z, p = gistar(np.array(values), grid_weights(g))
    assert np.isfinite(z).all()
    assert ((p >= 0) & (p <= 1)).all()
    q = fdr_bh(p)
    assert ((q >= p - 1e-15) & (q <= 1)).all()


def test_contiguity_matches_libpysal(study):
    W = contiguity_weights(study.lsoa)
    g = Graph.build_contiguity(study.lsoa.geometry, rook=False)
    ref = sp.csr_array(g.sparse) + sp.eye_array(len(study.lsoa))
    ref.data[:] = 1
    assert abs(W - ref).sum() == 0
    # Voronoi polygons (shared edges computed once): same again
    xy = np.random.default_rng(0).uniform(0, 5000, (400, 2))
    vor = shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=shapely.box(0, 0, 5000, 5000))
    polys = gpd.GeoSeries(shapely.intersection(np.array(vor.geoms), shapely.box(0, 0, 5000, 5000)), crs=C.CRS)
    ref = sp.csr_array(Graph.build_contiguity(polys, rook=False).sparse) + sp.eye_array(400)
    ref.data[:] = 1
    assert abs(contiguity_weights(polys) - ref).sum() == 0
    with pytest.raises(InputError, match=r"polygon 1 \(index 1\) is empty"):
        contiguity_weights(gpd.GeoSeries([shapely.box(0, 0, 1, 1), shapely.Polygon()], crs=C.CRS))
