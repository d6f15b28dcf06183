"""Read every input file: the only stage that touches the disk for reading.

Readers return plain frames with standardised column names (see :class:`RawFile`);
:mod:`hotspots.prepare.clean` turns them into the canonical incident frame. Whole-file problems
(missing file, empty file, header only, missing or renamed column, wrong encoding,
swapped or projected coordinates) raise :class:`~hotspots.InputError` naming the file
and column and how to fix it; problems with single rows are left to ``clean``, which
drops them with a reason.
"""

from __future__ import annotations

import difflib
import glob
import hashlib
import logging
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from hotspots import columns as C
from hotspots.errors import HotspotsWarning, InputError
from hotspots.io.config import BoundariesConfig, ColumnMap, CrimeSource, DeprivationConfig, VenuesConfig

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

RAW_COLUMNS = ["id", "month", "date", "x", "y", "crime_type", "offence_code", "lsoa_code", "location"]
"""Standardised columns of a :class:`RawFile` frame (all text, NaN where absent)."""

VECTOR_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".fgb", ".gml", ".kml"}
TABLE_SUFFIXES = {".csv", ".txt", ".tsv"}


@dataclass
class RawFile:
    """One input file read into standardised text columns.

    Attributes
    ----------
    path
        The file.
    source
        Name of the config source it belongs to.
    frame
        Columns :data:`RAW_COLUMNS` as text, except ``x``/``y``: floats when every value
        is a number, else text (so that ``clean`` can report each unparseable value);
        row ``i`` is data row ``i + 1`` of the file.
    crs
        CRS of ``x``/``y``.
    sha256
        Hex digest of the file's bytes.
    encoding
        Encoding the file was decoded with.
    """

    path: Path
    source: str
    frame: pd.DataFrame
    crs: str
    sha256: str
    encoding: str = "utf-8"
    notes: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    """The file's own name for each standardised column (e.g. ``{"x": "Longitude"}``), for messages."""
    table: bool = True
    """True for a text table (rows are lines after the header), False for a vector file (features)."""

    def column(self, name: str) -> str:
        """The file's own header for standardised column ``name`` (``name`` itself when unknown)."""
        return self.columns.get(name, name)

    def row_label(self, i: int) -> str:
        """Human label of 0-based data row ``i``: ``"row 4 (line 5)"`` for a table, ``"feature 4"`` otherwise."""
        return f"row {i + 1} (line {i + 2})" if self.table else f"feature {i + 1}"


def sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _display(path: Path) -> str:
    return str(path)


def _suffix(path: Path) -> str:
    s = path.suffixes
    if s and s[-1] == ".gz" and len(s) > 1:
        return s[-2].lower()
    return path.suffix.lower()


# --------------------------------------------------------------------------------------
# Text tables
# --------------------------------------------------------------------------------------


