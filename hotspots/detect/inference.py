"""Calibrated hot spot inference: :func:`hotspot_gistar`, the verb behind the ``grid`` and ``lsoa`` layers.

For every unit it asks whether the incidents (or their harm) in its neighbourhood (the unit
and its queen / contiguity neighbours: the binary weights of Getis-Ord Gi*) are more, or fewer,
than chance allows when every incident falls in unit j with probability proportional to its
exposure e_j (residents for LSOAs, area for grid cells). The default method is the exact tail
test of the neighbourhood sum (:mod:`hotspots.detect.methods.exact`) with a negative-binomial
null whose dispersion is estimated from the unit counts; the other methods of the registry
(:mod:`hotspots.detect.registry`) are options. Benjamini-Hochberg over the analysed units then
gives the classes of ArcGIS's Gi_Bin, with two rules: a unit is hot only if it holds an
incident itself, and units with no exposure are "not analysed". Method, measured false-alarm
rates and power: docs/detect.md.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from hotspots.detect._marks import MarkMix, mark_mix
from hotspots.detect._tails import MAX_STEPS
from hotspots.detect.exposure import unit_exposure
from hotspots.detect.gistar import (
    COLD_CLASSES,
    GI_P,
    GI_Q,
    GI_Z,
    GISTAR_COLUMNS,
    HOT_CLASSES,
    HOTSPOT_CLASS,
    LOCAL_EXPECTED,
    LOCAL_SUM,
    MIN_UNITS,
    NOT_ANALYSED,
    as_csr,
    classify,
    contiguity_weights,
    fdr_bh,
    grid_weights,
)
from hotspots.detect.methods.exact import check_dispersion
from hotspots.detect.problem import InferenceOptions, LocalProblem
from hotspots.detect.registry import METHODS, InferenceMethod, get_method
from hotspots.errors import HotspotsWarning, InputError
from hotspots.units import CELL_ID, unit_values
from hotspots.validate import check_projected

if TYPE_CHECKING:
    from hotspots.detect.gistar import WeightsLike

log = logging.getLogger(__name__)


def hotspot_gistar(
    units: gpd.GeoDataFrame,
    *,
    value: str = "harm",
    count: str = "n",
    marks: Mapping[float, float] | npt.ArrayLike | None = None,
    exposure: str | None = None,
    inference: str = "exact",
    dispersion: float | str | None = None,
    weights: WeightsLike | None = None,
    distance: float | None = None,
    fdr: bool = True,
    permutations: int = 999,
    seed: int = 0,
    max_steps: int = MAX_STEPS,
) -> gpd.GeoDataFrame:
    """Hot and cold spots of ``units``: a calibrated test of each neighbourhood's sum under an exposure null.

    Parameters
    ----------
    units
        Grid cells (:func:`hotspots.units.make_grid` with counts) or polygons (e.g.
        :func:`hotspots.units.lsoa_units`), in a projected CRS, with the columns ``value`` and ``count``.
    value
        Column tested: harm sums (``"harm"``, default) or counts (``"n"``).
    count
        Column of incident counts per unit: gives N, and a unit is called hot only where it
        holds at least one incident.
    marks
        Harm marks of the incidents counted in ``units`` (e.g. ``incidents["harm"]``) or a
        ``{mark: count}`` mapping: their distribution defines the compound null of harm sums.
        Needed when ``value`` is not ``count``, except with ``inference="analytic"``.
    exposure
        What incidents are proportional to under the null: a column name, ``"area"`` (each
        unit's clipped area), or None: area for a grid, ``population`` for polygons. For
        residents on a grid, add a column with :func:`hotspots.detect.exposure.areal_exposure`
        and name it. Units with no exposure are "not analysed": not tested, not in the FDR
        family, not neighbours, and their incidents are not in N (warned).
    inference
        A method of :data:`hotspots.detect.registry.METHODS`: ``"exact"`` (default,
        calibrated), ``"analytic"`` (Gi* z with normal p: fast, not calibrated on sparse
        counts), ``"permutation"`` (Monte Carlo under the exposure null, ``permutations`` maps,
        ``seed``; p floored at 1 / (R + 1)), or ``"eb_rate"`` (Gi* z of empirical-Bayes
        smoothed rates ``value / exposure``, normal p).
    dispersion
        Variance / mean of the neighbourhood count under the null (methods that use it:
        ``exact``). None (default) = ``"pearson"``: estimated from the unit counts, a negative
        binomial null that allows for extra-Poisson variation between units, so that only
        neighbourhoods beyond it are called hot; 1 = Poisson (the exposure null as stated); a
        number > 1 = that dispersion.
    weights
        ``n x n`` binary weights including self; default queen neighbours for a grid (or the
        ``distance`` band, metres) and queen contiguity for polygons (:mod:`hotspots.detect.gistar`).
    distance
        Fixed distance band in metres for a grid's default weights (None = queen).
    fdr
        Classify on Benjamini-Hochberg q over the analysed units (default) or on raw p.
    permutations, seed
        Monte Carlo maps and their seed (``inference="permutation"``).
    max_steps
        Largest lattice sum handled exactly per unit; beyond it (and beyond
        ``P(H = 0) < exp(-650)``) the saddlepoint approximation, counted in ``attrs``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``units`` with, before the geometry (:data:`hotspots.detect.gistar.GISTAR_COLUMNS`):

        - ``gi_z``: signed strength. exact: the normal deviate with the same one-sided tail
          as the exact test; analytic: Gi* z; eb_rate: Gi* z of the smoothed rates;
          permutation: (obs - simulated mean) / simulated sd.
        - ``gi_p``: two-sided p (exact: ``min(1, 2 min(P(H >= h), P(H <= h)))``).
        - ``gi_q``: Benjamini-Hochberg q over the analysed units (= ``gi_p`` without FDR).
        - ``hotspot_class``: ``hot 99%`` ... ``cold 99%`` as ArcGIS Gi_Bin, or ``not analysed``.
        - ``local_sum``: observed neighbourhood sum of ``value``.
        - ``local_expected``: its expectation under the exposure null.

        All but ``hotspot_class`` are NaN for units not analysed. ``attrs["inference"]``
        records the method, exposure, dispersion, N, marks, units analysed, units computed by
        saddlepoint and where cold spots are attainable. The input is not changed.

    Raises
    ------
    InputError
        Unknown ``inference``; a bad ``dispersion``, or one given to a method that does not
        use it; not a GeoDataFrame; empty; missing ``value``, ``count`` or exposure column;
        negative or fractional counts; negative exposure; harm without ``marks``; fewer than
        two units with exposure; harm sums off the marks' lattice; ``permutations < 1``.

    Warns
    -----
    HotspotsWarning
        Units without exposure holding incidents; marks that do not match the units; the
        Monte Carlo p floor; no significant unit.

    Notes
    -----
    Getis, A. & Ord, J. K. (1992) The analysis of spatial association by use of distance
    statistics. Geographical Analysis 24(3). Ord, J. K. & Getis, A. (1995) Local spatial
    autocorrelation statistics: distributional issues and an application. Geographical
    Analysis 27(4). Panjer, H. H. (1981) ASTIN Bulletin 12(1). Benjamini, Y. & Hochberg, Y.
    (1995) JRSS B 57(1). The local sum is the numerator of Gi*; the exact test replaces
    Gi*'s normal approximation (which understates the upper tail of sparse, skewed sums) by
    the exact null distribution given the exposure. p-values of discrete tests are
    super-uniform, so BH stays within its level (tests/test_calibration.py).

    Examples
    --------
    >>> import numpy as np, shapely
    >>> from hotspots.units import make_grid
    >>> grid = make_grid(shapely.box(0, 0, 1000, 1000), cell_size=100)
    >>> attrs = dict(grid.attrs)
    >>> n = np.zeros(len(grid), dtype=int); n[44] = 30; n[::7] += 1
    >>> grid = grid.assign(n=n); grid.attrs = attrs
    >>> out = hotspot_gistar(grid, value="n", dispersion=1.0)
    >>> out.loc[44, "hotspot_class"], int(out.loc[44, "local_sum"])
    ('hot 99%', 32)
    """
    method = get_method(inference)
    _check_units(units, value=value, count=count)
    if dispersion is not None:
        if not method.uses_dispersion:
            raise InputError(
                f"dispersion applies to the inference methods that use it "
                f"({[name for name, m in METHODS.items() if m.uses_dispersion]}), not {inference!r}; leave it unset."
            )
        check_dispersion(dispersion)
    problem, idx, e_label = local_problem(
        units,
        value=value,
        count=count,
        marks=marks,
        exposure=exposure,
        weights=weights,
        distance=distance,
        method=method,
    )
    res = method.infer(
        problem, InferenceOptions(dispersion=dispersion, permutations=permutations, seed=seed, max_steps=max_steps)
    )
    q = fdr_bh(res.p) if fdr else res.p.copy()
    cls = classify(res.z, q, problem.counts)
    out = _assemble(
        units,
        idx,
        {
            GI_Z: res.z,
            GI_P: res.p,
            GI_Q: q,
            HOTSPOT_CLASS: cls,
            LOCAL_SUM: problem.local,
            LOCAL_EXPECTED: problem.expected,
        },
    )
    n_hot, n_cold = int(np.isin(cls, HOT_CLASSES).sum()), int(np.isin(cls, COLD_CLASSES).sum())
    out.attrs["inference"] = {
        "inference": inference,
        "method": method.summary,
        "value": value,
        "exposure": e_label,
        "incidents": int(problem.n_incidents),
        "units_analysed": len(idx),
        "units_not_analysed": len(units) - len(idx),
        "fdr": fdr,
        **({} if problem.mix is None else problem.mix.describe()),
        **res.info,
        "hot": n_hot,
        "cold": n_cold,
    }
    _announce(out.attrs["inference"], fdr=fdr)
    return out


def _announce(info: dict[str, Any], *, fdr: bool) -> None:
    """Log the result; warn when no unit is significant."""
    n_hot, n_cold, inference, value = info["hot"], info["cold"], info["inference"], info["value"]
    log.info(
        "hot spot test (%s, exposure %s): %d hot and %d cold of %d analysed units",
        inference,
        info["exposure"],
        n_hot,
        n_cold,
        info["units_analysed"],
    )
    if n_hot + n_cold == 0:
        warnings.warn(
            f"no unit is a significant hot or cold spot of {value!r} at 90 % confidence"
            f"{' after FDR correction' if fdr else ''} ({inference} test).",
            HotspotsWarning,
            stacklevel=3,
        )


def local_problem(
    units: gpd.GeoDataFrame,
    *,
    value: str,
    count: str,
    marks: Mapping[float, float] | npt.ArrayLike | None,
    exposure: str | None,
    weights: WeightsLike | None,
    distance: float | None,
    method: InferenceMethod,
) -> tuple[LocalProblem, np.ndarray, str]:
    """The :class:`~hotspots.detect.problem.LocalProblem` of the units with exposure.

    Returns
    -------
    problem, idx, label
        The problem, the row positions of the analysed units in ``units``, and what the
        exposure is.
    """
    x = unit_values(units, value, need="the hot spot test needs a number in every unit (0 where nothing happened)")
    n_own = _counts(units, count)
    e, e_label = unit_exposure(units, exposure)
    is_count = value == count
    mix = _marks(marks, is_count=is_count, count=count, method=method)
    idx = np.flatnonzero(e > 0)
    if len(idx) < MIN_UNITS:
        raise InputError(
            f"only {len(idx)} unit(s) have exposure > 0 in {e_label!r}; the test needs at least {MIN_UNITS} "
            "analysed units."
        )
    wa = _weights(units, weights, distance, idx)
    lost_units = (e <= 0) & (n_own > 0)
    if lost_units.any():
        warnings.warn(
            f"{int(n_own[lost_units].sum()):,} incidents lie in {int(lost_units.sum()):,} units with no exposure "
            f"({e_label}); those units are not analysed and their incidents are left out of the test.",
            HotspotsWarning,
            stacklevel=3,
        )
    problem = LocalProblem(values=x[idx], counts=n_own[idx], exposure=e[idx], W=wa, mix=mix, is_count=is_count)
    if mix is not None and not is_count:
        _check_marks_match(mix, problem.n_incidents, float(problem.values.sum()))
    return problem, idx, e_label


def _check_units(units: Any, *, value: str, count: str) -> None:
    if not isinstance(units, gpd.GeoDataFrame):
        raise InputError(f"units must be a GeoDataFrame, got {type(units).__name__}.")
    if len(units) == 0:
        raise InputError("units are empty: there is nothing to test for hot spots.")
    for col, what in ((value, "value"), (count, "count")):
        if col not in units.columns:
            raise InputError(
                f"units have no {what} column {col!r}; choose one of "
                f"{[c for c in units.columns if c != units.geometry.name]}."
            )
    check_projected(units, "units")


def _counts(units: gpd.GeoDataFrame, count: str) -> np.ndarray:
    n_own = unit_values(units, count, need="the test needs an incident count in every unit (0 where none)")
    bad = (n_own < 0) | (n_own != np.round(n_own))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"count column {count!r} row {i} (index {units.index[i]!r}) is {float(n_own[i])!r}; "
            f"counts are whole numbers >= 0."
        )
    return n_own


def _marks(marks: Any, *, is_count: bool, count: str, method: InferenceMethod) -> MarkMix | None:
    if is_count:
        return mark_mix([1.0])
    if marks is not None:
        return mark_mix(marks)
    if not method.needs_marks:
        return None
    raise InputError(
        f"testing harm sums with inference={method.name!r} needs the harm marks of the incidents: pass "
        f"marks=incidents['harm'] (or a {{mark: count}} mapping), or test the counts with value={count!r}."
    )


def _check_marks_match(mix: MarkMix, n_inc: float, harm: float) -> None:
    implied = n_inc * mix.mean
    if n_inc > 0 and abs(implied - harm) > 0.01 * max(harm, 1e-12):
        warnings.warn(
            f"the marks passed imply {implied:,.1f} harm for the {n_inc:,.0f} incidents counted, but the units "
            f"hold {harm:,.1f}: pass the marks of exactly the incidents counted in the units.",
            HotspotsWarning,
            stacklevel=4,
        )


def _assemble(units: gpd.GeoDataFrame, idx: np.ndarray, values: dict[str, np.ndarray]) -> gpd.GeoDataFrame:
    """``units`` with :data:`GISTAR_COLUMNS` before the geometry (NaN / not analysed outside ``idx``)."""
    n = len(units)
    out = units.copy()
    geom = out.geometry.name
    out = out[[*(c for c in out.columns if c != geom and c not in GISTAR_COLUMNS), geom]]
    for name in GISTAR_COLUMNS:
        full = np.full(n, NOT_ANALYSED, dtype=object) if name == HOTSPOT_CLASS else np.full(n, np.nan)
        full[idx] = values[name]
        out.insert(len(out.columns) - 1, name, full)
    out.attrs = dict(units.attrs)
    return out


def _weights(units: gpd.GeoDataFrame, weights: Any, distance: float | None, idx: np.ndarray) -> sp.csr_array:
    """Weights among the analysed units ``idx`` (default: grid queen / distance band, or polygon contiguity)."""
    if weights is None:
        is_grid = "grid" in units.attrs and CELL_ID in units.columns
        weights = grid_weights(units, distance=distance) if is_grid else contiguity_weights(units)
    return sp.csr_array(as_csr(weights, len(units), what="units")[idx][:, idx])


__all__ = ["hotspot_gistar", "local_problem"]
