"""Read and validate the TOML configuration into one typed :class:`Config`.

The configuration is read once, at the CLI edge, into small frozen dataclasses that
validate themselves. Paths in the file are relative to the file. An unknown key is an
error that names the key and lists the valid ones, so a typo never silently falls back
to a default.

Each section's dataclass lives beside the code it configures (``[detect]`` in
:mod:`hotspots.detect.config`, the input files in :mod:`hotspots.io.config`, ...);
:class:`Config` has one typed field per section and :data:`SECTIONS` lists them. Every
dataclass is built with :func:`build_section`, which checks keys and types the same way
everywhere; stages receive their own section.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hotspots.detect.config import DetectConfig
from hotspots.errors import ConfigError
from hotspots.evaluate.change_config import ChangeConfig, InterventionConfig
from hotspots.evaluate.config import EvaluateConfig
from hotspots.evaluate.forecast.config import ForecastConfig
from hotspots.io.config import BoundariesConfig, CrimeSource, DeprivationConfig, PointFile, VenuesConfig
from hotspots.months import format_months, overlap, parse_months
from hotspots.prepare.config import ScopeConfig, StudyConfig, StudyInputs
from hotspots.prepare.institutions import InstitutionsConfig
from hotspots.present.maps.config import MapsConfig
from hotspots.present.report.config import ReportConfig
from hotspots.rank.config import RankConfig
from hotspots.sites.config import OutreachConfig, SitesConfig
from hotspots.validate import suggest

T = TypeVar("T")

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "data" / "nottinghamshire.toml"
"""The bundled example configuration (one real force) used when ``--config`` is not given."""

REQUIRED_SECTIONS = ("boundaries", "crime")


def check_keys(table: dict[str, Any], valid: typing.Iterable[str], where: str) -> None:
    """Raise :class:`ConfigError` for the first key of ``table`` not in ``valid``."""
    valid = list(valid)
    for key in table:
        if key not in valid:
            raise ConfigError(
                f"unknown key {key!r} in {where}.{suggest(key, valid)} Valid keys: {', '.join(sorted(valid))}."
            )


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


ZERO_ALLOWED: dict[tuple[str, str], str] = {
    ("boundaries", "nearest_tolerance_m"): "0 assigns points by point in polygon only",
    ("study", "max_outside_share"): "0 lets no row lie outside the area",
    ("detect", "cluster_buffer"): "0 draws cluster footprints without a buffer",
    ("detect", "emerging_time_window"): "0 compares each month with itself only",
    ("evaluate", "min_district_share"): "0 keeps every district",
    ("rank", "draws"): "0 runs no Monte Carlo (intervals equal the rank)",
    ("rank", "lognormal_sigma"): "0 adds no noise to the weights",
    ("rank", "tier2_share"): "0 puts every place after Tier 1 in Tier 3",
    ("maps", "simplify_m"): "0 keeps boundaries unsimplified",
    ("maps", "suppress_below"): "0 shows every count",
    ("report", "small_count"): "0 shows every count",
}
"""Numeric keys that are sizes, distances or counts but where 0 has a meaning (off, none, every).

