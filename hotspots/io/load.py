"""Read every input file: the only stage that touches the disk for reading.

Readers return plain frames with standardised column names (see :class:`RawFile`);
:mod:`hotspots.prepare.clean` turns them into the canonical incident frame. Whole-file problems
(missing file, a folder given as a file, empty file, header only, missing or renamed column,
wrong encoding, a ``.gz`` file that is not gzip, swapped or projected coordinates) raise
:class:`~hotspots.errors.InputError` naming the file and column and how to fix it; problems
with single rows are left to ``clean``, which drops them with a reason.

The readers live in :mod:`hotspots.io.tables` (CSV), :mod:`hotspots.io.vector`
(boundaries), :mod:`hotspots.io.crime` (police.uk and point files), :mod:`hotspots.io.iod`
and :mod:`hotspots.io.iod2025` (deprivation); this module adds the deprivation and venue
entry points and names them all in one place.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from hotspots.errors import InputError
from hotspots.io.config import DeprivationConfig, VenuesConfig
from hotspots.io.crime import (
    POLICE_UK_COLUMNS,
    POLICE_UK_MAP,
    POLICE_UK_REQUIRED,
    find_crime_files,
    read_crime_source,
    read_points,
    read_police_uk,
)
from hotspots.io.iod import IOD2019, IOD2025, IodVintage, detect_vintage, national_n, read_iod2019, vintage_of
from hotspots.io.iod2025 import read_iod2025_file7
from hotspots.io.raw import RAW_COLUMNS, RawFile, standardise
from hotspots.io.tables import (
    TABLE_SUFFIXES,
    VECTOR_SUFFIXES,
    read_header,
    read_table,
    require_columns,
    sha256,
    suffix,
)
from hotspots.io.vector import (
    read_districts,
    read_lsoa_boundaries,
    read_lsoa_codes,
    read_vector,
    read_vector_file,
    read_wards,
)

__all__ = [
    "IOD2019",
    "IOD2025",
    "OPEN_PUBS_COLUMNS",
    "POLICE_UK_COLUMNS",
    "POLICE_UK_MAP",
    "POLICE_UK_REQUIRED",
    "RAW_COLUMNS",
    "TABLE_SUFFIXES",
    "VECTOR_SUFFIXES",
    "IodVintage",
    "RawFile",
    "absent_from",
    "detect_vintage",
    "find_crime_files",
    "national_n",
    "read_crime_source",
    "read_deprivation",
    "read_districts",
    "read_header",
    "read_iod2025_file7",
    "read_lsoa_boundaries",
    "read_lsoa_codes",
    "read_points",
    "read_police_uk",
    "read_table",
    "read_vector",
    "read_vector_file",
    "read_venues",
    "read_wards",
    "require_columns",
    "sha256",
    "standardise",
    "suffix",
    "vintage_of",
]


# --------------------------------------------------------------------------------------
# Deprivation
# --------------------------------------------------------------------------------------


def read_deprivation(cfg: DeprivationConfig) -> pd.DataFrame:
    """The English Indices of Deprivation for every LSOA in the files, IoD2019 or IoD2025 (from the file).

    Returns one row per LSOA with ``lsoa_code``, ``imd_rank``, ``imd_decile``,
    ``<domain>_rank``/``_decile`` for the seven domains, ``population``, ``children_0_15``,
    ``iod_vintage`` (2019 or 2025) and, where available, ``cyp_rank``/``cyp_decile`` and the
    youth income deprivation: ``idaci_numerator`` (IoD2019 indicators; NaN where suppressed)
    or ``idaci_rate`` (IoD2025, the official rate). IoD2019 adds ``lad19_code``/``lad19_name``;
    IoD2025 ``lad_code``/``lad_name`` (2024 districts) and every score.
    ``attrs["absent"]`` maps ``"subdomains"``/``"indicators"`` to the File 2 LSOA codes the
    optional file has no row for (see :func:`absent_from`).

    Raises
    ------
    InputError
        A file is unusable or of the wrong vintage, a column is missing, a value is not a
        number, an LSOA repeats, or IoD2019 File 2 is given without File 6.
    """
    vintage = detect_vintage(read_header(cfg.domains), path=cfg.domains)
    if vintage is IOD2019:
        return read_iod2019(cfg)
    extras = [k for k in ("population", "subdomains", "indicators") if getattr(cfg, k) is not None]
    if extras:
        raise InputError(
            f"[deprivation] domains {cfg.domains} is IoD2025 File 7, which carries the population, sub-domains and "
            f"the IDACI rate itself: remove {', '.join(extras)} from [deprivation] (they are IoD2019 files)."
        )
    return read_iod2025_file7(cfg.domains)


def absent_from(deprivation: pd.DataFrame, codes: list[str]) -> dict[str, list[str]]:
    """For each optional IoD2019 file, the ``codes`` it has no row for (empty for IoD2025 File 7)."""
    out = {}
    for role, missing in deprivation.attrs.get("absent", {}).items():
        hit = [c for c in codes if c in missing]
        if hit:
            out[role] = hit
    return out


# --------------------------------------------------------------------------------------
# Venues
# --------------------------------------------------------------------------------------

OPEN_PUBS_COLUMNS = ["fas_id", "name", "address", "postcode", "easting", "northing", "latitude", "longitude"]
_VENUE_FIX = "set crs in [venues]"


def _open_pubs(cfg: VenuesConfig) -> RawFile:
    header = read_header(cfg.path, encoding=cfg.encoding)
    require_columns(cfg.path, header, ["fas_id", "name", "latitude", "longitude"], hint=" (Open Pubs format)")
    use = [c for c in OPEN_PUBS_COLUMNS if c in header]
    df, enc = read_table(cfg.path, encoding=cfg.encoding, usecols=use)
    df = df.replace({"\\N": np.nan})
    missing = pd.Series(np.nan, index=df.index)
    frame = pd.DataFrame(
        {
            "id": df["fas_id"],
            "name": df["name"],
            "address": df.get("address", missing),
            "postcode": df.get("postcode", missing),
            "x": df["longitude"],
            "y": df["latitude"],
        }
    )
    names = {"id": "fas_id", "x": "longitude", "y": "latitude"}
    return RawFile(cfg.path, "venues", frame, "EPSG:4326", sha256(cfg.path), enc, columns=names)


def _vector_venues(cfg: VenuesConfig) -> RawFile:
    cols = cfg.columns
    gdf = read_vector_file(cfg.path, what="venues")

    def get(c: str | None) -> object:
        return gdf[c].astype(str).where(gdf[c].notna()) if c else np.nan

    frame = pd.DataFrame(
        {"id": get(cols.id), "name": get(cols.name), "address": get(cols.address), "postcode": get(cols.postcode)}
    )
    frame["x"] = shapely.get_x(gdf.geometry.values)
    frame["y"] = shapely.get_y(gdf.geometry.values)
    names = {"x": f"{gdf.geometry.name} x", "y": f"{gdf.geometry.name} y"}
    return RawFile(
        cfg.path, "venues", frame, gdf.crs.to_string(), sha256(cfg.path), "utf-8", columns=names, table=False
    )


def _table_venues(cfg: VenuesConfig) -> RawFile:
    cols = cfg.columns
    if not (cols.x and cols.y and cols.name):
        raise InputError(f"{cfg.path}: a CSV venue file needs columns.x, columns.y and columns.name in [venues].")
    header = read_header(cfg.path, encoding=cfg.encoding)
    need = [c for c in (cols.id, cols.name, cols.address, cols.postcode, cols.x, cols.y) if c]
    require_columns(cfg.path, header, need, hint=" Fix the [venues.columns] mapping.")
    df, enc = read_table(cfg.path, encoding=cfg.encoding, usecols=need)

    def get(c: str | None) -> object:
        return df[c] if c else np.nan

    frame = pd.DataFrame(
        {
            "id": get(cols.id),
            "name": df[cols.name],
            "address": get(cols.address),
            "postcode": get(cols.postcode),
            "x": df[cols.x],
            "y": df[cols.y],
        }
    )
    names = {"id": cols.id or "id", "x": cols.x, "y": cols.y}
    return RawFile(cfg.path, "venues", frame, cfg.crs, sha256(cfg.path), enc, columns=names, fix=_VENUE_FIX)


def read_venues(cfg: VenuesConfig) -> RawFile:
    r"""Read NTE venues into a :class:`RawFile` whose frame has ``id, name, address, postcode, x, y``.

    Open Pubs (``format = "open_pubs"``) uses longitude/latitude (``\\N`` marks a missing
    value); a generic point file uses ``columns`` (``id``, ``name``, ``address``,
    ``postcode``, ``x``, ``y``).
    """
    if cfg.format == "open_pubs":
        return _open_pubs(cfg)
    if suffix(Path(cfg.path)) in VECTOR_SUFFIXES:
        return _vector_venues(cfg)
    return _table_venues(cfg)
