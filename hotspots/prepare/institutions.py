"""Institutional locations: incidents police.uk snaps to a prison, hospital, police station, court or custody suite.

police.uk anonymises each crime by moving it to one of a fixed set of map points, some of
which are institutions ("On or near Prison", "On or near Hospital", "On or near Police
Station"). Crimes recorded there (in custody, at A&E, at the front desk) say little about
the street around them, yet they can dominate a place's count and pull a bleed-control kit
to a prison gate. This module flags them in the canonical incident frame at load
(:data:`hotspots.columns.INSTITUTION`); the stages named in ``[institutions] exclude_from``
leave them out (place ranking and kit demand by default), and the run lists them.

Matching (docs/rank.md, "Institutional locations"):

* **By name**, on the *whole* location name after "On or near" (case, punctuation and
  apostrophes ignored), never on a word inside it: "On or near Gunthorpe Court" is a
  street, not a court. Each institution is a list of phrases; a phrase may begin with
  ``"* "`` (one or more leading words, a place name: "Leicester Royal Infirmary") or end
  with ``" *"`` ("HMP Anytown"). Words of at least :data:`FUZZY_MIN_LETTERS` letters may
  differ by one edit (two from :data:`FUZZY_TWO_EDITS_LETTERS`), so "Hospitl" and
  "Royal Infirmiry" match; shorter words must match exactly ("Brown Court" is not "Crown Court").
* **By coordinates**, for rows with no location name (sources published as points only):
  a row is an institution when the nearest *named* snap point of the other rows lies
  within ``snap_distance_m`` and that point's name matches. Snap points are shared by
  every source derived from police.uk, so the same point carries the same name.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from hotspots import columns as C
from hotspots.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_INSTITUTIONS: dict[str, list[str]] = {
    "prison": ["Prison", "* Prison", "HMP *", "Young Offender Institution", "* Young Offender Institution"],
    "hospital": ["Hospital", "* Hospital", "Infirmary", "* Infirmary", "Royal Infirmary", "* Royal Infirmary"],
    "police station": ["Police Station", "* Police Station"],
    "court": [
        "Magistrates Court",
        "* Magistrates Court",
        "Crown Court",
        "* Crown Court",
        "Combined Court",
        "* Combined Court",
        "Combined Court Centre",
        "* Combined Court Centre",
        "Law Courts",
        "* Law Courts",
    ],
    "custody suite": ["Custody Suite", "* Custody Suite", "Custody Centre", "* Custody Centre"],
}
"""Institution -> the whole-name phrases that mean it (``*`` = one or more leading or trailing words)."""

EXCLUDABLE = ("rank", "kits", "outreach")
"""Stages that can leave institutional incidents out (``[institutions] exclude_from``)."""

DEFAULT_SNAP_DISTANCE_M = 2.0
"""A row without a name takes the name of the nearest named snap point within this many metres.

On the bundled data the points of the 2020 sources lie within 0.5 m of the named police.uk
point they were snapped to (coordinates rounded in publication); distinct named points are
further apart (docs/rank.md gives the measured distances)."""

FUZZY_MIN_LETTERS = 6
"""Words this long or longer may differ from the phrase by one edit (insert, delete, substitute, transpose)."""

FUZZY_TWO_EDITS_LETTERS = 10
"""Words this long or longer may differ by two edits."""

MATCHED_BY_NAME, MATCHED_FUZZY, MATCHED_BY_COORDINATES = "name", "name (fuzzy)", "coordinates"

INSTITUTION_TABLE_COLUMNS = ["institution", "location", "matched_by", "sources", "incidents", C.HARM, "x", "y"]
"""Columns of :func:`institution_table`: one row per institutional snap point and way of matching."""


@dataclass(frozen=True)
class InstitutionsConfig:
    """``[institutions]``: incidents at institutional snap points (prisons, hospitals, ...).

    Attributes
    ----------
    names
        ``{institution = [phrases]}``: whole location names (after "On or near") that mean the
        institution; a phrase may begin with ``"* "`` or end with ``" *"`` (one or more words
        there, e.g. a town). Default :data:`DEFAULT_INSTITUTIONS`; ``{}`` flags nothing.
    fuzzy
        Let long words differ by one or two edits ("Hospitl", "Infirmiry"); default true.
    snap_distance_m
        Rows without a location name match the nearest named snap point within this many
        metres (default :data:`DEFAULT_SNAP_DISTANCE_M`; 0 = never match by coordinates).
    exclude_from
        Stages that leave institutional incidents out: any of ``"rank"`` (place ranking),
        ``"kits"`` (bleed-control kit demand and candidates) and ``"outreach"``. Default
        ``["rank", "kits"]``; ``[]`` keeps them everywhere (still flagged and listed). Hot
        spot detection always counts them (flagged).
    """

    names: dict[str, list[str]] = field(default_factory=lambda: {k: [*v] for k, v in DEFAULT_INSTITUTIONS.items()})
    fuzzy: bool = True
    snap_distance_m: float = DEFAULT_SNAP_DISTANCE_M
    exclude_from: list[str] = field(default_factory=lambda: ["rank", "kits"])

    def __post_init__(self) -> None:
        for kind, phrases in self.names.items():
            if not kind.strip():
                raise ConfigError("[institutions] names: an institution needs a name, e.g. hospital = ['Hospital'].")
            for ph in phrases:
                if not _tokens(ph.replace("*", " ")):
                    raise ConfigError(
                        f"[institutions] names: phrase {ph!r} of {kind!r} has no words; give a whole location "
                        "name such as 'Hospital' or '* Royal Infirmary'."
                    )
        if not self.snap_distance_m >= 0:
            raise ConfigError(
                f"[institutions] key 'snap_distance_m' must be >= 0 metres, got {self.snap_distance_m!r}."
            )
        for s in self.exclude_from:
            if s not in EXCLUDABLE:
                raise ConfigError(
                    f"[institutions] key 'exclude_from': unknown stage {s!r}. Valid: {', '.join(EXCLUDABLE)}."
                )


# --------------------------------------------------------------------------------------
# matching names
# --------------------------------------------------------------------------------------

_PREFIX = re.compile(r"^\s*on\s+or\s+near\s+", re.IGNORECASE)


def _tokens(text: str) -> list[str]:
    """Lower-case words of ``text``: apostrophes dropped, other punctuation a separator."""
    t = text.lower().replace("'", "").replace("\u2019", "")
    return re.findall(r"[a-z0-9]+", t)


def location_name(location: object) -> str:
    """The location's name after "On or near" (``""`` for a missing value)."""
    if location is None or (isinstance(location, float) and np.isnan(location)):
        return ""
    return _PREFIX.sub("", str(location)).strip()


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein with adjacent transpositions)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


