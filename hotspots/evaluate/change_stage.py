"""The ``change`` stage: what changed between two periods, how sure we are, what could have been seen.

:func:`change` takes the loaded study, the ``[change]`` section and the intervention register
and returns a frozen :class:`ChangeResult`; it reads and writes nothing (``hotspots change``
writes its folder with :mod:`hotspots.change_run`, ``hotspots run`` its "What changed" section).

Steps: choose the sources (:func:`.change_units.choose_sources`) and check the periods against
their months (exposure = months with data); assign every incident to an LSOA by location; choose
the area and its units; tally each unit's counts per period (:mod:`.tally`); test every unit
(:func:`.change.unit_change`); the whole area's change with an overdispersion-aware interval and
seasonal matching (:mod:`.area`), against a comparison area when one is configured; the pattern's
similarity (Andresen's SPPT and the agreement of the two periods' Gi* maps, :mod:`.similarity`);
and each intervention's impact (:mod:`.impact`).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.errors import HotspotsWarning, InputError
from hotspots.evaluate.area import AreaChange, AreaComparison, area_change, compare_areas
from hotspots.evaluate.change import CHANGE_COLUMNS
from hotspots.evaluate.change_config import ChangeConfig, InterventionConfig
from hotspots.evaluate.change_extras import InterventionInputs, check_intervention, interventions_impact, similarity
from hotspots.evaluate.change_table import unit_change
from hotspots.evaluate.change_units import Units, area_districts, assign_lsoa, build_units, choose_sources
from hotspots.evaluate.similarity import ClassComparison, SpptResult
from hotspots.evaluate.tally import PeriodTally, tally_periods
from hotspots.months import Periods, check_periods, format_months, parse_months
from hotspots.prepare.study import Study

log = logging.getLogger(__name__)

COVID_MONTHS = ("2020-03", "2021-07")
"""First and last month of the UK's COVID-19 restrictions (first lockdown to the last lifting in England)."""


@dataclass(frozen=True)
class ChangeResult:
    """What changed between two periods.

    Attributes
    ----------
    table
        ``change.csv``: :data:`hotspots.evaluate.change.CHANGE_COLUMNS` and geometry (EPSG:27700).
    detail
        Per-unit extras (``change_detail.csv``): ``unit_id, design_effect, sppt_before_pct,
        sppt_after_pct, sppt_lower_pct, sppt_upper_pct, sppt_s, gi_class_before, gi_class_after``.
    area
        The whole area's change (quasi-Poisson on its monthly counts).
    comparison
        The area against the comparison area, or None.
    sppt
        Andresen's SPPT of the before (base) and after (test) counts.
    classes
        Agreement of the Gi* class maps of the two periods (None when Gi* could not be run).
    impact
        ``impact.csv`` (:data:`hotspots.evaluate.impact.IMPACT_COLUMNS`), or None without interventions.
    intervention_areas
        The register's areas as geometry (``intervention, role, area_km2``), or None.
    periods
        The checked periods (asked for, with data, missing).
    sources
        The pooled sources.
    units, measure
        The unit kind and the measure.
    config
        The ``[change]`` settings used (after command-line overrides).
    notes
        Caveats in plain words (periods, sources, seasonality, restrictions, dispersion).
    auto
        Parameters chosen automatically.
    summary
        The key numbers for the manifest.
    """

    table: gpd.GeoDataFrame
    detail: pd.DataFrame
    area: AreaChange
    comparison: AreaComparison | None
    sppt: SpptResult
    classes: ClassComparison | None
    impact: pd.DataFrame | None
    intervention_areas: gpd.GeoDataFrame | None
    periods: Periods
    sources: list[str]
    units: str
    measure: str
    config: ChangeConfig
    notes: list[str] = field(default_factory=list)
    auto: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


def _periods(incidents: pd.DataFrame, cfg: ChangeConfig, names: tuple[str, str]) -> Periods:
    if cfg.before is None or cfg.after is None:
        raise InputError("give the periods to compare: --before MONTHS --after MONTHS (or [change] before/after).")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        periods = check_periods(cfg.before, cfg.after, incident_months=incidents[C.MONTH], names=names)
    for w in caught:  # re-issue at the caller's level
        warnings.warn(str(w.message), HotspotsWarning, stacklevel=3)
    return periods


