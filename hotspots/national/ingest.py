"""Read and clean a national archive: one task per force's files, every row accounted for.

Each task (:func:`clean_group`) reads one force's street members straight from the zip
(:func:`hotspots.national.archive.read_member`) and cleans them with the toolkit's own
:func:`hotspots.prepare.clean.clean_incidents` against every LSOA of England and Wales, so each
file's rows read = rows used + rows dropped, with one reason each (rows of another country,
such as Northern Ireland's, are ``outside_study_area``). A Crime ID repeated across two forces'
files is found afterwards (:func:`drop_cross_duplicates`): the later copy moves from used to
``duplicate_crime_id`` in its file's account, so the accounts still balance.
"""

from __future__ import annotations

import logging
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.errors import HotspotsWarning
from hotspots.national.archive import SOURCE, Member, read_member
from hotspots.prepare.accounting import Accounting
from hotspots.prepare.clean import clean_incidents

log = logging.getLogger(__name__)

AREA = "England and Wales"
"""How the national study area is named in messages."""

FRAME_COLUMNS = [c for c in C.INCIDENT_COLUMNS if c != C.GEOMETRY] + ["x", "y"]
"""Columns of a cleaned group's incidents: the canonical frame with the point as ``x``, ``y`` (EPSG:27700)."""


@dataclass(frozen=True)
class CleanOptions:
    """How rows are cleaned (the ``[study]`` window and ``[scope]``).

    Attributes
    ----------
    start, end
        Inclusive month window (``YYYY-MM``), None for open.
    crime_types, offence_codes, harm
        ``[scope]`` overrides (:func:`hotspots.prepare.scope.assign_scope`).
    tolerance
        Metres for nearest-LSOA assignment of points just outside every LSOA.
    """

    start: str | None = None
    end: str | None = None
    crime_types: dict[str, str] = field(default_factory=dict)
    offence_codes: dict[str, str] = field(default_factory=dict)
    harm: dict[str, float] = field(default_factory=dict)
    tolerance: float = 250.0


@dataclass
class CleanedGroup:
    """One group of files cleaned: incidents (:data:`FRAME_COLUMNS`), accounting and the warnings raised."""

    key: str
    incidents: pd.DataFrame
    accounting: Accounting
    warnings: list[str] = field(default_factory=list)


def clean_group(
    archive: Path, members: Sequence[Member], lsoa: gpd.GeoDataFrame, known: frozenset[str], opts: CleanOptions
) -> CleanedGroup:
    """Read one group of street members from the archive and clean them (a task of the national run).

    Parameters
    ----------
    archive
        The zip (workers open it themselves: on a cluster it must be at the same path on every worker).
    members
        The group's members, in order (a Crime ID repeated within the group keeps its first row).
    lsoa
        Every LSOA of the study area (``lsoa_code``, geometry; EPSG:27700).
    known
        LSOA codes known beyond the boundary file (the deprivation file's).
    opts
        The window and scope.

    Returns
    -------
    CleanedGroup
        Warnings are returned as text (a worker's warnings would otherwise be lost).
    """
    # text as Python strings throughout: pandas' pyarrow-backed isin is several times slower here
    with warnings.catch_warnings(record=True) as caught, pd.option_context("mode.string_storage", "python"):
        warnings.simplefilter("always", HotspotsWarning)
        with zipfile.ZipFile(archive) as zf:
            raws = [read_member(zf, m, archive=Path(archive)) for m in members]
        inc, acc = clean_incidents(
            raws,
            lsoa,
            known_codes=set(known),
            start=opts.start,
            end=opts.end,
            crime_types=opts.crime_types or None,
            offence_codes=opts.offence_codes or None,
            harm=opts.harm or None,
            tolerance=opts.tolerance,
            base=None,
            max_outside_share=None,
            area=AREA,
        )
    frame = pd.DataFrame(inc.drop(columns=C.GEOMETRY))
    geom = np.asarray(inc.geometry.values)
    frame["x"] = shapely.get_x(geom) if len(geom) else np.zeros(0)
    frame["y"] = shapely.get_y(geom) if len(geom) else np.zeros(0)
    messages = [str(w.message) for w in caught if issubclass(w.category, HotspotsWarning)]
    key = members[0].force if members else ""
    return CleanedGroup(key=key, incidents=frame[FRAME_COLUMNS], accounting=acc, warnings=messages)


def group_members(members: Sequence[Member]) -> list[list[Member]]:
    """Members grouped by force (months in order), largest group first (the scheduler starts it first)."""
    groups: dict[str, list[Member]] = {}
    for m in members:
        groups.setdefault(m.force, []).append(m)
    return sorted(groups.values(), key=lambda g: (-sum(m.size for m in g), g[0].force))


