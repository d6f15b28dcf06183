"""``hotspots change`` end to end: the folder it writes (atomically), bad input, and "What changed" in a run."""

from __future__ import annotations

import json
import tomllib
import warnings

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import CONFIG

from hotspots.cli import main
from hotspots.errors import InputError
from hotspots.evaluate.change import CHANGE_COLUMNS
from hotspots.io.atomic import atomic_folder, check_out

ROBBERY = [
    "--source",
    "city_robbery_2020",
    "--source",
    "city_robbery_2022",
    "--before",
    "2020-01..2020-12",
    "--after",
    "2022-01..2022-12",
]


def cli(*args: str):
    return CliRunner().invoke(main, ["change", *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def robbery_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("change") / "robbery"
    res = cli(*ROBBERY, "--out", str(out))
    assert res.exit_code == 0, res.output
    return out, res.output


def test_robbery_folder(robbery_out):
    out, printed = robbery_out
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "change.csv",
        "change.html",
        "change_detail.csv",
        "manifest.json",
        "maps/change.html",
    ]
    t = pd.read_csv(out / "change.csv")
    assert list(t.columns) == CHANGE_COLUMNS and len(t) == 182
    assert set(t["change_class"]) <= {"significant fall", "significant rise", "no clear change", "no data"}
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["command"] == "change" and m["status"] == "ok"
    assert m["sources"] == ["city_robbery_2020", "city_robbery_2022"]
    assert m["summary"]["before_months"] == m["summary"]["after_months"] == 12
    assert m["change"]["dispersion"] == "auto" and m["summary"]["dispersion"]["nb2_c"] > 0
    assert {i["role"] for i in m["inputs"]} >= {"crime:city_robbery_2020", "crime:city_robbery_2022"}
    assert "whole area (Nottingham)" in printed and "rate ratio" in printed
    assert not list(out.parent.glob(".robbery.*"))  # no temporary folder left beside it


def test_the_folder_map_is_offline_and_served_with_its_pages(robbery_out):
    from hotspots.present.maps.serve import check_run_dir, index_page

    out, _ = robbery_out
    page = (out / "maps" / "change.html").read_text(encoding="utf-8")
    assert "<title>What changed</title>" in page and '"key":"change"' in page
    assert '"basemap":null' in page  # [maps] basemap = "none": no tile layer, no request
    assert check_run_dir(out) == out.resolve()
    index = index_page(out)
    assert 'href="maps/change.html"' in index and 'href="change.html"' in index


def test_board_page_is_self_contained_and_says_what_it_must(robbery_out):
    out, _ = robbery_out
    page = (out / "change.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower() and "http://" not in page and "https://" not in page
    assert "default-src 'none'" in page and "@page { size: A4" in page
    for heading in ("What changed", "How sure", "What could have been seen", "Is the pattern the same?"):
        assert f">{heading}<" in page
    assert "before the correction for looking at many" in page and "80 % power" in page
    # a unit's interval is its own; the page says why one can leave out "no change" without a significant class
    assert "fit each LSOA&#39;s own data (95 %), before that correction" in page
    assert "&lt;5" in page  # small counts suppressed
    assert "COVID-19 restrictions" in page


def test_rerun_replaces_the_folder_and_refuses_foreign_ones(robbery_out, tmp_path):
    out, _ = robbery_out
    (out / "stale.txt").write_text("from an older run")
    res = cli(*ROBBERY, "--out", str(out))
    assert res.exit_code == 0 and not (out / "stale.txt").exists()
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.docx").write_text("precious")
    res = cli(*ROBBERY, "--out", str(foreign))
    assert res.exit_code == 2 and "already holds files this command did not write" in res.output
    assert (foreign / "notes.docx").read_text() == "precious"


def test_atomic_folder_leaves_nothing_on_failure(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError), atomic_folder(out) as tmp:
        (tmp / "half.csv").write_text("x")
        raise RuntimeError("boom")
    assert not out.exists() and list(tmp_path.iterdir()) == []
    with atomic_folder(out) as tmp:
        (tmp / "manifest.json").write_text('{"tool": "hotspots", "command": "change"}')
    assert (out / "manifest.json").exists() and len(list(tmp_path.iterdir())) == 1
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match=r"is a file; give a folder"):
        check_out(tmp_path / "file")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--before", "2020-01..2020-06", "--after", "2020-05..2020-12"],
            "error: --before and --after overlap in 2 month(s) (2020-05..2020-06); a month can only be in one period.",
        ),
        (["--before", ",", "--after", "2020-07"], "error: --before is empty; give months as YYYY-MM"),
        (["--before", "2020-13", "--after", "2020-07"], "error: --before: '2020-13' is not a month (YYYY-MM)"),
        (["--after", "2020-07"], "error: give --before (month lists such as 2020-01..2020-06)"),
        (
            ["--before", "2019-09", "--after", "2020-07..2020-12", "--source", "city_violence_2020"],
            "error: --before (2019-09) has no month with data: the selected sources cover 2020-01 to 2020-12. "
            "Choose months inside the data or other sources.",
        ),
        (
            ["--before", "2021-01..2021-06", "--after", "2021-07..2021-12"],
            "error: --before (2021-01..2021-06) has no month with data in any source; the months with data are "
            "2019-09, 2020-01..2020-12, 2022-01..2022-12. Choose months inside the data.",
        ),
        (
            ["--before", "2019-09", "--after", "2022-01"],
            "error: no source has data in both periods (--before/--after); name the sources to pool with --source "
            "(before: police_uk; after: city_robbery_2022).",
        ),
        (
            ["--before", "2020-01", "--after", "2020-02", "--cell-size", "100"],
            "error: --cell-size applies to grid cells only",
        ),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(tmp_path, args, message):
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["-q", "change", *args, "--out", str(out)])
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(message), res.output
    assert "Traceback" not in res.output and not out.exists()


def test_run_shows_what_changed_only_when_change_is_configured(tmp_path, bundled_run):
    from hotspots import pipeline
    from hotspots.config import config_from_dict

    assert 'id="what-changed"' not in (bundled_run.out / "report.html").read_text(encoding="utf-8")
    assert "change.csv" not in bundled_run.outputs
    raw = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    raw["change"] = {"before": "2020-01..2020-06", "after": "2020-07..2020-12", "sources": ["city_violence_2020"]}
    raw["intervention"] = [
        {
            "name": "pilot",
            "start": "2020-07",
            "months": 6,
            "treated_lsoas": ["E01033406"],
            "control_lsoas": ["E01013855"],
        }
    ]
    cfg = config_from_dict(raw, path=CONFIG)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = pipeline.run(cfg, tmp_path, stages=["change", "report"])
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'id="what-changed"' in html and ">What changed<" in html and 'id="impact-table"' in html
    assert {"change.csv", "impact.csv", "interventions.gpkg"} <= set(rc.outputs)
    assert list(pd.read_csv(tmp_path / "change.csv").columns) == CHANGE_COLUMNS
    m = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert m["change"]["classes"] and m["auto"]["change"]["area_districts"] == ["Nottingham"]
