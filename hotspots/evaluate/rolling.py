"""Concentration of violence and honest evaluation of hotspot predictions.

Two families of measures:

* **Concentration** (how unequal violence is across places): :func:`gini`,
  :func:`generalised_gini` (Bernasco & Steenbeek 2017, for sparse counts where places
  outnumber crimes), :func:`lorenz` (curve data) and :func:`share_holding` (the smallest
  share of places holding half of the violence).
* **Hit-rate metrics** of a prediction (a score per cell) against what happened next:
  :func:`hit_rate`, :func:`pai`, :func:`pei_star`, :func:`rri`, at a given share of the
  area, and :func:`backtest`, a rolling-origin backtest of several methods on monthly
  data (train on months up to *k*, test on the next month or quarter).

The hit-rate functions live in :mod:`hotspots.evaluate.measures` and the concentration
measures in :mod:`hotspots.rank.concentration`. Every function is pure (arrays or frames in,
numbers or frames out). ``hotspots evaluate`` (:mod:`hotspots.cli`) wraps :func:`evaluate_study`
and writes ``OUT/evaluation.json``.

Selecting "the top x % of the area" from scores with ties (most cells have no crime) is
done deterministically by *expected value*: cells scoring above the cut-off are selected
whole, and the cells tied at the cut-off share the remaining selection equally (the
average of every random tie-break). A constant score therefore selects every cell with
weight x and scores exactly the uniform-random expectation: hit rate = x, PAI = 1.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.evaluate.config import COVERAGES, DEFAULT_COMPOSITE_WEIGHTS, METHODS, EvaluateConfig, _check_options
from hotspots.evaluate.measures import (
    CELLS,
    HIT_RATE,
    HITS,
    MAX_HITS,
    PAI,
    PEI_STAR,
    RRI,
    TEST_TOTAL,
    TRAIN_TOTAL,
    _coverage_metrics,
    _ranked,
    _scores_array,
)
from hotspots.io.write import jsonable
from hotspots.rank.concentration import concentration

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------
# output columns
# --------------------------------------------------------------------------------------

HORIZON = "horizon"  # test window length in months (1 = next month, 3 = next quarter)
FOLD = "fold"  # 1-based fold number within the horizon
TRAIN_START = "train_start"  # first training month, YYYY-MM
TRAIN_END = "train_end"  # last training month, YYYY-MM
TEST_START = "test_start"  # first test month, YYYY-MM
TEST_END = "test_end"  # last test month, YYYY-MM
METHOD = "method"  # prediction method (see METHODS)
COVERAGE = "coverage"  # share of the grid's cells selected as hotspots (0-1)
BACKTEST_COLUMNS = [
    HORIZON,
    FOLD,
    TRAIN_START,
    TRAIN_END,
    TEST_START,
    TEST_END,
    METHOD,
    COVERAGE,
    CELLS,
    TRAIN_TOTAL,
    TEST_TOTAL,
    HITS,
    MAX_HITS,
    HIT_RATE,
    PAI,
    PEI_STAR,
    RRI,
]
"""Columns of :func:`backtest`: one row per horizon x fold x method x coverage."""

FOLDS = "folds"  # number of folds averaged
SUMMARY_COLUMNS = [HORIZON, METHOD, COVERAGE, FOLDS, HIT_RATE, PAI, PEI_STAR, RRI]
"""Columns of :func:`summarise_backtest`: fold means per horizon x method x coverage."""

GRID_METHODS = tuple(m for m in METHODS if m != "place_score")
"""The methods that need nothing but incidents and a grid (the default of :func:`backtest`)."""

DEFINITIONS: dict[str, str] = {
    "coverage": "share of the grid's cells selected as predicted hotspots (the cells with the highest "
    "scores; cells tied at the cut-off share the remaining selection equally, i.e. the expected "
    "value of a random tie-break)",
    "hit_rate": "test incidents in the selected cells / all test incidents in the area",
    "pai": "Predictive Accuracy Index (Chainey, Tompson & Uhlig 2008): hit rate / area share, "
    "with area share = selected cells / all cells (= coverage); 1 = no better than random",
    "pei_star": "PEI* (predictive efficiency): hits / the most test incidents any selection of the "
    "same number of cells could have held (the top cells of the test period itself); 1 = perfect "
    "(Hunt 2016 PEI; cf. White, Hunt & Green 2023 and Joshi et al. 2021)",
    "rri": "Recapture Rate Index (Levine 2008): (test incidents in selection / test total) / "
    "(training incidents in selection / training total); about 1 = the selected cells keep "
    "their share of violence, < 1 = their share falls in the test period, NaN when the "
    "selection held no training incidents",
    "folds": "rolling origin: train on every month up to k (expanding window), test on the next "
    "`horizon` months; k runs from min_train_months to the last month that leaves a full test window",
}
"""Plain-language definitions printed by ``hotspots evaluate`` and written to evaluation.json."""

METHOD_DEFINITIONS: dict[str, str] = {
    "counts": "last period's counts, long run: incidents per cell over all training months",
    "last_period": "incidents per cell in the last training period as long as the test window "
    "(last month for next-month tests, last quarter for next-quarter tests)",
    "kde": "kernel density of the training incidents at each cell (hotspots.detect.kde.hotspot_kde; "
    "bandwidth from the training incidents of each fold unless [evaluate] kde_bandwidth is set)",
    "gistar": "Gi* z-score of the training counts per cell (queen neighbours plus the cell itself)",
    "composite": "weighted mean of the percentile ranks of counts, kde and gistar "
    "([evaluate] composite_weights): the place-ranking composite recipe applied to grid cells "
    "with the grid's own components",
    "place_score": "the Board's LSOA priority score (hotspots.rank.stage composite of harm rate and count, Gi*, KDE, "
    "NTE venues, deprivation, youth need with the [rank] weights), recomputed in every fold from the training "
    "incidents only; each cell takes its LSOA's score, so cells of one LSOA tie",
    "random": "naive baseline: uniform random selection, scored by its expected value "
    "(hit rate = coverage, PAI = 1 exactly; no seed needed)",
}
"""What each method in :data:`METHODS` scores."""


# --------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------
# backtest
# --------------------------------------------------------------------------------------


def _month_range(first: str, last: str) -> list[str]:
    return [str(p) for p in pd.period_range(first, last, freq="M")]


def month_matrix(
    incidents: gpd.GeoDataFrame, grid: gpd.GeoDataFrame, *, months: Sequence[str], weights: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Incidents per grid cell and month.

    Returns
    -------
    (matrix, cell)
        ``matrix`` (cells x months) of counts (or harm sums with ``weights="harm"``),
        and each incident's row position in ``grid`` (-1 outside the grid or outside
        ``months``).
    """
    from hotspots.units import assign_cells

    pos = assign_cells(incidents, grid)
    col = pd.Index(list(months)).get_indexer(incidents[C.MONTH].astype(object))
    w = np.ones(len(incidents)) if weights in (None, "count") else incidents[C.HARM].to_numpy(dtype=float)
    ok = (pos >= 0) & (col >= 0)
    m = np.zeros((len(grid), len(months)))
    np.add.at(m, (pos[ok], col[ok]), w[ok])
    pos = np.where(ok, pos, -1)
    return m, pos


