"""Evaluation: how concentrated violence is and how well each method predicts it.

Measures (:mod:`~hotspots.evaluate.measures`: hit rate, PAI, PEI, RRI, Gini, Lorenz) and
the rolling-origin backtest behind ``hotspots evaluate`` (:mod:`~hotspots.evaluate.rolling`).
"""

from hotspots.evaluate.config import EvaluateConfig
from hotspots.evaluate.rolling import backtest, evaluate_study, summarise_backtest

__all__ = ["EvaluateConfig", "backtest", "evaluate_study", "summarise_backtest"]
