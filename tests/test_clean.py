"""Cleaning: row accounting on the real files, every drop reason, area assignment, de-duplication."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from conftest import assert_frame_contract
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotspots import columns as C
from hotspots.errors import HotspotsWarning, InputError
from hotspots.io import load
from hotspots.io.config import ColumnMap
from hotspots.prepare import clean

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "data" / "crime" / "police_uk" / "2019-09" / "2019-09-nottinghamshire-street.csv.gz"
IN_SCOPE = ["Violence and sexual offences", "Robbery", "Possession of weapons"]
TO_LONLAT = pyproj.Transformer.from_crs(27700, 4326, always_xy=True)


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return pd.read_csv(REAL, dtype=str, keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def good(real, study) -> pd.DataFrame:
    """Real in-scope rows with coordinates and a study-area LSOA code, unique IDs."""
    m = real["Crime type"].isin(IN_SCOPE) & real["Longitude"].notna() & real["LSOA code"].isin(study.lsoa.lsoa_code)
    return real[m & ~real["Crime ID"].duplicated(keep=False)].head(60).reset_index(drop=True)


@pytest.fixture(scope="module")
def known(study) -> set[str]:
    return set(study.deprivation[C.LSOA_CODE])


def run_clean(tmp_path, frames, study, known, name="f", **kw):
    """Write each frame as a police.uk CSV, read it back and clean all of them together."""
    raws = []
    for i, df in enumerate(frames if isinstance(frames, list) else [frames]):
        p = tmp_path / f"{name}{i}.csv"
        df.to_csv(p, index=False)
        raws.append(load.read_police_uk(p, source="p"))
    return clean.clean_incidents(raws, study.lsoa, known_codes=known, base=tmp_path, **kw)


def lonlat(x, y):
    lon, lat = TO_LONLAT.transform(x, y)
    return f"{lon:.6f}", f"{lat:.6f}"


# --- the real bundled files -------------------------------------------------------------


def test_real_police_uk_2019_09_accounting(study, real):
    (f,) = [f for f in study.accounting.files if f.source == "police_uk"]
    assert f.rows_read == 11_472 == len(real)
    assert f.dropped == {
        C.DROP_NO_COORDINATES: 84,
        C.DROP_DUPLICATE_ID: 12,
        C.DROP_OUT_OF_SCOPE: 8_184,
        C.DROP_OUTSIDE_AREA: 29,
    }
    assert f.rows_used == 3_163 and f.balanced()
    assert sum(f.assigned.values()) == f.rows_used
    # oracle computed independently with pandas
    located = real[real["Longitude"].notna()]
    dup = located["Crime ID"].notna() & located["Crime ID"].duplicated()
    assert int(dup.sum()) == 12
    assert int((~located[~dup]["Crime type"].isin(IN_SCOPE)).sum()) == 8_184


def test_every_real_file_balances_and_matches_the_frames(study):
    acc = study.accounting
    assert len(acc.files) == 6
    for f in acc.files:
        assert f.rows_read == f.rows_used + f.rows_dropped, f.to_dict()
        assert set(f.dropped) <= set(C.DROP_REASONS)
    crime = [f for f in acc.files if f.source != "venues"]
    assert sum(f.rows_used for f in crime) == len(study.incidents) == 18_581
    assert study.incidents.groupby(C.SOURCE).size().to_dict() == {f.source: f.rows_used for f in crime}
    # the dropped-rows table lists exactly the dropped rows
    dr = acc.dropped_rows
    assert len(dr) == sum(f.rows_dropped for f in acc.files)
    assert dr.groupby("file").size().to_dict() == {f.file: f.rows_dropped for f in acc.files if f.rows_dropped}
    table = acc.table()
    assert (table["read"] == table["used"] + table["dropped"]).all()


def test_real_assignment_counts(study):
    by = {f.source: f.assigned for f in study.accounting.files}
    # police.uk and the 2022 file carry 2011 codes; the 2020 derived files have none
    assert by["city_robbery_2022"] == {C.ASSIGNED_BY_CODE: 555}
    assert by["police_uk"] == {C.ASSIGNED_BY_CODE: 3_163}
    assert set(by["city_violence_2020"]) == {C.ASSIGNED_POINT_IN_POLYGON}
    inc = study.incidents
    assert inc[C.LSOA_CODE].isin(study.lsoa[C.LSOA_CODE]).all()


def test_incident_frame_contract(study, real):
    inc = study.incidents
    assert_frame_contract(inc, C.INCIDENT_COLUMNS[:-1])
    assert inc[C.INCIDENT_ID].is_unique
    assert inc[C.MONTH].str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])").all()
    assert (inc[C.HARM] > 0).all() and (inc[C.SCOPE] != "out").all()
    assert inc[C.LSOA_ASSIGNED].isin([C.ASSIGNED_BY_CODE, C.ASSIGNED_POINT_IN_POLYGON, C.ASSIGNED_NEAREST]).all()
    # source_row points back at the row it came from
    p = inc[inc[C.SOURCE] == "police_uk"]
    assert (real["Crime ID"].to_numpy()[p[C.SOURCE_ROW].to_numpy() - 1] == p[C.INCIDENT_ID].to_numpy()).all()
    assert p[C.SOURCE_FILE].eq("crime/police_uk/2019-09/2019-09-nottinghamshire-street.csv.gz").all()
    d = inc[inc[C.SOURCE] == "city_violence_2020"]
    assert d[C.INCIDENT_ID].iloc[0] == f"city_violence_2020:{d[C.SOURCE_FILE].iloc[0]}:{d[C.SOURCE_ROW].iloc[0]}"
    x0, y0, x1, y1 = study.area.bounds
    assert inc.geometry.x.between(x0 - 250, x1 + 250).all() and inc.geometry.y.between(y0 - 250, y1 + 250).all()


def test_real_venues_accounting(study):
    (f,) = [f for f in study.accounting.files if f.source == "venues"]
    assert (f.rows_read, f.rows_used, f.dropped) == (885, 884, {C.DROP_NO_COORDINATES: 1})
    v = study.venues
    assert len(v) == 884 and v.crs.to_epsg() == 27700 and v[C.LSOA_CODE].isin(study.lsoa[C.LSOA_CODE]).all()
    assert list(v.columns) == [C.VENUE_ID, C.VENUE_NAME, C.VENUE_ADDRESS, C.VENUE_POSTCODE, C.LSOA_CODE, "geometry"]


# --- drop reasons -----------------------------------------------------------------------


def test_each_drop_reason(tmp_path, good, study, known):
    df = good.head(12).copy()
    df.loc[0, ["Longitude", "Latitude"]] = np.nan  # no coordinates
    df.loc[1, ["Longitude", "Latitude"]] = "0"  # (0, 0) placeholder
    df.loc[2, "Crime ID"] = df.loc[3, "Crime ID"]  # duplicate of a later row: row 3 is the copy
    df.loc[4, "Crime type"] = "Burglary"  # out of scope
    df.loc[5, "Month"] = "Sept 2019"  # unparseable month
    df.loc[6, "Month"] = "2019-08"  # outside the window
    df.loc[7, "Month"] = np.nan  # no month at all: unparseable
    inc, acc = run_clean(tmp_path, df, study, known, start="2019-09", end="2019-12")
    (f,) = acc.files
    assert f.dropped == {
        C.DROP_UNPARSEABLE: 2,
        C.DROP_NO_COORDINATES: 1,
        C.DROP_AT_ORIGIN: 1,
        C.DROP_DUPLICATE_ID: 1,
        C.DROP_OUT_OF_SCOPE: 1,
        C.DROP_OUTSIDE_WINDOW: 1,
    }
    assert f.rows_used == 5 and f.balanced() and len(inc) == 5
    dr = acc.dropped_rows.set_index("row")
    assert dr.loc[4, "reason"] == C.DROP_DUPLICATE_ID and dr.loc[4, "detail"] == df.loc[3, "Crime ID"]
    assert dr.loc[5, "detail"] == "Burglary" and dr.loc[7, "detail"] == "2019-08"
    assert dr.loc[6, "detail"].startswith("month='Sept 2019'")


def test_non_numeric_coordinates_some_rows_warn_all_rows_fail(tmp_path, good, study, known):
    df = good.head(10).copy()
    df.loc[[3, 6], "Latitude"] = ["53,1", "n/a"]
    with pytest.warns(
        HotspotsWarning,
        match=r"f0\.csv: 2 row\(s\) have a coordinate that is not a number \(first: "
        r"row 4 \(line 5\), Latitude = '53,1'\); dropped as unparseable\.",
    ):
        inc, acc = run_clean(tmp_path, df, study, known)
    assert acc.files[0].dropped == {C.DROP_UNPARSEABLE: 2} and len(inc) == 8
    df["Longitude"] = "W" + df["Longitude"]
    with pytest.raises(
        InputError,
        match=r"f0\.csv: no coordinate in columns 'Longitude'/'Latitude' is a number "
        r"\(first: row 1 \(line 2\), Longitude = 'W-1\.\d+'\)\.",
    ):
        run_clean(tmp_path, df, study, known)


def test_duplicates_across_files_and_after_unusable_rows(tmp_path, good, study, known):
    a, b = good.head(10).copy(), good.iloc[5:15].copy()
    inc, acc = run_clean(tmp_path, [a, b], study, known)
    assert [f.dropped for f in acc.files] == [{}, {C.DROP_DUPLICATE_ID: 5}]
    assert inc[C.INCIDENT_ID].is_unique and len(inc) == 15
    # a usable row is not dropped as the duplicate of an earlier unusable copy
    c = pd.concat([good.head(1), good.head(1), good.iloc[1:3]], ignore_index=True)
    c.loc[0, ["Longitude", "Latitude"]] = np.nan
    inc, acc = run_clean(tmp_path, c, study, known, name="g")
    assert acc.files[0].dropped == {C.DROP_NO_COORDINATES: 1}
    assert inc[C.SOURCE_ROW].tolist() == [2, 3, 4]


def test_duplicate_ids_across_many_files(tmp_path, good, study, known):
    """IDs seen on a usable row of any earlier file are duplicates; an unusable earlier copy does not count."""
    a, b, c = good.iloc[0:4].copy(), good.iloc[2:8].copy(), good.iloc[[0, 3, 7, 8]].copy()
    a.loc[3, ["Longitude", "Latitude"]] = np.nan  # row 4 of file 0 is unusable: its ID is not "seen"
    c.loc[c.index[0], "Crime ID"] = np.nan  # no ID: never a duplicate
    inc, acc = run_clean(tmp_path, [a, b, c], study, known)
    dup = acc.dropped_rows[acc.dropped_rows["reason"] == C.DROP_DUPLICATE_ID]
    assert sorted(zip(dup["file"], dup["row"], strict=True)) == [("f1.csv", 1), ("f2.csv", 2), ("f2.csv", 3)]
    assert [f.rows_used for f in acc.files] == [3, 5, 2] and all(f.balanced() for f in acc.files)
    assert inc[C.INCIDENT_ID].is_unique


# --- area assignment --------------------------------------------------------------------


def test_2021_lsoa_code_is_assigned_spatially(tmp_path, good, study, known):
    code_2021 = "E01035301"  # a 2021 LSOA code: not in IoD2019 (2011 codes)
    assert code_2021 not in known
    df = good.head(6).copy()
    df.loc[[0, 1], "LSOA code"] = code_2021
    inc, acc = run_clean(tmp_path, df, study, known)
    assigned = acc.files[0].assigned
    assert assigned[C.ASSIGNED_BY_CODE] == 4 and sum(assigned.values()) == 6
    spatial = inc[inc[C.SOURCE_ROW] <= 2]
    assert (spatial[C.LSOA_ASSIGNED] != C.ASSIGNED_BY_CODE).all()
    j = gpd.sjoin_nearest(spatial[["geometry"]], study.lsoa[[C.LSOA_CODE, "geometry"]])
    assert (j[C.LSOA_CODE].to_numpy() == spatial[C.LSOA_CODE].to_numpy()).all()


def test_known_2011_code_outside_area_is_dropped(tmp_path, good, study, known):
    dep = study.deprivation
    bolsover = dep.loc[dep["lad19_name"] == "Bolsover", C.LSOA_CODE].iloc[0]
    df = good.head(5).copy()
    df.loc[2, "LSOA code"] = bolsover  # the point itself is inside Nottinghamshire: the code wins
    _inc, acc = run_clean(tmp_path, df, study, known)
    assert acc.files[0].dropped == {C.DROP_OUTSIDE_AREA: 1}
    row = acc.dropped_rows.iloc[0]
    assert (row["row"], row["reason"], row["detail"]) == (3, C.DROP_OUTSIDE_AREA, bolsover)


def test_nearest_polygon_within_tolerance(tmp_path, good, study, known):
    # the study area's westernmost vertex: a point d metres due west is exactly d metres outside
    xy = shapely.get_coordinates(study.area)
    vx, vy = xy[np.argmin(xy[:, 0])]
    df = good.head(4).copy()
    df["LSOA code"] = np.nan
    df.loc[0, ["Longitude", "Latitude"]] = lonlat(vx - 100, vy)
    df.loc[1, ["Longitude", "Latitude"]] = lonlat(vx - 400, vy)
    inc, acc = run_clean(tmp_path, df, study, known, tolerance=250.0)
    (f,) = acc.files
    assert f.dropped == {C.DROP_OUTSIDE_AREA: 1} and acc.dropped_rows["row"].tolist() == [2]
    near = inc[inc[C.SOURCE_ROW] == 1].iloc[0]
    assert near[C.LSOA_ASSIGNED] == C.ASSIGNED_NEAREST
    expected = study.lsoa.loc[study.lsoa.distance(shapely.Point(vx, vy)).idxmin(), C.LSOA_CODE]
    assert near[C.LSOA_CODE] == expected
    assert f.assigned == {C.ASSIGNED_NEAREST: 1, C.ASSIGNED_POINT_IN_POLYGON: 2}
    # with no tolerance both are outside
    _, acc0 = run_clean(tmp_path, df, study, known, tolerance=0.0, name="z")
    assert acc0.files[0].dropped == {C.DROP_OUTSIDE_AREA: 2}


def test_code_far_from_its_point_is_distrusted(tmp_path, good, study, known):
    df = good.head(5).copy()
    other = study.lsoa.set_index(C.LSOA_CODE)
    far = other.geometry.distance(other.loc[df.loc[0, "LSOA code"], "geometry"]).sort_values()
    target = far[far > 5000].index[0]  # an LSOA over 5 km from row 1's coded one
    c = other.loc[target, "geometry"].representative_point()
    df.loc[0, ["Longitude", "Latitude"]] = lonlat(c.x, c.y)
    with pytest.warns(
        HotspotsWarning,
        match=r"f0\.csv: 1 row\(s\) have an LSOA code whose polygon is more than "
        r"1000 m from the row's point \(first: row 1 \(line 2\), LSOA code = "
        r"'E0\d+'.*the code was ignored and the row assigned by its location\.",
    ):
        inc, _ = run_clean(tmp_path, df, study, known)
    r = inc[inc[C.SOURCE_ROW] == 1].iloc[0]
    assert (r[C.LSOA_CODE], r[C.LSOA_ASSIGNED]) == (target, C.ASSIGNED_POINT_IN_POLYGON)


def test_every_row_outside_the_area(tmp_path, good, study, known):
    df = good.head(8).copy()
    df["Longitude"] = (df["Longitude"].astype(float) - 2.0).map("{:.6f}".format)  # 130 km west, in Wales
    df["LSOA code"] = np.nan
    with pytest.raises(
        InputError,
        match=r"f0\.csv: none of the 8 located in-scope rows falls inside the study area "
        r"\(the LSOA boundaries cover longitude -1\.344\.\.-0\.666, latitude "
        r"52\.790\.\.53\.502; first: row 1 \(line 2\), Longitude = -3\.\d+, "
        r"Latitude = 5\d\.\d+\)\. Check the coordinate columns and crs",
    ):
        run_clean(tmp_path, df, study, known)


def test_swapped_and_projected_coordinates(tmp_path, good, study, known):
    df = good.head(8).copy()
    df["Longitude"], df["Latitude"] = good.head(8)["Latitude"], good.head(8)["Longitude"]
    with pytest.raises(
        InputError,
        match=r"longitude and latitude look swapped: the longitude column 'Longitude' has "
        r"median 5\d\.\d{3}, which is a latitude in Great Britain.*Swap the two",
    ):
        run_clean(tmp_path, df, study, known)
    lon, lat = good.head(8)["Longitude"].astype(float), good.head(8)["Latitude"].astype(float)
    e, n = pyproj.Transformer.from_crs(4326, 27700, always_xy=True).transform(lon.to_numpy(), lat.to_numpy())
    df["Longitude"], df["Latitude"] = [f"{v:.0f}" for v in e], [f"{v:.0f}" for v in n]
    with pytest.raises(
        InputError,
        match=r"columns 'Longitude'/'Latitude' hold values like 4\d{5}, 3\d{5}, which are "
        r"not longitude/latitude degrees; they look like British National Grid "
        r"eastings/northings \(metres\)\. Set crs = \"EPSG:27700\"",
    ):
        run_clean(tmp_path, df, study, known)


def test_degrees_given_as_bng(tmp_path, study):
    p = tmp_path / "en.csv"
    pd.DataFrame({"m": ["2020-01"] * 3, "e": ["-1.15", "-1.16", "-1.17"], "n": ["52.95"] * 3}).to_csv(p, index=False)
    rf = load.read_points(p, columns=ColumnMap(month="m", x="e", y="n"), crs="EPSG:27700", crime_type="Robbery")
    with pytest.raises(
        InputError,
        match=r"columns 'e'/'n' hold values like -1\.1600, 52\.9500, which look like "
        r"longitude/latitude degrees, but the CRS is EPSG:27700\. Set crs = ",
    ):
        clean.clean_incidents([rf], study.lsoa)


def test_local_file_with_dates_times_and_offence_codes(tmp_path, study):
    """Dates and times parsed day-first; month from the date; offence codes choose the fine category."""
    c = study.lsoa.geometry.iloc[0].representative_point()
    p = tmp_path / "local.csv"
    pd.DataFrame(
        {
            "ref": ["A1", "A2", "A3"],
            "date": ["15/03/2022", "02/04/2022", "30/04/2022"],
            "time": ["23:15", "01:05", ""],
            "type": ["Violence and sexual offences"] * 3,
            "code": ["5D", "8n", "99Z"],
            "e": [c.x] * 3,
            "n": [c.y] * 3,
        }
    ).to_csv(p, index=False)
    cols = ColumnMap(id="ref", date="date", time="time", crime_type="type", offence_code="code", x="e", y="n")
    rf = load.read_points(p, columns=cols, crs="EPSG:27700", source="local")
    inc, _acc = clean.clean_incidents([rf], study.lsoa)
    assert inc[C.MONTH].tolist() == ["2022-03", "2022-04", "2022-04"]
    assert inc[C.DATE].iloc[0] == pd.Timestamp("2022-03-15 23:15") and inc[C.DATE].iloc[2] == pd.Timestamp("2022-04-30")
    assert inc[C.SCOPE].tolist() == ["gbh_serious_wounding", "abh", "violence_sexual"]
    assert inc[C.HARM].tolist() == [10.0, 1.5, 1.0]
    assert inc[C.LSOA_CODE].eq(study.lsoa[C.LSOA_CODE].iloc[0]).all()
    assert inc[C.INCIDENT_ID].tolist() == ["A1", "A2", "A3"]


# --- helpers ----------------------------------------------------------------------------


def test_parse_months():
    m, bad = clean.parse_months(pd.Series(["2019-09", "2019-9", "2019-09-01", "2019-13", "Sept", None]))
    assert m.tolist()[:3] == ["2019-09", "2019-09", "2019-09"]
    assert m.iloc[3:].isna().all() and bad.tolist() == [False, False, False, True, True, False]


def test_empty_incidents_schema():
    e = clean.empty_incidents()
    assert_frame_contract(e, C.INCIDENT_COLUMNS[:-1])
    assert len(e) == 0 and e[C.HARM].dtype == float


# --- property: every row accounted for --------------------------------------------------

MUTATIONS = ["none", "no_xy", "origin", "bad_x", "bad_month", "out_of_scope", "dup", "far", "code_2021", "old_month"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=40))
def test_rows_read_equal_used_plus_dropped(tmp_path_factory, good, study, known, muts):
    df = good.head(len(muts)).copy().reset_index(drop=True)
    for i, mu in enumerate(muts):
        if mu == "no_xy":
            df.loc[i, ["Longitude", "Latitude"]] = np.nan
        elif mu == "origin":
            df.loc[i, ["Longitude", "Latitude"]] = "0.0"
        elif mu == "bad_x":
            df.loc[i, "Longitude"] = "?"
        elif mu == "bad_month":
            df.loc[i, "Month"] = "20-19"
        elif mu == "out_of_scope":
            df.loc[i, "Crime type"] = "Shoplifting"
        elif mu == "dup":
            df.loc[i, "Crime ID"] = df.loc[0, "Crime ID"]
        elif mu == "far":
            df.loc[i, ["Longitude", "Latitude", "LSOA code"]] = ["-0.1", "51.5", np.nan]
        elif mu == "code_2021":
            df.loc[i, "LSOA code"] = "E01035999"
        elif mu == "old_month":
            df.loc[i, "Month"] = "2018-01"
    tmp = tmp_path_factory.mktemp("prop")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            inc, acc = run_clean(tmp, df, study, known, start="2019-01")
    except InputError:
        return  # a whole-file error (e.g. every coordinate bad): nothing is half-accounted
    (f,) = acc.files
    assert f.rows_read == len(df) == f.rows_used + f.rows_dropped
    assert len(inc) == f.rows_used and len(acc.dropped_rows) == f.rows_dropped
    assert sorted(inc[C.SOURCE_ROW].tolist() + acc.dropped_rows["row"].tolist()) == list(range(1, len(df) + 1))


def test_parse_dates_iso_year_first_else_day_first():
    d, bad = clean.parse_dates(pd.Series(["2022-03-05", "05/03/2022 23:15", "2022-03-05T10:00", None, "soon"]))
    assert d.iloc[0] == pd.Timestamp("2022-03-05") and d.iloc[1] == pd.Timestamp("2022-03-05 23:15")
    assert d.iloc[2] == pd.Timestamp("2022-03-05 10:00") and bad.tolist() == [False, False, False, False, True]


def test_no_readable_month_is_a_whole_file_error(tmp_path, good, study, known):
    df = good.head(4).copy()
    df["Month"] = "September"
    with pytest.raises(
        InputError,
        match=r"f0\.csv: no row has a readable month or date \(first: row 1 \(line 2\), "
        r"Month = 'September'\)\. Months are written YYYY-MM",
    ):
        run_clean(tmp_path, df, study, known)
    p = tmp_path / "nomonth.csv"
    pd.DataFrame({"e": [450000.0], "n": [340000.0]}).to_csv(p, index=False)
    rf = load.read_points(p, columns=ColumnMap(x="e", y="n"), crs="EPSG:27700", crime_type="Robbery")
    with pytest.raises(InputError, match=r"no row has a readable month or date \(no month or date column is mapped\)"):
        clean.clean_incidents([rf], study.lsoa)


def test_is_member_matches_isin() -> None:
    """The set look-up gives what ``Series.isin`` gives on string codes, missing never a member."""
    from hotspots.prepare.areas import is_member

    rng = np.random.default_rng(0)
    pool = np.array(["E01000001", "E01000002", " E01000003", "W01000004", "", "e01000001"], dtype=object)
    raw = pd.Series(rng.choice(pool, 500), dtype=object)
    raw[rng.random(500) < 0.2] = None
    text = raw.astype("string").str.strip()
    for values in ({"E01000001", "E01000003"}, set(), {"", "W01000004"}, ["E01000002"]):
        expect = text.isin(values).fillna(False).to_numpy(dtype=bool)
        assert np.array_equal(is_member(text, values), expect)


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["a", None, "b"], dtype="str"),
        pd.Series([None, None], dtype="str"),
        pd.Series([], dtype="str"),
        pd.Series(["a", None], dtype=object),
        pd.Series([1.5, np.nan]),
    ],
)
def test_as_text_types_a_column_as_its_objects_would(values: pd.Series) -> None:
    """A frame column from as_text equals one from the values as Python objects, dtype included."""
    expect = pd.DataFrame({"v": values.to_numpy(dtype=object)})
    pd.testing.assert_frame_equal(pd.DataFrame({"v": clean.as_text(values)}), expect)


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["2019-01", "2019-13", None, "2019-1", "2019-01"], dtype="str", name="month", index=[5, 3, 9, 1, 0]),
        pd.Series([None, None], dtype="str"),
        pd.Series(["x", "y", "x"], dtype="str"),
        pd.Series([], dtype="str"),
        pd.Series(["2020-02", None, 7], dtype=object),
    ],
)
def test_parse_months_equals_mapping_every_row(values: pd.Series) -> None:
    """Months parsed once per distinct value are what mapping every row with the same lookup gives."""
    from hotspots.prepare.rows import spread_map

    lookup = {
        "2019-01": "2019-01",
        "2019-1": "2019-01",
        "2019-13": None,
        "x": None,
        "y": None,
        "2020-02": "2020-02",
        7: None,
    }
    pd.testing.assert_series_equal(spread_map(values, lookup), values.map(lookup))
    # the old parse_months, mapping every row, as the oracle
    pattern = re.compile(r"^\s*(\d{4})-(\d{1,2})")
    old = {}
    for u in values.dropna().unique():
        m = pattern.match(str(u))
        old[u] = f"{m.group(1)}-{int(m.group(2)):02d}" if m and 1 <= int(m.group(2)) <= 12 else None
    month, bad = clean.parse_months(values)
    pd.testing.assert_series_equal(month, values.map(old))
    pd.testing.assert_series_equal(bad, values.notna() & values.map(old).isna())
