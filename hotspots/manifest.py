"""The run's ``manifest.json``: what was run, on what, with what result and how long it took.

:func:`manifest` is called by :func:`hotspots.pipeline.run`, which writes it last (also when a
stage fails, with ``"status": "failed"``).
"""

from __future__ import annotations

import datetime as _dt
import platform
from typing import TYPE_CHECKING, Any

from hotspots import __version__

if TYPE_CHECKING:  # pragma: no cover
    from hotspots.pipeline import Run


def manifest(state: Run, outputs: dict[str, str], *, status: str = "ok") -> dict[str, Any]:
    """The run manifest as a dict."""
    s = state.study
    extra: dict[str, Any] = {}
    for name in ("detect", "rank", "sites", "forecast", "change", "maps"):  # each stage that ran: its summary
        result = getattr(state, name)
        if result is not None:
            extra[name] = result.summary
    if state.report is not None:
        from hotspots.present.report.build import FIGURE_FILES

        extra["report"] = {
            "figures": sorted(FIGURE_FILES[k] for k in state.report.figures),
            "summary": {k: v for k, v in state.report.summary.items() if k != "districts"},
        }
    return {
        "tool": "hotspots",
        "version": __version__,
        "status": status,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "config": state.config.to_dict(),
        "inputs": s.inputs,
        "row_accounting": s.accounting.to_dict(),
        "incidents": {
            "used": len(s.incidents),
            "period": s.period,
            "coverage": s.coverage,
        },
        "caveats": s.caveats,
        "institutions": s.institutions_summary(),
        "auto": state.auto,
        "outputs": outputs,
        "timings_s": {
            **{f"load.{k}": round(v, 3) for k, v in s.timings.items()},
            **{k: round(v, 3) for k, v in state.timings.items()},
        },
        "cpu_s": {k: round(v, 3) for k, v in state.cpu.items()},
        "jobs": state.jobs,
        **extra,
    }
