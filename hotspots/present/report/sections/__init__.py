"""The report's sections, one module each.

Each turns the :class:`~hotspots.present.report.context.Inputs` into template variables and
adds its figures to the :class:`~hotspots.present.report.context.Parts`.

``answer`` (page 1), ``places`` (where to act), ``kits``, ``districts`` (and concentration),
``detection`` (hot spots, emerging hot spots, monthly trend) and ``appendix``.
"""
