"""The composite method (``[rank] method = "composite"``): one weighted score of the registered components.

:func:`composite_score` scores places without uncertainty; :func:`rank_places` scores,
ranks and tiers them with Monte Carlo intervals (:mod:`hotspots.rank.montecarlo`), each
component's contribution and a reason (:mod:`hotspots.rank.reasons`). This was the ranking
of earlier versions; the default is now the two axes of :mod:`hotspots.rank.places`.
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.rank.columns import (
    COMPONENT_COLUMNS,
    HARM,
    MISSING,
    P_TOP_N,
    PLACE_ID_COLUMNS,
    RANK,
    RANK_HIGH,
    RANK_LOW,
    REASON,
    SCORE,
    TIER,
)
from hotspots.rank.components.registry import COMPONENTS, CONTRIB, DEFAULT_WEIGHTS
from hotspots.rank.config import check_weights
from hotspots.rank.montecarlo import Perturbation, monte_carlo
from hotspots.rank.options import check_options
from hotspots.rank.reasons import place_reasons
from hotspots.rank.scale import combine_scaled, point_ranks, raw_matrix, scale

PLACES_COLUMNS = [
    *PLACE_ID_COLUMNS,
    RANK,
    SCORE,
    RANK_LOW,
    RANK_HIGH,
    P_TOP_N,
    TIER,
    *COMPONENT_COLUMNS,
    *list(CONTRIB.values()),
    MISSING,
    REASON,
]
"""Columns of ``places`` with ``[rank] method = "composite"`` (plus geometry), in order."""


def composite_score(
    components: pd.DataFrame,
    *,
    weights: dict[str, float] = DEFAULT_WEIGHTS,
    scaling: str = "percentile",
    combine: str = "weighted_mean",
) -> pd.Series:
    """The composite score of every place (no uncertainty); see :func:`rank_places`.

    Returns
    -------
    pandas.Series
        ``score`` aligned to ``components``; higher = higher priority.
    """
    w = check_weights(weights, where="composite_score weights", error=InputError)
    check_options(scaling=scaling, combine=combine, where="composite_score", error=InputError)
    names = [k for k in COMPONENTS if w.get(k, 0) > 0]
    raw = raw_matrix(components, names)
    scaled = scale(raw, scaling)
    score, _ = combine_scaled(scaled[None], np.array([[w[k] for k in names]]), ~np.isnan(raw), combine)
    return pd.Series(score[0], index=components.index, name=SCORE)


def rank_places(
    components: pd.DataFrame,
    *,
    weights: dict[str, float] = DEFAULT_WEIGHTS,
    scaling: str = "percentile",
    combine: str = "weighted_mean",
    top_n: int = 20,
    tier1_share: float = 0.05,
    tier2_share: float = 0.10,
    draws: int = 1000,
    seed: int = 0,
    weight_noise: str = "dirichlet",
    dirichlet_concentration: float = 100.0,
    lognormal_sigma: float = 0.2,
    resample_counts: bool = True,
    on_missing: str = "reweight",
    venue_radius: float = 200.0,
    deprivation_label: str = "IMD (excluding crime)",
) -> pd.DataFrame:
    """Score, rank and tier places, with Monte Carlo intervals, contributions and reasons.

    Parameters
    ----------
    components
        One row per place with ``lsoa_code`` and the raw component columns (see
        :data:`~hotspots.rank.components.registry.COMPONENTS`; :func:`place_components` builds it).
        Columns of components with weight 0 may be absent. For count resampling: ``n``,
        ``harm``, ``harm_near`` and ``population``.
    weights
        ``{component: weight}`` (non-negative, not all zero; unlisted = 0).
    scaling, combine
        See :func:`scale`; ``"weighted_mean"`` or ``"geometric_mean"`` (scaled values floored
        at :data:`~hotspots.rank.options.GEOMETRIC_FLOOR`; needs percentile or min-max scaling).
    top_n
        Size of the Board's list for ``p_top_n``.
    tier1_share, tier2_share
        Tier rule (see :class:`~hotspots.rank.config.RankConfig`).
    draws, seed
        Monte Carlo draws (0 = none) and seed; the same seed gives the same output, on any
        number of threads.
    weight_noise, dirichlet_concentration, lognormal_sigma
        Weight perturbation: ``w_d ~ Dirichlet(concentration x w / sum w)`` over the
        positive weights, or ``w_d = w x exp(N(0, sigma))``, or none. Zero weights stay zero.
    resample_counts
        Redraw each place's near-venue and other incident counts from Poisson(observed) in
        every draw, and recompute the components that depend on them (``harm_rate``,
        ``harm_count``, ``near_venue_share``).
    on_missing
        ``"reweight"``: a place missing a component (NaN) is scored on the others with
        their weights re-normalised, and listed in ``missing``; ``"error"``: raise.
    venue_radius, deprivation_label
        Only used in the reason text.

    Returns
    -------
    pandas.DataFrame
        (GeoDataFrame when ``components`` is one) in :data:`PLACES_COLUMNS` order, columns
        absent from ``components`` filled with NaN, sorted by ``rank``:
        ``rank`` (1..N permutation; ties by harm then input order), ``score``, ``rank_low``
        and ``rank_high`` (5th and 95th percentile of the draws' ranks, widened to contain
        ``rank``), ``p_top_n`` (0-1), ``tier`` (1-3), ``c_<component>`` (weighted mean:
        weight share x scaled value, summing to ``score``; geometric mean: weight share x
        ln(scaled), summing to ln ``score``; 0 for weight-0 components, NaN where missing),
        ``missing`` and ``reason``.

    Raises
    ------
    InputError
        Bad weights or options, a missing column, or missing data with ``on_missing="error"``.

    Notes
    -----
    Scaling and combination follow ArcGIS Pro's *Calculate Composite Index* (percentile,
    min-max and z-score scaling; weighted or geometric mean). Weighted-mean scores are
    non-decreasing in every component with positive weight, for all three scalings (the
    population z-score ``(x - mean) / sd`` has derivative ``((n-1)/n - z²/n) / sd >= 0``).
    In every draw the scaling is recomputed from that draw's values (each draw is a
    complete alternative world), and places are re-ranked (:mod:`hotspots.rank.montecarlo`).
    Places with no recorded incident stay at zero under Poisson resampling: their
    uncertainty comes from the weights only (the axes method's intervals do not have
    this flaw; see docs/rank.md).
    """
    w = check_weights(weights, where="rank_places weights", error=InputError)
    opts = {"scaling": scaling, "combine": combine, "top_n": top_n, "tier1_share": tier1_share}
    opts |= {"tier2_share": tier2_share, "draws": draws, "weight_noise": weight_noise, "on_missing": on_missing}
    opts |= {"dirichlet_concentration": dirichlet_concentration, "lognormal_sigma": lognormal_sigma}
    check_options(where="rank_places", error=InputError, **opts)
    names = [k for k in COMPONENTS if w.get(k, 0) > 0]
    wv = np.array([w[k] for k in names])
    raw = raw_matrix(_checked(components), names)
    available = ~np.isnan(raw)
    _check_missing(components, names, available, on_missing)
    p = raw.shape[1]
    scaled = scale(raw, scaling)
    score, terms = combine_scaled(scaled[None], wv[None], available, combine)
    score, terms = score[0], terms[0]
    harm = (
        pd.to_numeric(components[HARM], errors="coerce").fillna(0).to_numpy(dtype=float)
        if HARM in components
        else np.zeros(p)
    )
    rank = point_ranks(score, harm)
    n_top = min(top_n, p)
    how = Perturbation(weight_noise, dirichlet_concentration, lognormal_sigma, resample_counts)
    mc = {"scaling": scaling, "combine": combine, "top_n": n_top, "draws": draws, "seed": seed, "how": how}
    low, high, p_top, widened = _intervals(components, names, raw, available, wv, rank, mc)
    k1 = math.ceil(tier1_share * p)
    k2 = k1 + math.ceil(tier2_share * p)
    tier = np.where(rank <= k1, 1, np.where(rank <= k2, 2, 3))
    board = {
        RANK: rank,
        SCORE: score,
        RANK_LOW: low.astype(np.int64),
        RANK_HIGH: high.astype(np.int64),
        P_TOP_N: p_top,
        TIER: tier,
    }
    out = _assemble(components, board, names, terms, available)
    out[REASON] = place_reasons(out, names, wv, scaled, available, venue_radius, deprivation_label)
    out.attrs["rank"] = {
        "method": "composite",
        "places": p,
        "weights": dict(zip(names, (wv / wv.sum()).round(6).tolist(), strict=False)),
        "scaling": scaling,
        "combine": combine,
        "draws": draws,
        "seed": seed,
        "top_n": n_top,
        "tier_sizes": {"1": k1, "2": k2 - k1, "3": max(p - k2, 0)},
        "intervals_widened_to_contain_rank": widened,
        "places_with_missing_components": int((~available.all(axis=0)).sum()),
    }
    out = out.sort_values(RANK, kind="stable")
    if isinstance(components, gpd.GeoDataFrame):
        geo = components.geometry.reindex(out.index)
        return gpd.GeoDataFrame(out, geometry=geo.values, crs=components.crs)
    return out


def _intervals(
    components: pd.DataFrame,
    names: list[str],
    raw: np.ndarray,
    available: np.ndarray,
    wv: np.ndarray,
    rank: np.ndarray,
    mc: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Monte Carlo interval (widened to contain the rank), P(top n), and how many intervals were widened."""
    if mc["draws"] <= 0:
        return rank.copy(), rank.copy(), (rank <= mc["top_n"]).astype(float), 0
    low, high, p_top = monte_carlo(components, names, raw, available, wv, **mc)
    widened = int(((rank < low) | (rank > high)).sum())
    return np.minimum(low, rank), np.maximum(high, rank), p_top, widened


