"""Assemble every input of a configured study into one object: load, then clean.

:func:`load_study` is what ``hotspots check`` and ``hotspots run`` call first; analysts'
scripts can call it too and then use the stage functions on ``study.incidents``.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.errors import HotspotsWarning
from hotspots.io import load
from hotspots.io.areas import read_area_file
from hotspots.io.sites import SOURCE_CANDIDATE, SOURCE_DEFIB, SOURCE_KIT, fixed_sites, read_site_file
from hotspots.months import missing_months
from hotspots.prepare.clean import Accounting, clean_incidents, clean_venues
from hotspots.prepare.config import StudyInputs
from hotspots.prepare.coverage import month_gap_caveats, warn_month_gaps
from hotspots.prepare.institutions import INSTITUTION_TABLE_COLUMNS, flag_institutions

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
        IoD2019 column (NaN where IoD2019 has no row), geometry.
    deprivation
        IoD2019 for every LSOA in the files (England-wide with the bundled files), for
        national re-ranking.
    districts, wards
        Boundaries for maps and profiles (None when not configured).
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
    institutions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=INSTITUTION_TABLE_COLUMNS))
    areas: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)

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
        Any input file is unusable (see :mod:`hotspots.io.load` and :mod:`hotspots.prepare.clean`).
    """
    config = config if isinstance(config, StudyInputs) else config.inputs
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    inputs: list[dict[str, Any]] = []
    b = config.boundaries
    lsoa = load.read_lsoa_boundaries(b)
    inputs.append({"role": "lsoa_boundaries", "file": str(b.lsoa), "sha256": load.sha256(b.lsoa), "rows": len(lsoa)})
    districts = load.read_districts(b)
    if districts is not None and b.districts is not None:
        inputs.append(
            {"role": "districts", "file": str(b.districts), "sha256": load.sha256(b.districts), "rows": len(districts)}
        )
    wards = load.read_wards(b)
    if wards is not None and b.wards is not None:
        inputs.append({"role": "wards", "file": str(b.wards), "sha256": load.sha256(b.wards), "rows": len(wards)})
    timings["boundaries"] = time.perf_counter() - t0

    deprivation = None
    caveats: list[str] = []
    if config.deprivation is not None:
        t = time.perf_counter()
        d = config.deprivation
        deprivation = load.read_deprivation(d)
        for role in ("domains", "population", "subdomains", "indicators"):
            p = getattr(d, role)
            if p is not None:
                inputs.append(
                    {"role": f"iod2019_{role}", "file": str(p), "sha256": load.sha256(p), "rows": len(deprivation)}
                )
        lsoa = _join_deprivation(lsoa, deprivation, caveats)
        timings["deprivation"] = time.perf_counter() - t
    if C.DISTRICT not in lsoa.columns and districts is not None:
        cent = gpd.GeoDataFrame(geometry=lsoa.representative_point(), crs=C.CRS)
        j = gpd.sjoin(cent, districts, how="left", predicate="within")
        j = j[~j.index.duplicated()]
        lsoa[C.DISTRICT_CODE] = j[C.DISTRICT_CODE].to_numpy()
        lsoa[C.DISTRICT] = j[C.DISTRICT].to_numpy()

    known = set(deprivation[C.LSOA_CODE]) if deprivation is not None else None
    t = time.perf_counter()
    raw_files = []
    for src in config.crime:
        raw_files.extend(load.read_crime_source(src))
    timings["read_crime"] = time.perf_counter() - t
    t = time.perf_counter()
    sc = config.scope
    incidents, acc = clean_incidents(
        raw_files,
        lsoa,
        known_codes=known,
        start=config.study.start,
        end=config.study.end,
        crime_types=sc.crime_types,
        offence_codes=sc.offence_codes,
        harm=sc.harm,
        tolerance=b.nearest_tolerance_m,
        base=config.base,
    )
    incidents, institutions = flag_institutions(incidents, config.institutions)
    timings["clean_crime"] = time.perf_counter() - t
    for rf in raw_files:
        inputs.append(
            {
                "role": f"crime:{rf.source}",
                "file": str(rf.path),
                "sha256": rf.sha256,
                "rows": len(rf.frame),
                "encoding": rf.encoding,
            }
        )

    venues = None
    if config.venues is not None:
        t = time.perf_counter()
        rv = load.read_venues(config.venues)
        venues, vacc = clean_venues(rv, lsoa, tolerance=b.nearest_tolerance_m, base=config.base)
        acc.extend(vacc)
        inputs.append({"role": "venues", "file": str(rv.path), "sha256": rv.sha256, "rows": len(rv.frame)})
        timings["venues"] = time.perf_counter() - t

    t = time.perf_counter()
    sites: dict[str, gpd.GeoDataFrame] = {}
    roles = {"existing_kits": SOURCE_KIT, "defibrillators": SOURCE_DEFIB, "candidate_sites": SOURCE_CANDIDATE}
    for role, spec in config.site_files.items():
        sites[role] = read_site_file(spec, source=roles[role])
        inputs.append(
            {"role": role, "file": str(spec.path), "sha256": load.sha256(spec.path), "rows": len(sites[role])}
        )
    if sites:
        timings["site_files"] = time.perf_counter() - t
    areas = {key: read_area_file(path, what=f"[[intervention]] {key}") for key, path in config.area_files.items()}
    inputs.extend(
        {"role": f"area:{key}", "file": str(path), "sha256": load.sha256(path), "rows": len(areas[key])}
        for key, path in config.area_files.items()
    )

    area = shapely.union_all(lsoa.geometry.values)
    study = Study(
        config=config,
        incidents=incidents,
        lsoa=lsoa,
        deprivation=deprivation,
        districts=districts,
        wards=wards,
        venues=venues,
        area=area,
        accounting=acc,
        inputs=inputs,
        caveats=caveats,
        timings=timings,
        fixed_sites=fixed_sites(sites.get("existing_kits"), sites.get("defibrillators")),
        candidate_sites=sites.get("candidate_sites"),
        institutions=institutions,
        areas=areas,
    )
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
    timings["total_load"] = time.perf_counter() - t0
    return study