@functools.lru_cache(maxsize=65_536)
def _word_match(word: str, want: str, fuzzy: bool) -> int:
    """0 = equal, 1 = within the allowed edits, -1 = no match."""
    if word == want:
        return 0
    if not fuzzy or len(want) < FUZZY_MIN_LETTERS:
        return -1
    allowed = 2 if len(want) >= FUZZY_TWO_EDITS_LETTERS else 1
    if abs(len(word) - len(want)) > allowed or letters_apart(word, want) > allowed:
        return -1
    return 1 if edit_distance(word, want) <= allowed else -1


def letters_apart(a: str, b: str) -> int:
    """A lower bound of :func:`edit_distance`: letters of one word missing from the other, counted with repeats.

    An insertion, deletion or substitution changes each count by at most one and a
    transposition by none, so two words this many letters apart need at least this many
    edits; most candidate words are ruled out by it before the distance is computed.
    """
    extra = sum(max(0, a.count(c) - b.count(c)) for c in set(a))  # letters of a missing from b
    return max(extra, extra - len(a) + len(b))  # and of b missing from a: the counts differ by the lengths


def phrase_match(tokens: list[str], phrase: str, *, fuzzy: bool = True) -> str | None:
    """How the location words ``tokens`` match ``phrase``: ``"name"``, ``"name (fuzzy)"`` or None.

    Examples
    --------
    >>> phrase_match(["leicester", "royal", "infirmiry"], "* Royal Infirmary")
    'name (fuzzy)'
    >>> phrase_match(["gunthorpe", "court"], "Crown Court") is None
    True
    """
    lead, trail, fixed = _phrase(phrase)
    k = len(fixed)
    if (lead or trail) and len(tokens) <= k:
        return None
    if not (lead or trail) and len(tokens) != k:
        return None
    words = tokens[-k:] if lead else tokens[:k]
    edited = False
    for w, f in zip(words, fixed, strict=True):
        how = _word_match(w, f, fuzzy)
        if how < 0:
            return None
        edited = edited or how > 0
    return MATCHED_FUZZY if edited else MATCHED_BY_NAME


@functools.lru_cache(maxsize=1024)
def _phrase(phrase: str) -> tuple[bool, bool, tuple[str, ...]]:
    """A name phrase's leading and trailing ``*`` and its words (parsed once per phrase)."""
    p = phrase.strip()
    return p.startswith("*"), p.endswith("*"), tuple(_tokens(p.strip("* ")))


def match_institution(location: object, names: dict[str, list[str]], *, fuzzy: bool = True) -> tuple[str, str]:
    """The institution a location name means and how it matched (``("", "")`` when none).

    Exact matches win over fuzzy ones; among equals the first institution listed wins.
    """
    tokens = _tokens(location_name(location))
    if not tokens:
        return "", ""
    found: tuple[str, str] = ("", "")
    for kind, phrases in names.items():
        for ph in phrases:
            how = phrase_match(tokens, ph, fuzzy=fuzzy)
            if how == MATCHED_BY_NAME:
                return kind, how
            if how and not found[0]:
                found = (kind, how)
    return found


# --------------------------------------------------------------------------------------
# flagging the incident frame
# --------------------------------------------------------------------------------------


