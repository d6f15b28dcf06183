"""Prepare the study: scope, cleaning with row accounting, area assignment and deprivation.

:func:`~hotspots.prepare.study.load_study` assembles them into one :class:`~hotspots.prepare.study.Study`.
"""
