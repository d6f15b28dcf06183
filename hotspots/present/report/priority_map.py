"""The report's static map of priority places and bleed-control kits (page 1; ``figures/priority_map.png``).

:func:`priority_map_figure` draws the LSOA polygons filled by tier in the colours of the
interactive maps (:data:`TIER_COLOURS`, the lowest tier neutral grey), the district
boundaries with their names, and the kits as numbered dark squares (the shape and colour
the maps use). When most kits sit close together, a second panel enlarges the area around
them (:func:`zoom_window`, chosen from the data), with ward names where wards are known; the
first panel marks that area with a rectangle. Drawn on the Agg canvas from shapely
geometries (no pyplot, no tiles, nothing fetched).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib import patheffects
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.path import Path as MplPath

from hotspots import columns as C
from hotspots.present.maps.palette import KIT, tier_colours
from hotspots.present.report.figures import SOURCE_LINE, new_figure, source_line

TIER_COLOURS = dict(enumerate(tier_colours(3), start=1))
"""Fill of the tiers: the interactive maps' (:func:`hotspots.present.maps.palette.tier_colours`: Okabe-Ito
vermillion and blue, the last tier neutral grey)."""
TIER_ALPHA = {1: 0.85, 2: 0.8, 3: 0.35}
"""Fill opacity of each tier (the maps use 0.75 for priority tiers and 0.35 for the last, over a base map)."""
KIT_COLOUR = KIT
"""Kit markers: the maps' near-black square (:data:`hotspots.present.maps.palette.KIT`), the kit's number in white."""
OUTLINE = "#8a8a8a"
DISTRICT_LINE = "#252525"
WARD_LINE = "#525252"

HEIGHT_IN = 4.8
"""Figure height (inches); the width is 8.5 inches."""
SIMPLIFY_M = 5.0
"""Polygons are simplified to this tolerance (metres) before drawing."""
LEGEND_ROW = 0.1
"""Height of the legend row relative to the maps."""

KIT_GROUP_SHARE = 0.025
"""On the whole-area panel, kits closer than this share of the area's side share one label."""

ZOOM_MIN_KITS = 3
"""The enlarged panel is drawn only when at least this many kits fall in it."""
ZOOM_SHARE = 0.35
"""... and only when its side is at most this share of the area's longer side."""
ZOOM_RADIUS = 1 / 20
"""The enlarged group: the kits within this share of the area's longer side of the kit with most such neighbours."""
ZOOM_PAD = 1.5
"""The enlargement's side is the group's extent times this ..."""
ZOOM_MIN_SIDE = 1 / 25
"""... and at least this share of the area's longer side."""
LABEL_MARGIN = 0.08
"""Ward names are written only where their point is this share of the side inside the enlargement."""
ZOOM_GROUP = 1 / 28
"""In the enlargement, kits closer than this share of its side (where squares would overlap) share one label."""


