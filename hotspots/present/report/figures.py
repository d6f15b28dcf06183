"""The report's charts (pure: frames in, a matplotlib Figure out).

Drawn on the non-interactive Agg canvas (no pyplot, no global backend switch);
:func:`figure_png` turns one into PNG bytes. The report inlines them in the page and the
pipeline writes them to ``OUT/figures/``. The map of priority places is in
:mod:`hotspots.present.report.priority_map`.
"""

from __future__ import annotations

import contextlib
import io
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import Locator

from hotspots import __version__
from hotspots import columns as C
from hotspots.errors import InputError
from hotspots.present.maps.palette import tier_colours
from hotspots.present.report.tables import (
    CURVE_KITS,
    CURVE_PCT,
    PLACE_RANK,
    PLACE_RANK_HIGH,
    PLACE_RANK_LOW,
    PLACE_TIER,
    TOP_SHARE,
    fmt_count,
    require_columns,
)
from hotspots.present.report.text import scope_label
from hotspots.rank import concentration as evaluate

SOURCE_LINE = (
    "Source: police.uk (OGL v3); ONS LSOA boundaries (OGL v3, contains OS data © Crown copyright); "
    "IoD2019 (MHCLG, OGL v3)"
)
"""The default source line of a figure; the report passes the study's own when it has one (``study.source_line``)."""

ACCENT = "#8c1c13"
GREY = "#7a7a7a"
TIER_COLOURS = {**dict(enumerate(tier_colours(3)[:2], start=1)), 3: "#9a9a9a"}
"""Tier colours of the charts: the maps' (:func:`hotspots.present.maps.palette.tier_colours`), with a darker
grey than the maps' neutral fill for the last tier, so its dots show."""

SOURCE_LINE_CHARS_PER_INCH = 17


def city_label(name: object, cities: Sequence[str]) -> str:
    """A district as labelled in tables and figures: ``"X (City)"`` for a city district without "city" in its name."""
    name = str(name)
    return f"{name} (City)" if name in cities and "city" not in name.lower() else name


def city_name(name: object, cities: Sequence[str]) -> str:
    """A district as named in sentences: ``"X City"`` for a city district without "city" in its name."""
    name = str(name)
    return f"{name} City" if name in cities and "city" not in name.lower() else name


def new_figure(width: float, height: float) -> Figure:
    """A figure on the Agg canvas with constrained layout."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def source_line(fig: Figure, extra: str = "", source: str = SOURCE_LINE) -> None:
    """The source line under a figure, wrapped to the figure's width."""
    text = source + (f". {extra}" if extra else "") + f". hotspots {__version__}."
    width = int(fig.get_figwidth() * SOURCE_LINE_CHARS_PER_INCH)
    fig.supxlabel("\n".join(textwrap.wrap(text, width)), fontsize=7, color=GREY, x=0.01, ha="left", parse_math=False)