def _pct_rank(x: np.ndarray) -> np.ndarray:
    """Percentile rank in (0, 1], ties share their average rank (the place ranking's scaling)."""
    from hotspots.rank.scale import scale

    return scale(np.nan_to_num(np.asarray(x, dtype=float), nan=-np.inf), "percentile")


def _folds(n_months: int, horizon: int, min_train: int) -> list[int]:
    """Training lengths k of the rolling-origin folds (train months[:k], test months[k:k+h])."""
    return list(range(min_train, n_months - horizon + 1))


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


def _rank_config(rank_config: Any) -> Any:
    from hotspots.rank.stage import RankConfig

    return rank_config if rank_config is not None else RankConfig()


class _PlaceScorer:
    """The ``place_score`` method: the rank stage's LSOA composite of one fold, on cells."""

    def __init__(self, lsoa: gpd.GeoDataFrame, venues: Any, deprivation: Any, rank_config: Any, grid: Any) -> None:
        from hotspots.rank.stage import check_weights

        self.cfg = _rank_config(rank_config)
        self.lsoa, self.venues, self.deprivation, self.grid = lsoa, venues, deprivation, grid
        w = check_weights(dict(self.cfg.weights), where="[rank] weights", error=InputError)
        self.weights = {k: v for k, v in w.items() if v > 0}
        self.needs_kde = "kde" in self.weights
        self.cell_unit = cells_to_units(grid, lsoa)

    def scores(self, train: gpd.GeoDataFrame, *, kde: np.ndarray | None) -> np.ndarray:
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


