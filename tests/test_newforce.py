"""``hotspots init``: the generated config for a force, and the same area as the bundled example."""

from __future__ import annotations

import shutil
import tomllib
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotspots import columns as C
from hotspots.cli import main
from hotspots.config import load_config
from hotspots.errors import InputError
from hotspots.newforce import (
    WALES_OUTREACH_WEIGHTS,
    WALES_RANK_WEIGHTS,
    BundledData,
    format_force_list,
    render_config,
    write_config,
)
from hotspots.prepare.study import load_study

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CONFIG = ROOT / "data" / "nottinghamshire.toml"
MONTH = ROOT / "data/crime/police_uk/2019-09/2019-09-nottinghamshire-street.csv.gz"


pytestmark = pytest.mark.usefixtures("restore_cli_globals")


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def _with_month(cfg_dir: Path) -> None:
    """What `hotspots fetch` writes for 2019-09 (the bundled month, in the archive layout)."""
    dest = cfg_dir / "police_uk" / "2019-09"
    dest.mkdir(parents=True)
    shutil.copy(MONTH, dest / MONTH.name)


def test_nottinghamshire_config_is_the_bundled_area(tmp_path):
    out = write_config("nottinghamshire", tmp_path / "notts" / "notts.toml")
    text = out.read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    assert raw["study"]["force"] == "nottinghamshire"
    b = raw["boundaries"]
    assert b["filter_column"] == "LAD19CD" and len(b["filter_values"]) == 8
    assert "679 LSOAs" in text and '"E06000018",  # Nottingham (182 LSOAs)' in text
    for rel in [b["lsoa"], *raw["deprivation"].values(), raw["venues"]["path"]]:
        assert (out.parent / rel).resolve().is_file()  # relative to the config, or absolute when far away
    assert raw["crime"][0]["path"] == "police_uk/*/*-nottinghamshire-street.csv*"
    assert raw["venues"]["clip_to_area"] is True
    # the generated config and the bundled example describe the same 679 LSOAs
    _with_month(out.parent)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        generated = load_study(load_config(out))
        bundled = load_study(load_config(BUNDLED_CONFIG))
    assert len(generated.lsoa) == len(bundled.lsoa) == 679
    assert set(generated.lsoa[C.LSOA_CODE]) == set(bundled.lsoa[C.LSOA_CODE])
    g = generated.lsoa.set_index(C.LSOA_CODE).sort_index()
    b2 = bundled.lsoa.set_index(C.LSOA_CODE).sort_index()
    assert g.geometry.geom_equals_exact(b2.geometry, tolerance=1e-6).all()
    assert (g["imd_rank"] == b2["imd_rank"]).all() and (g[C.CYP_RANK] == b2[C.CYP_RANK]).all()
    assert g[C.IDACI_NUMERATOR].isna().sum() == 93
    # the same police.uk incidents as the bundled config's police_uk source (measured: 3,163)
    assert len(generated.incidents) == 3_163
    same = bundled.incidents[bundled.incidents[C.SOURCE] == "police_uk"]
    assert sorted(generated.incidents[C.INCIDENT_ID]) == sorted(same[C.INCIDENT_ID])
    # the UK venue list clipped to the area (884 in the bundled area-only list)
    assert generated.venues is not None and len(generated.venues) == 912


def test_generated_config_checks_and_its_header_says_the_next_steps(tmp_path):
    out = write_config("Nottinghamshire Police", tmp_path / "n.toml")
    text = out.read_text()
    assert "hotspots fetch --config" in text and "hotspots run   --config" in text
    _with_month(tmp_path)
    r = invoke("check", "--config", str(out))
    assert r.exit_code == 0, r.output
    assert "673 of 679 area LSOAs have police.uk rows" in r.stdout


def test_welsh_force_has_no_english_deprivation(tmp_path):
    out = write_config("South Wales Police", tmp_path / "sw.toml")
    text = out.read_text()
    raw = tomllib.loads(text)
    assert "deprivation" not in raw
    assert "NO\n# [deprivation] section" in text and "Welsh Index of Multiple Deprivation" in text
    assert "rank" not in raw  # the axes ranking needs no weights; the need axis is empty without the index
    assert "need axis is empty" in text
    assert raw["outreach"]["weights"] == WALES_OUTREACH_WEIGHTS
    assert not {"deprivation", "idaci", "cyp", "harm_rate"} & set(WALES_RANK_WEIGHTS)
    cfg = load_config(out)
    assert cfg.deprivation is None and cfg.rank.method == "axes"
    assert cfg.study.force == "south-wales" and len(cfg.boundaries.filter_values or []) == 7


def test_english_force_config_round_trips_through_the_reader(tmp_path):
    cfg = load_config(write_config("west-yorkshire", tmp_path / "wy.toml"))
    assert cfg.deprivation is not None and cfg.deprivation.subdomains is not None
    assert cfg.deprivation.subdomains.name.endswith("england_lsoa11_subdomains.csv.gz")
    assert cfg.venues is not None and cfg.venues.clip_to_area
    assert [s.name for s in cfg.crime] == ["police_uk"] and cfg.boundaries.filter_column == "LAD19CD"