def top_places_figure(
    places: pd.DataFrame,
    *,
    top: int = 20,
    tier_names: dict[int, str] | None = None,
    interval: str = "line = 90 % predictive interval of next period's rank",
    source: str = SOURCE_LINE,
) -> Figure:
    """Dot-and-interval chart of the top places' ranks (``rank_low`` to ``rank_high``).

    Parameters
    ----------
    places
        Ranked places: ``lsoa_name`` (or ``lsoa_code``), ``rank``, ``rank_low``,
        ``rank_high``, optionally ``tier`` (1, 2, 3).
    top
        How many places to draw (the first by ``rank``).
    tier_names
        Tier -> plain name, for the legend.
    interval
        What the line is, for the axis label.
    source
        The source line under the figure.
    """
    require_columns(places, [PLACE_RANK, PLACE_RANK_LOW, PLACE_RANK_HIGH], "the places frame")
    p = places.sort_values([PLACE_RANK, C.LSOA_CODE] if C.LSOA_CODE in places else PLACE_RANK).head(top)
    k = len(p)
    fig = new_figure(8.5, max(3.0, 0.3 * k + 1.6))
    ax = fig.add_subplot()
    name_col = C.LSOA_NAME if C.LSOA_NAME in p.columns else C.LSOA_CODE
    labels = [f"{int(r)}. {n}" for r, n in zip(p[PLACE_RANK], p[name_col].astype(str), strict=True)]
    y = np.arange(k)
    tiers = p[PLACE_TIER].to_numpy() if PLACE_TIER in p.columns else np.full(k, 0)
    colours = [TIER_COLOURS.get(_int(t), ACCENT) for t in tiers]
    ax.hlines(y, p[PLACE_RANK_LOW], p[PLACE_RANK_HIGH], color=colours, lw=2.2, alpha=0.6)
    ax.scatter(p[PLACE_RANK], y, color=colours, zorder=3, s=28)
    ax.set_yticks(y, labels, fontsize=8, parse_math=False)
    ax.invert_yaxis()
    ax.set_xlabel(f"Rank (1 = first); {interval}")
    ax.set_xlim(0.5, max(float(p[PLACE_RANK_HIGH].max()) if k else 1.0, float(top)) + 1)
    ax.grid(axis="x", color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)
    names = tier_names or {}
    seen = [t for t in dict.fromkeys(_int(t) for t in tiers) if t in names]
    if seen:
        handles = [Line2D([], [], marker="o", ls="-", color=TIER_COLOURS.get(t, ACCENT), label=names[t]) for t in seen]
        ax.legend(handles=handles, loc="lower right", fontsize=8, frameon=False)
    ax.set_title(f"The first {k} places and how sure their rank is", loc="left", fontsize=11, fontweight="bold")
    source_line(fig, "Places are LSOAs", source)
    return fig


def _int(v: Any) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return 0


def districts_figure(
    districts: pd.DataFrame,
    *,
    rate: str = "incidents_per_1000_yr",
    count: str = "incidents",
    unit: str = "Incidents a year per 1,000 residents",
    small: int = 5,
    cities: Sequence[str] = (),
    source: str = SOURCE_LINE,
) -> Figure:
    """Bars of a rate by district, each labelled with the rate and the incident count.

    Parameters
    ----------
    districts
        One row per district (``district``, ``rate``, ``count`` columns).
    rate, count
        The columns drawn and quoted.
    unit
        The axis label (say the time unit and the residents' year).
    small
        Counts below it are labelled ``"<small"``.
    cities
        Districts drawn darker and labelled "(City)".
    source
        The source line under the figure.
    """
    require_columns(districts, [C.DISTRICT, rate, count], "the district table")
    d = districts.iloc[::-1]
    fig = new_figure(8.5, max(2.6, 0.36 * len(d) + 1.5))
    ax = fig.add_subplot()
    colours = [ACCENT if name in cities else "#c98a7e" for name in d[C.DISTRICT]]
    y = np.arange(len(d))
    r = d[rate].to_numpy(dtype=float)
    ax.barh(y, np.nan_to_num(r), color=colours)
    ax.set_yticks(y, [city_label(n, cities) for n in d[C.DISTRICT]], fontsize=9)
    xmax = float(np.nanmax(r)) if np.isfinite(r).any() else 1.0
    for yi, ri, n in zip(y, r, d[count], strict=True):
        if np.isfinite(ri):
            text = f"{ri:.1f}  ({fmt_count(n, small=small)} incidents)"
            ax.text(float(ri + xmax * 0.01), float(yi), text, va="center", fontsize=8)
    ax.set_xlim(0, xmax * 1.4 if xmax > 0 else 1)
    ax.set_xlabel(unit)
    ax.grid(axis="x", color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)
    ax.set_title("Violence by district, a year per 1,000 residents", loc="left", fontsize=11, fontweight="bold")
    source_line(fig, "Each source annualised by its own months", source)
    return fig


