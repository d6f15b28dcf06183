"""National run: partitions with margins equal one single run; FDR once nationally (synthetic, small)."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots import columns as C
from hotspots.detect.inference import hotspot_gistar
from hotspots.detect.stage import detect_grid
from hotspots.errors import HotspotsWarning
from hotspots.national.detect import detect_national
from hotspots.national.engine import InProcess
from hotspots.national.partition import GridSettings, Lattice, plan_partitions
from hotspots.units import lsoa_units

SIZE = 1000.0


def _areas(cols: int = 10, rows: int = 6) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Square 'LSOAs' of 1 km; the west half is force 'aa', the east half 'bb' (a coastline notch at the corner)."""
    rng = np.random.default_rng(1)
    geoms, codes, forces = [], [], []
    for r in range(rows):
        for c in range(cols):
            if (r, c) == (rows - 1, cols - 1):
                continue  # sea
            geoms.append(shapely.box(c * SIZE, r * SIZE, (c + 1) * SIZE, (r + 1) * SIZE))
            codes.append(f"E{r:02d}{c:02d}")
            forces.append("aa" if c < cols // 2 else "bb")
    pop = rng.integers(800, 2500, len(geoms)).astype(float)
    lsoa = gpd.GeoDataFrame({C.LSOA_CODE: codes, C.POPULATION: pop}, geometry=geoms, crs=C.CRS)
    return lsoa, np.array(forces, dtype=object)


def _incidents(lsoa: gpd.GeoDataFrame, *, n: int = 3000, seed: int = 2) -> pd.DataFrame:
    """Background by residents plus a hot spot planted across the force boundary (x = 5 km)."""
    rng = np.random.default_rng(seed)
    p = lsoa[C.POPULATION].to_numpy() / lsoa[C.POPULATION].sum()
    k = rng.choice(len(lsoa), n, p=p)
    b = np.asarray(lsoa.geometry.bounds)[k]
    x = rng.uniform(b[:, 0], b[:, 2])
    y = rng.uniform(b[:, 1], b[:, 3])
    hot = 400
    hx = rng.normal(5000.0, 180.0, hot)
    hy = rng.normal(2500.0, 180.0, hot)
    x, y = np.concatenate([x, hx]), np.concatenate([y, hy])
    pts = shapely.points(x, y)
    idx = shapely.STRtree(np.asarray(lsoa.geometry.values)).query(pts, predicate="intersects")
    first = pd.Series(idx[1]).groupby(idx[0]).min()
    code = lsoa[C.LSOA_CODE].to_numpy()[first.reindex(np.arange(len(x))).to_numpy()]
    harm = rng.choice([1.0, 1.5, 4.0], len(x), p=[0.6, 0.3, 0.1])
    return pd.DataFrame({"x": x, "y": y, C.HARM: harm, C.LSOA_CODE: code})


SETTINGS = GridSettings(cell_size=250.0, bandwidth=600.0)


@pytest.fixture(scope="module")
def case() -> dict:
    lsoa, forces = _areas()
    inc = _incidents(lsoa)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HotspotsWarning)
        nat = detect_national(inc, lsoa, forces, SETTINGS, InProcess())
        gdf = gpd.GeoDataFrame(inc, geometry=gpd.points_from_xy(inc["x"], inc["y"]), crs=C.CRS)
        single = detect_grid(gdf, lsoa, cell_size=250.0, bandwidth=600.0)
        units = hotspot_gistar(lsoa_units(gdf, lsoa), marks=gdf[C.HARM].to_numpy())
    return {"lsoa": lsoa, "forces": forces, "inc": inc, "nat": nat, "single": single, "units": units}


def test_partitions_cover_the_country_once(case: dict) -> None:
    specs = plan_partitions(case["lsoa"], case["forces"], margin=SETTINGS.margin)
    assert sorted(s.force for s in specs) == ["aa", "bb"]
    for s in specs:  # the window reaches over the boundary by at least the margin
        assert (~s.core).sum() > 0
    assert len(case["nat"].grid) == len(case["single"])
    assert case["nat"].grid["force"].value_counts().to_dict().keys() == {"aa", "bb"}


def test_grid_equals_single_run(case: dict) -> None:
    nat, single = case["nat"], case["single"]
    lat = Lattice.covering(tuple(case["lsoa"].total_bounds), 250.0)
    ids = lat.national_ids(single)
    s = single.assign(cell_id=ids).sort_values("cell_id").reset_index(drop=True)
    g = nat.grid
    np.testing.assert_array_equal(g["cell_id"].to_numpy(), s["cell_id"].to_numpy())
    np.testing.assert_array_equal(g["n"].to_numpy(), s["n"].to_numpy())
    np.testing.assert_allclose(g["harm"].to_numpy(), s["harm"].to_numpy())
    np.testing.assert_allclose(g["kde"].to_numpy(), s["kde"].to_numpy(), rtol=1e-9, atol=1e-9 * s["kde"].max())
    for col in ("gi_z", "gi_p", "gi_q", "local_sum", "local_expected"):
        np.testing.assert_allclose(g[col].to_numpy(), s[col].to_numpy(), rtol=1e-9, atol=1e-12, err_msg=col)
    assert (g["hotspot_class"].to_numpy() == s["hotspot_class"].to_numpy()).all()


def test_hot_spot_across_the_boundary_found_as_in_one_run(case: dict) -> None:
    g = case["nat"].grid
    near = (np.abs(g["x"] - 5000) < 300) & (np.abs(g["y"] - 2500) < 300)
    hot = g.loc[near, "hotspot_class"].str.startswith("hot")
    assert hot.all()
    assert set(g.loc[near, "force"]) == {"aa", "bb"}  # the hot spot straddles the two partitions


EXACT_RTOL = 1e-6
"""The exact test's tails depend slightly on which units share a batch (the same units tested in two
batches differ by up to 2.7e-7 relative in p), so partitioned and single-run p agree to this."""


def test_lsoa_equals_single_run(case: dict) -> None:
    nat, units = case["nat"].lsoa, case["units"]
    for col in ("n", "harm", "local_sum", "local_expected"):
        np.testing.assert_allclose(nat[col].to_numpy(float), units[col].to_numpy(float), rtol=1e-9, err_msg=col)
    for col in ("gi_z", "gi_p", "gi_q"):
        np.testing.assert_allclose(nat[col].to_numpy(float), units[col].to_numpy(float), rtol=EXACT_RTOL, err_msg=col)
    assert (nat["hotspot_class"].to_numpy() == units["hotspot_class"].to_numpy()).all()


def test_fdr_runs_once_over_the_country(case: dict) -> None:
    """q is Benjamini-Hochberg over every analysed cell of the country, not within each force."""
    from hotspots.detect.gistar import fdr_bh

    g = case["nat"].grid
    ok = g["gi_p"].notna().to_numpy()
    national_q = fdr_bh(g.loc[ok, "gi_p"].to_numpy())
    np.testing.assert_allclose(g.loc[ok, "gi_q"].to_numpy(), national_q, rtol=1e-12)
    per_force = np.empty(int(ok.sum()))
    forces = g.loc[ok, "force"].to_numpy()
    for f in np.unique(forces):
        per_force[forces == f] = fdr_bh(g.loc[ok, "gi_p"].to_numpy()[forces == f])
    assert not np.allclose(per_force, national_q)  # per-partition FDR would give other q-values
    single = case["single"]
    np.testing.assert_allclose(np.sort(national_q), np.sort(single["gi_q"].dropna().to_numpy()), rtol=1e-9)
