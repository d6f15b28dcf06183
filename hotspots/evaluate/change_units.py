"""What ``hotspots change`` compares: the sources, the area, its units, and which unit each incident is in.

Every incident is assigned to its unit **by location** in both periods, whatever codes its file
carries: a file with LSOA codes and one without (the bundled 2020 and 2022 robbery files) are then
counted the same way, so a change between them is not an artefact of how each was coded.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.months import format_months, parse_months
from hotspots.prepare.areas import assign_areas
from hotspots.units import assign_cells, choose_cell_size, make_grid
from hotspots.validate import suggest

log = logging.getLogger(__name__)


def sources_in(incidents: pd.DataFrame, months: Sequence[str]) -> set[str]:
    """Sources with at least one incident in ``months``."""
    sel = incidents[C.MONTH].isin(list(months))
    return set(incidents.loc[sel, C.SOURCE].astype(str))


MAX_RUNS = 6
"""Months with data are listed run by run up to this many runs, else as first to last."""


def months_with_data(incidents: pd.DataFrame) -> str:
    """``"the months with data are 2019-09, 2020-01..2020-12"`` (first to last when scattered)."""
    present = incidents[C.MONTH].dropna().astype(str).unique()
    if len(present) == 0:
        return "the data have no months at all"
    runs = format_months(present).split(",")
    if len(runs) > MAX_RUNS:
        return f"the data run from {min(present)} to {max(present)} with gaps"
    return f"the months with data are {', '.join(runs)}"


def choose_sources(
    incidents: pd.DataFrame,
    requested: Sequence[str],
    before: Sequence[str],
    after: Sequence[str],
    *,
    what: str,
    names: tuple[str, str] = ("--before", "--after"),
    how: str = "--source",
    advice: str = "Choose months inside the data.",
) -> tuple[list[str], list[str]]:
    """The sources to pool, and notes about them.

    Parameters
    ----------
    incidents
        Every incident of the study.
    requested
        Source names asked for (``--source`` / ``sources``); empty = every source with data in
        both periods.
    before, after
        The parsed periods.
    what
        How the two periods are named together in messages (``"--before/--after"``).
    names
        How each period is named in messages.
    how
        Where the user names sources (``"--source"``, ``"[change] sources"``), in the advice.
    advice
        What to do when a period has no data in any source.

    Raises
    ------
    InputError
        A requested source is unknown, a period has no data in any source, or (sources not
        named) no source has data in both periods.
    """
    source_names = sorted(incidents[C.SOURCE].astype(str).unique())
    unknown = [s for s in requested if s not in source_names]
    if unknown:
        raise InputError(
            f"unknown source {unknown[0]!r}.{suggest(unknown[0], source_names)} Sources of this study: "
            f"{', '.join(source_names)}."
        )
    in_b, in_a = sources_in(incidents, before), sources_in(incidents, after)
    for name, months, found in ((names[0], before, in_b), (names[1], after, in_a)):
        if not found:
            raise InputError(
                f"{name} ({format_months(list(months))}) has no month with data in any source; "
                f"{months_with_data(incidents)}. {advice}"
            )
    notes: list[str] = []
    if requested:
        chosen = list(dict.fromkeys(requested))
        one_sided = [s for s in chosen if (s in in_b) != (s in in_a)]
        if one_sided:
            notes.append(
                "Source(s) "
                + ", ".join(f"{s} (data only in the {'before' if s in in_b else 'after'} period)" for s in one_sided)
                + ": the periods are compared across different files, so a change may partly reflect how each "
                "file was recorded."
            )
        return chosen, notes
    chosen = sorted(in_b & in_a)
    if not chosen:
        raise InputError(
            f"no source has data in both periods ({what}); name the sources to pool with {how} "
            f"(before: {', '.join(sorted(in_b))}; after: {', '.join(sorted(in_a))})."
        )
    return chosen, notes


def area_districts(
    incidents: pd.DataFrame,
    lsoa: gpd.GeoDataFrame,
    *,
    area: str,
    districts: Sequence[str],
    min_share: float,
    key: str = "[change] key 'districts'",
) -> list[str]:
    """The districts of the area: named, all (``area="study"``), or those holding ``min_share`` of the incidents.

    Incidents' districts are those of their location-assigned LSOA (column ``_unit_lsoa``).
    ``key`` names the setting that lists ``districts`` in messages.
    """
    known = sorted(lsoa[C.DISTRICT].dropna().astype(str).unique()) if C.DISTRICT in lsoa else []
    if districts:
        for d in districts:
            if d not in known:
                raise InputError(f"{key}: unknown district {d!r}.{suggest(d, known)} Districts: {', '.join(known)}.")
        return list(districts)
    if area == "study" or not known:
        return known
    district = incidents["_unit_lsoa"].map(lsoa.set_index(C.LSOA_CODE)[C.DISTRICT])
    share = district.value_counts(normalize=True)
    keep = sorted(share[share >= min_share].index.astype(str))
    if not keep:
        raise InputError(
            f"no district holds {min_share:.0%} of the incidents; lower [change] min_district_share "
            f"or set area = 'study'."
        )
    return keep


def assign_lsoa(incidents: gpd.GeoDataFrame, lsoa: gpd.GeoDataFrame, *, tolerance: float) -> pd.Series:
    """Each incident's LSOA code by location (point in polygon, else nearest within ``tolerance``); None outside."""
    if len(incidents) == 0:
        return pd.Series([], dtype=object, index=incidents.index)
    codes, _ = assign_areas(
        incidents.geometry,
        pd.Series(np.nan, index=incidents.index, dtype=object),
        lsoa,
        tolerance=tolerance,
        code_agreement=float("inf"),
    )
    return codes