def concentration_figure(
    curve: pd.DataFrame,
    *,
    share: float = TOP_SHARE,
    unit: str = "LSOAs",
    gini: float | None = None,
    floor: float | None = None,
    source: str = SOURCE_LINE,
) -> Figure:
    """The concentration curve: share of incidents held by the busiest share of places.

    Parameters
    ----------
    curve
        :func:`hotspots.rank.concentration.lorenz` output (``share_places``, ``share_crime``).
    share
        The share of places marked on the curve (default 5 %).
    unit
        What a place is, for the axis label.
    gini, floor
        The Gini and its chance floor, written on the chart when given.
    source
        The source line under the figure.
    """
    require_columns(curve, [evaluate.SHARE_PLACES, evaluate.SHARE_CRIME], "the concentration curve")
    fig = new_figure(6.5, 4.4)
    ax = fig.add_subplot()
    x = 100 * curve[evaluate.SHARE_PLACES].to_numpy(dtype=float)
    y = 100 * curve[evaluate.SHARE_CRIME].to_numpy(dtype=float)
    ax.plot([0, 100], [0, 100], color=GREY, lw=1, ls="--", label="Even spread")
    ax.plot(x, y, color=ACCENT, lw=2, label="Observed")
    if len(x):
        yv = float(np.interp(100 * share, x, y))
        ax.plot([100 * share, 100 * share, 0], [0, yv, yv], color=ACCENT, lw=0.8, ls=":")
        ax.annotate(
            f"top {100 * share:.0f} % of {unit}\nhold {yv:.0f} % of incidents",
            (100 * share, yv),
            xytext=(100 * share + 8, max(yv - 22, 5)),
            fontsize=8,
            arrowprops={"arrowstyle": "-", "color": GREY, "lw": 0.6},
        )
    if gini is not None and np.isfinite(gini):
        text = f"Gini {gini:.2f}" + (f"\nchance floor {floor:.2f}" if floor is not None and np.isfinite(floor) else "")
        ax.text(60, 25, text, fontsize=9)
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_xlabel(f"Share of {unit}, busiest first (%)")
    ax.set_ylabel("Share of incidents (%)")
    ax.grid(color="#eeeeee", lw=0.6)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.set_title("How concentrated is violence?", loc="left", fontsize=11, fontweight="bold")
    source_line(fig, source=source)
    return fig


class _TicksOncePerView(Locator):
    """A locator giving ``inner``'s ticks, computed again only when the view interval changes.

    The trend's panels share one x-axis: laying them out and drawing them asks for its date ticks
    dozens of times, and matplotlib's ``AutoDateLocator`` builds a date rule each time. Its ticks
    (and the unit its formatter reads back from it) depend on the view interval only, so the
    ticks of the last interval are the ticks.
    """

    def __init__(self, inner: Locator) -> None:
        self.inner = inner
        self._view: tuple[float, float] | None = None
        self._ticks: Any = None

    def set_axis(self, axis: Any) -> None:
        """Set the axis of this locator and of ``inner``."""
        super().set_axis(axis)
        self.inner.set_axis(axis)

    def __call__(self) -> Any:
        """The ticks of ``inner`` at the axis's view interval."""
        axis = self.inner.axis
        if axis is None:  # not on an axis yet: as inner (an error)
            return self.inner()
        lo, hi = axis.get_view_interval()
        view = (float(lo), float(hi))
        if view != self._view:
            self._ticks, self._view = self.inner(), view
        return np.array(self._ticks, copy=True)

    def tick_values(self, vmin: float, vmax: float) -> Any:
        """As ``inner``."""
        return self.inner.tick_values(vmin, vmax)

    def nonsingular(self, v0: float, v1: float) -> tuple[float, float]:
        """As ``inner``."""
        return self.inner.nonsingular(v0, v1)

    def view_limits(self, vmin: float, vmax: float) -> tuple[float, float]:
        """As ``inner``."""
        return self.inner.view_limits(vmin, vmax)

    def __getattr__(self, name: str) -> Any:
        """Anything else (the date formatter reads the unit of the ticks, ``_get_unit``) from ``inner``."""
        if name == "inner":  # not set yet (copying): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)


