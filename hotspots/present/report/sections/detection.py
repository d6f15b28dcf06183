"""Sections "Hot spots", "Emerging hot spots" and "Monthly trend".

What a "hot 99 %" is worth is said with the false-alarm rate measured for the test the run
used (:data:`~hotspots.present.report.text.HOT_SPOT_CALIBRATION`), never as "99 %
confidence" or "unlikely to be chance" on the strength of the nominal level alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hotspots import columns as C
from hotspots.detect.emerging import EMERGING_CLASS, EMERGING_CLASSES
from hotspots.detect.emerging import NOT_ANALYSED as EMERGING_NOT_ANALYSED
from hotspots.detect.gistar import HOTSPOT_CLASS, HOTSPOT_CLASSES
from hotspots.present.report.context import Inputs, Parts
from hotspots.present.report.figures import monthly_trend_figure
from hotspots.present.report.tables import monthly_counts
from hotspots.present.report.text import CALIBRATION_SOURCE, HOT_SPOT_CALIBRATION, inference_method

if TYPE_CHECKING:
    import pandas as pd

HOT_99 = HOTSPOT_CLASSES[0]
METHOD_LABELS = {
    "exact": "the exact test of each neighbourhood's harm given its residents or area",
    "analytic": "the analytic Gi* test (normal approximation)",
    "eb_rate": "Gi* on smoothed rates (normal approximation)",
    "permutation": "a permutation test",
}
"""The hot spot tests in words, by ``[detect] inference``."""


def class_counts(frame: pd.DataFrame | None) -> dict[str, int]:
    """Units per hot spot class, in the order hot 99 % ... cold 99 %, then any other class (``not analysed``)."""
    if frame is None or HOTSPOT_CLASS not in getattr(frame, "columns", []) or not len(frame):
        return {}
    vc = frame[HOTSPOT_CLASS].astype(str).value_counts()
    out = {c: int(vc.get(c, 0)) for c in HOTSPOT_CLASSES}
    out.update({str(c): int(v) for c, v in vc.items() if c not in out})
    return out


def hot_spot_words(inp: Inputs) -> str:
    """What "hot 99 %" means in this run, with the measured false-alarm rate of the test used."""
    method = inference_method(inp.auto.get("detect") or inp.summary("detect"))
    cal = HOT_SPOT_CALIBRATION.get(method)
    lsoa = class_counts(inp.results.get("lsoa")).get(HOT_99)
    grid = class_counts(inp.results.get("grid")).get(HOT_99)
    found = " and ".join(f"{n:,} {what}" for n, what in ((lsoa, "LSOAs"), (grid, "grid cells")) if n is not None)
    label = METHOD_LABELS.get(method, f"the {method} test")
    lead = (
        "“Hot 99 %” marks a place whose neighbourhood (the place and those around it) holds more harm than "
        "chance would put there, after allowing for testing every place at once"
    )
    if cal is None:
        return f"{lead} ({label}; its false-alarm rate has not been measured). {found} are hot 99 % in this run."
    rates = (
        f"on {cal.maps} maps of the example force simulated with no hot spot at all, {cal.lsoa99:g} % of LSOA "
        f"maps and {cal.grid99:g} % of grid maps showed a hot 99 % unit, and {cal.lsoa95:g} % and "
        f"{cal.grid95:g} % one at 95 % or more ({CALIBRATION_SOURCE})"
    )
    layers = (("LSOAs", "lsoa"), ("grid cells", "grid"))
    good = [w for w, layer in layers if cal.ok(layer)]
    if len(good) == len(layers):
        text = f"{lead}. The test ({label}) was checked by simulation: {rates}."
        if cal.note:
            text += f" But {cal.note}."
    elif good:
        text = (
            f"{lead}. The test ({label}) was checked by simulation: {rates}. It holds for {good[0]} only: read the "
            "other layer's “99 %” as the name of the strongest class, not as 99 % confidence."
        )
    else:
        text = (
            f"{lead}. Here it comes from {label}, which is not calibrated on sparse counts: {rates}. "
            "Read “99 %” as the name of the strongest class, not as 99 % confidence."
        )
    return text + (f" In this run: {found} hot 99 %." if found else "")


def hot_spots_section(inp: Inputs, parts: Parts) -> dict[str, Any]:
    """Template variables of "Hot spots": class counts per unit and their meaning."""
    units = [("LSOAs", "lsoa"), ("grid cells", "grid")]
    counts = {key: class_counts(inp.results.get(key)) for _, key in units}
    present = [(label, key) for label, key in units if counts[key]]
    if not present:
        return {"hotspot_table": None}
    classes = list(dict.fromkeys(c for _, key in present for c in counts[key]))
    rows = []
    for cls in classes:
        cells = [counts[key].get(cls, 0) for _, key in present]
        if cls.startswith("cold") and not any(cells):
            continue
        rows.append({"cls": cls, "counts": [f"{v:,}" for v in cells]})
    for _, key in present:
        parts.summary[f"hot_spots_{key}"] = counts[key]
    return {
        "hotspot_table": {
            "units": [f"{label} (of {sum(counts[key].values()):,})" for label, key in present],
            "rows": rows,
        },
        "hot_spot_words": hot_spot_words(inp),
    }


def emerging_section(inp: Inputs, parts: Parts) -> dict[str, Any]:
    """Template variables of "Emerging hot spots" (absent: a sentence saying why)."""
    emerging = inp.results.get("emerging")
    out: dict[str, Any] = {"emerging_rows": [], "emerging_absent": "the detect stage did not produce one"}
    note = inp.summary("detect").get("emerging")
    if emerging is None or EMERGING_CLASS not in getattr(emerging, "columns", []) or not len(emerging):
        if isinstance(note, str):
            out["emerging_absent"] = note
        elif emerging is not None:
            out["emerging_absent"] = "the emerging hot spot analysis returned no cells"
        return out
    vc = emerging[EMERGING_CLASS].astype(str).value_counts()
    analysed = int(len(emerging) - vc.get(EMERGING_NOT_ANALYSED, 0))
    order = [c for c in EMERGING_CLASSES if vc.get(c, 0) > 0]
    order += sorted(c for c in vc.index if c not in EMERGING_CLASSES and c != EMERGING_NOT_ANALYSED)
    hot = int(sum(v for k, v in vc.items() if k.endswith("hot spot")))
    cold = int(sum(v for k, v in vc.items() if k.endswith("cold spot")))
    attrs = getattr(emerging, "attrs", {}) or {}
    src, months = attrs.get("source"), (attrs.get("auto") or {}).get("months")
    out["emerging_rows"] = [{"cls": k, "cells": f"{int(vc[k]):,}"} for k in order]
    out["emerging_sentence"] = (
        "The hot spot test month by month on the grid, and the trend in each cell (Mann-Kendall)"
        + (f", from {src}" if src else "")
        + (f" ({months})" if months else "")
        + f": of {analysed:,} cells analysed, {hot:,} show a hot spot pattern and {cold:,} a cold spot pattern."
        + (
            f" The other {len(emerging) - analysed:,} grid cells were not analysed (outside the area the source "
            "covers)."
            if analysed < len(emerging)
            else ""
        )
    )
    parts.summary["emerging"] = {str(k): int(v) for k, v in vc.items()}
    return out


def trend_section(inp: Inputs, parts: Parts) -> dict[str, Any]:
    """Template variables of "Monthly trend" and its figure (every source, one panel each)."""
    inc = inp.study.incidents
    monthly = monthly_counts(inc)
    if not len(monthly) or not (monthly.groupby(C.SOURCE)[C.MONTH].nunique() > 1).any():
        return {"trend_sentence": ""}
    cov = inp.study.coverage
    spans = (
        [f"{r.source} {r.first_month} to {r.last_month}" for r in cov.itertuples(index=False)]
        if cov is not None
        else []
    )
    parts.add_figure(
        "monthly_trend",
        monthly_trend_figure(monthly, source=inp.source_line),
        caption="Incidents per month for each source and offence group. Sources cover different periods and areas.",
        alt=f"Monthly counts in {len(spans)} panels, one per source: " + "; ".join(spans) + ".",
    )
    return {
        "trend_sentence": (
            "Each panel is one source; the sources cover different periods ("
            + "; ".join(spans)
            + ") and areas, so their lines are not one continuous series. Month is the finest date police.uk "
            "publishes."
        )
    }
