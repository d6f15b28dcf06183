"""How concentrated violence is across places: Gini, generalised Gini, Lorenz curve, share holding half.

Pure functions on one count per place (Bernasco & Steenbeek 2017 for sparse counts).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from hotspots.errors import InputError
from hotspots.validate import counts_array

SHARE_PLACES = "share_places"
"""Cumulative share of places (0-1), places sorted from most to least violence."""


SHARE_CRIME = "share_crime"
"""Cumulative share of violence (0-1) held by those places."""


LORENZ_COLUMNS = [SHARE_PLACES, SHARE_CRIME]


def gini(counts: npt.ArrayLike, *, unbiased: bool = False) -> float:
    """Gini coefficient of the counts per place.

    Parameters
    ----------
    counts
        One non-negative count per place, places without crime included as 0.
    unbiased
        Multiply by n / (n - 1), so that all crime in one place gives exactly 1.

    Returns
    -------
    float
        0 (every place has the same count) to (n - 1) / n (all in one place), or 1 with
        ``unbiased``; NaN when there is no crime at all.

    Notes
    -----
    G = sum_i sum_j |x_i - x_j| / (2 n^2 mean(x)), computed from the sorted counts as
    sum_i (2 i - n - 1) x_(i) / (n sum x). This is the *plain* (biased) Gini of
    DescTools ``Gini(unbiased = FALSE)`` and of Bernasco & Steenbeek (2017): the counts
    (3, 1, 1, 0, 0, 0, 0, 0, 0, 0) give G = 0.78 (the n / (n - 1) form gives 0.867).

    Examples
    --------
    >>> round(gini([3, 1, 1, 0, 0, 0, 0, 0, 0, 0]), 2)
    0.78
    """
    x = np.sort(counts_array(counts))
    n, total = len(x), x.sum()
    if total == 0:
        return float("nan")
    i = np.arange(1, n + 1)
    g = float(np.sum((2 * i - n - 1) * x) / (n * total))
    if unbiased:
        g = g * n / (n - 1) if n > 1 else float("nan")
    return float(min(max(g, 0.0), 1.0))


def generalised_gini(counts: npt.ArrayLike) -> float:
    """Generalised Gini for sparse crime counts (Bernasco & Steenbeek 2017).

    When crimes (N) are fewer than places (n), even the most even spread leaves n - N
    places empty, so the plain Gini cannot fall below 1 - N / n. The generalised Gini
    measures concentration against that *maximal equality given the data*:
    G' = max(1, n / N) (G - 1) + 1. It equals :func:`gini` when N >= n.

    Parameters
    ----------
    counts
        One non-negative whole-number count per place, zeros included.

    Returns
    -------
    float
        In [0, (n-1)/n]; NaN when there is no crime.

    Raises
    ------
    InputError
        Negative, missing or non-whole counts (the correction assumes counts of events).

    Notes
    -----
    Bernasco, W. & Steenbeek, W. (2017) More places than crimes: implications for
    evaluating the law of crime concentration at place. *Journal of Quantitative
    Criminology* 33, 451-467. Formula as in their R package ``lorenzgini`` (``gini(x,
    generalized = TRUE, unbiased = FALSE)``): its examples (5, 2, 1, 0, ..., 0) over ten
    places give G = 0.80 and G' = 0.75. For (3, 1, 1, 0, ..., 0) it gives G' = 0.56
    (not 0.58 as sometimes quoted).

    Examples
    --------
    >>> round(generalised_gini([5, 2, 1, 0, 0, 0, 0, 0, 0, 0]), 2)
    0.75
    """
    x = counts_array(counts)
    frac = np.flatnonzero(x != np.round(x))
    if len(frac):
        i = int(frac[0])
        raise InputError(
            f"generalised_gini needs whole-number counts of events; position {i} holds {float(x[i])!r}. "
            f"Use gini() for weighted (e.g. harm) totals."
        )
    n, total = len(x), x.sum()
    if total == 0:
        return float("nan")
    g = gini(x)
    return float(min(max(max(1.0, n / total) * (g - 1.0) + 1.0, 0.0), 1.0))


def lorenz(counts: npt.ArrayLike) -> pd.DataFrame:
    """Concentration (Lorenz) curve: share of violence held by the most violent places.

    Parameters
    ----------
    counts
        One non-negative count per place, zeros included.

    Returns
    -------
    pandas.DataFrame
        ``share_places`` (cumulative share of places, from the most to the least
        violent) and ``share_crime`` (cumulative share of violence they hold), both
        from 0 to 1, n + 1 rows starting at (0, 0). The plain Gini is twice the area
        between this curve and the diagonal.

    Examples
    --------
    >>> lorenz([3, 1, 0, 0]).round(2).values.tolist()
    [[0.0, 0.0], [0.25, 0.75], [0.5, 1.0], [0.75, 1.0], [1.0, 1.0]]
    """
    x = np.sort(counts_array(counts))[::-1]
    total = x.sum()
    n = len(x)
    share_crime = np.concatenate([[0.0], np.cumsum(x) / total]) if total > 0 else np.full(n + 1, np.nan)
    return pd.DataFrame({SHARE_PLACES: np.arange(n + 1) / n, SHARE_CRIME: share_crime})


def share_holding(counts: npt.ArrayLike, share: float = 0.5) -> float:
    """The smallest share of places that together hold ``share`` of the violence.

    Parameters
    ----------
    counts
        One non-negative count per place, zeros included.
    share
        Share of violence, in (0, 1] (0.5 = half).

    Returns
    -------
    float
        k / n, where k is the fewest places (taken from the most violent) whose counts
        sum to at least ``share`` of the total; NaN when there is no crime.

    Examples
    --------
    >>> share_holding([3, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    0.1
    """
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= 1:
        raise InputError(f"share must be in (0, 1] (e.g. 0.5 for half of the violence), got {share!r}.")
    x = np.sort(counts_array(counts))[::-1]
    total = x.sum()
    if total == 0:
        return float("nan")
    cum = np.cumsum(x)
    k = int(np.searchsorted(cum, share * total * (1 - 1e-12), side="left")) + 1
    return min(k, len(x)) / len(x)


def concentration(counts: npt.ArrayLike) -> dict[str, float]:
    """Gini, generalised Gini (whole counts only) and the share of places holding 50 %.

    Returns
    -------
    dict
        ``places, incidents, gini, generalised_gini, share_places_50pct``.
    """
    x = counts_array(counts)
    whole = bool(np.all(x == np.round(x)))
    return {
        "places": len(x),
        "incidents": float(x.sum()),
        "gini": gini(x),
        "generalised_gini": generalised_gini(x) if whole else float("nan"),
        "share_places_50pct": share_holding(x, 0.5),
    }


def _row_gini(x: np.ndarray) -> np.ndarray:
    """Plain Gini of every row of ``x`` (draws, places), as :func:`gini`."""
    s = np.sort(x, axis=1)
    n = s.shape[1]
    i = np.arange(1, n + 1)
    tot = s.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = (s * (2 * i - n - 1)).sum(axis=1) / (n * tot)
    return np.where(tot > 0, np.clip(g, 0.0, 1.0), np.nan)


def gini_chance_floor(
    incidents: int, weights: npt.ArrayLike, *, draws: int = 200, seed: int | np.random.SeedSequence = 0
) -> dict[str, float]:
    """The Gini expected by chance: ``incidents`` falling at random in proportion to ``weights``.

    Parameters
    ----------
    incidents
        How many incidents to place (the observed total).
    weights
        One exposure per place (residents, or area), zeros and NaN meaning none; the
        places are the same as the observed Gini's.
    draws
        Simulated allocations.
    seed
        Seed (or seed sequence) of the multinomial draws.

    Returns
    -------
    dict
        ``mean`` (the chance floor: the mean Gini of the simulated allocations), ``low`` and
        ``high`` (2.5th and 97.5th percentiles), ``draws``; NaN when there is nothing to place.

    Notes
    -----
    With few incidents over many places the Gini is high even when every place has the same
    risk per resident (Bernasco & Steenbeek 2017): most places are empty by chance. The
    observed Gini means "concentrated" only as far as it exceeds this floor. Each draw is
    ``Multinomial(incidents, weights / sum(weights))``.

    Examples
    --------
    >>> f = gini_chance_floor(10, [1.0] * 100, draws=50, seed=1)
    >>> 0.85 < f["mean"] < 0.95
    True
    """
    w = np.nan_to_num(np.asarray(weights, dtype=float), nan=0.0)
    if isinstance(incidents, bool) or int(incidents) != incidents or incidents < 0:
        raise InputError(f"gini_chance_floor: `incidents` must be a whole number >= 0, got {incidents!r}.")
    if (w < 0).any():
        raise InputError("gini_chance_floor: `weights` must be >= 0 (residents or area per place).")
    if incidents == 0 or w.sum() <= 0 or len(w) == 0:
        return {"mean": float("nan"), "low": float("nan"), "high": float("nan"), "draws": int(draws)}
    rng = np.random.default_rng(seed)
    sims = rng.multinomial(int(incidents), w / w.sum(), size=int(draws)).astype(float)
    g = _row_gini(sims)
    lo, hi = np.percentile(g, [2.5, 97.5])
    return {"mean": float(g.mean()), "low": float(lo), "high": float(hi), "draws": int(draws)}
