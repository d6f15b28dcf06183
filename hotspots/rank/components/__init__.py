"""Ranking components: one module per family, one registry (:data:`~hotspots.rank.components.registry.REGISTRY`).

:func:`place_components` computes the context columns and every registered component's
raw value for each LSOA; the composite method (:mod:`hotspots.rank.composite`) weighs them,
the axes method (:mod:`hotspots.rank.places`) reads the harm and need columns.
"""

from hotspots.rank.components.base import Component, ComponentContext, ReasonContext
from hotspots.rank.components.build import place_components
from hotspots.rank.components.registry import COMPONENTS, CONTRIB, DEFAULT_WEIGHTS, REGISTRY, RESAMPLED

__all__ = [
    "COMPONENTS",
    "CONTRIB",
    "DEFAULT_WEIGHTS",
    "REGISTRY",
    "RESAMPLED",
    "Component",
    "ComponentContext",
    "ReasonContext",
    "place_components",
]
