"""Whole-area claims: did violence fall across the area, and by more than in a comparison area.

A Board claim such as "knife offences fell 13 % in the year to March 2020, while England and
Wales rose 6 %" has three parts, each handled here:

1. **The area's own change** (:func:`area_change`): the rate ratio after/before from monthly
   counts, with a confidence interval that allows for **overdispersion**. Monthly counts of a
   whole area vary more than Poisson (weather, events, recording drives); a quasi-Poisson GLM
   (McCullagh & Nelder 1989, s. 4.5) estimates the dispersion ``phi`` from the months themselves
   (Pearson chi-square / residual df) and widens the interval by ``sqrt(phi)``, with t quantiles
   on the residual df. ``phi`` below 1 is reported but not used (``max(phi, 1)``): the interval is
   never narrower than the Poisson one. The exact Poisson p (no overdispersion) is reported beside.
2. **Seasonal matching**: when both periods cover the same calendar months equally often, the
   model has one effect per calendar month, so seasonality cancels and does not inflate ``phi``.
   When they do not, the result says so (:func:`.months.seasonal_match`) and no calendar effects
   are fitted: part of the change may then be seasonal.
3. **A comparison area** (:func:`compare_areas`): the ratio of the two rate ratios (difference in
   differences on the log scale), ``RRR = RR_here / RR_comparison``, with ``se(log RRR) =
   sqrt(se_here^2 + se_comp^2)`` (independent areas) and the smaller residual df. A comparison
   known only as a published percentage (a national figure resting on large counts) can be given
   as a fixed ratio, which then adds no sampling error.

References
----------
McCullagh, P. & Nelder, J. A. (1989) *Generalized Linear Models*, 2nd ed. Chapman & Hall.
Altman, D. G. & Bland, J. M. (2003) Interaction revisited: the difference between two estimates.
*BMJ* 326, 219.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from hotspots.errors import InputError
from hotspots.evaluate.change import count_change
from hotspots.months import MONTH_PATTERN, SeasonalMatch, seasonal_match


@dataclass(frozen=True)
class AreaChange:
    """The change of one area between two periods.

    Attributes
    ----------
    label
        Name of the area in sentences.
    before, after
        Totals in each period.
    before_months, after_months
        Months in each period (with data).
    rate_ratio, lower, upper
        Rate ratio (per month, after / before) and its confidence interval.
    p_value
        Two-sided p of no change, allowing for overdispersion.
    exact_p
        Exact conditional Poisson p of the totals (ignores overdispersion; NaN for harm sums).
    dispersion
        Estimated quasi-Poisson dispersion ``phi`` (NaN when it could not be estimated).
    dispersion_used
        The dispersion behind the interval: ``max(phi, 1)``, or 1 without an estimate.
    df
        Residual degrees of freedom of the t quantiles (inf: normal quantiles).
    log_se
        Standard error of ``log(rate_ratio)``.
    seasonal
        Whether the periods are matched by calendar month.
    method
        One sentence: how the interval was made.
    confidence
        Level of the interval.
    """

    label: str
    before: float
    after: float
    before_months: int
    after_months: int
    rate_ratio: float
    lower: float
    upper: float
    p_value: float
    exact_p: float
    dispersion: float
    dispersion_used: float
    df: float
    log_se: float
    seasonal: SeasonalMatch | None
    method: str
    confidence: float

    @property
    def pct_change(self) -> float:
        """Change in the monthly rate, per cent (-13 = a 13 % fall)."""
        return 100.0 * (self.rate_ratio - 1.0)


_CONVERGED = 1e-10  # IRLS stops when no coefficient moves more than this
MIN_DF = 2  # residual degrees of freedom needed to estimate the quasi-Poisson dispersion
P_FLOOR = 0.001  # smaller p-values are written "p < 0.001"


def _poisson_glm(X: np.ndarray, y: np.ndarray, *, iters: int = 100) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Poisson log-link GLM by IRLS: coefficients, unscaled covariance ``(X'WX)^-1`` and fitted means."""
    mu = y + 0.5
    eta = np.log(mu)
    beta = np.zeros(X.shape[1])
    for _ in range(iters):
        z = eta + (y - mu) / mu
        xtw = X.T * mu
        beta_new = np.linalg.solve(xtw @ X, xtw @ z)
        eta = X @ beta_new
        mu = np.exp(eta)
        if np.max(np.abs(beta_new - beta)) < _CONVERGED:
            beta = beta_new
            break
        beta = beta_new
    cov = np.linalg.inv((X.T * mu) @ X)
    return beta, cov, mu


