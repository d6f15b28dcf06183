"""The report's "where next" block: the ranked cells likely to see violence next, with the forecast's accuracy.

A separable block: :func:`where_next_section` turns the data of
:meth:`hotspots.evaluate.forecast.stage.ForecastResult.report_block` into one escaped
``<section id="where-next">``, which the report places after the bleed-control kits.
"""

from __future__ import annotations

import html
from typing import Any


def _count(v: float, small: int) -> str:
    n = round(float(v))
    return f"&lt;{small}" if 0 < n < small else f"{n:,}"


def where_next_section(block: dict[str, Any] | None, *, small_count: int = 5) -> str:
    """The block as HTML (every text from the data escaped); ``""`` for no block.

    Parameters
    ----------
    block
        :meth:`~hotspots.evaluate.forecast.stage.ForecastResult.report_block`.
    small_count
        Incident counts below it are shown as ``"<small_count"`` (forecasts are expectations, shown
        to one decimal).

    Returns
    -------
    str
        ``<section id="where-next">`` with one table per forecast source and a note per source
        not forecast.

    Examples
    --------
    >>> where_next_section(None)
    ''
    >>> "Nothing" in where_next_section({"title": "Where next", "sources": [], "skipped": ["Nothing <to> do"]})
    True
    """
    if not block:
        return ""
    e = html.escape
    parts = [f'<section id="where-next">\n  <h2>{e(str(block.get("title", "Where next")))}</h2>']
    for s in block.get("sources", []):
        parts.append(
            f"  <p>{e(s['source'])}: the {len(s['rows'])} grid cells of {s['cell_size_m']:g} m with the highest "
            f"forecast for {e(s['forecast_months'])}, learnt from {e(s['months'])} by the {e(s['method'])} method. "
            f"{e(s['accuracy'][0].upper() + s['accuracy'][1:])}.</p>"
        )
        rows = "".join(
            f'<tr><td class="num" data-label="Rank">{r["rank"]}</td>'
            f'<td class="full" data-label="Street">{e(r["street"] or r["location"] or "unnamed cell")}</td>'
            f'<td class="full" data-label="Nearest police.uk location">{e(r["location"])}</td>'
            f'<td class="num" data-label="Expected incidents">{r["forecast"]:.1f}</td>'
            f'<td class="num" data-label="Incidents, all months">{_count(r["long_run"], small_count)}</td>'
            f'<td class="num" data-label="Incidents, last months">{_count(r["recent"], small_count)}</td></tr>'
            for r in s["rows"]
        )
        parts.append(  # stacked into labelled rows on a phone, like the report's other tables
            '  <div class="scroll"><table class="where-next-table stack">\n    <thead><tr><th class="num">Rank</th>'
            '<th>Street</th><th>Nearest police.uk location</th><th class="num">Expected incidents</th>'
            '<th class="num">Incidents, all months</th><th class="num">Incidents, last months</th></tr></thead>\n'
            f"    <tbody>{rows}</tbody>\n  </table></div>"
        )
    for note in block.get("skipped", []):
        parts.append(f'  <p class="note">{e(str(note))}.</p>')
    if block.get("caveat") and block.get("sources"):
        parts.append(f'  <p class="note">{e(str(block["caveat"]))}</p>')
    parts.append("</section>")
    return "\n".join(parts) + "\n"
