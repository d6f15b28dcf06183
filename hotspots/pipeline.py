"""Run every stage in order and write the run folder.

``load → clean`` happen in :func:`hotspots.prepare.study.load_study`; then each stage in
:data:`STAGES` runs on a shared :class:`RunContext`, adds its results, records the
parameters it chose automatically, and writes its outputs. ``manifest.json`` is
written last, and also when a stage fails, so a failed run still says what it did.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import logging
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotspots import __version__
from hotspots.config import Config
from hotspots.io.write import write_csv, write_json
from hotspots.prepare.study import Study, load_study

log = logging.getLogger(__name__)

STAGES: list[tuple[str, str]] = [
    ("detect", "hotspots.detect.stage:run_stage"),
    ("rank", "hotspots.rank.stage:run_stage"),
    ("sites", "hotspots.sites.kits:run_stage"),
    ("maps", "hotspots.present.maps.build:run_stage"),
    ("report", "hotspots.present.report.build:run_stage"),
]
"""Pipeline stages after loading, in order, as ``(name, "module:function")``."""


@dataclass
class RunContext:
    """What the stages share during one run.

    Attributes
    ----------
    config, study
        The resolved configuration and the loaded study.
    out
        The run folder.
    results
        Stage outputs by name (``"grid"``, ``"lsoa"``, ``"clusters"``, ``"places"``, ...).
    auto
        Automatically chosen parameters by stage, for the manifest.
    outputs
        Files written, relative to ``out``, with a short description.
    extra
        Other manifest entries by stage (e.g. the coverage curve).
    timings
        Seconds per stage.
    """

    config: Config
    study: Study
    out: Path
    results: dict[str, Any] = field(default_factory=dict)
    auto: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def record(self, stage: str, **params: Any) -> None:
        """Record automatically chosen parameters of ``stage`` (logged at INFO)."""
        self.auto.setdefault(stage, {}).update(params)
        for k, v in params.items():
            log.info("%s: %s set to %s automatically", stage, k, v)

    def output(self, path: Path, description: str) -> Path:
        """Register a written file (relative to the run folder) for the manifest."""
        self.outputs[str(path.relative_to(self.out))] = description
        return path


def default_out_dir() -> Path:
    """``outputs/run-YYYYmmdd-HHMMSS`` under the current folder."""
    return Path("outputs") / _dt.datetime.now().strftime("run-%Y%m%d-%H%M%S")


def _stage_fn(spec: str) -> Callable[[RunContext], None]:
    module, _, fn = spec.partition(":")
    return getattr(importlib.import_module(module), fn)


def run(
    config: Config,
    out: Path,
    *,
    stages: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> RunContext:
    """Run the pipeline on ``config`` and write the run folder ``out``.

    Parameters
    ----------
    config
        The resolved configuration.
    out
        Run folder (created).
    stages
        Names of stages to run (default all of :data:`STAGES`).
    progress
        Called with each stage's name as it starts (the CLI prints it).

    Returns
    -------
    RunContext
        With every stage's results; ``out/manifest.json`` has been written.
    """
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if progress:
        progress("load")
    study = load_study(config)
    ctx = RunContext(config=config, study=study, out=out)
    ctx.timings["load"] = time.perf_counter() - t0
    ctx.auto["load"] = dict(study.auto)
    write_csv(study.accounting.dropped_rows, out / "dropped_rows.csv")
    ctx.output(out / "dropped_rows.csv", "every dropped input row with its reason")
    status = "ok"
    try:
        for name, spec in STAGES:
            if stages is not None and name not in stages:
                continue
            if progress:
                progress(name)
            t = time.perf_counter()
            _stage_fn(spec)(ctx)
            ctx.timings[name] = time.perf_counter() - t
    except BaseException:
        status = "failed"
        raise
    finally:
        ctx.timings["total"] = time.perf_counter() - t0
        write_manifest(ctx, status=status)
    return ctx


def manifest(ctx: RunContext, *, status: str = "ok") -> dict[str, Any]:
    """The run manifest as a dict."""
    s = ctx.study
    return {
        "tool": "hotspots",
        "version": __version__,
        "status": status,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "config": ctx.config.to_dict(),
        "inputs": s.inputs,
        "row_accounting": s.accounting.to_dict(),
        "incidents": {
            "used": len(s.incidents),
            "period": s.period,
            "coverage": s.coverage,
        },
        "caveats": s.caveats,
        "auto": ctx.auto,
        "outputs": ctx.outputs,
        "timings_s": {**{f"load.{k}": round(v, 3) for k, v in s.timings.items()},
                      **{k: round(v, 3) for k, v in ctx.timings.items()}},
        **ctx.extra,
    }


def write_manifest(ctx: RunContext, *, status: str = "ok") -> Path:
    """Write ``manifest.json`` in the run folder."""
    path = ctx.out / "manifest.json"
    ctx.outputs.setdefault("manifest.json", "this file")
    return write_json(manifest(ctx, status=status), path)
