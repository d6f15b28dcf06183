"""Stage ``sites``: where to put bleed-control kits and where to send youth outreach.

The exact maximal covering model (:mod:`~hotspots.sites.mclp`), demand and candidate
sites (:mod:`~hotspots.sites.candidates`), the kit verbs (:mod:`~hotspots.sites.kits`)
and outreach zones (:mod:`~hotspots.sites.outreach`); :func:`site` runs both on a study.
"""

from hotspots.sites.candidates import demand_points, kit_candidates
from hotspots.sites.config import OutreachConfig, SitesConfig
from hotspots.sites.kits import coverage_curve, kits_for_target, radius_sensitivity, select_sites
from hotspots.sites.outreach import outreach_places, outreach_zones
from hotspots.sites.stage import SitesResult, site

__all__ = [
    "OutreachConfig",
    "SitesConfig",
    "SitesResult",
    "coverage_curve",
    "demand_points",
    "kit_candidates",
    "kits_for_target",
    "outreach_places",
    "outreach_zones",
    "radius_sensitivity",
    "select_sites",
    "site",
]