def read_table(
    path: Path,
    *,
    encoding: str | None = None,
    usecols: list[str] | None = None,
    thousands: str | None = None,
    what: str = "file",
    floats: list[str] | None = None,
) -> tuple[pd.DataFrame, str]:
    """Read a CSV (optionally gzipped) as text columns.

    UTF-8 with or without a byte-order mark is the default; a file that is not UTF-8
    is re-read as Windows-1252 (what Excel writes) with a warning. ``usecols`` keeps only
    those columns (all must exist: check headers first with :func:`read_header`).
    ``floats`` columns (coordinates) are parsed as numbers by the CSV reader itself, which
    is fast; if any value in them is not a number the file is read again with them as
    text, so that :mod:`hotspots.prepare.clean` can name each bad row.

    Returns
    -------
    frame, encoding
    """
    if not path.exists():
        raise InputError(f"{what} not found: {path}")
    if path.stat().st_size == 0:
        raise InputError(f"{path} is empty (0 bytes). Replace it with the full export, or remove it.")
    encodings = [encoding] if encoding else ["utf-8-sig", "cp1252"]
    dtypes: list[Any] = [str]
    select: Any = None
    if usecols is not None:
        # match headers as read_header reports them (spaces and a stray BOM removed)
        wanted = set(usecols)
        select = lambda c: _clean_header(c) in wanted
    if floats:
        raw_header = _raw_header(path, encoding)
        float_cols = [h for h in raw_header if _clean_header(h) in set(floats)]
        dtypes.insert(0, defaultdict(lambda: str, {c: "float64" for c in float_cols}))
    last: Exception | None = None
    for enc in encodings:
        df = None
        for dtype in dtypes:
            try:
                df = pd.read_csv(
                    path,
                    dtype=dtype,
                    keep_default_na=False,
                    na_values=[""],
                    encoding=enc,
                    usecols=select,
                    thousands=thousands,
                    # never take the first column as an index when the first data row is
                    # longer than the header (trailing commas): columns stay aligned
                    index_col=False,
                    low_memory=False,
                )
                break
            except UnicodeDecodeError as exc:
                last = exc
                break
            except pd.errors.EmptyDataError as exc:
                raise InputError(f"{path} has no header and no rows. Replace it with the full export.") from exc
            except pd.errors.ParserError as exc:
                raise InputError(f"{path} could not be parsed as CSV: {exc}") from exc
            except ValueError:
                if dtype is str:
                    raise
                continue  # a coordinate is not a number: read them as text
        if df is None:
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
        df.columns = [_clean_header(c) for c in df.columns]
        return df, enc
    raise InputError(
        f'{path} cannot be decoded as {encodings[0]}: {last}. Set encoding = "..." for this file in the config.'
    )


def _clean_header(name: Any) -> str:
    return str(name).strip().lstrip("\ufeff").strip()


def _raw_header(path: Path, encoding: str | None) -> list[str]:
    """Header names exactly as written (for dtype maps, which pandas matches verbatim)."""
    for enc in [encoding] if encoding else ["utf-8-sig", "cp1252"]:
        try:
            return [str(c) for c in pd.read_csv(path, nrows=0, encoding=enc).columns]
        except UnicodeDecodeError:
            continue
        except (pd.errors.EmptyDataError, pd.errors.ParserError):
            return []
    return []


def read_header(path: Path, *, encoding: str | None = None) -> list[str]:
    """Column names of a CSV (first line only)."""
    if not path.exists():
        raise InputError(f"file not found: {path}")
    if path.stat().st_size == 0:
        raise InputError(f"{path} is empty (0 bytes). Replace it with the full export, or remove it.")
    for enc in [encoding] if encoding else ["utf-8-sig", "cp1252"]:
        try:
            head = pd.read_csv(path, nrows=0, encoding=enc)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError as exc:
            raise InputError(f"{path} has no header and no rows. Replace it with the full export.") from exc
        return [_clean_header(c) for c in head.columns]
    return []


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


def read_vector_file(
    path: Path, *, what: str = "", empty_hint: str = "", crs: str | None = None, crs_hint: str = ""
) -> gpd.GeoDataFrame:
    """Read a file GDAL can read (GeoPackage, GeoJSON, ...), checking it exists, has features and a CRS.

    Parameters
    ----------
    path
        The file.
    what
        What the file holds, for messages (``"LSOA boundaries"`` gives "LSOA boundaries
        file <path> ..."); empty names the file by its path alone.
    empty_hint
        Sentence added to the error for a file with no features (how to fix it).
    crs
        CRS assumed when the file carries none; None makes a missing CRS an error.
    crs_hint
        Clause added to the missing-CRS error (another way to fix it).

    Raises
    ------
    InputError
        The file is missing, unreadable, holds no features, or has no CRS (and ``crs`` is None).
    """
    name = f"{what} file {path}" if what else str(path)
    if not path.exists():
        raise InputError(f"{what + ' ' if what else ''}file not found: {path}")
    try:
        gdf = pyogrio.read_dataframe(path)
    except Exception as exc:  # pyogrio raises several GDAL error types
        raise InputError(f"{name} could not be read as a vector file: {exc}") from exc
    if len(gdf) == 0:
        raise InputError(f"{name} holds no features.{empty_hint}")
    if gdf.crs is None:
        if crs is None:
            raise InputError(f"{name} has no CRS. Save it with a CRS (e.g. EPSG:27700 or EPSG:4326){crs_hint}.")
        gdf = gdf.set_crs(crs)
    return gdf


