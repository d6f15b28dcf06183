"""The one-line plain-language reason of every ranked place (the ``reason`` column)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hotspots.rank.config import (
    COMPONENT_COLUMNS,
    COMPONENTS,
    CYP_DECILE,
    GI_Z,
    HARM_RATE,
    HOTSPOT_CLASS,
    IDACI_RATE_COL,
    IMD_DECILE,
    IMD_NC_DECILE_COL,
    KDE,
    N_INCIDENTS,
    NEAR_VENUE_SHARE,
    VENUES_NEAR,
)


def _top_pct(values: np.ndarray) -> np.ndarray:
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
    combine: str,
    radius: float,
    dep_label: str,
) -> list[str]:
    """One plain-language line per place from its three largest weighted components."""
    strength = np.where(available, (w / w.sum())[:, None] * np.nan_to_num(scaled, nan=0.0), -np.inf)
    pct = {nm: _top_pct(pd.to_numeric(out[COMPONENTS[nm]], errors="coerce").to_numpy(dtype=float)) for nm in names}
    r0 = f"{radius:.0f} m"
    cols = {c: out[c].to_numpy() for c in COMPONENT_COLUMNS if c in out.columns}

    def phrase(nm: str, i: int) -> str:
        if nm == "harm_rate":
            return f"Top {pct[nm][i]}% harm-weighted violence per 1,000 residents ({cols[HARM_RATE][i]:.0f})"
        if nm == "harm_count":
            return f"Top {pct[nm][i]}% harm-weighted violence ({int(cols[N_INCIDENTS][i]):,} incidents)"
        if nm == "gi_z":
            cls = cols[HOTSPOT_CLASS][i]
            label = f"Gi* {cls}" if isinstance(cls, str) and cls.startswith("hot") else "Gi*"
            return f"Top {pct[nm][i]}% hot-spot strength ({label}, z = {cols[GI_Z][i]:.1f})"
        if nm == "kde":
            return f"Top {pct[nm][i]}% violence density (KDE {cols[KDE][i]:,.0f} per km²)"
        if nm == "venue_density":
            k = int(cols[VENUES_NEAR][i])
            return f"{k} NTE venue{'s' if k != 1 else ''} within {r0}"
        if nm == "near_venue_share":
            return f"{cols[NEAR_VENUE_SHARE][i]:.0%} of violence within {r0} of an NTE venue"
        if nm == "deprivation":
            dec = cols[IMD_NC_DECILE_COL][i] if "excluding" in dep_label else cols[IMD_DECILE][i]
            if pd.isna(dec):
                return f"Top {pct[nm][i]}% {dep_label} deprivation"
            return f"{dep_label} decile {int(dec)}"
        if nm == "idaci":
            return f"{cols[IDACI_RATE_COL][i]:.0%} of children in income-deprived families (derived IDACI)"
        return (
            f"Young people's education deprivation decile {int(cols[CYP_DECILE][i])}"
            if pd.notna(cols[CYP_DECILE][i])
            else f"Top {pct[nm][i]}% young people's education deprivation"
        )

    # the three largest weighted contributions among components where the place is in the top half
    top_half = np.vstack([pct[nm] <= 50 for nm in names])
    strength = np.where(top_half & (strength > 0), strength, -np.inf)
    ranked = np.argsort(-strength, axis=0, kind="stable")[:3].T
    lacking: np.ndarray = np.asarray(~available.all(axis=0))
    reasons = []
    for i in range(len(out)):
        order = [j for j in ranked[i] if np.isfinite(strength[j, i])]
        parts = [phrase(names[j], i) for j in order]
        miss = [names[j] for j in np.flatnonzero(~available[:, i])] if lacking[i] else []
        if miss:
            parts.append(f"no data for {', '.join(miss)} (scored on the rest)")
        if not order:
            parts.insert(0, "Lower priority: in the top half of places on no component")
        reasons.append("; ".join(parts))
    return reasons
