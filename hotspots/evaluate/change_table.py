"""The ``change.csv`` table: every unit's test, BH, class and minimum detectable fall.

:func:`unit_change` puts the tests of :mod:`.change` together for a whole map of units, with
the month-to-month variation allowed for unit by unit (:func:`unit_dispersion`) and the minimum
detectable fall of :mod:`.power`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from hotspots.errors import InputError
from hotspots.evaluate.change import (
    AFTER,
    AFTER_MONTHS,
    BEFORE,
    BEFORE_MONTHS,
    CHANGE_CLASS,
    CHANGE_CLASSES,
    CHANGE_COLUMNS,
    DISPERSION_MODES,
    MDE_PCT,
    MEASURES,
    P_VALUE,
    Q_VALUE,
    RATE_RATIO,
    RR_LOWER,
    RR_UPPER,
    UNIT_ID,
    UNIT_NAME,
    ChangeTest,
    classify_change,
    count_change,
    fdr_bh,
    harm_change,
)
from hotspots.evaluate.power import mde_fall
from hotspots.evaluate.tally import PeriodTally


def check_dispersion(dispersion: object, where: str = "dispersion") -> float | str:
    """Check a ``dispersion`` setting: ``"auto"``, ``"none"`` or a number >= 1; return it (numbers as float)."""
    if isinstance(dispersion, str):
        if dispersion in DISPERSION_MODES:
            return dispersion
    elif not isinstance(dispersion, bool) and isinstance(dispersion, (int, float)) and dispersion >= 1:
        return float(dispersion)
    raise InputError(
        f"{where} must be 'auto' (estimated from the data), 'none' (plain exact test) or a number >= 1, "
        f"got {dispersion!r}."
    )


def unit_dispersion(tally: PeriodTally, dispersion: float | str = "auto") -> tuple[np.ndarray, float, float, str]:
    """Per-unit design effects of the test, and what the minimum detectable fall allows for.

    Parameters
    ----------
    tally
        Counts per unit and period, with their estimated dispersion.
    dispersion
        ``"auto"``: ``phi_u = 1 + c mu_u`` with the tally's estimated ``c``; ``"none"``: 1;
        a number >= 1: that constant.

    Returns
    -------
    (phi, constant, c, description)
        ``phi`` per unit (``mu_u``: the unit's incidents per month over both periods, its rate
        under no change); for :func:`.power.mde_fall`, the constant design effect and the NB2
        coefficient; and a description for the manifest.
    """
    setting = check_dispersion(dispersion)
    tb, ta = tally.before_months, tally.after_months
    n = len(tally.before)
    d = tally.dispersion
    if setting == "none":
        return np.ones(n), 1.0, 0.0, "none: plain exact test (incidents independent)"
    if isinstance(setting, float):
        return np.full(n, setting), setting, 0.0, f"constant design effect {setting:g} for every unit"
    if not d.estimated:
        return np.ones(n), 1.0, 0.0, "auto: could not be estimated (one month per period); plain exact test"
    phi = d.phi((tally.before + tally.after) / (tb + ta))
    if d.c == 0:
        return (
            phi,
            1.0,
            0.0,
            (f"auto: no overdispersion found (Pearson ratio {d.pearson:.2f} on {d.df:,} df); plain exact test"),
        )
    how = (
        f"auto: monthly variance mu (1 + {d.c:.3g} mu) estimated within the periods ({d.df:,} df); "
        f"design effect 1 + {d.c:.3g} x incidents per month, up to {float(phi.max()):.2f}"
    )
    return phi, 1.0, d.c, how


def _check_levels(alpha: float, confidence: float, power: float, mde_alpha: float | None) -> None:
    for name, v in (("alpha", alpha), ("confidence", confidence), ("power", power)):
        if not 0 < v < 1:
            raise InputError(f"{name} must be between 0 and 1, got {v!r}.")
    if mde_alpha is not None and not 0 < mde_alpha < 1:
        raise InputError(f"mde_alpha must be between 0 and 1, got {mde_alpha!r}.")


def unit_change(
    tally: PeriodTally,
    *,
    unit_id: Iterable[object],
    unit_name: Iterable[object] | None = None,
    measure: str = "count",
    alpha: float = 0.05,
    confidence: float = 0.95,
    power: float = 0.8,
    mde_alpha: float | None = None,
    dispersion: float | str = "auto",
) -> pd.DataFrame:
    """Build the ``change.csv`` table: per-unit change, exact test, BH, class and minimum detectable fall.

    Parameters
    ----------
    tally
        Counts per unit and period (:func:`hotspots.evaluate.tally.tally_periods`).
    unit_id, unit_name
        One identifier and one name per unit, in the tally's order (names default to the ids).
    measure
        ``"count"`` (incidents) or ``"harm"`` (harm sums, exact harm test).
    alpha
        q-value threshold of the classes (BH false discovery rate).
    confidence
        Level of the rate-ratio interval.
    power
        Power of ``mde_pct`` (0.8 = 80 %).
    mde_alpha
        Two-sided per-unit level of ``mde_pct`` (default ``alpha``; before BH).
    dispersion
        ``"auto"`` (default: month-to-month overdispersion estimated from the data, see
        :func:`unit_dispersion`), ``"none"`` (the plain exact test) or a constant design
        effect >= 1.

    Returns
    -------
    pandas.DataFrame
        :data:`CHANGE_COLUMNS`, one row per unit in the tally's order: ``unit_id, unit_name``;
        ``before, after`` (counts, or harm sums for ``measure="harm"``); ``before_months,
        after_months`` (exposures); ``rate_ratio`` (per month, after / before; inf when before is 0,
        NaN for "no data"), ``rr_lower, rr_upper`` (exact interval at ``confidence`` on the
        effective counts); ``p_value`` (exact two-sided), ``q_value`` (BH over the tested units);
        ``change_class`` (one of :data:`CHANGE_CLASSES`); ``mde_pct`` (minimum detectable fall
        at ``power``, % of the before rate, two-sided ``mde_alpha`` per unit before BH; NaN when
        no fall could be detected, e.g. before = 0). ``attrs["change"]`` holds the method,
        exposures, dispersion and summary for the manifest; ``attrs["dispersion"]`` the design
        effect of each unit's test.

    Raises
    ------
    InputError
        Unknown measure or dispersion, ids of the wrong length, bad alpha/confidence/power.
    """
    if measure not in MEASURES:
        raise InputError(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}.")
    _check_levels(alpha, confidence, power, mde_alpha)
    n_units = len(tally.before)
    ids = np.asarray(list(unit_id), dtype=object)
    names = ids if unit_name is None else np.asarray(list(unit_name), dtype=object)
    if len(ids) != n_units or len(names) != n_units:
        raise InputError(
            f"unit_id and unit_name need {n_units} values (one per unit), got {len(ids)} and {len(names)}."
        )
    tb, ta = tally.before_months, tally.after_months
    phi, constant, nb2_c, how = unit_dispersion(tally, dispersion)
    test, before, after, mu, method = _test(tally, measure, phi=phi, constant=constant, confidence=confidence)
    q = fdr_bh(np.where(test.tested, test.p_value, np.nan))
    cls = classify_change(test.rate_ratio, q, test.tested, alpha=alpha)
    a_mde = mde_alpha if mde_alpha is not None else alpha
    mde = mde_fall(
        mu, before_months=tb, after_months=ta, alpha=a_mde, power=power, nb2_c=nb2_c, monthly=tally.before / tb
    )
    out = pd.DataFrame(
        {
            UNIT_ID: ids,
            UNIT_NAME: names,
            BEFORE: before,
            AFTER: after,
            BEFORE_MONTHS: np.full(n_units, tb, dtype=np.int64),
            AFTER_MONTHS: np.full(n_units, ta, dtype=np.int64),
            RATE_RATIO: test.rate_ratio,
            RR_LOWER: test.rr_lower,
            RR_UPPER: test.rr_upper,
            P_VALUE: test.p_value,
            Q_VALUE: q,
            CHANGE_CLASS: cls,
            MDE_PCT: 100.0 * mde,
        },
        columns=CHANGE_COLUMNS,
    )
    counts = pd.Series(cls).value_counts()
    d = tally.dispersion
    out.attrs["change"] = {
        "measure": measure,
        "method": method,
        "before_months": int(tb),
        "after_months": int(ta),
        "p0_after_share": ta / (ta + tb),
        "alpha_q": alpha,
        "confidence": confidence,
        "mde": {"power": power, "alpha": a_mde, "two_sided": True, "before_bh": True},
        "units": int(n_units),
        "tested": int(test.tested.sum()),
        "classes": {c: int(counts.get(c, 0)) for c in CHANGE_CLASSES},
        "outside_units": int(tally.outside),
        "dispersion": {
            "setting": dispersion,
            "used": how,
            "nb2_c": d.c if d.estimated else None,
            "pearson": d.pearson if d.estimated else None,
            "df": int(d.df),
            "max_design_effect": float(phi[test.tested].max()) if test.tested.any() else 1.0,
        },
        "harm_marks": tally.mark_values.tolist() if measure == "harm" else None,
    }
    out.attrs["dispersion"] = phi
    return out


def _test(
    tally: PeriodTally, measure: str, *, phi: np.ndarray, constant: float, confidence: float
) -> tuple[ChangeTest, np.ndarray, np.ndarray, np.ndarray, str]:
    """Test every unit: the test, the before and after values, the MDE's expected before counts, the method."""
    tb, ta = tally.before_months, tally.after_months
    if measure == "count":
        test = count_change(
            tally.before, tally.after, before_months=tb, after_months=ta, confidence=confidence, dispersion=phi
        )
        method = "exact conditional binomial test of two Poisson counts (two-sided as scipy.stats.binomtest)"
        return test, tally.before, tally.after, tally.before.astype(float) / constant, method
    test = harm_change(
        tally.before_marks,
        tally.after_marks,
        tally.mark_values,
        before_months=tb,
        after_months=ta,
        confidence=confidence,
        dispersion=phi,
    )
    with np.errstate(divide="ignore", invalid="ignore"):  # effective count of a harm sum: S^2 / sum(w^2)
        mu = np.where(tally.before_harm_sq > 0, tally.before_harm**2 / tally.before_harm_sq, 0.0) / constant
    method = (
        "exact conditional test of harm sums (each incident after with probability t_a/(t_a+t_b), "
        "marks fixed; exact convolution on the harm lattice)"
    )
    return test, tally.before_harm, tally.after_harm, mu, method
