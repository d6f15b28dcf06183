"""District profiles of the rank stage: rates per year with the population year, tiers, concentration.

Rates are per 1,000 residents **per year**: each source's incidents are annualised by its own
months (``x 12 / months``) before they are summed, so a one-month source and a twelve-month
source are never mixed as if they covered the same time. The Gini of incidents over a
district's LSOAs is given beside its chance floor (:func:`~hotspots.rank.concentration.gini_chance_floor`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.rank.columns import (
    ACT_NOW,
    DISTRICT_COLUMNS,
    GINI,
    GINI_FLOOR,
    HARM,
    HARM_PER_1000_YR,
    INCIDENTS_PER_1000_YR,
    INCIDENTS_PER_YEAR,
    N_INCIDENTS,
    POPULATION,
    POPULATION_YEAR,
    PREVENT,
    RANK,
    TIER,
)
from hotspots.rank.concentration import gini, gini_chance_floor, share_holding

ANNUAL_COLUMNS = [INCIDENTS_PER_YEAR, "harm_per_year", "months_by_source"]
"""Columns of :func:`annualise`, indexed by LSOA code."""


def annualise(incidents: pd.DataFrame, codes: Iterable[object]) -> pd.DataFrame:
    """Incidents and harm a year per LSOA, each source annualised by its own months.

    Parameters
    ----------
    incidents
        Canonical incidents (``source``, ``month``, ``lsoa_code``, ``harm``).
    codes
        The LSOA codes (output index, zeros where no incident).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``codes``: ``incidents_per_year`` and ``harm_per_year`` (sum over sources of
        the source's count or harm x 12 / the number of distinct months the source has);
        ``attrs["months_by_source"]`` gives those month counts.
    """
    idx = pd.Index([str(c) for c in codes])
    n = pd.Series(0.0, index=idx)
    h = pd.Series(0.0, index=idx)
    months: dict[str, int] = {}
    if len(incidents):
        for src, g in incidents.groupby(C.SOURCE, sort=True):
            m = int(g[C.MONTH].nunique())
            if m == 0:
                continue
            months[str(src)] = m
            code = g[C.LSOA_CODE].astype(str)
            n = n.add(code.value_counts().reindex(idx, fill_value=0) * 12.0 / m, fill_value=0.0)
            h = h.add(g[C.HARM].groupby(code).sum().reindex(idx, fill_value=0.0) * 12.0 / m, fill_value=0.0)
    out = pd.DataFrame({INCIDENTS_PER_YEAR: n.to_numpy(), "harm_per_year": h.to_numpy()}, index=idx)
    out.attrs["months_by_source"] = months
    return out


def district_profiles(
    places: pd.DataFrame,
    *,
    top_n: int = 20,
    annual: pd.DataFrame | None = None,
    population_year: str = "mid-2015",
    chance_draws: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per district and a total row (``"All"``).

    Parameters
    ----------
    places
        The rank stage's places (``lsoa_code, district, population, n, harm, rank, tier``).
    top_n
        Places with ``rank <= top_n`` are counted in ``top_n_places``.
    annual
        :func:`annualise` of the ranked incidents (rates per year); None leaves the rate
        columns empty (NaN) rather than mixing periods.
    population_year
        The residents' year (IoD2019: ``"mid-2015"``), written in every row.
    chance_draws, seed
        Simulated allocations behind ``gini_chance_floor`` and their seed.

    Returns
    -------
    pandas.DataFrame
        :data:`DISTRICT_COLUMNS`, sorted by incidents (descending), the total row last:
        ``district``, ``lsoas``, ``population`` and ``population_year``, ``incidents`` and
        ``harm`` (sums over the analysed period), ``incidents_per_year``,
        ``incidents_per_1000_yr`` and ``harm_per_1000_yr`` (a year, per 1,000 residents),
        ``top_n_places``, ``tier1_places`` and ``tier2_places`` (axes: act now, prevent),
        ``share_lsoas_50pct`` (smallest share of the LSOAs holding half the incidents),
        ``gini`` and ``gini_chance_floor`` (the mean Gini of the same incidents placed at
        random in proportion to residents), ``median_rank``.
    """
    need = [C.LSOA_CODE, C.DISTRICT, POPULATION, N_INCIDENTS, HARM, RANK, TIER]
    miss = [c for c in need if c not in places.columns]
    if miss:
        raise InputError(
            f"district_profiles: places have no column(s) {', '.join(map(repr, miss))}; use the rank stage."
        )
    df = pd.DataFrame(places[need]).copy()
    df[C.DISTRICT] = df[C.DISTRICT].astype(object).where(df[C.DISTRICT].notna(), "(no district)")
    codes = df[C.LSOA_CODE].astype(str)
    if annual is not None:
        df[INCIDENTS_PER_YEAR] = annual[INCIDENTS_PER_YEAR].reindex(codes).fillna(0.0).to_numpy()
        df["harm_per_year"] = annual["harm_per_year"].reindex(codes).fillna(0.0).to_numpy()
    else:
        df[INCIDENTS_PER_YEAR] = np.nan
        df["harm_per_year"] = np.nan
    groups = list(df.groupby(C.DISTRICT, sort=True))
    seqs = np.random.SeedSequence(seed).spawn(len(groups) + 1)
    rows = [_row(str(name), g, top_n, population_year, chance_draws, seqs[i]) for i, (name, g) in enumerate(groups)]
    rows.sort(key=lambda r: -r["incidents"])
    rows.append(_row("All", df, top_n, population_year, chance_draws, seqs[-1]))
    return pd.DataFrame(rows, columns=DISTRICT_COLUMNS)


def _row(
    name: str, g: pd.DataFrame, top_n: int, population_year: str, draws: int, seed: np.random.SeedSequence
) -> dict[str, Any]:
    pop = float(g[POPULATION].sum(min_count=1)) if g[POPULATION].notna().any() else float("nan")
    n = g[N_INCIDENTS].to_numpy(dtype=float)
    per_year = float(g[INCIDENTS_PER_YEAR].sum(min_count=1))
    harm_year = float(g["harm_per_year"].sum(min_count=1))
    has = n.sum() > 0
    return {
        C.DISTRICT: name,
        "lsoas": len(g),
        POPULATION: pop,
        POPULATION_YEAR: population_year,
        "incidents": int(n.sum()),
        HARM: float(g[HARM].sum()),
        INCIDENTS_PER_YEAR: per_year,
        INCIDENTS_PER_1000_YR: per_year / pop * 1000 if pop > 0 else float("nan"),
        HARM_PER_1000_YR: harm_year / pop * 1000 if pop > 0 else float("nan"),
        "top_n_places": int((g[RANK] <= top_n).sum()),
        "tier1_places": int((g[TIER] == ACT_NOW).sum()),
        "tier2_places": int((g[TIER] == PREVENT).sum()),
        "share_lsoas_50pct": share_holding(n, 0.5) if has else float("nan"),
        GINI: gini(n) if has else float("nan"),
        GINI_FLOOR: gini_chance_floor(int(n.sum()), g[POPULATION].to_numpy(dtype=float), draws=draws, seed=seed)[
            "mean"
        ],
        "median_rank": float(g[RANK].median()),
    }