def _checked(components: Any) -> pd.DataFrame:
    if not isinstance(components, pd.DataFrame) or C.LSOA_CODE not in components.columns:
        raise InputError(
            "rank_places: `components` must be a DataFrame with an 'lsoa_code' column (see place_components)."
        )
    if len(components) == 0:
        raise InputError("rank_places: `components` is empty; there are no places to rank.")
    return components


def _check_missing(components: pd.DataFrame, names: list[str], available: np.ndarray, on_missing: str) -> None:
    """Raise for missing data with ``on_missing="error"``, and for a component with no data at all."""
    lacking = ~available.all(axis=0)
    if lacking.any() and on_missing == "error":
        codes = components[C.LSOA_CODE].astype(str).to_numpy()
        i = int(np.flatnonzero(lacking)[0])
        which = [names[k] for k in np.flatnonzero(~available[:, i])]
        raise InputError(
            f"rank_places: {int(lacking.sum())} place(s) lack data for a weighted component, e.g. "
            f"{codes[i]!r} ({', '.join(which)}). Set on_missing = 'reweight' to score them on the other "
            "components, or give those components weight 0."
        )
    empty = [names[k] for k in range(len(names)) if not available[k].any()]
    if empty:
        raise InputError(
            f"rank_places: component(s) {', '.join(map(repr, empty))} have no data for any place; "
            "give them weight 0 or supply the data (see place_components)."
        )


def _assemble(
    components: pd.DataFrame, board: dict[str, np.ndarray], names: list[str], terms: np.ndarray, available: np.ndarray
) -> pd.DataFrame:
    """The places frame before its reasons: ``board`` columns (rank ... tier), components, contributions."""
    out = pd.DataFrame(index=components.index)
    for c in PLACE_ID_COLUMNS:
        out[c] = components[c].to_numpy() if c in components else None
    for c in (RANK, SCORE, RANK_LOW, RANK_HIGH, P_TOP_N, TIER):
        out[c] = board[c]
    for c in COMPONENT_COLUMNS:
        out[c] = components[c].to_numpy() if c in components else np.nan
    for k in COMPONENTS:
        out[CONTRIB[k]] = terms[names.index(k)] if k in names else 0.0
        if k in names:
            out.loc[~available[names.index(k)], CONTRIB[k]] = np.nan
    missing = np.full(len(out), "", dtype=object)
    for j in np.flatnonzero(~available.all(axis=0)):
        missing[j] = ";".join(names[k] for k in np.flatnonzero(~available[:, j]))
    out[MISSING] = missing
    return out
