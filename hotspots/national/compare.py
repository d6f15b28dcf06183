"""National outputs beyond the hot spots: places ranked nationally, and a table comparing the forces.

:func:`rank_national` runs the rank stage itself (:func:`hotspots.rank.stage.rank`, the two-axis
ranking by default) on every LSOA of England and Wales at once, so the ranks, tiers and intervals
are national. :func:`force_table` compares the 43 forces on the same incidents.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.detect.nte import empty_zones
from hotspots.detect.stage import CLUSTER_LAYER_COLUMNS, DetectResult
from hotspots.io.config import BoundariesConfig
from hotspots.national.detect import FORCE, NationalDetect
from hotspots.prepare.accounting import Accounting
from hotspots.prepare.config import InstitutionsConfig, ScopeConfig, StudyConfig, StudyInputs
from hotspots.prepare.forces import list_forces
from hotspots.prepare.study import Study
from hotspots.rank.columns import ACT_NOW, TIER
from hotspots.rank.concentration import gini, gini_chance_floor
from hotspots.rank.config import RankConfig
from hotspots.rank.districts import annualise
from hotspots.rank.stage import POPULATION_YEAR, RankResult, rank

NAME = "England and Wales"
"""The national study's name."""

TOP_SHARE = 0.05
"""The top places whose share of a force's harm the table gives (5 % of its LSOAs)."""

FORCE_COLUMNS = [
    FORCE,
    "force_name",
    "country",
    "lsoas",
    "population",
    "population_year",
    "incidents",
    "months",
    "incidents_per_year",
    "incidents_per_1000_yr",
    "harm_per_year",
    "harm_per_1000_yr",
    "top5_harm_share",
    "gini",
    "gini_chance_floor",
    "gini_chance_floor_basis",
    "act_now_places",
    "hot_lsoas",
    "hot_cells",
    "rows_read",
    "rows_used",
]
"""Columns of the force comparison table (``forces.csv``); docs/national.md says what each means."""


def national_study(
    incidents: gpd.GeoDataFrame,
    lsoa: gpd.GeoDataFrame,
    *,
    deprivation: pd.DataFrame | None,
    venues: gpd.GeoDataFrame | None,
    accounting: Accounting,
    boundaries: BoundariesConfig,
    scope: ScopeConfig,
    institutions: InstitutionsConfig,
    start: str | None,
    end: str | None,
) -> Study:
    """A :class:`~hotspots.prepare.study.Study` of the whole country, for the rank stage."""
    config = StudyInputs(
        study=StudyConfig(name=NAME, start=start, end=end),
        boundaries=boundaries,
        crime=(),
        scope=scope,
        institutions=institutions,
    )
    return Study(
        config=config,
        incidents=incidents,
        lsoa=lsoa,
        deprivation=deprivation,
        districts=None,
        wards=None,
        venues=venues,
        area=None,
        accounting=accounting,
    )


def _detect_result(nat: NationalDetect, lsoa: gpd.GeoDataFrame) -> DetectResult:
    """The national hot spots as the rank stage reads them.

    The KDE component reads a grid's ``kde`` over the cells whose centre lies in each LSOA; the
    national KDE is already aggregated per LSOA (in the partitions), so each LSOA gets one
    "cell": its representative point carrying that value.
    """
    points = gpd.GeoDataFrame(
        {C.KDE: nat.lsoa[C.KDE].to_numpy(dtype=float)},
        geometry=shapely.point_on_surface(np.asarray(lsoa.geometry.values)),
        crs=C.CRS,
    )
    clusters = gpd.GeoDataFrame({c: [] for c in CLUSTER_LAYER_COLUMNS}, geometry=[], crs=C.CRS)
    return DetectResult(grid=points, lsoa=nat.lsoa, clusters=clusters, nte_zones=empty_zones(), emerging=None)


def rank_national(study: Study, nat: NationalDetect, cfg: RankConfig) -> RankResult:
    """The rank stage on every LSOA of the country (two axes by default; ``[rank]`` as configured)."""
    return rank(study, _detect_result(nat, study.lsoa), cfg)


def _top_share(harm: np.ndarray, share: float = TOP_SHARE) -> float:
    if len(harm) == 0 or harm.sum() <= 0:
        return float("nan")
    k = max(1, math.ceil(share * len(harm)))
    return float(np.sort(harm)[::-1][:k].sum() / harm.sum())


