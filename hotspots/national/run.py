"""``hotspots national``: one run over every LSOA of England and Wales, from a police.uk archive zip.

Steps (each timed in ``manifest.json``):

1. **inputs**: the bundled England and Wales LSOAs with their force (district -> police force
   area), IoD2019 for England, the UK venue list;
2. **ingest**: one Dask task per force reads the force's street members from the zip with pyarrow
   and cleans them (:mod:`hotspots.national.ingest`): every row accounted for;
3. **detect**: per-force partitions with a margin (:mod:`hotspots.national.partition`), KDE and
   the exact hot spot test; FDR once over the country (:mod:`hotspots.national.detect`);
4. **rank**: the rank stage on all LSOAs at once, and the force table (:mod:`hotspots.national.compare`);
5. **write**: the run folder, atomically (:mod:`hotspots.io.rundir`).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots import __version__
from hotspots import columns as C
from hotspots.detect.config import DetectConfig
from hotspots.errors import InputError
from hotspots.io import load, rundir
from hotspots.io.config import BoundariesConfig, DeprivationConfig, VenuesConfig
from hotspots.io.write import write_csv, write_layer
from hotspots.national.archive import ArchiveListing, select_members, street_members
from hotspots.national.compare import FORCE_COLUMNS, force_table, national_study, rank_national
from hotspots.national.detect import FORCE, NationalDetect, detect_national
from hotspots.national.engine import open_executor
from hotspots.national.ingest import (
    CleanOptions,
    accounting_by_force,
    clean_group,
    drop_cross_duplicates,
    group_members,
    incident_frame,
    summarise_warnings,
)
from hotspots.national.partition import GridSettings
from hotspots.newforce import DATA_DIR, BundledData
from hotspots.prepare.clean import clean_venues
from hotspots.prepare.config import InstitutionsConfig, ScopeConfig
from hotspots.prepare.forces import DISTRICTS_TABLE
from hotspots.prepare.institutions import flag_institutions
from hotspots.prepare.study import join_deprivation
from hotspots.rank.config import RankConfig
from hotspots.units import _nice, choose_bandwidth

log = logging.getLogger(__name__)

DEFAULT_MONTHS = 12
"""Months analysed when no window is given: the archive's last twelve."""
MIN_FORCE_INCIDENTS = 50
"""Forces with fewer incidents do not vote on the automatic bandwidth."""


@dataclass(frozen=True)
class NationalConfig:
    """Options of ``hotspots national`` (command-line options; ``[scope]``, ``[detect]``, ``[rank]`` from ``--config``).

    Attributes
    ----------
    archive
        The police.uk archive zip.
    start, end
        First and last month (``YYYY-MM``); default the archive's last twelve months.
    forces
        Read only the files of these police.uk force ids (default every street file); rows are
        still placed wherever they lie.
    cell_size
        Grid cell side in metres; default ``nice(bandwidth / 2)`` (the cap of the force rule).
    bandwidth
        KDE bandwidth in metres; default the median of each force's automatic bandwidth
        (ArcGIS/Silverman rule on its own incidents), so that one bandwidth serves the country.
    scheduler
        None: a local Dask cluster; ``"none"``: no Dask; else a Dask scheduler's address.
    workers
        Worker processes of the local cluster.
    memory_limit
        Memory limit per local worker (Dask's syntax, ``"auto"`` by default).
    data
        Folder of the bundled data (LSOAs, IoD2019, venues).
    maps
        Write the national map.
    venues
        Use the bundled UK venue list (venues near each place).
    """

    archive: Path
    start: str | None = None
    end: str | None = None
    forces: tuple[str, ...] = ()
    cell_size: float | None = None
    bandwidth: float | None = None
    scheduler: str | None = None
    workers: int = 2
    memory_limit: str = "auto"
    data: Path = DATA_DIR
    maps: bool = True
    venues: bool = True

    def __post_init__(self) -> None:
        """Check the numbers."""
        for key in ("cell_size", "bandwidth"):
            v = getattr(self, key)
            if v is not None and not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                raise InputError(f"--{key.replace('_', '-')} must be a positive number of metres, got {v!r}.")
        if self.workers < 1:
            raise InputError(f"--workers must be at least 1, got {self.workers}.")