def test_render_errors(tmp_path):
    with pytest.raises(InputError, match=r"unknown police force 'Yorks'"):
        render_config("Yorks", out=tmp_path / "x.toml")
    with pytest.raises(InputError, match=r"bundled data file for 'lsoa_boundaries' not found"):
        render_config("gwent", out=tmp_path / "x.toml", data=BundledData.in_folder(tmp_path / "none"))
    write_config("gwent", tmp_path / "g.toml")
    with pytest.raises(InputError, match=r"already exists; choose another name, or pass --overwrite"):
        write_config("gwent", tmp_path / "g.toml")
    write_config("gwent", tmp_path / "g.toml", overwrite=True)
    with pytest.raises(InputError, match=r"is a folder; give the config file to write"):
        write_config("gwent", tmp_path)


def test_force_list():
    lines = format_force_list().splitlines()
    assert len(lines) == 44 and lines[0].startswith("force id")


# --- the CLI ----------------------------------------------------------------------------


def test_init_list():
    r = invoke("init", "--list")
    assert r.exit_code == 0 and len(r.output.splitlines()) == 44


def test_init_writes_and_says_next(tmp_path):
    out = tmp_path / "wy.toml"
    r = invoke("init", "--force", "west yorkshire", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[0] == f"wrote {out} for West Yorkshire Police (west-yorkshire)."
    assert f"next: hotspots fetch --config {out} --from YYYY-MM --to YYYY-MM" in r.output
    assert tomllib.loads(out.read_text())["study"]["force"] == "west-yorkshire"


def test_init_welsh_note(tmp_path):
    r = invoke("init", "--force", "gwent", "--out", str(tmp_path / "g.toml"))
    assert r.exit_code == 0 and "note: a Welsh force: no English deprivation" in r.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--force", "Yorks", "--out", "x.toml"], "error: unknown police force 'Yorks'."),
        (
            ["--force", "nottinghamshire", "--out", "x.toml", "--data", "/nonexistent"],
            "error: bundled data file for 'lsoa_boundaries' not found: "
            "/nonexistent/boundaries/lsoa2011_bsc_ew.fgb.zip.",
        ),
    ],
)
def test_init_errors_are_one_line_exit_2(tmp_path, args, message):
    args = [str(tmp_path / a) if a == "x.toml" else a for a in args]
    r = invoke("init", *args)
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message)


def test_init_needs_force_and_out():
    r = invoke("init")
    assert r.exit_code == 2 and "give --force NAME and --out FILE.toml (or --list)" in r.output


def test_paths_are_relative_near_the_data_and_absolute_far_from_it(tmp_path):
    from hotspots.newforce import DATA_DIR

    near = DATA_DIR.parent / "outputs" / "test_newforce_tmp" / "n.toml"
    try:
        raw = tomllib.loads(render_config("gwent", out=near))
        assert raw["boundaries"]["lsoa"] == "../../data/boundaries/lsoa2011_bsc_ew.fgb.zip"
    finally:
        shutil.rmtree(near.parent, ignore_errors=True)
    far = tomllib.loads(render_config("gwent", out=tmp_path / "a" / "b" / "c" / "g.toml"))
    assert Path(far["boundaries"]["lsoa"]).is_absolute()


def test_a_force_without_deprivation_runs_every_stage_and_says_so(tmp_path):
    """The Welsh configuration (no [deprivation]; weights without the English index), on the example's data."""
    from hotspots import pipeline
    from hotspots.config import config_from_dict

    raw = {
        "study": {"name": "No-deprivation test", "force": "gwent"},
        "boundaries": {"lsoa": str(ROOT / "data/boundaries/lsoa2011_bsc_nottinghamshire.gpkg")},
        "crime": [{"name": "police_uk", "path": str(MONTH)}],
        "venues": {"path": str(ROOT / "data/nte/open_pubs_2017-08_nottinghamshire.csv.gz"), "snapshot": "2017-08"},
        "outreach": {"weights": WALES_OUTREACH_WEIGHTS},
    }
    cfg = config_from_dict(raw, path=tmp_path / "c.toml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = pipeline.run(cfg, tmp_path / "run")
    html = (rc.out / "report.html").read_text(encoding="utf-8")
    assert "No deprivation data: places are ranked and outreach zones scored without deprivation" in html
    assert "This force is in Wales: the English Indices of Deprivation cover England only" in html
    assert "English Indices of Deprivation 2019" not in html and "IoD2019 mid-2015" not in html
    assert "No population is configured (no deprivation data), so there are no rates per resident." in html
    manifest = rc.run.detect.summary if rc.run.detect is not None else {}
    assert manifest.get("lisa", "").startswith("not analysed: the LSOAs have no population")
    for name in ("board", "outreach", "analyst"):
        assert (rc.out / "maps" / f"{name}.html").stat().st_size > 0