def backtest(
    incidents: gpd.GeoDataFrame,
    grid: gpd.GeoDataFrame,
    *,
    months: Sequence[str] | None = None,
    methods: Sequence[str] = GRID_METHODS,
    coverages: Sequence[float] = COVERAGES,
    horizons: Sequence[int] = (1, 3),
    min_train_months: int = 3,
    weights: str | None = "count",
    bandwidth: float | None = None,
    kernel: str = "quartic",
    composite_weights: dict[str, float] | None = None,
    lsoa: gpd.GeoDataFrame | None = None,
    venues: gpd.GeoDataFrame | None = None,
    deprivation: pd.DataFrame | None = None,
    rank_config: Any = None,
) -> pd.DataFrame:
    """Rolling-origin backtest of hotspot prediction methods on monthly data.

    For each horizon h and each k from ``min_train_months`` to ``len(months) - h``, every
    method scores the grid's cells from the incidents of months[:k] (expanding window)
    and is judged on the incidents of months[k:k+h] at each coverage.

    Parameters
    ----------
    incidents
        Canonical incident frame (``month`` YYYY-MM, point geometry) in the grid's CRS.
    grid
        Grid from :func:`hotspots.units.make_grid` (the evaluation area).
    months
        The months, in order (default every month from the first to the last incident,
        months without incidents included). Incidents in other months are ignored.
    methods
        Methods to compare (see :data:`METHODS`).
    coverages
        Shares of the cells selected as hotspots.
    horizons
        Test window lengths in months.
    min_train_months
        Months in the first training window.
    weights
        ``"count"`` or ``"harm"`` (harm-weighted counts for training, testing and KDE).
    bandwidth, kernel
        Passed to :func:`hotspots.detect.kde.hotspot_kde` (``bandwidth=None``: chosen there,
        from each fold's training incidents only).
    composite_weights
        Weights of ``counts``, ``kde``, ``gistar`` in the ``composite`` method.
    lsoa, venues, deprivation
        ``study.lsoa``, ``study.venues``, ``study.deprivation``: the inputs of the
        ``place_score`` method (only ``lsoa`` is required for it).
    rank_config
        A :class:`hotspots.rank.stage.RankConfig` for ``place_score`` (default ``[rank]`` defaults).

    Returns
    -------
    pandas.DataFrame
        :data:`BACKTEST_COLUMNS`, one row per horizon x fold x method x coverage;
        ``attrs["bandwidths"]`` lists the KDE bandwidth of each fold when reported.

    Raises
    ------
    InputError
        Unknown method, bad coverage/horizon, incidents without a ``month`` column,
        ``place_score`` without ``lsoa``, or too few months for a single fold.
    """
    composite_weights = dict(DEFAULT_COMPOSITE_WEIGHTS if composite_weights is None else composite_weights)
    _check_options(
        methods=methods,
        coverages=coverages,
        horizons=horizons,
        min_train_months=min_train_months,
        weights=weights,
        composite_weights=composite_weights,
    )
    if not isinstance(incidents, gpd.GeoDataFrame):
        raise InputError(f"incidents must be a GeoDataFrame, got {type(incidents).__name__}.")
    if C.MONTH not in incidents.columns:
        raise InputError("incidents have no 'month' column (YYYY-MM); the backtest needs monthly data.")
    if "place_score" in methods and lsoa is None:
        raise InputError(
            "method 'place_score' needs the LSOAs: pass lsoa=study.lsoa (and venues=, deprivation=), "
            "or leave 'place_score' out of methods."
        )
    if weights == "harm" and C.HARM not in incidents.columns:
        raise InputError("weights='harm' but incidents have no 'harm' column; use weights='count'.")
    if months is None:
        present = sorted(incidents[C.MONTH].dropna().astype(str).unique())
        if not present:
            raise InputError("incidents have no months; the backtest needs monthly data.")
        months = _month_range(present[0], present[-1])
    months = list(months)
    need = min_train_months + min(horizons)
    if len(months) < need:
        raise InputError(
            f"too few months for a backtest: {len(months)} month(s) ({months[0] if months else '-'} to "
            f"{months[-1] if months else '-'}), but min_train_months={min_train_months} plus a test window of "
            f"{min(horizons)} needs at least {need}. Use a source with more months or lower min_train_months."
        )

    mat, pos = month_matrix(incidents, grid, months=months, weights=weights)
    cum = np.cumsum(mat, axis=1)  # cum[:, k-1] = counts over months[:k]
    ok = pos >= 0
    inc_in = incidents.iloc[np.flatnonzero(ok)]
    inc_month = pd.Index(months).get_indexer(inc_in[C.MONTH].astype(object))

    need_gi = any(m in ("gistar", "composite") for m in methods)
    need_kde = any(m in ("kde", "composite") for m in methods)
    place = _PlaceScorer(lsoa, venues, deprivation, rank_config, grid) if "place_score" in methods else None
    W = None
    if need_gi:
        from hotspots.detect.gistar import grid_weights

        W = grid_weights(grid)

    rows: list[dict[str, Any]] = []
    bandwidths: dict[int, Any] = {}
    cache: dict[int, dict[str, np.ndarray]] = {}

    kde_w = "count" if weights in (None, "count") else C.HARM
    monthly_kde: np.ndarray | None = None

    def kde_of(k: int) -> np.ndarray:
        """KDE of months[:k].

        With a fixed bandwidth the KDE is linear in the points, so it is the sum of one
        surface per month (each month estimated once); with an automatic bandwidth each
        fold chooses its own from its training incidents.
        """
        nonlocal monthly_kde
        from hotspots.detect.kde import hotspot_kde

        if bandwidth is not None:
            if monthly_kde is None:
                surf = np.zeros((len(grid), len(months)))
                for j in range(len(months)):
                    sel = np.flatnonzero(inc_month == j)
                    if len(sel):
                        surf[:, j] = hotspot_kde(
                            inc_in.iloc[sel], grid, bandwidth=bandwidth, kernel=kernel, weights=kde_w
                        ).to_numpy()
                monthly_kde = np.cumsum(surf, axis=1)
            bandwidths[k] = float(bandwidth)
            return monthly_kde[:, k - 1]
        sel = np.flatnonzero(inc_month < k)
        if len(sel) == 0:
            return np.zeros(len(grid))
        dens = hotspot_kde(inc_in.iloc[sel], grid, bandwidth=None, kernel=kernel, weights=kde_w)
        bandwidths[k] = dens.attrs.get("bandwidth")
        return dens.to_numpy(dtype=float)

    def fold_scores(k: int, h: int) -> dict[str, np.ndarray]:
        base = cache.get(k)
        if base is None:
            base = {"counts": cum[:, k - 1]}
            if need_kde:
                base["kde"] = kde_of(k)
            if need_gi:
                from hotspots.detect.gistar import gistar

                z, _ = gistar(base["counts"], W)
                base["gistar"] = np.asarray(z, dtype=float)
            if place is not None:
                train_inc = incidents[pd.Index(months[:k]).get_indexer(incidents[C.MONTH].astype(object)) >= 0]
                base["place_score"] = place.scores(train_inc, kde=kde_of(k) if place.needs_kde else None)
            if "composite" in methods:
                tot = sum(composite_weights.values())
                comp = np.zeros(len(grid))
                for comp_name, wt in composite_weights.items():
                    if wt > 0:
                        comp += wt / tot * _pct_rank(base[comp_name])
                base["composite"] = comp
            cache[k] = base
        out = dict(base)
        out["last_period"] = cum[:, k - 1] - (cum[:, k - 1 - h] if k - h >= 1 else 0.0)
        out["random"] = np.zeros(len(grid))
        return out

    for h in horizons:
        ks = _folds(len(months), h, min_train_months)
        for fold, k in enumerate(ks, start=1):
            train = cum[:, k - 1]
            test = cum[:, k + h - 1] - cum[:, k - 1]
            scores = fold_scores(k, h)
            ranked = _ranked(test)
            covs = [float(c) for c in coverages]
            for method in methods:
                s = _scores_array(scores[method])
                for cov, metrics in zip(covs, _coverage_metrics(s, test, train, covs, ranked=ranked), strict=False):
                    rows.append(
                        {
                            HORIZON: h,
                            FOLD: fold,
                            TRAIN_START: months[0],
                            TRAIN_END: months[k - 1],
                            TEST_START: months[k],
                            TEST_END: months[k + h - 1],
                            METHOD: method,
                            COVERAGE: cov,
                            **metrics,
                        }
                    )
    out = pd.DataFrame(rows, columns=BACKTEST_COLUMNS)
    out.attrs["bandwidths"] = {months[k - 1]: v for k, v in bandwidths.items()}
    return out


