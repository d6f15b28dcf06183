"""A police.uk archive zip read in place: its street-level members listed, each CSV parsed by pyarrow from the zip.

An archive ``YYYY-MM.zip`` from https://data.police.uk/data/archive/ holds every force's files
for 36 months in the layout ``YYYY-MM/YYYY-MM-<force>-street.csv`` (beside ``-outcomes.csv`` and
``-stop-and-search.csv`` members, which are not read). :func:`street_members` lists the street
files by month and force; :func:`read_member` decompresses one member in memory (Python's
:mod:`zipfile`) and parses it with ``pyarrow.csv`` into the :class:`~hotspots.io.raw.RawFile`
the cleaning reads, so nothing is extracted to disk and no extension is downloaded.
"""

from __future__ import annotations

import csv
import hashlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hotspots.errors import InputError
from hotspots.io.crime import POLICE_UK_COLUMNS, POLICE_UK_MAP, POLICE_UK_REQUIRED
from hotspots.io.raw import RawFile, standardise
from hotspots.io.tables import clean_header, require_columns

SOURCE = "police_uk"
"""Source name of every archive row (the ``source`` column of the incident frame)."""

STREET_RE = re.compile(r"^(?:.*/)?(\d{4}-(?:0[1-9]|1[0-2]))/(\d{4}-(?:0[1-9]|1[0-2]))-(.+)-street\.csv$")
"""A street-level member: ``[prefix/]YYYY-MM/YYYY-MM-<force>-street.csv`` (folder and file month equal)."""

_FLOATS = ("Longitude", "Latitude")
TEXT = pd.StringDtype("python", na_value=np.nan)
"""Text columns are held as Python strings: pandas' pyarrow-backed ``isin`` turns the set it is given
into a Python list on every call (8.5 s for one million Crime IDs against 1.5 s), and the cleaning
calls it per file with the IDs seen so far."""

OUTSIDE = {"northern-ireland": "Northern Ireland is outside England and Wales (no LSOAs)"}
"""Force ids whose files hold no row in England and Wales: listed in the manifest, not read."""


@dataclass(frozen=True)
class Member:
    """One street-level file inside the archive.

    Attributes
    ----------
    name
        Member name in the zip, e.g. ``"2019-09/2019-09-nottinghamshire-street.csv"``.
    month
        ``YYYY-MM`` from the name.
    force
        police.uk force id from the name (``"btp"`` and ``"northern-ireland"`` included: rows are
        placed by location, whoever recorded them).
    size
        Uncompressed bytes (from the zip's directory).
    """

    name: str
    month: str
    force: str
    size: int


@dataclass(frozen=True)
class ArchiveListing:
    """What an archive holds: its street members and the members that are not street files.

    Attributes
    ----------
    path
        The zip.
    members
        Street-level members, sorted by force then month.
    other
        Names of the other members (outcomes, stop and search, folders), not read.
    """

    path: Path
    members: tuple[Member, ...]
    other: tuple[str, ...]

    @property
    def months(self) -> list[str]:
        """Sorted distinct months of the street members."""
        return sorted({m.month for m in self.members})

    @property
    def forces(self) -> list[str]:
        """Sorted distinct force ids of the street members."""
        return sorted({m.force for m in self.members})


