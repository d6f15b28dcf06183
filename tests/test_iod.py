"""IoD vintages and the IoD2025 File 7 reader (format only: the real header and first five rows)."""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hotspots import columns as C
from hotspots.errors import HotspotsWarning, InputError
from hotspots.io import iod, iod2025
from hotspots.io.config import DeprivationConfig
from hotspots.io.load import read_deprivation
from hotspots.io.tables import read_header
from hotspots.prepare.deprivation import IMD_NC_RANK, IMD_WEIGHTS, combine_domains, idaci_rate, imd_without_crime

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests/fixtures/iod2025_sample/File_7_IoD2025_first_rows.csv"
FILE2_2019 = ROOT / "data/iod2019/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"
FILE6_2019 = ROOT / "data/iod2019/File_6_-_IoD2019_Population_Denominators.csv.gz"
INDICATORS = ROOT / "data/iod2019/humaniverse_imd2019_england_lsoa11_indicators.csv.gz"

# the IoD2019 frame's columns that mean the same in IoD2025 File 7
SHARED = [
    C.LSOA_CODE,
    "iod_lsoa_name",
    "imd_rank",
    "imd_decile",
    C.POPULATION,
    C.CHILDREN_0_15,
    "pop_60_plus",
    "working_age",
    C.CYP_RANK,
    C.CYP_DECILE,
    "adult_skills_rank",
    "geographical_barriers_rank",
    "wider_barriers_rank",
    "indoors_rank",
    "outdoors_rank",
] + [f"{d}_{k}" for d in C.DOMAINS for k in ("rank", "decile")]


@pytest.fixture(scope="module")
def f7():
    return iod2025.read_iod2025_file7(SAMPLE)


def test_sample_header_is_the_real_truncated_one():
    header = read_header(SAMPLE)
    assert len(header) == 56
    assert "Children and Young People Sub-domain Decile (where 1 is most deprived 10% of LSO" in header


def test_detect_vintage():
    assert iod.detect_vintage(read_header(SAMPLE)) is iod.IOD2025
    assert iod.detect_vintage(read_header(FILE2_2019)) is iod.IOD2019
    assert iod.detect_vintage(read_header(INDICATORS)) is iod.IOD2019
    assert iod.IOD2025.label == "IoD2025 (2021 LSOAs, population mid-2022)"
    assert iod.IOD2019.label == "IoD2019 (2011 LSOAs, population mid-2015)"
    assert (iod.IOD2019.n_lsoas, iod.IOD2025.n_lsoas) == (32_844, 33_755)


@pytest.mark.parametrize(
    ("header", "match"),
    [
        (["lsoa", "imd"], r"column 'LSOA code \(2011\)' is missing.*IoD2025 File 7 \(column 'LSOA code \(2021\)'\)"),
        (["LSOA code (2021)", "Total population: mid 2030"], r"population mid-2030; only IoD2025 \(mid-2022\)"),
        (["LSOA code (2021)", "Local Authority District code (2028)"], r"district codes of 2028"),
    ],
)
def test_detect_vintage_errors(header, match):
    with pytest.raises(InputError, match=match):
        iod.detect_vintage(header)


def test_file7_has_the_2019_columns_plus_vintage(f7):
    assert len(f7) == 5
    assert [c for c in SHARED if c not in f7.columns] == []
    assert f7[iod.VINTAGE].tolist() == [2025] * 5 and iod.vintage_of(f7) is iod.IOD2025
    assert f7["cyp_decile"].tolist() == [10, 10, 9, 9, 6]  # matched through the truncated header
    assert f7.loc[0, "imd_rank"] == 26525 and f7.loc[4, "population"] == 1837
    assert f7["imd_rank"].dtype == "int64" and f7["population"].dtype == "int64" and f7["imd_score"].dtype == float
    assert f7["lad_code"].tolist()[:4] == ["E09000001"] * 4
    assert f7["idaci_rate"].tolist() == [0.039, 0.076, 0.25, 0.459, 0.64]  # published as a rate
    assert f7["income_score"].iloc[0] == 0.013 and f7["idaci_rank"].iloc[0] == 33304  # longest prefix wins
    for absent in ("pop_16_59", C.IDACI_NUMERATOR, "income_numerator", "lad19_code"):
        assert absent not in f7.columns


