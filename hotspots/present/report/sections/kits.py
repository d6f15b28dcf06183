"""Section "Bleed-control kits": the sites, their interchangeable alternatives, and the coverage curve as it is.

The curve is described from its numbers (:func:`curve_shape`), never assumed to flatten: the
greedy order makes each kit add no more than the one before, but how much less decides
whether "more kits would help" is true.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from hotspots import columns as C
from hotspots.present.report.context import Inputs, Parts
from hotspots.present.report.figures import coverage_figure
from hotspots.present.report.tables import (
    CURVE_KITS,
    CURVE_PCT,
    KIT_CUMULATIVE,
    KIT_MARGINAL,
    KIT_NAME,
    KIT_ORDER,
    KIT_SOURCE,
    fmt_num,
    lsoa_wards,
    require_columns,
)
from hotspots.present.report.text import kit_source_label

STRAIGHT = 0.6
"""The curve is "close to a straight line" when the last third of the kits adds at least this share of
what the first third adds, kit for kit."""
BENDS = 0.3
"""... it "bends" between this and :data:`STRAIGHT`, and "flattens" below it."""
MIN_KITS_FOR_SHAPE = 3
"""A curve of fewer kits has no thirds to compare and is not described."""


@dataclass(frozen=True)
class CurveShape:
    """The coverage curve in numbers and one word.

    Attributes
    ----------
    shape
        ``"straight"``, ``"bends"`` or ``"flattens"``.
    ratio
        Mean harm added per kit by the last third of the kits over that of the first third.
    first, last
        Percentage points added by the first and by the last kit.
    """

    shape: str
    ratio: float
    first: float
    last: float

    def sentence(self, kits: int) -> str:
        """The curve in words (with its numbers)."""
        lead = {
            "straight": "The coverage curve is close to a straight line: each kit adds nearly as much as the one "
            "before, so more kits would keep adding at about the same rate.",
            "bends": "The coverage curve bends gently: later kits add less than the first ones, but still a "
            "useful amount.",
            "flattens": "The coverage curve flattens: after the first kits, each extra kit adds little.",
        }[self.shape]
        return (
            f"{lead} The first kit puts {self.first:.2f} % of the harm within reach, kit {kits} adds "
            f"{self.last:.2f} %; the last third of the kits add {100 * self.ratio:.0f} % as much each as the "
            "first third."
        )


def curve_shape(pct: npt.ArrayLike) -> CurveShape | None:
    """Describe a coverage curve (cumulative per cent covered after 1, 2, ... kits).

    Examples
    --------
    >>> curve_shape([1, 2, 3, 4, 5, 6]).shape
    'straight'
    >>> curve_shape([10, 15, 17, 18, 18.5, 18.8]).shape
    'flattens'
    >>> curve_shape([5]) is None
    True
    """
    c = np.asarray(pct, dtype=float)
    if len(c) < MIN_KITS_FOR_SHAPE:
        return None
    m = np.diff(np.concatenate([[0.0], c]))
    third = max(1, len(m) // 3)
    head = float(m[:third].mean())
    ratio = float(m[-third:].mean()) / head if head > 0 else 0.0
    shape = "straight" if ratio >= STRAIGHT else "bends" if ratio >= BENDS else "flattens"
    return CurveShape(shape=shape, ratio=ratio, first=float(m[0]), last=float(m[-1]))


def where(inp: Inputs, sites: pd.DataFrame) -> list[str]:
    """Ward (where known) and district of each site from its ``x``/``y`` (BNG metres)."""
    if not {"x", "y"} <= set(sites.columns) or not len(sites):
        return [""] * len(sites)
    lsoa = inp.study.lsoa
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(sites["x"], sites["y"]), crs=lsoa.crs)
    cols = [C.LSOA_CODE, C.DISTRICT, "geometry"] if C.DISTRICT in lsoa.columns else [C.LSOA_CODE, "geometry"]
    j = gpd.sjoin(pts, lsoa[cols], how="left", predicate="within")
    j = j[~j.index.duplicated()]
    ward_of = lsoa_wards(lsoa, getattr(inp.study, "wards", None))
    out = []
    for code, district in zip(j[C.LSOA_CODE], j.get(C.DISTRICT, pd.Series([""] * len(j))), strict=True):
        if pd.isna(code):
            out.append("")
            continue
        ward = ward_of.get(code)
        d = "" if pd.isna(district) else str(district)
        out.append(f"{ward} ward, {d}" if ward else d)
    return out


def _alternatives_words(inp: Inputs, kits: pd.DataFrame) -> list[str]:
    info = inp.summary("sites").get("kit_alternatives") or {}
    out = []
    if "alternatives" in kits.columns:
        n_alt = kits["alternatives"].fillna(0).astype(int)
        share = float(info.get("share_of_optimum", 0.99))
        with_alt = int((n_alt > 0).sum())
        out.append(
            f"The list is one best answer, not the only good one: {with_alt} of the {len(kits)} kits could each be "
            f"moved to another site and the kits would still reach at least {100 * share:.0f} % of the best "
            "coverage (column “Could move to”; every such site is in kit_alternatives.csv)."
        )
    most = info.get("most_different_set") or {}
    if most.get("pct_of_optimum") is not None and most.get("shared") is not None:
        out.append(
            f"A quite different set, sharing only {int(most['shared'])} of the {len(kits)} sites, reaches "
            f"{float(most['pct_of_optimum']):.1f} % of the best coverage."
        )
    supplied = info.get("existing_sites_supplied")
    if supplied is None and "existing_sites_supplied" in kits.columns:
        supplied = int(kits["existing_sites_supplied"].iloc[0])
    if supplied is not None:
        out.append(
            "No existing kits or defibrillators were supplied, so coverage counts from zero: kits already in "
            "place would change the answer ([sites] existing_kits, defibrillators)."
            if int(supplied) == 0
            else f"{int(supplied):,} existing kits and defibrillators were supplied; the new kits are placed "
            "for the harm those do not already reach."
        )
    return out


UNPROVEN_WORDS = {
    "kits": "the kit sites",
    "coverage_curve": "the coverage curve",
    "radius_sensitivity": "the comparison of radii",
    "kits_for_target": "the number of kits for the target",
    "most_different_set": "the most different set of sites",
}
"""How the report names each sites answer that ``[sites] time_limit_s`` left not proven optimal."""


def time_limit_words(info: dict[str, Any]) -> list[str]:
    """The sentence saying which answers are the best found, not proven optimal (none when all are proven).

    Examples
    --------
    >>> time_limit_words({"time_limit": {"seconds": 60, "not_proven_optimal": ["kits_for_target"]}})
    ['The time allowed for siting (60 s) ran out: the number of kits for the target is the best found, \
not proven the best possible.']
    """
    limit = info.get("time_limit") or {}
    unproven = [UNPROVEN_WORDS.get(a, a) for a in limit.get("not_proven_optimal") or []]
    if not unproven:
        return []
    what = unproven[0] if len(unproven) == 1 else ", ".join(unproven[:-1]) + " and " + unproven[-1]
    verb = "is" if len(unproven) == 1 else "are"
    return [
        f"The time allowed for siting ({float(limit.get('seconds', 0)):g} s) ran out: {what} {verb} the best found, "
        "not proven the best possible."
    ]


def _sensitivity_words(inp: Inputs) -> list[str]:
    info = inp.summary("sites")
    out = []
    parts = [
        f"{float(r['coverage_pct']):.1f} % at {float(r['radius_m']):.0f} m"
        for r in info.get("radius_sensitivity") or []
        if "coverage_pct" in r and "radius_m" in r
    ]
    if parts:
        out.append(f"With the same number of kits the share within reach is {', '.join(parts)}.")
    target = info.get("kits_for_target") or {}
    if target.get("kits") is not None and target.get("target_pct") is not None:
        out.append(
            f"Putting {float(target['target_pct']):.0f} % of the harm within reach"
            + (f" ({float(target['radius_m']):.0f} m)" if target.get("radius_m") else "")
            + f" would take {int(target['kits']):,} kits."
        )
    return out + time_limit_words(info)


def _alt_cell(r: dict[str, Any]) -> str:
    n = r.get("alternatives")
    if n is None or pd.isna(n):
        return "n/a"
    if int(n) == 0:
        return "no other site"
    d = r.get("nearest_alternative_m")
    if d is None or pd.isna(d):
        near = ""
    elif float(d) < 1:
        near = ", one at the same spot"
    else:
        near = f", nearest {float(d):.0f} m away"
    return f"{int(n)} site{'s' if int(n) != 1 else ''}{near}"


def kits_section(inp: Inputs, parts: Parts) -> dict[str, Any]:
    """Template variables of "Bleed-control kits" and the coverage figure."""
    kits = inp.frame("bleed_kits")
    if kits is None:
        return {"kit_rows": []}
    require_columns(kits, [KIT_ORDER, KIT_NAME, KIT_SOURCE, KIT_MARGINAL, KIT_CUMULATIVE], "results['bleed_kits']")
    ks = kits.sort_values(KIT_ORDER)
    rows = [
        {
            "order": f"{int(r[KIT_ORDER])}",
            "name": "" if pd.isna(r[KIT_NAME]) else str(r[KIT_NAME]),
            "where": w,
            "source": kit_source_label(r[KIT_SOURCE]),
            "marginal": fmt_num(r[KIT_MARGINAL], 1),
            "cumulative": f"{float(r[KIT_CUMULATIVE]):.1f} %",
            "alternatives": _alt_cell(r),
        }
        for r, w in zip(ks.to_dict("records"), where(inp, ks), strict=True)
    ]
    final = float(ks[KIT_CUMULATIVE].iloc[-1])
    reach = f" within {inp.radius:.0f} m" if inp.radius else ""
    lead = f"{len(ks)} kits, each placed where it adds the most, put {final:.1f} % of the harm ranked{reach} of a kit."
    curve = inp.frame("coverage_curve")
    if curve is not None:
        c = curve.sort_values(CURVE_KITS)
        pct = c.loc[c[CURVE_KITS] > 0, CURVE_PCT].to_numpy()
    else:
        pct = ks[KIT_CUMULATIVE].to_numpy()
    shape = curve_shape(pct)
    if curve is not None:
        parts.add_figure(
            "coverage_curve",
            coverage_figure(curve, radius=inp.radius, source=inp.source_line),
            caption=f"Share of the harm ranked{reach} of at least one kit, as kits are added in order of value.",
            alt=f"Line chart: harm within reach rises from 0 to {final:.1f} % over {len(ks)} kits"
            + (f"; {shape.sentence(len(ks))}" if shape else "."),
        )
    parts.summary.update({"kits": len(ks), "kits_coverage_pct": final})
    if shape:
        parts.summary["kit_curve"] = {"shape": shape.shape, "ratio": round(shape.ratio, 3)}
    return {
        "kit_rows": rows,
        "kits_lead": lead,
        "kits_curve": shape.sentence(len(ks)) if shape else "",
        "kits_alternatives": _alternatives_words(inp, ks),
        "kits_sensitivity": _sensitivity_words(inp),
        "kit_shape": shape,
    }
