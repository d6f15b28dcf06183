"""Turn raw files into the canonical incident frame, accounting for every row.

Every row read ends up either **used** (a row of the incident frame) or **dropped**
with exactly one reason, checked in this order:

1. ``unparseable``: the month/date or a coordinate is present but cannot be read, or
   the row has no month or date at all (a file where no row has one is an error);
2. ``no_coordinates``: longitude/latitude (or easting/northing) is empty;
3. ``at_origin_0_0``: the point is at (0, 0), a common placeholder;
4. ``duplicate_crime_id``: the Crime ID was already seen (in this or an earlier file);
5. ``out_of_scope``: the category is outside the VRU scope (see :mod:`hotspots.prepare.scope`);
6. ``outside_date_window``: the month is outside ``[study] start..end``;
7. ``outside_study_area``: the row's LSOA is a known 2011 LSOA outside the study area,
   or the point is outside every LSOA polygon and further than the tolerance from all.

For each file, rows read = rows used + rows dropped, always (:class:`Accounting`).

Area assignment: a row whose ``LSOA code`` is one of the study area's 2011 LSOAs keeps
it (``lsoa_assigned = "code"``; police.uk assigns codes before snapping, and the
generalised boundaries misplace ~15 % of points), provided the point lies within
:data:`CODE_AGREEMENT_M` of that LSOA's polygon (a code that disagrees with its point by
more is distrusted, with a warning, and the row is assigned by location). Rows with no
code, or a code that is not a 2011 code (newer police.uk files carry 2021 codes, which
IoD2019 lacks), are assigned spatially: point in polygon (``"point_in_polygon"``), else
the nearest polygon within the tolerance (``"nearest"``). A row whose code is a known
2011 LSOA outside the study area is dropped as ``outside_study_area``.
"""

from __future__ import annotations

import logging
import re
import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from hotspots import columns as C
from hotspots.errors import HotspotsWarning, InputError
from hotspots.io.coords import check_coordinate_ranges, points, to_bng
from hotspots.io.load import RawFile
from hotspots.prepare import scope as scope_mod
from hotspots.prepare.accounting import Accounting, FileAccount
from hotspots.prepare.areas import CODE_AGREEMENT_M, assign_areas, code_disagrees

log = logging.getLogger(__name__)


_MONTH_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})")


# --------------------------------------------------------------------------------------
# Helpers shared by incidents and venues
# --------------------------------------------------------------------------------------