@dataclass
class Sections:
    """The config sections the national run reads (defaults without ``--config``)."""

    scope: ScopeConfig = field(default_factory=ScopeConfig)
    detect: DetectConfig = field(default_factory=DetectConfig)
    rank: RankConfig = field(default_factory=RankConfig)
    institutions: InstitutionsConfig = field(default_factory=InstitutionsConfig)


@dataclass
class NationalInputs:
    """The national LSOAs (with deprivation and force), deprivation, venues and what was read."""

    lsoa: gpd.GeoDataFrame
    forces: np.ndarray
    deprivation: pd.DataFrame
    venues: gpd.GeoDataFrame | None
    boundaries: BoundariesConfig
    files: list[dict[str, Any]]
    caveats: list[str]


def load_inputs(data: Path, *, venues: bool = True) -> NationalInputs:
    """The bundled England and Wales inputs (:data:`hotspots.newforce.DATA_FILES`)."""
    b = BundledData.in_folder(data)
    b.check()
    boundaries = BoundariesConfig(lsoa=b.lsoa_boundaries)
    lsoa = load.read_lsoa_boundaries(boundaries)
    dep = load.read_deprivation(
        DeprivationConfig(
            domains=b.iod_domains, population=b.iod_population, subdomains=b.iod_subdomains, indicators=b.iod_indicators
        )
    )
    caveats: list[str] = []
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lsoa = join_deprivation(lsoa, dep, caveats)
    caveats += (
        [
            f"{int(lsoa['imd_rank'].isna().sum()):,} LSOAs (Wales) have no English deprivation or residents: "
            "their need axis, rates and LSOA hot spot test are empty (not zero)."
        ]
        if caught
        else []
    )
    table = pd.read_csv(DISTRICTS_TABLE, dtype=str, keep_default_na=False).set_index("lad19cd")["force"]
    forces = lsoa[C.DISTRICT_CODE].map(table).to_numpy(dtype=object)
    if pd.isna(forces).any():
        i = int(np.flatnonzero(pd.isna(forces))[0])
        raise InputError(
            f"LSOA {lsoa[C.LSOA_CODE].iloc[i]} has district {lsoa[C.DISTRICT_CODE].iloc[i]!r}, which no force covers."
        )
    v = None
    files = [
        {
            "role": "lsoa_boundaries",
            "file": str(b.lsoa_boundaries),
            "sha256": load.sha256(b.lsoa_boundaries),
            "rows": len(lsoa),
        }
    ]
    for role in ("iod_domains", "iod_population", "iod_subdomains", "iod_indicators"):
        p = getattr(b, role)
        files.append({"role": role, "file": str(p), "sha256": load.sha256(p), "rows": len(dep)})
    if venues:
        rv = load.read_venues(VenuesConfig(path=b.venues, clip_to_area=True))
        v, _ = clean_venues(rv, lsoa, clip_to_area=True, max_outside_share=None, area="England and Wales")
        files.append({"role": "venues", "file": str(b.venues), "sha256": rv.sha256, "rows": len(rv.frame)})
    return NationalInputs(lsoa, forces, dep, v, boundaries, files, caveats)