def summarise_backtest(results: pd.DataFrame) -> pd.DataFrame:
    """Mean of each metric over the folds, per horizon x method x coverage.

    Returns
    -------
    pandas.DataFrame
        :data:`SUMMARY_COLUMNS`, methods in the order they were run.
    """
    missing = [c for c in BACKTEST_COLUMNS if c not in results.columns]
    if missing:
        raise InputError(f"results lack columns {missing}; pass the frame returned by backtest().")
    order = {m: i for i, m in enumerate(dict.fromkeys(results[METHOD]))}
    g = results.groupby([HORIZON, METHOD, COVERAGE], sort=False)
    s = g[[HIT_RATE, PAI, PEI_STAR, RRI]].mean()
    s[FOLDS] = g[FOLD].nunique()
    s = s.reset_index()
    s["_o"] = s[METHOD].map(order)
    s = s.sort_values([HORIZON, "_o", COVERAGE], kind="stable").drop(columns="_o").reset_index(drop=True)
    return s[SUMMARY_COLUMNS]


def format_table(summary: pd.DataFrame) -> str:
    """The summary as a text table: one block per horizon, methods x coverages."""
    lines = []
    covs = sorted(summary[COVERAGE].unique())
    for h, block in summary.groupby(HORIZON, sort=True):
        folds = int(block[FOLDS].max())
        label = "next month" if h == 1 else ("next quarter" if h == 3 else f"next {h} months")
        lines.append(f"test window: {label} (horizon {h}), mean over {folds} folds")
        head = f"{'method':<12}" + "".join(f" | {f'{c:.0%} of area':^31}" for c in covs)
        sub = f"{'':<12}" + "".join(f" | {'hit%':>6} {'PAI':>6} {'PEI*':>6} {'RRI':>6}" + " " * 3 for _ in covs)
        lines += [head, sub, "-" * len(sub)]
        for method, mb in block.groupby(METHOD, sort=False):
            cells = []
            for c in covs:
                r = mb[mb[COVERAGE] == c]
                if len(r) == 0:
                    cells.append(" " * 31)
                    continue
                r = r.iloc[0]
                cells.append(f" | {r[HIT_RATE] * 100:6.1f} {r[PAI]:6.2f} {r[PEI_STAR]:6.3f} {_fmt(r[RRI]):>6}   ")
            lines.append(f"{method:<12}" + "".join(cells))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _fmt(v: float) -> str:
    return "n/a" if not np.isfinite(v) else f"{v:.2f}"