def test_read_deprivation_tells_the_vintage_from_the_file(tmp_path, f7):
    dep = read_deprivation(DeprivationConfig(domains=SAMPLE))
    assert iod.vintage_of(dep) is iod.IOD2025 and dep.equals(f7)
    with pytest.raises(InputError, match=r"is IoD2025 File 7, which carries the population.*remove population"):
        read_deprivation(DeprivationConfig(domains=SAMPLE, population=FILE6_2019))
    with pytest.raises(InputError, match=r"is IoD2019 File 2, which needs its population denominators: add population"):
        read_deprivation(DeprivationConfig(domains=FILE2_2019))


def test_imd_method_reproduces_the_official_2025_scores(f7):
    """Oracle: the published IMD score is sum(w_d / 100 * X(rank_d)) with N = 33,755 and the weights as
    published (summing to 99.9 %). combine_domains used to divide by 99.9 (scores / 0.999): fixed."""
    assert sum(IMD_WEIGHTS.values()) == pytest.approx(99.9)
    res = combine_domains(f7)  # N from the frame's vintage
    np.testing.assert_allclose(res["score"], f7["imd_score"], atol=6e-4)
    assert not np.allclose(res["score"] / 0.999, f7["imd_score"], atol=6e-4)  # the old result was off


def test_imd_without_crime_takes_n_from_the_frame(f7):
    with pytest.warns(HotspotsWarning, match="5 LSOAs given, not all 33,755 in England"):
        nc = imd_without_crime(f7)
    assert nc[IMD_NC_RANK].notna().all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HotspotsWarning)
        with pytest.raises(InputError, match=r"rank 33730 is outside 1\.\.32844"):
            imd_without_crime(f7, n=32_844)  # IoD2019's N rejects 2025 ranks


def test_national_n_and_vintage_of():
    assert iod.national_n(pd.DataFrame({"lsoa_code": ["E01000001"]})) == 32_844  # untagged frames are IoD2019
    assert iod.vintage_of(pd.DataFrame({"iod_vintage": [2025, 2025]})) is iod.IOD2025
    assert iod.vintage_of(pd.DataFrame({"iod_vintage": [2025, np.nan]})) is iod.IOD2025  # LSOAs without a row
    with pytest.raises(InputError, match=r"mixes IoD vintages \[2019, 2025\]"):
        iod.vintage_of(pd.DataFrame({"iod_vintage": [2019, 2025]}))
    with pytest.raises(InputError, match="unknown IoD vintage 2030"):
        iod.vintage_of(pd.DataFrame({"iod_vintage": [2030]}))


def test_idaci_rate_official_or_derived(f7):
    assert idaci_rate(f7).tolist() == f7["idaci_rate"].tolist()  # IoD2025: the published rate
    df = pd.DataFrame({"idaci_numerator": [30.0, None], "children_0_15": [120, 80], "lsoa_code": ["a", "b"]})
    assert idaci_rate(df).tolist()[0] == 0.25 and np.isnan(idaci_rate(df).tolist()[1])
    with pytest.raises(InputError, match=r"no column\(s\) 'idaci_numerator'\. Configure \[deprivation\] indicators"):
        idaci_rate(df.drop(columns="idaci_numerator"))
    assert idaci_rate(df.drop(columns="idaci_numerator"), required=False).isna().all()


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_file7_gzipped_and_bom(tmp_path):
    raw = SAMPLE.read_bytes()
    gz = tmp_path / "f7.csv.gz"
    gz.write_bytes(gzip.compress(raw if raw.startswith(b"\xef\xbb\xbf") else b"\xef\xbb\xbf" + raw))
    assert iod2025.read_iod2025_file7(gz)["lsoa_code"].tolist()[0] == "E01000001"


