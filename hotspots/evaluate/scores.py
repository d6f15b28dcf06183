"""What each backtest method scores for a fold: counts, last period, KDE, Gi*, composite, place score, random.

:class:`FoldScorer` computes every method's cell scores from a fold's training months only
(no future month is ever seen), caching what several folds share (a KDE surface per month
with a fixed bandwidth; each training set's scores). :class:`PlaceScorer` is the
``place_score`` method: the rank stage's LSOA composite of the fold, on cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.evaluate.folds import Fold

if TYPE_CHECKING:
    from hotspots.rank.config import RankConfig


def _pct_rank(x: np.ndarray) -> np.ndarray:
    """Percentile rank in (0, 1], ties share their average rank (the place ranking's scaling)."""
    from hotspots.rank.scale import scale

    return scale(np.nan_to_num(np.asarray(x, dtype=float), nan=-np.inf), "percentile")


def cells_to_units(grid: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> np.ndarray:
    """Row position in ``units`` of the polygon holding each cell's representative point.

    Cells whose point falls in no polygon (generalised boundaries) take the nearest one;
    the result is ``-1`` only when ``units`` is empty.
    """
    pts = gpd.GeoSeries(grid.geometry.representative_point().values, crs=grid.crs)
    poly = gpd.GeoSeries(units.geometry.values, crs=units.crs)
    out = np.full(len(grid), -1, dtype=np.int64)
    if len(poly) == 0:
        return out
    cell_i, unit_i = poly.sindex.query(pts.values, predicate="within")
    first = pd.Series(unit_i).groupby(cell_i).first()
    out[first.index.to_numpy()] = first.to_numpy()
    miss = np.flatnonzero(out < 0)
    if len(miss):
        near_i, unit_j = poly.sindex.nearest(pts.values[miss], return_all=False)
        out[miss[near_i]] = unit_j
    return out


def rank_config_or_default(rank_config: RankConfig | None) -> RankConfig:
    """``rank_config``, or the ``[rank]`` defaults when None."""
    from hotspots.rank.stage import RankConfig

    return rank_config if rank_config is not None else RankConfig()


class PlaceScorer:
    """The ``place_score`` method: the rank stage's LSOA composite of one fold, on cells."""

    def __init__(self, lsoa: gpd.GeoDataFrame, venues: Any, deprivation: Any, rank_config: Any, grid: Any) -> None:
        from hotspots.rank.stage import check_weights

        self.cfg = rank_config_or_default(rank_config)
        self.lsoa, self.venues, self.deprivation, self.grid = lsoa, venues, deprivation, grid
        w = check_weights(dict(self.cfg.weights), where="[rank] weights", error=InputError)
        self.weights = {k: v for k, v in w.items() if v > 0}
        self.needs_kde = "kde" in self.weights
        self.cell_unit = cells_to_units(grid, lsoa)

    def scores(self, train: gpd.GeoDataFrame, *, kde: np.ndarray | None) -> np.ndarray:
        """Each cell's place score from the fold's training incidents (and KDE surface)."""
        import warnings

        from hotspots.detect.inference import hotspot_gistar
        from hotspots.errors import HotspotsWarning
        from hotspots.rank.stage import COMPONENTS, composite_score, place_components
        from hotspots.units import lsoa_units

        cfg = self.cfg
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HotspotsWarning)
            det = None
            if "gi_z" in self.weights and len(train):
                det = hotspot_gistar(lsoa_units(train, self.lsoa), value=C.HARM, marks=train[C.HARM])
            comps = place_components(
                self.lsoa,
                train,
                venues=self.venues,
                deprivation=self.deprivation,
                detect_lsoa=det,
                grid=self.grid.assign(kde=kde) if kde is not None else None,
                venue_radius=cfg.venue_radius,
                deprivation_measure=cfg.deprivation,
                kde_aggregate=cfg.kde_aggregate,
            )
        w = {k: v for k, v in self.weights.items() if comps[COMPONENTS[k]].notna().any()}
        if not w:
            raise InputError("place_score: none of the [rank] weighted components has data; check [rank] weights.")
        score = composite_score(comps, weights=w, scaling=cfg.scaling, combine=cfg.combine).to_numpy(dtype=float)
        score = np.where(np.isnan(score), -np.inf, score)  # missing data ranks last here, never first
        out = np.full(len(self.grid), -np.inf)
        ok = self.cell_unit >= 0
        out[ok] = score[self.cell_unit[ok]]
        return out


class FoldScorer:
    """Every method's cell scores for a fold, from its training months only.

    Parameters
    ----------
    incidents
        The incidents inside the grid (canonical frame).
    grid
        The evaluation grid.
    months
        The backtest's months (columns of ``matrix``).
    matrix
        Incidents (or harm) per cell and month, ``(cells, months)``.
    methods
        The methods to score.
    """

    def __init__(
        self,
        incidents: gpd.GeoDataFrame,
        grid: gpd.GeoDataFrame,
        months: Sequence[str],
        matrix: np.ndarray,
        *,
        methods: Sequence[str],
        kde_weights: str,
        bandwidth: float | None,
        kernel: str,
        composite_weights: dict[str, float],
        place: PlaceScorer | None,
    ) -> None:
        self.incidents, self.grid, self.matrix = incidents, grid, matrix
        self.months = list(months)
        self.col = {m: j for j, m in enumerate(self.months)}
        self.inc_month = pd.Index(self.months).get_indexer(incidents[C.MONTH].astype(object))
        self.methods = list(methods)
        self.kde_weights, self.bandwidth, self.kernel = kde_weights, bandwidth, kernel
        self.composite_weights = composite_weights
        self.place = place
        self.need_kde = any(m in ("kde", "composite") for m in methods) or (place is not None and place.needs_kde)
        self.W = None
        if any(m in ("gistar", "composite") for m in methods):
            from hotspots.detect.gistar import grid_weights

            self.W = grid_weights(grid)
        self.bandwidths: dict[str, Any] = {}
        self._monthly_kde: np.ndarray | None = None
        self._cache: dict[tuple[str, ...], dict[str, np.ndarray]] = {}

    def total(self, months: Sequence[str]) -> np.ndarray:
        """Incidents (or harm) per cell over ``months``."""
        return self.matrix[:, [self.col[m] for m in months]].sum(axis=1)

    def kde(self, train: Sequence[str]) -> np.ndarray:
        """KDE of the training months' incidents.

        With a fixed bandwidth the KDE is linear in the points, so it is the sum of one
        surface per month (each month estimated once); with an automatic bandwidth each
        fold chooses its own from its training incidents.
        """
        from hotspots.detect.kde import hotspot_kde

        cols = [self.col[m] for m in train]
        if self.bandwidth is not None:
            if self._monthly_kde is None:
                surf = np.zeros((len(self.grid), len(self.months)))
                for j in range(len(self.months)):
                    sel = np.flatnonzero(self.inc_month == j)
                    if len(sel):
                        surf[:, j] = hotspot_kde(
                            self.incidents.iloc[sel],
                            self.grid,
                            bandwidth=self.bandwidth,
                            kernel=self.kernel,
                            weights=self.kde_weights,
                        ).to_numpy()
                self._monthly_kde = surf
            self.bandwidths[train[-1]] = float(self.bandwidth)
            return self._monthly_kde[:, cols].sum(axis=1)
        sel = np.flatnonzero(np.isin(self.inc_month, cols))
        if len(sel) == 0:
            return np.zeros(len(self.grid))
        dens = hotspot_kde(
            self.incidents.iloc[sel], self.grid, bandwidth=None, kernel=self.kernel, weights=self.kde_weights
        )
        self.bandwidths[train[-1]] = dens.attrs.get("bandwidth")
        return dens.to_numpy(dtype=float)

    def _train_scores(self, train: Sequence[str]) -> dict[str, np.ndarray]:
        key = tuple(train)
        base = self._cache.get(key)
        if base is not None:
            return base
        base = {"counts": self.total(train)}
        if self.need_kde:
            base["kde"] = self.kde(train)
        if self.W is not None:
            from hotspots.detect.gistar import gistar

            z, _ = gistar(base["counts"], self.W)
            base["gistar"] = np.asarray(z, dtype=float)
        if self.place is not None:
            train_inc = self.incidents[np.isin(self.inc_month, [self.col[m] for m in train])]
            base["place_score"] = self.place.scores(train_inc, kde=base.get("kde") if self.place.needs_kde else None)
        if "composite" in self.methods:
            tot = sum(self.composite_weights.values())
            comp = np.zeros(len(self.grid))
            for name, wt in self.composite_weights.items():
                if wt > 0:
                    comp += wt / tot * _pct_rank(base[name])
            base["composite"] = comp
        self._cache[key] = base
        return base

    def scores(self, fold: Fold) -> dict[str, np.ndarray]:
        """Every method's scores for ``fold``."""
        out = dict(self._train_scores(fold.train))
        out["last_period"] = self.total(fold.last)
        out["random"] = np.zeros(len(self.grid))
        return out


__all__ = ["FoldScorer", "PlaceScorer", "cells_to_units", "rank_config_or_default"]
