"""``[forecast]``: the "where next" stage and the settings of the forecasting methods.

The same section serves both places the forecasts run: the ``forecast`` stage of ``hotspots run``
(which methods it chooses from, how far ahead, how many cells it lists) and the backtest of
``hotspots evaluate`` (the features, the ensemble's search grid and the models' settings).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any

from hotspots.errors import ConfigError
from hotspots.evaluate.config import FORECAST_METHODS as NEW_FORECAST_METHODS

NEW_METHODS = NEW_FORECAST_METHODS
"""The forecasting methods this subpackage adds to the backtest of ``hotspots evaluate``."""

FORECAST_METHODS = ("counts", "last_period", *NEW_METHODS)
"""Methods whose score is a forecast in incidents (count units): the candidates of "where next"."""

TRANSFORMS = ("raw", "sqrt")
"""Transforms of the monthly counts searched by the ensemble."""

METHOD_DEFINITIONS: dict[str, str] = {
    "ensemble": "shrinkage blend of each cell's long-run and last-3-month monthly counts (raw or square-root "
    "damped), pulled towards its Gaussian-smoothed neighbourhood rate with the weight of a prior worth a "
    "months (empirical Bayes); transform, recent share, a and the smoothing radius chosen in every fold on "
    "inner rolling folds of the training months only; mapped to incidents by isotonic regression fitted on "
    "the latest inner folds (the ranking is the score's)",
    "poisson": "scikit-learn PoissonRegressor (log-linear Poisson GLM, L2 penalty) on cell x month features "
    "built from the training months only (counts over 1, 3, 6 months and the long run, share of active "
    "months, neighbour and Gaussian-smoothed counts, NTE venue density and distance, IMD rank of the LSOA), "
    "log1p-transformed and standardised; trained on every earlier origin whose target lies inside the "
    "training months",
    "hgb": "scikit-learn HistGradientBoostingRegressor(loss='poisson') on the same features (opt-in: slow, "
    "and it never beat the Poisson GLM on the bundled data)",
}
"""What each method in :data:`NEW_METHODS` scores (for ``evaluation.json``)."""


def _positive_tuple(value: Any, key: str) -> None:
    if not value or any(isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0 for v in value):
        raise ConfigError(f"[forecast] key {key!r} must be a non-empty list of distances > 0 metres, got {value!r}.")


def _whole(value: Any, key: str, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"[forecast] key {key!r} must be a whole number >= {low}, got {value!r}.")


def _number(value: Any, key: str, *, low: float, strict: bool) -> None:
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
    if not ok or (value <= low if strict else value < low):
        sign = ">" if strict else ">="
        raise ConfigError(f"[forecast] key {key!r} must be a number {sign} {low:g}, got {value!r}.")


@dataclass(frozen=True)
class ForecastConfig:
    """``[forecast]``: the "where next" forecast of ``hotspots run`` and the forecasting methods' settings.

    Attributes
    ----------
    methods
        Methods the ``forecast`` stage backtests and chooses from (any of ``counts``,
        ``last_period``, ``ensemble``, ``poisson``, ``hgb``; default ``counts`` and ``poisson``,
        which keep the default run fast; ``ensemble`` adds about 0.6 s on the bundled force-wide
        data and never beat the Poisson GLM there; ``hgb`` is opt-in, about 20 times slower).
    horizon
        Months ahead the stage forecasts (default 3: the next quarter).
    top
        Cells in the ranked "where next" list (default 10).
    min_months
        Consecutive months a source needs to be forecast (default 9: three training months, one
        window to choose the method on and one to score the choice). A source with fewer (a
        single police.uk month) is skipped with a note.
    min_train_months
        Months in the first training window of the stage's backtest (default 3).
    cell_size
        Grid cell side, metres; unset = automatic: 100 m (as ``hotspots evaluate``), or the
        smallest of 150, 200, 250, 300, 400, 500, 750, 1000, 1500, 2000 m that keeps the source's
        area under ``max_cells`` cells (so the default run stays fast on force-wide data).
    max_cells
        Most cells of the automatic grid (default 60,000: about 1.3 s of CPU for the stage on the bundled
        force-wide data, 54,896 cells of 200 m; 100 m cells would take about three times as long).
    select_coverage
        Share of the area at which methods are compared and chosen by PEI (default 0.05).
    layer_share
        Share of the area's cells written to the ``where_next`` layer: the cells with the highest
        forecast (default 0.05, the selection whose accuracy is reported).
    name_distance_m
        Farthest a police.uk location name may be from a listed cell's busiest point, metres
        (default 150).
    seed
        Seed of the model fits and of the subsampling of training rows (default 0).
    smooth_m
        Gaussian bandwidths (metres) of the smoothed long-run features (default 100, 250, 500, 1000).
    venue_radius_m
        Radius (metres) of the NTE venue density feature (default 200).
    recent_months
        Months in the "recent" window of the ensemble (default 3).
    seasonal_min_months
        Training months needed before 12-month windows and month of year are used (default 24:
        one year of data cannot teach them). Training origins then start at month 12.
    max_rows
        Most training rows of a model fit (default 50,000); above it cells with no incident in
        the target window are subsampled (seeded) and re-weighted by the inverse sampling rate.
    hgb_max_iter, hgb_learning_rate, hgb_max_leaf_nodes, hgb_min_samples_leaf, hgb_l2
        ``HistGradientBoostingRegressor`` settings (defaults 100 rounds, 0.1, 31 leaves, 100 rows
        per leaf, L2 10). The strong regularisation is needed: with l2 = 0 the Poisson Newton
        steps blew up on the sparse weapons data (forecasts up to 1e81 incidents per cell).
    glm_alpha
        L2 penalty of ``PoissonRegressor`` (default 0.001).
    ensemble_transforms, ensemble_recent_shares, ensemble_prior_months, ensemble_sigma_m
        The ensemble's search grid: ``"raw"``/``"sqrt"`` monthly counts; share of the recent window
        in the blend (0 = long run only); prior weight in months (0 = no shrinkage); Gaussian
        bandwidth of the prior, metres.
    threads
        OpenMP threads of the model fits (default 1: keeps a shared machine responsive).
    """

    methods: tuple[str, ...] = ("counts", "poisson")
    horizon: int = 3
    top: int = 10
    min_months: int = 9
    min_train_months: int = 3
    cell_size: float | None = None
    max_cells: int = 60_000
    select_coverage: float = 0.05
    layer_share: float = 0.05
    name_distance_m: float = 150.0
    seed: int = 0
    smooth_m: tuple[float, ...] = (100.0, 250.0, 500.0, 1000.0)
    venue_radius_m: float = 200.0
    recent_months: int = 3
    seasonal_min_months: int = 24
    max_rows: int = 50_000
    hgb_max_iter: int = 100
    hgb_learning_rate: float = 0.1
    hgb_max_leaf_nodes: int = 31
    hgb_min_samples_leaf: int = 100
    hgb_l2: float = 10.0
    glm_alpha: float = 1e-3
    ensemble_transforms: tuple[str, ...] = TRANSFORMS
    ensemble_recent_shares: tuple[float, ...] = (0.0, 0.25, 0.5)
    ensemble_prior_months: tuple[float, ...] = (0.0, 0.5, 2.0, 8.0)
    ensemble_sigma_m: tuple[float, ...] = (100.0, 250.0, 500.0, 1000.0)
    threads: int = 1

    def __post_init__(self) -> None:
        for key in (
            "methods",
            "smooth_m",
            "ensemble_transforms",
            "ensemble_recent_shares",
            "ensemble_prior_months",
            "ensemble_sigma_m",
        ):
            object.__setattr__(self, key, tuple(getattr(self, key)))
        if not self.methods:
            raise ConfigError(f"[forecast] key 'methods' is empty; choose from {', '.join(FORECAST_METHODS)}.")
        for m in self.methods:
            if m not in FORECAST_METHODS:
                raise ConfigError(
                    f"[forecast] key 'methods' has unknown method {m!r}; choose from {', '.join(FORECAST_METHODS)}."
                )
        self._check_numbers()
        self._check_search_grid()

    def _check_numbers(self) -> None:
        for key in (
            "horizon",
            "top",
            "recent_months",
            "seasonal_min_months",
            "max_rows",
            "hgb_max_iter",
            "hgb_min_samples_leaf",
            "threads",
            "min_train_months",
        ):
            _whole(getattr(self, key), key, 1)
        _whole(self.hgb_max_leaf_nodes, "hgb_max_leaf_nodes", 2)
        _whole(self.seed, "seed", 0)
        _whole(self.max_cells, "max_cells", 100)
        need = self.min_train_months + self.horizon
        if isinstance(self.min_months, bool) or not isinstance(self.min_months, int) or self.min_months < need:
            raise ConfigError(
                f"[forecast] key 'min_months' must be a whole number >= min_train_months + horizon ({need}), "
                f"got {self.min_months!r}: a backtest needs a training window and a test window."
            )
        for key in ("venue_radius_m", "name_distance_m", "hgb_learning_rate"):
            _number(getattr(self, key), key, low=0.0, strict=True)
        if self.cell_size is not None:
            _number(self.cell_size, "cell_size", low=0.0, strict=True)
        for key in ("hgb_l2", "glm_alpha"):
            _number(getattr(self, key), key, low=0.0, strict=False)
        for key in ("select_coverage", "layer_share"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 1:
                raise ConfigError(
                    f"[forecast] key {key!r} must be a share of the area in (0, 1], got {v!r} (write 5 % as 0.05)."
                )

    def _check_search_grid(self) -> None:
        _positive_tuple(self.smooth_m, "smooth_m")
        _positive_tuple(self.ensemble_sigma_m, "ensemble_sigma_m")
        bad = [t for t in self.ensemble_transforms if t not in TRANSFORMS]
        if not self.ensemble_transforms or bad:
            raise ConfigError(
                f"[forecast] key 'ensemble_transforms' must be among {', '.join(TRANSFORMS)}, "
                f"got {list(self.ensemble_transforms)!r}."
            )
        if not self.ensemble_recent_shares or any(
            isinstance(b, bool) or not isinstance(b, (int, float)) or not 0 <= b <= 1
            for b in self.ensemble_recent_shares
        ):
            raise ConfigError(
                f"[forecast] key 'ensemble_recent_shares' must be shares in [0, 1], "
                f"got {list(self.ensemble_recent_shares)!r}."
            )
        if not self.ensemble_prior_months or any(
            isinstance(a, bool) or not isinstance(a, (int, float)) or not a >= 0 for a in self.ensemble_prior_months
        ):
            raise ConfigError(
                f"[forecast] key 'ensemble_prior_months' must be months >= 0, got {list(self.ensemble_prior_months)!r}."
            )

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-ready dict."""
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in fields(self)}