def monthly_trend_figure(monthly: pd.DataFrame, *, source: str = SOURCE_LINE) -> Figure:
    """Incidents per month, one small panel per source (sources cover different periods).

    Parameters
    ----------
    monthly
        :func:`~hotspots.present.report.tables.monthly_counts` output. Sources with a single
        month are drawn as a point.
    source
        The source line under the figure.
    """
    require_columns(monthly, [C.SOURCE, C.SCOPE, C.MONTH, "n"], "the monthly counts")
    first = monthly.groupby(C.SOURCE)[C.MONTH].min()
    sources = sorted(first.index, key=lambda src: (first[src], str(src)))
    if not sources:
        raise InputError("the monthly counts are empty: there is no monthly trend to draw.")
    fig = new_figure(8.5, 1.2 * len(sources) + 1.4)
    axes = fig.subplots(len(sources), 1, sharex=True, squeeze=False)[:, 0]
    allm = pd.to_datetime(monthly[C.MONTH] + "-01")
    lo, hi = allm.min() - pd.Timedelta(days=20), allm.max() + pd.Timedelta(days=20)
    for ax, src in zip(axes, sources, strict=True):
        m = monthly[monthly[C.SOURCE] == src]
        for scope_name, g in m.groupby(C.SCOPE, sort=True):
            t = pd.to_datetime(g[C.MONTH] + "-01")
            ax.plot(t, g["n"], marker="o", ms=3, lw=1.6, label=scope_label(scope_name))
        ax.set_ylim(bottom=0, top=max(1.0, float(m.groupby(C.MONTH)["n"].max().max()) * 1.15))
        ax.set_xlim(lo, hi)
        ax.set_title(f"{src}", loc="left", fontsize=9)
        ax.set_ylabel("a month", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(color="#eeeeee", lw=0.6)
        ax.legend(loc="upper right", fontsize=7, frameon=False, ncol=3)
    date_axis = axes[0].xaxis
    date_axis.set_major_locator(_TicksOncePerView(date_axis.get_major_locator()))  # the panels share it
    fig.suptitle("Incidents per month, by source", x=0.01, ha="left", fontsize=11, fontweight="bold")
    source_line(fig, "Sources cover different periods; y-axes differ", source)
    return fig


def coverage_figure(curve: pd.DataFrame, *, radius: float | None = None, source: str = SOURCE_LINE) -> Figure:
    """Share of harm within reach of a bleed-control kit as kits are added.

    Parameters
    ----------
    curve
        ``kits``, ``coverage_pct`` (per cent of harm covered with that many kits).
    radius
        The walking radius in metres, for the title.
    source
        The source line under the figure.
    """
    require_columns(curve, [CURVE_KITS, CURVE_PCT], "the coverage curve")
    c = curve.sort_values(CURVE_KITS)
    c = c[c[CURVE_KITS] > 0]
    fig = new_figure(6.5, 3.6)
    ax = fig.add_subplot()
    k = c[CURVE_KITS].to_numpy(dtype=float)
    pct = c[CURVE_PCT].to_numpy(dtype=float)
    ax.plot(np.concatenate([[0], k]), np.concatenate([[0], pct]), color=ACCENT, marker="o", ms=3.5, lw=2)
    if len(k):
        ax.annotate(
            f"{int(k[-1])} kits: {pct[-1]:.1f} %",
            (k[-1], pct[-1]),
            xytext=(-6, 8),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=8,
        )
    ax.set_xlim(0, max(1.0, float(k.max()) if len(k) else 1.0) + 0.5)
    ax.set_ylim(0, max(1.0, float(np.nanmax(pct)) * 1.25 if len(pct) else 1.0))
    ax.set_xlabel("Number of kits (in order of value)")
    ax.set_ylabel("Harm within reach (%)")
    ax.grid(color="#eeeeee", lw=0.6)
    title = "Bleed-control kits: harm within reach as kits are added"
    if radius:
        title += f" ({radius:.0f} m)"
    ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
    source_line(fig, source=source)
    return fig


def figure_png(fig: Figure, *, dpi: int = 150) -> bytes:
    """The figure as PNG bytes (white background).

    A figure with a layout engine is laid out here, at ``dpi``, and saved without it:
    ``savefig`` would otherwise draw it twice (once, without output, only to lay it out).
    The layout and the pixels are the same; the figure's engine and dpi are restored.
    """
    buf = io.BytesIO()
    engine, original_dpi = fig.get_layout_engine(), fig.dpi
    try:
        if engine is not None and fig.axes:
            fig.dpi = dpi
            with contextlib.suppress(ValueError):  # as Figure.draw: a layout that cannot be made is skipped
                engine.execute(fig)
            fig.set_layout_engine(None)
        fig.savefig(buf, format="png", dpi=dpi, facecolor="white", metadata={"Software": f"hotspots {__version__}"})
    finally:
        if engine is not None:
            fig.set_layout_engine(engine)
        fig.dpi = original_dpi
    return buf.getvalue()
