"""``[sites]`` and ``[outreach]``: bleed-control kit siting and youth outreach zones."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotspots.errors import ConfigError
from hotspots.io.config import PointFile
from hotspots.prepare.scope import SCOPE_CATEGORIES, YOUTH_CATEGORIES
from hotspots.sites.candidates import CANDIDATE_SOURCES, DEFAULT_EXCLUDE_LOCATIONS, _location_pattern

DEFAULT_KIT_RADIUS_M = 100.0
"""Walking radius a bleed-control kit serves by default, metres (about a 90-second fetch)."""

DEFAULT_SENSITIVITY_RADII_M = (60.0, 100.0, 200.0)
"""Radii (metres) of the sensitivity run by default."""

PERCENT = 100.0
"""``target_pct`` is a percentage of all harm, at most this."""

MIN_POINTS_CAP = 100
"""Smallest ``max_demand_points`` / ``max_candidate_locations`` accepted."""

DEFAULT_SCORE_WEIGHTS = {"youth_harm": 0.4, "hotspot": 0.3, "idaci": 0.15, "cyp": 0.15}
"""Weights of the outreach score's components (percentile ranks among the study's LSOAs)."""


def _point_file(value: Any, key: str) -> PointFile | None:
    if value is None or isinstance(value, PointFile):
        return value
    if isinstance(value, (str, Path)):
        return PointFile(path=Path(value))
    raise ConfigError(f"[sites] key {key!r} must be a file path or a table, got {value!r}.")  # pragma: no cover


@dataclass(frozen=True)
class SitesConfig:
    """``[sites]``: bleed-control kit siting.

    Attributes
    ----------
    p
        Number of new kits to site (default 10).
    radius_m
        Walking radius a kit serves, metres (default 100: a 90-second fetch).
    sensitivity_radii_m
        Radii of the sensitivity run (default 60, 100, 200 m).
    target_pct
        Coverage target of the set-covering mode: fewest kits so that fixed sites plus new
        kits reach this % of all harm (default 50).
    candidates
        Candidate sources: any of ``"venues"``, ``"incident_locations"``,
        ``"candidate_sites"`` (default all three; the last only when a file is given).
    candidate_sites, existing_kits, defibrillators
        Optional point files (a path, or a table with ``path, crs, id, name, x, y``).
    exclude_locations
        Case-insensitive regular expressions searched in the location text of incident-location
        candidates (``"On or near Hospital"``); a location matching any is not a candidate
        (its incidents stay in the demand). Default :data:`DEFAULT_EXCLUDE_LOCATIONS`; ``[]``
        keeps every location.
    time_limit_s
        Seconds allowed to the whole stage's solving (default 120): the kits, the coverage
        curve, the radius sensitivity, the set-covering answer and the most different set share
        one budget, a moment on the clock (with more than one job the curve and the sensitivity
        are solved in a worker process beside the others). When it is reached, every answer not yet proven optimal is
        the best solution found so far (HiGHS's incumbent or the heuristic one), flagged
        ``optimal: false`` with its gap where known in the manifest (``sites.time_limit``
        lists them) and said in the report, and a warning says so. A reachable coverage target
        is never reported unreachable because of it. Building the demand, the candidates and
        the models, and the outreach zones, come on top (seconds).
    max_demand_points
        Most demand points (default 100,000). Snapped police.uk data stays far below it
        (a force of 300,000 incidents a year: under 80,000 distinct points); unsnapped data,
        about one point per incident, is merged onto the finest grid of 1 to 100 m that
        brings it under (each cell one demand point at its heaviest location), so memory and
        time stay flat; the cell size is recorded in the manifest. Unset: never merge.
    max_candidate_locations
        Most incident-location kit candidates (default 30,000); above it they are thinned to
        the heaviest demand point per grid cell (the finest of 1 to 100 m that fits).
        Venues and the user's candidate sites are always kept. Unset: never thin.
    alternative_share
        A candidate is a near-optimal alternative to a kit when swapping it in keeps at least
        this share of the optimal coverage (default 0.99: within 1 %).
    """

    p: int = 10
    radius_m: float = DEFAULT_KIT_RADIUS_M
    sensitivity_radii_m: tuple[float, ...] = DEFAULT_SENSITIVITY_RADII_M
    target_pct: float = 50.0
    candidates: tuple[str, ...] = CANDIDATE_SOURCES
    candidate_sites: PointFile | Path | None = None
    existing_kits: PointFile | Path | None = None
    defibrillators: PointFile | Path | None = None
    exclude_locations: tuple[str, ...] = DEFAULT_EXCLUDE_LOCATIONS
    time_limit_s: float = 120.0
    alternative_share: float = 0.99
    max_demand_points: int | None = 100_000
    max_candidate_locations: int | None = 30_000

    def __post_init__(self) -> None:
        if self.p < 1:
            raise ConfigError(f"[sites] key 'p' must be at least 1 kit, got {self.p!r}.")
        for key in ("radius_m", "time_limit_s"):
            if not getattr(self, key) > 0:
                raise ConfigError(f"[sites] key {key!r} must be > 0, got {getattr(self, key)!r}.")
        for key in ("max_demand_points", "max_candidate_locations"):
            v = getattr(self, key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < MIN_POINTS_CAP):
                raise ConfigError(
                    f"[sites] key {key!r} must be a whole number of at least {MIN_POINTS_CAP} points, got {v!r}; "
                    "remove the key to never merge."
                )
        for r in self.sensitivity_radii_m:
            if not r > 0:
                raise ConfigError(f"[sites] key 'sensitivity_radii_m' values must be > 0 metres, got {r!r}.")
        if not 0 < self.alternative_share <= 1:
            raise ConfigError(
                "[sites] key 'alternative_share' must be in (0, 1] (0.99 = within 1 %), "
                f"got {self.alternative_share!r}."
            )
        if not 0 < self.target_pct <= PERCENT:
            raise ConfigError(f"[sites] key 'target_pct' must be in (0, 100], got {self.target_pct!r}.")
        for c in self.candidates:
            if c not in CANDIDATE_SOURCES:
                raise ConfigError(
                    f"[sites] key 'candidates': unknown source {c!r}. Valid: {', '.join(CANDIDATE_SOURCES)}."
                )
        for key in ("candidate_sites", "existing_kits", "defibrillators"):
            object.__setattr__(self, key, _point_file(getattr(self, key), key))
        _location_pattern(self.exclude_locations, ConfigError, "[sites] key 'exclude_locations'")


@dataclass(frozen=True)
class OutreachConfig:
    """``[outreach]``: detached youth outreach zones.

    Attributes
    ----------
    categories
        Scope categories counted as youth-relevant violence (default
        :data:`hotspots.prepare.scope.YOUTH_CATEGORIES`).
    top
        Number of top-scoring LSOAs grouped into zones (default 25).
    weights
        Weights of the score components ``youth_harm``, ``hotspot``, ``idaci``, ``cyp``
        (default 0.4, 0.3, 0.15, 0.15).
    cell_size_m
        Cell size of the grid used for focal points when the detect stage's grid is not
        available (default 100 m).
    """

    categories: tuple[str, ...] = YOUTH_CATEGORIES
    top: int = 25
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SCORE_WEIGHTS))
    cell_size_m: float = 100.0

    def __post_init__(self) -> None:
        for c in self.categories:
            if c not in SCOPE_CATEGORIES:
                raise ConfigError(
                    f"[outreach] key 'categories': unknown scope category {c!r}. "
                    f"Valid: {', '.join(sorted(SCOPE_CATEGORIES))}."
                )
        if self.top < 1:
            raise ConfigError(f"[outreach] key 'top' must be at least 1 LSOA, got {self.top!r}.")
        if not self.cell_size_m > 0:
            raise ConfigError(f"[outreach] key 'cell_size_m' must be > 0 metres, got {self.cell_size_m!r}.")
        _check_weights(self.weights, ConfigError, "[outreach] key 'weights'")


def _check_weights(weights: dict[str, float], exc: type[Exception], where: str) -> None:
    for k, v in weights.items():
        if k not in DEFAULT_SCORE_WEIGHTS:
            raise exc(f"{where}: unknown component {k!r}. Valid: {', '.join(DEFAULT_SCORE_WEIGHTS)}.")
        if not v >= 0:
            raise exc(f"{where}: {k!r} must be >= 0, got {v!r}.")
    if not sum(weights.values()) > 0:
        raise exc(f"{where}: at least one weight must be > 0.")
