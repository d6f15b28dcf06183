"""Force lookup: the table, name normalisation, districts and LSOAs, the police.uk check."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from hotspots.errors import InputError
from hotspots.prepare import forces as F

NOTTS_LADS = ["E06000018", "E07000170", "E07000171", "E07000172", "E07000173", "E07000174", "E07000175", "E07000176"]
ROOT = Path(__file__).resolve().parent.parent
NOTTS_MONTH = ROOT / "data/crime/police_uk/2019-09/2019-09-nottinghamshire-street.csv.gz"
FILE2 = ROOT / "data/iod2019/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"
NOTTS_LSOA = ROOT / "data/boundaries/lsoa2011_bsc_nottinghamshire.gpkg"


@pytest.fixture(scope="module")
def file2():
    """IoD2019 File 2 (all England) as text columns."""
    return pd.read_csv(FILE2, dtype=str, encoding="utf-8-sig")


@pytest.fixture(scope="module")
def notts_bundled_lsoa():
    """The bundled 679-LSOA example boundary file."""
    return pyogrio.read_dataframe(NOTTS_LSOA)


def test_43_forces_39_english_4_welsh():
    df = F.list_forces()
    assert len(df) == 43 and df["force"].is_unique and df["pfa_code"].is_unique
    assert len(F.list_forces(country="England")) == 39
    wales = F.list_forces(country="Wales")
    assert sorted(wales["force"]) == ["dyfed-powys", "gwent", "north-wales", "south-wales"]
    assert df.loc[df.country == "England", "pfa_code"].str.startswith("E23").all()
    assert wales["pfa_code"].str.startswith("W15").all()
    assert (df["districts"] >= 1).all() and df["districts"].sum() == 339


def test_list_forces_rejects_unknown_country():
    with pytest.raises(InputError, match="country must be 'England', 'Wales' or None, got 'Scotland'"):
        F.list_forces(country="Scotland")


def test_every_iod2019_district_has_exactly_one_force(file2):
    table = F._districts()
    lads = set(file2["Local Authority District code (2019)"])
    assert len(lads) == 317
    eng = table[table.country == "England"]
    assert set(eng["lad19cd"]) == lads and eng["lad19cd"].is_unique
    # names are IoD2019's own
    names = file2.drop_duplicates("Local Authority District code (2019)").set_index(
        "Local Authority District code (2019)"
    )["Local Authority District name (2019)"]
    assert (eng.set_index("lad19cd")["lad19nm"] == names.reindex(eng["lad19cd"]).to_numpy()).all()
    assert (table.country == "Wales").sum() == 22


def test_english_force_areas_partition_england(file2):
    total = sum(
        len(F.force_lsoas(f, file2, code="LSOA code (2011)", district="Local Authority District code (2019)"))
        for f in F.list_forces(country="England")["force"]
    )
    assert total == 32_844


def test_merged_districts_map_through_their_csp_rows():
    t = F._districts().set_index("lad19cd")
    for lad in ["E07000004", "E07000005", "E07000006", "E07000007"]:  # now Buckinghamshire UA
        assert t.loc[lad, "force"] == "thames-valley" and "CSP row" in t.loc[lad, "source"]
    for lad in ["E07000150", "E07000151", "E07000152", "E07000153", "E07000154", "E07000155", "E07000156"]:
        assert t.loc[lad, "force"] == "northamptonshire" and "CSP row" in t.loc[lad, "source"]
    assert t["source"].str.contains("CSP row").sum() == 11


@pytest.mark.parametrize(
    ("typed", "fid"),
    [
        ("nottinghamshire", "nottinghamshire"),
        ("Nottinghamshire Police", "nottinghamshire"),
        ("  NOTTINGHAMSHIRE  ", "nottinghamshire"),
        ("notts", "nottinghamshire"),
        ("West_Yorkshire", "west-yorkshire"),
        ("west yorkshire police", "west-yorkshire"),
        ("Devon & Cornwall Police", "devon-and-cornwall"),
        ("Devon and Cornwall", "devon-and-cornwall"),
        ("Metropolitan Police Service", "metropolitan"),
        ("Met", "metropolitan"),
        ("London, City of", "city-of-london"),
        ("City of London Police", "city-of-london"),
        ("GMP", "greater-manchester"),
        ("Dyfed-Powys Police", "dyfed-powys"),
        ("Avon & Somerset Constabulary", "avon-and-somerset"),
    ],
)
def test_normalise_force_accepts_usual_names(typed, fid):
    assert F.normalise_force(typed) == fid


def test_every_force_id_and_name_round_trips():
    for r in F.list_forces().itertuples():
        assert F.normalise_force(r.force) == r.force
        assert F.normalise_force(r.force_name) == r.force
        assert F.normalise_force(r.pfa_name) == r.force


@pytest.mark.parametrize(
    ("typed", "match"),
    [
        ("notinghamshire", r"unknown police force 'notinghamshire'\. Did you mean 'nottinghamshire'"),
        ("west yorks", r"Did you mean 'west-yorkshire'"),
        ("Yorkshire", r"'west-yorkshire' or 'south-yorkshire' or 'north-yorkshire'"),
        ("xyzzy", r"unknown police force 'xyzzy'\. Use a data\.police\.uk force id"),
        ("btp", r"British Transport Police is a national force"),
        ("Police Service of Northern Ireland", r"Northern Ireland has no LSOAs"),
        ("", r"force name must be a non-empty string"),
    ],
)
def test_normalise_force_errors_suggest(typed, match):
    with pytest.raises(InputError, match=match):
        F.normalise_force(typed)


def test_normalise_force_rejects_non_string():
    with pytest.raises(InputError, match="force name must be a non-empty string, got None"):
        F.normalise_force(None)  # type: ignore[arg-type]


def test_get_force():
    f = F.get_force("Notts")
    assert (f.force, f.force_name, f.pfa_code, f.english) == (
        "nottinghamshire",
        "Nottinghamshire Police",
        "E23000019",
        True,
    )
    assert F.get_force("gwent").english is False


def test_force_districts_nottinghamshire():
    d = F.force_districts("nottinghamshire")
    assert d["lad19cd"].tolist() == NOTTS_LADS
    assert d["lad19nm"].tolist()[:2] == ["Nottingham", "Ashfield"]


def test_force_lsoas_nottinghamshire_is_the_bundled_679(file2, notts_bundled_lsoa):
    area = F.force_lsoas(
        "nottinghamshire", file2, code="LSOA code (2011)", district="Local Authority District code (2019)"
    )
    assert len(area) == 679
    assert set(area) == set(notts_bundled_lsoa["LSOA11CD"])


def test_force_lsoas_errors(file2):
    with pytest.raises(InputError, match="column 'lsoa_code' is missing"):
        F.force_lsoas("nottinghamshire", file2)
    with pytest.raises(InputError, match="IoD2019 covers England only"):
        F.force_lsoas("gwent", file2, code="LSOA code (2011)", district="Local Authority District code (2019)")


def test_police_uk_month_agrees_with_the_force_area(file2):
    """The bundled real month: 673 of 679 area LSOAs have rows; 54 outside codes with at most 3 rows each."""
    with gzip.open(NOTTS_MONTH, "rt", encoding="utf-8") as fh:
        rows = pd.read_csv(fh, dtype=str)
    assert set(rows["Falls within"]) == {F.get_force("nottinghamshire").force_name}
    area = F.force_lsoas(
        "nottinghamshire", file2, code="LSOA code (2011)", district="Local Authority District code (2019)"
    )
    chk = F.compare_with_police_uk(area, rows["LSOA code"])
    assert (chk.area_lsoas, chk.covered) == (679, 673)
    assert len(chk.outside) == 54 and int(chk.outside.max()) == 3
    assert chk.rows_without_code == 84
    assert chk.rows_in_area + chk.rows_outside + chk.rows_without_code == len(rows) == 11_472
    assert chk.share_outside < 0.01
    assert chk.summary().startswith("673 of 679 area LSOAs have police.uk rows; 60 rows (0.5%) carry 54 LSOA codes")


def test_compare_with_police_uk_planted():
    r = F.compare_with_police_uk(["A", "B", "C"], pd.Series(["A", "A", " B ", "X", "X", None, ""]))
    assert (r.covered, r.rows_in_area, r.rows_outside, r.rows_without_code) == (2, 3, 2, 2)
    assert r.outside.to_dict() == {"X": 2}
    assert r.share_outside == pytest.approx(2 / 5)
    empty = F.compare_with_police_uk(["A"], pd.Series([], dtype=object))
    assert empty.share_outside == 0.0 and empty.summary().startswith("0 of 1 area LSOAs")
