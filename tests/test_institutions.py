"""Tests of the institutional locations: whole-name matching, fuzzy spelling, coordinates, exclusion."""

from __future__ import annotations

import dataclasses
from collections import Counter

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from hotspots import columns as C
from hotspots.config import config_from_dict
from hotspots.errors import ConfigError
from hotspots.prepare import institutions as ins
from hotspots.prepare.institutions import (
    DEFAULT_INSTITUTIONS,
    INSTITUTION_TABLE_COLUMNS,
    InstitutionsConfig,
    edit_distance,
    flag_institutions,
    match_institution,
    phrase_match,
)

NAMES = DEFAULT_INSTITUTIONS


@pytest.mark.parametrize(
    ("location", "kind", "how"),
    [
        ("On or near Prison", "prison", "name"),
        ("On or near Hospital", "hospital", "name"),
        ("on or near police station", "police station", "name"),
        ("Police Station", "police station", "name"),
        ("On or near Leicester Royal Infirmiry", "hospital", "name (fuzzy)"),
        ("On or near Hospitl", "hospital", "name (fuzzy)"),
        ("On or near Queen's Hospital", "hospital", "name"),
        ("On or near Nottingham Magistrates' Court", "court", "name"),
        ("On or near Magistrate Court", "court", "name (fuzzy)"),
        ("On or near Crown Court", "court", "name"),
        ("On or near HMP Nottingham", "prison", "name"),
        ("On or near Bridewell Custody Suite", "custody suite", "name"),
    ],
)
def test_institution_names_match_on_the_whole_name(location, kind, how):
    assert match_institution(location, NAMES) == (kind, how)


@pytest.mark.parametrize(
    "location",
    [
        "On or near Gunthorpe Court",
        "On or near Brown Court",  # one letter from "Crown Court", but short words must match exactly
        "On or near Court Street",
        "On or near Hospital Road",
        "On or near Prison Lane",
        "On or near Station Road",
        "On or near Petrol Station",
        "On or near Bus/Coach Station",
        "On or near Police Street",
        "On or near Chancery Court",
        "On or near Margaret'S Court",
        "",
        None,
        float("nan"),
    ],
)
def test_streets_are_never_institutions(location):
    assert match_institution(location, NAMES) == ("", "")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12), st.sampled_from(["Court", "Close"]))
def test_no_residential_x_court_matches(word, street):
    # "On or near <word> Court" is a street unless <word> is (nearly) an institution's own word
    near = [w for phrases in NAMES.values() for ph in phrases for w in ph.lower().replace("*", " ").split()]
    if any(edit_distance(word, w) <= 2 for w in near):
        return
    assert match_institution(f"On or near {word.title()} {street}", NAMES) == ("", "")


def test_edit_distance_oracle():
    assert edit_distance("hospitl", "hospital") == 1
    assert edit_distance("hopsital", "hospital") == 1  # transposition
    assert edit_distance("infirmiry", "infirmary") == 1
    assert edit_distance("brown", "crown") == 1
    assert edit_distance("", "abc") == 3
    assert phrase_match(["royal", "infirmary"], "* Royal Infirmary") is None  # the wildcard needs a word
    assert phrase_match(["royal", "infirmary"], "Royal Infirmary") == "name"
    assert phrase_match(["hospitl"], "Hospital", fuzzy=False) is None


