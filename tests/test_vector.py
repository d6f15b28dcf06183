"""Reading a force's LSOAs from the bundled England & Wales boundary file (attribute filter)."""

from __future__ import annotations

import time
from pathlib import Path

import pyogrio
import pytest

from hotspots.errors import InputError
from hotspots.io.config import BoundariesConfig
from hotspots.io.vector import filter_sql, read_lsoa_boundaries, read_lsoa_codes, read_subset
from hotspots.prepare.forces import force_districts

ROOT = Path(__file__).resolve().parent.parent
EW = ROOT / "data/boundaries/lsoa2011_bsc_ew.fgb.zip"
NOTTS = ROOT / "data/boundaries/lsoa2011_bsc_nottinghamshire.gpkg"


def test_filter_sql_quotes():
    assert filter_sql("LAD19CD", ["E06000018"]) == "\"LAD19CD\" IN ('E06000018')"
    assert filter_sql("x", ["a'b"]) == "\"x\" IN ('a''b')"
    with pytest.raises(InputError, match="must not contain a double quote"):
        filter_sql('a"b', ["x"])


def test_nottinghamshire_subset_is_the_bundled_file():
    bundled = pyogrio.read_dataframe(NOTTS)
    lads = force_districts("nottinghamshire")["lad19cd"].tolist()
    t0 = time.perf_counter()
    sub = read_subset(EW, column="LAD19CD", values=lads)
    elapsed = time.perf_counter() - t0
    assert len(sub) == 679 and sub.crs.to_epsg() == 4326
    a = sub.set_index("LSOA11CD").geometry.sort_index()
    b = bundled.set_index("LSOA11CD").geometry.sort_index()
    assert a.index.equals(b.index)
    assert a.geom_equals_exact(b, tolerance=0).all()  # same coordinates, bit for bit
    names = sub.set_index("LSOA11CD")["LSOA11NM"].sort_index()
    assert (names == bundled.set_index("LSOA11CD")["LSOA11NM"].sort_index()).all()
    assert elapsed < 5.0  # measured about 0.3 s on the 2-core machine


def test_filtered_config_reads_the_same_study_lsoas_as_the_bundled_file():
    lads = force_districts("nottinghamshire")["lad19cd"].tolist()
    ew = read_lsoa_boundaries(BoundariesConfig(lsoa=EW, filter_column="LAD19CD", filter_values=lads))
    bundled = read_lsoa_boundaries(BoundariesConfig(lsoa=NOTTS))
    a, b = ew.set_index("lsoa_code").sort_index(), bundled.set_index("lsoa_code").sort_index()
    assert a.index.equals(b.index) and len(a) == 679
    assert (a["district"] == b["district"]).all()
    assert a.geometry.geom_equals_exact(b.geometry, tolerance=1e-6).all()
    assert len(read_lsoa_codes(BoundariesConfig(lsoa=EW, filter_column="LAD19CD", filter_values=lads))) == 34_753


def test_welsh_force_subset_has_welsh_names():
    lads = force_districts("north-wales")["lad19cd"].tolist()
    sub = read_subset(EW, column="LAD19CD", values=lads)
    assert len(sub) == 423 and sub["LSOA11CD"].str.startswith("W01").all()
    assert "Ynys Môn 001A" in set(sub["LSOA11NMW"])


def test_filter_on_lsoa_codes():
    sub = read_subset(EW, column="LSOA11CD", values=["E01000001", "W01000001"])
    assert sorted(sub["LSOA11CD"]) == ["E01000001", "W01000001"]
    assert sorted(sub["LAD19CD"]) == ["E09000001", "W06000001"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"column": "LAD19CD", "values": []}, r"lists no values"),
        ({"column": "LAD22CD", "values": ["E06000018"]}, r"no attribute 'LAD22CD' to filter on.*'LSOA11CD'"),
        (
            {"column": "LAD19CD", "values": ["E06000018", "E0600018"]},
            r"1 value\(s\) of \[boundaries\] filter_values match no 'LAD19CD': 'E0600018'\. Correct or remove them",
        ),
    ],
)
def test_read_subset_errors(kwargs, match):
    with pytest.raises(InputError, match=match):
        read_subset(EW, **kwargs)


def test_read_subset_missing_and_unreadable(tmp_path):
    with pytest.raises(InputError, match="could not be read as a vector file"):
        read_subset(tmp_path / "none.gpkg", column="LAD19CD", values=["x"])
    bad = tmp_path / "bad.gpkg"
    bad.write_text("not a geopackage")
    with pytest.raises(InputError, match="could not be read as a vector file"):
        read_subset(bad, column="LAD19CD", values=["x"])
    with pytest.raises(InputError, match=r"is a folder, not a file"):
        read_subset(tmp_path, column="LAD19CD", values=["x"])
