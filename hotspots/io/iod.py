"""English Indices of Deprivation: read IoD2019 (Files 2 and 6, sub-domains, indicators) or IoD2025 (File 7).

The vintage comes from the file: :func:`detect_vintage` reads the header of
``[deprivation] domains`` (``LSOA code (2011)``: IoD2019 File 2; ``LSOA code (2021)``:
IoD2025 File 7) and :func:`read_deprivation` returns one frame with the same column
names for both, tagged with its :class:`IodVintage` (column :data:`VINTAGE`).

======================  ========================  ==========================
                        IoD2019                   IoD2025
======================  ========================  ==========================
published               26 September 2019         30 October 2025
LSOAs                   2011 (32,844 in England)  2021 (33,755 in England)
districts               LAD 2019                  LAD 2024
population denominators mid-2015 (File 6)         mid-2022 (in File 7)
IDACI                   numerator (File 8) only   published as a rate
======================  ========================  ==========================

How 2011 and 2021 LSOA codes are reconciled is described in :mod:`hotspots.io.iod2025`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.io.config import DeprivationConfig
from hotspots.io.tables import read_header, read_table, require_columns


@dataclass(frozen=True)
class IodVintage:
    """What a vintage of the English Indices of Deprivation is built on.

    Attributes
    ----------
    year
        2019 or 2025.
    lsoa_year
        LSOA boundaries the index uses (2011 or 2021).
    n_lsoas
        LSOAs in England, the ``N`` of every national rank (32,844 or 33,755).
    population_year
        Mid-year of the population denominators (2015 or 2022).
    lad_year
        Local authority district codes used (2019 or 2024).
    """

    year: int
    lsoa_year: int
    n_lsoas: int
    population_year: int
    lad_year: int

    @property
    def name(self) -> str:
        """e.g. ``"IoD2025"``."""
        return f"IoD{self.year}"

    @property
    def label(self) -> str:
        """e.g. ``"IoD2025 (2021 LSOAs, population mid-2022)"``, for reports."""
        return f"IoD{self.year} ({self.lsoa_year} LSOAs, population mid-{self.population_year})"

    @property
    def title(self) -> str:
        """e.g. ``"English Indices of Deprivation 2025"``."""
        return f"English Indices of Deprivation {self.year}"


IOD2019 = IodVintage(2019, 2011, 32_844, 2015, 2019)
IOD2025 = IodVintage(2025, 2021, 33_755, 2022, 2024)
VINTAGES = {2019: IOD2019, 2025: IOD2025}

VINTAGE = "iod_vintage"
"""Column holding the vintage year (2019 or 2025) in a deprivation frame."""


def detect_vintage(header: list[str], *, path: Path | str = "file") -> IodVintage:
    """The IoD vintage of a file, from its header.

    2019: ``LSOA code (2011)`` (Files 1-8) or ``lsoa11_code`` (humaniverse extracts).
    2025: ``LSOA code (2021)``; when a population column is present its ``mid YYYY`` must be
    2022 and the district code column ``(2024)``.

    Raises
    ------
    InputError
        No LSOA code column of a known vintage, or a 2021-LSOA file whose population or
        district year is not IoD2025's (another release, not supported yet).

    Examples
    --------
    >>> detect_vintage(["LSOA code (2011)", "Index of Multiple Deprivation (IMD) Rank"]).year
    2019
    >>> detect_vintage(["LSOA code (2021)", "Total population: mid 2022"]).n_lsoas
    33755
    """
    cols = [str(h).strip() for h in header]
    if "LSOA code (2011)" in cols or "lsoa11_code" in cols:
        return IOD2019
    if "LSOA code (2021)" in cols:
        for h in cols:
            m = re.match(r"Total population: mid (\d{4})", h)
            if m and int(m.group(1)) != IOD2025.population_year:
                raise InputError(
                    f"{path}: 2021 LSOAs with population mid-{m.group(1)}; only IoD2025 (mid-2022) is supported."
                )
            m = re.match(r"Local Authority District code \((\d{4})\)", h)
            if m and int(m.group(1)) != IOD2025.lad_year:
                raise InputError(
                    f"{path}: 2021 LSOAs with district codes of {m.group(1)}; "
                    "only IoD2025 (2024 districts) is supported."
                )
        return IOD2025
    require_columns(
        Path(path),
        cols,
        ["LSOA code (2011)"],
        hint=" Is this the right file? [deprivation] domains takes IoD2019 File 2 (column 'LSOA code (2011)') "
        "or IoD2025 File 7 (column 'LSOA code (2021)').",
    )
    raise AssertionError("unreachable")  # pragma: no cover


def vintage_of(frame: pd.DataFrame) -> IodVintage:
    """The :class:`IodVintage` of a deprivation frame (its :data:`VINTAGE` column; IoD2019 without one).

    Raises
    ------
    InputError
        The frame mixes vintages or names an unknown one.
    """
    if VINTAGE in frame.columns:
        years = pd.unique(frame[VINTAGE].dropna())
        if len(years) > 1:
            raise InputError(f"the deprivation frame mixes IoD vintages {sorted(map(int, years))}; use one.")
        if len(years) == 1:
            y = int(years[0])
            if y not in VINTAGES:
                raise InputError(f"unknown IoD vintage {y!r}; known: {sorted(VINTAGES)}.")
            return VINTAGES[y]
    return IOD2019


def national_n(frame: pd.DataFrame) -> int:
    """``N`` of the national ranks in a deprivation frame: 32,844 (IoD2019) or 33,755 (IoD2025)."""
    return vintage_of(frame).n_lsoas


# --------------------------------------------------------------------------------------
# IoD2019
# --------------------------------------------------------------------------------------

IOD_FILE2 = {
    "LSOA code (2011)": C.LSOA_CODE,
    "LSOA name (2011)": "iod_lsoa_name",
    "Local Authority District code (2019)": "lad19_code",
    "Local Authority District name (2019)": "lad19_name",
    "Index of Multiple Deprivation (IMD) Rank": "imd_rank",
    "Index of Multiple Deprivation (IMD) Decile": "imd_decile",
    "Income Rank": "income_rank",
    "Income Decile": "income_decile",
    "Employment Rank": "employment_rank",
    "Employment Decile": "employment_decile",
    "Education, Skills and Training Rank": "education_rank",
    "Education, Skills and Training Decile": "education_decile",
    "Health Deprivation and Disability Rank": "health_rank",
    "Health Deprivation and Disability Decile": "health_decile",
    "Crime Rank": "crime_rank",
    "Crime Decile": "crime_decile",
    "Barriers to Housing and Services Rank": "barriers_rank",
    "Barriers to Housing and Services Decile": "barriers_decile",
    "Living Environment Rank": "living_env_rank",
    "Living Environment Decile": "living_env_decile",
}
"""IoD2019 File 2 header prefixes (text before " (where ...)") and our column names."""

IOD_FILE6 = {
    "LSOA code (2011)": C.LSOA_CODE,
    "Total population: mid 2015": C.POPULATION,
    "Dependent Children aged 0-15": C.CHILDREN_0_15,
    "Population aged 16-59": "pop_16_59",
    "Older population aged 60 and over": "pop_60_plus",
    "Working age population 18-59/64": "working_age",
}

IOD_SUBDOMAINS = {
    "lsoa11_code": C.LSOA_CODE,
    "Children_and_young_people_rank": C.CYP_RANK,
    "Children_and_young_people_decile": C.CYP_DECILE,
    "Adult_skills_rank": "adult_skills_rank",
    "Geographical_barriers_rank": "geographical_barriers_rank",
    "Wider_barriers_rank": "wider_barriers_rank",
    "Indoors_rank": "indoors_rank",
    "Outdoors_rank": "outdoors_rank",
}

IOD_INDICATORS = {
    "lsoa11_code": C.LSOA_CODE,
    "income_deprivation_affecting_children_index_idaci_numerator": C.IDACI_NUMERATOR,
    "income_domain_numerator": "income_numerator",
}

TEXT_COLUMNS = {C.LSOA_CODE, "iod_lsoa_name", "lad19_code", "lad19_name", "lad_code", "lad_name"}
"""Columns of a deprivation frame that stay text; every other one is a number."""

EXTRA_COLUMNS = {"subdomains": C.CYP_RANK, "indicators": C.IDACI_NUMERATOR}
"""The column each optional IoD2019 file adds (see :func:`absent_from`)."""


def match_prefixes(header: list[str], wanted: dict[str, str]) -> dict[str, str]:
    """Map each actual header to our name when it equals a prefix or continues it with " ", "(" or ":".

    The longest matching prefix wins, so ``Income Deprivation Affecting Children Index (IDACI)
    Score`` is not taken for ``Income Score``; each of our names is used once.

    Examples
    --------
    >>> match_prefixes(["Income Score (rate)", "Crime Rank (where 1 is most deprived)"],
    ...                {"Income Score": "income_score", "Crime Rank": "crime_rank"})
    {'Income Score (rate)': 'income_score', 'Crime Rank (where 1 is most deprived)': 'crime_rank'}
    """
    out: dict[str, str] = {}
    prefixes = sorted(wanted, key=len, reverse=True)
    for h in header:
        for p in prefixes:
            if h == p or (h.startswith(p) and h[len(p)] in " (:"):
                if wanted[p] not in out.values():
                    out[h] = wanted[p]
                break
    return out


def to_numbers(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Every column not in :data:`TEXT_COLUMNS` as numbers (thousands separators removed).

    Raises
    ------
    InputError
        A value is present but not a number (naming the row and column).
    """
    for col in df.columns:
        if col in TEXT_COLUMNS:
            df[col] = df[col].str.strip()
            continue
        if df[col].dtype.kind in "iuf":  # the CSV reader parsed every value as a number
            continue
        text = df[col] if df[col].dtype.kind in "OTU" else df[col].astype("string")
        vals = text.str.replace(",", "", regex=False).str.strip()
        num = pd.to_numeric(vals, errors="coerce")
        bad = num.isna() & vals.notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"{path}: row {i + 1}, column {col!r}: {vals.iloc[i]!r} is not a number.")
        df[col] = num
    return df