def drop_cross_duplicates(groups: Sequence[CleanedGroup]) -> tuple[pd.DataFrame, Accounting, int]:
    """Join the groups (in force order) and drop Crime IDs already used by an earlier group.

    Returns
    -------
    incidents, accounting, dropped
        The joined incidents, every file's account (the duplicates moved from used to
        ``duplicate_crime_id``, their rows added to the dropped rows) and how many were dropped.
    """
    ordered = sorted(groups, key=lambda g: g.key)
    frames = [g.incidents for g in ordered if len(g.incidents)]
    inc = pd.concat(frames, ignore_index=True) if frames else ordered[0].incidents.iloc[:0] if ordered else None
    acc = Accounting()
    for g in ordered:
        acc.files.extend(g.accounting.files)
    parts = [g.accounting.dropped_rows for g in ordered if len(g.accounting.dropped_rows)]
    if parts:
        acc.dropped_rows = pd.concat(parts, ignore_index=True)
    if inc is None:
        return pd.DataFrame(columns=FRAME_COLUMNS), acc, 0
    # only rows with a source ID can repeat: synthetic IDs ("source:file:row") are unique
    ids = inc[C.INCIDENT_ID].astype(str)
    dup = ids.duplicated(keep="first").to_numpy() & ~ids.str.startswith(f"{SOURCE}:").to_numpy()
    if not dup.any():
        return inc, acc, 0
    gone = inc.loc[dup]
    by_file = {f.file: f for f in acc.files}
    for fname, rows in gone.groupby(C.SOURCE_FILE, sort=False):
        fa = by_file[str(fname)]
        fa.rows_used -= len(rows)
        fa.dropped[C.DROP_DUPLICATE_ID] = fa.dropped.get(C.DROP_DUPLICATE_ID, 0) + len(rows)
        for how, k in rows[C.LSOA_ASSIGNED].value_counts().items():
            fa.assigned[str(how)] -= int(k)
    extra = pd.DataFrame(
        {
            "file": gone[C.SOURCE_FILE].to_numpy(),
            "source": gone[C.SOURCE].to_numpy(),
            "row": gone[C.SOURCE_ROW].to_numpy(),
            "reason": C.DROP_DUPLICATE_ID,
            "detail": gone[C.INCIDENT_ID].to_numpy(),
        }
    )
    acc.dropped_rows = pd.concat([acc.dropped_rows, extra], ignore_index=True)
    acc.check()
    log.info("%d incidents repeat a Crime ID of an earlier force's file; dropped as duplicate_crime_id", int(dup.sum()))
    return inc.loc[~dup].reset_index(drop=True), acc, int(dup.sum())


def incident_frame(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """The canonical incident GeoDataFrame (EPSG:27700) of a joined frame."""
    geom = gpd.points_from_xy(frame["x"].to_numpy(dtype=float), frame["y"].to_numpy(dtype=float), crs=C.CRS)
    out = gpd.GeoDataFrame(frame.drop(columns=["x", "y"]), geometry=geom, crs=C.CRS)
    return out[C.INCIDENT_COLUMNS]


def summarise_warnings(groups: Sequence[CleanedGroup], *, shown: int = 5) -> list[str]:
    """The groups' warnings, re-raised here (the first ``shown``) and returned in full for the manifest."""
    messages = [m for g in groups for m in g.warnings]
    for m in messages[:shown]:
        warnings.warn(m, HotspotsWarning, stacklevel=2)
    if len(messages) > shown:
        warnings.warn(
            f"... and {len(messages) - shown} more warnings about the archive's files (all in manifest.json).",
            HotspotsWarning,
            stacklevel=2,
        )
    return messages


def accounting_by_force(acc: Accounting, members: Sequence[Member], archive: Path) -> pd.DataFrame:
    """Rows read, used and dropped per force whose files were read (the file's force, not the rows' place)."""
    from hotspots.national.archive import member_label

    force_of = {member_label(archive, m.name): m.force for m in members}
    rows: list[dict[str, Any]] = []
    for f in acc.files:
        rows.append({"force": force_of.get(f.file, ""), "read": f.rows_read, "used": f.rows_used, **f.dropped})
    df = pd.DataFrame(rows).fillna(0)
    return df.groupby("force", sort=True).sum(numeric_only=True).astype("int64").reset_index()


__all__ = [
    "AREA",
    "FRAME_COLUMNS",
    "CleanOptions",
    "CleanedGroup",
    "accounting_by_force",
    "clean_group",
    "drop_cross_duplicates",
    "group_members",
    "incident_frame",
    "summarise_warnings",
]
