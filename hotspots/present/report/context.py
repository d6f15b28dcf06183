"""What every section of the report reads (:class:`Inputs`) and what it adds (:class:`Parts`).

:class:`Inputs` gathers the study, the stage results and the ``[report]`` options once;
the sections (:mod:`hotspots.present.report.sections`) read it and put their figures, their
captions and alt texts and their headline numbers into one :class:`Parts`. Nothing here
reads or writes a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from hotspots import columns as C
from hotspots.present.report.figures import SOURCE_LINE, figure_png
from hotspots.present.report.tables import fmt_count
from hotspots.rank.columns import TIER_NAMES

RESULT_KEYS = (
    "places",
    "districts",
    "concentration",
    "grid",
    "lsoa",
    "emerging",
    "bleed_kits",
    "coverage_curve",
    "kit_alternatives",
)
"""The stage results :func:`~hotspots.present.report.build.build_report` reads, by name (any may be absent)."""


@dataclass(frozen=True)
class Inputs:
    """The study, the stage results and the options, as the sections read them.

    Attributes
    ----------
    study
        The loaded :class:`~hotspots.prepare.study.Study`.
    results
        Stage results by name (:data:`RESULT_KEYS`); an absent one makes its section say so.
    auto
        Automatic choices by stage (``"detect"``, ``"rank"``, ...).
    extra
        The stages' manifest summaries by stage (``"detect"``, ``"rank"``, ``"sites"``).
    top
        Places listed per tier in the Board part (the appendix lists every place of the tiers).
    small
        Counts of incidents under it are shown as ``"<small"``.
    dpi
        Figure resolution.
    radius
        Bleed-kit walking radius (metres), or None.
    """

    study: Any
    results: dict[str, Any]
    auto: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    top: int = 20
    small: int = 5
    dpi: int = 150
    radius: float | None = None

    def frame(self, key: str) -> pd.DataFrame | None:
        """The result ``key`` when it is a non-empty frame, else None."""
        f = self.results.get(key)
        return f if isinstance(f, pd.DataFrame) and len(f) else None

    def summary(self, stage: str) -> dict[str, Any]:
        """The stage's manifest summary (empty when the stage did not run)."""
        return dict(self.extra.get(stage) or {})

    def count(self, n: float | None) -> str:
        """A count of incidents for the Board (``"<5"`` below the threshold)."""
        return fmt_count(n, small=self.small)

    @property
    def source_line(self) -> str:
        """The source line under every figure (the study's own when it carries one)."""
        return str(getattr(self.study, "source_line", SOURCE_LINE))

    @property
    def axes(self) -> bool:
        """True when the places were ranked on the two axes (they carry ``tier_name``)."""
        p = self.frame("places")
        return p is not None and "tier_name" in p.columns

    def tier_name(self, tier: int | float | str) -> str:
        """A tier's plain name: the rank stage's (``"act now: high harm"``), else ``"Tier 1"``."""
        try:
            t = int(tier)
        except (TypeError, ValueError):
            return str(tier)
        return TIER_NAMES.get(t, f"tier {t}") if self.axes else f"Tier {t}"

    def evidence(self) -> dict[str, Any]:
        """What the place analyses rest on: incidents ranked, per source with its period.

        The rank stage's ``evidence`` when it ran; otherwise the same computed from the
        study's place-analysis incidents (``[study] sources``, institutions left out where
        configured), so that the headline never counts rows the places do not rest on.
        """
        ev = self.summary("rank").get("evidence")
        if isinstance(ev, dict) and ev.get("sources") is not None:
            return ev
        study = self.study
        pick = getattr(study, "place_incidents", None)
        inc = pick("rank") if callable(pick) else study.analysis_incidents
        base = study.analysis_incidents
        sources: dict[str, dict[str, Any]] = {}
        if len(inc):
            for src, g in inc.groupby(C.SOURCE, sort=True):
                months = sorted(g[C.MONTH].dropna().unique().tolist())
                sources[str(src)] = {
                    "incidents": len(g),
                    "first_month": months[0] if months else None,
                    "last_month": months[-1] if months else None,
                    "months": len(months),
                }
        return {
            "incidents": len(inc),
            "institutional_incidents_left_out": len(base) - len(inc),
            "sources": sources,
        }


@dataclass(frozen=True)
class FigureText:
    """A figure's caption (under it) and alt text (for screen readers and when images are off)."""

    caption: str
    alt: str


@dataclass
class Parts:
    """What the sections add besides their template variables.

    Attributes
    ----------
    figures
        PNG bytes by figure name (:data:`~hotspots.present.report.build.FIGURE_FILES`).
    text
        Caption and alt text by figure name.
    summary
        Headline numbers as plain values (written to the manifest).
    """

    dpi: int = 150
    figures: dict[str, bytes] = field(default_factory=dict)
    text: dict[str, FigureText] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)

    def add_figure(self, key: str, fig: Figure, *, caption: str, alt: str) -> None:
        """Render ``fig`` to PNG and keep its caption and alt text."""
        self.figures[key] = figure_png(fig, dpi=self.dpi)
        self.text[key] = FigureText(caption=caption, alt=alt)
