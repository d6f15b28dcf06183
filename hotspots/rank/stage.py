"""Rank places (LSOAs) for the Board: composite priority score, uncertainty, reasons, tiers.

The stage has three pure steps and a thin pipeline adapter:

1. :func:`place_components` gathers, for every study-area LSOA, the raw component values:
   harm-weighted violence (rate per 1,000 residents and count), hotspot strength (Gi* z of
   the LSOA and the KDE of the grid cells in it), night-time-economy (NTE) exposure (venue
   density, share of violence near a venue), deprivation (IMD without its Crime domain by
   default) and youth need (derived IDACI rate, Children and Young People sub-domain).
2. :func:`rank_places` scales each component (percentile, min-max or z-score), combines
   them (weighted or geometric mean), ranks the places, assigns Board tiers, runs a seeded
   Monte Carlo (Poisson-resampled counts, perturbed weights) for ``rank_low``/``rank_high``
   and ``p_top_n``, and writes each component's contribution and a one-line reason.
3. :func:`district_profiles` summarises each district of the study area.

:func:`run_stage` wires them to the run context and writes ``places.csv``,
``places.gpkg`` (layer ``places``) and ``districts.csv``.

The columns, components, options and :class:`RankConfig` are defined in
:mod:`hotspots.rank.config`, component building in :mod:`hotspots.rank.components`,
scaling and combination in :mod:`hotspots.rank.scale` and the reasons in
:mod:`hotspots.rank.reasons`; the public names are all importable from here (``__all__``).
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.detect.stage import DetectResult
from hotspots.errors import ConfigError, HotspotsWarning, InputError
from hotspots.prepare.study import Study
from hotspots.rank.components import place_components
from hotspots.rank.concentration import concentration, lorenz
from hotspots.rank.config import (
    COMBINES,
    COMPONENT_COLUMNS,
    COMPONENTS,
    CONTRIB,
    CYP_DECILE,
    CYP_NEED,
    DEFAULT_WEIGHTS,
    DEPRIVATION_MEASURES,
    DEPRIVATION_SCORE,
    DISTRICT_COLUMNS,
    GEOMETRIC_FLOOR,
    GI_Z,
    HARM,
    HARM_NEAR,
    HARM_RATE,
    HOTSPOT_CLASS,
    IDACI_RATE_COL,
    IMD_DECILE,
    IMD_NC_DECILE_COL,
    INTERVAL,
    KDE,
    KDE_AGGREGATES,
    MISSING,
    N_INCIDENTS,
    NEAR_VENUE_SHARE,
    ON_MISSING,
    P_TOP_N,
    PLACE_ID_COLUMNS,
    PLACES_COLUMNS,
    POPULATION,
    RANK,
    RANK_HIGH,
    RANK_LOW,
    REASON,
    RESAMPLED,
    SCALINGS,
    SCORE,
    TIER,
    VENUE_DENSITY,
    VENUES_NEAR,
    WEIGHT_NOISES,
    RankConfig,
    check_options,
    check_weights,
)
from hotspots.rank.reasons import place_reasons
from hotspots.rank.scale import combine_scaled, point_ranks, raw_matrix, scale

__all__ = [
    "COMBINES",
    "COMPONENTS",
    "COMPONENT_COLUMNS",
    "CONTRIB",
    "CYP_DECILE",
    "CYP_NEED",
    "DEFAULT_WEIGHTS",
    "DEPRIVATION_MEASURES",
    "DEPRIVATION_SCORE",
    "DISTRICT_COLUMNS",
    "GEOMETRIC_FLOOR",
    "GI_Z",
    "HARM",
    "HARM_NEAR",
    "HARM_RATE",
    "HOTSPOT_CLASS",
    "IDACI_RATE_COL",
    "IMD_DECILE",
    "IMD_NC_DECILE_COL",
    "INTERVAL",
    "KDE",
    "KDE_AGGREGATES",
    "MISSING",
    "NEAR_VENUE_SHARE",
    "N_INCIDENTS",
    "ON_MISSING",
    "PLACES_COLUMNS",
    "PLACE_ID_COLUMNS",
    "POPULATION",
    "P_TOP_N",
    "RANK",
    "RANK_HIGH",
    "RANK_LOW",
    "REASON",
    "RESAMPLED",
    "SCALINGS",
    "SCORE",
    "TIER",
    "VENUES_NEAR",
    "VENUE_DENSITY",
    "WEIGHT_NOISES",
    "RankConfig",
    "RankResult",
    "check_weights",
    "composite_score",
    "district_profiles",
    "partial_sources",
    "place_components",
    "rank",
    "rank_places",
    "scale",
]

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------
# composite score (no uncertainty)
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# ranking with Monte Carlo uncertainty
# --------------------------------------------------------------------------------------


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
        :data:`COMPONENTS`; :func:`place_components` builds it). Columns of components with
        weight 0 may be absent. For count resampling: ``n``, ``harm``, ``harm_near`` and
        ``population``.
    weights
        ``{component: weight}`` (non-negative, not all zero; unlisted = 0).
    scaling, combine
        See :func:`scale`; ``"weighted_mean"`` or ``"geometric_mean"`` (scaled values floored
        at :data:`GEOMETRIC_FLOOR`; needs percentile or min-max scaling).
    top_n
        Size of the Board's list for ``p_top_n``.
    tier1_share, tier2_share
        Tier rule (see :class:`RankConfig`).
    draws, seed
        Monte Carlo draws (0 = none) and seed; the same seed gives the same output, on any
        number of threads.
    weight_noise, dirichlet_concentration, lognormal_sigma
        Weight perturbation: ``w_d ~ Dirichlet(concentration x w / sum w)`` over the
        positive weights, or ``w_d = w x exp(N(0, sigma))``, or none. Zero weights stay zero.
    resample_counts
        Redraw each place's near-venue and other incident counts from Poisson(observed) in
        every draw, and recompute ``harm_rate``, ``harm_count`` and ``near_venue_share``.
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
    complete alternative world), and places are re-ranked; the draw loop is vectorised in
    blocks of draws (numpy), one seeded generator per block (``SeedSequence.spawn``), so
    results do not depend on the number of threads. Places with no recorded incident stay
    at zero under Poisson resampling: their uncertainty comes from the weights only.
    """
    w = check_weights(weights, where="rank_places weights", error=InputError)
    check_options(
        scaling=scaling,
        combine=combine,
        top_n=top_n,
        tier1_share=tier1_share,
        tier2_share=tier2_share,
        draws=draws,
        weight_noise=weight_noise,
        dirichlet_concentration=dirichlet_concentration,
        lognormal_sigma=lognormal_sigma,
        on_missing=on_missing,
        where="rank_places",
        error=InputError,
    )
    if not isinstance(components, pd.DataFrame) or C.LSOA_CODE not in components.columns:
        raise InputError(
            "rank_places: `components` must be a DataFrame with an 'lsoa_code' column (see place_components)."
        )
    if len(components) == 0:
        raise InputError("rank_places: `components` is empty; there are no places to rank.")
    names = [k for k in COMPONENTS if w.get(k, 0) > 0]
    wv = np.array([w[k] for k in names])
    raw = raw_matrix(components, names)
    available = ~np.isnan(raw)
    p = raw.shape[1]
    codes = components[C.LSOA_CODE].astype(str).to_numpy()
    lacking = ~available.all(axis=0)
    if lacking.any() and on_missing == "error":
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
    if draws > 0:
        low, high, p_top = _monte_carlo(
            components,
            names,
            raw,
            available,
            wv,
            scaling=scaling,
            combine=combine,
            top_n=n_top,
            draws=draws,
            seed=seed,
            weight_noise=weight_noise,
            concentration=dirichlet_concentration,
            sigma=lognormal_sigma,
            resample=resample_counts,
        )
        widened = int(((rank < low) | (rank > high)).sum())
        low, high = np.minimum(low, rank), np.maximum(high, rank)
    else:
        low, high, p_top, widened = rank.copy(), rank.copy(), (rank <= n_top).astype(float), 0

    k1 = math.ceil(tier1_share * p)
    k2 = k1 + math.ceil(tier2_share * p)
    tier = np.where(rank <= k1, 1, np.where(rank <= k2, 2, 3))

    out = pd.DataFrame(index=components.index)
    for c in PLACE_ID_COLUMNS:
        out[c] = components[c].to_numpy() if c in components else None
    out[RANK] = rank
    out[SCORE] = score
    out[RANK_LOW] = low.astype(np.int64)
    out[RANK_HIGH] = high.astype(np.int64)
    out[P_TOP_N] = p_top
    out[TIER] = tier
    for c in COMPONENT_COLUMNS:
        out[c] = components[c].to_numpy() if c in components else np.nan
    for k in COMPONENTS:
        out[CONTRIB[k]] = terms[names.index(k)] if k in names else 0.0
        if k in names:
            out.loc[~available[names.index(k)], CONTRIB[k]] = np.nan
    missing = np.full(p, "", dtype=object)
    for j in np.flatnonzero(lacking):
        missing[j] = ";".join(names[k] for k in np.flatnonzero(~available[:, j]))
    out[MISSING] = missing
    out[REASON] = place_reasons(out, names, wv, scaled, available, combine, venue_radius, deprivation_label)
    out.attrs["rank"] = {
        "places": p,
        "weights": dict(zip(names, (wv / wv.sum()).round(6).tolist(), strict=False)),
        "scaling": scaling,
        "combine": combine,
        "draws": draws,
        "seed": seed,
        "top_n": n_top,
        "tier_sizes": {"1": k1, "2": k2 - k1, "3": max(p - k2, 0)},
        "intervals_widened_to_contain_rank": widened,
        "places_with_missing_components": int(lacking.sum()),
    }
    out = out.sort_values(RANK, kind="stable")
    if isinstance(components, gpd.GeoDataFrame):
        geo = components.geometry.reindex(out.index)
        return gpd.GeoDataFrame(out, geometry=geo.values, crs=components.crs)
    return out


