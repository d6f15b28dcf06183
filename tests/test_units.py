"""Units: grids (square, hex), binning, counts, LSOA rates."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import assert_frame_contract
from hypothesis import given, settings
from hypothesis import strategies as st

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.units import (
    CELL_ID,
    GRID_COLUMNS,
    LSOA_UNIT_COLUMNS,
    assign_cells,
    cell_centres,
    choose_cell_size,
    count_in_units,
    lsoa_units,
    make_grid,
)


def pts(xy, crs="EPSG:27700", **cols):
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    return gpd.GeoDataFrame(cols, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=crs)


DISC = shapely.Point(0, 0).buffer(3000)


@pytest.mark.parametrize("shape", ["square", "hex"])
def test_grid_covers_area_exactly(shape):
    g = make_grid(DISC, cell_size=250, shape=shape)
    assert_frame_contract(g, GRID_COLUMNS)
    assert g.index.equals(g.index.sort_values()) and g[CELL_ID].is_unique
    assert g[CELL_ID].is_monotonic_increasing
    # clipped cells tile the area: no overlap, no gap
    assert math.isclose(g.area.sum(), DISC.area, rel_tol=1e-9)
    assert math.isclose(shapely.union_all(g.geometry.values).area, DISC.area, rel_tol=1e-9)
    full = 250**2 if shape == "square" else 250**2 * math.sqrt(3) / 2
    assert math.isclose(g.area.max(), full, rel_tol=1e-9)
    spec = g.attrs["grid"]
    assert spec["shape"] == shape and spec["cell_size"] == 250.0


@pytest.mark.parametrize("shape", ["square", "hex"])
def test_lattice_centres_are_cell_centres(shape):
    g = make_grid(shapely.box(0, 0, 3000, 2000), cell_size=200, shape=shape)
    full = g[np.isclose(g.area, g.area.max())]
    c = cell_centres(full)
    np.testing.assert_allclose(c, shapely.get_coordinates(full.centroid.values), atol=1e-6)


@pytest.mark.parametrize("shape", ["square", "hex"])
def test_assign_cells_agrees_with_spatial_join(shape):
    g = make_grid(DISC, cell_size=300, shape=shape)
    rng = np.random.default_rng(3)
    p = pts(rng.uniform(-2900, 2900, (3000, 2)))
    p = p[p.within(DISC)].reset_index(drop=True)
    pos = assign_cells(p, g)
    j = gpd.sjoin(p, g, predicate="within")
    j = j[~j.index.duplicated()]
    assert (pos >= 0).all()
    np.testing.assert_array_equal(g[CELL_ID].to_numpy()[pos[j.index]], j[CELL_ID].to_numpy())


def test_square_grid_is_aligned_to_cell_size_multiples():
    g = make_grid(shapely.box(120, 130, 1020, 530), cell_size=100)
    assert g.attrs["grid"]["x0"] == 100.0 and g.attrs["grid"]["y0"] == 100.0
    assert len(g) == 10 * 5  # 100..1100 x 100..600, every lattice cell touches the box's interior


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-2900, 2900), st.floats(-2900, 2900)), min_size=1, max_size=60),
    st.sampled_from(["square", "hex"]),
)
def test_counts_are_conserved(xy, shape):
    g = make_grid(shapely.box(-3000, -3000, 3000, 3000), cell_size=500, shape=shape)
    p = pts(xy, harm=np.arange(len(xy), dtype=float) + 1)
    c = count_in_units(p, g, key=CELL_ID)
    assert c.index.equals(g.index)
    assert c["n"].sum() == len(p)
    assert math.isclose(c["harm"].sum(), p["harm"].sum())
    assert (c["n"] >= 0).all()


def test_count_by_code_and_by_polygon_on_real_lsoas(study):
    lsoa = study.lsoa
    by_code = count_in_units(study.incidents, lsoa, key=C.LSOA_CODE)
    assert by_code["n"].sum() == len(study.incidents)
    no_code = study.incidents.drop(columns=[C.LSOA_CODE])
    by_pip = count_in_units(no_code, lsoa, key=C.LSOA_CODE)
    # generalised polygons: most but not all points fall in the LSOA of their code
    assert by_pip["n"].sum() > 0.97 * len(study.incidents)
    assert np.corrcoef(by_code["n"], by_pip["n"])[0, 1] > 0.97


def test_lsoa_units_real_data(study):
    u = lsoa_units(study.incidents, study.lsoa)
    assert_frame_contract(u, LSOA_UNIT_COLUMNS, index=study.lsoa.index)
    assert u["n"].sum() == len(study.incidents) == 18581
    assert math.isclose(u["harm"].sum(), study.incidents[C.HARM].sum())
    np.testing.assert_allclose(u["rate_per_1000"], u["n"] / study.lsoa[C.POPULATION] * 1000)
    # the Old Market Square LSOA (Nottingham city centre) has the highest count in the county
    square = gpd.GeoSeries([shapely.Point(-1.1500, 52.9530)], crs=4326).to_crs(C.CRS).iloc[0]
    centre = u[u.contains(square)]
    assert len(centre) == 1 and centre["n"].iloc[0] == u["n"].max()


def test_cell_size_rule_on_real_data(study):
    # sfhotspot alone gives 1,000 m (about 45 km / 50); half the ~480 m KDE bandwidth caps it at 250 m
    assert choose_cell_size(study.incidents, study.area) == 250.0
    few = study.incidents.iloc[:1]
    assert choose_cell_size(few, study.area) == 1000.0


def test_errors_are_clear():
    with pytest.raises(InputError, match=r"geographic CRS \(EPSG:4326\).*to_crs\('EPSG:27700'\)"):
        make_grid(gpd.GeoDataFrame(geometry=[shapely.box(-1.2, 52.9, -1.1, 53.0)], crs=4326), cell_size=100)
    with pytest.raises(InputError, match=r"grid shape must be one of \['square', 'hex'\], got 'triangle'"):
        make_grid(DISC, cell_size=100, shape="triangle")
    with pytest.raises(InputError, match=r"cell_size must be a positive number of metres, got 0"):
        make_grid(DISC, cell_size=0)
    with pytest.raises(InputError, match=r"area is an empty geometry"):
        make_grid(shapely.Polygon(), cell_size=100)
    with pytest.raises(InputError, match=r"would have .* cells \(limit 5,000,000\)"):
        make_grid(shapely.box(0, 0, 1e6, 1e6), cell_size=1)
    g = make_grid(DISC, cell_size=500)
    with pytest.raises(InputError, match=r"incidents row 0 is a Polygon, not a Point; use point geometries"):
        count_in_units(gpd.GeoDataFrame(geometry=[DISC], crs=C.CRS), g, key=CELL_ID)
    with pytest.raises(InputError, match=r"incidents is in a geographic CRS"):
        count_in_units(pts([[0, 0]], crs=4326), g, key=CELL_ID)
    with pytest.raises(InputError, match=r"units have no column 'zone'"):
        count_in_units(pts([[0, 0]]), g, key="zone")
    with pytest.raises(InputError, match=r"column 'harm' must hold non-negative numbers; row 1 .* has -2.0"):
        count_in_units(pts([[0, 0], [1, 1]], harm=[1.0, -2.0]), g, key=CELL_ID)
    with pytest.raises(InputError, match=r"grid has no lattice information"):
        assign_cells(pts([[0, 0]]), gpd.GeoDataFrame(geometry=[DISC], crs=C.CRS))


def test_lsoa_units_errors_and_missing_population(study):
    with pytest.raises(InputError, match=r"lsoa frame has no 'population' column"):
        lsoa_units(study.incidents, study.lsoa.drop(columns=[C.POPULATION]))
    lsoa = study.lsoa.copy()
    lsoa.loc[lsoa.index[0], C.POPULATION] = 0
    with pytest.warns(UserWarning, match=r"1 LSOAs have no population .* rate_per_1000 is left empty"):
        u = lsoa_units(study.incidents, lsoa)
    assert np.isnan(u["rate_per_1000"].iloc[0]) and u["rate_per_1000"].iloc[1:].notna().all()
