"""Saddlepoint tails of compound Poisson (or negative binomial) local sums.

The Lugannani-Rice approximation with Daniels' second continuity correction on a lattice
(Barndorff-Nielsen's r* form in the far tails). :mod:`hotspots.detect._tails` uses it where
Panjer's exact recursion is too long (more than ``max_steps`` lattice steps, ``P(H = 0)`` below
``exp(-650)``, or marks without a lattice) and for the size of tails beyond the float range.
Private to :mod:`hotspots.detect`.

References
----------
Lugannani, R. & Rice, S. (1980) Saddle point approximation for the distribution of the sum of
independent random variables. Adv. Appl. Prob. 12. Daniels, H. E. (1987) Tail probability
approximations. International Statistical Review 55(1). Butler, R. W. (2007) Saddlepoint
Approximations with Applications, CUP, section 1.2.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import special

from hotspots.detect._family import Family, family
from hotspots.detect._marks import MarkMix

NEAR_MEAN_W = 1e-3
"""Within this |w| of the mean the continuity-corrected normal replaces Lugannani-Rice (its 1/u - 1/w cancels)."""
FAR_W = 5.0
"""Beyond this |w| Barndorff-Nielsen's r* form, in logs."""


def _lr_log_tail(x: np.ndarray, fam: Family, rows: np.ndarray, span: float, *, upper: bool) -> np.ndarray:
    """Log of the Lugannani-Rice approximation to P(H >= x) (``upper``) or P(H <= x), x > 0.

    ``x`` is already continuity-corrected (``k - 1/2`` for the upper tail of a lattice
    variable, ``k + 1/2`` for the lower). ``span`` = 1 on a lattice (Daniels' second
    correction, ``u = 2 sinh(theta / 2) sqrt(K'')``), 0 for the continuous form
    (``u = theta sqrt(K'')``). Upper: ``1 - Phi(w) + phi(w) (1/u - 1/w)``; lower: the same
    with ``w, u`` negated. Where ``|w| > 5`` the asymptotically equivalent
    ``Phi(-r*)``, ``r* = w + log(u / w) / w`` (Barndorff-Nielsen 1986) is used, in logs;
    within ``|w| < 1e-3`` of the mean a continuity-corrected normal.
    """
    th, k0, k2 = fam.saddle(x, rows)
    w = np.sign(th) * np.sqrt(np.maximum(0.0, 2.0 * (th * x - k0)))
    u = (2.0 * np.sinh(th * span / 2.0) / span if span > 0 else th) * np.sqrt(k2)
    if not upper:
        w, u = -w, -u
    mean, var = fam.moments()
    res = np.empty(len(x))
    near = np.abs(w) < NEAR_MEAN_W
    zn = (x[near] - mean[rows][near]) / np.sqrt(var[rows][near])
    res[near] = special.log_ndtr(-zn if upper else zn)
    far = ~near & (np.abs(w) > FAR_W)
    with np.errstate(divide="ignore", invalid="ignore"):
        rstar = w[far] + np.log(u[far] / w[far]) / w[far]
    res[far] = special.log_ndtr(-rstar)
    mid = ~near & ~far
    wm, um = w[mid], u[mid]
    val = special.ndtr(-wm) + np.exp(-0.5 * wm * wm) / math.sqrt(2 * math.pi) * (1.0 / um - 1.0 / wm)
    res[mid] = np.log(np.clip(val, 1e-300, 1.0))
    return np.minimum(res, 0.0)


def saddle_tails(kx: np.ndarray, fam: Family, rows: np.ndarray, *, lattice: bool) -> tuple[np.ndarray, np.ndarray]:
    """Saddlepoint log P(H >= x), log P(H <= x) for values ``kx`` (lattice units on a lattice), flat arrays."""
    x_up, x_low, span = (kx - 0.5, kx + 0.5, 1.0) if lattice else (kx, kx, 0.0)
    up = np.zeros(len(kx))
    low = np.full(len(kx), -np.inf)
    with np.errstate(all="ignore"):
        sel = x_up > 0
        if sel.any():
            up[sel] = _lr_log_tail(x_up[sel], fam, rows[sel], span, upper=True)
        sel = x_low > 0
        if sel.any():
            low[sel] = _lr_log_tail(x_low[sel], fam, rows[sel], span, upper=False)
    log_p0 = fam.log_p0()[rows]
    low = np.where(kx <= 0, log_p0, np.maximum(low, log_p0))
    return up, low


def saddlepoint_tails(
    x: npt.ArrayLike, lam: npt.ArrayLike, mix: MarkMix, *, dispersion: float = 1.0, lattice: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Saddlepoint log upper tail ``log P(H >= x)`` and log lower tail ``log P(H <= x)``.

    ``x`` in harm units (shape (n,) or (n, m)), ``lam`` the expected number of incidents in
    each neighbourhood (shape (n,), > 0), ``dispersion`` the count's variance / mean. On a
    lattice the continuity-corrected form is used (``x -/+ delta / 2``); ``P(H <= 0)`` is exact.
    """
    x = np.asarray(x, dtype=float)
    lam = np.asarray(lam, dtype=float)
    x2 = x.reshape(len(lam), -1)
    use_lattice = lattice and mix.steps is not None and mix.delta is not None
    fam = family(lam, mix, dispersion, lattice=use_lattice)
    rows = np.repeat(np.arange(len(lam)), x2.shape[1])
    kx = x2.ravel() / (float(mix.delta or 1.0) if use_lattice else 1.0)
    up, low = saddle_tails(kx, fam, rows, lattice=use_lattice)
    return up.reshape(x.shape), low.reshape(x.shape)


def log_p_zero(lam: npt.ArrayLike, mix: MarkMix, *, dispersion: float = 1.0) -> np.ndarray:
    """Return log P(H = 0) per unit: an empty neighbourhood's one-sided p (the deepest attainable lower tail).

    Examples
    --------
    >>> float(log_p_zero([2.0], mark_mix([1.0]))[0])
    -2.0
    """
    lam = np.asarray(lam, dtype=float).ravel()
    return family(lam, mix, dispersion, lattice=False).log_p0()


__all__ = ["log_p_zero", "saddle_tails", "saddlepoint_tails"]
