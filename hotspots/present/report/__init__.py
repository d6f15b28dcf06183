"""Stage ``report``: the Board report (one self-contained HTML page and its PNG figures).

The stage's functions are imported on first use (``hotspots.present.report.report``): they
import matplotlib, which the configuration (:class:`ReportConfig`) does not need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hotspots.present.report.config import ReportConfig

if TYPE_CHECKING:  # pragma: no cover
    from hotspots.present.report.build import Report, build_report, report

__all__ = ["Report", "ReportConfig", "build_report", "report"]

_FROM_BUILD = ("Report", "build_report", "report")


def __getattr__(name: str) -> Any:
    if name in _FROM_BUILD:
        from hotspots.present.report import build

        return getattr(build, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
