"""Stage ``report``: the Board report (one self-contained HTML page and its PNG figures)."""

from hotspots.present.report.build import Report, build_report, report
from hotspots.present.report.config import ReportConfig

__all__ = ["Report", "ReportConfig", "build_report", "report"]
