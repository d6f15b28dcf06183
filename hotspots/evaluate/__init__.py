"""Evaluation: how concentrated violence is, how well each method predicts it, and did it change.

Measures (:mod:`~hotspots.evaluate.measures`: hit rate, PAI, PEI, RRI, Gini, Lorenz) and
the rolling-origin backtest behind ``hotspots evaluate`` (:mod:`~hotspots.evaluate.rolling`).

Change between periods and intervention impact, behind ``hotspots change`` (docs/change.md):
the stage :func:`~hotspots.evaluate.change_stage.change`; per-unit tests
(:mod:`~hotspots.evaluate.change`, :func:`~hotspots.evaluate.change_table.unit_change`,
:mod:`~hotspots.evaluate.tally`), power (:mod:`~hotspots.evaluate.power`), whole-area claims
(:mod:`~hotspots.evaluate.area`), WDD (:mod:`~hotspots.evaluate.wdd`,
:mod:`~hotspots.evaluate.impact`) and pattern similarity (:mod:`~hotspots.evaluate.similarity`).
"""

from hotspots.evaluate.area import area_change, area_change_from_totals, compare_areas
from hotspots.evaluate.change import count_change, fdr_bh, harm_change
from hotspots.evaluate.change_config import ChangeConfig, InterventionConfig
from hotspots.evaluate.change_table import unit_change
from hotspots.evaluate.config import EvaluateConfig
from hotspots.evaluate.impact import impact_areas, intervention_impact
from hotspots.evaluate.power import mde_fall, mde_wdd
from hotspots.evaluate.rolling import backtest, evaluate_study, summarise_backtest
from hotspots.evaluate.similarity import compare_classes, sppt
from hotspots.evaluate.tally import estimate_dispersion, tally_periods
from hotspots.evaluate.wdd import ratio_vs_control, wdd, wdd_harm

__all__ = [
    "ChangeConfig",
    "EvaluateConfig",
    "InterventionConfig",
    "area_change",
    "area_change_from_totals",
    "backtest",
    "compare_areas",
    "compare_classes",
    "count_change",
    "estimate_dispersion",
    "evaluate_study",
    "fdr_bh",
    "harm_change",
    "impact_areas",
    "intervention_impact",
    "mde_fall",
    "mde_wdd",
    "ratio_vs_control",
    "sppt",
    "summarise_backtest",
    "tally_periods",
    "unit_change",
    "wdd",
    "wdd_harm",
]