def _series(counts: Mapping[str, float] | pd.Series, name: str) -> pd.Series:
    s = pd.Series(counts, dtype=float)
    if s.empty:
        raise InputError(f"{name} has no months; give monthly counts indexed by 'YYYY-MM'.")
    labels = [str(x) for x in s.index]
    bad = [x for x in labels if not MONTH_PATTERN.match(x)]
    if bad:
        raise InputError(f"{name} must be indexed by months 'YYYY-MM', got {bad[:3]!r}.")
    idx = pd.PeriodIndex(labels, freq="M")
    if idx.has_duplicates:
        raise InputError(f"{name} lists month {idx[idx.duplicated()][0]} twice.")
    bad = ~np.isfinite(s.to_numpy()) | (s.to_numpy() < 0)
    if bad.any():
        raise InputError(
            f"{name} counts must be numbers >= 0; {s.index[np.argmax(bad)]} has {float(s.iloc[np.argmax(bad)])!r}."
        )
    return pd.Series(s.to_numpy(), index=idx.astype(str))


def area_change(
    before: Mapping[str, float] | pd.Series,
    after: Mapping[str, float] | pd.Series,
    *,
    label: str = "the area",
    confidence: float = 0.95,
    seasonal_effects: bool = True,
) -> AreaChange:
    """Rate ratio of an area's monthly counts, after over before, allowing for overdispersion.

    Parameters
    ----------
    before, after
        Counts per month with data, indexed by ``"YYYY-MM"`` (months without data left out).
    label
        The area's name in sentences.
    confidence
        Level of the interval.
    seasonal_effects
        Fit one effect per calendar month when the periods are matched by calendar month.

    Returns
    -------
    AreaChange

    Raises
    ------
    InputError
        A period is empty, months repeat or overlap between the periods, or a count is negative.

    Notes
    -----
    Quasi-Poisson: ``log E[y_m] = a_{cal(m)} + b * after_m`` (or ``a + b * after_m`` without
    calendar effects), ``Var y_m = phi E[y_m]``; ``phi`` = Pearson chi-square / (months - params).
    Calendar months with no incident in either period carry no information and are dropped.
    With at most one residual df ``phi`` is not estimated (1 is used, normal quantiles, and the
    method says so). When either total is 0 the log ratio is infinite; the exact conditional
    interval of the totals is used instead.
    """
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be between 0 and 1, got {confidence!r}.")
    b = _series(before, "before")
    a = _series(after, "after")
    both = sorted(set(b.index) & set(a.index))
    if both:
        raise InputError(f"the periods share month(s) {', '.join(both)}; a month can only be in one period.")
    sm = seasonal_match(b.index, a.index)
    tb, ta = len(b), len(a)
    tot_b, tot_a = float(b.sum()), float(a.sum())
    whole = tot_b.is_integer() and tot_a.is_integer()
    exact = count_change(
        np.array([round(tot_b)]), np.array([round(tot_a)]), before_months=tb, after_months=ta, confidence=confidence
    )
    exact_p = float(exact.p_value[0]) if whole else float("nan")  # the exact test needs counts, not harm sums
    if tot_a == 0 or tot_b == 0:
        rr = float(exact.rate_ratio[0]) if tot_a + tot_b > 0 else float("nan")
        how = (
            "a period has no incidents: exact conditional Poisson interval of the totals (no overdispersion allowance)"
        )
        return AreaChange(
            label,
            tot_b,
            tot_a,
            tb,
            ta,
            rr,
            float(exact.rr_lower[0]),
            float(exact.rr_upper[0]),
            exact_p,
            exact_p,
            float("nan"),
            1.0,
            float("inf"),
            float("inf"),
            sm,
            how,
            confidence,
        )
    fit = _quasi_poisson(b, a, calendar=seasonal_effects and sm.matched, confidence=confidence)
    return AreaChange(
        label,
        tot_b,
        tot_a,
        tb,
        ta,
        fit["ratio"],
        fit["lower"],
        fit["upper"],
        fit["p"],
        exact_p,
        fit["phi"],
        fit["used"],
        fit["df"],
        fit["se"],
        sm,
        fit["how"],
        confidence,
    )


