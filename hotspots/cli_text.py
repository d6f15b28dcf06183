"""Text the command line prints about checked inputs (kept apart from :mod:`hotspots.cli` to keep it short)."""

from __future__ import annotations

from typing import Any


def format_change_check(checked: Any) -> str:
    """What ``run`` will compare in "What changed" (a :class:`~hotspots.evaluate.change_stage.ChangeCheck`), as text."""
    from hotspots.months import format_months

    p = checked.periods
    lines = [
        "what changed ([change]):",
        f"  before {format_months(p.before)} ({p.before_months} months with data), "
        f"after {format_months(p.after)} ({p.after_months} months with data)",
        f"  sources {', '.join(checked.sources)}; area {', '.join(checked.districts) or 'the study area'}",
    ]
    for note in checked.notes:
        lines.append(f"  note: {note}")
    for iv in checked.interventions:
        q = iv.periods
        lines.append(
            f"  intervention {iv.entry.name!r}: before {format_months(q.before)}, after {format_months(q.after)} "
            f"({q.after_months} months each with data); areas {', '.join(iv.areas)}; sources {', '.join(iv.sources)}"
        )
    return "\n".join(lines)


def format_accounting(table: Any) -> str:
    """Row accounting table as text (read = used + dropped, per file), with a TOTAL row per kind of input.

    Crime files and the venue file are different things: their rows are totalled separately
    (``TOTAL crime``, ``TOTAL venues``), never added together.
    """
    import pandas as pd

    if len(table) == 0:
        return "no files read"
    t = table.copy()
    numeric = [c for c in t.columns if c not in ("file", "source")]
    for col in numeric:
        t[col] = t[col].astype(int)
    kind = t["source"].map(lambda s: "venues" if s == "venues" else "crime")
    parts = []
    for name in ("crime", "venues"):
        rows = t[kind == name]
        if len(rows):
            total = {c: int(rows[c].sum()) for c in numeric}
            parts.append(rows)
            parts.append(pd.DataFrame([{"file": f"TOTAL {name}", "source": "", **total}]))
    out = pd.concat(parts, ignore_index=True)[list(t.columns)]
    return "row accounting (read = used + dropped):\n" + out.to_string(index=False)


__all__ = ["format_accounting", "format_change_check"]
