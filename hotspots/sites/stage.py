"""Pipeline stage ``sites``: bleed-control kits and youth outreach zones in one run.

The kits come from :mod:`hotspots.sites.kits`, the zones from :mod:`hotspots.sites.outreach`.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import geopandas as gpd
import pandas as pd

from hotspots import columns as C
from hotspots import parallel
from hotspots.detect.stage import DetectResult
from hotspots.errors import HotspotsWarning, InputError
from hotspots.io.sites import SITE_SOURCE
from hotspots.prepare.study import Study
from hotspots.results import AutoChoices
from hotspots.sites.alternatives import (
    ALTERNATIVE_COLUMNS,
    alternatives_of_model,
    annotate_kits,
    most_different_of_model,
)
from hotspots.sites.candidates import demand_points, kit_candidates
from hotspots.sites.config import OutreachConfig, SitesConfig
from hotspots.sites.cover import Deadline
from hotspots.sites.kits import (
    Model,
    build_model,
    curve_of_model,
    kits_of_model,
    radius_sensitivity,
    target_of_model,
)
from hotspots.sites.outreach import outreach_zones
from hotspots.steps import step

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
    m: Model, kits: gpd.GeoDataFrame, cfg: SitesConfig, deadline: Deadline, *, existing: int
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, dict[str, Any]]:
    """Near-optimal alternatives of the kits: annotated kits, the alternatives frame, the manifest entry."""
    alts = alternatives_of_model(m, kits, share=cfg.alternative_share)
    different = most_different_of_model(m, kits, time_limit=deadline.left())
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


TIME_LIMIT_NOTE = (
    "one budget, a moment on the clock, for every solve of the stage (kits, coverage curve, radius "
    "sensitivity, target, most different set; with more than one job the curve and the sensitivity "
    "run in a worker process beside the others); an answer not proven optimal when it ran out is the best "
    "solution found (HiGHS's incumbent or the heuristic one), with its gap where known"
)


def _time_limit(cfg: SitesConfig, answers: dict[str, bool], deadline: Deadline) -> dict[str, Any]:
    """The manifest entry of ``[sites] time_limit_s``: whether it was reached and which answers are not proven."""
    unproven = [name for name, ok in answers.items() if not ok]
    reached = bool(unproven) or deadline.left() == 0.0
    if unproven:
        warnings.warn(
            f"sites: the stage time limit ({cfg.time_limit_s:g} s, [sites] time_limit_s) was reached; "
            f"{', '.join(unproven)}: the best solutions found, not proven optimal (gaps in the manifest). "
            "Raise time_limit_s for proven answers.",
            HotspotsWarning,
            stacklevel=3,
        )
    return {"seconds": cfg.time_limit_s, "reached": reached, "not_proven_optimal": unproven, "note": TIME_LIMIT_NOTE}


def _demand_and_candidates(
    study: Study, inc: gpd.GeoDataFrame, cfg: SitesConfig, auto: AutoChoices
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Demand points (merged onto a grid above ``max_demand_points``) and the candidate sites."""
    with step("demand"):
        demand = demand_points(inc, max_points=cfg.max_demand_points)
    with step("candidates"):
        cand = kit_candidates(
            inc,
            venues=study.venues,
            extra=study.candidate_sites,
            sources=cfg.candidates,
            exclude_locations=tuple(cfg.exclude_locations),
            demand=demand,
            max_locations=cfg.max_candidate_locations,
        )
    auto.record(
        candidates={k: int(v) for k, v in cand[SITE_SOURCE].value_counts().items()},
        excluded_locations=cand.attrs.get("excluded_locations", 0),
    )
    if demand.attrs.get("aggregated_m") is not None or cand.attrs.get("locations_thinned_m") is not None:
        auto.record(
            distinct_incident_locations=demand.attrs.get("distinct_locations"),
            demand_aggregated_m=demand.attrs.get("aggregated_m"),
            candidate_locations_thinned_m=cand.attrs.get("locations_thinned_m"),
        )
        log.info(
            "sites: %d distinct incident locations; demand merged onto a %s m grid (%d points), "
            "incident-location candidates thinned to a %s m grid",
            demand.attrs.get("distinct_locations"),
            demand.attrs.get("aggregated_m"),
            len(demand),
            cand.attrs.get("locations_thinned_m"),
        )
    return demand, cand


def _target(m: Model, cfg: SitesConfig, deadline: Deadline) -> dict[str, Any]:
    """The set-covering answer; an unreachable target is an answer (with a warning), not a failed run."""
    try:
        return target_of_model(m, cfg.target_pct, time_limit=deadline.left())
    except InputError as exc:
        warnings.warn(str(exc), HotspotsWarning, stacklevel=3)
        return {"target_pct": cfg.target_pct, "radius_m": cfg.radius_m, "reachable": False, "message": str(exc)}


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


def _outreach_timed(study: Study, detected: DetectResult, ocfg: OutreachConfig) -> gpd.GeoDataFrame:
    with step("outreach"):
        return _outreach(study, detected, ocfg)


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
    fixed = study.fixed_sites
    demand, cand = _demand_and_candidates(study, inc, cfg, auto)
    with step("models"):
        m = build_model(inc, cand, radius=cfg.radius_m, fixed=fixed, p=cfg.p, demand=demand)
    deadline = Deadline.after(cfg.time_limit_s)  # one budget for every solve of the stage
    with step("kits"):
        kits = kits_of_model(m, cfg.p, time_limit=deadline.left())

    def curve_and_sensitivity() -> tuple[pd.DataFrame, pd.DataFrame]:
        with step("coverage_curve"):
            curve = curve_of_model(m, cfg.p, time_limit=deadline.left())
        with step("radius_sensitivity"):
            sens = radius_sensitivity(
                inc,
                cand,
                p=cfg.p,
                radii=tuple(cfg.sensitivity_radii_m),
                fixed=fixed,
                time_limit=deadline.left(),
                demand=demand,
                models={float(cfg.radius_m): m},
            )
        return curve, sens

    # the curve and the sensitivity are solved in a worker process, when one is free, beside
    # the target and the alternatives (hotspots.parallel); all share the stage's wall-clock budget
    part = parallel.start(curve_and_sensitivity, name="sites.curve_sensitivity")
    outreach_part = parallel.start(partial(_outreach_timed, study, detected, ocfg), name="sites.outreach")
    with step("kits_for_target"):
        target = _target(m, cfg, deadline)
    stats = kits.attrs.get("mclp", {})
    with step("alternatives"):
        kits, alts, alt_summary = _alternatives(m, kits, cfg, deadline, existing=0 if fixed is None else len(fixed))
    curve, sens = part.result()
    proven = {
        "bleed_kits": bool(stats.get("optimal", True)),
        "coverage_curve": bool(curve.attrs.get("optimal", True)),
        "radius_sensitivity": bool(sens["optimal"].all()) if len(sens) else True,
        "kits_for_target": bool(target.get("optimal", True)),
        "most_different_set": bool(alt_summary["most_different_set"].get("optimal", True)),
    }
    auto.record(demand_points=stats.get("demand_points"), fixed_sites=0 if fixed is None else len(fixed))
    summary = {
        "bleed_kits": stats,
        "coverage_curve": curve.to_dict(orient="records"),
        "radius_sensitivity": sens.to_dict(orient="records"),
        "kits_for_target": target,
        "kit_alternatives": alt_summary,
        "time_limit": _time_limit(cfg, proven, deadline),
    }
    zones = outreach_part.result()
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
