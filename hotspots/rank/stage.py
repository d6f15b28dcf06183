"""Pipeline stage ``rank``: rank places (LSOAs) for the Board, on two axes (default) or one composite score.

:func:`rank` takes the study, the detect stage's result and ``[rank]``; it builds every
LSOA's components (:func:`~hotspots.rank.components.place_components`), ranks them with
the configured method (:func:`~hotspots.rank.places.rank_axes` or
:func:`~hotspots.rank.composite.rank_places`), profiles the districts
(:func:`~hotspots.rank.districts.district_profiles`) and measures concentration with its
chance floor. The public names of the rank package stay importable from here.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.detect.stage import DetectResult
from hotspots.errors import ConfigError, HotspotsWarning
from hotspots.io.iod import national_n
from hotspots.prepare.deprivation import idaci_rate
from hotspots.prepare.study import Study
from hotspots.rank.axes import national_percentile
from hotspots.rank.columns import (
    AXES_PLACES_COLUMNS,
    COMPONENT_COLUMNS,
    CYP_DECILE,
    CYP_NEED,
    DEPRIVATION_SCORE,
    DISTRICT_COLUMNS,
    GI_Z,
    HARM,
    HARM_NEAR,
    HARM_RATE,
    HOTSPOT_CLASS,
    IDACI_RATE_COL,
    IMD_DECILE,
    IMD_NC_DECILE_COL,
    KDE,
    MISSING,
    N_INCIDENTS,
    NEAR_VENUE_SHARE,
    P_TOP_N,
    PLACE_ID_COLUMNS,
    POPULATION,
    RANK,
    RANK_HIGH,
    RANK_LOW,
    REASON,
    SCORE,
    TIER,
    VENUE_DENSITY,
    VENUES_NEAR,
)
from hotspots.rank.components import COMPONENTS, CONTRIB, DEFAULT_WEIGHTS, RESAMPLED, place_components
from hotspots.rank.composite import PLACES_COLUMNS as COMPOSITE_PLACES_COLUMNS
from hotspots.rank.composite import composite_score, rank_places
from hotspots.rank.concentration import concentration, gini_chance_floor, lorenz
from hotspots.rank.config import RankConfig, check_weights
from hotspots.rank.districts import annualise, district_profiles
from hotspots.rank.eb import Dispersion, estimate_dispersion, mark_scale
from hotspots.rank.monthly import monthly_harm
from hotspots.rank.options import (
    COMBINES,
    DEPRIVATION_MEASURES,
    GEOMETRIC_FLOOR,
    INTERVAL,
    KDE_AGGREGATES,
    ON_MISSING,
    SCALINGS,
    WEIGHT_NOISES,
)
from hotspots.rank.places import rank_axes
from hotspots.rank.scale import scale
from hotspots.steps import step

__all__ = [
    "COMBINES",
    "COMPONENTS",
    "COMPONENT_COLUMNS",
    "COMPOSITE_PLACES_COLUMNS",
    "CONTRIB",
    "CYP_DECILE",
    "CYP_NEED",
    "DEFAULT_WEIGHTS",
    "DEPRIVATION_MEASURES",
    "DEPRIVATION_SCORE",
    "DISTRICT_COLUMNS",
    "GEOMETRIC_FLOOR",
    "GI_Z",
    "HARM",
    "HARM_NEAR",
    "HARM_RATE",
    "HOTSPOT_CLASS",
    "IDACI_RATE_COL",
    "IMD_DECILE",
    "IMD_NC_DECILE_COL",
    "INTERVAL",
    "KDE",
    "KDE_AGGREGATES",
    "MISSING",
    "NEAR_VENUE_SHARE",
    "N_INCIDENTS",
    "ON_MISSING",
    "PLACES_COLUMNS",
    "PLACE_ID_COLUMNS",
    "POPULATION",
    "POPULATION_YEAR",
    "P_TOP_N",
    "RANK",
    "RANK_HIGH",
    "RANK_LOW",
    "REASON",
    "RESAMPLED",
    "SCALINGS",
    "SCORE",
    "TIER",
    "VENUES_NEAR",
    "VENUE_DENSITY",
    "WEIGHT_NOISES",
    "RankConfig",
    "RankResult",
    "check_weights",
    "composite_score",
    "district_profiles",
    "partial_sources",
    "place_components",
    "rank",
    "rank_places",
    "scale",
]

log = logging.getLogger(__name__)

PLACES_COLUMNS = AXES_PLACES_COLUMNS
"""Columns of ``places`` with the default method (axes); the composite's are :data:`COMPOSITE_PLACES_COLUMNS`."""

