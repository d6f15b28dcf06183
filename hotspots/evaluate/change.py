"""Did it change? Per-unit tests of change between two periods, with BH and power.

The model: each unit's incidents in a period are Poisson with a rate per month; the before and
after periods have exposures ``t_b`` and ``t_a`` (months **with data**, see :mod:`hotspots.months`).

**Counts** (:func:`count_change`). Given the unit's total ``n = before + after``, the after count is
``Binomial(n, p0)`` with ``p0 = t_a / (t_a + t_b)`` when the rate did not change. The p-value is the
exact two-sided conditional binomial test of two Poisson counts (Przyborowski & Wilenski 1940;
the "C-test" of Krishnamoorthy & Thomson 2004), two-sided **exactly as** ``scipy.stats.binomtest``
computes it (the minimum-likelihood rule), vectorised (see :mod:`._exact`). The rate ratio
``RR = (after / t_a) / (before / t_b)`` has the exact interval obtained by transforming the
Clopper-Pearson interval ``(pi_L, pi_U)`` of ``after / n``: ``RR = pi / (1 - pi) * t_b / t_a``.

**Harm** (:func:`harm_change`). Each incident carries a harm mark ``w`` (a few distinct values,
e.g. 1, 1.5 and 4). Conditional on the unit's incidents and their marks, under no change each
incident falls in the after period independently with probability ``p0``, so the after harm sum
is ``sum_j w_j * Binomial(n_j, p0)`` over the distinct marks ``w_j`` held ``n_j`` times. Its
distribution is computed **exactly** by convolution on the lattice of the marks (their common
step, e.g. 0.5 for 1/1.5/4), and the p-value uses the same two-sided rule as the count test (sum
of the probabilities of every after sum no more likely than the observed, tolerance ``1 + 1e-7``).
It is the randomisation (permutation) distribution of the harm sum computed in closed form, so it
reaches the small p-values BH needs. A unit whose incidents all carry one mark gets exactly the
count test. The harm interval inverts the same exact distribution in ``p`` and transforms it like
the count interval.

**Month-to-month variation** (``dispersion``). The exact test treats incidents as independent;
real unit counts vary more than that from month to month (see :mod:`.tally`). The default,
``dispersion="auto"``, estimates the negative-binomial coefficient ``c`` from the months within
each period and gives each unit the design effect ``phi_u = 1 + c mu_u`` (``mu_u`` its incidents
per month); the test and the interval then use Rao & Scott's (1992) effective counts ``round(after
/ phi_u)`` of ``round(n / phi_u)`` (harm: each mark's counts divided alike), which keeps the exact
machinery. ``c = 0`` (counts no more variable than Poisson) gives the plain exact test;
``dispersion="none"`` forces it, a number ``>= 1`` applies one constant ``phi`` to every unit.
The rate ratio itself is never changed.

**Multiple testing.** Benjamini-Hochberg q-values over the *tested* units only: a unit with no
incident in either period is ``"no data"``, not a test, and not counted in BH.

:func:`.change_table.unit_change` puts these together into the ``change.csv`` table.

**Power.** ``mde_pct`` is the minimum detectable fall at 80 % power, per unit, at two-sided
``alpha`` before BH (see :mod:`.power`), with the same design effect as the test (evaluated at
the unit's rate under the fall).

The interval and the test can disagree at the margin: the Clopper-Pearson interval belongs to the
"central" (doubled one-sided) test, scipy's two-sided p to the minimum-likelihood test. The class
follows the q-value; the interval is descriptive.

References
----------
Przyborowski, J. & Wilenski, H. (1940) Homogeneity of results in testing samples from Poisson
series. *Biometrika* 31, 313-323. Krishnamoorthy, K. & Thomson, J. (2004) A more powerful test for
comparing two Poisson means. *J. Stat. Planning and Inference* 119, 23-35. Clopper, C. J. & Pearson,
E. S. (1934) *Biometrika* 26, 404-413. Benjamini, Y. & Hochberg, Y. (1995) *JRSS B* 57, 289-300.
Rao, J. N. K. & Scott, A. J. (1992) A simple method for the analysis of clustered binary data.
*Biometrics* 48, 577-585.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from hotspots.errors import InputError
from hotspots.evaluate._exact import RERR, _unique_rows, binom_p_two_sided, clopper_pearson
from hotspots.evaluate._harm import _harm_pmf, _harm_tail_bounds, mark_lattice

# --------------------------------------------------------------------------------------
# output columns (pinned by issue 12)
# --------------------------------------------------------------------------------------

UNIT_ID = "unit_id"  # LSOA code, cell id or district code
UNIT_NAME = "unit_name"  # LSOA name, "cell <id>" or district name
BEFORE = "before"  # incidents (or harm sum) in the before period
AFTER = "after"  # incidents (or harm sum) in the after period
BEFORE_MONTHS = "before_months"  # exposure: months of the before period with data
AFTER_MONTHS = "after_months"  # exposure: months of the after period with data
RATE_RATIO = "rate_ratio"  # (after / after_months) / (before / before_months); inf when before = 0
RR_LOWER = "rr_lower"  # lower confidence limit of rate_ratio (exact, on effective counts)
RR_UPPER = "rr_upper"  # upper confidence limit (inf when before = 0)
P_VALUE = "p_value"  # two-sided exact p (NaN for "no data")
Q_VALUE = "q_value"  # Benjamini-Hochberg q over the tested units (NaN for "no data")
CHANGE_CLASS = "change_class"  # one of CHANGE_CLASSES
MDE_PCT = "mde_pct"  # minimum detectable fall at 80 % power, % of the before rate (NaN: none detectable)
CHANGE_COLUMNS = [
    UNIT_ID,
    UNIT_NAME,
    BEFORE,
    AFTER,
    BEFORE_MONTHS,
    AFTER_MONTHS,
    RATE_RATIO,
    RR_LOWER,
    RR_UPPER,
    P_VALUE,
    Q_VALUE,
    CHANGE_CLASS,
    MDE_PCT,
]
"""Columns of ``change.csv`` (:func:`unit_change`), in order."""

FALL = "significant fall"
RISE = "significant rise"
NO_CLEAR_CHANGE = "no clear change"
NO_DATA = "no data"
CHANGE_CLASSES = [FALL, RISE, NO_CLEAR_CHANGE, NO_DATA]
"""Values of ``change_class``: ``q_value <= alpha`` and the direction, else no clear change; no data = zero in both."""

MEASURES = ("count", "harm")
DISPERSION_MODES = ("auto", "none")
"""Named settings of ``dispersion`` (besides a number >= 1)."""

_MAX_LATTICE = 2_000_000  # largest harm lattice (after-sum values) one unit may need


def _exposures(before_months: float, after_months: float) -> float:
    if not (before_months > 0 and after_months > 0):
        raise InputError(
            f"both periods need months with data; got before_months={before_months!r}, after_months={after_months!r}."
        )
    return after_months / (before_months + after_months)


def _ratio_from_share(pi: np.ndarray, before_months: float, after_months: float) -> np.ndarray:
    """Rate ratio ``pi / (1 - pi) * t_b / t_a`` from the after share ``pi`` (inf at pi = 1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pi >= 1, np.inf, pi / (1 - pi) * (before_months / after_months))


