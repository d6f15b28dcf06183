"""What a ranking component is (:class:`Component`) and what it is computed from (:class:`ComponentContext`).

A component turns the study's inputs for every LSOA into one raw value (higher = more need),
says how to phrase it in a place's reason, and, when it is a function of the place's
incident counts, how to recompute it from the counts drawn in a Monte Carlo draw. Each
component lives in its own module of :mod:`hotspots.rank.components` and is listed once in
:data:`hotspots.rank.components.registry.REGISTRY`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd


@dataclass(frozen=True)
class ComponentContext:
    """The inputs of every component, one value per study LSOA (in ``lsoa``'s order).

    Attributes
    ----------
    lsoa, incidents, venues, deprivation, detect_lsoa, grid
        As :func:`hotspots.rank.components.place_components` receives them.
    venue_radius, deprivation_measure, kde_aggregate
        The options.
    codes
        LSOA codes.
    n, harm
        In-scope incidents and their summed harm weights.
    population, area_km2
        Residents (IoD2019 mid-2015; NaN where unknown) and area in km².
    harm_near, venues_near, venues_inside
        Harm within ``venue_radius`` of a venue, venues within ``venue_radius`` of the LSOA,
        venues inside it (all NaN without venues).
    gi_z, hotspot_class
        The detect stage's Gi* z and class (NaN / None without it).
    imd_nc_score, imd_nc_decile, imd_nc_rank, ranked
        IMD without its Crime domain (:func:`hotspots.prepare.deprivation.imd_without_crime`)
        and the number of LSOAs its rank is out of (NaN without the domain ranks).
    idaci, cyp_rank
        Derived IDACI rate (NaN where suppressed) and the CYP sub-domain rank.
    """

    lsoa: gpd.GeoDataFrame
    incidents: gpd.GeoDataFrame
    venues: gpd.GeoDataFrame | None
    deprivation: pd.DataFrame | None
    detect_lsoa: pd.DataFrame | None
    grid: gpd.GeoDataFrame | None
    venue_radius: float
    deprivation_measure: str
    kde_aggregate: str
    codes: np.ndarray
    n: np.ndarray
    harm: np.ndarray
    population: np.ndarray
    area_km2: np.ndarray
    harm_near: np.ndarray
    venues_near: np.ndarray
    venues_inside: np.ndarray
    gi_z: np.ndarray
    hotspot_class: np.ndarray
    imd_nc_score: np.ndarray
    imd_nc_decile: np.ndarray
    imd_nc_rank: np.ndarray
    ranked: float
    idaci: np.ndarray
    cyp_rank: np.ndarray

    def numeric(self, name: str) -> np.ndarray:
        """A numeric column of ``lsoa`` (NaN where missing or absent)."""
        if name not in self.lsoa.columns:
            return np.full(len(self.lsoa), np.nan)
        return pd.to_numeric(self.lsoa[name], errors="coerce").to_numpy(dtype=float)


@dataclass(frozen=True)
class ReasonContext:
    """What a component's phrase may quote: the places' columns, percentiles and labels.

    Attributes
    ----------
    cols
        Column name -> values of the places frame.
    pct
        Component name -> each place's "top x %" among places with data.
    radius
        The venue radius as text (``"200 m"``).
    deprivation_label
        ``"IMD (excluding crime)"`` or ``"IMD"``.
    """

    cols: dict[str, np.ndarray]
    pct: dict[str, np.ndarray]
    radius: str
    deprivation_label: str


Resample = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
"""``(total_harm, near_harm, per_1000) -> values`` of a component in Monte Carlo draws ``(d, places)``."""


@dataclass(frozen=True)
class Component:
    """One ranking component of the composite score.

    Attributes
    ----------
    name
        Its key in ``[rank] weights``.
    column
        The ``places`` column holding its raw value (higher = more need).
    description
        One line for the documentation.
    default_weight
        Weight in :data:`hotspots.rank.config.DEFAULT_WEIGHTS` (0 = off unless configured).
    compute
        ``ComponentContext -> values`` (one per LSOA, NaN = no data, never 0 for missing).
    phrase
        ``(ReasonContext, i) -> str``: how the reason quotes place ``i``'s value.
    resample
        How to recompute it from Monte Carlo counts (None: held fixed in every draw).
    """

    name: str
    column: str
    description: str
    default_weight: float
    compute: Callable[[ComponentContext], np.ndarray]
    phrase: Callable[[ReasonContext, int], str]
    resample: Resample | None = None
