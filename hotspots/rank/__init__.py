"""Stage ``rank``: rank places (LSOAs) for the Board, with uncertainty, reasons and tiers.

Components (:mod:`~hotspots.rank.components`), scaling and combination
(:mod:`~hotspots.rank.scale`), reasons (:mod:`~hotspots.rank.reasons`) and the ranking
itself with its Monte Carlo intervals (:mod:`~hotspots.rank.stage`); :func:`rank` runs
them on a study and the detect stage's result.
"""

from hotspots.rank.components import place_components
from hotspots.rank.config import RankConfig
from hotspots.rank.stage import RankResult, composite_score, district_profiles, rank, rank_places

__all__ = [
    "RankConfig",
    "RankResult",
    "composite_score",
    "district_profiles",
    "place_components",
    "rank",
    "rank_places",
]
