"""What a loaded study says about its own data: coverage per source, plain-language caveats, attribution.

Every sentence is computed from what was loaded (the sources, their periods, the
deprivation vintage, the venue list), so a study of any force reads true: nothing here
names a place.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.io.config import BoundariesConfig
from hotspots.io.iod import IOD2019
from hotspots.months import missing_months
from hotspots.prepare.coverage import month_gap_caveats

if TYPE_CHECKING:  # pragma: no cover
    from hotspots.prepare.study import Study

COVERAGE_COLUMNS = ["source", "incidents", "first_month", "last_month", "months", "missing_months", "scope", "lsoas"]
"""Columns of :func:`coverage_table`."""

POLICE_UK = (
    "Crime: Contains public sector information licensed under the Open Government Licence v3.0 (data.police.uk)."
)
ONS = (
    "Boundaries: Source: Office for National Statistics licensed under the OGL v3.0. "
    "Contains OS data © Crown copyright and database right{years}."
)
IOD = (
    "Deprivation: English Indices of Deprivation {year}, Ministry of Housing, Communities and Local Government "
    "(MHCLG), licensed under the Open Government Licence v3.0."
)
OPEN_PUBS = (
    "Venues: Open Pubs (GetTheData, from Food Standards Agency food hygiene ratings and the ONS Postcode Directory), "
    "licensed under the Open Government Licence v3.0; contains OS data © Crown copyright and database right, Royal "
    "Mail data © Royal Mail copyright and database right, and National Statistics data © Crown copyright and "
    "database right."
)


def coverage_table(incidents: pd.DataFrame) -> pd.DataFrame:
    """Per source: rows used, first and last month, months with data and missing between them, scope, LSOAs."""
    if len(incidents) == 0:
        return pd.DataFrame(columns=COVERAGE_COLUMNS)
    g = incidents.groupby(C.SOURCE, sort=False)
    return pd.DataFrame(
        {
            "incidents": g.size(),
            "first_month": g[C.MONTH].min(),
            "last_month": g[C.MONTH].max(),
            "months": g[C.MONTH].nunique(),
            "missing_months": g[C.MONTH].agg(lambda s: len(missing_months(s.dropna().astype(str).unique()))),
            "scope": g[C.SCOPE].agg(lambda s: ", ".join(sorted(s.unique()))),
            "lsoas": g[C.LSOA_CODE].nunique(),
        }
    ).reset_index()[COVERAGE_COLUMNS]


def lsoa_year(code_column: str) -> int | None:
    """The LSOA vintage a boundary code column names (``LSOA11CD`` -> 2011, ``LSOA21CD`` -> 2021), else None."""
    m = re.fullmatch(r"LSOA(\d\d)CD", code_column.strip(), flags=re.IGNORECASE)
    return 2000 + int(m.group(1)) if m else None


def boundary_years(b: BoundariesConfig) -> list[int]:
    """Years of the boundary files used, where they say (``LSOA11CD`` -> 2011; ``..._lad22_...``, ``..._2022_...``)."""
    years = {lsoa_year(b.lsoa_code_column)}
    for path, column in ((b.districts, b.district_code_column), (b.wards, b.ward_code_column)):
        if path is None:
            continue
        text = f"{column} {path.name}"
        m = re.search(r"(?:LAD|WD|lad|wd)(\d\d)(?:CD|_|\b)", text) or re.search(r"(?<!\d)(20\d\d)(?!\d)", text)
        if m:
            y = int(m.group(1))
            years.add(y if y > 100 else 2000 + y)  # noqa: PLR2004 (a two-digit year)
    return sorted(y for y in years if y is not None)


def _sources_caveat(study: Study) -> list[str]:
    cov = study.coverage
    if cov is None or len(cov) <= 1:
        return []
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
    return [f"Sources differ in period, offence and area coverage, and {how}: {spans}."]


def distinct_points(x: np.ndarray, y: np.ndarray) -> int:
    """How many distinct (x, y) pairs there are: ``len(np.unique(np.column_stack([x, y]), axis=0))`` by hashing.

    np.unique sorts the pairs, which took most of the caveats' time for 300,000 incidents;
    adding 0.0 makes -0.0 and 0.0 one value, as they are in the sort.
    """
    return len(pd.DataFrame({"x": x + 0.0, "y": y + 0.0}).drop_duplicates())


def _incident_caveats(study: Study) -> list[str]:
    inc = study.incidents
    if not len(inc):
        return []
    out = []
    if inc[C.DATE].isna().all():
        out.append(
            "Dates are month only (police.uk publishes no day or time): night-time-economy violence cannot be "
            "picked out by hour; it is approximated by proximity to venues."
        )
    distinct = distinct_points(inc.geometry.x.round(0).to_numpy(), inc.geometry.y.round(0).to_numpy())
    out.append(
        f"Locations are anonymised: police.uk snaps each crime to one of a fixed set of map points, so "
        f"{len(inc):,} incidents sit at {distinct:,} distinct locations. Treat patterns finer than about "
        "100 m with care."
    )
    files = [f for f in study.accounting.files if f.source != "venues"]
    near = sum(f.assigned.get(C.ASSIGNED_NEAREST, 0) for f in files)
    pip = sum(f.assigned.get(C.ASSIGNED_POINT_IN_POLYGON, 0) for f in files)
    code = sum(f.assigned.get(C.ASSIGNED_BY_CODE, 0) for f in files)
    year = lsoa_year(study.config.boundaries.lsoa_code_column)
    out.append(
        f"LSOA assignment: {code:,} incidents by their own LSOA{f' {year}' if year else ''} code, {pip:,} by point "
        f"in polygon and {near:,} to the nearest polygon within {study.config.boundaries.nearest_tolerance_m:.0f} m "
        "(the boundaries are generalised, so points near edges can fall just outside)."
    )
    return out + _sources_caveat(study) + month_gap_caveats(inc) + _institution_caveat(study)


def _institution_caveat(study: Study) -> list[str]:
    """How many incidents sit at institutional snap points and where they are left out."""
    inc = study.analysis_incidents
    if C.INSTITUTION not in inc.columns:
        return []
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


def data_caveats(study: Study) -> list[str]:
    """Plain-language caveats about the data, computed from what was loaded."""
    out = _incident_caveats(study)
    venues = study.config.venues
    if study.venues is not None and venues is not None:
        snap = f" from a {venues.snapshot} snapshot" if venues.snapshot else ""
        what = (
            " (Open Pubs: FSA-registered drinking venues at postcode centroids; no nightclub flag)"
            if venues.format == "open_pubs"
            else f" ({venues.path.name})"
        )
        out.append(f"Venues: {len(study.venues):,} NTE venues{snap}{what}.")
    if study.vintage is not None:
        v = study.vintage
        out.append(
            f"Deprivation is {v.name} on {v.lsoa_year} LSOAs; population denominators are mid-{v.population_year}"
            + (" (excluding prisoners)." if v is IOD2019 else ".")
        )
    else:
        out.append(_no_deprivation(study))
    return out


def _no_deprivation(study: Study) -> str:
    """The caveat of a study without deprivation data (said plainly for a Welsh force)."""
    text = (
        "No deprivation data: places are ranked and outreach zones scored without deprivation, youth need or "
        "rates per resident."
    )
    force = study.config.study.force
    if force:
        from hotspots.prepare.forces import get_force

        try:
            welsh = not get_force(force).english
        except InputError:
            welsh = False
        if welsh:
            text += (
                " This force is in Wales: the English Indices of Deprivation cover England only, and the Welsh Index "
                "of Multiple Deprivation is not supported yet."
            )
    return text


def attribution(study: Study) -> list[str]:
    """The attribution lines of the data this study actually used (for the report and maps)."""
    cfg = study.config
    out = []
    if any(s.format == "police_uk" for s in cfg.crime) and len(study.accounting.files):
        out.append(POLICE_UK)
    years = boundary_years(cfg.boundaries)
    out.append(ONS.format(years=" " + "/".join(map(str, years)) if years else ""))
    if study.vintage is not None:
        out.append(IOD.format(year=study.vintage.year))
    if study.venues is not None and len(study.venues) and cfg.venues is not None:
        out.append(
            OPEN_PUBS
            if cfg.venues.format == "open_pubs"
            else f"Venues: {cfg.venues.path.name} (attribute as its publisher requires)."
        )
    return out


def source_line(study: Study) -> str:
    """The attribution shortened to one line (figure source lines and maps)."""
    cfg = study.config
    parts = []
    if any(s.format == "police_uk" for s in cfg.crime):
        parts.append("police.uk (OGL v3)")
    year = lsoa_year(cfg.boundaries.lsoa_code_column)
    parts.append(f"ONS LSOA{f' {year}' if year else ''} boundaries (OGL v3, contains OS data © Crown copyright)")
    if study.vintage is not None:
        parts.append(f"{study.vintage.name} (MHCLG, OGL v3)")
    if study.venues is not None and len(study.venues) and cfg.venues is not None:
        parts.append("Open Pubs (OGL v3)" if cfg.venues.format == "open_pubs" else cfg.venues.path.name)
    return "Source: " + "; ".join(parts)


def describe_area(study_name: str, n_lsoas: int) -> str:
    """How the study area is named in messages: ``"the study area (Camden, 133 LSOAs)"``."""
    return f"the study area ({study_name}, {n_lsoas:,} LSOAs)"
