"""Local Moran's I (LISA) clusters and outliers of area rates, through esda.

High-high (HH) areas are high-rate areas among high-rate neighbours (clusters), low-low (LL)
the opposite; high-low (HL) and low-high (LH) are spatial outliers. Significance comes from
esda's conditional permutation (``Moran_Local``), seeded. esda's permutation kernel runs in
plain numpy here (numba is not a dependency), so there is no compile start-up: 999
permutations on the 679 Nottinghamshire LSOAs take well under a second.
"""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from hotspots import columns as C
from hotspots.detect.gistar import fdr_bh
from hotspots.errors import HotspotsWarning, InputError
from hotspots.units import RATE_PER_1000, unit_values
from hotspots.validate import check_projected

if TYPE_CHECKING:
    from libpysal.graph import Graph
    from libpysal.weights import W as PysalW

log = logging.getLogger(__name__)

LISA_I = "lisa_i"
"""Local Moran's I of the unit (row-standardised queen weights, standardised values)."""
LISA_P = "lisa_p"
"""Pseudo p-value from esda's conditional permutation (folded, one-sided as esda reports it)."""
LISA_CLASS = C.LISA_CLASS
"""One of :data:`LISA_CLASSES`."""
LISA_COLUMNS = [LISA_I, LISA_P, LISA_CLASS]
"""Columns :func:`hotspot_lisa` adds."""

HH = "HH"
HL = "HL"
LH = "LH"
LL = "LL"
LISA_NOT_SIGNIFICANT = "not significant"
LISA_CLASSES = [HH, HL, LH, LL, LISA_NOT_SIGNIFICANT]
"""HH high among high, HL high among low, LH low among high, LL low among low (esda quadrants 1, 4, 2, 3)."""
_QUADRANT = {1: HH, 2: LH, 3: LL, 4: HL}
MIN_UNITS = 3
"""Fewest units local Moran's I accepts."""
MIN_PERMUTATIONS = 99
"""Fewest conditional permutations accepted (the smallest pseudo p is then 0.01)."""


