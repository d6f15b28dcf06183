"""Tests of the near-optimal kit alternatives (single swaps within 1 % and the most different set)."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.sites import mclp as _mclp
from hotspots.sites.alternatives import (
    ALTERNATIVE_COLUMNS,
    annotate_kits,
    kit_alternatives,
    most_different_set,
    swap_values,
)
from hotspots.sites.kits import build_model, select_sites


def _points(xy, **cols) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=[Point(x, y) for x, y in xy], crs=C.CRS)


def _instance(seed: int, n_demand: int = 60, n_cand: int = 9):
    rng = np.random.default_rng(seed)
    dxy = rng.uniform(0, 600, size=(n_demand, 2))
    inc = _points(dxy, harm=rng.choice([1.0, 1.5, 4.0], n_demand))
    cxy = rng.uniform(0, 600, size=(n_cand, 2))
    cand = _points(cxy, site_id=[f"c{i}" for i in range(n_cand)], source="candidate", name="")
    return inc, cand


def _covered(m, sites) -> float:
    w = np.where(m.fixed, 0.0, m.weights)
    return float(w[_mclp.covered_mask(m.cover, np.asarray(sites, dtype=int))].sum())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_swap_values_equal_brute_force(seed):
    inc, cand = _instance(seed)
    m = build_model(inc, cand, radius=150.0, fixed=None)
    chosen = np.array([0, 3, 5])
    objective, values = swap_values(m, chosen)
    assert objective == pytest.approx(_covered(m, chosen))
    for a in range(len(chosen)):
        for k in range(len(cand)):
            if k in chosen:
                assert values[a, k] == -np.inf
            else:
                swapped = np.where(chosen == chosen[a], k, chosen)
                assert values[a, k] == pytest.approx(_covered(m, swapped))


def test_a_twin_site_is_a_perfect_alternative():
    inc = _points([(0, 0), (10, 0), (500, 0)], harm=[1.0, 1.0, 5.0])
    cand = _points([(5, 0), (5, 0), (495, 0), (300, 0)], site_id=["a", "a2", "b", "far"], source="candidate", name="")
    kits = select_sites(inc, cand, p=2, radius=50)
    alts = kit_alternatives(inc, cand, kits, radius=50)
    assert list(alts.columns) == ALTERNATIVE_COLUMNS
    kit_a = alts[alts["kit_site_id"].isin(["a", "a2"])]
    assert len(kit_a) == 1 and kit_a["distance_m"].iloc[0] == 0 and kit_a["pct_of_optimum"].iloc[0] == 100
    assert not (alts["site_id"] == "far").any()  # replacing either kit with "far" loses harm
    annotated = annotate_kits(kits, alts, existing_sites=0)
    assert annotated["alternatives"].sum() == len(alts) and (annotated["existing_sites_supplied"] == 0).all()
    assert annotated.crs.equals(C.CRS)
    with pytest.raises(InputError, match="share must be in"):
        kit_alternatives(inc, cand, kits, radius=50, share=1.5)


@pytest.mark.parametrize("seed", [3, 4, 5, 6, 7, 8])
def test_most_different_set_equals_brute_force(seed):
    inc, cand = _instance(seed, n_cand=8)
    kits = select_sites(inc, cand, p=4, radius=150)
    m = build_model(inc, cand, radius=150.0, fixed=None)
    chosen = set(kits["site_id"].str[1:].astype(int))
    # a twin reaches exactly the same demand as a chosen site (the same point under another name): it counts as shared
    reach = [frozenset(m.cover[:, j].nonzero()[0]) for j in range(8)]
    twins = {j for j in range(8) if j in chosen or (reach[j] and reach[j] in {reach[c] for c in chosen})}
    best = max(_covered(m, s) for s in itertools.combinations(range(8), 4) if len(twins & set(s)) <= 2)
    res = most_different_set(inc, cand, kits, radius=150)
    assert res["optimal"] and res["shared"] <= 2
    assert res["covered_harm"] == pytest.approx(best)
    assert res["pct_of_optimum"] == pytest.approx(100 * best / _covered(m, sorted(chosen)))