def _phi_array(dispersion: float | np.ndarray, n: int) -> np.ndarray:
    """Per-unit design effects (>= 1) from a number or an array."""
    phi = np.broadcast_to(np.asarray(dispersion, dtype=float), (n,)).copy()
    if not (np.all(np.isfinite(phi)) and np.all(phi >= 1)):
        bad = phi[~(np.isfinite(phi) & (phi >= 1))][0]
        raise InputError(f"dispersion must be a number >= 1 (1 = Poisson), got {float(bad)!r}.")
    return phi


@dataclass(frozen=True)
class ChangeTest:
    """Per-unit test results (arrays aligned to the units).

    Attributes
    ----------
    p_value
        Two-sided exact p (NaN where nothing was recorded in either period).
    rate_ratio, rr_lower, rr_upper
        Rate ratio (after / before, per month) and its confidence limits.
    tested
        True where the unit had at least one incident (the units counted in BH).
    """

    p_value: np.ndarray
    rate_ratio: np.ndarray
    rr_lower: np.ndarray
    rr_upper: np.ndarray
    tested: np.ndarray


def _whole_counts(x: Any, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    bad = ~np.isfinite(a) | (a < 0) | (a != np.round(a))
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f"{name} counts must be whole numbers >= 0; unit {i} has {float(a.ravel()[i])!r}.")
    return a


