"""The maps without a browser: text, colours, names, the layer registry, each layer's content, the pages.

The layer tests run on the real bundled study with stage results built here from the
documented columns (grid and LSOA Gi* from hotspots.units / hotspots.detect.gistar), so they
do not depend on the rank and sites stages; the outreach start points are checked on the
session's real run. test_browser_maps.py opens the real run's maps in Chromium.
"""

from __future__ import annotations

import dataclasses
import html
import re
import warnings
from pathlib import Path

import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots import columns as C
from hotspots.config import build_section
from hotspots.errors import ConfigError, InputError
from hotspots.present import assets
from hotspots.present.maps import build as maps
from hotspots.present.maps import layers as L
from hotspots.present.maps import names as N
from hotspots.present.maps import palette as P
from hotspots.present.maps.config import BASEMAPS, MapsConfig
from hotspots.present.maps.layers.kde import classify_kde
from hotspots.present.maps.layers.outreach import reason_without_start, start_points, zone_geometry
from hotspots.present.maps.page import render_page
from hotspots.present.maps.text import count_text, esc, fmt, pct, suppress_counts_in_text

XSS = "<img src=x onerror=alert(1)>"

requires_assets = pytest.mark.skipif(
    bool(assets.problems(deep=False)),
    reason=f"offline map assets not installed; {assets.INSTALL_HINT}",
)


# --------------------------------------------------------------------------------------
# stand-in stage results with the documented columns, from the real study
# --------------------------------------------------------------------------------------