def _weight_draws(
    rng: np.random.Generator, w: np.ndarray, d: int, noise: str, concentration: float, sigma: float
) -> np.ndarray:
    w = w / w.sum()
    if noise == "none" or len(w) == 1:
        return np.broadcast_to(w, (d, len(w))).copy()
    if noise == "dirichlet":
        return rng.dirichlet(concentration * w, size=d)
    wd = w * np.exp(rng.normal(0.0, sigma, size=(d, len(w))))
    return wd / wd.sum(axis=1, keepdims=True)


def _poisson_harm(rng: np.random.Generator, lam: np.ndarray, has: np.ndarray, mh: np.ndarray, d: int) -> np.ndarray:
    """``d`` Poisson(lam) draws per place times the place's mean harm (float32), 0 where lam = 0."""
    if has.all():
        out = np.empty((d, len(lam)), dtype=np.float32)
        np.multiply(rng.poisson(lam, size=(d, len(lam))), mh, out=out, casting="unsafe")
        return out
    out = np.zeros((d, len(lam)), dtype=np.float32)
    idx = np.flatnonzero(has)
    if len(idx):
        out[:, idx] = rng.poisson(lam[idx], size=(d, len(idx))) * mh[idx]
    return out


def _monte_carlo(
    components: pd.DataFrame,
    names: list[str],
    raw: np.ndarray,
    available: np.ndarray,
    w: np.ndarray,
    *,
    scaling: str,
    combine: str,
    top_n: int,
    draws: int,
    seed: int,
    weight_noise: str,
    concentration: float,
    sigma: float,
    resample: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ranks of every place in ``draws`` perturbed worlds; returns (5th pct, 95th pct, P(top n))."""
    k, p = raw.shape
    res = [i for i, nm in enumerate(names) if nm in RESAMPLED] if resample else []
    fixed = [i for i in range(k) if i not in res]
    if res:
        for c in (N_INCIDENTS, HARM, HARM_NEAR, POPULATION):
            if c not in components.columns and not (c == HARM_NEAR and "near_venue_share" not in names):
                raise InputError(
                    f"rank_places: resampling counts needs the column {c!r}; build components with "
                    "place_components or pass resample_counts=False."
                )
        n_obs = pd.to_numeric(components[N_INCIDENTS], errors="coerce").fillna(0).to_numpy(dtype=float)
        harm = pd.to_numeric(components[HARM], errors="coerce").fillna(0).to_numpy(dtype=float)
        hn = (
            pd.to_numeric(components[HARM_NEAR], errors="coerce").fillna(0).to_numpy(dtype=float)
            if HARM_NEAR in components
            else np.zeros(p)
        )
        pop = pd.to_numeric(components[POPULATION], errors="coerce").to_numpy(dtype=float)
        mean_harm = np.where(n_obs > 0, harm / np.where(n_obs > 0, n_obs, 1), 0.0)
        # split the count in proportion to harm near / away from venues (same mean harm)
        lam_near = np.where(harm > 0, n_obs * hn / np.where(harm > 0, harm, 1), 0.0)
        lam_far = np.maximum(n_obs - lam_near, 0.0)
        per_1000 = np.where(pop > 0, 1000.0 / np.where(pop > 0, pop, 1), np.nan).astype(np.float32)
        has_near, has_far = lam_near > 0, lam_far > 0
        mh32 = mean_harm.astype(np.float32)
    A = available.astype(float)

    def term(sc: np.ndarray) -> np.ndarray:
        if combine == "weighted_mean":
            return np.nan_to_num(sc, nan=0.0) if np.isnan(sc).any() else sc
        return np.log(np.maximum(np.nan_to_num(sc, nan=1.0), GEOMETRIC_FLOOR))

    fixed_terms = term(scale(raw[fixed], scaling)) * A[fixed] if fixed else np.empty((0, p))
    block = max(1, min(draws, int(2e6 // max(p, 1))))  # ~2 M cells per block keeps memory flat
    starts = list(range(0, draws, block))
    seqs = np.random.SeedSequence(seed).spawn(len(starts))
    ranks = np.empty((draws, p), dtype=np.int32)

    def run_block(b: int) -> None:
        rng = np.random.default_rng(seqs[b])
        d = min(block, draws - starts[b])
        wd = _weight_draws(rng, w, d, weight_noise, concentration, sigma)
        den = wd @ A
        num = wd[:, fixed] @ fixed_terms if fixed else np.zeros((d, p))
        if res:
            # float32 working precision; Poisson only where the expected count is positive
            near = _poisson_harm(rng, lam_near, has_near, mh32, d)
            total = _poisson_harm(rng, lam_far, has_far, mh32, d)
            total += near
            for i in res:
                nm = names[i]
                if nm == "harm_count":
                    v = total
                elif nm == "harm_rate":
                    v = total * per_1000
                else:
                    with np.errstate(invalid="ignore", divide="ignore"):
                        v = np.where(total > 0, near / np.where(total > 0, total, np.float32(1)), np.float32(0))
                if not available[i].all():
                    v = np.where(available[i], v, np.nan)
                    num += wd[:, i : i + 1] * (term(scale(v, scaling)) * A[i])
                else:
                    num += wd[:, i : i + 1] * term(scale(v, scaling))
        with np.errstate(invalid="ignore", divide="ignore"):
            score = num / den
        s = np.where(den > 0, -score, np.inf).astype(np.float32)
        order = np.argsort(s, axis=1)  # deterministic introsort (SIMD); exact ties are rare
        flat = (order + (np.arange(d, dtype=order.dtype) * p)[:, None]).ravel()
        r = np.empty(d * p, dtype=np.int32)
        r[flat] = np.tile(np.arange(1, p + 1, dtype=np.int32), d)
        ranks[starts[b] : starts[b] + d] = r.reshape(d, p)

    workers = max(1, min(len(starts), os.cpu_count() or 1, 4))
    if workers == 1:
        for b in range(len(starts)):
            run_block(b)
    else:
        with ThreadPoolExecutor(max_workers=workers) as ex:
            list(ex.map(run_block, range(len(starts))))
    top = (ranks <= top_n).sum(axis=0)
    low, high = np.percentile(ranks, INTERVAL, axis=0, method="nearest")
    return low.astype(np.int64), high.astype(np.int64), top / draws


# --------------------------------------------------------------------------------------
# district profiles
# --------------------------------------------------------------------------------------


def district_profiles(places: pd.DataFrame, *, top_n: int = 20, tier: int = 1) -> pd.DataFrame:
    """One row per district of the study area and a total row.

    Parameters
    ----------
    places
        Output of :func:`rank_places` (``district, population, n, harm, rank, tier``).
    top_n
        Places with ``rank <= top_n`` are counted in ``top_n_places``.
    tier
        Unused tiers are fine; ``tier1_places`` counts ``tier == 1``.

    Returns
    -------
    pandas.DataFrame
        :data:`DISTRICT_COLUMNS`: ``district`` (``"All"`` for the total row), ``lsoas``,
        ``population`` (mid-2015), ``incidents`` and ``harm`` (sums), ``rate_per_1000`` and
        ``harm_per_1000`` (per 1,000 residents), ``top_n_places``, ``tier1_places``,
        ``share_lsoas_50pct`` (smallest share of the district's LSOAs holding half its
        incidents, 0-1) and ``gini`` (Gini of incident counts over its LSOAs, 0-1), both from
        :mod:`hotspots.evaluate.rolling`, and ``median_rank``. Sorted by incidents, descending.
    """
    from hotspots.rank.concentration import gini, share_holding

    need = [C.DISTRICT, POPULATION, N_INCIDENTS, HARM, RANK, TIER]
    miss = [c for c in need if c not in places.columns]
    if miss:
        raise InputError(f"district_profiles: places have no column(s) {', '.join(map(repr, miss))}; use rank_places.")
    df = pd.DataFrame(places[need]).copy()
    df[C.DISTRICT] = df[C.DISTRICT].astype(object).where(df[C.DISTRICT].notna(), "(no district)")

    def row(name: str, g: pd.DataFrame) -> dict[str, Any]:
        pop = float(g[POPULATION].sum(min_count=1)) if g[POPULATION].notna().any() else float("nan")
        n = g[N_INCIDENTS].to_numpy(dtype=float)
        return {
            C.DISTRICT: name,
            "lsoas": len(g),
            POPULATION: pop,
            "incidents": int(n.sum()),
            HARM: float(g[HARM].sum()),
            "rate_per_1000": n.sum() / pop * 1000 if pop > 0 else float("nan"),
            "harm_per_1000": g[HARM].sum() / pop * 1000 if pop > 0 else float("nan"),
            "top_n_places": int((g[RANK] <= top_n).sum()),
            "tier1_places": int((g[TIER] == tier).sum()),
            "share_lsoas_50pct": share_holding(n, 0.5) if n.sum() > 0 else float("nan"),
            "gini": gini(n) if n.sum() > 0 else float("nan"),
            "median_rank": float(g[RANK].median()),
        }

    rows = [row(str(name), g) for name, g in df.groupby(C.DISTRICT, sort=True)]
    rows.sort(key=lambda r: -r["incidents"])
    rows.append(row("All", df))
    return pd.DataFrame(rows, columns=DISTRICT_COLUMNS)


def partial_sources(incidents: pd.DataFrame, lsoa: pd.DataFrame) -> list[str]:
    """Sources whose incidents fall in some districts of the study area but not all.

    Pooling such a source (e.g. a City-only extract) with force-wide ones raises the places
    it covers; the stage lists them in the manifest, and ``[study] sources`` can leave them out.
    """
    if C.DISTRICT not in lsoa.columns or len(incidents) == 0:
        return []
    district_of = pd.Series(lsoa[C.DISTRICT].to_numpy(), index=lsoa[C.LSOA_CODE].astype(str).to_numpy())
    want = set(district_of.dropna())
    d = incidents[C.LSOA_CODE].astype(str).map(district_of)
    frame = pd.DataFrame({"s": incidents[C.SOURCE].astype(str).to_numpy(), "d": d.to_numpy()}).dropna()
    return [str(src) for src, ds in frame.groupby("s", sort=True)["d"] if not set(ds) >= want]


# --------------------------------------------------------------------------------------
# pipeline stage
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankResult:
    """The ranked places and the district profiles.

    Attributes
    ----------
    places
        One row per study-area LSOA in :data:`PLACES_COLUMNS` order, sorted by rank.
    districts
        District profiles (:data:`DISTRICT_COLUMNS`).
    concentration
        Concentration of incidents over LSOAs (Gini, shares) with the Lorenz curve under
        ``"lorenz"``.
    auto
        Parameters chosen automatically.
    summary
        Weights, tier sizes, missing data and notes for the manifest.
    """

    places: gpd.GeoDataFrame
    districts: pd.DataFrame
    concentration: dict[str, Any]
    auto: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


def rank(study: Study, detected: DetectResult, cfg: RankConfig) -> RankResult:
    """Pipeline stage ``rank``: score and rank the LSOAs and profile the districts.

    Parameters
    ----------
    study
        The loaded study.
    detected
        The detect stage's result: its LSOA Gi* z and grid KDE are the hotspot components,
        computed on the same place-analysis incidents (``[study] sources``).
    cfg
        The ``[rank]`` section.

    Returns
    -------
    RankResult
        Places, district profiles, concentration, automatic choices and a summary; LSOAs
        with missing data are reported (warning and summary) and components with no data
        at all are dropped from the weights (warning).
    """
    incidents = study.analysis_incidents
    notes: dict[str, Any] = {}
    partial = partial_sources(incidents, study.lsoa)
    if partial:
        notes["partial_coverage_sources"] = partial
        log.info("rank: sources covering only part of the area: %s", ", ".join(partial))
    weights = dict(cfg.weights)
    comps = place_components(
        study.lsoa,
        incidents,
        venues=study.venues,
        deprivation=study.deprivation,
        detect_lsoa=detected.lsoa,
        grid=detected.grid,
        venue_radius=cfg.venue_radius,
        deprivation_measure=cfg.deprivation,
        kde_aggregate=cfg.kde_aggregate,
    )
    unavailable = [k for k, v in weights.items() if v > 0 and comps[COMPONENTS[k]].isna().all()]
    if unavailable:
        msg = (
            f"rank: component(s) {', '.join(unavailable)} have no data in this study (e.g. no venues, "
            "deprivation or incidents); they are left out and the other weights re-normalised."
        )
        warnings.warn(msg, HotspotsWarning, stacklevel=2)
        for k in unavailable:
            weights.pop(k)
        if not any(v > 0 for v in weights.values()):
            raise ConfigError(f"[rank] weights: every weighted component lacks data ({', '.join(unavailable)}).")
        notes["unavailable_components"] = unavailable
    places = rank_places(
        comps,
        weights=weights,
        scaling=cfg.scaling,
        combine=cfg.combine,
        top_n=cfg.top_n,
        tier1_share=cfg.tier1_share,
        tier2_share=cfg.tier2_share,
        draws=cfg.draws,
        seed=cfg.seed,
        weight_noise=cfg.weight_noise,
        dirichlet_concentration=cfg.dirichlet_concentration,
        lognormal_sigma=cfg.lognormal_sigma,
        resample_counts=cfg.resample_counts,
        on_missing=cfg.on_missing,
        venue_radius=cfg.venue_radius,
        deprivation_label="IMD (excluding crime)" if cfg.deprivation == "imd_without_crime" else "IMD",
    )
    missing = places.loc[places[MISSING] != "", [C.LSOA_CODE, MISSING]]
    if len(missing):
        by_comp = {
            k: missing.loc[missing[MISSING].str.split(";").apply(lambda xs, k=k: k in xs), C.LSOA_CODE].tolist()
            for k in weights
        }
        by_comp = {k: v for k, v in by_comp.items() if v}
        warnings.warn(
            f"rank: {len(missing)} LSOA(s) lack data for some components ("
            + "; ".join(f"{k}: {len(v)}" for k, v in by_comp.items())
            + "); they are scored on their other components with re-normalised weights, not ranked last. "
            "See the 'missing' column and the manifest.",
            HotspotsWarning,
            stacklevel=2,
        )
        notes["missing_data"] = by_comp
    info = dict(places.attrs.get("rank", {}))
    summary = {**info, **notes}

    profiles = district_profiles(places, top_n=cfg.top_n)
    conc = concentration(places[N_INCIDENTS].to_numpy(dtype=float))
    conc["lorenz"] = lorenz(places[N_INCIDENTS].to_numpy(dtype=float))
    summary["concentration_lsoa"] = {k: v for k, v in conc.items() if k != "lorenz"}
    log.info("rank: %d places ranked; top: %s", len(places), places[C.LSOA_NAME].head(3).tolist())
    return RankResult(places=places, districts=profiles, concentration=conc, summary=summary)