# --------------------------------------------------------------------------------------
# Crime files
# --------------------------------------------------------------------------------------


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
        files = [Path(p) for p in glob.glob(str(path), recursive=True)]
        files = [f for f in files if f.is_file()]
        if not files:
            raise InputError(f"[[crime]] {source.name!r}: the glob {str(path)!r} matches no files.")
        return sorted(files)
    if path.is_dir():
        if source.format == "police_uk":
            files = sorted(path.rglob("*-street.csv")) + sorted(path.rglob("*-street.csv.gz"))
            what = "*-street.csv files (the data.police.uk layout YYYY-MM/YYYY-MM-<force>-street.csv)"
        else:
            files = [p for p in path.rglob("*") if p.is_file() and _suffix(p) in TABLE_SUFFIXES | VECTOR_SUFFIXES]
            what = "CSV, GeoPackage or GeoJSON files"
        if not files:
            raise InputError(f"[[crime]] {source.name!r}: the folder {path} holds no {what}.")
        return sorted(set(files))
    if path.is_file():
        return [path]
    raise InputError(
        f"[[crime]] {source.name!r}: file or folder not found: {path}. Paths are relative to the config file."
    )


def read_police_uk(path: Path, *, source: str = "police_uk", encoding: str | None = None) -> RawFile:
    """Read one data.police.uk street-level CSV unchanged (optionally gzipped).

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
    frame = _standardise(df)
    names = {v: k for k, v in POLICE_UK_MAP.items()}
    return RawFile(
        path=path, source=source, frame=frame, crs="EPSG:4326", sha256=sha256(path), encoding=enc, columns=names
    )


def _standardise(df: pd.DataFrame) -> pd.DataFrame:
    """Keep :data:`RAW_COLUMNS`, every one a text column (missing values NaN).

    A column the file lacks (or a mapping key left out, which arrives as a float NaN
    column) becomes an all-missing text column, so that every frame has the same
    dtypes and text operations (``fillna("")``, ``.str``) work on all of them.
    Coordinates ``x``/``y`` stay floats when they are floats.
    """
    out = pd.DataFrame(index=df.index)
    for col in RAW_COLUMNS:
        if col in ("x", "y") and col in df.columns and df[col].dtype.kind == "f":
            out[col] = df[col]
        elif col not in df.columns:
            out[col] = pd.Series(np.nan, index=df.index, dtype="str")
        elif df[col].dtype != "str":
            values = df[col]
            out[col] = values.astype("str").where(values.notna())
        else:
            out[col] = df[col]
    return out.reset_index(drop=True)


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
    columns
        Which column holds the id, month, date, time, x, y, crime type, offence code,
        LSOA code and location. For vector files the geometry gives x and y.
    crs
        CRS of ``x``/``y`` in a CSV; vector files carry their own.
    crime_type
        Category for every row when the file has no crime-type column.
    """
    mapping = {
        "id": columns.id,
        "month": columns.month,
        "date": columns.date,
        "crime_type": columns.crime_type,
        "offence_code": columns.offence_code,
        "lsoa_code": columns.lsoa_code,
        "location": columns.location,
    }
    suffix = _suffix(path)
    enc = "utf-8"
    if suffix in VECTOR_SUFFIXES:
        gdf = read_vector_file(path, empty_hint=" Replace it with the full export, or remove it.")
        found = [c for c in gdf.columns if c != gdf.geometry.name]
        need = [c for c in mapping.values() if c]
        require_columns(path, found, need, hint=" Fix the [crime.columns] mapping in the config.")
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
        file_crs = gdf.crs.to_string()
        table = False
        names = {k: v for k, v in mapping.items() if v}
        names.update({"x": f"{gdf.geometry.name} x", "y": f"{gdf.geometry.name} y"})
    elif suffix in TABLE_SUFFIXES:
        header = read_header(path, encoding=encoding)
        need = [c for c in [*mapping.values(), columns.x, columns.y, columns.time] if c]
        if not (columns.x and columns.y):
            raise InputError(
                f"{path}: a CSV point file needs columns.x and columns.y in the config "
                '(longitude/latitude, or easting/northing with crs = "EPSG:27700").'
            )
        require_columns(path, header, need, hint=" Fix the [crime.columns] mapping in the config.")
        raw, enc = read_table(path, encoding=encoding, usecols=sorted(set(need)), floats=[columns.x, columns.y])
        df = pd.DataFrame({k: (raw[v] if v else np.nan) for k, v in mapping.items()}, index=raw.index)
        df["x"] = raw[columns.x]
        df["y"] = raw[columns.y]
        if columns.time and columns.date:
            df["date"] = raw[columns.date].str.strip() + " " + raw[columns.time].fillna("").str.strip()
        file_crs = crs
        table = True
        names = {k: v for k, v in mapping.items() if v}
        names.update({"x": columns.x, "y": columns.y})
    else:
        raise InputError(f"{path}: unknown file type {suffix!r}. Use CSV (.csv, .csv.gz), GeoPackage or GeoJSON.")
    if crime_type is not None and columns.crime_type is None:
        df["crime_type"] = crime_type
    frame = _standardise(df)
    return RawFile(
        path=path,
        source=source,
        frame=frame,
        crs=file_crs,
        sha256=sha256(path),
        encoding=enc,
        columns=names,
        table=table,
    )