def street_members(path: Path) -> ArchiveListing:
    r"""List the street-level members of a police.uk archive zip (reads only its directory).

    Parameters
    ----------
    path
        The archive, e.g. a ``YYYY-MM.zip`` downloaded from data.police.uk.

    Returns
    -------
    ArchiveListing

    Raises
    ------
    InputError
        The file is missing, not a zip, or holds no ``YYYY-MM/YYYY-MM-<force>-street.csv`` member.

    Examples
    --------
    >>> import io, zipfile, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.zip"
    >>> with zipfile.ZipFile(p, "w") as z:
    ...     z.writestr("2019-09/2019-09-kent-street.csv", "Month\\n")
    ...     z.writestr("2019-09/2019-09-kent-outcomes.csv", "Month\\n")
    >>> listing = street_members(p)
    >>> [(m.month, m.force) for m in listing.members], listing.other
    ([('2019-09', 'kent')], ('2019-09/2019-09-kent-outcomes.csv',))
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"--archive {path} not found: give a police.uk archive zip (data.police.uk/data/archive).")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile as exc:
        raise InputError(f"--archive {path} is not a zip archive ({exc}).") from exc
    members, other = [], []
    for info in infos:
        m = STREET_RE.match(info.filename)
        if m and m.group(1) == m.group(2) and not info.is_dir():
            members.append(Member(info.filename, m.group(1), m.group(3), info.file_size))
        else:
            other.append(info.filename)
    if not members:
        shown = ", ".join(repr(n) for n in other[:3])
        raise InputError(
            f"--archive {path} holds no street-level file named YYYY-MM/YYYY-MM-<force>-street.csv "
            f"(it has {len(other)} other member(s){': ' + shown if shown else ''}). Is it a data.police.uk archive?"
        )
    members.sort(key=lambda m: (m.force, m.month, m.name))
    return ArchiveListing(path=path, members=tuple(members), other=tuple(other))


def select_members(
    listing: ArchiveListing, *, start: str | None = None, end: str | None = None, forces: list[str] | None = None
) -> list[Member]:
    """The street members of months ``start..end`` (inclusive; None = open) and of ``forces`` (None = all).

    Files of forces outside England and Wales (:data:`OUTSIDE`) are left out.

    Raises
    ------
    InputError
        No member is left, or a force in ``forces`` has no member (the message lists those found).
    """
    chosen = [
        m
        for m in listing.members
        if (start is None or m.month >= start)
        and (end is None or m.month <= end)
        and (not forces or m.force in forces)
        and m.force not in OUTSIDE
    ]
    if forces:
        unknown = sorted(set(forces) - {m.force for m in listing.members})
        if unknown:
            raise InputError(
                f"--force {', '.join(unknown)}: no street file of that force in {listing.path.name}; "
                f"its forces are {', '.join(listing.forces)}."
            )
    if not chosen:
        raise InputError(
            f"{listing.path.name} has no street file for months {start or 'first'}..{end or 'last'}; "
            f"it holds {listing.months[0]} to {listing.months[-1]}."
        )
    return chosen


def _arrow_table(data: bytes, label: str, encoding: str) -> Any:
    """Parse CSV bytes with pyarrow: every column as text, missing values null."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    raw = _header(data, label, encoding)
    raw_names = {clean_header(h): h for h in raw}
    use = [c for c in POLICE_UK_MAP if c in raw_names]
    try:
        return pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(encoding=encoding, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                include_columns=[raw_names[c] for c in use],
                column_types={raw_names[c]: pa.string() for c in use},
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        ), use
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise InputError(
            f"{label}: cannot be parsed as a police.uk CSV ({exc}). The archive may be damaged: download it again."
        ) from exc


def _header(data: bytes, label: str, encoding: str) -> list[str]:
    """The header as written (byte-order mark removed), after checking the required columns."""
    first = data.split(b"\n", 1)[0].decode(encoding, errors="replace").lstrip("\ufeff").rstrip("\r")
    raw = next(csv.reader([first]), [])
    header = [clean_header(h) for h in raw]
    require_columns(
        Path(label),
        header,
        POLICE_UK_REQUIRED,
        expected=POLICE_UK_COLUMNS,
        hint=" A data.police.uk street-level file has the columns " + ", ".join(POLICE_UK_COLUMNS) + ".",
    )
    return raw


def _frame(table: Any, use: list[str]) -> pd.DataFrame:
    """The arrow table as the text frame the cleaning reads (coordinates as floats when all are numbers)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cols: dict[str, Any] = {}
    for name, col in zip(use, table.columns, strict=True):
        if name in _FLOATS:
            try:
                cols[name] = pc.cast(pc.utf8_trim_whitespace(col), pa.float64()).to_numpy(zero_copy_only=False)
                continue
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass  # a value that is not a number: kept as text, so that cleaning names the row
        cols[name] = col.to_pandas().astype(TEXT)
    return pd.DataFrame(cols).rename(columns=POLICE_UK_MAP)


def member_label(archive: Path, member: str) -> str:
    """How rows of a member name their file: ``<archive file name>!<member>`` (as a jar URL does)."""
    return f"{Path(archive).name}!{member}"


def read_member(zf: zipfile.ZipFile, member: Member, *, archive: Path, crs: str = "EPSG:4326") -> RawFile:
    """Decompress one street member in memory and parse it with pyarrow into a :class:`RawFile`.

    Parameters
    ----------
    zf
        The open archive.
    member
        The member to read (:func:`street_members`).
    archive
        The archive's path (names the file in messages and in ``source_file``).
    crs
        CRS of ``Longitude``/``Latitude`` (EPSG:4326 in every published file).

    Returns
    -------
    RawFile
        Standardised text columns (coordinates as floats where every value is a number), the
        sha256 of the member's bytes, ``path`` = :func:`member_label`.

    Raises
    ------
    InputError
        The member is damaged (CRC error), has no data rows, lacks a required column, or cannot
        be parsed as CSV. A member that is not UTF-8 is read as Windows-1252.
    """
    label = member_label(archive, member.name)
    try:
        data = zf.read(member.name)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{label}: cannot be read from the archive ({exc}); download the archive again.") from exc
    encoding = "utf8"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        encoding = "cp1252"
    table, use = _arrow_table(data, label, encoding)
    if table.num_rows == 0:
        raise InputError(f"{label} has a header but no data rows; the archive may be damaged.")
    df = _frame(table, use)
    return RawFile(
        path=Path(label),
        source=SOURCE,
        frame=standardise(df),
        crs=crs,
        sha256=hashlib.sha256(data).hexdigest(),
        encoding="utf-8" if encoding == "utf8" else encoding,
        columns={v: k for k, v in POLICE_UK_MAP.items()},
        fix="the archive's coordinates are longitude/latitude (EPSG:4326)",
    )
