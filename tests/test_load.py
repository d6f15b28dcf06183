"""Readers on the real bundled files: police.uk layouts, generic points, IoD2019, boundaries, venues."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from hotspots.errors import HotspotsWarning, InputError
from hotspots.io import load
from hotspots.io.config import BoundariesConfig, ColumnMap, CrimeSource, DeprivationConfig, VenuesConfig

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
REAL = DATA / "crime" / "police_uk" / "2019-09" / "2019-09-nottinghamshire-street.csv.gz"
WEAPONS = DATA / "crime" / "derived" / "nottinghamshire_weapons_2020.gpkg"
ROBBERY_2022 = DATA / "crime" / "derived" / "nottingham_robbery_2022.csv.gz"
LSOA = DATA / "boundaries" / "lsoa2011_bsc_nottinghamshire.gpkg"


@pytest.fixture(scope="module")
def real_text() -> str:
    return gzip.open(REAL, "rt", encoding="utf-8").read()


def police_file(folder: Path, month: str, lines: list[str], *, gz: bool = False, force: str = "nottinghamshire"):
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / f"{month}-{force}-street.csv{'.gz' if gz else ''}"
    text = "\n".join(lines) + "\n"
    if gz:
        p.write_bytes(gzip.compress(text.encode()))
    else:
        p.write_text(text, encoding="utf-8")
    return p


def source(path, base, **kw) -> CrimeSource:
    return CrimeSource(name=kw.pop("name", "s"), path=str(path), base=base, **kw)


# --- police.uk --------------------------------------------------------------------------


def test_read_police_uk_real_month():
    rf = load.read_police_uk(REAL)
    assert len(rf.frame) == 11_472
    assert list(rf.frame.columns) == load.RAW_COLUMNS
    # coordinates parsed by the CSV reader as floats; every other column text
    assert rf.frame["x"].dtype == "float64" and rf.frame["y"].dtype == "float64"
    assert all(str(rf.frame[c].dtype) == "str" for c in load.RAW_COLUMNS if c not in ("x", "y"))
    assert rf.sha256 == hashlib.sha256(REAL.read_bytes()).hexdigest()
    assert rf.crs == "EPSG:4326" and rf.encoding == "utf-8-sig"
    assert rf.column("x") == "Longitude" and rf.column("crime_type") == "Crime type"
    # a coordinate that is not a number: the coordinates are read as text so each bad row can be named
    f = rf.frame
    assert f["crime_type"].value_counts()["Violence and sexual offences"] == 3_021
    assert int((f["x"].isna() & f["y"].isna()).sum()) == 84
    assert int(f["id"].isna().sum()) == 2_504  # anti-social behaviour rows have no Crime ID
    assert f["month"].eq("2019-09").all()
    assert f["date"].isna().all() and f["offence_code"].isna().all()


def test_archive_layout_flat_files_and_glob(tmp_path, real_text):
    lines = real_text.splitlines()
    head, body = lines[0], lines[1:]
    sep = [head] + [line.replace("2019-09", "2019-10", 1) for line in body[:50]]
    # data.police.uk archive layout: YYYY-MM/YYYY-MM-<force>-street.csv, one gzipped
    arch = tmp_path / "archive"
    a = police_file(arch / "2019-09", "2019-09", [head, *body[:100]])
    b = police_file(arch / "2019-10", "2019-10", sep, gz=True)
    police_file(arch / "2019-10", "2019-10", [head, *body[:5]], force="leicestershire")
    (arch / "2019-09" / "2019-09-nottinghamshire-outcomes.csv").write_text("Crime ID\n")
    (arch / "README.txt").write_text("not a crime file")
    files = load.find_crime_files(source("archive", tmp_path))
    assert [f.name for f in files] == [
        "2019-09-nottinghamshire-street.csv",
        "2019-10-leicestershire-street.csv",
        "2019-10-nottinghamshire-street.csv.gz",
    ]
    assert a in files and b in files
    raws = load.read_crime_source(source("archive", tmp_path))
    assert [len(r.frame) for r in raws] == [100, 5, 50]
    assert set(raws[2].frame["month"]) == {"2019-10"}
    # the same files side by side in one folder
    flat = tmp_path / "flat"
    flat.mkdir()
    for f in files:
        shutil.copy(f, flat / f.name)
    assert [f.name for f in load.find_crime_files(source("flat", tmp_path))] == [f.name for f in files]
    # a glob, relative to the config folder: only Nottinghamshire
    got = load.find_crime_files(source("archive/*/*-nottinghamshire-street.csv*", tmp_path))
    assert [f.name for f in got] == ["2019-09-nottinghamshire-street.csv", "2019-10-nottinghamshire-street.csv.gz"]
    # a single file
    assert load.find_crime_files(source(a, tmp_path)) == [a]


def test_find_crime_files_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(
        InputError,
        match=r"\[\[crime\]\] 's': the folder .*empty holds no \*-street\.csv files "
        r"\(the data\.police\.uk layout YYYY-MM/YYYY-MM-<force>-street\.csv\)",
    ):
        load.find_crime_files(source("empty", tmp_path))
    with pytest.raises(InputError, match=r"the folder .*empty holds no CSV, GeoPackage or GeoJSON files"):
        load.find_crime_files(source("empty", tmp_path, format="points", crime_type="Robbery"))
    with pytest.raises(InputError, match=r"the glob '.*nothing/\*\.csv' matches no files"):
        load.find_crime_files(source("nothing/*.csv", tmp_path))
    with pytest.raises(InputError, match=r"file or folder not found: .*nope\. Paths are relative to the config"):
        load.find_crime_files(source("nope", tmp_path))


def test_source_crime_type_fills_missing_categories(tmp_path, real_text):
    lines = real_text.splitlines()
    head = lines[0]
    body = [",".join([*p[:9], "", *p[10:]]) for p in (line.split(",") for line in lines[1:6])]
    f = police_file(tmp_path, "2019-09", [head, *body])
    (rf,) = load.read_crime_source(source(f, tmp_path, crime_type="Robbery"))
    assert rf.frame["crime_type"].eq("Robbery").all()


# --- generic point files ----------------------------------------------------------------


def test_points_csv_lonlat_real_file():
    cols = ColumnMap(month="month", x="longitude", y="latitude", lsoa_code="lsoa_code", location="location")
    rf = load.read_points(ROBBERY_2022, columns=cols, crime_type="Robbery", source="r")
    assert len(rf.frame) == 555
    assert rf.frame["crime_type"].eq("Robbery").all()
    assert rf.frame["lsoa_code"].str.startswith("E01").all()
    assert rf.frame["id"].isna().all()
    assert rf.column("x") == "longitude" and rf.table


def test_points_csv_easting_northing_with_dates_times_and_codes(tmp_path):
    """A local force extract: BNG metres, dates, times, offence codes; mapped by the config."""
    rob = pd.read_csv(ROBBERY_2022)
    pts = gpd.GeoSeries(gpd.points_from_xy(rob.longitude, rob.latitude), crs=4326).to_crs(27700)
    local = pd.DataFrame(
        {
            "URN": [f"NT/{i:05d}/22" for i in range(len(rob))],
            "Offence Date": pd.to_datetime(rob["month"]).dt.strftime("%d/%m/%Y"),
            "Offence Time": "23:15",
            "HO Code": "34B",
            "Offence": "Robbery of personal property",
            "Easting": pts.x.round(1),
            "Northing": pts.y.round(1),
        }
    )
    p = tmp_path / "local.csv"
    local.to_csv(p, index=False)
    cols = ColumnMap(
        id="URN",
        date="Offence Date",
        time="Offence Time",
        x="Easting",
        y="Northing",
        crime_type="Offence",
        offence_code="HO Code",
    )
    rf = load.read_points(p, columns=cols, crs="EPSG:27700", source="local")
    assert rf.crs == "EPSG:27700" and len(rf.frame) == 555
    assert rf.frame["date"].iloc[0] == local["Offence Date"].iloc[0] + " 23:15"
    assert rf.frame["offence_code"].eq("34B").all() and rf.frame["id"].iloc[0] == "NT/00000/22"
    assert float(rf.frame["x"].iloc[0]) == pytest.approx(local["Easting"].iloc[0])


def test_points_geopackage_and_geojson(tmp_path):
    rf = load.read_points(WEAPONS, columns=ColumnMap(month="month"), crime_type="Possession of weapons")
    assert len(rf.frame) == 1_039 and rf.crs == "EPSG:4326" and not rf.table
    assert rf.frame["month"].str.match(r"^2020-\d\d").all()
    g = pyogrio.read_dataframe(WEAPONS)
    np.testing.assert_allclose(rf.frame["x"].astype(float), g.geometry.x)
    # the same points as GeoJSON in British National Grid: the file's own CRS is used
    gj = tmp_path / "weapons.geojson"
    g.to_crs(27700).to_file(gj, driver="GeoJSON")
    rj = load.read_points(gj, columns=ColumnMap(month="month"), crime_type="Possession of weapons")
    assert len(rj.frame) == 1_039 and "27700" in rj.crs
    assert float(rj.frame["x"].astype(float).min()) > 1000  # metres, not degrees


def test_points_mapping_errors(tmp_path):
    with pytest.raises(
        InputError,
        match=r"column 'Month' is missing\. Found 'month': rename that header to "
        r"'Month'\..*Fix the \[crime\.columns\] mapping in the config\.",
    ):
        load.read_points(
            ROBBERY_2022, columns=ColumnMap(month="Month", x="longitude", y="latitude"), crime_type="Robbery"
        )
    with pytest.raises(InputError, match=r"a CSV point file needs columns\.x and columns\.y in the config"):
        load.read_points(ROBBERY_2022, columns=ColumnMap(month="month"), crime_type="Robbery")
    with pytest.raises(InputError, match=r"column 'when' is missing\..*Columns found: 'month', 'longitude'"):
        load.read_points(WEAPONS, columns=ColumnMap(month="when"), crime_type="Robbery")
    p = tmp_path / "x.xlsx"
    p.write_bytes(b"PK")
    with pytest.raises(InputError, match=r"unknown file type '\.xlsx'\. Use CSV \(\.csv, \.csv\.gz\), GeoPackage"):
        load.read_points(p, columns=ColumnMap(), crime_type="Robbery")
    bad = tmp_path / "bad.gpkg"
    bad.write_bytes(b"not a geopackage")
    with pytest.raises(InputError, match=r"bad\.gpkg could not be read as a vector file"):
        load.read_points(bad, columns=ColumnMap(), crime_type="Robbery")


# --- text tables: BOM, encodings, empty -------------------------------------------------


def test_read_table_bom_and_encodings(tmp_path):
    text = "name,value\nCaf\u00e9 \u00a3,1\n"
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    df, enc = load.read_table(bom)
    assert list(df.columns) == ["name", "value"] and df["name"][0] == "Caf\u00e9 \u00a3" and enc == "utf-8-sig"
    assert load.read_header(bom) == ["name", "value"]
    win = tmp_path / "win.csv"
    win.write_bytes(text.encode("cp1252"))
    with pytest.warns(
        HotspotsWarning,
        match=r"win\.csv is not UTF-8 .*; read it as Windows-1252\. Save it as "
        r"UTF-8, or set encoding in the config, to silence this\.",
    ):
        df, enc = load.read_table(win)
    assert df["name"][0] == "Caf\u00e9 \u00a3" and enc == "cp1252"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df, enc = load.read_table(win, encoding="cp1252")
    assert df["name"][0] == "Caf\u00e9 \u00a3"
    with pytest.raises(
        InputError,
        match=r"win\.csv cannot be decoded as utf-8: .*Set encoding = \"\.\.\.\" for "
        r"this file in the config\.",
    ):
        load.read_table(win, encoding="utf-8")


def test_read_table_empty_header_only_missing(tmp_path):
    e = tmp_path / "e.csv"
    e.write_bytes(b"")
    with pytest.raises(InputError, match=r"e\.csv is empty \(0 bytes\)\. Replace it with the full export"):
        load.read_table(e)
    with pytest.raises(InputError, match=r"e\.csv is empty \(0 bytes\)"):
        load.read_header(e)
    h = tmp_path / "h.csv"
    h.write_text("a,b\n")
    with pytest.raises(InputError, match=r"h\.csv has a header but no data rows\."):
        load.read_table(h)
    blank = tmp_path / "blank.csv"
    blank.write_text("\n\n")
    with pytest.raises(InputError, match=r"blank\.csv has no header and no rows\."):
        load.read_table(blank)
    with pytest.raises(InputError, match=r"file not found: .*nope\.csv"):
        load.read_table(tmp_path / "nope.csv")


def test_require_columns_suggests_only_plausible_renames():
    found = ["Crime ID", "Month", "Longitude", "Location", "Crime Type"]
    with pytest.raises(InputError, match=r"column 'Crime type' is missing\. Found 'Crime Type': rename that header"):
        load.require_columns(Path("f.csv"), found, ["Crime type"])
    # Longitude is itself expected: never suggested as a renamed Latitude
    with pytest.raises(InputError) as err:
        load.require_columns(Path("f.csv"), found, ["Latitude"], expected=load.POLICE_UK_COLUMNS)
    assert "rename" not in str(err.value) and "column 'Latitude' is missing. Columns found: " in str(err.value)


# --- boundaries -------------------------------------------------------------------------


def test_lsoa_boundaries_real():
    lsoa = load.read_lsoa_boundaries(BoundariesConfig(lsoa=LSOA))
    assert len(lsoa) == 679 and lsoa.crs.to_epsg() == 27700
    assert set(lsoa.columns) == {"lsoa_code", "lsoa_name", "district_code", "district", "geometry"}
    assert lsoa["lsoa_code"].is_unique and lsoa.is_valid.all()
    assert lsoa["district"].nunique() == 8
    districts = load.read_districts(
        BoundariesConfig(lsoa=LSOA, districts=DATA / "boundaries" / "nottinghamshire_districts_lad22_bgc.gpkg")
    )
    assert len(districts) == 8 and districts.crs.to_epsg() == 27700
    wards = load.read_wards(BoundariesConfig(lsoa=LSOA, wards=DATA / "boundaries" / "nottingham_wards_2022_bgc.gpkg"))
    assert len(wards) == 20


def test_invalid_polygon_repaired_with_warning_naming_the_feature(tmp_path):
    g = pyogrio.read_dataframe(LSOA)
    c = g.geometry.iloc[3].centroid
    bow = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])  # self-intersecting bow-tie
    g.loc[3, "geometry"] = shapely.affinity.translate(
        shapely.affinity.scale(bow, 0.002, 0.002, origin=(0, 0)), c.x, c.y
    )
    p = tmp_path / "bad.gpkg"
    g.to_file(p)
    code = g.loc[3, "LSOA11CD"]
    with pytest.warns(
        HotspotsWarning,
        match=rf"LSOA boundaries file .*bad\.gpkg: 1 invalid polygon\(s\) repaired "
        rf"with make_valid \(first: feature 4 \(LSOA11CD '{code}'\): "
        r"Self-intersection",
    ):
        out = load.read_lsoa_boundaries(BoundariesConfig(lsoa=p))
    assert out.is_valid.all() and out.geometry.iloc[3].geom_type == "MultiPolygon" and len(out) == 679


def test_boundary_errors(tmp_path):
    g = pyogrio.read_dataframe(LSOA).head(3)
    nocrs = tmp_path / "nocrs.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pyogrio: "'crs' was not provided"
        g.set_crs(None, allow_override=True).to_file(nocrs)
    with pytest.raises(InputError, match=r"LSOA boundaries file .*nocrs\.gpkg has no CRS\. Save it with a CRS"):
        load.read_lsoa_boundaries(BoundariesConfig(lsoa=nocrs))
    renamed = tmp_path / "renamed.gpkg"
    g.rename(columns={"LSOA11CD": "lsoa11cd"}).to_file(renamed)
    with pytest.raises(
        InputError,
        match=r"column 'LSOA11CD' is missing; column 'lsoa11cd' holds LSOA codes: "
        r'set lsoa_code_column = "lsoa11cd" in \[boundaries\]\.',
    ):
        load.read_lsoa_boundaries(BoundariesConfig(lsoa=renamed))
    # following the advice works
    assert len(load.read_lsoa_boundaries(BoundariesConfig(lsoa=renamed, lsoa_code_column="lsoa11cd"))) == 3
    dup = tmp_path / "dup.gpkg"
    pd.concat([g, g.head(1)]).to_file(dup)
    with pytest.raises(InputError, match=r"code 'E0\d+' appears more than once \(column 'LSOA11CD'\)"):
        load.read_lsoa_boundaries(BoundariesConfig(lsoa=dup))
    empty_geom = tmp_path / "nogeom.gpkg"
    g2 = g.copy()
    g2.loc[1, "geometry"] = None
    g2.to_file(empty_geom)
    with pytest.raises(InputError, match=r"feature 2 \(LSOA11CD 'E0\d+'\) has no geometry\. Remove it or fix"):
        load.read_lsoa_boundaries(BoundariesConfig(lsoa=empty_geom))


def test_boundary_file_without_the_code_column_never_advises_renaming_another_code(tmp_path):
    """The district code column (LAD19CD) is not a misspelt LSOA code column: the advice names what is there."""
    g = pyogrio.read_dataframe(LSOA).head(3).drop(columns=["LSOA11CD"])
    nocode = tmp_path / "nocode.gpkg"
    g.to_file(nocode)
    with pytest.raises(InputError) as err:
        load.read_lsoa_boundaries(BoundariesConfig(lsoa=nocode))
    msg = str(err.value)
    assert "LAD19CD" not in msg.split("Columns found", maxsplit=1)[0] and "rename" not in msg
    assert "no column holds LSOA codes (E01/W01 codes); set lsoa_code_column in [boundaries]" in msg
    # a file whose code column has another name: the advice names it, and following it works
    other = tmp_path / "other.gpkg"
    pyogrio.read_dataframe(LSOA).head(3).rename(columns={"LSOA11CD": "code"}).to_file(other)
    with pytest.raises(InputError, match=r'column \'code\' holds LSOA codes: set lsoa_code_column = "code"'):
        load.read_lsoa_boundaries(BoundariesConfig(lsoa=other))
    assert len(load.read_lsoa_boundaries(BoundariesConfig(lsoa=other, lsoa_code_column="code"))) == 3


# --- IoD2019 ----------------------------------------------------------------------------


def test_deprivation_real_files_bom_and_thousands(config):
    d = config.deprivation
    with gzip.open(d.domains, "rb") as fh:
        raw_head = fh.read(3)
    assert raw_head == b"\xef\xbb\xbf"  # File 2 starts with a byte-order mark
    with gzip.open(d.population, "rt", encoding="utf-8-sig") as fh:
        raw6 = fh.read(20_000)
    assert '"1,' in raw6  # File 6 numbers carry thousands separators
    dep = load.read_deprivation(d)
    assert len(dep) == 32_844 and dep["lsoa_code"].is_unique
    assert dep["imd_rank"].min() == 1 and dep["imd_rank"].max() == 32_844
    assert set(dep["imd_decile"].unique()) == set(range(1, 11))
    assert int(dep["population"].sum()) == 54_728_204
    assert dep["population"].dtype.kind in "if" and dep["children_0_15"].notna().all()
    for dom in ("income", "employment", "education", "health", "crime", "barriers", "living_env"):
        assert dep[f"{dom}_rank"].between(1, 32_844).all()
    # England-wide extras: every row filled; IDACI numerator NaN where suppressed (4,553 LSOAs)
    assert int(dep["cyp_rank"].notna().sum()) == 32_844
    assert int(dep["idaci_numerator"].isna().sum()) == 4_553
    assert dep.attrs["absent"] == {"subdomains": set(), "indicators": set()}
    assert (dep["iod_vintage"] == 2019).all()


def test_deprivation_errors(tmp_path, config):
    d = config.deprivation
    bad = tmp_path / "file2.csv"
    df = pd.read_csv(d.domains, dtype=str).head(5)
    df.iloc[2, df.columns.get_loc(next(c for c in df.columns if c.startswith("Income Rank")))] = "n/a"
    df.to_csv(bad, index=False)
    with pytest.raises(InputError, match=r"file2\.csv: row 3, column 'income_rank': 'n/a' is not a number\."):
        load.read_deprivation(DeprivationConfig(domains=bad, population=d.population))
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("lsoa,score\nE01000001,3\n")
    with pytest.raises(
        InputError,
        match=r"wrong\.csv: column 'LSOA code \(2011\)' is missing\..* Is this the right file\? "
        r"\[deprivation\] domains takes IoD2019 File 2 \(column 'LSOA code \(2011\)'\) or IoD2025 File 7",
    ):
        load.read_deprivation(DeprivationConfig(domains=wrong, population=d.population))


# --- venues -----------------------------------------------------------------------------


def test_open_pubs_real(config):
    rv = load.read_venues(config.venues)
    assert len(rv.frame) == 885
    assert list(rv.frame.columns) == ["id", "name", "address", "postcode", "x", "y"]
    assert int(rv.frame["x"].isna().sum()) == 1  # "\N" read as missing
    assert rv.column("x") == "longitude"


def test_generic_venue_csv(tmp_path, config):
    src = pd.read_csv(config.venues.path, dtype=str).head(20)
    p = tmp_path / "venues.csv"
    src.rename(columns={"name": "Venue", "easting": "E", "northing": "N"})[["fas_id", "Venue", "E", "N"]].to_csv(
        p, index=False
    )
    v = VenuesConfig(
        path=p, format="points", crs="EPSG:27700", columns=ColumnMap(id="fas_id", name="Venue", x="E", y="N")
    )
    rv = load.read_venues(v)
    assert len(rv.frame) == 20 and rv.crs == "EPSG:27700" and rv.frame["name"].iloc[0] == src["name"].iloc[0]
    with pytest.raises(InputError, match=r"a CSV venue file needs columns\.x, columns\.y and columns\.name"):
        load.read_venues(VenuesConfig(path=p, format="points", columns=ColumnMap(name="Venue")))


def test_coordinates_fall_back_to_text_when_one_is_not_a_number(tmp_path, real_text):
    lines = real_text.splitlines()[:6]
    parts = lines[3].split(",")
    parts[5] = "53.1N"
    lines[3] = ",".join(parts)
    p = police_file(tmp_path, "2019-09", lines)
    rf = load.read_police_uk(p)
    assert str(rf.frame["y"].dtype) == "str" and rf.frame["y"].iloc[2] == "53.1N"
    assert float(rf.frame["y"].iloc[0]) == pytest.approx(float(lines[1].split(",")[5]))


def test_headers_with_stray_spaces_are_matched(tmp_path, real_text):
    lines = real_text.splitlines()[:20]
    lines[0] = lines[0].replace(",Month,", ", Month ,").replace(",Latitude,", ",Latitude  ,")
    p = police_file(tmp_path, "2019-09", lines)
    rf = load.read_police_uk(p)
    assert rf.frame["month"].eq("2019-09").all() and rf.frame["y"].dtype == "float64"
    assert rf.frame["y"].notna().sum() > 10


def test_not_a_csv_and_trailing_commas(tmp_path, real_text):
    with pytest.raises(
        InputError,
        match=r"w\.gpkg has no readable header row: it does not look like a CSV text "
        r"file \(expected columns 'Month', 'Longitude', 'Latitude', 'Crime type'\)",
    ):
        shutil.copy(WEAPONS, tmp_path / "w.gpkg")
        load.read_police_uk(tmp_path / "w.gpkg")
    # Excel-style trailing commas on every data line: columns stay aligned
    lines = real_text.splitlines()[:8]
    p = police_file(tmp_path, "2019-09", [lines[0]] + [line + "," for line in lines[1:]])
    rf = load.read_police_uk(p)
    assert rf.frame["month"].eq("2019-09").all() and rf.frame["crime_type"].iloc[0] == lines[1].split(",")[9]