def make_results(study, *, cell_size: float = 1000.0) -> dict:
    """Results as the detect/rank/sites stages document them (values derived from real counts)."""
    from hotspots import units as U
    from hotspots.detect.inference import hotspot_gistar

    inc = study.incidents
    grid = U.make_grid(study.area, cell_size=cell_size)
    cnt = U.count_in_units(inc, grid, key="cell_id")
    grid = grid.assign(n=cnt["n"].to_numpy(), harm=cnt["harm"].to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        marks = inc[C.HARM].to_numpy(dtype=float)
        grid = hotspot_gistar(grid, value="harm", marks=marks)
        lsoa = hotspot_gistar(U.lsoa_units(inc, study.lsoa), value="harm", marks=marks)
    grid.insert(3, "kde", grid["harm"].to_numpy() / (cell_size / 1000) ** 2)
    order = lsoa["harm"].rank(ascending=False, method="first").astype(int).to_numpy()
    places = study.lsoa[[C.LSOA_CODE, C.LSOA_NAME, C.DISTRICT, "geometry"]].merge(
        pd.DataFrame({C.LSOA_CODE: lsoa[C.LSOA_CODE], "rank": order, "violence": lsoa["harm"].to_numpy()})
    )
    places["score"] = 1 - places["rank"] / len(places)
    places["rank_low"] = np.maximum(1, places["rank"] - 3)
    places["rank_high"] = places["rank"] + 5
    places["p_top_n"] = np.clip(1 - places["rank"] / 40, 0, 1)
    places["tier"] = np.where(places["rank"] <= 20, 1, np.where(places["rank"] <= 90, 2, 3))
    places["reason"] = "Top " + places["rank"].astype(str) + " for harm-weighted violence"
    cols = [
        "lsoa_code",
        "lsoa_name",
        "district",
        "rank",
        "score",
        "rank_low",
        "rank_high",
        "p_top_n",
        "tier",
        "violence",
        "reason",
        "geometry",
    ]
    places = gpd.GeoDataFrame(places.sort_values("rank")[cols], geometry="geometry", crs=C.CRS)
    top = grid.sort_values("harm", ascending=False).head(5)
    clusters = gpd.GeoDataFrame(
        {
            "cluster_id": range(1, 6),
            "rank": range(1, 6),
            "n": top["n"].to_numpy(),
            "harm": top["harm"].to_numpy(),
            "area_km2": 1.0,
            "harm_per_km2": top["harm"].to_numpy(),
        },
        geometry=top.geometry.buffer(200).to_numpy(),
        crs=C.CRS,
    )
    v = study.venues
    nte = gpd.GeoDataFrame(
        {"zone_id": [1], "venues": [80], "n_within": [500], "harm_within": [900.0]},
        geometry=[v.geometry.iloc[:80].union_all().convex_hull.buffer(100)],
        crs=C.CRS,
    )
    pts = inc.drop_duplicates("geometry").head(6)
    ll = gpd.GeoSeries(pts.geometry.to_numpy(), crs=C.CRS).to_crs(4326)
    kits = pd.DataFrame(
        {
            "site_id": [f"loc{i}" for i in range(6)],
            "order": range(1, 7),
            "source": "incident_location",
            "name": pts[C.LOCATION].astype(str).to_numpy(),
            "x": pts.geometry.x.to_numpy(),
            "y": pts.geometry.y.to_numpy(),
            "lon": ll.x.to_numpy(),
            "lat": ll.y.to_numpy(),
            "covered_harm": np.linspace(50, 10, 6),
            "marginal_harm": np.linspace(50, 10, 6),
        }
    )
    kits["cumulative_coverage_pct"] = np.cumsum(kits["covered_harm"]) / 2000 * 100
    top3 = places.head(3)
    focal = top3.geometry.iloc[0].representative_point()
    outreach = pd.DataFrame(
        {
            "zone_id": [1],
            "rank": [1],
            "lsoa_codes": [",".join(top3[C.LSOA_CODE])],
            "youth_harm": [120.0],
            "idaci_rate": [0.31],
            "focal_x": [focal.x],
            "focal_y": [focal.y],
            "reason": ["High youth violence"],
        }
    )
    return {
        "grid": grid,
        "lsoa": lsoa,
        "places": places,
        "clusters": clusters,
        "nte_zones": nte,
        "bleed_kits": kits,
        "outreach": outreach,
    }


@pytest.fixture(scope="module")
def results(study):
    return make_results(study)


@pytest.fixture(scope="module")
def gaz(study):
    return N.build_gazetteer(study.incidents, study.lsoa, wards=study.wards, districts=study.districts)


def build(audience, results, study, gaz, **kw):
    return maps.build_map(audience, results, study, gazetteer=gaz, **kw)


# --------------------------------------------------------------------------------------
# text
# --------------------------------------------------------------------------------------


def test_esc_neutralises_html_and_template_literals():
    s = esc(XSS + "`${alert(2)}`\\u0041</script>")
    assert "<" not in s and ">" not in s and "`" not in s and "$" not in s and "\\" not in s and "/" not in s
    assert s.startswith("&lt;img src=x onerror=alert(1)&gt;")
    assert esc(None) == "" and esc(float("nan")) == ""
    assert "http:" not in esc("see http://example.org") and "//" not in esc("see http://example.org")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (99.95, "100"),
        (999.7, "1,000"),
        (1234.5, "1,234"),
        (1e6, "1,000,000"),
        (12.345, "12.3"),
        (1.2345, "1.23"),
        (0.012345, "0.0123"),
        (0.00001, "&lt;0.001"),
        (0.0, "0"),
        (-3.5, "-3.5"),
        (float("nan"), "n/a"),
        (None, "n/a"),
        ("a<b", "a&lt;b"),
    ],
)
def test_numbers_never_use_exponents(value, text):
    assert fmt(value) == text and "e+" not in fmt(value) and "e-" not in fmt(value)


@pytest.mark.parametrize(
    ("share", "text"),
    [
        (1.0, "100 %"),
        (0.9999, "&gt;99.9 %"),
        (0.999, "99.9 %"),
        (0.37, "37 %"),
        (0.045, "4.5 %"),
        (0.0004, "&lt;0.1 %"),
        (0.0, "0 %"),
        (None, "n/a"),
    ],
)
def test_percentages_read_like_percentages(share, text):
    assert pct(share) == text


def test_counts_under_the_threshold_are_suppressed():
    assert count_text(3, suppress_below=5) == "&lt;5"
    assert count_text(0, suppress_below=5) == "0" and count_text(5, suppress_below=5) == "5"
    assert count_text(3, suppress_below=None) == "3"
    text = "Top 49% harm-weighted violence (4 incidents); 3 robberies; 12 incidents; per 1,000 residents (4)"
    assert suppress_counts_in_text(text, below=5) == (
        "Top 49% harm-weighted violence (<5 incidents); <5 robberies; 12 incidents; per 1,000 residents (4)"
    )
    assert suppress_counts_in_text(text, below=None) == text


# --------------------------------------------------------------------------------------
# config
# --------------------------------------------------------------------------------------


