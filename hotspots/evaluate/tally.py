"""Counting incidents per unit and period, and their month-to-month overdispersion.

:func:`tally_periods` turns incidents (a unit position and a month each) into the counts, harm
sums and harm-mark counts per unit in a before and an after period, counting only the months
**with data** (the exposure, see :mod:`hotspots.months`). It also keeps each unit's count per
month, from which :func:`estimate_dispersion` measures how much more unit counts vary from
month to month than Poisson counts would.

Why it matters. The exact test of :mod:`.change` treats incidents as independent: a unit's
count in a period is Poisson. Real unit counts are overdispersed: one event with several
victims, repeat locations, a venue that closes for three months. On the bundled 2020 City
violence (182 LSOAs), moving whole calendar months between two 6-month periods flags at
least one LSOA in about half of all 462 splits with the plain exact test, although nothing
but the months' own variation differs (``docs/change.md``). The variation grows with the
unit's rate (the busiest LSOAs vary 2-5 times more than Poisson, the quiet ones about 1.3
times), which is the negative binomial ("NB2") form

    Var(y_um) = mu_u (1 + c mu_u)        (y_um: unit u's count in month m, mean mu_u)

(Cameron & Trivedi 2013, s. 3.3). ``c`` is estimated from the months *within* each period,
where the null of no change holds by construction, by the Pearson moment equation (Cameron &
Trivedi 2013, s. 3.2.4; the quasi-likelihood estimator of McCullagh & Nelder 1989, s. 9.2.4)

    sum_{u,m} (y_um - ybar_u)^2 / (ybar_u (1 + c ybar_u)) = df,    df = sum_u (months - 1)

with ``c = 0`` when the left side is already at most ``df`` at ``c = 0`` (no overdispersion).
A unit's period total then has design effect ``phi_u = 1 + c mu_u`` against Poisson, which
:mod:`.change` allows for with Rao & Scott's (1992) effective counts ``count / phi_u``.

References
----------
Cameron, A. C. & Trivedi, P. K. (2013) *Regression Analysis of Count Data*, 2nd ed. Cambridge
University Press. McCullagh, P. & Nelder, J. A. (1989) *Generalized Linear Models*, 2nd ed.
Chapman & Hall. Rao, J. N. K. & Scott, A. J. (1992) A simple method for the analysis of
clustered binary data. *Biometrics* 48, 577-585.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from hotspots.errors import InputError
from hotspots.months import Periods

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Dispersion:
    """Month-to-month overdispersion of unit counts within the periods (NB2 form).

    Attributes
    ----------
    c
        The NB2 coefficient: a unit with ``mu`` incidents a month has monthly variance
        ``mu (1 + c mu)``; 0 = Poisson. NaN when nothing could be estimated.
    pearson
        The pooled Pearson ratio at ``c = 0`` (the constant dispersion a quasi-Poisson model
        would use; 1 for Poisson counts). NaN when nothing could be estimated.
    df
        Degrees of freedom: the sum over units with incidents of (months in the period - 1).
    """

    c: float
    pearson: float
    df: int

    @property
    def estimated(self) -> bool:
        """Whether the periods had enough months (two or more in a period) to estimate it."""
        return self.df > 0 and bool(np.isfinite(self.c))

    def phi(self, monthly_mean: np.ndarray | float) -> np.ndarray:
        """Design effect ``1 + c mu`` of a unit's period total, for units with ``monthly_mean`` incidents a month.

        1 everywhere when the dispersion could not be estimated.
        """
        mu = np.asarray(monthly_mean, dtype=float)
        c = self.c if self.estimated else 0.0
        return 1.0 + c * np.maximum(mu, 0.0)


def estimate_dispersion(*period_matrices: np.ndarray) -> Dispersion:
    """Estimate the NB2 overdispersion ``c`` of unit counts from the months within each period.

    Parameters
    ----------
    period_matrices
        One units x months count matrix per period (months with data only).

    Returns
    -------
    Dispersion
        ``c`` solves the Pearson moment equation of the module notes (0 when the counts are
        no more variable than Poisson); ``pearson`` is the left side at ``c = 0`` over ``df``.

    Notes
    -----
    Shocks common to every unit (a lockdown month) also count as dispersion here: the
    estimate, and the test built on it, are then conservative.

    Examples
    --------
    Poisson counts give ``c`` near 0; counts whose rate moves from month to month do not:

    >>> rng = np.random.default_rng(0)
    >>> mu = rng.gamma(2.0, 5.0, size=(400, 1))
    >>> round(estimate_dispersion(rng.poisson(mu, size=(400, 12))).c, 2)
    0.0
    >>> shocks = rng.gamma(4.0, 0.25, size=(400, 12))  # monthly rate x shock with variance 1/4
    >>> round(estimate_dispersion(rng.poisson(mu * shocks)).c, 1)
    0.2
    """
    ss_parts, mean_parts, df = [], [], 0
    for raw in period_matrices:
        m = np.asarray(raw, dtype=float)
        if m.ndim != 2:  # noqa: PLR2004 (a units x months matrix)
            raise InputError(f"each period needs a units x months matrix, got shape {m.shape}.")
        if m.shape[1] < 2:  # noqa: PLR2004 (one month has no within-period variation)
            continue
        mean = m.mean(axis=1)
        ok = mean > 0
        ss_parts.append(((m[ok] - mean[ok, None]) ** 2).sum(axis=1))
        mean_parts.append(mean[ok])
        df += int(ok.sum()) * (m.shape[1] - 1)
    if df == 0:
        return Dispersion(float("nan"), float("nan"), 0)
    ss = np.concatenate(ss_parts)
    mean = np.concatenate(mean_parts)
    r = ss / mean  # Pearson contributions at c = 0

    def excess(c: float) -> float:
        return float((r / (1.0 + c * mean)).sum()) - df

    pearson = float(r.sum() / df)
    if excess(0.0) <= 0:
        return Dispersion(0.0, pearson, df)
    hi = 1.0
    while excess(hi) > 0:
        hi *= 4.0
    c = float(optimize.brentq(excess, 0.0, hi, xtol=1e-10, rtol=1e-10))
    return Dispersion(c, pearson, df)


@dataclass(frozen=True)
class PeriodTally:
    """Incidents per unit in the before and after periods.

    Attributes
    ----------
    before, after
        Incident counts per unit (int64, one per unit).
    before_harm, after_harm
        Harm sums per unit (float; equal to the counts when no harm was given).
    before_harm_sq, after_harm_sq
        Sums of squared harm per unit (the compound-Poisson variance, ``sum(w**2)``).
    mark_values
        The distinct positive harm values, ascending.
    before_marks, after_marks
        Counts per unit and harm value (units x marks).
    before_months, after_months
        Exposures (months with data).
    outside
        Incidents of the two periods that fell in no unit (not counted).
    dispersion
        Month-to-month overdispersion of the unit counts within the periods
        (:func:`estimate_dispersion`).
    """

    before: np.ndarray
    after: np.ndarray
    before_harm: np.ndarray
    after_harm: np.ndarray
    before_harm_sq: np.ndarray
    after_harm_sq: np.ndarray
    mark_values: np.ndarray
    before_marks: np.ndarray
    after_marks: np.ndarray
    before_months: int
    after_months: int
    outside: int
    dispersion: Dispersion

    @property
    def n_units(self) -> int:
        """Number of units."""
        return len(self.before)


def _check_inputs(unit: np.ndarray, month: np.ndarray, harm: np.ndarray | pd.Series | None, n_units: int) -> np.ndarray:
    """Check the per-incident arrays; return the harm weights (ones when ``harm`` is None)."""
    if len(month) != len(unit):
        raise InputError(f"unit has {len(unit)} incidents but month has {len(month)}; pass one of each per incident.")
    if len(unit) and (unit.max() >= n_units or unit.min() < -1):
        raise InputError(f"unit positions must lie in [-1, {n_units - 1}], got {int(unit.min())}..{int(unit.max())}.")
    if harm is None:
        return np.ones(len(unit))
    w = np.asarray(harm, dtype=float)
    if len(w) != len(unit):
        raise InputError(f"harm has {len(w)} values for {len(unit)} incidents; pass one per incident.")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f"harm weights must be numbers >= 0; incident {i} has {float(w[i])!r}.")
    return w


def tally_periods(
    unit: np.ndarray,
    month: np.ndarray | pd.Series,
    *,
    n_units: int,
    periods: Periods,
    harm: np.ndarray | pd.Series | None = None,
) -> PeriodTally:
    """Count incidents (and harm) per unit in the before and after periods.

    Parameters
    ----------
    unit
        Row position of each incident's unit (e.g. from :func:`hotspots.units.assign_cells`),
        ``-1`` for an incident in no unit.
    month
        Each incident's month (``YYYY-MM``).
    n_units
        Number of units (length of the result arrays).
    periods
        Checked periods (:func:`hotspots.months.check_periods`): only months **with data** count.
    harm
        Each incident's harm weight (>= 0); None: every incident weighs 1.

    Returns
    -------
    PeriodTally

    Raises
    ------
    InputError
        Lengths differ, a unit position is out of range, or a harm weight is negative or missing.

    Examples
    --------
    >>> from hotspots.months import check_periods
    >>> p = check_periods("2020-01", "2020-02", incident_months=["2020-01", "2020-02"])
    >>> t = tally_periods(np.array([0, 1, 1, -1]), ["2020-01", "2020-01", "2020-02", "2020-02"], n_units=2, periods=p)
    >>> t.before.tolist(), t.after.tolist(), t.outside
    ([1, 1], [0, 1], 1)
    """
    unit = np.asarray(unit, dtype=np.int64)
    month_a = np.asarray(month, dtype=object)
    w = _check_inputs(unit, month_a, harm, n_units)
    # month -> column within each period (-1: not one of the period's months with data)
    col_b = pd.Index(periods.before_data).get_indexer(month_a)
    col_a = pd.Index(periods.after_data).get_indexer(month_a)
    in_b, in_a = col_b >= 0, col_a >= 0
    inside = unit >= 0
    outside = int(((in_b | in_a) & ~inside).sum())
    if outside:
        log.info("%d incidents of the two periods fall in no unit and are not counted", outside)
    marks = np.unique(w[(in_b | in_a) & inside & (w > 0)])
    k = len(marks)
    mark_pos = np.searchsorted(marks, w)

    def per_unit(sel: np.ndarray, col: np.ndarray, n_months: int) -> tuple[np.ndarray, ...]:
        s_ = sel & inside
        u = unit[s_]
        cnt = np.bincount(u, minlength=n_units).astype(np.int64)
        hs = np.bincount(u, weights=w[s_], minlength=n_units)
        hq = np.bincount(u, weights=w[s_] ** 2, minlength=n_units)
        pos = s_ & (w > 0)
        mk = np.bincount(unit[pos] * k + mark_pos[pos], minlength=n_units * k).reshape(n_units, k)
        by_month = np.bincount(u * n_months + col[s_], minlength=n_units * n_months).reshape(n_units, n_months)
        return cnt, hs, hq, mk.astype(np.int64), by_month

    b, bh, bq, bm, mb = per_unit(in_b, col_b, len(periods.before_data))
    a, ah, aq, am, ma = per_unit(in_a, col_a, len(periods.after_data))
    return PeriodTally(
        before=b,
        after=a,
        before_harm=bh,
        after_harm=ah,
        before_harm_sq=bq,
        after_harm_sq=aq,
        mark_values=marks,
        before_marks=bm,
        after_marks=am,
        before_months=periods.before_months,
        after_months=periods.after_months,
        outside=outside,
        dispersion=estimate_dispersion(mb, ma),
    )
