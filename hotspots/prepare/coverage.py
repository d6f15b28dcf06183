"""What each crime source covers: its months (and the gaps between them) and its districts.

Sources differ: a force-wide police.uk month, a City-only year of violence, three Julys a
year apart. Analyses over time must not read a missing month as a month without crime, and
analyses of one source must not judge it over districts it does not cover. The load step
reports each source's gaps (:func:`month_gap_caveats`); emerging hot spots and ``hotspots
evaluate`` use :func:`source_area` for the districts a source covers.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.errors import HotspotsWarning, InputError
from hotspots.months import format_months, missing_months

MIN_DISTRICT_SHARE = 0.01
"""A district belongs to a source's area when it holds at least this share of the source's incidents."""


def source_months(incidents: pd.DataFrame) -> dict[str, list[str]]:
    """The months with data of every source, ascending."""
    if len(incidents) == 0:
        return {}
    g = incidents.dropna(subset=[C.MONTH]).groupby(C.SOURCE, sort=True)[C.MONTH]
    return {str(src): sorted(set(m.astype(str).unique())) for src, m in g}


def month_gap_caveats(incidents: pd.DataFrame) -> list[str]:
    """One plain sentence per source whose months with data are not consecutive.

    Examples
    --------
    >>> df = pd.DataFrame({"source": ["a", "a", "a", "b"], "month": ["2016-07", "2017-07", "2018-07", "2020-01"]})
    >>> print(month_gap_caveats(df)[0])  # doctest: +NORMALIZE_WHITESPACE
    Source a has data for 3 months between 2016-07 and 2018-07 but none for 22 months (2016-08..2017-06,
    2017-08..2018-06): missing months are not counted as months without crime; emerging hot spots use
    the longest consecutive run and `hotspots evaluate` skips folds without data.
    """
    out = []
    for src, months in source_months(incidents).items():
        gaps = missing_months(months)
        if gaps:
            out.append(
                f"Source {src} has data for {len(months)} months between {months[0]} and {months[-1]} but none for "
                f"{len(gaps)} months ({format_months(gaps).replace(',', ', ')}): missing months are not counted as "
                "months without crime; emerging hot spots use the longest consecutive run and `hotspots evaluate` "
                "skips folds without data."
            )
    return out


def warn_month_gaps(incidents: pd.DataFrame) -> None:
    """Warn once per source whose months with data are not consecutive (:func:`month_gap_caveats`)."""
    for text in month_gap_caveats(incidents):
        warnings.warn(text, HotspotsWarning, stacklevel=3)


def source_area(
    incidents: pd.DataFrame, lsoa: gpd.GeoDataFrame, *, min_district_share: float = MIN_DISTRICT_SHARE
) -> tuple[shapely.Geometry, list[str]]:
    """The area a source covers: the LSOAs of the districts holding at least ``min_district_share`` of it.

    A City-only source covers the City, not a county of empty cells. Without a ``district``
    column on ``lsoa`` the whole study area is returned.

    Returns
    -------
    (geometry, districts)
        The area (shapely, the LSOAs' CRS) and the names of its districts.

    Raises
    ------
    InputError
        No district holds ``min_district_share`` of the incidents.
    """
    if C.DISTRICT not in lsoa.columns:
        return shapely.union_all(lsoa.geometry.values), []
    district = incidents[C.LSOA_CODE].map(lsoa.set_index(C.LSOA_CODE)[C.DISTRICT])
    share = district.value_counts(normalize=True)
    keep = sorted(share[share >= min_district_share].index.astype(str))
    if not keep:
        raise InputError(
            f"no district holds {min_district_share:.0%} of the incidents; lower [evaluate] min_district_share "
            f"or set area = 'study'."
        )
    return shapely.union_all(lsoa.geometry[lsoa[C.DISTRICT].isin(keep)].values), keep


__all__ = ["MIN_DISTRICT_SHARE", "month_gap_caveats", "source_area", "source_months", "warn_month_gaps"]
