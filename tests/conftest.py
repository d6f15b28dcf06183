"""Shared fixtures: the bundled real study (loaded once) and the output-contract helper."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from hotspots import columns as C

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
CONFIG = DATA / "nottinghamshire.toml"


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