def count_change(
    before: np.ndarray,
    after: np.ndarray,
    *,
    before_months: float,
    after_months: float,
    confidence: float = 0.95,
    dispersion: float | np.ndarray = 1.0,
) -> ChangeTest:
    """Exact conditional test of two Poisson counts per unit, with an exact rate-ratio interval.

    Parameters
    ----------
    before, after
        Incident counts per unit (whole numbers >= 0).
    before_months, after_months
        Exposures: months with data in each period.
    confidence
        Level of the rate-ratio interval.
    dispersion
        Design effect ``phi >= 1`` per unit (or one for all) to allow for (1: the plain exact
        test). Above 1 the test and interval use the Rao & Scott (1992) effective counts
        ``round(after / phi)`` of ``round((before + after) / phi)``; the rate ratio is unchanged.

    Returns
    -------
    ChangeTest

    Raises
    ------
    InputError
        Counts negative, not whole, or of different lengths; an exposure not positive;
        ``dispersion`` below 1.

    Examples
    --------
    >>> r = count_change(np.array([30, 0, 5]), np.array([12, 0, 5]), before_months=12, after_months=12)
    >>> r.p_value.round(4).tolist()
    [0.0079, nan, 1.0]
    """
    p0 = _exposures(before_months, after_months)
    b = _whole_counts(before, "before")
    a = _whole_counts(after, "after")
    if b.shape != a.shape:
        raise InputError(f"before and after differ in length ({b.shape} vs {a.shape}); pass one count per unit.")
    phi = _phi_array(dispersion, a.size).reshape(a.shape)
    n = a + b
    tested = n > 0
    k_eff, n_eff = np.round(a / phi), np.round(n / phi)
    (uk, un), inv = _unique_rows(k_eff, n_eff)  # many units share an (after, total) pair
    inv = inv.reshape(k_eff.shape)
    empty = tested & (n_eff == 0)  # a unit whose effective total rounds to 0 carries no evidence
    p = np.where(tested, binom_p_two_sided(uk, un, p0)[inv], np.nan)
    p = np.where(empty, 1.0, p)
    u_lo, u_hi = clopper_pearson(uk, un, confidence=confidence)
    pi_lo = np.where(empty, 0.0, u_lo[inv])
    pi_hi = np.where(empty, 1.0, u_hi[inv])
    with np.errstate(divide="ignore", invalid="ignore"):
        rr = np.where(tested, (a / after_months) / (b / before_months), np.nan)
    return ChangeTest(
        p_value=p,
        rate_ratio=rr,
        rr_lower=np.where(tested, _ratio_from_share(pi_lo, before_months, after_months), np.nan),
        rr_upper=np.where(tested, _ratio_from_share(pi_hi, before_months, after_months), np.nan),
        tested=tested,
    )


def _harm_p_by_mix(tot: np.ndarray, s_obs: np.ndarray, steps: np.ndarray, p0: float) -> np.ndarray:
    """Exact two-sided p of the after harm sums ``s_obs`` (lattice steps), one exact pmf per distinct mix of marks."""
    cols, inv = _unique_rows(*[tot[:, j] for j in range(tot.shape[1])])
    configs = np.stack(cols, axis=1).astype(np.int64)
    p = np.full(len(tot), np.nan)
    order = np.argsort(inv, kind="stable")
    bounds = np.searchsorted(inv[order], np.arange(len(configs) + 1))
    for c, cfg in enumerate(configs):
        rows = order[bounds[c] : bounds[c + 1]]
        pmf = _harm_pmf(cfg, steps, p0)
        srt = np.sort(pmf)
        cum = np.cumsum(srt)
        k = np.searchsorted(srt, pmf[s_obs[rows]] * RERR, side="right") - 1
        p[rows] = np.minimum(1.0, cum[k])
    return p