def _monthly(incidents: pd.DataFrame, months: list[str], weights: np.ndarray | None) -> pd.Series:
    s = pd.Series(1.0 if weights is None else weights, index=incidents.index)
    return s.groupby(incidents[C.MONTH]).sum().reindex(months, fill_value=0.0).astype(float)


def _label(districts: list[str], study: Study) -> str:
    return " and ".join(districts) if 0 < len(districts) <= 3 else study.name  # noqa: PLR2004 (short lists by name)


def _whole_area(
    study: Study,
    inc: gpd.GeoDataFrame,
    inside: np.ndarray,
    periods: Periods,
    cfg: ChangeConfig,
    label: str,
) -> tuple[AreaChange, AreaComparison | None]:
    harm = cfg.measure == "harm"
    here = inc[inside]
    w = here[C.HARM].to_numpy(dtype=float) if harm else None
    ac = area_change(
        _monthly(here, periods.before_data, w),
        _monthly(here, periods.after_data, w),
        label=label,
        confidence=cfg.confidence,
    )
    if cfg.comparison_ratio is not None:
        name = cfg.comparison_label or "the comparison area"
        return ac, compare_areas(ac, cfg.comparison_ratio, comparison_label=name, confidence=cfg.confidence)
    if not cfg.comparison_districts:
        return ac, None
    lsoa = study.lsoa
    comp = area_districts(
        inc,
        lsoa,
        area="study",
        districts=cfg.comparison_districts,
        min_share=0.0,
        key="[change] key 'comparison_districts'",
    )
    codes = set(lsoa.loc[lsoa[C.DISTRICT].isin(comp), C.LSOA_CODE])
    there = inc[inc["_unit_lsoa"].isin(codes).to_numpy()]
    wt = there[C.HARM].to_numpy(dtype=float) if harm else None
    name = cfg.comparison_label or " and ".join(comp)
    other = area_change(
        _monthly(there, periods.before_data, wt),
        _monthly(there, periods.after_data, wt),
        label=name,
        confidence=cfg.confidence,
    )
    return ac, compare_areas(ac, other, comparison_label=name, confidence=cfg.confidence)


def _dispersion_note(d: dict[str, Any]) -> str:
    """The month-to-month variation allowed for, in plain words."""
    if d["setting"] == "none":
        return (
            "The tests treat incidents as independent (dispersion = none). Real counts vary more than that from month "
            "to month, so more places are flagged than should be: use the default (auto) for decisions."
        )
    if isinstance(d["setting"], float):
        return (
            f"Every place's test allows for counts {d['setting']:g} times as variable as chance alone would make them."
        )
    if d["nb2_c"] is None:
        return "Month-to-month variation could not be estimated (one month per period): the plain exact test was used."
    if d["nb2_c"] == 0:
        return "Counts varied no more from month to month than chance would make them: the plain exact test was used."
    return (
        f"Counts vary more from month to month than chance alone would make them, and more so in busy places; "
        f"each place's test allows for this (estimated from the months within each period: the busiest place's "
        f"counts are treated as {d['max_design_effect']:.1f} times as variable as chance alone)."
    )


def _notes(
    periods: Periods, source_notes: list[str], ac: AreaChange, table: pd.DataFrame, tally: PeriodTally
) -> list[str]:
    notes = list(source_notes)
    for name, missing in (("before", periods.before_missing), ("after", periods.after_missing)):
        if missing:
            notes.append(
                f"The {name} period has no data for {format_months(missing)}; its exposure is the "
                f"{len(getattr(periods, name + '_data'))} months with data."
            )
    if ac.seasonal is not None:
        notes.append(ac.seasonal.note)
    lo, hi = COVID_MONTHS
    months = periods.before_data + periods.after_data
    if any(lo <= m <= hi for m in months):
        notes.append(
            "COVID-19 restrictions (March 2020 to July 2021) fall in these periods: lockdowns closed the night-time "
            "economy and kept people at home, so changes reflect restrictions as much as anything local."
        )
    notes.append(_dispersion_note(table.attrs["change"]["dispersion"]))
    if tally.outside:
        notes.append(
            f"{tally.outside:,} incidents of the two periods lie outside the area's units and are not counted."
        )
    return notes


