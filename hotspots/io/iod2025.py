"""IoD2025 File 7 and the reconciliation of 2011 and 2021 LSOA codes.

:func:`read_iod2025_file7` reads File 7 of the English Indices of Deprivation 2025 (all
ranks, scores, deciles and mid-2022 population denominators, 2021 LSOAs) into the frame
:func:`hotspots.io.load.read_deprivation` returns for IoD2019, with the same column names
where the meaning is the same, plus the scores and the official IDACI rate.

Only the format can be tested offline: the real header and first five rows of File 7 are
used by the tests; the national file (33,755 rows), 2021 LSOA boundaries and an ONS LSOA
2011 -> 2021 lookup are not available here.

LSOA 2011 and 2021 codes
------------------------
Everything is keyed on the LSOA code of the boundary file. IoD2019 uses 2011 LSOAs and
IoD2025 2021 LSOAs; police.uk files carry 2011 codes up to 2021 and 2021 codes from 2022.
Most 2021 LSOAs are unchanged 2011 LSOAs with the same code; the rest were split, merged or
redrawn and have new codes. The toolkit reconciles them like this:

* **Crime rows** keep their own LSOA code only when it is one of the study's LSOAs (and
  the point lies within 1 km of it); a code of the other vintage is unknown to the study,
  so the row is assigned by its location (point in polygon, else the nearest polygon within
  ``nearest_tolerance_m``). Mixed-vintage crime files therefore work with either boundary
  set, and ``hotspots check`` counts the rows whose code exists in neither the boundary
  file nor the deprivation file.
* **Deprivation must match the boundaries**: IoD2019 with 2011 boundaries, IoD2025 with
  2021 boundaries (``lsoa_code_column = "LSOA21CD"``). A mismatch leaves the changed LSOAs
  without deprivation, and loading warns with their number.
* With the ONS "LSOA (2011) to LSOA (2021)" lookup, :func:`recode_lsoa` maps codes exactly
  where the change is one-to-one or a merge, and leaves split LSOAs to the location.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.io.iod import IOD2025, VINTAGE, check_unique, detect_vintage, match_prefixes, to_numbers
from hotspots.io.tables import clean_header, read_header, read_table

_DOMAIN_PREFIX = {
    "imd": "Index of Multiple Deprivation (IMD)",
    "income": "Income",
    "employment": "Employment",
    "education": "Education, Skills and Training",
    "health": "Health Deprivation and Disability",
    "crime": "Crime",
    "barriers": "Barriers to Housing and Services",
    "living_env": "Living Environment",
    "idaci": "Income Deprivation Affecting Children Index (IDACI)",
    "idaopi": "Income Deprivation Affecting Older People (IDAOPI)",
    "cyp": "Children and Young People Sub-domain",
    "adult_skills": "Adult Skills Sub-domain",
    "geographical_barriers": "Geographical Barriers Sub-domain",
    "wider_barriers": "Wider Barriers Sub-domain",
    "indoors": "Indoors Sub-domain",
    "outdoors": "Outdoors Sub-domain",
}
"""IoD2025 File 7 header stems; each has ``<stem> Score``, ``Rank`` and ``Decile`` columns."""

IDACI_OFFICIAL = "idaci_rate"
"""Column of the official IDACI rate (IoD2025 File 7's IDACI score, a share 0-1)."""


def _file7_columns() -> dict[str, str]:
    out = {
        "LSOA code (2021)": C.LSOA_CODE,
        "LSOA name (2021)": "iod_lsoa_name",
        "Local Authority District code (2024)": "lad_code",
        "Local Authority District name (2024)": "lad_name",
        "Total population: mid 2022": C.POPULATION,
        "Dependent Children aged 0-15: mid 2022": C.CHILDREN_0_15,
        "Older population aged 60 and over: mid 2022": "pop_60_plus",
        "Working age population 18-66": "working_age",
    }
    for key, stem in _DOMAIN_PREFIX.items():
        out[f"{stem} Score"] = f"{key}_score"
        out[f"{stem} Rank"] = f"{key}_rank"
        out[f"{stem} Decile"] = f"{key}_decile"
    out["Income Deprivation Affecting Children Index (IDACI) Score"] = IDACI_OFFICIAL
    out["Income Deprivation Affecting Older People (IDAOPI) Score"] = "idaopi_rate"
    return out


IOD2025_FILE7 = _file7_columns()
"""IoD2025 File 7 header prefixes -> our column names. Headers are matched by prefix because
they end in explanations (``... Rank (where 1 is most deprived)``) and one is cut short in the
published file (``Children and Young People Sub-domain Decile (where 1 is most deprived 10% of
LSO``)."""

IOD2025_REQUIRED = ["LSOA code (2021)", "Index of Multiple Deprivation (IMD) Rank"] + [
    f"{_DOMAIN_PREFIX[d]} Rank" for d in C.DOMAINS
]

_WHOLE = {C.POPULATION, C.CHILDREN_0_15, "pop_60_plus", "working_age"}


def _as_integers(df: pd.DataFrame) -> pd.DataFrame:
    """Ranks, deciles and counts as integers where every value is whole and present."""
    for col in df.columns:
        if col.endswith(("_rank", "_decile")) or col in _WHOLE:
            num = df[col]
            if num.notna().all() and (num % 1 == 0).all():
                df[col] = num.astype("int64")
    return df


def _check_ranks(df: pd.DataFrame, path: Path) -> None:
    n = IOD2025.n_lsoas
    for col in [c for c in df.columns if c.endswith("_rank")]:
        bad = df[col].notna() & ((df[col] < 1) | (df[col] > n) | (df[col] % 1 != 0))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"{path}: row {i + 1} (LSOA {df[C.LSOA_CODE].iloc[i]!r}), column {col!r}: "
                f"{df[col].iloc[i].item()!r} is not a national rank 1..{n:,}."
            )
    if len(df) > n:
        raise InputError(f"{path}: {len(df):,} rows, more than the {n:,} LSOAs of England in IoD2025.")


