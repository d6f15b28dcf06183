"""Stage ``rank``: rank places (LSOAs) for the Board, with uncertainty, reasons and tiers.

Two methods (``[rank] method``): the **axes** (default; :mod:`~hotspots.rank.axes`,
:mod:`~hotspots.rank.tiers`, :mod:`~hotspots.rank.intervals`, :mod:`~hotspots.rank.places`):
a harm axis and a need axis, Board tiers on both and predictive rank intervals; the
**composite** score (:mod:`~hotspots.rank.composite`) of the registered components
(:mod:`~hotspots.rank.components`). :func:`rank` runs either on a study and the detect
stage's result; docs/rank.md explains both.
"""

from hotspots.rank.components import place_components
from hotspots.rank.composite import composite_score, rank_places
from hotspots.rank.config import RankConfig
from hotspots.rank.districts import district_profiles
from hotspots.rank.places import rank_axes
from hotspots.rank.stage import RankResult, rank

__all__ = [
    "RankConfig",
    "RankResult",
    "composite_score",
    "district_profiles",
    "place_components",
    "rank",
    "rank_axes",
    "rank_places",
]