def read_crime_source(source: CrimeSource) -> list[RawFile]:
    """Read every file of one ``[[crime]]`` source."""
    out = []
    for path in find_crime_files(source):
        if source.format == "police_uk":
            rf = read_police_uk(path, source=source.name, encoding=source.encoding)
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


# --------------------------------------------------------------------------------------
# Boundaries
# --------------------------------------------------------------------------------------


def read_vector(path: Path, *, what: str, columns: list[str] | None = None) -> gpd.GeoDataFrame:
    """Read a polygon file GDAL can read, check its columns, repair invalid polygons, reproject to BNG.

    Invalid polygons are repaired with ``shapely.make_valid`` and reported in a warning
    naming the feature; empty or missing geometries are an error.
    """
    gdf = read_vector_file(path, what=what)
    if columns:
        require_columns(path, [str(c) for c in gdf.columns], columns, hint=" Fix the column names in [boundaries].")
    missing = gdf.geometry.isna() | gdf.geometry.is_empty
    if missing.any():
        i = int(np.flatnonzero(missing.to_numpy())[0])
        label = f" ({columns[0]} {gdf.iloc[i][columns[0]]!r})" if columns else ""
        raise InputError(f"{what} file {path}: feature {i + 1}{label} has no geometry. Remove it or fix the geometry.")
    invalid = ~gdf.geometry.is_valid
    if invalid.any():
        idx = np.flatnonzero(invalid.to_numpy())
        reasons = shapely.is_valid_reason(gdf.geometry.values[idx[:3]])
        labels = [
            f"feature {i + 1}" + (f" ({columns[0]} {gdf.iloc[i][columns[0]]!r})" if columns else "") for i in idx[:3]
        ]
        warnings.warn(
            f"{what} file {path}: {len(idx)} invalid polygon(s) repaired with make_valid "
            f"(first: {', '.join(f'{lab}: {r}' for lab, r in zip(labels, reasons, strict=False))}).",
            HotspotsWarning,
            stacklevel=2,
        )
        geom = shapely.make_valid(gdf.geometry.values)
        # keep polygonal parts only
        geom = np.array([_polygonal(g) for g in geom], dtype=object)
        gdf = gdf.set_geometry(gpd.GeoSeries(geom, index=gdf.index, crs=gdf.crs))
    return gdf.to_crs(C.CRS)


def _polygonal(g: Any) -> Any:
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    if g.geom_type == "GeometryCollection":
        polys = [p for p in g.geoms if p.geom_type in ("Polygon", "MultiPolygon")]
        return shapely.union_all(polys) if polys else g
    return g


