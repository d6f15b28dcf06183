"""National run: the archive read in place (fixture: the bundled real month + tiny members), rows accounted, Dask."""

from __future__ import annotations

import gzip
import json
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from hotspots import columns as C
from hotspots.errors import HotspotsWarning, InputError
from hotspots.io.crime import read_police_uk
from hotspots.national.archive import member_label, read_member, select_members, street_members
from hotspots.national.engine import open_executor
from hotspots.national.ingest import CleanOptions, clean_group, drop_cross_duplicates, group_members
from hotspots.prepare.clean import clean_incidents

REAL = ROOT / "data/crime/police_uk/2019-09/2019-09-nottinghamshire-street.csv.gz"
NOTTS = "2019-09/2019-09-nottinghamshire-street.csv"
LEICS = "2019-09/2019-09-leicestershire-street.csv"


@pytest.fixture(scope="module")
def national_lsoa() -> gpd.GeoDataFrame:
    from hotspots.national.run import load_inputs
    from hotspots.newforce import DATA_DIR

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HotspotsWarning)
        inputs = load_inputs(DATA_DIR, venues=False)
    codes = pd.Series(inputs.lsoa[C.LSOA_CODE].astype(str).to_numpy(dtype=object), dtype=object)
    return gpd.GeoDataFrame({C.LSOA_CODE: codes}, geometry=inputs.lsoa.geometry.values, crs=C.CRS)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, national_lsoa: gpd.GeoDataFrame) -> Path:
    """The real bundled month plus tiny members of other forces (no network)."""
    body = gzip.decompress(REAL.read_bytes())
    header = body.split(b"\n", 1)[0].decode()
    # a Crime ID the Nottinghamshire file uses (in scope, first of its kind), repeated in Leicestershire's file
    first_id = next(
        line.split(",")[0]
        for line in body.decode().splitlines()[1:]
        if line.split(",")[0] and "Violence and sexual offences" in line
    )
    leics = national_lsoa[national_lsoa[C.LSOA_CODE] == "E01013600"].to_crs("EPSG:4326").representative_point()
    lon, lat = float(leics.x.iloc[0]), float(leics.y.iloc[0])
    rows = [
        f"lc1,2019-09,Leicestershire Police,Leicestershire Police,{lon:.6f},{lat:.6f},On or near High Street,"
        "E01013600,Leicester 001A,Violence and sexual offences,,",
        ",2019-09,Leicestershire Police,Leicestershire Police,,,No location,,,Robbery,,",
        f"{first_id},2019-09,Leicestershire Police,Leicestershire Police,{lon:.6f},{lat:.6f},On or near X,"
        "E01013600,Leicester 001A,Violence and sexual offences,,",
    ]
    path = tmp_path_factory.mktemp("archive") / "2019-09.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(NOTTS, body)
        z.writestr(LEICS, header + "\n" + "\n".join(rows) + "\n")
        z.writestr(
            "2019-09/2019-09-northern-ireland-street.csv", header + "\nni1,2019-09,PSNI,PSNI,-5.93,54.6,X,,,Robbery,,\n"
        )
        z.writestr("2019-09/2019-09-nottinghamshire-outcomes.csv", "Crime ID,Month\n")
    return path


def test_listing_and_selection(archive: Path) -> None:
    listing = street_members(archive)
    assert listing.forces == ["leicestershire", "northern-ireland", "nottinghamshire"]
    assert listing.other == ("2019-09/2019-09-nottinghamshire-outcomes.csv",)
    chosen = select_members(listing)
    assert [m.force for m in chosen] == ["leicestershire", "nottinghamshire"]  # Northern Ireland: no LSOAs
    with pytest.raises(InputError, match=r"no street file for months 2020-01\.\.last"):
        select_members(listing, start="2020-01")
    with pytest.raises(InputError, match="--force kent: no street file of that force"):
        select_members(listing, forces=["kent"])


def test_member_read_by_pyarrow_equals_the_file_reader(archive: Path) -> None:
    listing = street_members(archive)
    notts = next(m for m in listing.members if m.name == NOTTS)
    with zipfile.ZipFile(archive) as zf:
        rf = read_member(zf, notts, archive=archive)
    ref = read_police_uk(REAL)
    assert str(rf.path) == member_label(archive, NOTTS) == "2019-09.zip!" + NOTTS
    assert len(rf.frame) == 11_472
    for col in ref.frame.columns:
        a, b = rf.frame[col], ref.frame[col]
        assert (a.isna() == b.isna()).all(), col
        assert (a[a.notna()].astype(str) == b[b.notna()].astype(str)).all(), col


