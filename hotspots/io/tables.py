"""Text tables: read a CSV (optionally gzipped) as text columns, its header, and check its columns.

Whole-file problems (missing file, a folder where a file is expected, empty file, header
only, a ``.gz`` name on a file that is not gzip-compressed, wrong encoding, a missing or
renamed column) raise :class:`~hotspots.errors.InputError` naming the file and saying how
to fix it.
"""

from __future__ import annotations

import difflib
import gzip
import hashlib
import warnings
import zlib
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from hotspots.errors import HotspotsWarning, InputError
from hotspots.validate import folder_message

VECTOR_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".fgb", ".gml", ".kml", ".zip"}
"""File name endings read as vector files (GDAL); ``.zip`` holds one vector file, read in place."""

TABLE_SUFFIXES = {".csv", ".txt", ".tsv"}
"""File name endings read as text tables (optionally followed by ``.gz``)."""

_ENCODINGS = ["utf-8-sig", "cp1252"]
_CHUNK = 1 << 20


def sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def suffix(path: Path) -> str:
    """The file type of ``path``: its last suffix, or the one before ``.gz`` (``x.csv.gz`` -> ``.csv``)."""
    s = path.suffixes
    if s and s[-1].lower() == ".gz" and len(s) > 1:
        return s[-2].lower()
    return path.suffix.lower()


def check_file(path: Path, what: str = "file") -> None:
    """Raise :class:`InputError` unless ``path`` is an existing, non-empty, readable file.

    A folder, a missing file, an empty file and a ``.gz`` file that is not gzip-compressed
    are each named with the fix.
    """
    if path.is_dir():
        raise InputError(folder_message(path, what))
    if not path.exists():
        raise InputError(f"{what} not found: {path}")
    if path.stat().st_size == 0:
        raise InputError(f"{path} is empty (0 bytes). Replace it with the full export, or remove it.")
    if path.name.lower().endswith(".gz"):
        with path.open("rb") as fh:
            magic = fh.read(2)
        if magic != b"\x1f\x8b":
            plain = path.with_name(path.name[: -len(".gz")])
            raise InputError(
                f"{path} is named .gz but is not gzip-compressed. Rename it to {plain.name} (and change the "
                "path in the config to match), or compress it with gzip."
            )


def clean_header(name: object) -> str:
    """A header as matched everywhere: surrounding spaces and a stray byte-order mark removed."""
    return str(name).strip().lstrip("\ufeff").strip()


def _decode_error(path: Path, exc: Exception) -> InputError:
    if isinstance(exc, (gzip.BadGzipFile, EOFError, zlib.error)):
        return InputError(
            f"{path} is damaged: its gzip data cannot be decompressed ({exc}). Replace it with a fresh copy."
        )
    return InputError(f"{path} could not be read ({exc}). Replace it with a fresh copy of the file.")


def _header_with(path: Path, enc: str) -> list[str]:
    try:
        return [str(c) for c in pd.read_csv(path, nrows=0, encoding=enc).columns]
    except (OSError, EOFError, zlib.error) as exc:
        raise _decode_error(path, exc) from exc


def _raw_header(path: Path, encoding: str | None) -> list[str]:
    """Header names exactly as written (for dtype maps, which pandas matches verbatim)."""
    for enc in [encoding] if encoding else _ENCODINGS:
        try:
            return _header_with(path, enc)
        except UnicodeDecodeError:
            continue
        except (pd.errors.EmptyDataError, pd.errors.ParserError):
            return []
    return []


def read_header(path: Path, *, encoding: str | None = None) -> list[str]:
    """Column names of a CSV (first line only), cleaned with :func:`clean_header`.

    Raises
    ------
    InputError
        The file is missing, a folder, empty, not gzip despite its name, or has no header.
    """
    check_file(path)
    for enc in [encoding] if encoding else _ENCODINGS:
        try:
            head = _header_with(path, enc)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError as exc:
            raise InputError(f"{path} has no header and no rows. Replace it with the full export.") from exc
        except pd.errors.ParserError:
            return []
        return [clean_header(c) for c in head]
    return []


def _read_csv(path: Path, enc: str, dtype: Any, select: Any, thousands: str | None) -> pd.DataFrame:
    """One ``pandas.read_csv`` call with the options every table read uses."""
    return pd.read_csv(
        path,
        dtype=dtype,
        keep_default_na=False,
        na_values=[""],
        encoding=enc,
        usecols=select,
        thousands=thousands,
        # never take the first column as an index when the first data row is longer than
        # the header (trailing commas): columns stay aligned
        index_col=False,
        low_memory=False,
    )


