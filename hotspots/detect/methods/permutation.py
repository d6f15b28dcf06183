"""Monte Carlo under the exposure null (the ``"permutation"`` option), its p floor stated.

``permutations`` maps are drawn with the incidents placed at random in proportion to the
exposure (their harm marks kept), and each unit's p is the share of maps with a neighbourhood
sum at least as extreme (ties counted as extreme). The p cannot go below ``1 / (R + 1)`` per
tail, so over hundreds of units Benjamini-Hochberg at 99 % may reach nothing: a warning says
which levels are out of reach. The exact test (the default) has no floor.
"""

from __future__ import annotations

from hotspots.detect._montecarlo import permutation_test, warn_permutation_floor
from hotspots.detect.problem import InferenceOptions, LocalProblem, MethodResult
from hotspots.errors import InputError


def infer(problem: LocalProblem, options: InferenceOptions) -> MethodResult:
    """Monte Carlo p-values of the analysed units' local sums (``options.permutations``, ``options.seed``)."""
    r = options.permutations
    if isinstance(r, bool) or not isinstance(r, int) or r < 1:
        raise InputError(f"permutations must be a positive whole number, got {r!r}.")
    warn_permutation_floor(r, len(problem.values))
    z, p = permutation_test(
        problem.local,
        problem.W,
        problem.prob,
        problem.marks,
        counts=problem.is_count,
        permutations=r,
        seed=options.seed,
    )
    info = {"permutations": r, "seed": options.seed, "p_floor_two_sided": round(min(1.0, 2.0 / (r + 1)), 6)}
    return MethodResult(z=z, p=p, info=info)


__all__ = ["infer"]
