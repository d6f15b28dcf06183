"""Clean the night-time-economy venue file: venue points in the study area, every row accounted for."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.io.coords import check_coordinate_ranges, points, to_bng
from hotspots.io.raw import RawFile
from hotspots.prepare.accounting import Accounting
from hotspots.prepare.areas import AreaRules, assign_areas, check_outside
from hotspots.prepare.config import DEFAULT_MAX_OUTSIDE_SHARE
from hotspots.prepare.rows import account, colname, dropped_table, first_reason, numeric, rel, warn_placeholders


def clean_venues(
    raw: RawFile,
    lsoa: gpd.GeoDataFrame,
    *,
    tolerance: float = 250.0,
    base: Path | None = None,
    clip_to_area: bool = False,
    max_outside_share: float | None = DEFAULT_MAX_OUTSIDE_SHARE,
    area: str = "the study area",
) -> tuple[gpd.GeoDataFrame, Accounting]:
    """Venue points in EPSG:27700 with ``venue_id, name, address, postcode, lsoa_code``.

    Rows are dropped (and accounted for) with no coordinates, unparseable coordinates,
    at (0, 0), a repeated id, or outside the study area. Unless ``clip_to_area`` (a
    national list), more than ``max_outside_share`` of the located venues outside the area
    is an :class:`InputError`: the venue file is for another area.
    """
    df = raw.frame
    n = len(df)
    fname = rel(raw.path, base)
    x, xm, xb = numeric(df["x"])
    y, ym, yb = numeric(df["y"])
    check_coordinate_ranges(x, y, raw.crs, str(raw.path), colname(raw, "x"), colname(raw, "y"), fix=raw.fix)
    ids = df["id"]
    dup = ids.notna().to_numpy() & ids.duplicated(keep="first").to_numpy()
    at_origin = (x == 0) & (y == 0)
    warn_placeholders(raw, dup & ~(xb | yb | xm | ym | at_origin), at_origin & ~(xb | yb))
    reason = first_reason(
        [
            (C.DROP_UNPARSEABLE, xb | yb),
            (C.DROP_NO_COORDINATES, xm | ym),
            (C.DROP_AT_ORIGIN, at_origin),
            (C.DROP_DUPLICATE_ID, dup),
        ],
        n,
    )
    idx = np.flatnonzero(reason == "")
    bx, by = to_bng(x[idx], y[idx], raw.crs)
    pts = points(bx, by)
    code, assigned = assign_areas(pts, pd.Series([None] * len(idx), dtype=object), lsoa, tolerance=tolerance)
    outside = (assigned == "").to_numpy()
    reason[idx[outside]] = C.DROP_OUTSIDE_AREA
    if not clip_to_area:
        rules = AreaRules(lsoa, max_outside_share=max_outside_share, area=area)
        check_outside(raw, idx, outside, rules, what="located venues")
    keep = idx[~outside]
    vid = ids.iloc[keep].where(ids.iloc[keep].notna(), pd.Series(keep + 1, index=ids.iloc[keep].index).astype(str))
    venues = gpd.GeoDataFrame(
        {
            C.VENUE_ID: vid.astype(str).to_numpy(),
            C.VENUE_NAME: df["name"].iloc[keep].fillna("").to_numpy(dtype=object),
            C.VENUE_ADDRESS: df["address"].iloc[keep].fillna("").to_numpy(dtype=object),
            C.VENUE_POSTCODE: df["postcode"].iloc[keep].fillna("").to_numpy(dtype=object),
            C.LSOA_CODE: code.to_numpy(dtype=object)[~outside],
        },
        geometry=pts.values[~outside],
        crs=C.CRS,
    )
    drop_idx = np.flatnonzero(reason != "")
    detail = df["name"].iloc[drop_idx].fillna("").to_numpy(dtype=object)
    acc = Accounting(
        files=[account(raw, fname, reason, len(venues), assigned[~outside])],
        dropped_rows=dropped_table(fname, "venues", reason, detail),
    )
    acc.check()
    return venues, acc
