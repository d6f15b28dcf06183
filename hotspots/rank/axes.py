"""Two ranking axes for the Board: HARM (where violence concentrates) and NEED (deprivation, youth need).

The composite score blurs nine components into one: violence is counted four ways and
deprivation three ways, and percentile scaling caps the violence components, so deprivation
decides the order among the most violent places (on the bundled data the LSOA with the most
violence in the force ranked 11th). This module keeps the two questions apart:

* **Harm axis** (:func:`harm_axis`): one measure of where violence concentrates, the
  empirical-Bayes (Poisson-Gamma, quasi-likelihood) smoothed harm count of each place over the
  analysed period, ``harm_eb``. With equal exposure (every place observed over the same
  months) it keeps the order of the raw harm, so the place with the most harm is first. Beside
  it, ``harm_per_1000_yr``: harm per 1,000 residents per year (mid-2015 residents), a second
  column, not a second score, so that city centres with few residents are not lost.
* **Need axis** (:func:`need_axis`): deprivation and youth need as one measure, the mean of
  three national percentiles (IMD without its Crime domain, the derived IDACI rate and the
  Children and Young People sub-domain), 0-100, 100 = most deprived in England.
* **Board tiers** (:func:`hotspots.rank.tiers.board_tiers`) on both axes: ``act now: high
  harm`` (top of the harm axis), ``prevent: high need`` (high need, not high harm) and
  ``monitor`` (the rest).

:func:`hotspots.rank.places.rank_axes` combines them with the 90 % predictive rank intervals of
:mod:`hotspots.rank.intervals` into the ``places`` frame. The composite of
:func:`hotspots.rank.composite.rank_places` stays available as ``[rank] method = "composite"``.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd

from hotspots.errors import InputError
from hotspots.rank.columns import (
    HARM_EB,
    HARM_RANK,
    HARM_RATE_YR,
    NEED_CYP_PCT,
    NEED_IDACI_PCT,
    NEED_IMD_PCT,
    NEED_MISSING,
    NEED_RANK,
    NEED_SCORE,
)
from hotspots.rank.eb import Dispersion, as_1d, eb_posterior, fit_gamma_prior

N_ENGLAND = 32_844
"""LSOAs (2011) ranked by IoD2019 (the national percentiles are out of these)."""

MATRIX = 2
"""Dimensions of a (draws, places) matrix."""
PERCENT = 100.0
"""Percentiles run from 0 to this."""

HARM_AXIS_COLUMNS = [HARM_EB, HARM_RANK, HARM_RATE_YR]
"""Columns of :func:`harm_axis`."""

NEED_AXIS_COLUMNS = [NEED_SCORE, NEED_RANK, NEED_IMD_PCT, NEED_IDACI_PCT, NEED_CYP_PCT, NEED_MISSING]
"""Columns of :func:`need_axis`."""

# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def tied_ranks(values: npt.ArrayLike) -> np.ndarray:
    """Descending ranks with ties taking the lowest position they share.

    Parameters
    ----------
    values
        ``(places,)`` or ``(draws, places)``: higher = more (harm, need). NaN ranks last
        (it counts as lower than every number) and is given rank NaN in the output.

    Returns
    -------
    numpy.ndarray
        Same shape: the rank of each value within its row, **the number of values at least
        as high** (``scipy.stats.rankdata(-x, method="max")``). The highest value has rank 1
        unless tied; places tied at zero harm all share rank N. Float (NaN for NaN input).

    Notes
    -----
    One rule everywhere: the harm-axis point rank, the simulated ranks of the predictive
    interval and the observed next-period rank of the backtest all use it, so a place tied
    with others is never placed above them by an arbitrary tie-break. It reads "r places had
    at least this much harm" and matches the "Top x %" of the reasons.

    Examples
    --------
    >>> tied_ranks([5.0, 0.0, 3.0, 3.0, 0.0]).tolist()
    [1.0, 5.0, 3.0, 3.0, 5.0]
    """
    x = np.asarray(values, dtype=float)
    squeeze = x.ndim == 1
    x2 = np.atleast_2d(x)
    if x2.ndim != MATRIX:
        raise InputError(f"tied_ranks: `values` must be 1-D or 2-D, got shape {x.shape!r}.")
    nan = np.isnan(x2)
    xs = np.where(nan, -np.inf, x2)
    d, n = xs.shape
    order = np.argsort(xs, axis=1, kind="stable")
    s = np.take_along_axis(xs, order, axis=1)
    start = np.ones((d, n), dtype=bool)
    if n > 1:
        np.not_equal(s[:, 1:], s[:, :-1], out=start[:, 1:])
    # position of the first of each run of equal values = number of values strictly below
    below_sorted = np.maximum.accumulate(np.where(start, np.arange(n), 0), axis=1)
    below = np.empty_like(below_sorted)
    np.put_along_axis(below, order, below_sorted, axis=1)
    r = (n - below).astype(float)
    r[nan] = np.nan
    return r[0] if squeeze else r


# --------------------------------------------------------------------------------------
# harm axis
# --------------------------------------------------------------------------------------


def harm_axis(
    harm: npt.ArrayLike,
    *,
    months: float,
    population: npt.ArrayLike | None = None,
    harm_per_year: npt.ArrayLike | None = None,
    scale: float = 1.0,
    dispersion: Dispersion | None = None,
) -> pd.DataFrame:
    """Place every place on the harm axis: empirical-Bayes smoothed harm, its rank, and the rate beside it.

    Parameters
    ----------
    harm
        Each place's summed harm weights over the analysed period (>= 0).
    months
        Length of the analysed period in months (the exposure; the same for every place).
    population
        Residents (IoD2019 mid-2015, excluding prisoners); None or NaN/0 = no rate.
    harm_per_year
        Annualised harm when the sources cover different periods (sum over sources of the
        source's harm x 12 / its months); default ``harm x 12 / months``.
    scale
        Harm per pseudo-count (:func:`~hotspots.rank.eb.mark_scale` of the analysed incidents).
    dispersion
        Month-to-month overdispersion (:func:`~hotspots.rank.eb.estimate_dispersion`); default Poisson.

    Returns
    -------
    pandas.DataFrame
        :data:`HARM_AXIS_COLUMNS`, one row per place in input order: ``harm_eb`` (posterior
        mean harm over the period, harm units), ``harm_rank`` (:func:`tied_ranks` of
        ``harm_eb``: 1 = most harm) and ``harm_per_1000_yr`` (annualised harm per 1,000
        residents; NaN without residents). ``attrs["harm_axis"]`` holds the prior, scale,
        dispersion and months.

    Raises
    ------
    InputError
        Negative or non-finite harm, lengths that differ, or months not positive.

    Notes
    -----
    Poisson-Gamma empirical Bayes (Clayton & Kaldor 1987; Marshall 1991) on quasi-Poisson
    pseudo-counts ``harm / scale`` (see :mod:`hotspots.rank.eb`: ``mark_scale``,
    ``fit_gamma_prior``, ``eb_posterior``). Every place is observed over the same months, so the
    smoothed harm keeps the order of the raw harm: the place with the most harm is first, whatever its
    residents. Shrinkage moves low counts towards the force mean (a place with 0 or 1 incident
    is not treated as certainly safe), which matters for the predictive intervals; it does not
    reorder places. Residents are the wrong denominator for city centres (few residents, many
    visitors), so the rate is a second column, not the axis.

    Examples
    --------
    >>> ax = harm_axis([10.0, 0.0, 3.0], months=12)
    >>> ax["harm_rank"].tolist()
    [1.0, 3.0, 2.0]
    """
    where = "harm_axis"
    h = as_1d(harm, "harm", where)
    if not (isinstance(months, (int, float)) and math.isfinite(months) and months > 0):
        raise InputError(f"{where}: `months` must be the positive length of the analysed period, got {months!r}.")
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
        raise InputError(f"{where}: `scale` must be a positive harm per pseudo-count, got {scale!r}.")
    y = h / scale
    prior = fit_gamma_prior(y, exposure=months, dispersion=dispersion)
    a, b = eb_posterior(y, exposure=months, prior=prior, dispersion=dispersion)
    eb = scale * months * a / b
    per_year = h * 12.0 / months if harm_per_year is None else as_1d(harm_per_year, "harm_per_year", where)
    if len(per_year) != len(h):
        raise InputError(f"{where}: `harm_per_year` has {len(per_year)} values for {len(h)} places.")
    rate = np.full(len(h), np.nan)
    if population is not None:
        pop = as_1d(population, "population", where, allow_nan=True)
        if len(pop) != len(h):
            raise InputError(f"{where}: `population` has {len(pop)} values for {len(h)} places.")
        ok = pop > 0
        rate[ok] = per_year[ok] / pop[ok] * 1000.0
    out = pd.DataFrame({HARM_EB: eb, HARM_RANK: tied_ranks(eb), HARM_RATE_YR: rate})
    out.attrs["harm_axis"] = {
        "months": float(months),
        "scale": float(scale),
        "prior_mean_per_month": prior.mean * scale if prior.shape > 0 else 0.0,
        "prior_shape": prior.shape,
        "prior_rate": prior.rate,
        "prior_floored": prior.floored,
        "phi": (dispersion or Dispersion()).phi,
        "inv_kappa": (dispersion or Dispersion()).inv_kappa,
    }
    return out


# --------------------------------------------------------------------------------------
# need axis
# --------------------------------------------------------------------------------------


def national_percentile(rank: npt.ArrayLike, n: int = N_ENGLAND) -> np.ndarray:
    """National percentile of a national rank (1 = most deprived of ``n``): ``100 (n - rank + 1) / n``.

    100 = the most deprived LSOA in England; NaN stays NaN.

    Examples
    --------
    >>> national_percentile([1, 32_844]).round(3).tolist()
    [100.0, 0.003]
    """
    r = np.asarray(rank, dtype=float)
    bad = ~np.isnan(r) & ((r < 1) | (r > n))
    if bad.any():
        i = int(np.flatnonzero(bad.ravel())[0])
        raise InputError(f"national_percentile: rank {float(r.ravel()[i])!r} (place {i}) is outside 1..{n}.")
    return 100.0 * (n - r + 1.0) / n


def reference_percentile(values: npt.ArrayLike, reference: npt.ArrayLike) -> np.ndarray:
    """Percentile of each value in a reference distribution: 100 x share of the reference <= it.

    Higher value = more deprived; NaN values stay NaN; NaN in the reference is ignored.

    Examples
    --------
    >>> reference_percentile([0.1, 0.5, np.nan], [0.0, 0.1, 0.2, 0.3]).tolist()
    [50.0, 100.0, nan]
    """
    ref = np.asarray(reference, dtype=float)
    ref = np.sort(ref[~np.isnan(ref)])
    if len(ref) == 0:
        raise InputError("reference_percentile: the reference distribution has no values.")
    x = np.asarray(values, dtype=float)
    out = 100.0 * np.searchsorted(ref, np.where(np.isnan(x), 0.0, x), side="right") / len(ref)
    return np.where(np.isnan(x), np.nan, out)


def need_axis(
    *,
    imd_pct: npt.ArrayLike,
    idaci_pct: npt.ArrayLike,
    cyp_pct: npt.ArrayLike,
) -> pd.DataFrame:
    """Place every place on the need axis: the mean of the available national percentiles of three measures.

    Parameters
    ----------
    imd_pct
        National percentile (0-100, 100 = most deprived) of the IMD without its Crime domain
        (:func:`national_percentile` of ``imd_nc_rank``).
    idaci_pct
        National percentile of the derived IDACI rate (:func:`reference_percentile` against
        the England-wide derived rates); NaN where the numerator is suppressed.
    cyp_pct
        National percentile of the Children and Young People sub-domain (``cyp_need``).

    Returns
    -------
    pandas.DataFrame
        :data:`NEED_AXIS_COLUMNS`, input order: ``need_score`` (mean of the available
        percentiles; NaN when none is available), ``need_rank`` (:func:`tied_ranks`; NaN
        without a score), the three percentiles and ``need_missing`` (``"idaci"`` etc.).

    Raises
    ------
    InputError
        Lengths differ, or a percentile is outside 0-100.

    Notes
    -----
    The three measures correlate at Spearman 0.85-0.91 on the bundled LSOAs; their first
    principal component loads them almost equally (0.58, 0.58, 0.57; 91 % of the variance),
    and the mean of percentiles orders places like it (Spearman 0.99996 on the 586 LSOAs with
    all three). The mean of percentiles is chosen over the component because it needs no
    fitting (the same place gets the same need in every run and force), it has units a Board
    can read ("more deprived than x % of England"), and a place with a suppressed IDACI
    numerator (93 of 679 bundled LSOAs, mostly the least deprived) is scored on the other two
    rather than ranked last or first. IMD without crime avoids counting recorded crime twice
    (the IMD's Crime domain is built from it).

    Examples
    --------
    >>> need_axis(imd_pct=[90.0, 10.0], idaci_pct=[80.0, np.nan], cyp_pct=[100.0, 20.0])["need_score"].tolist()
    [90.0, 15.0]
    """
    where = "need_axis"
    cols = {}
    for key, v in (("imd", imd_pct), ("idaci", idaci_pct), ("cyp", cyp_pct)):
        x = as_1d(v, f"{key}_pct", where, allow_nan=True)
        bad = ~np.isnan(x) & ((x < 0) | (x > PERCENT))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"{where}: `{key}_pct` must be a percentile in 0-100; place {i} has {float(x[i])!r}.")
        cols[key] = x
    n = {len(x) for x in cols.values()}
    if len(n) != 1:
        raise InputError(f"{where}: the three percentiles have different lengths {sorted(n)!r}; give one per place.")
    mat = np.vstack(list(cols.values()))
    have = ~np.isnan(mat)
    count = have.sum(axis=0)
    with np.errstate(invalid="ignore"):
        score = np.where(count > 0, np.nansum(mat, axis=0) / np.maximum(count, 1), np.nan)
    keys = list(cols)
    missing = [";".join(k for k, h in zip(keys, have[:, i], strict=True) if not h) for i in range(mat.shape[1])]
    return pd.DataFrame(
        {
            NEED_SCORE: score,
            NEED_RANK: tied_ranks(score),
            NEED_IMD_PCT: cols["imd"],
            NEED_IDACI_PCT: cols["idaci"],
            NEED_CYP_PCT: cols["cyp"],
            NEED_MISSING: missing,
        }
    )
