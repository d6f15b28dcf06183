"""The model forecasts (a Poisson GLM and gradient boosting) and one entry point for every method.

:func:`model_forecast` fits scikit-learn's ``PoissonRegressor`` or
``HistGradientBoostingRegressor(loss="poisson")`` on cell x month features (:func:`cell_features`)
of earlier origins whose targets lie inside the training months; :func:`forecast_cells` gives the
forecast of any method in :data:`FORECAST_METHODS` for one fold.

**No leakage.** A fold trained on months ``1..k`` reads only ``matrix[:, :k]``: its features, its
training rows (origins ``j < k`` whose targets end by month ``k``), the ensemble's inner folds and
the random subsample of rows (seeded by ``cfg.seed, k, h``) are the same whatever months follow.
"""

from __future__ import annotations

import functools
import logging
import time
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hotspots.errors import HotspotsWarning, InputError
from hotspots.evaluate.forecast.config import FORECAST_METHODS, ForecastConfig
from hotspots.evaluate.forecast.ensemble import EnsembleSearch, ensemble_forecast
from hotspots.evaluate.forecast.features import F_HISTORY, F_IMD, F_MONTH, History, feature_array, feature_names

if TYPE_CHECKING:
    from threadpoolctl import ThreadpoolController

log = logging.getLogger(__name__)

UNSTABLE_RATIO = 3.0
"""A model forecast totalling more than this many times the long-run rate is reported as unstable."""

MAX_RATE_FACTOR = 2.0
"""A GLM forecasting a cell above this many times the busiest training target is refitted with a larger penalty."""


