"""The one-line reason of every place on the two axes (the ``reason`` column of the axes method).

Each reason is led by the place's tier, then says where the place stands on the harm axis
(its incidents, harm and 90 % likely rank next period), its harm per 1,000 residents a year
and its need. docs/rank.md shows examples.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hotspots.rank.axes import tied_ranks
from hotspots.rank.columns import (
    ACT_NOW,
    HARM,
    HARM_RANK,
    HARM_RANK_HIGH,
    HARM_RANK_LOW,
    HARM_RATE_YR,
    IDACI_RATE_COL,
    IMD_NC_DECILE_COL,
    N_INCIDENTS,
    NEED_MISSING,
    NEED_SCORE,
    PREVENT,
    TIER,
)

IDACI_LABEL = "of children in income-deprived families (derived IDACI)"
MISSING_LABELS = {"imd": "IMD excluding crime", "idaci": "IDACI (suppressed)", "cyp": "youth education (CYP)"}


def _top_pct(rank: np.ndarray, n: int) -> np.ndarray:
    return np.maximum(1, np.ceil(100.0 * rank / max(n, 1))).astype(int)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _harm_texts(df: pd.DataFrame, level: float) -> list[str]:
    """Where each place stands on the harm axis, with its likely rank next period."""
    n = len(df)
    hr, nn, harm = df[HARM_RANK].to_numpy(), df[N_INCIDENTS].to_numpy(), df[HARM].to_numpy(dtype=float)
    lo, hi = df[HARM_RANK_LOW].to_numpy(), df[HARM_RANK_HIGH].to_numpy()
    top = float(np.max(harm)) if n else 0.0
    n_top = int((harm == top).sum())
    out = []
    for i in range(n):
        k = int(nn[i])
        if top > 0 and harm[i] == top:
            where = "the most harm in the area" + (f" (shared by {n_top} places)" if n_top > 1 else "")
        else:
            where = f"harm rank {int(hr[i])} of {n}"
        out.append(
            f"{where}: {k:,} incident{'s' if k != 1 else ''} (harm {harm[i]:g}); {level:.0%} likely rank "
            f"{int(lo[i])}-{int(hi[i])} over a period as long again"
        )
    return out


def _rate_texts(df: pd.DataFrame, population_year: str) -> list[str]:
    """Harm per 1,000 residents a year, with the residents' year and the place's top %."""
    rate = df[HARM_RATE_YR].to_numpy(dtype=float)
    m_rate = int((~np.isnan(rate)).sum())
    rate_top = _top_pct(np.nan_to_num(tied_ranks(rate), nan=float(len(df))), max(m_rate, 1))
    return [
        f"{rate[i]:.0f} harm per 1,000 residents a year ({population_year} residents, top {rate_top[i]}%)"
        if np.isfinite(rate[i])
        else "no residents on record for a rate"
        for i in range(len(df))
    ]


def _need_texts(df: pd.DataFrame) -> list[str]:
    """The place's need: its percentile and the figures behind it."""
    need = df[NEED_SCORE].to_numpy(dtype=float)
    imd_dec = df[IMD_NC_DECILE_COL].to_numpy(dtype=float)
    idaci = df[IDACI_RATE_COL].to_numpy(dtype=float)
    miss = df[NEED_MISSING].to_numpy()
    out = []
    for i in range(len(df)):
        if np.isnan(need[i]):
            out.append("no deprivation data")
            continue
        bits = []
        if np.isfinite(imd_dec[i]):
            bits.append(f"IMD excluding crime decile {int(imd_dec[i])}")
        if np.isfinite(idaci[i]):
            bits.append(f"{idaci[i]:.0%} {IDACI_LABEL}")
        if miss[i]:
            gone = ", ".join(MISSING_LABELS.get(m, m) for m in str(miss[i]).split(";"))
            bits.append(f"no {gone} data, scored on the rest")
        out.append(f"more deprived than {need[i]:.0f}% of England" + (f": {'; '.join(bits)}" if bits else ""))
    return out


def axes_reasons(df: pd.DataFrame, *, high_need: np.ndarray, population_year: str, level: float) -> list[str]:
    """One plain-English line per place, led by its tier.

    Parameters
    ----------
    df
        The places frame (tier, harm axis, intervals, rate, need columns).
    high_need
        Places whose need is in the ``prevent`` band (an ``act now`` place with high need
        is said to be both).
    population_year
        The residents' year quoted beside the rate.
    level
        The rank intervals' probability.
    """
    tier = df[TIER].to_numpy()
    harm_t, rate_t, need_t = _harm_texts(df, level), _rate_texts(df, population_year), _need_texts(df)
    out = []
    for i in range(len(df)):
        if tier[i] == ACT_NOW:
            head = "Act now: high harm and high need." if high_need[i] else "Act now: high harm."
            out.append(f"{head} {_cap(harm_t[i])}. {_cap(rate_t[i])}. Need: {need_t[i]}.")
        elif tier[i] == PREVENT:
            out.append(f"Prevent: high need. {_cap(need_t[i])}. {_cap(harm_t[i])}.")
        else:
            out.append(f"Monitor. {_cap(harm_t[i])}. Need: {need_t[i]}.")
    return out