def read_lsoa_boundaries(cfg: BoundariesConfig) -> gpd.GeoDataFrame:
    """LSOA polygons with columns ``lsoa_code``, ``lsoa_name`` (plus ``district`` when present), EPSG:27700."""
    gdf = read_vector(cfg.lsoa, what="LSOA boundaries", columns=[cfg.lsoa_code_column, cfg.lsoa_name_column])
    out = gpd.GeoDataFrame(
        {
            C.LSOA_CODE: gdf[cfg.lsoa_code_column].astype(str).str.strip(),
            C.LSOA_NAME: gdf[cfg.lsoa_name_column].astype(str),
        },
        geometry=gdf.geometry.values,
        crs=C.CRS,
    )
    for code_col, name_col in (("LAD19CD", "LAD19NM"), ("LAD11CD", "LAD11NM"), ("LAD22CD", "LAD22NM")):
        if code_col in gdf.columns and name_col in gdf.columns:
            out[C.DISTRICT_CODE] = gdf[code_col].astype(str).to_numpy()
            out[C.DISTRICT] = gdf[name_col].astype(str).to_numpy()
            break
    dup = out[C.LSOA_CODE].duplicated()
    if dup.any():
        raise InputError(
            f"LSOA boundaries {cfg.lsoa}: code {out[C.LSOA_CODE][dup].iloc[0]!r} appears more than once "
            f"(column {cfg.lsoa_code_column!r}). Dissolve or deduplicate the polygons."
        )
    return out


def read_districts(cfg: BoundariesConfig) -> gpd.GeoDataFrame | None:
    """District polygons with ``district_code``, ``district`` (or None when not configured)."""
    if cfg.districts is None:
        return None
    gdf = read_vector(
        cfg.districts, what="district boundaries", columns=[cfg.district_code_column, cfg.district_name_column]
    )
    return gpd.GeoDataFrame(
        {
            C.DISTRICT_CODE: gdf[cfg.district_code_column].astype(str),
            C.DISTRICT: gdf[cfg.district_name_column].astype(str),
        },
        geometry=gdf.geometry.values,
        crs=C.CRS,
    )


def read_wards(cfg: BoundariesConfig) -> gpd.GeoDataFrame | None:
    """Ward polygons with ``ward_code``, ``ward_name`` (or None when not configured)."""
    if cfg.wards is None:
        return None
    gdf = read_vector(cfg.wards, what="ward boundaries", columns=[cfg.ward_code_column, cfg.ward_name_column])
    return gpd.GeoDataFrame(
        {C.WARD_CODE: gdf[cfg.ward_code_column].astype(str), C.WARD_NAME: gdf[cfg.ward_name_column].astype(str)},
        geometry=gdf.geometry.values,
        crs=C.CRS,
    )


# --------------------------------------------------------------------------------------
# Deprivation (IoD2019)
# --------------------------------------------------------------------------------------

IOD_FILE2 = {
    "LSOA code (2011)": C.LSOA_CODE,
    "LSOA name (2011)": "iod_lsoa_name",
    "Local Authority District code (2019)": "lad19_code",
    "Local Authority District name (2019)": "lad19_name",
    "Index of Multiple Deprivation (IMD) Rank": "imd_rank",
    "Index of Multiple Deprivation (IMD) Decile": "imd_decile",
    "Income Rank": "income_rank",
    "Income Decile": "income_decile",
    "Employment Rank": "employment_rank",
    "Employment Decile": "employment_decile",
    "Education, Skills and Training Rank": "education_rank",
    "Education, Skills and Training Decile": "education_decile",
    "Health Deprivation and Disability Rank": "health_rank",
    "Health Deprivation and Disability Decile": "health_decile",
    "Crime Rank": "crime_rank",
    "Crime Decile": "crime_decile",
    "Barriers to Housing and Services Rank": "barriers_rank",
    "Barriers to Housing and Services Decile": "barriers_decile",
    "Living Environment Rank": "living_env_rank",
    "Living Environment Decile": "living_env_decile",
}
"""IoD2019 File 2 header prefixes (text before " (where ...)") and our column names."""

