"""``[maps]``: the interactive maps."""

from __future__ import annotations

from dataclasses import dataclass

from hotspots.errors import ConfigError
from hotspots.present.maps.palette import KDE_COLOURS

AUDIENCES = ("board", "outreach", "analyst")
"""The three maps, in the order they are written."""

TITLES = {
    "board": "Violence priority places and bleed-kit sites",
    "outreach": "Youth outreach zones, kit sites and venues",
    "analyst": "Serious violence hot spots: analyst view",
}
"""Each map's title."""


@dataclass(frozen=True)
class Basemap:
    """An online tile style the maps may draw beneath their layers.

    Attributes
    ----------
    name
        Shown in the layer control.
    url
        Leaflet tile URL template (``{s}`` subdomain, ``{z}/{x}/{y}`` tile, ``{r}`` retina suffix).
    attribution
        Credit shown on the map (HTML, no links).
    subdomains
        Letters substituted for ``{s}``.
    max_zoom
        Deepest zoom the server provides.
    """

    name: str
    url: str
    attribution: str
    subdomains: str = ""
    max_zoom: int = 19

    @property
    def hosts(self) -> tuple[str, ...]:
        """The host names the page fetches tiles from."""
        host = self.url.split("//", 1)[1].split("/", 1)[0]
        if "{s}" in host:
            return tuple(host.replace("{s}", s) for s in self.subdomains)
        return (host,)

    @property
    def prefix(self) -> str:
        """The URL up to its first placeholder (the only external reference allowed in the page)."""
        return self.url.split("{", 1)[0]


BASEMAPS: dict[str, Basemap | None] = {
    "none": None,
    "openstreetmap": Basemap(
        "OpenStreetMap",
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "&copy; OpenStreetMap contributors",
    ),
    "carto-light": Basemap(
        "CARTO light",
        "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
        "&copy; OpenStreetMap contributors &copy; CARTO",
        subdomains="abcd",
        max_zoom=20,
    ),
    "carto-voyager": Basemap(
        "CARTO Voyager",
        "https://{s}.basemaps.cartocdn.com/rastertiles/voyager/{z}/{x}/{y}{r}.png",
        "&copy; OpenStreetMap contributors &copy; CARTO",
        subdomains="abcd",
        max_zoom=20,
    ),
}
"""Base maps for ``[maps] basemap``: ``"none"`` (offline, the default) or an open tile style."""


KDE_SCHEMES = {
    "quantiles": "Quantiles",
    "head_tail_breaks": "HeadTailBreaks",
    "equal_interval": "EqualInterval",
    "maximum_breaks": "MaximumBreaks",
    "std_mean": "StdMean",
}
"""mapclassify schemes for the KDE surface (Fisher-Jenks is left out: quadratic without numba)."""

_PRECISION = (3, 8)
_KDE_MIN_CLASSES = 2
_ZOOM = (10, 19)


@dataclass(frozen=True)
class MapsConfig:
    """``[maps]``: the interactive maps.

    Attributes
    ----------
    audiences
        Which maps to write (default all of ``board``, ``outreach``, ``analyst``).
    basemap
        Base map drawn beneath the layers: ``"none"`` (default: a plain background; the page
        makes no network request at all) or an open tile style, one of ``"openstreetmap"``,
        ``"carto-light"``, ``"carto-voyager"``. A page with tiles fetches them from that
        server only. OpenStreetMap refuses tile requests without a Referer, which a page opened
        from a file does not send: open the maps with ``hotspots serve RUN_DIR``.
    simplify_m
        Tolerance (metres) for simplifying polygons before drawing (default 15).
    precision
        Decimal places of longitude/latitude (default 5, about 1 m).
    max_cells
        Grid layers with more cells than this are drawn as one shape per class (default 5,000).
    kde_scheme
        mapclassify scheme for the KDE surface (default ``head_tail_breaks``, Jiang 2013: suits
        heavy-tailed densities; more than seven classes are merged at the top).
    kde_classes
        Number of KDE classes (default 5; not used by ``head_tail_breaks``).
    suppress_below
        On the Board map, incident counts from 1 to this minus one are shown as "<N" (default 5).
    kit_radius_m
        Radius (metres) of the kit coverage circles; default the ``[sites]`` radius, else 100.
    street_zoom
        Street names (from police.uk location names) appear from this zoom level (default 15,
        about 1.5 km across a laptop screen).
    top
        How many places, zones and kits the panel lists and the map labels (default 10).
    """

    audiences: list[str] = ("board", "outreach", "analyst")  # type: ignore[assignment]
    basemap: str = "none"
    simplify_m: float = 15.0
    precision: int = 5
    max_cells: int = 5_000
    kde_scheme: str = "head_tail_breaks"
    kde_classes: int = 5
    suppress_below: int = 5
    kit_radius_m: float | None = None
    street_zoom: int = 15
    top: int = 10

    def __post_init__(self) -> None:
        aud = list(self.audiences)
        bad = [a for a in aud if a not in AUDIENCES]
        if bad or not aud:
            raise ConfigError(f"[maps] key 'audiences' must list some of {list(AUDIENCES)}, got {aud!r}.")
        object.__setattr__(self, "audiences", tuple(aud))
        if self.basemap not in BASEMAPS:
            raise ConfigError(
                f"[maps] key 'basemap' must be one of {list(BASEMAPS)} ('none' = offline), got {self.basemap!r}."
            )
        if self.kde_scheme not in KDE_SCHEMES:
            raise ConfigError(f"[maps] key 'kde_scheme' must be one of {list(KDE_SCHEMES)}, got {self.kde_scheme!r}.")
        if not _KDE_MIN_CLASSES <= self.kde_classes <= len(KDE_COLOURS):
            raise ConfigError(
                f"[maps] key 'kde_classes' must be {_KDE_MIN_CLASSES} to {len(KDE_COLOURS)}, got {self.kde_classes!r}."
            )
        if self.simplify_m < 0:
            raise ConfigError(f"[maps] key 'simplify_m' must be >= 0 metres, got {self.simplify_m!r}.")
        if not _PRECISION[0] <= self.precision <= _PRECISION[1]:
            raise ConfigError(
                f"[maps] key 'precision' must be {_PRECISION[0]} to {_PRECISION[1]} decimal places, "
                f"got {self.precision!r}."
            )
        if self.max_cells < 1:
            raise ConfigError(f"[maps] key 'max_cells' must be >= 1, got {self.max_cells!r}.")
        if self.suppress_below < 0:
            raise ConfigError(f"[maps] key 'suppress_below' must be >= 0, got {self.suppress_below!r}.")
        if self.kit_radius_m is not None and not self.kit_radius_m > 0:
            raise ConfigError(f"[maps] key 'kit_radius_m' must be > 0 metres, got {self.kit_radius_m!r}.")
        if not _ZOOM[0] <= self.street_zoom <= _ZOOM[1]:
            raise ConfigError(
                f"[maps] key 'street_zoom' must be a zoom level from {_ZOOM[0]} to {_ZOOM[1]}, "
                f"got {self.street_zoom!r}."
            )
        if self.top < 1:
            raise ConfigError(f"[maps] key 'top' must be >= 1, got {self.top!r}.")
