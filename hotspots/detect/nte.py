"""Night-time economy (NTE) zones: clusters of licensed venues and the violence around them.

:func:`nte_zones` groups venues (pubs, bars, clubs from Open Pubs) that are within walking
distance of each other into zones with DBSCAN, draws each zone's footprint, and counts
the incidents inside or within ``distance`` metres of it.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.detect.clusters import FOOTPRINT_BUFFER_M, distinct_locations, footprints, point_weights
from hotspots.errors import HotspotsWarning, InputError
from hotspots.validate import check_points

log = logging.getLogger(__name__)

ZONE_ID = C.ZONE_ID  # 1..k, 1 = most harm within reach
VENUES = "venues"  # venues in the zone
N_WITHIN = "n_within"  # incidents inside or within `distance` m of the footprint
HARM_WITHIN = "harm_within"  # their summed harm

NTE_COLUMNS = [ZONE_ID, VENUES, N_WITHIN, HARM_WITHIN]
"""Output columns of :func:`nte_zones` (plus ``geometry``)."""

WALK_EPS_M = 150.0
"""Default venue linking distance: two venues less than 150 m apart (about two minutes'
walk) can be in one zone."""

MIN_VENUES = 5
"""Default fewest venues around a core venue (itself included) within ``eps``."""


def empty_zones(crs: object = C.CRS) -> gpd.GeoDataFrame:
    """An empty :func:`nte_zones` result with the documented schema."""
    return gpd.GeoDataFrame(
        {
            ZONE_ID: pd.Series(dtype="int64"),
            VENUES: pd.Series(dtype="int64"),
            N_WITHIN: pd.Series(dtype="int64"),
            HARM_WITHIN: pd.Series(dtype="float64"),
        },
        geometry=gpd.GeoSeries([], crs=crs),
        crs=crs,
    )


def nte_zones(
    venues: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    *,
    distance: float = 200.0,
    eps: float = WALK_EPS_M,
    min_venues: int = MIN_VENUES,
    weights: str | None = C.HARM,
    buffer: float = FOOTPRINT_BUFFER_M,
) -> gpd.GeoDataFrame:
    """Zones of clustered venues with the violence inside and around each.

    Parameters
    ----------
    venues
        Venue points (``study.venues``) in a projected CRS in metres.
    incidents
        Incident points in the same CRS (e.g. the VRU-scope incidents).
    distance
        Metres around a zone's footprint within which incidents are counted (default
        200 m: the street outside and the walk to the taxi rank).
    eps
        DBSCAN linking distance between venues in metres (default 150 m).
    min_venues
        DBSCAN ``min_samples``: venues (itself included) within ``eps`` of a core venue
        (default 5). A zone has at least this many venues.
    weights
        Incident column of harm weights for ``harm_within`` (default ``"harm"``), or
        None to count incidents.
    buffer
        Metres added around the concave hull of a zone's venues (default 50 m) to give
        its footprint, so the venues' own frontages are inside.

    Returns
    -------
    GeoDataFrame
        One row per zone in the venues' CRS, sorted by ``harm_within`` (then
        ``n_within``), highest first:

        ``zone_id``
            1..k in that order.
        ``venues``
            Venues in the zone.
        ``n_within``
            Incidents inside the footprint or within ``distance`` metres of it. Each
            incident is counted once, in the nearest zone, so the columns add up.
        ``harm_within``
            Their summed harm (the count when ``weights`` is None).
        ``geometry``
            The zone footprint: concave hull (ratio 0.3) of its venues buffered by
            ``buffer`` metres (not including the ``distance`` reach).

        ``attrs["params"]`` records the parameters; ``attrs["unzoned_venues"]`` the
        venues in no zone. No venues, or no zone found, gives an empty frame with the
        same columns (and a warning).

    Raises
    ------
    InputError
        Venues or incidents are not points in a projected CRS, differ in CRS, bad
        ``weights``, or an option out of range.

    Notes
    -----
    DBSCAN (Ester et al. 1996) on the venues' British National Grid coordinates with a
    walking-distance ``eps`` finds "drinking circuits": chains of venues each within
    ``eps`` of the next, anchored on venues with ``min_venues`` venues nearby. The
    violence measure follows the place-based NTE literature's "within x metres of
    licensed premises" counts (e.g. Bromley & Nelson 2002), summed per zone instead of
    per venue so that neighbouring venues do not count the same assault several times.

    Examples
    --------
    >>> import geopandas as gpd
    >>> v = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0, 30, 60, 90, 120, 5000], [0] * 6), crs="EPSG:27700")
    >>> i = gpd.GeoDataFrame({"harm": [1.0, 2.0]}, geometry=gpd.points_from_xy([60, 3000], [100, 0]), crs="EPSG:27700")
    >>> z = nte_zones(v, i)
    >>> z[["zone_id", "venues", "n_within", "harm_within"]].values.tolist()
    [[1.0, 5.0, 1.0, 1.0]]
    """
    _check_options(venues, incidents, weights=weights, distance=distance, buffer=buffer, eps=eps, min_venues=min_venues)
    out = empty_zones(venues.crs)
    params = {"eps_m": float(eps), "min_venues": min_venues, "distance_m": float(distance), "buffer_m": float(buffer)}
    out.attrs["params"] = params
    out.attrs["unzoned_venues"] = len(venues)
    if len(venues) < min_venues:
        warnings.warn(
            f"{len(venues)} venue(s): fewer than min_venues={min_venues}, so no NTE zone can form.",
            HotspotsWarning,
            stacklevel=2,
        )
        return out
    xy, _inverse, count, _ = distinct_locations(venues, np.ones(len(venues)))
    from sklearn.cluster import DBSCAN  # imported when used (scikit-learn takes about 0.5 s to import)

    labels = DBSCAN(eps=eps, min_samples=min_venues).fit(xy, sample_weight=count).labels_
    if not (labels >= 0).any():
        warnings.warn(
            f"no NTE zone: no venue has {min_venues} venues within {eps:g} m. Try a larger "
            "eps or a smaller min_venues.",
            HotspotsWarning,
            stacklevel=2,
        )
        return out
    polys = footprints(xy, labels, buffer=buffer)
    labs = np.array(sorted(polys))
    geoms = np.array([polys[lab] for lab in labs], dtype=object)
    n_venues = np.array([count[labels == lab].sum() for lab in labs], dtype=np.int64)

    n_within, harm_within = _within(incidents, geoms, point_weights(incidents, weights), distance=distance)
    frame = gpd.GeoDataFrame(
        {VENUES: n_venues, N_WITHIN: n_within, HARM_WITHIN: harm_within},
        geometry=gpd.GeoSeries(geoms, crs=venues.crs),
        crs=venues.crs,
    )
    frame = frame.sort_values([HARM_WITHIN, N_WITHIN, VENUES], ascending=False, kind="mergesort").reset_index(drop=True)
    frame.insert(0, ZONE_ID, np.arange(1, len(frame) + 1, dtype=np.int64))
    frame = frame[[*NTE_COLUMNS, "geometry"]]
    frame.attrs["params"] = params
    frame.attrs["unzoned_venues"] = int(count[labels < 0].sum())
    log.info(
        "NTE zones: %d zones of %d venues (%d venues in no zone); %d incidents within %g m",
        len(frame),
        int(n_venues.sum()),
        frame.attrs["unzoned_venues"],
        int(n_within.sum()),
        distance,
    )
    return frame


def _check_options(
    venues: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    *,
    weights: str | None,
    distance: Any,
    buffer: Any,
    eps: Any,
    min_venues: Any,
) -> None:
    check_points(venues, what="venues")
    check_points(incidents, what="incidents", weights=weights)
    if not venues.crs.equals(incidents.crs):
        raise InputError(
            f"venues ({venues.crs.to_string()}) and incidents ({incidents.crs.to_string()}) differ "
            "in CRS; reproject one with `.to_crs()`."
        )
    for name, value in (("distance", distance), ("buffer", buffer)):
        if not (isinstance(value, (int, float)) and np.isfinite(value) and value >= 0):
            raise InputError(f"{name} must be a distance in metres >= 0, got {value!r}.")
    if not (isinstance(eps, (int, float)) and np.isfinite(eps) and eps > 0):
        raise InputError(f"eps must be a distance in metres > 0, got {eps!r}.")
    if isinstance(min_venues, bool) or not (isinstance(min_venues, int) and min_venues >= 1):
        raise InputError(f"min_venues must be a whole number >= 1, got {min_venues!r}.")


def _within(
    incidents: gpd.GeoDataFrame, geoms: np.ndarray, w: np.ndarray, *, distance: float
) -> tuple[np.ndarray, np.ndarray]:
    """Incidents (and their weight) within ``distance`` of each zone, each counted once in its nearest zone."""
    pts = incidents.geometry.values
    tree = shapely.STRtree(geoms)
    pairs = np.asarray(tree.query(pts, predicate="dwithin", distance=distance), dtype=np.intp).reshape(2, -1)
    ii, zz = pairs[0], pairs[1]
    if not len(ii):
        return np.zeros(len(geoms), dtype=np.int64), np.zeros(len(geoms))
    d = shapely.distance(pts[ii], geoms[zz])
    order = np.lexsort((d, ii))
    ii, zz = ii[order], zz[order]
    first = np.r_[True, ii[1:] != ii[:-1]]  # nearest zone of each incident
    ii, zz = ii[first], zz[first]
    n_within = np.bincount(zz, minlength=len(geoms)).astype(np.int64)
    return n_within, np.bincount(zz, weights=w[ii], minlength=len(geoms)).astype(float)