def _select(
    study: Study, cfg: ChangeConfig, names: tuple[str, str]
) -> tuple[list[str], list[str], gpd.GeoDataFrame, Periods]:
    """The sources, notes about them, their incidents (with their LSOA by location) and the checked periods."""
    inc_all = study.incidents
    cli = any(n.startswith("--") for n in names)
    chosen, source_notes = choose_sources(
        inc_all,
        cfg.sources,
        _parse(cfg.before, names[0]),
        _parse(cfg.after, names[1]),
        what=f"{names[0]}/{names[1]}",
        names=names,
        how="--source" if cli else "[change] sources",
    )
    inc = inc_all[inc_all[C.SOURCE].isin(chosen)].copy()
    periods = _periods(inc, cfg, names)
    inc["_unit_lsoa"] = assign_lsoa(inc, study.lsoa, tolerance=study.config.boundaries.nearest_tolerance_m)
    return chosen, source_notes, inc, periods


def change(
    study: Study,
    cfg: ChangeConfig,
    *,
    interventions: tuple[InterventionConfig, ...] = (),
    cell_size: float | None = None,
    names: tuple[str, str] = ("--before", "--after"),
) -> ChangeResult:
    """Pipeline stage ``change``: per-unit change, whole-area claim, similarity and intervention impact.

    Parameters
    ----------
    study
        The loaded study (incidents, LSOAs, the register's polygon files in ``study.areas``).
    cfg
        The ``[change]`` settings (with ``before`` and ``after``).
    interventions
        The intervention register.
    cell_size
        Grid cell size used when ``cfg.cell_size`` is not set (``[detect] cell_size``); None:
        the run's automatic rule.
    names
        How the two periods are named in messages.

    Returns
    -------
    ChangeResult

    Raises
    ------
    InputError
        Periods that overlap, are empty or lie outside the data; unknown sources or districts;
        bad intervention areas.
    """
    chosen, source_notes, inc, periods = _select(study, cfg, names)
    in_periods = inc[C.MONTH].isin(periods.before_data + periods.after_data).to_numpy()
    districts = area_districts(
        inc[in_periods], study.lsoa, area=cfg.area, districts=cfg.districts, min_share=cfg.min_district_share
    )
    lsoa = study.lsoa[study.lsoa[C.DISTRICT].isin(districts)] if districts else study.lsoa
    units = build_units(inc, lsoa.reset_index(drop=True), kind=cfg.units, cell_size=cfg.cell_size or cell_size)
    tally = tally_periods(
        units.position, inc[C.MONTH].to_numpy(), n_units=len(units.frame), periods=periods, harm=inc[C.HARM]
    )
    table = unit_change(
        tally,
        unit_id=units.frame["unit_id"],
        unit_name=units.frame["unit_name"],
        measure=cfg.measure,
        alpha=cfg.alpha,
        confidence=cfg.confidence,
        power=cfg.power,
        mde_alpha=cfg.mde_alpha,
        dispersion=cfg.dispersion,
    )
    label = _label(districts, study)
    ac, comparison = _whole_area(study, inc, units.position >= 0, periods, cfg, label)
    sppt, classes, detail, sim_notes = similarity(units, tally, table, cfg)
    impact, areas = interventions_impact(study, cfg, interventions, explicit_sources=cfg.sources)
    geo = gpd.GeoDataFrame(table, geometry=units.frame.geometry.values, crs=C.CRS)
    geo.attrs = dict(table.attrs)
    notes = _notes(periods, source_notes, ac, table, tally) + sim_notes
    auto = _auto(chosen, cfg, districts, units, table)
    summary = _summary(
        table=table,
        ac=ac,
        comparison=comparison,
        sppt=sppt,
        classes=classes,
        impact=impact,
        periods=periods,
        chosen=chosen,
        units=units,
    )
    return ChangeResult(
        table=geo[[*CHANGE_COLUMNS, "geometry"]],
        detail=detail,
        area=ac,
        comparison=comparison,
        sppt=sppt,
        classes=classes,
        impact=impact,
        intervention_areas=areas,
        periods=periods,
        sources=chosen,
        units=cfg.units,
        measure=cfg.measure,
        config=cfg,
        notes=notes,
        auto=auto,
        summary=summary,
    )


@dataclass(frozen=True)
class ChangeCheck:
    """What :func:`check_change` found: the settings ``run`` (or ``hotspots change``) will use.

    Attributes
    ----------
    periods
        The checked periods (asked for, with data, missing).
    sources
        The pooled sources.
    districts
        The area's districts.
    interventions
        Each register entry checked: its areas, periods and sources.
    notes
        Caveats about the sources (one-sided files).
    """

    periods: Periods
    sources: list[str]
    districts: list[str]
    interventions: list[InterventionInputs]
    notes: list[str] = field(default_factory=list)


