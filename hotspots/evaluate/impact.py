"""Intervention impact: one row of ``impact.csv`` per intervention and measure.

An intervention (``[[intervention]]``) has a treated area, usually a control area, optionally a
displacement buffer (a ring of ``buffer_m`` metres around the treated area, with the same ring
around the control area as its control), a start month and equal before and after periods
(:func:`hotspots.months.intervention_periods`). The areas are geometry (EPSG:27700): kit and
zone ids change between runs, polygons do not.

With a control area the row holds Wheeler & Ratcliffe's WDD (counts) or its harm-weighted
form (harm), the before/after ratio against the control, and the fall in the treated area that
the WDD test would detect with 80 % power (:func:`hotspots.evaluate.power.mde_wdd`). Without a
control area only the treated area's own before/after change can be tested (the exact test of
:mod:`.change`), which cannot separate the scheme from the general trend; the row says so.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import shapely

from hotspots.errors import HotspotsWarning, InputError
from hotspots.evaluate.area import format_p
from hotspots.evaluate.change import count_change, harm_change
from hotspots.evaluate.power import mde_fall, mde_wdd
from hotspots.evaluate.wdd import AREAS, harm_totals, ratio_vs_control, wdd
from hotspots.months import format_months, intervention_periods

COORDINATES = 2  # xy columns

IMPACT_COLUMNS = [
    "intervention",
    "measure",
    "start",
    "before",
    "after",
    "period_months",
    "treated_before",
    "treated_after",
    "control_before",
    "control_after",
    "displacement_before",
    "displacement_after",
    "displacement_control_before",
    "displacement_control_after",
    "wdd",
    "wdd_se",
    "wdd_lower",
    "wdd_upper",
    "wdd_p",
    "wdd_local",
    "wdd_displacement",
    "treated_change_pct",
    "treated_p",
    "control_change_pct",
    "ratio_vs_control",
    "rvc_lower",
    "rvc_upper",
    "rvc_p",
    "mde_pct",
    "verdict",
]
"""Columns of ``impact.csv`` (:func:`intervention_impact`): one row per intervention and measure.