def check_unique(df: pd.DataFrame, path: Path) -> None:
    """Raise :class:`InputError` when an LSOA code appears twice."""
    dup = df[C.LSOA_CODE].duplicated()
    if dup.any():
        raise InputError(f"{path}: LSOA code {df[C.LSOA_CODE][dup].iloc[0]!r} appears more than once.")


def read_iod_table(path: Path, wanted: dict[str, str], required: list[str], *, what: str) -> pd.DataFrame:
    """Read the columns of an IoD2019 CSV matched by header prefix, numbers as numbers."""
    header = read_header(path)
    vintage = detect_vintage(header, path=path)
    if vintage is not IOD2019:
        raise InputError(
            f"{path} is an {vintage.name} file ({vintage.lsoa_year} LSOAs), but [deprivation] {what} takes an IoD2019 "
            f"file. Give IoD2025 File 7 as [deprivation] domains alone: it carries the rest."
        )
    mapping = match_prefixes(header, wanted)
    got = set(mapping.values())
    for prefix in required:
        if wanted[prefix] not in got:
            require_columns(path, header, [prefix], hint=f" Is this the right IoD2019 file for [deprivation] {what}?")
    numbers = [h for h, name in mapping.items() if name not in TEXT_COLUMNS]
    df, _ = read_table(path, usecols=list(mapping), thousands=",", numbers=numbers)
    df = to_numbers(df.rename(columns=mapping), path)
    check_unique(df, path)
    return df


