"""Names people use: streets from police.uk location names, wards and districts.

police.uk publishes each crime at an anonymised "map point" named ``"On or near <name>"``
(https://data.police.uk/about/#anonymisation). Most names are streets; some are generic
point-of-interest types ("Supermarket", "Parking Area", "Nightclub", ...) that say nothing
about where the point is. The maps use the street names to navigate by (labels at street
zoom, search, "near Market Street" in popups, outreach start points) and leave the generic
types out.

Which names are generic
-----------------------
:data:`GENERIC_LOCATION_TYPES` lists the 15 types found in the bundled Nottinghamshire data
(3,718 rows with a location, 2,043 distinct names): the names with no street word (Road,
Street, Lane, ... or a road number) that either contain a slash or recur at three or more map
points spread over a kilometre or more; that rule finds 14 of them, and "Prison" (two map
points) is added by hand. They name 504 of the 3,718 rows (14 %) and 56 more rows have an
empty name: 560 rows (15 %) and 311 of 2,503 distinct map points (12 %) carry no street. On
another force's data :func:`generic_names` applies the same rule, so types not in the list
are found too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.prepare.rows import spread_map

GENERIC_LOCATION_TYPES = frozenset(
    {
        "airport/airfield",
        "bus/coach station",
        "further/higher educational building",
        "hospital",
        "nightclub",
        "park/open space",
        "parking area",
        "pedestrian subway",
        "petrol station",
        "police station",
        "prison",
        "shopping area",
        "sports/recreation area",
        "supermarket",
        "theatre/concert hall",
    }
)
"""police.uk point-of-interest types found in the bundled data (lower case): not street names."""

STREET_WORDS = frozenset(
    {
        "road",
        "street",
        "lane",
        "avenue",
        "close",
        "drive",
        "way",
        "court",
        "gate",
        "row",
        "parade",
        "square",
        "place",
        "crescent",
        "terrace",
        "walk",
        "hill",
        "grove",
        "gardens",
        "mews",
        "rise",
        "view",
        "green",
        "park",
        "yard",
        "alley",
        "vale",
        "end",
        "boulevard",
        "bridge",
        "circus",
        "croft",
        "fields",
        "field",
        "mount",
        "side",
        "wharf",
        "hollow",
        "dale",
        "passage",
        "approach",
        "broadway",
        "lea",
        "chase",
        "meadow",
        "meadows",
        "paddock",
        "path",
        "bank",
        "top",
        "nook",
        "ride",
        "wood",
        "mead",
        "reach",
        "orchard",
        "estate",
        "garth",
        "causeway",
        "brow",
        "embankment",
        "quay",
        "market",
        "highway",
        "bypass",
        "link",
        "wynd",
        "twitchell",
        "spinney",
        "copse",
        "plain",
        "moor",
        "heights",
        "pavement",
    }
)
"""Words that make a name a street (checked in its last two words), besides road numbers such as A6008."""

GENERIC_MIN_POINTS = 3
"""A name without a street word that recurs at this many map points or more ..."""

GENERIC_MIN_SPREAD_M = 1000.0
"""... spread over at least this distance (root of the summed coordinate variances) is generic."""

NEAR_M = 500.0
"""A point is described as "near" a street only within this distance of one of its map points."""

LABEL_SPACING_M = 400.0
"""One street label per name in each square of this size."""

_ON_OR_NEAR = re.compile(r"^\s*on\s+or\s+near\b\s*", re.I)
_ROAD_NUMBER = re.compile(r"^[abm]\d+(\(m\))?$", re.I)


def location_name(text: object) -> str:
    """The name in a police.uk location (``"On or near Market Street"`` -> ``"Market Street"``; missing -> "")."""
    if text is None or (isinstance(text, float) and np.isnan(text)) or text is pd.NA:
        return ""
    return _ON_OR_NEAR.sub("", str(text)).strip()


def location_names(values: pd.Series) -> pd.Series:
    """:func:`location_name` of each value, worked out once per distinct value.

    The same Series (values, index and dtype) as ``values.map(location_name)``, which
    calls the function once per row: a force's incidents repeat a few thousand names.
    """
    return spread_map(values, location_name)


def has_street_word(name: str) -> bool:
    """True when one of the last two words of ``name`` is a street word or a road number (A6008)."""
    words = name.lower().replace(",", " ").split()
    return any(w in STREET_WORDS or _ROAD_NUMBER.match(w) for w in words[-2:])


def generic_names(
    names: pd.Series, xy: np.ndarray, *, known: frozenset[str] = GENERIC_LOCATION_TYPES
) -> frozenset[str]:
    """The generic point-of-interest types among location names (lower case), by the rule in the module notes.

    Parameters
    ----------
    names
        Location names (``"On or near"`` already removed), one per row.
    xy
        The rows' map points, eastings/northings (n, 2).
    known
        Types known in advance (default :data:`GENERIC_LOCATION_TYPES`).

    Returns
    -------
    frozenset
        ``known`` plus every name found generic in these rows.
    """
    if len(names) == 0:
        return known
    d = pd.DataFrame({"name": names.astype(str).str.strip().to_numpy(), "x": xy[:, 0], "y": xy[:, 1]})
    d = d[d["name"] != ""].drop_duplicates()
    g = d.groupby("name").agg(points=("x", "size"), vx=("x", "var"), vy=("y", "var"))
    spread = np.sqrt(g["vx"].fillna(0) + g["vy"].fillna(0))
    found = {
        n.lower()
        for n, pts, sp in zip(g.index, g["points"], spread, strict=True)
        if not has_street_word(n)
        and (
            "/" in n or (pts >= GENERIC_MIN_POINTS and sp >= GENERIC_MIN_SPREAD_M and not n.lower().startswith("the "))
        )
    }
    return known | frozenset(found)


@dataclass(frozen=True)
class Gazetteer:
    """Streets, wards and districts of a study area, to name points and areas.

    Attributes
    ----------
    streets
        Distinct police.uk map points with a street name (``street``; EPSG:27700 points).
    generic
        The generic location types left out (lower case).
    wards, districts
        Boundaries with ``ward_name`` / ``district`` (None when not configured).
    lsoa_ward
        LSOA code -> name of the ward holding most of its area (wards configured only).
    rows
        Incident rows with a location name, and how many of them had a generic one.
    cache
        Values derived from the gazetteer alone, kept for the next map of the same run (the
        street-name layer's labels, places and areas are computed once, not once per map);
        filled by the layers that use them, never compared.
    """

    streets: gpd.GeoDataFrame
    generic: frozenset[str]
    wards: gpd.GeoDataFrame | None
    districts: gpd.GeoDataFrame | None
    lsoa_ward: dict[str, str] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def is_generic(self, name: str) -> bool:
        """True for an empty name or a generic location type."""
        return not name or name.lower() in self.generic

    def nearest_street(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The nearest street name to each point (``""`` when there are no streets) and its distance (m)."""
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        names = np.full(len(xy), "", dtype=object)
        dist = np.full(len(xy), np.inf)
        if len(xy) == 0 or len(self.streets) == 0:
            return names, dist
        pts = shapely.points(xy)
        (src, tree), d = self.streets.sindex.nearest(pts, return_distance=True, return_all=False)
        names[src] = self.streets["street"].to_numpy()[tree]
        dist[src] = d
        return names, dist

    def _area_name(self, frame: gpd.GeoDataFrame | None, column: str, xy: np.ndarray) -> np.ndarray:
        out = np.full(len(xy), "", dtype=object)
        if frame is None or len(frame) == 0 or len(xy) == 0:
            return out
        src, tree = frame.sindex.query(shapely.points(xy), predicate="intersects")
        first = pd.Series(tree, index=src).groupby(level=0).first()
        out[first.index.to_numpy()] = frame[column].astype(str).to_numpy()[first.to_numpy()]
        return out

    def ward_at(self, xy: np.ndarray) -> np.ndarray:
        """Ward name at each point (``""`` outside every ward or without wards)."""
        return self._area_name(self.wards, C.WARD_NAME, np.asarray(xy, dtype=float).reshape(-1, 2))

    def district_at(self, xy: np.ndarray) -> np.ndarray:
        """District name at each point (``""`` outside every district)."""
        return self._area_name(self.districts, C.DISTRICT_NAME_COL, np.asarray(xy, dtype=float).reshape(-1, 2))

    def area_at(self, xy: np.ndarray) -> list[str]:
        """``"Castle ward, Nottingham"`` where wards cover the point, else the district name (or "")."""
        wards, districts = self.ward_at(xy), self.district_at(xy)
        return [area_text(w, d) for w, d in zip(wards, districts, strict=True)]

    def near(self, xy: np.ndarray) -> list[str]:
        """The nearest street of each point when within :data:`NEAR_M`, else ``""``."""
        streets, dist = self.nearest_street(xy)
        return [str(s) if s and d <= NEAR_M else "" for s, d in zip(streets, dist, strict=True)]

    def describe(self, xy: np.ndarray) -> list[str]:
        """``"near Market Street, Castle ward, Nottingham"`` for each point (the street only within :data:`NEAR_M`)."""
        streets = self.near(xy)
        areas = self.area_at(xy)
        out = []
        for s, a in zip(streets, areas, strict=True):
            parts = [f"near {s}"] if s else []
            if a:
                parts.append(a)
            out.append(", ".join(parts))
        return out


def area_text(ward: str, district: str) -> str:
    """``"Castle ward, Nottingham"``, ``"Nottingham"`` or ``""``."""
    if ward and district:
        return f"{ward} ward, {district}"
    if ward:
        return f"{ward} ward"
    return district or ""


def _xy(gdf: gpd.GeoDataFrame) -> np.ndarray:
    geoms = gdf.geometry.to_numpy()
    return np.column_stack([shapely.get_x(geoms), shapely.get_y(geoms)])


def build_gazetteer(
    incidents: gpd.GeoDataFrame,
    lsoa: gpd.GeoDataFrame,
    *,
    wards: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
) -> Gazetteer:
    """Collect the street names of the incidents' map points and the area names.

    Parameters
    ----------
    incidents
        Canonical incident frame (EPSG:27700); rows without a ``location`` are ignored.
    lsoa
        Study-area LSOAs (``lsoa_code``, geometry).
    wards, districts
        Boundaries (``ward_name`` / ``district``), or None.

    Returns
    -------
    Gazetteer
    """
    has = incidents[C.LOCATION].notna() if C.LOCATION in incidents.columns else pd.Series(False, index=incidents.index)
    rows = incidents[has.to_numpy()]
    rows = rows[~rows.geometry.is_empty & rows.geometry.notna()]
    names = location_names(rows[C.LOCATION]) if len(rows) else pd.Series([], dtype=object)
    xy = _xy(rows) if len(rows) else np.zeros((0, 2))
    generic = generic_names(names, xy)
    is_generic = names.str.lower().isin(generic) | (names == "")
    pts = pd.DataFrame({"street": names.to_numpy(), "x": np.round(xy[:, 0]), "y": np.round(xy[:, 1])})[
        ~is_generic.to_numpy()
    ].drop_duplicates()
    streets = gpd.GeoDataFrame(
        pts[["street"]].reset_index(drop=True),
        geometry=gpd.points_from_xy(pts["x"], pts["y"]),
        crs=C.CRS,
    )
    wards_ = wards[[C.WARD_NAME, "geometry"]].reset_index(drop=True) if wards is not None and len(wards) else None
    districts_ = (
        districts[[C.DISTRICT_NAME_COL, "geometry"]].reset_index(drop=True)
        if districts is not None and len(districts)
        else None
    )
    gaz = Gazetteer(
        streets=streets,
        generic=generic,
        wards=wards_,
        districts=districts_,
        rows={"with_location": len(rows), "generic": int(is_generic.sum())},
    )
    if wards_ is not None and len(lsoa):
        object.__setattr__(gaz, "lsoa_ward", _lsoa_wards(lsoa, wards_))
    return gaz


WARD_MIN_SHARE = 0.5
"""An LSOA takes a ward's name only when at least this share of its area lies in the ward."""


def _lsoa_wards(lsoa: gpd.GeoDataFrame, wards: gpd.GeoDataFrame) -> dict[str, str]:
    """LSOA code -> the ward holding most of its area (generalised boundaries: a share below half means none)."""
    geoms = lsoa.geometry.to_numpy()
    src, tree = wards.sindex.query(geoms, predicate="intersects")
    if len(src) == 0:
        return {}
    share = shapely.area(shapely.intersection(geoms[src], wards.geometry.to_numpy()[tree])) / shapely.area(geoms[src])
    d = pd.DataFrame({"i": src, "w": tree, "share": share}).sort_values("share", ascending=False).drop_duplicates("i")
    d = d[d["share"] >= WARD_MIN_SHARE]
    codes = lsoa[C.LSOA_CODE].astype(str).to_numpy()
    names = wards[C.WARD_NAME].astype(str).to_numpy()
    return dict(zip(codes[d["i"].to_numpy()], names[d["w"].to_numpy()], strict=True))


def street_labels(gaz: Gazetteer, *, spacing: float = LABEL_SPACING_M) -> pd.DataFrame:
    """One label per street name in each ``spacing`` square: ``street, x, y`` (the point nearest the square's mean)."""
    s = gaz.streets
    if len(s) == 0:
        return pd.DataFrame({"street": [], "x": [], "y": []})
    xy = _xy(s)
    d = pd.DataFrame({"street": s["street"].to_numpy(), "x": xy[:, 0], "y": xy[:, 1]})
    d["bx"] = np.floor(d["x"] / spacing)
    d["by"] = np.floor(d["y"] / spacing)
    grp = d.groupby(["street", "bx", "by"], sort=False)
    d["dist"] = np.hypot(d["x"] - grp["x"].transform("mean"), d["y"] - grp["y"].transform("mean"))
    best = d.sort_values("dist", kind="stable").drop_duplicates(["street", "bx", "by"])
    return best[["street", "x", "y"]].sort_values(["street", "x", "y"]).reset_index(drop=True)


def place_phrase(name: str, gaz: Gazetteer, xy: np.ndarray) -> str:
    """A site's name as people would say it: the street, or ``"parking area near Market Street"`` for a generic type."""
    n = location_name(name)
    if n and not gaz.is_generic(n):
        return n
    street = gaz.near(np.asarray(xy, dtype=float).reshape(1, 2))[0]
    near = f" near {street}" if street else ""
    kind = n.lower().replace("/", " or ") if n else "location"
    return f"{kind}{near}"
