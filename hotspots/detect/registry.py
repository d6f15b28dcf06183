"""The registry of hot spot inference methods: one name, one module, one entry.

:func:`hotspots.detect.inference.hotspot_gistar` and the ``[detect] inference`` key look
methods up here. To add a method, write ``hotspots/detect/methods/<name>.py`` with
``infer(problem: LocalProblem, options: InferenceOptions) -> MethodResult`` (see
:mod:`hotspots.detect.problem`) and add one :class:`InferenceMethod` to :data:`METHODS` below;
the verb, the config validation, the layers and the docs' option list need nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hotspots.detect.methods import analytic, eb_rate, exact, permutation
from hotspots.detect.problem import InferenceOptions, LocalProblem, MethodResult
from hotspots.errors import InputError


@dataclass(frozen=True)
class InferenceMethod:
    """One inference method.

    Attributes
    ----------
    name
        The name used in ``[detect] inference`` and ``hotspot_gistar(inference=...)``.
    infer
        The method: ``infer(problem, options) -> MethodResult``.
    summary
        One line for the docs and the run manifest.
    calibrated
        Whether its false-alarm rate is within the null-calibration bar (tests/test_calibration.py).
    uses_dispersion
        Whether ``dispersion`` applies (others refuse an explicit dispersion).
    needs_marks
        Whether testing harm sums needs the incidents' harm marks.
    """

    name: str
    infer: Callable[[LocalProblem, InferenceOptions], MethodResult]
    summary: str
    calibrated: bool
    uses_dispersion: bool = False
    needs_marks: bool = True


METHODS: dict[str, InferenceMethod] = {
    m.name: m
    for m in (
        InferenceMethod(
            "exact",
            exact.infer,
            "exact tail test of the neighbourhood sum under an exposure null (compound Poisson or negative "
            "binomial, Panjer's recursion); calibrated",
            calibrated=True,
            uses_dispersion=True,
        ),
        InferenceMethod(
            "analytic",
            analytic.infer,
            "Getis-Ord Gi* z with normal p (fast; not calibrated on sparse counts)",
            calibrated=False,
            needs_marks=False,
        ),
        InferenceMethod(
            "permutation",
            permutation.infer,
            "Monte Carlo under the exposure null; p floored at 1/(permutations + 1) per tail",
            calibrated=True,
        ),
        InferenceMethod(
            "eb_rate",
            eb_rate.infer,
            "Gi* z of empirical-Bayes smoothed rates, normal p (not calibrated on sparse grids)",
            calibrated=False,
        ),
    )
}
"""Every inference method by name; the first is the default."""

INFERENCES = tuple(METHODS)
"""Method names, the default first."""
DEFAULT_INFERENCE = INFERENCES[0]


def get_method(name: str, *, where: str = "inference") -> InferenceMethod:
    """The method called ``name``.

    Raises
    ------
    InputError
        No such method (the message lists the known ones).
    """
    if name not in METHODS:
        raise InputError(f"{where} must be one of {list(INFERENCES)}, got {name!r}.")
    return METHODS[name]


__all__ = ["DEFAULT_INFERENCE", "INFERENCES", "METHODS", "InferenceMethod", "get_method"]