# --------------------------------------------------------------------------------------
# the study-level evaluation (what `hotspots evaluate` runs)
# --------------------------------------------------------------------------------------


def choose_source(incidents: pd.DataFrame, source: str | None = None) -> str:
    """The source to evaluate: ``source`` if given, else the one with the most months.

    Ties go to the source with the most incidents, then by name.
    """
    if C.SOURCE not in incidents.columns or C.MONTH not in incidents.columns:
        raise InputError(
            "incidents need 'source' and 'month' columns; load them with hotspots.prepare.study.load_study."
        )
    known = sorted(incidents[C.SOURCE].dropna().astype(str).unique())
    if source is not None:
        if source not in known:
            raise InputError(f"no crime source named {source!r} among the incidents; choose from {', '.join(known)}.")
        return source
    if not known:
        raise InputError("there are no incidents to evaluate; check the [[crime]] sources with `hotspots check`.")
    stats = incidents.groupby(C.SOURCE)[C.MONTH].agg(["nunique", "size"])
    stats = stats.reset_index().sort_values(["nunique", "size", C.SOURCE], ascending=[False, False, True])
    return str(stats[C.SOURCE].iloc[0])


def evaluation_area(
    incidents: pd.DataFrame, lsoa: gpd.GeoDataFrame, *, area: str = "source_districts", min_district_share: float = 0.01
) -> tuple[Any, list[str]]:
    """The area a source is judged on: its districts (or the whole study area).

    With ``area="source_districts"`` the area is the union of the LSOAs of every district
    holding at least ``min_district_share`` of the incidents (so City-only data are
    judged on the City, not on a county of empty cells that would inflate every PAI).

    Returns
    -------
    (geometry, districts)
        The area (shapely, EPSG:27700) and the names of the districts in it.
    """
    if area == "study" or C.DISTRICT not in lsoa.columns:
        return shapely.union_all(lsoa.geometry.values), sorted(
            lsoa.get(C.DISTRICT, pd.Series(dtype=str)).dropna().unique()
        )
    district = incidents[C.LSOA_CODE].map(lsoa.set_index(C.LSOA_CODE)[C.DISTRICT])
    share = district.value_counts(normalize=True)
    keep = sorted(share[share >= min_district_share].index.astype(str))
    if not keep:
        raise InputError(
            f"no district holds {min_district_share:.0%} of the incidents; lower [evaluate] min_district_share "
            f"or set area = 'study'."
        )
    geom = shapely.union_all(lsoa.geometry[lsoa[C.DISTRICT].isin(keep)].values)
    return geom, keep