def parse_months(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse ``YYYY-MM`` (or any date starting so) into ``"YYYY-MM"`` strings.

    Returns (month, bad) where ``bad`` flags values present but unparseable. Parsing is
    done once per distinct value, so a million rows of twelve months are cheap.
    """
    uniq = values.dropna().unique()
    lookup: dict[Any, Any] = {}
    for u in uniq:
        m = _MONTH_RE.match(str(u))
        if m and 1 <= int(m.group(2)) <= 12:
            lookup[u] = f"{m.group(1)}-{int(m.group(2)):02d}"
        else:
            lookup[u] = None
    month = values.map(lookup)
    bad = values.notna() & month.isna()
    return month, bad


_ISO_DATE_RE = r"^\s*\d{4}-\d{1,2}-\d{1,2}"


def parse_dates(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse dates (optionally with a time) into timestamps.

    ISO dates (``2022-03-05``, ``2022-03-05T23:15``) are read year-first; anything else
    day-first as written in the UK (``05/03/2022 23:15``). Returns (dates, bad) where
    ``bad`` flags values present but unparseable.
    """
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    present = values.notna().to_numpy()
    if not present.any():
        return out, np.zeros(len(values), dtype=bool)
    text = values.astype("str").str.strip()
    iso = text.str.match(_ISO_DATE_RE).fillna(False).to_numpy(dtype=bool) & present
    other = present & ~iso
    if iso.any():
        out[iso] = pd.to_datetime(text[iso], format="ISO8601", errors="coerce").to_numpy()
    if other.any():
        out[other] = pd.to_datetime(text[other], format="mixed", dayfirst=True, errors="coerce").to_numpy()
    return out, present & out.isna().to_numpy()


def _numeric(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates as floats; returns (numbers, missing, unparseable)."""
    missing = values.isna().to_numpy()
    if values.dtype.kind == "f":
        arr = values.to_numpy(dtype=float)
        return arr, missing | ~np.isfinite(arr) & ~missing, np.zeros(len(arr), bool)
    arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    bad = ~missing & ~np.isfinite(arr)
    return arr, missing, bad


def first_reason(masks: list[tuple[str, np.ndarray]], n: int) -> np.ndarray:
    """Per row, the first reason whose mask is true (empty string when none)."""
    reason = np.full(n, "", dtype=object)
    open_ = np.ones(n, dtype=bool)
    for name, mask in masks:
        hit = open_ & mask
        reason[hit] = name
        open_ &= ~mask
    return reason


# --------------------------------------------------------------------------------------
# Incidents
# --------------------------------------------------------------------------------------


def clean_incidents(
    raw_files: list[RawFile],
    lsoa: gpd.GeoDataFrame,
    *,
    known_codes: set[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    crime_types: dict[str, str] | None = None,
    offence_codes: dict[str, str] | None = None,
    harm: dict[str, float] | None = None,
    tolerance: float = 250.0,
    base: Any = None,
) -> tuple[gpd.GeoDataFrame, Accounting]:
    """Build the canonical incident frame from raw files, accounting for every row.

    Parameters
    ----------
    raw_files
        Files read by :mod:`hotspots.io.load`, in order (the first of two duplicate Crime
        IDs is kept).
    lsoa
        Study-area LSOAs (``lsoa_code``, geometry) in EPSG:27700.
    known_codes
        All LSOA 2011 codes known (England from IoD2019), see :func:`assign_areas`.
    start, end
        Inclusive date window as ``YYYY-MM``; None for open.
    crime_types, offence_codes, harm
        Scope overrides (see :func:`hotspots.prepare.scope.assign_scope`).
    tolerance
        Metres for nearest-polygon assignment.
    base
        Folder that ``source_file`` is written relative to.

    Returns
    -------
    incidents : GeoDataFrame
        Columns :data:`hotspots.columns.INCIDENT_COLUMNS`, EPSG:27700.
    accounting : Accounting

    Raises
    ------
    InputError
        A file's coordinates are wholly wrong (swapped, projected given as degrees), every
        coordinate is unparseable, or no located row of a file falls inside the study area.
    """
    frames = []
    acc = Accounting()
    dropped_parts = []
    seen_ids: set[str] = set()
    for k, rf in enumerate(raw_files):
        fname = _rel(rf.path, base)
        df = rf.frame
        n = len(df)
        x, x_missing, x_bad = _numeric(df["x"])
        y, y_missing, y_bad = _numeric(df["y"])
        xcol, ycol = _colname(rf, "x"), _colname(rf, "y")
        present = ~(x_missing & y_missing)
        if n and present.any() and ((x_bad | y_bad) | ~present).all():
            i = int(np.flatnonzero(x_bad | y_bad)[0])
            col, val = (xcol, df["x"].iloc[i]) if x_bad[i] else (ycol, df["y"].iloc[i])
            raise InputError(
                f"{rf.path}: no coordinate in columns {xcol!r}/{ycol!r} is a number (first: {rf.row_label(i)}, "
                f"{col} = {val!r}). Check that the coordinate columns are mapped correctly and hold plain "
                "decimal numbers."
            )
        if (x_bad | y_bad).any():
            i = int(np.flatnonzero(x_bad | y_bad)[0])
            col, val = (xcol, df["x"].iloc[i]) if x_bad[i] else (ycol, df["y"].iloc[i])
            warnings.warn(
                f"{rf.path}: {int((x_bad | y_bad).sum())} row(s) have a coordinate that is not a number "
                f"(first: {rf.row_label(i)}, {col} = {val!r}); dropped as unparseable.",
                HotspotsWarning,
                stacklevel=2,
            )
        check_coordinate_ranges(x, y, rf.crs, str(rf.path), xcol, ycol)

        date, date_bad = parse_dates(df["date"])
        month, month_bad = parse_months(df["month"])
        from_date = (month.isna() & ~month_bad & date.notna()).to_numpy()
        if from_date.any():
            month = month.astype(object)
            month[from_date] = date[from_date].dt.strftime("%Y-%m").to_numpy(dtype=object)
        month_bad = month_bad.to_numpy() | (month.isna().to_numpy() & date_bad)
        no_month = month.isna().to_numpy() & ~month_bad
        if n and (month_bad | no_month).all():
            i = 0
            if month_bad.any():
                i = int(np.flatnonzero(month_bad)[0])
            mcol, dcol = rf.columns.get("month"), rf.columns.get("date")
            shown = ", ".join(f"{c} = {df[k].iloc[i]!r}" for k, c in (("month", mcol), ("date", dcol)) if c is not None)
            raise InputError(
                f"{rf.path}: no row has a readable month or date"
                + (f" (first: {rf.row_label(i)}, {shown})" if shown else " (no month or date column is mapped)")
                + ". Months are written YYYY-MM (police.uk); dates as YYYY-MM-DD or DD/MM/YYYY. "
                "Map columns.month or columns.date to the right column in the config."
            )
        at_origin = (x == 0) & (y == 0)

        ids = df["id"]
        has_id = ids.notna().to_numpy()
        dup = np.zeros(n, dtype=bool)
        # only rows that survive the earlier checks take part in de-duplication, so a good
        # row is never dropped as the duplicate of an unusable one
        unusable = month_bad | x_bad | y_bad | no_month | x_missing | y_missing | at_origin
        eligible = has_id & ~unusable
        if eligible.any():
            dup_within = np.zeros(n, dtype=bool)
            dup_within[eligible] = ids[eligible].duplicated(keep="first").to_numpy()
            dup_prev = eligible & ids.isin(seen_ids).to_numpy() if seen_ids else np.zeros(n, bool)
            dup = dup_within | dup_prev

        sc, hw = scope_mod.assign_scope(
            df["crime_type"],
            df["offence_code"] if df["offence_code"].notna().any() else None,
            crime_types=crime_types,
            offence_codes=offence_codes,
            harm=harm,
        )
        out_scope = (sc == scope_mod.OUT_OF_SCOPE).to_numpy()
        mvals = month.to_numpy(dtype=object)
        outside_window = np.zeros(n, dtype=bool)
        has_m = month.notna().to_numpy()
        if start:
            outside_window |= has_m & (month.fillna("9999-99").to_numpy(dtype=object) < start)
        if end:
            outside_window |= has_m & (month.fillna("0000-00").to_numpy(dtype=object) > end)

        reason = first_reason(
            [
                (C.DROP_UNPARSEABLE, month_bad | x_bad | y_bad | no_month),
                (C.DROP_NO_COORDINATES, x_missing | y_missing),
                (C.DROP_AT_ORIGIN, at_origin),
                (C.DROP_DUPLICATE_ID, dup),
                (C.DROP_OUT_OF_SCOPE, out_scope),
                (C.DROP_OUTSIDE_WINDOW, outside_window),
            ],
            n,
        )
        if eligible.any() and k < len(raw_files) - 1:
            # an ID counts as seen once a usable row carries it (later files' copies are duplicates)
            seen_ids.update(ids.to_numpy(dtype=object)[eligible & ~dup].tolist())

        cand = reason == ""
        idx = np.flatnonzero(cand)
        bx, by = to_bng(x[idx], y[idx], rf.crs)
        pts = points(bx, by)
        row_codes = df["lsoa_code"].iloc[idx].reset_index(drop=True)
        disagree = code_disagrees(pts, row_codes, lsoa) if row_codes.notna().any() else np.zeros(len(idx), bool)
        if disagree.any():
            i = int(idx[np.flatnonzero(disagree)[0]])
            warnings.warn(
                f"{rf.path}: {int(disagree.sum())} row(s) have an LSOA code whose polygon is more than "
                f"{CODE_AGREEMENT_M:.0f} m from the row's point (first: {rf.row_label(i)}, "
                f"{_colname(rf, 'lsoa_code')} = {df['lsoa_code'].iloc[i]!r}, {xcol} = {_shown(df['x'].iloc[i])}, "
                f"{ycol} = {_shown(df['y'].iloc[i])}); the code was ignored and the row assigned by its location.",
                HotspotsWarning,
                stacklevel=2,
            )
            row_codes = row_codes.where(~disagree)
        lsoa_code, assigned = assign_areas(
            pts, row_codes, lsoa, known_codes=known_codes, tolerance=tolerance, code_agreement=np.inf
        )
        outside = (assigned == "").to_numpy()
        reason[idx[outside]] = C.DROP_OUTSIDE_AREA
        located = len(idx)
        if located and outside.all():
            b = lsoa.to_crs("EPSG:4326").total_bounds
            i = int(idx[0])
            raise InputError(
                f"{rf.path}: none of the {located} located in-scope rows falls inside the study area "
                f"(the LSOA boundaries cover longitude {b[0]:.3f}..{b[2]:.3f}, latitude {b[1]:.3f}..{b[3]:.3f}; "
                f"first: {rf.row_label(i)}, {xcol} = {_shown(df['x'].iloc[i])}, {ycol} = {_shown(df['y'].iloc[i])}). "
                "Check the coordinate columns and crs, or the [boundaries] file."
            )
        keep = ~outside
        used_idx = idx[keep]
        ids_used = ids.iloc[used_idx]
        inc_id = ids_used.where(
            ids_used.notna(),
            rf.source + ":" + fname + ":" + (pd.Series(used_idx + 1, index=ids_used.index).astype(str)),
        )
        frame = gpd.GeoDataFrame(
            {
                C.INCIDENT_ID: inc_id.to_numpy(dtype=object),
                C.SOURCE: rf.source,
                C.SOURCE_FILE: fname,
                C.SOURCE_ROW: (used_idx + 1).astype(np.int64),
                C.MONTH: mvals[used_idx],
                C.DATE: date.iloc[used_idx].to_numpy(),
                C.CRIME_TYPE: df["crime_type"].iloc[used_idx].to_numpy(dtype=object),
                C.OFFENCE_CODE: df["offence_code"].iloc[used_idx].to_numpy(dtype=object),
                C.SCOPE: sc.iloc[used_idx].to_numpy(dtype=object),
                C.HARM: hw.iloc[used_idx].to_numpy(dtype=float),
                C.LSOA_CODE: lsoa_code.to_numpy(dtype=object)[keep],
                C.LSOA_ASSIGNED: assigned.to_numpy(dtype=object)[keep],
                C.LOCATION: df["location"].iloc[used_idx].to_numpy(dtype=object),
                C.INSTITUTION: "",  # flagged after cleaning (hotspots.prepare.institutions)
            },
            geometry=pts.values[keep],
            crs=C.CRS,
        )
        frames.append(frame)

        drop_idx = np.flatnonzero(reason != "")
        counts = pd.Series(reason[drop_idx]).value_counts()
        fa = FileAccount(
            file=fname,
            source=rf.source,
            sha256=rf.sha256,
            rows_read=n,
            rows_used=len(frame),
            dropped={r: int(counts.get(r, 0)) for r in C.DROP_REASONS if counts.get(r, 0)},
            assigned={k: int(v) for k, v in frame[C.LSOA_ASSIGNED].value_counts().items()},
        )
        acc.files.append(fa)
        if len(drop_idx):
            dropped_parts.append(
                pd.DataFrame(
                    {
                        "file": fname,
                        "source": rf.source,
                        "row": drop_idx + 1,
                        "reason": reason[drop_idx],
                        "detail": _details(df, reason, drop_idx),
                    }
                )
            )
        log.info("%s: %d read, %d used, %d dropped %s", fname, n, fa.rows_used, fa.rows_dropped, fa.dropped)
    if dropped_parts:
        acc.dropped_rows = pd.concat(dropped_parts, ignore_index=True)
    acc.check()
    if frames:
        inc = pd.concat(frames, ignore_index=True)
        inc = gpd.GeoDataFrame(inc, geometry=C.GEOMETRY, crs=C.CRS)
    else:
        inc = empty_incidents()
    return inc[C.INCIDENT_COLUMNS], acc


def _details(df: pd.DataFrame, reason: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """A short human detail per dropped row (the bad value, the category, the month)."""
    r = reason[idx]
    out = np.full(len(idx), "", dtype=object)
    sub = df.iloc[idx]
    m = r == C.DROP_OUT_OF_SCOPE
    out[m] = sub["crime_type"].to_numpy(dtype=object)[m]
    m = r == C.DROP_OUTSIDE_WINDOW
    out[m] = sub["month"].to_numpy(dtype=object)[m]
    m = r == C.DROP_UNPARSEABLE
    if m.any():
        out[m] = [
            f"month={_shown(mo)} x={_shown(xx)} y={_shown(yy)}"
            for mo, xx, yy in zip(
                sub["month"].to_numpy()[m], sub["x"].to_numpy()[m], sub["y"].to_numpy()[m], strict=False
            )
        ]
    m = r == C.DROP_DUPLICATE_ID
    out[m] = sub["id"].to_numpy(dtype=object)[m]
    m = r == C.DROP_OUTSIDE_AREA
    out[m] = sub["lsoa_code"].fillna("").to_numpy(dtype=object)[m]
    return out


def _shown(value: Any) -> str:
    """A value as it appears in messages: text quoted, numbers plain, missing as ``None``."""
    if value is None or (isinstance(value, float | np.floating) and np.isnan(value)):
        return "None"
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return repr(value)


def _colname(rf: RawFile, axis: str) -> str:
    """The file's own header for standardised column ``axis`` (a generic label when unknown)."""
    name = rf.columns.get(axis)
    if name:
        return name
    if axis in ("x", "y"):
        return _coord_label(axis, rf.crs)
    return axis


def _coord_label(axis: str, crs: str) -> str:
    geographic = pyproj.CRS.from_user_input(crs).is_geographic
    if geographic:
        return "longitude" if axis == "x" else "latitude"
    return "easting" if axis == "x" else "northing"


def _rel(path: Any, base: Any) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve())) if base is not None else str(path)
    except ValueError:
        return str(path)


