"""KDE: scikit-learn and brute force as oracles, bandwidth rule, dual KDE, errors."""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree
from sklearn.neighbors import KernelDensity

from hotspots import columns as C
from hotspots.detect.kde import KDE, choose_bandwidth, dual_kde, hotspot_kde
from hotspots.errors import HotspotsWarning, InputError
from hotspots.units import cell_centres, make_grid


def pts(xy, crs="EPSG:27700", **cols):
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    return gpd.GeoDataFrame(cols, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=crs)


@pytest.fixture(scope="module")
def sample():
    rng = np.random.default_rng(11)
    xy = np.vstack([rng.uniform(0, 4000, (1500, 2)), rng.normal(1500, 150, (400, 2)), rng.normal(3000, 80, (100, 2))])
    return pts(xy, harm=rng.choice([1.0, 1.5, 4.0], len(xy)))


@pytest.mark.parametrize("shape", ["square", "hex"])
@pytest.mark.parametrize("bandwidth", [70.0, 150.0, 400.0])
def test_gaussian_matches_sklearn(sample, shape, bandwidth):
    g = make_grid(shapely.box(0, 0, 4000, 4000), cell_size=100, shape=shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HotspotsWarning)  # 70 m < the 100 m cell: warned, still exact
        d = hotspot_kde(sample, g, bandwidth=bandwidth, kernel="gaussian", weights="harm")
    xy = shapely.get_coordinates(sample.geometry.values)
    w = sample["harm"].to_numpy()
    kd = KernelDensity(bandwidth=bandwidth, kernel="gaussian").fit(xy, sample_weight=w)
    ref = np.exp(kd.score_samples(cell_centres(g))) * w.sum() * 1e6
    assert np.corrcoef(ref, d)[0, 1] >= 0.999
    assert d.sum() / ref.sum() == pytest.approx(1.0, abs=0.01)  # same units: harm per km²


@pytest.mark.parametrize("bandwidth", [120.0, 450.0])
def test_quartic_matches_brute_force(sample, bandwidth):
    """scikit-learn has no quartic kernel; the exact sum of 3/(pi h²)(1 - d²/h²)² is the oracle."""
    g = make_grid(shapely.box(0, 0, 4000, 4000), cell_size=100)
    d = hotspot_kde(sample, g, bandwidth=bandwidth, kernel="quartic")
    xy = shapely.get_coordinates(sample.geometry.values)
    w = sample["harm"].to_numpy()
    c = cell_centres(g)
    tree = cKDTree(xy)
    ref = np.zeros(len(c))
    for i, nb in enumerate(tree.query_ball_point(c, bandwidth)):
        if nb:
            u2 = ((xy[nb] - c[i]) ** 2).sum(axis=1) / bandwidth**2
            ref[i] = (w[nb] * 3 / (math.pi * bandwidth**2) * (1 - u2) ** 2).sum() * 1e6
    assert np.corrcoef(ref, d)[0, 1] >= 0.999
    assert d.sum() / ref.sum() == pytest.approx(1.0, abs=0.02)


def test_result_contract_and_mass(sample):
    g = make_grid(shapely.box(-2000, -2000, 6000, 6000), cell_size=100)
    d = hotspot_kde(sample, g, bandwidth=200, weights="harm")
    assert d.name == KDE and d.index.equals(g.index) and (d >= 0).all()
    assert d.attrs == {"bandwidth": 200.0, "kernel": "quartic"}
    # far from the edges the surface holds the whole harm (cells are 0.01 km²)
    assert d.sum() * 0.01 == pytest.approx(sample["harm"].sum(), rel=0.01)
    counts = hotspot_kde(sample, g, bandwidth=200, weights=None)
    assert counts.sum() * 0.01 == pytest.approx(len(sample), rel=0.01)
    doubled = hotspot_kde(sample.assign(harm=sample["harm"] * 2), g, bandwidth=200)
    np.testing.assert_allclose(doubled, 2 * d, rtol=1e-9, atol=1e-9)


def test_bandwidth_rule_scales_like_silverman(sample):
    h = choose_bandwidth(sample, weights=None)
    scaled = pts(shapely.get_coordinates(sample.geometry.values) * 2)
    assert choose_bandwidth(scaled, weights=None) == pytest.approx(2 * h)
    # n ** -0.2: 32 copies of every point halve the bandwidth
    copies = pts(np.tile(shapely.get_coordinates(sample.geometry.values), (32, 1)))
    assert choose_bandwidth(copies, weights=None) == pytest.approx(h / 2, rel=1e-6)
    assert choose_bandwidth(sample, weights=None, kernel="gaussian") == pytest.approx(h / 2.778)
    # the rule by hand on a square of 4 points: SD = Dm = sqrt(2) * 500, n = 4
    sq = pts([[0, 0], [1000, 0], [0, 1000], [1000, 1000]])
    assert choose_bandwidth(sq, weights=None) == pytest.approx(0.9 * 500 * 2**0.5 * 4**-0.2)


