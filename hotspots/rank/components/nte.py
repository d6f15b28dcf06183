"""Components ``venue_density`` and ``near_venue_share``: night-time-economy exposure."""

from __future__ import annotations

import numpy as np

from hotspots.rank.columns import NEAR_VENUE_SHARE, VENUE_DENSITY, VENUES_NEAR
from hotspots.rank.components.base import Component, ComponentContext, ReasonContext


def _near_share(ctx: ComponentContext) -> np.ndarray:
    if ctx.venues is None:
        return np.full(len(ctx.lsoa), np.nan)
    h = ctx.harm
    return np.where(h > 0, ctx.harm_near / np.where(h > 0, h, 1.0), 0.0)


def _near_share_draws(total: np.ndarray, near: np.ndarray, per_1000: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, near / np.where(total > 0, total, np.float32(1)), np.float32(0))


def _density_phrase(r: ReasonContext, i: int) -> str:
    k = int(r.cols[VENUES_NEAR][i])
    return f"{k} NTE venue{'s' if k != 1 else ''} within {r.radius}"


def _share_phrase(r: ReasonContext, i: int) -> str:
    return f"{r.cols[NEAR_VENUE_SHARE][i]:.0%} of violence within {r.radius} of an NTE venue"


VENUE_DENSITY_COMPONENT = Component(
    name="venue_density",
    column=VENUE_DENSITY,
    description="NTE venues in the LSOA per km² of its area",
    default_weight=0.05,
    compute=lambda ctx: ctx.venues_inside / ctx.area_km2,
    phrase=_density_phrase,
)

NEAR_VENUE_SHARE_COMPONENT = Component(
    name="near_venue_share",
    column=NEAR_VENUE_SHARE,
    description="share of the LSOA's harm within venue_radius m of an NTE venue",
    default_weight=0.05,
    compute=_near_share,
    phrase=_share_phrase,
    resample=_near_share_draws,
)
