"""``[maps]``: the interactive maps."""

from __future__ import annotations

from dataclasses import dataclass

from hotspots.errors import ConfigError
from hotspots.present.maps.style import KDE_COLOURS

AUDIENCES = ("board", "outreach", "analyst")
"""The three maps, in the order they are written."""


TILE_PROVIDERS = {
    "OpenStreetMap": (
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "&copy; OpenStreetMap contributors",
    ),
    "CartoDB positron": (
        "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
        "&copy; OpenStreetMap contributors &copy; CARTO",
    ),
}
"""Online base tiles that may be switched on with ``[maps] tiles`` (off by default: offline)."""


KDE_SCHEMES = {
    "quantiles": "Quantiles",
    "head_tail_breaks": "HeadTailBreaks",
    "equal_interval": "EqualInterval",
    "maximum_breaks": "MaximumBreaks",
    "std_mean": "StdMean",
}
"""mapclassify schemes for the KDE surface (Fisher-Jenks is left out: quadratic without numba)."""


@dataclass(frozen=True)
class MapsConfig:
    """``[maps]``: the interactive maps.

    Attributes
    ----------
    audiences
        Which maps to write (default all of ``board``, ``outreach``, ``analyst``).
    tiles
        Online base tiles, one of :data:`TILE_PROVIDERS`; default none (a plain
        background, fully offline). With tiles the page fetches map images from the
        tile server when opened, so it is no longer offline.
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
    """

    audiences: list[str] = ("board", "outreach", "analyst")  # type: ignore[assignment]
    tiles: str | None = None
    simplify_m: float = 15.0
    precision: int = 5
    max_cells: int = 5_000
    kde_scheme: str = "head_tail_breaks"
    kde_classes: int = 5
    suppress_below: int = 5
    kit_radius_m: float | None = None

    def __post_init__(self) -> None:
        aud = list(self.audiences)
        bad = [a for a in aud if a not in AUDIENCES]
        if bad or not aud:
            raise ConfigError(f"[maps] key 'audiences' must list some of {list(AUDIENCES)}, got {aud!r}.")
        object.__setattr__(self, "audiences", tuple(aud))
        if self.tiles is not None and self.tiles not in TILE_PROVIDERS:
            raise ConfigError(
                f"[maps] key 'tiles' must be one of {list(TILE_PROVIDERS)} (or left out for offline), got {self.tiles!r}."
            )
        if self.kde_scheme not in KDE_SCHEMES:
            raise ConfigError(f"[maps] key 'kde_scheme' must be one of {list(KDE_SCHEMES)}, got {self.kde_scheme!r}.")
        if not 2 <= self.kde_classes <= len(KDE_COLOURS):
            raise ConfigError(f"[maps] key 'kde_classes' must be 2 to {len(KDE_COLOURS)}, got {self.kde_classes!r}.")
        if self.simplify_m < 0:
            raise ConfigError(f"[maps] key 'simplify_m' must be >= 0 metres, got {self.simplify_m!r}.")
        if not 3 <= self.precision <= 8:
            raise ConfigError(f"[maps] key 'precision' must be 3 to 8 decimal places, got {self.precision!r}.")
        if self.max_cells < 1:
            raise ConfigError(f"[maps] key 'max_cells' must be >= 1, got {self.max_cells!r}.")
        if self.suppress_below < 0:
            raise ConfigError(f"[maps] key 'suppress_below' must be >= 0, got {self.suppress_below!r}.")
        if self.kit_radius_m is not None and not self.kit_radius_m > 0:
            raise ConfigError(f"[maps] key 'kit_radius_m' must be > 0 metres, got {self.kit_radius_m!r}.")
