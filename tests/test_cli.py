"""The CLI, and the bad-input suite: every case pinned through the library and through ``hotspots check``."""

from __future__ import annotations

import gzip
import json
import math
import re
import warnings
from pathlib import Path

import click
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from click.testing import CliRunner

from hotspots import __version__, pipeline
from hotspots.cli import main
from hotspots.config import load_config
from hotspots.errors import ConfigError, HotspotsWarning, InputError
from hotspots.prepare.study import load_study

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
REAL = DATA / "crime" / "police_uk" / "2019-09" / "2019-09-nottinghamshire-street.csv.gz"
LSOA = DATA / "boundaries" / "lsoa2011_bsc_nottinghamshire.gpkg"


pytestmark = pytest.mark.usefixtures("restore_cli_globals")


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), prog_name="hotspots")


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    """The first 300 real rows of the September 2019 file (about 100 in scope)."""
    return pd.read_csv(REAL, dtype=str, keep_default_na=False, na_values=[""]).head(300)


# --- building each bad input ------------------------------------------------------------


def config_for(tmp: Path, *, lsoa: Path = LSOA, crime: str = 'name = "p"\npath = "f.csv"\n', extra: str = ""):
    p = tmp / "c.toml"
    p.write_text(f'[boundaries]\nlsoa = "{lsoa}"\n\n[[crime]]\n{crime}{extra}', encoding="utf-8")
    return p


def with_csv(text: str | bytes, **kw):
    def build(tmp: Path, rows: pd.DataFrame) -> Path:
        data = text(rows) if callable(text) else text
        f = tmp / "f.csv"
        f.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        return config_for(tmp, **kw)

    return build


def csv(df: pd.DataFrame) -> str:
    return df.to_csv(index=False)


def _drop_lat(r):
    return csv(r.drop(columns=["Latitude"]))


def _renamed(r):
    return csv(r.rename(columns={"Crime type": "Crime Type"}))


def _lon_text(r):
    return csv(r.assign(Longitude="lon " + r["Longitude"].fillna("")))


def _some_bad(r):
    r = r.copy()
    r.loc[[3, 9], "Latitude"] = "abc"
    return csv(r)


def _swapped(r):
    return csv(r.assign(Longitude=r["Latitude"], Latitude=r["Longitude"]))


def _bng(r):
    e, n = pyproj.Transformer.from_crs(4326, 27700, always_xy=True).transform(
        r["Longitude"].astype(float).to_numpy(), r["Latitude"].astype(float).to_numpy()
    )

    def fmt(v: float) -> str:
        return "" if math.isnan(v) else f"{v:.0f}"

    return csv(r.assign(Longitude=[fmt(v) for v in e], Latitude=[fmt(v) for v in n]))


def _outside(r):
    lon = r["Longitude"].astype(float) - 2.0
    return csv(r.assign(Longitude=lon.map(lambda v: "" if math.isnan(v) else f"{v:.6f}"), **{"LSOA code": ""}))


def _cp1252(r):
    r = r.copy()
    r.loc[1, "Location"] = "On or near Caf\u00e9 Ang\u00e9lique"
    return csv(r).encode("cp1252")


def _bom(r):
    return b"\xef\xbb\xbf" + csv(r).encode("utf-8")


def _dups(r):
    return csv(pd.concat([r, r[r["Crime ID"].notna()].head(3)], ignore_index=True))


def _invalid_polygon(tmp: Path, rows: pd.DataFrame) -> Path:
    g = pyogrio.read_dataframe(LSOA)
    c = g.geometry.iloc[3].centroid
    bow = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    g.loc[3, "geometry"] = shapely.affinity.translate(
        shapely.affinity.scale(bow, 0.002, 0.002, origin=(0, 0)), c.x, c.y
    )
    g.to_file(tmp / "lsoa.gpkg")
    (tmp / "f.csv").write_text(csv(rows))
    return config_for(tmp, lsoa=tmp / "lsoa.gpkg")


def _missing_data_file(tmp: Path, rows: pd.DataFrame) -> Path:
    return config_for(tmp, crime='name = "p"\npath = "gone.csv"\n')


def _unknown_key(tmp: Path, rows: pd.DataFrame) -> Path:
    (tmp / "f.csv").write_text(csv(rows))
    p = config_for(tmp)
    p.write_text(p.read_text().replace("[[crime]]", "nearest_tolerance = 100\n\n[[crime]]"))
    return p