def empty_incidents() -> gpd.GeoDataFrame:
    """An incident frame with no rows and the canonical schema."""
    cols = {c: pd.Series(dtype=object) for c in C.INCIDENT_COLUMNS if c != C.GEOMETRY}
    cols[C.HARM] = pd.Series(dtype=float)
    cols[C.SOURCE_ROW] = pd.Series(dtype=np.int64)
    cols[C.DATE] = pd.Series(dtype="datetime64[ns]")
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=C.CRS), crs=C.CRS)


# --------------------------------------------------------------------------------------
# Venues
# --------------------------------------------------------------------------------------


def clean_venues(
    raw: RawFile,
    lsoa: gpd.GeoDataFrame,
    *,
    tolerance: float = 250.0,
    base: Any = None,
) -> tuple[gpd.GeoDataFrame, Accounting]:
    """Venue points in EPSG:27700 with ``venue_id, name, address, postcode, lsoa_code``.

    Rows are dropped (and accounted for) with no coordinates, unparseable coordinates,
    at (0, 0), a repeated id, or outside the study area.
    """
    df = raw.frame
    n = len(df)
    fname = _rel(raw.path, base)
    x, xm, xb = _numeric(df["x"])
    y, ym, yb = _numeric(df["y"])
    check_coordinate_ranges(x, y, raw.crs, str(raw.path), _colname(raw, "x"), _colname(raw, "y"))
    ids = df["id"]
    dup = ids.notna().to_numpy() & ids.duplicated(keep="first").to_numpy()
    reason = first_reason(
        [
            (C.DROP_UNPARSEABLE, xb | yb),
            (C.DROP_NO_COORDINATES, xm | ym),
            (C.DROP_AT_ORIGIN, (x == 0) & (y == 0)),
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
    counts = pd.Series(reason[drop_idx]).value_counts()
    acc = Accounting(
        files=[
            FileAccount(
                file=fname,
                source="venues",
                sha256=raw.sha256,
                rows_read=n,
                rows_used=len(venues),
                dropped={r: int(counts.get(r, 0)) for r in C.DROP_REASONS if counts.get(r, 0)},
                assigned={k: int(v) for k, v in pd.Series(assigned[~outside]).value_counts().items()},
            )
        ],
        dropped_rows=pd.DataFrame(
            {
                "file": fname,
                "source": "venues",
                "row": drop_idx + 1,
                "reason": reason[drop_idx],
                "detail": df["name"].iloc[drop_idx].fillna("").to_numpy(dtype=object),
            }
        ),
    )
    acc.check()
    return venues, acc
