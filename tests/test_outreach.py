"""Youth outreach: LSOA scoring, contiguous zones, focal points and reasons."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import assert_frame_contract
from shapely.geometry import box

from hotspots import columns as C
from hotspots.config import build_section
from hotspots.errors import ConfigError, InputError
from hotspots.sites import config as SC
from hotspots.sites import outreach as O


def _lsoa(n=5, size=1000.0):
    """An n x n board of square 'LSOAs' with deprivation columns; code L<row><col>."""
    rows = []
    for r in range(n):
        for c in range(n):
            rows.append(
                {
                    C.LSOA_CODE: f"L{r}{c}",
                    C.DISTRICT: "Testshire",
                    C.IDACI_NUMERATOR: 20.0,
                    C.CHILDREN_0_15: 200,
                    C.CYP_RANK: 20_000,
                    "geometry": box(c * size, r * size, (c + 1) * size, (r + 1) * size),
                }
            )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=C.CRS)


def _incidents(points):
    """points: list of (x, y, scope, harm, lsoa_code)."""
    df = pd.DataFrame(points, columns=["x", "y", C.SCOPE, C.HARM, C.LSOA_CODE])
    df[C.MONTH] = "2020-01"
    return gpd.GeoDataFrame(df.drop(columns=["x", "y"]), geometry=gpd.points_from_xy(df.x, df.y), crs=C.CRS)


def _planted():
    """Two separate clusters of youth violence: L00+L01 (west) and L33+L34+L44 (east)."""
    pts = []
    pts += [(150, 150, "robbery", 4.0, "L00")] * 5 + [(1450, 350, "violence_sexual", 1.0, "L01")] * 6
    pts += [(1460, 360, "violence_sexual", 1.0, "L01")] * 3  # same 100 m cell as above: the densest
    pts += [(3500, 3500, "weapons_possession", 1.5, "L33")] * 4
    pts += [(4500, 3500, "violence_sexual", 1.0, "L34")] * 8 + [(4550, 4550, "robbery", 4.0, "L44")] * 2
    pts += [(2500, 500, "drugs_supply_proxy", 0.3, "L02")] * 50  # not youth-relevant
    return _incidents(pts)


def test_planted_zones_found_with_focal_points():
    lsoa = _lsoa()
    lsoa.loc[lsoa[C.LSOA_CODE] == "L01", C.IDACI_NUMERATOR] = 100.0
    zones = O.outreach_zones(_planted(), lsoa, top=5)
    assert_frame_contract(zones, O.OUTREACH_COLUMNS)
    assert zones[O.ZONE_ID].tolist() == ["Z01", "Z02"] and zones[O.RANK].tolist() == [1, 2]
    west = zones.iloc[0]  # 20 + 9 = 29 harm vs 6 + 8 + 8 = 22
    assert sorted(west[O.LSOA_CODES].split(";")) == ["L00", "L01"]
    assert west[O.YOUTH_HARM] == pytest.approx(29.0)
    assert sorted(zones.iloc[1][O.LSOA_CODES].split(";")) == ["L33", "L34", "L44"]
    assert zones.iloc[1][O.YOUTH_HARM] == pytest.approx(22.0)
    # children-weighted derived IDACI: (20 + 100) / (200 + 200)
    assert west[O.IDACI] == pytest.approx(0.3)
    # the densest 100 m cell of the west zone is L00's (20 harm at 150,150), centre (150, 150)
    assert (west[O.FOCAL_X], west[O.FOCAL_Y]) == (150.0, 150.0)
    assert "2 adjacent LSOAs in Testshire" in west[O.REASON]
    assert "5 robbery" in west[O.REASON] and "9 violence and sexual offences" in west[O.REASON]
    assert "30 % of children live in income-deprived families" in west[O.REASON]
    assert "drugs" not in " ".join(zones[O.REASON])
    assert zones.geometry.iloc[0].equals(box(0, 0, 2000, 1000))


def test_zones_are_contiguous_and_disjoint_and_conserve_harm():
    zones = O.outreach_zones(_planted(), _lsoa(), top=5)
    codes = [c for z in zones[O.LSOA_CODES] for c in z.split(";")]
    assert len(codes) == len(set(codes)) == 5
    places = O.outreach_places(_planted(), _lsoa())
    assert zones[O.YOUTH_HARM].sum() == pytest.approx(places.head(5)[O.YOUTH_HARM].sum())
    for geom in zones.geometry:
        assert geom.geom_type == "Polygon"  # adjacent LSOAs merge into one piece


def test_categories_are_configurable():
    only_robbery = O.outreach_zones(_planted(), _lsoa(), top=5, categories=("robbery",))
    assert only_robbery[O.YOUTH_HARM].sum() == pytest.approx(28.0)  # 5*4 + 2*4
    assert set(";".join(only_robbery[O.LSOA_CODES]).split(";")) == {"L00", "L44"}


def test_suppressed_idaci_is_nan_never_zero():
    lsoa = _lsoa()
    lsoa.loc[lsoa[C.LSOA_CODE].isin(["L00", "L01"]), C.IDACI_NUMERATOR] = np.nan
    zones = O.outreach_zones(_planted(), lsoa, top=5)
    west = zones[zones[O.LSOA_CODES].str.contains("L00")].iloc[0]
    assert np.isnan(west[O.IDACI])
    assert "IDACI numerator suppressed" in west[O.REASON]
    places = O.outreach_places(_planted(), lsoa)
    assert places.set_index(C.LSOA_CODE).loc["L00", O.SCORE] > 0


def test_focal_point_uses_the_detect_grid():
    from hotspots.units import make_grid

    lsoa = _lsoa()
    grid = make_grid(lsoa, cell_size=250.0)
    grid["kde"] = 0.0
    zones = O.outreach_zones(_planted(), lsoa, top=5, grid=grid)
    west = zones.iloc[0]
    # 250 m cells: (150,150) is in the cell centred (125, 125) holding 20 harm
    assert (west[O.FOCAL_X], west[O.FOCAL_Y]) == (125.0, 125.0)
    assert "grid cell centred on E 125, N 125" in west[O.REASON]


def test_hot_from_detect_is_used():
    lsoa = _lsoa()
    hot = pd.DataFrame({C.LSOA_CODE: lsoa[C.LSOA_CODE], "gi_z": np.where(lsoa[C.LSOA_CODE] == "L33", 9.0, 0.0)})
    places = O.outreach_places(_planted(), lsoa, hot=hot, weights={"hotspot": 1.0})
    assert places.iloc[0][C.LSOA_CODE] == "L33"
    assert list(places.columns) == [*O.PLACE_COLUMNS, "geometry"]


def test_score_is_in_unit_interval_and_ranks_youth_harm_first():
    places = O.outreach_places(_planted(), _lsoa(), weights={"youth_harm": 1.0})
    assert places[O.SCORE].between(0, 1).all()
    assert places.iloc[0][C.LSOA_CODE] == "L00"  # 20 harm, the most


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"top": 0}, r"top must be a whole number of LSOAs >= 1, got 0"),
        ({"categories": ("homicide",)}, r"no youth-relevant incidents \(scope categories homicide\)"),
        ({"weights": {"youth": 1.0}}, r"outreach weights: unknown component 'youth'\. Valid: youth_harm"),
        ({"weights": {"idaci": 0.0}}, r"outreach weights: at least one weight must be > 0"),
        ({"hot": pd.DataFrame({"code": []})}, r"`hot` must have columns 'lsoa_code' and 'gi_z'"),
    ],
)
def test_bad_input_is_a_clear_error(kwargs, match):
    with pytest.raises(InputError, match=match):
        O.outreach_zones(_planted(), _lsoa(), **kwargs)


def test_outreach_config_validates(tmp_path):
    cfg = build_section(SC.OutreachConfig, {"top": 10, "categories": ["robbery"]}, where="[outreach]", base=tmp_path)
    assert cfg.top == 10 and tuple(cfg.categories) == ("robbery",)
    for table, match in [
        ({"top": 0}, r"\[outreach\] key 'top' must be at least 1 LSOA"),
        ({"categories": ["robery"]}, r"unknown scope category 'robery'"),
        ({"weights": {"idaci": -1.0}}, r"\[outreach\] key 'weights': 'idaci' must be >= 0"),
        ({"cell_size_m": 0}, r"\[outreach\] key 'cell_size_m' must be > 0 metres"),
    ]:
        with pytest.raises(ConfigError, match=match):
            build_section(SC.OutreachConfig, table, where="[outreach]", base=tmp_path)


def test_real_data_zones(study):
    from scipy.sparse.csgraph import connected_components

    from hotspots.detect.gistar import contiguity_weights

    zones = O.outreach_zones(study.incidents, study.lsoa, top=25)
    assert_frame_contract(zones, O.OUTREACH_COLUMNS)
    assert zones[O.RANK].tolist() == list(range(1, len(zones) + 1))
    assert (np.diff(zones[O.YOUTH_HARM]) <= 0).all()
    codes = [c for z in zones[O.LSOA_CODES] for c in z.split(";")]
    assert len(codes) == len(set(codes)) == 25
    lsoa = study.lsoa.set_index(C.LSOA_CODE)
    for _, z in zones.iterrows():
        members = lsoa.loc[z[O.LSOA_CODES].split(";")].reset_index()
        ncomp, _ = connected_components(contiguity_weights(members), directed=False)
        assert ncomp == 1  # each zone is one contiguous piece
        assert (
            z.geometry.buffer(1).contains(gpd.points_from_xy([z[O.FOCAL_X]], [z[O.FOCAL_Y]])[0])
            or z.geometry.distance(gpd.points_from_xy([z[O.FOCAL_X]], [z[O.FOCAL_Y]])[0]) < 250
        )
        assert 0 <= z[O.IDACI] <= 1
        assert z[O.REASON].startswith(f"{len(members)} adjacent LSOAs" if len(members) > 1 else "1 LSOA")
    youth = study.incidents[study.incidents[C.SCOPE].isin(O.YOUTH_CATEGORIES)]
    in_zones = youth[youth[C.LSOA_CODE].isin(codes)][C.HARM].sum()
    assert zones[O.YOUTH_HARM].sum() == pytest.approx(in_zones)