def hotspot_lisa(
    units: gpd.GeoDataFrame,
    *,
    value: str = RATE_PER_1000,
    weights: Graph | PysalW | sp.sparray | sp.spmatrix | None = None,
    permutations: int = 999,
    alpha: float = 0.05,
    fdr: bool = False,
    seed: int = 0,
) -> gpd.GeoDataFrame:
    """Local Moran's I of ``value`` with HH / HL / LH / LL / not significant classes.

    Parameters
    ----------
    units
        Polygons (e.g. :func:`hotspots.units.lsoa_units`) in a projected CRS.
    value
        Numeric column (default ``rate_per_1000``). Missing values are an error.
    weights
        libpysal ``Graph``/``W`` or a binary sparse matrix without self-weights; default
        queen contiguity (``Graph.build_contiguity``). Row-standardised before use.
    permutations
        Conditional permutations for the pseudo p (default 999; seeded with ``seed``).
    alpha
        Significance level of the pseudo p (or of its FDR q when ``fdr``).
    fdr
        Benjamini-Hochberg over all units (default off, as GeoDa: with 999 permutations
        the smallest pseudo p is 0.001, so FDR at 679 units keeps only large clusters).

    Returns
    -------
    geopandas.GeoDataFrame
        ``units`` with ``lisa_i``, ``lisa_p`` and ``lisa_class`` added before the
        geometry. Units with no neighbour (islands) are "not significant" (warned).

    Notes
    -----
    Anselin, L. (1995) Local indicators of spatial association - LISA. Geographical
    Analysis 27(2). esda ``Moran_Local`` (Rey & Anselin 2007, PySAL).
    """
    import esda

    _check_options(units, value=value, permutations=permutations, alpha=alpha)
    x = unit_values(
        units, value, need="local Moran needs a number in every unit (drop units without a population first)"
    )
    out = units.copy()
    geom = out.geometry.name
    out = out[[c for c in out.columns if c != geom and c not in LISA_COLUMNS] + [geom]]
    g = _graph(units, weights)
    card = np.asarray(g.sparse.sum(axis=1)).ravel()
    islands = card == 0
    if islands.any():
        warnings.warn(
            f"{int(islands.sum())} units have no neighbour (e.g. row {int(np.argmax(islands))}); "
            f"they are 'not significant'.",
            HotspotsWarning,
            stacklevel=2,
        )
    cls = np.full(len(x), LISA_NOT_SIGNIFICANT, dtype=object)
    if x.std() <= 1e-12 * max(1.0, abs(x.mean())):
        warnings.warn(
            f"all values of {value!r} are equal (zero variance): local Moran's I is undefined; "
            f"every unit is 'not significant'.",
            HotspotsWarning,
            stacklevel=2,
        )
        out.insert(len(out.columns) - 1, LISA_I, np.zeros(len(x)))
        out.insert(len(out.columns) - 1, LISA_P, np.ones(len(x)))
        out.insert(len(out.columns) - 1, LISA_CLASS, cls)
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ml = esda.Moran_Local(
            x, g.transform("r"), transformation="r", permutations=permutations, seed=seed, keep_simulations=False
        )
    # esda stores (k + 1) / (permutations + 1) in float32: recover the exact fraction, so that
    # p = 0.05 is not read as 0.0500000007 > alpha
    p = np.round(np.asarray(ml.p_sim, dtype=float) * (permutations + 1)) / (permutations + 1)
    q = fdr_bh(p) if fdr else p
    quad = np.asarray(ml.q)
    sig = (q <= alpha) & ~islands
    for code, name in _QUADRANT.items():
        cls[sig & (quad == code)] = name
    out.insert(len(out.columns) - 1, LISA_I, np.where(islands, 0.0, np.asarray(ml.Is, dtype=float)))
    out.insert(len(out.columns) - 1, LISA_P, np.where(islands, 1.0, p))
    out.insert(len(out.columns) - 1, LISA_CLASS, cls)
    counts = pd.Series(cls).value_counts().to_dict()
    log.info("local Moran of %s: %s", value, counts)
    if not sig.any():
        warnings.warn(
            f"no unit has a significant local Moran's I of {value!r} at alpha = {alpha:g}.",
            HotspotsWarning,
            stacklevel=2,
        )
    return out


def _check_options(units: Any, *, value: str, permutations: Any, alpha: float) -> None:
    if not isinstance(units, gpd.GeoDataFrame):
        raise InputError(f"units must be a GeoDataFrame, got {type(units).__name__}.")
    if len(units) < MIN_UNITS:
        raise InputError(f"local Moran's I needs at least {MIN_UNITS} units, got {len(units)}.")
    if value not in units.columns:
        raise InputError(
            f"units have no column {value!r}; choose one of {[c for c in units.columns if c != units.geometry.name]}."
        )
    check_projected(units, "units")
    if not (isinstance(permutations, int) and permutations >= MIN_PERMUTATIONS):
        raise InputError(f"permutations must be a whole number >= {MIN_PERMUTATIONS}, got {permutations!r}.")
    if not 0 < alpha < 1:
        raise InputError(f"alpha must be between 0 and 1, got {alpha!r}.")


def _graph(units: gpd.GeoDataFrame, weights: Any) -> Any:
    """A libpysal Graph from ``weights`` (default: queen contiguity of the units), without self-weights."""
    from libpysal.graph import Graph

    if weights is None:
        return Graph.build_contiguity(gpd.GeoSeries(units.geometry.values, crs=units.crs), rook=False)
    if isinstance(weights, Graph):
        return weights
    if sp.issparse(weights):
        A = sp.csr_array(weights).tolil()
        A.setdiag(0)
        return Graph.from_sparse(sp.csr_array(A.tocsr()))
    return Graph.from_W(weights)
