"""Components ``deprivation``, ``idaci`` and ``cyp``: deprivation and youth need."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.io.iod import national_n
from hotspots.prepare.deprivation import exponential_transform
from hotspots.rank.columns import (
    CYP_DECILE,
    CYP_NEED,
    DEPRIVATION_SCORE,
    IDACI_RATE_COL,
    IMD_DECILE,
    IMD_NC_DECILE_COL,
)
from hotspots.rank.components.base import Component, ComponentContext, ReasonContext


def _deprivation(ctx: ComponentContext) -> np.ndarray:
    if ctx.deprivation_measure == "imd":
        if C.IMD_RANK not in ctx.lsoa.columns:
            return np.full(len(ctx.lsoa), np.nan)
        n = national_n(ctx.deprivation if ctx.deprivation is not None else ctx.lsoa)  # 32,844 or 33,755
        return exponential_transform(pd.to_numeric(ctx.lsoa[C.IMD_RANK], errors="coerce"), n)
    return ctx.imd_nc_score


def cyp_need(cyp_rank: np.ndarray, n: int = 32_844) -> np.ndarray:
    """0-100: ``100 (n - cyp_rank + 1) / n`` (100 = most deprived in England).

    ``n`` is the number of LSOAs the ranks are out of: 32,844 (IoD2019) or 33,755 (IoD2025).
    """
    return 100.0 * (n - cyp_rank + 1.0) / n


def _deprivation_phrase(r: ReasonContext, i: int) -> str:
    label = r.deprivation_label
    dec = r.cols[IMD_NC_DECILE_COL][i] if "excluding" in label else r.cols[IMD_DECILE][i]
    if pd.isna(dec):
        return f"Top {r.pct['deprivation'][i]}% {label} deprivation"
    return f"{label} decile {int(dec)}"


def _idaci_phrase(r: ReasonContext, i: int) -> str:
    return f"{r.cols[IDACI_RATE_COL][i]:.0%} of children in income-deprived families (derived IDACI)"


def _cyp_phrase(r: ReasonContext, i: int) -> str:
    dec = r.cols[CYP_DECILE][i]
    if pd.notna(dec):
        return f"Young people's education deprivation decile {int(dec)}"
    return f"Top {r.pct['cyp'][i]}% young people's education deprivation"


DEPRIVATION_COMPONENT = Component(
    name="deprivation",
    column=DEPRIVATION_SCORE,
    description="IMD without its Crime domain (score, 0-100) or the transformed official IMD rank",
    default_weight=0.15,
    compute=_deprivation,
    phrase=_deprivation_phrase,
)

IDACI_COMPONENT = Component(
    name="idaci",
    column=IDACI_RATE_COL,
    description="derived IDACI rate: children 0-15 in income-deprived families / children 0-15",
    default_weight=0.10,
    compute=lambda ctx: ctx.idaci,
    phrase=_idaci_phrase,
)

CYP_COMPONENT = Component(
    name="cyp",
    column=CYP_NEED,
    description="Children and Young People education sub-domain, as a national percentile",
    default_weight=0.05,
    compute=lambda ctx: cyp_need(
        ctx.cyp_rank, national_n(ctx.deprivation if ctx.deprivation is not None else ctx.lsoa)
    ),
    phrase=_cyp_phrase,
)
