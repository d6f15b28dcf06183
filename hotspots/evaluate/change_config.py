"""``[change]`` and ``[[intervention]]``: the options of ``hotspots change`` and the intervention register."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hotspots.errors import ConfigError, HotspotsError
from hotspots.evaluate.change import DISPERSION_MODES, MEASURES
from hotspots.evaluate.change_table import check_dispersion
from hotspots.months import parse_months
from hotspots.validate import check_month, require_file

UNITS = ("lsoa", "grid", "district")
"""Units of ``hotspots change``: LSOAs, grid cells, districts (each incident assigned by location)."""
AREAS = ("source_districts", "study")
MIN_DRAWS = 20


def _months(value: str | None, where: str) -> None:
    if value is None:
        return
    try:
        parse_months(value, what=where)
    except HotspotsError as exc:
        raise ConfigError(str(exc)) from exc


def _share(value: float, key: str) -> None:
    if not 0 < value < 1:
        raise ConfigError(f"[change] key {key!r} must be between 0 and 1, got {value!r} (write 5 % as 0.05).")


@dataclass(frozen=True)
class ChangeConfig:
    """``[change]``: change between two periods (``hotspots change``; "What changed" in ``hotspots run``).

    Attributes
    ----------
    before, after
        Month lists (comma-separated ``YYYY-MM`` and ranges ``A..B``), e.g. ``"2020-01..2020-06"``.
        Required for ``hotspots run``; ``--before``/``--after`` override them.
    sources
        ``[[crime]]`` names, pooled; empty (default) = every source with data in both periods.
    units
        ``"lsoa"`` (default), ``"grid"`` or ``"district"``; incidents are assigned to units by
        location in both periods, whatever codes the files carry.
    cell_size
        Grid cell side in metres for ``units = "grid"``; default ``[detect] cell_size``, else the
        run's automatic rule (:func:`hotspots.units.choose_cell_size`).
    measure
        ``"count"`` (incidents) or ``"harm"`` (harm sums, exact harm test).
    area
        ``"source_districts"`` (default): the districts holding at least ``min_district_share``
        of the selected incidents (City-only data are judged on the City); ``"study"``: every LSOA.
    min_district_share
        See ``area``.
    districts
        The area's districts by name (overrides ``area``); empty = as ``area`` says.
    alpha
        BH false discovery rate of the classes (q-value threshold) and level of the verdicts.
    confidence
        Level of every interval.
    power
        Power of the minimum detectable change (0.8 = 80 %).
    mde_alpha
        Two-sided per-unit level of ``mde_pct`` (default ``alpha``, i.e. before BH; ``alpha / m``
        over ``m`` tested units gives a conservative after-BH figure).
    dispersion
        ``"auto"`` (default: month-to-month overdispersion estimated within the periods and
        allowed for unit by unit), ``"none"`` (the plain exact test, incidents independent) or a
        constant design effect >= 1.
    comparison_label
        Name of the comparison area in sentences (e.g. ``"England and Wales"``).
    comparison_ratio
        The comparison area's published rate ratio (1.06 = "rose 6 %"), taken as known.
    comparison_districts
        Districts forming a comparison area counted from the same sources (must not overlap
        the area). At most one of ``comparison_ratio`` and ``comparison_districts``.
    sppt_share, sppt_draws
        Andresen's SPPT: share of the after incidents in each subsample (0.85) and subsamples (100).
    seed
        Seed of the SPPT draws.
    """

    before: str | None = None
    after: str | None = None
    sources: list[str] = field(default_factory=list)
    units: str = "lsoa"
    cell_size: float | None = None
    measure: str = "count"
    area: str = "source_districts"
    min_district_share: float = 0.01
    districts: list[str] = field(default_factory=list)
    alpha: float = 0.05
    confidence: float = 0.95
    power: float = 0.8
    mde_alpha: float | None = None
    dispersion: str | float = "auto"
    comparison_label: str | None = None
    comparison_ratio: float | None = None
    comparison_districts: list[str] = field(default_factory=list)
    sppt_share: float = 0.85
    sppt_draws: int = 100
    seed: int = 0

    def __post_init__(self) -> None:
        _months(self.before, "[change] key 'before'")
        _months(self.after, "[change] key 'after'")
        if self.units not in UNITS:
            raise ConfigError(f"[change] key 'units' must be one of {', '.join(UNITS)}, got {self.units!r}.")
        if self.measure not in MEASURES:
            raise ConfigError(f"[change] key 'measure' must be one of {', '.join(MEASURES)}, got {self.measure!r}.")
        if self.area not in AREAS:
            raise ConfigError(f"[change] key 'area' must be one of {', '.join(AREAS)}, got {self.area!r}.")
        if self.cell_size is not None and not self.cell_size > 0:
            raise ConfigError(f"[change] key 'cell_size' must be a positive number of metres, got {self.cell_size!r}.")
        if not 0 <= self.min_district_share < 1:
            raise ConfigError(f"[change] key 'min_district_share' must be in [0, 1), got {self.min_district_share!r}.")
        for key in ("alpha", "confidence", "power", "sppt_share"):
            _share(getattr(self, key), key)
        if self.mde_alpha is not None:
            _share(self.mde_alpha, "mde_alpha")
        try:
            check_dispersion(self.dispersion, "[change] key 'dispersion'")
        except HotspotsError as exc:
            raise ConfigError(str(exc)) from exc
        if self.comparison_ratio is not None and not self.comparison_ratio > 0:
            raise ConfigError(
                f"[change] key 'comparison_ratio' must be a positive rate ratio (1.06 = rose 6 %), "
                f"got {self.comparison_ratio!r}."
            )
        if self.comparison_ratio is not None and self.comparison_districts:
            raise ConfigError(
                "[change] sets both 'comparison_ratio' and 'comparison_districts'; give one comparison area."
            )
        overlap = sorted(set(self.districts) & set(self.comparison_districts))
        if overlap:
            raise ConfigError(
                f"[change] district(s) {', '.join(overlap)} are in both 'districts' and "
                f"'comparison_districts'; the comparison area must lie outside the area."
            )
        if self.sppt_draws < MIN_DRAWS:
            raise ConfigError(f"[change] key 'sppt_draws' must be >= {MIN_DRAWS}, got {self.sppt_draws!r}.")


@dataclass(frozen=True)
class InterventionConfig:
    """``[[intervention]]``: one entry of the intervention register (impact tests in ``impact.csv``).

    Attributes
    ----------
    name
        The intervention's name (unique).
    start
        First month of the intervention (``YYYY-MM``): the after period starts here.
    months
        Length of the before and of the after period, in months (equal periods, default 12).
    treated
        Polygon file of the treated area (any format GDAL reads, with a CRS), or
    treated_lsoas
        the treated area as a list of LSOA codes (their polygons are unioned). Exactly one.
    control
        Polygon file of the control area (needed for the WDD test and the ratio against control), or
    control_lsoas
        the control area as LSOA codes. Without a control only the treated area's own change is tested.
    buffer_m
        Width in metres of the displacement ring around the treated area (and of its control ring
        around the control area); needs a control.
    sources
        ``[[crime]]`` names (pooled); default ``[change] sources``, else every source with data in
        both of the intervention's periods.
    """

    name: str
    start: str
    months: int = 12
    treated: Path | None = None
    treated_lsoas: list[str] = field(default_factory=list)
    control: Path | None = None
    control_lsoas: list[str] = field(default_factory=list)
    buffer_m: float | None = None
    sources: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        where = f"[[intervention]] {self.name!r}"
        if not self.name.strip():
            raise ConfigError("[[intervention]] key 'name' is empty; give each intervention a name.")
        check_month(self.start, f"{where} key 'start'")
        if self.months < 1:
            raise ConfigError(f"{where} key 'months' must be a whole number >= 1, got {self.months!r}.")
        for role in ("treated", "control"):
            path, lsoas = getattr(self, role), getattr(self, f"{role}_lsoas")
            if path is not None and lsoas:
                raise ConfigError(f"{where} sets both {role!r} and '{role}_lsoas'; give the area one way.")
            require_file(path, f"{where} key {role!r}")
        if self.treated is None and not self.treated_lsoas:
            raise ConfigError(f"{where} has no treated area; set 'treated' (a polygon file) or 'treated_lsoas'.")
        has_control = self.control is not None or bool(self.control_lsoas)
        if self.buffer_m is not None and not self.buffer_m > 0:
            raise ConfigError(f"{where} key 'buffer_m' must be a positive number of metres, got {self.buffer_m!r}.")
        if self.buffer_m is not None and not has_control:
            raise ConfigError(
                f"{where} sets 'buffer_m' without a control area; the displacement test compares the ring with the "
                f"same ring around the control. Add 'control' or 'control_lsoas'."
            )
        shared = sorted(set(self.treated_lsoas) & set(self.control_lsoas))
        if shared:
            raise ConfigError(f"{where}: LSOA(s) {', '.join(shared[:5])} are in both the treated and control areas.")

    @property
    def has_control(self) -> bool:
        """Whether a control area is given."""
        return self.control is not None or bool(self.control_lsoas)


__all__ = ["AREAS", "DISPERSION_MODES", "UNITS", "ChangeConfig", "InterventionConfig"]
