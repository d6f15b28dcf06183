"""Components ``gi_z`` and ``kde``: hot spot strength from the detect stage (never recomputed here)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots.rank.columns import GI_Z, HOTSPOT_CLASS, KDE
from hotspots.rank.components.base import Component, ComponentContext, ReasonContext


def kde_per_lsoa(lsoa: gpd.GeoDataFrame, grid: gpd.GeoDataFrame, *, how: str) -> np.ndarray:
    """Aggregate grid-cell KDE to LSOAs: cells whose centre is inside, else the cell under the LSOA."""
    values = pd.to_numeric(grid[KDE], errors="coerce").to_numpy(dtype=float)
    cent = gpd.GeoSeries(grid.geometry.centroid.values, crs=grid.crs)
    poly = gpd.GeoSeries(lsoa.geometry.values, crs=lsoa.crs)
    cell_i, lsoa_i = poly.sindex.query(cent.values, predicate="within")
    agg = pd.Series(values[cell_i]).groupby(lsoa_i).agg(how)
    out = np.array(agg.reindex(np.arange(len(lsoa))).to_numpy(dtype=float), copy=True)
    empty = np.flatnonzero(np.isnan(out))
    if len(empty):
        rep = lsoa.geometry.iloc[empty].representative_point().values
        pt_i, c_i = grid.sindex.query(rep, predicate="within")
        first = pd.Series(c_i).groupby(pt_i).first()
        out[empty[first.index.to_numpy()]] = values[first.to_numpy()]
    return out


def _kde(ctx: ComponentContext) -> np.ndarray:
    if ctx.grid is None or KDE not in ctx.grid.columns:
        return np.full(len(ctx.lsoa), np.nan)
    return kde_per_lsoa(ctx.lsoa, ctx.grid, how=ctx.kde_aggregate)


def _gi_phrase(r: ReasonContext, i: int) -> str:
    cls = r.cols[HOTSPOT_CLASS][i]
    label = f"Gi* {cls}" if isinstance(cls, str) and cls.startswith("hot") else "Gi*"
    return f"Top {r.pct['gi_z'][i]}% hot-spot strength ({label}, z = {r.cols[GI_Z][i]:.1f})"


def _kde_phrase(r: ReasonContext, i: int) -> str:
    return f"Top {r.pct['kde'][i]}% violence density (KDE {r.cols[KDE][i]:,.0f} per km²)"


GI_Z_COMPONENT = Component(
    name="gi_z",
    column=GI_Z,
    description="Getis-Ord Gi* z of the LSOA's harm, from the detect stage",
    default_weight=0.10,
    compute=lambda ctx: ctx.gi_z,
    phrase=_gi_phrase,
)

KDE_COMPONENT = Component(
    name="kde",
    column=KDE,
    description="kernel density of harm per km² over the grid cells in the LSOA ([rank] kde_aggregate)",
    default_weight=0.10,
    compute=_kde,
    phrase=_kde_phrase,
)
