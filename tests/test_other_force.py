"""Any force: a SYNTHETIC second force built from the bundled data, configured as `init` does, checked and run.

The bundled example's LSOAs, police.uk month, deprivation rows and venues are given
different names and codes (labelled synthetic: "Synthshire", districts "Northmoor" ...);
the configuration is rendered by :func:`hotspots.newforce.render_config` as for any force.
Nothing in the report, the maps or the tables may name the bundled area: every wording
about districts, cities and sources must come from the data and the config.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from hotspots.cli import main
from hotspots.newforce import BundledData, ForceArea, render_config
from hotspots.prepare.forces import Force, force_districts

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
MONTH = DATA / "crime/police_uk/2019-09/2019-09-nottinghamshire-street.csv.gz"

BUNDLED_NAMES = [
    "Nottingham",
    "Notts",
    "Ashfield",
    "Bassetlaw",
    "Broxtowe",
    "Gedling",
    "Mansfield",
    "Newark",
    "Rushcliffe",
    "Sherwood",
    "Worksop",
    "Hucknall",
    "Beeston",
    "Retford",
    "West Bridgford",
]
"""Names of the bundled example area: none may appear in another force's outputs."""

SYNTHETIC_DISTRICTS = ["Northmoor", "Eastvale", "Southfen", "Westholm", "Highdene", "Lowmarsh", "Midwold", "Farleigh"]
FORCE = Force("synthshire", "Synthshire Police (synthetic)", "E23999999", "Synthshire (synthetic)", "England")


pytestmark = pytest.mark.usefixtures("restore_cli_globals")


def _maps(lads: list[str], lsoas: pd.DataFrame) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(district code map, district name map, LSOA code map) from the bundled area to the synthetic force."""
    lad_code = {c: f"E0799990{i}" for i, c in enumerate(lads)}
    lad_name = dict(zip(lsoas.drop_duplicates("LAD19CD").set_index("LAD19CD").loc[lads, "LAD19NM"],
                        SYNTHETIC_DISTRICTS, strict=True))  # fmt: skip
    lsoa_code = {c: f"E019{i:05d}" for i, c in enumerate(sorted(lsoas["LSOA11CD"]))}
    return lad_code, lad_name, lsoa_code


def _rename_iod(
    path: Path, out: Path, code_col: str, lsoa_code: dict, lad_code: dict, lad_name: dict, *, area_only: bool
) -> None:
    """An IoD file with the bundled area's codes and names replaced; ``area_only`` keeps the area's rows only."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if area_only:  # only File 2 must be England-wide (national ranks); the others are joined to the area's LSOAs
        df = df[df[code_col].isin(set(lsoa_code))]
    df[code_col] = df[code_col].replace(lsoa_code)
    for col in df.columns:
        if col.startswith("Local Authority District code"):
            df[col] = df[col].replace(lad_code)
        if col.startswith("Local Authority District name"):
            df[col] = df[col].replace(lad_name)
        if col.startswith("LSOA name") or col.startswith("lsoa11_name"):
            df[col] = df[col].where(~df[code_col].isin(set(lsoa_code.values())), "Synthshire LSOA")
    with gzip.open(out, "wt", encoding="utf-8", newline="") as fh:
        df.to_csv(fh, index=False)


