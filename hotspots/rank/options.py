"""Valid values of the rank stage's options and their checks (shared by the config and the verbs).

Kept apart from :mod:`hotspots.rank.config` so that the component builders can check their
options without importing the component registry the config validates weights against.
"""

from __future__ import annotations

from typing import Any

METHODS = ("axes", "composite")
"""Ranking methods: two axes (harm and need, the default) or the composite score."""
SCALINGS = ("percentile", "minmax", "zscore")
COMBINES = ("weighted_mean", "geometric_mean")
DEPRIVATION_MEASURES = ("imd_without_crime", "imd")
WEIGHT_NOISES = ("dirichlet", "lognormal", "none")
KDE_AGGREGATES = ("max", "mean")
ON_MISSING = ("reweight", "error")
ACT_RULES = ("places", "harm")
"""How the ``act now`` cut-off is set: a share of places, or the top places holding a share of harm."""
GEOMETRIC_FLOOR = 0.01
"""Scaled values are floored at this before a geometric mean, so one zero does not zero the score."""
INTERVAL = (5.0, 95.0)
"""Percentiles of the composite Monte Carlo ranks reported as ``rank_low`` and ``rank_high``."""


def choice(value: str, valid: tuple[str, ...], where: str, error: type[Exception]) -> None:
    """Raise ``error`` unless ``value`` is one of ``valid`` (the message lists them)."""
    if value not in valid:
        raise error(f"{where} must be one of {', '.join(map(repr, valid))}, got {value!r}.")


def _share(o: dict[str, Any], key: str, where: str, error: type[Exception], *, open_low: bool) -> None:
    v = o[key]
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and (0 < v <= 1 if open_low else 0 <= v <= 1)
    if not ok:
        span = "(0, 1]" if open_low else "[0, 1]"
        raise error(f"{where} key {key!r} must be a share in {span} (write 5 % as 0.05), got {v!r}.")


def check_axes_options(*, where: str, error: type[Exception], **o: Any) -> None:
    """Check the options of the axes method that are present in ``o``."""
    if "act_rule" in o:
        choice(o["act_rule"], ACT_RULES, f"{where} key 'act_rule'", error)
    for key, open_low in (("act_share", True), ("act_harm_share", True), ("prevent_share", False)):
        if key in o:
            _share(o, key, where, error, open_low=open_low)
    if o.get("horizon_months") is not None and not o["horizon_months"] > 0:
        raise error(f"{where} key 'horizon_months' must be a positive number of months, got {o['horizon_months']!r}.")
    if "level" in o and not 0 < o["level"] < 1:
        raise error(f"{where} key 'level' must be a probability in (0, 1), e.g. 0.9, got {o['level']!r}.")
    if "chance_draws" in o and not o["chance_draws"] >= 1:
        raise error(f"{where} key 'chance_draws' must be >= 1, got {o['chance_draws']!r}.")


def check_options(*, where: str, error: type[Exception], **o: Any) -> None:
    """Check the options of the composite method (and the shared ones) that are present in ``o``."""
    simple = {
        "scaling": SCALINGS,
        "combine": COMBINES,
        "deprivation": DEPRIVATION_MEASURES,
        "kde_aggregate": KDE_AGGREGATES,
        "weight_noise": WEIGHT_NOISES,
        "on_missing": ON_MISSING,
    }
    for key, valid in simple.items():
        if key in o:
            choice(o[key], valid, f"{where} key {key!r}", error)
    if o.get("combine") == "geometric_mean" and o.get("scaling") == "zscore":
        raise error(
            f"{where}: combine = 'geometric_mean' needs positive scaled values; use scaling = "
            "'percentile' or 'minmax' with it, or combine = 'weighted_mean' with z-scores."
        )
    positive = {
        "venue_radius": "must be > 0 metres",
        "dirichlet_concentration": "must be > 0",
    }
    for key, text in positive.items():
        if key in o and not o[key] > 0:
            raise error(f"{where} key {key!r} {text}, got {o[key]!r}.")
    if "top_n" in o and not o["top_n"] >= 1:
        raise error(f"{where} key 'top_n' must be >= 1, got {o['top_n']!r}.")
    if "draws" in o and not o["draws"] >= 0:
        raise error(f"{where} key 'draws' must be >= 0 (0 = no Monte Carlo), got {o['draws']!r}.")
    if "lognormal_sigma" in o and not o["lognormal_sigma"] >= 0:
        raise error(f"{where} key 'lognormal_sigma' must be >= 0, got {o['lognormal_sigma']!r}.")
    t1, t2 = o.get("tier1_share", 0.05), o.get("tier2_share", 0.10)
    if not (0 < t1 <= 1 and 0 <= t2 <= 1 and t1 + t2 <= 1):
        raise error(
            f"{where}: tier1_share ({t1!r}) must be in (0, 1], tier2_share ({t2!r}) in [0, 1], and together at most 1."
        )
