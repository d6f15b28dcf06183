"""Local Moran: planted clusters and outliers, esda as the oracle, errors."""

from __future__ import annotations

import warnings

import esda
import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import assert_frame_contract
from libpysal.graph import Graph

from hotspots import columns as C
from hotspots.detect.lisa import HH, HL, LISA_CLASSES, LISA_COLUMNS, LISA_NOT_SIGNIFICANT, LL, hotspot_lisa
from hotspots.errors import HotspotsWarning, InputError
from hotspots.units import lsoa_units


def squares(n=12, values=None):
    cells = [shapely.box(c * 100, r * 100, c * 100 + 100, r * 100 + 100) for r in range(n) for c in range(n)]
    return gpd.GeoDataFrame({"rate": values}, geometry=cells, crs=C.CRS)


def test_planted_high_cluster():
    n = 12
    rng = np.random.default_rng(0)
    x = rng.normal(10, 1, n * n)
    rows, cols = np.divmod(np.arange(n * n), n)
    block = (rows < 4) & (cols < 4)
    x[block] += 20
    r = hotspot_lisa(squares(n, x), value="rate", permutations=499, seed=1)
    assert_frame_contract(r, ["rate", *LISA_COLUMNS])
    inner = (rows < 3) & (cols < 3)
    assert (r.loc[inner, "lisa_class"] == HH).all()
    assert set(r["lisa_class"]) <= set(LISA_CLASSES)
    assert not r.loc[~block, "lisa_class"].isin([HH, HL]).any()


def test_planted_outlier_among_low_values():
    n = 12
    rng = np.random.default_rng(1)
    rows, cols = np.divmod(np.arange(n * n), n)
    x = np.where(cols < 6, 20.0, 10.0) + rng.normal(0, 1, n * n)
    outlier = 6 * n + 9  # row 6, col 9: deep in the low half
    x[outlier] = 30.0
    r = hotspot_lisa(squares(n, x), value="rate", permutations=999, seed=2)
    assert r.loc[outlier, "lisa_class"] == HL
    assert (r.loc[(cols >= 8) & (np.abs(rows - 6) > 1), "lisa_class"].isin([LL, LISA_NOT_SIGNIFICANT])).all()


def test_matches_esda_and_is_seeded(study):
    u = lsoa_units(study.incidents, study.lsoa)
    r = hotspot_lisa(u, permutations=999, seed=3)
    g = Graph.build_contiguity(u.geometry, rook=False).transform("r")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ml = esda.Moran_Local(u["rate_per_1000"].to_numpy(), g, permutations=999, seed=3, keep_simulations=False)
    np.testing.assert_allclose(r["lisa_i"], ml.Is)
    np.testing.assert_allclose(r["lisa_p"], ml.p_sim, rtol=1e-6)
    p = np.round(ml.p_sim * 1000) / 1000  # esda stores (k + 1) / 1000 in float32
    expected = np.where(p <= 0.05, np.vectorize({1: HH, 2: "LH", 3: LL, 4: HL}.get)(ml.q), LISA_NOT_SIGNIFICANT)
    np.testing.assert_array_equal(r["lisa_class"].to_numpy(), expected)
    again = hotspot_lisa(u, permutations=999, seed=3)
    assert again["lisa_p"].equals(r["lisa_p"])
    # Nottingham city centre is a high-high cluster of violence rates
    square = gpd.GeoSeries([shapely.Point(-1.1500, 52.9530)], crs=4326).to_crs(C.CRS).iloc[0]
    assert r.loc[r.contains(square), "lisa_class"].iloc[0] == HH


def test_fdr_is_stricter():
    n = 12
    x = np.random.default_rng(4).normal(10, 1, n * n)
    x[:30] += 5
    a = hotspot_lisa(squares(n, x), value="rate", permutations=199)
    b = hotspot_lisa(squares(n, x), value="rate", permutations=199, fdr=True)
    assert (b["lisa_class"] != LISA_NOT_SIGNIFICANT).sum() <= (a["lisa_class"] != LISA_NOT_SIGNIFICANT).sum()


def test_zero_variance_and_islands_warn():
    with pytest.warns(HotspotsWarning, match=r"all values of 'rate' are equal \(zero variance\)"):
        r = hotspot_lisa(squares(4, np.ones(16)), value="rate", permutations=99)
    assert (r["lisa_class"] == LISA_NOT_SIGNIFICANT).all() and r["lisa_p"].notna().all()
    g = squares(4, np.arange(16.0))
    g.loc[16] = [5.0, shapely.box(5000, 5000, 5100, 5100)]
    with pytest.warns(HotspotsWarning, match=r"1 units have no neighbour \(e.g. row 16\)"):
        r = hotspot_lisa(g, value="rate", permutations=99)
    assert r.loc[16, "lisa_class"] == LISA_NOT_SIGNIFICANT and r["lisa_i"].notna().all()


def test_errors_are_clear():
    g = squares(4, np.arange(16.0))
    with pytest.raises(InputError, match=r"units have no column 'rate_per_1000'; choose one of \['rate'\]"):
        hotspot_lisa(g)
    bad = g.copy()
    bad.loc[3, "rate"] = np.nan
    with pytest.raises(InputError, match=r"units column 'rate' row 3 \(index 3\) is nan"):
        hotspot_lisa(bad, value="rate")
    with pytest.raises(InputError, match=r"local Moran's I needs at least 3 units, got 2"):
        hotspot_lisa(g.iloc[:2], value="rate")
    with pytest.raises(InputError, match=r"permutations must be a whole number >= 99, got 10"):
        hotspot_lisa(g, value="rate", permutations=10)
    with pytest.raises(InputError, match=r"units is in a geographic CRS"):
        hotspot_lisa(g.set_crs(4326, allow_override=True), value="rate")
