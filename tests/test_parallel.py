"""Worker processes (hotspots.parallel) and the pipeline run with several jobs: same files, errors, warnings, logs."""

from __future__ import annotations

import json
import logging
import os
import signal
import warnings
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest

from hotspots import parallel
from hotspots.errors import HotspotsWarning, InputError
from hotspots.steps import Timer, step

pytestmark = pytest.mark.skipif(not parallel.fork_supported(), reason="worker processes need fork (Linux)")


def _pid() -> int:
    return os.getpid()


def test_start_forks_when_a_worker_is_free_and_runs_here_otherwise():
    with parallel.using(2):
        first = parallel.start(_pid, name="first")
        second = parallel.start(_pid, name="second")  # the one worker is busy: runs here
        assert first.forked and not second.forked
        assert second.result() == os.getpid()
        assert first.result() != os.getpid()
    with parallel.using(1):
        only = parallel.start(_pid, name="only")
        assert not only.forked and only.result() == os.getpid()
    assert parallel.running() == 0


def test_a_worker_never_forks_again():
    def nested() -> tuple[int, bool]:
        inner = parallel.start(_pid, name="inner")
        return inner.result(), inner.forked

    with parallel.using(4):
        task = parallel.start(nested, name="outer")
        pid, forked = task.result()
    assert task.forked and not forked and pid != os.getpid()


def _fail() -> None:
    raise InputError("crime.csv row 7: no Month column; add it")


def test_a_workers_exception_is_raised_in_the_parent_with_its_type_and_message():
    with parallel.using(2):
        task = parallel.start(_fail, name="failing")
        assert task.forked
        with pytest.raises(InputError, match="row 7: no Month column"):
            task.result()


def _warn_and_log() -> int:
    logging.getLogger("hotspots.test_parallel").warning("said in the worker: %d", 42)
    warnings.warn("a worker's warning", HotspotsWarning, stacklevel=1)
    with step("inner"):
        pass
    return 1


def test_a_workers_warnings_logs_and_step_timings_reach_the_parent(caplog):
    timer = Timer()
    with parallel.using(2), timer.stage("stage"):
        task = parallel.start(_warn_and_log, name="stage.part")
        assert task.forked
        with (
            caplog.at_level(logging.WARNING, logger="hotspots"),
            pytest.warns(HotspotsWarning, match="worker's warning"),
        ):
            assert task.result() == 1
    assert "said in the worker: 42" in caplog.text
    assert "stage.inner" in timer.wall  # recorded under the stage open when the part started


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_worker_that_dies_fails_with_a_message_naming_the_part():
    with parallel.using(2):
        task = parallel.start(_die, name="maps.analyst")
        with pytest.raises(RuntimeError, match=r"'maps.analyst' ended \(signal 9\) without a result.*--jobs 1"):
            task.result()


def test_a_result_that_cannot_be_pickled_is_computed_here_with_a_warning(caplog):
    calls = []

    def unpicklable():
        calls.append(os.getpid())
        return lambda: 1  # a lambda does not pickle

    with parallel.using(2):
        task = parallel.start(unpicklable, name="odd")
        with caplog.at_level(logging.WARNING, logger="hotspots"):
            value = task.result()
    assert value() == 1 and calls == [os.getpid()]  # the parent's own call
    assert "could not be sent back" in caplog.text


def test_jobs_setting_is_checked(monkeypatch):
    with pytest.raises(ValueError, match="jobs must be 1 or more"), parallel.using(0):
        pass
    monkeypatch.setenv(parallel.JOBS_ENV, "two")
    with pytest.raises(ValueError, match="HOTSPOTS_JOBS is 'two'"):
        parallel.auto_jobs()
    monkeypatch.setenv(parallel.JOBS_ENV, "3")
    assert parallel.auto_jobs() == 3


def test_the_cli_rejects_zero_jobs():
    from click.testing import CliRunner

    from hotspots.cli import main

    res = CliRunner().invoke(main, ["run", "--jobs", "0"])
    assert res.exit_code == 2 and "--jobs" in res.output


