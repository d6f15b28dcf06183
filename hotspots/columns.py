"""Column names of every frame hotspots produces, in one place.

The stage pages in docs/ document each column; the code uses these constants so that the two
cannot drift apart.
"""

from __future__ import annotations

CRS = "EPSG:27700"
"""British National Grid: every frame inside the pipeline is in this CRS (metres)."""

# --- the canonical incident frame (output of ``clean``) ---------------------------
INCIDENT_ID = "incident_id"  # source's Crime ID, or "<source>:<row>" where it has none
SOURCE = "source"  # name of the source in the config
SOURCE_FILE = "source_file"  # file the row came from (relative to the config)
SOURCE_ROW = "source_row"  # 1-based data row in that file (header not counted)
MONTH = "month"  # "YYYY-MM" (police.uk gives month only)
DATE = "date"  # full date where the source has one, else NaT
CRIME_TYPE = "crime_type"  # the source's own category (police.uk "Crime type")
OFFENCE_CODE = "offence_code"  # Home Office offence code where the source has one
SCOPE = "scope"  # VRU scope category (see hotspots.prepare.scope)
HARM = "harm"  # harm weight of the incident (relative units, see hotspots.prepare.scope)
LSOA_CODE = "lsoa_code"  # LSOA 2011 code in the study area
LSOA_ASSIGNED = "lsoa_assigned"  # "code", "point_in_polygon" or "nearest"
LOCATION = "location"  # street-level location text ("On or near ...")
INSTITUTION = "institution"  # institution the location is (e.g. "hospital", "prison"), "" if none; set at load
GEOMETRY = "geometry"

INCIDENT_COLUMNS = [
    INCIDENT_ID,
    SOURCE,
    SOURCE_FILE,
    SOURCE_ROW,
    MONTH,
    DATE,
    CRIME_TYPE,
    OFFENCE_CODE,
    SCOPE,
    HARM,
    LSOA_CODE,
    LSOA_ASSIGNED,
    LOCATION,
    INSTITUTION,
    GEOMETRY,
]

ASSIGNED_BY_CODE = "code"
ASSIGNED_POINT_IN_POLYGON = "point_in_polygon"
ASSIGNED_NEAREST = "nearest"

# --- analysis units (grid cells, LSOAs) and the layers built on them --------------------
CELL_ID = "cell_id"  # grid cell id, 0..k-1 in row-major lattice order
N = "n"  # incidents counted in the unit (cluster, zone, place)
HARM_SUM = HARM  # harm of those incidents: the sum of their harm weights (same column name, "harm")
RATE_PER_1000 = "rate_per_1000"  # incidents per 1,000 residents
KDE = "kde"  # kernel density of incidents (harm- or count-weighted) per km² at the cell centre
GI_Z = "gi_z"  # signed strength of the unit's neighbourhood (exact test: normal deviate of its tail; Gi* z)
GI_P = "gi_p"  # its two-sided p-value
GI_Q = "gi_q"  # its Benjamini-Hochberg q-value (FDR-adjusted)
HOTSPOT_CLASS = "hotspot_class"  # "hot 99%" ... "cold 99%", "not significant" or "not analysed"
LOCAL_SUM = "local_sum"  # observed neighbourhood sum (the unit and its neighbours) of the tested value
LOCAL_EXPECTED = "local_expected"  # its expectation under the exposure null (residents, or area)
LISA_CLASS = "lisa_class"  # local Moran class: "HH", "HL", "LH", "LL" or "not significant"
EMERGING_CLASS = "emerging_class"  # emerging hot spot category (ArcGIS's 17) or "not analysed"
RANK = "rank"  # 1 = first (highest priority, most harm, ...) in the frame's own order
REASON = "reason"  # one-line plain-language reason
ZONE_ID = "zone_id"  # zone identifier
ORDER = "order"  # 1 = the site that adds the most; each next adds the most of what is left

# --- drop reasons (row accounting) ----------------------------------------------------
DROP_UNPARSEABLE = "unparseable"
DROP_NO_COORDINATES = "no_coordinates"
DROP_AT_ORIGIN = "at_origin_0_0"
DROP_DUPLICATE_ID = "duplicate_crime_id"
DROP_OUT_OF_SCOPE = "out_of_scope"
DROP_OUTSIDE_WINDOW = "outside_date_window"
DROP_OUTSIDE_AREA = "outside_study_area"

DROP_REASONS = [
    DROP_UNPARSEABLE,
    DROP_NO_COORDINATES,
    DROP_AT_ORIGIN,
    DROP_DUPLICATE_ID,
    DROP_OUT_OF_SCOPE,
    DROP_OUTSIDE_WINDOW,
    DROP_OUTSIDE_AREA,
]

# --- the LSOA frame (boundaries joined with IoD2019) -------------------------------
LSOA_NAME = "lsoa_name"
DISTRICT_CODE = "district_code"
DISTRICT = "district"
POPULATION = "population"  # IoD2019 File 6 total population, mid-2015 excl. prisoners
CHILDREN_0_15 = "children_0_15"  # IoD2019 File 6 dependent children aged 0-15
IMD_RANK = "imd_rank"  # 1 = most deprived of 32,844
IMD_DECILE = "imd_decile"  # 1 = most deprived 10 %
DOMAINS = ["income", "employment", "education", "health", "crime", "barriers", "living_env"]
"""IoD2019 domains; each gives ``<domain>_rank`` and ``<domain>_decile`` columns."""
CYP_RANK = "cyp_rank"  # Children and Young People education sub-domain rank
CYP_DECILE = "cyp_decile"
IDACI_NUMERATOR = "idaci_numerator"  # children in income-deprived families (NaN = suppressed)

# --- venues -------------------------------------------------------------------------
VENUE_ID = "venue_id"
VENUE_NAME = "name"
VENUE_ADDRESS = "address"
VENUE_POSTCODE = "postcode"

# --- boundaries ---------------------------------------------------------------------
DISTRICT_NAME_COL = "district"
WARD_CODE = "ward_code"
WARD_NAME = "ward_name"