def choose_grid(
    incidents: pd.DataFrame, lsoa_force: pd.Series, cfg: NationalConfig, detect: DetectConfig
) -> tuple[GridSettings, dict[str, Any]]:
    """One cell size and bandwidth for the country (configured, or chosen and recorded)."""
    auto: dict[str, Any] = {}
    bandwidth = cfg.bandwidth or detect.bandwidth
    weights = None if detect.weights == "count" else C.HARM
    if bandwidth is None:
        force = incidents[C.LSOA_CODE].map(lsoa_force).to_numpy()
        per: dict[str, float] = {}
        for f in pd.unique(force):
            sub = incidents.loc[force == f]
            if len(sub) < MIN_FORCE_INCIDENTS:
                continue
            gdf = gpd.GeoDataFrame(sub[[C.HARM]], geometry=gpd.points_from_xy(sub["x"], sub["y"]), crs=C.CRS)
            try:
                per[str(f)] = choose_bandwidth(gdf, weights=weights, kernel=detect.kernel)
            except InputError:
                continue
        if not per:
            raise InputError("no force has enough incidents to choose a KDE bandwidth; pass --bandwidth METRES.")
        bandwidth = float(np.median(list(per.values())))
        auto["kde_bandwidth_m"] = round(bandwidth, 1)
        auto["kde_bandwidth_rule"] = "median over forces of the ArcGIS/Silverman bandwidth of each force's incidents"
        auto["kde_bandwidth_by_force_m"] = {k: round(v, 1) for k, v in sorted(per.items())}
    cell = cfg.cell_size or detect.cell_size
    if cell is None:
        quartic = bandwidth if detect.kernel == "quartic" else bandwidth / 0.36  # 1 / 2.778 Gaussian sigma per radius
        cell = max(10.0, _nice(quartic / 2.0))
        auto["cell_size_m"] = cell
        auto["cell_size_rule"] = "nice(quartic bandwidth / 2), the cap of the force rule"
    if detect.grid_shape != "square":
        raise InputError(
            "the national run uses square cells (one national lattice); set [detect] grid_shape = 'square'."
        )
    if detect.inference != "exact":
        raise InputError(
            f"the national run partitions the exact test only; [detect] inference is {detect.inference!r}. "
            "Use inference = 'exact' (the default)."
        )
    settings = GridSettings(
        cell_size=float(cell),
        bandwidth=float(bandwidth),
        kernel=detect.kernel,
        weights=detect.weights,
        grid_exposure=detect.grid_exposure,
        neighbour_distance=detect.neighbour_distance,
    )
    return settings, auto


def default_window(listing: ArchiveListing, cfg: NationalConfig) -> tuple[str, str]:
    """The months analysed: as given, else the archive's last :data:`DEFAULT_MONTHS`."""
    months = listing.months
    end = cfg.end or months[-1]
    start = cfg.start or next((m for m in months[-DEFAULT_MONTHS:] if m <= end), months[0])
    if start > end:
        raise InputError(f"--from {start} is after --to {end}; give the earlier month first.")
    return start, end


@dataclass
class NationalResult:
    """Everything the national run produced (before writing)."""

    listing: ArchiveListing
    window: tuple[str, str]
    inputs: NationalInputs
    incidents: gpd.GeoDataFrame
    accounting: Any
    rows_by_force: pd.DataFrame
    detect: NationalDetect
    places: gpd.GeoDataFrame
    districts: pd.DataFrame
    forces: pd.DataFrame
    rank_summary: dict[str, Any]
    map_html: str | None
    auto: dict[str, Any]
    warnings: list[str]
    timings: dict[str, float]
    executor: str