POPULATION_YEAR = "mid-2015"
"""Year of the residents behind every rate: the IoD2019 population denominators (File 6) are mid-2015."""

NATIONAL_SHARE = 0.9
"""IDACI percentiles are national when the deprivation data hold IDACI numerators for at least this share of England."""


def partial_sources(incidents: pd.DataFrame, lsoa: pd.DataFrame) -> list[str]:
    """Sources whose incidents fall in some districts of the study area but not all.

    Pooling such a source (e.g. a City-only extract) with force-wide ones raises the places
    it covers; the stage lists them in the manifest, and ``[study] sources`` can leave them out.
    """
    if C.DISTRICT not in lsoa.columns or len(incidents) == 0:
        return []
    district_of = pd.Series(lsoa[C.DISTRICT].to_numpy(), index=lsoa[C.LSOA_CODE].astype(str).to_numpy())
    want = set(district_of.dropna())
    d = incidents[C.LSOA_CODE].astype(str).map(district_of)
    frame = pd.DataFrame({"s": incidents[C.SOURCE].astype(str).to_numpy(), "d": d.to_numpy()}).dropna()
    frame = frame.drop_duplicates()  # each source's set of districts, from one row per source and district
    return [str(src) for src, ds in frame.groupby("s", sort=True)["d"] if not set(ds) >= want]


@dataclass(frozen=True)
class RankResult:
    """The ranked places and the district profiles.

    Attributes
    ----------
    places
        One row per study-area LSOA: :data:`PLACES_COLUMNS` (axes, sorted by ``order``) or
        :data:`COMPOSITE_PLACES_COLUMNS` (composite, sorted by ``rank``).
    districts
        District profiles (:data:`DISTRICT_COLUMNS`).
    concentration
        Concentration of incidents over LSOAs (Gini with its chance floors, shares) with the
        Lorenz curve under ``"lorenz"``.
    auto
        Parameters chosen automatically.
    summary
        Method, settings, tier sizes, dispersion, missing data, rates and concentration for
        the manifest (docs/rank.md lists every field).
    """

    places: gpd.GeoDataFrame
    districts: pd.DataFrame
    concentration: dict[str, Any]
    auto: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


def _ranked_incidents(study: Study) -> gpd.GeoDataFrame:
    """The incidents places are ranked on (``[study] sources``, institutions left out by default)."""
    place_incidents = getattr(study, "place_incidents", None)
    return place_incidents("rank") if callable(place_incidents) else study.analysis_incidents


def rank(study: Study, detected: DetectResult, cfg: RankConfig) -> RankResult:
    """Pipeline stage ``rank``: rank the LSOAs and profile the districts.

    Parameters
    ----------
    study
        The loaded study.
    detected
        The detect stage's result: its LSOA Gi* and grid KDE are composite components and
        context columns of the axes, computed on the same place-analysis incidents.
    cfg
        The ``[rank]`` section.

    Returns
    -------
    RankResult
        Places, district profiles, concentration, automatic choices and a summary.
    """
    incidents = _ranked_incidents(study)
    notes: dict[str, Any] = {}
    partial = partial_sources(incidents, study.lsoa)
    if partial:
        notes["partial_coverage_sources"] = partial
        log.info("rank: sources covering only part of the area: %s", ", ".join(partial))
    with step("components"):
        comps = place_components(
            study.lsoa,
            incidents,
            venues=study.venues,
            deprivation=study.deprivation,
            detect_lsoa=detected.lsoa,
            grid=detected.grid,
            venue_radius=cfg.venue_radius,
            deprivation_measure=cfg.deprivation,
            kde_aggregate=cfg.kde_aggregate,
        )
    composite = cfg.method == "composite"
    with step("places"):
        places = _composite(comps, cfg, notes) if composite else _axes(study, incidents, comps, cfg)
    annual = annualise(incidents, study.lsoa[C.LSOA_CODE])
    with step("districts"):
        profiles = district_profiles(
            places,
            top_n=cfg.top_n,
            annual=annual,
            population_year=POPULATION_YEAR,
            chance_draws=cfg.chance_draws,
            seed=cfg.seed,
        )
    with step("concentration"):
        conc = _concentration(places, study.lsoa, cfg)
    summary = {**dict(places.attrs.get("rank", {})), **notes}
    summary["concentration_lsoa"] = {k: v for k, v in conc.items() if k != "lorenz"}
    summary["rates"] = _rates_summary(annual, study.lsoa)
    summary["ranked_incidents"] = len(incidents)
    summary["evidence"] = _evidence(study, incidents)
    log.info("rank: %d places ranked (%s); top: %s", len(places), cfg.method, places[C.LSOA_NAME].head(3).tolist())
    return RankResult(places=places, districts=profiles, concentration=conc, summary=summary)


