"""Run ``hotspots change`` and write its folder.

:func:`run_change` loads the study, applies the command-line options over ``[change]``, runs the
:func:`~hotspots.evaluate.change_stage.change` stage, builds the map and the Board page, and only
then writes the folder, atomically (:func:`hotspots.io.atomic.atomic_folder`): into a temporary
folder beside ``OUT`` that replaces ``OUT`` when everything is written. A failed or refused run
leaves nothing behind and an earlier ``OUT`` untouched.

``OUT/``
    ``change.csv`` (:data:`hotspots.evaluate.change.CHANGE_COLUMNS`), ``change_detail.csv``
    (:data:`hotspots.evaluate.change_extras.DETAIL_COLUMNS`), ``impact.csv`` and
    ``interventions.gpkg`` (with ``[[intervention]]`` entries), ``maps/change.html``,
    ``change.html`` and ``manifest.json``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import logging
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotspots import __version__
from hotspots.config import Config
from hotspots.errors import ConfigError, InputError
from hotspots.evaluate.change_config import ChangeConfig
from hotspots.evaluate.change_stage import ChangeResult, change
from hotspots.evaluate.change_units import check_cli_months
from hotspots.io.atomic import atomic_folder, check_out
from hotspots.io.write import write_csv, write_json, write_layer
from hotspots.months import format_months, overlap, parse_months
from hotspots.prepare.study import load_study
from hotspots.present.change_map import change_map
from hotspots.present.change_page import change_page

log = logging.getLogger(__name__)

COMMAND = "change"
FILES = {
    "change.csv": "per-unit change: counts, rate ratio and interval, exact p, BH q, class, minimum detectable fall",
    "change_detail.csv": "per-unit design effect, SPPT shares and interval, Gi* class in each period",
    "impact.csv": "intervention impact: WDD, harm-weighted WDD, ratio against control, minimum detectable fall",
    "interventions.gpkg": "the intervention register's areas as geometry (treated, control, displacement rings)",
    "maps/change.html": "map of the change classes (self-contained; offline unless [maps] basemap is set)",
    "change.html": "Board page: what changed, how sure, what could have been seen (self-contained, no script)",
    "manifest.json": "this file",
}


def _owned(manifest: dict[str, Any]) -> bool:
    """Whether an existing folder's manifest says ``hotspots change`` wrote it (so it may be replaced)."""
    return manifest.get("command") == COMMAND


@dataclass(frozen=True)
class ChangeOutput:
    """What :func:`run_change` returns: the result, the folder, the files written and the timings."""

    result: ChangeResult
    out: Path
    outputs: dict[str, str]
    timings: dict[str, float]


def change_settings(
    base: ChangeConfig | None,
    *,
    before: str | None = None,
    after: str | None = None,
    sources: Sequence[str] = (),
    units: str | None = None,
    cell_size: float | None = None,
    measure: str | None = None,
) -> ChangeConfig:
    """``[change]`` with the command-line options applied over it.

    Raises
    ------
    InputError
        A month list is malformed (naming ``--before``/``--after``), no periods are given, or
        ``--cell-size`` is used without ``--units grid``.
    """
    check_cli_months(before, after)
    cfg = base or ChangeConfig()
    given: dict[str, Any] = {"before": before, "after": after, "units": units, "cell_size": cell_size}
    given["measure"] = measure
    overrides = {k: v for k, v in given.items() if v is not None}
    if sources:
        overrides["sources"] = list(sources)
    if cell_size is not None and (units or cfg.units) != "grid":
        raise InputError("--cell-size applies to grid cells only; add --units grid or leave --cell-size out.")
    try:
        cfg = dataclasses.replace(cfg, **overrides)
    except ConfigError as exc:
        raise InputError(str(exc).replace("[change] key 'cell_size'", "--cell-size")) from exc
    if cfg.before is None or cfg.after is None:
        missing = " and ".join(n for n, v in (("--before", cfg.before), ("--after", cfg.after)) if v is None)
        raise InputError(f"give {missing} (month lists such as 2020-01..2020-06), or set them in [change].")
    names = ("--before" if before else "[change] before", "--after" if after else "[change] after")
    both = overlap(parse_months(cfg.before, what=names[0]), parse_months(cfg.after, what=names[1]))
    if both:  # the same check as check_periods, before the data are loaded
        raise InputError(
            f"{names[0]} and {names[1]} overlap in {len(both)} month(s) ({format_months(both)}); "
            f"a month can only be in one period."
        )
    return cfg