def test_maps_config_defaults_and_errors():
    cfg = build_section(MapsConfig, {}, where="[maps]", base=None)
    assert cfg.audiences == ("board", "outreach", "analyst") and cfg.basemap == "none" and cfg.street_zoom == 15
    with pytest.raises(ConfigError, match=r"\[maps\] key 'audiences' must list some of"):
        build_section(MapsConfig, {"audiences": ["boardroom"]}, where="[maps]", base=None)
    with pytest.raises(ConfigError, match=r"\[maps\] key 'basemap' must be one of \['none', 'openstreetmap'"):
        build_section(MapsConfig, {"basemap": "Google"}, where="[maps]", base=None)
    with pytest.raises(ConfigError, match=r"unknown key 'tiles' in \[maps\]"):
        build_section(MapsConfig, {"tiles": "OpenStreetMap"}, where="[maps]", base=None)
    with pytest.raises(ConfigError, match=r"'kde_scheme' must be one of .*quantiles"):
        build_section(MapsConfig, {"kde_scheme": "fisher_jenks"}, where="[maps]", base=None)
    with pytest.raises(ConfigError, match=r"'simplify_m' must be >= 0 metres, got -1.0"):
        build_section(MapsConfig, {"simplify_m": -1}, where="[maps]", base=None)
    with pytest.raises(ConfigError, match=r"'kit_radius_m' must be > 0 metres"):
        build_section(MapsConfig, {"kit_radius_m": 0}, where="[maps]", base=None)
    with pytest.raises(ConfigError, match=r"'street_zoom' must be a zoom level from 10 to 19, got 25"):
        build_section(MapsConfig, {"street_zoom": 25}, where="[maps]", base=None)
    with pytest.raises(ConfigError, match=r"'top' must be >= 1"):
        build_section(MapsConfig, {"top": 0}, where="[maps]", base=None)


def test_basemaps_name_their_hosts():
    assert BASEMAPS["none"] is None
    assert BASEMAPS["openstreetmap"].hosts == ("tile.openstreetmap.org",)
    assert BASEMAPS["carto-light"].hosts == tuple(f"{s}.basemaps.cartocdn.com" for s in "abcd")
    assert BASEMAPS["openstreetmap"].prefix == "https://tile.openstreetmap.org/"


# --------------------------------------------------------------------------------------
# colours, checked by colour-blindness simulation
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("vision", P.VISIONS)
def test_palettes_stay_apart_for_colour_blind_readers(vision):
    assert P.min_contrast(P.tier_colours(3), vision) > 30
    assert P.min_contrast(P.tier_colours(4), vision) > 25
    assert P.min_contrast(P.tier_colours(5), vision) > 15
    assert P.min_contrast([P.KIT, P.START], vision) > 60
    assert P.delta_e([P.KIT, P.START], P.tier_colours(3), vision).min() > 20  # markers stand out on any tier
    assert P.delta_e([P.START], [P.ZONE], vision).min() > 40
    assert P.min_contrast(list(P.GI_COLOURS.values()), vision) > 15
    assert P.min_contrast(P.KDE_COLOURS, vision) > 10


def test_the_simulation_catches_a_palette_that_fails():
    # red kits and green start points (the maps before) collapse for protanopes; matplotlib's red and
    # green nearly merge for deuteranopes
    assert P.delta_e(["#cb181d"], ["#238b45"])[0, 0] > 100
    assert P.delta_e(["#cb181d"], ["#238b45"], "protanopia")[0, 0] < 25
    assert P.delta_e(["#d62728"], ["#2ca02c"], "deuteranopia")[0, 0] < 10
    np.testing.assert_allclose(P.simulate(["#ffffff", "#000000"], "deuteranopia"), [[1, 1, 1], [0, 0, 0]], atol=0.01)
    np.testing.assert_allclose(P.lab(P.hex_rgb(["#ffffff"])), [[100, 0, 0]], atol=0.01)


def test_the_lowest_tier_is_neutral():
    colours = P.tier_colours(3)
    lab = P.lab(P.hex_rgb(colours))
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    assert colours[-1] == P.NEUTRAL and chroma[-1] < 1 and (chroma[:-1] > 40).all()
    assert P.tier_colours(1) == [P.NEUTRAL] and P.tier_colours(0) == []


# --------------------------------------------------------------------------------------
# names
# --------------------------------------------------------------------------------------


def test_location_names_and_street_words():
    assert N.location_name("On or near Market Street") == "Market Street"
    assert N.location_name("on or near  Parking Area ") == "Parking Area"
    assert N.location_name(None) == "" and N.location_name("On or near") == ""
    assert N.has_street_word("Long Row West") and N.has_street_word("A6008") and N.has_street_word("Goose Gate")
    assert not N.has_street_word("Supermarket") and not N.has_street_word("Theatre/Concert Hall")