@dataclass(frozen=True)
class Window:
    """A square map window (EPSG:27700 metres) and the kits inside it."""

    x0: float
    y0: float
    side: float
    kits: int

    def contains(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Which points lie inside the window."""
        return (x >= self.x0) & (x <= self.x0 + self.side) & (y >= self.y0) & (y <= self.y0 + self.side)


def zoom_window(x: Sequence[float], y: Sequence[float], bounds: Sequence[float]) -> Window | None:
    """The square around the densest group of kits, or None when an enlargement would not help.

    The group is the kit with the most other kits within :data:`ZOOM_RADIUS` of the area's
    longer side, and those kits; the window is their extent times :data:`ZOOM_PAD`, at least
    :data:`ZOOM_MIN_SIDE` of the area's side, centred on them.

    Parameters
    ----------
    x, y
        Kit coordinates (metres).
    bounds
        The area's ``(minx, miny, maxx, maxy)``.

    Returns
    -------
    Window or None
        None with fewer than :data:`ZOOM_MIN_KITS` kits in the group, or when the window
        would cover more than :data:`ZOOM_SHARE` of the area's side.

    Examples
    --------
    >>> w = zoom_window([0, 100, 200, 50_000], [0, 100, 50, 50_000], (0, 0, 60_000, 60_000))
    >>> (w.kits, round(w.side))
    (3, 2400)
    >>> zoom_window([0, 30_000], [0, 30_000], (0, 0, 60_000, 60_000)) is None
    True
    """
    px, py = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(px) < ZOOM_MIN_KITS:
        return None
    span = max(bounds[2] - bounds[0], bounds[3] - bounds[1])
    r = span * ZOOM_RADIUS
    d = np.hypot(px[:, None] - px[None, :], py[:, None] - py[None, :])
    centre = int(np.argmax((d <= r).sum(axis=1)))
    near = d[centre] <= r
    if near.sum() < ZOOM_MIN_KITS:
        return None
    x0, x1, y0, y1 = px[near].min(), px[near].max(), py[near].min(), py[near].max()
    side = max(max(x1 - x0, y1 - y0) * ZOOM_PAD, span * ZOOM_MIN_SIDE)
    if side > ZOOM_SHARE * span:
        return None
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w = Window(cx - side / 2, cy - side / 2, side, 0)
    return Window(w.x0, w.y0, side, int(w.contains(px, py).sum()))


def _paths(geoms: Any) -> list[MplPath]:
    """One compound matplotlib path per (multi)polygon, holes included."""
    out = []
    for g in geoms:
        verts: list[np.ndarray] = []
        codes: list[np.ndarray] = []
        for part in shapely.get_parts(g):
            if part.is_empty or part.geom_type != "Polygon":
                continue
            for ring in (part.exterior, *part.interiors):
                xy = np.asarray(ring.coords)[:, :2]
                c = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
                c[0], c[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
                verts.append(xy)
                codes.append(c)
        if verts:
            out.append(MplPath(np.concatenate(verts), np.concatenate(codes)))
        else:
            out.append(MplPath(np.zeros((1, 2)), [MplPath.MOVETO]))
    return out


def _rgba(hex_colour: str, alpha: float) -> tuple[float, float, float, float]:
    h = hex_colour.lstrip("#")
    return (int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255, alpha)


_HALO = [patheffects.withStroke(linewidth=2.4, foreground="white")]


def _draw_places(ax: Any, paths: list[MplPath], tiers: np.ndarray, *, lw: float) -> None:
    faces = [_rgba(TIER_COLOURS.get(int(t), TIER_COLOURS[3]), TIER_ALPHA.get(int(t), 0.35)) for t in tiers]
    ax.add_collection(PathCollection(paths, facecolors=faces, edgecolors=OUTLINE, linewidths=lw))


def _draw_lines(ax: Any, paths: list[MplPath], colour: str, lw: float) -> None:
    ax.add_collection(PathCollection(paths, facecolors="none", edgecolors=colour, linewidths=lw))


def _draw_kits(ax: Any, kits: pd.DataFrame, *, numbered: bool, size: float) -> None:
    ax.scatter(kits["x"], kits["y"], marker="s", s=size, c=KIT_COLOUR, edgecolors="white", linewidths=0.6, zorder=5)
    if numbered:
        for x, y, o in zip(kits["x"], kits["y"], kits[C.ORDER], strict=True):
            ax.text(
                x,
                y,
                f"{int(o)}",
                color="white",
                fontsize=6.5,
                ha="center",
                va="center",
                weight="bold",
                zorder=6,
                clip_on=True,
            )


def _kit_groups(x: np.ndarray, y: np.ndarray, r: float) -> list[list[int]]:
    """Kits within ``r`` metres of a group's first kit share one label (greedy, in kit order)."""
    groups: list[list[int]] = []
    for i in range(len(x)):
        for g in groups:
            if np.hypot(x[i] - x[g[0]], y[i] - y[g[0]]) <= r:
                g.append(i)
                break
        else:
            groups.append([i])
    return groups


def _draw_kit_groups(ax: Any, kits: pd.DataFrame, r: float) -> None:
    """Numbered squares; kits closer than ``r`` to another are drawn small and labelled together beside."""
    x, y = kits["x"].to_numpy(dtype=float), kits["y"].to_numpy(dtype=float)
    groups = _kit_groups(x, y, r)
    alone = [g[0] for g in groups if len(g) == 1]
    _draw_kits(ax, kits.iloc[alone], numbered=True, size=70)
    together = [i for g in groups if len(g) > 1 for i in g]
    if together:
        _draw_kit_labels(ax, kits.iloc[together], r)


def _draw_kit_labels(ax: Any, kits: pd.DataFrame, r: float) -> None:
    """Small kit squares, each group of close kits labelled once beside them ("7, 10")."""
    if not len(kits):
        return
    x, y = kits["x"].to_numpy(dtype=float), kits["y"].to_numpy(dtype=float)
    order = kits[C.ORDER].to_numpy()
    ax.scatter(x, y, marker="s", s=16, c=KIT_COLOUR, edgecolors="white", linewidths=0.5, zorder=5)
    for g in _kit_groups(x, y, r):
        text = ", ".join(f"{int(order[i])}" for i in g)
        ax.text(
            x[g].max() + r * 0.6,
            y[g].mean(),
            text,
            fontsize=7,
            weight="bold",
            color=KIT_COLOUR,
            va="center",
            ha="left",
            path_effects=_HALO,
            zorder=6,
            clip_on=True,
        )


def _label_areas(
    ax: Any, frame: gpd.GeoDataFrame, column: str, *, size: float, colour: str, within: Any = None
) -> None:
    pts = frame.geometry.representative_point()
    for name, p in zip(frame[column].astype(str), pts, strict=True):
        if within is not None and not within.contains(np.array([p.x]), np.array([p.y]))[0]:
            continue
        ax.text(
            p.x,
            p.y,
            name,
            fontsize=size,
            color=colour,
            ha="center",
            va="center",
            path_effects=_HALO,
            zorder=4,
            clip_on=True,
        )


def _frame(ax: Any, x0: float, y0: float, x1: float, y1: float) -> None:
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_color("#bbbbbb")


def priority_map_figure(
    lsoa: gpd.GeoDataFrame,
    tiers: pd.Series,
    *,
    tier_names: dict[int, str],
    kits: pd.DataFrame | None = None,
    wards: gpd.GeoDataFrame | None = None,
    title: str = "Where to act",
    source: str = SOURCE_LINE,
) -> tuple[Figure, dict[str, Any]]:
    """The priority map: places by tier, districts named, kits numbered, and an enlargement where kits cluster.

    Parameters
    ----------
    lsoa
        The study's LSOAs (``lsoa_code``, ``district``, geometry, EPSG:27700).
    tiers
        Tier (1, 2, 3) by ``lsoa_code``; LSOAs without one are drawn as the last tier.
    tier_names
        Plain name of each tier, for the legend.
    kits
        Kits (``order``, ``x``, ``y``), or None.
    wards
        Ward boundaries (``ward_name``), named in the enlarged panel, or None.
    title
        The figure's title.
    source
        The source line under the figure.

    Returns
    -------
    (Figure, dict)
        The figure and what it shows (``window``: the enlarged area or None, ``kits_in_window``,
        ``districts``), for the caption and alt text.
    """
    paths = _paths(shapely.simplify(lsoa.geometry.values, SIMPLIFY_M))
    t = lsoa[C.LSOA_CODE].astype(str).map(tiers).fillna(3).to_numpy(dtype=float)
    bounds = tuple(float(v) for v in lsoa.total_bounds)
    has_districts = C.DISTRICT in lsoa.columns and lsoa[C.DISTRICT].notna().any()
    districts = lsoa[[C.DISTRICT, "geometry"]].dissolve(by=C.DISTRICT, as_index=False) if has_districts else None
    k = kits if kits is not None and len(kits) else None
    win = zoom_window(k["x"], k["y"], bounds) if k is not None else None
    fig = new_figure(8.5, HEIGHT_IN)
    ratio = (bounds[2] - bounds[0]) / max(bounds[3] - bounds[1], 1.0)
    gs = fig.add_gridspec(
        2, 2 if win else 1, height_ratios=[1.0, LEGEND_ROW], width_ratios=[max(ratio, 0.4), 1.0] if win else None
    )
    _whole_panel(fig.add_subplot(gs[0, 0]), paths, t, bounds, districts, k, win)
    if win is not None and k is not None:
        w = wards.to_crs(lsoa.crs) if wards is not None and len(wards) and C.WARD_NAME in wards.columns else None
        _zoom_panel(fig.add_subplot(gs[0, 1]), paths, t, districts, w, k, win)
    lax = fig.add_subplot(gs[1, :])
    lax.axis("off")
    handles = _legend(tier_names, kits=k is not None, districts=districts is not None)
    lax.legend(handles=handles, loc="center", ncol=min(len(handles), 3), fontsize=7.5, frameon=False)
    fig.suptitle(title, x=0.01, ha="left", fontsize=11, fontweight="bold")
    source_line(fig, "Places are LSOAs", source)
    info = {
        "window": win,
        "kits_in_window": win.kits if win else 0,
        "districts": [] if districts is None else districts[C.DISTRICT].astype(str).tolist(),
    }
    return fig, info


def _whole_panel(
    ax: Any,
    paths: list[MplPath],
    tiers: np.ndarray,
    bounds: tuple[float, ...],
    districts: gpd.GeoDataFrame | None,
    kits: pd.DataFrame | None,
    win: Window | None,
) -> None:
    """The whole area: tiers, districts named, kits outside the enlargement labelled, its square marked."""
    minx, miny, maxx, maxy = bounds
    span = max(maxx - minx, maxy - miny)
    _draw_places(ax, paths, tiers, lw=0.15)
    if districts is not None:
        _draw_lines(ax, _paths(districts.geometry.values), DISTRICT_LINE, 0.9)
        _label_areas(ax, districts, C.DISTRICT, size=7, colour="#111111")
    if kits is not None:
        inside = win.contains(kits["x"].to_numpy(), kits["y"].to_numpy()) if win else np.zeros(len(kits), bool)
        _draw_kit_labels(ax, kits[~inside], KIT_GROUP_SHARE * span)
    if win is not None:
        ax.add_patch(Rectangle((win.x0, win.y0), win.side, win.side, fill=False, ec="black", lw=1.0, zorder=7))
    pad = 0.02 * span
    _frame(ax, minx - pad, miny - pad, maxx + pad, maxy + pad)


def _zoom_panel(
    ax: Any,
    paths: list[MplPath],
    tiers: np.ndarray,
    districts: gpd.GeoDataFrame | None,
    wards: gpd.GeoDataFrame | None,
    kits: pd.DataFrame,
    win: Window,
) -> None:
    """The enlargement: tiers, wards named, districts, the kits in it numbered."""
    _draw_places(ax, paths, tiers, lw=0.4)
    if wards is not None:
        _draw_lines(ax, _paths(wards.geometry.values), WARD_LINE, 0.5)
        m = win.side * LABEL_MARGIN
        _label_areas(
            ax, wards, C.WARD_NAME, size=6, colour="#333333", within=Window(win.x0 + m, win.y0 + m, win.side - 2 * m, 0)
        )
    if districts is not None:
        _draw_lines(ax, _paths(districts.geometry.values), DISTRICT_LINE, 1.2)
    inside = kits[win.contains(kits["x"].to_numpy(), kits["y"].to_numpy())]
    _draw_kit_groups(ax, inside, win.side * ZOOM_GROUP)
    _frame(ax, win.x0, win.y0, win.x0 + win.side, win.y0 + win.side)
    ax.set_title(f"Enlarged: the {win.side / 1000:.1f} km square marked on the left", fontsize=8, loc="left")


def _legend(tier_names: dict[int, str], *, kits: bool, districts: bool) -> list[Any]:
    handles: list[Any] = [
        Patch(facecolor=_rgba(TIER_COLOURS[i], TIER_ALPHA[i]), edgecolor=OUTLINE, label=tier_names[i])
        for i in sorted(TIER_COLOURS)
        if i in tier_names
    ]
    if kits:
        handles.append(
            Line2D([], [], marker="s", ls="", color=KIT_COLOUR, ms=7, label="bleed-control kit (number = order)")
        )
    if districts:
        handles.append(Line2D([], [], color=DISTRICT_LINE, lw=1, label="district boundary"))
    return handles
