"""Vector files: boundaries (LSOAs, districts, wards) and any file GDAL reads.

The LSOA boundaries define the study area. A national file (the bundled England & Wales
``data/boundaries/lsoa2011_bsc_ew.fgb.zip``, 34,753 LSOAs) is read with an attribute filter
(``[boundaries] filter_column`` / ``filter_values``), which GDAL applies while reading, so
only the force's LSOAs are decoded. Zipped files are read in place.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from hotspots import columns as C
from hotspots.errors import HotspotsWarning, InputError
from hotspots.io.config import BoundariesConfig
from hotspots.io.tables import require_columns
from hotspots.validate import folder_message

LSOA_CODE_RE = re.compile(r"^[EW]01\d{6}$")
"""An LSOA code of England (E01) or Wales (W01), 2011 or 2021."""

_MOSTLY = 0.9
"""Share of a column's values that must look like LSOA codes (or names) for it to be suggested."""

DISTRICT_COLUMNS = [(f"LAD{y}CD", f"LAD{y}NM") for y in ("19", "24", "23", "22", "21", "20", "11")]
"""District code and name columns taken from an LSOA file when it carries them (first found wins)."""


def read_vector_file(
    path: Path,
    *,
    what: str = "",
    empty_hint: str = "",
    crs: str | None = None,
    crs_hint: str = "",
    where: str | None = None,
    columns: list[str] | None = None,
) -> gpd.GeoDataFrame:
    """Read a file GDAL can read (GeoPackage, GeoJSON, FlatGeobuf, zipped), checking it has features and a CRS.

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
    where
        OGR SQL attribute filter applied while reading (see :func:`filter_sql`).
    columns
        Attributes to read (default all).

    Raises
    ------
    InputError
        The file is missing, a folder, unreadable, holds no features, or has no CRS (and ``crs`` is None).
    """
    name = f"{what} file {path}" if what else str(path)
    if path.is_dir():
        raise InputError(folder_message(path, f"{what} file" if what else "file"))
    if not path.exists():
        raise InputError(f"{what + ' ' if what else ''}file not found: {path}")
    try:
        gdf = pyogrio.read_dataframe(path, where=where, columns=columns)
    except Exception as exc:  # pyogrio raises several GDAL error types
        raise InputError(f"{name} could not be read as a vector file: {exc}") from exc
    if len(gdf) == 0:
        raise InputError(f"{name} holds no features.{empty_hint}")
    if gdf.crs is None:
        if crs is None:
            raise InputError(f"{name} has no CRS. Save it with a CRS (e.g. EPSG:27700 or EPSG:4326){crs_hint}.")
        gdf = gdf.set_crs(crs)
    return gdf


def vector_fields(path: Path, what: str) -> list[str]:
    """Attribute names of a vector file (no feature is read)."""
    if path.is_dir():
        raise InputError(folder_message(path, f"{what} file"))
    try:
        return [str(f) for f in pyogrio.read_info(path)["fields"]]
    except Exception as exc:  # pyogrio raises several GDAL error types
        raise InputError(f"{what} file {path} could not be read as a vector file: {exc}") from exc


def filter_sql(column: str, values: Sequence[str]) -> str:
    r"""OGR SQL ``WHERE`` clause keeping features whose ``column`` is one of ``values``.

    Examples
    --------
    >>> filter_sql("LAD19CD", ["E06000018", "O'Brien"])
    '"LAD19CD" IN (\'E06000018\', \'O\'\'Brien\')'
    """
    if '"' in column:
        raise InputError(f"[boundaries] filter_column {column!r} must not contain a double quote.")
    quoted = ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)
    return f'"{column}" IN ({quoted})'


def read_subset(path: Path, *, column: str, values: Sequence[str], what: str = "LSOA boundaries") -> gpd.GeoDataFrame:
    """Read the features of a vector file whose ``column`` is one of ``values``.

    Every value must match at least one feature, so a mistyped district code is an error,
    not a silently smaller area.

    Raises
    ------
    InputError
        The file is missing or unreadable, ``column`` is not one of its attributes,
        ``values`` is empty, or some values match no feature (they are listed).
    """
    wanted = [str(v).strip() for v in values]
    if not wanted:
        raise InputError(f"{what} {path}: [boundaries] filter_values lists no values; list at least one.")
    fields = vector_fields(path, what)
    if column not in fields:
        raise InputError(
            f"{what} file {path}: no attribute {column!r} to filter on ([boundaries] filter_column). "
            f"Attributes: {', '.join(map(repr, fields))}."
        )
    gdf = read_vector_file(path, what=what, where=filter_sql(column, wanted))
    found = set(gdf[column].astype(str))
    unmatched = [v for v in dict.fromkeys(wanted) if v not in found]
    if unmatched:
        raise InputError(
            f"{what} file {path}: {len(unmatched)} value(s) of [boundaries] filter_values match no {column!r}: "
            f"{', '.join(map(repr, unmatched[:10]))}. Correct or remove them (for district filters, LAD 2019 "
            "codes such as 'E06000018'; `hotspots init` writes the right list)."
        )
    return gdf


def _polygonal(g: Any) -> Any:
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    if g.geom_type == "GeometryCollection":
        polys = [p for p in g.geoms if p.geom_type in ("Polygon", "MultiPolygon")]
        return shapely.union_all(polys) if polys else g
    return g


