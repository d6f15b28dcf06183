"""Atomic run folders: a run replaces its folder only when complete; failures and crashes never mix runs.

The steps and what an interruption at each leaves are in :mod:`hotspots.io.rundir` and
docs/run-folder.md; each is pinned here, including a real crash (a process killed mid-run).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

from hotspots import pipeline
from hotspots.config import config_from_dict
from hotspots.errors import InputError
from hotspots.io import rundir

ROOT = Path(__file__).resolve().parent.parent
MONTH = ROOT / "data/crime/police_uk/2019-09/2019-09-nottinghamshire-street.csv.gz"
LSOA = ROOT / "data/boundaries/lsoa2011_bsc_nottinghamshire.gpkg"
RAW = {"boundaries": {"lsoa": str(LSOA)}, "crime": [{"name": "p", "path": str(MONTH)}]}


@pytest.fixture(scope="module")
def cfg():
    return config_from_dict(RAW, path=ROOT / "data" / "x.toml")


def _marker_stage(text: str) -> pipeline.Stage:
    """A stage whose output is one file, ``stage.txt`` holding ``text`` (the real stages are tested elsewhere)."""

    def run(state: pipeline.Run) -> None:
        state.timings["marker"] = 0.0

    return pipeline.Stage(f"marker-{text}", run)


@pytest.fixture()
def markers(monkeypatch):
    """Replace the stages by cheap ones that each write ``<name>.txt``."""

    def write_outputs(state, stage, w):
        w.text(stage, f"{stage}.txt", "marker")

    monkeypatch.setattr(pipeline, "write_outputs", write_outputs)

    def use(*stages: pipeline.Stage) -> None:
        monkeypatch.setattr(pipeline, "STAGES", tuple(stages))

    return use


def _run(cfg, out: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pipeline.run(cfg, out)


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".incomplete-" in p.name or ".previous-" in p.name)


def test_a_new_run_replaces_the_old_one_whole(cfg, markers, tmp_path):
    out = tmp_path / "run"
    markers(_marker_stage("old"))
    _run(cfg, out)
    assert (out / "marker-old.txt").exists() and _manifest(out)["status"] == "ok"
    markers(_marker_stage("new"))
    _run(cfg, out)
    assert (out / "marker-new.txt").exists() and not (out / "marker-old.txt").exists()  # no file of the old run
    assert _manifest(out)["status"] == "ok" and "marker-new.txt" in _manifest(out)["outputs"]
    assert _leftovers(tmp_path) == []


def test_a_failed_run_leaves_the_previous_run_untouched(cfg, markers, tmp_path):
    out = tmp_path / "run"
    markers(_marker_stage("old"))
    _run(cfg, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def failing(state):
        raise InputError("the stage could not use its input")

    markers(_marker_stage("new"), pipeline.Stage("failing", failing))
    with pytest.raises(InputError, match="could not use its input"):
        _run(cfg, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # old manifest, old files, nothing new
    failed = tmp_path / "run.failed"
    assert _manifest(failed)["status"] == "failed" and (failed / "marker-new.txt").exists()
    assert _leftovers(tmp_path) == []


def test_an_interrupted_run_leaves_the_previous_run_untouched(cfg, markers, tmp_path):
    out = tmp_path / "run"
    markers(_marker_stage("old"))
    _run(cfg, out)

    def interrupted(state):
        raise KeyboardInterrupt

    markers(_marker_stage("new"), pipeline.Stage("ctrl-c", interrupted))
    with pytest.raises(KeyboardInterrupt):
        _run(cfg, out)
    assert _manifest(out)["status"] == "ok" and not (out / "marker-new.txt").exists()
    assert _manifest(tmp_path / "run.failed")["status"] == "failed"


def test_a_failure_at_load_leaves_no_folder(tmp_path, markers):
    markers()
    bad = config_from_dict(
        {"boundaries": {"lsoa": str(LSOA)}, "crime": [{"name": "p", "path": str(tmp_path / "none.csv")}]},
        path=tmp_path / "c.toml",
    )
    with pytest.raises(InputError, match="file or folder not found"):
        _run(bad, tmp_path / "run")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_folder_that_is_not_a_run_is_never_replaced(cfg, markers, tmp_path):
    markers()
    mine = tmp_path / "Documents"
    mine.mkdir()
    (mine / "thesis.docx").write_text("precious")
    with pytest.raises(InputError, match=r"is a folder that is not a hotspots run folder .* Give a new folder name"):
        _run(cfg, mine)
    assert (mine / "thesis.docx").read_text() == "precious" and _leftovers(tmp_path) == []
    empty = tmp_path / "empty"
    empty.mkdir()
    _run(cfg, empty)  # an empty folder is fine
    assert _manifest(empty)["status"] == "ok"


def test_interrupted_between_the_two_renames_the_next_run_restores_the_previous(cfg, markers, tmp_path):
    """Step 4 interrupted: the old run was moved aside, the new one not yet moved in."""
    out = tmp_path / "run"
    markers(_marker_stage("old"))
    _run(cfg, out)
    aside = tmp_path / ".run.previous-20250101-000000-999999999"  # a process that no longer runs
    out.rename(aside)
    (tmp_path / ".run.incomplete-20250101-000000-999999999").mkdir()
    assert rundir.recover(out) == [
        "restored the previous run .run.previous-20250101-000000-999999999 to run",
        "deleted the interrupted run .run.incomplete-20250101-000000-999999999",
    ]
    assert _manifest(out)["status"] == "ok" and (out / "marker-old.txt").exists()
    assert _leftovers(tmp_path) == []


def test_interrupted_after_the_swap_the_next_run_deletes_the_old_one(cfg, markers, tmp_path):
    """Step 5 interrupted: the new run is in place and the old one still beside it."""
    out = tmp_path / "run"
    markers(_marker_stage("new"))
    _run(cfg, out)
    old = tmp_path / ".run.previous-20250101-000000-999999999"
    old.mkdir()
    (old / "manifest.json").write_text('{"tool": "hotspots", "status": "ok"}')
    _run(cfg, out)
    assert _leftovers(tmp_path) == [] and (out / "marker-new.txt").exists()


CRASH = textwrap.dedent(
    """
    import os, sys, warnings
    from hotspots import pipeline
    from hotspots.config import config_from_dict

    def write_outputs(state, stage, w):
        w.text(stage, f"{stage}.txt", "marker")

    def crash(state):
        os._exit(9)  # the process dies: no exception handler, no finally clause runs

    pipeline.write_outputs = write_outputs
    pipeline.STAGES = (pipeline.Stage("marker-new", lambda s: None), pipeline.Stage("crash", crash))
    warnings.simplefilter("ignore")
    raw = {"boundaries": {"lsoa": sys.argv[1]}, "crime": [{"name": "p", "path": sys.argv[2]}]}
    pipeline.run(config_from_dict(raw), __import__("pathlib").Path(sys.argv[3]))
    """
)


def test_a_crash_mid_run_never_mixes_runs_and_the_next_run_tidies_up(cfg, markers, tmp_path):
    out = tmp_path / "run"
    markers(_marker_stage("old"))
    _run(cfg, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    script = tmp_path / "crash.py"
    script.write_text(CRASH)
    res = subprocess.run(
        [sys.executable, str(script), str(LSOA), str(MONTH), str(out)],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "HOTSPOTS_JOBS": "1"},  # the run's own process dies
    )
    assert res.returncode == 9, res.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # the previous complete run, as it was
    (partial,) = [p for p in tmp_path.iterdir() if ".incomplete-" in p.name]
    assert (partial / "marker-new.txt").exists() and not (partial / "manifest.json").exists()
    markers(_marker_stage("next"))
    _run(cfg, out)  # the next run deletes the crashed run's folder and replaces the old run
    assert _leftovers(tmp_path) == [] and (out / "marker-next.txt").exists()


def test_check_target_and_start_errors(tmp_path):
    f = tmp_path / "f"
    f.write_text("x")
    with pytest.raises(InputError, match=r"--out .* is a file; give a folder for the run"):
        rundir.start(f)
    with pytest.raises(InputError, match=r"cannot write the run folder .*/f/run: .*/f is a file, not a folder\. Give"):
        rundir.start(f / "run")
    assert rundir.is_run_folder(tmp_path) is False
