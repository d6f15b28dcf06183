"""Concentration measures and hit-rate metrics (re-exported by :mod:`hotspots.evaluate.backtest`).

Pure functions on one count (or score) per place. Import them from
:mod:`hotspots.evaluate.backtest`; this module only keeps that one under ~600 lines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from hotspots.errors import InputError

SHARE_PLACES = "share_places"
"""Cumulative share of places (0-1), places sorted from most to least violence."""
SHARE_CRIME = "share_crime"
"""Cumulative share of violence (0-1) held by those places."""
LORENZ_COLUMNS = [SHARE_PLACES, SHARE_CRIME]

CELLS = "cells"  # number of cells that share amounts to (may be fractional)
TRAIN_TOTAL = "train_total"  # incidents (or harm) in the training months
TEST_TOTAL = "test_total"  # incidents (or harm) in the test months
HITS = "hits"  # test incidents in the selected cells
MAX_HITS = "max_hits"  # most test incidents any selection of the same size could hold
HIT_RATE = "hit_rate"  # hits / test_total (0-1)
PAI = "pai"  # hit_rate / coverage
PEI_STAR = "pei_star"  # hits / max_hits (0-1)
RRI = "rri"  # (test share in selection) / (train share in selection)


# --------------------------------------------------------------------------------------
# concentration
# --------------------------------------------------------------------------------------


def _counts_array(counts: Any, what: str = "counts") -> np.ndarray:
    try:
        x = np.asarray(counts, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} must be numbers (one per place), got {type(counts).__name__}: {exc}") from exc
    if len(x) == 0:
        raise InputError(f"{what} is empty; pass one count per place (zeros included).")
    bad = np.flatnonzero(~np.isfinite(x) | (x < 0))
    if len(bad):
        i = int(bad[0])
        raise InputError(
            f"{what} must be non-negative finite numbers; position {i} holds {float(x[i])!r}. "
            f"Count places without crime as 0 and drop missing values."
        )
    return x


def gini(counts: Any, *, unbiased: bool = False) -> float:
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
    x = np.sort(_counts_array(counts))
    n, total = len(x), x.sum()
    if total == 0:
        return float("nan")
    i = np.arange(1, n + 1)
    g = float(np.sum((2 * i - n - 1) * x) / (n * total))
    if unbiased:
        g = g * n / (n - 1) if n > 1 else float("nan")
    return float(min(max(g, 0.0), 1.0))


def generalised_gini(counts: Any) -> float:
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
    x = _counts_array(counts)
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


def lorenz(counts: Any) -> pd.DataFrame:
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
    x = np.sort(_counts_array(counts))[::-1]
    total = x.sum()
    n = len(x)
    share_crime = np.concatenate([[0.0], np.cumsum(x) / total]) if total > 0 else np.full(n + 1, np.nan)
    return pd.DataFrame({SHARE_PLACES: np.arange(n + 1) / n, SHARE_CRIME: share_crime})


def share_holding(counts: Any, share: float = 0.5) -> float:
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
    x = np.sort(_counts_array(counts))[::-1]
    total = x.sum()
    if total == 0:
        return float("nan")
    cum = np.cumsum(x)
    k = int(np.searchsorted(cum, share * total * (1 - 1e-12), side="left")) + 1
    return min(k, len(x)) / len(x)


def concentration(counts: Any) -> dict[str, float]:
    """Gini, generalised Gini (whole counts only) and the share of places holding 50 %.

    Returns
    -------
    dict
        ``places, incidents, gini, generalised_gini, share_places_50pct``.
    """
    x = _counts_array(counts)
    whole = bool(np.all(x == np.round(x)))
    return {
        "places": int(len(x)),
        "incidents": float(x.sum()),
        "gini": gini(x),
        "generalised_gini": generalised_gini(x) if whole else float("nan"),
        "share_places_50pct": share_holding(x, 0.5),
    }


# --------------------------------------------------------------------------------------
# hit-rate metrics
# --------------------------------------------------------------------------------------


def _scores_array(scores: Any, n: int | None = None, what: str = "scores") -> np.ndarray:
    s = np.asarray(scores, dtype=float).ravel()
    if n is not None and len(s) != n:
        raise InputError(f"{what} has {len(s)} values but the test counts have {n}; pass one value per cell.")
    if len(s) == 0:
        raise InputError(f"{what} is empty; pass one value per cell.")
    # NaN (e.g. Gi* of a constant surface) ranks below every number
    return np.where(np.isnan(s), -np.inf, s)


def _check_coverage(coverage: float) -> float:
    if isinstance(coverage, bool) or not isinstance(coverage, (int, float, np.floating)) or not 0 < coverage <= 1:
        raise InputError(f"coverage must be a share of the area in (0, 1], got {coverage!r} (write 5 % as 0.05).")
    return float(coverage)


def selection(scores: Any, coverage: float) -> np.ndarray:
    """How much of each cell a top-``coverage`` selection takes (0-1 per cell).

    The ``coverage * n`` cells with the highest scores are selected; the cells tied at
    the cut-off share what is left equally (the expected value of a random tie-break),
    so the weights always sum to exactly ``coverage * n`` and the result does not
    depend on the order of the cells. NaN scores rank last.

    Examples
    --------
    >>> selection([5, 2, 2, 0], 0.5).tolist()
    [1.0, 0.5, 0.5, 0.0]
    """
    s = _scores_array(scores)
    cov = _check_coverage(coverage)
    n = len(s)
    k = cov * n
    w = np.zeros(n)
    kk = max(1, math.ceil(k - 1e-9))
    order = np.argsort(-s, kind="stable")
    t = s[order[kk - 1]]
    above = s > t
    tied = s == t
    rest = k - above.sum()
    w[above] = 1.0
    w[tied] = rest / tied.sum()
    return w


def _ranked(test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Test counts sorted from the largest and their cumulative sums (0 first)."""
    desc = np.sort(test)[::-1]
    return desc, np.concatenate([[0.0], np.cumsum(desc)])