def test_default_bandwidth_on_real_data(study):
    g = make_grid(study.area, cell_size=250)
    d = hotspot_kde(study.incidents, g)
    assert 400 < d.attrs["bandwidth"] < 550
    square = gpd.GeoSeries([shapely.Point(-1.1500, 52.9530)], crs=4326).to_crs(C.CRS).iloc[0]
    top = g.loc[d.idxmax(), "geometry"]
    assert top.distance(square) < 1000  # the densest cell is in Nottingham city centre


def test_warns_when_bandwidth_below_cell(sample):
    g = make_grid(shapely.box(0, 0, 4000, 4000), cell_size=200)
    with pytest.warns(HotspotsWarning, match=r"KDE bandwidth 150 m is smaller than the cell size 200 m"):
        hotspot_kde(sample, g, bandwidth=150)


def test_dual_kde_population_and_venues(study):
    g = make_grid(study.area, cell_size=250)
    r = dual_kde(study.incidents, g, denominator="population", lsoa=study.lsoa)
    assert r.index.equals(g.index)
    ok = r.notna()
    assert ok.mean() > 0.3 and (r[ok] >= 0).all()
    assert r.attrs["denominator"] == "population" and r.attrs["min_denominator"] == 100.0
    v = dual_kde(study.incidents, g, denominator="venues", venues=study.venues)
    assert v.notna().sum() > 0 and v.notna().sum() < ok.sum()
    with pytest.raises(InputError, match=r"dual KDE by venues needs venues= with at least one venue"):
        dual_kde(study.incidents, g, denominator="venues")
    with pytest.raises(InputError, match=r"denominator must be one of \['population', 'venues'\], got 'jobs'"):
        dual_kde(study.incidents, g, denominator="jobs")


def test_population_dual_kde_is_the_rate():
    """Uniform residents and a uniform incident rate give the same ratio everywhere."""
    cells = [shapely.box(x, y, x + 1000, y + 1000) for x in range(0, 4000, 1000) for y in range(0, 4000, 1000)]
    lsoa = gpd.GeoDataFrame({C.POPULATION: [1000.0] * 16}, geometry=cells, crs=C.CRS)
    g = make_grid(shapely.box(0, 0, 4000, 4000), cell_size=100)
    xs = np.arange(25, 4000, 50.0)
    xy = np.array([(x, y) for x in xs for y in xs])  # 6,400 incidents on 16,000 residents: 400 per 1,000
    r = dual_kde(pts(xy), g, lsoa=lsoa, bandwidth=300, weights=None)
    centre = cell_centres(g)
    inner = (centre.min(axis=1) > 600) & (centre.max(axis=1) < 3400)
    np.testing.assert_allclose(r[inner], 400.0, rtol=0.02)


def test_errors_are_clear(sample):
    g = make_grid(shapely.box(0, 0, 1000, 1000), cell_size=100)
    with pytest.raises(InputError, match=r"kernel must be one of \['quartic', 'gaussian'\], got 'triangular'"):
        hotspot_kde(sample, g, kernel="triangular")
    with pytest.raises(InputError, match=r"bandwidth must be a positive number of metres, got -1"):
        hotspot_kde(sample, g, bandwidth=-1)
    with pytest.raises(InputError, match=r"no incidents: there is nothing to estimate"):
        hotspot_kde(sample.iloc[:0], g, bandwidth=100)
    with pytest.raises(InputError, match=r"cannot choose a bandwidth from 1 point\(s\) at 1 distinct location"):
        hotspot_kde(sample.iloc[:1], g)
    with pytest.raises(InputError, match=r"incidents is in a geographic CRS"):
        hotspot_kde(pts([[-1.15, 52.95]], crs=4326), g, bandwidth=100)
    with pytest.raises(InputError, match=r"grid has no lattice information"):
        hotspot_kde(sample, gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)], crs=C.CRS), bandwidth=100)
    # a single point with a given bandwidth is fine: a kernel-shaped bump, no NaN
    one = hotspot_kde(pts([[550, 550]]), g, bandwidth=300, weights=None)
    assert one.notna().all() and one.idxmax() == g.index[(g.geometry.contains(shapely.Point(550, 550)))][0]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-500, 1500), st.floats(-500, 1500)), min_size=1, max_size=40),
    st.floats(20, 600),
    st.sampled_from(["quartic", "gaussian"]),
)
def test_densities_are_non_negative_and_finite(xy, bandwidth, kernel):
    g = make_grid(shapely.box(0, 0, 1000, 1000), cell_size=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = hotspot_kde(pts(xy), g, bandwidth=bandwidth, kernel=kernel, weights=None)
    assert np.isfinite(d).all() and (d >= 0).all()
