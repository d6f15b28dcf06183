"""``hotspots fetch``: download police.uk street-level crime for one force and a month range.

Source: the data.police.uk archive (https://data.police.uk/data/archive/). The archive
files carry LSOA codes and the same crime categories as the bundled data (the police.uk
API does not), so they are the source. Only the force's members are downloaded
(:mod:`hotspots.io.archive`). Each file is:

* **resumable**: compressed bytes go to ``<file>.part`` and an interrupted transfer resumes
  from the bytes already there; a file already on disk whose size and CRC-32 match the
  archive's directory is skipped;
* **checked**: the inflated bytes must match the directory's size and CRC-32; the CSV must
  have the police.uk header, the same number of fields on every row and the member's month
  in every ``Month`` cell; rows are counted and the count compared with the lines;
* **written atomically** (``.tmp`` then rename) into the archive layout
  ``<out>/YYYY-MM/YYYY-MM-<force>-street.csv`` that ``[[crime]] format = "police_uk"`` reads,
  with ``<out>/fetch_manifest.json`` recording archive, member, size, CRC-32, sha256 and rows.

Requests are polite (:class:`~hotspots.io.http.PoliteClient`): one per second by default,
an identifying User-Agent, retries with backoff. Only the standard library is used.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import re
import urllib.parse
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from hotspots.errors import InputError
from hotspots.io.archive import (
    ARCHIVE_INDEX_URL,
    Archive,
    FetchPlan,
    LocalArchive,
    MonthFile,
    RemoteArchive,
    local_header_size,
    parse_archive_index,
    plan_fetch,
    street_member,
)
from hotspots.io.crime import POLICE_UK_REQUIRED
from hotspots.io.http import PoliteClient, Progress
from hotspots.io.tables import sha256
from hotspots.prepare.forces import normalise_force

MAX_MONTHS = 240
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_CHUNK = 1 << 20
_SHOWN = 6


def check_month(value: str, what: str) -> str:
    """Return ``value`` if it is a month ``YYYY-MM``, else raise :class:`InputError` naming ``what``."""
    if not isinstance(value, str) or not _MONTH_RE.match(value.strip()):
        raise InputError(f"{what} {value!r} is not a month written YYYY-MM (e.g. '2024-03').")
    return value.strip()


def month_range(start: str, end: str) -> list[str]:
    """Every month from ``start`` to ``end`` inclusive, as ``YYYY-MM`` strings.

    Raises
    ------
    InputError
        A month is malformed, ``start`` is after ``end``, or the range is longer than
        :data:`MAX_MONTHS` months.

    Examples
    --------
    >>> month_range("2019-11", "2020-02")
    ['2019-11', '2019-12', '2020-01', '2020-02']
    """
    s, e = check_month(start, "--from"), check_month(end, "--to")
    if s > e:
        raise InputError(f"--from {s} is after --to {e}; give the earlier month first.")
    first, last = _index(s), _index(e)
    if last - first + 1 > MAX_MONTHS:
        raise InputError(f"--from {s} --to {e} spans more than {MAX_MONTHS} months; fetch a shorter range.")
    return [f"{k // 12:04d}-{k % 12 + 1:02d}" for k in range(first, last + 1)]


def _index(month: str) -> int:
    """Months since year 0 (``"2019-09"`` -> 2019 * 12 + 8)."""
    return int(month[:4]) * 12 + int(month[5:]) - 1


def file_crc32(path: Path) -> tuple[int, int]:
    """(CRC-32, size) of a file's bytes."""
    crc, size = 0, 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
    return crc & 0xFFFFFFFF, size


def check_street_csv(path: Path, *, month: str) -> dict[str, int]:
    """Check a police.uk street-level CSV and count its rows.

    Parameters
    ----------
    path
        The CSV.
    month
        ``YYYY-MM`` every ``Month`` cell must hold.

    Returns
    -------
    dict
        ``rows`` (data rows parsed as CSV) and ``lines`` (newline-terminated lines after the
        header; equal to ``rows`` unless a cell spans lines).

    Raises
    ------
    InputError
        No header, a required column missing, a row with a different number of fields
        from the header, or a ``Month`` cell other than ``month``.
    """
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if not header:
            raise InputError(f"{path}: empty file (no header). Delete it and fetch again.")
        missing = [c for c in POLICE_UK_REQUIRED if c not in header]
        if missing:
            raise InputError(
                f"{path}: column(s) {', '.join(map(repr, missing))} missing from the header {header!r}; "
                "this is not a police.uk street-level file."
            )
        width, mi, rows = len(header), header.index("Month"), 0
        for row in reader:
            if len(row) != width:
                raise InputError(
                    f"{path}: line {reader.line_num} has {len(row)} fields, the header {width}; the file is damaged. "
                    "Delete it and fetch again."
                )
            if row[mi] != month:
                raise InputError(f"{path}: line {reader.line_num} is for month {row[mi]!r}, not {month!r}.")
            rows += 1
    with path.open("rb") as fh:
        data_lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
        fh.seek(0, 2)
        size = fh.tell()
        if size:
            fh.seek(size - 1)
            if fh.read(1) != b"\n":
                data_lines += 1
    return {"rows": rows, "lines": data_lines - 1}


