"""Police force areas of England and Wales: which districts and LSOAs each force covers.

Two small tables ship beside this module (sources and checks in ``data/README.md``):

* ``forces_ew.csv``: the 43 territorial forces (39 English, 4 Welsh): ``force`` (the
  data.police.uk force id, as in its file names ``YYYY-MM-<force>-street.csv``),
  ``force_name`` (police.uk's name), ``pfa_code``/``pfa_name`` (ONS police force area),
  ``country``, ``districts``;
* ``lad19_pfa_ew.csv``: every local authority district of IoD2019 (LAD 2019, England) and of
  Wales with its ``force``: ``lad19cd, lad19nm, country, pfa_code, pfa_name, source, force``.

A force's area is its districts; its LSOAs are the LSOAs of those districts (IoD2019 File 2
gives the LAD 2019 of every English LSOA; the bundled England & Wales boundary file carries
``LAD19CD`` for Welsh LSOAs too). :func:`compare_with_police_uk` checks that area against the
LSOA codes in the force's own police.uk files.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from hotspots.errors import InputError

FORCES_TABLE = Path(__file__).with_name("forces_ew.csv")
"""The 43 territorial forces of England and Wales (see the module docstring)."""

DISTRICTS_TABLE = Path(__file__).with_name("lad19_pfa_ew.csv")
"""District (LAD 2019) -> police force area table (see the module docstring)."""

FORCE_COLUMNS = ["force", "force_name", "pfa_code", "pfa_name", "country", "districts"]
DISTRICT_COLUMNS = ["lad19cd", "lad19nm", "country", "pfa_code", "pfa_name", "source", "force"]

ALIASES: dict[str, str] = {
    "met": "metropolitan",
    "mps": "metropolitan",
    "metropolitan-police": "metropolitan",
    "london-metropolitan": "metropolitan",
    "gmp": "greater-manchester",
    "manchester": "greater-manchester",
    "london-city-of": "city-of-london",
    "city-london": "city-of-london",
    "col": "city-of-london",
    "notts": "nottinghamshire",
    "avon-somerset": "avon-and-somerset",
    "devon-cornwall": "devon-and-cornwall",
    "dyfed-and-powys": "dyfed-powys",
    "west-mercia-police": "west-mercia",
    "thames-valley-police": "thames-valley",
}
"""Common short or alternative names (normalised) -> police.uk force id."""

NOT_TERRITORIAL: dict[str, str] = {
    "btp": "British Transport Police is a national force for the railways with no area of its own",
    "british-transport": "British Transport Police is a national force for the railways with no area of its own",
    "northern-ireland": "Northern Ireland has no LSOAs and no English deprivation index",
    "psni": "Northern Ireland has no LSOAs and no English deprivation index",
    "police-scotland": "Scotland is not covered by data.police.uk street-level files",
    "scotland": "Scotland is not covered by data.police.uk street-level files",
}
"""Names that are real forces but have no area this toolkit can analyse, and why."""

_DROP_WORDS = {"police", "constabulary", "service", "force", "the", "area", "pfa"}


@dataclass(frozen=True)
class Force:
    """One territorial police force.

    Attributes
    ----------
    force
        data.police.uk force id (e.g. ``"west-yorkshire"``), as in its file names.
    force_name
        police.uk's name (e.g. ``"West Yorkshire Police"``).
    pfa_code, pfa_name
        ONS police force area code and name (e.g. ``"E23000010"``, ``"West Yorkshire"``).
    country
        ``"England"`` or ``"Wales"``.
    """

    force: str
    force_name: str
    pfa_code: str
    pfa_name: str
    country: str

    @property
    def english(self) -> bool:
        """True for the 39 English forces (the English Indices of Deprivation apply)."""
        return self.country == "England"


@cache
def _forces(path: Path = FORCES_TABLE) -> pd.DataFrame:
    df = pd.read_csv(path, dtype={"districts": "int64"}, keep_default_na=False).astype(
        {c: str for c in FORCE_COLUMNS if c != "districts"}
    )
    missing = [c for c in FORCE_COLUMNS if c not in df.columns]
    if missing:  # pragma: no cover - packaging error
        raise InputError(f"{path}: column(s) {missing!r} missing; reinstall hotspots.")
    return df[FORCE_COLUMNS]


@cache
def _districts(path: Path = DISTRICTS_TABLE) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in DISTRICT_COLUMNS if c not in df.columns]
    if missing:  # pragma: no cover - packaging error
        raise InputError(f"{path}: column(s) {missing!r} missing; reinstall hotspots.")
    return df[DISTRICT_COLUMNS]


def list_forces(*, country: str | None = None) -> pd.DataFrame:
    """List the territorial forces of England and Wales, sorted by force id.

    Parameters
    ----------
    country
        ``"England"`` (39 forces), ``"Wales"`` (4) or None for all 43.

    Returns
    -------
    pandas.DataFrame
        Columns ``force`` (police.uk id), ``force_name`` (police.uk name), ``pfa_code``,
        ``pfa_name`` (ONS police force area), ``country``, ``districts`` (number of LAD 2019
        districts in the area).

    Raises
    ------
    InputError
        ``country`` is not ``"England"``, ``"Wales"`` or None.

    Examples
    --------
    >>> len(list_forces()), len(list_forces(country="England")), len(list_forces(country="Wales"))
    (43, 39, 4)
    """
    df = _forces()
    if country is None:
        return df.copy()
    if country not in ("England", "Wales"):
        raise InputError(f"country must be 'England', 'Wales' or None, got {country!r}.")
    return df[df["country"] == country].reset_index(drop=True)


def _key(name: str) -> str:
    s = name.lower().replace("&", " and ")
    words = [w for w in re.split(r"[^a-z0-9]+", s) if w and w not in _DROP_WORDS]
    return "-".join(words)


def normalise_force(name: str) -> str:
    """Return the police.uk force id of a force named in any usual way.

    Accepts the police.uk id (``"west-yorkshire"``), police.uk's name (``"West Yorkshire
    Police"``), the ONS police force area name (``"London, City of"``, ``"Devon & Cornwall"``)
    and a few common short names (``"Met"``, ``"GMP"``, ``"Notts"``), in any case, with
    spaces, hyphens or underscores.

    Parameters
    ----------
    name
        What the user typed.

    Returns
    -------
    str
        The police.uk force id, e.g. ``"devon-and-cornwall"``.

    Raises
    ------
    InputError
        The name is not one of the 43 territorial forces; the message suggests the closest
        ids, or says why a real but non-territorial force (British Transport Police, Northern
        Ireland, Scotland) cannot be analysed.

    Examples
    --------
    >>> normalise_force("Devon & Cornwall Police"), normalise_force("GMP"), normalise_force("London, City of")
    ('devon-and-cornwall', 'greater-manchester', 'city-of-london')
    """
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"force name must be a non-empty string, got {name!r}. List them with `hotspots init --list`.")
    forces = _forces()
    ids = forces["force"].tolist()
    key = _key(name)
    by_key: dict[str, str] = {}
    for row in forces.itertuples(index=False):
        for label in (row.force, row.force_name, row.pfa_name):
            by_key[_key(label)] = row.force
    if key in by_key:
        return by_key[key]
    if key in ALIASES:
        return ALIASES[key]
    other = next((k for k in NOT_TERRITORIAL if f"-{k}-" in f"-{key}-"), None)
    if other is not None:
        raise InputError(
            f"force {name!r}: {NOT_TERRITORIAL[other]}, so it cannot be analysed here. "
            "Use one of the 43 territorial forces of England and Wales (`hotspots init --list`)."
        )
    pool = sorted(set(by_key) | set(ALIASES))
    close = difflib.get_close_matches(key, pool, n=3, cutoff=0.6)
    suggestions = list(dict.fromkeys(by_key.get(c, ALIASES.get(c, c)) for c in close))
    hint = f" Did you mean {' or '.join(map(repr, suggestions))}?" if suggestions else ""
    raise InputError(
        f"unknown police force {name!r}.{hint} Use a data.police.uk force id such as "
        f"{ids[0]!r} or 'west-yorkshire'; `hotspots init --list` lists all 43."
    )


def get_force(name: str) -> Force:
    """Return the :class:`Force` named ``name`` (any form :func:`normalise_force` accepts).

    Raises
    ------
    InputError
        Unknown force (see :func:`normalise_force`).
    """
    fid = normalise_force(name)
    row = _forces().set_index("force").loc[fid]
    return Force(fid, row["force_name"], row["pfa_code"], row["pfa_name"], row["country"])


def force_districts(name: str) -> pd.DataFrame:
    """Return the districts (LAD 2019) of a force's area.

    Parameters
    ----------
    name
        Force, in any form :func:`normalise_force` accepts.

    Returns
    -------
    pandas.DataFrame
        Columns ``lad19cd``, ``lad19nm``, ``country``, ``pfa_code``, ``pfa_name``, ``source``
        (which row of the ONS lookup gave it), ``force``; sorted by ``lad19cd``.

    Raises
    ------
    InputError
        Unknown force.

    Examples
    --------
    >>> force_districts("nottinghamshire")["lad19nm"].tolist()[:3]
    ['Nottingham', 'Ashfield', 'Bassetlaw']
    """
    fid = normalise_force(name)
    d = _districts()
    return d[d["force"] == fid].sort_values("lad19cd").reset_index(drop=True)


def force_lsoas(
    name: str, lsoa_districts: pd.DataFrame, *, code: str = "lsoa_code", district: str = "lad19cd"
) -> pd.Index:
    """Return the LSOA codes of a force's area, from an LSOA -> district table.

    Parameters
    ----------
    name
        Force, in any form :func:`normalise_force` accepts.
    lsoa_districts
        One row per LSOA with its code and its LAD 2019 code, e.g. IoD2019 File 2 read by
        ``read_deprivation`` (``lsoa_code``, ``lad19_code``) or the bundled boundary file
        (``LSOA11CD``, ``LAD19CD``).
    code, district
        Column names of the LSOA code and the LAD 2019 code in ``lsoa_districts``.

    Returns
    -------
    pandas.Index
        Sorted, unique LSOA codes of the force's districts.

    Raises
    ------
    InputError
        Unknown force; a named column is missing; or no LSOA of ``lsoa_districts`` lies in the
        force's districts (e.g. a Welsh force given IoD2019, which covers England only).

    Examples
    --------
    >>> t = pd.DataFrame({"lsoa_code": ["E01013810", "E01000001"], "lad19_code": ["E06000018", "E09000001"]})
    >>> force_lsoas("nottinghamshire", t, district="lad19_code").tolist()
    ['E01013810']
    """
    fid = normalise_force(name)
    for col in (code, district):
        if col not in lsoa_districts.columns:
            raise InputError(
                f"force_lsoas: column {col!r} is missing; columns are {', '.join(map(repr, lsoa_districts.columns))}."
            )
    lads = set(force_districts(fid)["lad19cd"])
    hit = lsoa_districts.loc[lsoa_districts[district].isin(lads), code].astype(str)
    if hit.empty:
        raise InputError(
            f"force_lsoas: no LSOA of the table given lies in the {len(lads)} districts of {fid!r} "
            f"({', '.join(sorted(lads)[:4])}...). Is it the right file (IoD2019 covers England only)?"
        )
    return pd.Index(sorted(set(hit)), name=code)


@dataclass(frozen=True)
class PoliceUkCheck:
    """How a force area compares with the LSOA codes of its own police.uk rows.

    Attributes
    ----------
    area_lsoas
        LSOAs in the area.
    covered
        Area LSOAs with at least one row.
    rows_in_area, rows_outside, rows_without_code
        Rows whose LSOA code is in the area, outside it, or empty.
    outside
        Rows per LSOA code outside the area, most first (index = LSOA code).
    """

    area_lsoas: int
    covered: int
    rows_in_area: int
    rows_outside: int
    rows_without_code: int
    outside: pd.Series

    @property
    def share_outside(self) -> float:
        """Share (0-1) of the rows with a code whose code is outside the area."""
        n = self.rows_in_area + self.rows_outside
        return self.rows_outside / n if n else 0.0

    def summary(self) -> str:
        """One plain-language line, e.g. for ``hotspots check``."""
        top = int(self.outside.max()) if len(self.outside) else 0
        return (
            f"{self.covered:,} of {self.area_lsoas:,} area LSOAs have police.uk rows; "
            f"{self.rows_outside:,} rows ({self.share_outside:.1%}) carry {len(self.outside):,} LSOA codes outside "
            f"the area (at most {top:,} rows each); {self.rows_without_code:,} rows have no LSOA code."
        )


def compare_with_police_uk(area_codes: pd.Index | list[str], row_codes: pd.Series) -> PoliceUkCheck:
    """Check a force area against the LSOA codes of the force's own police.uk rows.

    Parameters
    ----------
    area_codes
        LSOA codes of the area (e.g. :func:`force_lsoas`).
    row_codes
        The ``LSOA code`` of every row of the force's police.uk files (NaN or empty where the
        row has none).

    Returns
    -------
    PoliceUkCheck

    Notes
    -----
    police.uk assigns a row's LSOA from the crime's location, and forces record some crimes
    outside their own area, so a handful of outside codes with a few rows each is normal;
    many rows outside, or many area LSOAs without rows, means the area or the files are
    wrong. Codes of a later LSOA vintage (2021 codes in files from 2022 on) count as
    outside when the area is 2011 LSOAs: compare like with like.

    Examples
    --------
    >>> r = compare_with_police_uk(["A", "B", "C"], pd.Series(["A", "A", "B", "X", None]))
    >>> r.covered, r.rows_in_area, r.rows_outside, r.rows_without_code, r.outside.to_dict()
    (2, 3, 1, 1, {'X': 1})
    """
    area = pd.Index(pd.Index(area_codes).astype(str).unique())
    codes = pd.Series(row_codes, dtype="object").astype("string").str.strip()
    has = codes.notna() & (codes != "")
    inside = has & codes.isin(area).fillna(False)
    outside_mask = has & ~inside
    outside = codes[outside_mask].value_counts()
    outside.index = outside.index.astype(str)
    return PoliceUkCheck(
        area_lsoas=len(area),
        covered=int(codes[inside].nunique()),
        rows_in_area=int(inside.sum()),
        rows_outside=int(outside_mask.sum()),
        rows_without_code=int((~has).sum()),
        outside=outside.astype("int64"),
    )