def _quasi_poisson(b: pd.Series, a: pd.Series, *, calendar: bool, confidence: float) -> dict[str, Any]:
    """Fit the quasi-Poisson model of :func:`area_change` to two monthly series; the ratio and its interval."""
    level = 1 - (1 - confidence) / 2
    y = np.concatenate([b.to_numpy(), a.to_numpy()])
    after_flag = np.r_[np.zeros(len(b)), np.ones(len(a))]
    if calendar:
        cal = pd.PeriodIndex(list(b.index) + list(a.index), freq="M").month.to_numpy()
        keep_cal = [c for c in np.unique(cal) if y[cal == c].sum() > 0]
        keep = np.isin(cal, keep_cal)
        y, after_flag, cal = y[keep], after_flag[keep], cal[keep]
        X = np.column_stack([(cal == c).astype(float) for c in keep_cal] + [after_flag])
    else:
        X = np.column_stack([np.ones(len(y)), after_flag])
    beta, cov, mu = _poisson_glm(X, y)
    df: float = len(y) - X.shape[1]
    if df >= MIN_DF:
        phi = float(((y - mu) ** 2 / mu).sum() / df)
        used = max(phi, 1.0)
        q = float(stats.t.ppf(level, df))
        how = f"quasi-Poisson on {len(y)} monthly counts, dispersion {phi:.2f} (used {used:.2f}), t on {df:.0f} df"
    else:
        phi, used, q, df = float("nan"), 1.0, float(stats.norm.ppf(level)), float("inf")
        how = "too few months to estimate overdispersion: Poisson interval (normal quantiles)"
    if calendar:
        how += ", one effect per calendar month"
    se = float(np.sqrt(cov[-1, -1] * used))
    est = float(beta[-1])
    p = float(2 * (stats.t.sf(abs(est) / se, df) if np.isfinite(df) else stats.norm.sf(abs(est) / se)))
    return {
        "ratio": float(np.exp(est)),
        "lower": float(np.exp(est - q * se)),
        "upper": float(np.exp(est + q * se)),
        "p": p,
        "phi": phi,
        "used": used,
        "df": float(df),
        "se": se,
        "how": how,
    }


def area_change_from_totals(
    before: float,
    after: float,
    *,
    before_months: int,
    after_months: int,
    label: str = "the area",
    dispersion: float = 1.0,
    confidence: float = 0.95,
) -> AreaChange:
    """Compute an area's change from two totals only (no monthly series), e.g. a published figure.

    Without months the dispersion cannot be estimated: ``dispersion`` (default 1, i.e. Poisson)
    scales the variance and must be stated by the caller. The interval is Wald on the log scale
    (normal quantiles); the exact conditional Poisson p is reported in ``exact_p``.
    """
    if before <= 0 or after <= 0:
        raise InputError(f"both totals must be positive to compare rates, got before={before!r}, after={after!r}.")
    if dispersion < 1:
        raise InputError(f"dispersion must be >= 1 (1 = Poisson), got {dispersion!r}.")
    exact = count_change(
        np.array([round(before)]), np.array([round(after)]), before_months=before_months, after_months=after_months
    )
    rr = (after / after_months) / (before / before_months)
    se = float(np.sqrt(dispersion * (1 / before + 1 / after)))
    z = float(stats.norm.ppf(1 - (1 - confidence) / 2))
    p = float(2 * stats.norm.sf(abs(np.log(rr)) / se))
    return AreaChange(
        label,
        float(before),
        float(after),
        before_months,
        after_months,
        rr,
        rr * np.exp(-z * se),
        rr * np.exp(z * se),
        p,
        float(exact.p_value[0]),
        float("nan"),
        dispersion,
        float("inf"),
        se,
        None,
        f"two totals only: Wald interval on the log scale, dispersion {dispersion:g} assumed",
        confidence,
    )


@dataclass(frozen=True)
class AreaComparison:
    """Ratio of two areas' rate ratios (difference in differences on the log scale).

    Attributes
    ----------
    here
        The area of interest.
    comparison
        The comparison area's change, or None when it was given as a fixed ratio.
    comparison_ratio
        The comparison area's rate ratio.
    ratio, lower, upper, p_value
        ``RR_here / RR_comparison``, its interval and two-sided p (1 = same change in both).
    df
        Degrees of freedom of the quantiles (inf: normal).
    sentence
        The claim in one plain sentence.
    """

    here: AreaChange
    comparison: AreaChange | None
    comparison_ratio: float
    ratio: float
    lower: float
    upper: float
    p_value: float
    df: float
    sentence: str

    @property
    def relative_change_pct(self) -> float:
        """Change here relative to the comparison, per cent (-18 = 18 % lower than expected)."""
        return 100.0 * (self.ratio - 1.0)


