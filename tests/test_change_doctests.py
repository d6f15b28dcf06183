"""The examples in the change modules' docstrings run and give what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "hotspots.evaluate.tally",
    "hotspots.evaluate.change",
    "hotspots.evaluate.power",
    "hotspots.evaluate.area",
    "hotspots.evaluate.wdd",
    "hotspots.evaluate.similarity",
    "hotspots.months",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0, result
