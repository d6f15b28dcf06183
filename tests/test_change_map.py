"""The change map (``maps/change.html``) without a browser: its layers, popups, colours, panel, search and page.

Built from the change stage on the real bundled data (2020 City violence halves with an
intervention; the City robberies 2020 vs 2022; a 250 m grid). Where a test needs significant units
the real table's classes are replaced (the real halves have one significant LSOA under the default
dispersion), and says so. test_browser_change.py opens the page in Chromium.
"""

from __future__ import annotations

import dataclasses
import re
import warnings

import numpy as np
import pytest

from hotspots.errors import HotspotsWarning
from hotspots.evaluate.change import FALL, NO_CLEAR_CHANGE, NO_DATA, RISE
from hotspots.evaluate.change_config import ChangeConfig, InterventionConfig
from hotspots.evaluate.change_stage import ChangeResult, change
from hotspots.present import assets
from hotspots.present.change_map import change_map, change_map_page
from hotspots.present.maps import layers as L
from hotspots.present.maps import palette as P
from hotspots.present.maps.config import MapsConfig
from hotspots.present.maps.layers.change import MERGED, RATIO_BINS, pct_change, ratio_classes
from hotspots.present.maps.text import esc

XSS = "<img src=x onerror=alert(1)>"
HALVES = {"before": "2020-01..2020-06", "after": "2020-07..2020-12", "sources": ["city_violence_2020"]}
PILOT = InterventionConfig(
    name="pilot", start="2020-07", months=6, treated_lsoas=["E01033406"], control_lsoas=["E01013855"], buffer_m=200
)

requires_assets = pytest.mark.skipif(
    bool(assets.problems(deep=False)), reason=f"offline map assets not installed; {assets.INSTALL_HINT}"
)


def run(study, interventions=(), **kw) -> ChangeResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HotspotsWarning)
        return change(study, ChangeConfig(**kw), interventions=interventions)


def with_classes(result: ChangeResult, falls: int, rises: int) -> ChangeResult:
    """The result with the ``falls`` + ``rises`` lowest-p units of data made significant (by their direction)."""
    t = result.table.copy()
    tested = t[t["change_class"] != NO_DATA].sort_values("p_value")
    down = tested[tested["rate_ratio"] < 1].index[:falls]
    up = tested[tested["rate_ratio"] > 1].index[:rises]
    t.loc[down, "change_class"] = FALL
    t.loc[up, "change_class"] = RISE
    t.attrs = dict(result.table.attrs)
    return dataclasses.replace(result, table=t)


@pytest.fixture(scope="module")
def halves(study):
    return with_classes(run(study, interventions=(PILOT,), **HALVES), falls=5, rises=3)


@pytest.fixture(scope="module")
def page(halves, study):
    return change_map_page(halves, study)


def test_the_change_map_is_registered_and_draws_its_layers(page):
    assert [k for k, _ in L.AUDIENCE_LAYERS["change"]] == [
        "wards",
        "districts",
        "change_size",
        "change",
        "interventions",
        "streets",
    ]
    assert {"change", "change_size", "interventions"} <= set(L.REGISTRY)
    assert [x.key for x in page.layers] == ["wards", "districts", "change_size", "change", "interventions", "streets"]
    shown = {x.key: x.show for x in page.layers}
    assert shown["change"] and shown["interventions"] and shown["streets"] and not shown["change_size"]
    for key in ("wards", "districts", "streets"):
        assert not page.layer(key).interactive and page.layer(key).pane == "outlines"
    assert page.layer("streets").labels[0][3] == MapsConfig().street_zoom
    assert (
        page.title == "What changed" and "city_violence_2020" in page.subtitle and "6 months with data" in page.subtitle
    )


def test_every_unit_is_drawn_with_its_class_colour(page, halves):
    lay = page.layer("change")
    t = halves.table
    assert len(lay.features) == len(t)  # LSOAs: every unit, "no data" too
    assert lay.palette == list(P.CHANGE_COLOURS.values())
    cls = {f["properties"]["i"]: f["properties"]["c"] for f in lay.features}
    for uid, c in zip(t["unit_id"], t["change_class"], strict=True):
        assert lay.palette[cls[uid]] == P.CHANGE_COLOURS[c]
    assert lay.style["fill"][list(P.CHANGE_COLOURS).index(NO_DATA)] == 0.0
    legend = dict((label.split(" (")[0], colour) for colour, label, _ in lay.legend.items)
    assert legend["Significant fall"] == "#0072b2" and legend["Significant rise"] == "#d55e00"
    assert legend["No clear change"] == P.NEUTRAL
    assert any("(5 LSOAs)" in label for _, label, _ in lay.legend.items)


