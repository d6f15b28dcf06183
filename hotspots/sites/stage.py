"""Pipeline stage ``sites``: bleed-control kits and youth outreach zones in one run.

The kits come from :mod:`hotspots.sites.kits`, the zones from :mod:`hotspots.sites.outreach`.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from hotspots import columns as C
from hotspots.detect.stage import DetectResult
from hotspots.errors import HotspotsWarning, InputError
from hotspots.io.sites import SITE_SOURCE
from hotspots.prepare.study import Study
from hotspots.results import AutoChoices
from hotspots.sites.alternatives import (
    ALTERNATIVE_COLUMNS,
    annotate_kits,
    kit_alternatives,
    most_different_set,
)
from hotspots.sites.candidates import kit_candidates
from hotspots.sites.config import OutreachConfig, SitesConfig
from hotspots.sites.kits import coverage_curve, kits_for_target, radius_sensitivity, select_sites
from hotspots.sites.outreach import outreach_zones

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SitesResult:
    """Bleed-control kit sites and youth outreach zones.

    Attributes
    ----------
    kits
        The new kits in order of value (:data:`BLEED_KIT_COLUMNS` and the columns of
        :func:`hotspots.sites.alternatives.annotate_kits`: ``alternatives``,
        ``nearest_alternative_m``, ``existing_sites_supplied``).
    coverage_curve
        Coverage for 0..p kits (:data:`CURVE_COLUMNS`).
    sensitivity
        The answer at other radii (:data:`SENSITIVITY_COLUMNS`).
    target
        The set-covering answer: fewest kits reaching ``[sites] target_pct``.
    outreach
        Youth outreach zones (:data:`hotspots.sites.outreach.OUTREACH_COLUMNS`).
    fixed_sites
        Existing kits and defibrillators (None when none were given).
    radius_m
        The walking radius a kit serves, metres.
    auto
        Parameters chosen automatically, by stage (``"sites"``, ``"outreach"``).
    summary
        Solve statistics, curve, sensitivity, target and near-optimal alternatives for the manifest.
    alternatives
        Candidate sites that could replace each kit within 1 % of the optimum
        (:data:`hotspots.sites.alternatives.ALTERNATIVE_COLUMNS`).
    """

    kits: gpd.GeoDataFrame
    coverage_curve: pd.DataFrame
    sensitivity: pd.DataFrame
    target: dict[str, Any]
    outreach: gpd.GeoDataFrame
    fixed_sites: gpd.GeoDataFrame | None
    radius_m: float
    auto: dict[str, dict[str, Any]] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    alternatives: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ALTERNATIVE_COLUMNS))


def _alternatives(
    inc: gpd.GeoDataFrame,
    cand: gpd.GeoDataFrame,
    kits: gpd.GeoDataFrame,
    fixed: gpd.GeoDataFrame | None,
    cfg: SitesConfig,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, dict[str, Any]]:
    """Near-optimal alternatives of the kits: annotated kits, the alternatives frame, the manifest entry."""
    alts = kit_alternatives(inc, cand, kits, radius=cfg.radius_m, fixed=fixed, share=cfg.alternative_share)
    different = most_different_set(inc, cand, kits, radius=cfg.radius_m, fixed=fixed, time_limit=cfg.time_limit_s)
    existing = 0 if fixed is None else len(fixed)
    kits = annotate_kits(kits, alts, existing_sites=existing)
    summary = {
        "share_of_optimum": cfg.alternative_share,
        "alternatives_per_kit": {str(k): int(v) for k, v in zip(kits["site_id"], kits["alternatives"], strict=True)},
        "kits_with_an_alternative": int((kits["alternatives"] > 0).sum()),
        "most_different_set": different,
        "existing_sites_supplied": existing,
        "note": "coverage = harm the new kits add beyond existing kits and defibrillators; an alternative "
        "replaces one kit, the others kept"
        + ("" if existing else "; no existing kits or defibrillators were supplied, so none are counted"),
    }
    return kits, alts, summary


def _outreach(study: Study, detected: DetectResult, ocfg: OutreachConfig) -> gpd.GeoDataFrame:
    """Youth outreach zones from the detect stage's LSOA Gi* and grid."""
    return outreach_zones(
        study.place_incidents("outreach"),
        study.lsoa,
        grid=detected.grid,
        hot=pd.DataFrame(detected.lsoa[[C.LSOA_CODE, "gi_z"]]),
        categories=tuple(ocfg.categories),
        top=ocfg.top,
        weights=ocfg.weights,
        cell_size=ocfg.cell_size_m,
    )


