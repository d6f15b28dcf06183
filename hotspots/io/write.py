"""Writers: the only code that writes the run folder (besides the maps/report writers).

Every CSV is written spreadsheet-safe (:func:`spreadsheet_safe`): a text cell that a
spreadsheet would run as a formula is neutralised, following OWASP's advice on CSV
injection, so that a venue named ``=HYPERLINK(...)`` opens in Excel as text.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd


def jsonable(v: object) -> Any:  # noqa: PLR0911 (one return per kind of value); Any: a JSON value callers index
    """``v`` with numpy, pandas, path and dataclass values made plain JSON types (NaN and inf become None)."""
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {f.name: jsonable(getattr(v, f.name)) for f in dataclasses.fields(v)}
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.ndarray):
        return jsonable(v.tolist())
    if isinstance(v, Path):
        return str(v)
    if isinstance(v, pd.DataFrame):
        return jsonable(v.to_dict(orient="records"))
    if isinstance(v, (pd.Timestamp,)):
        return v.isoformat()
    return v


def write_json(data: object, path: Path) -> Path:
    """Write JSON (NaN becomes null; numpy types become plain numbers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(jsonable(data), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet treat a cell as a formula (OWASP, CSV injection)."""


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def neutralise(value: object) -> object:
    """A text cell made safe for spreadsheets: prefixed with ``'`` when it starts like a formula.

    Numbers, and text that is a plain number (``"-0.5"``), are left as they are; so is
    everything that is not text.

    Examples
    --------
    >>> neutralise("=1+2"), neutralise("@SUM(A1)"), neutralise("-0.5"), neutralise("The Crown"), neutralise(-3)
    ("'=1+2", "'@SUM(A1)", '-0.5', 'The Crown', -3)
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _is_number(value):
        return "'" + value
    return value


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text cell neutralised (:func:`neutralise`); number columns untouched."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            # only the cells that start like a formula can change: find them first, and
            # neutralise those alone (most columns have none, and a call per cell was
            # about a second per 100,000 incidents)
            if s.dtype == object:  # may hold non-text values: test each one
                values = s.to_numpy(dtype=object)
                risky = np.fromiter(
                    (isinstance(v, str) and v.startswith(FORMULA_STARTS) for v in values), dtype=bool, count=len(values)
                )
            else:  # a string column: one vectorised test
                risky = s.str.startswith(FORMULA_STARTS).fillna(False).to_numpy(dtype=bool)
            if risky.any():
                values = s.to_numpy(dtype=object).copy()
                values[risky] = [neutralise(v) for v in values[risky]]
                out[col] = pd.Series(values, index=s.index, dtype=s.dtype, name=s.name)
    return out


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """Write a spreadsheet-safe CSV (UTF-8, no index); a GeoDataFrame loses its geometry column."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(df, gpd.GeoDataFrame):
        df = pd.DataFrame(df.drop(columns=df.geometry.name))
    spreadsheet_safe(df).to_csv(path, index=False, encoding="utf-8")
    return path


def write_layer(gdf: gpd.GeoDataFrame, path: Path, layer: str) -> Path:
    """Write (or replace) one layer of a GeoPackage."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = gdf.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        if out[col].dtype == object or str(out[col].dtype).startswith("string"):
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    out.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
    return path