def _missing_boundaries(tmp: Path, rows: pd.DataFrame) -> Path:
    return config_for(tmp, lsoa=Path("../shapes/nope.gpkg"))


def _points_bad_mapping(tmp: Path, rows: pd.DataFrame) -> Path:
    (tmp / "f.csv").write_text(csv(rows[["Month", "Longitude", "Latitude"]].rename(columns=str.lower)))
    crime = 'name = "p"\npath = "f.csv"\nformat = "points"\ncrime_type = "Robbery"\n'
    crime += 'columns = { month = "month", x = "lon", y = "latitude" }\n'
    return config_for(tmp, crime=crime)


def _forced_encoding(tmp: Path, rows: pd.DataFrame) -> Path:
    (tmp / "f.csv").write_bytes(_cp1252(rows))
    return config_for(tmp, crime='name = "p"\npath = "f.csv"\nencoding = "utf-8"\n')


ERRORS = [
    (
        "missing column",
        with_csv(_drop_lat),
        InputError,
        r"f\.csv: column 'Latitude' is missing\. Columns found: 'Crime ID', 'Month', .* A data\.police\.uk "
        r"street-level file has the columns Crime ID, Month, ",
    ),
    (
        "renamed header",
        with_csv(_renamed),
        InputError,
        r"f\.csv: column 'Crime type' is missing\. Found 'Crime Type': rename that header to 'Crime type'\.",
    ),
    (
        "non-numeric coordinates, all rows",
        with_csv(_lon_text),
        InputError,
        r"f\.csv: no coordinate in columns 'Longitude'/'Latitude' is a number \(first: row 1 \(line 2\), "
        r"Longitude = 'lon -1\.\d+'\)\. Check that the coordinate columns are mapped correctly",
    ),
    (
        "latitude and longitude swapped",
        with_csv(_swapped),
        InputError,
        r"f\.csv: longitude and latitude look swapped: the longitude column 'Longitude' has median 5\d\.\d{3}, "
        r"which is a latitude in Great Britain, and the latitude column 'Latitude' has median -\d\.\d{3}\. "
        r"Swap the two columns",
    ),
    (
        "British National Grid given as lon/lat",
        with_csv(_bng),
        InputError,
        r"f\.csv: columns 'Longitude'/'Latitude' hold values like \d{6}, \d{6}, which are not longitude/latitude "
        r"degrees; they look like British National Grid eastings/northings \(metres\)\. Set crs = \"EPSG:27700\"",
    ),
    (
        "empty file",
        with_csv(""),
        InputError,
        r"f\.csv is empty \(0 bytes\)\. Replace it with the full export, or remove it\.",
    ),
    (
        "header only",
        with_csv(lambda r: csv(r.head(0))),
        InputError,
        r"f\.csv has a header but no data rows\. Replace it with the full export, or remove it\.",
    ),
    (
        "every row outside the area",
        with_csv(_outside),
        InputError,
        r"f\.csv: none of the \d+ located in-scope rows falls inside the study area \(the LSOA boundaries cover "
        r"longitude -1\.344\.\.-0\.666, latitude 52\.790\.\.53\.502; first: row \d+ \(line \d+\), Longitude = -3\.\d+, Latitude = 5\d\.\d+\)",
    ),
    (
        "wrong encoding forced",
        _forced_encoding,
        InputError,
        r"f\.csv cannot be decoded as utf-8: .*Set encoding = \"\.\.\.\" for this file in the config\.",
    ),
    (
        "points mapping names a missing column",
        _points_bad_mapping,
        InputError,
        r"f\.csv: column 'lon' is missing\. Columns found: 'month', 'longitude', 'latitude'\. Fix the "
        r"\[crime\.columns\] mapping in the config\.",
    ),
    (
        "config with an unknown key",
        _unknown_key,
        ConfigError,
        r"c\.toml: unknown key 'nearest_tolerance' in \[boundaries\]\. Did you mean 'nearest_tolerance_m'\? Valid "
        r"keys: district_code_column, district_name_column, districts, filter_column, filter_values, lsoa, ",
    ),
    (
        "config pointing at a missing boundary file",
        _missing_boundaries,
        ConfigError,
        r"c\.toml: \[boundaries\] key 'lsoa': file not found: .*/shapes/nope\.gpkg\. Paths are relative to the "
        r"config file\.",
    ),
    (
        "config pointing at a missing crime file",
        _missing_data_file,
        InputError,
        r"\[\[crime\]\] 'p': file or folder not found: .*gone\.csv\. Paths are relative to the config file\.",
    ),
]