def repair_polygons(gdf: gpd.GeoDataFrame, path: Path, *, what: str, label: str | None = None) -> gpd.GeoDataFrame:
    """Check geometries and repair invalid polygons (``make_valid``, polygonal parts kept), reprojected to BNG.

    Invalid polygons are reported in a warning naming the feature (by ``label`` column);
    empty or missing geometries are an error.
    """
    missing = gdf.geometry.isna() | gdf.geometry.is_empty
    if missing.any():
        i = int(np.flatnonzero(missing.to_numpy())[0])
        shown = f" ({label} {gdf.iloc[i][label]!r})" if label else ""
        raise InputError(f"{what} file {path}: feature {i + 1}{shown} has no geometry. Remove it or fix the geometry.")
    invalid = ~gdf.geometry.is_valid
    if invalid.any():
        idx = np.flatnonzero(invalid.to_numpy())
        reasons = shapely.is_valid_reason(gdf.geometry.values[idx[:3]])
        labels = [f"feature {i + 1}" + (f" ({label} {gdf.iloc[i][label]!r})" if label else "") for i in idx[:3]]
        warnings.warn(
            f"{what} file {path}: {len(idx)} invalid polygon(s) repaired with make_valid "
            f"(first: {', '.join(f'{lab}: {r}' for lab, r in zip(labels, reasons, strict=False))}).",
            HotspotsWarning,
            stacklevel=3,
        )
        geom = np.array([_polygonal(g) for g in shapely.make_valid(gdf.geometry.values)], dtype=object)
        gdf = gdf.set_geometry(gpd.GeoSeries(geom, index=gdf.index, crs=gdf.crs))
    return gdf.to_crs(C.CRS)


def read_vector(path: Path, *, what: str, columns: list[str] | None = None) -> gpd.GeoDataFrame:
    """Read a polygon file GDAL can read, check its columns, repair invalid polygons, reproject to BNG."""
    gdf = read_vector_file(path, what=what)
    if columns:
        require_columns(path, [str(c) for c in gdf.columns], columns, hint=" Fix the column names in [boundaries].")
    return repair_polygons(gdf, path, what=what, label=columns[0] if columns else None)


def _looks_like(values: pd.Series, pattern: re.Pattern[str] | None) -> float:
    """Share of non-missing text values matching ``pattern`` (or, with None, LSOA-name-like values)."""
    text = values.dropna().astype(str).str.strip().head(500)
    if text.empty:
        return 0.0
    if pattern is None:
        return float(text.str.contains(r"\s\d{3}[A-Z]$", regex=True).mean())
    return float(text.str.match(pattern).mean())


def column_advice(gdf: pd.DataFrame, missing: str, key: str, kind: str) -> str:
    """Advice for a missing boundary column: the column that holds such values, else the columns found.

    ``kind`` is ``"code"`` (LSOA codes) or ``"name"`` (LSOA names).
    """
    geom = gdf.geometry.name if isinstance(gdf, gpd.GeoDataFrame) else None
    cols = [str(c) for c in gdf.columns if c != geom]
    pattern = LSOA_CODE_RE if kind == "code" else None
    text = [c for c in cols if not pd.api.types.is_numeric_dtype(gdf[c])]
    hits = [c for c in text if _looks_like(gdf[c], pattern) > _MOSTLY]
    if hits:
        return (
            f"column {missing!r} is missing; column {hits[0]!r} holds LSOA {kind}s: "
            f'set {key} = "{hits[0]}" in [boundaries].'
        )
    return (
        f"column {missing!r} is missing and no column holds LSOA {kind}s "
        f"({'E01/W01 codes' if kind == 'code' else 'names like Camden 001A'}); set {key} in [boundaries] "
        f"to the column that does. Columns found: {', '.join(map(repr, cols))}."
    )


def read_lsoa_boundaries(cfg: BoundariesConfig) -> gpd.GeoDataFrame:
    """LSOA polygons with ``lsoa_code``, ``lsoa_name`` (plus ``district_code``, ``district`` when present), EPSG:27700.

    With ``cfg.filter_column`` set, only the features whose attribute is one of
    ``cfg.filter_values`` are read (see :func:`read_subset`).

    Raises
    ------
    InputError
        The file is unusable, a configured column is missing (the message names the column
        that holds LSOA codes, when one does), a code repeats, or a geometry is missing.
    """
    what = "LSOA boundaries"
    if cfg.filter_column:
        gdf = read_subset(cfg.lsoa, column=cfg.filter_column, values=cfg.filter_values or [], what=what)
    else:
        gdf = read_vector_file(cfg.lsoa, what=what)
    for col, key, kind in (
        (cfg.lsoa_code_column, "lsoa_code_column", "code"),
        (cfg.lsoa_name_column, "lsoa_name_column", "name"),
    ):
        if col not in gdf.columns:
            raise InputError(f"{what} file {cfg.lsoa}: {column_advice(gdf, col, key, kind)}")
    gdf = repair_polygons(gdf, cfg.lsoa, what=what, label=cfg.lsoa_code_column)
    out = gpd.GeoDataFrame(
        {
            C.LSOA_CODE: gdf[cfg.lsoa_code_column].astype(str).str.strip(),
            C.LSOA_NAME: gdf[cfg.lsoa_name_column].astype(str),
        },
        geometry=gdf.geometry.values,
        crs=C.CRS,
    )
    for code_col, name_col in DISTRICT_COLUMNS:
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


def read_lsoa_codes(cfg: BoundariesConfig) -> set[str]:
    """Every LSOA code in the boundary file, filter or not (attributes only: no geometry is read).

    Used to tell a row's LSOA code that lies outside the study area from one that exists
    nowhere (a typo, or a code of another LSOA vintage).
    """
    df = pyogrio.read_dataframe(cfg.lsoa, columns=[cfg.lsoa_code_column], read_geometry=False)
    return set(df[cfg.lsoa_code_column].astype(str).str.strip())


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