def read_iod2025_file7(path: Path) -> pd.DataFrame:
    """Read IoD2025 File 7 (all ranks, scores, deciles and population denominators).

    Parameters
    ----------
    path
        ``File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv`` (optionally
        gzipped), as published on gov.uk.

    Returns
    -------
    pandas.DataFrame
        One row per LSOA (2021) with, as for IoD2019: ``lsoa_code``, ``iod_lsoa_name``,
        ``imd_rank``, ``imd_decile``, ``<domain>_rank``/``_decile`` for the seven domains,
        ``population``, ``children_0_15``, ``cyp_rank``, ``cyp_decile`` and the other
        sub-domain ranks. In addition: ``lad_code``/``lad_name`` (LAD 2024), every
        ``*_score``, ``idaci_rate`` and ``idaopi_rate`` (the official rates, 0-1) and
        ``iod_vintage`` = 2025. Not in File 7: ``idaci_numerator`` (the rate is published
        instead), ``pop_16_59``, ``lad19_code``.

    Raises
    ------
    InputError
        Not an IoD2025 file, a required column missing (LSOA code, IMD and the seven
        domain ranks), a value that is not a number, a rank outside 1..33,755, a duplicate
        LSOA code, or more rows than LSOAs in England.

    Notes
    -----
    A file with fewer than 33,755 rows (an extract) is read as it is; national re-ranking
    still uses N = 33,755 because the ranks in the file are national.
    """
    header = read_header(path)
    vintage = detect_vintage(header, path=path)
    if vintage is not IOD2025:
        raise InputError(f"{path} is an {vintage.name} file ({vintage.lsoa_year} LSOAs), not IoD2025 File 7.")
    mapping = match_prefixes(header, IOD2025_FILE7)
    got = set(mapping.values())
    for req in IOD2025_REQUIRED:
        if IOD2025_FILE7[req] not in got:
            raise InputError(
                f"{path}: column {req!r} (or one starting with it) is missing; is this IoD2025 File 7 "
                "(All Ranks, Scores, Deciles and Population Denominators)?"
            )
    raw, _ = read_table(path, usecols=list(mapping))
    raw.columns = [mapping[clean_header(c)] for c in raw.columns]
    df = _as_integers(to_numbers(raw, path))
    _check_ranks(df, path)
    check_unique(df, path)
    df[VINTAGE] = IOD2025.year
    df.attrs["absent"] = {}
    return df


def recode_lsoa(
    codes: pd.Series, lookup: pd.DataFrame, *, source: str = "LSOA11CD", target: str = "LSOA21CD"
) -> pd.Series:
    """Recode LSOA codes of one vintage to another where the lookup gives exactly one target.

    Parameters
    ----------
    codes
        LSOA codes to recode (e.g. the ``LSOA code`` of police.uk rows).
    lookup
        An ONS LSOA 2011 -> 2021 lookup (``LSOA11CD``, ``LSOA21CD``), or any two-column
        table of source -> target codes.
    source, target
        Column names in ``lookup``.

    Returns
    -------
    pandas.Series
        Aligned to ``codes``: the target code where the source code has exactly one target
        (unchanged and merged LSOAs); the original code where it is not in the lookup;
        missing (``<NA>``) where it has several targets (split LSOAs), so that the row is
        assigned by its location instead.

    Raises
    ------
    InputError
        ``source`` or ``target`` is not a column of ``lookup``.

    Examples
    --------
    >>> lk = pd.DataFrame({"LSOA11CD": ["A", "B", "C", "C"], "LSOA21CD": ["A", "X", "C1", "C2"]})
    >>> recode_lsoa(pd.Series(["A", "B", "C", "Z"]), lk).tolist()
    ['A', 'X', <NA>, 'Z']
    """
    for col in (source, target):
        if col not in lookup.columns:
            raise InputError(f"recode_lsoa: the lookup has no column {col!r}; columns: {list(lookup.columns)!r}.")
    pairs = lookup[[source, target]].dropna().astype(str).drop_duplicates()
    n_targets = pairs.groupby(source)[target].nunique()
    one = pairs[pairs[source].isin(n_targets.index[n_targets == 1])].set_index(source)[target]
    many = set(n_targets.index[n_targets > 1])
    s = pd.Series(codes, dtype="string").str.strip()
    out = s.map(one).astype("string")
    keep = out.isna() & ~s.isin(many)
    out[keep] = s[keep]
    return out