@dataclass
class FetchResult:
    """What :func:`fetch_police_uk` did.

    Attributes
    ----------
    force
        police.uk force id.
    out
        Output folder.
    files
        One dict per month file: ``month``, ``path`` (relative to ``out``), ``status``
        (``"downloaded"``, ``"unchanged"``, ``"replaced"``), ``rows``, ``archive``.
    missing
        Requested months no archive holds for this force.
    requests, bytes_received
        HTTP requests made and bytes received (0 for a local archive).
    manifest
        ``<out>/fetch_manifest.json``.
    """

    force: str
    out: Path
    files: list[dict[str, Any]]
    missing: list[str]
    requests: int
    bytes_received: int
    manifest: Path


def _inflate(part: Path, tmp: Path, info: zipfile.ZipInfo) -> tuple[int, int]:
    """Inflate the raw member data in ``part`` into ``tmp``; return (CRC-32, size)."""
    if info.compress_type == zipfile.ZIP_STORED:
        dec = None
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        dec = zlib.decompressobj(-15)
    else:
        raise InputError(f"{info.filename}: compression method {info.compress_type} is not supported (only deflate).")
    crc, size = 0, 0
    try:
        with part.open("rb") as src, tmp.open("wb") as dst:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                out = dec.decompress(chunk) if dec is not None else chunk
                crc, size = zlib.crc32(out, crc), size + len(out)
                dst.write(out)
            if dec is not None:
                tail = dec.flush()
                crc, size = zlib.crc32(tail, crc), size + len(tail)
                dst.write(tail)
    except zlib.error:
        return -1, -1  # damaged deflate stream: reported as a checksum mismatch
    return crc & 0xFFFFFFFF, size


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


def _fetch_one(archive: Archive, mf: MonthFile, out: Path, progress: Progress, max_tries: int) -> dict[str, Any]:
    info = mf.info
    final = out / mf.relpath
    final.parent.mkdir(parents=True, exist_ok=True)
    expected_crc = info.CRC & 0xFFFFFFFF
    replaced = False
    if final.exists():
        crc, size = file_crc32(final)
        if crc == expected_crc and size == info.file_size:
            progress.advance(info.compress_size)
            counts = check_street_csv(final, month=mf.month)
            return {"status": "unchanged", **counts, "crc32": f"{crc:08x}", "size": size}
        replaced = True
    part = final.with_name(final.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    if have > info.compress_size:  # a stale part from another archive version
        part.unlink()
        have = 0
    progress.advance(have)
    start = info.header_offset + local_header_size(archive, info)
    tries = 0
    while have < info.compress_size:
        if tries > max_tries:
            raise InputError(
                f"{mf.member}: the connection kept dropping ({have:,} of {info.compress_size:,} bytes after "
                f"{tries} tries); run the same command again to resume."
            )
        with part.open("ab") as fh:
            got = archive.copy(start + have, start + info.compress_size - 1, fh, progress.advance)
        have += got
        tries += 1
    tmp = final.with_name(final.name + ".tmp")
    crc, size = _inflate(part, tmp, info)
    if crc != expected_crc or size != info.file_size:
        tmp.unlink(missing_ok=True)
        part.unlink(missing_ok=True)
        raise InputError(
            f"{mf.member}: the download does not match the archive's checksum (CRC-32 "
            f"{'unreadable' if crc < 0 else format(crc, '08x')}, {max(size, 0):,} bytes; "
            f"expected {expected_crc:08x}, {info.file_size:,} bytes). The damaged copy was deleted; run the same "
            "command again."
        )
    try:
        counts = check_street_csv(tmp, month=mf.month)
    except InputError:
        tmp.unlink(missing_ok=True)
        part.unlink(missing_ok=True)
        raise
    tmp.replace(final)
    part.unlink(missing_ok=True)
    return {"status": "replaced" if replaced else "downloaded", **counts, "crc32": f"{crc:08x}", "size": size}


def fetch_police_uk(
    force: str,
    start: str,
    end: str,
    out: Path,
    *,
    index_url: str = ARCHIVE_INDEX_URL,
    archive: str | None = None,
    archive_file: Path | None = None,
    allow_missing: bool = False,
    client: PoliteClient | None = None,
    progress: bool = True,
    stream: IO[str] | None = None,
) -> FetchResult:
    """Download a force's police.uk street-level files for ``start..end`` into ``out``.

    Parameters
    ----------
    force
        Force in any form :func:`hotspots.prepare.forces.normalise_force` accepts.
    start, end
        First and last month, ``YYYY-MM``, inclusive.
    out
        Output folder; files go to ``out/YYYY-MM/YYYY-MM-<force>-street.csv``.
    index_url
        The archive index page (default :data:`ARCHIVE_INDEX_URL`).
    archive
        Read only this archive month (``YYYY-MM``; ``<index_url>YYYY-MM.zip``), skipping the
        index page.
    archive_file
        Read a zip already on disk instead of the web (no network at all).
    allow_missing
        Fetch the months that exist when some requested months are in no archive (they are
        listed in the result); by default that is an error raised before any download.
    client
        HTTP client (default :class:`PoliteClient` with one request per second).
    progress, stream
        Show a progress bar on ``stream`` (default stderr).

    Returns
    -------
    FetchResult

    Raises
    ------
    InputError
        Unknown force; bad months; offline; the index lists no archive or the requested
        archive is not there (HTTP 404); months missing (without ``allow_missing``); a
        server that ignores Range requests; a download that fails its checksum or CSV check;
        ``out`` not writable.
    """
    fid = normalise_force(force)
    months = month_range(start, end)
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"cannot create --out {out}: {exc.strerror or exc}. Choose a folder you can write to."
        ) from exc
    client = client or PoliteClient()
    plan, available = _make_plan(fid, months, client, index_url=index_url, archive=archive, archive_file=archive_file)
    if plan.missing and (not allow_missing or not plan.files):
        where = f"the archives listed at {index_url}"
        if archive_file or archive:
            where = str(archive_file) if archive_file else f"archive {archive}"
        raise _missing_error(plan, where, available)
    manifest_path = out / "fetch_manifest.json"
    manifest = _load_manifest(manifest_path)
    manifest.update({"source": index_url if archive_file is None else str(archive_file), "format": "police_uk street"})
    bar = Progress(sum(f.info.compress_size for f in plan.files), len(plan.files), stream=stream, enabled=progress)
    by_label = {a.label: a for a in plan.archives.values()}
    results = []
    for mf in plan.files:
        bar.start_file(mf.relpath)
        arch = by_label[mf.archive]
        res = _fetch_one(arch, mf, out, bar, max_tries=client.retries + 2)
        note = f"{res['status']}, {res['rows']:,} rows"
        if res["rows"] != res["lines"]:
            note += f" ({res['lines']:,} lines: some cells span lines)"
        bar.end_file(note)
        manifest["files"][mf.relpath] = {
            "month": mf.month,
            "force": fid,
            "archive": mf.archive,
            "archive_url": getattr(arch, "url", str(getattr(arch, "path", ""))),
            "member": mf.member,
            "crc32": res["crc32"],
            "size": res["size"],
            "rows": res["rows"],
            "sha256": sha256(out / mf.relpath),
            "fetched": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        }
        _write_json(manifest_path, manifest)
        results.append(
            {"month": mf.month, "path": mf.relpath, "status": res["status"], "rows": res["rows"], "archive": mf.archive}
        )
    return FetchResult(
        force=fid,
        out=out,
        files=results,
        missing=plan.missing,
        requests=client.requests,
        bytes_received=client.bytes_received,
        manifest=manifest_path,
    )


