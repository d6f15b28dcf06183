"""Presentation: the interactive maps and the Board report.

The maps are in :mod:`~hotspots.present.maps`, the report in :mod:`~hotspots.present.report`
and the offline web assets they inline in :mod:`~hotspots.present.assets`.
"""
