"""Read and validate the TOML configuration.

The configuration is read once, at the CLI edge, into small frozen dataclasses that
validate themselves. Paths in the file are relative to the file. An unknown key is an
error that names the key and lists the valid ones, so a typo never silently falls back
to a default.

Each pipeline stage owns the dataclass of its own section (``[detect]``, ``[rank]``,
...); :data:`SECTIONS` says where each lives. Every dataclass is built with
:func:`build_section`, which checks keys and types the same way everywhere.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hotspots.errors import ConfigError

T = TypeVar("T")

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "data" / "nottinghamshire.toml"
"""The bundled Nottinghamshire configuration used when ``--config`` is not given."""

SECTIONS: dict[str, str] = {
    "study": "hotspots.config:StudyConfig",
    "boundaries": "hotspots.config:BoundariesConfig",
    "deprivation": "hotspots.config:DeprivationConfig",
    "venues": "hotspots.config:VenuesConfig",
    "crime": "hotspots.config:CrimeSource",
    "scope": "hotspots.config:ScopeConfig",
    "detect": "hotspots.detect.stage:DetectConfig",
    "rank": "hotspots.rank.stage:RankConfig",
    "evaluate": "hotspots.evaluate.backtest:EvaluateConfig",
    "sites": "hotspots.sites.kits:SitesConfig",
    "outreach": "hotspots.sites.outreach:OutreachConfig",
    "maps": "hotspots.present.maps.build:MapsConfig",
    "report": "hotspots.present.report.build:ReportConfig",
}
"""Top-level sections of the config file and the dataclass that validates each."""

REQUIRED_SECTIONS = ("boundaries", "crime")


def _suggest(key: str, valid: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(valid), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def check_keys(table: dict[str, Any], valid: typing.Iterable[str], where: str) -> None:
    """Raise :class:`ConfigError` for the first key of ``table`` not in ``valid``."""
    valid = list(valid)
    for key in table:
        if key not in valid:
            raise ConfigError(
                f"unknown key {key!r} in {where}.{_suggest(key, valid)} "
                f"Valid keys: {', '.join(sorted(valid))}."
            )


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp: Any, where: str, base: Path | None) -> Any:
    """Check ``value`` against the annotation ``tp``; resolve paths against ``base``."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
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
    if tp is Any:
        return value
    if tp is Path:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where} must be a file path (a string), got {value!r}.")
        path = Path(value).expanduser()
        if base is not None and not path.is_absolute():
            path = base / path
        return path
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {value!r}.")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be a whole number, got {value!r}.")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where} must be a number, got {value!r}.")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, got {value!r}.")
        return value
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise ConfigError(f"{where} must be a list, got {value!r}.")
        (arg,) = typing.get_args(tp)[:1] or (Any,)
        items = [_coerce(v, arg, f"{where}[{i}]", base) for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where} must be a table, got {value!r}.")
        _, vtype = typing.get_args(tp) or (str, Any)
        return {str(k): _coerce(v, vtype, f"{where}.{k}", base) for k, v in value.items()}
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
    ``__post_init__`` may raise :class:`ConfigError` for value checks.
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
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def _month(value: str | None, where: str) -> str | None:
    if value is None:
        return None
    import re

    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
        raise ConfigError(f"{where} must be a month written YYYY-MM, got {value!r}.")
    return value


def _require_file(path: Path | None, where: str) -> None:
    if path is not None and not path.exists():
        shown = os.path.normpath(path)
        raise ConfigError(f"{where}: file not found: {shown}. Paths are relative to the config file.")


# --------------------------------------------------------------------------------------
# Core sections
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudyConfig:
    """``[study]``: name and optional date window of the analysis.

    Attributes
    ----------
    name
        Shown in map titles and the report.
    start, end
        Inclusive months ``YYYY-MM``; rows outside are dropped as ``outside_date_window``.
    sources
        ``[[crime]]`` names used by the place analyses (hot spots, ranking, kit siting,
        outreach); empty (default) = every source. Use it to compare places like with like
        when some sources cover only part of the area or period: every source is still
        loaded, accounted for, and available to emerging hot spots and ``evaluate``.
        A stage's own ``sources`` key, where it has one, overrides this.
    """

    name: str = "Study area"
    start: str | None = None
    end: str | None = None
    sources: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        _month(self.start, "[study] key 'start'")
        _month(self.end, "[study] key 'end'")
        if self.start and self.end and self.start > self.end:
            raise ConfigError(f"[study] start {self.start!r} is after end {self.end!r}.")