def test_every_row_accounted_for(archive: Path, national_lsoa: gpd.GeoDataFrame) -> None:
    listing = street_members(archive)
    members = select_members(listing)
    groups = [clean_group(archive, g, national_lsoa, frozenset(), CleanOptions()) for g in group_members(members)]
    inc, acc, cross = drop_cross_duplicates(groups)
    by_file = {f.file: f for f in acc.files}
    assert all(f.balanced() for f in acc.files)
    assert sum(f.rows_read for f in acc.files) == 11_472 + 3
    leics = by_file[member_label(archive, LEICS)]
    # two used (one repeats a Nottinghamshire Crime ID: Leicestershire sorts first, so its copy is kept), one without
    # a location
    assert cross == 1
    assert leics.rows_used == 2 and sum(leics.dropped.values()) == 1
    assert len(inc) == sum(f.rows_used for f in acc.files)
    assert acc.dropped_rows.groupby("file").size().sum() == sum(f.rows_dropped for f in acc.files)
    # the Nottinghamshire file is accounted exactly as the toolkit's own reader and cleaning do it, but for the one
    # row whose Crime ID Leicestershire's file used first
    _, ref_acc = clean_incidents([read_police_uk(REAL)], national_lsoa, max_outside_share=None)
    ref = ref_acc.files[0]
    notts = by_file[member_label(archive, NOTTS)]
    expected = dict(ref.dropped)
    expected["duplicate_crime_id"] = expected.get("duplicate_crime_id", 0) + 1
    assert (notts.rows_read, notts.rows_used, notts.dropped) == (ref.rows_read, ref.rows_used - 1, expected)


def test_cross_force_duplicate_moves_to_dropped(archive: Path, national_lsoa: gpd.GeoDataFrame) -> None:
    members = select_members(street_members(archive))
    groups = [clean_group(archive, g, national_lsoa, frozenset(), CleanOptions()) for g in group_members(members)]
    inc, acc, cross = drop_cross_duplicates(groups)
    assert cross == 1  # leicestershire sorts first: its copy is kept, the Nottinghamshire row is dropped
    notts = next(f for f in acc.files if f.file.endswith(NOTTS))
    assert notts.dropped["duplicate_crime_id"] == 12 + 1  # 12 within the real file, 1 across forces
    ids = inc[C.INCIDENT_ID].astype(str)
    assert not ids[~ids.str.startswith("police_uk:")].duplicated().any()
    assert acc.dropped_rows["reason"].eq("duplicate_crime_id").sum() == 13


def test_archive_errors(tmp_path: Path) -> None:
    bad = tmp_path / "x.zip"
    bad.write_text("not a zip")
    with pytest.raises(InputError, match="is not a zip archive"):
        street_members(bad)
    with pytest.raises(InputError, match="not found"):
        street_members(tmp_path / "missing.zip")
    empty = tmp_path / "e.zip"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(InputError, match="holds no street-level file"):
        street_members(empty)
    renamed = tmp_path / "r.zip"
    with zipfile.ZipFile(renamed, "w") as z:
        z.writestr("2019-09/2019-09-kent-street.csv", "Crime ID,Month,Lon,Lat,Crime type\na,2019-09,1,51,Robbery\n")
    m = street_members(renamed).members[0]
    with (
        zipfile.ZipFile(renamed) as zf,
        pytest.raises(InputError, match=r"r\.zip!2019-09/2019-09-kent-street\.csv: column"),
    ):
        read_member(zf, m, archive=renamed)


def test_dask_local_cluster_equals_in_process(archive: Path, national_lsoa: gpd.GeoDataFrame) -> None:
    """The cleaning tasks and a small partitioned detection on a local Dask cluster of one worker."""
    from test_national import SETTINGS, _areas, _incidents

    from hotspots.national.detect import detect_national

    members = select_members(street_members(archive))
    lsoa, forces = _areas()
    inc = _incidents(lsoa)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HotspotsWarning)
        with open_executor(None, workers=1) as ex:
            assert "1 worker" in ex.description and len(ex.worker_pids()) == 1
            ref = ex.scatter(national_lsoa)
            handles = [
                ex.submit(clean_group, archive, g, ref, frozenset(), CleanOptions()) for g in group_members(members)
            ]
            remote = ex.gather(handles)
            on_dask = detect_national(inc, lsoa, forces, SETTINGS, ex)
        with open_executor("none") as ex:
            local = [
                clean_group(archive, g, national_lsoa, frozenset(), CleanOptions()) for g in group_members(members)
            ]
            in_process = detect_national(inc, lsoa, forces, SETTINGS, ex)
    assert [len(g.incidents) for g in remote] == [len(g.incidents) for g in local]
    pd.testing.assert_frame_equal(on_dask.grid, in_process.grid)
    np.testing.assert_array_equal(on_dask.lsoa["hotspot_class"].to_numpy(), in_process.lsoa["hotspot_class"].to_numpy())


