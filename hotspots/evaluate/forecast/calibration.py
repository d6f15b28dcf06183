"""Forecast calibration: predicted against observed incidents by decile of the forecast, as a table and a figure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from hotspots.errors import InputError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# --------------------------------------------------------------------------------------
# calibration
# --------------------------------------------------------------------------------------

MIN_BINS = 2
"""Fewest bins of :func:`calibration_table`."""

DECILE = "decile"  # 1 = the lowest forecasts, 10 = the highest
CELLS = "cells"  # cell x fold rows in the decile
FORECAST_MIN = "forecast_min"  # lowest forecast in the decile (incidents per cell over the window)
FORECAST_MAX = "forecast_max"  # highest forecast in the decile
PREDICTED_MEAN = "predicted_mean"  # mean forecast per cell
OBSERVED_MEAN = "observed_mean"  # mean incidents per cell in the test window
PREDICTED_TOTAL = "predicted_total"  # forecast incidents summed over the decile
OBSERVED_TOTAL = "observed_total"  # incidents that happened in the decile
CALIBRATION_COLUMNS = [
    DECILE,
    CELLS,
    FORECAST_MIN,
    FORECAST_MAX,
    PREDICTED_MEAN,
    OBSERVED_MEAN,
    PREDICTED_TOTAL,
    OBSERVED_TOTAL,
]
"""Columns of :func:`calibration_table`."""


def calibration_table(
    predicted: npt.ArrayLike, observed: npt.ArrayLike, *, groups: npt.ArrayLike | None = None, bins: int = 10
) -> pd.DataFrame:
    """Forecast against what happened, by decile of the forecast.

    Parameters
    ----------
    predicted
        Forecast per cell (expected incidents in the test window).
    observed
        Incidents per cell in the test window, aligned with ``predicted``.
    groups
        Optional fold label per row: deciles are cut within each fold, then pooled.
    bins
        Number of quantile bins (10 = deciles).

    Returns
    -------
    pandas.DataFrame
        :data:`CALIBRATION_COLUMNS`, one row per non-empty bin, lowest first: ``decile``
        (1..bins), ``cells`` (cell x fold rows in it), ``forecast_min`` / ``forecast_max``,
        ``predicted_mean`` and ``observed_mean`` (per cell), ``predicted_total`` and
        ``observed_total``. A well-calibrated forecast has ``predicted_mean`` close to
        ``observed_mean`` in every row.

    Raises
    ------
    InputError
        Lengths differ, values are negative or missing, or ``bins`` < 2.

    Notes
    -----
    A cell's bin is ``ceil(bins * r / n)``, with ``r`` its average rank within its fold, so tied
    forecasts (most cells forecast 0) share one bin and never split by cell order; heavily tied
    forecasts therefore fill fewer than ``bins`` rows.

    Examples
    --------
    >>> t = calibration_table([0, 0, 1, 3], [0, 1, 1, 2], bins=2)
    >>> t["cells"].tolist(), t["observed_total"].tolist()
    ([2, 2], [1.0, 3.0])
    """
    p = np.asarray(predicted, dtype=float).ravel()
    o = np.asarray(observed, dtype=float).ravel()
    if len(p) != len(o):
        raise InputError(f"predicted has {len(p)} values but observed has {len(o)}; pass one of each per cell.")
    for name, a in (("predicted", p), ("observed", o)):
        bad = np.flatnonzero(~np.isfinite(a) | (a < 0))
        if len(bad):
            raise InputError(f"{name} must be non-negative numbers; position {int(bad[0])} holds {float(a[bad[0]])!r}.")
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < MIN_BINS:
        raise InputError(f"bins must be a whole number >= 2, got {bins!r}.")
    g = np.zeros(len(p), dtype=np.int64) if groups is None else pd.factorize(np.asarray(groups).ravel())[0]
    if len(g) != len(p):
        raise InputError(f"groups has {len(g)} labels but predicted has {len(p)} values.")
    from scipy.stats import rankdata

    decile = np.zeros(len(p), dtype=np.int64)
    for label in np.unique(g):
        idx = np.flatnonzero(g == label)
        rank = rankdata(p[idx], method="average")
        decile[idx] = np.clip(np.ceil(bins * rank / len(idx) - 1e-9), 1, bins).astype(np.int64)
    cells = np.bincount(decile, minlength=bins + 1)[1:]
    present = np.flatnonzero(cells > 0)
    lo = np.full(bins + 1, np.inf)
    hi = np.full(bins + 1, -np.inf)
    np.minimum.at(lo, decile, p)
    np.maximum.at(hi, decile, p)
    pt = np.bincount(decile, weights=p, minlength=bins + 1)[1:]
    ot = np.bincount(decile, weights=o, minlength=bins + 1)[1:]
    out = pd.DataFrame(
        {
            DECILE: present + 1,
            CELLS: cells[present].astype(np.int64),
            FORECAST_MIN: lo[1:][present],
            FORECAST_MAX: hi[1:][present],
            PREDICTED_MEAN: pt[present] / cells[present],
            OBSERVED_MEAN: ot[present] / cells[present],
            PREDICTED_TOTAL: pt[present],
            OBSERVED_TOTAL: ot[present],
        }
    )
    return out[CALIBRATION_COLUMNS]


def pool_calibration(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Pool per-fold :func:`calibration_table` results (same bins) into one table."""
    if not tables:
        return pd.DataFrame(columns=CALIBRATION_COLUMNS)
    t = pd.concat(tables, ignore_index=True)
    out = (
        t.groupby(DECILE)
        .agg(
            cells=("cells", "sum"),
            forecast_min=("forecast_min", "min"),
            forecast_max=("forecast_max", "max"),
            predicted_total=("predicted_total", "sum"),
            observed_total=("observed_total", "sum"),
        )
        .reset_index()
    )
    out["predicted_mean"] = out["predicted_total"] / out["cells"]
    out["observed_mean"] = out["observed_total"] / out["cells"]
    return out[CALIBRATION_COLUMNS]