def format_p(p: float) -> str:
    """``p < 0.001`` or ``p = 0.03`` (two significant figures), for sentences."""
    return f"p < {P_FLOOR:g}" if p < P_FLOOR else f"p = {p:.2g}"


def ci_phrase(lower: float, upper: float) -> str:
    """A ratio's interval in words: ``"10 % to 25 %"`` (both falls or both rises) or ``"a 48 % fall to a 17 % rise"``.

    Examples
    --------
    >>> ci_phrase(0.75, 0.9), ci_phrase(0.52, 1.17)
    ('10 % to 25 %', 'a 48 % fall to a 17 % rise')
    """
    if upper <= 1:
        return f"{100 * (1 - upper):.0f} % to {100 * (1 - lower):.0f} %"
    if lower >= 1:
        return f"{100 * (lower - 1):.0f} % to {100 * (upper - 1):.0f} %"
    return f"a {100 * (1 - lower):.0f} % fall to a {100 * (upper - 1):.0f} % rise"


def _move(pct: float) -> str:
    return f"fell {abs(pct):.0f} %" if pct < 0 else (f"rose {pct:.0f} %" if pct > 0 else "did not change")


def compare_areas(
    here: AreaChange, comparison: AreaChange | float, *, comparison_label: str | None = None, confidence: float = 0.95
) -> AreaComparison:
    """Compare an area's change with a comparison area's (ratio of rate ratios).

    Parameters
    ----------
    here
        The area of interest (:func:`area_change`).
    comparison
        The comparison area's change, or its rate ratio as a number (e.g. 1.06 for "rose 6 %"),
        treated as known without error.
    comparison_label
        Name of the comparison in the sentence (default: its label, or "the comparison area").
    confidence
        Level of the interval.

    Returns
    -------
    AreaComparison

    Examples
    --------
    >>> here = area_change_from_totals(1000, 870, before_months=12, after_months=12, label="The force area")
    >>> c = compare_areas(here, 1.06, comparison_label="England and Wales")
    >>> print(c.sentence)  # doctest: +NORMALIZE_WHITESPACE
    The force area fell 13 % while England and Wales rose 6 %: relative fall 18 %
    (95 % CI 10 % to 25 %), more than chance would explain (p < 0.001).
    """
    if isinstance(comparison, AreaChange):
        rc, se_c, df_c = comparison.rate_ratio, comparison.log_se, comparison.df
        name = comparison_label or comparison.label
    else:
        rc, se_c, df_c = float(comparison), 0.0, float("inf")
        if not rc > 0:
            raise InputError(f"the comparison ratio must be positive (1.06 = rose 6 %), got {comparison!r}.")
        name = comparison_label or "the comparison area"
    if not (np.isfinite(here.log_se) and np.isfinite(se_c)):
        raise InputError("an area has a period with no incidents; the ratio of rate ratios is not defined.")
    ratio = here.rate_ratio / rc
    se = float(np.hypot(here.log_se, se_c))
    df = float(min(here.df, df_c))
    level = 1 - (1 - confidence) / 2
    q = float(stats.t.ppf(level, df)) if np.isfinite(df) else float(stats.norm.ppf(level))
    lo, hi = ratio * np.exp(-q * se), ratio * np.exp(q * se)
    t = abs(np.log(ratio)) / se
    p = float(2 * (stats.t.sf(t, df) if np.isfinite(df) else stats.norm.sf(t)))
    rel = 100 * (ratio - 1)
    word = "fall" if rel < 0 else "rise"
    verdict = "more than chance would explain" if (hi < 1 or lo > 1) else "within what chance alone could produce"
    pct = f"{100 * confidence:.0f} %"
    sentence = (
        f"{here.label} {_move(here.pct_change)} while {name} {_move(100 * (rc - 1))}: relative {word} "
        f"{abs(rel):.0f} % ({pct} CI {ci_phrase(lo, hi)}), {verdict} ({format_p(p)})."
    )
    return AreaComparison(
        here, comparison if isinstance(comparison, AreaChange) else None, rc, ratio, lo, hi, p, df, sentence
    )
