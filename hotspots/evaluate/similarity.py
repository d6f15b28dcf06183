"""Is the pattern the same? Andresen's spatial point pattern test and hot spot map comparison.

**Spatial point pattern test** (:func:`sppt`; Andresen 2009, 2016). Variant implemented: the
original test as in the ``sppt`` R package (Steenbeek et al. 2018, ``sppt()`` with
``bootstrap = FALSE``): the *base* data are fixed; the *test* data are subsampled ``draws`` times
(default 100), each time ``round(sample_share * N)`` incidents (default 85 %) **without
replacement**; each unit's share of the sample is recorded; the unit's interval is the
``floor(a/2 * draws) + 1``-th to ``ceil((1 - a/2) * draws)``-th ordered share (the 3rd and 98th
of 100 at 95 %). ``s_index`` is -1 / 0 / +1 when the base share lies below / inside / above the
interval; the **S index** is the share of units with 0, and the **robust S index** (Wheeler,
Steenbeek & Andresen 2018) the same over units with at least one incident in either data set,
so that empty units cannot inflate similarity. ``replace=True`` gives the bootstrap variant
(``bootstrap = TRUE``: ``N`` draws with replacement). Sampling is vectorised: a subsample without
replacement has multivariate hypergeometric unit counts, a bootstrap multinomial ones, so only
counts per unit are drawn (seeded ``numpy.random.Generator``).

**Hot spot map comparison** (:func:`compare_classes`): two class maps of the same units (e.g. Gi*
classes of two periods, or of two sources): the share of units in the same class, Cohen's
(1960) kappa, and optionally the ArcGIS-style fuzzy similarity in which near classes (hot 99 %
vs hot 95 %) match partly (linear weights over the ordered classes, as weighted kappa). This is
the non-spatial core of ArcGIS Pro's *Hot Spot Analysis Comparison* (similarity and kappa);
ArcGIS additionally credits matches among each feature's neighbours and estimates the expected
similarity by permutation, which is not done here.

References
----------
Andresen, M. A. (2009) Testing for similarity in area-based spatial patterns: a nonparametric
Monte Carlo approach. *Applied Geography* 29, 333-345. Andresen, M. A. (2016) An area-based
nonparametric spatial point pattern test: the test, its applications, and the future. *Methodological
Innovations* 9. Wheeler, A. P., Steenbeek, W. & Andresen, M. A. (2018) Testing for similarity in
area-based spatial patterns: alternative methods to Andresen's spatial point pattern test.
*Transactions in GIS* 22, 760-774. Steenbeek, W. et al. (2018) *sppt: Spatial Point Pattern Test*,
R package 0.2.3. Cohen, J. (1960) A coefficient of agreement for nominal scales. *Educational and
Psychological Measurement* 20, 37-46.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hotspots.errors import InputError

MIN_DRAWS = 20  # fewer draws cannot place the 2.5th and 97.5th percentiles
MIN_CLASSES = 2

SPPT_COLUMNS = ["base", "test", "base_pct", "test_pct", "lower_pct", "upper_pct", "s_index", "similar", "robust"]
"""Columns of :attr:`SpptResult.units`."""


@dataclass(frozen=True)
class SpptResult:
    """Andresen's SPPT.

    Attributes
    ----------
    units
        One row per unit (:data:`SPPT_COLUMNS`): ``base, test`` counts; ``base_pct, test_pct``
        shares (%); ``lower_pct, upper_pct`` the test interval (%); ``s_index`` -1 (base share
        below the interval: the unit's share rose in the test data), 0 (similar), +1 (fell);
        ``similar`` (s_index == 0); ``robust`` (the unit counts in the robust S index).
    s_index
        Share of all units that are similar.
    robust_s_index
        Share of units with an incident in either data set that are similar (NaN if none).
    variant
        One sentence naming the variant and its settings.
    """

    units: pd.DataFrame
    s_index: float
    robust_s_index: float
    variant: str


def s_values(base_pct: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Per-unit S: -1 when the base share is below the test interval, 0 inside (inclusive), +1 above."""
    b = np.asarray(base_pct, dtype=float)
    return np.where(b < lower, -1, np.where(b > upper, 1, 0)).astype(np.int64)


def _counts(x: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 1:
        raise InputError(f"{name} must be one count per unit.")
    bad = ~np.isfinite(a) | (a < 0) | (a != np.round(a))
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f"{name} counts must be whole numbers >= 0; unit {i} has {float(a[i])!r}.")
    return a.astype(np.int64)


def sppt(
    base: Sequence[float] | np.ndarray,
    test: Sequence[float] | np.ndarray,
    *,
    sample_share: float = 0.85,
    draws: int = 100,
    confidence: float = 0.95,
    replace: bool = False,
    seed: int = 0,
    index: pd.Index | None = None,
) -> SpptResult:
    """Andresen's spatial point pattern test between two sets of counts on the same units.

    Parameters
    ----------
    base, test
        Incidents per unit in the base data (fixed) and the test data (resampled): two periods
        or two sources, on the same unit set, in the same order.
    sample_share
        Share of the test incidents in each subsample (0.85 = Andresen's 85 %); ignored with
        ``replace=True``.
    draws
        Number of subsamples (Andresen: 100).
    confidence
        Level of each unit's interval (0.95: the 3rd and 98th of 100 ordered shares).
    replace
        False: Andresen's subsampling without replacement; True: bootstrap (all N, with
        replacement).
    seed
        Seed of the random draws.
    index
        Index of the result rows (default 0..n-1).

    Returns
    -------
    SpptResult

    Raises
    ------
    InputError
        Counts not whole or of different lengths, a data set with no incidents, or settings
        out of range.

    Examples
    --------
    With ``sample_share=1`` every subsample is the whole test set, so the interval is the test
    share itself and S counts the units whose shares are equal:

    >>> r = sppt([2, 2, 0, 4], [2, 1, 0, 1], sample_share=1.0)
    >>> r.units["s_index"].tolist(), r.s_index, round(r.robust_s_index, 3)
    ([-1, 0, 0, 1], 0.5, 0.333)
    """
    b = _counts(base, "base")
    t = _counts(test, "test")
    if len(b) != len(t):
        raise InputError(f"base has {len(b)} units and test {len(t)}; count both on the same units.")
    if b.sum() == 0 or t.sum() == 0:
        raise InputError(f"both data sets need incidents in the units (base {b.sum()}, test {t.sum()}).")
    if not 0 < sample_share <= 1:
        raise InputError(f"sample_share must be in (0, 1], got {sample_share!r} (write 85 % as 0.85).")
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < MIN_DRAWS:
        raise InputError(f"draws must be a whole number >= {MIN_DRAWS}, got {draws!r}.")
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be between 0 and 1, got {confidence!r}.")
    rng = np.random.default_rng(seed)
    n_test = int(t.sum())
    m = n_test if replace else round(sample_share * n_test)
    if m < 1:
        raise InputError(f"a {sample_share:.0%} subsample of {n_test} test incidents is empty; use more data.")
    live = np.flatnonzero(t > 0)  # units with no test incident are always 0 in every sample
    if replace:
        draws_live = rng.multinomial(m, t[live] / n_test, size=draws)
    else:
        draws_live = rng.multivariate_hypergeometric(t[live], m, size=draws)
    pct_live = np.sort(100.0 * draws_live / m, axis=0)
    a = (1 - confidence) / 2
    i_lo = math.floor(a * draws)  # 0-based: floor(a draws) + 1 -th value
    i_hi = math.ceil((1 - a) * draws) - 1
    lower = np.zeros(len(t))
    upper = np.zeros(len(t))
    lower[live] = pct_live[i_lo]
    upper[live] = pct_live[i_hi]
    base_pct = 100.0 * b / b.sum()
    test_pct = 100.0 * t / n_test
    s = s_values(base_pct, lower, upper)
    similar = s == 0
    robust = (b + t) > 0
    units = pd.DataFrame(
        {
            "base": b,
            "test": t,
            "base_pct": base_pct,
            "test_pct": test_pct,
            "lower_pct": lower,
            "upper_pct": upper,
            "s_index": s,
            "similar": similar,
            "robust": robust,
        },
        index=index if index is not None else pd.RangeIndex(len(t)),
        columns=SPPT_COLUMNS,
    )
    how = "bootstrap (all incidents, with replacement)" if replace else f"{sample_share:.0%} subsamples"
    how += "" if replace else " without replacement"
    variant = (
        f"Andresen's SPPT, {how} of the test data, {draws} draws, {confidence:.0%} interval "
        f"(ordered shares {i_lo + 1} and {i_hi + 1}), seed {seed}; "
        f"robust S over units with an incident in either data set"
    )
    rs = float(similar[robust].mean()) if robust.any() else float("nan")
    return SpptResult(units, float(similar.mean()), rs, variant)


@dataclass(frozen=True)
class ClassComparison:
    """Agreement of two class maps.

    Attributes
    ----------
    units
        Units compared (after any exclusion).
    agreement
        Share of units in the same class.
    kappa
        Cohen's kappa (agreement beyond that expected from the class frequencies; 1 = perfect,
        0 = chance, NaN when both maps use a single identical class).
    weighted_similarity, weighted_kappa
        The same with partial credit for near classes (linear weights over the ordered classes).
    crosstab
        Units per (class in map a, class in map b).
    """

    units: int
    agreement: float
    kappa: float
    weighted_similarity: float
    weighted_kappa: float
    crosstab: pd.DataFrame


def compare_classes(
    a: Sequence[str] | np.ndarray,
    b: Sequence[str] | np.ndarray,
    *,
    classes: Sequence[str],
    exclude_both: str | None = None,
) -> ClassComparison:
    """Compare two class maps of the same units (ArcGIS's hot spot comparison, non-spatial core).

    Parameters
    ----------
    a, b
        The class of each unit in each map (same units, same order).
    classes
        Every class in its natural order (e.g. :data:`hotspots.detect.gistar.HOTSPOT_CLASSES`: hot 99 % ..
        cold 99 %); the order defines the linear weights ``1 - |i - j| / (k - 1)``.
    exclude_both
        A class (e.g. ``"not significant"``): units in it in **both** maps are left out, giving
        ArcGIS's conditional similarity of the significant units only.

    Returns
    -------
    ClassComparison

    Raises
    ------
    InputError
        Lengths differ, a class is not in ``classes``, or no units remain.

    Examples
    --------
    >>> r = compare_classes(["hot", "hot", "ns", "ns"], ["hot", "ns", "ns", "ns"], classes=["hot", "ns", "cold"])
    >>> r.agreement, round(r.kappa, 3)
    (0.75, 0.5)
    """
    x = np.asarray(list(a), dtype=object)
    y = np.asarray(list(b), dtype=object)
    if len(x) != len(y):
        raise InputError(f"the maps have {len(x)} and {len(y)} units; compare maps of the same units.")
    cls = list(classes)
    if len(cls) < MIN_CLASSES:
        raise InputError(f"classes must list at least two classes, got {cls!r}.")
    pos = {c: i for i, c in enumerate(cls)}
    for name, v in (("a", x), ("b", y)):
        unknown = sorted(set(v) - set(cls), key=str)
        if unknown:
            raise InputError(f"map {name} has class(es) {unknown!r} not in classes {cls!r}.")
    if exclude_both is not None:
        if exclude_both not in pos:
            raise InputError(f"exclude_both={exclude_both!r} is not one of the classes {cls!r}.")
        keep = ~((x == exclude_both) & (y == exclude_both))
        x, y = x[keep], y[keep]
    if len(x) == 0:
        raise InputError("no units left to compare.")
    k = len(cls)
    i = np.array([pos[v] for v in x])
    j = np.array([pos[v] for v in y])
    table = np.zeros((k, k))
    np.add.at(table, (i, j), 1)
    n = table.sum()
    obs = table / n
    exp = np.outer(obs.sum(axis=1), obs.sum(axis=0))
    idx = np.arange(k)
    w = 1 - np.abs(idx[:, None] - idx[None, :]) / (k - 1)

    def kappa_of(weights: np.ndarray) -> tuple[float, float]:
        po = float((weights * obs).sum())
        pe = float((weights * exp).sum())
        return po, (po - pe) / (1 - pe) if pe < 1 else float("nan")

    agree, kap = kappa_of(np.eye(k))
    wsim, wkap = kappa_of(w)
    crosstab = pd.DataFrame(table.astype(np.int64), index=pd.Index(cls, name="a"), columns=pd.Index(cls, name="b"))
    return ClassComparison(int(n), agree, kap, wsim, wkap, crosstab)