@pytest.mark.parametrize(("case", "build", "exc", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_input_library(tmp_path, rows, case, build, exc, message):
    p = build(tmp_path, rows)
    with pytest.raises(exc, match=message), warnings.catch_warnings():
        warnings.simplefilter("ignore", HotspotsWarning)
        load_study(load_config(p))


@pytest.mark.parametrize(("case", "build", "exc", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_input_cli(tmp_path, rows, case, build, exc, message):
    p = build(tmp_path, rows)
    r = invoke("check", "--config", str(p))
    assert r.exit_code == 2, r.output
    assert isinstance(r.exception, SystemExit)
    assert "Traceback" not in r.output
    lines = r.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], lines
    assert all(line.startswith(("error: ", "warning: ")) for line in lines), lines
    assert re.search(message, errors[0]), errors[0]
    assert r.stdout == ""


WARNINGS = [
    (
        "non-numeric coordinates, some rows",
        with_csv(_some_bad),
        r"f\.csv: 2 row\(s\) have a coordinate that is not a number \(first: row 4 \(line 5\), Latitude = 'abc'\); "
        r"dropped as unparseable\.",
        {"unparseable": 2},
    ),
    (
        "wrong encoding (cp1252)",
        with_csv(_cp1252),
        r"f\.csv is not UTF-8 \('utf-8' codec can't decode byte 0xe9 .*\); read it as Windows-1252\. Save it as UTF-8, "
        r"or set encoding in the config, to silence this\.",
        {},
    ),
    (
        "invalid polygon",
        _invalid_polygon,
        r"LSOA boundaries file .*lsoa\.gpkg: 1 invalid polygon\(s\) repaired with make_valid \(first: feature 4 "
        r"\(LSOA11CD 'E0\d+'\): Self-intersection\[",
        {},
    ),
]


@pytest.mark.parametrize(("case", "build", "message", "dropped"), WARNINGS, ids=[w[0] for w in WARNINGS])
def test_usable_input_with_warning(tmp_path, rows, case, build, message, dropped):
    p = build(tmp_path, rows)
    with pytest.warns(HotspotsWarning, match=message):
        s = load_study(load_config(p))
    (f,) = s.accounting.files
    assert f.rows_read == 300 and f.balanced()
    assert {k: v for k, v in f.dropped.items() if k == "unparseable"} == dropped
    r = invoke("check", "--config", str(p))
    assert r.exit_code == 0, r.output
    warn = [line for line in r.stderr.splitlines() if line.startswith("warning: ")]
    assert any(re.search(message, line) for line in warn), r.stderr
    assert "inputs usable" in r.stdout
    # -q silences warnings
    rq = invoke("-q", "check", "--config", str(p))
    assert rq.exit_code == 0 and "warning" not in rq.stderr


def test_bom_reads_like_no_bom(tmp_path, rows):
    plain = load_study(load_config(with_csv(csv)(tmp_path, rows)))
    (tmp_path / "b").mkdir()
    bom = load_study(load_config(with_csv(_bom)(tmp_path / "b", rows)))
    assert bom.accounting.files[0].to_dict() | {"sha256": "", "file": ""} == (
        plain.accounting.files[0].to_dict() | {"sha256": "", "file": ""}
    )
    assert bom.incidents["incident_id"].tolist() == plain.incidents["incident_id"].tolist()


def test_duplicate_ids_dropped_and_counted(tmp_path, rows):
    p = with_csv(_dups)(tmp_path, rows)
    s = load_study(load_config(p))
    (f,) = s.accounting.files
    assert f.rows_read == 303 and f.dropped["duplicate_crime_id"] == 3 and f.balanced()
    r = invoke("check", "--config", str(p))
    assert r.exit_code == 0
    header = next(line for line in r.stdout.splitlines() if line.strip().startswith("file"))
    assert "duplicate_crime_id" in header.split()


# --- the CLI itself ---------------------------------------------------------------------


def test_version():
    r = invoke("--version")
    assert r.exit_code == 0 and r.stdout.strip() == f"hotspots, version {__version__}"


def test_help_on_every_command():
    r = invoke("--help")
    assert r.exit_code == 0 and "Usage: hotspots [OPTIONS] COMMAND" in r.stdout
    for opt in ("--version", "-v, --verbose", "-q, --quiet"):
        assert opt in r.stdout
    assert {"check", "run"} <= set(main.commands)
    for name, cmd in main.commands.items():
        assert name in r.stdout
        h = invoke(name, "--help")
        assert h.exit_code == 0 and f"Usage: hotspots {name} [OPTIONS]" in h.stdout, name
        assert cmd.help and len(cmd.help) > 40, name
        for p in cmd.params:
            if isinstance(p, click.Option):
                assert p.help, f"{name} {p.opts} has no help text"
                assert p.opts[0] in h.stdout
    assert "-h" in invoke("check", "-h").stdout


def test_usage_errors_exit_2():
    r = invoke("--bogus")
    assert r.exit_code == 2 and "No such option '--bogus'" in r.stderr
    r = invoke("check", "--config")
    assert r.exit_code == 2 and "requires an argument" in r.stderr
    r = invoke("nosuchcommand")
    assert r.exit_code == 2 and "No such command 'nosuchcommand'" in r.stderr
    r = invoke()
    assert r.exit_code == 2 and "Usage: hotspots" in r.output


def test_missing_config_exits_2(tmp_path):
    r = invoke("check", "--config", str(tmp_path / "nope.toml"))
    assert r.exit_code == 2
    assert (
        r.stderr.strip()
        == f"error: config file not found: {tmp_path / 'nope.toml'}. Pass --config FILE with a TOML config."
    )


def test_check_bundled_data():
    r = invoke("check")
    assert r.exit_code == 0, r.output
    # no stray warnings: only the 12 repeated Crime IDs of the real police.uk month, counted
    assert r.stderr.splitlines() == [
        "warning: " + str(REAL) + ": 12 row(s) repeat an ID already seen (first: row 701 (line 702), Crime ID = "
        "'44e4d885e74772950856d6e5307adb2b21dbded61790c4d969176853e0112fe2'); only the first was kept; the others "
        "are dropped as duplicate_crime_id."
    ]
    out = r.stdout
    assert "config: " + str((DATA / "nottinghamshire.toml").resolve()) in out
    assert "study: Nottingham City and Nottinghamshire; period 2019-09 to 2022-12; 679 LSOAs" in out
    assert "row accounting (read = used + dropped):" in out
    police = next(line for line in out.splitlines() if "2019-09-nottinghamshire-street" in line).split()
    assert police[1:5] == ["police_uk", "11472", "3163", "8309"]
    # totals per kind of input: crime rows and venue rows are never added together
    totals = [line.split() for line in out.splitlines() if line.strip().startswith("TOTAL")]
    assert [t[:5] for t in totals] == [
        ["TOTAL", "crime", "26892", "18581", "8311"],
        ["TOTAL", "venues", "885", "884", "1"],
    ]
    assert "area check (the LSOA codes of the police.uk rows):" in out
    assert (
        "673 of 679 area LSOAs have police.uk rows; 60 rows (0.5%) carry 54 LSOA codes outside the area (at most 3 rows each)"
        in out
    )
    for caveat in (
        "Dates are month only",
        "snaps each crime",
        "from a 2017-08 snapshot",
        "mid-2015",
        "IDACI numerator is suppressed",
    ):
        assert caveat in out
    assert out.strip().endswith("18,581 incidents in scope.")


def test_verbose_logs_each_step():
    r = invoke("-v", "check")
    assert r.exit_code == 0
    assert "INFO hotspots.io.crime: read 2019-09-nottinghamshire-street.csv.gz: 11472 rows (police_uk)" in r.stderr
    assert "DEBUG" not in r.stderr


def test_run_writes_manifest(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "STAGES", [])
    out = tmp_path / "run"
    r = invoke("run", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert f"run folder: {out}" in r.stdout and "[load]" in r.stderr
    m = json.loads((out / "manifest.json").read_text())
    assert m["tool"] == "hotspots" and m["version"] == __version__ and m["status"] == "ok"
    assert m["config"]["path"] == str((DATA / "nottinghamshire.toml").resolve())
    police = next(i for i in m["inputs"] if i["role"] == "crime:police_uk")
    assert police["sha256"] == __import__("hashlib").sha256(REAL.read_bytes()).hexdigest()
    acc = {a["source"]: a for a in m["row_accounting"]}
    assert acc["police_uk"]["rows_read"] == 11_472 and acc["venues"]["rows_used"] == 884
    assert all(a["rows_read"] == a["rows_used"] + a["rows_dropped"] for a in m["row_accounting"])
    assert m["incidents"]["used"] == 18_581 and "load" in m["timings_s"]
    dropped = pd.read_csv(out / "dropped_rows.csv")
    assert len(dropped) == sum(a["rows_dropped"] for a in m["row_accounting"])
    # -q: nothing on stdout or stderr
    small = tmp_path / "small.toml"
    small.write_text(f'[boundaries]\nlsoa = "{LSOA}"\n[[crime]]\nname = "p"\npath = "{REAL}"\n')
    rq = invoke("-q", "run", "--config", str(small), "--out", str(tmp_path / "q"))
    assert rq.exit_code == 0 and rq.stdout == "" and rq.stderr == ""
    assert json.loads((tmp_path / "q" / "manifest.json").read_text())["incidents"]["used"] == 3_163


def test_run_default_out_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "STAGES", [])
    monkeypatch.chdir(tmp_path)
    small = tmp_path / "small.toml"
    small.write_text(f'[boundaries]\nlsoa = "{LSOA}"\n[[crime]]\nname = "p"\npath = "{REAL}"\n')
    r = invoke("-q", "run", "--config", "small.toml")
    assert r.exit_code == 0, r.output
    (folder,) = (tmp_path / "outputs").iterdir()
    assert re.fullmatch(r"run-\d{8}-\d{6}", folder.name) and (folder / "manifest.json").exists()


def test_run_stage_error_exits_2_and_manifest_says_failed(tmp_path, monkeypatch):
    def failing(run):
        raise InputError("stage could not use its input: fix it")

    monkeypatch.setattr(pipeline, "STAGES", (pipeline.Stage("failing", failing),))
    small = tmp_path / "small.toml"
    small.write_text(f'[boundaries]\nlsoa = "{LSOA}"\n[[crime]]\nname = "p"\npath = "{REAL}"\n')
    r = invoke("run", "--config", str(small), "--out", str(tmp_path / "f"))
    assert r.exit_code == 2 and r.stderr.strip().splitlines()[-1] == "error: stage could not use its input: fix it"
    # the failed run is kept beside the target, never in it
    assert not (tmp_path / "f").exists()
    assert json.loads((tmp_path / "f.failed" / "manifest.json").read_text())["status"] == "failed"
    assert "the run failed: its partial outputs are in" in r.stderr


def test_run_unknown_stage_is_a_usage_error(tmp_path):
    r = invoke("run", "--out", str(tmp_path / "x"), "--stage", "nope")
    assert r.exit_code == 2
    assert "Invalid value for --stage: unknown stage 'nope'; choose from detect, rank" in r.stderr
    assert not (tmp_path / "x").exists()


def test_bad_config_through_run(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text(f'[boundaries]\nlsoa = "{LSOA}"\n[[crime]]\nname = "p"\npath = "{REAL}"\n[study]\nstrat = "2019-01"\n')
    r = invoke("run", "--config", str(p), "--out", str(tmp_path / "o"))
    assert r.exit_code == 2
    assert re.fullmatch(
        r"error: config .*c\.toml: unknown key 'strat' in \[study\]\. Did you mean 'start'\? "
        r"Valid keys: city_districts, end, force, max_outside_share, name, sources, start\.",
        r.stderr.strip(),
    )


def test_police_file_gz_is_byte_identical_content():
    """The bundled 2019-09 file is the published CSV, gzipped (PROVENANCE: 2,546,522 bytes, sha256 39261ec8...)."""
    import hashlib

    with gzip.open(REAL, "rb") as f:
        raw = f.read()
    assert len(raw) == 2_546_522 and hashlib.sha256(raw).hexdigest().startswith("39261ec8f9c84c52")