def force_table(
    nat: NationalDetect,
    places: pd.DataFrame,
    incidents: pd.DataFrame,
    rows_by_force: pd.DataFrame,
    *,
    chance_draws: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """Compare the forces: incidents, rates a year, concentration and act-now places (:data:`FORCE_COLUMNS`).

    Parameters
    ----------
    nat
        The national hot spots (LSOA layer with ``force``, ``n``, ``harm``, ``population``; grid).
    places
        The national ranking (``lsoa_code``, ``tier``).
    incidents
        The incidents (``source``, ``month``, ``lsoa_code``, ``harm``), to annualise.
    rows_by_force
        Rows read and used from each force's own files (:func:`hotspots.national.ingest.accounting_by_force`).
    chance_draws, seed
        Simulations of the Gini chance floor and their seed.

    Notes
    -----
    Incidents belong to the force whose area holds their LSOA (not the force that recorded
    them). Rates are per 1,000 residents of the IoD2019 denominators (mid-2015, England only:
    Welsh forces have none, so their rates and residents' chance floor are empty and the floor is
    by area). The Gini chance floor is the mean Gini of the same number of incidents placed at
    random in proportion to residents (Bowers and Johnson; see :func:`gini_chance_floor`).
    """
    layer = pd.DataFrame(nat.lsoa.drop(columns="geometry"))
    area = nat.lsoa.geometry.area.to_numpy()
    annual = annualise(incidents, layer[C.LSOA_CODE])
    layer["per_year"] = annual["incidents_per_year"].to_numpy()
    layer["harm_year"] = annual["harm_per_year"].to_numpy()
    tier = places.set_index(places[C.LSOA_CODE].astype(str))[TIER].reindex(layer[C.LSOA_CODE].astype(str))
    layer["act_now"] = (tier.to_numpy() == ACT_NOW).astype(int)
    months = int(pd.Series(incidents[C.MONTH]).nunique()) if len(incidents) else 0
    info = list_forces().set_index("force")
    cells = nat.grid.groupby(FORCE)[C.HOTSPOT_CLASS].agg(lambda s: int(s.str.startswith("hot").sum()))
    seeds = np.random.SeedSequence(seed).spawn(max(1, layer[FORCE].nunique()))
    rows = []
    for k, (force, g) in enumerate(layer.groupby(FORCE, sort=True)):
        pop = pd.to_numeric(g[C.POPULATION], errors="coerce").to_numpy(dtype=float)
        has_pop = bool(np.nansum(pop) > 0)
        n = g[C.N].to_numpy(dtype=float)
        weights = pop if has_pop else area[g.index.to_numpy()]
        floor = gini_chance_floor(int(n.sum()), weights, draws=chance_draws, seed=seeds[k])
        popn = float(np.nansum(pop)) if has_pop else float("nan")
        per_year, harm_year = float(g["per_year"].sum()), float(g["harm_year"].sum())
        own = rows_by_force.set_index("force").reindex([force])
        rows.append(
            {
                FORCE: force,
                "force_name": info["force_name"].get(force, force),
                "country": info["country"].get(force, ""),
                "lsoas": len(g),
                "population": popn,
                "population_year": POPULATION_YEAR if has_pop else "",
                "incidents": int(n.sum()),
                "months": months,
                "incidents_per_year": per_year,
                "incidents_per_1000_yr": per_year / popn * 1000 if has_pop else float("nan"),
                "harm_per_year": harm_year,
                "harm_per_1000_yr": harm_year / popn * 1000 if has_pop else float("nan"),
                "top5_harm_share": _top_share(g[C.HARM_SUM].to_numpy(dtype=float)),
                "gini": gini(n) if n.sum() > 0 else float("nan"),
                "gini_chance_floor": _floor_value(floor),
                "gini_chance_floor_basis": "residents" if has_pop else "area (no residents bundled)",
                "act_now_places": int(g["act_now"].sum()),
                "hot_lsoas": int(g[C.HOTSPOT_CLASS].astype(str).str.startswith("hot").sum()),
                "hot_cells": int(cells.get(force, 0)),
                "rows_read": _own(own, "read"),
                "rows_used": _own(own, "used"),
            }
        )
    out = pd.DataFrame(rows, columns=FORCE_COLUMNS)
    return out.sort_values("harm_per_1000_yr", ascending=False, na_position="last", kind="stable").reset_index(
        drop=True
    )


def _floor_value(floor: dict[str, float]) -> float:
    return float(floor["mean"])


def _own(own: pd.DataFrame, col: str) -> int:
    if col not in own.columns or own[col].isna().all():
        return 0
    return int(own[col].iloc[0])


__all__ = ["FORCE_COLUMNS", "NAME", "TOP_SHARE", "force_table", "national_study", "rank_national"]
