"""Vectorised exact binomial primitives shared by :mod:`.change` and :mod:`.power`.

:func:`binom_p_two_sided` reproduces ``scipy.stats.binomtest(k, n, p).pvalue`` (two-sided) on
whole arrays: the same "minimum likelihood" rule (sum the probabilities of every outcome no
more likely than the observed one, with scipy's relative tolerance ``1 + 1e-7``), the same
binary search for the cut-off on the far side of the mode, the same tie correction. Inputs are
de-duplicated first: over many units with one common ``p`` only the distinct ``(k, n)`` pairs
are computed, which is what makes 218,000 units fast.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats

RERR = 1.0 + 1e-7
"""scipy's relative tolerance for "as likely as the observed outcome" in the two-sided test."""


def _unique_rows(*cols: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows of the stacked columns and the inverse index (``cols[i] == uniq[i][inverse]``).

    Columns of small whole numbers >= 0 are packed into one int64 key (a 1-d ``np.unique``, much
    faster than a row-wise one); anything else falls back to ``np.unique(axis=0)``.
    """
    arrs = [np.asarray(c, dtype=float).ravel() for c in cols]
    if len(arrs[0]) == 0:
        return [np.empty(0) for _ in cols], np.empty(0, dtype=np.int64)
    const = [bool(np.all(a == a[0])) for a in arrs]
    var = [a for a, c in zip(arrs, const, strict=True) if not c]
    if not var:
        return [a[:1].copy() for a in arrs], np.zeros(len(arrs[0]), dtype=np.int64)
    whole = all(a.min() >= 0 and np.all(a == np.floor(a)) for a in var)
    spans = [int(a.max()) + 1 for a in var] if whole else []
    if whole and float(np.prod(np.asarray(spans, dtype=float))) < 2**62:
        key = np.zeros(len(var[0]), dtype=np.int64)
        for a, span in zip(var, spans, strict=True):
            key = key * span + a.astype(np.int64)
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    else:
        _, first, inverse = np.unique(np.stack(var, axis=1), axis=0, return_index=True, return_inverse=True)
    return [a[first] for a in arrs], inverse.ravel()


def _binary_search(
    a: Callable[[np.ndarray, np.ndarray], np.ndarray], d: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Vectorised ``scipy.stats._binomtest._binary_search_for_binom_tst``.

    For each element finds ``i`` in ``[lo, hi]`` with ``a(i) <= d < a(i + 1)`` (``a`` ascending on
    the range), returning ``mid`` on exact equality and ``lo - 1`` when ``a(lo) > d`` at the end,
    exactly as scipy's scalar loop does. ``a(x, idx)`` evaluates at ``x`` for the elements ``idx``.
    """
    lo = lo.astype(float).copy()
    hi = hi.astype(float).copy()
    out = np.full(len(lo), np.nan)
    done = np.zeros(len(lo), dtype=bool)
    active = lo < hi
    while active.any():
        idx = np.flatnonzero(active)
        mid = lo[idx] + np.floor((hi[idx] - lo[idx]) / 2)
        val = a(mid, idx)
        less = val < d[idx]
        more = val > d[idx]
        same = ~less & ~more
        lo[idx[less]] = mid[less] + 1
        hi[idx[more]] = mid[more] - 1
        out[idx[same]] = mid[same]
        done[idx[same]] = True
        active = (lo < hi) & ~done
    rest = np.flatnonzero(~done)
    if len(rest):
        val = a(lo[rest], rest)
        out[rest] = np.where(val <= d[rest], lo[rest], lo[rest] - 1)
    return out


def _minlike_p_unique(k: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Scipy's two-sided binomtest p on 1-d arrays (n >= 1, 0 < p < 1), no de-duplication."""
    out = np.ones(len(k))
    d = stats.binom.pmf(k, n, p)
    pn = p * n
    low = k < pn
    high = k > pn
    if low.any():
        i = np.flatnonzero(low)
        ni, pi, di = n[i], p[i], d[i]
        ix = _binary_search(
            lambda x, j: -stats.binom.pmf(x, ni[j], pi[j]), -di * RERR, np.ceil(pn[i]), ni.astype(float)
        )
        y = ni - ix + (di * RERR == stats.binom.pmf(ix, ni, pi)).astype(float)
        out[i] = stats.binom.cdf(k[i], ni, pi) + stats.binom.sf(ni - y, ni, pi)
    if high.any():
        i = np.flatnonzero(high)
        ni, pi, di = n[i], p[i], d[i]
        ix = _binary_search(lambda x, j: stats.binom.pmf(x, ni[j], pi[j]), di * RERR, np.zeros(len(i)), np.floor(pn[i]))
        y = ix + 1
        out[i] = stats.binom.cdf(y - 1, ni, pi) + stats.binom.sf(k[i] - 1, ni, pi)
    return np.minimum(1.0, out)


def binom_p_two_sided(k: np.ndarray, n: np.ndarray, p: np.ndarray | float) -> np.ndarray:
    """Two-sided exact binomial p-values, elementwise, as ``scipy.stats.binomtest`` computes them.

    Parameters
    ----------
    k
        Successes (whole numbers, ``0 <= k <= n``).
    n
        Trials (whole numbers); ``n == 0`` gives NaN (no test).
    p
        Success probability under the null, strictly between 0 and 1 (broadcast).

    Returns
    -------
    numpy.ndarray
        p-values in [0, 1] (NaN where ``n == 0``), the shape of the broadcast inputs.
    """
    k_a, n_a, p_a = np.broadcast_arrays(
        np.asarray(k, dtype=float), np.asarray(n, dtype=float), np.asarray(p, dtype=float)
    )
    shape = k_a.shape
    out = np.full(k_a.size, np.nan)
    ok = n_a.ravel() > 0
    if ok.any():
        (uk, un, up), inv = _unique_rows(k_a.ravel()[ok], n_a.ravel()[ok], p_a.ravel()[ok])
        out[ok] = _minlike_p_unique(uk, un, up)[inv]
    return out.reshape(shape)


def clopper_pearson(k: np.ndarray, n: np.ndarray, *, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Clopper-Pearson) two-sided interval for a binomial proportion, elementwise.

    The same interval as ``scipy.stats.binomtest(k, n).proportion_ci(confidence, method="exact")``,
    from beta quantiles: lower ``Beta(a/2; k, n-k+1)`` (0 when k = 0), upper
    ``Beta(1-a/2; k+1, n-k)`` (1 when k = n). NaN where ``n == 0``.
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    a = (1.0 - confidence) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(k > 0, stats.beta.ppf(a, np.maximum(k, 1e-300), n - k + 1), 0.0)
        hi = np.where(k < n, stats.beta.ppf(1 - a, k + 1, np.maximum(n - k, 1e-300)), 1.0)
    bad = n <= 0
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)