def harm_change(
    before_marks: np.ndarray,
    after_marks: np.ndarray,
    mark_values: np.ndarray,
    *,
    before_months: float,
    after_months: float,
    confidence: float = 0.95,
    dispersion: float | np.ndarray = 1.0,
) -> ChangeTest:
    """Exact conditional test of harm sums per unit (see the module notes), with an exact interval.

    Parameters
    ----------
    before_marks, after_marks
        Incidents per unit and distinct harm value (units x marks), e.g. from
        :func:`hotspots.evaluate.tally.tally_periods`.
    mark_values
        The distinct harm values (> 0), one per column.
    before_months, after_months
        Exposures: months with data.
    confidence
        Level of the harm-ratio interval.
    dispersion
        Design effect ``phi >= 1`` per unit (or one for all): each mark's counts are divided by
        it (Rao-Scott effective counts) before the exact test.

    Returns
    -------
    ChangeTest
        ``rate_ratio`` is the ratio of harm per month, after over before.

    Raises
    ------
    InputError
        Shapes disagree, a count is negative, or a unit's harm lattice is too large (round the
        harm weights).

    Notes
    -----
    Units whose incidents all carry one harm value are tested with :func:`count_change` (the
    harm sum is then a multiple of the count, and the two tests coincide). The others are grouped
    by their vector of mark totals; one exact pmf is computed per distinct vector, so the work
    grows with the number of distinct mark mixes, not with the number of units.
    """
    p0 = _exposures(before_months, after_months)
    bm = np.asarray(before_marks, dtype=np.int64)
    am = np.asarray(after_marks, dtype=np.int64)
    vals = np.asarray(mark_values, dtype=float)
    if bm.shape != am.shape or bm.ndim != 2 or bm.shape[1] != len(vals):  # noqa: PLR2004 (units x marks)
        raise InputError(f"before_marks {bm.shape} and after_marks {am.shape} must both be units x {len(vals)} marks.")
    if (bm < 0).any() or (am < 0).any():
        raise InputError("mark counts must be >= 0.")
    phi = _phi_array(dispersion, len(bm))
    step, steps = mark_lattice(vals)
    tested = (bm + am).sum(axis=1) > 0
    # effective counts (Rao-Scott), mark by mark
    tot = np.round((bm + am) / phi[:, None]).astype(np.int64)
    aft = np.minimum(np.round(am / phi[:, None]).astype(np.int64), tot)
    kinds = (tot > 0).sum(axis=1)
    p = np.where(tested, 1.0, np.nan)  # effective totals of 0 carry no evidence
    lo = np.where(tested, 0.0, np.nan)
    hi = np.where(tested, np.inf, np.nan)
    single = tested & (kinds == 1)
    if single.any():
        r = count_change(
            tot[single].sum(axis=1) - aft[single].sum(axis=1),
            aft[single].sum(axis=1),
            before_months=before_months,
            after_months=after_months,
            confidence=confidence,
        )
        p[single], lo[single], hi[single] = r.p_value, r.rr_lower, r.rr_upper
    mixed = np.flatnonzero(tested & (kinds > 1))
    if len(mixed):
        biggest = int((tot[mixed] @ steps).max())
        if biggest > _MAX_LATTICE:
            raise InputError(
                f"a unit's harm lattice has {biggest:,} points (harm step {step:g}); round the harm weights "
                f"to coarser values or use measure = 'count'."
            )
        s_obs = aft[mixed] @ steps
        p[mixed] = _harm_p_by_mix(tot[mixed], s_obs, steps, p0)
        # exact limits, one row per distinct (mix, after sum)
        ucols, uinv = _unique_rows(*[tot[mixed, j] for j in range(tot.shape[1])], s_obs)
        ucfg = np.stack(ucols[:-1], axis=1).astype(np.int64)
        pl, pu = _harm_tail_bounds(ucfg, steps, ucols[-1].astype(np.int64), (1 - confidence) / 2)
        lo[mixed] = _ratio_from_share(pl, before_months, after_months)[uinv]
        hi[mixed] = _ratio_from_share(pu, before_months, after_months)[uinv]
    hb, ha = bm @ vals, am @ vals
    with np.errstate(divide="ignore", invalid="ignore"):
        rr = np.where(tested, (ha / after_months) / (hb / before_months), np.nan)
    return ChangeTest(p_value=p, rate_ratio=rr, rr_lower=lo, rr_upper=hi, tested=tested)


def fdr_bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values over the finite p-values; NaN stays NaN (not counted)."""
    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = stats.false_discovery_control(np.clip(p[ok], 0.0, 1.0), method="bh")
    return q


def classify_change(rate_ratio: np.ndarray, q: np.ndarray, tested: np.ndarray, *, alpha: float = 0.05) -> np.ndarray:
    """Classify each unit's change from its rate ratio and q-value.

    Returns ``"significant fall"`` / ``"significant rise"`` where ``q <= alpha``, else ``"no clear
    change"``; ``"no data"`` where nothing was recorded in either period.
    """
    rr = np.asarray(rate_ratio, dtype=float)
    q = np.asarray(q, dtype=float)
    out = np.full(rr.shape, NO_CLEAR_CHANGE, dtype=object)
    sig = np.asarray(tested, dtype=bool) & (q <= alpha)
    out[sig & (rr < 1)] = FALL
    out[sig & (rr > 1)] = RISE
    out[~np.asarray(tested, dtype=bool)] = NO_DATA
    return out
