"""Distinct locations of point data, and merging them onto a grid when there are too many.

police.uk snaps every crime to one of a fixed set of anonymous map points, so a force's
incidents sit at tens of thousands of distinct locations however many there are (the
bundled county: 2,613; a force of 300,000 incidents a year: under 100,000). The density
clusters (:mod:`hotspots.detect.clusters`) and the kit-siting models (:mod:`hotspots.sites`)
work on these weighted distinct locations. Unsnapped data (a force's own extract with true
coordinates, or jittered points) has about one location per incident, and those algorithms
would then grow with the number of incidents: :func:`aggregate_locations` merges the
locations onto the finest grid (1 to 100 m) that brings them under a cap, so time and
memory stay flat. Snapped data below the cap is never touched.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hotspots.errors import InputError

AGGREGATION_RESOLUTIONS_M = (1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 75.0, 100.0)
"""Grid resolutions (metres) tried in turn by :func:`aggregate_locations`, finest first."""


def unique_xy(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of ``xy`` ordered by x then y, and the index of each row's distinct point.

    The same result as ``np.unique(xy, axis=0, return_inverse=True)``, from one lexsort
    (several times faster on a million points).

    Examples
    --------
    >>> u, inv = unique_xy(np.array([[2.0, 1.0], [0.0, 5.0], [2.0, 1.0]]))
    >>> u.tolist(), inv.tolist()
    ([[0.0, 5.0], [2.0, 1.0]], [1, 0, 1])
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if len(xy) == 0:
        return np.zeros((0, 2)), np.zeros(0, dtype=np.intp)
    order = np.lexsort((xy[:, 1], xy[:, 0]))
    s = xy[order]
    new = np.ones(len(s), dtype=bool)
    new[1:] = (s[1:, 0] != s[:-1, 0]) | (s[1:, 1] != s[:-1, 1])
    inverse = np.empty(len(s), dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    return s[new], inverse


def most_frequent(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Most frequent non-missing value of each group (``""`` when none); ties go to the value seen first.

    The vectorised equivalent of ``groupby(groups)[values].agg(lambda s: s.value_counts().index[0])``
    (pandas' ``value_counts`` sorts stably, so among equally frequent values the first seen wins).

    Examples
    --------
    >>> most_frequent(np.array([0, 0, 0, 2]), np.array(["b", "a", "a", None], dtype=object), 3).tolist()
    ['a', '', '']
    """
    out = np.full(n_groups, "", dtype=object)
    df = pd.DataFrame({"k": np.asarray(groups), "v": np.asarray(values, dtype=object)}).dropna()
    if len(df) == 0:
        return out
    df["pos"] = np.arange(len(df))
    g = df.groupby(["k", "v"], sort=False, observed=True)["pos"].agg(["size", "min"]).reset_index()
    g = g.sort_values(["k", "size", "min"], ascending=[True, False, True], kind="stable")
    g = g.drop_duplicates("k")
    out[g["k"].to_numpy(dtype=np.intp)] = g["v"].to_numpy(dtype=object)
    return out


def aggregate_locations(
    xy: np.ndarray,
    weight: np.ndarray,
    *,
    max_locations: int,
    resolutions: tuple[float, ...] = AGGREGATION_RESOLUTIONS_M,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float | None]:
    """Merge weighted distinct locations onto a square grid when there are more than ``max_locations``.

    The finest resolution of ``resolutions`` at which the grid cells holding locations number
    at most ``max_locations`` is chosen, and each cell becomes one location.

    Parameters
    ----------
    xy
        (m, 2) distinct coordinates in metres (a projected CRS).
    weight
        (m,) weight of each location (harm, or incidents).
    max_locations
        The most locations to keep; at or below it nothing is merged.
    resolutions
        Cell sizes to try in metres, ascending; the last is used even if it leaves more than
        ``max_locations`` cells.

    Returns
    -------
    rep, weight, inverse, resolution
        ``rep`` (k,): index into ``xy`` of each cell's representative location, the heaviest of
        its members (a real location, so kit candidates stay where incidents were recorded;
        ties go to the first member), cells ordered by column then row; ``weight`` (k,):
        summed weight; ``inverse`` (m,): the cell of every input location; ``resolution``: the
        cell size in metres, or None when nothing was merged (then ``rep = inverse =
        arange(m)`` and ``weight`` is the input).

    Raises
    ------
    InputError
        ``max_locations`` < 1, or ``xy`` and ``weight`` differ in length.

    Notes
    -----
    Merging moves a location by at most ``resolution x sqrt(2)`` metres (the cell's diagonal):
    2.8 m at 2 m, 14 m at 10 m, 35 m at 25 m. Callers record the resolution used in the manifest.

    Examples
    --------
    >>> xy = np.array([[0.5, 0.5], [0.7, 0.2], [30.0, 0.0]])
    >>> rep, w, inv, r = aggregate_locations(xy, np.array([1.0, 2.0, 1.0]), max_locations=2)
    >>> rep.tolist(), w.tolist(), inv.tolist(), r
    ([1, 2], [3.0, 1.0], [0, 0, 1], 1.0)
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    weight = np.asarray(weight, dtype=float)
    if isinstance(max_locations, bool) or not isinstance(max_locations, (int, np.integer)) or max_locations < 1:
        raise InputError(f"max_locations must be a whole number >= 1, got {max_locations!r}.")
    if len(weight) != len(xy):
        raise InputError(f"xy has {len(xy)} locations but weight has {len(weight)} values.")
    m = len(xy)
    if m <= max_locations:
        return np.arange(m), weight, np.arange(m), None
    resolution = float(resolutions[-1])
    inverse = np.zeros(m, dtype=np.intp)
    n_cells = 0
    for r in resolutions:
        kx = np.floor(xy[:, 0] / r).astype(np.int64)
        ky = np.floor(xy[:, 1] / r).astype(np.int64)
        key = (kx - kx.min()) * (int(ky.max() - ky.min()) + 1) + (ky - ky.min())
        cells, inverse = np.unique(key, return_inverse=True)
        resolution, n_cells = float(r), len(cells)
        if n_cells <= max_locations:
            break
    inverse = inverse.ravel()
    order = np.lexsort((np.arange(m), -weight, inverse))  # by cell, heaviest first, then input order
    first = np.ones(m, dtype=bool)
    first[1:] = inverse[order][1:] != inverse[order][:-1]
    return order[first], np.bincount(inverse, weights=weight, minlength=n_cells), inverse, resolution
