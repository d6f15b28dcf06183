"""``[evaluate]``: the options of the rolling-origin backtest."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from hotspots.errors import ConfigError, InputError

METHODS = ("counts", "last_period", "kde", "gistar", "composite", "place_score", "random")
"""Prediction methods known to :func:`backtest`.

* ``counts``: incidents per cell over all training months (the long-run average).
* ``last_period``: incidents per cell in the last training period as long as the test
  window (last month for a one-month horizon, last quarter for a quarter).
* ``kde``: :func:`hotspots.detect.kde.hotspot_kde` of the training incidents.
* ``gistar``: Gi* z-score (:func:`hotspots.gistar.gistar`) of training counts per cell,
  queen neighbours plus the cell itself.
* ``composite``: weighted mean of the percentile ranks of ``counts``, ``kde`` and
  ``gistar`` (weights ``composite_weights``), i.e. the composite-index recipe of the
  place ranking applied to the grid with the grid's own components.
* ``place_score``: the Board's LSOA priority score (:func:`hotspots.rank.stage.composite_score`
  of :func:`hotspots.rank.stage.place_components`, ``[rank]`` weights), recomputed in every fold
  from the training incidents only, each cell taking the score of its LSOA. Needs
  ``lsoa=`` (and uses ``venues=``, ``deprivation=`` when given).
* ``random``: the uniform-random baseline, scored by its expected value (every cell
  selected with probability equal to the coverage).
