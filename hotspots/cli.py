"""The ``hotspots`` command line.

Every command reads the config (``--config``, default the bundled example,
``data/nottinghamshire.toml``), and turns any :class:`~hotspots.HotspotsError` into one clear
message on stderr and exit code 2: bad input never gives a traceback. ``init`` writes a
config for any force of England and Wales and ``fetch`` downloads its police.uk data.
"""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click

from hotspots import __version__
from hotspots.errors import HotspotsError
from hotspots.logs import setup_logging

if TYPE_CHECKING:  # pragma: no cover
    from hotspots.config import Config

log = logging.getLogger("hotspots")

EXIT_INPUT = 2

P = ParamSpec("P")
R = TypeVar("R")


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn HotspotsError into a one-line message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except HotspotsError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_INPUT)

    return wrapper


config_option = click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TOML config file (default: the bundled example config, data/nottinghamshire.toml).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="hotspots")
@click.option("-v", "--verbose", count=True, help="More detail: -v for each step and automatic choice, -vv for debug.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Place-based violence analysis for a Violence Reduction Unit.

    Finds where serious violence concentrates, ranks places for intervention with
    deprivation and night-time-economy venues, sites bleed-control kits and youth
    outreach, and writes interactive offline maps and a Board report.

    \b
    A new force in three commands:
      hotspots init --force west-yorkshire --out wy/wy.toml
      hotspots fetch --config wy/wy.toml --from 2024-01 --to 2024-12
      hotspots run --config wy/wy.toml --out wy/run

    \b
    Typical use:
      hotspots check                 # validate the inputs, show row accounting
      hotspots run --out outputs/x   # run everything, write the run folder
      hotspots evaluate              # backtest the hotspot methods
      hotspots change --before 2020-01..2020-06 --after 2020-07..2020-12 --out outputs/c
      hotspots serve outputs/x       # open the run's maps in the browser
      hotspots national --archive 2024-12.zip --out outputs/ew   # all of England and Wales
    """  # noqa: D301 - "\b" (backspace) is click's mark for a paragraph it must not re-wrap
    setup_logging(verbose, quiet)
    ctx.obj = {"quiet": quiet, "verbose": verbose}


def _load_config(path: Path | None) -> Config:
    from hotspots.config import load_config

    return load_config(path)


@main.command()
@config_option
@handle_errors
def check(config_path: Path | None) -> None:
    """Validate everything `run` will need, and print the row accounting and data caveats.

    Reads the config and every file it names, cleans the crime and venue rows, checks that
    every weighted ranking and outreach component has its input and that a [change] section's
    periods and the [[intervention]] register fit the data, and prints, per file, rows read,
    used and dropped with the reason (with totals for crime and for venues). Exit 0 when the
    inputs are usable, 2 when not (one line saying what to fix).
    """
    from hotspots.evaluate.change_stage import format_change_check
    from hotspots.preflight import check_change_section, check_needs
    from hotspots.prepare.accounting import format_accounting
    from hotspots.prepare.study import load_study

    cfg = _load_config(config_path)
    t = time.perf_counter()
    study = load_study(cfg)
    check_needs(cfg, study)
    changed = check_change_section(cfg, study)
    click.echo(f"config: {cfg.path}")
    click.echo(f"study: {cfg.study.name}; period {study.period}; {len(study.lsoa)} LSOAs")
    click.echo("")
    click.echo(format_accounting(study.accounting.table()))
    click.echo("")
    if study.coverage is not None and len(study.coverage):
        click.echo("incidents used per source:")
        click.echo(study.coverage.to_string(index=False))
        click.echo("")
    if study.police_uk_codes is not None:
        from hotspots.prepare.forces import compare_with_police_uk

        click.echo("area check (the LSOA codes of the police.uk rows):")
        click.echo("  " + compare_with_police_uk(study.lsoa["lsoa_code"], study.police_uk_codes).summary())
        click.echo("")
    if changed is not None:
        click.echo(format_change_check(changed))
        click.echo("")
    click.echo("caveats:")
    for c in study.caveats:
        click.echo(f"  - {c}")
    click.echo("")
    click.echo(f"inputs usable ({time.perf_counter() - t:.1f} s): {len(study.incidents):,} incidents in scope.")


@main.command("init")
@click.option("--force", "force", metavar="NAME", help="Police force: police.uk id (e.g. west-yorkshire) or name.")
@click.option("--out", "out", type=click.Path(path_type=Path), metavar="FILE.toml", help="Config file to write.")
@click.option("--overwrite", is_flag=True, help="Replace --out if it exists.")
@click.option("--list", "list_forces", is_flag=True, help="List the 43 forces of England and Wales and exit.")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the bundled data (default: the data/ folder of this installation).",
)
@handle_errors
def init(*, force: str | None, out: Path | None, overwrite: bool, list_forces: bool, data_dir: Path | None) -> None:
    """Write a complete, commented config for a police force of England or Wales.

    Then fetch its police.uk data and run: the three commands for a new force are
    init, fetch and run (the config's header shows them).
    """
    from hotspots.newforce import DATA_DIR, BundledData, ForceArea, format_force_list, write_config

    if list_forces:
        click.echo(format_force_list())
        return
    if not force or out is None:
        raise click.UsageError("give --force NAME and --out FILE.toml (or --list).")
    area = ForceArea.of(force)
    path = write_config(area, out, data=BundledData.in_folder(data_dir or DATA_DIR), overwrite=overwrite)
    f = area.force
    click.echo(f"wrote {path} for {f.force_name} ({f.force}).")
    if not f.english:
        click.echo("note: a Welsh force: no English deprivation in this config (see its header).")
    click.echo(f"next: hotspots fetch --config {path} --from YYYY-MM --to YYYY-MM")
    click.echo(f"then: hotspots run --config {path}")


def _fetch_target(config_path: Path | None, force: str | None, out: Path | None) -> tuple[str, Path]:
    """The force and output folder of ``hotspots fetch``: as given, or from the config's force and police.uk source."""
    if config_path is None:
        if not force:
            raise click.UsageError("give --config FILE.toml (written by `hotspots init`) or --force NAME.")
        return force, out or Path("police_uk")
    cfg = _load_config(config_path)
    name = force or cfg.study.force
    if not name:
        raise click.UsageError(f'{config_path} has no [study] force; add force = "<police.uk id>" or pass --force.')
    if out is None:
        src = next((c for c in cfg.crime if c.format == "police_uk"), None)
        if src is None:
            raise click.UsageError(f"{config_path} has no police_uk [[crime]] source; pass --out FOLDER.")
        plain = []  # the folders before the first glob pattern: police_uk/*/*-x-street.csv* -> police_uk
        for part in Path(src.path).parts:
            if any(c in part for c in "*?["):
                break
            plain.append(part)
        out = cfg.base.joinpath(*plain)
    return name, out


@main.command("fetch")
@config_option
@click.option("--force", "force", metavar="NAME", help="Police force (police.uk id or name); default [study] force.")
@click.option("--from", "start", required=True, metavar="YYYY-MM", help="First month.")
@click.option("--to", "end", required=True, metavar="YYYY-MM", help="Last month.")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for YYYY-MM/YYYY-MM-<force>-street.csv (default: the config's police.uk folder, else police_uk).",
)
@click.option("--archive", default=None, metavar="YYYY-MM", help="Read only this archive (skip the index page).")
@click.option(
    "--archive-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Read a downloaded YYYY-MM.zip instead of the web.",
)
@click.option("--allow-missing", is_flag=True, help="Fetch the months that exist when some are in no archive.")
@click.option("--index-url", default=None, help="The archive index page (default: data.police.uk's).")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.pass_context
@handle_errors
def fetch(ctx: click.Context, config_path: Path | None, **o: Any) -> None:
    """Download police.uk street-level crime for a force and a month range.

    Reads only the force's files from the data.police.uk archive zips (HTTP Range
    requests, one a second), resumes interrupted downloads, checks each file's checksum
    and rows, and writes the archive layout that [[crime]] format = "police_uk" reads.
    """
    from hotspots.io import fetch as fetching

    force, out = _fetch_target(config_path, o["force"], o["out"])
    res = fetching.fetch_police_uk(
        force,
        o["start"],
        o["end"],
        out,
        index_url=o["index_url"] or fetching.ARCHIVE_INDEX_URL,
        archive=o["archive"],
        archive_file=o["archive_file"],
        allow_missing=o["allow_missing"],
        progress=not o["no_progress"] and not ctx.obj.get("quiet", False),
    )
    done = {s: sum(1 for f in res.files if f["status"] == s) for s in ("downloaded", "replaced", "unchanged")}
    rows = sum(f["rows"] for f in res.files)
    click.echo(
        f"{res.force}: {len(res.files)} month file(s) in {res.out} ({done['downloaded']} downloaded, "
        f"{done['replaced']} replaced, {done['unchanged']} already there), {rows:,} rows; "
        f"{res.requests} request(s), {res.bytes_received / 1e6:.1f} MB."
    )
    if res.missing:
        click.echo(f"warning: no file for {len(res.missing)} month(s): {', '.join(res.missing)}.", err=True)


@main.command()
@config_option
@click.option(
    "--out",
    "-o",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Run folder to write (default: outputs/run-YYYYmmdd-HHMMSS).",
)
@click.option(
    "--stage",
    "stages",
    multiple=True,
    help="Run only these stages after loading (repeatable): detect, rank, sites, forecast, change, maps, report.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Processes working at once: stages that do not need each other run side by side "
    "(default: one more than the CPUs available, at most 3, on Linux; 1 on one CPU and elsewhere; "
    "or the environment variable HOTSPOTS_JOBS). The files are the same with any number.",
)
@click.pass_context
@handle_errors
def run(
    ctx: click.Context, config_path: Path | None, out: Path | None, stages: tuple[str, ...], jobs: int | None
) -> None:
    """Run every stage and write the run folder.

    Writes OUT/manifest.json (version, resolved config, inputs with sha256 and row
    accounting, automatic choices, timings), OUT/dropped_rows.csv, the hotspot layers,
    ranked places, kit and outreach sites, maps and the Board report.
    """
    from hotspots import pipeline

    cfg = _load_config(config_path)
    out = out or pipeline.default_out_dir()
    known = list(pipeline.STAGE_NAMES)
    for s in stages:
        if s not in known:
            raise click.BadParameter(f"unknown stage {s!r}; choose from {', '.join(known)}", param_hint="--stage")
    quiet = ctx.obj.get("quiet", False)

    def progress(name: str) -> None:
        if not quiet:
            click.echo(f"[{name}]", err=True)

    rc = pipeline.run(cfg, out, stages=list(stages) or None, progress=progress, jobs=jobs)
    if not quiet:
        click.echo(f"run folder: {out}")
        for rel, desc in rc.outputs.items():
            click.echo(f"  {rel}: {desc}")
        click.echo(f"done in {rc.timings['total']:.1f} s")


@main.command()
@config_option
@click.option(
    "--out",
    "-o",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write evaluation.json to (default: outputs/run-YYYYmmdd-HHMMSS).",
)
@click.option(
    "--source",
    "source",
    default=None,
    help="Crime source ([[crime]] name) to backtest (default: [evaluate] source, else the source "
    "with the most months).",
)
@click.option(
    "--train",
    "train",
    default=None,
    help="Training months instead of rolling folds: comma-separated months and ranges A..B "
    "(e.g. 2016-07,2017-07 or 2020-01..2020-09). Needs --test.",
)
@click.option(
    "--test",
    "test",
    default=None,
    help="Test months for --train (e.g. 2018-07 or 2020-10..2020-12).",
)
@click.pass_context
@handle_errors
def evaluate(
    ctx: click.Context,
    config_path: Path | None,
    out: Path | None,
    source: str | None,
    train: str | None,
    test: str | None,
) -> None:
    """Backtest the hotspot methods on monthly data and print how well each predicts.

    Rolling origin: train on every month with data before k, test on the next month (and
    the next quarter); folds needing a month without data are skipped with a warning (a
    missing month is never counted as zero). --train/--test give one fold of explicit
    months instead. For each method (last period's counts, KDE, Gi*, composite, random
    baseline) prints hit rate, PAI, PEI and RRI at 1 %, 5 % and 10 % of the area, mean
    over the folds, with the definitions used; writes OUT/evaluation.json.
    """
    import hotspots.evaluate.rolling as ev
    from hotspots import pipeline
    from hotspots.evaluate.forecast.evaluation import evaluate_forecasts, format_forecasts, merge_evaluation
    from hotspots.io.write import write_json
    from hotspots.prepare.study import load_study

    cfg = _load_config(config_path)
    ecfg = cfg.evaluate
    detect_cell = cfg.detect.cell_size
    rank_cfg = cfg.rank if "place_score" in ecfg.methods else None
    t = time.perf_counter()
    study = load_study(cfg)
    if (train is None) != (test is None):
        raise click.UsageError("give both --train and --test, or neither.")
    res = ev.evaluate_study(
        study, ecfg, source=source, cell_size=detect_cell, rank_config=rank_cfg, train=train, test=test
    )
    fe = evaluate_forecasts(study, res, ecfg=ecfg, fcfg=cfg.forecast, sites=cfg.sites)  # issue 14: forecasts, kits
    res = merge_evaluation(res, fe)
    rep = res["report"]
    out = out or pipeline.default_out_dir()
    path = write_json({"tool": "hotspots", "version": __version__, **rep}, out / "evaluation.json")
    for name, png in (fe.figures if fe else {}).items():
        (out / name).write_bytes(png)
    quiet = ctx.obj.get("quiet", False)
    if not quiet:
        inc = rep["incidents"]
        click.echo(
            f"source: {rep['source']}; {inc['used']:,} incidents, {inc['months'][0]} to {inc['months'][-1]} "
            f"({len(inc['months'])} months with data; gaps: {inc['month_gaps']}); "
            f"{inc['outside_area']:,} outside the area not used"
        )
        if rep["folds_explicit"]:
            fold = rep["folds"][0]
            click.echo(f"one fold: train {fold['train_months']}, test {fold['test_months']}")
        if rep["folds_skipped"]:
            click.echo(f"{len(rep['folds_skipped'])} fold(s) skipped for months without data (see evaluation.json)")
        click.echo(
            f"area: {', '.join(rep['area']['districts'])} ({rep['area']['area_km2']:.1f} km2), "
            f"{rep['grid']['cells']:,} cells of {rep['grid']['cell_size_m']:g} m; weights: {rep['weights']}"
        )
        click.echo("")
        click.echo(ev.format_table(res["summary"]))
        click.echo("methods:")
        for k, v in rep["methods"].items():
            click.echo(f"  {k}: {v}")
        click.echo("definitions:")
        for k, v in rep["definitions"].items():
            click.echo(f"  {k}: {v}")
        click.echo("")
        click.echo(ev.format_verdict(rep["versus_baseline"]))
        if "rank_intervals" in res:
            click.echo(res["rank_intervals"]["text"])
        if fe is not None:
            click.echo(format_forecasts(fe))
        click.echo(f"wrote {path} ({time.perf_counter() - t:.1f} s)")


@main.command()
@config_option
@click.option(
    "--source",
    "sources",
    multiple=True,
    help="Crime source ([[crime]] name) to include, repeatable; pooled. Default: [change] sources, else every "
    "source with data in both periods.",
)
@click.option("--before", default=None, metavar="MONTHS", help="Months before, e.g. 2020-01..2020-06,2020-09.")
@click.option("--after", default=None, metavar="MONTHS", help="Months after (the same syntax).")
@click.option(
    "--units",
    type=click.Choice(["lsoa", "grid", "district"]),
    default=None,
    help="Units to compare (default [change] units, else lsoa). Incidents are placed by location.",
)
@click.option(
    "--cell-size",
    "cell_size",
    type=float,
    default=None,
    help="Grid cell size in metres for --units grid (default: the run's cell-size rule).",
)
@click.option(
    "--measure", type=click.Choice(["count", "harm"]), default=None, help="count (default) or harm (harm sums)."
)
@click.option(
    "--out",
    "-o",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write (replaced atomically; an existing folder must be empty or an earlier change output).",
)
@click.pass_context
@handle_errors
def change(
    ctx: click.Context,
    *,
    config_path: Path | None,
    sources: tuple[str, ...],
    before: str | None,
    after: str | None,
    units: str | None,
    cell_size: float | None,
    measure: str | None,
    out: Path,
) -> None:
    """Did it change? Compare two periods unit by unit, with significance and power.

    Each unit's incidents per month (months with data) after against before: an exact test
    allowing for month-to-month variation, Benjamini-Hochberg across units, the rate ratio and
    its interval, and the smallest fall that could have been seen. Also the whole area's
    change (overdispersion-aware interval, seasonal matching, comparison area when set in
    [change]), the similarity of the two periods' patterns (SPPT, Gi* agreement), and each
    [[intervention]]'s impact (WDD, harm-weighted WDD, ratio against control). Writes
    OUT/change.csv, change_detail.csv, impact.csv (with interventions), maps/change.html,
    change.html and manifest.json.
    """
    from hotspots.change_run import run_change

    cfg = _load_config(config_path)
    quiet = ctx.obj.get("quiet", False)

    def progress(name: str) -> None:
        if not quiet:
            click.echo(f"[{name}]", err=True)

    res = run_change(
        cfg,
        out,
        before=before,
        after=after,
        sources=sources,
        units=units,
        cell_size=cell_size,
        measure=measure,
        progress=progress,
    )
    if not quiet:
        s = res.result.summary
        area = s["area"]
        click.echo(
            f"{s['units']} units: {s['unit_count']:,} ({s['tested']:,} with data); before {s['before']} "
            f"({s['before_months']} months with data), after {s['after']} ({s['after_months']}); "
            f"sources {', '.join(s['sources'])}"
        )
        click.echo(
            f"whole area ({area['label']}): {area['before']:,.0f} -> {area['after']:,.0f}, rate ratio "
            f"{area['rate_ratio']:.3f} ({area['lower']:.3f} to {area['upper']:.3f}), p = {area['p_value']:.3g}"
        )
        if s["comparison"]:
            click.echo(s["comparison"]["sentence"])
        click.echo("classes: " + ", ".join(f"{k} {v:,}" for k, v in s["classes"].items()))
        click.echo(f"dispersion: {s['dispersion']['used']}")
        click.echo(f"folder: {out}")
        for rel, desc in res.outputs.items():
            click.echo(f"  {rel}: {desc}")
        click.echo(f"done in {res.timings['total']:.1f} s")


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="Port (0: a free one).")
@click.option("--no-browser", is_flag=True, help="Do not open the browser; just print the address.")
@click.option(
    "--map",
    "audience",
    type=click.Choice(["board", "outreach", "analyst", "change"]),
    default=None,
    help="Open this map instead of the folder's index page (change: the map of a `hotspots change` folder).",
)
@handle_errors
def serve(run_dir: Path, port: int, no_browser: bool, audience: str | None) -> None:
    """Show a run's maps in the browser over http://localhost (needed for online base maps).

    Starts a small local web server (this computer only) on RUN_DIR, the folder
    `hotspots run` (or `hotspots change`) wrote, and opens its index page. The maps work offline when opened as
    files; tile servers such as OpenStreetMap's refuse requests from pages opened as files,
    so with [maps] basemap set, open the maps this way. Stop with Ctrl+C.
    """
    from hotspots.present.maps.serve import serve as run_server

    page = f"maps/{audience}.html" if audience else ""
    run_server(run_dir, port=port, open_browser=not no_browser, page=page, echo=click.echo)


from hotspots.national.cli import national  # noqa: E402 - the command registers on the group above

main.add_command(national)


if __name__ == "__main__":  # pragma: no cover
    main()