def _tables(run_dir: Path) -> dict[str, object]:
    """Every file of a run folder, comparable: bytes, GeoPackage layers as frames, the manifest without timings."""
    out: dict[str, object] = {}
    for f in sorted(run_dir.rglob("*")):
        rel = str(f.relative_to(run_dir))
        if f.is_dir():
            continue
        if f.suffix == ".gpkg":  # the file holds write times: compare the layers
            out[rel] = {name: gpd.read_file(f, layer=name) for name, _ in pyogrio.list_layers(f)}
        elif f.name == "manifest.json":
            out[rel] = _untimed(json.loads(f.read_text()))
        else:
            out[rel] = f.read_bytes()
    return out


_TIMED = {"timings_s", "cpu_s", "created", "jobs", "seconds", "solve_s"}


def _untimed(o: object) -> object:
    if isinstance(o, dict):
        return {k: _untimed(v) for k, v in o.items() if k not in _TIMED}
    if isinstance(o, list):
        return [_untimed(v) for v in o]
    return o


def test_a_run_writes_the_same_files_with_one_job_and_with_three(tmp_path, config):
    from hotspots import pipeline

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = pipeline.run(config, tmp_path / "one", jobs=1)
        three = pipeline.run(config, tmp_path / "three", jobs=3)
    assert one.run.jobs == 1 and three.run.jobs == 3
    a, b = _tables(one.out), _tables(three.out)
    assert sorted(a) == sorted(b)
    for rel, value in a.items():
        if isinstance(value, dict) and rel.endswith(".gpkg"):
            for name, frame in value.items():
                assert frame.equals(b[rel][name]), f"{rel} layer {name} differs"
        else:
            assert value == b[rel], f"{rel} differs between one job and three"
    # the workers' steps are in the manifest, and the total CPU counts the workers'
    man = json.loads((three.out / "manifest.json").read_text())
    assert man["jobs"] == 3
    for key in ("forecast", "detect.clusters", "maps.analyst", "sites.coverage_curve", "report"):
        assert key in man["timings_s"] and key in man["cpu_s"], key
    steps_cpu = sum(v for k, v in man["cpu_s"].items() if "." not in k and k != "total")
    assert man["cpu_s"]["total"] >= 0.9 * steps_cpu


def _niceness() -> int:
    return os.nice(0)


def test_a_background_part_runs_at_a_lower_priority_and_leaves_the_worker_free():
    with parallel.using(2):
        low = parallel.start(_niceness, name="forecast", background=True)
        busy = parallel.start(_niceness, name="part")  # the one worker is still free
        assert low.forked and busy.forked
        assert low.result() == min(os.nice(0) + parallel.BACKGROUND_NICE, 19)
        assert busy.result() == os.nice(0)
    with parallel.using(1):
        assert not parallel.start(_niceness, name="forecast", background=True).forked


def test_auto_jobs_is_one_more_than_the_cpus_at_most_three(monkeypatch):
    monkeypatch.delenv(parallel.JOBS_ENV, raising=False)
    for cpus, want in ((1, 1), (2, 3), (8, 3)):
        monkeypatch.setattr(os, "sched_getaffinity", lambda _pid, n=cpus: set(range(n)))
        assert parallel.auto_jobs() == want


def test_a_failed_run_with_workers_keeps_its_dropped_rows(tmp_path, config, monkeypatch):
    from hotspots import pipeline

    def failing(state):
        raise InputError("the stage could not use its input")

    monkeypatch.setattr(pipeline, "STAGES", (pipeline.Stage("failing", failing),))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(InputError, match="could not use its input"):
            pipeline.run(config, tmp_path / "run", jobs=3)
    failed = tmp_path / "run.failed"
    assert json.loads((failed / "manifest.json").read_text())["status"] == "failed"
    assert (failed / "dropped_rows.csv").stat().st_size > 0  # written by a background worker
    assert parallel.running() == 0


def test_a_worker_that_cannot_be_forked_runs_here_with_a_warning(monkeypatch, caplog):
    def no_fork():
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    with parallel.using(2), caplog.at_level(logging.WARNING, logger="hotspots"):
        task = parallel.start(_pid, name="maps.analyst")
        assert not task.forked and task.result() == os.getpid()
    assert "maps.analyst: cannot start a worker process" in caplog.text