IOD_FILE6 = {
    "LSOA code (2011)": C.LSOA_CODE,
    "Total population: mid 2015": C.POPULATION,
    "Dependent Children aged 0-15": C.CHILDREN_0_15,
    "Population aged 16-59": "pop_16_59",
    "Older population aged 60 and over": "pop_60_plus",
    "Working age population 18-59/64": "working_age",
}

IOD_SUBDOMAINS = {
    "lsoa11_code": C.LSOA_CODE,
    "Children_and_young_people_rank": C.CYP_RANK,
    "Children_and_young_people_decile": C.CYP_DECILE,
    "Adult_skills_rank": "adult_skills_rank",
    "Geographical_barriers_rank": "geographical_barriers_rank",
    "Wider_barriers_rank": "wider_barriers_rank",
    "Indoors_rank": "indoors_rank",
    "Outdoors_rank": "outdoors_rank",
}

IOD_INDICATORS = {
    "lsoa11_code": C.LSOA_CODE,
    "income_deprivation_affecting_children_index_idaci_numerator": C.IDACI_NUMERATOR,
    "income_domain_numerator": "income_numerator",
}


def _match_headers(path: Path, header: list[str], wanted: dict[str, str], required: list[str]) -> dict[str, str]:
    """Map actual headers to our names by prefix (IoD headers end in long explanations)."""
    found: dict[str, str] = {}
    for prefix, name in wanted.items():
        hits = [h for h in header if h == prefix or h.startswith(prefix + " ") or h.startswith(prefix + ":")]
        if hits:
            found[hits[0]] = name
        elif prefix in required:
            require_columns(path, header, [prefix], hint=" Is this the right IoD2019 file?")
    return found


def _read_iod_table(path: Path, wanted: dict[str, str], required: list[str]) -> pd.DataFrame:
    header = read_header(path)
    mapping = _match_headers(path, header, wanted, required)
    df, _ = read_table(path, usecols=list(mapping), thousands=",")
    df = df.rename(columns=mapping)
    for col in df.columns:
        if col.endswith(("_rank", "_decile")) or col in (
            C.POPULATION,
            C.CHILDREN_0_15,
            "pop_16_59",
            "pop_60_plus",
            "working_age",
            C.IDACI_NUMERATOR,
            "income_numerator",
        ):
            vals = df[col].str.replace(",", "", regex=False).str.strip()
            num = pd.to_numeric(vals, errors="coerce")
            bad = num.isna() & vals.notna()
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise InputError(f"{path}: row {i + 1}, column {col!r}: {vals.iloc[i]!r} is not a number.")
            df[col] = num
    dup = df[C.LSOA_CODE].duplicated()
    if dup.any():
        raise InputError(f"{path}: LSOA code {df[C.LSOA_CODE][dup].iloc[0]!r} appears more than once.")
    return df


def read_deprivation(cfg: DeprivationConfig) -> pd.DataFrame:
    """IoD2019 for every LSOA in the files (England-wide when given the full files).

    Returns one row per LSOA 2011 code with ``imd_rank``, ``imd_decile``,
    ``<domain>_rank``/``_decile`` for the seven domains, ``lad19_code``,
    ``lad19_name``, ``population``, ``children_0_15`` and, when configured,
    ``cyp_rank``/``cyp_decile`` and ``idaci_numerator`` (NaN where suppressed).
    """
    ranks = _read_iod_table(cfg.domains, IOD_FILE2, ["LSOA code (2011)", "Index of Multiple Deprivation (IMD) Rank"])
    pop = _read_iod_table(cfg.population, IOD_FILE6, ["LSOA code (2011)", "Total population: mid 2015"])
    df = ranks.merge(pop, on=C.LSOA_CODE, how="left", validate="1:1")
    if cfg.subdomains is not None:
        sub = _read_iod_table(cfg.subdomains, IOD_SUBDOMAINS, ["lsoa11_code", "Children_and_young_people_rank"])
        df = df.merge(sub, on=C.LSOA_CODE, how="left", validate="1:1")
    if cfg.indicators is not None:
        ind = _read_iod_table(
            cfg.indicators,
            IOD_INDICATORS,
            ["lsoa11_code", "income_deprivation_affecting_children_index_idaci_numerator"],
        )
        df = df.merge(ind, on=C.LSOA_CODE, how="left", validate="1:1")
    return df


