"""The ``hotspots national`` command (registered on the ``hotspots`` group by :mod:`hotspots.cli`)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from hotspots.errors import HotspotsError

if TYPE_CHECKING:
    from hotspots.national.run import Sections

EXIT_INPUT = 2


@click.command("national")
@click.option(
    "--archive",
    "archive",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="police.uk archive zip (data.police.uk/data/archive/YYYY-MM.zip): every force, many months.",
)
@click.option(
    "--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Run folder to write."
)
@click.option("--from", "start", default=None, metavar="YYYY-MM", help="First month (default: the archive's last 12).")
@click.option("--to", "end", default=None, metavar="YYYY-MM", help="Last month (default: the archive's last).")
@click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TOML config whose [scope], [detect], [rank] and [institutions] to use (its data sections are ignored).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Dask scheduler address (tcp://host:8786) to run on a cluster; 'none' for no Dask. Default: a local cluster.",
)
@click.option("--workers", type=int, default=2, show_default=True, help="Worker processes of the local Dask cluster.")
@click.option("--memory-limit", default="auto", show_default=True, help="Memory limit per local worker, e.g. 8GB.")
@click.option("--cell-size", type=float, default=None, help="Grid cell side in metres (default: chosen nationally).")
@click.option("--bandwidth", type=float, default=None, help="KDE bandwidth in metres (default: chosen nationally).")
@click.option("--force", "forces", multiple=True, metavar="ID", help="Read only this force's files (repeatable).")
@click.option("--no-maps", is_flag=True, help="Do not write the national map.")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the bundled data (default: the data/ folder of this installation).",
)
def national(**o: Any) -> None:
    """Run over every LSOA of England and Wales from a police.uk archive zip.

    Reads each force's street-level files straight from the zip, cleans them (every row
    accounted for), detects hot spots in per-force partitions with a margin on Dask (results
    equal one national run; FDR once over the country), ranks the places nationally and
    compares the forces. Writes places.csv, forces.csv, lsoa.gpkg, grid.parquet, the
    national map and manifest.json, atomically. See docs/national.md.

    \b
    Examples:
      hotspots national --archive 2024-12.zip --out outputs/ew --workers 2
      hotspots national --archive /shared/2024-12.zip --out outputs/ew --scheduler tcp://10.0.0.5:8786
    On a cluster every worker must import hotspots and read the archive at the same path.
    """  # noqa: D301 - "\b" (backspace) is click's mark for a paragraph it must not re-wrap
    try:
        _national(**o)
    except HotspotsError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INPUT)


def read_sections(path: Path) -> Sections:
    """The ``[scope]``, ``[detect]``, ``[rank]`` and ``[institutions]`` of a TOML config (other sections ignored).

    A county config works as it is (its data sections are not needed: the national run reads the
    archive and the bundled national data), and so does a file holding only these sections.

    Raises
    ------
    ConfigError
        The file is missing or not TOML, a section is unknown, or a key of the four is invalid.
    """
    import tomllib

    from hotspots.config import SECTIONS, build_section, check_keys
    from hotspots.errors import ConfigError
    from hotspots.national.run import Sections

    if not path.is_file():
        raise ConfigError(f"config file not found: {path}. Pass --config FILE with a TOML config.")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid UTF-8 TOML: {exc}") from exc
    check_keys(raw, SECTIONS, f"{path} (top-level section)")
    base = path.resolve().parent
    parts = {
        name: build_section(type(getattr(Sections(), name)), raw.get(name, {}), where=f"{path} [{name}]", base=base)
        for name in ("scope", "detect", "rank", "institutions")
    }
    return Sections(**parts)


def _national(**o: Any) -> None:
    from hotspots.national.run import NationalConfig, Sections, national_run
    from hotspots.newforce import DATA_DIR

    cfg = NationalConfig(
        archive=o["archive"],
        start=o["start"],
        end=o["end"],
        forces=tuple(o["forces"]),
        cell_size=o["cell_size"],
        bandwidth=o["bandwidth"],
        scheduler=o["scheduler"],
        workers=o["workers"],
        memory_limit=o["memory_limit"],
        data=o["data_dir"] or DATA_DIR,
        maps=not o["no_maps"],
    )
    sections = Sections() if o["config_path"] is None else read_sections(o["config_path"])
    t0 = time.perf_counter()
    quiet = bool((click.get_current_context().find_root().obj or {}).get("quiet"))

    def progress(step: str) -> None:
        if not quiet:
            click.echo(f"[{time.perf_counter() - t0:6.1f} s] {step}", err=True)

    res = national_run(cfg, o["out"], sections, progress=progress)
    n_places = len(res.places)
    act = int((res.places["tier"] == 1).sum())
    click.echo(
        f"national run: {len(res.incidents):,} incidents ({res.window[0]} to {res.window[1]}), {n_places:,} places "
        f"({act:,} act now), {len(res.forces)} forces, {len(res.detect.grid):,} grid cells; "
        f"{res.timings.get('total', 0):.0f} s on {res.executor}."
    )
    click.echo(f"written to {o['out']}")


__all__ = ["national", "read_sections"]
