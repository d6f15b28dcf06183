"""Where violence is likely next: the forecast of every cell and a short ranked list with street names.

* :func:`where_next_matrix` / :func:`where_next`: a method's forecast for the months after the data,
  trained on every month (the analyst map layer).
* :func:`name_cells` and :func:`top_cells`: the cells with the highest forecast, named after the
  nearest police.uk location ("On or near ...") of any source, for the report and ``where_next.csv``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.evaluate.folds import calendar
from hotspots.evaluate.forecast.config import FORECAST_METHODS, ForecastConfig
from hotspots.evaluate.forecast.ensemble import EnsembleSearch
from hotspots.evaluate.forecast.features import History, Lattice, static_features
from hotspots.evaluate.forecast.models import forecast_cells
from hotspots.evaluate.rolling import month_matrix
from hotspots.prepare.rows import spread_map

log = logging.getLogger(__name__)

FORECAST = "forecast"  # expected incidents in the cell over the forecast window
FORECAST_RANK = "forecast_rank"  # 1 = the highest forecast (ties share the best rank)
LONG_RUN = "long_run"  # incidents in the cell over every month used
RECENT = "recent"  # incidents in the cell over the last `horizon` months used
WHERE_NEXT_COLUMNS = [C.CELL_ID, FORECAST, FORECAST_RANK, LONG_RUN, RECENT]
"""Columns of :func:`where_next` (plus geometry)."""

LOCATION = C.LOCATION  # nearest police.uk location label within the distance, "On or near" removed ("" = none)
STREET = "street"  # nearest label that reads like a street ("Goose Gate", "A6008"; "" = none)
NAME_DISTANCE_M = "name_distance_m"  # metres from the cell's anchor to the `location` point (NaN = none)
X, Y = "x", "y"  # the anchor: the cell's busiest incident point (else its centre), EPSG:27700 metres
LON, LAT = "lon", "lat"  # the anchor in degrees (EPSG:4326)
NAME_COLUMNS = [C.CELL_ID, LOCATION, STREET, NAME_DISTANCE_M, X, Y]
"""Columns of :func:`name_cells`."""
TOP_COLUMNS = [C.RANK, C.CELL_ID, FORECAST, LONG_RUN, RECENT, LOCATION, STREET, NAME_DISTANCE_M, X, Y, LON, LAT]
"""Columns of :func:`top_cells`."""

STREET_PATTERN = re.compile(
    r"\b(street|road|lane|avenue|drive|close|way|place|square|terrace|gardens?|crescent|walk|row|hill|gate|parade|"
    r"court|grove|mews|rise|vale|view|green|boulevard|circus|yard|bridge|wharf|passage|approach|embankment)\b"
    r"|\b[ABM]\d{1,4}\b",
    re.IGNORECASE,
)
"""Location labels that read like streets (``"On or near Goose Gate"``), not place types (``"Parking Area"``)."""


def where_next_matrix(
    matrix: np.ndarray,
    grid: gpd.GeoDataFrame,
    *,
    months: Sequence[str],
    method: str,
    horizon: int = 3,
    lattice: Lattice | None = None,
    static: pd.DataFrame | None = None,
    cfg: ForecastConfig | None = None,
    history: History | None = None,
    search: EnsembleSearch | None = None,
) -> gpd.GeoDataFrame:
    """Forecast of every cell of ``grid`` for the ``horizon`` months after ``months``, from all of them.

    Parameters
    ----------
    matrix
        Incidents per cell and month (cells of ``grid`` x ``months``).
    grid
        The square grid the matrix counts on.
    months
        The months of the columns, in order.
    method
        One of :data:`~hotspots.evaluate.forecast.config.FORECAST_METHODS` (normally
        :func:`~hotspots.evaluate.forecast.choice.recommend_method`'s choice).
    horizon
        Months ahead (1 = next month, 3 = next quarter).
    lattice, static, cfg, history, search
        The grid's lattice and static features, the settings, and the history and ensemble search
        already built on the same matrix (reused when given).

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`WHERE_NEXT_COLUMNS` + the cell polygons, grid order: ``forecast`` (expected
        incidents over the next ``horizon`` months), ``forecast_rank`` (1 = highest, ties share the
        best rank), ``long_run`` (incidents over every month used) and ``recent`` (over the last
        ``horizon`` months). ``attrs`` holds ``method``, ``horizon``, ``trained_on`` (first and
        last month), ``forecast_months`` and ``detail`` (the ensemble setting or model fit).

    Raises
    ------
    InputError
        Unknown method, no months, a matrix that does not match the grid, a hexagonal grid.
    """
    cfg = cfg or ForecastConfig()
    if method not in FORECAST_METHODS:
        raise InputError(
            f"where_next needs a forecast in incidents: method must be one of {', '.join(FORECAST_METHODS)}, "
            f"got {method!r}."
        )
    months = list(months)
    if not months:
        raise InputError("no months given; the forecast needs monthly data.")
    m = np.asarray(matrix, dtype=float)
    if m.shape != (len(grid), len(months)):
        raise InputError(f"matrix must be {len(grid)} cells x {len(months)} months, got shape {m.shape}.")
    if history is None:
        history = History(m, lattice or Lattice.from_grid(grid))
    k = len(months)
    if method == "ensemble" and search is None:
        search = EnsembleSearch(history, cfg)
    f, info = forecast_cells(
        method,
        history,
        k,
        horizon,
        static=static,
        start_month=int(pd.Period(months[0], freq="M").month),
        cfg=cfg,
        search=search,
    )
    out = gpd.GeoDataFrame(
        {
            C.CELL_ID: grid[C.CELL_ID].to_numpy(),
            FORECAST: f,
            FORECAST_RANK: pd.Series(-f).rank(method="min").astype(np.int64).to_numpy(),
            LONG_RUN: m.sum(axis=1),
            RECENT: m[:, max(0, k - horizon) :].sum(axis=1),
        },
        geometry=grid.geometry.values,
        crs=grid.crs,
    )
    last = pd.Period(months[-1], freq="M")
    out.attrs.update(
        {
            "method": method,
            "horizon": int(horizon),
            "trained_on": [months[0], months[-1]],
            "forecast_months": [str(last + i) for i in range(1, horizon + 1)],
            "detail": {key: v for key, v in info.items() if key != "features"},
        }
    )
    return out


def where_next(
    incidents: gpd.GeoDataFrame,
    grid: gpd.GeoDataFrame,
    *,
    method: str,
    horizon: int = 3,
    months: Sequence[str] | None = None,
    venues: gpd.GeoDataFrame | None = None,
    lsoa: gpd.GeoDataFrame | None = None,
    weights: str | None = "count",
    cfg: ForecastConfig | None = None,
) -> gpd.GeoDataFrame:
    """Forecast of every cell for the ``horizon`` months after the data, from incidents.

    Parameters
    ----------
    incidents
        Canonical incidents (``month`` YYYY-MM, points) in the grid's CRS.
    grid
        Square grid from :func:`hotspots.units.make_grid`.
    method, horizon, cfg
        As :func:`where_next_matrix`.
    months
        The months to learn from (default: first to last incident month, empty months included).
    venues, lsoa
        ``study.venues`` and ``study.lsoa`` for the static features of the models.
    weights
        ``"count"`` or ``"harm"``.

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`where_next_matrix`.
    """
    cfg = cfg or ForecastConfig()
    if months is None:
        present = sorted(incidents[C.MONTH].dropna().astype(str).unique()) if C.MONTH in incidents else []
        if not present:
            raise InputError("incidents have no months; the forecast needs monthly data.")
        months = calendar(present)
    months = list(months)
    mat, _ = month_matrix(incidents, grid, months=months, weights=weights)
    static = static_features(grid, venues=venues, lsoa=lsoa, venue_radius_m=cfg.venue_radius_m)
    return where_next_matrix(mat, grid, months=months, method=method, horizon=horizon, static=static, cfg=cfg)


def _label(text: Any) -> str:
    s = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text).strip()
    return re.sub(r"^on or near\s*", "", s, flags=re.IGNORECASE).strip()


def _anchors(cells: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame | None, grid: gpd.GeoDataFrame | None) -> np.ndarray:
    """Each cell's busiest incident point (a real snap point), else its centroid."""
    from hotspots.units import assign_cells, point_xy

    c = cells.geometry.centroid
    anchor = np.column_stack([c.x.to_numpy(), c.y.to_numpy()])
    if incidents is None or grid is None or not len(incidents):
        return anchor
    pos = assign_cells(incidents, grid)
    xy = np.round(point_xy(incidents), 1)
    ids = grid[C.CELL_ID].to_numpy()
    frame = pd.DataFrame({C.CELL_ID: np.where(pos >= 0, ids[np.clip(pos, 0, None)], -1), X: xy[:, 0], Y: xy[:, 1]})
    frame = frame[frame[C.CELL_ID] >= 0]
    busiest = (
        frame.groupby([C.CELL_ID, X, Y])
        .size()
        .rename("n")
        .reset_index()
        .sort_values([C.CELL_ID, "n", X, Y], ascending=[True, False, True, True])
        .drop_duplicates(C.CELL_ID)
        .set_index(C.CELL_ID)
    )
    cid = cells[C.CELL_ID].to_numpy()
    has = np.isin(cid, busiest.index)
    anchor[has] = busiest.loc[cid[has], [X, Y]].to_numpy()
    return anchor


def name_cells(
    cells: gpd.GeoDataFrame,
    *,
    named: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame | None = None,
    grid: gpd.GeoDataFrame | None = None,
    max_distance: float = 150.0,
) -> pd.DataFrame:
    """A place name for each cell: the nearest police.uk location label ("On or near X").

    Parameters
    ----------
    cells
        Cells to name (``cell_id`` + polygons), e.g. the top rows of :func:`where_next`.
    named
        Points with a ``location`` text column (police.uk rows, any source, any month): every
        distinct labelled point is a candidate name.
    incidents
        The incidents forecast from; with ``grid`` the anchor of a cell is its busiest incident
        point (a real snap point), else the cell's centre.
    grid
        The grid ``cells`` come from (needed with ``incidents``).
    max_distance
        Farthest a name may be from the anchor, metres.

    Returns
    -------
    pandas.DataFrame
        :data:`NAME_COLUMNS`, in the order of ``cells``: ``location`` (nearest non-empty label
        within ``max_distance``, "On or near" removed; "" when none), ``street`` (nearest label
        that reads like a street, :data:`STREET_PATTERN`; "" when none), ``name_distance_m``
        (anchor to the ``location`` point, NaN when none), ``x``, ``y`` (the anchor, EPSG:27700).

    Raises
    ------
    InputError
        ``named`` lacks a ``location`` column.
    """
    from hotspots.units import point_xy

    if C.LOCATION not in named.columns:
        raise InputError(f"named points need a {C.LOCATION!r} column (police.uk 'On or near ...' text).")
    anchor = _anchors(cells, incidents, grid)
    # each distinct location's label once (a few thousand in 100,000 rows)
    labels = spread_map(named[C.LOCATION], _label)
    ok = (labels.str.len() > 0).to_numpy()
    pts = pd.DataFrame(point_xy(named[ok]), columns=[X, Y]).assign(label=labels[ok].to_numpy())
    pts = pts.drop_duplicates().reset_index(drop=True)
    out = pd.DataFrame(
        {
            C.CELL_ID: cells[C.CELL_ID].to_numpy(),
            LOCATION: "",
            STREET: "",
            NAME_DISTANCE_M: np.nan,
            X: anchor[:, 0],
            Y: anchor[:, 1],
        }
    )
    if len(pts) == 0 or len(out) == 0:
        return out
    nxy = pts[[X, Y]].to_numpy()
    lab = pts["label"].to_numpy(dtype=object)
    d, i = cKDTree(nxy).query(anchor, distance_upper_bound=max_distance)
    hit = np.isfinite(d)
    out.loc[hit, LOCATION] = lab[i[hit]]
    out.loc[hit, NAME_DISTANCE_M] = d[hit]
    street = np.array([bool(STREET_PATTERN.search(s)) for s in lab])
    if street.any():
        d2, i2 = cKDTree(nxy[street]).query(anchor, distance_upper_bound=max_distance)
        h2 = np.isfinite(d2)
        out.loc[h2, STREET] = lab[street][i2[h2]]
    return out


def top_cells(
    layer: gpd.GeoDataFrame,
    *,
    named: gpd.GeoDataFrame | None = None,
    incidents: gpd.GeoDataFrame | None = None,
    grid: gpd.GeoDataFrame | None = None,
    top: int = 10,
    max_distance: float = 150.0,
) -> pd.DataFrame:
    """The ``top`` cells of a :func:`where_next` layer, ranked, with the nearest police.uk names.

    Parameters
    ----------
    layer
        :func:`where_next` (or :func:`where_next_matrix`) output.
    named, incidents, grid, max_distance
        As :func:`name_cells` (no names when ``named`` is None or empty).
    top
        Cells to list.

    Returns
    -------
    pandas.DataFrame
        :data:`TOP_COLUMNS`: ``rank`` (1..top; equal forecasts by ``cell_id``), ``cell_id``,
        ``forecast``, ``long_run``, ``recent``, ``location``, ``street``, ``name_distance_m``,
        the anchor ``x``, ``y`` (EPSG:27700) and ``lon``, ``lat`` (EPSG:4326).

    Raises
    ------
    InputError
        ``top`` is not a whole number >= 1.
    """
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise InputError(f"top must be a whole number of cells >= 1, got {top!r}.")
    best = layer.sort_values([FORECAST, C.CELL_ID], ascending=[False, True], kind="stable").head(int(top))
    if named is not None and len(named):
        names = name_cells(best, named=named, incidents=incidents, grid=grid, max_distance=max_distance)
    else:
        c = best.geometry.centroid
        names = pd.DataFrame(
            {
                C.CELL_ID: best[C.CELL_ID].to_numpy(),
                LOCATION: "",
                STREET: "",
                NAME_DISTANCE_M: np.nan,
                X: c.x.to_numpy(),
                Y: c.y.to_numpy(),
            }
        )
    out = pd.DataFrame(
        {
            C.RANK: np.arange(1, len(best) + 1),
            C.CELL_ID: best[C.CELL_ID].to_numpy(),
            FORECAST: best[FORECAST].to_numpy(),
            LONG_RUN: best[LONG_RUN].to_numpy(),
            RECENT: best[RECENT].to_numpy(),
        }
    )
    out = out.merge(names, on=C.CELL_ID, how="left", sort=False)
    ll = gpd.GeoSeries(gpd.points_from_xy(out[X], out[Y]), crs=layer.crs).to_crs("EPSG:4326")
    out[LON], out[LAT] = ll.x.to_numpy(), ll.y.to_numpy()
    return out[TOP_COLUMNS]