COLOURS = ("#8c1c13", "#1f5f8b", "#3b7d3b", "#7a4f9a", "#b8860b")
"""Series colours of :func:`calibration_figure` (one per method, in order)."""


def calibration_figure(
    table: pd.DataFrame,
    *,
    methods: Sequence[str] | None = None,
    horizons: Sequence[int] | None = None,
    title: str | None = None,
) -> Figure:
    """Forecast against observed incidents per cell, by decile of the forecast (a matplotlib Figure).

    Parameters
    ----------
    table
        :func:`calibration_table` rows, optionally with ``horizon`` and ``method`` columns (as
        :attr:`~hotspots.evaluate.forecast.backtest.ForecastBacktest.calibration`): one panel per
        horizon, one series per method.
    methods
        Methods to draw (default every method in ``table``, at most five).
    horizons
        Horizons to draw, one panel each (default every horizon in ``table``).
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Points at (mean forecast, mean observed) per decile on log-log axes, joined in decile order,
        with the line of perfect calibration; drawn on the Agg canvas (no pyplot). Deciles with a
        zero mean are drawn at the lowest positive value of the panel.

    Raises
    ------
    InputError
        ``table`` lacks the calibration columns.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    missing = [c for c in CALIBRATION_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"table lacks columns {missing}; pass calibration_table() output.")
    t = table.copy()
    if "horizon" not in t.columns:
        t["horizon"] = 0
    if "method" not in t.columns:
        t["method"] = "forecast"
    hs = list(horizons) if horizons is not None else sorted(t["horizon"].unique())
    ms = list(methods) if methods is not None else list(dict.fromkeys(t["method"]))[: len(COLOURS)]
    fig = Figure(figsize=(4.6 * max(1, len(hs)), 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, max(1, len(hs)), squeeze=False)[0]
    for ax, h in zip(axes, hs, strict=False):
        block = t[t["horizon"] == h]
        vals = block[[PREDICTED_MEAN, OBSERVED_MEAN]].to_numpy(float)
        pos = vals[vals > 0]
        lo = float(pos.min()) if len(pos) else 1e-3
        hi = max(float(vals.max()) if vals.size else 1.0, lo * 10)
        ax.plot([lo, hi], [lo, hi], color="#7a7a7a", lw=1, ls="--", label="perfect calibration")
        for colour, m in zip(COLOURS, ms, strict=False):
            r = block[block["method"] == m].sort_values(DECILE)
            if r.empty:
                continue
            p = np.maximum(r[PREDICTED_MEAN].to_numpy(float), lo)
            o = np.maximum(r[OBSERVED_MEAN].to_numpy(float), lo)
            ax.plot(p, o, marker="o", ms=4, lw=1, color=colour, label=m)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("forecast incidents per cell (mean of the decile)")
        ax.set_ylabel("observed incidents per cell")
        label = {0: "", 1: "next month", 3: "next quarter"}.get(int(h), f"next {int(h)} months")
        if label:
            ax.set_title(label, fontsize=9)
        ax.legend(fontsize=7, loc="upper left")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def figure_png(fig: Figure, *, dpi: int = 120) -> bytes:
    """A matplotlib Figure as PNG bytes (the CLI writes them; no file is touched here)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
