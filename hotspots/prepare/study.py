"""Assemble every input of a configured study into one object: load, then clean.

:func:`load_study` is what ``hotspots check`` and ``hotspots run`` call first; analysts'
scripts can call it too and then use the stage functions on ``study.incidents``.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots import parallel
from hotspots.errors import HotspotsWarning, InputError
from hotspots.io import load
from hotspots.io.areas import read_area_file
from hotspots.io.config import DeprivationConfig
from hotspots.io.iod import IodVintage, vintage_of
from hotspots.io.raw import RawFile
from hotspots.io.sites import SOURCE_CANDIDATE, SOURCE_DEFIB, SOURCE_KIT, fixed_sites, read_site_file
from hotspots.prepare import caveats as caveats_mod
from hotspots.prepare.accounting import Accounting
from hotspots.prepare.caveats import coverage_table, data_caveats, describe_area
from hotspots.prepare.clean import clean_incidents, clean_venues
from hotspots.prepare.config import StudyInputs
from hotspots.prepare.coverage import warn_month_gaps
from hotspots.prepare.institutions import INSTITUTION_TABLE_COLUMNS, flag_institutions
from hotspots.steps import step

log = logging.getLogger(__name__)


@dataclass
class Study:
    """Everything a run needs, cleaned and in EPSG:27700.

    Attributes
    ----------
    config
        The config sections the study was loaded from (study, input files, scope).
    incidents
        The canonical incident frame (:data:`hotspots.columns.INCIDENT_COLUMNS`).
    lsoa
        Study-area LSOAs: ``lsoa_code, lsoa_name, district_code, district`` plus every
        deprivation column (NaN where the deprivation file has no row), geometry.
    deprivation
        The Indices of Deprivation for every LSOA in the files (England-wide with the
        bundled files), for national re-ranking; None without ``[deprivation]``.
    districts, wards
        Boundaries for maps and profiles: ``[boundaries] districts``, else the LSOAs dissolved
        by their district when the LSOA or deprivation file names it; ``wards`` only when
        configured (None otherwise).
    venues
        NTE venues (``venue_id, name, address, postcode, lsoa_code``), or None.
    area
        The study area: union of the LSOA polygons.
    accounting
        Row accounting of every crime and venue file.
    inputs
        Every input file with its sha256 (for the manifest).
    caveats
        Plain-language data caveats, shown by ``check`` and in the report.
    auto
        Parameters chosen automatically while loading.
    coverage
        Per source: incidents, months and LSOAs (see :func:`coverage_table`).
    timings
        Seconds spent in each loading step.
    fixed_sites
        Existing bleed-control kits and defibrillators (``[sites] existing_kits`` and
        ``defibrillators``; :data:`hotspots.io.sites.SITE_COLUMNS`), or None.
    candidate_sites
        The user's candidate kit sites (``[sites] candidate_sites``), or None.
    vintage
        The deprivation vintage (IoD2019 or IoD2025), or None without ``[deprivation]``.
    police_uk_codes
        The ``LSOA code`` of every row of the police.uk-format files (categorical; NaN where
        empty), to compare the area with the force's own data
        (:func:`hotspots.prepare.forces.compare_with_police_uk`); None without such files.
    institutions
        Incidents at institutional snap points (prisons, hospitals, police stations, courts,
        custody suites), one row per point and way of matching
        (:data:`hotspots.prepare.institutions.INSTITUTION_TABLE_COLUMNS`); the incidents
        themselves carry ``institution`` (:mod:`hotspots.prepare.institutions`).
    areas
        The intervention register's polygon files by key (``"<name>:treated"``, ...), in
        EPSG:27700 (:func:`hotspots.io.areas.read_area_file`).
    """

    config: StudyInputs
    incidents: gpd.GeoDataFrame
    lsoa: gpd.GeoDataFrame
    deprivation: pd.DataFrame | None
    districts: gpd.GeoDataFrame | None
    wards: gpd.GeoDataFrame | None
    venues: gpd.GeoDataFrame | None
    area: Any
    accounting: Accounting
    inputs: list[dict[str, Any]] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    auto: dict[str, Any] = field(default_factory=dict)
    coverage: pd.DataFrame | None = None
    timings: dict[str, float] = field(default_factory=dict)
    fixed_sites: gpd.GeoDataFrame | None = None
    candidate_sites: gpd.GeoDataFrame | None = None
    vintage: IodVintage | None = None
    police_uk_codes: pd.Series | None = None
    institutions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=INSTITUTION_TABLE_COLUMNS))
    areas: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)

    @property
    def attribution(self) -> list[str]:
        """Attribution lines of the data this study used (see :func:`hotspots.prepare.caveats.attribution`)."""
        return caveats_mod.attribution(self)

    @property
    def source_line(self) -> str:
        """The attribution on one line, for figure source lines and maps."""
        return caveats_mod.source_line(self)

    @property
    def city_districts(self) -> list[str]:
        """Districts named as cities in the report (``[study] city_districts``; empty by default)."""
        return list(self.config.study.city_districts)

    @property
    def name(self) -> str:
        """The study's name (``[study] name``), shown in map titles and the report."""
        return self.config.study.name

    @property
    def analysis_incidents(self) -> gpd.GeoDataFrame:
        """The incidents of ``[study] sources`` (all incidents when it is empty).

        The place analyses (hot spots, ranking, kit siting, outreach) use these, so that
        places are compared on sources that cover the whole area alike.
        """
        sources = list(self.config.study.sources)
        if not sources:
            return self.incidents
        return self.incidents[self.incidents[C.SOURCE].isin(sources)]

    def place_incidents(self, use: str) -> gpd.GeoDataFrame:
        """The place-analysis incidents a stage uses: institutional ones left out where configured.

        Parameters
        ----------
        use
            ``"rank"``, ``"kits"`` or ``"outreach"``: when it is in ``[institutions]
            exclude_from``, incidents flagged as institutional are left out.
        """
        inc = self.analysis_incidents
        if use in self.config.institutions.exclude_from and C.INSTITUTION in inc.columns:
            return inc[inc[C.INSTITUTION].astype(str) == ""]
        return inc

    def institutions_summary(self) -> dict[str, Any]:
        """Institutional incidents for the manifest: counts, where they are left out, and the list."""
        inc = self.analysis_incidents
        flagged = inc[inc[C.INSTITUTION].astype(str) != ""] if C.INSTITUTION in inc.columns else inc.iloc[:0]
        all_flagged = int((self.incidents[C.INSTITUTION].astype(str) != "").sum()) if len(self.incidents) else 0
        return {
            "incidents": all_flagged,
            "place_analysis_incidents": len(flagged),
            "place_analysis_harm": float(flagged[C.HARM].sum()),
            "by_institution": {str(k): int(v) for k, v in flagged[C.INSTITUTION].value_counts().items()},
            "excluded_from": list(self.config.institutions.exclude_from),
            "locations": self.institutions.to_dict(orient="records"),
        }

    @property
    def analysis_period(self) -> str:
        """The period of the place-analysis incidents, naming ``[study] sources`` when set.

        e.g. ``"2019-09 to 2020-12 (police_uk, county_weapons_2020)"``; the maps show it.
        """
        m = sorted(self.analysis_incidents[C.MONTH].dropna().unique().tolist())
        if not m:
            return "no dated incidents"
        span = f"{m[0]} to {m[-1]}"
        sources = list(self.config.study.sources)
        return f"{span} ({', '.join(sources)})" if sources else span

    @property
    def months(self) -> list[str]:
        """Sorted distinct months of the incidents."""
        return sorted(self.incidents[C.MONTH].dropna().unique().tolist())

    @property
    def period(self) -> str:
        """The data period, e.g. ``"2019-09 to 2022-12"``."""
        m = self.months
        return f"{m[0]} to {m[-1]}" if m else "no dated incidents"