Every other numeric key must be finite and > 0, except weights (values of a table such as
``[rank] weights``) and seeds, which must be finite and >= 0 (see :func:`check_number`)."""


def _zero_allowed(where: str) -> bool:
    """True when the key at ``where`` (``"[detect] key 'seed'"``) may be 0."""
    section = where.split("]", maxsplit=1)[0].lstrip("[")
    key = where.rsplit("key ", maxsplit=1)[-1].strip("'").split("'")[0] if " key " in where else ""
    return key == "seed" or (section, key) in ZERO_ALLOWED


def check_number(value: float, where: str, *, weight: bool = False) -> float:
    """``value`` when it is finite and in range for the key at ``where``; :class:`ConfigError` otherwise.

    Weights (``weight``), seeds and the keys of :data:`ZERO_ALLOWED` must be >= 0; every other
    number (sizes, distances, counts, shares) > 0. ``nan`` and ``inf`` are never accepted.
    """
    if not math.isfinite(value):
        raise ConfigError(f"{where} must be a finite number, got {value!r}. Give a plain number (not nan or inf).")
    if weight or _zero_allowed(where):
        if value < 0:
            raise ConfigError(f"{where} must be >= 0, got {value!r}.")
    elif value <= 0:
        raise ConfigError(f"{where} must be > 0, got {value!r}.")
    return value


def _as_path(value: Any, where: str, base: Path | None) -> Path:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where} must be a file path (a string), got {value!r}.")
    path = Path(value).expanduser()
    return base / path if base is not None and not path.is_absolute() else path


def _check_numbers(value: Any, where: str, *, weight: bool = False) -> None:
    """Apply :func:`check_number` to every number in a coerced value (lists element-wise, tables as weights)."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, (int, float)):
        check_number(value, where, weight=weight)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_numbers(v, f"{where}[{i}]", weight=weight)
    elif isinstance(value, dict):
        # the values of a table of numbers are weights (>= 0): [rank] weights, [scope] harm, ...
        for k, v in value.items():
            _check_numbers(v, f"{where}.{k}", weight=True)


def _as_scalar(value: Any, tp: Any, where: str) -> Any:
    """Check a bool, int, float or str value against its annotation."""
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {value!r}.")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, got {value!r}.")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "a whole number" if tp is int else "a number"
        raise ConfigError(f"{where} must be {kind}, got {value!r}.")
    if tp is int and not isinstance(value, int):
        raise ConfigError(f"{where} must be a whole number, got {value!r}.")
    return value if tp is int else float(value)


def _as_union(value: Any, tp: Any, where: str, base: Path | None) -> Any:
    args = typing.get_args(tp)
    if value is None and type(None) in args:
        return None
    errors = []
    for arg in args:
        if arg is type(None):
            continue
        try:
            return _coerce(value, arg, where, base)
        except ConfigError as exc:
            errors.append(str(exc))
    raise ConfigError(errors[0] if errors else f"{where}: bad value {value!r}")


