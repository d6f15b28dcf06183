"""Getis-Ord Gi* hot spots with Benjamini-Hochberg FDR, classified as ArcGIS's Gi_Bin.

The analytic statistic is one sparse matrix-vector product over binary weights that include
each unit itself (Getis & Ord 1992; Ord & Getis 1995). Permutation inference through esda's
``G_Local`` is an option (``inference="permutation"``).
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely
from scipy import stats
from scipy.spatial import cKDTree

from hotspots import columns as C
from hotspots.errors import HotspotsWarning, InputError
from hotspots.units import CELL_ID, cell_centres, grid_spec, unit_values
from hotspots.validate import check_projected

log = logging.getLogger(__name__)

GI_Z = C.GI_Z
"""Gi* z-score (standard normal under the null; positive = more than expected nearby)."""
GI_P = C.GI_P
"""Two-sided p-value of ``gi_z`` (normal, or pseudo p from permutations)."""
GI_Q = C.GI_Q
"""Benjamini-Hochberg FDR-adjusted ``gi_p`` (equal to ``gi_p`` when FDR is off)."""
HOTSPOT_CLASS = C.HOTSPOT_CLASS
"""Gi_Bin-style class, one of :data:`HOTSPOT_CLASSES`."""
GISTAR_COLUMNS = [GI_Z, GI_P, GI_Q, HOTSPOT_CLASS]
"""Columns :func:`hotspot_gistar` adds."""

HOT_99 = "hot 99%"
HOT_95 = "hot 95%"
HOT_90 = "hot 90%"
NOT_SIGNIFICANT = "not significant"
COLD_90 = "cold 90%"
COLD_95 = "cold 95%"
COLD_99 = "cold 99%"
HOTSPOT_CLASSES = [HOT_99, HOT_95, HOT_90, NOT_SIGNIFICANT, COLD_90, COLD_95, COLD_99]
"""Classes as ArcGIS Gi_Bin +3 .. -3: confidence 99/95/90 % means q (or p) <= 0.01/0.05/0.10."""
GI_BIN = dict(zip(HOTSPOT_CLASSES, [3, 2, 1, 0, -1, -2, -3], strict=False))
"""ArcGIS Gi_Bin code of each class."""

INFERENCES = ("analytic", "permutation")


# --------------------------------------------------------------------------------------
# weights
# --------------------------------------------------------------------------------------


def grid_weights(grid: gpd.GeoDataFrame, *, distance: float | None = None) -> sp.csr_array:
    """Binary spatial weights of a grid's cells, each cell its own neighbour.

    Parameters
    ----------
    grid
        A grid from :func:`hotspots.units.make_grid`.
    distance
        ``None`` (default): queen neighbours of the lattice (8 for squares, 6 for
        hexagons), found by integer arithmetic on ``cell_id``. A number: every cell whose
        lattice centre is within ``distance`` metres (a fixed distance band, KD-tree).

    Returns
    -------
    scipy.sparse.csr_array
        ``n x n`` binary matrix in the grid's row order, with ones on the diagonal.
    """
    spec = grid_spec(grid)
    ids = grid[CELL_ID].to_numpy(dtype=np.int64)
    n = len(ids)
    if n == 0:
        return sp.csr_array((0, 0))
    if distance is not None:
        if not distance > 0:
            raise InputError(f"neighbour distance must be a positive number of metres, got {distance!r}.")
        if distance < spec["cell_size"]:
            warnings.warn(
                f"neighbour distance {distance:g} m is smaller than the cell size "
                f"{spec['cell_size']:g} m: each cell is its only neighbour and Gi* reduces to the cell's own count.",
                HotspotsWarning,
                stacklevel=2,
            )
        tree = cKDTree(cell_centres(grid))
        pairs = tree.query_pairs(distance * (1 + 1e-9), output_type="ndarray")
        i = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(n)])
        j = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(n)])
        return sp.csr_array((np.ones(len(i)), (i, j)), shape=(n, n))
    ncols, nrows = spec["ncols"], spec["nrows"]
    rows, cols = np.divmod(ids, ncols)
    if spec["shape"] == "square":
        offsets = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)]
        offs = [(np.full(n, dr), np.full(n, dc)) for dr, dc in offsets]
    else:
        odd = rows % 2
        # pointy-top, odd rows shifted right: neighbours in rows above/below are
        # (col - 1 + odd, col + odd)
        offs = [(np.zeros(n, np.int64), np.full(n, dc)) for dc in (-1, 0, 1)]
        for dr in (-1, 1):
            offs.append((np.full(n, dr), odd - 1))
            offs.append((np.full(n, dr), odd))
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    ii, jj = [], []
    src = np.arange(n)
    for d_row, d_col in offs:
        r, c = rows + d_row, cols + d_col
        ok = (r >= 0) & (r < nrows) & (c >= 0) & (c < ncols)
        nb = r * ncols + c
        pos = np.clip(np.searchsorted(sorted_ids, nb), 0, n - 1)
        ok &= sorted_ids[pos] == nb
        ii.append(src[ok])
        jj.append(order[pos[ok]])
    i = np.concatenate(ii)
    j = np.concatenate(jj)
    return sp.csr_array((np.ones(len(i)), (i, j)), shape=(n, n))


def contiguity_weights(polygons: gpd.GeoDataFrame | gpd.GeoSeries) -> sp.csr_array:
    """Queen contiguity of polygons (sharing at least one vertex), each its own neighbour.

    The same rule as libpysal's ``Graph.build_contiguity(rook=False)`` (shared vertices,
    exact coordinates; tested against it), built with sparse algebra: a polygon-by-vertex
    incidence matrix M gives the neighbours as M Mᵀ. About 3x faster than libpysal at
    33,000 polygons.

    Returns
    -------
    scipy.sparse.csr_array
        ``n x n`` binary matrix in the polygons' row order, ones on the diagonal.
        Islands (polygons touching none) have only themselves.
    """
    n = len(polygons)
    if n == 0:
        return sp.csr_array((0, 0))
    geoms = np.asarray(polygons.geometry.values)
    empty = shapely.is_empty(geoms) | shapely.is_missing(geoms)
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise InputError(f"polygon {i} (index {polygons.index[i]!r}) is empty; drop it before building weights.")
    xy, owner = shapely.get_coordinates(geoms, return_index=True)
    _, vertex = np.unique(xy, axis=0, return_inverse=True)
    vertex = np.asarray(vertex).ravel()
    M = sp.csr_array((np.ones(len(vertex)), (owner, vertex)), shape=(n, int(vertex.max()) + 1))
    A = (M @ M.T).tocsr()
    A.data[:] = 1.0
    return A


# --------------------------------------------------------------------------------------
# the statistic
# --------------------------------------------------------------------------------------


def _as_csr(W: Any, n: int) -> sp.csr_array:
    if hasattr(W, "sparse") and not sp.issparse(W):  # libpysal W / Graph
        W = W.sparse
    if not sp.issparse(W):
        W = np.asarray(W)
    W = sp.csr_array(W)
    if W.shape != (n, n):
        raise InputError(f"weights are {W.shape[0]} x {W.shape[1]} but there are {n} values; they must match.")
    return W


def gistar(values: Any, W: Any) -> tuple[np.ndarray, np.ndarray]:
    r"""Analytic Getis-Ord Gi* z-scores and two-sided normal p-values.

    Parameters
    ----------
    values
        One value per unit (count or harm), finite.
    W
        ``n x n`` binary weights including self (``w_ii = 1``), e.g. from
        :func:`grid_weights` or :func:`contiguity_weights`; sparse or a libpysal weights object.

    Returns
    -------
    z, p
        Arrays of length n. Where the statistic is undefined (all values equal, or a unit
        neighbouring every unit) z = 0 and p = 1, with a :class:`HotspotsWarning`.

    Notes
    -----
    With :math:`\\bar x` and :math:`s` the mean and (population) standard deviation of all
    n values, :math:`W_i = \\sum_j w_{ij}` and binary weights (Ord & Getis 1995, eq. 12)

    .. math:: z_i = \\frac{\\sum_j w_{ij} x_j - \\bar x W_i}{s \\sqrt{(n W_i - W_i^2)/(n - 1)}}

    which equals esda ``G_Local(star=True, transform="B").Zs``. The p-value is two-sided.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> W = sp.csr_array(np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1]]))
    >>> z, p = gistar(np.array([5.0, 3.0, 0.0, 0.0]), W)
    >>> bool(z[0] > 0 > z[3])
    True
    """
    x = np.asarray(values, dtype=float).ravel()
    n = len(x)
    if n == 0:
        raise InputError("no values: Gi* needs at least two units.")
    if n < 2:
        raise InputError("one value only: Gi* needs at least two units.")
    if not np.isfinite(x).all():
        i = int(np.flatnonzero(~np.isfinite(x))[0])
        raise InputError(f"value {i} is {x[i]!r}; Gi* needs finite values (fill missing with 0 or drop the unit).")
    W = _as_csr(W, n)
    xbar = x.mean()
    s = x.std()
    wi = np.asarray(W.sum(axis=1)).ravel()
    lag = W @ x
    den_sq = (n * wi - wi**2) / (n - 1)
    z = np.zeros(n)
    p = np.ones(n)
    if not s > 1e-12 * max(1.0, abs(xbar)):
        warnings.warn(
            "all values are equal (zero variance): Gi* is undefined; every unit is 'not significant'.",
            HotspotsWarning,
            stacklevel=2,
        )
        return z, p
    ok = den_sq > 0
    if (~ok).any():
        warnings.warn(
            f"{int((~ok).sum())} units neighbour every unit (or none): their Gi* is undefined and set to "
            f"z = 0, p = 1; use a smaller neighbour distance.",
            HotspotsWarning,
            stacklevel=2,
        )
    z[ok] = (lag[ok] - xbar * wi[ok]) / (s * np.sqrt(den_sq[ok]))
    p[ok] = 2.0 * stats.norm.sf(np.abs(z[ok]))
    return z, p


def fdr_bh(p: Any) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values), via ``scipy.stats.false_discovery_control``."""
    p = np.asarray(p, dtype=float)
    if len(p) == 0:
        return p.copy()
    return stats.false_discovery_control(np.clip(p, 0.0, 1.0), method="bh")


