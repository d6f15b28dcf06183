"""The Mann-Kendall trend test, vectorised over many series (emerging hot spots)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import stats

from hotspots.errors import InputError

MIN_TIMES = 3
"""Fewest time steps the test accepts."""
SERIES_DIMS = 2
"""Values are (series, times) arrays."""


def mann_kendall(values: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    r"""Mann-Kendall trend test of every row of ``values`` against time, vectorised.

    Parameters
    ----------
    values
        ``(n_series, n_times)`` array (or one series), in time order, finite.

    Returns
    -------
    tau, p
        Kendall's tau-b between time and the values, and the two-sided p-value of the
        normal approximation with the variance corrected for ties (no continuity
        correction): the same as ``scipy.stats.kendalltau(range(T), row)``. A constant
        series has no trend: tau = 0, p = 1 (scipy gives NaN).

    Notes
    -----
    :math:`S = \\sum_{i<j} \\operatorname{sign}(x_j - x_i)`;
    :math:`\\operatorname{Var}(S) = [T(T-1)(2T+5) - \\sum_g t_g(t_g-1)(2t_g+5)]/18` over
    groups of tied values of size :math:`t_g`; :math:`Z = S / \\sqrt{\\operatorname{Var} S}`;
    :math:`\\tau_b = S / \\sqrt{n_0 (n_0 - n_1)}`, :math:`n_0 = T(T-1)/2`,
    :math:`n_1 = \\sum_g t_g(t_g-1)/2`. Mann (1945); Kendall (1975).

    Examples
    --------
    >>> tau, p = mann_kendall([[1, 2, 3, 4, 5, 6], [3, 3, 3, 3, 3, 3]])
    >>> tau.round(3).tolist(), bool(p[0] < 0.01), float(p[1])
    ([1.0, 0.0], True, 1.0)
    """
    x = np.asarray(values, dtype=float)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != SERIES_DIMS:
        raise InputError(f"values must be a (series, times) array, got {x.ndim} dimensions.")
    if not np.isfinite(x).all():
        raise InputError("values contain NaN or infinity; Mann-Kendall needs finite values.")
    m, T = x.shape
    if T < MIN_TIMES:
        raise InputError(f"Mann-Kendall needs at least {MIN_TIMES} time steps, got {T}.")
    s = np.zeros(m)
    for i in range(T - 1):
        s += np.sign(x[:, i + 1 :] - x[:, i : i + 1]).sum(axis=1)
    # tie groups per row: sort, then walk the columns accumulating run lengths
    xs = np.sort(x, axis=1)
    run = np.ones(m)
    tie3 = np.zeros(m)  # sum t(t-1)(2t+5)
    tie1 = np.zeros(m)  # sum t(t-1)/2
    for j in range(1, T + 1):
        same = xs[:, j] == xs[:, j - 1] if j < T else np.zeros(m, dtype=bool)
        ended = ~same
        t = run[ended]
        tie3[ended] += t * (t - 1) * (2 * t + 5)
        tie1[ended] += t * (t - 1) / 2
        run = np.where(same, run + 1, 1.0)
    var = (T * (T - 1) * (2 * T + 5) - tie3) / 18.0
    n0 = T * (T - 1) / 2.0
    ok = var > 0
    tau = np.zeros(m)
    p = np.ones(m)
    tau[ok] = s[ok] / np.sqrt(n0 * (n0 - tie1[ok]))
    z = s[ok] / np.sqrt(var[ok])
    p[ok] = 2.0 * stats.norm.sf(np.abs(z))
    return tau, np.minimum(p, 1.0)


__all__ = ["mann_kendall"]