def check_change(
    study: Study,
    cfg: ChangeConfig,
    *,
    interventions: tuple[InterventionConfig, ...] = (),
    names: tuple[str, str] = ("[change] before", "[change] after"),
) -> ChangeCheck:
    """Check ``[change]`` and the intervention register against the data, as :func:`change` would, without testing.

    The same steps as the stage up to the tests (sources, periods, the incidents' LSOAs, the
    area's districts and the comparison districts, each intervention's areas, periods and
    sources), so whatever would stop the stage stops here, with the same one-line message.
    ``hotspots check`` and ``hotspots run`` (before any stage) call it.

    Raises
    ------
    InputError
        Periods outside the data (in any source or in the named ones); no source with data in
        both periods; unknown districts; bad intervention areas or periods.
    """
    chosen, notes, inc, periods = _select(study, cfg, names)
    in_periods = inc[C.MONTH].isin(periods.before_data + periods.after_data).to_numpy()
    districts = area_districts(
        inc[in_periods], study.lsoa, area=cfg.area, districts=cfg.districts, min_share=cfg.min_district_share
    )
    if cfg.comparison_districts:
        area_districts(
            inc,
            study.lsoa,
            area="study",
            districts=cfg.comparison_districts,
            min_share=0.0,
            key="[change] key 'comparison_districts'",
        )
    checked = [check_intervention(study, entry, cfg.sources) for entry in interventions]
    return ChangeCheck(periods=periods, sources=chosen, districts=districts, interventions=checked, notes=notes)


def _parse(spec: str | None, what: str) -> list[str]:
    if spec is None:
        raise InputError("give the periods to compare: --before MONTHS --after MONTHS (or [change] before/after).")
    return parse_months(spec, what=what)


def _auto(
    chosen: list[str], cfg: ChangeConfig, districts: list[str], units: Units, table: pd.DataFrame
) -> dict[str, Any]:
    auto: dict[str, Any] = {"area_districts": districts}
    if not cfg.sources:
        auto["sources"] = chosen
    if units.cell_size is not None and cfg.cell_size is None:
        auto["cell_size_m"] = units.cell_size
    d = table.attrs["change"]["dispersion"]
    if cfg.dispersion == "auto":
        auto["dispersion_nb2_c"] = d["nb2_c"]
    return auto


def _summary(
    *,
    table: pd.DataFrame,
    ac: AreaChange,
    comparison: AreaComparison | None,
    sppt: SpptResult,
    classes: ClassComparison | None,
    impact: pd.DataFrame | None,
    periods: Periods,
    chosen: list[str],
    units: Units,
) -> dict[str, Any]:
    meta = table.attrs["change"]
    mde = table["mde_pct"].dropna()
    return {
        "before": format_months(periods.before_data),
        "after": format_months(periods.after_data),
        "sources": chosen,
        "units": units.kind,
        "unit_count": len(table),
        **{k: meta[k] for k in ("measure", "method", "before_months", "after_months", "tested", "classes")},
        "dispersion": meta["dispersion"],
        "mde": {**meta["mde"], "detectable_units": len(mde), "median_pct": float(mde.median()) if len(mde) else None},
        "area": {
            "label": ac.label,
            "before": ac.before,
            "after": ac.after,
            "rate_ratio": ac.rate_ratio,
            "lower": ac.lower,
            "upper": ac.upper,
            "p_value": ac.p_value,
            "exact_p": ac.exact_p,
            "method": ac.method,
            "seasonally_matched": bool(ac.seasonal.matched) if ac.seasonal else None,
        },
        "comparison": None
        if comparison is None
        else {
            "sentence": comparison.sentence,
            "ratio": comparison.ratio,
            "lower": comparison.lower,
            "upper": comparison.upper,
            "p_value": comparison.p_value,
        },
        "sppt": {"s_index": sppt.s_index, "robust_s_index": sppt.robust_s_index, "variant": sppt.variant},
        "gi_agreement": None
        if classes is None
        else {"units": classes.units, "agreement": classes.agreement, "kappa": classes.kappa},
        "interventions": 0 if impact is None else int(impact["intervention"].nunique()),
    }
