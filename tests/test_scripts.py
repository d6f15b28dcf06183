"""The worked analyst scripts in scripts/ run end to end on the bundled data."""

from __future__ import annotations

import subprocess
import sys

import pyogrio
from conftest import ROOT


def test_nte_city_centre_script(tmp_path):
    res = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "analysis_nte_city_centre.py"), "--out", str(tmp_path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert res.returncode == 0, res.stderr
    assert "13,335 incidents from city_violence_2020" in res.stdout
    assert "hot 99%" in res.stdout
    layers = {name for name, _ in pyogrio.list_layers(tmp_path / "nte_city.gpkg")}
    assert layers == {"grid", "nte_zones"}
    zones = pyogrio.read_dataframe(tmp_path / "nte_city.gpkg", layer="nte_zones")
    assert len(zones) >= 1 and zones["venues"].min() >= 5


def test_weapons_countywide_script(tmp_path):
    res = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "analysis_weapons_countywide.py"), "--out", str(tmp_path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert res.returncode == 0, res.stderr
    assert "1,037 weapons possession offences" in res.stdout
    units = pyogrio.read_dataframe(tmp_path / "weapons_lsoa.gpkg")
    assert len(units) == 679 and units["n"].sum() == 1037
    assert set(units["lisa_class"]) <= {"HH", "HL", "LH", "LL", "not significant"}
    # Nottingham City and Mansfield are the two districts with hot spot LSOAs
    hot = units[units["hotspot_class"].str.startswith("hot")]
    assert {"Nottingham", "Mansfield"} <= set(hot["district"])
