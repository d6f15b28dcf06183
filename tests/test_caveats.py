"""What a study says about its own data: caveats and attribution only for what was used, in any area's words."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from hotspots.config import config_from_dict
from hotspots.prepare.caveats import boundary_years, distinct_points, lsoa_year
from hotspots.prepare.study import load_study
from hotspots.present.report import build as R

ROOT = Path(__file__).resolve().parent.parent
MONTH = ROOT / "data/crime/police_uk/2019-09/2019-09-nottinghamshire-street.csv.gz"
LSOA = ROOT / "data/boundaries/lsoa2011_bsc_nottinghamshire.gpkg"


@pytest.fixture(scope="module")
def bare():
    """One police.uk source, no venues, no deprivation."""
    raw = {"study": {"name": "Bare"}, "boundaries": {"lsoa": str(LSOA)}, "crime": [{"name": "p", "path": str(MONTH)}]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_study(config_from_dict(raw, path=ROOT / "data" / "x.toml"))


def test_attribution_names_only_the_data_used(bare):
    lines = bare.attribution
    assert [line.split(":")[0] for line in lines] == ["Crime", "Boundaries"]
    assert not any("Open Pubs" in line or "Deprivation" in line for line in lines)
    assert "database right 2011." in lines[1]
    assert "Open Pubs" not in bare.source_line and "IoD" not in bare.source_line


def test_one_source_says_nothing_about_sources_differing(bare):
    assert not any("Sources differ" in c for c in bare.caveats)
    assert any(c.startswith("No deprivation data: places are ranked") for c in bare.caveats)
    assert not any("Wales" in c for c in bare.caveats)  # no force named: nothing said about Wales
    html = R.build_report(bare, {}).html
    assert "sources differ" not in html.lower() and "Open Pubs" not in html
    assert "English Indices of Deprivation" not in html


def test_several_sources_say_how_they_differ(study):
    assert any(c.startswith("Sources differ in period, offence and area coverage") for c in study.caveats)
    assert "Open Pubs" in " ".join(study.attribution) and "Indices of Deprivation 2019" in " ".join(study.attribution)


def test_boundary_years_come_from_the_files(config):
    assert lsoa_year("LSOA11CD") == 2011 and lsoa_year("LSOA21CD") == 2021 and lsoa_year("code") is None
    assert boundary_years(config.boundaries) == [2011, 2022]  # LSOA11CD, ..._lad22_..., ..._2022_...


def test_distinct_points_matches_numpy_unique() -> None:
    """Counting distinct rounded points by hashing gives np.unique's count (repeats, -0.0 and 0.0 alike)."""
    rng = np.random.default_rng(11)
    x = np.round(rng.normal(0, 3, 5000), 0)
    y = np.round(rng.normal(450000, 3, 5000), 0)
    x[:50] = -0.0
    expect = len(np.unique(np.column_stack([x, y]), axis=0))
    assert distinct_points(x, y) == expect
    assert distinct_points(x[:0], y[:0]) == 0