def _join_deprivation(lsoa: gpd.GeoDataFrame, dep: pd.DataFrame, caveats: list[str]) -> gpd.GeoDataFrame:
    out = lsoa.merge(dep, on=C.LSOA_CODE, how="left", validate="1:1")
    if C.DISTRICT not in out.columns:
        out[C.DISTRICT_CODE] = out["lad19_code"]
        out[C.DISTRICT] = out["lad19_name"]
    missing = out["imd_rank"].isna()
    if missing.any():
        codes = out.loc[missing, C.LSOA_CODE].tolist()
        msg = (
            f"{len(codes)} of {len(out)} LSOAs have no IoD2019 row (e.g. {', '.join(codes[:5])}); "
            "their deprivation is missing (NaN), not zero. IoD2019 uses 2011 LSOA codes."
        )
        warnings.warn(msg, HotspotsWarning, stacklevel=3)
        caveats.append(msg)
    if C.IDACI_NUMERATOR in out.columns:
        sup = out[C.IDACI_NUMERATOR].isna() & out["imd_rank"].notna()
        if sup.any():
            caveats.append(
                f"The IDACI numerator is suppressed for {int(sup.sum())} LSOA(s) "
                f"(e.g. {', '.join(out.loc[sup, C.LSOA_CODE].head(3))}); their youth deprivation rate is missing."
            )
    return gpd.GeoDataFrame(out, geometry="geometry", crs=C.CRS)


