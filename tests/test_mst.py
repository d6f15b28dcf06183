"""The Borůvka mutual-reachability spanning tree against the Prim implementation it replaced (the oracle)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import scipy.sparse as sp

from hotspots.detect import clusters as K
from hotspots.detect import mst


def _edges(g):
    t = sp.triu(sp.csr_matrix(g)).tocoo()
    return set(zip(t.row.tolist(), t.col.tolist(), strict=True)), float(t.data.sum())


def _data(kind, m, seed):
    rng = np.random.default_rng(seed)
    if kind == "clustered":
        centres = rng.uniform(0, 5000, (8, 2))
        xy = centres[rng.integers(0, 8, m)] + rng.normal(0, 80, (m, 2))
        xy = np.vstack([xy, rng.uniform(0, 5000, (m // 5, 2))])
    elif kind == "lattice":  # many exactly equal distances and weights: ties everywhere
        g = int(np.sqrt(m))
        xy = np.array([[i * 25.0, j * 25.0] for i in range(g) for j in range(g)])
    else:
        xy = rng.uniform(0, 3000, (m, 2))
    xy = np.unique(xy, axis=0)
    w = rng.choice([1.0, 1.5, 4.0], len(xy)) if kind != "lattice" else np.ones(len(xy))
    return xy, w


@pytest.mark.parametrize("kind", ["clustered", "uniform", "lattice"])
@pytest.mark.parametrize("m", [3, 40, 700, 2500])
def test_boruvka_equals_prim(kind, m):
    xy, w = _data(kind, m, seed=m)
    core = K.weighted_core_distance(xy, w, K.auto_min_samples(w.sum()))
    core = np.where(np.isfinite(core), core, 0.0)
    prim_e, prim_w = _edges(mst.prim_mst(xy, core))
    fast_e, fast_w = _edges(mst.mutual_reachability_mst(xy, core))
    assert len(fast_e) == len(xy) - 1
    assert fast_w == pytest.approx(prim_w, rel=1e-12)  # always a minimum tree
    if kind != "lattice":  # no exact ties: the very same tree
        assert fast_e == prim_e


def test_boruvka_wide_searches_are_exact(monkeypatch):
    # isolated groups larger than k force the ball searches, and (BIG_COMPONENT lowered) the foreign KD-tree
    rng = np.random.default_rng(3)
    groups = [rng.normal(c, 5, (60, 2)) for c in ([0, 0], [3000, 0], [0, 3000], [9000, 9000])]
    xy = np.unique(np.vstack(groups), axis=0)
    core = K.weighted_core_distance(xy, np.ones(len(xy)), 5)
    prim_e, prim_w = _edges(mst.prim_mst(xy, core))
    monkeypatch.setattr(mst, "BIG_COMPONENT", 50)
    monkeypatch.setattr(mst, "QUERY_BLOCK", 37)  # neighbour queries in many small blocks
    fast_e, fast_w = _edges(mst.mutual_reachability_mst(xy, core, k=4))
    assert fast_e == prim_e and fast_w == pytest.approx(prim_w)


def test_weighted_core_distance_in_blocks_equals_brute_force(monkeypatch):
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 1000, (600, 2))
    w = rng.uniform(0.5, 3, 600)
    monkeypatch.setattr(K, "QUERY_BLOCK", 500)  # blocks of a few locations (k grows to 128)
    got = K.weighted_core_distance(xy, w, 40)
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    order = np.argsort(d, axis=1, kind="stable")
    cum = np.cumsum(w[order], axis=1)
    first = (cum >= 40 - 1e-9).argmax(axis=1)
    np.testing.assert_allclose(got, d[np.arange(600), order[np.arange(600), first]])


def _points(xy):
    return gpd.GeoDataFrame({"harm": np.ones(len(xy))}, geometry=gpd.points_from_xy(*xy.T), crs="EPSG:27700")


def test_density_clusters_merge_above_the_cap_and_say_so():
    """SYNTHETIC unsnapped points: two dense clumps and scatter, clustered after the grid merge."""
    rng = np.random.default_rng(1)
    xy = np.vstack(
        [rng.normal([0, 0], 30, (3000, 2)), rng.normal([2000, 0], 30, (3000, 2)), rng.uniform(-3000, 5000, (600, 2))]
    )
    out = K.density_clusters(_points(xy), max_locations=1000)
    auto = out.attrs["auto"]
    assert auto["method"] == "hdbscan" and auto["distinct_locations"] == len(xy)
    assert auto["aggregated_locations"] <= 1000 and auto["aggregated_m"] > 1
    centres = gpd.points_from_xy([0, 2000], [0, 0])
    assert out.geometry.contains(centres[0]).any() and out.geometry.contains(centres[1]).any()
    assert out["n"].sum() + out.attrs["noise"] == len(xy)  # every point counted once: in a cluster or noise


def test_density_clusters_below_the_cap_unchanged():
    rng = np.random.default_rng(2)
    xy = np.vstack([rng.normal([0, 0], 30, (300, 2)), rng.uniform(-2000, 2000, (100, 2))])
    a = K.density_clusters(_points(xy))
    b = K.density_clusters(_points(xy), max_locations=None)
    assert "aggregated_m" not in a.attrs["auto"]
    assert a.drop(columns="geometry").equals(b.drop(columns="geometry"))
    assert a.geometry.geom_equals_exact(b.geometry, tolerance=0).all()