def test_popups_use_plain_labels_and_hide_small_counts(page, halves):
    lay = page.layer("change")
    t = halves.table.set_index("unit_id")
    small = t[(t["before"] > 0) & (t["before"] < 5)].index[0]
    big = t[(t["change_class"] == FALL)].index[0]
    pop = lay.popup(big)
    row = t.loc[big]
    assert pop["title"] == esc(row["unit_name"])
    assert pop["Where"].endswith("ward, Nottingham")
    assert pop["Result"] == "Significant fall"
    assert pop["Incidents before (6 months)"] == f"{int(row['before']):,}"
    assert pop["Incidents after (6 months)"] == f"{int(row['after']):,}"
    assert pop["Change per month"].startswith(pct_change(row["rate_ratio"]) + " (95 % interval ")
    assert pop["Rate ratio (after \u00f7 before, per month)"].startswith(f"{row['rate_ratio']:.2f}".rstrip("0"))
    assert pop["Smallest fall that could be seen"].endswith(" %") or pop["Smallest fall that could be seen"].startswith(
        "none"
    )
    assert pop["LSOA code"] == big
    assert lay.popup(small)["Incidents before (6 months)"] == "&lt;5"
    assert not any(re.search(r"\d[eE][+-]\d", v) for v in pop.values())
    assert not set(pop) & {"unit_id", "rate_ratio", "q_value", "mde_pct", "change_class"}  # no column names
    empty = t[t["change_class"] == NO_DATA].index
    if len(empty):
        nd = lay.popup(empty[0])
        assert nd["Result"].startswith("No data") and "Change per month" not in nd


def test_suppression_follows_maps_config_and_harm_is_never_suppressed(study, halves):
    lay = change_map_page(halves, study, cfg=MapsConfig(suppress_below=0)).layer("change")
    t = halves.table.set_index("unit_id")
    small = t[(t["before"] > 0) & (t["before"] < 5)].index[0]
    assert lay.popup(small)["Incidents before (6 months)"] == str(int(t.loc[small, "before"]))
    harm = run(study, measure="harm", **HALVES)
    pop = change_map_page(harm, study).layer("change").popup(small)
    assert "Harm before (6 months)" in pop and "&lt;" not in pop["Harm before (6 months)"]


def test_panel_lists_the_significant_units_strongest_first_and_labels_them(page, halves):
    lay = page.layer("change")
    sig = halves.table[halves.table["change_class"].isin([FALL, RISE])].sort_values("p_value")
    assert lay.panel["title"] == f"Significant changes ({len(sig)})"
    assert [i for _, i in lay.panel["items"]] == sig["unit_id"].tolist()
    first = lay.panel["items"][0][0]
    assert first.startswith(pct_change(sig["rate_ratio"].iloc[0])) and esc(sig["unit_name"].iloc[0]) in first
    assert len(lay.labels) == len(sig) and {lab[3] for lab in lay.labels} == {10}


def test_with_nothing_significant_the_panel_says_so(study):
    plain = run(study, **HALVES, dispersion="auto")
    plain = dataclasses.replace(
        plain,
        table=plain.table.assign(
            change_class=plain.table["change_class"].replace({FALL: NO_CLEAR_CHANGE, RISE: NO_CLEAR_CHANGE})
        ),
    )
    lay = change_map_page(plain, study).layer("change")
    assert lay.panel["title"] == "No significant change: the closest" and len(lay.panel["items"]) == 10
    assert lay.labels == []


def test_search_finds_units_wards_streets_and_the_intervention(page):
    data = page.data()
    kinds = {e["k"] for e in data["search"]}
    assert {"place", "ward", "district", "street", "intervention"} <= kinds
    ids = {lay.key: set(lay.ids()) for lay in page.layers}
    for e in data["search"]:
        if "ly" in e:
            assert e["id"] in ids[e["ly"]], e
    for p in data["panel"]:
        assert {i for _, i in p["items"]} <= ids[p["layer"]]
    assert data["searchHint"] == "Search places, wards, streets, interventions"


