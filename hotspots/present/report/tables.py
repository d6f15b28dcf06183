"""The Board report's tables and number formatting (pure: frames in, frames or text out).

Counts per month and per LSOA, the district comparison, the headline concentration, the
ward of each LSOA, the force-wide sources, and the Board's disclosure control
(:func:`fmt_count`, :func:`mask_small_counts`). Used by :mod:`hotspots.present.report.figures` and
:mod:`hotspots.present.report.build`; the public names are importable from :mod:`hotspots.present.report.build`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.io.sites import SITE_NAME, SITE_SOURCE
from hotspots.rank import concentration as evaluate
from hotspots.rank import stage as rank

TOP_SHARE = 0.05
"""The headline concentration figure: share of incidents in the top 5 % of places."""

# Columns read from other stages' frames (documented in their modules).
PLACE_RANK = rank.RANK
PLACE_RANK_LOW = rank.RANK_LOW
PLACE_RANK_HIGH = rank.RANK_HIGH
PLACE_P_TOP_N = rank.P_TOP_N
PLACE_TIER = rank.TIER
PLACE_REASON = rank.REASON
CURVE_KITS = "kits"
CURVE_COVERED = "covered_harm"
CURVE_PCT = "coverage_pct"
KIT_ORDER = C.ORDER
KIT_NAME = SITE_NAME
KIT_SOURCE = SITE_SOURCE
KIT_MARGINAL = "marginal_harm"
KIT_CUMULATIVE = "cumulative_coverage_pct"

# Columns of the frames this module builds.
MONTHLY_COLUMNS = [C.SOURCE, C.SCOPE, C.MONTH, "n", C.HARM]
""":func:`monthly_counts`: source, scope category, month ``YYYY-MM``, incidents, harm."""
LSOA_COUNT_COLUMNS = [C.LSOA_CODE, C.LSOA_NAME, C.DISTRICT, C.POPULATION, "n", C.HARM]
""":func:`lsoa_counts`: every study LSOA with its incidents and harm (zero-filled)."""
DISTRICT_COLUMNS = [
    C.DISTRICT,
    "lsoas",
    C.POPULATION,
    "n",
    C.HARM,
    "rate_per_1000",
    "harm_per_1000",
    "top_n_places",
    "tier1_places",
    "share_lsoas_50",
    "gini",
]
""":func:`district_summary` columns (see its docstring)."""


# --------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------


def fmt_count(n: Any, *, small: int = 5) -> str:
    """A count for the Board: thousands separators, and ``"<small"`` below ``small``.

    Examples
    --------
    >>> fmt_count(1234), fmt_count(3), fmt_count(0), fmt_count(5)
    ('1,234', '<5', '<5', '5')
    """
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return "n/a"
    v = round(float(n))
    if v < small:
        return f"<{small}"
    return f"{v:,}"


def fmt_num(x: Any, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x):
        return "n/a"
    return f"{float(x):,.{digits}f}"


def fmt_pct(x: Any, digits: int = 1) -> str:
    """A share in [0, 1] as a percentage."""
    if x is None or pd.isna(x):
        return "n/a"
    return f"{100 * float(x):.{digits}f} %"


def tier_label(t: Any) -> str:
    if t is None or (not isinstance(t, str) and pd.isna(t)):
        return "n/a"
    if isinstance(t, (int, np.integer)) or (isinstance(t, float) and float(t).is_integer()):
        return f"Tier {int(t)}"
    return str(t)


def is_tier1(t: Any) -> bool:
    """True for a tier value meaning Tier 1 (``1``, ``"1"``, ``"Tier 1"``, case-insensitive)."""
    return tier_label(t).strip().lower() == "tier 1"


_COUNT_IN_TEXT = re.compile(r"(?<![\d.,])(\d[\d,]*) (incidents?|crimes?)\b")


def mask_small_counts(text: str, *, small: int = 5) -> str:
    """Show counts of incidents under ``small`` in a sentence as ``"<small"`` (disclosure control).

    Examples
    --------
    >>> mask_small_counts("Top 2% harm (3 incidents); 14 NTE venues within 200 m")
    'Top 2% harm (<5 incidents); 14 NTE venues within 200 m'
    """

    def sub(m: re.Match[str]) -> str:
        n = int(m.group(1).replace(",", ""))
        return f"<{small} {m.group(2).rstrip('s')}s" if n < small else m.group(0)

    return _COUNT_IN_TEXT.sub(sub, text)


# --------------------------------------------------------------------------------------
# Tables (pure)
# --------------------------------------------------------------------------------------


def require_columns(frame: pd.DataFrame, cols: list[str], what: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise InputError(
            f"{what} lacks column(s) {', '.join(map(repr, missing))} needed by the report; "
            f"it has {', '.join(map(str, frame.columns))}. Run the stage that makes it, or add the column."
        )


def monthly_counts(incidents: pd.DataFrame) -> pd.DataFrame:
    """Incidents and harm per source, scope category and month.

    Parameters
    ----------
    incidents
        The canonical incident frame (``source``, ``scope``, ``month``, ``harm``).

    Returns
    -------
    DataFrame
        :data:`MONTHLY_COLUMNS`: ``source``, ``scope``, ``month`` (``YYYY-MM``), ``n``
        (incidents), ``harm`` (sum of harm weights), sorted; rows without a month are left out.
    """
    require_columns(incidents, [C.SOURCE, C.SCOPE, C.MONTH, C.HARM], "the incident frame")
    inc = incidents[incidents[C.MONTH].notna()]
    if len(inc) == 0:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c in ("n", C.HARM) else object) for c in MONTHLY_COLUMNS})
    g = inc.groupby([C.SOURCE, C.SCOPE, C.MONTH], sort=True)
    out = pd.DataFrame({"n": g.size(), C.HARM: g[C.HARM].sum()}).reset_index()
    return out[MONTHLY_COLUMNS]


def lsoa_counts(incidents: pd.DataFrame, lsoa: pd.DataFrame) -> pd.DataFrame:
    """Incidents and harm in every study LSOA, zero where there are none.

    Returns
    -------
    DataFrame
        :data:`LSOA_COUNT_COLUMNS`: ``lsoa_code``, ``lsoa_name``, ``district``,
        ``population`` (IoD2019 mid-2015; NaN if unknown), ``n`` (incidents), ``harm``.
    """
    require_columns(lsoa, [C.LSOA_CODE], "the LSOA frame")
    require_columns(incidents, [C.LSOA_CODE, C.HARM], "the incident frame")
    g = incidents.groupby(C.LSOA_CODE)
    n = g.size()
    h = g[C.HARM].sum()
    out = pd.DataFrame({C.LSOA_CODE: lsoa[C.LSOA_CODE].to_numpy()})
    for col in (C.LSOA_NAME, C.DISTRICT, C.POPULATION):
        out[col] = lsoa[col].to_numpy() if col in lsoa.columns else np.nan
    out["n"] = out[C.LSOA_CODE].map(n).fillna(0).astype("int64")
    out[C.HARM] = out[C.LSOA_CODE].map(h).fillna(0.0).astype("float64")
    return out[LSOA_COUNT_COLUMNS]


def top_share(counts: Any, share: float = TOP_SHARE) -> tuple[float, int]:
    """Share of incidents in the busiest ``share`` of places, and how many places that is.

    The number of places is ``ceil(share * N)``, so at least one.

    Examples
    --------
    >>> top_share([10, 0, 0, 0, 0, 0, 0, 0, 0, 10], 0.1)
    (0.5, 1)
    """
    c = np.sort(np.asarray(counts, dtype=float))[::-1]
    if len(c) == 0 or c.sum() <= 0:
        return float("nan"), 0
    k = max(1, math.ceil(share * len(c) - 1e-9))
    return float(c[:k].sum() / c.sum()), int(k)


def lsoa_wards(lsoa: gpd.GeoDataFrame, wards: gpd.GeoDataFrame | None) -> pd.Series:
    """The ward holding most of each LSOA, to say where a place is.

    An LSOA gets the ward that covers the largest part of it, and only if that is at least
    half its area (ward and LSOA boundaries come from different generalisations, so edges
    overlap a little).

    Returns
    -------
    Series
        Ward name indexed by ``lsoa_code``; LSOAs in no ward (the bundled wards cover
        part of the area only), or with no wards configured, are left out.
    """
    if wards is None or len(wards) == 0 or C.WARD_NAME not in wards.columns or "geometry" not in lsoa.columns:
        return pd.Series(dtype=object)
    w = wards[[C.WARD_NAME, "geometry"]].to_crs(lsoa.crs)
    left = gpd.GeoDataFrame({C.LSOA_CODE: lsoa[C.LSOA_CODE].to_numpy()}, geometry=lsoa.geometry.values, crs=lsoa.crs)
    j = gpd.sjoin(left, w, how="inner", predicate="intersects")
    if len(j) == 0:
        return pd.Series(dtype=object)
    inter = shapely.intersection(j.geometry.values, w.geometry.values[j["index_right"].to_numpy()])
    j = pd.DataFrame(
        {
            C.LSOA_CODE: j[C.LSOA_CODE].to_numpy(),
            C.WARD_NAME: j[C.WARD_NAME].astype(str).to_numpy(),
            "share": shapely.area(inter) / shapely.area(j.geometry.values),
        }
    )
    j = j.sort_values("share", ascending=False, kind="stable").drop_duplicates(C.LSOA_CODE)
    j = j[j["share"] >= 0.5]
    return pd.Series(j[C.WARD_NAME].to_numpy(), index=j[C.LSOA_CODE].to_numpy())


def force_wide_sources(incidents: pd.DataFrame, lsoa: pd.DataFrame) -> list[str]:
    """Sources with incidents in every district of the study area, in incident-frame order.

    Sources that cover only part of the area (e.g. City-only extracts) would make the
    districts they cover look worse; comparisons between districts and the headline
    concentration use only the force-wide sources when there are any.

    Returns
    -------
    list of str
        Source names; empty when the LSOAs carry no district or no source covers them all.
    """
    require_columns(incidents, [C.SOURCE, C.LSOA_CODE], "the incident frame")
    if C.DISTRICT not in lsoa.columns or lsoa[C.DISTRICT].isna().all() or len(incidents) == 0:
        return []
    district_of = pd.Series(lsoa[C.DISTRICT].to_numpy(), index=lsoa[C.LSOA_CODE].to_numpy())
    want = set(district_of.dropna())
    d = incidents[C.LSOA_CODE].map(district_of)
    have = pd.DataFrame({"s": incidents[C.SOURCE].to_numpy(), "d": d.to_numpy()}).dropna().groupby("s", sort=False)["d"]
    return [str(src) for src, ds in have if set(ds) >= want]


def district_summary(
    counts: pd.DataFrame,
    *,
    places: pd.DataFrame | None = None,
    top_n: int = 20,
    first: Sequence[str] = (),
) -> pd.DataFrame:
    """Compare the districts: counts, rates, top places and concentration.

    Parameters
    ----------
    counts
        :func:`lsoa_counts` output.
    places
        Ranked places (``lsoa_code``, ``rank``); when given, ``top_n_places`` counts the
        district's LSOAs ranked ``<= top_n``.
    top_n
        The top-N cut for ``top_n_places``.
    first
        Districts listed first, in this order (``[study] city_districts``); the others follow
        alphabetically.

    Returns
    -------
    DataFrame
        :data:`DISTRICT_COLUMNS`, one row per district, those in ``first`` first, then the
        others alphabetically: ``lsoas``, ``population`` (IoD2019
        mid-2015), ``n`` incidents, ``harm``, ``rate_per_1000`` and ``harm_per_1000``
        (per 1,000 residents), ``top_n_places`` and ``tier1_places`` (the district's LSOAs
        ranked ``<= top_n`` and in Tier 1; NaN without ``places``),
        ``share_lsoas_50`` (smallest share of the district's LSOAs holding half its
        incidents) and ``gini`` (Gini coefficient of incidents over its LSOAs), both from
        :mod:`hotspots.evaluate.rolling`.
    """
    require_columns(counts, LSOA_COUNT_COLUMNS, "the LSOA counts")
    d = counts[counts[C.DISTRICT].notna()]
    top_codes: set[str] | None = None
    tier1_codes: set[str] | None = None
    if places is not None and len(places):
        require_columns(places, [C.LSOA_CODE, PLACE_RANK], "the places frame")
        top_codes = set(places.loc[places[PLACE_RANK] <= top_n, C.LSOA_CODE])
        if PLACE_TIER in places.columns:
            tier1_codes = set(places.loc[places[PLACE_TIER].map(is_tier1), C.LSOA_CODE])
    rows = []
    for name, g in d.groupby(C.DISTRICT, sort=True):
        pop = float(g[C.POPULATION].sum(min_count=1))
        n = int(g["n"].sum())
        harm = float(g[C.HARM].sum())
        c = g["n"].to_numpy(dtype=float)
        rows.append(
            {
                C.DISTRICT: str(name),
                "lsoas": len(g),
                C.POPULATION: pop,
                "n": n,
                C.HARM: harm,
                "rate_per_1000": 1000 * n / pop if pop > 0 else np.nan,
                "harm_per_1000": 1000 * harm / pop if pop > 0 else np.nan,
                "top_n_places": (int(g[C.LSOA_CODE].isin(top_codes).sum()) if top_codes is not None else np.nan),
                "tier1_places": (int(g[C.LSOA_CODE].isin(tier1_codes).sum()) if tier1_codes is not None else np.nan),
                "share_lsoas_50": evaluate.share_holding(c, 0.5) if n > 0 else np.nan,
                "gini": evaluate.gini(c) if n > 0 else np.nan,
            }
        )
    out = pd.DataFrame(rows, columns=DISTRICT_COLUMNS)
    order = {name: i for i, name in enumerate(first)}
    key = out[C.DISTRICT].map(lambda s: (order.get(s, len(order)), s))
    return out.iloc[np.argsort(key.to_numpy(), kind="stable")].reset_index(drop=True)
