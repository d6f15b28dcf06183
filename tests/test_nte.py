"""Tests of hotspots.detect.nte: zone counts on a toy, each incident counted once, bad input, real data."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import assert_frame_contract

from hotspots.detect import nte as Z
from hotspots.errors import HotspotsWarning, InputError

CITY_CENTRE = (457_224.0, 339_852.0)  # Old Market Square, Nottingham (BNG)


def pts(xy, **cols) -> gpd.GeoDataFrame:
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    return gpd.GeoDataFrame(cols, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:27700")


def toy():
    """Zone A: 6 venues in a row 40 m apart at y=0 from x=0; zone B: 5 venues at x=5000;
    two isolated venues. Incidents at known distances from the footprints."""
    a = [(40.0 * k, 0.0) for k in range(6)]
    b = [(5_000.0 + 30.0 * k, 0.0) for k in range(5)]
    lone = [(2_500.0, 2_500.0), (9_000.0, 9_000.0)]
    venues = pts(a + b + lone, venue_id=[f"v{i}" for i in range(13)])
    # footprint A: hull of the line (0..200, 0) buffered 50 m -> distance from (100, y) is y - 50
    inc_xy = [
        (100.0, 0.0),  # inside A
        (100.0, 240.0),  # 190 m from A: within 200
        (100.0, 260.0),  # 210 m from A: outside
        (5_060.0, 10.0),  # inside B
        (5_060.0, 100.0),  # 50 m from B
        (2_500.0, 2_500.0),  # at a lone venue: no zone
    ]
    harm = [1.0, 4.0, 9.0, 2.0, 2.0, 5.0]
    return venues, pts(inc_xy, harm=harm)


def test_toy_zone_counts_and_order():
    venues, inc = toy()
    before_v, before_i = venues.copy(), inc.copy()
    out = Z.nte_zones(venues, inc, distance=200.0, eps=100.0, min_venues=5)
    assert_frame_contract(out, Z.NTE_COLUMNS)
    assert venues.equals(before_v) and inc.equals(before_i)
    assert out[["zone_id", "venues", "n_within", "harm_within"]].values.tolist() == [
        [1, 6, 2, 5.0],  # A: inside (1) + 190 m (4); the 210 m one is out
        [2, 5, 2, 4.0],  # B
    ]
    assert out.attrs["unzoned_venues"] == 2
    assert out.geometry.iloc[0].contains(shapely.Point(100, 0))
    # reach: 250 m takes in the third incident
    wide = Z.nte_zones(venues, inc, distance=250.0, eps=100.0, min_venues=5)
    assert wide.loc[wide["venues"] == 6, "harm_within"].item() == 14.0
    # counting instead of harm
    counts = Z.nte_zones(venues, inc, distance=200.0, eps=100.0, weights=None)
    assert counts["harm_within"].tolist() == counts["n_within"].astype(float).tolist()


def test_incident_counted_once_in_the_nearest_zone():
    venues = pts([(40.0 * k, 0.0) for k in range(5)] + [(40.0 * k, 400.0) for k in range(5)])
    inc = pts([(80.0, 180.0), (80.0, 230.0)], harm=[1.0, 10.0])  # both within 200 m of both zones
    out = Z.nte_zones(venues, inc, distance=300.0, eps=100.0)
    assert out["n_within"].sum() == 2 and out["harm_within"].sum() == 11.0
    assert out["harm_within"].tolist() == [10.0, 1.0]  # the one at y=230 is nearer the upper zone


def test_eps_links_venues_into_one_zone():
    venues, inc = toy()
    # at eps 25 m no venue has 5 within reach
    with pytest.warns(HotspotsWarning, match="no NTE zone: no venue has 5 venues within 25 m"):
        out = Z.nte_zones(venues, inc, eps=25.0)
    assert len(out) == 0 and list(out.columns) == [*Z.NTE_COLUMNS, "geometry"]


def test_empty_and_few_venues():
    venues, inc = toy()
    with pytest.warns(HotspotsWarning, match=r"0 venue\(s\): fewer than min_venues=5"):
        out = Z.nte_zones(venues.iloc[:0], inc)
    assert_frame_contract(out, Z.NTE_COLUMNS)
    out = Z.nte_zones(venues, inc.iloc[:0], eps=100.0)
    assert out["n_within"].tolist() == [0, 0] and out["harm_within"].tolist() == [0.0, 0.0]


def test_bad_input():
    venues, inc = toy()
    with pytest.raises(InputError, match=r"venues is in a geographic CRS .*Use `.to_crs\('EPSG:27700'\)`"):
        Z.nte_zones(venues.to_crs("EPSG:4326"), inc)
    with pytest.raises(InputError, match=r"venues .* and incidents .* differ in CRS"):
        Z.nte_zones(venues, inc.to_crs("EPSG:3857"))
    with pytest.raises(InputError, match="distance must be a distance in metres >= 0, got -1"):
        Z.nte_zones(venues, inc, distance=-1)
    with pytest.raises(InputError, match="eps must be a distance in metres > 0, got 0"):
        Z.nte_zones(venues, inc, eps=0)
    with pytest.raises(InputError, match="min_venues must be a whole number >= 1, got 0"):
        Z.nte_zones(venues, inc, min_venues=0)
    with pytest.raises(InputError, match="incidents has no weights column 'harm'"):
        Z.nte_zones(venues, inc.drop(columns="harm"))
    bad = venues.copy()
    bad.loc[3, "geometry"] = shapely.box(0, 0, 1, 1)
    with pytest.raises(InputError, match="venues row 3 is a Polygon, not a Point"):
        Z.nte_zones(bad, inc)


def test_real_city_centre_zone_has_most_venues_and_violence(study):
    inc = study.incidents
    v = inc[inc["source"] == "city_violence_2020"]
    out = Z.nte_zones(study.venues, v)
    assert_frame_contract(out, Z.NTE_COLUMNS)
    assert len(out) >= 5
    top = out.iloc[0]
    assert top["zone_id"] == 1
    assert top["venues"] == out["venues"].max()
    assert top["harm_within"] == out["harm_within"].max()
    assert top.geometry.distance(shapely.Point(*CITY_CENTRE)) < 500
    # the zones hold a real share of the city's violence, counted once
    assert 0.05 * len(v) <= out["n_within"].sum() <= 0.5 * len(v)
    assert out["venues"].sum() + out.attrs["unzoned_venues"] == len(study.venues)
