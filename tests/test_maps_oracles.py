"""The maps' fast paths give what the library calls they replace give (those calls are the oracles)."""

from __future__ import annotations

import html
import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from hotspots import columns as C
from hotspots.present.maps.geometry import geojson, geojson_all, lat_lon
from hotspots.present.maps.names import location_name, location_names
from hotspots.present.maps.text import _number, esc, fmt, missing

TEXTS = [
    "Market Street, Castle ward, Nottingham",
    "",
    'St Mary\'s <b>Caf\u00e9</b> & "Bar"',
    "`${alert(2)}`\\u0041</script>",
    "see http://example.org:8080/a?b=c",
    "\u2019\u00e9\u0130\U0001f600",
    "E01000001",
]


def _esc_oracle(value: object) -> str:
    """The escaping :func:`esc` has always done: ``html.escape`` then five more characters, one after another."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    s = html.escape(str(value), quote=True)
    return (
        s.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;").replace("/", "&#47;").replace(":", "&#58;")
    )


@pytest.mark.parametrize("value", [*TEXTS, None, pd.NA, float("nan"), 3, 2.5, -0.0, np.int64(7), np.str_("a/b")])
def test_esc_matches_html_escape_and_the_five_script_characters(value):
    assert esc(value) == _esc_oracle(value)


def test_esc_matches_its_oracle_on_every_ascii_character():
    every = "".join(chr(i) for i in range(32, 127))
    assert esc(every) == _esc_oracle(every)
    assert all(esc(ch) == _esc_oracle(ch) for ch in every)


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["On or near Market Street", None, "On or near  Supermarket ", "On or near Market Street", "x"]),
        pd.Series(["On or near A Road", None, "B", np.nan, 3], dtype=object, index=[9, 7, 5, 3, 1]),
        pd.Series(["on OR near Park/Open Space", pd.NA], dtype="string"),
        pd.Series(["On or near A", "On or near A"], dtype="category"),
        pd.Series([], dtype=object),
        pd.Series([], dtype="str"),
        pd.Series([None, None], dtype=object),
    ],
)
def test_location_names_is_location_name_row_by_row(values):
    pd.testing.assert_series_equal(location_names(values), values.map(location_name))


def _geometries() -> list:
    square = shapely.box(0, 0, 10, 10)
    holed = shapely.Polygon(
        [(0, 0), (10, 0), (10, 10), (0, 10)], holes=[[(1, 1), (2, 1), (2, 2)], [(5, 5), (6, 5), (6, 6)]]
    )
    return [
        square,
        holed,
        shapely.MultiPolygon([square, shapely.box(20, 20, 21.5, 21.25)]),
        shapely.MultiPolygon([holed, shapely.box(-3, -3, -1, -1)]),
        None,
        shapely.Polygon(),
        shapely.MultiPolygon(),
        shapely.Point(1, 2),
        shapely.LineString([(0, 0), (1, 1)]),
        shapely.Polygon([(0, 0, 1), (1, 0, 1), (1, 1, 1)]),
        shapely.GeometryCollection([square, shapely.Point(3, 3)]),
        shapely.box(0.1, 0.2, 0.30000000000000004, -1e-9),
    ]


def test_geojson_all_is_mapping_one_by_one():
    geoms = np.array(_geometries(), dtype=object)
    fast = geojson_all(geoms)
    slow = [geojson(g) for g in geoms]
    assert fast == slow
    assert json.dumps(fast) == json.dumps(slow)
    assert geojson_all(geoms[:0]) == []
    assert geojson_all(geoms[[4, 5, 7]]) == [geojson(g) for g in geoms[[4, 5, 7]]]


def test_geojson_all_keeps_mappings_tuples():
    fast = geojson_all(np.array(_geometries()[:3], dtype=object))
    assert [type(g["coordinates"]) for g in fast] == [tuple, tuple, list]
    assert type(fast[1]["coordinates"][1]) is tuple and type(fast[1]["coordinates"][1][0]) is tuple


def test_external_url_starts_are_found_in_any_case_without_re_ignorecase():
    """No character but h/H, t/T, p/P matches those letters ignoring case, so spelling the cases out finds the same."""
    import re
    import sys

    from hotspots.present.assets import inline

    every = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    for letter in "htp":
        assert re.findall(letter, every, re.I) == [letter.upper(), letter]
    page = "".join(chr(c) for c in range(0x2000)) + "\u212a//x.y \u0130http://a.b HtTp: //c.d"
    assert [m.span() for m in inline._external_matches(page)] == [m.span() for m in inline._EXTERNAL_RE.finditer(page)]


def test_lat_lon_is_geopandas_to_crs():
    rng = np.random.default_rng(0)
    xy = np.column_stack([rng.uniform(-1e5, 8e5, 20000), rng.uniform(-1e5, 1.3e6, 20000)])
    xy[:5] = [[np.nan, 1.0], [np.nan, np.nan], [np.inf, 3.0], [1e12, 1e12], [-0.0, 0.0]]
    pts = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=C.CRS).to_crs("EPSG:4326")
    for precision in (5, 6):
        slow = np.round(np.column_stack([pts.y.to_numpy(), pts.x.to_numpy()]), precision)
        assert np.array_equal(lat_lon(xy, precision=precision), slow, equal_nan=True)
    assert lat_lon(np.zeros((0, 2))).shape == (0, 2)


def test_gc_paused_restores_the_collector_also_on_error():
    import gc

    from hotspots.present.maps.build import gc_paused

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), gc_paused():
        raise ValueError
    assert gc.isenabled()


def _fmt_oracle(value: object) -> str:
    """:func:`fmt` as it was, every value through the checks for missing values and text."""
    f = _number(value)
    if f is None:
        return "n/a" if missing(value) or isinstance(value, (int, float)) else esc(value)
    a = abs(f)
    if (f.is_integer() and a < 1e15) or a >= 100:
        return f"{f:,.0f}"
    if a < 1e-3:
        return "&lt;0.001" if f > 0 else "&gt;-0.001"
    decimals = max(0, 2 - math.floor(math.log10(a)))
    return f"{f:.{decimals}f}".rstrip("0").rstrip(".")


def test_fmt_matches_its_oracle():
    rng = np.random.default_rng(1)
    values = [*(10.0 ** rng.uniform(-5, 17, 3000) * rng.choice([-1, 1], 3000)).tolist()]
    values += [0.0, -0.0, 99.95, 999.7, 1e15, 1e15 - 1, 2**53 + 1, float("nan"), float("inf"), -float("inf")]
    values += [0, 7, -12, 10**15, True, False, None, pd.NA, "12", "x<y", np.float64("nan"), np.float64(2.5)]
    values += [np.int64(1234), np.int32(5), np.float32(0.1), np.inf]
    assert [fmt(v) for v in values] == [_fmt_oracle(v) for v in values]


def _assemble_oracle(page: str, licences: str, chunks: dict[str, str]) -> str:
    page = page.replace("</body>", licences + "\n</body>", 1) if "</body>" in page else page + licences
    for key, content in chunks.items():
        page = page.replace(key, content, 1)
    return page


def test_assemble_is_insert_then_replace_in_turn():
    import random

    from hotspots.present.assets.inline import _assemble

    keys = [f"\x00HOTSPOTS_ASSET_{i}\x00" for i in range(3)]
    rng = random.Random(2)
    alphabet = ["a", "</body>", "<", "\x00", *keys, *keys]
    for _ in range(3000):
        page = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        chunks = {k: rng.choice(["<script>x</script>", "", "\x00", keys[0], "y"]) for k in keys[: rng.randint(0, 3)]}
        licences = rng.choice(["<licences/>", "", "\x00L"])
        assert _assemble(page, licences, chunks) == _assemble_oracle(page, licences, chunks), (page, chunks)
