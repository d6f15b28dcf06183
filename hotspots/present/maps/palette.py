"""Colours of the maps, chosen to survive colour-blindness, and the simulation that checks them.

The tiers use Okabe & Ito's (2008) vermillion and blue, then Tol's wine and Okabe-Ito orange,
which stay apart for people with protanopia, deuteranopia and tritanopia; the lowest
priority tier is a neutral grey, so a county of "monitor" places does not look hot. Hot spots
use ColorBrewer's diverging RdBu and the density surface its sequential YlOrRd (both marked
colour-blind safe by ColorBrewer). Kits and outreach start points differ by shape (a square
with a cross, a triangle) as well as by colour.

:func:`simulate` applies the Machado, Oliveira & Fernandes (2009) matrices (severity 1.0, on
linear sRGB, as Chrome's and Firefox's developer tools do) and :func:`delta_e` measures the
CIE 1976 colour difference in CIELAB; ``tests/test_maps.py`` checks every palette with them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

TIER_COLOURS = ["#d55e00", "#0072b2", "#882255", "#e69f00"]
"""Fill of the priority tiers from the first (Okabe-Ito vermillion and blue, Tol's wine, Okabe-Ito orange)."""

NEUTRAL = "#bdbdbd"
"""Fill of the lowest priority tier ("monitor"): a neutral grey."""

GI_COLOURS = {
    "hot 99%": "#b2182b",
    "hot 95%": "#ef8a62",
    "hot 90%": "#fddbc7",
    "cold 90%": "#d1e5f0",
    "cold 95%": "#67a9cf",
    "cold 99%": "#2166ac",
}
"""Gi* classes (ColorBrewer RdBu: red hot, blue cold, as ArcGIS's Hot Spot Analysis renderer)."""

KDE_COLOURS = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026", "#800026", "#4d0013"]
"""Sequential yellow-orange-red for the KDE classes (lowest first; ColorBrewer YlOrRd, extended darker)."""

EMERGING_HOT = ["#67000d", "#a50f15", "#cb181d", "#ef3b2c", "#fb6a4a", "#fc9272", "#fcbba1", "#fee0d2"]
"""Emerging hot-spot categories (ColorBrewer Reds, darkest first)."""

EMERGING_COLD = ["#08306b", "#08519c", "#2171b5", "#4292c6", "#6baed6", "#9ecae1", "#c6dbef", "#deebf7"]
"""Emerging cold-spot categories (ColorBrewer Blues, darkest first)."""

KIT = "#1a1a1a"
"""Bleed-control kit markers (a near-black square with a white cross) and their coverage circles."""

START = "#f0e442"
"""Outreach start points (an Okabe-Ito yellow triangle with a black edge)."""

ZONE = "#009e73"
"""Youth outreach zones (Okabe-Ito bluish green)."""

VENUE = "#cc79a7"
"""Night-time venues (small Okabe-Ito reddish-purple dots)."""

CLUSTER = "#6a3d9a"
"""Density-cluster footprints."""

NTE_ZONE = "#1f78b4"
"""Night-time-economy zones."""

MONTHLY = "#b2182b"
"""Incidents of the selected month (analyst map)."""

OUTLINES = {"lsoa": "#9a9a9a", "ward": "#525252", "district": "#252525"}
"""Boundary lines, lightest for the smallest units."""

CHANGE_COLOURS = {
    "significant fall": "#0072b2",
    "significant rise": "#d55e00",
    "no clear change": NEUTRAL,
    "no data": "#ffffff",
}
"""The change map's classes (``change.csv`` ``change_class``): a fall in Okabe-Ito blue, a rise in
vermillion (the first two tier colours, apart under every colour-blindness simulated), no clear change
the neutral grey, no data unfilled (white swatch)."""

CHANGE_SIZE_COLOURS = ["#2166ac", "#67a9cf", "#f7f7f7", "#ef8a62", "#b2182b"]
"""The size of every change, significant or not, from "fell by more than half" to "more than doubled"
(ColorBrewer RdBu, 5 classes, blue for falls as on the class layer)."""

INTERVENTION_LINES = {
    "treated": ("#000000", ""),
    "control": ("#000000", "7 5"),
    "displacement": ("#6b6b6b", ""),
    "displacement_control": ("#6b6b6b", "7 5"),
}
"""Outline colour and dash pattern of each intervention area (``interventions.gpkg`` ``role``):
black for the treated and control areas, grey for the displacement rings around them, solid for the
treated side and dashed for the control side; told apart by lightness and dash, not by hue."""

MACHADO_2009 = {
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
    "tritanopia": np.array(
        [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]
    ),
}
"""Machado et al. (2009) simulation matrices, severity 1.0, for linear sRGB."""

VISIONS = ("normal", *MACHADO_2009)
"""Colour vision simulated by :func:`simulate`."""

_SRGB_KNEE = 0.04045
_LINEAR_KNEE = 0.0031308
_LAB_EPS = 216 / 24389
_LAB_KAPPA = 24389 / 27
_WHITE_D65 = np.array([0.95047, 1.0, 1.08883])
_RGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)


def hex_rgb(colours: Sequence[str]) -> np.ndarray:
    """``#rrggbb`` strings as an (n, 3) array of sRGB values in [0, 1]."""
    return np.array([[int(c.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)] for c in colours], dtype=float)


def _linear(srgb: np.ndarray) -> np.ndarray:
    return np.where(srgb <= _SRGB_KNEE, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def _gamma(lin: np.ndarray) -> np.ndarray:
    lin = np.clip(lin, 0.0, 1.0)
    return np.where(lin <= _LINEAR_KNEE, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)


def simulate(colours: Sequence[str], vision: str) -> np.ndarray:
    """SRGB (n, 3) of ``colours`` as seen with ``vision`` (one of :data:`VISIONS`)."""
    rgb = hex_rgb(colours)
    if vision == "normal":
        return rgb
    return _gamma(_linear(rgb) @ MACHADO_2009[vision].T)


def lab(srgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of sRGB values in [0, 1], shape (n, 3)."""
    xyz = (_linear(np.asarray(srgb, dtype=float)) @ _RGB_TO_XYZ.T) / _WHITE_D65
    f = np.where(xyz > _LAB_EPS, np.cbrt(xyz), (_LAB_KAPPA * xyz + 16) / 116)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1)


def delta_e(a: Sequence[str], b: Sequence[str], vision: str = "normal") -> np.ndarray:
    """CIE 1976 colour difference between every colour of ``a`` and of ``b`` as seen with ``vision``.

    Returns an ``(len(a), len(b))`` array; about 2.3 is just noticeable, above 20 is
    clearly distinct on a map.
    """
    la, lb = lab(simulate(a, vision)), lab(simulate(b, vision))
    return np.sqrt(((la[:, None, :] - lb[None, :, :]) ** 2).sum(axis=2))


def min_contrast(colours: Sequence[str], vision: str = "normal") -> float:
    """Smallest :func:`delta_e` between two different colours of ``colours`` (inf for fewer than two)."""
    if len(colours) <= 1:
        return float("inf")
    d = delta_e(colours, colours, vision)
    return float(d[~np.eye(len(colours), dtype=bool)].min())


def tier_colours(n: int) -> list[str]:
    """Fill colours of ``n`` ordered tiers: the first ``n - 1`` from :data:`TIER_COLOURS`, the last neutral."""
    if n <= 0:
        return []
    head = [TIER_COLOURS[min(i, len(TIER_COLOURS) - 1)] for i in range(n - 1)]
    return [*head, NEUTRAL]
