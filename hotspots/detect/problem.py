"""What every hot spot inference method receives and returns.

:func:`hotspots.detect.inference.hotspot_gistar` checks the units, keeps those with exposure,
builds their weights and the null expectations once, and hands a :class:`LocalProblem` to the
method named in the registry (:mod:`hotspots.detect.registry`); the method returns a
:class:`MethodResult` (a signed strength ``z`` and a two-sided ``p`` per analysed unit). FDR,
the classes and the output frame are the verb's, the same for every method.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp

from hotspots.detect._marks import MarkMix, mark_mix
from hotspots.detect._tails import MAX_STEPS


@dataclass(frozen=True)
class LocalProblem:
    """The analysed units of one test: values, counts, exposure, weights and marks.

    Attributes
    ----------
    values
        Tested value of each analysed unit (harm sum or count), shape (n,).
    counts
        Incidents in each analysed unit itself, shape (n,).
    exposure
        What incidents are proportional to under the null (residents, area), > 0, shape (n,).
    W
        Binary weights among the analysed units, each unit its own neighbour, (n, n).
    mix
        The harm marks of the incidents (one mark of 1 for counts); None only when harm is
        tested without marks (methods that need none).
    is_count
        True when ``values`` are the counts themselves.
    """

    values: np.ndarray
    counts: np.ndarray
    exposure: np.ndarray
    W: sp.csr_array
    mix: MarkMix | None
    is_count: bool

    @property
    def n_incidents(self) -> float:
        """N: incidents in the analysed units."""
        return float(self.counts.sum())

    @cached_property
    def prob(self) -> np.ndarray:
        """Null probability of each unit: its share of the exposure."""
        return self.exposure / self.exposure.sum()

    @cached_property
    def local(self) -> np.ndarray:
        """Observed neighbourhood sums ``W @ values`` (the numerator of Gi*)."""
        return np.asarray(self.W @ self.values)

    @cached_property
    def lam(self) -> np.ndarray:
        """Expected incidents in each neighbourhood under the null: ``N * (W @ prob)``."""
        return self.n_incidents * np.asarray(self.W @ self.prob)

    @property
    def marks(self) -> MarkMix:
        """The mark mix, a single mark of 1 when none was given."""
        return self.mix if self.mix is not None else mark_mix([1.0])

    @property
    def expected(self) -> np.ndarray:
        """Expected neighbourhood sum of ``values``: ``lam`` times the mean mark."""
        return self.lam * (1.0 if self.mix is None else self.mix.mean)


@dataclass(frozen=True)
class InferenceOptions:
    """Options passed through to the method (each method reads the ones it uses).

    Attributes
    ----------
    dispersion
        Variance / mean of the null counts: a number >= 1, ``"pearson"`` (estimated), or None
        (the method's default).
    permutations
        Monte Carlo maps (``permutation``).
    seed
        Seed of every random step.
    max_steps
        Largest lattice sum computed exactly per unit (``exact``).
    """

    dispersion: float | str | None = None
    permutations: int = 999
    seed: int = 0
    max_steps: int = MAX_STEPS


@dataclass(frozen=True)
class MethodResult:
    """What a method returns for the analysed units.

    Attributes
    ----------
    z
        Signed strength (positive = more than expected nearby), shape (n,).
    p
        Two-sided p-value, shape (n,).
    info
        What the method chose or found, for ``attrs["inference"]`` and the run manifest.
    """

    z: np.ndarray
    p: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


__all__ = ["InferenceOptions", "LocalProblem", "MethodResult"]
