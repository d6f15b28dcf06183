"""The axes method's verb (``[rank] method = "axes"``): components in, the Board's ``places`` frame out.

:func:`rank_axes` puts every LSOA on the harm axis and the need axis
(:mod:`hotspots.rank.axes`), tiers it for the Board (:mod:`hotspots.rank.tiers`), adds the
90 % predictive interval of its harm rank next period (:mod:`hotspots.rank.intervals`) and
writes one plain-English reason (:mod:`hotspots.rank.axes_reasons`).
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.rank.axes import (
    N_ENGLAND,
    NEED_AXIS_COLUMNS,
    harm_axis,
    national_percentile,
    need_axis,
    reference_percentile,
)
from hotspots.rank.axes_reasons import axes_reasons
from hotspots.rank.columns import (
    AXES_PLACES_COLUMNS,
    CYP_DECILE,
    CYP_NEED,
    DEPRIVATION_RANKED,
    GI_Z,
    HARM,
    HARM_EB,
    HARM_RANK,
    HARM_RANK_HIGH,
    HARM_RANK_LOW,
    HARM_RATE_YR,
    HOTSPOT_CLASS,
    IDACI_RATE_COL,
    IMD_NC_DECILE_COL,
    IMD_NC_RANK_COL,
    N_INCIDENTS,
    NEED_RANK,
    NEED_SCORE,
    ORDER,
    P_TOP_N,
    PLACE_ID_COLUMNS,
    POPULATION,
    PREVENT,
    RANK,
    RANK_HIGH,
    RANK_LOW,
    REASON,
    SCORE,
    TIER,
    TIER_NAME,
    TIER_NAMES,
    VENUES_NEAR,
)
from hotspots.rank.eb import Dispersion
from hotspots.rank.intervals import rank_intervals
from hotspots.rank.tiers import board_tiers, top_set

PLACES_COLUMNS = AXES_PLACES_COLUMNS
"""Columns of :func:`rank_axes` (plus geometry when the components are a GeoDataFrame), in order."""

REQUIRED = [C.LSOA_CODE, N_INCIDENTS, HARM, POPULATION, IDACI_RATE_COL, CYP_NEED]
"""Columns :func:`rank_axes` needs (plus ``imd_nc_rank`` unless ``imd_pct`` is given)."""

CONTEXT = [IMD_NC_DECILE_COL, IDACI_RATE_COL, CYP_DECILE, GI_Z, HOTSPOT_CLASS, VENUES_NEAR]
"""Columns carried through from the components for the reasons, maps and report (not used for ordering)."""


def rank_axes(
    components: pd.DataFrame,
    *,
    months: float,
    dispersion: Dispersion | None = None,
    scale: float = 1.0,
    harm_per_year: npt.ArrayLike | None = None,
    imd_pct: npt.ArrayLike | None = None,
    idaci_reference: npt.ArrayLike | None = None,
    act_rule: str = "places",
    act_share: float = 0.05,
    act_harm_share: float = 0.25,
    prevent_share: float = 0.15,
    horizon: float | None = None,
    draws: int = 1000,
    seed: int = 0,
    level: float = 0.90,
    top_n: int = 20,
    population_year: str = "mid-2015",
) -> pd.DataFrame:
    """Place every LSOA on the harm and need axes, tier it for the Board and explain why.

    Parameters
    ----------
    components
        One row per place (:func:`hotspots.rank.components.place_components`): ``lsoa_code``,
        ``lsoa_name``, ``district``, ``n``, ``harm``, ``population``, ``imd_nc_rank`` (and
        ``deprivation_ranked``, what it is out of), ``idaci_rate_derived``, ``cyp_need``;
        optional :data:`CONTEXT` columns (carried through).
    months
        Length of the analysed period in months (exposure of ``harm``).
    dispersion
        Month-to-month overdispersion of the analysed counts (:func:`~hotspots.rank.eb.estimate_dispersion`).
    scale
        Harm per pseudo-count (:func:`~hotspots.rank.eb.mark_scale` of the analysed incidents).
    harm_per_year
        Annualised harm per place (sources covering different periods: each source's harm
        x 12 / its months, summed); default ``harm x 12 / months``.
    imd_pct
        Percentile (0-100, 100 = most deprived) of the deprivation measure; default from
        ``imd_nc_rank`` out of ``deprivation_ranked`` (32,844 when absent).
    idaci_reference
        Derived IDACI rates of every LSOA in England (national percentiles); None = the
        percentile among the places given (recorded in ``attrs``).
    act_rule, act_share, act_harm_share, prevent_share
        The tier rule (:func:`~hotspots.rank.tiers.board_tiers`).
    horizon
        Length in months of the "next period" of the rank intervals (default ``months``).
    draws, seed, level, top_n
        Predictive rank intervals (:func:`hotspots.rank.intervals.rank_intervals`).
    population_year
        The residents' year, stated in the reasons.

    Returns
    -------
    pandas.DataFrame
        :data:`PLACES_COLUMNS` (GeoDataFrame with geometry when ``components`` is one),
        sorted by ``order``; ``attrs["rank"]`` records the prior, dispersion, tier rule and
        sizes, interval settings and the IDACI percentile basis.

    Raises
    ------
    InputError
        A required column is missing, or an option is invalid.
    """
    _check(components, imd_pct)
    p = len(components)
    harm = _num(components, HARM)
    ax = harm_axis(
        harm,
        months=months,
        population=_num(components, POPULATION),
        harm_per_year=harm_per_year,
        scale=scale,
        dispersion=dispersion,
    )
    need, basis = _need(components, imd_pct, idaci_reference)
    tier, tier_info = board_tiers(
        ax[HARM_EB].to_numpy() * (harm > 0),
        need[NEED_SCORE].to_numpy(),
        act_rule=act_rule,
        act_share=act_share,
        act_harm_share=act_harm_share,
        prevent_share=prevent_share,
    )
    iv = rank_intervals(
        harm, months=months, horizon=horizon, scale=scale, dispersion=dispersion, draws=draws, seed=seed,
        level=level, top_n=top_n,
    )  # fmt: skip
    out = _assemble(components, ax, need, iv, tier)
    high_need = top_set(out[NEED_SCORE].to_numpy(dtype=float), math.ceil(prevent_share * p))
    out[REASON] = axes_reasons(out, high_need=high_need, population_year=population_year, level=level)
    out = out[PLACES_COLUMNS]
    d = dispersion or Dispersion()
    out.attrs["rank"] = {
        "method": "axes",
        "places": p,
        "top_n": min(int(top_n), p),
        "harm_axis": ax.attrs["harm_axis"],
        "dispersion": {"phi": d.phi, "inv_kappa": d.inv_kappa, "pearson": d.pearson, "note": d.note},
        "tiers": tier_info,
        "intervals": iv.attrs.get("intervals", {}),
        "need": {
            "combination": "mean of the available percentiles (IMD without crime, derived IDACI, CYP)",
            "idaci_percentile_basis": basis,
            "places_missing_a_need_measure": int((need["need_missing"] != "").sum()),
            "act_now_places_also_high_need": int((high_need & (tier == 1)).sum()),
        },
        "population_year": population_year,
    }
    out = out.sort_values(ORDER, kind="stable")
    if isinstance(components, gpd.GeoDataFrame):
        geo = components.geometry.reindex(out.index)
        return gpd.GeoDataFrame(out, geometry=geo.values, crs=components.crs)
    return out


def _num(components: pd.DataFrame, col: str) -> np.ndarray:
    return pd.to_numeric(components[col], errors="coerce").to_numpy(dtype=float)


def _check(components: Any, imd_pct: Any) -> None:
    where = "rank_axes"
    if not isinstance(components, pd.DataFrame):
        raise InputError(f"{where}: `components` must be a DataFrame, got {type(components).__name__}.")
    need = REQUIRED + ([IMD_NC_RANK_COL] if imd_pct is None else [])
    miss = [c for c in need if c not in components.columns]
    if miss:
        raise InputError(
            f"{where}: components lack column(s) {', '.join(map(repr, miss))}; build them with "
            "hotspots.rank.components.place_components."
        )
    if len(components) == 0:
        raise InputError(f"{where}: `components` is empty; there are no places to rank.")


def _need(
    components: pd.DataFrame, imd_pct: npt.ArrayLike | None, idaci_reference: npt.ArrayLike | None
) -> tuple[pd.DataFrame, str]:
    """The need axis of every place and the basis of its IDACI percentile."""
    if imd_pct is None:
        ranked = _num(components, DEPRIVATION_RANKED) if DEPRIVATION_RANKED in components else np.array([])
        n = int(np.nanmax(ranked)) if len(ranked) and np.isfinite(ranked).any() else N_ENGLAND
        imd_pct = national_percentile(_num(components, IMD_NC_RANK_COL), n)
    idaci = _num(components, IDACI_RATE_COL)
    basis = "England"
    if idaci_reference is None:
        idaci_reference, basis = idaci, "the places ranked (no England-wide IDACI numerators given)"
    has_idaci = bool((~np.isnan(idaci)).any())
    need = need_axis(
        imd_pct=imd_pct,
        idaci_pct=reference_percentile(idaci, idaci_reference) if has_idaci else idaci,
        cyp_pct=_num(components, CYP_NEED),
    )
    return need, basis


def _assemble(
    components: pd.DataFrame, ax: pd.DataFrame, need: pd.DataFrame, iv: pd.DataFrame, tier: np.ndarray
) -> pd.DataFrame:
    """The places frame before its reasons, with the Board ``order``."""
    out = pd.DataFrame(index=components.index)
    for c in PLACE_ID_COLUMNS:
        out[c] = components[c].to_numpy() if c in components else None
    out[TIER] = tier
    out[TIER_NAME] = [TIER_NAMES[int(t)] for t in tier]
    out[HARM_RANK] = ax[HARM_RANK].to_numpy().astype(np.int64)
    out[HARM_RANK_LOW] = iv[HARM_RANK_LOW].to_numpy()
    out[HARM_RANK_HIGH] = iv[HARM_RANK_HIGH].to_numpy()
    out[P_TOP_N] = iv[P_TOP_N].to_numpy()
    out[N_INCIDENTS] = _num(components, N_INCIDENTS).astype(np.int64)
    out[HARM] = _num(components, HARM)
    out[HARM_EB] = ax[HARM_EB].to_numpy()
    out[HARM_RATE_YR] = ax[HARM_RATE_YR].to_numpy()
    out[POPULATION] = _num(components, POPULATION)
    for c in NEED_AXIS_COLUMNS:
        out[c] = need[c].to_numpy()
    out[NEED_RANK] = pd.array(need[NEED_RANK].to_numpy(), dtype="Int64")
    for c in CONTEXT:
        out[c] = components[c].to_numpy() if c in components else np.nan
    out[RANK] = out[HARM_RANK]
    out[SCORE] = out[HARM_EB]
    out[RANK_LOW] = out[HARM_RANK_LOW]
    out[RANK_HIGH] = out[HARM_RANK_HIGH]
    # Board order: tier; act now and monitor by harm rank, prevent by need rank; then need, then code
    need_rank = out[NEED_RANK].to_numpy(dtype=float, na_value=np.nan)
    key = np.where(tier == PREVENT, need_rank, out[HARM_RANK].to_numpy(dtype=float))
    codes = out[C.LSOA_CODE].astype(str).to_numpy()
    order = np.lexsort((codes, -out[NEED_SCORE].fillna(-1).to_numpy(), key, tier))
    ordv = np.empty(len(out), dtype=np.int64)
    ordv[order] = np.arange(1, len(out) + 1)
    out[ORDER] = ordv
    return out
