"""The frame every point reader returns (:class:`RawFile`): standardised text columns, untouched values."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

RAW_COLUMNS = ["id", "month", "date", "x", "y", "crime_type", "offence_code", "lsoa_code", "location"]
"""Standardised columns of a :class:`RawFile` frame (all text, NaN where absent)."""


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
    notes
        Remarks made while reading.
    columns
        The file's own name for each standardised column (e.g. ``{"x": "Longitude"}``), for messages.
    table
        True for a text table (rows are lines after the header), False for a vector file (features).
    fix
        How to change the CRS of this file's coordinates in the config (for messages), e.g.
        ``'set crs = "EPSG:27700" in [[crime]] "police_uk"'``; empty when the CRS comes from the file.
    """

    path: Path
    source: str
    frame: pd.DataFrame
    crs: str
    sha256: str
    encoding: str = "utf-8"
    notes: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    table: bool = True
    fix: str = ""

    def column(self, name: str) -> str:
        """The file's own header for standardised column ``name`` (``name`` itself when unknown)."""
        return self.columns.get(name, name)

    def row_label(self, i: int) -> str:
        """Human label of 0-based data row ``i``: ``"row 4 (line 5)"`` for a table, ``"feature 4"`` otherwise."""
        return f"row {i + 1} (line {i + 2})" if self.table else f"feature {i + 1}"


def standardise(df: pd.DataFrame) -> pd.DataFrame:
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
