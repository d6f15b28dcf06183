"""Crime files: data.police.uk street-level CSVs and generic point files, read into :class:`RawFile`.

Readers keep every row and every value as written; :mod:`hotspots.prepare.clean` turns
them into the canonical incident frame and accounts for every row.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from hotspots.errors import InputError
from hotspots.io.config import ColumnMap, CrimeSource
from hotspots.io.raw import RawFile, standardise
from hotspots.io.tables import (
    TABLE_SUFFIXES,
    VECTOR_SUFFIXES,
    read_header,
    read_table,
    require_columns,
    sha256,
    suffix,
)
from hotspots.io.vector import read_vector_file

log = logging.getLogger(__name__)

POLICE_UK_COLUMNS = [
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
]
"""The 12 columns of a data.police.uk street-level CSV."""

POLICE_UK_REQUIRED = ["Month", "Longitude", "Latitude", "Crime type"]
POLICE_UK_MAP = {
    "Crime ID": "id",
    "Month": "month",
    "Longitude": "x",
    "Latitude": "y",
    "Crime type": "crime_type",
    "LSOA code": "lsoa_code",
    "Location": "location",
}


def find_crime_files(source: CrimeSource) -> list[Path]:
    """Expand a source's ``path`` (file, folder or glob) into a sorted list of files.

    A folder is searched recursively: for ``police_uk`` sources, files named
    ``*-street.csv`` or ``*-street.csv.gz`` (the data.police.uk archive layout
    ``YYYY-MM/YYYY-MM-<force>-street.csv`` or the files side by side); for ``points``
    sources, every CSV, GeoPackage or GeoJSON file.
    """
    base = source.base or Path.cwd()
    raw = Path(source.path).expanduser()
    path = raw if raw.is_absolute() else base / raw
    if any(ch in source.path for ch in "*?["):
        pattern = str(path.relative_to(path.anchor)) if path.is_absolute() else str(path)
        files = [f for f in Path(path.anchor or ".").glob(pattern) if f.is_file()]
        if not files:
            raise InputError(f"[[crime]] {source.name!r}: the glob {str(path)!r} matches no files.")
        return sorted(files)
    if path.is_dir():
        if source.format == "police_uk":
            files = sorted(path.rglob("*-street.csv")) + sorted(path.rglob("*-street.csv.gz"))
            what = "*-street.csv files (the data.police.uk layout YYYY-MM/YYYY-MM-<force>-street.csv)"
        else:
            files = [p for p in path.rglob("*") if p.is_file() and suffix(p) in TABLE_SUFFIXES | VECTOR_SUFFIXES]
            what = "CSV, GeoPackage or GeoJSON files"
        if not files:
            raise InputError(f"[[crime]] {source.name!r}: the folder {path} holds no {what}.")
        return sorted(set(files))
    if path.is_file():
        return [path]
    raise InputError(
        f"[[crime]] {source.name!r}: file or folder not found: {path}. Paths are relative to the config file."
    )


def _crs_fix(source: str) -> str:
    return f"set crs in the [[crime]] entry {source!r}"


def read_police_uk(
    path: Path, *, source: str = "police_uk", encoding: str | None = None, crs: str = "EPSG:4326"
) -> RawFile:
    """Read one data.police.uk street-level CSV unchanged (optionally gzipped).

    ``crs`` is the CRS of the ``Longitude``/``Latitude`` columns: longitude and latitude
    (EPSG:4326) in every published file; a force's own export in the same layout may hold
    British National Grid metres (``crs = "EPSG:27700"``).

    Raises
    ------
    InputError
        The file is empty, has no data rows, or lacks one of ``Month``, ``Longitude``,
        ``Latitude``, ``Crime type`` (a renamed header is named with its likely original).
    """
    header = read_header(path, encoding=encoding)
    require_columns(
        path,
        header,
        POLICE_UK_REQUIRED,
        expected=POLICE_UK_COLUMNS,
        hint=" A data.police.uk street-level file has the columns "
        + ", ".join(POLICE_UK_COLUMNS)
        + '. For other layouts use format = "points" with a [crime.columns] mapping.',
    )
    use = [c for c in POLICE_UK_MAP if c in header]
    df, enc = read_table(path, encoding=encoding, usecols=use, floats=["Longitude", "Latitude"])
    df = df.rename(columns=POLICE_UK_MAP)
    names = {v: k for k, v in POLICE_UK_MAP.items()}
    return RawFile(
        path=path,
        source=source,
        frame=standardise(df),
        crs=crs,
        sha256=sha256(path),
        encoding=enc,
        columns=names,
        fix=_crs_fix(source),
    )


def _mapping(columns: ColumnMap) -> dict[str, str | None]:
    return {
        "id": columns.id,
        "month": columns.month,
        "date": columns.date,
        "crime_type": columns.crime_type,
        "offence_code": columns.offence_code,
        "lsoa_code": columns.lsoa_code,
        "location": columns.location,
    }


def _vector_points(path: Path, mapping: dict[str, str | None]) -> tuple[pd.DataFrame, str, dict[str, str]]:
    """A vector file's attributes by ``mapping`` and its point coordinates; (frame, crs, column names)."""
    gdf = read_vector_file(path, empty_hint=" Replace it with the full export, or remove it.")
    found = [c for c in gdf.columns if c != gdf.geometry.name]
    require_columns(path, found, [c for c in mapping.values() if c], hint=" Fix the [crime.columns] mapping.")
    geom = gdf.geometry
    if not geom.isna().all() and not (geom.geom_type.dropna() == "Point").all():
        geom = geom.representative_point()
    x = shapely.get_x(geom.values).astype(float)
    y = shapely.get_y(geom.values).astype(float)
    df = pd.DataFrame(
        {k: (gdf[v].astype(str).where(gdf[v].notna()) if v else np.nan) for k, v in mapping.items()},
        index=gdf.index,
    )
    df["x"] = np.where(np.isfinite(x), x, np.nan)
    df["y"] = np.where(np.isfinite(y), y, np.nan)
    names = {k: v for k, v in mapping.items() if v}
    names.update({"x": f"{gdf.geometry.name} x", "y": f"{gdf.geometry.name} y"})
    return df, gdf.crs.to_string(), names