def _as_container(value: Any, tp: Any, where: str, base: Path | None) -> Any:
    origin = typing.get_origin(tp)
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise ConfigError(f"{where} must be a list, got {value!r}.")
        (arg,) = typing.get_args(tp)[:1] or (Any,)
        items = [_coerce(v, arg, f"{where}[{i}]", base) for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table, got {value!r}.")
    _, vtype = typing.get_args(tp) or (str, Any)
    return {str(k): _coerce(v, vtype, f"{where}.{k}", base) for k, v in value.items()}


def _coerce(value: Any, tp: Any, where: str, base: Path | None) -> Any:
    """Check ``value`` against the annotation ``tp``; resolve paths against ``base``."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return _as_union(value, tp, where, base)
    if tp is Any:
        return value
    if tp is Path:
        return _as_path(value, where, base)
    if tp in (bool, int, float, str):
        return _as_scalar(value, tp, where)
    if origin in (list, tuple, dict):
        return _as_container(value, tp, where, base)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{where} must be a table, got {value!r}.")
        return build_section(tp, value, where=where, base=base)
    raise ConfigError(f"{where}: cannot check a value of type {_type_name(tp)}")  # pragma: no cover


def build_section(cls: type[T], table: dict[str, Any], *, where: str, base: Path | None) -> T:
    """Build the frozen dataclass ``cls`` from a TOML table.

    Unknown keys, wrong types and missing required keys raise :class:`ConfigError`
    naming ``where`` (e.g. ``"[detect]"``). Fields annotated ``Path`` are resolved
    relative to ``base`` (the config file's folder). The dataclass's own
    ``__post_init__`` may raise :class:`ConfigError` for value checks; then every number
    given is checked with :func:`check_number` (finite; > 0, or >= 0 for weights, seeds
    and the keys of :data:`ZERO_ALLOWED`).
    """
    hints = typing.get_type_hints(cls)
    fields = {
        f.name: f
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        if f.init and not f.metadata.get("internal")
    }
    check_keys(table, fields, where)
    kwargs = {}
    for name, f in fields.items():
        if name in table:
            kwargs[name] = _coerce(table[name], hints[name], f"{where} key {name!r}", base)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{where} is missing the required key {name!r}.")
    try:
        built = cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    # after the section's own checks (which word their messages for their keys): no nan or
    # inf anywhere, sizes/distances/counts > 0, weights and seeds >= 0
    for name, value in kwargs.items():
        _check_numbers(value, f"{where} key {name!r}")
    return built


SECTIONS: dict[str, type] = {
    "study": StudyConfig,
    "boundaries": BoundariesConfig,
    "deprivation": DeprivationConfig,
    "venues": VenuesConfig,
    "crime": CrimeSource,
    "scope": ScopeConfig,
    "institutions": InstitutionsConfig,
    "detect": DetectConfig,
    "rank": RankConfig,
    "evaluate": EvaluateConfig,
    "sites": SitesConfig,
    "outreach": OutreachConfig,
    "forecast": ForecastConfig,
    "maps": MapsConfig,
    "report": ReportConfig,
    "change": ChangeConfig,
    "intervention": InterventionConfig,
}
"""Top-level sections of the config file and the dataclass that validates each."""

MOVED_KEYS: dict[tuple[str, str], str] = {
    ("detect", "sources"): "[study] sources",
    ("rank", "sources"): "[study] sources",
}
"""Keys of earlier versions and where their setting lives now (a clear error, not 'unknown key')."""

STAGE_SECTIONS = ("detect", "rank", "evaluate", "sites", "outreach", "forecast", "maps", "report")
"""Sections with every key optional: absent from the file, they take their defaults."""


@dataclass(frozen=True)
class Config:
    """The resolved configuration: one typed field per section of the file.

    Attributes
    ----------
    path
        The config file (None for a config built from a dict).
    study, boundaries, crime, deprivation, venues, scope, institutions
        The study and its inputs (``deprivation`` and ``venues`` are optional).
    detect, rank, evaluate, sites, outreach, forecast, maps, report
        The stage sections (their defaults when absent from the file).
    change
        ``[change]`` (None when absent: ``hotspots run`` then shows no "What changed" section).
    intervention
        The intervention register, one ``[[intervention]]`` per entry.
    raw
        The parsed TOML, as read.
    """

    path: Path | None
    study: StudyConfig
    boundaries: BoundariesConfig
    crime: tuple[CrimeSource, ...]
    deprivation: DeprivationConfig | None = None
    venues: VenuesConfig | None = None
    scope: ScopeConfig = field(default_factory=ScopeConfig)
    institutions: InstitutionsConfig = field(default_factory=InstitutionsConfig)
    detect: DetectConfig = field(default_factory=DetectConfig)
    rank: RankConfig = field(default_factory=RankConfig)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)
    sites: SitesConfig = field(default_factory=SitesConfig)
    outreach: OutreachConfig = field(default_factory=OutreachConfig)
    forecast: ForecastConfig = field(default_factory=ForecastConfig)
    maps: MapsConfig = field(default_factory=MapsConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    change: ChangeConfig | None = None
    intervention: tuple[InterventionConfig, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def base(self) -> Path:
        """Folder that relative paths are resolved against."""
        return self.path.parent if self.path else Path.cwd()

    @property
    def inputs(self) -> StudyInputs:
        """The sections that loading the study reads (see :func:`hotspots.prepare.study.load_study`)."""
        files: dict[str, PointFile] = {}
        for role in ("existing_kits", "defibrillators", "candidate_sites"):
            spec = getattr(self.sites, role)
            if spec is not None:
                files[role] = spec
        areas = {
            f"{i.name}:{role}": path
            for i in self.intervention
            for role, path in (("treated", i.treated), ("control", i.control))
            if path is not None
        }
        return StudyInputs(
            study=self.study,
            boundaries=self.boundaries,
            crime=self.crime,
            deprivation=self.deprivation,
            venues=self.venues,
            scope=self.scope,
            institutions=self.institutions,
            site_files=files,
            area_files=areas,
            base=self.base,
        )

    def to_dict(self) -> dict[str, Any]:
        """The resolved configuration as plain JSON-serialisable data (for the manifest)."""

        def conv(v: object) -> object:
            if dataclasses.is_dataclass(v) and not isinstance(v, type):
                return {f.name: conv(getattr(v, f.name)) for f in dataclasses.fields(v) if f.name != "base"}
            if isinstance(v, Path):
                return str(v)
            if isinstance(v, dict):
                return {str(k): conv(x) for k, x in v.items()}
            if isinstance(v, (list, tuple)):
                return [conv(x) for x in v]
            return v

        out: dict[str, Any] = {"path": str(self.path) if self.path else None}
        for name in SECTIONS:
            value = getattr(self, name)
            out[name] = conv(list(value) if name == "crime" else value)
        return out


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate a config file (the bundled example by default).

    Parameters
    ----------
    path
        TOML file. Relative paths inside it are resolved against its folder.

    Raises
    ------
    ConfigError
        The file is missing or not valid TOML, a section or key is unknown, a value has
        the wrong type, or a named input file does not exist.
    """
    path = Path(path) if path is not None else DEFAULT_CONFIG
    if not path.exists():
        raise ConfigError(f"config file not found: {path}. Pass --config FILE with a TOML config.")
    if path.is_dir():
        raise ConfigError(f"config {path} is a folder; pass the TOML file itself with --config FILE.")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text: {exc}. Save the config as UTF-8.") from exc
    resolved = path.resolve()
    try:
        return config_from_dict(raw, path=resolved)
    except ConfigError as exc:
        msg = str(exc)
        if str(resolved) in msg:
            raise
        raise ConfigError(f"config {path}: {msg}") from exc.__cause__


def _crime_sources(raw: dict[str, Any], where: str, base: Path) -> tuple[CrimeSource, ...]:
    tables = raw["crime"]
    if isinstance(tables, dict):
        tables = [tables]
    if not tables:
        raise ConfigError(f"{where}: [[crime]] lists no sources; add at least one.")
    sources = []
    for i, table in enumerate(tables):
        if not isinstance(table, dict):
            raise ConfigError(f"[[crime]] entry {i + 1} must be a table.")
        label = f"[[crime]] entry {i + 1} ({table.get('name', 'unnamed')!r})"
        src = build_section(CrimeSource, {**table}, where=label, base=base)
        sources.append(dataclasses.replace(src, base=base))
    names = [s.name for s in sources]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"[[crime]] names must be unique; repeated: {', '.join(dupes)}.")
    return tuple(sources)


def _stage_sections(raw: dict[str, Any], base: Path) -> dict[str, Any]:
    stages: dict[str, Any] = {}
    for name in STAGE_SECTIONS:
        table = raw.get(name, {})
        if not isinstance(table, dict):
            raise ConfigError(f"[{name}] must be a table.")
        for key in table:
            if (name, key) in MOVED_KEYS:
                raise ConfigError(
                    f"[{name}] key {key!r} is no longer used: every place analysis uses the same incidents, "
                    f"chosen with {MOVED_KEYS[name, key]}. Move the list there and delete this key."
                )
        stages[name] = build_section(SECTIONS[name], table, where=f"[{name}]", base=base)
    return stages


def _check_source_names(cfg: Config) -> None:
    """Every key that names a ``[[crime]]`` source names one that exists."""
    names = [s.name for s in cfg.crime]
    named: list[tuple[str, list[str]]] = [("[study] key 'sources'", list(cfg.study.sources))]
    if cfg.detect.emerging_source not in (None, "all"):
        named.append(("[detect] key 'emerging_source'", [str(cfg.detect.emerging_source)]))
    if cfg.evaluate.source is not None:
        named.append(("[evaluate] key 'source'", [cfg.evaluate.source]))
    for where, given in named:
        unknown = [n for n in given if n not in names]
        if unknown:
            raise ConfigError(
                f"{where} names unknown source(s) {', '.join(map(repr, unknown))}.{suggest(unknown[0], names)} "
                f"Valid [[crime]] names: {', '.join(names)}."
            )


def _check_candidates(cfg: Config) -> None:
    """Candidate sources listed explicitly in ``[sites] candidates`` must have their input configured."""
    listed = cfg.raw.get("sites", {}).get("candidates")
    if listed is None:
        return
    if "candidate_sites" in listed and cfg.sites.candidate_sites is None:
        raise ConfigError(
            "[sites] key 'candidates' lists 'candidate_sites', but no candidate file is configured: add "
            'candidate_sites = "your_sites.csv" to [sites], or remove "candidate_sites" from candidates.'
        )
    if "venues" in listed and cfg.venues is None:
        raise ConfigError(
            "[sites] key 'candidates' lists 'venues', but there is no [venues] section: add one (e.g. the bundled "
            'Open Pubs list) or remove "venues" from candidates.'
        )


def config_from_dict(raw: dict[str, Any], *, path: Path | None = None) -> Config:
    """Validate a config already parsed into a dict (see :func:`load_config`)."""
    base = path.parent if path else Path.cwd()
    where = str(path) if path else "config"
    check_keys(raw, SECTIONS, f"{where} (top-level section)")
    for name in REQUIRED_SECTIONS:
        if name not in raw:
            raise ConfigError(f"{where} has no [{name}] section; it is required.")

    def optional(name: str, cls: type[T]) -> T | None:
        return build_section(cls, raw[name], where=f"[{name}]", base=base) if name in raw else None

    study = build_section(StudyConfig, raw.get("study", {}), where="[study]", base=base)
    boundaries = build_section(BoundariesConfig, raw["boundaries"], where="[boundaries]", base=base)
    sources = _crime_sources(raw, where, base)
    change, interventions = _change_sections(raw, [src.name for src in sources], base)
    cfg = Config(
        path=path,
        study=study,
        boundaries=boundaries,
        crime=sources,
        deprivation=optional("deprivation", DeprivationConfig),
        venues=optional("venues", VenuesConfig),
        scope=build_section(ScopeConfig, raw.get("scope", {}), where="[scope]", base=base),
        institutions=build_section(InstitutionsConfig, raw.get("institutions", {}), where="[institutions]", base=base),
        change=change,
        intervention=interventions,
        raw=raw,
        **_stage_sections(raw, base),
    )
    _check_source_names(cfg)
    _check_candidates(cfg)
    return cfg


def _change_sections(
    raw: dict[str, Any], names: list[str], base: Path
) -> tuple[ChangeConfig | None, tuple[InterventionConfig, ...]]:
    """``[change]`` (None when absent) and the ``[[intervention]]`` register, checked against the source names."""

    def known(sources: list[str], where: str) -> None:
        unknown = [n for n in sources if n not in names]
        if unknown:
            raise ConfigError(
                f"{where} key 'sources' names unknown source(s) {', '.join(map(repr, unknown))}."
                f"{suggest(unknown[0], names)} Valid [[crime]] names: {', '.join(names)}."
            )

    change = None
    if "change" in raw:
        if not isinstance(raw["change"], dict):
            raise ConfigError("[change] must be a table.")
        change = build_section(ChangeConfig, raw["change"], where="[change]", base=base)
        if change.before is None or change.after is None:
            raise ConfigError("[change] needs both 'before' and 'after' (month lists such as '2020-01..2020-06').")
        both = overlap(parse_months(change.before), parse_months(change.after))
        if both:
            raise ConfigError(
                f"[change] keys 'before' and 'after' overlap in {len(both)} month(s) ({format_months(both)}); "
                f"a month can only be in one period: remove it from one of them."
            )
        known(change.sources, "[change]")
    tables = raw.get("intervention", [])
    if isinstance(tables, dict):
        tables = [tables]
    entries = []
    for i, table in enumerate(tables):
        if not isinstance(table, dict):
            raise ConfigError(f"[[intervention]] entry {i + 1} must be a table.")
        label = f"[[intervention]] entry {i + 1} ({table.get('name', 'unnamed')!r})"
        entry = build_section(InterventionConfig, table, where=label, base=base)
        known(entry.sources, label)
        entries.append(entry)
    seen = [e.name for e in entries]
    dupes = sorted({n for n in seen if seen.count(n) > 1})
    if dupes:
        raise ConfigError(f"[[intervention]] names must be unique; repeated: {', '.join(dupes)}.")
    return change, tuple(entries)
