"""`hotspots check` validates a configured [change] section and the [[intervention]] register like `run` would.

Each fault (periods that overlap, are empty, or lie outside the data; unknown districts;
intervention periods or areas that do not fit the data) is one line and exit 2 from `check`,
and `run` stops with the same line before writing anything. Each test then FOLLOWS the advice
the message gives and checks that `check` passes. Finally `hotspots run` with a valid [change]
section writes the "What changed" section and the change files.

The study is small and real: the bundled LSOAs and districts and the City robberies of 2020 and
2022 (2020-01..2020-12 and 2022-01..2022-12 have data; 2021 has none).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import toml_value

from hotspots import columns as C
from hotspots.cli import main
from hotspots.evaluate.change import CHANGE_COLUMNS

DATA = Path(__file__).resolve().parent.parent / "data"
BOTH = ["city_robbery_2020", "city_robbery_2022"]
TREATED, CONTROL = "E01033406", "E01013855"


pytestmark = pytest.mark.usefixtures("restore_cli_globals")


def config(tmp_path: Path, *, change: dict[str, Any] | None = None, interventions: list[dict[str, Any]] = ()) -> Path:
    """The small robbery study with ``[change]`` (default: 2020 against 2022, both files) and ``[[intervention]]``."""
    robbery = {"format": "points", "crime_type": "Robbery"}
    xy = {"month": "month", "x": "longitude", "y": "latitude"}
    sections: list[tuple[str, dict[str, Any]]] = [
        ("[study]", {"name": "Change check"}),
        (
            "[boundaries]",
            {
                "lsoa": DATA / "boundaries/lsoa2011_bsc_nottinghamshire.gpkg",
                "lsoa_code_column": "LSOA11CD",
                "lsoa_name_column": "LSOA11NM",
                "districts": DATA / "boundaries/nottinghamshire_districts_lad22_bgc.gpkg",
                "district_code_column": "district_code",
                "district_name_column": "district_name",
            },
        ),
        (
            "[[crime]]",
            {
                "name": BOTH[0],
                "path": DATA / "crime/derived/nottingham_robberies_2020.csv.gz",
                **robbery,
                "columns": xy,
            },
        ),
        (
            "[[crime]]",
            {
                "name": BOTH[1],
                "path": DATA / "crime/derived/nottingham_robbery_2022.csv.gz",
                **robbery,
                "columns": {**xy, "lsoa_code": "lsoa_code", "location": "location"},
            },
        ),
    ]
    if change is not None:
        sections.append(("[change]", change))
    sections += [("[[intervention]]", entry) for entry in interventions]
    lines = []
    for head, table in sections:
        lines.append(head)
        lines += [f"{k} = {toml_value(v)}" for k, v in table.items()]
        lines.append("")
    path = tmp_path / "c.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


GOOD = {"before": "2020-01..2020-12", "after": "2022-01..2022-12", "sources": BOTH}
PILOT = {"name": "pilot", "start": "2020-07", "months": 6, "treated_lsoas": [TREATED], "control_lsoas": [CONTROL]}


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def one_error_line(r) -> str:
    assert r.exit_code == 2, r.output
    errors = [line for line in r.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and r.stderr.strip().splitlines()[-1] == errors[0], r.stderr
    assert "Traceback" not in r.output
    return errors[0]


def check_ok(path: Path) -> str:
    r = cli("check", "--config", str(path))
    assert r.exit_code == 0, r.output
    assert "inputs usable" in r.stdout
    return r.stdout


# (what, [change], [[intervention]], the one line, the [change] and register the advice leads to)
CASES = [
    (
        "overlap",
        {**GOOD, "after": "2020-12..2022-12"},
        [],
        "error: config {cfg}: [change] keys 'before' and 'after' overlap in 1 month(s) (2020-12); a month can only "
        "be in one period: remove it from one of them.",
        {**GOOD, "after": "2021-01..2022-12"},  # 2020-12 removed from 'after'
        [],
    ),
    (
        "empty",
        {**GOOD, "before": ""},
        [],
        "error: config {cfg}: [change] key 'before' is empty; give months as YYYY-MM and ranges as A..B, separated "
        "by commas (e.g. '2020-01..2020-06,2020-09').",
        {**GOOD, "before": "2020-01..2020-06,2020-09"},
        [],
    ),
    (
        "outside the data",
        {**GOOD, "before": "2021-01..2021-12"},
        [],
        "error: [change] before (2021-01..2021-12) has no month with data in any source; the months with data are "
        "2020-01..2020-12, 2022-01..2022-12. Choose months inside the data.",
        {**GOOD, "before": "2020-01..2020-12"},
        [],
    ),
    (
        "outside the named sources",
        {**GOOD, "sources": [BOTH[1]]},
        [],
        "error: [change] before (2020-01..2020-12) has no month with data: the selected sources cover 2022-01 to "
        "2022-12. Choose months inside the data or other sources.",
        {**GOOD, "sources": BOTH},  # other sources
        [],
    ),
    (
        "no source in both periods",
        {"before": GOOD["before"], "after": GOOD["after"]},
        [],
        "error: no source has data in both periods ([change] before/[change] after); name the sources to pool with "
        "[change] sources (before: city_robbery_2020; after: city_robbery_2022).",
        GOOD,
        [],
    ),
    (
        "unknown district",
        {**GOOD, "districts": ["Nottinghm"]},
        [],
        "error: [change] key 'districts': unknown district 'Nottinghm'. Did you mean 'Nottingham'? Districts: "
        "Ashfield, Bassetlaw, Broxtowe, Gedling, Mansfield, Newark and Sherwood, Nottingham, Rushcliffe.",
        {**GOOD, "districts": ["Nottingham"]},
        [],
    ),
    (
        "intervention outside the data",
        GOOD,
        [{**PILOT, "start": "2022-01", "months": 12}],
        "error: [[intervention]] 'pilot' before period (2021-01..2021-12) has no month with data in any source; the "
        "months with data are 2020-01..2020-12, 2022-01..2022-12. Move the entry's 'start' or shorten its 'months' "
        "so that both periods lie inside the data.",
        GOOD,
        [{**PILOT, "start": "2022-07", "months": 6}],  # 'start' moved
    ),
    (
        "intervention periods of unequal data",
        GOOD,
        [{**PILOT, "start": "2020-12", "months": 6}],
        "error: [[intervention]] 'pilot' before period has 6 months with data and [[intervention]] 'pilot' after "
        "period has 1; the WDD test compares equal periods. Move the entry's 'start' or shorten its 'months' so that "
        "both periods lie inside the data.",
        GOOD,
        [{**PILOT, "start": "2020-12", "months": 1}],  # 'months' shortened
    ),
    (
        "intervention LSOA not in the area",
        GOOD,
        [{**PILOT, "treated_lsoas": ["E0103340"]}],
        "error: [[intervention]] 'pilot' key 'treated_lsoas': 'E0103340' is not an LSOA of the study area. Did you "
        "mean 'E01033410'?",
        GOOD,
        [{**PILOT, "treated_lsoas": ["E01033410"]}],
    ),
]


@pytest.mark.parametrize(
    ("what", "change", "register", "message", "fixed", "fixed_register"), CASES, ids=[c[0] for c in CASES]
)
def test_check_names_the_fault_in_one_line_and_its_advice_works(
    tmp_path, what, change, register, message, fixed, fixed_register
):
    path = config(tmp_path, change=change, interventions=register)
    assert one_error_line(cli("check", "--config", str(path))) == message.format(cfg=path)
    out = check_ok(config(tmp_path, change=fixed, interventions=fixed_register))
    assert "what changed ([change]):" in out


def test_overlapping_intervention_areas_name_the_entry_and_a_control_outside_works(tmp_path, study):
    control = study.lsoa.set_index(C.LSOA_CODE).geometry[CONTROL]
    area = tmp_path / "treated.gpkg"
    gpd.GeoDataFrame(geometry=[control.buffer(300)], crs=C.CRS).to_file(area)
    path = config(tmp_path, change=GOOD, interventions=[{**PILOT, "treated_lsoas": [], "treated": area}])
    msg = one_error_line(cli("check", "--config", str(path)))
    assert msg == (
        "error: [[intervention]] 'pilot': the treated and control areas overlap; the control must lie outside the "
        "treated area."
    )
    far = {**PILOT, "treated_lsoas": [], "treated": area, "control_lsoas": [TREATED]}
    out = check_ok(config(tmp_path, change=GOOD, interventions=[far]))
    assert "intervention 'pilot': before 2020-01..2020-06, after 2020-07..2020-12" in out


def test_check_says_what_run_will_compare(tmp_path):
    out = check_ok(config(tmp_path, change=GOOD, interventions=[PILOT]))
    assert "  before 2020-01..2020-12 (12 months with data), after 2022-01..2022-12 (12 months with data)" in out
    assert "  sources city_robbery_2020, city_robbery_2022; area Nottingham" in out
    assert "areas treated, control; sources city_robbery_2020, city_robbery_2022" in out


def test_a_register_without_change_is_checked_as_hotspots_change_would_and_only_warns(tmp_path):
    path = config(tmp_path, interventions=[{**PILOT, "start": "2022-01", "months": 12}])
    r = cli("check", "--config", str(path))
    assert r.exit_code == 0, r.output
    assert "warning: [[intervention]] 'pilot' before period (2021-01..2021-12) has no month with data" in r.stderr
    assert "`hotspots run` uses the register only with a [change] section" in r.stderr
    assert "what changed" not in r.stdout


def test_run_stops_before_writing_anything_with_the_same_line(tmp_path):
    path = config(tmp_path, change={**GOOD, "before": "2021-01..2021-12"})
    out = tmp_path / "run"
    msg = one_error_line(cli("-q", "run", "--config", str(path), "--out", str(out)))
    assert msg.startswith("error: [change] before (2021-01..2021-12) has no month with data in any source")
    assert not out.exists() and not list(tmp_path.glob("run*"))


def test_run_with_change_writes_what_changed_and_the_change_files(tmp_path):
    """The whole pipeline (every stage) on the small study with [change] and an intervention."""
    out = tmp_path / "run"
    r = cli("-q", "run", "--config", str(config(tmp_path, change=GOOD, interventions=[PILOT])), "--out", str(out))
    assert r.exit_code == 0, r.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="what-changed"' in html and ">What changed<" in html and 'id="impact-table"' in html
    t = pd.read_csv(out / "change.csv")
    assert list(t.columns) == CHANGE_COLUMNS and (t["before_months"] == 12).all()
    assert len(pd.read_csv(out / "impact.csv")) == 2  # count and harm
    assert set(gpd.read_file(out / "interventions.gpkg")["role"]) == {"treated", "control"}
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {"change.csv", "impact.csv", "interventions.gpkg", "report.html", "maps/board.html"} <= set(m["outputs"])
    assert m["change"]["sources"] == BOTH and m["change"]["before_months"] == 12
