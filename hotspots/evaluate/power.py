"""Minimum detectable change: how big a fall the data could ever tell from chance.

Per unit (:func:`mde_fall`): the smallest fall in the rate, as a share of the before rate, that
the exact conditional test of :mod:`.change` detects with the stated power, given the unit's
before count and the two exposures. "Detects" means the two-sided test at ``alpha`` rejects
*in the direction of a fall*. The power is computed exactly, with no normal approximation:

    power(f) = sum_n  Poisson(n; mu_b + mu_a) * BinomCDF(k_lo(n); n, pi_1)

where ``mu_b`` is the expected before count (taken as the observed before count), ``mu_a =
mu_b * (t_a / t_b) * (1 - f)`` the expected after count under a fall ``f``, ``pi_1 = mu_a /
(mu_a + mu_b)``, and ``k_lo(n)`` the largest after count the two-sided test at ``alpha`` calls
significant among ``n`` incidents (from the same scipy-exact p-values as the test itself;
``-1`` when none). Both counts are random (the unconditional power of the conditional test).
The fall ``f`` solving ``power(f) = power`` is found by bisection, vectorised over the distinct
before counts.

Which alpha. ``alpha`` is per unit, **before** Benjamini-Hochberg: it answers "could a fall of
this size in this one place be told from chance if we looked only here". When every unit of a
map is screened with BH, a place needs a larger fall to be flagged; passing ``alpha = 0.05 /
m`` (Bonferroni over ``m`` tested units) gives a conservative bound for that case.

Interventions (:func:`mde_wdd`, :func:`mde_ratio_vs_control`) use the normal approximations
their tests use (Wheeler & Ratcliffe 2018; the Wald test of the log ratio of rate ratios).

References
----------
Wheeler, A. P. & Ratcliffe, J. H. (2018) A simple weighted displacement difference test to
evaluate place based crime interventions. *Crime Science* 7, 11.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from hotspots.errors import InputError
from hotspots.evaluate._exact import _unique_rows, binom_p_two_sided

_BISECT_STEPS = 22  # precision 2**-22 of the fall: far finer than the reported 0.1 %


def _check(alpha: float, power: float, before_months: float, after_months: float) -> None:
    if not 0 < alpha < 1:
        raise InputError(f"alpha must be between 0 and 1, got {alpha!r}.")
    if not 0 < power < 1:
        raise InputError(f"power must be between 0 and 1, got {power!r} (write 80 % as 0.8).")
    if not (before_months > 0 and after_months > 0):
        raise InputError(
            f"exposures must be positive numbers of months, got before={before_months!r}, after={after_months!r}."
        )


def lower_rejection_bound(n: np.ndarray, *, p0: float, alpha: float) -> np.ndarray:
    """Largest after count ``k`` below ``n * p0`` that the two-sided exact test rejects at ``alpha``.

    Parameters
    ----------
    n
        Totals (before + after), whole numbers >= 0.
    p0
        Null share of the after period, ``t_a / (t_a + t_b)``.
    alpha
        Two-sided level.

    Returns
    -------
    numpy.ndarray
        ``k_lo(n)``, or -1 where no after count below the expectation is significant.

    Notes
    -----
    Below the mode the two-sided "minimum likelihood" p-value is non-decreasing in ``k`` (a
    larger ``k`` is more likely, so more outcomes count as extreme), so ``k_lo`` is found by a
    vectorised binary search over ``k`` in ``[0, ceil(n p0) - 1]``.
    """
    n = np.asarray(n, dtype=float)
    top = np.ceil(n * p0) - 1  # k must lie in [0, top]
    ok = (n > 0) & (top >= 0)
    ok[ok] = binom_p_two_sided(np.zeros(int(ok.sum())), n[ok], p0) <= alpha
    out = np.full(n.shape, -1.0)
    nn, tt = n[ok], top[ok]
    # bracket around the normal-approximation cut-off; fall back to the full range where it misses
    sd = np.sqrt(nn * p0 * (1 - p0))
    guess = np.floor(nn * p0 - stats.norm.ppf(1 - alpha / 2) * sd)
    lo = np.clip(guess - 3 * sd - 5, 0, tt)
    hi = np.clip(guess + 3 * sd + 5, 0, tt)
    lo = np.where(binom_p_two_sided(lo, nn, p0) <= alpha, lo, 0.0)
    hi = np.where(binom_p_two_sided(hi, nn, p0) <= alpha, tt, hi)
    # largest k in [lo, hi] with p(k) <= alpha, knowing p(lo) <= alpha (p is non-decreasing there)
    while np.any(lo < hi):
        act = lo < hi
        mid = np.ceil((lo[act] + hi[act]) / 2)
        rej = binom_p_two_sided(mid, nn[act], p0) <= alpha
        lo_a, hi_a = lo[act], hi[act]
        lo_a[rej] = mid[rej]
        hi_a[~rej] = mid[~rej] - 1
        lo[act], hi[act] = lo_a, hi_a
    out[ok] = lo
    return out


def _power(
    mu_b: np.ndarray, f: np.ndarray, *, p0: float, ratio: float, k_lo: np.ndarray | None, alpha: float
) -> np.ndarray:
    """Exact power on flat arrays; ``k_lo`` (indexed by n) is extended when too short."""
    mu_a = mu_b * ratio * (1.0 - f)
    mu = mu_b + mu_a
    pi1 = np.divide(mu_a, mu, out=np.zeros_like(mu), where=mu > 0)
    lo_n = np.maximum(0, np.floor(mu - 12 * np.sqrt(mu) - 5))
    width = int(np.ceil(np.max(24 * np.sqrt(mu) + 20))) if len(mu) else 0
    ns = lo_n[:, None] + np.arange(width)[None, :]
    need = int(ns.max()) + 1 if ns.size else 1
    if k_lo is None or len(k_lo) < need:
        k_lo = lower_rejection_bound(np.arange(need), p0=p0, alpha=alpha)
    kk = k_lo[ns.astype(np.int64)]
    w = stats.poisson.pmf(ns, mu[:, None])
    hit = np.where(kk >= 0, stats.binom.cdf(kk, ns, pi1[:, None]), 0.0)
    return np.clip((w * hit).sum(axis=1), 0.0, 1.0)


def _n_max(mu_b: np.ndarray, ratio: float) -> int:
    """Largest total the power sums reach for expected before counts ``mu_b`` (no fall)."""
    mu = np.max(mu_b) * (1 + ratio) if len(mu_b) else 0.0
    return int(np.ceil(mu + 12 * np.sqrt(mu) + 30))


def power_fall(
    mu_before: np.ndarray | float,
    fall: np.ndarray | float,
    *,
    before_months: float,
    after_months: float,
    alpha: float = 0.05,
) -> np.ndarray:
    """Exact power of the two-sided conditional test to detect a fall (elementwise).

    Parameters
    ----------
    mu_before
        Expected before count(s) of the unit(s).
    fall
        Fall(s) in the rate as a share (0.3 = a 30 % fall), broadcast against ``mu_before``.
    before_months, after_months
        Exposures (months with data).
    alpha
        Two-sided level of the test.

    Returns
    -------
    numpy.ndarray
        Probability that the test rejects with the after count below expectation.
    """
    _check(alpha, 0.5, before_months, after_months)
    mu_b, f = np.broadcast_arrays(np.asarray(mu_before, dtype=float), np.asarray(fall, dtype=float))
    p0 = after_months / (before_months + after_months)
    out = _power(mu_b.ravel(), f.ravel(), p0=p0, ratio=after_months / before_months, k_lo=None, alpha=alpha)
    return out.reshape(mu_b.shape)


def mde_fall(
    mu_before: np.ndarray | float,
    *,
    before_months: float,
    after_months: float,
    alpha: float = 0.05,
    power: float = 0.8,
    nb2_c: float = 0.0,
    monthly: np.ndarray | float | None = None,
) -> np.ndarray:
    """Minimum detectable fall per unit, as a share of the before rate (0.35 = a 35 % fall).

    Parameters
    ----------
    mu_before
        Expected before count of each unit (the observed before count; for harm, the effective
        count ``S**2 / sum(w**2)``, see :func:`.change.unit_change`), already divided by any
        constant design effect.
    before_months, after_months
        Exposures (months with data).
    alpha
        Two-sided level of the test, per unit and before BH (see the module notes).
    power
        Required power (0.8 = 80 %).
    nb2_c
        Month-to-month overdispersion (:class:`.tally.Dispersion`): the test then uses effective
        counts divided by ``phi = 1 + c m``, ``m`` the unit's incidents per month over both periods
        *under the fall* (``monthly * (t_b + t_a (1 - f)) / (t_b + t_a)``), and so does the power.
    monthly
        Each unit's incidents per month before (default ``mu_before / before_months``); used with ``nb2_c``.

    Returns
    -------
    numpy.ndarray
        The smallest fall with at least ``power`` chance of a significant fall; NaN where even a
        complete fall (after = 0 expected) would not reach that power (including ``mu_before == 0``).

    Examples
    --------
    >>> float(mde_fall(50, before_months=12, after_months=12).round(2))
    0.5
    """
    _check(alpha, power, before_months, after_months)
    if not nb2_c >= 0:
        raise InputError(f"nb2_c must be >= 0, got {nb2_c!r}.")
    mu = np.asarray(mu_before, dtype=float)
    shape = mu.shape
    flat = mu.ravel()
    per_month = flat / before_months if monthly is None else np.broadcast_to(np.asarray(monthly, float), shape).ravel()
    out = np.full(flat.shape, np.nan)
    if flat.size == 0:
        return out.reshape(shape)
    (uniq, umon), inv = _unique_rows(flat, per_month if nb2_c > 0 else np.zeros_like(flat))
    res = np.full(uniq.shape, np.nan)
    ok = uniq > 0
    if ok.any():
        m, mon = uniq[ok], umon[ok]
        p0 = after_months / (before_months + after_months)
        ratio = after_months / before_months

        def eff(f: np.ndarray, idx: np.ndarray) -> np.ndarray:
            """Effective before counts under a fall ``f`` (the test's design effect at the pooled rate)."""
            return m[idx] / (1.0 + nb2_c * mon[idx] * (1.0 + ratio * (1.0 - f)) / (1.0 + ratio))

        k_lo = lower_rejection_bound(np.arange(_n_max(m, ratio) + 1), p0=p0, alpha=alpha)
        every = np.arange(len(m))
        full = _power(eff(np.ones(len(m)), every), np.ones(len(m)), p0=p0, ratio=ratio, k_lo=k_lo, alpha=alpha)
        can = np.flatnonzero(full >= power)
        lo = np.zeros(len(can))
        hi = np.ones(len(can))
        for _ in range(_BISECT_STEPS):
            mid = (lo + hi) / 2
            enough = _power(eff(mid, can), mid, p0=p0, ratio=ratio, k_lo=k_lo, alpha=alpha) >= power
            hi = np.where(enough, mid, hi)
            lo = np.where(enough, lo, mid)
        r = np.full(m.shape, np.nan)
        r[can] = hi
        res[ok] = r
    out = res[inv.ravel()]
    return out.reshape(shape)


def mde_wdd(
    *,
    treated_before: float,
    control_before: float,
    control_after: float,
    displacement_var: float = 0.0,
    treated_var_per_count: float = 1.0,
    alpha: float = 0.05,
    power: float = 0.8,
) -> float:
    """Minimum detectable fall in the treated area for the WDD test (normal approximation).

    Under a fall ``f`` the treated after count is expected at ``T0 (1 - f)`` (control trend
    zero), so ``E[WDD] = -f T0`` and ``Var = s (T0 + T0 (1 - f)) + C0 + C1 + D`` with ``s`` the
    variance per unit of the treated measure (1 for counts; ``sum(w**2) / sum(w)`` for harm) and
    ``D`` the variance of the displacement terms. Solves ``Phi(f T0 / sd - z_{1-alpha/2}) =
    power`` for ``f``.

    Returns
    -------
    float
        The fall as a share of ``treated_before``; NaN when even a complete fall is not enough.
    """
    if treated_before <= 0:
        return float("nan")
    z = stats.norm.ppf(1 - alpha / 2)

    def pw(f: np.ndarray) -> np.ndarray:
        sd = np.sqrt(
            treated_var_per_count * treated_before * (2 - f) + control_before + control_after + displacement_var
        )
        return stats.norm.cdf(f * treated_before / sd - z)

    if pw(np.array(1.0)) < power:
        return float("nan")
    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        if pw(np.array(mid)) >= power:
            hi = mid
        else:
            lo = mid
    return hi


def mde_ratio_vs_control(
    *, treated_before: float, control_before: float, control_after: float, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Minimum detectable relative fall (treated against control) for the log ratio of rate ratios.

    Solves ``|log(1 - f)| = z_{1-alpha/2} + z_power`` times ``sqrt(1/T0 + 1/(T0 (1 - f)) + 1/C0 + 1/C1)``
    (Wald test of the log ratio of rate ratios) for the fall ``f`` of the treated after count
    relative to what the control trend predicts. NaN when no fall below 100 % is detectable.
    """
    if min(treated_before, control_before, control_after) <= 0:
        return float("nan")
    k = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    base = 1 / treated_before + 1 / control_before + 1 / control_after

    def gap(f: np.ndarray) -> np.ndarray:
        return -np.log1p(-f) - k * np.sqrt(base + 1 / (treated_before * (1 - f)))

    # The Wald variance grows as the treated after count shrinks, so the gap is not monotone in f:
    # scan for the first crossing, then bisect inside that step.
    grid = np.linspace(0.0, 0.999, 1000)
    ok = np.flatnonzero(gap(grid) >= 0)
    if len(ok) == 0:
        return float("nan")
    lo, hi = float(grid[max(ok[0] - 1, 0)]), float(grid[ok[0]])
    for _ in range(50):
        mid = (lo + hi) / 2
        if gap(np.array(mid)) >= 0:
            hi = mid
        else:
            lo = mid
    return hi
