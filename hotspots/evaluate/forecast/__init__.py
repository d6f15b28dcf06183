"""Forecasts of violence per grid cell for the next month or quarter, backtested without leakage.

Three forecasting methods join the rolling-origin backtest of ``hotspots evaluate``
(:mod:`~hotspots.evaluate.forecast.config` defines them and the ``[forecast]`` section):

* ``ensemble`` (:mod:`~hotspots.evaluate.forecast.ensemble`): long-run and recent counts shrunk
  towards the neighbourhood, its setting chosen on inner folds of the training months;
* ``poisson`` and ``hgb`` (:mod:`~hotspots.evaluate.forecast.models`): scikit-learn's Poisson GLM
  and Poisson gradient boosting on cell x month features built from training months only
  (:mod:`~hotspots.evaluate.forecast.features`).

:mod:`~hotspots.evaluate.forecast.backtest` scores them on the folds of ``hotspots evaluate``;
:mod:`~hotspots.evaluate.forecast.choice` compares them with the existing methods (paired
differences, the nested choice); :mod:`~hotspots.evaluate.forecast.calibration` checks the
forecast against what happened; :mod:`~hotspots.evaluate.forecast.where_next` forecasts the next
quarter and names the top cells; :mod:`~hotspots.evaluate.forecast.evaluation` is what
``hotspots evaluate`` adds to ``evaluation.json`` and :mod:`~hotspots.evaluate.forecast.stage` the
``forecast`` stage of ``hotspots run``.
"""

from hotspots.evaluate.forecast.backtest import ForecastBacktest, backtest_matrix, forecast_backtest
from hotspots.evaluate.forecast.calibration import calibration_table
from hotspots.evaluate.forecast.choice import nested_choice, nested_summary, paired_differences, recommend_method
from hotspots.evaluate.forecast.config import FORECAST_METHODS, NEW_METHODS, ForecastConfig
from hotspots.evaluate.forecast.models import forecast_cells
from hotspots.evaluate.forecast.where_next import top_cells, where_next_matrix

__all__ = [
    "FORECAST_METHODS",
    "NEW_METHODS",
    "ForecastBacktest",
    "ForecastConfig",
    "backtest_matrix",
    "calibration_table",
    "forecast_backtest",
    "forecast_cells",
    "nested_choice",
    "nested_summary",
    "paired_differences",
    "recommend_method",
    "top_cells",
    "where_next_matrix",
]
