"""Columns, components and options of the rank stage, with their checks and ``[rank]`` config.

Names shared by :mod:`hotspots.rank.stage` and its private helpers (:mod:`hotspots.rank.components`,
:mod:`hotspots.rank.scale`, :mod:`hotspots.rank.reasons`); the public ones are
importable from :mod:`hotspots.rank.stage`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hotspots import columns as C
from hotspots.errors import ConfigError
from hotspots.prepare.deprivation import IDACI_RATE, IMD_NC_DECILE

# --------------------------------------------------------------------------------------
# columns
# --------------------------------------------------------------------------------------

RANK = C.RANK  # 1 = highest priority; a permutation of 1..N
SCORE = "score"  # composite score (weighted mean of scaled components: 0-1 for percentile/min-max)
RANK_LOW = "rank_low"  # 5th percentile of the Monte Carlo ranks (best plausible rank), widened to contain `rank`
RANK_HIGH = "rank_high"  # 95th percentile of the Monte Carlo ranks (worst plausible rank), widened to contain `rank`
P_TOP_N = "p_top_n"  # share of Monte Carlo draws (0-1) in which the place is in the top N
TIER = "tier"  # Board tier 1, 2 or 3 (see RankConfig.tier1_share / tier2_share)
REASON = C.REASON  # one-line plain-language reason
MISSING = "missing"  # components with no data for this place ("" if none), ";"-separated

N_INCIDENTS = C.N  # in-scope incidents in the LSOA (count)
HARM = C.HARM  # sum of harm weights of those incidents (harm-weighted count)
HARM_NEAR = "harm_near"  # harm of incidents within venue_radius m of an NTE venue
HARM_RATE = "harm_rate"  # harm per 1,000 residents (IoD2019 mid-2015 population)
GI_Z = C.GI_Z  # Getis-Ord Gi* z-score of the LSOA's harm (queen contiguity), from detect
HOTSPOT_CLASS = C.HOTSPOT_CLASS  # Gi* class ("hot 99%" ... "cold 99%"), from detect
KDE = C.KDE  # KDE of harm, per km², aggregated over grid cells whose centre is in the LSOA (max by default)
VENUES_NEAR = "venues_near"  # NTE venues within venue_radius m of the LSOA boundary (count)
VENUE_DENSITY = "venue_density"  # NTE venues in the LSOA per km² of its area
NEAR_VENUE_SHARE = "near_venue_share"  # share (0-1) of the LSOA's harm within venue_radius m of a venue
DEPRIVATION_SCORE = (
    "deprivation_score"  # 0-100, higher = more deprived: IMD-without-crime score or transformed IMD rank
)
IMD_DECILE = C.IMD_DECILE  # official IMD decile (1 = most deprived 10 % of England)
IMD_NC_DECILE_COL = IMD_NC_DECILE  # IMD-without-crime decile (1 = most deprived 10 % of England)
IDACI_RATE_COL = IDACI_RATE  # derived IDACI rate (0-1); NaN where suppressed
CYP_NEED = "cyp_need"  # 0-100: 100 x (N - cyp_rank + 1) / N, N = LSOAs in England (32,844 IoD2019, 33,755 IoD2025)
CYP_DECILE = C.CYP_DECILE  # Children and Young People sub-domain decile (1 = most deprived)
POPULATION = C.POPULATION

COMPONENTS: dict[str, str] = {
    "harm_rate": HARM_RATE,
    "harm_count": HARM,
    "gi_z": GI_Z,
    "kde": KDE,
    "venue_density": VENUE_DENSITY,
    "near_venue_share": NEAR_VENUE_SHARE,
    "deprivation": DEPRIVATION_SCORE,
    "idaci": IDACI_RATE_COL,
    "cyp": CYP_NEED,
}
"""Component name (used in ``[rank] weights``) -> the column holding its raw value (higher = more need)."""

RESAMPLED = ("harm_rate", "harm_count", "near_venue_share")
"""Components recomputed from Poisson-resampled counts in every Monte Carlo draw."""

DEFAULT_WEIGHTS: dict[str, float] = {
    "harm_rate": 0.20,
    "harm_count": 0.20,
    "gi_z": 0.10,
    "kde": 0.10,
    "venue_density": 0.05,
    "near_venue_share": 0.05,
    "deprivation": 0.15,
    "idaci": 0.10,
    "cyp": 0.05,
}
"""Default weights: violence 60 % (rate, count, Gi*, KDE), NTE 10 %, deprivation 15 %, youth need 15 %."""

CONTRIB = {k: f"c_{k}" for k in COMPONENTS}
"""Contribution column of each component (see :func:`rank_places`)."""

COMPONENT_COLUMNS = [
    POPULATION,
    N_INCIDENTS,
    HARM,
    HARM_NEAR,
    HARM_RATE,
    GI_Z,
    HOTSPOT_CLASS,
    KDE,
    VENUES_NEAR,
    VENUE_DENSITY,
    NEAR_VENUE_SHARE,
    DEPRIVATION_SCORE,
    IMD_DECILE,
    IMD_NC_DECILE_COL,
    IDACI_RATE_COL,
    CYP_NEED,
    CYP_DECILE,
]
"""Raw component columns of :func:`place_components` (after ``lsoa_code, lsoa_name, district``)."""

PLACE_ID_COLUMNS = [C.LSOA_CODE, C.LSOA_NAME, C.DISTRICT]
PLACES_COLUMNS = [
    *PLACE_ID_COLUMNS,
    RANK,
    SCORE,
    RANK_LOW,
    RANK_HIGH,
    P_TOP_N,
    TIER,
    *COMPONENT_COLUMNS,
    *list(CONTRIB.values()),
    MISSING,
    REASON,
]
"""Columns of ``places`` (plus geometry), in order."""

DISTRICT_COLUMNS = [
    C.DISTRICT,
    "lsoas",
    POPULATION,
    "incidents",
    HARM,
    "rate_per_1000",
    "harm_per_1000",
    "top_n_places",
    "tier1_places",
    "share_lsoas_50pct",
    "gini",
    "median_rank",
]
"""Columns of :func:`district_profiles`."""

SCALINGS = ("percentile", "minmax", "zscore")
COMBINES = ("weighted_mean", "geometric_mean")
DEPRIVATION_MEASURES = ("imd_without_crime", "imd")
WEIGHT_NOISES = ("dirichlet", "lognormal", "none")
KDE_AGGREGATES = ("max", "mean")
ON_MISSING = ("reweight", "error")
GEOMETRIC_FLOOR = 0.01
"""Scaled values are floored at this before a geometric mean, so one zero does not zero the score."""
INTERVAL = (5.0, 95.0)
"""Percentiles of the Monte Carlo ranks reported as ``rank_low`` and ``rank_high``."""


# --------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------


def check_weights(
    weights: Any, *, where: str = "[rank] weights", error: type[Exception] = ConfigError
) -> dict[str, float]:
    """Validate component weights; return them as ``{component: float}`` in :data:`COMPONENTS` order.

    Raises ``error`` naming the problem: not a table, an unknown component (listing the valid
    ones), a negative or non-finite weight, or all weights zero.
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


