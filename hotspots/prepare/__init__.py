"""Prepare the study: the VRU scope, cleaning with row accounting, area assignment, deprivation, and
:func:`~hotspots.prepare.study.load_study`, which assembles them into one :class:`~hotspots.prepare.study.Study`."""
