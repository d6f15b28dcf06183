"""What every layer of a map reads: the checked stage results, the study, the options and the gazetteer."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from hotspots import columns as C
from hotspots.errors import HotspotsWarning, InputError
from hotspots.present.maps.names import Gazetteer, area_text, build_gazetteer
from hotspots.sites.config import DEFAULT_KIT_RADIUS_M

if TYPE_CHECKING:
    from hotspots.prepare.study import Study

PRODUCER = {
    "places": "rank",
    "grid": "detect",
    "lsoa": "detect",
    "clusters": "detect",
    "nte_zones": "detect",
    "bleed_kits": "sites",
    "outreach": "sites",
    "where_next": "forecast",
    "where_next_top": "forecast",
}
"""The stage that makes each result (named in error messages)."""

PRIMARY = {"board": "places", "outreach": "outreach", "analyst": "grid"}
"""The result an audience's map cannot be made without."""


@dataclass(frozen=True)
class MapOptions:
    """Drawing options shared by every layer (the ``[maps]`` keys; see :class:`~hotspots.present.maps.MapsConfig`)."""

    simplify_m: float = 15.0
    precision: int = 5
    max_cells: int = 5_000
    kde_scheme: str = "head_tail_breaks"
    kde_classes: int = 5
    suppress_below: int = 5
    kit_radius_m: float = DEFAULT_KIT_RADIUS_M
    street_zoom: int = 15
    top: int = 10


@dataclass
class MapContext:
    """The inputs of one audience's map.

    Attributes
    ----------
    audience
        ``"board"``, ``"outreach"``, ``"analyst"`` or ``"change"`` (the map of ``hotspots change``).
    study
        The loaded study (LSOAs, boundaries, venues, incidents, name, period).
    frames
        The stage results present, by name (columns checked).
    opts
        Drawing options.
    gaz
        Street, ward and district names.
    results
        Stage results that are not frames, by name (the change map's
        :class:`~hotspots.evaluate.change_stage.ChangeResult` under ``"change"``).
    """

    audience: str
    study: Any
    frames: dict[str, pd.DataFrame]
    opts: MapOptions
    gaz: Gazetteer
    warned: set[str] = field(default_factory=set)
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def suppress(self) -> int | None:
        """Counts below this are shown as "<N" (Board map only)."""
        return self.opts.suppress_below if self.audience == "board" else None

    def frame(self, key: str) -> pd.DataFrame | None:
        """A stage result, or None when it is absent."""
        return self.frames.get(key)

    @cached_property
    def lsoa(self) -> gpd.GeoDataFrame:
        """Study-area LSOAs (EPSG:27700)."""
        return self.study.lsoa

    @cached_property
    def lsoa_names(self) -> dict[str, str]:
        """LSOA code -> name."""
        return dict(zip(self.lsoa[C.LSOA_CODE].astype(str), self.lsoa[C.LSOA_NAME].astype(str), strict=False))

    @cached_property
    def lsoa_counts(self) -> pd.Series | None:
        """Incidents per LSOA from the detect stage (None without it)."""
        lsoa = self.frames.get("lsoa")
        if lsoa is None or C.N not in lsoa.columns:
            return None
        return lsoa.set_index(lsoa[C.LSOA_CODE].astype(str))[C.N]

    def lsoa_area(self, code: str, district: object = None) -> str:
        """``"Castle ward, Nottingham"`` for an LSOA (its ward where wards are configured, and district)."""
        d = district if isinstance(district, str) else ""
        return area_text(self.gaz.lsoa_ward.get(str(code), ""), d)

    def with_lsoa_geometry(self, df: pd.DataFrame, what: str) -> gpd.GeoDataFrame:
        """``df`` with its LSOA polygons (kept when it has them already), EPSG:27700."""
        if isinstance(df, gpd.GeoDataFrame) and df.geometry.name in df.columns and df.geometry.notna().all():
            return df.to_crs(C.CRS) if df.crs is not None and not df.crs.equals(C.CRS) else df
        geo = self.lsoa[[C.LSOA_CODE, "geometry"]].merge(
            pd.DataFrame(df).drop(columns="geometry", errors="ignore"), on=C.LSOA_CODE, how="inner"
        )
        if len(geo) < len(df):
            raise InputError(f"{what}: {len(df) - len(geo)} row(s) have an lsoa_code that is not a study-area LSOA.")
        return gpd.GeoDataFrame(geo, geometry="geometry", crs=self.lsoa.crs)

    def geo(self, key: str) -> gpd.GeoDataFrame:
        """A result that must be a GeoDataFrame, in EPSG:27700."""
        df = self.frames[key]
        if not isinstance(df, gpd.GeoDataFrame) or df.crs is None:
            raise InputError(f"results[{key!r}] must be a GeoDataFrame with a CRS (EPSG:27700).")
        return df if df.crs.equals(C.CRS) else df.to_crs(C.CRS)


def check_result(results: dict[str, Any], key: str, columns: tuple[str, ...], audience: str) -> pd.DataFrame | None:
    """The result ``key`` with its documented ``columns``, or None (with a warning) when absent.

    Raises
    ------
    InputError
        The audience's main result is absent, the result is not a frame, or it lacks a column.
    """
    df = results.get(key)
    producer = PRODUCER.get(key, "an earlier")
    if df is None:
        if PRIMARY.get(audience) == key:
            raise InputError(
                f"the {audience} map needs results[{key!r}], made by the {producer} stage; "
                f"run `hotspots run` with the {producer} stage before maps."
            )
        warnings.warn(
            f"{audience} map: no {key!r} result (made by the {producer} stage); its layer is left out.",
            HotspotsWarning,
            stacklevel=4,
        )
        return None
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"results[{key!r}] must be a (Geo)DataFrame, got {type(df).__name__}.")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(
            f"results[{key!r}] lacks column(s) {missing} needed by the {audience} map; "
            f"it has {list(df.columns)}. The {producer} stage must write the documented columns."
        )
    return df


def make_gazetteer(study: Study) -> Gazetteer:
    """The study's :class:`~hotspots.present.maps.names.Gazetteer` (all incidents' location names, wards, districts)."""
    return build_gazetteer(study.incidents, study.lsoa, wards=study.wards, districts=study.districts)