@dataclass(frozen=True)
class BoundariesConfig:
    """``[boundaries]``: LSOA polygons (the study area), districts and wards.

    Any format GDAL reads. ``nearest_tolerance_m`` is how far (metres) a point outside
    every generalised LSOA polygon may be from the nearest one and still be assigned to it.
    """

    lsoa: Path
    lsoa_code_column: str = "LSOA11CD"
    lsoa_name_column: str = "LSOA11NM"
    districts: Path | None = None
    district_code_column: str = "district_code"
    district_name_column: str = "district_name"
    wards: Path | None = None
    ward_code_column: str = "ward_code"
    ward_name_column: str = "ward_name"
    nearest_tolerance_m: float = 250.0

    def __post_init__(self) -> None:
        _require_file(self.lsoa, "[boundaries] key 'lsoa'")
        _require_file(self.districts, "[boundaries] key 'districts'")
        _require_file(self.wards, "[boundaries] key 'wards'")
        if self.nearest_tolerance_m < 0:
            raise ConfigError("[boundaries] key 'nearest_tolerance_m' must be >= 0 metres.")


@dataclass(frozen=True)
class DeprivationConfig:
    """``[deprivation]``: English Indices of Deprivation 2019 files.

    ``domains`` is IoD2019 File 2 (ranks and deciles), ``population`` File 6
    (denominators); ``subdomains`` and ``indicators`` are optional extras (the
    Children and Young People sub-domain; the IDACI numerator).
    """

    domains: Path
    population: Path
    subdomains: Path | None = None
    indicators: Path | None = None

    def __post_init__(self) -> None:
        for name in ("domains", "population", "subdomains", "indicators"):
            _require_file(getattr(self, name), f"[deprivation] key {name!r}")


@dataclass(frozen=True)
class ColumnMap:
    """Column mapping for a generic point file: which column holds what.

    ``x``/``y`` are longitude/latitude when ``crs`` is geographic, easting/northing
    when it is projected. Leave a key out when the file has no such column. For a
    GeoPackage/GeoJSON the geometry is used and ``x``/``y`` are ignored.
    """

    id: str | None = None
    month: str | None = None
    date: str | None = None
    time: str | None = None
    x: str | None = None
    y: str | None = None
    crime_type: str | None = None
    offence_code: str | None = None
    lsoa_code: str | None = None
    location: str | None = None
    name: str | None = None
    address: str | None = None
    postcode: str | None = None


CRIME_FORMATS = ("police_uk", "points")


@dataclass(frozen=True)
class CrimeSource:
    """One ``[[crime]]`` entry: a crime file, folder or glob.

    Attributes
    ----------
    name
        Short unique name; becomes the ``source`` column.
    path
        A file, a folder (searched recursively for ``*-street.csv[.gz]`` in the
        data.police.uk archive layout, or for ``*.csv``, ``*.gpkg``, ``*.geojson``), or a
        glob relative to the config file.
    format
        ``"police_uk"`` (street-level CSV, read unchanged) or ``"points"`` (generic
        CSV/GeoPackage/GeoJSON with ``columns``).
    crime_type
        Category for every row when the file has no crime-type column (e.g. a file of
        robberies only).
    crs
        CRS of ``x``/``y`` in a generic CSV (default lon/lat, EPSG:4326).
    encoding
        Text encoding; by default UTF-8 (with or without BOM), falling back to
        Windows-1252 with a warning.
    """

    name: str
    path: str
    format: str = "police_uk"
    crime_type: str | None = None
    crs: str = "EPSG:4326"
    encoding: str | None = None
    columns: ColumnMap = field(default_factory=ColumnMap)
    base: Path | None = field(default=None, metadata={"internal": True})
    """Folder the path is relative to (the config file's; set by the loader, not a config key)."""

    def __post_init__(self) -> None:
        if self.format not in CRIME_FORMATS:
            raise ConfigError(
                f"[[crime]] {self.name!r} key 'format' must be one of {list(CRIME_FORMATS)}, "
                f"got {self.format!r}."
            )
        if self.format == "points" and self.columns.crime_type is None and self.crime_type is None:
            raise ConfigError(
                f"[[crime]] {self.name!r}: a 'points' file needs either columns.crime_type "
                f"(the column holding the category) or crime_type (one category for every row)."
            )