def choice(value: str, valid: tuple[str, ...], where: str, error: type[Exception]) -> None:
    if value not in valid:
        raise error(f"{where} must be one of {', '.join(map(repr, valid))}, got {value!r}.")


@dataclass(frozen=True)
class RankConfig:
    """``[rank]``: how places are scored, tiered and their uncertainty estimated.

    Attributes
    ----------
    weights
        ``{component = weight}``; components left out get weight 0. Valid components are
        the keys of :data:`COMPONENTS`; default :data:`DEFAULT_WEIGHTS`. Weights are
        re-normalised to sum to 1.
    scaling
        ``"percentile"`` (default), ``"minmax"`` or ``"zscore"``.
    combine
        ``"weighted_mean"`` (default) or ``"geometric_mean"`` (not with z-scores).
    deprivation
        ``"imd_without_crime"`` (default; avoids double-counting recorded crime) or ``"imd"``.
    venue_radius
        Metres: a venue this close counts as "near" (incidents and LSOAs). Default 200.
    kde_aggregate
        How grid-cell KDE values become an LSOA value: ``"max"`` (default) or ``"mean"``.
    top_n
        Size of the Board's list: ``p_top_n`` is the chance of being in the top ``top_n``.
    tier1_share, tier2_share
        Tier 1 = the top ``ceil(tier1_share x N)`` places, Tier 2 the next
        ``ceil(tier2_share x N)``, Tier 3 the rest. Defaults 0.05 and 0.10.
    draws
        Monte Carlo draws (default 1,000; 0 = no uncertainty, intervals equal the rank).
    seed
        Seed of the Monte Carlo.
    weight_noise
        ``"dirichlet"`` (default), ``"lognormal"`` or ``"none"``.
    dirichlet_concentration
        Dirichlet concentration: draws ~ Dirichlet(concentration x w); larger = tighter.
    lognormal_sigma
        Sigma of the multiplicative lognormal noise on each weight.
    resample_counts
        Poisson-resample incident counts in every draw (default true).
    on_missing
        ``"reweight"`` (default: a place missing a component is scored on the others, its
        weights re-normalised, and listed) or ``"error"``.
    """

    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    scaling: str = "percentile"
    combine: str = "weighted_mean"
    deprivation: str = "imd_without_crime"
    venue_radius: float = 200.0
    kde_aggregate: str = "max"
    top_n: int = 20
    tier1_share: float = 0.05
    tier2_share: float = 0.10
    draws: int = 1000
    seed: int = 0
    weight_noise: str = "dirichlet"
    dirichlet_concentration: float = 100.0
    lognormal_sigma: float = 0.2
    resample_counts: bool = True
    on_missing: str = "reweight"

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", check_weights(self.weights))
        check_options(
            scaling=self.scaling,
            combine=self.combine,
            deprivation=self.deprivation,
            venue_radius=self.venue_radius,
            kde_aggregate=self.kde_aggregate,
            top_n=self.top_n,
            tier1_share=self.tier1_share,
            tier2_share=self.tier2_share,
            draws=self.draws,
            weight_noise=self.weight_noise,
            dirichlet_concentration=self.dirichlet_concentration,
            lognormal_sigma=self.lognormal_sigma,
            on_missing=self.on_missing,
            where="[rank]",
            error=ConfigError,
        )


