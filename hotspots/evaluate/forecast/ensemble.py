"""The ensemble forecast: long-run and recent counts shrunk towards the neighbourhood.

Long-run and recent monthly counts of each cell (raw or square-root damped), shrunk towards a
Gaussian-smoothed neighbourhood rate with the weight of an empirical-Bayes prior worth ``a``
months; the setting is chosen on inner rolling folds of the training months only
(:class:`EnsembleSearch`) and mapped to incidents by an isotonic calibration fitted there too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hotspots.evaluate.forecast.config import TRANSFORMS, ForecastConfig
from hotspots.evaluate.forecast.features import History, most_hits, pei_fast

# --------------------------------------------------------------------------------------
# the ensemble: long-run + recent counts with empirical-Bayes shrinkage to the neighbourhood
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnsembleParams:
    """One setting of the ensemble.

    Attributes
    ----------
    transform
        ``"raw"`` monthly counts or ``"sqrt"`` (square roots, damping one-month bursts).
    recent_share
        Weight of the recent window's rate in the blend (0 = the long run only).
    prior_months
        Weight ``a`` of the neighbourhood prior, in months of data (0 = no shrinkage).
    sigma_m
        Gaussian bandwidth of the neighbourhood prior, metres.
    """

    transform: str = "raw"
    recent_share: float = 0.0
    prior_months: float = 0.0
    sigma_m: float = 100.0

    def label(self) -> str:
        """Short text, e.g. ``sqrt, recent 0.25, prior 2 months at 250 m``."""
        base = f"{self.transform}, recent {self.recent_share:g}"
        if self.prior_months <= 0:
            return base + ", no prior"
        return base + f", prior {self.prior_months:g} months at {self.sigma_m:g} m"


def ensemble_grid(cfg: ForecastConfig) -> list[EnsembleParams]:
    """Every ensemble setting searched; the first is plain long-run counts (raw, no recent, no prior)."""
    out = []
    transforms = sorted(set(cfg.ensemble_transforms), key=TRANSFORMS.index)  # raw first
    for tr in transforms:
        for b in sorted(set(cfg.ensemble_recent_shares) | {0.0}):
            out.append(EnsembleParams(tr, float(b), 0.0, float(cfg.ensemble_sigma_m[0])))
            for a in sorted(a for a in set(cfg.ensemble_prior_months) if a > 0):
                out.extend(EnsembleParams(tr, float(b), float(a), float(s)) for s in cfg.ensemble_sigma_m)
    return out


def _ensemble_scores(
    history: History, k: int, grid: Sequence[EnsembleParams], recent_months: int
) -> Iterator[np.ndarray]:
    """Ensemble score (per month, in transform units) at origin ``k`` for each setting, in order.

    score = (k * own + a * prior) / (k + a), own = (1 - b) * long-run + b * recent rate, prior
    = the same blend Gaussian-smoothed (read from the history's smoothed cumulative sums).
    """
    rates: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for p in grid:
        if p.transform not in rates:
            rates[p.transform] = (history.window(k, None, p.transform), history.window(k, recent_months, p.transform))
        lr, rec = rates[p.transform]
        b = p.recent_share
        own = lr if b == 0 else (1 - b) * lr + b * rec
        if p.prior_months <= 0:
            yield own
            continue
        prior = history.smoothed(k, p.sigma_m, None, p.transform)
        if b > 0:
            prior = (1 - b) * prior + b * history.smoothed(k, p.sigma_m, recent_months, p.transform)
        yield (k * own + p.prior_months * prior) / (k + p.prior_months)


class EnsembleSearch:
    """Chooses the ensemble setting of a fold on inner rolling folds of its training months.

    For an outer fold trained on months ``1..k`` with test window ``h``, the inner folds train
    on ``1..j`` and test on ``j+1..j+h'`` with ``h' = min(h, k - 1)`` and ``j = 1..k - h'``: all
    inside the training months. Each inner fold's PEI (at ``cfg.select_coverage``) of every
    setting is computed once and reused by every outer fold containing it. The setting with the
    best mean PEI wins; ties go to the simplest (the grid order of :func:`ensemble_grid`, plain
    counts first).

    Parameters
    ----------
    history
        The :class:`~hotspots.evaluate.forecast.features.History` of the incidents.
    cfg
        The settings (search grid, recent window, selection coverage).
    """

    def __init__(self, history: History, cfg: ForecastConfig) -> None:
        self.history = history
        self.cfg = cfg
        self.grid = ensemble_grid(cfg)
        self._inner: dict[tuple[int, int], np.ndarray] = {}

    def inner_pei(self, j: int, h: int) -> np.ndarray:
        """PEI of every setting on the inner fold trained on ``1..j``, tested on ``j+1..j+h``."""
        key = (j, h)
        if key not in self._inner:
            test = h * self.history.window(j + h, h)
            mh = most_hits(test, self.cfg.select_coverage)
            if mh <= 0:
                self._inner[key] = np.full(len(self.grid), np.nan)
            else:
                self._inner[key] = np.array(
                    [
                        pei_fast(s, test, self.cfg.select_coverage, mh)
                        for s in _ensemble_scores(self.history, j, self.grid, self.cfg.recent_months)
                    ]
                )
        return self._inner[key]

    def choose(self, k: int, h: int) -> tuple[EnsembleParams, dict[str, Any]]:
        """The setting for the outer fold trained on ``1..k`` for a ``h``-month window, and why."""
        hin = min(h, k - 1)
        if hin < 1:
            return self.grid[0], {"inner_folds": 0, "inner_pei": None}
        table = np.vstack([self.inner_pei(j, hin) for j in range(1, k - hin + 1)])
        ok = ~np.isnan(table).all(axis=1)
        if not ok.any():
            return self.grid[0], {"inner_folds": 0, "inner_pei": None}
        mean = np.nanmean(table[ok], axis=0)
        best = int(np.argmax(mean))  # first maximum: the simplest setting wins ties
        return self.grid[best], {
            "inner_folds": int(ok.sum()),
            "inner_horizon": hin,
            "inner_pei": float(mean[best]),
            "inner_pei_counts": float(mean[0]),
        }

    def calibration(self, params: EnsembleParams, k: int, hin: int, folds: int = 3) -> ScoreCalibration | None:
        """Incidents per score: isotonic regression on the latest ``folds`` inner folds inside ``1..k``.

        The rows are aggregated by distinct score first (mean target, weighted by the number of
        cells), which is the fit scikit-learn makes of tied scores anyway, only faster.
        """
        from sklearn.isotonic import IsotonicRegression

        origins = list(range(max(1, k - hin - folds + 1), k - hin + 1))
        xs, ys = [], []
        for j in origins:
            xs.append(next(_ensemble_scores(self.history, j, [params], self.cfg.recent_months)))
            ys.append(self.history.window(j + hin, hin))
        x, y = np.concatenate(xs), np.concatenate(ys)
        if not y.sum() > 0 or np.ptp(x) <= 0:
            return None
        ux, inv = np.unique(x, return_inverse=True)
        w = np.bincount(inv, minlength=len(ux)).astype(float)
        uy = np.bincount(inv, weights=y, minlength=len(ux)) / w
        iso = IsotonicRegression(increasing=True, out_of_bounds="clip").fit(ux, uy, sample_weight=w)
        if len(iso.X_thresholds_) < 2:  # noqa: PLR2004 (a map needs two knots)
            return None
        return ScoreCalibration(
            np.asarray(iso.X_thresholds_, dtype=float), np.asarray(iso.y_thresholds_, dtype=float), tuple(origins)
        )


@dataclass(frozen=True)
class ScoreCalibration:
    """A monotone map from ensemble score to incidents per month (isotonic regression knots).

    Attributes
    ----------
    x, y
        Knots: score and incidents per month, non-decreasing; linear between knots, flat beyond.
    origins
        Training months of the inner folds it was fitted on.
    """

    x: np.ndarray
    y: np.ndarray
    origins: tuple[int, ...] = ()

    def __call__(self, score: np.ndarray) -> np.ndarray:
        """Incidents per month for each score, strictly in the order of the scores.

        Cells whose scores differ but fall on one flat stretch of the map are kept apart by at
        most 1e-6 incidents (in proportion to their score), so ranking by the forecast ranks by
        the score.
        """
        s = np.asarray(score, dtype=float)
        if len(s) == 0:
            return s.copy()
        lo, span = float(s.min()), float(np.ptp(s))
        tie_break = (s - lo) / span if span > 0 else np.zeros(len(s))
        return np.interp(s, self.x, self.y) + 1e-6 * tie_break


def ensemble_forecast(
    history: History,
    k: int,
    h: int,
    params: EnsembleParams,
    *,
    recent_months: int = 3,
    calibration: ScoreCalibration | None = None,
) -> np.ndarray:
    """Expected incidents per cell over the next ``h`` months from the ensemble at origin ``k``.

    With ``calibration`` (an isotonic map fitted on inner folds, :meth:`EnsembleSearch.calibration`)
    the forecast is ``h * calibration(score)``: it corrects the regression to the mean of busy cells
    and maps square-root scores back to incidents. Without it, a ``"raw"`` score is a rate per month
    (times ``h``) and a ``"sqrt"`` score is squared and scaled so that its total equals the long-run
    total rate. The ranking of the cells is the score's in every case.
    """
    score = next(_ensemble_scores(history, k, [params], recent_months))
    if calibration is not None:
        return h * calibration(score)
    if params.transform == "raw":
        return h * score
    sq = score**2
    tot = sq.sum()
    return h * sq * (history.window(k).sum() / tot) if tot > 0 else np.zeros(len(score))
