"""The harm marks of the analysed incidents: their distinct values, counts and lattice.

The null distribution of a neighbourhood's harm sum is a compound of the incident count and
the marks (:mod:`hotspots.detect._tails`). Marks that sit on a lattice (harm 1 / 1.5 / 4 on a
0.5 lattice; every default harm weight on a 0.1 lattice) allow the exact tails of Panjer's
recursion; :class:`MarkMix` records the lattice. Private to :mod:`hotspots.detect`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from hotspots.errors import InputError

MAX_LATTICE_MARK = 2_000
"""Largest mark in lattice units for which Panjer's recursion is used (e.g. harm 70 on a 0.1 lattice = 700)."""


@dataclass(frozen=True)
class MarkMix:
    """The harm marks of the analysed incidents: distinct values and how many carry each.

    Attributes
    ----------
    values
        Distinct positive mark values (harm weights), ascending.
    counts
        Number of incidents carrying each value.
    zeros
        Number of incidents with mark 0 (they add to counts but not to harm sums).
    delta
        Lattice span: every value is an integer multiple of ``delta`` (None when no lattice
        with marks of at most :data:`MAX_LATTICE_MARK` steps exists).
    steps
        ``values / delta`` as integers (None without a lattice).
    """

    values: np.ndarray
    counts: np.ndarray
    zeros: int
    delta: float | None
    steps: np.ndarray | None

    @property
    def n(self) -> int:
        """Number of incidents (marks), zeros included."""
        return int(self.counts.sum()) + self.zeros

    @property
    def freqs(self) -> np.ndarray:
        """Share of all incidents carrying each positive value."""
        return self.counts / self.n

    @property
    def mean(self) -> float:
        """Mean mark over all incidents (zeros included)."""
        return float((self.values * self.counts).sum() / self.n)

    @property
    def second_moment(self) -> float:
        """Mean squared mark over all incidents."""
        return float((self.values**2 * self.counts).sum() / self.n)

    def describe(self) -> dict[str, Any]:
        """Plain summary for logs and the run manifest."""
        return {
            "marks": {f"{v:g}": int(c) for v, c in zip(self.values, self.counts, strict=True)}
            | ({"0": self.zeros} if self.zeros else {}),
            "lattice": self.delta,
        }


def mark_mix(marks: Mapping[float, float] | npt.ArrayLike) -> MarkMix:
    """Build a :class:`MarkMix` from per-incident marks (array-like) or a ``{mark: count}`` mapping.

    Raises
    ------
    InputError
        No marks, negative or non-finite marks, non-integer or negative counts, all marks 0.
    """
    if isinstance(marks, dict):
        vals = np.asarray(list(marks.keys()), dtype=float)
        cnts = np.asarray(list(marks.values()), dtype=float)
        if not (np.isfinite(cnts).all() and (cnts >= 0).all() and (cnts == np.round(cnts)).all()):
            raise InputError(f"mark counts must be whole numbers >= 0, got {marks!r}.")
    else:
        arr = np.asarray(marks, dtype=float).ravel()
        vals, cnts = np.unique(arr, return_counts=True)
    if len(vals) == 0 or cnts.sum() == 0:
        raise InputError("no harm marks: pass the harm weights of the incidents counted in the units.")
    bad = ~np.isfinite(vals) | (vals < 0)
    if bad.any():
        raise InputError(f"harm marks must be finite numbers >= 0; found {vals[bad][0]!r}.")
    order = np.argsort(vals)
    vals, cnts = vals[order], cnts[order].astype(np.int64)
    zeros = int(cnts[vals == 0].sum())
    keep = (vals > 0) & (cnts > 0)
    vals, cnts = vals[keep], cnts[keep]
    if len(vals) == 0:
        raise InputError("every harm mark is 0: there is no harm to test; use the counts instead.")
    delta, steps = _lattice(vals)
    return MarkMix(values=vals, counts=cnts, zeros=zeros, delta=delta, steps=steps)


def _lattice(values: np.ndarray) -> tuple[float | None, np.ndarray | None]:
    """Largest span ``delta`` with every value an integer multiple of it (to 1e-9), or None."""
    fracs = [Fraction(float(v)).limit_denominator(10_000) for v in values]
    if any(abs(float(f) - v) > 1e-9 * max(1.0, v) for f, v in zip(fracs, values, strict=True)):
        return None, None
    den = math.lcm(*(f.denominator for f in fracs))
    num = math.gcd(*(int(f * den) for f in fracs))
    delta = num / den
    steps = np.rint(values / delta).astype(np.int64)
    if steps.max() > MAX_LATTICE_MARK:
        return None, None
    return delta, steps


__all__ = ["MAX_LATTICE_MARK", "MarkMix", "mark_mix"]
