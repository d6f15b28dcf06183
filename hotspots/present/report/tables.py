"""The Board report's tables and number formatting (pure: frames in, frames or text out).

Counts per month and per LSOA, the share in the busiest places, the ward of each LSOA, and
the Board's disclosure control (:func:`fmt_count`,
:func:`mask_small_counts`). The district comparison and the concentration with its chance
floor come from the rank stage (:mod:`hotspots.rank.districts`), which annualises each
source by its own months.
"""

from __future__ import annotations

import math
import re

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.io.sites import SITE_NAME, SITE_SOURCE
from hotspots.rank import columns as rank

TOP_SHARE = 0.05
"""The headline concentration figure: share of incidents in the top 5 % of places."""

WARD_SHARE = 0.5
"""An LSOA is said to be in the ward that covers at least this share of its area."""

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


# --------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------


def fmt_count(n: float | None, *, small: int = 5) -> str:
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


def fmt_num(x: float | None, digits: int = 1) -> str:
    """A number with thousands separators and ``digits`` decimals; ``"n/a"`` when missing.

    Examples
    --------
    >>> fmt_num(1234.56), fmt_num(None), fmt_num(0.5, 0)
    ('1,234.6', 'n/a', '0')
    """
    if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x):
        return "n/a"
    return f"{float(x):,.{digits}f}"


def fmt_pct(x: float | None, digits: int = 1) -> str:
    """A share in [0, 1] as a percentage."""
    if x is None or pd.isna(x):
        return "n/a"
    return f"{100 * float(x):.{digits}f} %"


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
    """Raise :class:`~hotspots.errors.InputError` naming the columns of ``cols`` that ``frame`` lacks."""
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


def top_share(counts: npt.ArrayLike, share: float = TOP_SHARE) -> tuple[float, int]:
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
        Nottingham City only), or with no wards configured, are left out.
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
    j = j[j["share"] >= WARD_SHARE]
    return pd.Series(j[C.WARD_NAME].to_numpy(), index=j[C.LSOA_CODE].to_numpy())
