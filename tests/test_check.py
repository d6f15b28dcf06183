"""`hotspots check` validates everything `run` needs: every fault is one line and exit 2, and its advice works.

Each test makes the fault, checks the one-line message, then FOLLOWS the advice the message
gives and checks that `hotspots check` (or `run`) then succeeds.
"""

from __future__ import annotations

import gzip
import math
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyproj
import pytest
from click.testing import CliRunner
from conftest import toml_value

from hotspots import pipeline
from hotspots.cli import main

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
MONTH = DATA / "crime/police_uk/2019-09/2019-09-nottinghamshire-street.csv.gz"
LSOA = DATA / "boundaries/lsoa2011_bsc_nottinghamshire.gpkg"
PUBS = DATA / "nte/open_pubs_2017-08_nottinghamshire.csv.gz"
PUBS_UK = DATA / "nte/open_pubs_2017-08_uk.csv.gz"
FILE2 = DATA / "iod2019/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"
FILE6 = DATA / "iod2019/File_6_-_IoD2019_Population_Denominators.csv.gz"
INDICATORS = DATA / "iod2019/humaniverse_imd2019_england_lsoa11_indicators.csv.gz"


pytestmark = pytest.mark.usefixtures("restore_cli_globals")


def write_config(folder: Path, sections: dict[str, Any], name: str = "c.toml") -> Path:
    """A TOML config from ``{section: {key: value}}`` (``crime`` is a list of tables)."""
    lines = []
    for section, table in sections.items():
        for t in table if section == "crime" else [table]:
            lines.append("[[crime]]" if section == "crime" else f"[{section}]")
            lines += [f"{k} = {toml_value(v)}" for k, v in t.items()]
            lines.append("")
    path = folder / name
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def base(**extra: Any) -> dict[str, Any]:
    """The smallest real study: the example's LSOAs and its police.uk month."""
    sections: dict[str, Any] = {
        "study": {"name": "Check test"},
        "boundaries": {"lsoa": LSOA},
        "crime": [{"name": "p", "path": MONTH, "format": "police_uk"}],
    }
    for k, v in extra.items():
        sections[k] = {**sections.get(k, {}), **v} if isinstance(v, dict) else v
    return sections


def check(cfg: Path):
    return CliRunner().invoke(main, ["check", "--config", str(cfg)])


