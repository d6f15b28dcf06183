"""``hotspots init --force NAME --out FILE.toml``: a complete, commented config for any force.

The config uses the England-wide files bundled in ``data/`` (LSOA boundaries of England and
Wales, IoD2019 Files 2 and 6 with the sub-domains and indicators for all England, the UK
Open Pubs list) and the force's police.uk street-level files as written by ``hotspots fetch``
(``police_uk/YYYY-MM/YYYY-MM-<force>-street.csv`` beside the config). The force's area is
its districts (:mod:`hotspots.prepare.forces`), written out as an explicit, editable list.

Welsh forces get no ``[deprivation]`` section (the English indices stop at the border; the
Welsh index is not supported yet) and ranking/outreach weights without the components that
need it; the config says so in plain words.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyogrio

from hotspots.errors import InputError
from hotspots.prepare.forces import Force, force_districts, get_force, list_forces
from hotspots.rank.config import DEFAULT_WEIGHTS
from hotspots.sites.config import DEFAULT_SCORE_WEIGHTS

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
"""The repository's bundled data folder (``data/`` beside the package)."""

DATA_FILES: dict[str, str] = {
    "lsoa_boundaries": "boundaries/lsoa2011_bsc_ew.fgb.zip",
    "iod_domains": "iod2019/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz",
    "iod_population": "iod2019/File_6_-_IoD2019_Population_Denominators.csv.gz",
    "iod_subdomains": "iod2019/humaniverse_imd2019_england_lsoa11_subdomains.csv.gz",
    "iod_indicators": "iod2019/humaniverse_imd2019_england_lsoa11_indicators.csv.gz",
    "venues": "nte/open_pubs_2017-08_uk.csv.gz",
}
"""Bundled England-wide files, relative to :data:`DATA_DIR`."""

CRIME_DIR = "police_uk"
"""Folder (beside the config) that ``hotspots fetch`` writes the force's files into."""

NEEDS_ENGLISH_INDEX = ("harm_rate", "deprivation", "idaci", "cyp")
"""Components that need the English Indices of Deprivation (population, ranks, youth need)."""

WALES_RANK_WEIGHTS: dict[str, float] = {k: v for k, v in DEFAULT_WEIGHTS.items() if k not in NEEDS_ENGLISH_INDEX}
"""The composite ranking's default ``[rank] weights`` without the components that need the English
index (for a Welsh config that sets ``method = "composite"``; the default axes ranking needs none)."""

WALES_OUTREACH_WEIGHTS: dict[str, float] = {
    k: v for k, v in DEFAULT_SCORE_WEIGHTS.items() if k not in NEEDS_ENGLISH_INDEX
}
"""The default ``[outreach] weights`` without ``idaci`` and ``cyp``."""


@dataclass(frozen=True)
class BundledData:
    """Paths of the England-wide data files a generated config points to."""

    lsoa_boundaries: Path
    iod_domains: Path
    iod_population: Path
    iod_subdomains: Path
    iod_indicators: Path
    venues: Path

    @classmethod
    def in_folder(cls, folder: Path = DATA_DIR) -> BundledData:
        """The standard file names of :data:`DATA_FILES` inside ``folder``."""
        return cls(**{k: Path(folder) / v for k, v in DATA_FILES.items()})

    def check(self) -> None:
        """Raise :class:`InputError` naming the first file that does not exist."""
        for role, path in vars(self).items():
            if not Path(path).is_file():
                raise InputError(
                    f"bundled data file for {role!r} not found: {path}. Use a full checkout of hotspots (with its "
                    "data/ folder), or pass --data FOLDER."
                )


@dataclass(frozen=True)
class ForceArea:
    """A force and the districts of its area (``lad19cd``, ``lad19nm``), as :func:`render_config` writes them."""

    force: Force
    districts: pd.DataFrame

    @classmethod
    def of(cls, name: str) -> ForceArea:
        """The area of a territorial force of England and Wales (any name :func:`get_force` accepts)."""
        f = get_force(name)
        return cls(f, force_districts(f.force))


MAX_UPS = 2
"""A path more than this many folders up from the config is written absolute (clearer than ``../../../..``)."""


