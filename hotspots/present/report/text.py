"""The report's words: plain labels for codes, the glossary, the measured claims, methods and caveats.

Everything the Board reads that is not a number from the run lives here, so that it can be
checked in one place. The claims about how far a "hot 99 %" or a "90 % likely rank" can be
trusted are not written from the nominal levels: they quote the false-alarm rates and
coverages measured by simulation and backtest (:data:`HOT_SPOT_CALIBRATION`,
:data:`RANK_INTERVAL_COVERAGE`, with the page of the docs that gives the measurement), and
the report picks the one matching the method the run actually used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hotspots.io.sites import SOURCE_CANDIDATE, SOURCE_DEFIB, SOURCE_KIT, SOURCE_LOCATION, SOURCE_VENUE
from hotspots.prepare.scope import SCOPE_CATEGORIES

if TYPE_CHECKING:
    from hotspots.prepare.study import Study

# --------------------------------------------------------------------------------------
# Plain labels for codes
# --------------------------------------------------------------------------------------


def scope_label(code: object) -> str:
    """A VRU scope category in words (the category's description up to its first bracket or colon).

    Examples
    --------
    >>> scope_label("violence_sexual"), scope_label("robbery"), scope_label("weapons_possession")
    ('Violence and sexual offences', 'Robbery', 'Possession of weapons')
    >>> scope_label("something_new")
    'Something new'
    """
    code = str(code)
    desc = SCOPE_CATEGORIES.get(code)
    if not desc:
        return code.replace("_", " ").capitalize()
    return re.split(r" \(|: ", desc, maxsplit=1)[0].strip()


_SCOPE_CODE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, SCOPE_CATEGORIES), key=len, reverse=True)) + r")\b")


def plain(text: str) -> str:
    """``text`` with every scope code (``violence_sexual``, ...) replaced by its plain label, lower case.

    Examples
    --------
    >>> plain("2020-01 to 2020-12, violence_sexual, 191 LSOAs")
    '2020-01 to 2020-12, violence and sexual offences, 191 LSOAs'
    """
    return _SCOPE_CODE.sub(lambda m: scope_label(m.group(1)).lower(), str(text))


def scopes_label(codes: object) -> str:
    """A ``", "``-separated list of scope codes in words.

    Examples
    --------
    >>> scopes_label("robbery, violence_sexual")
    'robbery, violence and sexual offences'
    """
    parts = [p.strip() for p in str(codes).split(",") if p.strip()]
    return ", ".join(scope_label(p).lower() for p in parts)


KIT_SOURCE_LABELS = {
    SOURCE_VENUE: "licensed venue",
    SOURCE_LOCATION: "street point where incidents are recorded",
    SOURCE_CANDIDATE: "candidate site you supplied",
    SOURCE_KIT: "existing kit",
    SOURCE_DEFIB: "defibrillator",
}
"""Where a kit site comes from, in words (``bleed_kits.csv`` ``source``)."""


def kit_source_label(code: object) -> str:
    """A kit site's source in words."""
    return KIT_SOURCE_LABELS.get(str(code), str(code).replace("_", " "))


def tier_words(name: object) -> str:
    """A tier name with a capital first letter (``"act now: high harm"`` -> ``"Act now: high harm"``)."""
    s = str(name).strip()
    return s[:1].upper() + s[1:]


# --------------------------------------------------------------------------------------
# Measured claims
# --------------------------------------------------------------------------------------


BAR_99 = 2.0
"""The calibration bar: at most this per cent of null maps (4 of 200) with any unit hot at 99 % ..."""
BAR_95 = 6.0
"""... and at most this per cent (12 of 200) with any unit hot at 95 % or more (tests/test_calibration.py)."""


@dataclass(frozen=True)
class Calibration:
    """How often a hot spot method calls a unit hot where there is none, measured on simulated maps.

    Attributes
    ----------
    grid99, lsoa99
        Share (per cent) of simulated maps with no hot spot by construction that still show at
        least one ``hot 99%`` grid cell / LSOA.
    grid95, lsoa95
        The same for ``hot 95%`` or more.
    maps
        Simulated maps per layer.
    note
        Anything the Board must know besides the rates (empty if nothing).
    """

    grid99: float
    lsoa99: float
    grid95: float
    lsoa95: float
    maps: int
    note: str = ""

    def ok(self, layer: str) -> bool:
        """Whether the method is within the calibration bar on ``layer`` (``"lsoa"`` or ``"grid"``)."""
        p99, p95 = (self.lsoa99, self.lsoa95) if layer == "lsoa" else (self.grid99, self.grid95)
        return p99 <= BAR_99 and p95 <= BAR_95


HOT_SPOT_CALIBRATION: dict[str, Calibration] = {
    "exact": Calibration(0.5, 0.0, 1.0, 2.5, 200),
    "analytic": Calibration(18.5, 69.0, 43.5, 82.5, 200),
    "eb_rate": Calibration(9.5, 1.0, 20.0, 4.5, 200),
    "permutation": Calibration(
        0.0,
        0.0,
        0.0,
        0.0,
        50,
        note="it ignores the extra variation between places that real counts show, so on real data it calls "
        "far more places hot than the default test",
    ),
}
"""False alarms of each ``[detect] inference`` method: 4,200 incidents with their real harm marks placed
at random over the bundled area (complete spatial randomness on the grid, equal rate per resident on the
LSOAs), seed 20261129; docs/detect.md, "Measured false alarms and power" (``scripts/null_calibration.py``)."""

CALIBRATION_SOURCE = "docs/detect.md"
"""Where the hot spot calibration is documented."""

DEFAULT_INFERENCE = "analytic"
"""The hot spot test assumed when the run's detect stage does not record one (versions before the exact test)."""


def inference_method(detect_auto: dict[str, Any] | None) -> str:
    """The hot spot test the detect stage used (``[detect] inference``), from its automatic choices.

    Examples
    --------
    >>> inference_method({"lsoa_inference": {"inference": "exact"}})
    'exact'
    >>> inference_method({})
    'analytic'
    """
    for key in ("lsoa_inference", "grid_inference"):
        info = (detect_auto or {}).get(key)
        if isinstance(info, dict) and info.get("inference"):
            return str(info["inference"])
    return DEFAULT_INFERENCE


@dataclass(frozen=True)
class Coverage:
    """How often a rank interval held in backtests (share of places whose next rank fell inside it).

    Attributes
    ----------
    next_month, next_quarter
        Share (0-1) over rolling folds, next month and next quarter.
    width_month
        Median width (ranks) of the interval, next month.
    data
        What it was measured on.
    short
        The same in a few words (page 1).
    source
        The docs page with the measurement.
    """

    next_month: float
    next_quarter: float
    width_month: float
    data: str
    short: str
    source: str = "docs/rank.md"


RANK_INTERVAL_COVERAGE: dict[str, Coverage] = {
    "axes": Coverage(
        0.908,
        0.889,
        126,
        "the example force's 2020 City violence (182 LSOAs, rolling folds)",
        "the example force's 2020 monthly data",
    ),
    "composite": Coverage(
        0.457,
        0.600,
        30,
        "the example force's 2020 City violence (182 LSOAs, rolling folds)",
        "the example force's 2020 monthly data",
    ),
}
"""Measured coverage of the nominal 90 % rank intervals (docs/rank.md, "Rank intervals that hold";
``scripts/analysis_rank_intervals.py``)."""


# --------------------------------------------------------------------------------------
# Glossary
# --------------------------------------------------------------------------------------

GLOSSARY: list[tuple[str, str]] = [
    (
        "LSOA",
        "Lower Layer Super Output Area: a small census area of 1,000 to 3,000 residents (400 to 1,200 "
        "households). The report's 'places' are LSOAs.",
    ),
    (
        "Harm",
        "Incidents weighted by seriousness (proxies from the ONS Crime Severity Score): by default a robbery "
        "counts 4, a weapons possession 1.5 and a violent or sexual offence 1.",
    ),
    (
        "Gi* (Getis-Ord)",
        "A test of whether the violence in and around a place (the place and its neighbours) is more than "
        "chance would put there. 'Hot 99 %' is its strongest class; what that is worth is stated beside it.",
    ),
    (
        "FDR",
        "False discovery rate: when hundreds of places are tested at once, some pass by luck. The Benjamini-"
        "Hochberg correction aims to keep the share of false hot spots among those called hot to the level named "
        "(1 % for 'hot 99 %'); whether the test underneath holds that level was checked by simulation, and the "
        "report says what was found.",
    ),
    (
        "Predictive interval",
        "The range a place's rank is likely to fall in next period ('90 % likely rank 1-5'), drawn from "
        "simulated next periods. How often such ranges held in backtests is stated beside them.",
    ),
    (
        "Mann-Kendall",
        "A test for a steady rise or fall over time, used to sort emerging hot spots (new, intensifying, "
        "persistent, ...).",
    ),
    (
        "Gini",
        "How unevenly incidents spread over places: 0 = every place the same, 1 = all in one place. With few "
        "incidents it is high by chance alone, so it is shown beside its chance floor: the Gini the same "
        "number of incidents gives when they fall at random in proportion to residents.",
    ),
    (
        "IMD",
        "Index of Multiple Deprivation (English Indices of Deprivation). The need axis uses it without its "
        "crime domain, so recorded crime is not counted twice.",
    ),
    (
        "IDACI",
        "Income Deprivation Affecting Children Index: the share of children living in income-deprived families.",
    ),
    (
        "PEI",
        "Predictive Efficiency Index (Hunt 2016): the share of next period's incidents a set of places "
        "catches, against the most any set of the same size could catch (1 = perfect). Used by "
        "hotspots evaluate.",
    ),
    (
        "MCLP",
        "Maximal covering location problem (Church & ReVelle 1974): choose the sites for a fixed number of "
        "kits that put the most harm within a short walk of one.",
    ),
]
"""The glossary printed in the report: term, meaning in plain words."""

NEEDS_DEPRIVATION = ("IMD", "IDACI")
"""Glossary terms shown only when the study has deprivation data."""


def glossary(study: Study) -> list[tuple[str, str]]:
    """The glossary for this study: the deprivation terms only when it has deprivation data.

    The IMD entry names the deprivation release the study used (e.g. "English Indices of
    Deprivation 2019"), so a force without it (a Welsh force) is not told about England's index.
    """
    v = getattr(study, "vintage", None)
    has = v is not None or getattr(study, "deprivation", None) is not None
    out = []
    for term, words in GLOSSARY:
        if term in NEEDS_DEPRIVATION and not has:
            continue
        named = words.replace("(English Indices of Deprivation)", f"({v.title})") if term == "IMD" and v else words
        out.append((term, named))
    return out


# --------------------------------------------------------------------------------------
# Methods and caveats
# --------------------------------------------------------------------------------------

METHOD_TEXT = {
    "scope": "Incidents are street-level crimes in the VRU's scope (violence and sexual offences, robbery, "
    "possession of weapons), each with a harm weight from the ONS Crime Severity Score (category-level proxies).",
    "hot_spots": "Hot spots: a regular grid and the LSOAs; kernel density of harm; Getis-Ord Gi* "
    "neighbourhoods tested with Benjamini-Hochberg false discovery rate control and classed hot or cold at "
    "99, 95 and 90 % (Getis & Ord 1992; Ord & Getis 1995). Test used in this run: {method}.",
    "axes": "Ranking on two axes (docs/rank.md). Harm: the empirical-Bayes smoothed harm of each place "
    "(Clayton & Kaldor 1987; Marshall 1991), which never reorders places; its 90 % predictive interval comes "
    "from negative binomial draws of the next period. Need: the mean of the national percentiles of the IMD "
    "without its Crime domain, the derived IDACI rate and the Children and Young People education sub-domain. "
    "Tiers: act now = the top share of places on harm; prevent = the rest with need in the top share; "
    "monitor = the others.",
    "composite": 'Ranking by one composite score (the earlier method, [rank] method = "composite"): '
    "harm, hot spot strength, night-time-economy exposure, deprivation and youth need, percentile-scaled and "
    "weighted; Monte Carlo draws give rank intervals.",
    "emerging": "Emerging hot spots: the hot spot test month by month on the grid and a Mann-Kendall trend test "
    "per cell, classed with the ArcGIS Emerging Hot Spot Analysis categories.",
    "kits": "Bleed-control kits: a maximal covering location model (Church & ReVelle 1974) solved exactly, "
    "choosing the sites that put the most harm within the walking radius; kits are listed in the order of the "
    "harm each adds, with the other sites that could replace each one within 1 % of the optimum.",
    "institutions": "Incidents that police.uk places at prisons, hospitals, police stations, courts and custody "
    "suites are flagged at load and left out of the ranking and the kit siting by default "
    "(institutions.csv lists them).",
}
"""One sentence or two per method, in the order the report lists them."""


LSOA_CODE_YEARS = {"LSOA11CD": "2011 ", "LSOA21CD": "2021 "}
"""The LSOA vintage named by the boundaries' code column."""


def caveats(study: Study) -> list[str]:
    """The study's caveats (scope codes in words) and those about boundaries, deprivation and venues.

    Parameters
    ----------
    study
        The loaded study (``caveats``, ``vintage``, ``venues``, ``config``).
    """
    out = [plain(c) for c in study.caveats]
    said = " ".join(out).lower()
    code_column = str(getattr(study.config.boundaries, "lsoa_code_column", ""))
    year = LSOA_CODE_YEARS.get(code_column.upper(), "")
    out.append(
        f"Places are {year}Lower Layer Super Output Areas on the configured boundaries; rows whose LSOA code is of "
        "another vintage (newer police.uk files use 2021 codes) are assigned to these areas by location."
    )
    v = getattr(study, "vintage", None)
    if v is not None and v.name == "IoD2019":
        out.append(
            "The English Indices of Deprivation 2019 (IoD2019) mostly describe 2015/16; deprivation may have "
            "changed since."
        )
    elif v is not None:
        out.append(
            f"The {v.title} ({v.name}) describe the years before its publication (population mid-{v.population_year}); "
            "deprivation may have changed since."
        )
    venues_cfg = getattr(study.config, "venues", None)
    snap = venues_cfg.snapshot if venues_cfg is not None else None
    if getattr(study, "venues", None) is not None and snap and "snapshot" not in said:
        out.append(f"The venue list is a {snap} snapshot: venues opened or closed since are not reflected.")
    return out


ATTRIBUTION = [  # the default; a loaded study gives its own (study.attribution: only the data it used)
    "Crime: Contains public sector information licensed under the Open Government Licence v3.0 (data.police.uk).",
    "Boundaries: Source: Office for National Statistics licensed under the OGL v3.0. Contains OS data © Crown "
    "copyright and database right 2011/2022.",
    "Deprivation: English Indices of Deprivation 2019, Ministry of Housing, Communities & Local Government (MHCLG), "
    "licensed under the Open Government Licence v3.0.",
    "Venues: Open Pubs (GetTheData, from Food Standards Agency food hygiene ratings and the ONS Postcode Directory), "
    "licensed under the Open Government Licence v3.0; contains OS data © Crown copyright and database right, Royal "
    "Mail data © Royal Mail copyright and database right, and National Statistics data © Crown copyright and "
    "database right.",
]
"""Attribution lines printed in the report (a study that carries its own, ``study.attribution``, wins)."""