class HasInputs(Protocol):
    """Anything with the study's input sections, such as :class:`hotspots.config.Config`."""

    @property
    def inputs(self) -> StudyInputs:
        """The config sections loading reads."""
        ...


def load_study(config: StudyInputs | HasInputs) -> Study:
    """Read and clean every input named in ``config``.

    Parameters
    ----------
    config
        A :class:`hotspots.config.Config` (its :attr:`~hotspots.config.Config.inputs` are
        used) or the :class:`~hotspots.prepare.config.StudyInputs` themselves.

    Raises
    ------
    InputError
        Any input file is unusable (see :mod:`hotspots.io.load` and :mod:`hotspots.prepare.clean`),
        including a crime or venue file with more than ``[study] max_outside_share`` of its rows
        outside the area, and an optional deprivation file with no row for some study LSOAs.
    """
    config = config if isinstance(config, StudyInputs) else config.inputs
    t0 = time.perf_counter()
    loader = _Loader(config)
    # the deprivation files are read in a worker process, when one is free (hotspots.parallel),
    # beside the boundaries and the crime files, which do not need them
    dep = config.deprivation
    reading = None if dep is None else parallel.start(partial(load.read_deprivation, dep), name="load.read_deprivation")
    lsoa, districts, wards = loader.boundaries()
    raw_files = loader.read_crime()
    deprivation, lsoa = loader.deprivation(lsoa, districts, reading)
    if districts is None:
        districts = loader.district_outlines(lsoa)
    area = describe_area(config.study.name, len(lsoa))
    incidents, acc = loader.crime(raw_files, lsoa, area)
    with step("institutions") as st:
        incidents, institutions = flag_institutions(incidents, config.institutions)
    loader.timings["institutions"] = st.wall_s
    venues = loader.venues(lsoa, acc, area)
    sites = loader.site_files()
    areas = loader.area_files()
    with step("area"):
        outline = shapely.union_all(lsoa.geometry.values)
    study = Study(
        config=config,
        incidents=incidents,
        lsoa=lsoa,
        deprivation=deprivation,
        districts=districts,
        wards=wards,
        venues=venues,
        area=outline,
        accounting=acc,
        inputs=loader.inputs,
        caveats=loader.caveats,
        timings=loader.timings,
        fixed_sites=fixed_sites(sites.get("existing_kits"), sites.get("defibrillators")),
        candidate_sites=sites.get("candidate_sites"),
        vintage=vintage_of(deprivation) if deprivation is not None else None,
        police_uk_codes=loader.police_uk_codes,
        institutions=institutions,
        areas=areas,
    )
    with step("caveats"):
        study.coverage = coverage_table(incidents)
        study.caveats.extend(data_caveats(study))
        warn_month_gaps(incidents)
    if len(incidents) == 0:
        warnings.warn(
            "no incident is in scope, dated inside the window and inside the study area; "
            "check [study] start/end and [scope]. Later stages will have nothing to analyse.",
            HotspotsWarning,
            stacklevel=2,
        )
    loader.timings["total_load"] = time.perf_counter() - t0
    return study


