"""Config: the bundled file, relative paths, and every config error pinned with its message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hotspots import config as cfgmod
from hotspots.config import load_config
from hotspots.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
LSOA = DATA / "boundaries" / "lsoa2011_bsc_nottinghamshire.gpkg"
POLICE = DATA / "crime" / "police_uk"

MINIMAL = f'''
[boundaries]
lsoa = "{LSOA}"

[[crime]]
name = "police_uk"
path = "{POLICE}"
'''


def write(tmp_path: Path, text: str, name: str = "c.toml") -> Path:
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


# --- the bundled config ---------------------------------------------------------------


def test_bundled_config_resolves_every_path(config):
    assert config.path == (DATA / "nottinghamshire.toml").resolve()
    assert [s.name for s in config.crime] == [
        "police_uk",
        "city_violence_2020",
        "city_robbery_2020",
        "county_weapons_2020",
        "city_robbery_2022",
    ]
    for p in (
        config.boundaries.lsoa,
        config.boundaries.districts,
        config.boundaries.wards,
        config.deprivation.domains,
        config.deprivation.population,
        config.deprivation.subdomains,
        config.deprivation.indicators,
        config.venues.path,
    ):
        assert p.is_absolute() and p.exists(), p
    assert config.boundaries.nearest_tolerance_m == 250.0
    assert config.venues.snapshot == "2017-08"
    # crime paths stay as written (they may be globs) and resolve against the config's folder
    assert all(s.base == DATA for s in config.crime)
    assert config.crime[1].columns.x == "longitude" and config.crime[1].crs == "EPSG:4326"


def test_default_config_is_the_bundled_one():
    assert load_config(None).path == (DATA / "nottinghamshire.toml").resolve()


def test_to_dict_is_json_and_complete(config):
    d = json.loads(json.dumps(config.to_dict()))
    assert d["boundaries"]["lsoa"] == str(config.boundaries.lsoa)
    assert d["crime"][0]["name"] == "police_uk" and "base" not in d["crime"][0]
    assert d["scope"] == {"crime_types": {}, "offence_codes": {}, "harm": {}}


def test_defaults_when_optional_sections_absent(tmp_path):
    c = load_config(write(tmp_path, MINIMAL))
    assert c.study.name == "Study area" and c.study.start is None and c.study.end is None
    assert c.deprivation is None and c.venues is None
    assert c.boundaries.lsoa_code_column == "LSOA11CD"
    assert c.crime[0].format == "police_uk" and c.crime[0].crs == "EPSG:4326"


# --- paths are relative to the config file ---------------------------------------------


def test_relative_paths_resolve_against_the_config_file_not_cwd(tmp_path, monkeypatch):
    proj = tmp_path / "project" / "configs"
    rel_lsoa = Path("..") / "boundaries" / "lsoa.gpkg"
    (tmp_path / "project" / "boundaries").mkdir(parents=True)
    (tmp_path / "project" / "boundaries" / "lsoa.gpkg").write_bytes(LSOA.read_bytes())
    p = write(proj, f'[boundaries]\nlsoa = "{rel_lsoa.as_posix()}"\n[[crime]]\nname = "x"\npath = "crime/*.csv"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    c = load_config(p)
    assert c.boundaries.lsoa.resolve() == (tmp_path / "project" / "boundaries" / "lsoa.gpkg").resolve()
    assert c.crime[0].base == proj.resolve()
    from hotspots.io.load import find_crime_files

    (proj / "crime").mkdir()
    (proj / "crime" / "a.csv").write_text("x\n1\n")
    assert find_crime_files(c.crime[0]) == [proj.resolve() / "crime" / "a.csv"]


def test_relative_config_path_argument(tmp_path, monkeypatch):
    write(tmp_path / "sub", MINIMAL)
    monkeypatch.chdir(tmp_path)
    assert load_config(Path("sub/c.toml")).path == (tmp_path / "sub" / "c.toml").resolve()


# --- errors, each pinned --------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            '[study]\nnmae = "x"\n',
            r"unknown key 'nmae' in \[study\]\. Did you mean 'name'\? Valid keys: city_districts, end, force, "
            r"max_outside_share, name, sources, start\.",
        ),
        (
            "[boundary]\n",
            r"unknown key 'boundary' in .*c\.toml \(top-level section\)\. Did you mean 'boundaries'\? "
            r"Valid keys: boundaries, change, crime, deprivation, ",
        ),
        (
            '[venues]\npath = "nope.csv"\nsnapshots = "2017"\n',
            r"unknown key 'snapshots' in \[venues\]\. Did you mean 'snapshot'\? Valid keys: clip_to_area, columns, "
            r"crs, encoding, format, path, snapshot\.",
        ),
        (
            "[scope]\ncrime_type = {}\n",
            r"unknown key 'crime_type' in \[scope\]\. Did you mean 'crime_types'\? "
            r"Valid keys: crime_types, harm, offence_codes\.",
        ),
    ],
)
def test_unknown_key_names_it_and_lists_valid_keys(tmp_path, extra, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, MINIMAL + extra))


def test_unknown_key_in_crime_entry_and_its_columns(tmp_path):
    text = MINIMAL.replace('path = "', 'pth = "x"\npath = "')
    with pytest.raises(
        ConfigError,
        match=r"unknown key 'pth' in \[\[crime\]\] entry 1 \('police_uk'\)\. "
        r"Did you mean 'path'\? Valid keys: columns, crime_type, crs, encoding, format, "
        r"name, path\.",
    ):
        load_config(write(tmp_path, text))
    text = MINIMAL + 'format = "points"\ncrime_type = "Robbery"\ncolumns = { lon = "longitude" }\n'
    with pytest.raises(
        ConfigError,
        match=r"unknown key 'lon' in \[\[crime\]\] entry 1 \('police_uk'\) key "
        r"'columns'\. .*Valid keys: address, crime_type, date, id, ",
    ):
        load_config(write(tmp_path, text))


def test_missing_input_file_names_key_and_resolved_path(tmp_path):
    text = MINIMAL.replace(str(LSOA), "../boundaries/nope.gpkg")
    expected = (tmp_path.parent / "boundaries" / "nope.gpkg").as_posix()
    with pytest.raises(
        ConfigError,
        match=rf"c\.toml: \[boundaries\] key 'lsoa': file not found: {expected}\. "
        r"Paths are relative to the config file\.",
    ):
        load_config(write(tmp_path, text))
    with pytest.raises(ConfigError, match=r"\[venues\] key 'path': file not found: .*missing\.csv\.gz"):
        load_config(write(tmp_path, MINIMAL + '[venues]\npath = "missing.csv.gz"\n'))
    with pytest.raises(ConfigError, match=r"\[deprivation\] key 'population': file not found"):
        load_config(write(tmp_path, MINIMAL + f'[deprivation]\ndomains = "{LSOA}"\npopulation = "p.csv"\n'))


def test_missing_config_file_and_folder(tmp_path):
    with pytest.raises(ConfigError, match=r"config file not found: .*nope\.toml\. Pass --config FILE"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match=r"is a folder; pass the TOML file itself"):
        load_config(tmp_path)


def test_invalid_toml_and_encoding(tmp_path):
    with pytest.raises(ConfigError, match=r"c\.toml is not valid TOML: "):
        load_config(write(tmp_path, MINIMAL + "[study\n"))
    p = tmp_path / "latin.toml"
    p.write_bytes((MINIMAL + '[study]\nname = "Caf\xe9"\n').encode("cp1252"))
    with pytest.raises(ConfigError, match=r"latin\.toml is not UTF-8 text: .*Save the config as UTF-8"):
        load_config(p)


def test_bom_in_config_is_fine(tmp_path):
    p = tmp_path / "bom.toml"
    p.write_bytes(("\ufeff" + MINIMAL).encode("utf-8"))
    assert load_config(p).crime[0].name == "police_uk"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[crime]]\nname = "x"\npath = "y"\n', r"has no \[boundaries\] section; it is required"),
        (f'[boundaries]\nlsoa = "{LSOA}"\n', r"has no \[crime\] section; it is required"),
        (f'crime = []\n[boundaries]\nlsoa = "{LSOA}"\n', r"\[\[crime\]\] lists no sources; add at least one"),
        (
            '[boundaries]\nlsoa_code_column = "X"\n[[crime]]\nname = "x"\npath = "y"\n',
            r"\[boundaries\] is missing the required key 'lsoa'\.",
        ),
        (
            MINIMAL.replace('name = "police_uk"\n', ""),
            r"\[\[crime\]\] entry 1 \('unnamed'\) is missing the "
            r"required key 'name'\.",
        ),
    ],
)
def test_missing_sections_and_keys(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[study]\nstart = "2020-13"\n', r"\[study\] key 'start' must be a month written YYYY-MM, got '2020-13'\."),
        ('[study]\nstart = "2020-06"\nend = "2020-01"\n', r"\[study\] start '2020-06' is after end '2020-01'\."),
        ("[study]\nname = 3\n", r"\[study\] key 'name' must be a string, got 3\."),
    ],
)
def test_bad_values(tmp_path, extra, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, MINIMAL + extra))


def test_bad_values_in_boundaries_and_crime(tmp_path):
    text = MINIMAL.replace("[[crime]]", 'nearest_tolerance_m = "far"\n[[crime]]')
    with pytest.raises(ConfigError, match=r"\[boundaries\] key 'nearest_tolerance_m' must be a number, got 'far'"):
        load_config(write(tmp_path, text))
    text = MINIMAL.replace("[[crime]]", "nearest_tolerance_m = -5\n[[crime]]")
    with pytest.raises(ConfigError, match=r"'nearest_tolerance_m' must be >= 0 metres"):
        load_config(write(tmp_path, text))
    with pytest.raises(ConfigError, match=r"key 'format' must be one of \['police_uk', 'points'\], got 'xlsx'"):
        load_config(write(tmp_path, MINIMAL + 'format = "xlsx"\n'))
    with pytest.raises(ConfigError, match=r"a 'points' file needs either columns\.crime_type .* or crime_type"):
        load_config(write(tmp_path, MINIMAL + 'format = "points"\n'))
    twice = MINIMAL + f'\n[[crime]]\nname = "police_uk"\npath = "{POLICE}"\n'
    with pytest.raises(ConfigError, match=r"\[\[crime\]\] names must be unique; repeated: police_uk\."):
        load_config(write(tmp_path, twice))


def test_scope_overrides_are_validated(tmp_path):
    with pytest.raises(
        ConfigError,
        match=r"\[scope\.crime_types\] 'Drugs' maps to unknown category 'drugs_suply'\. "
        r"Did you mean 'drugs_supply_proxy'\? Valid categories: abh, ",
    ):
        load_config(write(tmp_path, MINIMAL + '[scope]\ncrime_types = { "Drugs" = "drugs_suply" }\n'))
    with pytest.raises(ConfigError, match=r"\[scope\.harm\] unknown category 'robery'\. Did you mean 'robbery'\?"):
        load_config(write(tmp_path, MINIMAL + "[scope]\nharm = { robery = 2.0 }\n"))
    with pytest.raises(ConfigError, match=r"\[scope\.harm\] 'robbery' must be >= 0, got -1\.0\."):
        load_config(write(tmp_path, MINIMAL + "[scope]\nharm = { robbery = -1 }\n"))
    c = load_config(
        write(
            tmp_path,
            MINIMAL + '[scope]\ncrime_types = { "Drugs" = "drugs_supply_proxy" }\n'
            'offence_codes = { "8L" = "abh" }\nharm = { robbery = 6 }\n',
        )
    )
    assert c.scope.crime_types == {"Drugs": "drugs_supply_proxy"}
    assert c.scope.offence_codes == {"8L": "abh"} and c.scope.harm == {"robbery": 6.0}


def test_config_has_one_typed_field_per_section(tmp_path):
    """Every section of the file is a typed field of Config, built once with its defaults when absent."""
    import dataclasses
    import typing

    hints = typing.get_type_hints(cfgmod.Config)
    for name, cls in cfgmod.SECTIONS.items():
        want = tuple[cls, ...] if name in ("crime", "intervention") else cls
        assert hints[name] in (want, want | None), (name, hints[name])
    c = load_config(write(tmp_path, MINIMAL))
    assert c.detect == cfgmod.DetectConfig() and c.maps == cfgmod.MapsConfig()
    assert {f.name for f in dataclasses.fields(c)} == {"path", *cfgmod.SECTIONS, "raw"}


def test_study_sources_must_name_crime_sources(tmp_path):
    text = MINIMAL + '\n[study]\nsources = ["police_ukk"]\n'
    with pytest.raises(
        ConfigError,
        match=r"\[study\] key 'sources' names unknown source\(s\) 'police_ukk'\. "
        r"Did you mean 'police_uk'\? Valid \[\[crime\]\] names: police_uk\.",
    ):
        load_config(write(tmp_path, text))


def test_study_sources_select_the_place_analysis_incidents(study):
    assert list(study.config.study.sources) == ["police_uk", "county_weapons_2020"]
    assert set(study.analysis_incidents["source"]) == {"police_uk", "county_weapons_2020"}
    assert len(study.analysis_incidents) == 4200 and len(study.incidents) == 18581
    assert study.period == "2019-09 to 2022-12"
    assert study.analysis_period == "2019-09 to 2020-12 (police_uk, county_weapons_2020)"