def classify(z: Any, q: Any) -> np.ndarray:
    """Gi_Bin-style classes from z and (adjusted) p: hot/cold at 99, 95, 90 % or not significant."""
    z = np.asarray(z, dtype=float)
    q = np.asarray(q, dtype=float)
    out = np.full(len(z), NOT_SIGNIFICANT, dtype=object)
    for level, hot, cold in ((0.10, HOT_90, COLD_90), (0.05, HOT_95, COLD_95), (0.01, HOT_99, COLD_99)):
        sig = q <= level
        out[sig & (z > 0)] = hot
        out[sig & (z < 0)] = cold
    return out


def permutation_gistar(
    values: Any, W: Any, *, permutations: int = 999, seed: int = 0, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Gi* z (analytic) and two-sided pseudo p from esda's conditional permutation.

    Runs ``esda.G_Local(star=True, transform="B", keep_simulations=False)``. esda's
    folded pseudo p is one-sided in the direction of the observed value; it is doubled
    (capped at 1) to be comparable with the analytic two-sided p.

    Warns when the smallest attainable two-sided pseudo p, ``2 / (permutations + 1)``, is
    above the Benjamini-Hochberg threshold for a single unit at 99 % (``0.01 / n``): then FDR
    can only confirm hot spots that span many units. Refuses (``InputError``) when it is
    above ``alpha`` itself, where FDR could not reject anything.
    """
    import esda
    from libpysal.graph import Graph

    x = np.asarray(values, dtype=float).ravel()
    n = len(x)
    if permutations < 1:
        raise InputError(f"permutations must be a positive whole number, got {permutations!r}.")
    p_min = 2.0 / (permutations + 1)
    if p_min > alpha:
        raise InputError(
            f"with {permutations} permutations the smallest two-sided pseudo p is {p_min:.3g}, above "
            f"alpha = {alpha:g}: no unit could ever be significant. Use at least {int(np.ceil(2 / alpha))} "
            f"permutations, or inference = 'analytic'."
        )
    if p_min > 0.01 / n:
        warnings.warn(
            f"with {permutations} permutations and {n:,} units the smallest pseudo p ({p_min:.3g}) is above the "
            f"FDR threshold for a single 99 % hot spot ({0.01 / n:.2g}); FDR can only confirm hot spots spanning "
            f"at least {int(np.ceil(p_min * n / 0.01))} units. Use inference = 'analytic' or more permutations.",
            HotspotsWarning,
            stacklevel=2,
        )
    zero_share = float((x == 0).mean())
    if zero_share > 0.5:
        warnings.warn(
            f"{zero_share:.0%} of the values are 0: esda's pseudo p counts permutations that tie with the "
            f"observed value as extreme, so empty neighbourhoods come out as significant cold spots (on the "
            f"bundled 250 m grid, 29,532 empty cells are 'cold 99%' with 9,999 permutations). Use "
            f"inference = 'analytic', or larger units.",
            HotspotsWarning,
            stacklevel=2,
        )
    z, _ = gistar(x, W)
    A = _as_csr(W, n).tolil()
    A.setdiag(0)
    g = Graph.from_sparse(sp.csr_array(A.tocsr()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gl = esda.G_Local(x, g, transform="B", star=True, permutations=permutations, seed=seed, keep_simulations=False)
    # esda stores (k + 1) / (permutations + 1) in float32: recover the exact fraction
    p_sim = np.round(np.asarray(gl.p_sim, dtype=float) * (permutations + 1)) / (permutations + 1)
    p = np.minimum(1.0, 2.0 * p_sim)
    return z, p


def hotspot_gistar(
    units: gpd.GeoDataFrame,
    *,
    value: str = "harm",
    weights: Any = None,
    distance: float | None = None,
    fdr: bool = True,
    inference: str = "analytic",
    permutations: int = 999,
    seed: int = 0,
) -> gpd.GeoDataFrame:
    """Getis-Ord Gi* hot and cold spots of ``units`` with FDR-controlled classes.

    Parameters
    ----------
    units
        Grid cells (from :func:`hotspots.units.make_grid`, with counts) or polygons, in a
        projected CRS, with a numeric column ``value``.
    value
        Column tested (e.g. ``"harm"`` or ``"n"``); missing values are an error.
    weights
        ``n x n`` binary weights including self. Default: :func:`grid_weights` (queen, or
        the ``distance`` band) for a grid, :func:`contiguity_weights` (queen) otherwise.
    distance
        Fixed distance band in metres for a grid's default weights (None = queen).
    fdr
        Classify on Benjamini-Hochberg q-values (default) rather than raw p.
    inference
        ``"analytic"`` (normal approximation; default, fast) or ``"permutation"``
        (esda conditional permutation with ``permutations`` and ``seed``).

    Returns
    -------
    geopandas.GeoDataFrame
        ``units`` with ``gi_z``, ``gi_p``, ``gi_q`` and ``hotspot_class`` added before the
        geometry; the input is not changed. Warns when nothing is significant.

    Notes
    -----
    Getis, A. & Ord, J. K. (1992) The analysis of spatial association by use of distance
    statistics. Geographical Analysis 24(3). Ord, J. K. & Getis, A. (1995) Local spatial
    autocorrelation statistics: distributional issues and an application. Geographical
    Analysis 27(4). Benjamini, Y. & Hochberg, Y. (1995) JRSS B 57(1). Classes follow ArcGIS
    Pro's Gi_Bin (+/-3 = 99 %, +/-2 = 95 %, +/-1 = 90 % confidence).
    """
    if inference not in INFERENCES:
        raise InputError(f"inference must be one of {list(INFERENCES)}, got {inference!r}.")
    if not isinstance(units, gpd.GeoDataFrame):
        raise InputError(f"units must be a GeoDataFrame, got {type(units).__name__}.")
    if len(units) == 0:
        raise InputError("units are empty: there is nothing to test for hot spots.")
    if value not in units.columns:
        raise InputError(
            f"units have no column {value!r}; choose one of {[c for c in units.columns if c != units.geometry.name]}."
        )
    check_projected(units, "units")
    x = unit_values(units, value, need="Gi* needs a number in every unit (0 where nothing happened)")
    if weights is None:
        weights = (
            grid_weights(units, distance=distance)
            if "grid" in units.attrs and CELL_ID in units
            else (contiguity_weights(units))
        )
    if inference == "analytic":
        z, p = gistar(x, weights)
    else:
        z, p = permutation_gistar(x, weights, permutations=permutations, seed=seed)
    q = fdr_bh(p) if fdr else p.copy()
    cls = classify(z, q)
    out = units.copy()
    geom = out.geometry.name
    cols = [c for c in out.columns if c != geom and c not in GISTAR_COLUMNS]
    out = out[[*cols, geom]]
    for name, arr in ((GI_Z, z), (GI_P, p), (GI_Q, q), (HOTSPOT_CLASS, cls)):
        out.insert(len(out.columns) - 1, name, arr)
    out[HOTSPOT_CLASS] = out[HOTSPOT_CLASS].astype(object)
    out.attrs = dict(units.attrs)
    n_hot = int(np.isin(cls, [HOT_99, HOT_95, HOT_90]).sum())
    n_cold = int(np.isin(cls, [COLD_99, COLD_95, COLD_90]).sum())
    log.info("Gi*: %d hot and %d cold units of %d (%s, FDR %s)", n_hot, n_cold, len(cls), inference, fdr)
    if n_hot + n_cold == 0:
        warnings.warn(
            f"no unit is a significant hot or cold spot of {value!r} at 90 % confidence"
            f"{' after FDR correction' if fdr else ''}.",
            HotspotsWarning,
            stacklevel=2,
        )
    return out