@pytest.fixture(scope="module")
def synthshire(tmp_path_factory) -> Path:
    """The synthetic force's data and its init-style config; returns the config path."""
    root = tmp_path_factory.mktemp("synthshire")
    data = root / "data"
    for sub in ("boundaries", "iod2019", "nte"):
        (data / sub).mkdir(parents=True)
    lads = force_districts("nottinghamshire")["lad19cd"].tolist()
    where = '"LAD19CD" IN (' + ", ".join(f"'{c}'" for c in lads) + ")"
    lsoa = pyogrio.read_dataframe(DATA / "boundaries/lsoa2011_bsc_ew.fgb.zip", where=where)
    lad_code, lad_name, lsoa_code = _maps(lads, lsoa)
    number = {c: f"{i:03d}" for i, c in enumerate(sorted(lsoa["LSOA11CD"]))}
    lsoa["LSOA11NM"] = [f"Synthshire {number[c]}" for c in lsoa["LSOA11CD"]]
    lsoa["LSOA11NMW"] = lsoa["LSOA11NM"]
    lsoa["LAD19NM"] = lsoa["LAD19NM"].replace(lad_name)
    lsoa["LAD19CD"] = lsoa["LAD19CD"].replace(lad_code)
    lsoa["LSOA11CD"] = lsoa["LSOA11CD"].replace(lsoa_code)
    lsoa.to_file(data / "boundaries/lsoa_synthshire.gpkg")

    iod = DATA / "iod2019"
    files = {
        "iod_domains": (iod / "File_2_-_IoD2019_Domains_of_Deprivation.csv.gz", "LSOA code (2011)"),
        "iod_population": (iod / "File_6_-_IoD2019_Population_Denominators.csv.gz", "LSOA code (2011)"),
        "iod_subdomains": (iod / "humaniverse_imd2019_england_lsoa11_subdomains.csv.gz", "lsoa11_code"),
        "iod_indicators": (iod / "humaniverse_imd2019_england_lsoa11_indicators.csv.gz", "lsoa11_code"),
    }
    paths = {}
    for role, (src, col) in files.items():
        paths[role] = data / "iod2019" / f"{role}_synthshire.csv.gz"
        _rename_iod(src, paths[role], col, lsoa_code, lad_code, lad_name, area_only=role != "iod_domains")

    pubs = pd.read_csv(DATA / "nte/open_pubs_2017-08_nottinghamshire.csv.gz", dtype=str, keep_default_na=False)
    pubs["name"] = [f"Synthetic Arms {i}" for i in range(len(pubs))]
    pubs["address"] = [f"{i} High Street, Synthtown" for i in range(len(pubs))]
    pubs["local_authority"] = "Synthshire"
    pubs.to_csv(data / "nte/pubs_synthshire.csv.gz", index=False)

    crime = pd.read_csv(MONTH, dtype=str, keep_default_na=False)
    crime["Reported by"] = crime["Falls within"] = FORCE.force_name
    crime["LSOA code"] = crime["LSOA code"].replace(lsoa_code)
    crime["LSOA name"] = crime["LSOA code"].map(lambda c: "Synthshire LSOA" if c.startswith("E019") else "Elsewhere")
    streets = {loc: f"On or near Street {i}" for i, loc in enumerate(sorted(crime["Location"].unique()))}
    crime["Location"] = crime["Location"].map(streets)
    month = root / "police_uk" / "2019-09"
    month.mkdir(parents=True)
    crime.to_csv(month / "2019-09-synthshire-street.csv", index=False)

    districts = pd.DataFrame({"lad19cd": list(lad_code.values()), "lad19nm": [lad_name[n] for n in lad_name]})
    bundled = BundledData(
        lsoa_boundaries=data / "boundaries/lsoa_synthshire.gpkg",
        iod_domains=paths["iod_domains"],
        iod_population=paths["iod_population"],
        iod_subdomains=paths["iod_subdomains"],
        iod_indicators=paths["iod_indicators"],
        venues=data / "nte/pubs_synthshire.csv.gz",
    )
    config = root / "synthshire.toml"
    config.write_text(render_config(ForceArea(FORCE, districts), out=config, data=bundled), encoding="utf-8")
    return config


def _find_names(text: str) -> list[str]:
    return [n for n in BUNDLED_NAMES if re.search(re.escape(n), text, flags=re.IGNORECASE)]


def test_the_synthetic_inputs_carry_no_bundled_name(synthshire):
    assert _find_names(synthshire.read_text(encoding="utf-8")) == []
    for p in (synthshire.parent / "police_uk").rglob("*.csv"):
        assert _find_names(p.read_text(encoding="utf-8")) == [], p
    pubs = pd.read_csv(synthshire.parent / "data/nte/pubs_synthshire.csv.gz", dtype=str, keep_default_na=False)
    assert _find_names(pubs.to_csv()) == []


def test_other_force_checks_and_runs_with_no_word_of_the_bundled_area(synthshire):
    r = CliRunner().invoke(main, ["check", "--config", str(synthshire)])
    assert r.exit_code == 0, r.output
    assert "study: Synthshire (synthetic) police force area; period 2019-09 to 2019-09; 679 LSOAs" in r.stdout
    assert "673 of 679 area LSOAs have police.uk rows" in r.stdout
    out = synthshire.parent / "run"
    r = CliRunner().invoke(main, ["run", "--config", str(synthshire), "--out", str(out)])
    assert r.exit_code == 0, r.output
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "The 8 districts of the study area." in report  # no city_districts: no city named
    assert "Nottingham City and the seven county districts" not in report
    assert "sources differ" not in report  # one source
    assert "Open Pubs" in report and "data.police.uk" in report and "English Indices of Deprivation 2019" in report
    assert "IoD2019 mid-2015 population" in report
    for name in ("report.html", "maps/board.html", "maps/outreach.html", "maps/analyst.html"):
        assert _find_names((out / name).read_text(encoding="utf-8")) == [], name
    for csv_file in out.glob("*.csv"):
        assert _find_names(csv_file.read_text(encoding="utf-8")) == [], csv_file.name
    districts = pd.read_csv(out / "districts.csv")
    assert set(districts["district"].dropna()) == {*SYNTHETIC_DISTRICTS, "All"}