def coverage_table(incidents: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per source: rows used, first and last month, months with data and missing between them, scope, LSOAs."""
    cols = ["source", "incidents", "first_month", "last_month", "months", "missing_months", "scope", "lsoas"]
    if len(incidents) == 0:
        return pd.DataFrame(columns=cols)
    g = incidents.groupby(C.SOURCE, sort=False)
    return pd.DataFrame(
        {
            "incidents": g.size(),
            "first_month": g[C.MONTH].min(),
            "last_month": g[C.MONTH].max(),
            "months": g[C.MONTH].nunique(),
            "missing_months": g[C.MONTH].agg(lambda s: len(missing_months(s.dropna().astype(str)))),
            "scope": g[C.SCOPE].agg(lambda s: ", ".join(sorted(s.unique()))),
            "lsoas": g[C.LSOA_CODE].nunique(),
        }
    ).reset_index()[cols]


def data_caveats(study: Study) -> list[str]:
    """Plain-language caveats about the data, computed from what was loaded."""
    out = []
    inc = study.incidents
    if len(inc):
        if inc[C.DATE].isna().all():
            out.append(
                "Dates are month only (police.uk publishes no day or time): night-time-economy violence cannot be "
                "picked out by hour; it is approximated by proximity to venues."
            )
        xy = np.column_stack([inc.geometry.x.round(0), inc.geometry.y.round(0)])
        distinct = len(np.unique(xy, axis=0))
        out.append(
            f"Locations are anonymised: police.uk snaps each crime to one of a fixed set of map points, so "
            f"{len(inc):,} incidents sit at {distinct:,} distinct locations. Treat patterns finer than about "
            "100 m with care."
        )
        acc = study.accounting
        near = sum(f.assigned.get(C.ASSIGNED_NEAREST, 0) for f in acc.files if f.source != "venues")
        pip = sum(f.assigned.get(C.ASSIGNED_POINT_IN_POLYGON, 0) for f in acc.files if f.source != "venues")
        code = sum(f.assigned.get(C.ASSIGNED_BY_CODE, 0) for f in acc.files if f.source != "venues")
        out.append(
            f"LSOA assignment: {code:,} incidents by their own LSOA 2011 code, {pip:,} by point in polygon and "
            f"{near:,} to the nearest polygon within {study.config.boundaries.nearest_tolerance_m:.0f} m (the "
            "boundaries are generalised, so points near edges can fall just outside)."
        )
        cov = study.coverage
        if cov is not None and len(cov) > 1:
            spans = "; ".join(
                f"{r.source}: {r.incidents:,} ({r.first_month} to {r.last_month}, {r.scope}, {r.lsoas} LSOAs)"
                for r in cov.itertuples()
            )
            used = list(study.config.study.sources)
            how = (
                f"the place analyses use only {', '.join(used)} ([study] sources)"
                if used
                else "they are pooled for the place analyses"
            )
            out.append(f"Sources differ in period, offence and area coverage, and {how}: {spans}.")
        out.extend(month_gap_caveats(inc))
    if len(inc) and C.INSTITUTION in inc.columns:
        out.extend(_institution_caveat(study))
    if study.venues is not None:
        snap = study.config.venues.snapshot if study.config.venues else None
        out.append(
            f"Venues: {len(study.venues):,} NTE venues"
            + (f" from a {snap} snapshot" if snap else "")
            + " (Open Pubs: FSA-registered drinking venues at postcode centroids; no nightclub flag)."
        )
    if study.deprivation is not None:
        out.append("Deprivation is IoD2019 on 2011 LSOAs; population denominators are mid-2015 (excluding prisoners).")
    return out


def _institution_caveat(study: Study) -> list[str]:
    """How many incidents sit at institutional snap points and where they are left out."""
    inc = study.analysis_incidents
    flagged = inc[inc[C.INSTITUTION].astype(str) != ""]
    if not len(flagged):
        return []
    kinds = flagged[C.INSTITUTION].value_counts()
    listed = ", ".join(f"{k} {v:,}" for k, v in kinds.items())
    left_out = study.config.institutions.exclude_from
    where = (
        "they are left out of "
        + " and ".join({"rank": "place ranking", "kits": "kit siting", "outreach": "outreach"}[s] for s in left_out)
        if left_out
        else "they are kept in every analysis"
    )
    return [
        f"{len(flagged):,} of the {len(inc):,} place-analysis incidents are recorded at institutional snap points "
        f"({listed}): crimes in custody, at A&E or at a police front desk say little about the street around them; "
        f"{where} ([institutions] exclude_from), and the run lists them (institutions.csv)."
    ]