def _rel(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` with forward slashes; absolute when far away (or on another drive)."""
    absolute = Path(path).resolve().as_posix()
    try:
        rel = Path(os.path.relpath(Path(path).resolve(), base.resolve()))
    except ValueError:  # pragma: no cover - a different drive on Windows
        return absolute
    return absolute if rel.parts[: MAX_UPS + 1] == ("..",) * (MAX_UPS + 1) else rel.as_posix()


def _toml(value: str) -> str:
    """``value`` as a TOML basic string (JSON string escapes are valid TOML)."""
    return json.dumps(value, ensure_ascii=False)


def lsoa_counts(boundaries: Path, lads: list[str], column: str = "LAD19CD") -> pd.Series:
    """LSOAs per district in a boundary file (attributes only, no geometry is read)."""
    clause = f'"{column}" IN (' + ", ".join("'" + c.replace("'", "''") + "'" for c in lads) + ")"
    df = pyogrio.read_dataframe(boundaries, columns=[column], read_geometry=False, where=clause)
    return df[column].value_counts()


def render_config(
    force: str | ForceArea, *, out: Path, data: BundledData | None = None, today: _dt.date | None = None
) -> str:
    """The text of a complete, commented config for ``force``, to be written at ``out``.

    Parameters
    ----------
    force
        A force name (any form :func:`hotspots.prepare.forces.normalise_force` accepts) or a
        :class:`ForceArea`.
    out
        Where the config will be written; data paths are made relative to its folder.
    data
        The bundled files to point to (default :meth:`BundledData.in_folder`).
    today
        Date written in the header (default today).

    Returns
    -------
    str
        TOML. England: ``[study]``, ``[boundaries]`` (the England & Wales file filtered to
        the force's LAD 2019 districts), ``[deprivation]`` (IoD2019 for all England),
        ``[venues]`` (UK Open Pubs clipped to the area), one ``[[crime]]`` source (the
        force's police.uk files). Wales: the same without ``[deprivation]``, with ``[rank]``
        and ``[outreach]`` weights that need no English index.

    Raises
    ------
    InputError
        Unknown force, or a bundled data file is missing.
    """
    area = force if isinstance(force, ForceArea) else ForceArea.of(force)
    data = data or BundledData.in_folder()
    data.check()
    out = Path(out).resolve()
    counts = lsoa_counts(data.lsoa_boundaries, area.districts["lad19cd"].tolist())
    rel = {k: _rel(v, out.parent) for k, v in vars(data).items()}
    f = area.force
    lines = _header(f, out, area.districts, counts, today or _dt.date.today())
    lines += _study(f) + _boundaries(rel, area.districts, counts)
    if f.english:
        lines += _deprivation(rel)
    lines += _venues(rel) + _crime(f)
    if not f.english:
        lines += _wales_weights()
    return "\n".join([*lines, ""])


def _header(f: Force, out: Path, districts: pd.DataFrame, counts: pd.Series, today: _dt.date) -> list[str]:
    n_lsoa = int(counts.reindex(districts["lad19cd"]).fillna(0).sum())
    here = Path.cwd()
    config = _rel(out, here)
    lines = [
        f"# hotspots configuration for {f.force_name} (police.uk force id {f.force!r}),",
        f"# written by `hotspots init` on {today.isoformat()}. Paths are relative to this file; edit freely.",
        "#",
        f"# Area: the {len(districts)} district(s) of the {f.pfa_name} police force area ({f.pfa_code}), "
        f"{n_lsoa:,} LSOAs",
        "# (2011 boundaries), from the district -> police force area table bundled with hotspots.",
        "#",
        "# Next (the first is needed once per new period of data):",
        f"#   hotspots fetch --config {config} --from YYYY-MM --to YYYY-MM",
        f"#   hotspots check --config {config}",
        f"#   hotspots run   --config {config} --out {_rel(out.parent / 'run', here)}",
    ]
    if not f.english:
        lines += [
            "#",
            "# WALES: this force is in Wales. The English Indices of Deprivation cover England only and the",
            "# Welsh Index of Multiple Deprivation (WIMD) is not supported yet, so this config has NO",
            "# [deprivation] section: places are ranked on recorded violence and night-time venues only,",
            "# with no deprivation, youth-need or per-resident rate, and the report says so.",
        ]
    return [*lines, ""]


def _study(f: Force) -> list[str]:
    return [
        "[study]",
        f"name = {_toml(f.pfa_name + ' police force area')}",
        f"force = {_toml(f.force)}  # police.uk force id: `hotspots fetch --config` reads it",
        '# start = "2023-01"   # optional inclusive window (YYYY-MM); rows outside are dropped',
        '# end = "2025-12"',
        "# city_districts = []  # districts the report should call cities (listed first), e.g. a unitary city",
        "",
    ]


def _boundaries(rel: dict[str, str], districts: pd.DataFrame, counts: pd.Series) -> list[str]:
    lines = [
        "[boundaries]",
        f"lsoa = {_toml(rel['lsoa_boundaries'])}  # all 34,753 LSOAs of England and Wales (2011, BSC)",
        'lsoa_code_column = "LSOA11CD"',
        'lsoa_name_column = "LSOA11NM"',
        "# Keep only the LSOAs of these districts (LAD 2019 codes). Remove a line to leave a district out;",
        "# add a code to include a neighbouring district.",
        'filter_column = "LAD19CD"',
        "filter_values = [",
    ]
    lines += [
        f"  {_toml(r.lad19cd)},  # {r.lad19nm} ({int(counts.get(r.lad19cd, 0)):,} LSOAs)"
        for r in districts.itertuples(index=False)
    ]
    tol = "nearest_tolerance_m = 250  # metres a point outside every (generalised) LSOA may be from the nearest"
    return [*lines, "]", tol, ""]


def _deprivation(rel: dict[str, str]) -> list[str]:
    return [
        "[deprivation]",
        "# English Indices of Deprivation 2019 for all of England (national ranks; 2011 LSOAs).",
        "# IoD2025 File 7 also works here (domains = the File 7 CSV alone), with 2021 LSOA boundaries.",
        f"domains = {_toml(rel['iod_domains'])}",
        f"population = {_toml(rel['iod_population'])}",
        f"subdomains = {_toml(rel['iod_subdomains'])}",
        f"indicators = {_toml(rel['iod_indicators'])}",
        "",
    ]


def _venues(rel: dict[str, str]) -> list[str]:
    return [
        "[venues]",
        "# Open Pubs (FSA-registered drinking venues at postcode centroids), whole UK, August 2017.",
        f"path = {_toml(rel['venues'])}",
        'format = "open_pubs"',
        'snapshot = "2017-08"',
        "clip_to_area = true  # a national list: venues outside the area are expected and left out",
        "",
    ]


def _crime(f: Force) -> list[str]:
    return [
        "[[crime]]",
        'name = "police_uk"',
        f"path = {_toml(f'{CRIME_DIR}/*/*-{f.force}-street.csv*')}  # written by `hotspots fetch`",
        'format = "police_uk"',
    ]


def _weights(weights: dict[str, float]) -> str:
    return "weights = { " + ", ".join(f"{k} = {v:g}" for k, v in weights.items()) + " }"


def _wales_weights() -> list[str]:
    return [
        "",
        "# [rank]: places are ranked on the harm axis as everywhere; with no English deprivation or",
        "# population in Wales the need axis is empty, so there is no 'prevent: high need' tier and no",
        "# rates per resident (the report says so).",
        "",
        "[outreach]",
        _weights(WALES_OUTREACH_WEIGHTS),
    ]


def write_config(
    force: str | ForceArea, out: Path, *, data: BundledData | None = None, overwrite: bool = False
) -> Path:
    """Write :func:`render_config` for ``force`` to ``out`` and return ``out``.

    Raises
    ------
    InputError
        Unknown force; a bundled file is missing; ``out`` exists (and not ``overwrite``), is a
        folder, or cannot be written.
    """
    out = Path(out)
    if out.is_dir():
        raise InputError(f"--out {out} is a folder; give the config file to write, e.g. {out / 'force.toml'}.")
    if out.exists() and not overwrite:
        raise InputError(f"--out {out} already exists; choose another name, or pass --overwrite to replace it.")
    text = render_config(force, out=out, data=data)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
    except OSError as exc:
        raise InputError(f"cannot write --out {out}: {exc.strerror or exc}. Choose a folder you can write to.") from exc
    return out


def format_force_list() -> str:
    """The 43 forces as a plain table (``hotspots init --list``)."""
    df = list_forces()
    width = max(map(len, df["force"]))
    rows = [f"{'force id'.ljust(width)}  country  districts  police.uk name"]
    rows += [f"{r.force.ljust(width)}  {r.country.ljust(7)}  {r.districts:>9}  {r.force_name}" for r in df.itertuples()]
    return "\n".join(rows)