def evaluate_study(
    study: Any,
    cfg: EvaluateConfig | None = None,
    *,
    source: str | None = None,
    cell_size: float | None = None,
    rank_config: Any = None,
) -> dict[str, Any]:
    """Backtest the hotspot methods on one source of a loaded study.

    Parameters
    ----------
    study
        A :class:`hotspots.prepare.study.Study`.
    cfg
        The ``[evaluate]`` settings (defaults when None).
    source
        Overrides ``cfg.source``.
    cell_size
        Grid cell size in metres when ``cfg.cell_size`` is not set (default 100).
    rank_config
        The ``[rank]`` settings used by the ``place_score`` method (defaults when None).

    Returns
    -------
    dict
        ``summary`` and ``results`` (DataFrames) and ``report``, a JSON-ready dict with
        the source, area, grid, folds, per-fold and mean metrics and the definitions.
    """
    from hotspots.units import make_grid

    cfg = cfg or EvaluateConfig()
    src = choose_source(study.incidents, source or cfg.source)
    inc = study.incidents[study.incidents[C.SOURCE] == src]
    geom, districts = evaluation_area(inc, study.lsoa, area=cfg.area, min_district_share=cfg.min_district_share)
    size = float(cfg.cell_size or cell_size or 100.0)
    grid = make_grid(geom, cell_size=size, shape="square")
    present = sorted(inc[C.MONTH].dropna().astype(str).unique())
    months = _month_range(present[0], present[-1])
    results = backtest(
        inc,
        grid,
        months=months,
        methods=cfg.methods,
        coverages=cfg.coverages,
        horizons=cfg.horizons,
        min_train_months=cfg.min_train_months,
        weights=cfg.weights,
        bandwidth=cfg.kde_bandwidth,
        kernel=cfg.kde_kernel,
        composite_weights=cfg.composite_weights,
        lsoa=study.lsoa,
        venues=study.venues,
        deprivation=study.deprivation,
        rank_config=rank_config,
    )
    summary = summarise_backtest(results)
    mat, pos = month_matrix(inc, grid, months=months, weights="count")
    outside = int((pos < 0).sum())
    cell_counts = mat.sum(axis=1)
    lsoa_counts = (
        inc[C.LSOA_CODE]
        .value_counts()
        .reindex(study.lsoa[C.LSOA_CODE][study.lsoa[C.DISTRICT].isin(districts)], fill_value=0)
        if C.DISTRICT in study.lsoa.columns
        else inc[C.LSOA_CODE].value_counts()
    )

    folds = (
        results[[HORIZON, FOLD, TRAIN_START, TRAIN_END, TEST_START, TEST_END, TRAIN_TOTAL, TEST_TOTAL]]
        .drop_duplicates([HORIZON, FOLD])
        .reset_index(drop=True)
    )
    report = {
        "source": src,
        "area": {"rule": cfg.area, "districts": districts, "area_km2": round(geom.area / 1e6, 2)},
        "grid": {"shape": "square", "cell_size_m": size, "cells": len(grid)},
        "incidents": {"used": int((pos >= 0).sum()), "outside_area": outside, "months": months},
        "weights": cfg.weights,
        "kde_bandwidth_m": results.attrs.get("bandwidths") or cfg.kde_bandwidth,
        "config": jsonable(cfg),
        "rank_config": jsonable(_rank_config(rank_config)) if "place_score" in cfg.methods else None,
        "definitions": DEFINITIONS,
        "methods": {m: METHOD_DEFINITIONS[m] for m in cfg.methods},
        "concentration": {
            "grid_cells": concentration(cell_counts),
            "lsoas": concentration(lsoa_counts.to_numpy()),
        },
        "folds": jsonable(folds),
        "metrics": jsonable(results),
        "mean": jsonable(summary),
        "versus_baseline": versus_baseline(summary),
    }
    return {"summary": summary, "results": results, "report": report, "grid": grid}


