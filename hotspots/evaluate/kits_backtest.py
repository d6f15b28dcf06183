"""Bleed-control kits tested on the future: chosen on months 1..k, scored on months k+1..k+h.

The ``sites`` stage chooses kits on all the incidents it has and reports the harm they cover:
an in-sample figure, flattering because the kits were placed where those very incidents
happened. :func:`kits_backtest` runs the choice on a rolling origin instead (the folds of
``hotspots evaluate``) and reports, for each fold, the share of harm covered in the training
months (in sample) beside the share of the *next* month's or quarter's harm (out of sample),
and the best any ``p`` of the same candidates could have covered in the test window (a ceiling,
chosen with hindsight). Three ways of choosing:

* ``mclp``: the exact maximal covering model of :func:`hotspots.sites.kits.select_sites`;
* ``greedy``: :func:`greedy_sites`, each next kit at the candidate adding the most uncovered harm;
* ``busiest_venues``: :func:`busiest_venues`, the NTE venues nearest the most harm (the naive
  "put them in the busiest pubs").
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.spatial import cKDTree

from hotspots import columns as C
from hotspots.errors import HotspotsWarning, InputError
from hotspots.evaluate.config import KIT_METHODS
from hotspots.evaluate.summary import FOLD, FOLDS, HORIZON, METHOD, TEST_END, TEST_START, TRAIN_END, TRAIN_START

log = logging.getLogger(__name__)


KIT_METHOD_DEFINITIONS = {
    "mclp": "exact maximal covering location model (hotspots.sites.kits.select_sites): p sites among venues and "
    "training incident locations maximising training harm within the radius",
    "greedy": "greedy covering: each next kit at the candidate adding the most training harm not yet covered",
    "busiest_venues": "the p NTE venues with the most training harm attributed to them (each incident to its "
    "nearest venue, if within the radius)",
}

KITS = "kits"  # kits chosen in the fold
CANDIDATES = "candidates"  # candidate sites of the fold (venues + training incident locations)
TRAIN_HARM = "train_harm"  # harm of the training months
TEST_HARM = "test_harm"  # harm of the test months
IN_SAMPLE_HARM = "in_sample_harm"  # training harm within the radius of the kits
IN_SAMPLE_PCT = "in_sample_pct"  # ... as % of the training harm
OUT_OF_SAMPLE_HARM = "out_of_sample_harm"  # test harm within the radius of the kits
OUT_OF_SAMPLE_PCT = "out_of_sample_pct"  # ... as % of the test harm
BEST_POSSIBLE_PCT = "best_possible_pct"  # most test harm any p candidates cover, % (hindsight ceiling)
SHARE_OF_BEST = "share_of_best"  # out_of_sample_pct / best_possible_pct
RETENTION = "retention"  # mean out_of_sample_pct / mean in_sample_pct
KITS_COLUMNS = [
    HORIZON,
    FOLD,
    TRAIN_START,
    TRAIN_END,
    TEST_START,
    TEST_END,
    METHOD,
    KITS,
    CANDIDATES,
    TRAIN_HARM,
    TEST_HARM,
    IN_SAMPLE_HARM,
    IN_SAMPLE_PCT,
    OUT_OF_SAMPLE_HARM,
    OUT_OF_SAMPLE_PCT,
    BEST_POSSIBLE_PCT,
    SHARE_OF_BEST,
]
"""Columns of :func:`kits_backtest`: harm in the units of the ``harm`` column, shares in per cent."""

KITS_SUMMARY_COLUMNS = [
    HORIZON,
    METHOD,
    FOLDS,
    KITS,
    IN_SAMPLE_PCT,
    OUT_OF_SAMPLE_PCT,
    BEST_POSSIBLE_PCT,
    SHARE_OF_BEST,
    RETENTION,
]
"""Columns of :func:`summarise_kits` (fold means; ``retention`` = out-of-sample / in-sample %)."""


def _xy(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    from hotspots.units import point_xy

    return point_xy(gdf if isinstance(gdf, gpd.GeoDataFrame) else gpd.GeoDataFrame(geometry=gdf))


def covered_harm(incidents: gpd.GeoDataFrame, sites_xy: np.ndarray, *, radius: float) -> tuple[float, float]:
    """Harm of ``incidents`` within ``radius`` metres of any site, and their total harm.

    Parameters
    ----------
    incidents
        Incidents with a ``harm`` column, EPSG:27700.
    sites_xy
        Site coordinates, (n, 2) metres.
    radius
        Walking radius, metres (a distance equal to it counts as covered, as in the sites stage).

    Returns
    -------
    (covered, total)
    """
    w = pd.to_numeric(incidents[C.HARM], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    total = float(w.sum())
    s = np.asarray(sites_xy, dtype=float).reshape(-1, 2)
    if len(incidents) == 0 or len(s) == 0:
        return 0.0, total
    d, _ = cKDTree(s).query(_xy(incidents), distance_upper_bound=radius * (1 + 1e-12))
    return float(w[np.isfinite(d)].sum()), total


def greedy_sites(cover: sp.sparray | sp.spmatrix | npt.ArrayLike, weights: npt.ArrayLike, p: int) -> np.ndarray:
    """Greedy maximal covering: ``p`` times, the candidate adding the most uncovered weight.

    Parameters
    ----------
    cover
        Demand x candidate 0/1 matrix (sparse or dense), e.g. :func:`hotspots.sites.mclp.coverage_matrix`.
    weights
        Demand weights (harm).
    p
        Number of sites.

    Returns
    -------
    numpy.ndarray
        Chosen candidate indices in the order chosen (ties to the lower index); fewer than ``p``
        when no remaining candidate adds any weight.

    Examples
    --------
    >>> import numpy as np
    >>> greedy_sites(np.array([[1, 0], [1, 1], [0, 1]]), [1.0, 1.0, 3.0], 2).tolist()
    [1, 0]
    """
    a = sp.csc_matrix(cover, dtype=float)
    w = np.asarray(weights, dtype=float).copy()
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 1:
        raise InputError(f"p must be a whole number of kits >= 1, got {p!r}.")
    if a.shape[0] != len(w):
        raise InputError(f"cover has {a.shape[0]} demand rows but weights has {len(w)} values.")
    chosen: list[int] = []
    at = a.T.tocsr()
    for _ in range(min(p, a.shape[1])):
        gain = at @ w
        if chosen:
            gain[chosen] = -np.inf
        j = int(np.argmax(gain))
        if not gain[j] > 0:
            break
        chosen.append(j)
        w[a.indices[a.indptr[j] : a.indptr[j + 1]]] = 0.0
    return np.asarray(chosen, dtype=np.int64)


def busiest_venues(incidents: gpd.GeoDataFrame, venues: gpd.GeoDataFrame, *, p: int, radius: float) -> np.ndarray:
    """The ``p`` venues with the most harm attributed to them (each incident to its nearest venue within ``radius``).

    Returns
    -------
    numpy.ndarray
        Row positions in ``venues``, most harm first (ties to the lower position); only venues
        with some harm, so possibly fewer than ``p``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> inc = gpd.GeoDataFrame({"harm": [1.0, 1.0, 4.0]}, geometry=[Point(0, 0), Point(10, 0), Point(500, 0)],
    ...                        crs="EPSG:27700")
    >>> ven = gpd.GeoDataFrame(geometry=[Point(5, 0), Point(480, 0), Point(2000, 0)], crs="EPSG:27700")
    >>> busiest_venues(inc, ven, p=2, radius=100).tolist()
    [1, 0]
    """
    if len(venues) == 0 or len(incidents) == 0:
        return np.zeros(0, dtype=np.int64)
    w = pd.to_numeric(incidents[C.HARM], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    d, i = cKDTree(_xy(venues)).query(_xy(incidents), distance_upper_bound=radius * (1 + 1e-12))
    ok = np.isfinite(d)
    harm = np.bincount(i[ok], weights=w[ok], minlength=len(venues))
    order = np.lexsort((np.arange(len(venues)), -harm))
    return order[harm[order] > 0][:p].astype(np.int64)


def _check_kits(
    incidents: gpd.GeoDataFrame,
    venues: gpd.GeoDataFrame | None,
    methods: Sequence[str],
    p: int,
    radius: float,
    horizons: Sequence[int],
    min_train_months: int,
) -> None:
    from hotspots.evaluate.config import _check_options

    if not methods:
        raise InputError(f"methods is empty; choose from {', '.join(KIT_METHODS)}.")
    for m in methods:
        if m not in KIT_METHODS:
            raise InputError(f"unknown kit method {m!r}; choose from {', '.join(KIT_METHODS)}.")
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 1:
        raise InputError(f"p must be a whole number of kits >= 1, got {p!r}.")
    if isinstance(radius, bool) or not isinstance(radius, (int, float)) or not radius > 0:
        raise InputError(f"radius must be > 0 metres, got {radius!r}.")
    _check_options(
        methods=["counts"],
        coverages=[0.05],
        horizons=horizons,
        min_train_months=min_train_months,
        weights=None,
        composite_weights=None,
    )
    for col in (C.MONTH, C.HARM):
        if col not in incidents.columns:
            raise InputError(f"incidents have no {col!r} column; load them with hotspots.prepare.study.load_study.")
    if "busiest_venues" in methods and (venues is None or len(venues) == 0):
        raise InputError("method 'busiest_venues' needs venues: pass venues=study.venues or leave it out of methods.")


def _best_possible(test: gpd.GeoDataFrame, cand: gpd.GeoDataFrame, p: int, radius: float, limit: float | None) -> float:
    """The most test harm any ``p`` candidates cover, % (exact MCLP on the test incidents: a hindsight ceiling)."""
    from hotspots.sites.kits import select_sites

    if not len(test) or not len(cand):
        return float("nan")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HotspotsWarning)
            oracle = select_sites(test, cand, p=min(p, len(cand)), radius=radius, time_limit=limit)
    except InputError:  # no test harm to cover
        return float("nan")
    return float(oracle.attrs["mclp"]["coverage_pct"])


def _choose(
    method: str,
    train: gpd.GeoDataFrame,
    cand: gpd.GeoDataFrame,
    venues: gpd.GeoDataFrame | None,
    greedy: tuple[Any, np.ndarray] | None,
    *,
    p: int,
    radius: float,
    limit: float | None,
) -> np.ndarray:
    """Coordinates of the kits ``method`` chooses on the training incidents."""
    from hotspots.sites.kits import select_sites

    if len(train) == 0:
        return np.zeros((0, 2))
    if method == "mclp" and len(cand):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HotspotsWarning)
            kits = select_sites(train, cand, p=min(p, len(cand)), radius=radius, time_limit=limit)
        return kits[["x", "y"]].to_numpy(dtype=float)
    if method == "greedy" and len(cand) and greedy is not None:
        return _xy(cand)[greedy_sites(greedy[0], greedy[1], p)]
    if method == "busiest_venues" and venues is not None:
        return _xy(venues)[busiest_venues(train, venues, p=p, radius=radius)]
    return np.zeros((0, 2))


def _pct(part: float, total: float) -> float:
    return 100.0 * part / total if total > 0 else float("nan")


def kits_backtest(
    incidents: gpd.GeoDataFrame,
    *,
    venues: gpd.GeoDataFrame | None = None,
    months: Sequence[str] | None = None,
    p: int = 10,
    radius: float = 100.0,
    horizons: Sequence[int] = (1, 3),
    min_train_months: int = 3,
    methods: Sequence[str] = KIT_METHODS,
    exclude_locations: Sequence[str] | None = None,
    time_limit: float | None = 60.0,
    folds: Sequence[tuple[int, int, int]] | None = None,
) -> pd.DataFrame:
    """Choose kits on months 1..k and score the harm they cover in months k+1..k+h (rolling origin).

    Parameters
    ----------
    incidents
        Canonical incidents (``month``, ``harm``, points; ``location`` text when known), EPSG:27700.
    venues
        NTE venues: candidates for ``mclp``/``greedy`` and the only sites of ``busiest_venues``.
    months
        The months in order (default: first to last incident month).
    p, radius
        Kits per fold and their walking radius, metres (the ``[sites]`` defaults 10 and 100 m).
    horizons, min_train_months
        As :func:`hotspots.evaluate.rolling.backtest` (the same folds).
    methods
        Any of :data:`KIT_METHODS`.
    exclude_locations
        Location patterns dropped as candidates (default the ``[sites]`` default: hospital,
        prison, police station).
    time_limit
        Seconds allowed to each exact solve.
    folds
        ``(horizon, fold, k)`` of the folds to run instead of the rolling ones (the folds the
        forecasts of ``hotspots evaluate`` ran); ``horizons`` and ``min_train_months`` are then
        not used.

    Returns
    -------
    pandas.DataFrame
        :data:`KITS_COLUMNS`, one row per horizon x fold x method: ``kits`` chosen,
        ``candidates`` (venues + training incident locations), ``train_harm`` / ``test_harm``
        (totals), ``in_sample_harm`` / ``in_sample_pct`` (training harm within the radius of the
        kits), ``out_of_sample_harm`` / ``out_of_sample_pct`` (test harm within it),
        ``best_possible_pct`` (the most test harm any ``p`` of the fold's candidates cover: exact
        MCLP on the test incidents, a hindsight ceiling) and ``share_of_best``
        (out-of-sample / best possible). NaN shares when a window holds no harm.

    Raises
    ------
    InputError
        Unknown method, bad ``p``/``radius``, missing columns, too few months, or
        ``busiest_venues`` without venues.
    """
    from hotspots.evaluate.folds import calendar
    from hotspots.sites import mclp as _mclp
    from hotspots.sites.candidates import DEFAULT_EXCLUDE_LOCATIONS, demand_points, kit_candidates

    _check_kits(incidents, venues, methods, p, radius, horizons, min_train_months)
    if months is None:
        present = sorted(incidents[C.MONTH].dropna().astype(str).unique())
        if not present:
            raise InputError("incidents have no months; the kit backtest needs monthly data.")
        months = calendar(present)
    months = list(months)
    need = min_train_months + min(horizons)
    if len(months) < need:
        raise InputError(
            f"too few months for a kit backtest: {len(months)}, need at least {need} "
            f"(min_train_months={min_train_months} plus a test window of {min(horizons)})."
        )
    excl = tuple(DEFAULT_EXCLUDE_LOCATIONS if exclude_locations is None else exclude_locations)
    month_pos = pd.Index(months).get_indexer(incidents[C.MONTH].astype(str))
    if folds is None:
        folds = [
            (h, i, k) for h in horizons for i, k in enumerate(range(min_train_months, len(months) - h + 1), start=1)
        ]
    rows: list[dict[str, Any]] = []
    for h, fold, k in folds:
        where = {
            HORIZON: h,
            FOLD: fold,
            TRAIN_START: months[0],
            TRAIN_END: months[k - 1],
            TEST_START: months[k],
            TEST_END: months[k + h - 1],
        }
        train = incidents[(month_pos >= 0) & (month_pos < k)]
        test = incidents[(month_pos >= k) & (month_pos < k + h)]
        cand = kit_candidates(train, venues=venues, sources=("venues", "incident_locations"), exclude_locations=excl)
        best = _best_possible(test, cand, p, radius, time_limit)
        greedy = None
        if "greedy" in methods and len(train):
            dem = demand_points(train)
            greedy = (_mclp.coverage_matrix(_xy(dem), _xy(cand), radius), dem[C.HARM].to_numpy(dtype=float))
        for m in methods:
            xy = _choose(m, train, cand, venues, greedy, p=p, radius=radius, limit=time_limit)
            ins, ttot = covered_harm(train, xy, radius=radius)
            outs, stot = covered_harm(test, xy, radius=radius)
            out_pct = _pct(outs, stot)
            rows.append(
                {
                    **where,
                    METHOD: m,
                    KITS: len(xy),
                    CANDIDATES: len(cand),
                    TRAIN_HARM: ttot,
                    TEST_HARM: stot,
                    IN_SAMPLE_HARM: ins,
                    IN_SAMPLE_PCT: _pct(ins, ttot),
                    OUT_OF_SAMPLE_HARM: outs,
                    OUT_OF_SAMPLE_PCT: out_pct,
                    BEST_POSSIBLE_PCT: best,
                    SHARE_OF_BEST: out_pct / best if best > 0 else float("nan"),
                }
            )
    return pd.DataFrame(rows, columns=KITS_COLUMNS)


def summarise_kits(results: pd.DataFrame) -> pd.DataFrame:
    """Fold means of :func:`kits_backtest` per horizon x method.

    Returns
    -------
    pandas.DataFrame
        :data:`KITS_SUMMARY_COLUMNS`; ``retention`` is mean out-of-sample % / mean in-sample %
        (how much of the coverage the kits promise survives into the next period).
    """
    missing = [c for c in KITS_COLUMNS if c not in results.columns]
    if missing:
        raise InputError(f"results lack columns {missing}; pass the frame returned by kits_backtest().")
    order = {m: i for i, m in enumerate(dict.fromkeys(results[METHOD]))}
    g = results.groupby([HORIZON, METHOD], sort=False)
    s = g[[KITS, IN_SAMPLE_PCT, OUT_OF_SAMPLE_PCT, BEST_POSSIBLE_PCT, SHARE_OF_BEST]].mean()
    s[FOLDS] = g[FOLD].nunique()
    s = s.reset_index()
    s[RETENTION] = s[OUT_OF_SAMPLE_PCT] / s[IN_SAMPLE_PCT]
    s["_o"] = s[METHOD].map(order)
    s = s.sort_values([HORIZON, "_o"], kind="stable").drop(columns="_o").reset_index(drop=True)
    return s[KITS_SUMMARY_COLUMNS]
