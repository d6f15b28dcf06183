"""``[rank]``: how places are ranked (:class:`RankConfig`) and the check of composite weights.

The column names live in :mod:`hotspots.rank.columns`, the valid option values in
:mod:`hotspots.rank.options` and the components in :mod:`hotspots.rank.components`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np

from hotspots.errors import ConfigError
from hotspots.rank.components.registry import COMPONENTS, DEFAULT_WEIGHTS
from hotspots.rank.options import METHODS, check_axes_options, check_options, choice


def check_weights(
    weights: object, *, where: str = "[rank] weights", error: type[Exception] = ConfigError
) -> dict[str, float]:
    """Validate component weights against the registry; return ``{component: float}`` in registry order.

    Raises ``error`` naming the problem: not a table, an unknown component (listing the
    registered ones), a negative or non-finite weight, or all weights zero.
    """
    if not isinstance(weights, dict) or not weights:
        raise error(f"{where} must be a non-empty table of component = weight, e.g. {{ harm_rate = 0.5 }}.")
    unknown = [k for k in weights if k not in COMPONENTS]
    if unknown:
        raise error(
            f"{where}: unknown component(s) {', '.join(map(repr, unknown))}. Valid components: {', '.join(COMPONENTS)}."
        )
    out: dict[str, float] = {}
    for k in COMPONENTS:
        if k not in weights:
            continue
        v = weights[k]
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v):
            raise error(f"{where}: weight of {k!r} must be a finite number, got {v!r}.")
        if v < 0:
            raise error(f"{where}: weight of {k!r} is negative ({v!r}); weights must be >= 0.")
        out[k] = float(v)
    if sum(out.values()) <= 0:
        raise error(f"{where}: all weights are zero; give at least one component a positive weight.")
    return out


COMPOSITE_ONLY = (
    "weights",
    "scaling",
    "combine",
    "kde_aggregate",
    "tier1_share",
    "tier2_share",
    "weight_noise",
    "dirichlet_concentration",
    "lognormal_sigma",
    "resample_counts",
    "on_missing",
)
"""Keys that only the composite method reads."""

AXES_ONLY = ("act_rule", "act_share", "act_harm_share", "prevent_share", "horizon_months", "level")
"""Keys that only the axes method reads."""


@dataclass(frozen=True)
class RankConfig:
    """``[rank]``: how places are ranked, tiered and their uncertainty estimated.

    Attributes
    ----------
    method
        ``"axes"`` (default): two axes, harm (empirical-Bayes smoothed harm, with the rate per
        resident beside it) and need (deprivation and youth need), Board tiers on both and
        90 % predictive intervals of the harm rank; ``"composite"``: one weighted score of
        the registered components (the ranking of earlier versions). docs/rank.md explains both.
    deprivation
        ``"imd_without_crime"`` (default; avoids double-counting recorded crime) or ``"imd"``.
    venue_radius
        Metres: a venue this close counts as "near" (incidents and LSOAs). Default 200.
    top_n
        Size of the Board's list: ``p_top_n`` is the chance of being in the top ``top_n``.
    draws
        Simulated draws (default 1,000): next periods (axes) or Monte Carlo worlds
        (composite); 0 = no uncertainty (composite only; the axes need at least 1).
    seed
        Seed of every random step (draws, the Gini chance floor).
    chance_draws
        Simulated random allocations behind the Gini's chance floor (default 200).
    act_rule
        Axes: ``"places"`` (default): ``act now`` = the top ``ceil(act_share x N)`` places on the
        harm axis; ``"harm"``: the fewest top places holding ``act_harm_share`` of all harm.
        Places tied at the cut-off are all included and a place needs harm > 0.
    act_share, act_harm_share
        Axes: see ``act_rule`` (defaults 0.05 and 0.25).
    prevent_share
        Axes: ``prevent`` = places not in ``act now`` whose need is in the top
        ``ceil(prevent_share x N)`` places (default 0.15; 0 = no prevent tier).
    horizon_months
        Axes: length of the "next period" of the rank intervals, months (default: as long as
        the analysed period).
    level
        Axes: probability of the rank intervals (default 0.90).
    weights
        Composite: ``{component = weight}``; components left out get weight 0. Valid
        components are the keys of the component registry
        (:data:`hotspots.rank.components.registry.REGISTRY`); default
        :data:`hotspots.rank.components.registry.DEFAULT_WEIGHTS`, re-normalised to sum to 1.
    scaling
        Composite: ``"percentile"`` (default), ``"minmax"`` or ``"zscore"``.
    combine
        Composite: ``"weighted_mean"`` (default) or ``"geometric_mean"`` (not with z-scores).
    kde_aggregate
        Composite: how grid-cell KDE values become an LSOA value: ``"max"`` (default) or ``"mean"``.
    tier1_share, tier2_share
        Composite: Tier 1 = the top ``ceil(tier1_share x N)`` places, Tier 2 the next
        ``ceil(tier2_share x N)``, Tier 3 the rest. Defaults 0.05 and 0.10.
    weight_noise
        Composite: ``"dirichlet"`` (default), ``"lognormal"`` or ``"none"``.
    dirichlet_concentration
        Composite: Dirichlet concentration: draws ~ Dirichlet(concentration x w).
    lognormal_sigma
        Composite: sigma of the multiplicative lognormal noise on each weight.
    resample_counts
        Composite: Poisson-resample incident counts in every draw (default true).
    on_missing
        Composite: ``"reweight"`` (default: a place missing a component is scored on the
        others, its weights re-normalised, and listed) or ``"error"``.
    """

    method: str = "axes"
    deprivation: str = "imd_without_crime"
    venue_radius: float = 200.0
    top_n: int = 20
    draws: int = 1000
    seed: int = 0
    chance_draws: int = 200
    act_rule: str = "places"
    act_share: float = 0.05
    act_harm_share: float = 0.25
    prevent_share: float = 0.15
    horizon_months: float | None = None
    level: float = 0.90
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    scaling: str = "percentile"
    combine: str = "weighted_mean"
    kde_aggregate: str = "max"
    tier1_share: float = 0.05
    tier2_share: float = 0.10
    weight_noise: str = "dirichlet"
    dirichlet_concentration: float = 100.0
    lognormal_sigma: float = 0.2
    resample_counts: bool = True
    on_missing: str = "reweight"

    def __post_init__(self) -> None:
        choice(self.method, METHODS, "[rank] key 'method'", ConfigError)
        object.__setattr__(self, "weights", check_weights(self.weights))
        o = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("method", "weights", "seed")}
        check_options(where="[rank]", error=ConfigError, **{k: v for k, v in o.items() if k not in AXES_ONLY})
        check_axes_options(where="[rank]", error=ConfigError, **{k: v for k, v in o.items() if k in AXES_ONLY})
        if self.chance_draws < 1:
            raise ConfigError(f"[rank] key 'chance_draws' must be >= 1, got {self.chance_draws!r}.")
        if self.method == "axes" and self.draws < 1:
            raise ConfigError(
                "[rank] key 'draws' must be >= 1 with method = 'axes' (the rank intervals are simulated), "
                f"got {self.draws!r}."
            )
        other = COMPOSITE_ONLY if self.method == "axes" else AXES_ONLY
        defaults = RankConfig.__dataclass_fields__
        for key in other:
            f = defaults[key]
            default = f.default_factory() if callable(f.default_factory) else f.default  # type: ignore[misc]
            if getattr(self, key) != default:
                want = "composite" if self.method == "axes" else "axes"
                raise ConfigError(
                    f"[rank] key {key!r} applies only to method = {want!r}, but method = {self.method!r}. "
                    f"Set method = {want!r} to use it, or delete the key."
                )
