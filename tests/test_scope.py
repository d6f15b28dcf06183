"""VRU scope mapping and harm weights: defaults, offence codes, config overrides end to end."""

from __future__ import annotations

import doctest
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotspots import columns as C
from hotspots.config import load_config
from hotspots.prepare import scope
from hotspots.prepare.study import load_study

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "data" / "crime" / "police_uk" / "2019-09" / "2019-09-nottinghamshire-street.csv.gz"
LSOA = ROOT / "data" / "boundaries" / "lsoa2011_bsc_nottinghamshire.gpkg"


def test_tables_are_consistent():
    cats = set(scope.SCOPE_CATEGORIES)
    assert set(scope.HARM_WEIGHTS) == cats
    assert all(w > 0 for w in scope.HARM_WEIGHTS.values())
    assert set(scope.CRIME_TYPE_SCOPE.values()) <= cats | {scope.OUT_OF_SCOPE}
    assert set(scope.OFFENCE_CODE_SCOPE.values()) <= cats
    assert set(scope.YOUTH_CATEGORIES) <= cats
    # the scale is anchored on violence_sexual = 1 and orders the fine categories by seriousness
    w = scope.HARM_WEIGHTS
    assert w["violence_sexual"] == 1.0
    assert w["homicide"] > w["attempted_murder"] > w["rape"] > w["gbh_serious_wounding"] > w["abh"]


def test_every_real_police_uk_category_is_mapped():
    types = set(pd.read_csv(REAL, usecols=["Crime type"])["Crime type"])
    assert len(types) == 14 and types == set(scope.CRIME_TYPE_SCOPE)
    inside = {t for t in types if scope.CRIME_TYPE_SCOPE[t] != scope.OUT_OF_SCOPE}
    assert inside == {"Violence and sexual offences", "Robbery", "Possession of weapons"}


def test_default_mapping_and_weights():
    s, h = scope.assign_scope(
        pd.Series(
            [
                "Violence and sexual offences",
                "Robbery",
                "Possession of weapons",
                "Drugs",
                "Public order",
                "Shoplifting",
                "Something new",
                None,
            ]
        )
    )
    assert s.tolist() == ["violence_sexual", "robbery", "weapons_possession"] + ["out"] * 5
    assert h.tolist() == [1.0, 4.0, 1.5] + [0.0] * 5


def test_offence_codes_override_the_crime_type():
    ct = pd.Series(["Violence and sexual offences"] * 5 + ["Robbery", "Possession of weapons"])
    codes = pd.Series(["1", " 5d ", "19C", "999", None, "34A", "10D"])
    s, h = scope.assign_scope(ct, codes)
    assert s.tolist() == [
        "homicide",
        "gbh_serious_wounding",
        "rape",
        "violence_sexual",
        "violence_sexual",
        "robbery_business",
        "knife_possession",
    ]
    assert h.tolist() == [70.0, 10.0, 18.0, 1.0, 1.0, 5.0, 1.8]
    # a code can also bring an out-of-scope category in (e.g. drug trafficking under "Drugs")
    s, _ = scope.assign_scope(pd.Series(["Drugs", "Drugs"]), pd.Series(["92A", "92D"]))
    assert s.tolist() == ["drug_trafficking", "out"]


def test_overrides_merge_over_defaults():
    s, h = scope.assign_scope(
        pd.Series(["Drugs", "Robbery", "Public order", "Violence and sexual offences"]),
        pd.Series([None, None, None, "8L"]),
        crime_types={"Drugs": "drugs_supply_proxy", "Public order": "out"},
        offence_codes={"8l": "abh"},
        harm={"robbery": 6.0},
    )
    assert s.tolist() == ["drugs_supply_proxy", "robbery", "out", "abh"]
    assert h.tolist() == [0.3, 6.0, 0.0, 1.5]
    ct, oc, hw = scope.resolve(harm={"abh": 2.0})
    assert ct == scope.CRIME_TYPE_SCOPE and oc == scope.OFFENCE_CODE_SCOPE and hw["abh"] == 2.0
    assert scope.HARM_WEIGHTS["abh"] == 1.5  # defaults untouched


def test_doctests():
    res = doctest.testmod(scope, verbose=False)
    assert res.attempted >= 1 and res.failed == 0


def test_module_says_what_police_uk_cannot_separate():
    doc = scope.__doc__
    for phrase in ("cannot separate", "weapon-enabled", "knife possession", "county lines", "NTE violence"):
        assert phrase in doc


def test_config_overrides_end_to_end(tmp_path, study):
    """[scope] in a config changes which rows are used and their harm, with rows still accounted."""
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[boundaries]\nlsoa = "{LSOA}"\n[[crime]]\nname = "police_uk"\npath = "{REAL}"\n'
        '[scope]\ncrime_types = { "Drugs" = "drugs_supply_proxy", "Possession of weapons" = "out" }\n'
        "harm = { robbery = 6.0 }\n"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = load_study(load_config(cfg))
    inc = s.incidents
    (f,) = s.accounting.files
    base = study.incidents[study.incidents[C.SOURCE] == "police_uk"]
    assert f.rows_read == 11_472 and f.balanced()
    assert set(inc[C.SCOPE]) == {"violence_sexual", "robbery", "drugs_supply_proxy"}
    assert (inc.loc[inc[C.SCOPE] == "robbery", C.HARM] == 6.0).all()
    assert (inc.loc[inc[C.SCOPE] == "drugs_supply_proxy", C.HARM] == 0.3).all()
    n_weapons = int((base[C.SCOPE] == "weapons_possession").sum())
    n_drugs = int((inc[C.SCOPE] == "drugs_supply_proxy").sum())
    assert n_weapons > 50 and n_drugs > 300
    assert len(inc) == len(base) - n_weapons + n_drugs


@pytest.mark.parametrize("cat", sorted(scope.SCOPE_CATEGORIES))
def test_every_category_has_a_description_and_weight(cat):
    assert scope.SCOPE_CATEGORIES[cat] and scope.HARM_WEIGHTS[cat] > 0


def test_assign_scope_matches_mapping_every_row() -> None:
    """Mapping the distinct categories gives what mapping every row did (NaN, unknown and overridden types)."""
    rng = np.random.default_rng(3)
    pool = np.array(["Robbery", "Shoplifting", "Violence and sexual offences", "Made up", None], dtype=object)
    types = pd.Series(rng.choice(pool, 500), dtype="str", name="crime_type")
    overrides = {"Shoplifting": "robbery"}
    got, weight = scope.assign_scope(types, crime_types=overrides)
    ct_map, _, weights = scope.resolve(overrides, None, None)
    expect = types.map(ct_map).fillna(scope.OUT_OF_SCOPE).astype(object)
    pd.testing.assert_series_equal(got, expect)
    pd.testing.assert_series_equal(weight, expect.map(weights).fillna(0.0).astype(float))
    empty, _ = scope.assign_scope(pd.Series([None, None], dtype="str"))
    assert empty.tolist() == [scope.OUT_OF_SCOPE] * 2
