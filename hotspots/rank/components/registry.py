"""The registry of ranking components: the one place a component is listed.

To add a component: write a module in :mod:`hotspots.rank.components` defining a
:class:`~hotspots.rank.components.base.Component` (name, column, description, default weight,
``compute``, ``phrase`` and optionally ``resample``), and add it to :data:`REGISTRY` below.
``[rank] weights`` accept its name at once (:class:`hotspots.rank.config.RankConfig` checks
weights against this registry), :func:`~hotspots.rank.components.place_components` computes
its column, and the composite score, its Monte Carlo and the reasons use it. docs/rank.md
walks through an example.
"""

from __future__ import annotations

from hotspots.rank.components.base import Component
from hotspots.rank.components.hotspot import GI_Z_COMPONENT, KDE_COMPONENT
from hotspots.rank.components.need import CYP_COMPONENT, DEPRIVATION_COMPONENT, IDACI_COMPONENT
from hotspots.rank.components.nte import NEAR_VENUE_SHARE_COMPONENT, VENUE_DENSITY_COMPONENT
from hotspots.rank.components.violence import HARM_COUNT_COMPONENT, HARM_RATE_COMPONENT

REGISTRY: dict[str, Component] = {
    c.name: c
    for c in (
        HARM_RATE_COMPONENT,
        HARM_COUNT_COMPONENT,
        GI_Z_COMPONENT,
        KDE_COMPONENT,
        VENUE_DENSITY_COMPONENT,
        NEAR_VENUE_SHARE_COMPONENT,
        DEPRIVATION_COMPONENT,
        IDACI_COMPONENT,
        CYP_COMPONENT,
    )
}
"""Component name (the key in ``[rank] weights``) -> :class:`Component`, in reason and column order."""

COMPONENTS: dict[str, str] = {name: c.column for name, c in REGISTRY.items()}
"""Component name -> the ``places`` column holding its raw value (higher = more need)."""

DEFAULT_WEIGHTS: dict[str, float] = {name: c.default_weight for name, c in REGISTRY.items() if c.default_weight > 0}
"""Default weights: violence 60 % (rate, count, Gi*, KDE), NTE 10 %, deprivation 15 %, youth need 15 %."""

RESAMPLED = tuple(name for name, c in REGISTRY.items() if c.resample is not None)
"""Components recomputed from Monte Carlo counts in every draw."""

CONTRIB = {k: f"c_{k}" for k in COMPONENTS}
"""Contribution column of each component in the composite ``places``."""