def _concentration(places: pd.DataFrame, lsoa: gpd.GeoDataFrame, cfg: RankConfig) -> dict[str, Any]:
    """Gini and shares of incidents over LSOAs, with the Gini expected by chance (residents, area)."""
    n = places[N_INCIDENTS].to_numpy(dtype=float)
    conc: dict[str, Any] = dict(concentration(n))
    by_code = lsoa.set_index(lsoa[C.LSOA_CODE].astype(str))
    codes = places[C.LSOA_CODE].astype(str)
    pop = pd.to_numeric(by_code[C.POPULATION], errors="coerce").reindex(codes).to_numpy(dtype=float)
    area = by_code.geometry.area.reindex(codes).to_numpy(dtype=float)
    seqs = np.random.SeedSequence(cfg.seed).spawn(2)
    total = int(n.sum())
    conc["gini_chance_floor_residents"] = gini_chance_floor(total, pop, draws=cfg.chance_draws, seed=seqs[0])
    conc["gini_chance_floor_area"] = gini_chance_floor(total, area, draws=cfg.chance_draws, seed=seqs[1])
    conc["chance_floor_note"] = (
        f"mean Gini of {total:,} incidents placed at random over the same {len(n):,} LSOAs, in proportion to "
        f"residents ({POPULATION_YEAR}) or to area, {cfg.chance_draws} simulations (seed {cfg.seed}); the observed "
        "Gini shows concentration only as far as it exceeds these"
    )
    conc["lorenz"] = lorenz(n)
    return conc


def _evidence(study: Study, incidents: pd.DataFrame) -> dict[str, Any]:
    """What the ranking rests on: incidents per source with each source's period, and what was left out."""
    left_out = len(study.analysis_incidents) - len(incidents)
    by_source = {
        str(src): {
            "incidents": len(g),
            "first_month": str(g[C.MONTH].min()),
            "last_month": str(g[C.MONTH].max()),
            "months": int(g[C.MONTH].nunique()),
        }
        for src, g in incidents.groupby(C.SOURCE, sort=True)
    }
    return {"incidents": len(incidents), "institutional_incidents_left_out": left_out, "sources": by_source}


def _rates_summary(annual: pd.DataFrame, lsoa: gpd.GeoDataFrame) -> dict[str, Any]:
    """Incidents and harm a year per 1,000 residents over the study area, with the population year."""
    pop = float(pd.to_numeric(lsoa[C.POPULATION], errors="coerce").sum())
    per_year = float(annual["incidents_per_year"].sum())
    harm_year = float(annual["harm_per_year"].sum())
    return {
        "population": pop,
        "population_year": POPULATION_YEAR,
        "incidents_per_year": per_year,
        "incidents_per_1000_yr": per_year / pop * 1000 if pop > 0 else None,
        "harm_per_1000_yr": harm_year / pop * 1000 if pop > 0 else None,
        "months_by_source": annual.attrs.get("months_by_source", {}),
        "rule": "each source's incidents x 12 / its number of months, summed over sources, per 1,000 residents",
    }


