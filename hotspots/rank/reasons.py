"""The one-line plain-language reason of every place ranked by the composite score (the ``reason`` column).

Each component phrases its own value (:attr:`hotspots.rank.components.base.Component.phrase`);
this module picks the three that weigh most for the place.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hotspots.rank.columns import COMPONENT_COLUMNS
from hotspots.rank.components.base import ReasonContext
from hotspots.rank.components.registry import COMPONENTS, REGISTRY

TOP_HALF = 50
"""A component is quoted only where the place is in the top half of places on it ("top 50 %" or better)."""

QUOTED = 3
"""Components quoted per reason (the largest weighted contributions)."""


def top_pct(values: np.ndarray) -> np.ndarray:
    """'Top x %' of each value among the non-missing: ceil(100 x (values >= it) / m), at least 1."""
    ok = ~np.isnan(values)
    m = max(int(ok.sum()), 1)
    s = np.sort(values[ok])
    ge = m - np.searchsorted(s, np.where(ok, values, 0.0), side="left")
    return np.maximum(1, np.ceil(100.0 * ge / m)).astype(int)


def place_reasons(
    out: pd.DataFrame,
    names: list[str],
    w: np.ndarray,
    scaled: np.ndarray,
    available: np.ndarray,
    radius: float,
    dep_label: str,
) -> list[str]:
    """One plain-language line per place from its :data:`QUOTED` largest weighted components.

    Parameters
    ----------
    out
        The places frame (component and context columns).
    names, w
        The weighted components and their weights.
    scaled, available
        ``(k, places)`` scaled values and where they are not missing.
    radius, dep_label
        The venue radius (metres) and the deprivation measure's label, quoted in the phrases.
    """
    strength = np.where(available, (w / w.sum())[:, None] * np.nan_to_num(scaled, nan=0.0), -np.inf)
    pct = {nm: top_pct(pd.to_numeric(out[COMPONENTS[nm]], errors="coerce").to_numpy(dtype=float)) for nm in names}
    ctx = ReasonContext(
        cols={c: out[c].to_numpy() for c in COMPONENT_COLUMNS + list(COMPONENTS.values()) if c in out.columns},
        pct=pct,
        radius=f"{radius:.0f} m",
        deprivation_label=dep_label,
    )
    top_half = np.vstack([pct[nm] <= TOP_HALF for nm in names])
    strength = np.where(top_half & (strength > 0), strength, -np.inf)
    ranked = np.argsort(-strength, axis=0, kind="stable")[:QUOTED].T
    lacking: np.ndarray = np.asarray(~available.all(axis=0))
    reasons = []
    for i in range(len(out)):
        order = [j for j in ranked[i] if np.isfinite(strength[j, i])]
        parts = [REGISTRY[names[j]].phrase(ctx, i) for j in order]
        miss = [names[j] for j in np.flatnonzero(~available[:, i])] if lacking[i] else []
        if miss:
            parts.append(f"no data for {', '.join(miss)} (scored on the rest)")
        if not order:
            parts.insert(0, "Lower priority: in the top half of places on no component")
        reasons.append("; ".join(parts))
    return reasons
