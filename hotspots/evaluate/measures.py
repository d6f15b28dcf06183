"""Hit-rate metrics of a hotspot prediction: hit rate, PAI, PEI and RRI at a share of the area.

Pure functions on one score per cell and the counts that followed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from hotspots.errors import InputError
from hotspots.validate import counts_array

_ROUNDING = 1e-9
"""Tolerance for the share of cells a coverage selects (0.05 x 100 cells is 5 cells, not 4.999...)."""

CELLS = "cells"  # number of cells that share amounts to (may be fractional)
TRAIN_TOTAL = "train_total"  # incidents (or harm) in the training months
TEST_TOTAL = "test_total"  # incidents (or harm) in the test months
HITS = "hits"  # test incidents in the selected cells
MAX_HITS = "max_hits"  # most test incidents any selection of the same size could hold
HIT_RATE = "hit_rate"  # hits / test_total (0-1)
PAI = "pai"  # hit_rate / coverage
PEI = "pei"  # Hunt's (2016) PEI: hits / max_hits (0-1)
RRI = "rri"  # (test share in selection) / (train share in selection)


# --------------------------------------------------------------------------------------
# concentration
# --------------------------------------------------------------------------------------


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


def selection(scores: npt.ArrayLike, coverage: float) -> np.ndarray:
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
    for cov, sums in zip(coverages, _selected_sums(s, coverages, arrays), strict=False):
        k = cov * n
        whole = min(math.floor(k + _ROUNDING), n)
        frac = k - whole
        max_hits = float(cum[whole]) + (frac * float(desc[whole]) if frac > _ROUNDING and whole < n else 0.0)
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
                PEI: hits / max_hits if max_hits > 0 else float("nan"),
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
    return counts_array(test, what)


def hit_rate(scores: npt.ArrayLike, test: npt.ArrayLike, *, coverage: float) -> float:
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


def pai(scores: npt.ArrayLike, test: npt.ArrayLike, *, coverage: float) -> float:
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


def pei(scores: npt.ArrayLike, test: npt.ArrayLike, *, coverage: float) -> float:
    """PEI (Predictive Efficiency Index): test incidents caught / the most any selection of the same size could catch.

    The denominator is the sum of the test counts of the ``coverage * n`` cells with the
    most test incidents (a perfect forecast of the same area), so PEI is 1 for a perfect
    prediction and compares methods independently of how concentrated the test period is.

    Notes
    -----
    Hunt, J. (2016) Do crime hot spots move? Exploring the effects of the modifiable
    areal unit problem and modifiable temporal unit problem on crime hot spot stability.
    PhD thesis, American University. Hunt defines PEI = PAI / PAI*, with PAI* the PAI of
    the perfect selection of the same area; the areas cancel, leaving this ratio of hits.
    Earlier versions of hotspots called it "PEI*", which is a different index: White, Hunt
    & Green (2023, *Security Journal*) propose PEI* as a modification of PEI, and it is not
    computed here.

    Examples
    --------
    >>> pei([3, 2, 1, 0], [4, 0, 0, 1], coverage=0.25)
    1.0
    """
    return _one(scores, test, None, coverage)[PEI]


def rri(scores: npt.ArrayLike, test: npt.ArrayLike, train: npt.ArrayLike, *, coverage: float) -> float:
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