def _make_plan(
    fid: str,
    months: list[str],
    client: PoliteClient,
    *,
    index_url: str,
    archive: str | None,
    archive_file: Path | None,
) -> tuple[FetchPlan, dict[str, str]]:
    """Plan from a local zip, one named archive, or the archives listed on the index page."""
    if archive_file is not None:
        local = LocalArchive(Path(archive_file))
        plan = FetchPlan(force=fid, months=months, archives={"local": local})
        members = {i.filename: i for i in local.infolist()}
        for mth in months:
            info = members.get(street_member(mth, fid))
            if info is None:
                plan.missing.append(mth)
            else:
                plan.files.append(MonthFile(mth, local.label, info.filename, info))
        return plan, {}
    if archive is not None:
        month = check_month(archive, "--archive")
        available = {month: urllib.parse.urljoin(index_url, f"{month}.zip")}
    else:
        page = client.get(index_url)
        available = parse_archive_index(page.body.decode("utf-8", "replace"), page.url)
        if not available:
            raise InputError(
                f"no YYYY-MM.zip archive is linked from {index_url}; the page may have changed. "
                "Pass --archive YYYY-MM to read one archive directly."
            )

    def opener(url: str) -> Archive:
        return RemoteArchive(client, url)

    return plan_fetch(fid, months, available=available, open_archive=opener), available


def _missing_error(plan: FetchPlan, where: str, available: dict[str, str]) -> InputError:
    """Build the one-line error for months that no archive holds."""
    shown = ", ".join(plan.missing[:_SHOWN]) + (", ..." if len(plan.missing) > _SHOWN else "")
    newest = max(available, default=None)
    late = f" The newest archive is {newest}." if newest and max(plan.missing) > newest else ""
    more = f" Use --allow-missing to fetch the other {len(plan.files)} month(s)." if plan.files else ""
    return InputError(
        f"{plan.force}: no street-level file for {len(plan.missing)} of {len(plan.months)} month(s) ({shown}) "
        f"in {where}.{late}{more}"
    )


def _load_manifest(path: Path) -> dict[str, Any]:
    """Read the existing manifest (an unreadable one is started afresh)."""
    manifest: dict[str, Any] = {}
    if path.exists():
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            manifest = {}
    manifest.setdefault("files", {})
    return manifest
