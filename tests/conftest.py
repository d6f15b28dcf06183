"""Shared fixtures: the bundled real study (loaded once) and the output-contract helper."""

from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest

from hotspots import columns as C

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
CONFIG = DATA / "nottinghamshire.toml"


@pytest.fixture
def restore_cli_globals():
    """Undo what the CLI sets up process-wide (its log handlers, level and ``warnings.showwarning``)."""
    lg = logging.getLogger("hotspots")
    saved = (lg.handlers[:], lg.level, lg.propagate, warnings.showwarning)
    yield
    lg.handlers[:], lg.level, lg.propagate = saved[0], saved[1], saved[2]
    warnings.showwarning = saved[3]


def toml_value(v: Any) -> str:
    """A Python value as a TOML value (booleans, numbers including nan/inf, strings and paths, lists, tables)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and not math.isfinite(v):
        return ("-" if v < 0 else "") + ("nan" if math.isnan(v) else "inf")
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (str, Path)):
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


@pytest.fixture(scope="session")
def config():
    from hotspots.config import load_config

    return load_config(CONFIG)


@pytest.fixture(scope="session")
def study(config):
    """The bundled Nottinghamshire study (real data), loaded once per test session."""
    from hotspots.prepare.study import load_study

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_study(config)


def assert_frame_contract(result, columns, *, crs=C.CRS, index=None, geo=True):
    """Check an output frame: type, exact column set and order, CRS, index."""
    if geo:
        assert isinstance(result, gpd.GeoDataFrame), type(result)
        assert result.crs is not None and result.crs.equals(crs), result.crs
        assert list(result.columns) == [*list(columns), "geometry"], list(result.columns)
    else:
        assert isinstance(result, pd.DataFrame)
        assert list(result.columns) == list(columns), list(result.columns)
    if index is not None:
        assert result.index.equals(index)


# --- shared by the map and report tests (browser helpers live in tests/browser.py) ---------
from browser import chromium  # noqa: E402, F401  (the session-scoped headless Chromium fixture)


@pytest.fixture(scope="session")
def bundled_run(tmp_path_factory, config):
    """The whole pipeline (every stage) on the bundled data, run once per test session.

    Returns the :class:`hotspots.pipeline.RunContext`; ``bundled_run.out`` is the run
    folder with ``maps/*.html``, ``report.html`` and the rest.
    """
    from hotspots import pipeline

    out = tmp_path_factory.mktemp("bundled_run")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pipeline.run(config, out)