def versus_baseline(summary: pd.DataFrame, baselines: Iterable[str] = ("random", "counts")) -> list[dict[str, Any]]:
    """Does any method beat each baseline? Per horizon x coverage, compared on mean PEI*.

    Returns
    -------
    list of dict
        ``horizon, coverage, baseline, baseline_pei_star, best_method`` (best of the other
        methods), ``best_pei_star, beats_baseline``.
    """
    out = []
    for (h, cov), block in summary.groupby([HORIZON, COVERAGE], sort=True):
        for b in baselines:
            base = block[block[METHOD] == b]
            others = block[block[METHOD] != b]
            if len(base) == 0 or len(others) == 0:
                continue
            bv = float(base[PEI_STAR].iloc[0])
            top = others.sort_values(PEI_STAR, ascending=False, kind="stable").iloc[0]
            out.append(
                {
                    HORIZON: int(h),
                    COVERAGE: float(cov),
                    "baseline": b,
                    "baseline_pei_star": bv,
                    "best_method": str(top[METHOD]),
                    "best_pei_star": float(top[PEI_STAR]),
                    "beats_baseline": bool(top[PEI_STAR] > bv + 1e-9),
                }
            )
    return out


def format_verdict(rows: list[dict[str, Any]]) -> str:
    """One line per horizon x coverage x baseline: the best other method and whether it wins."""
    lines = ["versus the baselines (mean PEI*):"]
    for r in rows:
        label = (
            "next month" if r[HORIZON] == 1 else ("next quarter" if r[HORIZON] == 3 else f"next {r[HORIZON]} months")
        )
        verdict = "beats" if r["beats_baseline"] else "does NOT beat"
        lines.append(
            f"  {label}, {r[COVERAGE]:.0%} of area: best other method {r['best_method']} "
            f"({r['best_pei_star']:.3f}) {verdict} {r['baseline']} ({r['baseline_pei_star']:.3f})"
        )
    return "\n".join(lines) + "\n"
