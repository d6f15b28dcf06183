"""Density clusters of incidents or venues (DBSCAN / HDBSCAN) as ranked polygon footprints.

:func:`density_clusters` runs scikit-learn's :class:`~sklearn.cluster.DBSCAN` or
:class:`~sklearn.cluster.HDBSCAN` on British National Grid coordinates (metres) and
returns one polygon per cluster, ranked by harm per km².

police.uk points are snapped to a fixed set of anonymous map points (13,335 Nottingham
City violence crimes sit at only 2,589 distinct locations). Clustering the raw points
would give density algorithms thousands of exact duplicates (zero distances, so HDBSCAN
reports each busy map point as its own "cluster"). Both methods therefore work on the
*distinct locations*, each carrying the summed weight of its incidents:

* DBSCAN uses scikit-learn's ``sample_weight``: a location is a core point when the total
  weight within ``eps`` (itself included) reaches ``min_samples``.
* HDBSCAN uses a weighted core distance: the distance from a location to the nearest
  neighbour at which the cumulative weight (itself first) reaches ``min_samples``. The
  minimum spanning tree of the weighted mutual-reachability distances
  (:func:`hotspots.detect.mst.mutual_reachability_mst`, Borůvka on a KD-tree) is passed to
  scikit-learn's HDBSCAN as a sparse precomputed graph (with ``min_samples=1``, so
  scikit-learn keeps the distances as given). ``min_cluster_size`` counts distinct
  locations, so a cluster is a place, not one point.

Unsnapped data (about one location per incident) is first merged onto the finest grid of
1 to 100 m that leaves at most ``max_locations`` locations (:mod:`hotspots.locations`), so
time and memory stay flat; snapped data below the cap is never merged.
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from hotspots import columns as C
from hotspots.detect.mst import TIE_BREAK, mutual_reachability, mutual_reachability_mst, prim_mst
from hotspots.errors import HotspotsWarning, InputError
from hotspots.locations import aggregate_locations, unique_xy
from hotspots.validate import check_points

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

__all__ = [
    "CLUSTER_COLUMNS",
    "MAX_HDBSCAN_LOCATIONS",
    "MAX_LOCATIONS",
    "TIE_BREAK",
    "cluster_locations",
    "density_clusters",
    "distinct_locations",
    "empty_clusters",
    "footprints",
    "mutual_reachability",
    "mutual_reachability_mst",
    "prim_mst",
    "weighted_core_distance",
]

log = logging.getLogger(__name__)

CLUSTER_ID = "cluster_id"  # 1..k in rank order
RANK = C.RANK  # 1 = highest harm per km²
N = C.N  # incidents (or venues) in the cluster
HARM = C.HARM  # summed weight of those points (the harm weights, or the count)
AREA_KM2 = "area_km2"  # footprint area, km²
HARM_PER_KM2 = "harm_per_km2"  # harm / area_km2

CLUSTER_COLUMNS = [CLUSTER_ID, RANK, N, HARM, AREA_KM2, HARM_PER_KM2]
"""Output columns of :func:`density_clusters` (plus ``geometry``)."""

METHODS = ("hdbscan", "dbscan")
MIN_POINTS = 2
"""Fewest points (and distinct locations in a cluster) that can form a cluster."""
KNEE_MIN_LOCATIONS = 3
"""Fewest core distances for a knee of the k-distance curve."""

FOOTPRINT_BUFFER_M = 50.0
"""Default buffer (metres) around the hull of a cluster's locations: about half a street
block, the scale of police.uk's location snapping, so a cluster of one or two map points
still has an area."""

HULL_RATIO = 0.3
"""``shapely.concave_hull`` ratio for footprints (0 = tightest, 1 = convex hull)."""

CORE_STRENGTH = 0.5
"""HDBSCAN members at least this strongly attached (``probabilities_``) form a cluster's
core, from which its footprint is drawn."""

MAX_HDBSCAN_LOCATIONS = 100_000
"""Above this many distinct locations (when they are not merged, ``max_locations=None``)
:func:`density_clusters` warns and uses DBSCAN instead."""

MAX_LOCATIONS = 100_000
"""Default ``max_locations`` of :func:`density_clusters`: above it, distinct locations are
merged onto the finest grid of 1 to 100 m that fits (:func:`hotspots.locations.aggregate_locations`).
Snapped police.uk data stays below it (the county: 2,613 locations; a synthetic force of the
Metropolitan Police's size, 300,000 incidents a year: 77,799); unsnapped data has about one
location per incident."""

QUERY_BLOCK = 4_000_000
"""Most neighbour entries (locations x k) held at once by :func:`weighted_core_distance`."""

EPS_RANGE_M = (25.0, 500.0)
"""The automatic DBSCAN ``eps`` is clamped to this range (metres)."""


# --------------------------------------------------------------------------------------
# Validation shared by the detect-part-2 modules
# --------------------------------------------------------------------------------------


def point_weights(points: gpd.GeoDataFrame, weights: str | None) -> np.ndarray:
    """Weights per point: the ``weights`` column, or 1 for each point when None."""
    if weights is None:
        return np.ones(len(points))
    return pd.to_numeric(points[weights], errors="coerce").to_numpy(dtype=float)


def distinct_locations(
    points: gpd.GeoDataFrame, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Collapse duplicate coordinates.

    Returns
    -------
    xy : (m, 2) distinct coordinates
    inverse : (n,) location index of each point
    count : (m,) points per location
    weight : (m,) summed weight per location
    """
    xy = np.column_stack([shapely.get_x(points.geometry.values), shapely.get_y(points.geometry.values)])
    uniq, inverse = unique_xy(xy)
    count = np.bincount(inverse, minlength=len(uniq)).astype(float)
    weight = np.bincount(inverse, weights=w, minlength=len(uniq))
    return uniq, inverse, count, weight


# --------------------------------------------------------------------------------------
# Automatic parameters
# --------------------------------------------------------------------------------------


def auto_min_samples(total_weight: float) -> int:
    """Default ``min_samples``: 0.15 % of the total weight, at least 5.

    A core location needs that much weight (harm, or points) within its neighbourhood, so
    the rule scales with the data: 21 for the 13,335 Nottingham City violence crimes of
    2020, 5 for 884 venues.
    """
    return int(max(5, math.ceil(0.0015 * total_weight)))


def auto_min_cluster_size(n_locations: int) -> int:
    """Default HDBSCAN ``min_cluster_size`` (distinct locations): 1 % of them, 5 to 50."""
    return int(min(50, max(5, math.ceil(0.01 * n_locations))))


def weighted_core_distance(xy: np.ndarray, weight: np.ndarray, min_samples: float) -> np.ndarray:
    """Distance from each location to where the cumulative weight reaches ``min_samples``.

    Neighbours are taken nearest first, the location itself first (distance 0). Where the
    whole data set never reaches ``min_samples`` the distance to the farthest location is
    returned (``inf`` for a single location).
    """
    m = len(xy)
    if m == 0:
        return np.zeros(0)
    tree = cKDTree(xy)
    out = np.full(m, np.nan)
    todo = np.arange(m)
    k = min(m, 32)
    while len(todo):
        missed = []
        step = max(1, QUERY_BLOCK // k)  # in blocks, so memory stays flat (k grows to 2,048 and more)
        for s0 in range(0, len(todo), step):
            part = todo[s0 : s0 + step]
            dist, idx = tree.query(xy[part], k=k)
            dist, idx = dist.reshape(len(part), k), idx.reshape(len(part), k)
            cum = np.cumsum(weight[idx], axis=1)
            reached = cum >= min_samples - 1e-9
            hit = reached.any(axis=1)
            first = reached.argmax(axis=1)
            out[part[hit]] = dist[hit, first[hit]]
            if k == m:
                out[part[~hit]] = dist[~hit, -1] if m > 1 else np.inf
            else:
                missed.append(part[~hit])
        if k == m:
            break
        todo = np.concatenate(missed) if missed else todo[:0]
        k = min(m, k * 4)
    return out


def knee_eps(core: np.ndarray) -> float:
    """The knee of the sorted k-distance curve (Kneedle: farthest point below the chord).

    Sorted ascending, the curve of core distances is flat for dense locations and rises
    sharply for isolated ones; the knee is the point farthest below the straight line from
    the first to the last value (both axes scaled to [0, 1]). Clamped to
    :data:`EPS_RANGE_M`.
    """
    d = np.sort(core[np.isfinite(core)])
    if len(d) < KNEE_MIN_LOCATIONS or d[-1] <= d[0]:
        return float(np.clip(d[-1] if len(d) else EPS_RANGE_M[0], *EPS_RANGE_M))
    x = np.linspace(0.0, 1.0, len(d))
    y = (d - d[0]) / (d[-1] - d[0])
    eps = float(d[int(np.argmax(x - y))])
    return float(np.clip(eps, *EPS_RANGE_M))


# --------------------------------------------------------------------------------------
# Clustering
# --------------------------------------------------------------------------------------


def cluster_locations(
    xy: np.ndarray,
    weight: np.ndarray,
    *,
    method: str = "hdbscan",
    min_cluster_size: int | None = None,
    min_samples: float | None = None,
    eps: float | None = None,
    selection: str = "leaf",
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Cluster weighted distinct locations: labels (-1 = noise), core mask, parameters used.

    The core mask marks every DBSCAN member, or HDBSCAN members with a membership
    strength (``probabilities_``) of at least :data:`CORE_STRENGTH` (HDBSCAN clusters
    attach outlying points along chains; the footprint is drawn around the core).

    This is the algorithm behind :func:`density_clusters` on plain arrays (coordinates in
    metres, one weight per location). Parameters as there.
    """
    m = len(xy)
    total = float(weight.sum())
    auto: dict[str, Any] = {"method": method}
    if min_samples is None:
        min_samples = auto_min_samples(total)
        auto["min_samples"] = min_samples
    if method == "hdbscan" and m > MAX_HDBSCAN_LOCATIONS:
        warnings.warn(
            f"{m:,} distinct locations is more than the weighted HDBSCAN handles in reasonable "
            f"time ({MAX_HDBSCAN_LOCATIONS:,}); using DBSCAN instead. Pass method='dbscan' to "
            "choose it explicitly.",
            HotspotsWarning,
            stacklevel=3,
        )
        method = "dbscan"
        auto["method"] = method
    from sklearn.cluster import DBSCAN, HDBSCAN  # scikit-learn loads only when clusters are asked for

    if method == "dbscan":
        if eps is None:
            eps = knee_eps(weighted_core_distance(xy, weight, min_samples))
            auto["eps_m"] = round(eps, 1)
        model = DBSCAN(eps=eps, min_samples=1).fit(xy, sample_weight=weight / min_samples)
        # sample_weight scaled by 1/min_samples with min_samples=1 is the same test as
        # weight >= min_samples but accepts fractional min_samples.
        # a DBSCAN border location is within eps of a core one, never a stray outlier:
        # the footprint is drawn around every member
        return model.labels_, model.labels_ >= 0, auto
    if min_cluster_size is None:
        min_cluster_size = auto_min_cluster_size(m)
        auto["min_cluster_size"] = min_cluster_size
    if m < max(2, min_cluster_size):
        return np.full(m, -1), np.zeros(m, dtype=bool), auto
    core = weighted_core_distance(xy, weight, min_samples)
    core = np.where(np.isfinite(core), core, 0.0)
    mst = mutual_reachability_mst(xy, core)
    model = HDBSCAN(
        min_cluster_size=int(min_cluster_size),
        min_samples=1,
        metric="precomputed",
        cluster_selection_method=selection,
        allow_single_cluster=False,
        copy=False,
    )
    model.fit(mst)
    labels = model.labels_
    return labels, (labels >= 0) & (model.probabilities_ >= CORE_STRENGTH), auto


def empty_clusters() -> gpd.GeoDataFrame:
    """An empty :func:`density_clusters` result with the documented schema."""
    return gpd.GeoDataFrame(
        {
            CLUSTER_ID: pd.Series(dtype="int64"),
            RANK: pd.Series(dtype="int64"),
            N: pd.Series(dtype="int64"),
            HARM: pd.Series(dtype="float64"),
            AREA_KM2: pd.Series(dtype="float64"),
            HARM_PER_KM2: pd.Series(dtype="float64"),
        },
        geometry=gpd.GeoSeries([], crs=C.CRS),
        crs=C.CRS,
    )


def footprints(
    xy: np.ndarray, labels: np.ndarray, *, buffer: float, ratio: float = HULL_RATIO
) -> dict[int, BaseGeometry]:
    """Polygon footprint per cluster label: concave hull of its locations, buffered."""
    idx = np.flatnonzero(labels >= 0)
    if len(idx) == 0:
        return {}
    idx = idx[np.argsort(labels[idx], kind="stable")]  # by label, each label's locations in input order
    labs, group = np.unique(labels[idx], return_inverse=True)
    pts = shapely.multipoints(xy[idx], indices=group.ravel())
    polys = shapely.buffer(shapely.concave_hull(pts, ratio=ratio), buffer, quad_segs=8)
    return {int(lab): poly for lab, poly in zip(labs, polys, strict=True)}


def density_clusters(
    points: gpd.GeoDataFrame,
    *,
    method: Literal["hdbscan", "dbscan"] = "hdbscan",
    min_cluster_size: int | None = None,
    min_samples: float | None = None,
    eps: float | None = None,
    weights: str | None = "harm",
    buffer: float = FOOTPRINT_BUFFER_M,
    selection: Literal["leaf", "eom"] = "leaf",
    max_locations: int | None = MAX_LOCATIONS,
) -> gpd.GeoDataFrame:
    """Find dense clusters of points and return their footprints ranked by harm per km².

    Parameters
    ----------
    points
        Point GeoDataFrame in a projected CRS in metres (EPSG:27700 in the pipeline):
        incidents, or venues.
    method
        ``"hdbscan"`` (default; varying density, no distance to choose) or ``"dbscan"``.
    min_cluster_size
        HDBSCAN only: the fewest *distinct locations* a cluster may have. Default 1 % of
        the distinct locations, between 5 and 50.
    min_samples
        Weight (harm, or points when ``weights`` is None) needed around a location for it
        to be a core location: within ``eps`` for DBSCAN, within the core distance for
        HDBSCAN. Default 0.15 % of the total weight, at least 5.
    eps
        DBSCAN only: neighbourhood radius in metres. Default: the knee of the sorted
        weighted k-distance curve (k = ``min_samples``), clamped to 25-500 m.
    weights
        Column of per-point weights (default ``"harm"``), or None to count points.
    buffer
        Metres added around each cluster's concave hull (default 50 m), so clusters of
        one or two locations still have an area.
    selection
        HDBSCAN only: ``"leaf"`` (default) returns the leaves of the cluster tree, the
        compact, even-density cores a patrol or an outreach team can cover; ``"eom"``
        (scikit-learn's default) prefers the most persistent clusters, which on the
        Nottingham data is one cluster covering most of the city.
    max_locations
        Most distinct locations clustered (default :data:`MAX_LOCATIONS`); above it they are
        merged onto the finest grid (1 to 100 m) that brings them under it, each cell one
        location at its heaviest member (``attrs["auto"]["aggregated_m"]`` gives the cell
        size, ``aggregated_locations`` how many are left). Snapped police.uk data stays below
        it; unsnapped data (about one location per incident) is merged, so time and memory
        stay flat. None never merges (above :data:`MAX_HDBSCAN_LOCATIONS`, HDBSCAN then falls
        back to DBSCAN).

    Returns
    -------
    GeoDataFrame
        One row per cluster, in the CRS of ``points``, sorted by rank:

        ``cluster_id``
            1..k, equal to ``rank``.
        ``rank``
            1 = highest ``harm_per_km2``.
        ``n``
            Points (incidents or venues) in the cluster.
        ``harm``
            Summed weight of those points (harm units; the point count when ``weights``
            is None).
        ``area_km2``
            Footprint area in km².
        ``harm_per_km2``
            ``harm / area_km2``.
        ``geometry``
            Footprint: concave hull (ratio 0.3) of the cluster's distinct locations,
            buffered by ``buffer`` metres. Footprints of neighbouring clusters may overlap.

        ``attrs["auto"]`` holds every parameter chosen automatically (also logged at
        INFO); ``attrs["noise"]`` the number of points in no cluster. An empty input, a
        single point or no cluster found gives an empty frame with the same columns.

    Raises
    ------
    InputError
        ``points`` is not a point GeoDataFrame in a projected CRS, ``weights`` is bad, or
        an option is out of range.

    Notes
    -----
    DBSCAN: Ester, Kriegel, Sander & Xu (1996). HDBSCAN: Campello, Moulavi & Sander (2013);
    McInnes, Healy & Astels (2017). Points at the same coordinates are merged into one
    weighted location first (police.uk snapping); see the module docstring for how each
    method uses the weights. Points in no cluster (noise) are left out.

    Examples
    --------
    >>> import numpy as np, geopandas as gpd
    >>> rng = np.random.default_rng(0)
    >>> xy = np.r_[rng.normal(0, 30, (200, 2)), rng.uniform(-3000, 3000, (200, 2))]
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*xy.T), crs="EPSG:27700")
    >>> out = density_clusters(pts, weights=None)
    >>> int(out["rank"].iloc[0]), bool(out.geometry.iloc[0].contains(gpd.points_from_xy([0], [0])[0]))
    (1, True)
    """
    check_points(points, what="points", weights=weights, purpose="density clustering")
    _check_options(
        method=method,
        min_cluster_size=min_cluster_size,
        min_samples=min_samples,
        eps=eps,
        selection=selection,
        buffer=buffer,
    )
    if max_locations is not None and (isinstance(max_locations, bool) or not isinstance(max_locations, int)):
        raise InputError(f"max_locations must be a whole number of locations or None, got {max_locations!r}.")
    out = empty_clusters()
    if points.crs is not None:
        out = out.set_crs(points.crs, allow_override=True)
    out.attrs["auto"] = {}
    out.attrs["noise"] = len(points)
    if len(points) < MIN_POINTS:
        warnings.warn(
            f"density_clusters got {len(points)} point(s); at least {MIN_POINTS} are needed to form "
            "a cluster. Returning no clusters.",
            HotspotsWarning,
            stacklevel=2,
        )
        return out
    w = point_weights(points, weights)
    xy, count, weight, merged = _locations(points, w, max_locations)
    labels, core, auto = cluster_locations(
        xy,
        weight,
        method=method,
        min_cluster_size=min_cluster_size,
        min_samples=min_samples,
        eps=eps,
        selection=selection,
    )
    auto.update(merged)
    out.attrs["auto"] = auto
    for k, v in auto.items():
        if k not in ("method", "distinct_locations", "aggregated_locations"):
            log.info("density clusters (%s): %s set to %s automatically", auto["method"], k, v)
    if not (labels >= 0).any():
        warnings.warn(
            _no_cluster_message(auto, min_cluster_size, n_points=len(points), n_locations=len(xy)),
            HotspotsWarning,
            stacklevel=2,
        )
        return out
    labs, geom, labels = _dense_footprints(
        xy, labels, core, weight, auto.get("min_samples", min_samples or 0), buffer=buffer, crs=points.crs
    )
    if len(labs) == 0:
        warnings.warn(
            f"density_clusters ({auto['method']}) found no cluster holding min_samples of weight "
            f"among {len(points):,} points; try a smaller min_samples.",
            HotspotsWarning,
            stacklevel=2,
        )
        return out
    frame = _cluster_frame(labs, geom, labels, count, weight, crs=points.crs)
    frame.attrs["auto"] = auto
    frame.attrs["noise"] = int(count[labels < 0].sum())
    return frame


def _locations(
    points: gpd.GeoDataFrame, w: np.ndarray, max_locations: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """Distinct locations (merged onto a grid above ``max_locations``): xy, count, weight and what was done."""
    xy, _inverse, count, weight = distinct_locations(points, w)
    info: dict[str, Any] = {"distinct_locations": len(xy)}
    if max_locations is None or len(xy) <= max_locations:
        return xy, count, weight, info
    rep, weight, cell, resolution = aggregate_locations(xy, weight, max_locations=max_locations)
    order = np.argsort(rep, kind="stable")  # keep the distinct locations' (x, y) order
    rank = np.empty(len(rep), dtype=np.intp)
    rank[order] = np.arange(len(rep))
    count = np.bincount(rank[cell], weights=count, minlength=len(rep))
    info.update(aggregated_m=resolution, aggregated_locations=len(rep))
    log.info(
        "density clusters: %d distinct locations merged onto a %g m grid: %d locations", len(xy), resolution, len(rep)
    )
    return xy[rep[order]], count, weight[order], info


def _cluster_frame(
    labs: np.ndarray, geom: gpd.GeoSeries, labels: np.ndarray, count: np.ndarray, weight: np.ndarray, *, crs: Any
) -> gpd.GeoDataFrame:
    """The clusters' rows (:data:`CLUSTER_COLUMNS`), ranked by harm per km²."""
    member = labels >= 0
    size = int(labels.max()) + 1 if member.any() else 0
    n = np.bincount(labels[member], weights=count[member], minlength=size)[labs].astype(np.int64)
    harm = np.bincount(labels[member], weights=weight[member], minlength=size)[labs].astype(float)
    area = geom.area.to_numpy() / 1e6
    frame = gpd.GeoDataFrame({N: n, HARM: harm, AREA_KM2: area, HARM_PER_KM2: harm / area}, geometry=geom, crs=crs)
    frame = frame.sort_values([HARM_PER_KM2, HARM], ascending=False, kind="mergesort").reset_index(drop=True)
    frame.insert(0, RANK, np.arange(1, len(frame) + 1, dtype=np.int64))
    frame.insert(0, CLUSTER_ID, frame[RANK].to_numpy().copy())
    return frame[[*CLUSTER_COLUMNS, "geometry"]]


def _check_options(
    *, method: str, min_cluster_size: Any, min_samples: Any, eps: Any, selection: str, buffer: Any
) -> None:
    if method not in METHODS:
        raise InputError(f"method must be one of {', '.join(map(repr, METHODS))}, got {method!r}.")
    if min_cluster_size is not None and (
        isinstance(min_cluster_size, bool) or not (isinstance(min_cluster_size, int) and min_cluster_size >= MIN_POINTS)
    ):
        raise InputError(f"min_cluster_size must be a whole number >= {MIN_POINTS}, got {min_cluster_size!r}.")
    for name, value in (("min_samples", min_samples), ("eps", eps)):
        if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise InputError(f"{name} must be a number > 0, got {value!r}.")
    if selection not in ("leaf", "eom"):
        raise InputError(f"selection must be 'leaf' or 'eom', got {selection!r}.")
    if not (isinstance(buffer, (int, float)) and buffer >= 0):
        raise InputError(f"buffer must be a distance in metres >= 0, got {buffer!r}.")


def _no_cluster_message(auto: dict[str, Any], min_cluster_size: int | None, *, n_points: int, n_locations: int) -> str:
    mcs = min_cluster_size if min_cluster_size is not None else auto.get("min_cluster_size")
    if auto["method"] == "hdbscan" and mcs is not None and n_locations < mcs:
        hint = (
            f"HDBSCAN needs at least min_cluster_size={mcs} distinct locations; use "
            "method='dbscan' or a smaller min_cluster_size."
        )
    else:
        hint = "try a smaller min_samples."
    return (
        f"density_clusters ({auto['method']}) found no cluster among {n_points:,} points "
        f"({n_locations:,} distinct locations); {hint}"
    )


def _dense_footprints(
    xy: np.ndarray,
    labels: np.ndarray,
    core: np.ndarray,
    weight: np.ndarray,
    min_samples: float,
    *,
    buffer: float,
    crs: Any,
) -> tuple[np.ndarray, gpd.GeoSeries, np.ndarray]:
    """Footprints of the clusters holding at least ``min_samples`` of weight, and the members inside them.

    Returns
    -------
    labs, geom, labels
        The kept cluster labels, their footprints, and each location's label (-1: noise, a
        fringe member outside its cluster's footprint, or a member of a cluster too light).
    """
    polys = footprints(xy, np.where(core, labels, -1), buffer=buffer)
    labs = np.array(sorted(polys))
    geom = gpd.GeoSeries([polys[lab] for lab in labs], crs=crs)
    if len(labs) == 0:
        return labs, geom, np.full(len(xy), -1, dtype=labels.dtype)
    # members inside their cluster's footprint count; fringe members outside it do not
    pos = np.full(int(labels.max()) + 1, -1, dtype=np.intp)
    pos[labs] = np.arange(len(labs))
    of = np.where(labels >= 0, pos[np.maximum(labels, 0)], -1)  # each location's footprint (-1: none)
    has = np.flatnonzero(of >= 0)
    inside = np.zeros(len(xy), dtype=bool)
    inside[has] = shapely.contains_xy(geom.values[of[has]], xy[has, 0], xy[has, 1]) | core[has]
    labels = np.where(inside, labels, -1)
    # a cluster lighter than min_samples is not dense (a DBSCAN core whose neighbours
    # were all claimed by other clusters, or an HDBSCAN cluster whose core is one point)
    member = labels >= 0
    held = np.bincount(labels[member], weights=weight[member], minlength=len(pos))
    heavy = held[labs] >= min_samples - 1e-9
    labels = np.where(np.isin(labels, labs[~heavy]), -1, labels)
    return labs[heavy], geom[heavy].reset_index(drop=True), labels