class _Loader:
    """The steps of :func:`load_study`, each recording its inputs (sha256, rows) and time."""

    def __init__(self, config: StudyInputs) -> None:
        self.config = config
        self.inputs: list[dict[str, Any]] = []
        self.caveats: list[str] = []
        self.timings: dict[str, float] = {}
        self.known: set[str] | None = None
        self.police_uk_codes: pd.Series | None = None

    def _input(self, role: str, path: Any, rows: int, sha: str | None = None, **extra: Any) -> None:
        self.inputs.append({"role": role, "file": str(path), "sha256": sha or load.sha256(path), "rows": rows, **extra})

    def boundaries(self) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
        with step("boundaries") as st:
            b = self.config.boundaries
            lsoa = load.read_lsoa_boundaries(b)
            self._input("lsoa_boundaries", b.lsoa, len(lsoa))
            if b.filter_column:
                self.known = load.read_lsoa_codes(b)
            districts = load.read_districts(b)
            if districts is not None:
                self._input("districts", b.districts, len(districts))
            wards = load.read_wards(b)
            if wards is not None:
                self._input("wards", b.wards, len(wards))
        self.timings["boundaries"] = st.wall_s
        return lsoa, districts, wards

    def deprivation(
        self, lsoa: gpd.GeoDataFrame, districts: gpd.GeoDataFrame | None, reading: parallel.Task[pd.DataFrame] | None
    ) -> tuple[pd.DataFrame | None, gpd.GeoDataFrame]:
        d = self.config.deprivation
        deprivation = None
        if d is not None and reading is not None:
            with step("deprivation") as st:
                deprivation = reading.result()
                vintage = vintage_of(deprivation)
                for role in ("domains", "population", "subdomains", "indicators"):
                    p = getattr(d, role)
                    if p is not None:
                        self._input(f"iod{vintage.year}_{role}", p, len(deprivation))
                lsoa = join_deprivation(lsoa, deprivation, self.caveats, config=d)
                self.known = (self.known or set()) | set(deprivation[C.LSOA_CODE])
            self.timings["deprivation"] = st.wall_s
        if C.POPULATION not in lsoa.columns:
            lsoa[C.POPULATION] = np.nan  # no population source (e.g. no [deprivation]): rates are missing, not zero
        if C.DISTRICT not in lsoa.columns and districts is not None:
            cent = gpd.GeoDataFrame(geometry=lsoa.representative_point(), crs=C.CRS)
            j = gpd.sjoin(cent, districts, how="left", predicate="within")
            j = j[~j.index.duplicated()]
            lsoa[C.DISTRICT_CODE] = j[C.DISTRICT_CODE].to_numpy()
            lsoa[C.DISTRICT] = j[C.DISTRICT].to_numpy()
        return deprivation, lsoa

    @staticmethod
    def district_outlines(lsoa: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
        """District polygons dissolved from the LSOAs (when no districts file is configured but LSOAs know theirs)."""
        if C.DISTRICT_CODE not in lsoa.columns or C.DISTRICT not in lsoa.columns or lsoa[C.DISTRICT].isna().all():
            return None
        parts = lsoa[[C.DISTRICT_CODE, C.DISTRICT, "geometry"]].dropna(subset=[C.DISTRICT])
        out = parts.dissolve(by=[C.DISTRICT_CODE, C.DISTRICT], as_index=False)
        return gpd.GeoDataFrame(out[[C.DISTRICT_CODE, C.DISTRICT, "geometry"]], geometry="geometry", crs=C.CRS)

    def read_crime(self) -> list[RawFile]:
        with step("read_crime") as st:
            raw_files = [rf for src in self.config.crime for rf in load.read_crime_source(src)]
        self.timings["read_crime"] = st.wall_s
        return raw_files

    def crime(self, raw_files: list[RawFile], lsoa: gpd.GeoDataFrame, area: str) -> tuple[gpd.GeoDataFrame, Accounting]:
        cfg = self.config
        sc = cfg.scope
        with step("clean_crime") as st:
            incidents, acc = clean_incidents(
                raw_files,
                lsoa,
                known_codes=self.known,
                start=cfg.study.start,
                end=cfg.study.end,
                crime_types=sc.crime_types,
                offence_codes=sc.offence_codes,
                harm=sc.harm,
                tolerance=cfg.boundaries.nearest_tolerance_m,
                base=cfg.base,
                max_outside_share=cfg.study.max_outside_share,
                area=area,
            )
        self.timings["clean_crime"] = st.wall_s
        police_uk = {src.name for src in cfg.crime if src.format == "police_uk"}
        codes = [rf.frame["lsoa_code"] for rf in raw_files if rf.source in police_uk]
        if codes:
            self.police_uk_codes = pd.concat(codes, ignore_index=True).astype("category")
        for rf in raw_files:
            self._input(f"crime:{rf.source}", rf.path, len(rf.frame), rf.sha256, encoding=rf.encoding)
        return incidents, acc

    def venues(self, lsoa: gpd.GeoDataFrame, acc: Accounting, area: str) -> gpd.GeoDataFrame | None:
        v = self.config.venues
        if v is None:
            return None
        with step("venues") as st:
            rv = load.read_venues(v)
            venues, vacc = clean_venues(
                rv,
                lsoa,
                tolerance=self.config.boundaries.nearest_tolerance_m,
                base=self.config.base,
                clip_to_area=v.clip_to_area,
                max_outside_share=self.config.study.max_outside_share,
                area=area,
            )
        acc.extend(vacc)
        self._input("venues", rv.path, len(rv.frame), rv.sha256)
        self.timings["venues"] = st.wall_s
        return venues

    def site_files(self) -> dict[str, gpd.GeoDataFrame]:
        t = time.perf_counter()
        sites: dict[str, gpd.GeoDataFrame] = {}
        roles = {"existing_kits": SOURCE_KIT, "defibrillators": SOURCE_DEFIB, "candidate_sites": SOURCE_CANDIDATE}
        for role, spec in self.config.site_files.items():
            sites[role] = read_site_file(spec, source=roles[role])
            self._input(role, spec.path, len(sites[role]))
        if sites:
            self.timings["site_files"] = time.perf_counter() - t
        return sites

    def area_files(self) -> dict[str, gpd.GeoDataFrame]:
        """The intervention register's polygon files, read and hashed like every other input."""
        areas: dict[str, gpd.GeoDataFrame] = {}
        for key, path in self.config.area_files.items():
            areas[key] = read_area_file(path, what=f"[[intervention]] {key}")
            self._input(f"area:{key}", path, len(areas[key]))
        return areas


def _absent_error(d: DeprivationConfig, role: str, missing: list[str], of: int) -> InputError:
    bundled = {
        "subdomains": "data/iod2019/humaniverse_imd2019_england_lsoa11_subdomains.csv.gz",
        "indicators": "data/iod2019/humaniverse_imd2019_england_lsoa11_indicators.csv.gz",
    }[role]
    return InputError(
        f"[deprivation] {role} file {getattr(d, role)} has no row for {len(missing):,} of the {of:,} study LSOAs "
        f"that the domains file ranks (e.g. {', '.join(missing[:3])}): it covers another area. Use the "
        f"England-wide file (bundled: {bundled}), or remove the {role} key."
    )


def join_deprivation(
    lsoa: gpd.GeoDataFrame, dep: pd.DataFrame, caveats: list[str], *, config: DeprivationConfig | None = None
) -> gpd.GeoDataFrame:
    """The study LSOAs with their deprivation columns (NaN where the file has no row, with a warning).

    Raises
    ------
    InputError
        An optional IoD2019 file (sub-domains, indicators) has no row for a study LSOA that
        the domains file ranks: it is another area's extract, and its measure would be
        missing for those LSOAs without a word.
    """
    vintage = vintage_of(dep)
    out = lsoa.merge(dep, on=C.LSOA_CODE, how="left", validate="1:1")
    if C.DISTRICT not in out.columns:
        code, name = ("lad19_code", "lad19_name") if "lad19_code" in out.columns else ("lad_code", "lad_name")
        out[C.DISTRICT_CODE] = out[code]
        out[C.DISTRICT] = out[name]
    ranked = out.loc[out["imd_rank"].notna(), C.LSOA_CODE].tolist()
    if config is not None:
        for role, missing in load.absent_from(dep, ranked).items():
            raise _absent_error(config, role, missing, len(ranked))
    missing_rows = out["imd_rank"].isna()
    if missing_rows.any():
        codes = out.loc[missing_rows, C.LSOA_CODE].tolist()
        msg = (
            f"{len(codes)} of {len(out)} LSOAs have no {vintage.name} row (e.g. {', '.join(codes[:5])}); "
            f"their deprivation is missing (NaN), not zero. {vintage.name} uses {vintage.lsoa_year} LSOA codes: "
            "use boundaries of the same vintage."
        )
        warnings.warn(msg, HotspotsWarning, stacklevel=3)
        caveats.append(msg)
    if C.IDACI_NUMERATOR in out.columns:
        sup = out[C.IDACI_NUMERATOR].isna() & out["imd_rank"].notna()
        if sup.any():
            caveats.append(
                f"The IDACI numerator is suppressed (published empty) for {int(sup.sum())} LSOA(s) "
                f"(e.g. {', '.join(out.loc[sup, C.LSOA_CODE].head(3))}); their youth deprivation rate is missing."
            )
    return gpd.GeoDataFrame(out, geometry="geometry", crs=C.CRS)