def _table_points(
    path: Path, mapping: dict[str, str | None], columns: ColumnMap, encoding: str | None
) -> tuple[pd.DataFrame, str, dict[str, str]]:
    """A CSV's columns by ``mapping`` and its ``x``/``y`` columns; (frame, encoding, column names)."""
    header = read_header(path, encoding=encoding)
    if not (columns.x and columns.y):
        raise InputError(
            f"{path}: a CSV point file needs columns.x and columns.y in the config "
            '(longitude/latitude, or easting/northing with crs = "EPSG:27700").'
        )
    need = [c for c in [*mapping.values(), columns.x, columns.y, columns.time] if c]
    require_columns(path, header, need, hint=" Fix the [crime.columns] mapping in the config.")
    raw, enc = read_table(path, encoding=encoding, usecols=sorted(set(need)), floats=[columns.x, columns.y])
    df = pd.DataFrame({k: (raw[v] if v else np.nan) for k, v in mapping.items()}, index=raw.index)
    df["x"] = raw[columns.x]
    df["y"] = raw[columns.y]
    if columns.time and columns.date:
        df["date"] = raw[columns.date].str.strip() + " " + raw[columns.time].fillna("").str.strip()
    names = {k: v for k, v in mapping.items() if v}
    names.update({"x": columns.x, "y": columns.y})
    return df, enc, names


def read_points(
    path: Path,
    *,
    columns: ColumnMap,
    crs: str = "EPSG:4326",
    source: str = "points",
    crime_type: str | None = None,
    encoding: str | None = None,
) -> RawFile:
    """Read a generic point file: CSV with coordinate columns, or any vector format GDAL reads.

    Parameters
    ----------
    path
        The file.
    columns
        Which column holds the id, month, date, time, x, y, crime type, offence code,
        LSOA code and location. For vector files the geometry gives x and y.
    crs
        CRS of ``x``/``y`` in a CSV; vector files carry their own.
    source
        Name of the ``[[crime]]`` source.
    crime_type
        Category for every row when the file has no crime-type column.
    encoding
        Text encoding of a CSV (default UTF-8, falling back to Windows-1252).
    """
    mapping = _mapping(columns)
    kind = suffix(path)
    if kind in VECTOR_SUFFIXES:
        df, file_crs, names = _vector_points(path, mapping)
        enc, table, fix = "utf-8", False, ""
    elif kind in TABLE_SUFFIXES:
        df, enc, names = _table_points(path, mapping, columns, encoding)
        file_crs, table, fix = crs, True, _crs_fix(source)
    else:
        raise InputError(f"{path}: unknown file type {kind!r}. Use CSV (.csv, .csv.gz), GeoPackage or GeoJSON.")
    if crime_type is not None and columns.crime_type is None:
        df["crime_type"] = crime_type
    return RawFile(
        path=path,
        source=source,
        frame=standardise(df),
        crs=file_crs,
        sha256=sha256(path),
        encoding=enc,
        columns=names,
        table=table,
        fix=fix,
    )


def read_crime_source(source: CrimeSource) -> list[RawFile]:
    """Read every file of one ``[[crime]]`` source."""
    out = []
    for path in find_crime_files(source):
        if source.format == "police_uk":
            rf = read_police_uk(path, source=source.name, encoding=source.encoding, crs=source.crs)
            if source.crime_type is not None:
                rf.frame["crime_type"] = rf.frame["crime_type"].fillna(source.crime_type)
        else:
            rf = read_points(
                path,
                columns=source.columns,
                crs=source.crs,
                source=source.name,
                crime_type=source.crime_type,
                encoding=source.encoding,
            )
        log.info("read %s: %d rows (%s)", path.name, len(rf.frame), source.name)
        out.append(rf)
    return out
