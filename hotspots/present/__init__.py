"""Presentation: the interactive maps (:mod:`~hotspots.present.maps`) and the Board report
(:mod:`~hotspots.present.report`), with the offline web assets (:mod:`~hotspots.present.assets`)."""