def one_error_line(r) -> str:
    assert r.exit_code == 2, r.output
    errors = [line for line in r.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and r.stderr.strip().splitlines()[-1] == errors[0], r.stderr
    return errors[0]


def ok(r) -> None:
    assert r.exit_code == 0, r.output
    assert "inputs usable" in r.stdout


# --- files given wrongly --------------------------------------------------------------


def test_folder_given_as_the_venue_file(tmp_path):
    folder = tmp_path / "venues"
    folder.mkdir()
    shutil.copy(PUBS, folder / PUBS.name)
    msg = one_error_line(check(write_config(tmp_path, base(venues={"path": folder}))))
    assert f"[venues] key 'path': the path {folder} is a folder, not a file; give the file itself." in msg
    assert f"It holds '{PUBS.name}': give one of them." in msg
    ok(check(write_config(tmp_path, base(venues={"path": folder / PUBS.name}))))  # the advice


def test_folder_given_as_the_deprivation_domains_file(tmp_path):
    folder = tmp_path / "iod"
    folder.mkdir()
    shutil.copy(FILE2, folder / FILE2.name)
    msg = one_error_line(check(write_config(tmp_path, base(deprivation={"domains": folder, "population": FILE6}))))
    assert "[deprivation] key 'domains': the path" in msg and f"It holds '{FILE2.name}'" in msg
    fixed = base(deprivation={"domains": folder / FILE2.name, "population": FILE6})
    ok(check(write_config(tmp_path, fixed)))


def test_csv_gz_that_is_not_gzip(tmp_path):
    plain = tmp_path / "month.csv.gz"
    plain.write_bytes(gzip.decompress(MONTH.read_bytes()))
    sections = base(crime=[{"name": "p", "path": str(plain), "format": "police_uk"}])
    msg = one_error_line(check(write_config(tmp_path, sections)))
    assert msg == (
        f"error: {plain} is named .gz but is not gzip-compressed. Rename it to month.csv (and change the path in "
        "the config to match), or compress it with gzip."
    )
    renamed = plain.rename(tmp_path / "month.csv")  # the advice
    ok(check(write_config(tmp_path, base(crime=[{"name": "p", "path": str(renamed), "format": "police_uk"}]))))


def test_police_uk_file_with_british_national_grid_coordinates(tmp_path):
    df = pd.read_csv(MONTH, dtype=str, keep_default_na=False)
    has = df["Longitude"] != ""
    e, n = pyproj.Transformer.from_crs(4326, 27700, always_xy=True).transform(
        df.loc[has, "Longitude"].astype(float).to_numpy(), df.loc[has, "Latitude"].astype(float).to_numpy()
    )
    df.loc[has, "Longitude"], df.loc[has, "Latitude"] = [f"{v:.1f}" for v in e], [f"{v:.1f}" for v in n]
    bng = tmp_path / "2019-09-force-street.csv"
    df.to_csv(bng, index=False)
    crime = {"name": "p", "path": str(bng), "format": "police_uk"}
    msg = one_error_line(check(write_config(tmp_path, base(crime=[crime]))))
    assert "look like British National Grid eastings/northings (metres)" in msg
    assert "Set crs = \"EPSG:27700\" for this file (set crs in the [[crime]] entry 'p')." in msg
    r = check(write_config(tmp_path, base(crime=[{**crime, "crs": "EPSG:27700"}])))  # the advice
    ok(r)
    assert "3,163 incidents in scope" in r.stdout  # as the published lon/lat file gives


def test_boundary_file_without_the_code_column(tmp_path):
    import pyogrio

    g = pyogrio.read_dataframe(LSOA).rename(columns={"LSOA11CD": "code"})
    path = tmp_path / "lsoa.gpkg"
    g.to_file(path)
    msg = one_error_line(check(write_config(tmp_path, base(boundaries={"lsoa": path}))))
    assert "column 'LSOA11CD' is missing; column 'code' holds LSOA codes: set lsoa_code_column = \"code\"" in msg
    assert "LAD19CD" not in msg
    ok(check(write_config(tmp_path, base(boundaries={"lsoa": path, "lsoa_code_column": "code"}))))


def test_unwritable_out_is_one_line_and_a_writable_one_works(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "STAGES", ())
    cfg = write_config(tmp_path, base())
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = CliRunner().invoke(main, ["run", "--config", str(cfg), "--out", str(blocker / "run")])
    msg = one_error_line(r)
    assert f"cannot write the run folder {blocker / 'run'}" in msg and "Give --out a folder you can write to." in msg
    assert blocker.read_text() == "x"
    r = CliRunner().invoke(main, ["run", "--config", str(cfg), "--out", str(tmp_path / "run")])  # the advice
    assert r.exit_code == 0, r.output
    assert (tmp_path / "run" / "manifest.json").is_file()


# --- numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "key", "bad", "good", "message"),
    [
        ("boundaries", "nearest_tolerance_m", math.nan, 250.0, "must be a finite number, got nan"),
        ("sites", "radius_m", math.inf, 100.0, "must be a finite number, got inf"),
        ("rank", "venue_radius", math.inf, 200.0, "must be a finite number, got inf"),
        ("sites", "sensitivity_radii_m", [60.0, math.nan], [60.0, 100.0], "must be"),
        ("detect", "nte_eps", 0.0, 150.0, "must be > 0, got 0.0"),
        ("rank", "seed", -1, 0, "must be >= 0, got -1"),
        ("outreach", "weights", {"youth_harm": math.nan}, {"youth_harm": 1.0}, "must be >= 0, got nan"),
        ("scope", "harm", {"robbery": math.inf}, {"robbery": 4.0}, "must be a finite number"),
        ("study", "max_outside_share", 1.5, 0.9, "must be a share between 0 and 1, got 1.5"),
    ],
)
def test_every_number_is_finite_and_in_range(tmp_path, section, key, bad, good, message):
    msg = one_error_line(check(write_config(tmp_path, base(**{section: {key: bad}}))))
    assert f"[{section}]" in msg and key in msg and message in msg
    ok(check(write_config(tmp_path, base(**{section: {key: good}}))))