VENUE_FORMATS = ("open_pubs", "points")


@dataclass(frozen=True)
class VenuesConfig:
    """``[venues]``: night-time-economy venues (Open Pubs format or a generic point file)."""

    path: Path
    format: str = "open_pubs"
    crs: str = "EPSG:4326"
    encoding: str | None = None
    columns: ColumnMap = field(default_factory=ColumnMap)
    snapshot: str | None = None
    """Date the venue list describes (shown in caveats), e.g. ``"2017-08"``."""

    def __post_init__(self) -> None:
        _require_file(self.path, "[venues] key 'path'")
        if self.format not in VENUE_FORMATS:
            raise ConfigError(
                f"[venues] key 'format' must be one of {list(VENUE_FORMATS)}, got {self.format!r}."
            )


@dataclass(frozen=True)
class ScopeConfig:
    """``[scope]``: overrides of the VRU scope mapping and harm weights.

    ``crime_types`` and ``offence_codes`` map a source category (or Home Office
    offence code) to a scope category, or to ``"out"`` to exclude it; they are merged
    over the defaults in :mod:`hotspots.prepare.scope`. ``harm`` overrides a category's weight.
    """

    crime_types: dict[str, str] = field(default_factory=dict)
    offence_codes: dict[str, str] = field(default_factory=dict)
    harm: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from hotspots.prepare import scope

        cats = set(scope.SCOPE_CATEGORIES) | {scope.OUT_OF_SCOPE}
        for table, mapping in (("crime_types", self.crime_types), ("offence_codes", self.offence_codes)):
            for k, v in mapping.items():
                if v not in cats:
                    raise ConfigError(
                        f"[scope.{table}] {k!r} maps to unknown category {v!r}.{_suggest(v, cats)} "
                        f"Valid categories: {', '.join(sorted(cats))}."
                    )
        for cat, weight in self.harm.items():
            if cat not in scope.SCOPE_CATEGORIES:
                raise ConfigError(
                    f"[scope.harm] unknown category {cat!r}.{_suggest(cat, scope.SCOPE_CATEGORIES)} "
                    f"Valid categories: {', '.join(sorted(scope.SCOPE_CATEGORIES))}."
                )
            if not weight >= 0:
                raise ConfigError(f"[scope.harm] {cat!r} must be >= 0, got {weight!r}.")


