"""Column names of the rank stage's frames (``places``, ``districts``), defined once.

Both ranking methods write the same identifying and Board columns (``rank``, ``score``,
``rank_low``, ``rank_high``, ``p_top_n``, ``tier``, ``reason``), so that the maps and the
report read either; each method adds its own columns (:data:`AXES_PLACES_COLUMNS` for
``[rank] method = "axes"``, :data:`COMPOSITE_PLACES_COLUMNS` for ``"composite"``).
docs/rank.md documents every column.
"""

from __future__ import annotations

from hotspots import columns as C
from hotspots.prepare.deprivation import IDACI_RATE, IMD_NC_DECILE, IMD_NC_RANK

# --------------------------------------------------------------------------------------
# columns both methods write (the maps and the report read these)
# --------------------------------------------------------------------------------------

RANK = C.RANK  # axes: harm rank (= harm_rank); composite: 1..N permutation by score
SCORE = "score"  # axes: the harm-axis value (= harm_eb); composite: the composite score
RANK_LOW = "rank_low"  # best end of the rank's 90 % interval
RANK_HIGH = "rank_high"  # worst end of the rank's 90 % interval
P_TOP_N = "p_top_n"  # probability (0-1) of a rank <= top_n (axes: next period; composite: Monte Carlo)
TIER = "tier"  # 1, 2 or 3 (axes: act now, prevent, monitor; composite: Tier 1-3)
REASON = C.REASON  # one-line plain-language reason

# --------------------------------------------------------------------------------------
# raw components (composite) and context columns (both methods)
# --------------------------------------------------------------------------------------

MISSING = "missing"  # composite components with no data for this place ("" if none), ";"-separated
N_INCIDENTS = C.N  # in-scope incidents in the LSOA (count)
HARM = C.HARM  # sum of harm weights of those incidents (harm-weighted count)
HARM_NEAR = "harm_near"  # harm of incidents within venue_radius m of an NTE venue
HARM_RATE = "harm_rate"  # harm per 1,000 residents over the analysed period (no time unit; composite)
GI_Z = C.GI_Z  # Getis-Ord Gi* z-score of the LSOA's harm (queen contiguity), from detect
HOTSPOT_CLASS = C.HOTSPOT_CLASS  # Gi* class ("hot 99%" ... "cold 99%"), from detect
KDE = C.KDE  # KDE of harm, per km², aggregated over grid cells whose centre is in the LSOA (max by default)
VENUES_NEAR = "venues_near"  # NTE venues within venue_radius m of the LSOA boundary (count)
VENUE_DENSITY = "venue_density"  # NTE venues in the LSOA per km² of its area
NEAR_VENUE_SHARE = "near_venue_share"  # share (0-1) of the LSOA's harm within venue_radius m of a venue
DEPRIVATION_SCORE = "deprivation_score"  # 0-100, higher = more deprived: IMD-without-crime score or transformed IMD
IMD_DECILE = C.IMD_DECILE  # official IMD decile (1 = most deprived 10 % of England)
IMD_NC_DECILE_COL = IMD_NC_DECILE  # IMD-without-crime decile (1 = most deprived 10 % of England)
IMD_NC_RANK_COL = IMD_NC_RANK  # IMD-without-crime rank (1 = most deprived of DEPRIVATION_RANKED)
DEPRIVATION_RANKED = "deprivation_ranked"  # how many LSOAs the deprivation rank is out of (32,844 = England)
IDACI_RATE_COL = IDACI_RATE  # derived IDACI rate (0-1); NaN where suppressed
CYP_NEED = "cyp_need"  # 0-100: 100 x (32,844 - cyp_rank + 1) / 32,844; 100 = most deprived in England
CYP_DECILE = C.CYP_DECILE  # Children and Young People sub-domain decile (1 = most deprived)
POPULATION = C.POPULATION  # residents, IoD2019 mid-2015, excluding prisoners

COMPONENT_COLUMNS = [
    POPULATION,
    N_INCIDENTS,
    HARM,
    HARM_NEAR,
    HARM_RATE,
    GI_Z,
    HOTSPOT_CLASS,
    KDE,
    VENUES_NEAR,
    VENUE_DENSITY,
    NEAR_VENUE_SHARE,
    DEPRIVATION_SCORE,
    IMD_DECILE,
    IMD_NC_DECILE_COL,
    IDACI_RATE_COL,
    CYP_NEED,
    CYP_DECILE,
]
"""Raw component and context columns of the composite ``places`` (after ``lsoa_code, lsoa_name, district``)."""