def test_the_generic_rule_finds_the_generic_types_in_the_data(study):
    rows = study.incidents[study.incidents[C.LOCATION].notna()]
    names = rows[C.LOCATION].map(N.location_name)
    xy = np.column_stack([rows.geometry.x, rows.geometry.y])
    found = N.generic_names(names, xy, known=frozenset())
    assert found == N.GENERIC_LOCATION_TYPES - {"prison"}  # Prison has two map points only: listed by hand
    assert not any(N.has_street_word(n) for n in found)
    share = (names.str.lower().isin(N.GENERIC_LOCATION_TYPES) | (names == "")).mean()
    assert 0.14 < share < 0.16  # 560 of 3,718 rows, as the module notes say


def test_gazetteer_names_streets_wards_and_districts(gaz, study):
    assert len(gaz.streets) > 2000 and not gaz.streets["street"].str.lower().isin(gaz.generic).any()
    assert gaz.rows == {"with_location": 3718, "generic": 560}
    city = study.lsoa[study.lsoa[C.DISTRICT] == "Nottingham"]
    assert len(gaz.lsoa_ward) == len(city)  # every City LSOA has a ward, no county LSOA has one
    pt = gaz.streets.geometry.iloc[0]
    streets, dist = gaz.nearest_street(np.array([[pt.x + 3, pt.y]]))
    assert dist[0] <= 3 and streets[0]
    far = gaz.near(np.array([[pt.x + 50_000, pt.y + 50_000]]))
    assert far == [""]
    where = gaz.describe(np.array([[457_300.0, 340_365.0]]))[0]
    assert where.startswith("near ") and where.endswith("ward, Nottingham")
    assert N.place_phrase("On or near Parking Area", gaz, np.array([457_268.0, 340_194.0])).startswith(
        "parking area near "
    )
    assert N.place_phrase("On or near Market Street", gaz, np.array([0.0, 0.0])) == "Market Street"


def test_street_labels_are_thinned_per_name(gaz):
    lab = N.street_labels(gaz)
    assert 0 < len(lab) <= len(gaz.streets)
    cells = lab.assign(bx=np.floor(lab["x"] / 400), by=np.floor(lab["y"] / 400))
    assert not cells.duplicated(["street", "bx", "by"]).any()


# --------------------------------------------------------------------------------------
# the layer registry
# --------------------------------------------------------------------------------------


def test_every_layer_module_is_registered_once():
    folder = Path(L.__file__).parent
    modules = {p.stem for p in folder.glob("*.py")} - {"__init__", "base"}
    keys_by_module = {}
    for spec in L.REGISTRY.values():
        keys_by_module.setdefault(spec.build.__module__.rsplit(".", 1)[-1], []).append(spec.key)
    assert set(keys_by_module) == modules, "a layer module without a registry entry (or the reverse)"
    for audience, entries in L.AUDIENCE_LAYERS.items():
        keys = [k for k, _ in entries]
        assert set(keys) <= set(L.REGISTRY), audience
        assert len(keys) == len(set(keys)), audience


def test_audiences_get_their_layers(results, study, gaz):
    board = [x.key for x in build("board", results, study, gaz).layers]
    outreach = [x.key for x in build("outreach", results, study, gaz).layers]
    analyst = [x.key for x in build("analyst", results, study, gaz).layers]
    assert board == ["wards", "districts", "places", "kits", "streets"]
    assert outreach == ["wards", "districts", "outreach", "venues", "kits", "streets"] or outreach[0] == "lsoa_outlines"
    assert {
        "places",
        "kde",
        "gi_grid",
        "gi_lsoa",
        "clusters",
        "nte_zones",
        "outreach",
        "monthly",
        "venues",
        "kits",
    } <= set(analyst)
    # boundaries are drawn first, never clickable
    page = build("analyst", results, study, gaz)
    for key in ("lsoa_outlines", "wards", "districts", "streets"):
        lay = page.layer(key)
        assert not lay.interactive and lay.pane == "outlines"
    assert [x.key for x in page.layers][:3] == ["lsoa_outlines", "wards", "districts"]