def test_file7_errors(tmp_path):
    lines = SAMPLE.read_text(encoding="utf-8-sig").splitlines()
    header, rows = lines[0], lines[1:]
    with pytest.raises(InputError, match="is an IoD2019 file"):
        iod2025.read_iod2025_file7(FILE2_2019)
    no_crime = header.replace("Crime Rank (where 1 is most deprived)", "Crime Rnak")
    with pytest.raises(InputError, match=r"column 'Crime Rank' \(or one starting with it\) is missing"):
        iod2025.read_iod2025_file7(_write(tmp_path / "a.csv", "\n".join([no_crime, *rows])))
    bad = rows[0].replace(",26525,", ",n/a,", 1)
    with pytest.raises(InputError, match=r"row 1, column 'imd_rank': 'n/a' is not a number"):
        iod2025.read_iod2025_file7(_write(tmp_path / "b.csv", "\n".join([header, bad])))
    out_of_range = rows[0].replace(",26525,", ",40000,", 1)
    with pytest.raises(InputError, match=r"'imd_rank': 40000 is not a national rank 1\.\.33,755"):
        iod2025.read_iod2025_file7(_write(tmp_path / "c.csv", "\n".join([header, out_of_range])))
    with pytest.raises(InputError, match="LSOA code 'E01000001' appears more than once"):
        iod2025.read_iod2025_file7(_write(tmp_path / "d.csv", "\n".join([header, rows[0], rows[0]])))
    with pytest.raises(InputError, match="not found"):
        iod2025.read_iod2025_file7(tmp_path / "none.csv")
    with pytest.raises(InputError, match="is a folder"):
        iod2025.read_iod2025_file7(tmp_path)
    with pytest.raises(InputError, match="is empty"):
        iod2025.read_iod2025_file7(_write(tmp_path / "e.csv", ""))


def test_match_prefixes_longest_wins():
    m = iod.match_prefixes(
        ["Income Score (rate)", "Income Deprivation Affecting Children Index (IDACI) Score (rate)"],
        {"Income Score": "income_score", "Income Deprivation Affecting Children Index (IDACI) Score": "idaci_rate"},
    )
    assert m == {
        "Income Score (rate)": "income_score",
        "Income Deprivation Affecting Children Index (IDACI) Score (rate)": "idaci_rate",
    }


def test_recode_lsoa():
    lk = pd.DataFrame(
        {"LSOA11CD": ["U", "M1", "M2", "S", "S"], "LSOA21CD": ["U", "M", "M", "S1", "S2"], "CHGIND": list("UMMSS")}
    )
    out = iod2025.recode_lsoa(pd.Series(["U", "M1", "M2", "S", "S1", "Q", None]), lk)
    assert out.tolist()[:6] == ["U", "M", "M", pd.NA, "S1", "Q"]
    assert pd.isna(out.iloc[6])
    with pytest.raises(InputError, match="the lookup has no column 'LSOA21CD'"):
        iod2025.recode_lsoa(pd.Series(["U"]), lk.drop(columns="LSOA21CD"))


def test_no_warning_noise_from_reader():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        iod2025.read_iod2025_file7(SAMPLE)