def _selected_sums(s: np.ndarray, coverages: Sequence[float], arrays: Sequence[np.ndarray]) -> list[list[float]]:
    """``selection(s, c) @ a`` for every coverage c and array a, with one sort of ``s``."""
    n = len(s)
    order = np.argsort(-s, kind="stable")
    neg = -s[order]  # ascending
    out = []
    for cov in coverages:
        k = cov * n
        kk = max(1, math.ceil(k - 1e-9))
        t = neg[kk - 1]
        lo = int(np.searchsorted(neg, t, side="left"))
        hi = int(np.searchsorted(neg, t, side="right"))
        frac = (k - lo) / (hi - lo)
        above, tied = order[:lo], order[lo:hi]
        out.append([float(a[above].sum() + frac * a[tied].sum()) for a in arrays])
    return out


def _coverage_metrics(
    s: np.ndarray,
    test: np.ndarray,
    train: np.ndarray | None,
    coverages: Sequence[float],
    *,
    ranked: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[dict[str, float]]:
    """Every metric of :data:`BACKTEST_COLUMNS` for scores ``s`` at each coverage."""
    n = len(test)
    desc, cum = ranked if ranked is not None else _ranked(test)
    test_total = float(cum[-1])
    train_total = float(train.sum()) if train is not None else float("nan")
    arrays = [test] if train is None else [test, train]
    out = []
    for cov, sums in zip(coverages, _selected_sums(s, coverages, arrays)):
        k = cov * n
        whole = min(int(math.floor(k + 1e-9)), n)
        frac = k - whole
        max_hits = float(cum[whole]) + (frac * float(desc[whole]) if frac > 1e-9 and whole < n else 0.0)
        hits = sums[0]
        hr = hits / test_total if test_total > 0 else float("nan")
        rri_v = float("nan")
        if train is not None and train_total > 0 and sums[1] > 0:
            rri_v = hr / (sums[1] / train_total)
        out.append(
            {
                CELLS: k,
                TRAIN_TOTAL: train_total,
                TEST_TOTAL: test_total,
                HITS: hits,
                MAX_HITS: max_hits,
                HIT_RATE: hr,
                PAI: hr / cov,
                PEI_STAR: hits / max_hits if max_hits > 0 else float("nan"),
                RRI: rri_v,
            }
        )
    return out


def _one(scores: Any, test: Any, train: Any, coverage: float) -> dict[str, float]:
    """Metrics of one prediction at one coverage (the public metric functions)."""
    t = _test_array(test)
    s = _scores_array(scores, len(t))
    cov = _check_coverage(coverage)
    tr = None
    if train is not None:
        tr = _test_array(train, "train")
        if len(tr) != len(t):
            raise InputError(f"train has {len(tr)} values but test has {len(t)}; pass one value per cell for both.")
    return _coverage_metrics(s, t, tr, [cov])[0]


def _test_array(test: Any, what: str = "test") -> np.ndarray:
    return _counts_array(test, what)


def hit_rate(scores: Any, test: Any, *, coverage: float) -> float:
    """Share of the test incidents that fall in the top ``coverage`` of cells by score.

    Parameters
    ----------
    scores
        Prediction per cell (higher = more likely hotspot).
    test
        Incidents per cell in the test period, aligned with ``scores``.
    coverage
        Share of the cells selected, in (0, 1].

    Returns
    -------
    float
        0-1; NaN when the test period has no incidents.

    Examples
    --------
    >>> hit_rate([3, 2, 1, 0], [4, 0, 0, 1], coverage=0.25)
    0.8
    """
    return _one(scores, test, None, coverage)[HIT_RATE]


def pai(scores: Any, test: Any, *, coverage: float) -> float:
    """Predictive Accuracy Index: hit rate / share of the area selected.

    Area share is the share of cells (``coverage``), so a perfect prediction of a test
    period whose incidents all fit in the selection scores 1 / coverage, and random
    selection scores 1 (in expectation; exactly 1 for a constant score).

    Notes
    -----
    Chainey, S., Tompson, L. & Uhlig, S. (2008) The utility of hotspot mapping for
    predicting spatial patterns of crime. *Security Journal* 21, 4-28.

    Examples
    --------
    >>> pai([3, 2, 1, 0], [4, 0, 0, 1], coverage=0.25)
    3.2
    """
    return _one(scores, test, None, coverage)[PAI]


def pei_star(scores: Any, test: Any, *, coverage: float) -> float:
    """PEI*: test incidents caught / the most any selection of the same size could catch.

    The denominator is the sum of the test counts of the ``coverage * n`` cells with the
    most test incidents (a perfect forecast), so PEI* is 1 for a perfect prediction and
    compares methods independently of how concentrated the test period happens to be.

    Notes
    -----
    Hunt, J. (2016) Do crime hot spots move? Exploring the effects of the modifiable
    areal unit problem and modifiable temporal unit problem on crime hot spot stability.
    PhD thesis, American University (PEI = PAI / maximum PAI at the same area, which is
    this ratio). White, Hunt & Green (2023, *Security Journal*) and Joshi et al. (2021,
    *ISPRS IJGI* 10, 597) discuss the variant PEI*; here PEI* is, as defined for this
    project, the hit rate relative to the maximum possible with the same number of cells.

    Examples
    --------
    >>> pei_star([3, 2, 1, 0], [4, 0, 0, 1], coverage=0.25)
    1.0
    """
    return _one(scores, test, None, coverage)[PEI_STAR]


pei = pei_star
"""Alias of :func:`pei_star` (Hunt's PEI at a fixed number of cells is the same ratio)."""


def rri(scores: Any, test: Any, train: Any, *, coverage: float) -> float:
    """Recapture Rate Index: how well the selected cells keep their share of violence.

    RRI = (test incidents in selection / test total) / (training incidents in selection /
    training total) (Levine 2008: (n2 / n1) / (N2 / N1)). About 1: the hotspots hold the
    same share of violence in the test period as in training; below 1: their share falls.

    Notes
    -----
    Levine, N. (2008) The "hottest" part of a hotspot: comments on "The utility of
    hotspot mapping for predicting spatial patterns of crime". *Security Journal* 21, 295-302.

    Examples
    --------
    >>> round(rri([3, 2, 1, 0], [4, 0, 0, 1], [6, 2, 1, 1], coverage=0.25), 4)
    1.3333
    """
    return _one(scores, test, train, coverage)[RRI]