def _manifest(config: Config, result: ChangeResult, study: Any, outputs: dict[str, str], timings: dict[str, float]):
    return {
        "tool": "hotspots",
        "command": COMMAND,
        "version": __version__,
        "status": "ok",
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "config": config.to_dict(),
        "change": dataclasses.asdict(result.config),
        "inputs": study.inputs,
        "row_accounting": study.accounting.to_dict(),
        "periods": dataclasses.asdict(result.periods),
        "sources": result.sources,
        "auto": result.auto,
        "summary": result.summary,
        "notes": result.notes,
        "outputs": outputs,
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }


def run_change(
    config: Config,
    out: Path,
    *,
    before: str | None = None,
    after: str | None = None,
    sources: Sequence[str] = (),
    units: str | None = None,
    cell_size: float | None = None,
    measure: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> ChangeOutput:
    """Compare two periods (and the intervention register) and write the ``hotspots change`` folder ``out``.

    Parameters
    ----------
    config
        The resolved configuration (``[change]`` and ``[[intervention]]`` when present).
    out
        The folder to write (replaced atomically; see :func:`hotspots.io.atomic.atomic_folder`).
    before, after, sources, units, cell_size, measure
        Command-line options; each overrides its ``[change]`` key when given.
    progress
        Called with each step's name as it starts.

    Returns
    -------
    ChangeOutput

    Raises
    ------
    InputError, ConfigError
        Bad options, periods (overlapping, empty, outside the data), sources or areas.
    """
    t0 = time.perf_counter()
    cfg = change_settings(
        config.change, before=before, after=after, sources=sources, units=units, cell_size=cell_size, measure=measure
    )
    check_out(out, owned=_owned)
    step = progress or (lambda name: None)
    step("load")
    study = load_study(config)
    timings = {"load": time.perf_counter() - t0}
    step("change")
    t = time.perf_counter()
    names = ("--before" if before else "[change] before", "--after" if after else "[change] after")
    result = change(study, cfg, interventions=config.intervention, cell_size=config.detect.cell_size, names=names)
    timings["change"] = time.perf_counter() - t
    step("pages")
    t = time.perf_counter()
    map_page = change_map(result, study, cfg=config.maps)
    board = change_page(result, study_name=study.name, small_count=config.report.small_count)
    timings["pages"] = time.perf_counter() - t
    outputs: dict[str, str] = {}
    with atomic_folder(out, owned=_owned) as tmp:
        write_csv(result.table, tmp / "change.csv")
        write_csv(result.detail, tmp / "change_detail.csv")
        written = ["change.csv", "change_detail.csv"]
        if result.impact is not None and result.intervention_areas is not None:
            write_csv(result.impact, tmp / "impact.csv")
            write_layer(result.intervention_areas, tmp / "interventions.gpkg", "interventions")
            written += ["impact.csv", "interventions.gpkg"]
        (tmp / "maps").mkdir()
        (tmp / "maps" / "change.html").write_text(map_page, encoding="utf-8")
        (tmp / "change.html").write_text(board, encoding="utf-8")
        written += ["maps/change.html", "change.html", "manifest.json"]
        outputs = {k: FILES[k] for k in written}
        timings["total"] = time.perf_counter() - t0
        write_json(_manifest(config, result, study, outputs, timings), tmp / "manifest.json")
    log.info("change: wrote %s", out)
    return ChangeOutput(result=result, out=out, outputs=outputs, timings=timings)