def _training_rows(
    history: History,
    k: int,
    h: int,
    *,
    static: pd.DataFrame | None,
    start_month: int | None,
    cfg: ForecastConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Training rows of a fold on months ``1..k``: features at origins ``j < k``, targets inside ``1..k``.

    The target of origin ``j`` is the rate per month over months ``j+1..j+h'`` with
    ``h' = min(h, k - j)`` (sample weight ``h'``: Poisson regression of a rate with exposure).
    Above ``cfg.max_rows`` the rows without incidents in their target window are subsampled with
    a generator seeded by ``(cfg.seed, k, h)`` and re-weighted, so the rows depend on months
    ``1..k`` only. Returns ``(X, y, weights)``, or None when there is no training origin.
    """
    seasonal = k >= cfg.seasonal_min_months
    first = 12 if seasonal else 1
    origins = list(range(first, k))
    if not origins:
        return None
    n = history.matrix.shape[0]
    targets = []
    for j in origins:
        hh = min(h, k - j)
        targets.append((j, hh, history.window(j + hh, hh)))
    total = n * len(origins)
    npos = sum(int(np.count_nonzero(y)) for _, _, y in targets)
    rate = 1.0
    if total > cfg.max_rows:
        rate = min(1.0, max((cfg.max_rows - npos) / max(total - npos, 1), 1e-3))
    rng = np.random.default_rng([int(cfg.seed), int(k), int(h)])
    xs, ys, ws = [], [], []
    for j, hh, target in targets:
        keep = None
        y = target
        w = np.full(n, float(hh))
        if rate < 1.0:
            draw = rng.random(n)
            keep = np.flatnonzero((target > 0) | (draw < rate))
            y = target[keep]
            w = np.where(y > 0, w[keep], w[keep] / rate)
        xs.append(
            feature_array(history, j, static=static, start_month=start_month, seasonal=seasonal, cfg=cfg, rows=keep)
        )
        ys.append(y)
        ws.append(w)
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(ws)


def _glm_design(x: np.ndarray, names: list[str], fill: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """GLM inputs: log1p of counts and distances, rank / 32,844, month as sin/cos; NaN -> ``fill``.

    ``history_months`` is left out: a linear term in it would extrapolate a time trend to the
    forecast origin, which always lies beyond every training origin. ``fill`` (default the
    column medians of ``x``, 0 for a column without values) replaces missing values.
    """
    keep = [c for c in names if c != F_HISTORY]
    width = len(keep) + (1 if F_MONTH in keep else 0)
    d = np.empty((len(x), width), order="F")
    j = 0
    for i, c in enumerate(names):
        v = x[:, i]
        if c == F_HISTORY:
            continue
        if c == F_MONTH:
            ang = 2 * np.pi * v / 12.0
            d[:, j], d[:, j + 1] = np.sin(ang), np.cos(ang)
            j += 2
            continue
        if c == F_IMD:
            d[:, j] = v / 32_844.0
        else:
            np.log1p(np.clip(v, 0.0, None), out=d[:, j])
        j += 1
    if fill is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN column: filled with 0 below
            fill = np.nan_to_num(np.nanmedian(d, axis=0), nan=0.0)
    bad = np.isnan(d)
    if bad.any():
        d = np.where(bad, fill[None, :], d)
    return d, fill


@functools.cache
def _thread_pools() -> ThreadpoolController:
    """The thread pools of the loaded libraries, found once (finding them reads every loaded library).

    scikit-learn's model modules are imported first, so their OpenMP runtime is among them.
    """
    import sklearn.ensemble
    import sklearn.linear_model  # noqa: F401 - loaded for their thread pools
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def model_forecast(
    method: str,
    history: History,
    k: int,
    h: int,
    *,
    static: pd.DataFrame | None = None,
    start_month: int | None = None,
    cfg: ForecastConfig | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Expected incidents per cell over months ``k+1..k+h`` from ``hgb`` or ``poisson``, trained on ``1..k``.

    Parameters
    ----------
    method
        ``"hgb"`` (``HistGradientBoostingRegressor(loss="poisson")``) or ``"poisson"``
        (``PoissonRegressor`` on standardised log1p features).
    history
        The :class:`~hotspots.evaluate.forecast.features.History` of incidents per cell and month.
    k, h
        Months of training; months of the forecast window.
    static, start_month
        As :func:`~hotspots.evaluate.forecast.features.cell_features`.
    cfg
        Settings (``[forecast]``); ``cfg.seed`` seeds the boosting and the subsampling of training rows.

    Returns
    -------
    (forecast, info)
        Forecast per cell (>= 0) and ``info`` with the training rows, the sampling and seconds.
        With no training origin (``k = 1``) or no incident in any target, the long-run counts
        scaled to ``h`` months are returned and ``info["fallback"]`` says so.
    """
    if method not in ("hgb", "poisson"):
        raise InputError(f"model method must be 'hgb' or 'poisson', got {method!r}.")
    cfg = cfg or ForecastConfig()
    t0 = time.perf_counter()
    rows = _training_rows(history, k, h, static=static, start_month=start_month, cfg=cfg)
    fallback = h * history.window(k)
    if rows is None or rows[1].sum() <= 0:
        return fallback, {"fallback": "no training origin or no incident in any target: long-run counts"}
    x, y, w = rows
    seasonal = k >= cfg.seasonal_min_months
    names = feature_names(cfg, seasonal=seasonal)
    use = ~np.isnan(x).all(axis=0)  # a feature without data (no venues given) cannot be binned or scaled
    x = x[:, use]
    names = [c for c, u in zip(names, use, strict=True) if u]
    xt = feature_array(history, k, static=static, start_month=start_month, seasonal=seasonal, cfg=cfg)
    xt = xt[:, use]
    with _thread_pools().limit(limits=cfg.threads):
        if method == "hgb":
            rate, extra = _fit_hgb(x, y, w, xt, cfg)
        else:
            rate, extra = _fit_glm(x, names, y, w, xt, cfg, h=h, long_run=fallback.sum())
    out = h * np.clip(rate, 0.0, None)
    ratio = float(out.sum() / fallback.sum()) if fallback.sum() > 0 else float("nan")
    info = {
        "training_rows": len(y),
        "positive_rows": int((y > 0).sum()),
        "features": names,
        **extra,
        "forecast_total_over_long_run": round(ratio, 3),
        "seconds": round(time.perf_counter() - t0, 3),
    }
    if ratio > UNSTABLE_RATIO:
        warnings.warn(
            f"{method} forecast for months {k + 1}..{k + h} totals {ratio:.1f} x the long-run rate: the model is "
            "unstable on these data; raise hgb_l2 / hgb_min_samples_leaf (or glm_alpha) or use the ensemble.",
            HotspotsWarning,
            stacklevel=2,
        )
    return out, info


def _fit_hgb(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, xt: np.ndarray, cfg: ForecastConfig
) -> tuple[np.ndarray, dict[str, Any]]:
    from sklearn.ensemble import HistGradientBoostingRegressor

    model = HistGradientBoostingRegressor(
        loss="poisson",
        learning_rate=cfg.hgb_learning_rate,
        max_iter=cfg.hgb_max_iter,
        max_leaf_nodes=cfg.hgb_max_leaf_nodes,
        min_samples_leaf=cfg.hgb_min_samples_leaf,
        l2_regularization=cfg.hgb_l2,
        early_stopping=False,
        random_state=int(cfg.seed),
    )
    model.fit(x, y, sample_weight=w)
    return model.predict(xt), {}