def test_zero_is_allowed_where_it_means_off(tmp_path):
    composite = {"method": "composite", "draws": 0, "seed": 0}  # 0 draws: no Monte Carlo (the axes need draws)
    ok(check(write_config(tmp_path, base(boundaries={"nearest_tolerance_m": 0}, rank=composite))))


# --- what run will need -----------------------------------------------------------------


def test_candidate_list_naming_an_unconfigured_file(tmp_path):
    sections = base(sites={"candidates": ["incident_locations", "candidate_sites"]})
    msg = one_error_line(check(write_config(tmp_path, sections)))
    assert msg == (
        "error: config "
        + str((tmp_path / "c.toml").resolve())
        + ": [sites] key 'candidates' lists 'candidate_sites', but no candidate file is configured: add "
        'candidate_sites = "your_sites.csv" to [sites], or remove "candidate_sites" from candidates.'
    )
    sites = tmp_path / "your_sites.csv"
    sites.write_text("id,name,lon,lat\n1,Market Square,-1.1498,52.9530\n", encoding="utf-8")
    both = base(sites={"candidates": ["incident_locations", "candidate_sites"], "candidate_sites": sites.name})
    ok(check(write_config(tmp_path, both)))  # the first advice
    ok(check(write_config(tmp_path, base(sites={"candidates": ["incident_locations"]}))))  # the second


def test_source_names_anywhere_must_exist(tmp_path):
    msg = one_error_line(check(write_config(tmp_path, base(detect={"emerging_source": "pp"}))))
    assert "[detect] key 'emerging_source' names unknown source(s) 'pp'. Did you mean 'p'?" in msg
    assert msg.endswith("Valid [[crime]] names: p.")
    msg = one_error_line(check(write_config(tmp_path, base(evaluate={"source": "q"}))))
    assert "[evaluate] key 'source' names unknown source(s) 'q'." in msg
    ok(check(write_config(tmp_path, base(detect={"emerging_source": "p"}, evaluate={"source": "p"}))))


def test_explicit_weights_need_their_inputs(tmp_path):
    weights = {"harm_count": 0.5, "idaci": 0.5}
    msg = one_error_line(check(write_config(tmp_path, base(rank={"method": "composite", "weights": weights}))))
    assert "[rank] weights give weight to 'idaci' (0.5), which need youth income deprivation (IDACI)" in msg
    assert "or set weights = { harm_count = 0.5 } in [rank]." in msg
    second = base(rank={"method": "composite", "weights": {"harm_count": 0.5}})
    ok(check(write_config(tmp_path, second)))  # the second advice
    with_indicators = base(
        rank={"method": "composite", "weights": weights},
        deprivation={"domains": FILE2, "population": FILE6, "indicators": INDICATORS},
    )
    ok(check(write_config(tmp_path, with_indicators)))  # the first advice


def test_default_weights_without_their_inputs_warn_and_say_which(tmp_path):
    r = check(write_config(tmp_path, base(rank={"method": "composite"})))
    ok(r)
    warn = [line for line in r.stderr.splitlines() if "default [rank] weights" in line]
    assert len(warn) == 1 and "'harm_rate' (0.2)" in warn[0] and "'idaci' (0.1)" in warn[0]
    assert "they are left out and the other weights re-normalised" in warn[0]


