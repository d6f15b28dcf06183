"""The null family of a neighbourhood's harm sum: Poisson or negative-binomial counts compounded with marks.

``H = sum of the marks of K incidents``, with ``K ~ Poisson(mu)`` (dispersion ``phi = 1``) or
negative binomial with mean ``mu`` and variance ``phi mu`` (a gamma-mixed Poisson), and the
marks drawn from the study's mark mix (lattice steps ``j`` with shares ``f``; ``f0`` the share
of zero marks). :class:`Family` gives ``P(H = 0)``, the moments, the cumulant generating
function, Chernoff bounds and the saddlepoint used by :mod:`hotspots.detect._saddle`.
Private to :mod:`hotspots.detect`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from hotspots.detect._marks import MarkMix

_THETAS = np.geomspace(1e-3, 8.0, 28)
"""Grid of theta for the Chernoff bounds (upper tails, lattice units)."""


@dataclass(frozen=True)
class Family:
    """Compound Poisson (``phi = 1``) or compound negative binomial null of every unit.

    Attributes
    ----------
    mu
        Expected incidents in each neighbourhood, shape (n,), > 0.
    phi
        Dispersion of the count (variance / mean; 1 = Poisson).
    j
        Positive marks in lattice units (harm units without a lattice), shape (K,).
    f
        Their shares among all incidents, shape (K,).
    f0
        Share of incidents with mark 0.
    """

    mu: np.ndarray
    phi: float
    j: np.ndarray
    f: np.ndarray
    f0: float

    @property
    def q(self) -> float:
        """Negative-binomial ``1 - p`` with ``p = 1 / phi``."""
        return 1.0 - 1.0 / self.phi

    @property
    def r(self) -> np.ndarray:
        """Negative-binomial size ``mu / (phi - 1)`` of every unit."""
        return self.mu / (self.phi - 1.0)

    def log_p0(self) -> np.ndarray:
        """Log P(H = 0)."""
        if self.phi == 1.0:
            return -self.mu * (1.0 - self.f0)
        return -self.r * np.log1p(self.q * (1.0 - self.f0) * self.phi)  # (p / (1 - q f0))^r

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of H."""
        e1 = float((self.f * self.j).sum())
        e2 = float((self.f * self.j * self.j).sum())
        return self.mu * e1, self.mu * (e2 - e1 * e1) + self.mu * self.phi * e1 * e1

    def log_m(self, theta: np.ndarray) -> np.ndarray:
        """Log M(theta) = log(f0 + sum f e^(theta j)), theta of shape (...,)."""
        a = np.multiply.outer(theta, self.j) + np.log(self.f)
        if self.f0 > 0:
            a = np.concatenate([a, np.full((*a.shape[:-1], 1), math.log(self.f0))], axis=-1)
        return special.logsumexp(a, axis=-1)

    def cgf(self, theta: np.ndarray) -> np.ndarray:
        """K(theta) for every unit, theta of shape (T,) -> (T, n); +inf outside the domain."""
        lm = self.log_m(theta)[:, None]
        with np.errstate(over="ignore", invalid="ignore"):
            if self.phi == 1.0:
                return self.mu[None, :] * np.expm1(lm)
            inside = math.log(self.q) + lm < 0
            val = -self.r[None, :] * (np.log(-np.expm1(math.log(self.q) + np.minimum(lm, 0.0))) + math.log(self.phi))
        return np.where(inside, val, np.inf)

    def log_chernoff(self, x: np.ndarray) -> np.ndarray:
        """Log of the Chernoff bound on P(H >= x) over a theta grid (0 at or below the mean)."""
        b = self.cgf(_THETAS) - np.multiply.outer(_THETAS, x)
        b = np.where(np.isfinite(b), b, np.inf)
        return np.minimum(0.0, b.min(axis=0))

    def reach(self, log_target: np.ndarray) -> np.ndarray:
        """Smallest t with Chernoff bound on P(H >= t) below exp(log_target)."""
        t = (self.cgf(_THETAS) - log_target[None, :]) / _THETAS[:, None]
        return np.where(np.isfinite(t), t, np.inf).min(axis=0)

    def theta_max(self) -> float:
        """Edge of the NB CGF's domain: q M(theta) = 1 (Newton from the right: convex, increasing)."""
        jmin = float(self.j.min())
        theta = (math.log(1.0 / self.q) - math.log(1.0 - self.f0)) / jmin + 1e-12
        for _ in range(200):
            lm = float(self.log_m(np.array([theta]))[0])
            h = math.log(self.q) + lm
            a = np.log(self.f) + theta * self.j
            slope = float(
                (special.softmax(np.r_[a, [math.log(self.f0)]] if self.f0 > 0 else a)[: len(self.j)] * self.j).sum()
            )
            step = h / slope
            theta -= step
            if abs(step) < 1e-15 * max(1.0, abs(theta)):
                break
        return theta

    def saddle(self, x: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Theta with K'(theta) = x (x > 0) for units ``rows``; returns theta, K(theta), K''(theta)."""
        if self.phi == 1.0:
            return self._saddle_poisson(x, rows)
        return self._saddle_nb(x, rows)

    def _saddle_poisson(self, x: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Newton on log K' = log mu + logsumexp(log f j + theta j): convex, slope in [j_min, j_max]."""
        mu = self.mu[rows]
        log_f, j = np.log(self.f), self.j
        log_x = np.log(x)
        jbar = float((self.f * j * j).sum() / (self.f * j).sum())
        theta = (log_x - np.log(mu * (self.f * j).sum())) / jbar
        for _ in range(100):
            a = np.multiply.outer(theta, j) + log_f + np.log(j)
            step = (np.log(mu) + special.logsumexp(a, axis=1) - log_x) / (special.softmax(a, axis=1) * j).sum(axis=1)
            theta = theta - step
            if np.all(np.abs(step) < 1e-13 * np.maximum(1.0, np.abs(theta))):
                break
        e = np.exp(np.log(mu)[:, None] + np.multiply.outer(theta, j) + log_f)
        return theta, e.sum(axis=1) - mu * (1.0 - self.f0), (e * j * j).sum(axis=1)

    def _mark_moments(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """M'(theta), M''(theta) and 1 - q M(theta) (floored at 1e-300), per unit."""
        a = np.exp(np.multiply.outer(theta, self.j) + np.log(self.f))
        m = a.sum(axis=1) + self.f0
        return (a * self.j).sum(axis=1), (a * self.j * self.j).sum(axis=1), np.maximum(1.0 - self.q * m, 1e-300)

    def _saddle_nb(self, x: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Bisection on t = log(theta_max - theta), where log K' falls from +inf (negative binomial)."""
        r, q, tmax = self.mu[rows] / (self.phi - 1.0), self.q, self.theta_max()
        log_x = np.log(x)
        lo, hi = np.full(len(x), -40.0), np.full(len(x), math.log(400.0))
        for _ in range(110):
            mid = 0.5 * (lo + hi)
            m1, _, one = self._mark_moments(tmax - np.exp(mid))
            big = np.log(r * q * m1) - np.log(one) > log_x  # K' too large: move away from the edge
            lo = np.where(big, mid, lo)
            hi = np.where(big, hi, mid)
        theta = tmax - np.exp(0.5 * (lo + hi))
        m1, m2, one = self._mark_moments(theta)
        k0 = -r * (np.log(one) + math.log(self.phi))
        k2 = r * q * (m2 * one + q * m1 * m1) / one**2
        return theta, k0, k2


def family(lam: np.ndarray, mix: MarkMix, dispersion: float, *, lattice: bool) -> Family:
    """The null family of every unit: ``lam`` expected incidents, the marks of ``mix`` (lattice units if asked)."""
    j = np.asarray(mix.steps if lattice and mix.steps is not None else mix.values, dtype=float)
    return Family(mu=lam, phi=float(dispersion), j=j, f=mix.counts / mix.n, f0=mix.zeros / mix.n)


__all__ = ["Family", "family"]