PLACE_ID_COLUMNS = [C.LSOA_CODE, C.LSOA_NAME, C.DISTRICT]

# --------------------------------------------------------------------------------------
# the two axes (method = "axes")
# --------------------------------------------------------------------------------------

HARM_EB = "harm_eb"  # empirical-Bayes smoothed harm over the analysed period (harm units)
HARM_RANK = "harm_rank"  # harm-axis position: number of places with harm_eb >= this place's (1 = most harm)
HARM_RATE_YR = "harm_per_1000_yr"  # harm per 1,000 residents per year (population_year residents)
HARM_RANK_LOW = "harm_rank_low"  # 90 % predictive interval of next period's harm rank: best end
HARM_RANK_HIGH = "harm_rank_high"  # ... worst end
NEED_SCORE = "need_score"  # 0-100: mean of the available national percentiles, 100 = most deprived
NEED_RANK = "need_rank"  # need-axis position: number of places with need_score >= this place's; NaN if no data
NEED_IMD_PCT = "need_imd_pct"  # percentile of IMD without crime (0-100, 100 = most deprived)
NEED_IDACI_PCT = "need_idaci_pct"  # percentile of the derived IDACI rate; NaN where suppressed
NEED_CYP_PCT = "need_cyp_pct"  # national percentile of the Children and Young People sub-domain
NEED_MISSING = "need_missing"  # need measures with no data (";"-separated, "" if none)
TIER_NAME = "tier_name"  # the tier's plain name (TIER_NAMES)
ORDER = C.ORDER  # row of the Board list: 1..N (tier, then harm or need rank, then need, then code)

ACT_NOW, PREVENT, MONITOR = 1, 2, 3
"""The tier values of the axes method (the composite's Tier 1, 2, 3 use the same numbers)."""

TIER_NAMES = {ACT_NOW: "act now: high harm", PREVENT: "prevent: high need", MONITOR: "monitor"}
"""Plain names of the Board tiers of the axes method."""

AXES_PLACES_COLUMNS = [
    *PLACE_ID_COLUMNS,
    ORDER,
    TIER,
    TIER_NAME,
    HARM_RANK,
    HARM_RANK_LOW,
    HARM_RANK_HIGH,
    P_TOP_N,
    N_INCIDENTS,
    HARM,
    HARM_EB,
    HARM_RATE_YR,
    POPULATION,
    NEED_RANK,
    NEED_SCORE,
    NEED_IMD_PCT,
    NEED_IDACI_PCT,
    NEED_CYP_PCT,
    NEED_MISSING,
    IMD_NC_DECILE_COL,
    IDACI_RATE_COL,
    CYP_DECILE,
    GI_Z,
    HOTSPOT_CLASS,
    VENUES_NEAR,
    RANK,
    SCORE,
    RANK_LOW,
    RANK_HIGH,
    REASON,
]
"""Columns of ``places`` with ``[rank] method = "axes"`` (the default), in order, plus geometry.

``rank``, ``score``, ``rank_low`` and ``rank_high`` repeat ``harm_rank``, ``harm_eb``,
``harm_rank_low`` and ``harm_rank_high`` under the names the maps and report read."""

# --------------------------------------------------------------------------------------
# district profiles
# --------------------------------------------------------------------------------------

POPULATION_YEAR = "population_year"  # year of the residents the rates are per ("mid-2015")
INCIDENTS_PER_YEAR = "incidents_per_year"  # incidents a year: each source's count x 12 / its months, summed
INCIDENTS_PER_1000_YR = "incidents_per_1000_yr"  # incidents_per_year per 1,000 residents
HARM_PER_1000_YR = "harm_per_1000_yr"  # harm a year (annualised the same way) per 1,000 residents
GINI = "gini"  # Gini of incident counts over the district's LSOAs (0-1)
GINI_FLOOR = "gini_chance_floor"  # expected Gini if the same incidents fell at random in proportion to residents

DISTRICT_COLUMNS = [
    C.DISTRICT,
    "lsoas",
    POPULATION,
    POPULATION_YEAR,
    "incidents",
    HARM,
    INCIDENTS_PER_YEAR,
    INCIDENTS_PER_1000_YR,
    HARM_PER_1000_YR,
    "top_n_places",
    "tier1_places",
    "tier2_places",
    "share_lsoas_50pct",
    GINI,
    GINI_FLOOR,
    "median_rank",
]
"""Columns of :func:`hotspots.rank.districts.district_profiles` (``districts.csv``)."""
