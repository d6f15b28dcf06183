"""Run the stages in order and write the run folder.

:func:`load_study` reads and cleans the inputs; then each stage in :data:`STAGES` is a
plain function from the study, the earlier stages' results and its own config section to
a frozen result (:func:`hotspots.detect.stage.detect`, :func:`hotspots.rank.stage.rank`,
:func:`hotspots.sites.stage.site`, :func:`hotspots.evaluate.forecast.stage.forecast`,
:func:`hotspots.evaluate.change_stage.change` (only with ``[change]``),
:func:`hotspots.present.maps.build.build_maps`, :func:`hotspots.present.report.build.report`).
No stage reads or writes a file: this module writes every output (:func:`write_outputs`) and
``manifest.json``, which is written last, and also when a stage fails, so a failed run still
says what it did. The run folder is written atomically (:mod:`hotspots.io.rundir`): outputs go
to a temporary folder that replaces the target only when the run succeeds.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hotspots import parallel
from hotspots.config import Config
from hotspots.io import rundir
from hotspots.io.write import write_csv, write_json, write_layer
from hotspots.manifest import manifest
from hotspots.preflight import check_change_section, check_needs
from hotspots.prepare.study import Study, load_study
from hotspots.schedule import run_stages
from hotspots.steps import StepTime, Timer

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import pandas as pd

    from hotspots.detect.stage import DetectResult
    from hotspots.evaluate.change_stage import ChangeResult
    from hotspots.evaluate.forecast.stage import ForecastResult
    from hotspots.present.maps.build import MapsResult
    from hotspots.present.report.build import Report
    from hotspots.rank.stage import RankResult
    from hotspots.sites.stage import SitesResult

log = logging.getLogger(__name__)

HOTSPOTS_GPKG = "hotspots.gpkg"
PLACES_CSV = "places.csv"
PLACES_GPKG = "places.gpkg"
DISTRICTS_CSV = "districts.csv"
KITS_CSV = "bleed_kits.csv"
KIT_ALTERNATIVES_CSV = "kit_alternatives.csv"
OUTREACH_CSV = "outreach.csv"
SITES_GPKG = "sites.gpkg"
WHERE_NEXT_CSV = "where_next.csv"
WHERE_NEXT_GPKG = "where_next.gpkg"
MAPS_DIR = "maps"
DROPPED_CSV = "dropped_rows.csv"
INSTITUTIONS_CSV = "institutions.csv"
CHANGE_CSV = "change.csv"
IMPACT_CSV = "impact.csv"
INTERVENTIONS_GPKG = "interventions.gpkg"
MANIFEST = "manifest.json"


@dataclass
class Run:
    """One run: the configuration, the study and every stage's result as it is produced.

    Attributes
    ----------
    config, study
        The resolved configuration and the loaded study.
    detect, rank, sites, forecast, change, maps, report
        Each stage's frozen result (None until the stage has run, or when it was not asked for;
        ``change`` also when the config has no ``[change]`` section).
    timings
        Wall seconds per stage, and per step of a stage as ``"<stage>.<step>"``
        (:meth:`step`, :func:`hotspots.steps.step`). Stages that ran side by side overlap,
        so their seconds add up to more than ``"total"``.
    cpu
        CPU seconds (user + system, all threads of the process) by the same keys; a part run
        in a worker process counts its own (``"total"`` includes the workers').
    jobs
        How many processes could work at once (:mod:`hotspots.parallel`).
    planned
        The stages this run runs, in order.
    """

    config: Config
    study: Study
    detect: DetectResult | None = None
    rank: RankResult | None = None
    sites: SitesResult | None = None
    forecast: ForecastResult | None = None
    change: ChangeResult | None = None
    maps: MapsResult | None = None
    report: Report | None = None
    timings: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    jobs: int = 1
    planned: tuple[str, ...] = ()

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[StepTime]:
        """Time stage (or step) ``name`` into :attr:`timings` and :attr:`cpu`, logged at INFO.

        Every :func:`hotspots.steps.step` inside the block is recorded as ``"<name>.<step>"``,
        so ``hotspots -v run`` prints each step as it ends and the manifest lists them.
        """
        timer = Timer(wall=self.timings, cpu=self.cpu)
        with timer.stage(name) as t:
            yield t

    @property
    def auto(self) -> dict[str, dict[str, Any]]:
        """Every automatic choice, by stage (``load``, ``detect``, ...), for the manifest."""
        auto: dict[str, dict[str, Any]] = {"load": dict(self.study.auto)}
        if self.detect is not None:
            auto["detect"] = self.detect.auto
        if self.rank is not None and self.rank.auto:
            auto["rank"] = self.rank.auto
        if self.sites is not None:
            auto.update({k: v for k, v in self.sites.auto.items() if v})
        if self.forecast is not None and self.forecast.auto:
            auto["forecast"] = self.forecast.auto
        if self.change is not None and self.change.auto:
            auto["change"] = self.change.auto
        if self.maps is not None:
            auto["maps"] = self.maps.auto
        return auto


def _detect(run: Run) -> None:
    from hotspots.detect.stage import detect  # each stage's modules load when it runs

    run.detect = detect(run.study, run.config.detect)


def _detected(run: Run) -> DetectResult:
    if run.detect is None:  # pragma: no cover - Stage.needs runs detect first
        raise RuntimeError("internal: a stage that needs detect ran before it")
    return run.detect


def _rank(run: Run) -> None:
    from hotspots.rank.stage import rank

    run.rank = rank(run.study, _detected(run), run.config.rank)


def _sites(run: Run) -> None:
    from hotspots.sites.stage import site

    run.sites = site(run.study, _detected(run), run.config.sites, run.config.outreach)


def _forecast(run: Run) -> None:
    from hotspots.evaluate.forecast.stage import forecast

    run.forecast = forecast(run.study, run.config.forecast)


def _change(run: Run) -> None:
    cfg = run.config
    if cfg.change is not None:  # "What changed" only when [change] is configured
        from hotspots.evaluate.change_stage import change

        run.change = change(
            run.study,
            cfg.change,
            interventions=cfg.intervention,
            cell_size=cfg.detect.cell_size,
            names=("[change] before", "[change] after"),
        )


def _maps(run: Run) -> None:
    from hotspots.present.maps.build import build_maps

    run.maps = build_maps(run.study, run.detect, run.rank, run.sites, run.config.maps, forecast=run.forecast)


def _report(run: Run) -> None:
    from hotspots.present.report.build import report

    auto = run.auto
    if "maps" in run.planned and run.maps is None:  # the maps are being built beside the report
        from hotspots.present.maps.build import maps_auto

        auto["maps"] = maps_auto(run.study, run.sites, run.config.maps)
    run.report = report(
        run.study,
        run.detect,
        run.rank,
        run.sites,
        run.config.report,
        auto=auto,
        changed=run.change,
        forecast=run.forecast,
    )


@dataclass(frozen=True)
class Stage:
    """A pipeline stage.

    Attributes
    ----------
    name
        The stage's name (``--stage``, the manifest's keys).
    run
        The function that runs it on a :class:`Run` (sets the run's attribute ``name``).
    needs
        Stages that must run for this one to run (``--stage rank`` runs detect too).
    after
        Stages whose results it reads when they run: it starts only once they have finished.
    worker
        Whether, with this config, the stage may run in a worker process beside the stage
        running in this one (:mod:`hotspots.parallel`) once its ``after`` stages are done.
        False for the stages that share out their own parts (detect, sites, maps) and for a
        stage with nothing to do.
    background
        Whether, for this run, the stage's result is needed only some stages later (the
        forecast and the change by the maps, the ranking beside the kit siting): with more than
        one job it then runs in a worker at a lower CPU priority, not counted against the jobs,
        so the parts the run is waiting for come first when the CPUs are busy
        (:func:`hotspots.parallel.start`). True for those stages when the study has over
        :data:`BACKGROUND_MIN_INCIDENTS` incidents to analyse: on a small study the forecast is
        the longest part of the run, and a lower priority would only delay it.
    """

    name: str
    run: Callable[[Run], None]
    needs: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    worker: Callable[[Config], bool] = lambda config: True
    background: Callable[[Run], bool] = lambda run: False


BACKGROUND_MIN_INCIDENTS = 20_000
"""Incidents to analyse above which the stages needed only later run at a lower CPU priority
(:attr:`Stage.background`; measured: 100k incidents 13.1 -> 11.4-11.8 s, the 4,200-incident
bundled county 4.6 -> 5.2 s warm with a lower priority)."""


def _never(config: Config) -> bool:
    return False


def _large(run: Run) -> bool:
    return len(run.study.analysis_incidents) > BACKGROUND_MIN_INCIDENTS


STAGES: tuple[Stage, ...] = (
    Stage("detect", _detect, worker=_never),
    Stage("rank", _rank, needs=("detect",), after=("detect",), background=_large),
    Stage("sites", _sites, needs=("detect",), after=("detect",), worker=_never),
    Stage("forecast", _forecast, background=_large),
    Stage("change", _change, worker=lambda config: config.change is not None, background=_large),
    Stage("maps", _maps, after=("detect", "rank", "sites", "forecast"), worker=_never),
    # the report reads the maps' automatic choices only, which it can work out itself
    # (hotspots.present.maps.build.maps_auto): it may be written while the maps are built
    Stage("report", _report, after=("detect", "rank", "sites", "forecast", "change")),
)
"""Pipeline stages after loading, in order."""

STAGE_NAMES = tuple(s.name for s in STAGES)


def with_needs(stages: list[str] | None) -> list[str] | None:
    """``stages`` and every stage they need, in pipeline order (None = all stages)."""
    if stages is None:
        return None
    by_name = {s.name: s for s in STAGES}
    wanted: set[str] = set()
    todo = list(stages)
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo.extend(by_name[name].needs)
    return [s.name for s in STAGES if s.name in wanted]


def default_out_dir() -> Path:
    """``outputs/run-YYYYmmdd-HHMMSS`` under the current folder."""
    return Path("outputs") / _dt.datetime.now().strftime("run-%Y%m%d-%H%M%S")


def run(
    config: Config,
    out: Path,
    *,
    stages: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
    jobs: int | None = None,
) -> RunOutput:
    """Run the pipeline on ``config`` and write the run folder ``out``, atomically.

    Parameters
    ----------
    config
        The resolved configuration.
    out
        Run folder. The run is written into a temporary folder beside it and moved to
        ``out`` only when every stage has succeeded, replacing an earlier run there (see
        :mod:`hotspots.io.rundir`): ``out`` never mixes two runs, and a failed or
        interrupted run never destroys the previous complete one.
    stages
        Names of stages to run (default all of :data:`STAGES`); the stages they need run
        too (``rank`` and ``sites`` need ``detect``), and their files are written.
    progress
        Called with each stage's name as it starts (the CLI prints it).
    jobs
        How many processes may work at once (default :func:`hotspots.parallel.auto_jobs`: one
        more than the CPUs available, at most 3, on Linux; 1 on one CPU and elsewhere). Stages
        that do not need each other, and parts of stages, then run side by side in forked worker processes
        (:mod:`hotspots.parallel`); the files written are the same with any number of jobs.

    Returns
    -------
    RunOutput
        The run (every stage's result), the files written and the timings;
        ``out/manifest.json`` has been written.

    Raises
    ------
    InputError, ConfigError
        ``out`` cannot be written, an input is unusable, or a configured component lacks its
        input (:func:`hotspots.preflight.check_needs`), or ``[change]`` does not fit the data
        (:func:`hotspots.preflight.check_change_section`): nothing is written and ``out`` is
        untouched. A stage that fails leaves its partial run, with a manifest saying
        ``"failed"``, in ``<out>.failed``.
    """
    with parallel.using(jobs) as used:
        return _run(config, out, stages=stages, progress=progress, jobs=used)


def _run(
    config: Config, out: Path, *, stages: list[str] | None, progress: Callable[[str], None] | None, jobs: int
) -> RunOutput:
    """:func:`run` with its jobs set (:func:`hotspots.parallel.using`)."""
    tmp = rundir.start(out)
    t0, c0, k0 = time.perf_counter(), time.process_time(), _children_cpu()
    stages = with_needs(stages)
    timer = Timer()
    try:
        if progress:
            progress("load")
        with timer.stage("load"):
            study = load_study(config)
            will_run = [s.name for s in STAGES if stages is None or s.name in stages]
            check_needs(config, study, stages=will_run)
            check_change_section(config, study, stages=will_run)
    except BaseException:
        rundir.discard(tmp)  # a failure at load leaves nothing behind
        raise
    state = Run(config=config, study=study, timings=timer.wall, cpu=timer.cpu)
    written = Written(tmp)
    status = "ok"
    inputs_written: parallel.Task[None] | None = None
    try:
        # the input tables are written by a background worker when there are several jobs
        # (dropped_rows.csv can have hundreds of thousands of rows): the stages go on meanwhile
        dropped = written.register(DROPPED_CSV, "every dropped input row with its reason")
        institutions = written.register(
            INSTITUTIONS_CSV, "incidents at institutional snap points (prison, hospital, ...)"
        )
        inputs_written = parallel.start(
            partial(_write_input_tables, study, dropped, institutions), name="write.inputs", background=True
        )
        state.jobs = jobs
        run_stages(
            state,
            [s for s in STAGES if stages is None or s.name in stages],
            write=partial(write_outputs, w=written),
            progress=progress,
        )
        inputs_written.result()
    except BaseException:
        status = "failed"
        if inputs_written is not None:
            with contextlib.suppress(Exception):  # a failed run keeps its dropped rows when they could be written
                inputs_written.result()
        raise
    finally:
        state.timings["total"] = time.perf_counter() - t0
        state.cpu["total"] = time.process_time() - c0 + _children_cpu() - k0
        log.info("run: %.2f s (CPU %.2f s)", state.timings["total"], state.cpu["total"])
        written.outputs.setdefault(MANIFEST, "this file")
        write_json(manifest(state, written.outputs, status=status), tmp / MANIFEST)
        if status == "failed":
            failed = rundir.keep_failed(tmp, out)
            log.warning("the run failed: its partial outputs are in %s; %s is untouched", failed, out)
    rundir.publish(tmp, out)
    return RunOutput(run=state, out=out, outputs=written.outputs, timings=state.timings)


def _write_input_tables(study: Study, dropped: Path, institutions: Path) -> None:
    """Write the study's dropped rows and institutional-point incidents as CSV at these paths."""
    write_csv(study.accounting.dropped_rows, dropped)
    write_csv(study.institutions, institutions)


def _children_cpu() -> float:
    """CPU seconds (user + system) of this process's ended worker processes (0 where not known)."""
    try:
        import resource  # Unix only, as are the workers
    except ImportError:  # pragma: no cover - Windows
        return 0.0
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


@dataclass(frozen=True)
class RunOutput:
    """What :func:`run` returns: the run, its folder, the files written and the timings."""

    run: Run
    out: Path
    outputs: dict[str, str]
    timings: dict[str, float]


class Written:
    """The writers of one run folder, registering each file with a description for the manifest."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.outputs: dict[str, str] = {}

    def register(self, rel: str, description: str) -> Path:
        """Record ``rel`` with its description for the manifest; returns its path (the caller writes it)."""
        self.outputs[rel] = description
        return self.out / rel

    def csv(self, frame: pd.DataFrame, rel: str, description: str) -> Path:
        """Write ``frame`` as CSV at ``rel``."""
        return write_csv(frame, self.register(rel, description))

    def layers(self, layers: dict[str, gpd.GeoDataFrame], rel: str, description: str) -> Path:
        """Write each ``{name: frame}`` as a layer of the GeoPackage ``rel`` (replacing the file)."""
        path = self.register(rel, description)
        if path.exists():
            path.unlink()
        for name, layer in layers.items():
            write_layer(layer, path, name)
        return path

    def text(self, text: str, rel: str, description: str) -> Path:
        """Write UTF-8 text at ``rel``."""
        path = self.register(rel, description)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def binary(self, data: bytes, rel: str, description: str) -> Path:
        """Write bytes at ``rel``."""
        path = self.register(rel, description)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path


FOR_WHOM = {"board": "the Strategic Board", "outreach": "outreach coordinators", "analyst": "analysts"}


def write_outputs(state: Run, stage: str, w: Written) -> None:
    """Write the files of ``stage`` from its result in ``state``."""
    if stage == "detect" and state.detect is not None:
        w.layers(state.detect.layers(), HOTSPOTS_GPKG, "hot spot layers: grid, lsoa, clusters, nte_zones (EPSG:27700)")
    elif stage == "rank" and state.rank is not None:
        places = state.rank.places
        w.csv(places, PLACES_CSV, "ranked LSOAs with intervals, components and reasons")
        w.layers({"places": places}, PLACES_GPKG, "ranked LSOAs (layer places)")
        w.csv(state.rank.districts, DISTRICTS_CSV, "district profiles: counts, rates, top places, concentration")
    elif stage == "sites" and state.sites is not None:
        s = state.sites
        w.csv(s.kits, KITS_CSV, f"{len(s.kits)} bleed-control kit sites in order of value")
        w.csv(
            s.alternatives,
            KIT_ALTERNATIVES_CSV,
            "candidate sites that could replace each kit within 1 % of the optimum",
        )
        w.csv(s.outreach, OUTREACH_CSV, f"{len(s.outreach)} youth outreach zones")
        layers = {"bleed_kits": s.kits, "outreach": s.outreach}
        if s.fixed_sites is not None:
            layers["fixed_sites"] = s.fixed_sites
        w.layers(layers, SITES_GPKG, "layers " + ", ".join(layers))
    elif stage == "forecast" and state.forecast is not None:
        f = state.forecast
        w.csv(f.table, WHERE_NEXT_CSV, f"where violence is likely next: the top cells of {len(f.sources)} source(s)")
        if len(f.sources):
            w.layers({"where_next": f.layer}, WHERE_NEXT_GPKG, "forecast layer where_next: the top cells (EPSG:27700)")
    elif stage == "change" and state.change is not None:
        ch = state.change
        w.csv(ch.table, CHANGE_CSV, "what changed between the [change] periods, per unit (see docs/change.md)")
        if ch.impact is not None and ch.intervention_areas is not None:
            w.csv(ch.impact, IMPACT_CSV, "intervention impact: WDD, harm-weighted WDD, ratio against control")
            w.layers({"interventions": ch.intervention_areas}, INTERVENTIONS_GPKG, "the intervention areas (geometry)")
    elif stage == "maps" and state.maps is not None:
        for audience, page in state.maps.pages.items():
            w.text(
                page,
                f"{MAPS_DIR}/{audience}.html",
                f"interactive map for {FOR_WHOM[audience]} (self-contained, offline)",
            )
    elif stage == "report" and state.report is not None:
        from hotspots.present.report.build import FIGURE_FILES, FIGURE_TITLES, FIGURES_DIR, REPORT_FILE

        dpi = state.config.report.dpi
        for key, png in state.report.figures.items():
            w.binary(png, f"{FIGURES_DIR}/{FIGURE_FILES[key]}", f"Board figure: {FIGURE_TITLES[key]} (PNG, {dpi} dpi)")
        w.text(state.report.html, REPORT_FILE, "Board report (self-contained HTML; opens offline, prints on A4)")
