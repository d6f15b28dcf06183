"""Griffe extension: Sphinx cross-reference roles in docstrings as Markdown code spans.

The package's numpydoc docstrings use Sphinx roles (``:func:`hotspots.detect.detect```,
``:class:`~hotspots.config.Config```), which Markdown would show as raw text. This turns
each into a code span: the full dotted name, or its last part when the role starts with
``~`` (as Sphinx shows it). Loaded by mkdocstrings (``extensions`` in ``mkdocs.yml``).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:data|func|class|mod|meth|attr|obj|exc|const|ref):`(~?)([^`]+)`")


def plain(text: str) -> str:
    """``text`` with every Sphinx role replaced by a code span."""
    return ROLE.sub(lambda m: f"`{m.group(2).split('.')[-1] if m.group(1) else m.group(2)}`", text)


class SphinxRoles(griffe.Extension):
    """Rewrite the roles of every docstring once the object tree is loaded."""

    def on_object(self, *, obj: Any, **kwargs: Any) -> None:
        """Rewrite ``obj``'s docstring (griffe event)."""
        if obj.docstring is not None and ":" in obj.docstring.value:
            obj.docstring.value = plain(obj.docstring.value)
