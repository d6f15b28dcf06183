"""The patterns of ArcGIS Pro's Emerging Hot Spot Analysis, from per-month hot and cold flags.

:func:`classify_emerging` turns each cell's months as a significant hot or cold spot, and the
Mann-Kendall trend of its monthly statistic, into one of the 17 patterns (new, consecutive,
intensifying, persistent, diminishing, sporadic, oscillating and historical hot and cold spots,
or no pattern), as ArcGIS Pro's "How Emerging Hot Spot Analysis works".
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from hotspots.detect.gistar import NOT_ANALYSED
from hotspots.errors import InputError

# --- classes --------------------------------------------------------------------------
NEW_HOT = "new hot spot"
CONSECUTIVE_HOT = "consecutive hot spot"
INTENSIFYING_HOT = "intensifying hot spot"
PERSISTENT_HOT = "persistent hot spot"
DIMINISHING_HOT = "diminishing hot spot"
SPORADIC_HOT = "sporadic hot spot"
OSCILLATING_HOT = "oscillating hot spot"
HISTORICAL_HOT = "historical hot spot"
NEW_COLD = "new cold spot"
CONSECUTIVE_COLD = "consecutive cold spot"
INTENSIFYING_COLD = "intensifying cold spot"
PERSISTENT_COLD = "persistent cold spot"
DIMINISHING_COLD = "diminishing cold spot"
SPORADIC_COLD = "sporadic cold spot"
OSCILLATING_COLD = "oscillating cold spot"
HISTORICAL_COLD = "historical cold spot"
NO_PATTERN = "no pattern"

HOT_CLASSES = [
    NEW_HOT,
    CONSECUTIVE_HOT,
    INTENSIFYING_HOT,
    PERSISTENT_HOT,
    DIMINISHING_HOT,
    SPORADIC_HOT,
    OSCILLATING_HOT,
    HISTORICAL_HOT,
]
COLD_CLASSES = [
    NEW_COLD,
    CONSECUTIVE_COLD,
    INTENSIFYING_COLD,
    PERSISTENT_COLD,
    DIMINISHING_COLD,
    SPORADIC_COLD,
    OSCILLATING_COLD,
    HISTORICAL_COLD,
]
EMERGING_CLASSES = [*HOT_CLASSES, *COLD_CLASSES, NO_PATTERN]
"""The 17 ArcGIS Emerging Hot Spot Analysis patterns (plus :data:`NOT_ANALYSED`)."""

MIN_RUN = 2
"""A consecutive hot spot is hot in a run of at least this many final months."""
CUBE_DIMS = 2
"""Flags are (cells, months) arrays."""
MIN_MONTHS_ARCGIS = 10
"""ArcGIS Emerging Hot Spot Analysis needs at least 10 time steps."""

PERSISTENCE = 0.9
"""Share of months a cell must be hot (or cold) for intensifying / persistent /
diminishing / historical (ArcGIS: "90 percent of the time-step intervals")."""


def _trailing_run(flags: np.ndarray) -> np.ndarray:
    """Length of the run of True at the end of each row."""
    _m, T = flags.shape
    # position of the last False, counting from the end
    rev = flags[:, ::-1]
    any_false = (~rev).any(axis=1)
    first_false = np.argmax(~rev, axis=1)
    return np.where(any_false, first_false, T)


def _patterns(
    sig: np.ndarray, other: np.ndarray, tau: np.ndarray, p: np.ndarray, alpha: float, sign: int
) -> tuple[np.ndarray, list[tuple[str, np.ndarray]]]:
    """Masks of the eight patterns for hot (sign=+1, sig = hot bins) or cold (sign=-1)."""
    T = sig.shape[1]
    k = sig.sum(axis=1)
    final = sig[:, -1]
    run = _trailing_run(sig)
    persistent_share = k >= math.ceil(PERSISTENCE * T - 1e-9)
    trend_up = (sign * tau > 0) & (p < alpha)
    trend_down = (sign * tau < 0) & (p < alpha)
    new = final & (k == 1)
    consecutive = final & (run >= MIN_RUN) & (k == run) & ~persistent_share
    intensifying = final & persistent_share & trend_up
    diminishing = final & persistent_share & trend_down
    persistent = final & persistent_share & ~trend_up & ~trend_down
    ever_other = other.any(axis=1)
    earlier = final & ~persistent_share & (k > run)  # hot before the final run: on and off
    sporadic = earlier & ~ever_other
    oscillating = final & ~persistent_share & ~new & ~consecutive & ever_other
    historical = ~final & persistent_share
    return final, [
        ("new", new),
        ("consecutive", consecutive),
        ("intensifying", intensifying),
        ("persistent", persistent),
        ("diminishing", diminishing),
        ("sporadic", sporadic),
        ("oscillating", oscillating),
        ("historical", historical),
    ]


def classify_emerging(
    hot: npt.ArrayLike, cold: npt.ArrayLike, gi_tau: npt.ArrayLike, gi_p: npt.ArrayLike, *, alpha: float = 0.05
) -> np.ndarray:
    """ArcGIS Emerging Hot Spot patterns from per-month hot/cold flags and the Gi* trend.

    Parameters
    ----------
    hot, cold
        ``(cells, months)`` booleans: the bin is a significant hot / cold spot. Months in
        time order, the last column being the final time step.
    gi_tau, gi_p
        Mann-Kendall tau and p of each cell's Gi* z-scores over the months.
    alpha
        Significance level of the trend.

    Returns
    -------
    numpy.ndarray of str
        One of :data:`EMERGING_CLASSES` per cell.

    Notes
    -----
    With T months, "90 %" means at least ``ceil(0.9 T)`` months (11 of 12). For hot spots
    (cold spots: swap hot and cold, and "increasing" means z falling):

    * **new**: hot in the final month and in no earlier month.
    * **consecutive**: hot in an uninterrupted run of >= 2 months ending with the final
      month, never hot before that run, and hot in < 90 % of months.
    * **intensifying**: hot in >= 90 % of months including the final one, and the Gi* z
      rises significantly (Mann-Kendall tau > 0, p < ``alpha``).
    * **persistent**: hot in >= 90 % of months including the final one, no significant
      trend in Gi* z.
    * **diminishing**: as intensifying with z falling significantly.
    * **sporadic**: hot in the final month, in < 90 % of months, hot in some month before
      the final run (on and off), and never a cold spot.
    * **oscillating**: hot in the final month, in < 90 % of months, not new or
      consecutive, and a cold spot in some earlier month.
    * **historical**: not hot in the final month but hot in >= 90 % of months.
    * **no pattern**: none of these, hot or cold.

    Where several rules could apply, the first in this list wins; a cell hot in the final
    month always gets a hot pattern and a cell cold in the final month a cold pattern (so
    a cell hot for 11 months and cold in the 12th is a new cold spot); historical patterns
    apply only to cells significant in neither direction in the final month.
    ArcGIS's published definitions do not say whether a location once *cold* and hot only
    in the final month is "new" or "oscillating"; we follow its text literally ("never been
    a statistically significant hot spot before") and call it new.
    """
    hot = np.asarray(hot, dtype=bool)
    cold = np.asarray(cold, dtype=bool)
    if hot.shape != cold.shape or hot.ndim != CUBE_DIMS:
        raise InputError(f"hot and cold must be (cells, months) arrays of one shape, got {hot.shape} and {cold.shape}.")
    if (hot & cold).any():
        raise InputError("a bin cannot be both a hot and a cold spot.")
    gi_tau = np.asarray(gi_tau, dtype=float)
    gi_p = np.asarray(gi_p, dtype=float)
    out = np.full(hot.shape[0], NO_PATTERN, dtype=object)
    hot_names = dict(
        zip(
            [
                "new",
                "consecutive",
                "intensifying",
                "persistent",
                "diminishing",
                "sporadic",
                "oscillating",
                "historical",
            ],
            HOT_CLASSES,
            strict=False,
        )
    )
    cold_names = dict(zip(hot_names, COLD_CLASSES, strict=False))
    assigned = np.zeros(hot.shape[0], dtype=bool)
    _hot_final, hot_rules = _patterns(hot, cold, gi_tau, gi_p, alpha, +1)
    _cold_final, cold_rules = _patterns(cold, hot, gi_tau, gi_p, alpha, -1)
    # final-month patterns first (hot and cold are exclusive in the final month) ...
    for rules, names in ((hot_rules, hot_names), (cold_rules, cold_names)):
        for name, mask in rules:
            if name == "historical":
                continue
            take = mask & ~assigned
            out[take] = names[name]
            assigned |= take
    # ... then historical patterns
    for rules, names in ((hot_rules, hot_names), (cold_rules, cold_names)):
        mask = dict(rules)["historical"] & ~assigned
        out[mask] = names["historical"]
        assigned |= mask
    return out


__all__ = [
    "COLD_CLASSES",
    "EMERGING_CLASSES",
    "HOT_CLASSES",
    "MIN_MONTHS_ARCGIS",
    "NOT_ANALYSED",
    "NO_PATTERN",
    "PERSISTENCE",
    "classify_emerging",
]