def test_2021_boundaries_with_iod2025_join_by_code(tmp_path):
    """A 2021 boundary file (LSOA21CD) with IoD2025 File 7: deprivation joins by code (format only, 5 rows)."""
    import geopandas as gpd
    import shapely

    from hotspots.io.config import BoundariesConfig
    from hotspots.io.vector import read_lsoa_boundaries
    from hotspots.prepare.study import join_deprivation

    codes = ["E01000001", "E01000002", "E01000003", "E01000005", "E01000006"]
    polys = [shapely.box(530000 + 200 * i, 181000, 530200 + 200 * i, 181200) for i in range(5)]
    g = gpd.GeoDataFrame(
        {"LSOA21CD": codes, "LSOA21NM": [f"City of London 00{i}A" for i in range(5)]}, geometry=polys, crs=27700
    )
    path = tmp_path / "lsoa21.gpkg"
    g.to_file(path)
    lsoa = read_lsoa_boundaries(BoundariesConfig(lsoa=path, lsoa_code_column="LSOA21CD", lsoa_name_column="LSOA21NM"))
    dep = read_deprivation(DeprivationConfig(domains=SAMPLE))
    caveats: list[str] = []
    out = join_deprivation(lsoa, dep, caveats)
    assert out["imd_rank"].notna().all() and caveats == []
    assert out["district"].tolist() == ["City of London"] * 4 + ["Barking and Dagenham"]  # File 7 LAD 2024 names


def test_ranking_components_use_the_2025_n_and_the_official_idaci(tmp_path, f7):
    """Format-level check of the rank stage's deprivation components on the five real IoD2025 rows."""
    import geopandas as gpd
    import shapely

    from hotspots.prepare.clean import empty_incidents
    from hotspots.rank.columns import CYP_NEED, IDACI_RATE_COL
    from hotspots.rank.components import place_components

    polys = [shapely.box(530000 + 200 * i, 181000, 530200 + 200 * i, 181200) for i in range(5)]
    named = f7.assign(lsoa_name=f7["iod_lsoa_name"], district=f7["lad_name"])
    lsoa = gpd.GeoDataFrame(named, geometry=polys, crs=27700)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HotspotsWarning)  # five LSOAs, not all of England
        comp = place_components(lsoa, empty_incidents(), deprivation=f7)
    np.testing.assert_allclose(comp[CYP_NEED], 100 * (33_755 - f7["cyp_rank"] + 1) / 33_755)
    assert comp[IDACI_RATE_COL].tolist() == f7["idaci_rate"].tolist()


# --- numbers parsed by the CSV reader (issue 15: 0.8 s -> 0.3 s for the England-wide files) --------

FILE2_HEAD = "LSOA code (2011),Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)"


def test_iod_numbers_from_the_reader_equal_the_text_path(tmp_path):
    p = tmp_path / "iod.csv"
    p.write_text(f'{FILE2_HEAD},Total population: mid 2015\nE1,12,"1,296"\nE2,7,800\nE3,3," 2,001 "\n')
    wanted = {
        "LSOA code (2011)": C.LSOA_CODE,
        "Index of Multiple Deprivation (IMD) Rank": "imd_rank",
        "Total population: mid 2015": C.POPULATION,
    }
    df = iod.read_iod_table(p, wanted, [], what="domains")
    assert df["imd_rank"].tolist() == [12, 7, 3] and df["imd_rank"].dtype == np.int64
    assert df[C.POPULATION].tolist() == [1296, 800, 2001]  # thousands separators and spaces, as before
    assert df[C.LSOA_CODE].tolist() == ["E1", "E2", "E3"]


def test_iod_bad_number_is_still_named(tmp_path):
    p = tmp_path / "iod.csv"
    p.write_text(f"{FILE2_HEAD}\nE1,12\nE2,seven\n")
    wanted = {"LSOA code (2011)": C.LSOA_CODE, "Index of Multiple Deprivation (IMD) Rank": "imd_rank"}
    with pytest.raises(InputError, match=r"row 2, column 'imd_rank': 'seven' is not a number"):
        iod.read_iod_table(p, wanted, [], what="domains")


def test_read_table_numbers_keeps_text_columns_text(tmp_path):
    from hotspots.io.tables import read_table

    p = tmp_path / "t.csv"
    p.write_text("code,n\n007,1\n010,2\n")
    df, _ = read_table(p, numbers=["n"])
    assert df["code"].tolist() == ["007", "010"] and df["n"].tolist() == [1, 2]