def compute(
    cfg: NationalConfig, sections: Sections, *, progress: Callable[[str], None] | None = None
) -> NationalResult:
    """Run the national analysis (nothing written): see the module notes for the steps."""
    say = progress or (lambda _s: None)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    listing = street_members(cfg.archive)  # first: a bad archive or window fails before anything is loaded
    start, end = default_window(listing, cfg)
    members = select_members(listing, start=start, end=end, forces=list(cfg.forces) or None)
    say("inputs")
    inputs = load_inputs(cfg.data, venues=cfg.venues)
    timings["inputs"] = time.perf_counter() - t
    sc = sections.scope
    opts = CleanOptions(start, end, dict(sc.crime_types), dict(sc.offence_codes), dict(sc.harm))
    with open_executor(cfg.scheduler, workers=cfg.workers, memory_limit=cfg.memory_limit) as ex:
        t = time.perf_counter()
        say(f"ingest ({len(members)} files, {ex.description})")
        # codes as Python objects: the cleaning makes a set of them per file (slow from pyarrow strings)
        codes = pd.Series(inputs.lsoa[C.LSOA_CODE].astype(str).to_numpy(dtype=object), dtype=object)
        ref = ex.scatter(gpd.GeoDataFrame({C.LSOA_CODE: codes}, geometry=inputs.lsoa.geometry.values, crs=C.CRS))
        known = frozenset(inputs.deprivation[C.LSOA_CODE])
        handles = [ex.submit(clean_group, cfg.archive, g, ref, known, opts) for g in group_members(members)]
        groups = ex.gather(handles)
        frame, acc, cross = drop_cross_duplicates(groups)
        messages = summarise_warnings(groups)
        timings["ingest"] = time.perf_counter() - t
        if len(frame) == 0:
            raise InputError(
                f"no incident is in scope in {start}..{end} in {cfg.archive.name}; check the months and [scope]."
            )
        t = time.perf_counter()
        say("detect")
        lsoa_force = pd.Series(inputs.forces, index=inputs.lsoa[C.LSOA_CODE].to_numpy())
        settings, auto = choose_grid(frame, lsoa_force, cfg, sections.detect)
        nat = detect_national(
            frame,
            inputs.lsoa,
            inputs.forces,
            settings,
            ex,
            dispersion=sections.detect.method_dispersion,
            fdr=sections.detect.fdr,
        )
        timings["detect"] = time.perf_counter() - t
        executor = ex.description
    t = time.perf_counter()
    say("rank")
    incidents, _ = flag_institutions(incident_frame(frame), sections.institutions)
    study = national_study(
        incidents,
        inputs.lsoa,
        deprivation=inputs.deprivation,
        venues=inputs.venues,
        accounting=acc,
        boundaries=inputs.boundaries,
        scope=sections.scope,
        institutions=sections.institutions,
        start=start,
        end=end,
    )
    ranked = rank_national(study, nat, sections.rank)
    places = ranked.places.copy()
    places.insert(3, FORCE, lsoa_force.reindex(places[C.LSOA_CODE].astype(str)).to_numpy())
    rows_by_force = accounting_by_force(acc, members, cfg.archive)
    table = force_table(
        nat, places, incidents, rows_by_force, chance_draws=sections.rank.chance_draws, seed=sections.rank.seed
    )
    timings["rank"] = time.perf_counter() - t
    html = None
    if cfg.maps:
        t = time.perf_counter()
        say("maps")
        from hotspots.national.maps import national_map

        html = national_map(inputs.lsoa, inputs.forces, table, places, period=f"{start} to {end}")
        timings["maps"] = time.perf_counter() - t
    auto.update({"cross_force_duplicates_dropped": cross, "months": f"{start}..{end}", "files": len(members)})
    return NationalResult(
        listing=listing,
        window=(start, end),
        inputs=inputs,
        incidents=incidents,
        accounting=acc,
        rows_by_force=rows_by_force,
        detect=nat,
        places=places,
        districts=ranked.districts,
        forces=table,
        rank_summary=ranked.summary,
        map_html=html,
        auto=auto,
        warnings=messages,
        timings=timings,
        executor=executor,
    )


OUTPUTS = {
    "places.csv": "every LSOA of England and Wales ranked nationally (the rank stage's columns + force)",
    "places.gpkg": "the same places with their polygons (layer places, EPSG:27700)",
    "forces.csv": "the force comparison table (docs/national.md)",
    "districts.csv": "district profiles over the national ranking",
    "lsoa.gpkg": "national LSOA hot spots: counts, rates, KDE, Gi* (layer lsoa, EPSG:27700)",
    "grid.parquet": "national grid cells: counts, KDE, Gi* (cell centres x, y; EPSG:27700)",
    "row_accounting.csv": "per archive file: rows read, used and dropped by reason",
    "dropped_rows.parquet": "every dropped row with its file, row number, reason and detail",
    "maps/national.html": "the national map: force areas and act-now places (self-contained, offline)",
}
"""Files of a national run folder."""


