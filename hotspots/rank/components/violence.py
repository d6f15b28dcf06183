"""Components ``harm_rate`` and ``harm_count``: harm-weighted violence per resident and in total."""

from __future__ import annotations

import numpy as np

from hotspots.rank.columns import HARM, HARM_RATE, N_INCIDENTS
from hotspots.rank.components.base import Component, ComponentContext, ReasonContext


def _harm_rate(ctx: ComponentContext) -> np.ndarray:
    pop = ctx.population
    return np.where(pop > 0, ctx.harm / np.where(pop > 0, pop, 1.0) * 1000.0, np.nan)


def _rate_phrase(r: ReasonContext, i: int) -> str:
    return f"Top {r.pct['harm_rate'][i]}% harm-weighted violence per 1,000 residents ({r.cols[HARM_RATE][i]:.0f})"


def _count_phrase(r: ReasonContext, i: int) -> str:
    return f"Top {r.pct['harm_count'][i]}% harm-weighted violence ({int(r.cols[N_INCIDENTS][i]):,} incidents)"


HARM_RATE_COMPONENT = Component(
    name="harm_rate",
    column=HARM_RATE,
    description="harm per 1,000 residents (IoD2019 mid-2015) over the analysed period",
    default_weight=0.20,
    compute=_harm_rate,
    phrase=_rate_phrase,
    resample=lambda total, near, per_1000: total * per_1000,
)

HARM_COUNT_COMPONENT = Component(
    name="harm_count",
    column=HARM,
    description="summed harm weights of the LSOA's incidents",
    default_weight=0.20,
    compute=lambda ctx: ctx.harm,
    phrase=_count_phrase,
    resample=lambda total, near, per_1000: total,
)
