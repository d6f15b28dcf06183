"""Parts of the ``change`` stage beyond the per-unit tests: pattern similarity and the intervention register."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspots import columns as C
from hotspots.detect.gistar import HOTSPOT_CLASSES, NOT_SIGNIFICANT, contiguity_weights, grid_weights
from hotspots.detect.inference import hotspot_gistar
from hotspots.errors import HotspotsWarning, InputError
from hotspots.evaluate.change_config import ChangeConfig, InterventionConfig
from hotspots.evaluate.change_units import Units, choose_sources
from hotspots.evaluate.impact import IMPACT_COLUMNS, impact_areas, intervention_impact
from hotspots.evaluate.similarity import ClassComparison, SpptResult, compare_classes, sppt
from hotspots.evaluate.tally import PeriodTally
from hotspots.months import Periods, check_periods, format_months, intervention_periods
from hotspots.prepare.study import Study
from hotspots.validate import suggest

DETAIL_COLUMNS = [
    "unit_id",
    "design_effect",
    "sppt_before_pct",
    "sppt_after_pct",
    "sppt_lower_pct",
    "sppt_upper_pct",
    "sppt_s",
    "gi_class_before",
    "gi_class_after",
]
"""Columns of ``change_detail.csv``: the unit; the design effect its test allowed for (1 = Poisson);
its share of the before and after incidents (%), the SPPT interval of its after share (%) and
``sppt_s`` (-1: its share rose, 0: similar, +1: fell); its Gi* class in each period."""

MIN_GI_UNITS = 3  # Gi* needs a neighbourhood smaller than the whole map


def _gi_classes(units: Units, before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Gi* classes (FDR) of the before and after values on the same units and weights; and notes."""
    frame = units.frame
    if len(frame) < MIN_GI_UNITS:
        raise InputError(f"Gi* needs at least {MIN_GI_UNITS} units; there are {len(frame)}.")
    if units.kind == "grid":
        g = gpd.GeoDataFrame({C.CELL_ID: frame["unit_id"].to_numpy()}, geometry=frame.geometry.values, crs=C.CRS)
        g.attrs["grid"] = frame.attrs["grid"]
        W = grid_weights(g)
    else:
        W = contiguity_weights(frame)
    notes: list[str] = []
    out = []
    for label, values in (("before", before), ("after", after)):
        gdf = gpd.GeoDataFrame({C.N: values}, geometry=frame.geometry.values, crs=C.CRS)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # the detect stage's default test (exact, Pearson dispersion) on each period's counts, area as exposure
            res = hotspot_gistar(gdf, value=C.N, count=C.N, exposure="area", weights=W)
        notes.extend(f"Gi* {label}: {w.message}" for w in caught if issubclass(w.category, HotspotsWarning))
        out.append(res[C.HOTSPOT_CLASS].to_numpy(dtype=object))
    return out[0], out[1], notes


def similarity(
    units: Units, tally: PeriodTally, table: pd.DataFrame, cfg: ChangeConfig
) -> tuple[SpptResult, ClassComparison | None, pd.DataFrame, list[str]]:
    """Andresen's SPPT (before = base, after = test, on counts) and the agreement of the two Gi* maps.

    Returns
    -------
    (sppt, classes, detail, notes)
        ``classes`` is None (with a note) when Gi* cannot run on these units; ``detail`` has
        :data:`DETAIL_COLUMNS`.
    """
    notes: list[str] = []
    s = sppt(tally.before, tally.after, sample_share=cfg.sppt_share, draws=cfg.sppt_draws, seed=cfg.seed)
    harm = cfg.measure == "harm"
    b = tally.before_harm if harm else tally.before.astype(float)
    a = tally.after_harm if harm else tally.after.astype(float)
    classes = None
    gb = ga = np.full(len(b), "not analysed", dtype=object)
    try:
        gb, ga, gi_notes = _gi_classes(units, b, a)
        notes.extend(gi_notes)
        classes = compare_classes(gb, ga, classes=HOTSPOT_CLASSES)
        sig = (
            compare_classes(gb, ga, classes=HOTSPOT_CLASSES, exclude_both=NOT_SIGNIFICANT)
            if ((gb != NOT_SIGNIFICANT) | (ga != NOT_SIGNIFICANT)).any()
            else None
        )
        if sig is not None:
            notes.append(
                f"Of the {sig.units:,} units that are a Gi* hot or cold spot in either period, "
                f"{100 * sig.agreement:.0f} % are in the same class in both (kappa {sig.kappa:.2f})."
            )
    except InputError as exc:
        notes.append(f"Gi* maps not compared: {exc}")
    u = s.units
    detail = pd.DataFrame(
        {
            "unit_id": table["unit_id"].to_numpy(),
            "design_effect": table.attrs.get("dispersion", np.ones(len(table))),
            "sppt_before_pct": u["base_pct"].to_numpy(),
            "sppt_after_pct": u["test_pct"].to_numpy(),
            "sppt_lower_pct": u["lower_pct"].to_numpy(),
            "sppt_upper_pct": u["upper_pct"].to_numpy(),
            "sppt_s": u["s_index"].to_numpy(),
            "gi_class_before": gb,
            "gi_class_after": ga,
        },
        columns=DETAIL_COLUMNS,
    )
    return s, classes, detail, notes


# --------------------------------------------------------------------------------------
# the intervention register
# --------------------------------------------------------------------------------------