def test_indicators_of_another_area_are_an_error_not_suppression(tmp_path):
    ind = pd.read_csv(INDICATORS, dtype=str)
    leeds = tmp_path / "indicators_leeds.csv.gz"
    ind[ind["lsoa11_code"].str.startswith("E010")].head(500).to_csv(leeds, index=False)
    sections = base(deprivation={"domains": FILE2, "population": FILE6, "indicators": leeds})
    msg = one_error_line(check(write_config(tmp_path, sections)))
    assert f"[deprivation] indicators file {leeds} has no row for 679 of the 679 study LSOAs" in msg
    assert "it covers another area. Use the England-wide file" in msg and "suppressed" not in msg
    fixed = base(deprivation={"domains": FILE2, "population": FILE6, "indicators": INDICATORS})
    r = check(write_config(tmp_path, fixed))  # the advice
    ok(r)
    assert "The IDACI numerator is suppressed (published empty) for 93 LSOA(s)" in r.stdout


# --- wrong-area inputs -------------------------------------------------------------------


def _other_area_pubs(tmp_path: Path) -> Path:
    pubs = pd.read_csv(PUBS_UK, dtype=str, keep_default_na=False)
    leeds = pubs[pubs["local_authority"] == "Leeds"]
    path = tmp_path / "open_pubs_leeds.csv"
    leeds.to_csv(path, index=False)
    return path


def test_venue_file_of_another_area_is_an_error_naming_file_share_and_area(tmp_path):
    path = _other_area_pubs(tmp_path)
    msg = one_error_line(check(write_config(tmp_path, base(venues={"path": path}))))
    assert f"error: {path}: none of the " in msg and "located venues falls inside the study area" in msg
    # a file that is mostly another area's: the share and the area are named
    mixed = tmp_path / "mixed.csv"
    pd.concat([pd.read_csv(path, dtype=str), pd.read_csv(PUBS, dtype=str).head(50)]).to_csv(mixed, index=False)
    msg = one_error_line(check(write_config(tmp_path, base(venues={"path": mixed}))))
    assert f"error: {mixed}: " in msg and "of the " in msg and "located venues (" in msg
    assert "lie outside the study area (Check test, 679 LSOAs), more than [study] max_outside_share (50%)" in msg
    assert "(or clip_to_area = true in [venues])" in msg
    ok(check(write_config(tmp_path, base(venues={"path": PUBS}))))  # the right file
    ok(check(write_config(tmp_path, base(venues={"path": mixed, "clip_to_area": True}))))  # a larger list, clipped


def test_a_national_list_clipped_to_the_area(tmp_path):
    r = check(write_config(tmp_path, base(venues={"path": PUBS_UK, "clip_to_area": True})))
    ok(r)
    venues = next(line for line in r.stdout.splitlines() if "TOTAL venues" in line).split()
    assert venues[2:4] == ["51566", "912"]  # the UK list: 912 venues in the area


# --- warnings with counts ------------------------------------------------------------------


def test_duplicates_origin_rows_and_unknown_codes_are_counted(tmp_path):
    df = pd.read_csv(MONTH, dtype=str, keep_default_na=False)
    viol = df.index[df["Crime type"] == "Violence and sexual offences"]
    df.loc[viol[:3], ["Longitude", "Latitude"]] = "0"
    df.loc[viol[10:14], "LSOA code"] = "E01999999"
    df = pd.concat([df, df.loc[viol[20:22]]], ignore_index=True)  # two repeated Crime IDs
    path = tmp_path / "2019-09-x-street.csv"
    df.to_csv(path, index=False)
    sections = base(crime=[{"name": "p", "path": str(path)}], deprivation={"domains": FILE2, "population": FILE6})
    r = check(write_config(tmp_path, sections))
    ok(r)
    warn = [line for line in r.stderr.splitlines() if line.startswith("warning: ")]
    assert any("14 row(s) repeat an ID already seen" in w for w in warn)  # 12 in the published file + 2
    assert any("3 row(s) are at (0, 0), a placeholder for a missing location" in w for w in warn)
    assert any(
        "4 row(s) carry an LSOA code that is in neither the boundary nor the deprivation file ('E01999999')" in w
        and "they were placed by their location" in w
        for w in warn
    )