def test_intervention_areas_are_outlines_with_their_result(page, halves):
    lay = page.layer("interventions")
    assert lay.style["outline"] is True and lay.interactive
    roles = sorted(i.split(":")[1] for i in lay.ids())
    assert roles == ["control", "displacement", "displacement_control", "treated"]
    pop = lay.popup("pilot:treated")
    verdict = halves.impact.query("measure == 'count'")["verdict"].iloc[0]
    assert pop["title"] == "pilot" and pop["Area"] == "Treated area" and pop["Result (incidents)"] == esc(verdict)
    assert pop["Started"] == "2020-07" and pop["Size"].endswith("km\u00b2")
    assert "Result (incidents)" not in lay.popup("pilot:control")
    dash = dict(zip(L.interventions.ROLES, lay.style["dash"], strict=True))
    assert dash["treated"] == "" and dash["control"] != ""  # told apart by the dash, not the hue
    assert [lab[2] for lab in lay.labels] == ["pilot"]


def test_without_interventions_there_is_no_intervention_layer(study):
    plain = run(study, **HALVES)
    assert "interventions" not in [x.key for x in change_map_page(plain, study).layers]


def test_a_large_grid_draws_significant_cells_one_by_one_and_the_rest_as_one_shape(study):
    grid = with_classes(run(study, units="grid", cell_size=250, **HALVES), falls=4, rises=2)
    t = grid.table
    tested = int((t["change_class"] != NO_DATA).sum())
    small = change_map_page(grid, study, cfg=MapsConfig(max_cells=tested - 1))
    lay = small.layer("change")
    assert len(lay.features) == 6 + 1 and MERGED in lay.ids()
    assert lay.popup(MERGED)["title"] == f"{tested - 6:,} cells with no clear change"
    assert "change_size" not in [x.key for x in small.layers]
    full = change_map_page(grid, study).layer("change")
    assert len(full.features) == tested  # grid cells with no data are not drawn
    cell = t[t["change_class"] == FALL]["unit_id"].iloc[0]
    assert full.popup(str(cell))["title"].startswith(f"Grid cell {cell}")


def test_size_layer_classes_the_rate_ratio():
    import pandas as pd

    rr = pd.Series([0.2, 0.5, 0.79, 1.0, 1.3, 2.0, np.inf])
    assert ratio_classes(rr).tolist() == [0, 1, 1, 2, 3, 4, 4]
    assert len(RATIO_BINS) == len(P.CHANGE_SIZE_COLOURS)


@pytest.mark.parametrize("vision", P.VISIONS)
def test_falls_and_rises_stay_apart_for_colour_blind_readers(vision):
    c = P.CHANGE_COLOURS
    assert P.delta_e([c[FALL]], [c[RISE]], vision)[0, 0] > 80
    assert P.delta_e([c[FALL], c[RISE]], [c[NO_CLEAR_CHANGE]], vision).min() > 35
    assert P.min_contrast(P.CHANGE_SIZE_COLOURS, vision) > 20
    lines = [colour for colour, _ in P.INTERVENTION_LINES.values()]
    assert P.delta_e(lines, [c[FALL], c[RISE], c[NO_CLEAR_CHANGE]], vision).min() > 25  # outlines show on any fill
    lab = P.lab(P.hex_rgb([c[NO_CLEAR_CHANGE]]))
    assert np.hypot(lab[0, 1], lab[0, 2]) < 1  # "no clear change" is neutral


def test_hostile_names_are_escaped(study, halves):
    t = halves.table.copy()
    t.loc[t.index[0], "unit_name"] = XSS
    t.attrs = dict(halves.table.attrs)
    lay = change_map_page(dataclasses.replace(halves, table=t), study).layer("change")
    text = str(lay.to_json())
    assert XSS not in text and esc(XSS) in text


@requires_assets
def test_the_page_is_self_contained_and_online_only_with_a_basemap(study, halves):
    from test_maps import without_leaflet

    page = change_map(halves, study)
    ours = without_leaflet(page)
    assert not re.search(r"<script[^>]+src=", page) and not re.search(r"<link[^>]+href=", page)
    assert not re.search(r"https?:|//[a-z0-9-]+\.[a-z]", ours)
    assert len(page.encode("utf-8")) < 5e6
    osm = without_leaflet(change_map(halves, study, cfg=MapsConfig(basemap="openstreetmap")))
    assert set(re.findall(r"https?://([^/\"'{]+)", osm)) == {"tile.openstreetmap.org"}
