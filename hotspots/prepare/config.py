"""Config sections of the study itself: its name, window and sources, and the VRU scope.

:class:`StudyInputs` bundles every section :func:`hotspots.prepare.study.load_study`
needs (the study, input files and scope), so that loading does not depend on the
stage sections.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hotspots.errors import ConfigError
from hotspots.io.config import BoundariesConfig, CrimeSource, DeprivationConfig, PointFile, VenuesConfig
from hotspots.prepare import scope
from hotspots.prepare.institutions import InstitutionsConfig
from hotspots.validate import check_month, suggest

DEFAULT_MAX_OUTSIDE_SHARE = 0.5
"""Default ``[study] max_outside_share``: more than half a file's rows outside the area means another area's file."""


@dataclass(frozen=True)
class StudyConfig:
    """``[study]``: name, area wording and optional date window of the analysis.

    Attributes
    ----------
    name
        Shown in map titles and the report.
    force
        The data.police.uk force id (e.g. ``"west-yorkshire"``), written by ``hotspots init``;
        optional, shown in the report.
    city_districts
        Names of districts to call cities in the report (e.g. a unitary city council among
        county districts); they are listed first in the district comparison. Default none:
        districts are named as the data names them.
    start, end
        Inclusive months ``YYYY-MM``; rows outside are dropped as ``outside_date_window``.
    sources
        ``[[crime]]`` names used by the place analyses (hot spots, ranking, kit siting,
        outreach); empty (default) = every source. Use it to compare places like with like
        when some sources cover only part of the area or period: every source is still
        loaded, accounted for, and available to emerging hot spots and ``evaluate``.
    max_outside_share
        Largest share (0-1) of an input file's located rows that may lie outside the study
        area (default 0.5). More is an error naming the file: it is probably another area's
        file. Raise it for force-wide files used on part of the force; a national venue
        list is better marked ``[venues] clip_to_area = true``.
    """

    name: str = "Study area"
    force: str | None = None
    city_districts: list[str] = field(default_factory=list)
    start: str | None = None
    end: str | None = None
    sources: list[str] = field(default_factory=list)
    max_outside_share: float = DEFAULT_MAX_OUTSIDE_SHARE

    def __post_init__(self) -> None:
        check_month(self.start, "[study] key 'start'")
        check_month(self.end, "[study] key 'end'")
        if self.start and self.end and self.start > self.end:
            raise ConfigError(f"[study] start {self.start!r} is after end {self.end!r}.")
        if not 0 <= self.max_outside_share <= 1:
            raise ConfigError(
                f"[study] key 'max_outside_share' must be a share between 0 and 1, got {self.max_outside_share!r}."
            )


@dataclass(frozen=True)
class ScopeConfig:
    """``[scope]``: overrides of the VRU scope mapping and harm weights.

    The tables are merged over the defaults in :mod:`hotspots.prepare.scope`.

    Attributes
    ----------
    crime_types
        Source category -> scope category, or ``"out"`` to exclude it, e.g.
        ``{ "Drugs" = "drugs_supply_proxy" }``.
    offence_codes
        Home Office offence code -> scope category or ``"out"``, e.g. ``{ "8L" = "abh" }``
        (codes are matched ignoring case and spaces). A known code wins over the crime type.
    harm
        Scope category -> harm weight (>= 0), e.g. ``{ robbery = 6.0 }``.
    """

    crime_types: dict[str, str] = field(default_factory=dict)
    offence_codes: dict[str, str] = field(default_factory=dict)
    harm: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        cats = set(scope.SCOPE_CATEGORIES) | {scope.OUT_OF_SCOPE}
        for table, mapping in (("crime_types", self.crime_types), ("offence_codes", self.offence_codes)):
            for k, v in mapping.items():
                if v not in cats:
                    raise ConfigError(
                        f"[scope.{table}] {k!r} maps to unknown category {v!r}.{suggest(v, cats)} "
                        f"Valid categories: {', '.join(sorted(cats))}."
                    )
        for cat, weight in self.harm.items():
            if cat not in scope.SCOPE_CATEGORIES:
                raise ConfigError(
                    f"[scope.harm] unknown category {cat!r}.{suggest(cat, scope.SCOPE_CATEGORIES)} "
                    f"Valid categories: {', '.join(sorted(scope.SCOPE_CATEGORIES))}."
                )
            if not weight >= 0:
                raise ConfigError(f"[scope.harm] {cat!r} must be >= 0, got {weight!r}.")


@dataclass(frozen=True)
class StudyInputs:
    """Every config section that loading a study reads (see :func:`hotspots.prepare.study.load_study`).

    Attributes
    ----------
    study, boundaries, crime, deprivation, venues, scope, institutions
        The sections of the same names.
    site_files
        The ``[sites]`` point files by role (``"existing_kits"``, ``"defibrillators"``,
        ``"candidate_sites"``), read and checked at load like every other input.
    area_files
        Polygon files of the intervention register by key (``"<name>:treated"``,
        ``"<name>:control"``), read at load into :attr:`hotspots.prepare.study.Study.areas`.
    base
        The folder relative paths were resolved against (the config file's).
    """

    study: StudyConfig
    boundaries: BoundariesConfig
    crime: tuple[CrimeSource, ...]
    deprivation: DeprivationConfig | None = None
    venues: VenuesConfig | None = None
    scope: ScopeConfig = field(default_factory=ScopeConfig)
    institutions: InstitutionsConfig = field(default_factory=InstitutionsConfig)
    site_files: dict[str, PointFile] = field(default_factory=dict)
    area_files: dict[str, Path] = field(default_factory=dict)
    base: Path = field(default_factory=Path.cwd)