# --------------------------------------------------------------------------------------
# Venues
# --------------------------------------------------------------------------------------

OPEN_PUBS_COLUMNS = ["fas_id", "name", "address", "postcode", "easting", "northing", "latitude", "longitude"]


def read_venues(cfg: VenuesConfig) -> RawFile:
    r"""Read NTE venues into a :class:`RawFile` whose frame has ``id, name, address, postcode, x, y``.

    Open Pubs (``format = "open_pubs"``) uses longitude/latitude (``\\N`` marks a missing
    value); a generic point file uses ``columns`` (``id``, ``name``, ``address``,
    ``postcode``, ``x``, ``y``).
    """
    if cfg.format == "open_pubs":
        header = read_header(cfg.path, encoding=cfg.encoding)
        require_columns(cfg.path, header, ["fas_id", "name", "latitude", "longitude"], hint=" (Open Pubs format)")
        use = [c for c in OPEN_PUBS_COLUMNS if c in header]
        df, enc = read_table(cfg.path, encoding=cfg.encoding, usecols=use)
        df = df.replace({"\\N": np.nan})
        frame = pd.DataFrame(
            {
                "id": df["fas_id"],
                "name": df["name"],
                "address": df.get("address", pd.Series(np.nan, index=df.index)),
                "postcode": df.get("postcode", pd.Series(np.nan, index=df.index)),
                "x": df["longitude"],
                "y": df["latitude"],
            }
        )
        return RawFile(
            cfg.path,
            "venues",
            frame,
            "EPSG:4326",
            sha256(cfg.path),
            enc,
            columns={"id": "fas_id", "x": "longitude", "y": "latitude"},
        )
    cols = cfg.columns
    suffix = _suffix(cfg.path)
    if suffix in VECTOR_SUFFIXES:
        gdf = read_vector_file(cfg.path, what="venues")
        get = lambda c: gdf[c].astype(str).where(gdf[c].notna()) if c else np.nan
        frame = pd.DataFrame(
            {"id": get(cols.id), "name": get(cols.name), "address": get(cols.address), "postcode": get(cols.postcode)}
        )
        frame["x"] = shapely.get_x(gdf.geometry.values)
        frame["y"] = shapely.get_y(gdf.geometry.values)
        return RawFile(
            cfg.path,
            "venues",
            frame,
            gdf.crs.to_string(),
            sha256(cfg.path),
            "utf-8",
            columns={"x": f"{gdf.geometry.name} x", "y": f"{gdf.geometry.name} y"},
            table=False,
        )
    if not (cols.x and cols.y and cols.name):
        raise InputError(f"{cfg.path}: a CSV venue file needs columns.x, columns.y and columns.name in [venues].")
    header = read_header(cfg.path, encoding=cfg.encoding)
    need = [c for c in (cols.id, cols.name, cols.address, cols.postcode, cols.x, cols.y) if c]
    require_columns(cfg.path, header, need, hint=" Fix the [venues.columns] mapping.")
    df, enc = read_table(cfg.path, encoding=cfg.encoding, usecols=need)
    get2 = lambda c: df[c] if c else np.nan
    frame = pd.DataFrame(
        {
            "id": get2(cols.id),
            "name": df[cols.name],
            "address": get2(cols.address),
            "postcode": get2(cols.postcode),
            "x": df[cols.x],
            "y": df[cols.y],
        }
    )
    return RawFile(
        cfg.path,
        "venues",
        frame,
        cfg.crs,
        sha256(cfg.path),
        enc,
        columns={"id": cols.id or "id", "x": cols.x, "y": cols.y},
    )