"""

FORECAST_METHODS = ("ensemble", "poisson", "hgb")
"""Forecasting methods ``hotspots evaluate`` can add (:mod:`hotspots.evaluate.forecast`; ``hgb`` is slow: opt-in)."""

KIT_METHODS = ("mclp", "greedy", "busiest_venues")
"""Ways of choosing kits that ``hotspots evaluate`` tests on the future (:mod:`hotspots.evaluate.kits_backtest`)."""

COVERAGES = (0.01, 0.05, 0.10)
"""Default shares of the area: 1 %, 5 % and 10 %."""

DEFAULT_COMPOSITE_WEIGHTS = {"counts": 0.5, "kde": 0.25, "gistar": 0.25}


@dataclass(frozen=True)
class EvaluateConfig:
    """``[evaluate]``: the rolling-origin backtest of ``hotspots evaluate``.

    Attributes
    ----------
    source
        Crime source (``[[crime]] name``) to backtest; default the source with the most
        months (ties: the most incidents).
    cell_size
        Grid cell side in metres; default ``[detect] cell_size`` when set, else 100 m.
    methods
        Methods to compare (see :data:`METHODS`).
    coverages
        Shares of the area at which the metrics are computed (each in (0, 1]).
    horizons
        Test window lengths in months (1 = next month, 3 = next quarter).
    min_train_months
        Months in the first training window.
    weights
        ``"count"`` (each incident counts 1) or ``"harm"`` (harm-weighted).
    area
        ``"source_districts"``: the districts holding at least ``min_district_share`` of
        the source's incidents (the City for City-only data); ``"study"``: the whole study area.
    min_district_share
        See ``area``.
    kde_bandwidth
        KDE bandwidth in metres; default chosen automatically by :mod:`hotspots.detect.kde`.
    kde_kernel
        KDE kernel (as :func:`hotspots.detect.kde.hotspot_kde`).
    composite_weights
        Weights of ``counts``, ``kde`` and ``gistar`` in the composite (non-negative,
        not all zero).
    rank_draws
        Simulated next periods of the harm-rank interval backtest (``rank_interval_coverage``
        and the median interval width per horizon, over the evaluation area's LSOAs);
        default 1,000; 0 skips it.
    forecast_methods
        Forecasting methods backtested beside ``methods`` (:data:`FORECAST_METHODS`; default
        ``ensemble`` and ``poisson``; ``hgb`` is opt-in, about 20 times slower; ``[]`` = none).
        Their settings are the ``[forecast]`` section's.
    kit_methods
        Ways of choosing bleed-control kits tested on the future: chosen on months 1..k, scored on
        the next month or quarter (:data:`KIT_METHODS`; default all three; ``[]`` = none). The
        number of kits, radius and excluded locations are ``[sites]``'s.
    """

    source: str | None = None
    cell_size: float | None = None
    methods: list[str] = field(default_factory=lambda: list(METHODS))
    coverages: list[float] = field(default_factory=lambda: list(COVERAGES))
    horizons: list[int] = field(default_factory=lambda: [1, 3])
    min_train_months: int = 3
    weights: str = "count"
    area: str = "source_districts"
    min_district_share: float = 0.01
    kde_bandwidth: float | None = None
    kde_kernel: str = "quartic"
    composite_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_COMPOSITE_WEIGHTS))
    rank_draws: int = 1000
    forecast_methods: list[str] = field(default_factory=lambda: ["ensemble", "poisson"])
    kit_methods: list[str] = field(default_factory=lambda: list(KIT_METHODS))

    def __post_init__(self) -> None:
        for key, valid in (("forecast_methods", FORECAST_METHODS), ("kit_methods", KIT_METHODS)):
            for m in getattr(self, key):
                if m not in valid:
                    raise ConfigError(
                        f"[evaluate] key {key!r} has unknown method {m!r}; choose from {', '.join(valid)}."
                    )
        try:
            _check_options(
                methods=self.methods,
                coverages=self.coverages,
                horizons=self.horizons,
                min_train_months=self.min_train_months,
                weights=self.weights,
                composite_weights=self.composite_weights,
                where="[evaluate] key ",
            )
        except InputError as exc:
            raise ConfigError(str(exc)) from exc
        if self.cell_size is not None and not self.cell_size > 0:
            raise ConfigError(
                f"[evaluate] key 'cell_size' must be a positive number of metres, got {self.cell_size!r}."
            )
        if self.rank_draws < 0:
            raise ConfigError(f"[evaluate] key 'rank_draws' must be >= 0 (0 = skip), got {self.rank_draws!r}.")
        if self.area not in ("source_districts", "study"):
            raise ConfigError(f"[evaluate] key 'area' must be 'source_districts' or 'study', got {self.area!r}.")
        if not 0 <= self.min_district_share < 1:
            raise ConfigError(
                f"[evaluate] key 'min_district_share' must be in [0, 1), got {self.min_district_share!r}."
            )
        from hotspots.detect.kde import KERNELS

        if self.kde_kernel not in KERNELS:
            raise ConfigError(
                f"[evaluate] key 'kde_kernel' must be one of {', '.join(KERNELS)}, got {self.kde_kernel!r}."
            )
        if self.kde_bandwidth is not None and not self.kde_bandwidth > 0:
            raise ConfigError(
                f"[evaluate] key 'kde_bandwidth' must be a positive number of metres, got {self.kde_bandwidth!r}."
            )


def _check_options(
    *,
    methods: Sequence[str],
    coverages: Sequence[float],
    horizons: Sequence[int],
    min_train_months: int,
    weights: str | None,
    composite_weights: dict[str, float] | None,
    where: str = "",
) -> None:
    """Shared checks of the backtest options (raise :class:`InputError`)."""
    if not methods:
        raise InputError(f"{where}'methods' is empty; choose from {', '.join(METHODS)}.")
    for m in methods:
        if m not in METHODS:
            raise InputError(f"{where}'methods' has unknown method {m!r}; choose from {', '.join(METHODS)}.")
    if not coverages:
        raise InputError(f"{where}'coverages' is empty; give shares of the area such as [0.01, 0.05, 0.1].")
    for c in coverages:
        if isinstance(c, bool) or not isinstance(c, (int, float)) or not 0 < c <= 1:
            raise InputError(f"{where}'coverages' must be shares of the area in (0, 1], got {c!r} (write 5 % as 0.05).")
    if not horizons:
        raise InputError(f"{where}'horizons' is empty; give test window lengths in months such as [1, 3].")
    for h in horizons:
        if isinstance(h, bool) or not isinstance(h, int) or h < 1:
            raise InputError(f"{where}'horizons' must be whole numbers of months >= 1, got {h!r}.")
    if isinstance(min_train_months, bool) or not isinstance(min_train_months, int) or min_train_months < 1:
        raise InputError(f"{where}'min_train_months' must be a whole number >= 1, got {min_train_months!r}.")
    if weights not in (None, "count", "harm"):
        raise InputError(f"{where}'weights' must be 'count' or 'harm', got {weights!r}.")
    if composite_weights is not None:
        for k, v in composite_weights.items():
            if k not in DEFAULT_COMPOSITE_WEIGHTS:
                raise InputError(
                    f"{where}'composite_weights' has unknown component {k!r}; "
                    f"choose from {', '.join(DEFAULT_COMPOSITE_WEIGHTS)}."
                )
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise InputError(f"{where}'composite_weights' weight of {k!r} must be a number >= 0, got {v!r}.")
        if not any(v > 0 for v in composite_weights.values()):
            raise InputError(f"{where}'composite_weights' are all zero; give at least one component a positive weight.")
