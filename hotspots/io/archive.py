"""police.uk archive zips read in place: the central directory and single members by HTTP Range (or from disk).

Each archive ``YYYY-MM.zip`` on data.police.uk is a snapshot of every force's files for the
36 months ending ``YYYY-MM`` (about 1.7 GB). :class:`RemoteArchive` reads only its central
directory (the last 128 KiB, then the directory itself) and, later, single members' bytes;
:class:`LocalArchive` reads a zip already on disk. :func:`plan_fetch` chooses which archive
each requested month comes from.
"""

from __future__ import annotations

import io
import re
import struct
import urllib.parse
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from hotspots.errors import InputError
from hotspots.io.http import PoliteClient

ARCHIVE_INDEX_URL = "https://data.police.uk/data/archive/"
"""The data.police.uk page listing the archive zips (``YYYY-MM.zip``)."""

TAIL_BYTES = 128 * 1024
"""Bytes read from the end of an archive to find its central directory."""
ARCHIVE_MONTHS = 36
"""Months each archive holds (the 36 months up to its own)."""
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_LOCAL_SIG = b"PK\x03\x04"
_LOCAL_FIXED = 30
_EXTRA_MAX = 255
_MAX_TRIES_PER_MONTH = 2


def _add_months(month: str, k: int) -> str:
    n = int(month[:4]) * 12 + int(month[5:]) - 1 + k
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


def street_member(month: str, force: str) -> str:
    """Archive member name of a force's street-level file, e.g. ``2019-09/2019-09-nottinghamshire-street.csv``."""
    return f"{month}/{month}-{force}-street.csv"


class Archive(Protocol):
    """A zip archive whose directory and byte ranges can be read."""

    label: str

    def infolist(self) -> list[zipfile.ZipInfo]:
        """Every member's directory entry."""
        ...

    def read(self, start: int, end: int) -> bytes:
        """Bytes ``start..end`` (inclusive)."""
        ...

    def copy(self, start: int, end: int, out: IO[bytes], on_bytes: Callable[[int], None]) -> int:
        """Write bytes ``start..end`` (inclusive) to ``out``; return how many were written."""
        ...


