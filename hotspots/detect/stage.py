"""Pipeline stage ``detect``: where serious violence concentrates.

Builds the analysis units (a grid over the study area and the LSOAs), then runs every
detection method on them: kernel density (:mod:`hotspots.detect.kde`), calibrated hot spot
inference (:func:`hotspots.detect.inference.hotspot_gistar`: the exact test of each
neighbourhood's sum under an exposure null, BH-FDR), local Moran's I of LSOA rates
(:mod:`hotspots.detect.lisa`), density clusters (:mod:`hotspots.detect.clusters`), emerging hot
spots (:mod:`hotspots.detect.emerging`) and NTE zones (:mod:`hotspots.detect.nte`). Writes
``OUT/hotspots.gpkg`` with the layers ``grid``, ``lsoa``, ``clusters`` and ``nte_zones`` (columns
:data:`LAYER_COLUMNS`, EPSG:27700).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, cast

import geopandas as gpd
import pandas as pd

from hotspots import columns as C
from hotspots import parallel
from hotspots.detect.clusters import density_clusters
from hotspots.detect.config import DetectConfig
from hotspots.detect.emerging import NOT_ANALYSED, emerging_hotspots
from hotspots.detect.exposure import RESIDENTS, areal_exposure
from hotspots.detect.gistar import CLASSES, GI_P, GI_Q, GI_Z, HOTSPOT_CLASS, LOCAL_EXPECTED, LOCAL_SUM
from hotspots.detect.inference import hotspot_gistar
from hotspots.detect.kde import KDE, choose_bandwidth, hotspot_kde
from hotspots.detect.lisa import LISA_CLASS, hotspot_lisa
from hotspots.detect.nte import empty_zones, nte_zones
from hotspots.errors import ConfigError, HotspotsWarning, InputError
from hotspots.prepare.coverage import source_area
from hotspots.prepare.study import Study
from hotspots.results import AutoChoices
from hotspots.steps import step
from hotspots.units import (
    CELL_ID,
    HARM_SUM,
    RATE_PER_1000,
    N,
    choose_cell_size,
    count_in_units,
    lsoa_units,
    make_grid,
)

if TYPE_CHECKING:
    from hotspots.units import AreaLike

log = logging.getLogger(__name__)

EMERGING_CLASS = C.EMERGING_CLASS
"""Emerging hot spot class of the cell (:data:`hotspots.detect.emerging.EMERGING_CLASSES`), or
"not analysed" (outside the emerging source's coverage, no incident, or too few consecutive months)."""

GRID_LAYER_COLUMNS = [
    CELL_ID,
    N,
    HARM_SUM,
    KDE,
    GI_Z,
    GI_P,
    GI_Q,
    HOTSPOT_CLASS,
    LOCAL_SUM,
    LOCAL_EXPECTED,
    EMERGING_CLASS,
]
LSOA_LAYER_COLUMNS = [
    C.LSOA_CODE,
    N,
    HARM_SUM,
    RATE_PER_1000,
    GI_Z,
    GI_Q,
    HOTSPOT_CLASS,
    LOCAL_SUM,
    LOCAL_EXPECTED,
    LISA_CLASS,
]
CLUSTER_LAYER_COLUMNS = ["cluster_id", "rank", "n", "harm", "area_km2", "harm_per_km2"]
NTE_LAYER_COLUMNS = ["zone_id", "venues", "n_within", "harm_within"]
LAYER_COLUMNS = {
    "grid": GRID_LAYER_COLUMNS,
    "lsoa": LSOA_LAYER_COLUMNS,
    "clusters": CLUSTER_LAYER_COLUMNS,
    "nte_zones": NTE_LAYER_COLUMNS,
}
"""Columns (before geometry) of each layer of ``hotspots.gpkg``."""


def _layer(gdf: gpd.GeoDataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    """Exactly ``columns`` + geometry, in EPSG:27700, RangeIndex."""
    missing = [c for c in columns if c not in gdf.columns]
    if missing:  # pragma: no cover - guards the contract between modules
        raise InputError(f"internal: result lacks columns {missing}")
    out = gpd.GeoDataFrame(gdf[columns].reset_index(drop=True), geometry=gdf.geometry.values, crs=gdf.crs)
    if out.crs is None or not out.crs.equals(C.CRS):
        out = out.to_crs(C.CRS)
    out.attrs = dict(gdf.attrs)
    return out


def choose_emerging_source(incidents: gpd.GeoDataFrame) -> str | None:
    """The source with the most distinct months (ties: most incidents); None when there is none."""
    if len(incidents) == 0:
        return None
    g = incidents.groupby(C.SOURCE)[C.MONTH].agg(["nunique", "size"])
    g = g.sort_values(["nunique", "size"], ascending=False)
    return str(g.index[0])


def detect_grid(
    incidents: gpd.GeoDataFrame,
    area: AreaLike,
    *,
    cell_size: float,
    shape: str = "square",
    kernel: str = "quartic",
    bandwidth: float | None = None,
    weights: str = "harm",
    distance: float | None = None,
    fdr: bool = True,
    inference: str = "exact",
    dispersion: float | str | None = None,
    residents: gpd.GeoDataFrame | None = None,
    permutations: int = 999,
    seed: int = 0,
) -> gpd.GeoDataFrame:
    """Grid with counts, harm, KDE and the hot spot test (the ``grid`` layer without ``emerging_class``).

    Parameters
    ----------
    residents
        LSOAs with ``population``: when given, each cell's exposure is the residents of the
        LSOAs it overlaps (areal weighting; ``[detect] grid_exposure = "residents"``), else its
        area (complete spatial randomness).

    Returns
    -------
    geopandas.GeoDataFrame
        ``cell_id, n, harm, kde, gi_z, gi_p, gi_q, hotspot_class, local_sum, local_expected``
        and geometry, with the lattice in ``attrs["grid"]``, the KDE bandwidth in
        ``attrs["kde"]`` and the test in ``attrs["inference"]``.
    """
    with step("grid"):
        grid = make_grid(area, cell_size=cell_size, shape=shape)
        counts = count_in_units(incidents, grid, key=CELL_ID)
    harm_w = None if weights == "count" else C.HARM
    with step("kde"):
        kde = hotspot_kde(incidents, grid, bandwidth=bandwidth, kernel=kernel, weights=harm_w)
    attrs = dict(grid.attrs)
    grid = grid.assign(**{N: counts[N].to_numpy(), HARM_SUM: counts[HARM_SUM].to_numpy(), KDE: kde.to_numpy()})
    exposure = None
    if residents is not None:
        with step("grid_exposure"):
            grid[RESIDENTS] = areal_exposure(grid, residents).to_numpy()
        exposure = RESIDENTS
    grid.attrs = attrs
    with step("grid_hotspots"):
        out = hotspot_gistar(
            grid,
            value=N if weights == "count" else HARM_SUM,
            marks=None if weights == "count" else incidents[C.HARM].to_numpy(dtype=float),
            exposure=exposure,
            inference=inference,
            dispersion=dispersion,
            distance=distance,
            fdr=fdr,
            permutations=permutations,
            seed=seed,
        )
    out.attrs["kde"] = dict(kde.attrs)
    return out


MIN_LISA_UNITS = 3
"""Fewest LSOAs with a rate for local Moran's I; fewer (no population in the data) leaves LISA not analysed."""


def detect_lsoa(incidents: gpd.GeoDataFrame, lsoa: gpd.GeoDataFrame, cfg: DetectConfig) -> gpd.GeoDataFrame:
    """LSOAs with counts, harm, rate, the hot spot test and the local Moran class.

    The hot spot test's exposure is the residents; where the data have no population at all
    (no ``[deprivation]``, as for a Welsh force) it is the LSOA's area, said in
    ``attrs["inference"]``, and local Moran's I of rates per resident is not analysed.
    """
    units = lsoa_units(incidents, lsoa)
    has_population = bool(pd.to_numeric(units[C.POPULATION], errors="coerce").gt(0).any())
    with step("lsoa_hotspots"):
        units = _lsoa_gistar(units, incidents, cfg, has_population)
    ok_rate = units[RATE_PER_1000].notna().to_numpy()
    if ok_rate.sum() >= MIN_LISA_UNITS:
        with step("lisa"):
            lisa = hotspot_lisa(
                units[ok_rate],
                value=RATE_PER_1000,
                permutations=cfg.permutations,
                alpha=cfg.alpha,
                fdr=cfg.lisa_fdr,
                seed=cfg.seed,
            )
        units[LISA_CLASS] = "not significant"
        units.loc[ok_rate, LISA_CLASS] = lisa[LISA_CLASS].to_numpy()
    else:  # no population (e.g. no [deprivation], as for a Welsh force): no rates to test
        units[LISA_CLASS] = NOT_ANALYSED
    return units


def _lsoa_gistar(
    units: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame, cfg: DetectConfig, has_population: bool
) -> gpd.GeoDataFrame:
    """The hot spot test on LSOAs (exposure: residents, or the area when no LSOA has any)."""
    return hotspot_gistar(
        units,
        value=N if cfg.weights == "count" else HARM_SUM,
        marks=None if cfg.weights == "count" else incidents[C.HARM].to_numpy(dtype=float),
        exposure=None if has_population else "area",
        inference=cfg.inference,
        dispersion=cfg.method_dispersion,
        fdr=cfg.fdr,
        permutations=cfg.permutations,
        seed=cfg.seed,
    )


@dataclass(frozen=True)
class DetectResult:
    """What the detect stage found (every layer in EPSG:27700, columns :data:`LAYER_COLUMNS`).

    Attributes
    ----------
    grid
        Grid cells: counts, harm, KDE, Gi* and the emerging hot spot class.
    lsoa
        LSOAs: counts, harm, rate, Gi* and the local Moran class.
    clusters
        Density-cluster footprints ranked by harm per km².
    nte_zones
        Night-time-economy zones (empty when no venues are configured).
    emerging
        The full emerging hot spot table aligned to ``grid`` (None when not analysed).
    auto
        Parameters chosen automatically (cell size, bandwidth, sources, ...).
    summary
        Class counts and notes for the manifest.
    """

    grid: gpd.GeoDataFrame
    lsoa: gpd.GeoDataFrame
    clusters: gpd.GeoDataFrame
    nte_zones: gpd.GeoDataFrame
    emerging: pd.DataFrame | None
    auto: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """The layers of ``hotspots.gpkg`` by name, in writing order."""
        return {"grid": self.grid, "lsoa": self.lsoa, "clusters": self.clusters, "nte_zones": self.nte_zones}


def detect(study: Study, cfg: DetectConfig) -> DetectResult:
    """Pipeline stage ``detect``: units, KDE, hot spot test, local Moran, clusters, emerging, NTE zones.

    Parameters
    ----------
    study
        The loaded study (its place-analysis incidents, area, LSOAs and venues).
    cfg
        The ``[detect]`` section.

    Returns
    -------
    DetectResult
        Every layer, the emerging hot spot table, the automatic choices and a summary.

    Raises
    ------
    InputError
        No incidents to analyse.
    ConfigError
        ``[detect]`` names a source the study does not have.
    """
    auto = AutoChoices("detect")
    incidents = study.analysis_incidents
    if len(incidents) == 0:
        raise InputError("detect: no incidents to analyse (check [study] sources and the crime files).")
    auto.record(sources=sorted(incidents[C.SOURCE].unique().tolist()), incidents=len(incidents))
    summary: dict[str, Any] = {}
    cell_size, bandwidth = _grid_choices(study, incidents, cfg, auto)
    # the LSOA tests and the density clusters do not need the grid: worker processes compute
    # them beside the grid's hot spots and emerging hot spots when they are free (hotspots.parallel)
    # (the clusters first: the larger part on unsnapped or big data; the LSOA part runs here
    # at once when no second worker is free)
    clusters_part = parallel.start(partial(_clusters_part, study, incidents, cfg), name="detect.clusters")
    lsoa_part = parallel.start(partial(_lsoa_part, study, incidents, cfg), name="detect.lsoa")
    grid = detect_grid(
        incidents,
        study.area,
        cell_size=cell_size,
        shape=cfg.grid_shape,
        kernel=cfg.kernel,
        bandwidth=bandwidth,
        weights=cfg.weights,
        distance=cfg.neighbour_distance,
        fdr=cfg.fdr,
        inference=cfg.inference,
        dispersion=cfg.method_dispersion,
        residents=study.lsoa if cfg.grid_exposure == RESIDENTS else None,
        permutations=cfg.permutations,
        seed=cfg.seed,
    )
    auto.record(
        grid_cells=len(grid),
        gi_neighbourhood="queen (8 square / 6 hex neighbours + self)"
        if cfg.neighbour_distance is None
        else f"distance band {cfg.neighbour_distance:g} m + self",
        grid_inference=grid.attrs.get("inference", {}),
    )
    with step("emerging"):
        emerging = _emerging(study, incidents, grid, cfg, auto, summary)
    lsoa, lsoa_auto, lsoa_summary = lsoa_part.result()
    clusters, zones, clusters_auto = clusters_part.result()
    summary.update(lsoa_summary)
    auto.update({**lsoa_auto, **clusters_auto})
    layers = {
        "grid": _layer(grid, GRID_LAYER_COLUMNS),
        "lsoa": _layer(lsoa, LSOA_LAYER_COLUMNS),
        "clusters": _layer(clusters, CLUSTER_LAYER_COLUMNS),
        "nte_zones": _layer(zones, NTE_LAYER_COLUMNS),
    }
    summary["grid_classes"] = _class_counts(layers["grid"][HOTSPOT_CLASS])
    summary["lsoa_classes"] = _class_counts(layers["lsoa"][HOTSPOT_CLASS])
    summary["lisa_classes"] = layers["lsoa"][LISA_CLASS].value_counts().to_dict()
    summary["clusters"] = len(layers["clusters"])
    summary["nte_zones"] = len(layers["nte_zones"])
    log.info("detect: %s", summary)
    return DetectResult(
        grid=layers["grid"],
        lsoa=layers["lsoa"],
        clusters=layers["clusters"],
        nte_zones=layers["nte_zones"],
        emerging=emerging,
        auto=dict(auto),
        summary=summary,
    )


def _lsoa_part(
    study: Study, incidents: gpd.GeoDataFrame, cfg: DetectConfig
) -> tuple[gpd.GeoDataFrame, dict[str, Any], dict[str, Any]]:
    """The LSOA layer (hot spot test and local Moran), its automatic choices and summary entries."""
    auto = AutoChoices("detect")
    summary: dict[str, Any] = {}
    lsoa = detect_lsoa(incidents, study.lsoa, cfg)
    if len(lsoa) and (lsoa[LISA_CLASS] == NOT_ANALYSED).all():
        summary["lisa"] = "not analysed: the LSOAs have no population, so there are no rates per resident"
    auto.record(
        lsoa_neighbourhood="queen contiguity + self",
        lsoa_inference=lsoa.attrs.get("inference", {}),
        lisa=f"esda Moran_Local on rate_per_1000, {cfg.permutations} permutations, seed {cfg.seed}",
    )
    return lsoa, dict(auto), summary


def _clusters_part(
    study: Study, incidents: gpd.GeoDataFrame, cfg: DetectConfig
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, dict[str, Any]]:
    """The density clusters and the NTE zones, and their automatic choices."""
    auto = AutoChoices("detect")
    clusters, zones = _clusters_and_zones(study, incidents, cfg, auto)
    return clusters, zones, dict(auto)


def _grid_choices(
    study: Study, incidents: gpd.GeoDataFrame, cfg: DetectConfig, auto: AutoChoices
) -> tuple[float, float]:
    """Cell size and KDE bandwidth: as configured, or chosen (and recorded) automatically."""
    if cfg.cell_size is None:
        cell_size = choose_cell_size(incidents, study.area)
        auto.record(
            cell_size_m=cell_size,
            cell_size_rule="nice(min(shorter side of bounding box / 50 (sfhotspot), default KDE bandwidth / 2))",
        )
    else:
        cell_size = cfg.cell_size
    bandwidth = cfg.bandwidth
    if bandwidth is None:
        bandwidth = choose_bandwidth(incidents, weights=None if cfg.weights == "count" else C.HARM, kernel=cfg.kernel)
        auto.record(
            kde_bandwidth_m=round(bandwidth, 1),
            kde_bandwidth_rule="ArcGIS spatial Silverman: 0.9 min(SD, sqrt(1/ln2) Dm) n^-0.2"
            + (" / 2.778 (Gaussian sigma)" if cfg.kernel == "gaussian" else " (quartic radius)"),
        )
    return cell_size, bandwidth


def _emerging(
    study: Study,
    incidents: gpd.GeoDataFrame,
    grid: gpd.GeoDataFrame,
    cfg: DetectConfig,
    auto: AutoChoices,
    summary: dict[str, Any],
) -> pd.DataFrame | None:
    """Emerging hot spots of the configured (or chosen) source over its coverage; sets ``grid[emerging_class]``."""
    src = cfg.emerging_source
    if src is None:
        src = choose_emerging_source(incidents)
        auto.record(emerging_source=src)
    if src != "all" and src not in set(study.incidents[C.SOURCE].unique()):
        raise ConfigError(
            f"[detect] key 'emerging_source' is {src!r}, which is not a crime source of this study; "
            f"choose one of {sorted(study.incidents[C.SOURCE].unique().tolist())} or 'all'."
        )
    # an explicitly named source may lie outside the place-analysis sources ([study] sources)
    pool = incidents if cfg.emerging_source is None else study.incidents
    em_inc = pool if src == "all" else pool[pool[C.SOURCE] == src]
    try:
        coverage, districts = source_area(em_inc, study.lsoa)
        residents = None
        if cfg.grid_exposure == RESIDENTS:
            covered = study.lsoa[study.lsoa[C.DISTRICT].isin(districts)] if districts else study.lsoa
            residents = areal_exposure(grid, covered).to_numpy()
        emerging = emerging_hotspots(
            em_inc,
            grid,
            min_months=cfg.emerging_min_months,
            alpha=cfg.alpha,
            value=cast(Any, cfg.emerging_value),
            time_window=cfg.emerging_time_window,
            distance=cfg.neighbour_distance,
            fdr=cfg.fdr,
            area=coverage,
            exposure=residents,
            dispersion=cfg.dispersion,
        )
    except InputError as exc:
        warnings.warn(f"emerging hot spots not analysed: {exc}", HotspotsWarning, stacklevel=3)
        grid[EMERGING_CLASS] = NOT_ANALYSED
        summary["emerging"] = f"not analysed: {exc}"
        return None
    emerging.attrs["source"] = src
    grid[EMERGING_CLASS] = emerging[EMERGING_CLASS].to_numpy()
    auto.record(emerging={"source_districts": districts, **emerging.attrs.get("auto", {})})
    summary["emerging"] = emerging.attrs.get("class_counts", {})
    return emerging


def _clusters_and_zones(
    study: Study, incidents: gpd.GeoDataFrame, cfg: DetectConfig, auto: AutoChoices
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Density clusters and NTE zones (an empty layer, with a warning, without venues)."""
    harm_w = None if cfg.weights == "count" else C.HARM
    with step("clusters"):
        clusters = density_clusters(
            incidents,
            method=cast(Any, cfg.cluster_method),
            min_cluster_size=cfg.cluster_min_cluster_size,
            min_samples=cfg.cluster_min_samples,
            eps=cfg.cluster_eps,
            weights=harm_w,
            buffer=cfg.cluster_buffer,
            max_locations=cfg.cluster_max_locations,
        )
    auto.record(clusters=clusters.attrs.get("auto", {}))
    if study.venues is not None and len(study.venues):
        with step("nte_zones"):
            zones = nte_zones(
                study.venues,
                incidents,
                distance=cfg.nte_distance,
                eps=cfg.nte_eps,
                min_venues=cfg.nte_min_venues,
                weights=harm_w,
            )
    else:
        warnings.warn("no venues configured: the nte_zones layer is empty.", HotspotsWarning, stacklevel=3)
        zones = empty_zones()
    return clusters, zones


def _class_counts(s: pd.Series) -> dict[str, int]:
    vc = s.value_counts()
    return {c: int(vc.get(c, 0)) for c in CLASSES}


__all__ = [
    "CLUSTER_LAYER_COLUMNS",
    "GRID_LAYER_COLUMNS",
    "LAYER_COLUMNS",
    "LSOA_LAYER_COLUMNS",
    "NTE_LAYER_COLUMNS",
    "DetectConfig",
    "DetectResult",
    "detect",
    "detect_grid",
    "detect_lsoa",
]