def _try_dtypes(path: Path, enc: str, dtypes: list[Any], select: Any, thousands: str | None) -> pd.DataFrame:
    """Read with the first dtype map that parses (float coordinates first, then all text).

    Raises UnicodeDecodeError for the caller to try the next encoding.
    """
    for dtype in dtypes:
        try:
            return _read_csv(path, enc, dtype, select, thousands)
        except pd.errors.EmptyDataError as exc:
            raise InputError(f"{path} has no header and no rows. Replace it with the full export.") from exc
        except pd.errors.ParserError as exc:
            raise InputError(f"{path} could not be parsed as CSV: {exc}") from exc
        except UnicodeDecodeError:
            raise
        except (OSError, EOFError, zlib.error) as exc:
            raise _decode_error(path, exc) from exc
        except ValueError:
            if dtype is str:
                raise
            continue  # a coordinate is not a number: read them as text
    raise AssertionError("unreachable: the last dtype is str")  # pragma: no cover


def read_table(
    path: Path,
    *,
    encoding: str | None = None,
    usecols: list[str] | None = None,
    thousands: str | None = None,
    what: str = "file",
    floats: list[str] | None = None,
    numbers: list[str] | None = None,
) -> tuple[pd.DataFrame, str]:
    """Read a CSV (optionally gzipped) as text columns.

    UTF-8 with or without a byte-order mark is the default; a file that is not UTF-8
    is re-read as Windows-1252 (what Excel writes) with a warning. ``usecols`` keeps only
    those columns (all must exist: check headers first with :func:`read_header`).
    ``floats`` columns (coordinates) are parsed as numbers by the CSV reader itself, which
    is fast; if any value in them is not a number the file is read again with them as
    text, so that :mod:`hotspots.prepare.clean` can name each bad row. ``numbers`` columns get
    the CSV reader's own type inference (``int64``/``float64`` when every value is a number,
    ``thousands`` separators removed; text otherwise, for the caller to check and name the bad
    value), several times faster than reading them as text and converting them in Python.

    Returns
    -------
    frame, encoding

    Raises
    ------
    InputError
        See :func:`check_file`; also a file with a header but no rows, one that cannot be
        parsed as CSV, or one that cannot be decoded with the given ``encoding``.
    """
    check_file(path, what)
    encodings = [encoding] if encoding else _ENCODINGS
    dtypes: list[Any] = [str]
    select: Callable[[object], bool] | None = None
    if usecols is not None:
        wanted = set(usecols)  # match headers as read_header reports them

        def select(c: object) -> bool:
            return clean_header(c) in wanted

    if floats:
        float_cols = [h for h in _raw_header(path, encoding) if clean_header(h) in set(floats)]
        dtypes.insert(0, defaultdict(lambda: str, {c: "float64" for c in float_cols}))
    if numbers:
        dtypes.insert(0, {h: str for h in _raw_header(path, encoding) if clean_header(h) not in set(numbers)})
    last: Exception | None = None
    for enc in encodings:
        try:
            df = _try_dtypes(path, enc, dtypes, select, thousands)
        except UnicodeDecodeError as exc:
            last = exc
            continue
        if enc == "cp1252" and encoding is None:
            warnings.warn(
                f"{path} is not UTF-8 ({last}); read it as Windows-1252. "
                "Save it as UTF-8, or set encoding in the config, to silence this.",
                HotspotsWarning,
                stacklevel=2,
            )
        if len(df) == 0:
            raise InputError(f"{path} has a header but no data rows. Replace it with the full export, or remove it.")
        df.columns = [clean_header(c) for c in df.columns]
        return df, enc
    raise InputError(
        f'{path} cannot be decoded as {encodings[0]}: {last}. Set encoding = "..." for this file in the config.'
    )


def require_columns(
    path: Path, found: list[str], required: list[str], *, hint: str = "", expected: list[str] | None = None
) -> None:
    """Raise :class:`InputError` naming the first required column missing from ``found``.

    When a header looks like a renamed copy of the missing column (same name in another
    case, or a close spelling), the message says which header to rename. Headers that are
    themselves ``required`` or ``expected`` are never suggested (``Longitude`` is not a
    misspelt ``Latitude``).
    """
    taken = set(required) | set(expected or [])
    if required and not found:
        raise InputError(
            f"{path} has no readable header row: it does not look like a CSV text file "
            f"(expected columns {', '.join(map(repr, required))}).{hint}"
        )
    for col in required:
        if col not in found:
            pool = [c for c in found if c not in taken]
            close = difflib.get_close_matches(col, pool, n=1, cutoff=0.6)
            lower = {c.lower(): c for c in pool}
            if col.lower() in lower:
                close = [lower[col.lower()]]
            did = f" Found {close[0]!r}: rename that header to {col!r}." if close else ""
            raise InputError(
                f"{path}: column {col!r} is missing.{did} Columns found: {', '.join(map(repr, found))}.{hint}"
            )