def test_board_never_shows_incident_points_and_hides_small_counts(results, study, gaz):
    page = build("board", results, study, gaz)
    points = [p for lay in page.layers for p in lay.points]
    assert len(points) == len(results["bleed_kits"]) and {p["s"] for p in points} == {"kit"}
    n = results["lsoa"].set_index(C.LSOA_CODE)["n"]
    small = n[(n > 0) & (n < 5)].index[0]
    big = n[n >= 5].index[0]
    places = page.layer("places")
    assert places.popup(small)["Violent incidents"] == "&lt;5"
    assert places.popup(big)["Violent incidents"] == f"{int(n[big]):,}"
    analyst = build("analyst", results, study, gaz).layer("places")
    assert analyst.popup(small)["Violent incidents"] == str(int(n[small]))


def test_board_suppresses_small_counts_in_reasons(results, study, gaz):
    places = results["places"].copy()
    code = places[C.LSOA_CODE].iloc[-1]
    places.loc[places.index[-1], "reason"] = "Top 49% harm-weighted violence (4 incidents)"
    res = dict(results, places=places)
    board = build("board", res, study, gaz).layer("places").popup(code)
    analyst = build("analyst", res, study, gaz).layer("places").popup(code)
    assert board["Why"] == "Top 49% harm-weighted violence (&lt;5 incidents)"
    assert analyst["Why"] == "Top 49% harm-weighted violence (4 incidents)"


def test_place_popups_name_the_place_its_ward_rank_tier_and_reason(results, study, gaz):
    lay = build("board", results, study, gaz).layer("places")
    first = results["places"].iloc[0]
    pop = lay.popup(first[C.LSOA_CODE])
    assert pop["title"] == esc(first[C.LSOA_NAME])
    assert pop["Where"].endswith("ward, Nottingham") and pop["Priority"] == "Tier 1"
    assert pop["Rank"] == f"1 of {len(results['places']):,} (likely 1\u20136)"
    assert pop["Why"] == "Top 1 for harm-weighted violence" and pop["LSOA code"] == first[C.LSOA_CODE]
    assert lay.fields[: lay.tip] == ["Where", "Priority", "Rank"]
    assert lay.palette[-1] == P.NEUTRAL and lay.style["fill"][-1] < lay.style["fill"][0]
    items = [label for _, label, _ in lay.legend.items]
    assert items[0].startswith("Tier 1 (") and items[-1].startswith("Tier 3 (")
    assert lay.panel["items"][0][0].startswith(f"1. {esc(first[C.LSOA_NAME])} \u00b7 ")
    assert [x[2] for x in lay.labels[:2]] == [
        f"{i} \u00b7 {esc(n)}" for i, n in enumerate(results["places"][C.LSOA_NAME][:2], 1)
    ]


def test_tier_names_of_the_two_axis_ranking_are_used_when_present(results, study, gaz):
    places = results["places"].copy()
    words = {1: "act now: high harm", 2: "prevent: high need", 3: "monitor"}
    places["tier_name"] = places["tier"].map(words)
    n = len(places)
    places["harm_rank"], places["harm_rank_low"], places["harm_rank_high"] = places["rank"], 1, places["rank"] + 2
    places["need_rank"] = n - places["rank"] + 1
    lay = build("board", dict(results, places=places), study, gaz).layer("places")
    pop = lay.popup(places[C.LSOA_CODE].iloc[0])
    assert html.unescape(pop["Priority"]) == "Act now: high harm"
    assert pop["Harm rank"] == f"1 of {n:,} (likely 1\u20133)" and pop["Need rank"] == f"{n:,} of {n:,}"
    assert "Rank" not in pop
    legend = [html.unescape(label).split(" (")[0] for _, label, _ in lay.legend.items]
    assert legend == ["Act now: high harm", "Prevent: high need", "Monitor"]
    assert lay.palette == [P.TIER_COLOURS[0], P.TIER_COLOURS[1], P.NEUTRAL]


def test_analyst_popups_are_curated_with_plain_labels(results, study, gaz):
    places = results["places"].copy()
    for raw in ("c_harm_rate", "imd_nc_decile", "idaci_rate_derived", "gi_z", "missing"):
        places[raw] = 0.5
    lay = build("analyst", dict(results, places=places), study, gaz).layer("places")
    pop = lay.popup(places[C.LSOA_CODE].iloc[0])
    assert len(pop) <= 18
    assert not [k for k in pop if re.fullmatch(r"[a-z_]+", k) and "_" in k], "a raw column name in the popup"
    assert "c_harm_rate" not in lay.fields and "Children in income-deprived families" in pop
    assert pop["Children in income-deprived families"] == "50 %"


