"""Per-step timings (hotspots.steps), the pipeline's record of them, and progress bars only on a terminal."""

from __future__ import annotations

import io
import logging

from hotspots import steps
from hotspots.steps import Timer, progress, step


def test_steps_inside_a_stage_are_recorded_under_its_name(caplog):
    timer = Timer()
    with caplog.at_level(logging.INFO, logger="hotspots.steps"), timer.stage("sites"):
        with step("demand"):
            pass
        with step("kits"), step("lp"):
            pass
        with step("demand"):  # a step entered twice adds up
            pass
    assert set(timer.wall) == {"sites", "sites.demand", "sites.kits", "sites.kits.lp"}
    assert set(timer.cpu) == set(timer.wall) and all(v >= 0 for v in timer.wall.values())
    assert timer.wall["sites"] >= timer.wall["sites.kits"] >= timer.wall["sites.kits.lp"]
    logged = [r.getMessage() for r in caplog.records]
    assert sum(m.startswith("sites.demand: ") for m in logged) == 2 and any(m.startswith("sites: ") for m in logged)


def test_a_step_outside_a_run_only_logs(caplog):
    with caplog.at_level(logging.INFO, logger="hotspots.steps"), step("alone") as t:
        pass
    assert t.name == "alone" and t.wall_s >= 0 and "alone: " in caplog.text


def test_no_progress_bar_without_a_terminal(monkeypatch):
    items = [1, 2, 3]
    assert progress(items, desc="x") is items  # pytest's stderr is not a terminal
    fake = io.StringIO()
    fake.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr(steps.sys, "stderr", fake)
    logging.getLogger("hotspots").setLevel(logging.ERROR)  # hotspots -q
    try:
        assert progress(items, desc="x") is items
    finally:
        logging.getLogger("hotspots").setLevel(logging.NOTSET)
    bar = progress(items, desc="x")  # a terminal, not quiet: tqdm, drawn only after PROGRESS_DELAY_S
    assert bar is not items and list(bar) == items and fake.getvalue() == ""


def test_the_manifest_has_every_step(bundled_run):
    import json

    m = json.loads((bundled_run.out / "manifest.json").read_text())
    wall, cpu = m["timings_s"], m["cpu_s"]
    for key in (
        "load",
        "load.deprivation",
        "load.clean_crime",
        "detect",
        "detect.clusters",
        "sites",
        "sites.kits",
        "sites.coverage_curve",
        "sites.kits_for_target",
        "rank",
        "maps",
        "report",
        "write.detect",
        "total",
    ):
        assert key in wall and key in cpu, key
    assert m["sites"]["time_limit"]["reached"] is False