# --------------------------------------------------------------------------------------
# The whole file
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """The resolved configuration.

    ``stages`` holds the validated dataclass of each stage section present in the file
    (``"detect"``, ``"rank"``, ...); :meth:`stage` returns it or the section's defaults.
    """

    path: Path | None
    study: StudyConfig
    boundaries: BoundariesConfig
    crime: tuple[CrimeSource, ...]
    deprivation: DeprivationConfig | None = None
    venues: VenuesConfig | None = None
    scope: ScopeConfig = field(default_factory=ScopeConfig)
    stages: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def base(self) -> Path:
        """Folder that relative paths are resolved against."""
        return self.path.parent if self.path else Path.cwd()

    def stage(self, name: str) -> Any:
        """Return the validated config of stage section ``name`` (defaults if absent)."""
        if name in self.stages:
            return self.stages[name]
        cls = _section_class(name)
        return build_section(cls, {}, where=f"[{name}]", base=self.base)

    def to_dict(self) -> dict[str, Any]:
        """The resolved configuration as plain JSON-serialisable data (for the manifest)."""

        def conv(v: Any) -> Any:
            if dataclasses.is_dataclass(v) and not isinstance(v, type):
                return {f.name: conv(getattr(v, f.name)) for f in dataclasses.fields(v) if f.name != "base"}
            if isinstance(v, Path):
                return str(v)
            if isinstance(v, dict):
                return {str(k): conv(x) for k, x in v.items() if k != "raw"}
            if isinstance(v, (list, tuple)):
                return [conv(x) for x in v]
            return v

        out = {
            "path": str(self.path) if self.path else None,
            "study": conv(self.study),
            "boundaries": conv(self.boundaries),
            "crime": conv(list(self.crime)),
            "deprivation": conv(self.deprivation),
            "venues": conv(self.venues),
            "scope": conv(self.scope),
        }
        for name in SECTIONS:
            if name not in out:
                try:
                    out[name] = conv(self.stage(name))
                except ConfigError:
                    continue
        return out


def _section_class(name: str) -> type:
    module, _, attr = SECTIONS[name].partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"[{name}] cannot be checked: its stage ({module}.{attr}) is not available in this version of "
            f"hotspots ({exc}). Remove the [{name}] section or upgrade hotspots."
        ) from exc


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate a config file (the bundled Nottinghamshire one by default).

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


def config_from_dict(raw: dict[str, Any], *, path: Path | None = None) -> Config:
    """Validate a config already parsed into a dict (see :func:`load_config`)."""
    base = path.parent if path else Path.cwd()
    where = str(path) if path else "config"
    check_keys(raw, SECTIONS, f"{where} (top-level section)")
    for name in REQUIRED_SECTIONS:
        if name not in raw:
            raise ConfigError(f"{where} has no [{name}] section; it is required.")

    study = build_section(StudyConfig, raw.get("study", {}), where="[study]", base=base)
    boundaries = build_section(BoundariesConfig, raw["boundaries"], where="[boundaries]", base=base)
    crime_tables = raw["crime"]
    if isinstance(crime_tables, dict):
        crime_tables = [crime_tables]
    if not crime_tables:
        raise ConfigError(f"{where}: [[crime]] lists no sources; add at least one.")
    sources = []
    for i, table in enumerate(crime_tables):
        if not isinstance(table, dict):
            raise ConfigError(f"[[crime]] entry {i + 1} must be a table.")
        label = f"[[crime]] entry {i + 1} ({table.get('name', 'unnamed')!r})"
        src = build_section(CrimeSource, {**table}, where=label, base=base)
        sources.append(dataclasses.replace(src, base=base))
    names = [s.name for s in sources]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"[[crime]] names must be unique; repeated: {', '.join(dupes)}.")
    unknown = [n for n in study.sources if n not in names]
    if unknown:
        raise ConfigError(
            f"[study] key 'sources' names unknown source(s) {', '.join(map(repr, unknown))}.{_suggest(unknown[0], names)} "
            f"Valid [[crime]] names: {', '.join(names)}."
        )
    deprivation = (
        build_section(DeprivationConfig, raw["deprivation"], where="[deprivation]", base=base)
        if "deprivation" in raw
        else None
    )
    venues = build_section(VenuesConfig, raw["venues"], where="[venues]", base=base) if "venues" in raw else None
    scope = build_section(ScopeConfig, raw.get("scope", {}), where="[scope]", base=base)

    stages: dict[str, Any] = {}
    core = {"study", "boundaries", "crime", "deprivation", "venues", "scope"}
    for name, table in raw.items():
        if name in core:
            continue
        if not isinstance(table, dict):
            raise ConfigError(f"[{name}] must be a table.")
        stages[name] = build_section(_section_class(name), table, where=f"[{name}]", base=base)

    return Config(
        path=path,
        study=study,
        boundaries=boundaries,
        crime=tuple(sources),
        deprivation=deprivation,
        venues=venues,
        scope=scope,
        stages=stages,
        raw=raw,
    )