def test_scheduler_unreachable() -> None:
    with (
        pytest.raises(InputError, match="cannot reach the Dask scheduler"),
        open_executor("tcp://127.0.0.1:1", timeout=1.0),
    ):
        pass


@pytest.fixture(scope="module")
def two_forces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder like the bundled one with the LSOAs of two forces only (the CLI test stays fast)."""
    import pyogrio

    from hotspots.newforce import DATA_DIR, DATA_FILES
    from hotspots.prepare.forces import DISTRICTS_TABLE

    dest = tmp_path_factory.mktemp("data")
    table = pd.read_csv(DISTRICTS_TABLE, dtype=str)
    lads = table.loc[table["force"].isin(["nottinghamshire", "leicestershire"]), "lad19cd"].tolist()
    where = "LAD19CD IN (" + ",".join(f"'{c}'" for c in lads) + ")"
    gdf = pyogrio.read_dataframe(DATA_DIR / DATA_FILES["lsoa_boundaries"], where=where)
    target = dest / DATA_FILES["lsoa_boundaries"]
    target.parent.mkdir(parents=True)
    fgb = target.parent / "lsoa2011_bsc_ew.fgb"
    pyogrio.write_dataframe(gdf, fgb, driver="FlatGeobuf", layer="lsoa2011_bsc_ew")
    with zipfile.ZipFile(target, "w") as z:
        z.write(fgb, fgb.name)
    fgb.unlink()
    for role, rel in DATA_FILES.items():
        if role != "lsoa_boundaries":
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            (dest / rel).symlink_to(DATA_DIR / rel)
    return dest


def test_cli_end_to_end(archive: Path, two_forces: Path, tmp_path: Path) -> None:
    """The whole command on two forces' LSOAs (the same code runs all 43; see scripts/bench_national.py)."""
    from click.testing import CliRunner

    from hotspots.cli import main

    out = tmp_path / "ew"
    args = ["national", "--archive", str(archive), "--out", str(out), "--scheduler", "none", "--data", str(two_forces)]
    args += ["--cell-size", "1000", "--bandwidth", "1000"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = CliRunner().invoke(main, ["-q", *args])
    assert res.exit_code == 0, res.output
    man = json.loads((out / "manifest.json").read_text())
    assert man["status"] == "ok" and man["kind"] == "national" and man["row_accounting"]["balanced"]
    assert man["row_accounting"]["rows_read"] == 11_472 + 3
    places = pd.read_csv(out / "places.csv")
    assert places["force"].nunique() == 2 and places["lsoa_code"].is_unique
    forces = pd.read_csv(out / "forces.csv")
    assert sorted(forces["force"]) == ["leicestershire", "nottinghamshire"]
    notts = forces.set_index("force").loc["nottinghamshire"]
    assert notts["incidents"] > 3000 and notts["population_year"] == "mid-2015" and notts["rows_read"] == 11_472
    page = (out / "maps" / "national.html").read_text(encoding="utf-8")
    assert "Leicestershire" in page and "http://" not in page.split("<body")[0].replace("http://www.w3.org", "")
    grid = pd.read_parquet(out / "grid.parquet")
    assert grid["cell_id"].is_unique and set(grid["force"]) <= set(forces["force"])


def test_cli_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from hotspots.cli import main

    bad = tmp_path / "bad.zip"
    bad.write_text("not a zip")
    cfg = tmp_path / "c.toml"
    cfg.write_text("[detect]\nweights = 'loudness'\n")
    for argv, says in (
        (["--archive", str(tmp_path / "no.zip")], "not found"),
        (["--archive", str(bad)], "is not a zip archive"),
        (["--archive", str(bad), "--config", str(cfg)], "weights"),
        (["--archive", str(bad), "--workers", "0"], "at least 1"),
    ):
        res = CliRunner().invoke(main, ["national", *argv, "--out", str(tmp_path / "x")])
        assert res.exit_code == 2, (argv, res.output)
        assert says in res.output and len(res.output.strip().splitlines()) == 1, (argv, res.output)
    assert not (tmp_path / "x").exists()
    helptext = CliRunner().invoke(main, ["national", "--help"]).output
    for option in ("--archive", "--scheduler", "--workers", "--force", "--config", "docs/national.md"):
        assert option in helptext
