"""Deprivation measures derived from the English Indices of Deprivation (IoD2019 or IoD2025).

Two derived measures the ranking stage needs and the published files do not hold:

* :func:`imd_without_crime`: the Index of Multiple Deprivation recomputed from the six
  non-crime domain ranks with the official IoD method, ranked nationally (N = 32,844 LSOAs
  for IoD2019, 33,755 for IoD2025, from the frame's vintage). Using the published IMD
  beside recorded violence double-counts, because the IMD's Crime domain is built from the
  same recorded crime.
* :func:`idaci_rate`: the share of children 0-15 in income-deprived families. IoD2025
  publishes it (File 7's IDACI score); for IoD2019 it is *derived* from the IDACI
  numerator over the children aged 0-15 of File 6 (the official IDACI score, File 3 / 5,
  uses a slightly different denominator and is not bundled).

:func:`combine_domains` is the general method both the oracle test (all seven domains
reproduce the official IMD rank) and :func:`imd_without_crime` use.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.errors import HotspotsWarning, InputError
from hotspots.io.iod import national_n
from hotspots.io.iod2025 import IDACI_OFFICIAL

log = logging.getLogger(__name__)

N_ENGLAND = 32_844
"""Number of LSOAs (2011) in England ranked by IoD2019 (IoD2025: 33,755; see :func:`hotspots.io.iod.national_n`)."""

IMD_WEIGHTS: dict[str, float] = {
    "income": 22.5,
    "employment": 22.5,
    "education": 13.5,
    "health": 13.5,
    "crime": 9.3,
    "barriers": 9.3,
    "living_env": 9.3,
}
"""Published domain weights (per cent) of the IMD, the same in IoD2019 and IoD2025 (MHCLG 2019,
Technical Report, ch. 3). As published they sum to 99.9 %: the score is their weighted sum as
they stand (dividing by 99.9 would scale every score by 1/0.999)."""

_NC_TOTAL = sum(v for k, v in IMD_WEIGHTS.items() if k != "crime")
IMD_NC_WEIGHTS: dict[str, float] = {k: 100.0 * v / _NC_TOTAL for k, v in IMD_WEIGHTS.items() if k != "crime"}
"""The six non-crime domain weights re-normalised to sum to 100 % (Income and Employment
22.5 / 90.7 = 24.8 % each, Education and Health 14.9 %, Barriers and Living Environment 10.3 %)."""

# output columns ---------------------------------------------------------------------
IMD_NC_SCORE = (
    "imd_nc_score"  # IMD without crime: weighted sum of transformed domain ranks, 0-100, higher = more deprived
)
IMD_NC_RANK = "imd_nc_rank"  # 1 = most deprived of the LSOAs given (of England with the bundled files)
IMD_NC_DECILE = "imd_nc_decile"  # 1 = most deprived 10 %
IMD_NC_COLUMNS = [C.LSOA_CODE, IMD_NC_SCORE, IMD_NC_RANK, IMD_NC_DECILE]

IDACI_RATE = "idaci_rate_derived"
"""Name of the derived IDACI rate series (share of children 0-15 in income-deprived families)."""

_EXP_CONST = 23.0
_EXP_TOP = 100.0


def exponential_transform(rank: np.ndarray | pd.Series, n: int) -> np.ndarray:
    """The IoD exponential transformation of domain ranks.

    Parameters
    ----------
    rank
        Domain ranks, 1 = most deprived of ``n``.
    n
        Number of areas ranked (32,844 LSOAs for IoD2019).

    Returns
    -------
    numpy.ndarray
        ``X = -23 ln(1 - R (1 - exp(-100/23)))`` with ``R = (n - rank + 1) / n``: 100 for the
        most deprived area, close to 0 for the least deprived. NaN ranks stay NaN.

    Notes
    -----
    The transformation stretches the deprived end so that deprivation in one domain is not
    fully cancelled by lack of deprivation in another (MHCLG 2019, *The English Indices of
    Deprivation 2019: Technical Report*, section 3.8).

    Examples
    --------
    >>> [round(float(x), 4) for x in exponential_transform(np.array([1, 32_844]), 32_844)]
    [100.0, 0.0007]
    """
    r = (n - np.asarray(rank, dtype=float) + 1.0) / n
    return -_EXP_CONST * np.log1p(-r * (1.0 - math.exp(-_EXP_TOP / _EXP_CONST)))


def _check_ranks(deprivation: pd.DataFrame, domains: list[str], n: int, where: str) -> None:
    if not isinstance(deprivation, pd.DataFrame):
        raise InputError(f"{where}: `deprivation` must be a DataFrame, got {type(deprivation).__name__}.")
    needed = [C.LSOA_CODE] + [f"{d}_rank" for d in domains]
    missing = [c for c in needed if c not in deprivation.columns]
    if missing:
        raise InputError(
            f"{where}: the deprivation frame has no column(s) {', '.join(map(repr, missing))}. "
            "Pass the deprivation frame read with hotspots.io.load.read_deprivation (study.deprivation)."
        )
    dup = deprivation[C.LSOA_CODE].duplicated()
    if dup.any():
        raise InputError(
            f"{where}: LSOA code {deprivation.loc[dup, C.LSOA_CODE].iloc[0]!r} appears more than once; "
            "give one row per LSOA."
        )
    for d in domains:
        col = f"{d}_rank"
        vals = pd.to_numeric(deprivation[col], errors="coerce")
        bad = vals.notna() & ((vals < 1) | (vals > n))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"{where}: row {i + 1} (LSOA {deprivation[C.LSOA_CODE].iloc[i]!r}), column {col!r}: rank "
                f"{vals.iloc[i].item()!r} is outside 1..{n}. Ranks must be national ranks "
                f"(1 = most deprived of {n})."
            )


def combine_domains(
    deprivation: pd.DataFrame,
    *,
    weights: Mapping[str, float] = IMD_WEIGHTS,
    n: int | None = None,
) -> pd.DataFrame:
    """Combine IoD domain ranks into one index with the official IoD method.

    Parameters
    ----------
    deprivation
        One row per LSOA with ``lsoa_code`` and ``<domain>_rank`` (1 = most deprived) for every
        domain in ``weights`` (as read by :func:`hotspots.io.load.read_deprivation`).
    weights
        Domain name to weight, in per cent of the score, used as given (they need not sum
        to 100: the published IMD weights sum to 99.9). Default the published IMD weights.
    n
        Number of areas the domain ranks are ranked among; default from the frame's vintage
        (32,844 for IoD2019, 33,755 for IoD2025).

    Returns
    -------
    pandas.DataFrame
        Aligned to ``deprivation``'s index: ``score`` (``sum(weight / 100 * X)`` of the
        exponentially transformed domain ranks X, 0-100 when the weights sum to 100, higher
        = more deprived), ``rank`` (1 = highest score among the rows given with complete
        ranks; ties broken by row order) and ``decile`` (``ceil(rank * 10 / m)``, m = rows
        ranked; 1 = most deprived 10 %, the IoD rule). Rows with any missing domain rank get
        NaN (score) and ``<NA>`` (rank, decile).

    Raises
    ------
    InputError
        A domain rank column is missing, a rank is outside 1..n, an LSOA code repeats, or a
        weight is negative, unknown or all weights are zero.

    Notes
    -----
    Each domain rank is mapped to ``R = (n - rank + 1) / n`` and exponentially transformed
    (:func:`exponential_transform`), then the transformed values are combined with the domain
    weights (MHCLG 2019, *Technical Report*, sections 3.8-3.9). With all seven domains and the
    published weights this reproduces the official IMD rank exactly for 99.67 % of LSOAs and
    never more than 2 ranks away (the published domain ranks round the underlying scores), and
    the published IoD2025 IMD scores to the third decimal.
    """
    where = "combine_domains"
    unknown = [k for k in weights if k not in C.DOMAINS]
    if unknown:
        raise InputError(
            f"{where}: unknown domain(s) {', '.join(map(repr, unknown))} in weights. "
            f"Valid domains: {', '.join(C.DOMAINS)}."
        )
    w = {k: float(v) for k, v in weights.items()}
    if any(v < 0 or not math.isfinite(v) for v in w.values()):
        raise InputError(f"{where}: domain weights must be finite and >= 0, got {w!r}.")
    if sum(w.values()) <= 0:
        raise InputError(f"{where}: domain weights are all zero; give at least one a positive weight.")
    n = national_n(deprivation) if n is None and isinstance(deprivation, pd.DataFrame) else n or N_ENGLAND
    domains = [k for k in w if w[k] > 0]
    _check_ranks(deprivation, domains, n, where)
    score = np.zeros(len(deprivation))
    for d in domains:
        score += (w[d] / 100.0) * exponential_transform(deprivation[f"{d}_rank"].to_numpy(dtype=float), n)
    score_s = pd.Series(score, index=deprivation.index)
    ok = score_s.notna()
    m = int(ok.sum())
    rank = pd.Series(pd.NA, index=deprivation.index, dtype="Int64")
    decile = pd.Series(pd.NA, index=deprivation.index, dtype="Int64")
    if m:
        # ordinal rank, highest score first; a stable sort breaks exact ties by row order
        order = np.argsort(-score[ok.to_numpy()], kind="stable")
        r = np.empty(m, dtype=np.int64)
        r[order] = np.arange(1, m + 1)
        rank[ok] = r
        decile[ok] = np.ceil(r * 10 / m).astype(np.int64)
    return pd.DataFrame({"score": score_s, "rank": rank, "decile": decile}, index=deprivation.index)


def imd_without_crime(deprivation: pd.DataFrame, *, n: int | None = None) -> pd.DataFrame:
    """The IMD recomputed without its Crime domain, ranked nationally.

    Parameters
    ----------
    deprivation
        The domain ranks of **every** LSOA in England (``study.deprivation``, IoD2019 File 2 or
        IoD2025 File 7): ``lsoa_code`` and the six non-crime ``<domain>_rank`` columns. With
        fewer rows the ranks and deciles are relative to the rows given (a
        :class:`HotspotsWarning` says so); the scores are not affected, because the domain
        ranks themselves are national.
    n
        Number of LSOAs the domain ranks are ranked among; default from the frame's vintage
        (32,844 for IoD2019, 33,755 for IoD2025).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`IMD_NC_COLUMNS`, one row per input row, same index:
        ``lsoa_code``; ``imd_nc_score`` (0-100, higher = more deprived); ``imd_nc_rank``
        (1 = most deprived); ``imd_nc_decile`` (1 = most deprived 10 %).

    Raises
    ------
    InputError
        A domain rank column is missing or out of range, or an LSOA code repeats.

    Notes
    -----
    The IMD's Crime domain (weight 9.3 %) is built from recorded violence, burglary, theft and
    criminal damage, so ranking places on recorded violence *and* the IMD counts crime twice.
    This index drops the Crime domain and re-normalises the other six published weights to
    100 % (22.5, 22.5, 13.5, 13.5, 9.3, 9.3 over 90.7) before combining the exponentially transformed
    domain ranks exactly as the official IMD does (MHCLG 2019, *Technical Report*, ch. 3). The
    same code with all seven domains reproduces the official IMD rank (see the tests).

    Examples
    --------
    >>> from hotspots.config import load_config
    >>> from hotspots.io.load import read_deprivation
    >>> dep = read_deprivation(load_config().deprivation)
    >>> nc = imd_without_crime(dep)
    >>> int(nc[IMD_NC_RANK].min()), int(nc[IMD_NC_RANK].max())
    (1, 32844)
    """
    if n is None and isinstance(deprivation, pd.DataFrame):
        n = national_n(deprivation)
    n = n or N_ENGLAND
    if isinstance(deprivation, pd.DataFrame) and len(deprivation) < n:
        warnings.warn(
            f"imd_without_crime: {len(deprivation):,} LSOAs given, not all {n:,} in England; "
            "imd_nc_rank and imd_nc_decile are relative to the LSOAs given. Pass study.deprivation "
            "(the England-wide File 2) for national ranks.",
            HotspotsWarning,
            stacklevel=2,
        )
    res = combine_domains(deprivation, weights=IMD_NC_WEIGHTS, n=n)
    out = pd.DataFrame(
        {
            C.LSOA_CODE: deprivation[C.LSOA_CODE],
            IMD_NC_SCORE: res["score"],
            IMD_NC_RANK: res["rank"],
            IMD_NC_DECILE: res["decile"],
        },
        index=deprivation.index,
    )
    missing = int(out[IMD_NC_SCORE].isna().sum())
    if missing:
        log.info("imd_without_crime: %d LSOA(s) lack a domain rank; left missing", missing)
    return out


def has_idaci(frame: pd.DataFrame) -> bool:
    """True when ``frame`` can give a youth income deprivation rate (official, or numerator and children)."""
    return IDACI_OFFICIAL in frame.columns or (C.IDACI_NUMERATOR in frame.columns and C.CHILDREN_0_15 in frame.columns)


def idaci_rate(lsoa: pd.DataFrame, *, required: bool = True) -> pd.Series:
    """Share of children 0-15 in income-deprived families: the official IoD2025 rate, or derived for IoD2019.

    Parameters
    ----------
    lsoa
        Frame with ``idaci_rate`` (IoD2025 File 7, the published IDACI score), or with
        ``idaci_numerator`` (IoD2019 indicators; NaN where suppressed) and ``children_0_15``
        (IoD2019 File 6, mid-2015), e.g. ``study.lsoa``.
    required
        Raise when the frame has neither (default); with False, return all NaN instead
        (for components whose weight is zero).

    Returns
    -------
    pandas.Series
        Named :data:`IDACI_RATE`, aligned to ``lsoa``'s index: a proportion in [0, 1] (share of
        children). NaN where the numerator is suppressed or missing, or where there are no
        children: a suppressed numerator is never treated as zero.

    Raises
    ------
    InputError
        The columns are missing (and ``required``), or a value is negative.

    Notes
    -----
    The IoD2019 rate is DERIVED, not the official IDACI score: the official score (IoD2019
    File 3) divides by the children aged 0-15 of the same benefit-data snapshot; File 6 holds
    mid-2015 population estimates. Use it to compare LSOAs, not to quote an official figure.

    Examples
    --------
    >>> df = pd.DataFrame({"idaci_numerator": [30.0, None], "children_0_15": [120, 80]})
    >>> idaci_rate(df).tolist()
    [0.25, nan]
    """
    where = "idaci_rate"
    if not isinstance(lsoa, pd.DataFrame):
        raise InputError(f"{where}: `lsoa` must be a DataFrame, got {type(lsoa).__name__}.")
    if IDACI_OFFICIAL in lsoa.columns:
        return pd.to_numeric(lsoa[IDACI_OFFICIAL], errors="coerce").astype(float).rename(IDACI_RATE)
    missing = [c for c in (C.IDACI_NUMERATOR, C.CHILDREN_0_15) if c not in lsoa.columns]
    if missing:
        if not required:
            return pd.Series(np.nan, index=lsoa.index, name=IDACI_RATE)
        raise InputError(
            f"{where}: the frame has no column(s) {', '.join(map(repr, missing))}. Configure "
            "[deprivation] indicators (the IDACI numerator; bundled England-wide: "
            "data/iod2019/humaniverse_imd2019_england_lsoa11_indicators.csv.gz) and population (IoD2019 File 6), "
            "or use IoD2025 File 7, which publishes the rate."
        )
    num = pd.to_numeric(lsoa[C.IDACI_NUMERATOR], errors="coerce").astype(float)
    den = pd.to_numeric(lsoa[C.CHILDREN_0_15], errors="coerce").astype(float)
    for name, s in ((C.IDACI_NUMERATOR, num), (C.CHILDREN_0_15, den)):
        neg = s < 0
        if neg.any():
            i = int(np.flatnonzero(neg.to_numpy())[0])
            code = lsoa[C.LSOA_CODE].iloc[i] if C.LSOA_CODE in lsoa.columns else i
            raise InputError(
                f"{where}: row {i + 1} (LSOA {code!r}), column {name!r}: {float(s.iloc[i])!r} is negative."
            )
    rate = num / den.where(den > 0)
    return rate.rename(IDACI_RATE)
