"""Emerging hot and cold spots on the grid (analyst map; only when the detect stage computed them).

"No pattern" and "not analysed" cells are not drawn.
"""

from __future__ import annotations

from hotspots import columns as C
from hotspots.present.maps.context import MapContext
from hotspots.present.maps.geometry import dissolve_by
from hotspots.present.maps.layers.base import Layer, LayerSpec, Legend, polygon_features
from hotspots.present.maps.palette import EMERGING_COLD, EMERGING_HOT
from hotspots.present.maps.text import esc, fmt


def _order() -> tuple[list[str], list[str]]:
    try:
        from hotspots.detect import emerging

        return list(emerging.HOT_CLASSES), list(emerging.COLD_CLASSES)
    except (ImportError, AttributeError):  # pragma: no cover - a detect stage without emerging hot spots
        return [], []


def build(ctx: MapContext, show: bool) -> Layer | None:
    """Cells in an emerging hot- or cold-spot category."""
    grid = ctx.geo("grid")
    if C.EMERGING_CLASS not in grid.columns:
        return None
    cls = grid[C.EMERGING_CLASS].astype("string")
    keep = cls.str.endswith("hot spot", na=False) | cls.str.endswith("cold spot", na=False)
    g = grid[keep.to_numpy()].reset_index(drop=True)
    if len(g) == 0:
        return None
    hot_order, cold_order = _order()
    present = set(g[C.EMERGING_CLASS].astype(str))
    hot = [c for c in hot_order if c in present] + sorted(
        c for c in present if c.endswith("hot spot") and c not in hot_order
    )
    cold = [c for c in cold_order if c in present] + sorted(
        c for c in present if c.endswith("cold spot") and c not in cold_order
    )
    names = hot + cold
    palette = [EMERGING_HOT[i % len(EMERGING_HOT)] for i in range(len(hot))] + [
        EMERGING_COLD[i % len(EMERGING_COLD)] for i in range(len(cold))
    ]
    counts = g[C.EMERGING_CLASS].astype(str).value_counts()
    if len(g) > ctx.opts.max_cells:
        g = dissolve_by(g[[C.EMERGING_CLASS, "geometry"]], C.EMERGING_CLASS)
        ids = [f"class:{c}" for c in g[C.EMERGING_CLASS]]
    else:
        ids = [str(c) for c in g[C.CELL_ID]]
    feats = polygon_features(
        g,
        ids=ids,
        titles=[esc(str(c).capitalize()) for c in g[C.EMERGING_CLASS]],
        values=[[esc(i) for i in ids]],
        classes=[names.index(str(c)) for c in g[C.EMERGING_CLASS]],
        tolerance=0.0,
        precision=ctx.opts.precision,
    )
    return Layer(
        key="emerging",
        name="Emerging hot spots",
        show=show,
        features=feats,
        fields=["Grid cell"],
        tip=0,
        palette=palette,
        style={"fill": 0.7, "weight": 0, "line": None},
        legend=Legend(
            title="Emerging hot spots",
            items=[
                (c, f"{esc(n)} ({fmt(int(counts.get(n, 0)))} cells)", "box")
                for c, n in zip(palette, names, strict=True)
            ],
            note="Monthly Gi* with a Mann-Kendall trend test (the ArcGIS categories).",
        ),
    )


SPEC = LayerSpec(key="emerging", build=build, needs={"grid": (C.CELL_ID,)})
"""Registry entry."""
