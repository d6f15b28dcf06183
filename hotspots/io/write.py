"""Writers: the only code that writes the run folder (besides the maps/report writers)."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd


def jsonable(v: Any) -> Any:
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


def write_json(data: Any, path: Path) -> Path:
    """Write JSON (NaN becomes null; numpy types become plain numbers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(jsonable(data), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """Write a CSV (UTF-8, no index); a GeoDataFrame loses its geometry column."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(df, gpd.GeoDataFrame):
        df = pd.DataFrame(df.drop(columns=df.geometry.name))
    df.to_csv(path, index=False, encoding="utf-8")
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