``intervention, measure`` (count or harm), ``start`` (first month of the after period),
``before, after`` (the two periods as month lists), ``period_months`` (their common length);
``<area>_before, <area>_after`` for the treated, control, displacement and
displacement-control areas (counts or harm sums; empty where the area is not defined);
``wdd`` (WDD estimate: negative = fewer than the control trend predicts), ``wdd_se``,
``wdd_lower, wdd_upper`` (normal interval), ``wdd_p`` (two-sided), ``wdd_local`` (treated minus
control part), ``wdd_displacement`` (displacement minus its control part);
``treated_change_pct`` and ``treated_p`` (the treated area's own change and its exact test, no
control), ``control_change_pct``; ``ratio_vs_control`` ((T1/T0)/(C1/C0)), ``rvc_lower,
rvc_upper, rvc_p`` (Fisher's exact test and conditional interval for counts, Wald for harm);
``mde_pct`` (fall in the treated area, % of its before level, detectable with the stated power
at the stated alpha: by the WDD test with a control, by the exact test without); ``verdict``
(one plain sentence)."""


def impact_areas(
    treated: shapely.Geometry, control: shapely.Geometry | None = None, *, buffer_m: float | None = None
) -> dict[str, shapely.Geometry]:
    """Build the areas of an intervention: treated, control and, with ``buffer_m``, the displacement rings.

    The displacement area is the ring of ``buffer_m`` metres around the treated area (treated
    area removed); its control is the same ring around the control area. Geometries must be in
    a projected CRS in metres (EPSG:27700).

    Raises
    ------
    InputError
        Empty geometries, overlapping treated and control areas, a buffer <= 0, or a buffer
        without a control area.

    Warns
    -----
    HotspotsWarning
        A displacement ring overlaps the other pair's areas (incidents there count twice).
    """
    if treated is None or shapely.is_empty(treated):
        raise InputError("the treated area must be a non-empty polygon.")
    out = {"treated": treated}
    if control is None:
        if buffer_m is not None:
            raise InputError(
                "a displacement buffer needs a control area: the WDD compares the ring around the treated area "
                "with the same ring around the control area. Add a control or remove buffer_m."
            )
        return out
    if shapely.is_empty(control):
        raise InputError("the control area must be a non-empty polygon.")
    if shapely.area(shapely.intersection(treated, control)) > 0:
        raise InputError("the treated and control areas overlap; the control must lie outside the treated area.")
    out["control"] = control
    if buffer_m is not None:
        if not buffer_m > 0:
            raise InputError(f"the displacement buffer must be a positive number of metres, got {buffer_m!r}.")
        disp = shapely.difference(shapely.buffer(treated, buffer_m), treated)
        dctl = shapely.difference(shapely.buffer(control, buffer_m), control)
        if (
            shapely.area(shapely.intersection(disp, control)) > 0
            or shapely.area(shapely.intersection(dctl, treated)) > 0
        ):
            warnings.warn(
                f"the {buffer_m:g} m displacement ring of one area overlaps the other area; incidents there count in "
                f"both. Move the control area further away or use a smaller buffer.",
                HotspotsWarning,
                stacklevel=2,
            )
        out["displacement"], out["displacement_control"] = disp, dctl
    return out


def _own_change(weights: tuple[np.ndarray, np.ndarray], *, months: int, measure: str) -> float:
    """Exact two-sided p of the treated area's own before/after change (no control)."""
    b, a = weights
    if measure == "count":
        r = count_change(np.array([len(b)]), np.array([len(a)]), before_months=months, after_months=months)
        return float(r.p_value[0])
    marks = np.unique(np.concatenate([b, a])[np.concatenate([b, a]) > 0])
    if len(marks) == 0:
        return float("nan")
    bm = np.array([[np.sum(b == v) for v in marks]])
    am = np.array([[np.sum(a == v) for v in marks]])
    r = harm_change(bm, am, marks, before_months=months, after_months=months)
    return float(r.p_value[0])


def _verdict(est: float, p: float, *, alpha: float, measure: str, control: bool, own_pct: float) -> str:
    if not control:
        move = (
            "no change"
            if own_pct == 0 or not np.isfinite(own_pct)
            else f"{abs(own_pct):.0f} % " + ("fall" if own_pct < 0 else "rise")
        )
        return (
            f"no control area: the treated area alone shows a {move} ({format_p(p)}), "
            f"which cannot be separated from the general trend"
        )
    what = "incidents" if measure == "count" else "harm"
    if p <= alpha:
        side = "fewer" if measure == "count" else "less"
        side = side if est < 0 else "more"
        return f"{abs(est):.0f} {side} {what} than the control trend predicts ({format_p(p)})"
    return f"no clear difference from the control trend ({format_p(p)})"


def _tests(
    cells: dict[str, tuple[np.ndarray, np.ndarray]], *, measure: str, confidence: float
) -> tuple[dict[str, tuple[float, float]], Any, Any, float, float, tuple[float, float]]:
    """The WDD and ratio-vs-control of the counted areas; and what the MDE needs."""
    if measure == "count":
        vals = {k: (float(len(b)), float(len(a))) for k, (b, a) in cells.items()}
        var = vals
    else:
        tot = {k: (harm_totals(b), harm_totals(a)) for k, (b, a) in cells.items()}
        vals = {k: (t[0][0], t[1][0]) for k, t in tot.items()}
        var = {k: (t[0][1], t[1][1]) for k, t in tot.items()}
    res = wdd(
        vals["treated"],
        vals["control"],
        vals.get("displacement"),
        vals.get("displacement_control"),
        variances=None if measure == "count" else var,
        confidence=confidence,
    )
    rvc = (
        ratio_vs_control(vals["treated"], vals["control"], confidence=confidence)
        if measure == "count"
        else ratio_vs_control(
            vals["treated"],
            vals["control"],
            treated_sq=var["treated"],
            control_sq=var["control"],
            confidence=confidence,
        )
    )
    t0, q0 = vals["treated"][0], var["treated"][0]
    per_count = q0 / t0 if t0 > 0 else 1.0
    disp_var = sum(var[k][0] + var[k][1] for k in ("displacement", "displacement_control") if k in var)
    return vals, res, rvc, per_count, disp_var, var["control"]


def _inputs(
    xy: np.ndarray, month: np.ndarray | pd.Series, harm: np.ndarray | None, measure: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check and convert the per-incident inputs of :func:`intervention_impact`: coordinates, months, weights."""
    if measure not in ("count", "harm"):
        raise InputError(f"measure must be 'count' or 'harm', got {measure!r}.")
    xy = np.asarray(xy, dtype=float)
    if xy.ndim != COORDINATES or xy.shape[1] != COORDINATES:
        raise InputError(f"xy must be an n x 2 array of coordinates, got shape {xy.shape}.")
    month_a = np.asarray(pd.Series(month, dtype=object).astype(str))
    if len(month_a) != len(xy):
        raise InputError(f"xy has {len(xy)} incidents but month has {len(month_a)}.")
    if measure == "harm" and harm is None:
        raise InputError("measure='harm' needs each incident's harm weight (harm=).")
    return xy, month_a, (np.ones(len(xy)) if harm is None else np.asarray(harm, dtype=float))


def intervention_impact(
    name: str,
    xy: np.ndarray,
    month: np.ndarray | pd.Series,
    *,
    treated: shapely.Geometry,
    control: shapely.Geometry | None = None,
    start: str,
    months: int,
    buffer_m: float | None = None,
    harm: np.ndarray | None = None,
    measure: str = "count",
    alpha: float = 0.05,
    power: float = 0.8,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """One row of ``impact.csv``: WDD, before/after against control and the minimum detectable fall.

    Parameters
    ----------
    name
        The intervention's name.
    xy
        Incident coordinates (n x 2, metres, same CRS as the areas).
    month
        Each incident's month (``YYYY-MM``).
    treated, control
        The areas (stored geometry). Without ``control`` only the treated area's own change is tested.
    start
        First month of the intervention; the after period starts here.
    months
        Length of each period (equal before and after).
    buffer_m
        Displacement ring width in metres (None: no displacement areas; needs a control).
    harm
        Each incident's harm weight (needed for ``measure="harm"``).
    measure
        ``"count"`` or ``"harm"``.
    alpha
        Two-sided level of the verdict and of ``mde_pct``.
    power
        Power of ``mde_pct``.
    confidence
        Level of the intervals.

    Returns
    -------
    dict
        The :data:`IMPACT_COLUMNS` values.

    Raises
    ------
    InputError
        Bad areas (see :func:`impact_areas`), bad measure, harm missing, xy of the wrong shape.
    """
    xy, month_a, w = _inputs(xy, month, harm, measure)
    before, after = intervention_periods(start, months=months)
    areas = impact_areas(treated, control, buffer_m=buffer_m)
    in_b, in_a = np.isin(month_a, before), np.isin(month_a, after)
    masks = {k: shapely.contains_xy(g, xy[:, 0], xy[:, 1]) for k, g in areas.items()}
    cells = {k: (w[m & in_b], w[m & in_a]) for k, m in masks.items()}
    row: dict[str, Any] = dict.fromkeys(IMPACT_COLUMNS, np.nan)
    row.update(
        intervention=name,
        measure=measure,
        start=start,
        before=format_months(before),
        after=format_months(after),
        period_months=months,
    )
    sums = {
        k: (float(len(b)), float(len(a))) if measure == "count" else (b.sum(), a.sum()) for k, (b, a) in cells.items()
    }
    for k, (b0, a0) in sums.items():
        row[f"{k}_before"], row[f"{k}_after"] = float(b0), float(a0)
    t0, t1 = sums["treated"]
    own_pct = 100 * (t1 / t0 - 1) if t0 > 0 else float("nan")
    row["treated_change_pct"] = own_pct
    row["treated_p"] = _own_change(cells["treated"], months=months, measure=measure)
    if control is None:
        mu = t0 if measure == "count" else (t0**2 / float((cells["treated"][0] ** 2).sum()) if t0 > 0 else 0.0)
        row["mde_pct"] = 100 * float(mde_fall(mu, before_months=months, after_months=months, alpha=alpha, power=power))
        row["verdict"] = _verdict(
            np.nan, row["treated_p"], alpha=alpha, measure=measure, control=False, own_pct=own_pct
        )
        return {k: row[k] for k in IMPACT_COLUMNS}
    vals, res, rvc, per_count, disp_var, ctl_var = _tests(cells, measure=measure, confidence=confidence)
    row.update(
        wdd=res.estimate,
        wdd_se=res.se,
        wdd_lower=res.lower,
        wdd_upper=res.upper,
        wdd_p=res.p_value,
        wdd_local=res.local,
        wdd_displacement=res.displacement if "displacement" in vals else np.nan,
        control_change_pct=rvc.control_change_pct,
        ratio_vs_control=rvc.ratio,
        rvc_lower=rvc.lower,
        rvc_upper=rvc.upper,
        rvc_p=rvc.p_value,
    )
    mde = mde_wdd(
        treated_before=vals["treated"][0],
        control_before=ctl_var[0],
        control_after=ctl_var[1],
        displacement_var=disp_var,
        treated_var_per_count=per_count,
        alpha=alpha,
        power=power,
    )
    row["mde_pct"] = 100 * mde
    row["verdict"] = _verdict(res.estimate, res.p_value, alpha=alpha, measure=measure, control=True, own_pct=own_pct)
    return {k: row[k] for k in IMPACT_COLUMNS}


__all__ = ["AREAS", "IMPACT_COLUMNS", "impact_areas", "intervention_impact"]