def area_geometry(study: Study, entry: InterventionConfig, role: str) -> shapely.Geometry | None:
    """The treated or control area of a register entry as one polygon (EPSG:27700), or None.

    From the polygon file read at load (``study.areas``) or the union of the listed LSOAs.

    Raises
    ------
    InputError
        An LSOA code that is not in the study area.
    """
    path, codes = getattr(entry, role), getattr(entry, f"{role}_lsoas")
    if path is not None:
        return shapely.union_all(study.areas[f"{entry.name}:{role}"].geometry.values)
    if not codes:
        return None
    known = pd.Index(study.lsoa[C.LSOA_CODE])
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InputError(
            f"[[intervention]] {entry.name!r} key '{role}_lsoas': {unknown[0]!r} is not an LSOA of the study area."
            f"{suggest(unknown[0], list(known))}"
        )
    return shapely.union_all(study.lsoa.geometry[known.get_indexer(codes)].values)


INTERVENTION_ADVICE = "Move the entry's 'start' or shorten its 'months' so that both periods lie inside the data."
"""What to do when an intervention's periods lie (partly) outside the data."""


@dataclass(frozen=True)
class InterventionInputs:
    """An intervention register entry checked against the study: its areas, periods, sources and incidents."""

    entry: InterventionConfig
    areas: dict[str, shapely.Geometry]
    periods: Periods
    sources: list[str]
    incidents: pd.DataFrame


def check_intervention(
    study: Study, entry: InterventionConfig, explicit_sources: Sequence[str] = ()
) -> InterventionInputs:
    """Check one ``[[intervention]]`` entry against the study, as the change stage needs it.

    Parameters
    ----------
    study
        The loaded study.
    entry
        The register entry.
    explicit_sources
        Sources named for the change (``--source`` / ``[change] sources``), used when the entry
        names none.

    Raises
    ------
    InputError
        An LSOA that is not in the study area; a period with no data (in any source, or in the
        pooled ones), periods with different numbers of months with data; no source with data in
        both periods; empty or overlapping treated and control areas. Every message names the entry.
    """
    where = f"[[intervention]] {entry.name!r}"
    treated = area_geometry(study, entry, "treated")
    control = area_geometry(study, entry, "control")
    before, after = intervention_periods(entry.start, months=entry.months, what=where)
    names = (f"{where} before period", f"{where} after period")
    inc_all = study.incidents
    wanted = list(entry.sources) or list(explicit_sources)
    chosen, _ = choose_sources(
        inc_all,
        wanted,
        before,
        after,
        what=f"{where} periods",
        names=names,
        how="the entry's 'sources' key",
        advice=INTERVENTION_ADVICE,
    )
    inc = inc_all[inc_all[C.SOURCE].isin(chosen)]
    periods = check_periods(
        format_months(before),
        format_months(after),
        incident_months=inc[C.MONTH],
        names=names,
        equal_length=True,
        advice=INTERVENTION_ADVICE,
    )
    try:
        geoms = impact_areas(treated, control, buffer_m=entry.buffer_m)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from exc
    return InterventionInputs(entry=entry, areas=geoms, periods=periods, sources=chosen, incidents=inc)


def _entry_rows(
    study: Study, entry: InterventionConfig, cfg: ChangeConfig, explicit_sources: Sequence[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    checked = check_intervention(study, entry, explicit_sources)
    inc = checked.incidents
    xy = shapely.get_coordinates(inc.geometry.values)
    rows = [
        intervention_impact(
            entry.name,
            xy,
            inc[C.MONTH].to_numpy(),
            treated=checked.areas["treated"],
            control=checked.areas.get("control"),
            start=entry.start,
            months=entry.months,
            buffer_m=entry.buffer_m,
            harm=inc[C.HARM].to_numpy(dtype=float),
            measure=measure,
            alpha=cfg.alpha,
            power=cfg.power,
            confidence=cfg.confidence,
        )
        for measure in ("count", "harm")
    ]
    shapes = [
        {
            "intervention": entry.name,
            "role": role,
            "area_km2": shapely.area(g) / 1e6,
            "sources": ", ".join(checked.sources),
            "geometry": g,
        }
        for role, g in checked.areas.items()
    ]
    return rows, shapes


def interventions_impact(
    study: Study,
    cfg: ChangeConfig,
    interventions: Sequence[InterventionConfig],
    *,
    explicit_sources: Sequence[str] = (),
) -> tuple[pd.DataFrame | None, gpd.GeoDataFrame | None]:
    """``impact.csv`` (two rows per intervention: count and harm) and the register's areas as geometry.

    Parameters
    ----------
    study
        The loaded study.
    cfg
        ``[change]`` (alpha, power, confidence of the tests).
    interventions
        The register.
    explicit_sources
        Sources named for the change (``--source`` / ``[change] sources``), used by entries that
        name none; empty: each entry pools the sources with data in both of its periods.

    Returns
    -------
    (impact, areas)
        None, None without interventions.
    """
    if not interventions:
        return None, None
    rows: list[dict[str, Any]] = []
    shapes: list[dict[str, Any]] = []
    for entry in interventions:
        r, s = _entry_rows(study, entry, cfg, explicit_sources)
        rows.extend(r)
        shapes.extend(s)
    impact = pd.DataFrame(rows, columns=IMPACT_COLUMNS)
    areas = gpd.GeoDataFrame(shapes, geometry="geometry", crs=C.CRS)
    return impact, areas