FAST_CONFIG = ForecastConfig(
    smooth_m=(100.0, 500.0),
    max_rows=20_000,
    hgb_max_iter=30,
    hgb_learning_rate=0.2,
    hgb_max_leaf_nodes=15,
    hgb_min_samples_leaf=50,
    ensemble_recent_shares=(0.0, 0.5),
    ensemble_prior_months=(0.0, 2.0),
    ensemble_sigma_m=(100.0, 500.0),
)
"""A test-size configuration: the same methods with a smaller search grid and fewer boosting rounds."""


def fast(cfg: ForecastConfig | None = None, **changes: Any) -> ForecastConfig:
    """:data:`FAST_CONFIG` (or ``cfg``) with ``changes`` applied."""
    return replace(cfg or FAST_CONFIG, **changes)


AUTO_CELL_SIZES = (100.0, 150.0, 200.0, 250.0, 300.0, 400.0, 500.0, 750.0, 1000.0, 1500.0, 2000.0)
"""Cell sizes (metres) the automatic rule of ``[forecast] cell_size`` chooses from, smallest first."""


def auto_cell_size(area_m2: float, *, max_cells: int) -> float:
    """The smallest of :data:`AUTO_CELL_SIZES` whose grid over ``area_m2`` has at most ``max_cells`` cells.

    Examples
    --------
    >>> auto_cell_size(78e6, max_cells=60_000), auto_cell_size(2180e6, max_cells=60_000)
    (100.0, 200.0)
    """
    for s in AUTO_CELL_SIZES:
        if area_m2 / (s * s) <= max_cells:
            return s
    return AUTO_CELL_SIZES[-1]