def _merge_extra(df: pd.DataFrame, extra: pd.DataFrame, role: str, absent: dict[str, set[str]]) -> pd.DataFrame:
    out = df.merge(extra, on=C.LSOA_CODE, how="left", validate="1:1", indicator="_in")
    absent[role] = set(out.loc[out["_in"] == "left_only", C.LSOA_CODE])
    return out.drop(columns="_in")


def read_iod2019(cfg: DeprivationConfig) -> pd.DataFrame:
    """IoD2019 Files 2 and 6 with the optional sub-domains and indicators (see :func:`read_deprivation`)."""
    if cfg.population is None:
        raise InputError(
            f"[deprivation] domains {cfg.domains} is IoD2019 File 2, which needs its population denominators: "
            "add population = IoD2019 File 6 (the bundled data/iod2019/File_6_-_IoD2019_Population_Denominators"
            ".csv.gz) to [deprivation]."
        )
    ranks = read_iod_table(
        cfg.domains, IOD_FILE2, ["LSOA code (2011)", "Index of Multiple Deprivation (IMD) Rank"], what="domains"
    )
    pop = read_iod_table(
        cfg.population, IOD_FILE6, ["LSOA code (2011)", "Total population: mid 2015"], what="population"
    )
    df = ranks.merge(pop, on=C.LSOA_CODE, how="left", validate="1:1")
    absent: dict[str, set[str]] = {}
    if cfg.subdomains is not None:
        sub = read_iod_table(
            cfg.subdomains, IOD_SUBDOMAINS, ["lsoa11_code", "Children_and_young_people_rank"], what="subdomains"
        )
        df = _merge_extra(df, sub, "subdomains", absent)
    if cfg.indicators is not None:
        ind = read_iod_table(
            cfg.indicators,
            IOD_INDICATORS,
            ["lsoa11_code", "income_deprivation_affecting_children_index_idaci_numerator"],
            what="indicators",
        )
        df = _merge_extra(df, ind, "indicators", absent)
    df[VINTAGE] = IOD2019.year
    df.attrs["absent"] = absent
    return df