def check_options(*, where: str, error: type[Exception], **o: Any) -> None:
    if "scaling" in o:
        choice(o["scaling"], SCALINGS, f"{where} key 'scaling'", error)
    if "combine" in o:
        choice(o["combine"], COMBINES, f"{where} key 'combine'", error)
        if o["combine"] == "geometric_mean" and o.get("scaling") == "zscore":
            raise error(
                f"{where}: combine = 'geometric_mean' needs positive scaled values; use scaling = "
                "'percentile' or 'minmax' with it, or combine = 'weighted_mean' with z-scores."
            )
    if "deprivation" in o:
        choice(o["deprivation"], DEPRIVATION_MEASURES, f"{where} key 'deprivation'", error)
    if "kde_aggregate" in o:
        choice(o["kde_aggregate"], KDE_AGGREGATES, f"{where} key 'kde_aggregate'", error)
    if "weight_noise" in o:
        choice(o["weight_noise"], WEIGHT_NOISES, f"{where} key 'weight_noise'", error)
    if "on_missing" in o:
        choice(o["on_missing"], ON_MISSING, f"{where} key 'on_missing'", error)
    if "venue_radius" in o and not o["venue_radius"] > 0:
        raise error(f"{where} key 'venue_radius' must be > 0 metres, got {o['venue_radius']!r}.")
    if "top_n" in o and not o["top_n"] >= 1:
        raise error(f"{where} key 'top_n' must be >= 1, got {o['top_n']!r}.")
    if "draws" in o and not o["draws"] >= 0:
        raise error(f"{where} key 'draws' must be >= 0 (0 = no Monte Carlo), got {o['draws']!r}.")
    t1, t2 = o.get("tier1_share", 0.05), o.get("tier2_share", 0.10)
    if not (0 < t1 <= 1 and 0 <= t2 <= 1 and t1 + t2 <= 1):
        raise error(
            f"{where}: tier1_share ({t1!r}) must be in (0, 1], tier2_share ({t2!r}) in [0, 1], and together at most 1."
        )
    if "dirichlet_concentration" in o and not o["dirichlet_concentration"] > 0:
        raise error(f"{where} key 'dirichlet_concentration' must be > 0, got {o['dirichlet_concentration']!r}.")
    if "lognormal_sigma" in o and not o["lognormal_sigma"] >= 0:
        raise error(f"{where} key 'lognormal_sigma' must be >= 0, got {o['lognormal_sigma']!r}.")
