"""Wheeler & Ratcliffe's weighted displacement difference test, its harm form, and the ratio against control.

The tests of an intervention's impact (:mod:`.impact` applies them to an ``[[intervention]]``):
a treated area, a control area, optionally a displacement area (a ring around the treated area)
with its own control (the same ring around the control area), each counted in equal before and
after periods.

**WDD** (Wheeler & Ratcliffe 2018, their eq. 1-3): with ``T, C, D, Dc`` the treated, control,
displacement and displacement-control counts, before (0) and after (1),

    WDD = (T1 - T0) - (C1 - C0) + (D1 - D0) - (Dc1 - Dc0),   Var(WDD) = sum of the eight counts

(each count Poisson, so its variance is itself); ``z = WDD / sqrt(Var)``, normal interval. A
negative WDD is crimes prevented. Optional time and area weights divide each count by its
period length and area as in ``ptools::wdd`` (Wheeler's 2021 extensions), the variance by their
squares.

**Harm-weighted WDD** (:func:`wdd_harm`): the same difference of harm sums; the variance of a
harm sum of Poisson incidents with marks ``w`` is ``sum(w**2)`` (compound Poisson), so
``Var = sum over the eight cells of sum(w**2)``. With one weight per crime type this equals
Wheeler's ``wdd_harm`` (sum over types of ``w_k**2`` times the type's WDD variance).

**Before/after against control** (:func:`ratio_vs_control`): the ratio of rate ratios
``(T1/T0) / (C1/C0)``. For counts the p-value is Fisher's exact test of the 2x2 table (given its
margins, T1 is hypergeometric when the two areas changed alike) and the interval is the exact
conditional one (``scipy.stats.contingency.odds_ratio(kind="conditional")``, reported around the
conditional MLE of the ratio); for harm, Wald on the log scale with compound-Poisson variances
``Q/S**2``.

References
----------
Wheeler, A. P. & Ratcliffe, J. H. (2018) A simple weighted displacement difference test to
evaluate place based crime interventions. *Crime Science* 7, 11. doi:10.1186/s40163-018-0085-5.
Wheeler, A. P. (2020) Amending the WDD test to incorporate harm weights (blog, 19 Nov 2020) and
``ptools`` R package ``wdd()`` / ``wdd_harm()`` (CRAN, 2.0.0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

from hotspots.errors import InputError

AREAS = ("treated", "control", "displacement", "displacement_control")
Pair = tuple[float, float]


@dataclass(frozen=True)
class WddResult:
    """A WDD test.

    Attributes
    ----------
    local, se_local
        ``(T1 - T0) - (C1 - C0)`` (weighted) and its standard error.
    displacement, se_displacement
        ``(D1 - D0) - (Dc1 - Dc0)`` and its standard error (0, 0 without displacement areas).
    estimate, se
        Total WDD (local + displacement) and its standard error.
    z, p_value
        ``estimate / se`` and its two-sided normal p.
    lower, upper
        Normal confidence interval of the total at ``confidence``.
    confidence
        Level of the interval.
    """

    local: float
    se_local: float
    displacement: float
    se_displacement: float
    estimate: float
    se: float
    z: float
    p_value: float
    lower: float
    upper: float
    confidence: float


def _pair(x: Any, name: str) -> Pair:
    try:
        a, b = (float(v) for v in x)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a (before, after) pair of numbers, got {x!r}.") from exc
    if not (np.isfinite(a) and np.isfinite(b)) or a < 0 or b < 0:
        raise InputError(f"{name} counts must be numbers >= 0, got {x!r}.")
    return a, b


def wdd(
    treated: Sequence[float],
    control: Sequence[float],
    displacement: Sequence[float] | None = None,
    displacement_control: Sequence[float] | None = None,
    *,
    variances: Mapping[str, Sequence[float]] | None = None,
    time_weights: Sequence[float] = (1.0, 1.0),
    area_weights: Mapping[str, float] | None = None,
    confidence: float = 0.95,
) -> WddResult:
    """Wheeler & Ratcliffe's weighted displacement difference test.

    Parameters
    ----------
    treated, control
        ``(before, after)`` counts (or harm sums) of the treated and control areas.
    displacement, displacement_control
        ``(before, after)`` of the displacement area and its control (both or neither).
    variances
        ``(before, after)`` variances per area (keys as :data:`AREAS`); default the values
        themselves (Poisson counts). :func:`wdd_harm` passes sums of squared harm.
    time_weights
        Lengths of the before and after periods (e.g. ``(2, 1)``: two years before, one after);
        each value is divided by its period's weight (rates per period unit).
    area_weights
        Sizes per area (keys as :data:`AREAS`, default 1): values are divided by them (densities).
    confidence
        Level of the normal interval.

    Returns
    -------
    WddResult

    Raises
    ------
    InputError
        A count is negative or not a pair; only one of the displacement areas is given; a
        weight is not positive.

    Examples
    --------
    Wheeler & Ratcliffe's (2018) worked example (as pinned in ``ptools``' tests):

    >>> r = wdd((207, 110), (308, 318), (178, 157), (150, 140))
    >>> r.estimate, round(r.se**2), round(r.z, 2), round(r.lower), round(r.upper)
    (-118.0, 1568, -2.98, -196, -40)
    """
    if (displacement is None) != (displacement_control is None):
        raise InputError("give both displacement and displacement_control (or neither): WDD needs a control for each.")
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be between 0 and 1, got {confidence!r}.")
    vals = {"treated": _pair(treated, "treated"), "control": _pair(control, "control")}
    if displacement is not None and displacement_control is not None:
        vals["displacement"] = _pair(displacement, "displacement")
        vals["displacement_control"] = _pair(displacement_control, "displacement_control")
    var = {k: _pair((variances or {}).get(k, v), f"variance of {k}") for k, v in vals.items()}
    tw = _pair(time_weights, "time_weights")
    aw = {k: float((area_weights or {}).get(k, 1.0)) for k in AREAS}
    unknown = set(area_weights or {}) - set(AREAS)
    if unknown:
        raise InputError(f"area_weights has unknown area(s) {sorted(unknown)}; use {', '.join(AREAS)}.")
    if min(tw) <= 0 or min(aw.values()) <= 0:
        raise InputError(f"time and area weights must be positive, got {tw!r} and {aw!r}.")

    def diff(k: str) -> tuple[float, float]:
        if k not in vals:
            return 0.0, 0.0
        (b, a), (vb, va) = vals[k], var[k]
        wb, wa = tw[0] * aw[k], tw[1] * aw[k]
        return a / wa - b / wb, va / wa**2 + vb / wb**2

    (dt, vt), (dc, vc), (dd, vd), (ddc, vdc) = (diff(k) for k in AREAS)
    local, v_local = dt - dc, vt + vc
    disp, v_disp = dd - ddc, vd + vdc
    est, v = local + disp, v_local + v_disp
    se = float(np.sqrt(v))
    z = est / se if se > 0 else float("nan")
    q = float(stats.norm.ppf(1 - (1 - confidence) / 2))
    p = float(2 * stats.norm.sf(abs(z))) if se > 0 else float("nan")
    return WddResult(
        float(local),
        float(np.sqrt(v_local)),
        float(disp),
        float(np.sqrt(v_disp)),
        float(est),
        se,
        float(z),
        p,
        float(est - q * se),
        float(est + q * se),
        confidence,
    )


def harm_totals(weights: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """Sum and sum of squares of the harm weights of some incidents."""
    w = np.asarray(weights, dtype=float)
    if len(w) and (not np.all(np.isfinite(w)) or w.min() < 0):
        raise InputError("harm weights must be numbers >= 0.")
    return float(w.sum()), float((w**2).sum())


def wdd_harm(
    treated: tuple[Sequence[float], Sequence[float]],
    control: tuple[Sequence[float], Sequence[float]],
    displacement: tuple[Sequence[float], Sequence[float]] | None = None,
    displacement_control: tuple[Sequence[float], Sequence[float]] | None = None,
    *,
    time_weights: Sequence[float] = (1.0, 1.0),
    area_weights: Mapping[str, float] | None = None,
    confidence: float = 0.95,
) -> WddResult:
    """Harm-weighted WDD: the WDD of harm sums, with variance ``sum(w**2)`` per area and period.

    Parameters
    ----------
    treated, control, displacement, displacement_control
        ``(before_weights, after_weights)``: the harm weight of every incident of the area in
        each period.
    time_weights, area_weights, confidence
        As :func:`wdd`.

    Returns
    -------
    WddResult
        In harm units (e.g. -155 = harm of 155 prevented).

    Examples
    --------
    ``ptools::wdd_harm``'s example (robbery weight 10, burglary 5, theft 1), as incident weights:

    >>> rob, burg, theft = 10.0, 5.0, 1.0
    >>> t = ([rob] * 20 + [burg] * 25 + [theft] * 70, [rob] * 10 + [burg] * 20 + [theft] * 20)
    >>> c = ([rob] * 20 + [burg] * 30 + [theft] * 80, [rob] * 20 + [burg] * 30 + [theft] * 60)
    >>> r = wdd_harm(t, c)
    >>> r.estimate, r.se**2
    (-155.0, 9855.0)
    """
    sums: dict[str, Pair] = {}
    sq: dict[str, Pair] = {}
    for k, v in zip(AREAS, (treated, control, displacement, displacement_control), strict=True):
        if v is None:
            continue
        (sb, qb), (sa, qa) = harm_totals(v[0]), harm_totals(v[1])
        sums[k], sq[k] = (sb, sa), (qb, qa)
    return wdd(
        sums["treated"],
        sums["control"],
        sums.get("displacement"),
        sums.get("displacement_control"),
        variances=sq,
        time_weights=time_weights,
        area_weights=area_weights,
        confidence=confidence,
    )


@dataclass(frozen=True)
class RatioVsControl:
    """Treated change relative to control change: ``(T1/T0) / (C1/C0)``.

    Attributes
    ----------
    ratio, lower, upper
        Ratio of rate ratios and its interval (1 = the treated area changed like the control).
    p_value
        Two-sided p (Fisher's exact test for counts; Wald for harm).
    treated_change_pct, control_change_pct
        Each area's own change, per cent.
    method
        How the p and interval were made.
    """

    ratio: float
    lower: float
    upper: float
    p_value: float
    treated_change_pct: float
    control_change_pct: float
    method: str


def ratio_vs_control(
    treated: Sequence[float],
    control: Sequence[float],
    *,
    treated_sq: Sequence[float] | None = None,
    control_sq: Sequence[float] | None = None,
    confidence: float = 0.95,
) -> RatioVsControl:
    """Before/after in the treated area against the control area (ratio of rate ratios).

    Parameters
    ----------
    treated, control
        ``(before, after)`` counts, or harm sums when ``treated_sq``/``control_sq`` are given.
    treated_sq, control_sq
        ``(before, after)`` sums of squared harm (harm mode: Wald interval with compound-Poisson
        variances); None: counts, Fisher's exact test and the exact conditional interval.
    confidence
        Level of the interval.

    Returns
    -------
    RatioVsControl
    """
    t0, t1 = _pair(treated, "treated")
    c0, c1 = _pair(control, "control")
    with np.errstate(divide="ignore", invalid="ignore"):
        tc = 100 * (t1 / t0 - 1) if t0 > 0 else float("nan")
        cc = 100 * (c1 / c0 - 1) if c0 > 0 else float("nan")
        ratio = (t1 * c0) / (t0 * c1) if t0 * c1 > 0 else float("nan")
    if treated_sq is None and control_sq is None:
        table = np.array([[round(t1), round(t0)], [round(c1), round(c0)]])
        p = float(stats.fisher_exact(table).pvalue)
        ci = stats.contingency.odds_ratio(table, kind="conditional").confidence_interval(confidence_level=confidence)
        return RatioVsControl(
            float(ratio),
            float(ci.low),
            float(ci.high),
            p,
            float(tc),
            float(cc),
            "Fisher's exact test of the 2x2 table; exact conditional interval",
        )
    if treated_sq is None or control_sq is None:
        raise InputError("give both treated_sq and control_sq (harm mode) or neither (counts).")
    qt0, qt1 = _pair(treated_sq, "treated_sq")
    qc0, qc1 = _pair(control_sq, "control_sq")
    if min(t0, t1, c0, c1) <= 0:
        return RatioVsControl(
            float(ratio),
            float("nan"),
            float("nan"),
            float("nan"),
            float(tc),
            float(cc),
            "a harm sum is 0: no log-scale interval",
        )
    se = float(np.sqrt(qt0 / t0**2 + qt1 / t1**2 + qc0 / c0**2 + qc1 / c1**2))
    z = float(stats.norm.ppf(1 - (1 - confidence) / 2))
    p = float(2 * stats.norm.sf(abs(np.log(ratio)) / se))
    return RatioVsControl(
        float(ratio),
        float(ratio * np.exp(-z * se)),
        float(ratio * np.exp(z * se)),
        p,
        float(tc),
        float(cc),
        "Wald on the log ratio of harm ratios (compound-Poisson variances sum(w^2)/S^2)",
    )


def wdd_as_dict(result: WddResult) -> dict[str, float]:
    """Convert a :class:`WddResult` to a plain dict (for JSON manifests)."""
    return asdict(result)
