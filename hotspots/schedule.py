"""The order in which a run's stages run, and which of them run side by side in worker processes.

:func:`run_stages` is called by :func:`hotspots.pipeline.run` with the stages of the run
(:data:`hotspots.pipeline.STAGES`) after loading. It runs them in pipeline order in this
process, and starts the ones that are ready and may run in a worker
(:attr:`hotspots.pipeline.Stage.worker`) in forked worker processes (:mod:`hotspots.parallel`)
when one is free; a stage's files are written (``write``) as soon as its result is here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from hotspots import parallel
from hotspots.steps import Timer, step

if TYPE_CHECKING:  # pragma: no cover
    from hotspots.pipeline import Run, Stage


def run_stages(
    state: Run,
    todo: list[Stage],
    *,
    write: Callable[..., None],
    progress: Callable[[str], None] | None = None,
) -> None:
    """Run the stages ``todo`` in order, each ready stage in a free worker process beside this one.

    ``write(state, name)`` writes a stage's files once its result is in ``state``; ``progress``
    is called with each stage's name as it starts.

    A stage is ready once every stage it reads (:attr:`Stage.after`) that is part of this run
    has finished. Whenever a worker is free (:func:`hotspots.parallel.jobs`), the first ready
    stage not yet started that may run in a worker (:attr:`Stage.worker`) starts there; this
    process runs the others in order, collecting a worker's result (and writing its files) as
    soon as it is seen to be done, when a later stage needs it, or at the end.
    """
    state.planned = tuple(s.name for s in todo)
    planned = set(state.planned)
    timer = Timer(wall=state.timings, cpu=state.cpu)
    tasks: dict[str, parallel.Task[Any]] = {}
    done: set[str] = set()

    def ready(stage: Stage) -> bool:
        return all(d in done for d in stage.after if d in planned)

    def waiting(stage: Stage) -> bool:
        return stage.name not in tasks and stage.name not in done and ready(stage)

    def launch(current: str) -> None:
        for name in [n for n, t in tasks.items() if parallel.finished(t)]:
            collect(name)
        # the stage this process is about to run goes to a worker too when a stage that must
        # run here (one sharing out its own parts) is also waiting: this process runs that one
        here_next = any(waiting(s) and not s.worker(state.config) for s in todo if s.name != current)
        for stage in todo:
            if not waiting(stage) or not stage.worker(state.config) or (stage.name == current and not here_next):
                continue
            background = stage.background(state)
            if parallel.jobs() <= 1 or (not background and parallel.jobs() - 1 <= parallel.running()):
                continue
            if progress:
                progress(stage.name)
            tasks[stage.name] = parallel.start(
                partial(_stage_value, state, stage), name=stage.name, timer=timer, background=background
            )
            if not tasks[stage.name].forked:  # no worker was free after all: it ran here
                collect(stage.name)

    def finish(name: str) -> None:  # the stage's result is in state: write its files
        with state.step(f"write.{name}"):
            write(state, name)
        done.add(name)

    def collect(name: str) -> None:
        setattr(state, name, tasks.pop(name).result())
        finish(name)

    try:
        for stage in todo:
            if stage.name in done or stage.name in tasks:  # collected when a later stage needs it, or at the end
                continue
            for dep in stage.after:
                if dep in tasks:
                    if not parallel.finished(tasks[dep]):  # about to wait: load what later stages import
                        _warm_up(todo, done)
                    collect(dep)
            launch(current=stage.name)
            if stage.name in tasks:
                continue
            if progress:
                progress(stage.name)
            with state.step(stage.name):
                stage.run(state)
            finish(stage.name)
        for name in list(tasks):
            collect(name)
    except BaseException:
        for task in tasks.values():  # the run failed: its workers' results are not needed
            task.stop()
        raise


WARM_UP: dict[str, tuple[str, ...]] = {
    "maps": ("hotspots.present.maps.build", "mapclassify"),
    "report": ("hotspots.present.report.build",),
}
"""Modules a stage imports when it runs (mapclassify and the report's matplotlib take about 0.4 s
each): this process imports them while it waits for a worker, so the workers it forks later
start with them loaded."""


def _warm_up(todo: list[Stage], done: set[str]) -> None:
    """Import the modules of the stages still to run (:data:`WARM_UP`), once."""
    import importlib

    for stage in todo:
        if stage.name not in done:
            for module in WARM_UP.get(stage.name, ()):
                importlib.import_module(module)


def _stage_value(state: Run, stage: Stage) -> object:
    """Run ``stage`` on ``state`` (timed as the stage) and return its result."""
    with step(stage.name):
        stage.run(state)
    return getattr(state, stage.name)
