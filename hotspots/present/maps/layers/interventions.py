"""The intervention register's areas (the map of ``hotspots change``), outlined.

Reads the change stage's :class:`~hotspots.evaluate.change_stage.ChangeResult`
(``ctx.results["change"]``): its ``intervention_areas`` (``intervention, role, area_km2``) and, for
the popups, the count row of ``impact`` (periods and verdict). Each area is drawn as a line only
(black for the treated and control areas, grey for the displacement rings; solid on the treated
side, dashed on the control side; see :data:`~hotspots.present.maps.palette.INTERVENTION_LINES`),
so a click inside an area still reaches the unit beneath; a click on the line opens the area's
popup. Each treated area is labelled with its intervention's name and is searchable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from hotspots.present.maps.context import MapContext
from hotspots.present.maps.layers.base import Layer, LayerSpec, Legend, label, polygon_features, search_entry
from hotspots.present.maps.palette import INTERVENTION_LINES
from hotspots.present.maps.text import esc, fmt

if TYPE_CHECKING:  # pragma: no cover
    from hotspots.evaluate.change_stage import ChangeResult

ROLES = list(INTERVENTION_LINES)

ROLE_WORDS = {
    "treated": "Treated area",
    "control": "Control area",
    "displacement": "Displacement ring around the treated area",
    "displacement_control": "The same ring around the control area",
}
"""How the popup and the legend name each area."""


def build(ctx: MapContext, show: bool) -> Layer | None:
    """The intervention areas as outlines (None without an intervention register)."""
    result: ChangeResult | None = ctx.results.get("change")
    if result is None or result.intervention_areas is None or len(result.intervention_areas) == 0:
        return None
    areas = result.intervention_areas.reset_index(drop=True)
    rows: dict[str, pd.Series] = {}
    if result.impact is not None:
        counts = result.impact[result.impact["measure"] == "count"]
        rows = {str(r["intervention"]): r for _, r in counts.iterrows()}
    names = [str(n) for n in areas["intervention"]]
    roles = [str(r) for r in areas["role"]]
    ids = [f"{n}:{r}" for n, r in zip(names, roles, strict=True)]

    def impact(name: str, col: str) -> str:
        row = rows.get(name)
        return "" if row is None else esc(row[col])

    values = [
        [ROLE_WORDS.get(r, esc(r)) for r in roles],
        [f"{fmt(v)} km\u00b2" for v in areas["area_km2"]],
        [impact(n, "start") for n in names],
        [impact(n, "before") for n in names],
        [impact(n, "after") for n in names],
        [impact(n, "verdict") if r == "treated" else "" for n, r in zip(names, roles, strict=True)],
    ]
    feats = polygon_features(
        areas,
        ids=ids,
        titles=[esc(n) for n in names],
        values=values,
        classes=[ROLES.index(r) if r in ROLES else 0 for r in roles],
        tolerance=0.0,
        precision=ctx.opts.precision,
    )
    labels, search = [], []
    for f in feats:
        name, _, role = f["properties"]["i"].rpartition(":")
        if role != "treated":
            continue
        at = f["properties"]["p"]
        labels.append(label(at, esc(name), min_zoom=11, priority=-1, css="place top"))
        search.append(
            search_entry(
                f"{esc(name)} (treated area)", "intervention", key="interventions", fid=f"{name}:{role}", at=at, zoom=15
            )
        )
    present = [r for r in ROLES if r in set(roles)]
    return Layer(
        key="interventions",
        name="Intervention areas",
        show=show,
        features=feats,
        fields=["Area", "Size", "Started", "Before", "After", "Result (incidents)"],
        tip=1,
        palette=[INTERVENTION_LINES[r][0] for r in ROLES],
        style={"outline": True, "weight": 3, "line": None, "dash": [INTERVENTION_LINES[r][1] for r in ROLES]},
        legend=Legend(
            title="Intervention areas",
            items=[
                (INTERVENTION_LINES[r][0], esc(ROLE_WORDS[r]), "dashed" if INTERVENTION_LINES[r][1] else "line")
                for r in present
            ],
            note="Click an outline for the intervention's periods and result.",
        ),
        labels=labels,
        search=search,
    )


SPEC = LayerSpec(key="interventions", build=build)
"""Registry entry."""
