"""Empirical-Bayes building blocks of the harm axis and its intervals.

* :func:`mark_scale`: harm per quasi-Poisson pseudo-count (compound Poisson harm marks);
* :class:`Dispersion` and :func:`estimate_dispersion`: the month-to-month overdispersion of
  place counts, ``Var = phi mu + inv_kappa mu^2``, by the method of moments;
* :class:`GammaPrior`, :func:`fit_gamma_prior` and :func:`eb_posterior`: Poisson-Gamma
  smoothing (Clayton & Kaldor 1987; Marshall 1991) under that overdispersed sampling model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hotspots.errors import InputError

MATRIX = 2
"""Dimensions of a places x months matrix."""
MIN_CELLS = 2
"""A source needs at least two places and two months with incidents to inform the dispersion."""

__all__ = [
    "VAR_FLOOR",
    "Dispersion",
    "GammaPrior",
    "as_1d",
    "eb_posterior",
    "estimate_dispersion",
    "fit_gamma_prior",
    "mark_scale",
]


def as_1d(values: npt.ArrayLike, name: str, where: str, *, nonneg: bool = True, allow_nan: bool = False) -> np.ndarray:
    """``values`` as a 1-D float array, one per place; :class:`InputError` naming ``where`` and the place otherwise."""
    try:
        x = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: `{name}` must be numbers, got {values!r:.80}.") from exc
    if x.ndim != 1:
        raise InputError(f"{where}: `{name}` must be one value per place (1-D), got shape {x.shape!r}.")
    bad = ~np.isfinite(x) if not allow_nan else np.isinf(x)
    if nonneg:
        bad |= x < 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        what = "finite and >= 0" if nonneg else "finite"
        raise InputError(f"{where}: `{name}` must be {what}; place {i} has {float(x[i])!r}.")
    return x


def mark_scale(marks: npt.ArrayLike) -> float:
    """Return the harm per pseudo-count, ``sum(m^2) / sum(m)`` of the incidents' harm marks.

    Parameters
    ----------
    marks
        Harm weight of every analysed incident (e.g. 1, 1.5, 4).

    Returns
    -------
    float
        ``E[M^2] / E[M]``; 1.0 when there are no incidents. Equal to the mark when every
        incident has the same mark.

    Notes
    -----
    A place's harm is a compound Poisson sum ``H = M_1 + ... + M_N`` with ``N ~ Poisson(lam)``:
    ``E[H] = lam E[M]`` and ``Var[H] = lam E[M^2]``. ``H / s`` with ``s = E[M^2] / E[M]``
    therefore has variance equal to its mean: a quasi-Poisson pseudo-count. Dividing by the
    mean mark instead would understate the variance by ``E[M^2] / E[M]^2`` (1.52 for the
    bundled mark mix of 1 / 1.5 / 4), i.e. overstate how sure the harm is.

    Examples
    --------
    >>> mark_scale([1.0, 1.0, 4.0])
    3.0
    """
    m = as_1d(marks, "marks", "mark_scale")
    if len(m) == 0 or m.sum() <= 0:
        return 1.0
    return float((m**2).sum() / m.sum())


# --------------------------------------------------------------------------------------
# dispersion and the empirical-Bayes prior
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dispersion:
    """Month-to-month variance of a place's (pseudo-)count around its mean ``mu``.

    ``Var = phi x mu + inv_kappa x mu^2``: ``phi >= 1`` is the quasi-Poisson (NB1) part,
    ``inv_kappa >= 0`` the negative-binomial (NB2) part; ``phi = 1, inv_kappa = 0`` is Poisson.

    Attributes
    ----------
    phi, inv_kappa
        The two parameters.
    pearson
        Pearson chi-square / degrees of freedom of the place x month table (the single
        "dispersion" figure, 1 = Poisson); NaN when not estimated.
    cells
        Place-months used to estimate them (0 = not estimated: Poisson assumed).
    note
        How they were obtained.
    """

    phi: float = 1.0
    inv_kappa: float = 0.0
    pearson: float = float("nan")
    cells: int = 0
    note: str = "Poisson assumed (not estimated)"

    def variance(self, mean: npt.ArrayLike) -> np.ndarray:
        """Monthly variance at monthly mean ``mean``."""
        mu = np.asarray(mean, dtype=float)
        return self.phi * mu + self.inv_kappa * mu**2


def estimate_dispersion(
    monthly: npt.ArrayLike | Sequence[npt.ArrayLike],
    *,
    scale: float | Sequence[float] = 1.0,
    iterations: int = 5,
) -> Dispersion:
    """Estimate the month-to-month overdispersion of place counts by the method of moments.

    Parameters
    ----------
    monthly
        A ``(places, months)`` matrix of monthly counts (or harm; see ``scale``), or a
        sequence of such matrices, one per crime source (their moment equations are pooled;
        a source with fewer than two months with incidents contributes nothing).
    scale
        Divide the matrices by this first (the harm :func:`mark_scale`, to work in
        pseudo-counts); 1 for counts. One value for all matrices or one per matrix (each
        source's own mark scale).
    iterations
        Iteratively reweighted least-squares passes.

    Returns
    -------
    Dispersion
        ``phi`` and ``inv_kappa`` of ``Var = phi mu + inv_kappa mu^2``, the Pearson
        statistic, the cells used and a note. With no usable source: Poisson, said in the note.

    Raises
    ------
    InputError
        A matrix is not 2-D, has negative or non-finite values, or ``scale`` is not positive.

    Notes
    -----
    The expected count of place i in month t is the independence fit of the table,
    ``mu_it = row_i x col_t / total``, so common month effects (a lockdown, a quiet
    August) are not mistaken for place-level overdispersion. The squared residuals, scaled
    by ``T / (T - 1)`` for the estimated place mean, satisfy ``E[r_it] = phi mu + inv_kappa
    mu^2``; ``r / mu - 1 = (phi - 1) + inv_kappa mu`` is fitted by weighted least squares with
    weights ``1 / (phi + inv_kappa mu)^2`` (the approximate variance of ``r / mu``), iterated,
    both parts constrained to be non-negative (McCullagh & Nelder 1989, ch. 9; Cameron &
    Trivedi 2013, ch. 3). Places and months without any incident are left out.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> d = estimate_dispersion(rng.poisson(5.0, size=(400, 12)))
    >>> round(d.phi, 1), round(d.inv_kappa, 2)
    (1.0, 0.0)
    """
    where = "estimate_dispersion"
    mats: list[np.ndarray]
    if isinstance(monthly, (list, tuple)) and len(monthly) > 0 and np.ndim(monthly[0]) == MATRIX:
        mats = [np.asarray(m) for m in monthly]
    else:
        mats = [np.asarray(monthly)]
    scales = list(scale) if isinstance(scale, (list, tuple, np.ndarray)) else [scale] * len(mats)
    if len(scales) != len(mats):
        raise InputError(f"{where}: {len(scales)} scales for {len(mats)} matrices; give one per matrix or one for all.")
    for sc in scales:
        if isinstance(sc, bool) or not isinstance(sc, (int, float, np.floating)) or not math.isfinite(sc) or sc <= 0:
            raise InputError(f"{where}: `scale` must be a positive number, got {sc!r}.")
    e_all: list[np.ndarray] = []
    r_all: list[np.ndarray] = []
    chi = 0.0
    df = 0
    for j, m0 in enumerate(mats):
        m = np.asarray(m0, dtype=float)
        if m.ndim != MATRIX:
            raise InputError(f"{where}: matrix {j} must be places x months (2-D), got shape {m.shape!r}.")
        if (~np.isfinite(m)).any() or (m < 0).any():
            raise InputError(f"{where}: matrix {j} has negative or non-finite values; give monthly counts or harm.")
        m = m / scales[j]
        m = m[m.sum(axis=1) > 0][:, m.sum(axis=0) > 0]
        i_n, t_n = m.shape
        if t_n < MIN_CELLS or i_n < MIN_CELLS:
            continue
        mu = m.sum(axis=1, keepdims=True) * m.sum(axis=0, keepdims=True) / m.sum()
        r = (m - mu) ** 2 * (t_n / (t_n - 1))
        e_all.append(mu.ravel())
        r_all.append(r.ravel())
        chi += float(((m - mu) ** 2 / mu).sum())
        df += (i_n - 1) * (t_n - 1)
    if not e_all:
        return Dispersion(note="Poisson assumed: no source has two or more months with incidents")
    e = np.concatenate(e_all)
    y = np.concatenate(r_all) / e - 1.0
    phi1, ik = 0.0, 0.0
    for _ in range(max(1, iterations)):
        w = 1.0 / (1.0 + phi1 + ik * e) ** 2
        phi1, ik = _nnls2(y, e, w)
    return Dispersion(
        phi=1.0 + phi1,
        inv_kappa=ik,
        pearson=chi / df if df else float("nan"),
        cells=len(e),
        note=f"method of moments over {len(e):,} place-months of {len(e_all)} source(s)",
    )


def _nnls2(y: np.ndarray, x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted least squares of ``y = a + b x`` with ``a, b >= 0`` (checks the 4 active sets)."""
    sw, swx, swy = w.sum(), (w * x).sum(), (w * y).sum()
    swxx, swxy = (w * x * x).sum(), (w * x * y).sum()
    det = sw * swxx - swx**2
    cands: list[tuple[float, float]] = [(0.0, 0.0), (max(swy / sw, 0.0), 0.0), (0.0, max(swxy / swxx, 0.0))]
    if det > 0:
        a = (swxx * swy - swx * swxy) / det
        b = (sw * swxy - swx * swy) / det
        if a >= 0 and b >= 0:
            cands.append((a, b))

    def loss(ab: tuple[float, float]) -> float:
        return float((w * (y - ab[0] - ab[1] * x) ** 2).sum())

    best = min(cands, key=loss)
    return float(best[0]), float(best[1])


@dataclass(frozen=True)
class GammaPrior:
    """Gamma prior of the places' monthly (pseudo-count) rates: ``theta ~ Gamma(shape, rate)``.

    ``shape = 0`` is a point mass at 0 (no incident anywhere).
    """

    shape: float
    rate: float
    floored: bool = False

    @property
    def mean(self) -> float:
        """Prior mean rate (pseudo-counts per unit of exposure)."""
        return self.shape / self.rate

    @property
    def var(self) -> float:
        """Prior variance of the rate between places."""
        return self.shape / self.rate**2


VAR_FLOOR = 1e-3
"""The between-place variance is floored at this share of the sampling variance of a mean
rate, so that the prior never swamps the data completely (the order of the places is kept)."""


def fit_gamma_prior(y: npt.ArrayLike, *, exposure: float, dispersion: Dispersion | None = None) -> GammaPrior:
    """Fit the Gamma prior of the places' rates across places by the method of moments.

    Parameters
    ----------
    y
        Each place's pseudo-count (harm / :func:`mark_scale`) over the exposure.
    exposure
        Length of the period, in the units the rates are per (months in the pipeline).
    dispersion
        Month-to-month overdispersion (default Poisson).

    Returns
    -------
    GammaPrior
        ``shape = m^2 / V``, ``rate = m / V`` with ``m`` the mean rate and ``V`` the
        between-place variance of the rates; ``floored`` says whether V hit its floor.

    Raises
    ------
    InputError
        Negative or non-finite counts, no places, or exposure not positive.

    Notes
    -----
    Marshall's (1991) moment estimator for Poisson-Gamma smoothing, generalised to the
    overdispersed sampling model of :class:`Dispersion`: with ``r_i = y_i / E``,
    ``Var(r_i) = V + (phi m + inv_kappa (V + m^2)) / E``, so
    ``V = (s^2 - (phi m + inv_kappa m^2) / E) / (1 + inv_kappa / E)`` with ``s^2`` the sample
    variance of the rates; ``V`` is floored at :data:`VAR_FLOOR` x ``phi m / E``.
    """
    where = "fit_gamma_prior"
    yy = as_1d(y, "y", where)
    if len(yy) == 0:
        raise InputError(f"{where}: there are no places.")
    if not (isinstance(exposure, (int, float)) and math.isfinite(exposure) and exposure > 0):
        raise InputError(f"{where}: `exposure` must be a positive number (e.g. months), got {exposure!r}.")
    d = dispersion or Dispersion()
    r = yy / exposure
    m = float(r.mean())
    if m <= 0:
        return GammaPrior(shape=0.0, rate=1.0)
    s2 = float(r.var(ddof=1)) if len(r) > 1 else 0.0
    v = (s2 - (d.phi * m + d.inv_kappa * m**2) / exposure) / (1.0 + d.inv_kappa / exposure)
    floor = VAR_FLOOR * d.phi * m / exposure
    floored = v < floor
    v = max(v, floor)
    return GammaPrior(shape=m * m / v, rate=m / v, floored=bool(floored))


def eb_posterior(
    y: npt.ArrayLike, *, exposure: float, prior: GammaPrior, dispersion: Dispersion | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Gamma posterior (shape, rate) of every place's rate given its pseudo-count.

    Parameters
    ----------
    y
        Pseudo-counts over ``exposure``.
    exposure
        Period length (same units as the prior's rate).
    prior
        From :func:`fit_gamma_prior`.
    dispersion
        Month-to-month overdispersion (default Poisson).

    Returns
    -------
    (shape, rate)
        Arrays; the posterior mean rate is ``shape / rate`` and its variance ``shape / rate^2``.

    Notes
    -----
    Quasi-likelihood conjugate update: a place with monthly rate ``theta`` has
    ``Var(y) = E (phi theta + inv_kappa theta^2) = E theta phi*`` with the local dispersion
    ``phi* = phi + inv_kappa y / E``; ``y / phi*`` then behaves as a Poisson count with
    exposure ``E / phi*``, so ``shape = a + y / phi*``, ``rate = b + E / phi*``. With equal
    exposure the posterior mean is strictly increasing in ``y`` (its derivative has the sign
    of ``a inv_kappa + b phi + E > 0``), so smoothing never reorders places.
    """
    yy = as_1d(y, "y", "eb_posterior")
    d = dispersion or Dispersion()
    if prior.shape == 0:
        return np.zeros_like(yy), np.full_like(yy, prior.rate + exposure)
    phis = d.phi + d.inv_kappa * yy / exposure
    return prior.shape + yy / phis, prior.rate + exposure / phis