def flag_institutions(incidents: gpd.GeoDataFrame, cfg: InstitutionsConfig) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Flag institutional incidents (:data:`hotspots.columns.INSTITUTION`) and list them.

    Parameters
    ----------
    incidents
        The canonical incident frame (``location`` may be missing for sources without names).
    cfg
        ``[institutions]``.

    Returns
    -------
    (incidents, table)
        A copy of ``incidents`` with ``institution`` set (``""`` where none), and
        :func:`institution_table` of the flagged rows.
    """
    out = incidents.copy()
    n = len(out)
    kind = np.full(n, "", dtype=object)
    how = np.full(n, "", dtype=object)
    loc = out[C.LOCATION] if C.LOCATION in out.columns else pd.Series([None] * n, index=out.index)
    shown = loc.astype(object).where(loc.notna(), "").to_numpy(dtype=object).copy()
    if n and cfg.names:
        # match each distinct name once, then spread the answers over the rows
        rows, uniq = pd.factorize(loc)
        texts = [str(u) for u in uniq]
        found = [match_institution(u, cfg.names, fuzzy=cfg.fuzzy) for u in texts]
        named_u = np.array([u.strip() != "" for u in texts] + [False], dtype=bool)
        kind_u = np.array([f[0] for f in found] + [""], dtype=object)
        how_u = np.array([f[1] for f in found] + [""], dtype=object)
        rows = np.where(rows >= 0, rows, len(uniq))
        named = named_u[rows]
        kind[named] = kind_u[rows[named]]
        how[named] = how_u[rows[named]]
        if cfg.snap_distance_m > 0 and named.any() and (~named).any():
            _by_coordinates(out, named, kind, how, shown, cfg.snap_distance_m)
    out[C.INSTITUTION] = kind
    table = institution_table(out, how, shown)
    if len(table):
        log.info(
            "institutions: %d incidents at %d institutional snap points (%s)",
            int(table["incidents"].sum()),
            len(table.drop_duplicates(["x", "y"])),
            ", ".join(sorted(set(table["institution"]))),
        )
    return out, table


def _by_coordinates(
    inc: gpd.GeoDataFrame, named: np.ndarray, kind: np.ndarray, how: np.ndarray, shown: np.ndarray, distance: float
) -> None:
    """Rows without a name take the institution (and name) of the nearest named snap point within ``distance``."""
    xy = np.column_stack([inc.geometry.x.to_numpy(), inc.geometry.y.to_numpy()])
    tree = cKDTree(xy[named])
    unnamed = np.flatnonzero(~named)
    d, j = tree.query(xy[unnamed], distance_upper_bound=distance)
    ok = np.isfinite(d)
    src = np.flatnonzero(named)[j[ok]]
    hit = unnamed[ok]
    inst = kind[src] != ""
    kind[hit[inst]] = kind[src[inst]]
    how[hit[inst]] = MATCHED_BY_COORDINATES
    shown[hit[inst]] = shown[src[inst]]


def institution_table(incidents: gpd.GeoDataFrame, how: np.ndarray, shown: np.ndarray) -> pd.DataFrame:
    """Institutional incidents grouped by institution, location name, way of matching and point.

    Parameters
    ----------
    incidents
        The flagged incident frame.
    how, shown
        Per row: how it matched, and the location name shown (for rows matched by
        coordinates, the name of the snap point they share).

    Returns
    -------
    pandas.DataFrame
        :data:`INSTITUTION_TABLE_COLUMNS`: ``institution``, ``location`` (the name as
        published), ``matched_by`` (``"name"``, ``"name (fuzzy)"`` or ``"coordinates"``),
        ``sources`` (``;``-separated), ``incidents``, ``harm``, ``x``, ``y`` (EPSG:27700,
        metres, rounded to 1 m). Sorted by incidents, descending.
    """
    flag = incidents[C.INSTITUTION].astype(str).to_numpy() != ""
    if not flag.any():
        return pd.DataFrame(columns=INSTITUTION_TABLE_COLUMNS)
    sub = incidents[flag]
    df = pd.DataFrame(
        {
            "institution": sub[C.INSTITUTION].to_numpy(),
            "location": shown[flag],
            "matched_by": how[flag],
            "source": sub[C.SOURCE].astype(str).to_numpy(),
            C.HARM: sub[C.HARM].to_numpy(dtype=float),
            "x": sub.geometry.x.round(0).to_numpy(),
            "y": sub.geometry.y.round(0).to_numpy(),
        }
    )
    g = df.groupby(["institution", "location", "matched_by", "x", "y"], sort=False)
    out = g.agg(
        sources=("source", lambda v: ";".join(sorted(set(v)))), incidents=("source", "size"), harm=(C.HARM, "sum")
    ).reset_index()
    out = out.sort_values(["incidents", "institution", "location"], ascending=[False, True, True], kind="stable")
    return out[INSTITUTION_TABLE_COLUMNS].reset_index(drop=True)