def test_kits_are_named_by_street_and_ward_never_by_internal_code(results, study, gaz):
    kits = results["bleed_kits"].copy()
    kits.loc[0, ["site_id", "source", "name"]] = ["venue:75266", "venue", "Keoghs Bar"]
    kits.loc[1, ["site_id", "source", "name"]] = ["location:E1N2", "incident_location", "On or near Parking Area"]
    lay = build("board", dict(results, bleed_kits=kits), study, gaz).layer("kits")
    first, second = lay.popup("kit1"), lay.popup("kit2")
    assert first["title"] == "Kit 1: Keoghs Bar" and first["Chosen from"] == "a night-time venue"
    assert second["title"].startswith("Kit 2: parking area near ")
    assert all(p["Where"] for p in map(lay.popup, lay.ids()))
    text = str(lay.to_json())
    assert "venue:" not in text and "location:" not in text and "incident_location" not in text
    assert [x["s"] for x in lay.points] == ["kit"] * len(kits) and lay.points[0]["n"] == "1"


def test_outreach_start_points_are_inside_their_zones_on_named_streets(bundled_run, gaz):
    zones = zone_geometry(bundled_run.run.sites.outreach, bundled_run.run.study.lsoa)
    focal = zones[["focal_x", "focal_y"]].to_numpy()
    outside_before = sum(not shapely.contains_xy(g, *p) for g, p in zip(zones.geometry, focal, strict=True))
    start, street, on_street = start_points(zones, gaz)
    inside = [shapely.contains_xy(g, *p) for g, p in zip(zones.geometry, start, strict=True)]
    assert all(inside) and on_street.all() and all(street), (outside_before, street)
    assert outside_before > 0  # the sites stage's grid-cell centres: some fall outside their zone
    reason = bundled_run.run.sites.outreach[C.REASON].iloc[0]
    assert "Start at the grid cell" in reason and "Start at" not in reason_without_start(reason)


def test_zones_and_their_popups_use_ward_and_lsoa_names(results, study, gaz):
    lay = build("outreach", results, study, gaz).layer("outreach")
    pop = lay.popup("1")
    assert pop["title"].startswith("Zone 1: ") and "ward" not in pop["title"]
    assert "E0" not in pop["Places (LSOAs)"] and pop["Start"]
    assert lay.popup("start:1")["title"] == "Start here: zone 1"
    assert lay.labels[0][2] == "1" and lay.panel["items"][0][1] == "1"


def test_maps_work_without_wards_or_location_names(results, study):
    inc = study.incidents.assign(**{C.LOCATION: None})
    bare = dataclasses.replace(study, wards=None, incidents=inc)
    gaz = N.build_gazetteer(bare.incidents, bare.lsoa, wards=None, districts=bare.districts)
    assert len(gaz.streets) == 0 and gaz.lsoa_ward == {}
    for audience in maps.AUDIENCES:
        page = maps.build_map(audience, results, bare, gazetteer=gaz)
        keys = [x.key for x in page.layers]
        assert "wards" not in keys and "streets" not in keys and "districts" in keys
    zones = page.layer("outreach")
    assert zones.popup("1")["Start"] in {
        "Inside the zone",
        *(f"Inside the zone, {d}" for d in study.districts["district"]),
    }
    kit = page.layer("kits").popup("kit1")
    assert kit["Where"] in set(study.districts["district"])  # no street to name: the district


def test_every_search_entry_points_at_something(results, study, gaz):
    for audience in maps.AUDIENCES:
        page = build(audience, results, study, gaz)
        data = page.data()
        ids = {lay.key: set(lay.ids()) for lay in page.layers}
        kinds = {e["k"] for e in data["search"]}
        assert {"ward", "district", "street", "kit"} <= kinds, audience
        for e in data["search"]:
            assert len(e["p"]) == 2 and 52 < e["p"][0] < 54 and -2 < e["p"][1] < 0
            if "ly" in e:
                assert e["id"] in ids[e["ly"]], e
        for panel in data["panel"]:
            assert all(fid in ids[panel["layer"]] for _, fid in panel["items"])


def test_monthly_counts_add_up_to_the_analysed_incidents(results, study, gaz):
    lay = build("analyst", results, study, gaz).layer("monthly")
    months = lay.extra["months"]
    total = sum(n for p in lay.points for _, n in p["m"])
    inc = study.analysis_incidents
    assert total == int(inc[C.MONTH].notna().sum()) and months == sorted(inc[C.MONTH].dropna().unique())


