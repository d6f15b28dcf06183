"""The KDE surface: harm-weighted density on the grid, in mapclassify classes (analyst map)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.present.maps.config import KDE_SCHEMES
from hotspots.present.maps.context import MapContext
from hotspots.present.maps.geometry import dissolve_by, inner_points
from hotspots.present.maps.layers.base import Layer, LayerSpec, Legend, polygon_features
from hotspots.present.maps.palette import KDE_COLOURS
from hotspots.present.maps.text import esc, fmt


def classify_kde(values: pd.Series, *, scheme: str, k: int) -> tuple[np.ndarray, list[float]]:
    """Class of each positive KDE value (-1 for zero/NaN) and the class upper bounds.

    Parameters
    ----------
    values
        Density per km² aligned to the grid.
    scheme
        Key of :data:`~hotspots.present.maps.config.KDE_SCHEMES` (a mapclassify classifier).
    k
        Number of classes (ignored by head/tail breaks).
    """
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    pos = np.isfinite(v) & (v > 0)
    cls = np.full(len(v), -1, dtype=int)
    if pos.sum() == 0:
        return cls, []
    kwargs = {} if scheme == "head_tail_breaks" else {"k": min(k, int(np.unique(v[pos]).size))}
    if scheme != "head_tail_breaks" and kwargs["k"] <= 1:
        cls[pos] = 0
        return cls, [float(v[pos].max())]
    import mapclassify  # imported when used: it imports matplotlib (about 0.5 s)

    clf = getattr(mapclassify, KDE_SCHEMES[scheme])(v[pos], **kwargs)
    yb = np.asarray(clf.yb, dtype=int)
    bins = [float(b) for b in clf.bins]
    if len(bins) > len(KDE_COLOURS):  # head/tail breaks on very skewed data: merge the top classes
        yb = np.minimum(yb, len(KDE_COLOURS) - 1)
        bins = [*bins[: len(KDE_COLOURS) - 1], bins[-1]]
    cls[pos] = yb
    return cls, bins


def build(ctx: MapContext, show: bool) -> Layer | None:
    """Cells with a positive density, coloured by class (zero is not drawn)."""
    grid = ctx.geo("grid")
    if C.KDE not in grid.columns:
        return None
    o = ctx.opts
    cls, bins = classify_kde(grid[C.KDE], scheme=o.kde_scheme, k=o.kde_classes)
    if not bins:
        return None
    g = grid.assign(_cls=cls)[cls >= 0].reset_index(drop=True)
    palette = KDE_COLOURS[: len(bins)]
    lows = [0.0, *bins[:-1]]
    ranges = [f"{fmt(lo)} \u2013 {fmt(hi)}" for lo, hi in zip(lows, bins, strict=True)]
    if len(g) > o.max_cells:
        g = dissolve_by(g[["_cls", "geometry"]], "_cls")
        ids = [f"class:{c}" for c in g["_cls"]]
        titles = [f"Density {ranges[c]} per km\u00b2" for c in g["_cls"]]
        values = [[fmt(n) for n in g["cells"]]]
        fields = ["Cells"]
    else:
        ids = [str(c) for c in g[C.CELL_ID]]
        areas = ctx.gaz.area_at(inner_points(g))
        titles = [f"Grid cell {esc(i)}" for i in ids]
        values = [[esc(a) for a in areas], [fmt(v) for v in g[C.KDE]], [ranges[c] for c in g["_cls"]]]
        fields = ["Where", "Harm density per km\u00b2", "Class"]
    feats = polygon_features(
        g, ids=ids, titles=titles, values=values, classes=g["_cls"].tolist(), tolerance=0.0, precision=o.precision
    )
    scheme = esc(o.kde_scheme.replace("_", " "))
    return Layer(
        key="kde",
        name="Harm density (KDE)",
        show=show,
        features=feats,
        fields=fields,
        tip=2,
        palette=palette,
        style={"fill": 0.6, "weight": 0, "line": None},
        legend=Legend(
            title="Harm density (KDE), per km\u00b2",
            items=[(c, r, "box") for c, r in zip(palette, ranges, strict=True)],
            note=f"Kernel density of harm-weighted incidents, {scheme} classes; zero not drawn.",
        ),
    )


SPEC = LayerSpec(key="kde", build=build, needs={"grid": (C.CELL_ID,)})
"""Registry entry."""
