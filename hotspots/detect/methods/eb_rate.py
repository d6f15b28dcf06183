"""Gi* on empirical-Bayes smoothed rates (the ``"eb_rate"`` option).

Each unit's rate ``value / exposure`` is shrunk towards the overall rate by global empirical
Bayes (Marshall 1991), then Gi* z with normal p is computed on the smoothed rates. Rates put
places with few residents (city centres) on an equal footing; the normal p is not calibrated
on sparse grids (docs/detect.md).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hotspots.detect.gistar import gistar
from hotspots.detect.problem import InferenceOptions, LocalProblem, MethodResult
from hotspots.errors import InputError


def eb_rates(values: npt.ArrayLike, exposure: npt.ArrayLike, *, kappa: float = 1.0) -> np.ndarray:
    """Global empirical-Bayes smoothed rates (Marshall 1991, method of moments).

    ``r_i = x_i / e_i`` shrunk towards the overall rate ``b = sum x / sum e`` by
    ``C_i = a / (a + kappa b / e_i)``, where ``a = max(0, s² - kappa b / mean(e))`` and
    ``s² = sum e_i (r_i - b)² / sum e``. ``kappa = E[m²] / E[m]`` of the harm marks makes the
    Poisson variance term right for compound (harm) sums (1 for counts).

    Returns
    -------
    numpy.ndarray
        Smoothed rates per unit of exposure (``x`` per ``e``); every ``e_i`` must be > 0.

    Examples
    --------
    >>> eb_rates([0.0, 10.0], [1.0, 1.0]).round(2).tolist()  # b = 5, a = 25 - 5, shrink 20 / 25
    [1.0, 9.0]
    """
    x = np.asarray(values, dtype=float)
    e = np.asarray(exposure, dtype=float)
    if not (e > 0).all():
        raise InputError("empirical-Bayes rates need exposure > 0 in every unit passed.")
    r = x / e
    b = x.sum() / e.sum()
    s2 = float((e * (r - b) ** 2).sum() / e.sum())
    a = max(0.0, s2 - kappa * b / float(e.mean()))
    shrink = a / (a + kappa * b / e) if a > 0 else np.zeros_like(e)
    return np.asarray(b + shrink * (r - b))


def infer(problem: LocalProblem, options: InferenceOptions) -> MethodResult:
    """Gi* z and normal p of the EB-smoothed rates of the analysed units."""
    mix = problem.mix
    kappa = 1.0 if mix is None else mix.second_moment / mix.mean
    z, p = gistar(eb_rates(problem.values, problem.exposure, kappa=kappa), problem.W)
    return MethodResult(z=z, p=p, info={"statistic": "Gi* z of EB-smoothed rates (Marshall 1991), normal p"})


__all__ = ["eb_rates", "infer"]
