"""The bundled data: present, the bytes documented in data/README.md, small, and covering what init needs."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"

SHA256 = {
    "boundaries/lsoa2011_bsc_ew.fgb.zip": "8e4cebccdb4003f4904db33008e7b2dbd22eeb0bdd9672a68b330c9428f23c43",
    "iod2019/humaniverse_imd2019_england_lsoa11_subdomains.csv.gz": (
        "bbb7f7107c9e3606d1b645d483bdebe22d2ceff513e8b5b21a84781393c80512"
    ),
    "iod2019/humaniverse_imd2019_england_lsoa11_indicators.csv.gz": (
        "4d7f3a05230e078ea27c41ba6d393bf8ff914dc29e9046cdc7bfceb24592581a"
    ),
    "nte/open_pubs_2017-08_uk.csv.gz": "237d5aa73c0538e6e6febc54ab4d13a33fc6dda45fbbeaa686388e3899076071",
    "lookups/source/macoj_crime-city_lad_to_csp.csv": (
        "118a5f3667600666e8b5567a44aa873c35254f3cd559d2307a8d9513008354c0"
    ),
}


@pytest.mark.parametrize("name", sorted(SHA256))
def test_bundled_files_are_the_documented_bytes(name):
    assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == SHA256[name]
    assert SHA256[name][:16] in (DATA / "README.md").read_text(encoding="utf-8")


def test_sizes_keep_the_repository_small():
    sizes = {p.relative_to(DATA).as_posix(): p.stat().st_size for p in DATA.rglob("*") if p.is_file()}
    assert sizes["boundaries/lsoa2011_bsc_ew.fgb.zip"] < 6_000_000
    assert sum(sizes.values()) < 14_500_000  # measured 14,025,138 bytes


def test_england_wide_iod_extracts_cover_england():
    sub = pd.read_csv(DATA / "iod2019/humaniverse_imd2019_england_lsoa11_subdomains.csv.gz", dtype=str)
    ind = pd.read_csv(DATA / "iod2019/humaniverse_imd2019_england_lsoa11_indicators.csv.gz", dtype=str)
    assert len(sub) == len(ind) == 32_844 and sub["lsoa11_code"].is_unique
    assert set(sub["lsoa11_code"]) == set(ind["lsoa11_code"])
    num = "income_deprivation_affecting_children_index_idaci_numerator"
    assert ind[num].isna().sum() == 4_553  # suppressed in the source, kept missing


def test_boundary_file_attributes():
    path = DATA / "boundaries/lsoa2011_bsc_ew.fgb.zip"
    df = pyogrio.read_dataframe(path, read_geometry=False)
    assert len(df) == 34_753 and df["LSOA11CD"].is_unique
    columns = ["LSOA11CD", "LSOA11NM", "LSOA11NMW", "LAD19CD", "LAD19NM", "BNG_E", "BNG_N", "LONG", "LAT"]
    assert list(df.columns) == columns
    assert df["LSOA11CD"].str[0].value_counts().to_dict() == {"E": 32_844, "W": 1_909}
    assert df["LAD19CD"].notna().all() and df["LAD19CD"].nunique() == 317 + 22
    assert pyogrio.read_info(path)["crs"] == "EPSG:4326"


def test_uk_open_pubs():
    df = pd.read_csv(DATA / "nte/open_pubs_2017-08_uk.csv.gz", dtype=str)
    assert len(df) == 51_566 and {"fas_id", "name", "latitude", "longitude"} <= set(df.columns)


def test_lookup_source_copy_is_the_published_bytes():
    src = DATA / "lookups/source/macoj_crime-city_lad_to_csp.csv"
    assert len(src.read_bytes()) == 23_370  # the stored file's length (CRLF line ends, no final newline)
    df = pd.read_csv(src, sep=";", dtype=str)
    assert df.shape == (341, 6) and df["PFA21CD"].nunique() == 43


def test_bundled_config_uses_the_england_wide_extracts():
    text = (DATA / "nottinghamshire.toml").read_text(encoding="utf-8")
    assert "humaniverse_imd2019_england_lsoa11_subdomains.csv.gz" in text
    assert "humaniverse_imd2019_england_lsoa11_indicators.csv.gz" in text
    assert not list(DATA.glob("iod2019/*nottinghamshire*"))  # the area-only extracts are gone: nothing to copy wrongly
