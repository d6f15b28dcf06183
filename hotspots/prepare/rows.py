"""Row-level helpers shared by the incident and venue cleaning: parsing, drop reasons, accounting, messages."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyproj

from hotspots import columns as C
from hotspots.errors import HotspotsWarning
from hotspots.io.raw import RawFile
from hotspots.prepare.accounting import FileAccount

_MONTH_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})")
_MONTHS = 12


def parse_months(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse ``YYYY-MM`` (or any date starting so) into ``"YYYY-MM"`` strings.

    Returns (month, bad) where ``bad`` flags values present but unparseable. Parsing is
    done once per distinct value, so a million rows of twelve months are cheap.
    """
    uniq = values.dropna().unique()
    lookup: dict[Any, Any] = {}
    for u in uniq:
        m = _MONTH_RE.match(str(u))
        if m and 1 <= int(m.group(2)) <= _MONTHS:
            lookup[u] = f"{m.group(1)}-{int(m.group(2)):02d}"
        else:
            lookup[u] = None
    month = spread_map(values, lookup)
    bad = values.notna() & month.isna()
    return month, bad


def spread_map(values: pd.Series, lookup: Mapping[Any, Any] | Callable[[Any], Any]) -> pd.Series:
    """``values.map(lookup)``, mapping one row of each distinct value and spreading the answers.

    ``lookup`` is a mapping or a function of one value (called once per distinct value).

    The result (values, dtype, index, name) is what mapping every row gives: the map's
    dtype comes from ``lookup`` and from whether any row is missing or unmatched, and the
    distinct rows are missing or unmatched exactly when some row is.
    """
    if len(values) == 0:
        return values.map(lookup)
    codes, _ = pd.factorize(values)
    key = codes + 1  # 0 = missing
    first = pd.Series(key).drop_duplicates()  # one row of each distinct value, by first appearance
    where = np.empty(int(key.max()) + 1, dtype=np.intp)
    where[first.to_numpy()] = np.arange(len(first))
    mapped = values.iloc[first.index.to_numpy()].map(lookup)
    return mapped.iloc[where[key]].set_axis(values.index)


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


def numeric(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def warn_rows(path: str | Path, count: int, what: str, first: str, then: str) -> None:
    """Warn that ``count`` rows of a file are ``what`` (first one described), and what was done."""
    if count:
        warnings.warn(f"{path}: {count:,} row(s) {what} (first: {first}); {then}.", HotspotsWarning, stacklevel=4)


def warn_placeholders(rf: RawFile, dup: np.ndarray, at_origin: np.ndarray) -> None:
    """Warn, with counts, about rows dropped for a repeated ID and rows at (0, 0)."""
    ids = rf.frame["id"]
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        warn_rows(
            rf.path,
            int(dup.sum()),
            "repeat an ID already seen",
            f"{rf.row_label(i)}, {colname(rf, 'id')} = {ids.iloc[i]!r}",
            "only the first was kept; the others are dropped as duplicate_crime_id",
        )
    if at_origin.any():
        i = int(np.flatnonzero(at_origin)[0])
        warn_rows(
            rf.path,
            int(at_origin.sum()),
            "are at (0, 0), a placeholder for a missing location",
            rf.row_label(i),
            "dropped as at_origin_0_0",
        )


def account(rf: RawFile, fname: str, reason: np.ndarray, used: int, assigned: pd.Series) -> FileAccount:
    """The :class:`FileAccount` of one file from its per-row drop reasons."""
    counts = pd.Series(reason[reason != ""]).value_counts()
    return FileAccount(
        file=fname,
        source=rf.source,
        sha256=rf.sha256,
        rows_read=len(reason),
        rows_used=used,
        dropped={r: int(counts.get(r, 0)) for r in C.DROP_REASONS if counts.get(r, 0)},
        assigned={k: int(v) for k, v in pd.Series(assigned).value_counts().items()},
    )


def dropped_table(fname: str, source: str, reason: np.ndarray, detail: np.ndarray) -> pd.DataFrame:
    """The dropped rows of one file: ``file, source, row, reason, detail``."""
    drop_idx = np.flatnonzero(reason != "")
    return pd.DataFrame(
        {"file": fname, "source": source, "row": drop_idx + 1, "reason": reason[drop_idx], "detail": detail}
    )


def shown(value: object) -> str:
    """A value as it appears in messages: text quoted, numbers plain, missing as ``None``."""
    if value is None or (isinstance(value, float | np.floating) and np.isnan(value)):
        return "None"
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return repr(value)


def colname(rf: RawFile, axis: str) -> str:
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


def rel(path: Path, base: Path | None) -> str:
    """``path`` relative to ``base`` when it lies inside it (the ``source_file`` of a row), else as given."""
    try:
        return str(path.resolve().relative_to(base.resolve())) if base is not None else str(path)
    except ValueError:
        return str(path)