def test_data_text_is_escaped_everywhere(results, study, gaz):
    venues = study.venues.copy()
    venues.loc[venues.index[0], C.VENUE_NAME] = XSS
    s = dataclasses.replace(study, venues=venues)
    places = results["places"].copy()
    places.loc[places.index[0], "reason"] = XSS
    places.loc[places.index[0], "lsoa_name"] = "`${alert(3)}`"
    for audience in maps.AUDIENCES:
        html = render_page(build(audience, dict(results, places=places), s, gaz))
        assert "<img src=x" not in html and "${alert(3)}" not in html
        assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in html or audience == "board"


def test_missing_primary_result_or_column_is_a_clear_error(results, study, gaz):
    with pytest.raises(InputError, match=r"the board map needs results\['places'\], made by the rank stage"):
        build("board", {k: v for k, v in results.items() if k != "places"}, study, gaz)
    bad = dict(results, outreach=results["outreach"].drop(columns=["focal_x"]))
    with pytest.raises(InputError, match=r"results\['outreach'\] lacks column\(s\) \['focal_x'\]"):
        build("outreach", bad, study, gaz)
    with pytest.raises(InputError, match=r"unknown map audience 'press'"):
        build("press", results, study, gaz)
    with pytest.raises(InputError, match=r"unknown base map 'google'"):
        build("board", results, study, gaz, basemap="google")
    with pytest.warns(Warning, match=r"analyst map: no 'clusters' result \(made by the detect stage\)"):
        page = build("analyst", {k: v for k, v in results.items() if k != "clusters"}, study, gaz)
    assert "clusters" not in [x.key for x in page.layers]


def test_emerging_layer_draws_only_hot_and_cold_categories(results, study, gaz):
    grid = results["grid"].copy()
    grid["emerging_class"] = "not analysed"
    grid.loc[grid.index[:3], "emerging_class"] = "persistent hot spot"
    grid.loc[grid.index[3:5], "emerging_class"] = "no pattern"
    grid.loc[grid.index[5], "emerging_class"] = "sporadic cold spot"
    lay = build("analyst", dict(results, grid=grid), study, gaz).layer("emerging")
    titles = sorted(f["properties"]["t"] for f in lay.features)
    assert titles == ["Persistent hot spot"] * 3 + ["Sporadic cold spot"]
    with pytest.raises(KeyError):
        build("analyst", results, study, gaz).layer("emerging")


def test_hot_cells_are_named_and_large_grids_drawn_per_class(results, study, gaz):
    lay = build("analyst", results, study, gaz).layer("gi_grid")
    classes = results["grid"]["hotspot_class"]
    sig = classes[classes != "not significant"]
    assert len(lay.features) == len(sig)
    first = lay.popup(lay.ids()[0])
    assert first["title"].startswith("Grid cell ") and first["Class"].endswith("confidence")
    merged = build("analyst", results, study, gaz, options=dataclasses.replace(maps.MapOptions(), max_cells=10))
    m = merged.layer("gi_grid")
    assert sorted(m.ids()) == sorted(f"class:{c}" for c in sig.unique())
    assert sum(int(m.popup(i)["Cells"].replace(",", "")) for i in m.ids()) == len(sig)


def test_classify_kde_matches_mapclassify_and_skips_zero():
    rng = np.random.default_rng(1)
    v = pd.Series(np.r_[np.zeros(50), rng.gamma(1.0, 3.0, 500)])
    cls, bins = classify_kde(v, scheme="quantiles", k=5)
    oracle = mapclassify.Quantiles(v[v > 0].to_numpy(), k=5)
    assert (cls[:50] == -1).all()
    np.testing.assert_array_equal(cls[50:], oracle.yb)
    np.testing.assert_allclose(bins, oracle.bins)
    cls_h, bins_h = classify_kde(v, scheme="head_tail_breaks", k=5)
    assert cls_h.max() == len(bins_h) - 1 and (cls_h[50:] >= 0).all()
    assert classify_kde(pd.Series([0.0, 0.0]), scheme="quantiles", k=5)[1] == []


# --------------------------------------------------------------------------------------
# self-contained pages
# --------------------------------------------------------------------------------------