@dataclass(frozen=True)
class Units:
    """The units of a change analysis.

    Attributes
    ----------
    frame
        ``unit_id``, ``unit_name`` and geometry (EPSG:27700), one row per unit.
    position
        Row position in ``frame`` of each incident's unit (-1: in no unit), aligned to the incidents.
    kind
        ``"lsoa"``, ``"grid"`` or ``"district"``.
    cell_size
        Grid cell size in metres (None for other units).
    """

    frame: gpd.GeoDataFrame
    position: np.ndarray
    kind: str
    cell_size: float | None = None


def build_units(
    incidents: gpd.GeoDataFrame,
    lsoa: gpd.GeoDataFrame,
    *,
    kind: str,
    cell_size: float | None,
) -> Units:
    """Build the units over the area's LSOAs and place each incident in one.

    Parameters
    ----------
    incidents
        Incidents with ``_unit_lsoa`` (their location-assigned LSOA code).
    lsoa
        The area's LSOAs (``lsoa_code``, ``lsoa_name``, ``district_code``, ``district``, geometry).
    kind
        ``"lsoa"``, ``"grid"`` or ``"district"``.
    cell_size
        Grid cell size (metres); None: the run's automatic rule.
    """
    codes = incidents["_unit_lsoa"]
    if kind == "lsoa":
        frame = gpd.GeoDataFrame(
            {"unit_id": lsoa[C.LSOA_CODE].to_numpy(), "unit_name": lsoa[C.LSOA_NAME].to_numpy()},
            geometry=lsoa.geometry.values,
            crs=C.CRS,
        )
        return Units(frame, pd.Index(frame["unit_id"]).get_indexer(codes), kind)
    if kind == "district":
        parts = [
            {
                "unit_id": str(g[C.DISTRICT_CODE].iloc[0]),
                "unit_name": str(name),
                "geometry": shapely.union_all(g.geometry.values),
            }
            for name, g in lsoa.groupby(C.DISTRICT, sort=True)
        ]
        frame = gpd.GeoDataFrame(parts, geometry="geometry", crs=C.CRS)
        district = codes.map(lsoa.set_index(C.LSOA_CODE)[C.DISTRICT])
        return Units(frame, pd.Index(frame["unit_name"]).get_indexer(district), kind)
    area = shapely.union_all(lsoa.geometry.values)
    size = cell_size if cell_size is not None else choose_cell_size(incidents, area)
    grid = make_grid(area, cell_size=size)
    ids = grid[C.CELL_ID].to_numpy()
    frame = gpd.GeoDataFrame(
        {"unit_id": ids, "unit_name": [f"cell {i}" for i in ids]}, geometry=grid.geometry.values, crs=C.CRS
    )
    frame.attrs["grid"] = grid.attrs["grid"]
    return Units(frame, assign_cells(incidents, grid), kind, float(size))


def check_cli_months(before: str | None, after: str | None) -> None:
    """Check ``--before``/``--after`` as typed (so a mistake names the option, not the config key)."""
    if before is not None:
        parse_months(before, what="--before")
    if after is not None:
        parse_months(after, what="--after")