def _frame(rows: list[tuple[str, str | None, float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            C.SOURCE: [r[0] for r in rows],
            C.LOCATION: [r[1] for r in rows],
            C.HARM: 1.0,
            C.INSTITUTION: "",
        },
        geometry=[Point(r[2], r[3]) for r in rows],
        crs=C.CRS,
    )


def test_rows_without_names_take_the_nearest_named_snap_point():
    inc = _frame(
        [
            ("named", "On or near Prison", 0.0, 0.0),
            ("named", "On or near High Street", 1.2, 0.0),
            ("points", None, 0.3, 0.0),  # nearest named point: the prison
            ("points", None, 1.0, 0.0),  # nearest named point: the street, 0.2 m away
            ("points", None, 30.0, 0.0),  # too far from any named point
        ]
    )
    out, table = flag_institutions(inc, InstitutionsConfig())
    assert out[C.INSTITUTION].tolist() == ["prison", "", "prison", "", ""]
    assert list(table.columns) == INSTITUTION_TABLE_COLUMNS
    rows = table.set_index("matched_by")
    assert rows.loc["coordinates", "location"] == "On or near Prison"
    assert rows.loc["coordinates", "incidents"] == 1 and rows.loc["name", "incidents"] == 1
    off, _ = flag_institutions(inc, InstitutionsConfig(snap_distance_m=0))
    assert off[C.INSTITUTION].tolist() == ["prison", "", "", "", ""]
    none, empty = flag_institutions(inc, InstitutionsConfig(names={}))
    assert (none[C.INSTITUTION] == "").all() and len(empty) == 0
    assert inc[C.INSTITUTION].tolist() == [""] * 5  # input unchanged


def test_bundled_institutions(study):
    """On the bundled data: 61 rows by name, 361 by coordinates, no street called Court."""
    inc = study.incidents
    flagged = inc[inc[C.INSTITUTION] != ""]
    assert len(flagged) == 422
    table = study.institutions
    assert table.groupby("matched_by")["incidents"].sum().to_dict() == {"coordinates": 361, "name": 61}
    assert set(table["location"]) == {
        "On or near Prison",
        "On or near Hospital",
        "On or near Police Station",
        "Police Station",
    }
    named = inc[C.LOCATION].dropna().astype(str)
    court = named.index[named.str.contains(r"\bCourt\b", case=False)]
    assert len(court) == 100 and (inc.loc[court, C.INSTITUTION] == "").all()
    # the place analyses: 66 of 4,200 incidents; ranking and kits leave them out, detection keeps them
    assert (study.analysis_incidents[C.INSTITUTION] != "").sum() == 66
    assert len(study.place_incidents("rank")) == len(study.place_incidents("kits")) == 4200 - 66
    assert len(study.place_incidents("outreach")) == 4200
    summary = study.institutions_summary()
    assert summary["place_analysis_incidents"] == 66 and summary["excluded_from"] == ["rank", "kits"]
    assert summary["by_institution"] == {"prison": 32, "hospital": 28, "police station": 6}
    assert any("institutional snap points" in c for c in study.caveats)


def test_exclusion_is_configurable(study):
    cfg = dataclasses.replace(study.config, institutions=InstitutionsConfig(exclude_from=[]))
    kept = dataclasses.replace(study, config=cfg)
    assert len(kept.place_incidents("rank")) == 4200


def test_institutions_config_errors(config):
    raw = dict(config.raw)
    with pytest.raises(ConfigError, match=r"\[institutions\] key 'exclude_from': unknown stage 'detect'"):
        config_from_dict({**raw, "institutions": {"exclude_from": ["detect"]}}, path=config.path)
    with pytest.raises(ConfigError, match=r"phrase '\*' of 'prison' has no words"):
        InstitutionsConfig(names={"prison": ["*"]})
    with pytest.raises(ConfigError, match="'snap_distance_m' must be >= 0"):
        InstitutionsConfig(snap_distance_m=-1)
    with pytest.raises(ConfigError, match=r"unknown key 'name' in \[institutions\]"):
        config_from_dict({**raw, "institutions": {"name": {}}}, path=config.path)
    c = config_from_dict({**raw, "institutions": {"names": {"hospital": ["Hospital"]}}}, path=config.path)
    assert c.institutions.names == {"hospital": ["Hospital"]}


def test_flag_empty_frame():
    out, table = flag_institutions(_frame([]), InstitutionsConfig())
    assert len(out) == 0 and len(table) == 0
    assert isinstance(out, pd.DataFrame) and np.asarray(out[C.INSTITUTION]).size == 0


def test_letters_apart_never_exceeds_the_edit_distance() -> None:
    """The prefilter is a lower bound, so fuzzy word matches are those the edit distance alone gives."""
    rng = np.random.default_rng(5)
    words = ["hospital", "infirmary", "magistrates", "custody", "prison", "police", "station", "combined"]
    pool = list("aeioustrnlhpd")
    for _ in range(3000):
        a = str(rng.choice(words))
        b = list(a)
        for _ in range(int(rng.integers(0, 4))):
            op, i = int(rng.integers(0, 4)), int(rng.integers(0, len(b)))
            if op == 0:
                b[i] = str(rng.choice(pool))
            elif op == 1:
                b.insert(i, str(rng.choice(pool)))
            elif op == 2 and len(b) > 1:
                del b[i]
            elif i + 1 < len(b):
                b[i], b[i + 1] = b[i + 1], b[i]
        w = "".join(b)
        ca, cb = Counter(w), Counter(a)
        assert ins.letters_apart(w, a) == max((ca - cb).total(), (cb - ca).total())
        assert ins.letters_apart(w, a) <= ins.edit_distance(w, a)
        allowed = 2 if len(a) >= ins.FUZZY_TWO_EDITS_LETTERS else 1
        oracle = 0 if w == a else (1 if abs(len(w) - len(a)) <= allowed and ins.edit_distance(w, a) <= allowed else -1)
        assert ins._word_match.__wrapped__(w, a, True) == oracle