def without_leaflet(page: str) -> str:
    """The page without the inlined Leaflet script and style and the licences (what hotspots wrote)."""
    page = re.sub(r"<(script|style)>/\* leaflet/.*?</\1>", "", page, flags=re.S)
    return page.split('<script type="text/plain" id="third-party-licences">')[0]


@requires_assets
def test_pages_are_self_contained_small_and_offline(results, study, gaz, tmp_path):
    for audience in maps.AUDIENCES:
        path = maps.write_map(build(audience, results, study, gaz), tmp_path / f"{audience}.html")
        page = path.read_text(encoding="utf-8")
        assert path.stat().st_size < 5e6
        assert not re.search(r"<script[^>]+src=", page) and not re.search(r"<link[^>]+href=", page)
        ours = without_leaflet(page)
        assert not re.search(r"https?:|//[a-z0-9-]+\.[a-z]", ours)
        assert 'id="third-party-licences"' in page and "Leaflet" in page
        assert "Open Government Licence v3.0" in ours and "data period" in ours
        assert not re.search(r"\d[eE][+-]\d\d", ours), "a number in exponent notation"


@requires_assets
def test_online_basemap_only_when_configured(results, study, gaz):
    page = build("board", results, study, gaz, basemap="openstreetmap")
    ours = without_leaflet(maps.map_html(page))
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in ours
    assert set(re.findall(r"https?://([^/\"'{]+)", ours)) == {"tile.openstreetmap.org"}
    page.basemap = dataclasses.replace(page.basemap, url="https://evil.example/{z}/{x}/{y}.png")
    with pytest.raises(assets.AssetError, match=r"not vendored: https://evil.example/"):
        assets.inline_html(render_page(page), allow=("https://tile.openstreetmap.org/",))


@requires_assets
def test_maps_stage_builds_three_pages_and_the_pipeline_writes_them(results, study, config, tmp_path):
    from hotspots.pipeline import Run, Written, write_outputs

    with pytest.raises(InputError, match=r"the outreach map needs results\['outreach'\], made by the sites stage"):
        maps.build_maps(study, None, None, None, MapsConfig(audiences=["outreach"]))
    res = _stage_results(results)
    m = maps.build_maps(study, *res, config.maps)
    written = Written(tmp_path)
    write_outputs(Run(config=config, study=study, maps=m), "maps", written)
    for audience in maps.AUDIENCES:
        path = tmp_path / "maps" / f"{audience}.html"
        assert path.is_file() and path.stat().st_size < 5e6
        assert f"maps/{audience}.html" in written.outputs
        assert m.summary[audience]["bytes"] == path.stat().st_size
    assert m.auto["kit_radius_m"] == 100.0 and m.auto["street_names"]["generic"] == 560


@requires_assets
def test_kit_circles_use_the_sites_radius(results, study):
    det, ranked, sited = _stage_results(results)
    sited60 = dataclasses.replace(sited, radius_m=60.0)
    assert maps.build_maps(study, det, ranked, sited60, MapsConfig(audiences=["board"])).auto["kit_radius_m"] == 60.0
    over = maps.build_maps(study, det, ranked, sited60, MapsConfig(audiences=["board"], kit_radius_m=150.0))
    assert over.auto["kit_radius_m"] == 150.0
    assert "150 m walk" in over.pages["board"]


def test_serve_command_refuses_a_folder_without_maps(tmp_path):
    from click.testing import CliRunner

    from hotspots.cli import main

    r = CliRunner().invoke(main, ["serve", str(tmp_path), "--no-browser"])
    assert r.exit_code == 2 and "holds no maps" in r.output
    r = CliRunner().invoke(main, ["serve", str(tmp_path / "nope"), "--no-browser"])
    assert r.exit_code == 2 and "does not exist" in r.output


def _stage_results(results):
    """The documented results as the detect, rank and sites stages' result objects."""
    from hotspots.detect.stage import DetectResult
    from hotspots.rank.stage import RankResult
    from hotspots.sites.stage import SitesResult

    det = DetectResult(
        grid=results["grid"],
        lsoa=results["lsoa"],
        clusters=results["clusters"],
        nte_zones=results["nte_zones"],
        emerging=None,
    )
    ranked = RankResult(places=results["places"], districts=pd.DataFrame(), concentration={})
    sited = SitesResult(
        kits=results["bleed_kits"],
        coverage_curve=pd.DataFrame(),
        sensitivity=pd.DataFrame(),
        target={},
        outreach=results["outreach"],
        fixed_sites=None,
        radius_m=100.0,
    )
    return det, ranked, sited
