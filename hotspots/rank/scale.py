"""Scaling and combination of rank components, vectorised over Monte Carlo draws (last axis = places).

:func:`scale` is importable as :func:`hotspots.rank.scale`; the others serve
:func:`hotspots.rank.composite.composite_score` and :func:`hotspots.rank.composite.rank_places`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hotspots.errors import InputError
from hotspots.rank.components.registry import COMPONENTS
from hotspots.rank.options import GEOMETRIC_FLOOR, SCALINGS, choice


def scale(values: np.ndarray, method: str = "percentile") -> np.ndarray:
    """Scale raw component values so that higher = more need, comparably across components.

    Parameters
    ----------
    values
        ``(places,)`` or ``(draws, places)``; NaN = missing (stays NaN, ignored by the scaling).
    method
        ``"percentile"``: average rank / number of non-missing values, in (0, 1];
        ``"minmax"``: ``(x - min) / (max - min)`` in [0, 1] (0.5 when all equal);
        ``"zscore"``: ``(x - mean) / sd`` (population sd; 0 when all equal).

    Returns
    -------
    numpy.ndarray
        Same shape, float64. Each row is scaled on its own (as ArcGIS Calculate Composite
        Index does for one table). All three are non-decreasing in a place's own value.

    Examples
    --------
    >>> scale(np.array([10.0, 20.0, 20.0, np.nan]), "percentile").round(3).tolist()
    [0.333, 0.833, 0.833, nan]
    """
    choice(method, SCALINGS, "scaling", InputError)
    x = np.atleast_2d(np.asarray(values))
    if x.dtype != np.float32:  # float32 (the Monte Carlo's working precision) is kept
        x = x.astype(np.float64)
    ok = ~np.isnan(x)
    complete = bool(ok.all())
    m = np.full((x.shape[0], 1), x.shape[1]) if complete else ok.sum(axis=1, keepdims=True)
    if method == "percentile":
        out = _average_rank(x) / np.maximum(m, 1)
    elif method == "minmax":
        lo = np.nanmin(np.where(ok, x, np.inf), axis=1, keepdims=True)
        hi = np.nanmax(np.where(ok, x, -np.inf), axis=1, keepdims=True)
        span = hi - lo
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(span > 0, (x - lo) / np.where(span > 0, span, 1.0), 0.5)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.nansum(x, axis=1, keepdims=True) / np.maximum(m, 1)
            sd = np.sqrt(np.nansum((x - mean) ** 2, axis=1, keepdims=True) / np.maximum(m, 1))
            out = np.where(sd > 0, (x - mean) / np.where(sd > 0, sd, 1.0), 0.0)
    if not complete:
        out = np.where(ok, out, np.nan)
    return out.reshape(np.shape(values))


def _average_rank(x: np.ndarray) -> np.ndarray:
    """Average ranks (1 = smallest) along the last axis, ties averaged, NaN last and ignored.

    One argsort per row, then the runs of equal values are found once over the flattened
    sorted matrix: the vectorised equivalent of ``scipy.stats.rankdata(method="average")``
    applied to every row at once.
    """
    d, p = x.shape
    nan = np.isnan(x)
    xs = np.where(nan, np.inf, x) if nan.any() else x
    order = np.argsort(xs, axis=1)  # ties get their average below, so order within ties is irrelevant
    flat = (order + (np.arange(d, dtype=order.dtype) * p)[:, None]).ravel()
    s = xs.ravel()[flat].reshape(d, p)
    new = np.empty((d, p), dtype=bool)
    new[:, 0] = True  # every row starts a run
    np.not_equal(s[:, 1:], s[:, :-1], out=new[:, 1:])
    starts = np.flatnonzero(new.ravel())
    length = np.diff(np.append(starts, d * p))
    avg = ((starts % p) + (length + 1) / 2.0).astype(x.dtype)
    r = np.empty(d * p, dtype=x.dtype)
    r[flat] = np.repeat(avg, length)
    return r.reshape(d, p)


def combine_scaled(
    scaled: np.ndarray, weights: np.ndarray, available: np.ndarray, method: str
) -> tuple[np.ndarray, np.ndarray]:
    """Combine ``scaled (d, k, p)`` with ``weights (d, k)``; missing components re-weighted away.

    Returns the score ``(d, p)`` and the per-component terms ``(d, k, p)`` whose sum is the
    score (weighted mean) or the log of the score (geometric mean).
    """
    w = weights[:, :, None] * available[None, :, :]
    den = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(den[:, None, :] > 0, w / np.where(den[:, None, :] > 0, den[:, None, :], 1.0), 0.0)
        if method == "weighted_mean":
            terms = share * np.nan_to_num(scaled, nan=0.0)
            score = terms.sum(axis=1)
        else:
            terms = share * np.log(np.maximum(np.nan_to_num(scaled, nan=1.0), GEOMETRIC_FLOOR))
            score = np.exp(terms.sum(axis=1))
    score = np.where(den > 0, score, np.nan)
    return score, terms


def raw_matrix(components: pd.DataFrame, names: list[str]) -> np.ndarray:
    """The raw values of components ``names`` as a ``(k, places)`` float matrix (NaN = missing)."""
    missing = [COMPONENTS[k] for k in names if COMPONENTS[k] not in components.columns]
    if missing:
        raise InputError(
            f"the components frame has no column(s) {', '.join(map(repr, missing))}; build it with "
            "place_components, or give those components weight 0."
        )
    return np.vstack([pd.to_numeric(components[COMPONENTS[k]], errors="coerce").to_numpy(dtype=float) for k in names])


def point_ranks(score: np.ndarray, tiebreak: np.ndarray) -> np.ndarray:
    """Ranks 1..N by descending score, ties by descending ``tiebreak`` then row order."""
    s = np.where(np.isnan(score), -np.inf, score)
    order = np.lexsort((np.arange(len(s)), -tiebreak, -s))
    r = np.empty(len(s), dtype=np.int64)
    r[order] = np.arange(1, len(s) + 1)
    return r