def site(study: Study, detected: DetectResult, cfg: SitesConfig, ocfg: OutreachConfig) -> SitesResult:
    """Pipeline stage ``sites``: bleed-control kits and youth outreach zones.

    Parameters
    ----------
    study
        The loaded study: its place-analysis incidents are the demand; its venues,
        incident locations and ``candidate_sites`` the candidates; its ``fixed_sites``
        (existing kits, defibrillators) cover what they already cover.
    detected
        The detect stage's result: LSOA Gi* for the outreach score and the grid for focal cells.
    cfg, ocfg
        The ``[sites]`` and ``[outreach]`` sections.

    Returns
    -------
    SitesResult
        Kits, coverage curve, radius sensitivity, set-covering answer, outreach zones.
    """
    auto = AutoChoices("sites")
    oauto = AutoChoices("outreach")
    inc = study.place_incidents("kits")  # institutional snap points left out by default ([institutions])
    extra = study.candidate_sites
    fixed = study.fixed_sites
    cand = kit_candidates(
        inc, venues=study.venues, extra=extra, sources=cfg.candidates, exclude_locations=tuple(cfg.exclude_locations)
    )
    limit = cfg.time_limit_s
    kits = select_sites(inc, cand, p=cfg.p, radius=cfg.radius_m, fixed=fixed, time_limit=limit)
    curve = coverage_curve(inc, cand, p=cfg.p, radius=cfg.radius_m, fixed=fixed, time_limit=limit)
    sens = radius_sensitivity(inc, cand, p=cfg.p, radii=tuple(cfg.sensitivity_radii_m), fixed=fixed, time_limit=limit)
    try:
        target: dict[str, Any] = kits_for_target(
            inc, cand, target_pct=cfg.target_pct, radius=cfg.radius_m, fixed=fixed, time_limit=limit
        )
    except InputError as exc:  # an unreachable target is an answer, not a failed run
        warnings.warn(str(exc), HotspotsWarning, stacklevel=2)
        target = {"target_pct": cfg.target_pct, "radius_m": cfg.radius_m, "reachable": False, "message": str(exc)}
    stats = kits.attrs.get("mclp", {})
    kits, alts, alt_summary = _alternatives(inc, cand, kits, fixed, cfg)
    auto.record(
        candidates={k: int(v) for k, v in cand[SITE_SOURCE].value_counts().items()},
        excluded_locations=cand.attrs.get("excluded_locations", 0),
        demand_points=stats.get("demand_points"),
        fixed_sites=0 if fixed is None else len(fixed),
    )
    summary = {
        "bleed_kits": stats,
        "coverage_curve": curve.to_dict(orient="records"),
        "radius_sensitivity": sens.to_dict(orient="records"),
        "kits_for_target": target,
        "kit_alternatives": alt_summary,
    }
    zones = _outreach(study, detected, ocfg)
    oauto.record(hotspot_strength="detect stage LSOA gi_z", focal_cells="detect stage grid")
    log.info(
        "sites: %d kits cover %.1f %% of harm within %g m; %d outreach zones",
        len(kits),
        stats.get("coverage_pct", 0.0),
        cfg.radius_m,
        len(zones),
    )
    return SitesResult(
        kits=kits,
        coverage_curve=curve,
        sensitivity=sens,
        target=target,
        outreach=zones,
        fixed_sites=fixed,
        radius_m=cfg.radius_m,
        auto={"sites": dict(auto), "outreach": dict(oauto)},
        summary=summary,
        alternatives=alts,
    )