class _RangeFile(io.RawIOBase):
    """Seekable read-only file over HTTP Range requests, caching what it has read."""

    def __init__(self, client: PoliteClient, url: str, *, block: int = 256 * 1024) -> None:
        super().__init__()
        self.client = client
        self.block = block
        first = client.get(url, suffix=TAIL_BYTES)
        self.url = first.url  # after redirects: later requests go straight there
        cr = first.headers.get("Content-Range", "")
        m = re.match(r"bytes (\d+)-(\d+)/(\d+)", cr)
        if not m:
            raise InputError(
                f"{url}: the server's answer has no usable Content-Range ({cr!r}); cannot read the archive."
            )
        start, self.size = int(m.group(1)), int(m.group(3))
        self._chunks: list[tuple[int, bytes]] = [(start, first.body)]
        self._pos = 0

    def readable(self) -> bool:
        """Return True: the file can be read."""
        return True

    def seekable(self) -> bool:
        """Return True: the file can seek."""
        return True

    def tell(self) -> int:
        """Return the current position."""
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        """Move to ``offset`` from the start, the current position or the end; return the position."""
        base = {0: 0, 1: self._pos, 2: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def _cached(self, pos: int, n: int) -> bytes | None:
        for start, data in self._chunks:
            if start <= pos and pos + n <= start + len(data):
                return data[pos - start : pos + n]
        return None

    def readinto(self, b: Any) -> int:  # Any: typeshed's WriteableBuffer has no len() or slice assignment
        """Fill ``b`` from the current position (from the cache, else with one Range request)."""
        n = min(len(b), max(0, self.size - self._pos))
        if n == 0:
            return 0
        data = self._cached(self._pos, n)
        if data is None:
            end = min(self.size, self._pos + max(n, self.block)) - 1
            got = self.client.get(self.url, start=self._pos, end=end).body
            self._chunks.append((self._pos, got))
            data = got[:n]
        b[: len(data)] = data
        self._pos += len(data)
        return len(data)


class RemoteArchive:
    """An archive zip on a web server that answers Range requests."""

    def __init__(self, client: PoliteClient, url: str) -> None:
        self.client = client
        self.label = url.rsplit("/", 1)[-1]
        self._file = _RangeFile(client, url)
        self.url = self._file.url
        self.size = self._file.size
        try:
            with zipfile.ZipFile(self._file) as zf:  # type: ignore[arg-type]
                self._infos = zf.infolist()
        except zipfile.BadZipFile as exc:
            raise InputError(f"{url} is not a readable zip archive ({exc}).") from exc

    def infolist(self) -> list[zipfile.ZipInfo]:
        """Every member's directory entry."""
        return self._infos

    def read(self, start: int, end: int) -> bytes:
        """Bytes ``start..end`` (inclusive), one Range request."""
        return self.client.get(self.url, start=start, end=end).body

    def copy(self, start: int, end: int, out: IO[bytes], on_bytes: Callable[[int], None]) -> int:
        """Stream bytes ``start..end`` to ``out``; fewer if the connection drops."""
        return self.client.copy_range(self.url, start, end, out, on_bytes)


class LocalArchive:
    """An archive zip already on disk (``--archive-file``)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.label = self.path.name
        if not self.path.is_file():
            raise InputError(f"--archive-file {self.path} not found (give the downloaded YYYY-MM.zip).")
        try:
            with zipfile.ZipFile(self.path) as zf:
                self._infos = zf.infolist()
        except zipfile.BadZipFile as exc:
            raise InputError(f"--archive-file {self.path} is not a zip archive ({exc}).") from exc

    def infolist(self) -> list[zipfile.ZipInfo]:
        """Every member's directory entry."""
        return self._infos

    def read(self, start: int, end: int) -> bytes:
        """Bytes ``start..end`` (inclusive)."""
        with self.path.open("rb") as fh:
            fh.seek(start)
            return fh.read(end - start + 1)

    def copy(self, start: int, end: int, out: IO[bytes], on_bytes: Callable[[int], None]) -> int:
        """Copy bytes ``start..end`` (inclusive) to ``out``."""
        done = 0
        with self.path.open("rb") as fh:
            fh.seek(start)
            while done < end - start + 1:
                chunk = fh.read(min(1 << 20, end - start + 1 - done))
                if not chunk:
                    break
                out.write(chunk)
                done += len(chunk)
                on_bytes(len(chunk))
        return done


def parse_archive_index(html: str, base_url: str = ARCHIVE_INDEX_URL) -> dict[str, str]:
    """Archive months and absolute URLs linked from the archive index page.

    Any link whose target ends in ``YYYY-MM.zip`` counts (``latest.zip`` does not).

    Examples
    --------
    >>> parse_archive_index('<a href="/data/archive/2024-10.zip">October 2024</a>', "https://x.uk/data/archive/")
    {'2024-10': 'https://x.uk/data/archive/2024-10.zip'}
    """
    out: dict[str, str] = {}
    for href in re.findall(r"""href\s*=\s*["']([^"']+)["']""", html, flags=re.I):
        m = re.search(r"(\d{4}-(?:0[1-9]|1[0-2]))\.zip(?:[?#].*)?$", href)
        if m:
            out[m.group(1)] = urllib.parse.urljoin(base_url, href)
    return dict(sorted(out.items()))


def local_header_size(archive: Archive, info: zipfile.ZipInfo) -> int:
    """Bytes from the member's local header to its data (30 + name + extra)."""
    head = archive.read(
        info.header_offset, info.header_offset + _LOCAL_FIXED + len(info.filename.encode()) + _EXTRA_MAX
    )
    if len(head) < _LOCAL_FIXED:
        raise InputError(f"{archive.label}: member {info.filename} is cut short (no local header).")
    sig, _v, flags, _meth, _t, _d, _crc, _cs, _us, n, m = _LOCAL_HEADER.unpack(head[:_LOCAL_FIXED])
    if sig != _LOCAL_SIG:
        raise InputError(f"{archive.label}: member {info.filename} has no local header at {info.header_offset}.")
    if flags & 0x1:
        raise InputError(f"{archive.label}: member {info.filename} is encrypted.")
    return _LOCAL_FIXED + n + m


@dataclass(frozen=True)
class MonthFile:
    """One force-month street file to fetch: where it is in which archive."""

    month: str
    archive: str
    member: str
    info: zipfile.ZipInfo

    @property
    def relpath(self) -> str:
        """Path under the output folder (the archive layout): ``YYYY-MM/YYYY-MM-<force>-street.csv``."""
        return self.member


@dataclass
class FetchPlan:
    """Which archive each requested month comes from, and which months no archive has."""

    force: str
    months: list[str]
    files: list[MonthFile] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    archives: dict[str, Archive] = field(default_factory=dict)


def plan_fetch(
    force: str,
    months: list[str],
    *,
    available: dict[str, str],
    open_archive: Callable[[str], Archive],
) -> FetchPlan:
    """Choose the archives that hold the force's file for each month.

    Parameters
    ----------
    force
        police.uk force id.
    months
        Months wanted (``YYYY-MM``).
    available
        Archive month -> URL (or path), from the index page or the user.
    open_archive
        Opens an archive (reads its directory).

    Returns
    -------
    FetchPlan

    Notes
    -----
    Greedy, newest first: the newest archive is read first (it has the most recent
    revision of its 36 months); each month still uncovered after that is looked for in the
    archive of that same month (which holds it and the 35 months before, the most older
    months one archive can add). A month is missing when neither holds the force's file
    (the force did not publish it, or no archive lists it). So ``k`` years back need about
    ``k / 3 + 1`` directory reads, each about 0.5 MB.
    """
    plan = FetchPlan(force=force, months=list(months))
    if not available:
        raise InputError("no archive to read from (the archive list is empty).")
    newest = max(available)
    uncovered = set(months)
    tried: dict[str, int] = {}
    while uncovered:
        u = max(uncovered)
        candidates = [newest, u] + [a for a in sorted(available) if u <= a <= _add_months(u, ARCHIVE_MONTHS - 1)]
        cand = next((a for a in candidates if a in available and a not in plan.archives and a >= u), None)
        if cand is None or tried.get(u, 0) >= _MAX_TRIES_PER_MONTH:
            plan.missing.append(u)
            uncovered.discard(u)
            continue
        tried[u] = tried.get(u, 0) + 1
        archive = open_archive(available[cand])
        plan.archives[cand] = archive
        members = {i.filename: i for i in archive.infolist()}
        for month in sorted(uncovered):
            info = members.get(street_member(month, force))
            if info is not None:
                plan.files.append(MonthFile(month, archive.label, info.filename, info))
                uncovered.discard(month)
    plan.files.sort(key=lambda f: f.month)
    plan.missing.sort()
    return plan