def _fit_glm(
    x: np.ndarray,
    names: list[str],
    y: np.ndarray,
    w: np.ndarray,
    xt: np.ndarray,
    cfg: ForecastConfig,
    *,
    h: int,
    long_run: float,
) -> tuple[np.ndarray, dict[str, Any]]:
    """The Poisson GLM's rate per cell, its L2 penalty raised tenfold (up to 1000x) while the fit is unstable.

    A fit is unstable when its forecast totals more than :data:`UNSTABLE_RATIO` times the long-run
    total, or forecasts a cell above :data:`MAX_RATE_FACTOR` times the busiest training target
    (extrapolation far beyond anything seen). Both tests read the training months only.
    """
    from sklearn.linear_model import PoissonRegressor

    dx, fill = _glm_design(x, names)
    mean = np.average(dx, axis=0, weights=w)
    sd = np.sqrt(np.average((dx - mean) ** 2, axis=0, weights=w))
    sd[~(sd > 0)] = 1.0  # a constant column stays constant (as StandardScaler)
    z, zt = (dx - mean) / sd, (_glm_design(xt, names, fill)[0] - mean) / sd
    cap = MAX_RATE_FACTOR * float(y.max())
    alpha = cfg.glm_alpha
    for step in range(4):
        alpha = cfg.glm_alpha * 10.0**step
        glm = PoissonRegressor(alpha=alpha, max_iter=1000).fit(z, y, sample_weight=w)
        rate = glm.predict(zt)
        total = h * float(rate.sum())
        if float(rate.max()) <= cap and (long_run <= 0 or total <= UNSTABLE_RATIO * long_run):
            break
    return rate, {"glm_alpha": alpha}


# --------------------------------------------------------------------------------------
# one forecast, any method
# --------------------------------------------------------------------------------------


def forecast_cells(
    method: str,
    history: History,
    k: int,
    h: int,
    *,
    static: pd.DataFrame | None = None,
    start_month: int | None = None,
    cfg: ForecastConfig | None = None,
    search: EnsembleSearch | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Expected incidents per cell over months ``k+1..k+h`` from months ``1..k`` (any forecast method).

    Parameters
    ----------
    method
        One of :data:`~hotspots.evaluate.forecast.config.FORECAST_METHODS`: ``counts`` (long-run
        rate x h), ``last_period`` (the last h training months, or all of them when fewer),
        ``ensemble``, ``poisson``, ``hgb``.
    history
        The :class:`~hotspots.evaluate.forecast.features.History` of incidents (or harm) per cell
        and month; only months ``1..k`` are read.
    k, h
        Training months and forecast window, months.
    static, start_month, cfg
        As :func:`model_forecast`.
    search
        An :class:`~hotspots.evaluate.forecast.ensemble.EnsembleSearch` on the same history (to
        share inner folds across outer folds).

    Returns
    -------
    (forecast, info)
        Forecast per cell in incidents over the window, and what was chosen or fitted.

    Raises
    ------
    InputError
        Unknown method, ``k`` outside 1..months or ``h`` < 1.
    """
    cfg = cfg or ForecastConfig()
    if method not in FORECAST_METHODS:
        raise InputError(f"unknown forecast method {method!r}; choose from {', '.join(FORECAST_METHODS)}.")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= history.n_months:
        raise InputError(f"k must be a whole number of training months in 1..{history.n_months}, got {k!r}.")
    if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1:
        raise InputError(f"h must be a whole number of months >= 1, got {h!r}.")
    k, h = int(k), int(h)
    if method == "counts":
        return h * history.window(k), {}
    if method == "last_period":
        return h * history.window(k, h), {}
    if method == "ensemble":
        s = search if search is not None else EnsembleSearch(history, cfg)
        t0 = time.perf_counter()
        params, why = s.choose(k, h)
        calib = s.calibration(params, k, why["inner_horizon"]) if why["inner_folds"] else None
        origins = ", ".join(map(str, calib.origins)) if calib is not None else ""
        why["calibration"] = (
            None if calib is None else f"isotonic, {len(calib.x)} knots, inner folds trained on 1..{origins} months"
        )
        f = ensemble_forecast(history, k, h, params, recent_months=cfg.recent_months, calibration=calib)
        return f, {"params": params.label(), **why, "seconds": round(time.perf_counter() - t0, 3)}
    return model_forecast(method, history, k, h, static=static, start_month=start_month, cfg=cfg)