def _axes(study: Study, incidents: gpd.GeoDataFrame, comps: gpd.GeoDataFrame, cfg: RankConfig) -> gpd.GeoDataFrame:
    """The axes method on the study: exposure, dispersion, annual harm and reference percentiles."""
    codes = comps[C.LSOA_CODE].astype(str).tolist()
    months = sorted(incidents[C.MONTH].dropna().astype(str).unique()) if len(incidents) else []
    mats, scales = [], []
    for _, g in incidents.groupby(C.SOURCE, sort=True):
        src_months = sorted(g[C.MONTH].dropna().astype(str).unique())
        mats.append(monthly_harm(g, codes, src_months))
        scales.append(mark_scale(g[C.HARM].to_numpy(dtype=float)))
    disp = estimate_dispersion(mats, scale=scales) if mats else Dispersion()
    annual = annualise(incidents, codes)
    imd_pct = None
    if cfg.deprivation == "imd" and C.IMD_RANK in study.lsoa.columns:
        n = national_n(study.deprivation if study.deprivation is not None else study.lsoa)
        imd_pct = national_percentile(pd.to_numeric(study.lsoa[C.IMD_RANK], errors="coerce").to_numpy(dtype=float), n)
    return rank_axes(
        comps,
        months=max(len(months), 1),
        dispersion=disp,
        scale=mark_scale(incidents[C.HARM].to_numpy(dtype=float)) if len(incidents) else 1.0,
        harm_per_year=annual["harm_per_year"].to_numpy(),
        imd_pct=imd_pct,
        idaci_reference=_idaci_reference(study.deprivation),
        act_rule=cfg.act_rule,
        act_share=cfg.act_share,
        act_harm_share=cfg.act_harm_share,
        prevent_share=cfg.prevent_share,
        horizon=cfg.horizon_months,
        draws=cfg.draws,
        seed=cfg.seed,
        level=cfg.level,
        top_n=cfg.top_n,
        population_year=POPULATION_YEAR,
    )


def _idaci_reference(deprivation: pd.DataFrame | None) -> np.ndarray | None:
    """Derived IDACI rates of all England when the deprivation data hold them (else None)."""
    if deprivation is None or C.IDACI_NUMERATOR not in deprivation or C.CHILDREN_0_15 not in deprivation:
        return None
    if deprivation[C.IDACI_NUMERATOR].notna().sum() < NATIONAL_SHARE * national_n(deprivation):
        return None
    return idaci_rate(deprivation).to_numpy(dtype=float)


def _composite(comps: gpd.GeoDataFrame, cfg: RankConfig, notes: dict[str, Any]) -> gpd.GeoDataFrame:
    """The composite method: weights without data dropped (warning), missing data reported."""
    weights = dict(cfg.weights)
    unavailable = [k for k, v in weights.items() if v > 0 and comps[COMPONENTS[k]].isna().all()]
    if unavailable:
        msg = (
            f"rank: component(s) {', '.join(unavailable)} have no data in this study (e.g. no venues, "
            "deprivation or incidents); they are left out and the other weights re-normalised."
        )
        warnings.warn(msg, HotspotsWarning, stacklevel=3)
        for k in unavailable:
            weights.pop(k)
        if not any(v > 0 for v in weights.values()):
            raise ConfigError(f"[rank] weights: every weighted component lacks data ({', '.join(unavailable)}).")
        notes["unavailable_components"] = unavailable
    places = rank_places(
        comps,
        weights=weights,
        scaling=cfg.scaling,
        combine=cfg.combine,
        top_n=cfg.top_n,
        tier1_share=cfg.tier1_share,
        tier2_share=cfg.tier2_share,
        draws=cfg.draws,
        seed=cfg.seed,
        weight_noise=cfg.weight_noise,
        dirichlet_concentration=cfg.dirichlet_concentration,
        lognormal_sigma=cfg.lognormal_sigma,
        resample_counts=cfg.resample_counts,
        on_missing=cfg.on_missing,
        venue_radius=cfg.venue_radius,
        deprivation_label="IMD (excluding crime)" if cfg.deprivation == "imd_without_crime" else "IMD",
    )
    _report_missing(places, weights, notes)
    return places


def _report_missing(places: pd.DataFrame, weights: dict[str, float], notes: dict[str, Any]) -> None:
    missing = places.loc[places[MISSING] != "", [C.LSOA_CODE, MISSING]]
    if not len(missing):
        return
    by_comp = {
        k: missing.loc[missing[MISSING].str.split(";").apply(lambda xs, k=k: k in xs), C.LSOA_CODE].tolist()
        for k in weights
    }
    by_comp = {k: v for k, v in by_comp.items() if v}
    warnings.warn(
        f"rank: {len(missing)} LSOA(s) lack data for some components ("
        + "; ".join(f"{k}: {len(v)}" for k, v in by_comp.items())
        + "); they are scored on their other components with re-normalised weights, not ranked last. "
        "See the 'missing' column and the manifest.",
        HotspotsWarning,
        stacklevel=4,
    )
    notes["missing_data"] = by_comp