def _manifest(
    res: NationalResult, cfg: NationalConfig, sections: Sections, outputs: dict[str, str], status: str
) -> dict[str, Any]:
    acc = res.accounting
    return {
        "tool": "hotspots",
        "kind": "national",
        "version": __version__,
        "status": status,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "config": {
            "national": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()},
            "scope": asdict(sections.scope),
            "detect": asdict(sections.detect),
            "rank": asdict(sections.rank),
        },
        "executor": res.executor,
        "archive": {
            "file": str(cfg.archive),
            "street_files": len(res.listing.members),
            "other_members_not_read": len(res.listing.other),
            "months_in_archive": f"{res.listing.months[0]}..{res.listing.months[-1]}",
            "months_read": f"{res.window[0]}..{res.window[1]}",
            "forces": res.listing.forces,
        },
        "inputs": res.inputs.files,
        "row_accounting": {
            "files": len(acc.files),
            "rows_read": int(sum(f.rows_read for f in acc.files)),
            "rows_used": int(sum(f.rows_used for f in acc.files)),
            "rows_dropped": int(sum(f.rows_dropped for f in acc.files)),
            "balanced": all(f.balanced() for f in acc.files),
        },
        "incidents": {"used": len(res.incidents), "period": f"{res.window[0]} to {res.window[1]}"},
        "caveats": res.inputs.caveats,
        "warnings": res.warnings,
        "auto": res.auto,
        "detect": res.detect.summary,
        "rank": res.rank_summary,
        "outputs": outputs,
        "timings_s": {k: round(v, 3) for k, v in res.timings.items()},
    }


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, pd.DataFrame):
        return o.to_dict(orient="records")
    if isinstance(o, Path):
        return str(o)
    return str(o)


def write_run(res: NationalResult, cfg: NationalConfig, sections: Sections, tmp: Path) -> dict[str, str]:
    """Write every output of a national run into ``tmp`` (the run's temporary folder)."""
    out: dict[str, str] = {}

    def reg(rel: str) -> Path:
        out[rel] = OUTPUTS[rel]
        path = tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    t = time.perf_counter()
    write_csv(pd.DataFrame(res.places.drop(columns="geometry")), reg("places.csv"))
    write_layer(res.places, reg("places.gpkg"), "places")
    write_csv(res.forces[FORCE_COLUMNS], reg("forces.csv"))
    write_csv(res.districts, reg("districts.csv"))
    write_layer(res.detect.lsoa, reg("lsoa.gpkg"), "lsoa")
    res.detect.grid.to_parquet(reg("grid.parquet"), index=False)
    write_csv(res.accounting.table(), reg("row_accounting.csv"))
    dropped = res.accounting.dropped_rows.astype({"file": "category", "source": "category", "reason": "category"})
    dropped["detail"] = dropped["detail"].astype(str)
    dropped.to_parquet(reg("dropped_rows.parquet"), index=False)
    if res.map_html is not None:
        reg("maps/national.html").write_text(res.map_html, encoding="utf-8")
    res.timings["write"] = time.perf_counter() - t
    return out


def national_run(
    cfg: NationalConfig, out: Path, sections: Sections | None = None, *, progress: Callable[[str], None] | None = None
) -> NationalResult:
    """Run the national analysis and write the run folder ``out`` atomically (as ``hotspots run`` does).

    Raises
    ------
    InputError
        An unusable archive, input, window or cluster: nothing is written and ``out`` is untouched.
    """
    sections = sections or Sections()
    tmp = rundir.start(out)
    t0 = time.perf_counter()
    try:
        res = compute(cfg, sections, progress=progress)
    except BaseException:
        rundir.discard(tmp)
        raise
    status = "ok"
    outputs: dict[str, str] = {}
    try:
        (progress or (lambda _s: None))("write")
        outputs = write_run(res, cfg, sections, tmp)
    except BaseException:
        status = "failed"
        raise
    finally:
        res.timings["total"] = time.perf_counter() - t0
        outputs.setdefault(rundir.MANIFEST, "this file")
        text = json.dumps(
            _manifest(res, cfg, sections, outputs, status), indent=2, default=_json_default, allow_nan=True
        )
        (tmp / rundir.MANIFEST).write_text(text + "\n", encoding="utf-8")
        if status == "failed":
            rundir.keep_failed(tmp, out)
    rundir.publish(tmp, out)
    return res


__all__ = ["NationalConfig", "NationalResult", "Sections", "compute", "load_inputs", "national_run", "write_run"]
