"""Maps and the offline asset pipeline (no browser; see test_browser_maps.py for Chromium).

The map tests run on the real bundled study with stage results built here from the
documented columns (grid and LSOA Gi* from hotspots.units / hotspots.detect.gistar), so they
do not depend on the rank and sites stages; the browser tests use the real run.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import stat
import sys
import tarfile
import textwrap
import warnings
from pathlib import Path

import folium
import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import pytest

from hotspots import columns as C
from hotspots.config import build_section
from hotspots.errors import ConfigError, InputError
from hotspots.present import assets
from hotspots.present.maps import build as maps
from hotspots.present.maps.style import count_text, esc, suppress_counts_in_text

XSS = "<img src=x onerror=alert(1)>"

requires_assets = pytest.mark.skipif(
    bool(assets.problems(deep=False)),
    reason=f"offline map assets not installed; {assets.INSTALL_HINT}",
)


# --------------------------------------------------------------------------------------
# stand-in stage results with the documented columns, from the real study
# --------------------------------------------------------------------------------------


def make_results(study, *, cell_size: float = 1000.0) -> dict:
    """Results as the detect/rank/sites stages document them (values derived from real counts)."""
    from hotspots import units as U
    from hotspots.detect import inference as G

    inc = study.incidents
    grid = U.make_grid(study.area, cell_size=cell_size)
    cnt = U.count_in_units(inc, grid, key="cell_id")
    grid = grid.assign(n=cnt["n"].to_numpy(), harm=cnt["harm"].to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid = G.hotspot_gistar(grid, value="harm", marks=inc["harm"])
        lsoa = G.hotspot_gistar(U.lsoa_units(inc, study.lsoa), value="harm", marks=inc["harm"])
    grid.insert(3, "kde", grid["harm"].to_numpy() / (cell_size / 1000) ** 2)
    order = lsoa["harm"].rank(ascending=False, method="first").astype(int).to_numpy()
    places = study.lsoa[[C.LSOA_CODE, C.LSOA_NAME, C.DISTRICT, "geometry"]].merge(
        pd.DataFrame({C.LSOA_CODE: lsoa[C.LSOA_CODE], "rank": order, "violence": lsoa["harm"].to_numpy()})
    )
    places["score"] = 1 - places["rank"] / len(places)
    places["rank_low"] = np.maximum(1, places["rank"] - 3)
    places["rank_high"] = places["rank"] + 5
    places["p_top_n"] = np.clip(1 - places["rank"] / 40, 0, 1)
    places["tier"] = np.where(places["rank"] <= 20, 1, np.where(places["rank"] <= 90, 2, 3))
    places["reason"] = "Top " + places["rank"].astype(str) + " for harm-weighted violence"
    cols = [
        "lsoa_code",
        "lsoa_name",
        "district",
        "rank",
        "score",
        "rank_low",
        "rank_high",
        "p_top_n",
        "tier",
        "violence",
        "reason",
        "geometry",
    ]
    places = gpd.GeoDataFrame(places.sort_values("rank")[cols], geometry="geometry", crs=C.CRS)
    top = grid.sort_values("harm", ascending=False).head(5)
    clusters = gpd.GeoDataFrame(
        {
            "cluster_id": range(1, 6),
            "rank": range(1, 6),
            "n": top["n"].to_numpy(),
            "harm": top["harm"].to_numpy(),
            "area_km2": 1.0,
            "harm_per_km2": top["harm"].to_numpy(),
        },
        geometry=top.geometry.buffer(200).to_numpy(),
        crs=C.CRS,
    )
    v = study.venues
    nte = gpd.GeoDataFrame(
        {"zone_id": [1], "venues": [80], "n_within": [500], "harm_within": [900.0]},
        geometry=[v.geometry.iloc[:80].union_all().convex_hull.buffer(100)],
        crs=C.CRS,
    )
    pts = inc.drop_duplicates("geometry").head(6)
    ll = gpd.GeoSeries(pts.geometry.to_numpy(), crs=C.CRS).to_crs(4326)
    kits = pd.DataFrame(
        {
            "site_id": [f"loc{i}" for i in range(6)],
            "order": range(1, 7),
            "source": "incident_location",
            "name": pts[C.LOCATION].astype(str).to_numpy(),
            "x": pts.geometry.x.to_numpy(),
            "y": pts.geometry.y.to_numpy(),
            "lon": ll.x.to_numpy(),
            "lat": ll.y.to_numpy(),
            "covered_harm": np.linspace(50, 10, 6),
            "marginal_harm": np.linspace(50, 10, 6),
        }
    )
    kits["cumulative_coverage_pct"] = np.cumsum(kits["covered_harm"]) / 2000 * 100
    top3 = places.head(3)
    focal = top3.geometry.iloc[0].representative_point()
    outreach = pd.DataFrame(
        {
            "zone_id": [1],
            "rank": [1],
            "lsoa_codes": [",".join(top3[C.LSOA_CODE])],
            "youth_harm": [120.0],
            "idaci_rate": [0.31],
            "focal_x": [focal.x],
            "focal_y": [focal.y],
            "reason": ["High youth violence"],
        }
    )
    return {
        "grid": grid,
        "lsoa": lsoa,
        "places": places,
        "clusters": clusters,
        "nte_zones": nte,
        "bleed_kits": kits,
        "outreach": outreach,
    }


@pytest.fixture(scope="module")
def results(study):
    return make_results(study)


def walk(element):
    """Every element of a folium tree."""
    yield element
    for child in element._children.values():
        yield from walk(child)


def layer_names(m: folium.Map) -> list[str]:
    return [e.layer_name for e in walk(m) if isinstance(e, folium.FeatureGroup)]


def geojson_rows(m: folium.Map, layer: str, *, tooltip: bool = False) -> list[dict]:
    """Each feature of a layer as {label: value} as its popup (or tooltip) shows it."""
    for e in walk(m):
        if isinstance(e, folium.FeatureGroup) and e.layer_name == layer:
            rows = []
            for g in walk(e):
                if not isinstance(g, folium.GeoJson):
                    continue
                detail = next(
                    c
                    for c in g._children.values()
                    if isinstance(c, folium.GeoJsonTooltip if tooltip else folium.GeoJsonPopup)
                )
                for f in g.data["features"]:
                    rows.append({a: f["properties"][k] for k, a in zip(detail.fields, detail.aliases, strict=False)})
            return rows
    raise AssertionError(f"no layer {layer!r}")


# --------------------------------------------------------------------------------------
# text safety
# --------------------------------------------------------------------------------------


def test_esc_neutralises_html_and_template_literals():
    s = esc(XSS + "`${alert(2)}`\\u0041</script>")
    assert "<" not in s and ">" not in s and "`" not in s and "$" not in s and "\\" not in s and "/" not in s
    assert s.startswith("&lt;img src=x onerror=alert(1)&gt;")
    assert esc(None) == "" and esc(float("nan")) == ""
    assert "http:" not in esc("see http://example.org") and "//" not in esc("see http://example.org")


def test_count_text_suppresses_small_counts_only():
    assert count_text(3, suppress_below=5) == "&lt;5"
    assert count_text(0, suppress_below=5) == "0"
    assert count_text(5, suppress_below=5) == "5"
    assert count_text(3, suppress_below=None) == "3"


def test_small_counts_in_free_text_are_suppressed():
    text = "Top 49% harm-weighted violence (4 incidents); 3 robberies; 12 incidents; per 1,000 residents (4)"
    assert suppress_counts_in_text(text, below=5) == (
        "Top 49% harm-weighted violence (<5 incidents); <5 robberies; 12 incidents; per 1,000 residents (4)"
    )
    assert suppress_counts_in_text(text, below=None) == text
    assert suppress_counts_in_text("1 incident, 0 incidents, 2.5 incidents", below=5) == (
        "<5 incident, 0 incidents, 2.5 incidents"
    )


# --------------------------------------------------------------------------------------
# config
# --------------------------------------------------------------------------------------


def test_maps_config_defaults_and_errors():
    cfg = build_section(maps.MapsConfig, {}, where="[maps]", base=None)
    assert cfg.audiences == ("board", "outreach", "analyst") and cfg.tiles is None
    with pytest.raises(ConfigError, match=r"\[maps\] key 'audiences' must list some of"):
        build_section(maps.MapsConfig, {"audiences": ["boardroom"]}, where="[maps]", base=None)
    with pytest.raises(ConfigError, match=r"\[maps\] key 'tiles' must be one of"):
        build_section(maps.MapsConfig, {"tiles": "Google"}, where="[maps]", base=None)
    with pytest.raises(ConfigError, match=r"'kde_scheme' must be one of .*quantiles"):
        build_section(maps.MapsConfig, {"kde_scheme": "fisher_jenks"}, where="[maps]", base=None)
    with pytest.raises(ConfigError, match=r"'simplify_m' must be >= 0 metres, got -1.0"):
        build_section(maps.MapsConfig, {"simplify_m": -1}, where="[maps]", base=None)
    with pytest.raises(ConfigError, match=r"'kit_radius_m' must be > 0 metres"):
        build_section(maps.MapsConfig, {"kit_radius_m": 0}, where="[maps]", base=None)


# --------------------------------------------------------------------------------------
# KDE classes
# --------------------------------------------------------------------------------------


def test_classify_kde_matches_mapclassify_and_skips_zero():
    rng = np.random.default_rng(1)
    v = pd.Series(np.r_[np.zeros(50), rng.gamma(1.0, 3.0, 500)])
    cls, bins = maps.classify_kde(v, scheme="quantiles", k=5)
    oracle = mapclassify.Quantiles(v[v > 0].to_numpy(), k=5)
    assert (cls[:50] == -1).all()
    np.testing.assert_array_equal(cls[50:], oracle.yb)
    np.testing.assert_allclose(bins, oracle.bins)
    cls_h, bins_h = maps.classify_kde(v, scheme="head_tail_breaks", k=5)
    assert cls_h.max() == len(bins_h) - 1 and (cls_h[50:] >= 0).all()
    assert maps.classify_kde(pd.Series([0.0, 0.0]), scheme="quantiles", k=5)[1] == []


# --------------------------------------------------------------------------------------
# building the maps
# --------------------------------------------------------------------------------------


def test_audiences_get_their_layers(results, study):
    board = layer_names(maps.build_map("board", results, study))
    outreach = layer_names(maps.build_map("outreach", results, study))
    analyst = layer_names(maps.build_map("analyst", results, study))
    assert {"Priority places (tiers)", "Bleed-control kit sites", "District boundaries"} <= set(board)
    assert not any("Gi*" in n or "venues" in n or "KDE" in n or "clusters" in n for n in board)
    assert {"Youth outreach zones", "Bleed-control kit sites", "NTE venues (2017)"} <= set(outreach)
    assert "Priority places (tiers)" not in outreach
    assert {
        "Priority places (tiers)",
        "KDE surface (harm density)",
        "Gi* hot and cold spots (grid)",
        "Gi* hot and cold spots (LSOA)",
        "Density clusters",
        "NTE zones",
        "NTE venues (2017)",
        "Bleed-control kit sites",
        "Youth outreach zones",
        "Ward boundaries (City)",
        "District boundaries",
    } <= set(analyst)


def test_board_never_shows_incident_points_and_hides_small_counts(results, study):
    m = maps.build_map("board", results, study)
    markers = [e for e in walk(m) if type(e) is folium.Marker]
    assert len(markers) == len(results["bleed_kits"])  # kit sites only
    rows = geojson_rows(m, "Priority places (tiers)")
    n = results["lsoa"].set_index(C.LSOA_CODE)["n"]
    small = n[(n > 0) & (n < 5)]
    assert len(small), "the bundled data has LSOAs with 1-4 incidents"
    code = small.index[0]
    assert next(r for r in rows if r["LSOA"] == code)["Violent incidents"] == "&lt;5"
    big = n[n >= 5].index[0]
    assert next(r for r in rows if r["LSOA"] == big)["Violent incidents"] == f"{int(n[big]):,}"
    analyst = geojson_rows(maps.build_map("analyst", results, study), "Priority places (tiers)")
    assert next(r for r in analyst if r["LSOA"] == code)["Violent incidents"] == str(int(small.iloc[0]))
    assert "violence" in analyst[0]  # component columns on the analyst map only
    reasons = results["places"].set_index(C.LSOA_CODE)["reason"]
    assert next(r for r in rows if r["LSOA"] == reasons.index[0])["Why"] == esc(reasons.iloc[0])
    assert "violence" not in rows[0]


def test_board_suppresses_small_counts_in_reasons(results, study):
    places = results["places"].copy()
    code = places[C.LSOA_CODE].iloc[-1]
    places.loc[places.index[-1], "reason"] = "Top 49% harm-weighted violence (4 incidents)"
    res = dict(results, places=places)
    board = geojson_rows(maps.build_map("board", res, study), "Priority places (tiers)")
    analyst = geojson_rows(maps.build_map("analyst", res, study), "Priority places (tiers)")
    assert next(r for r in board if r["LSOA"] == code)["Why"] == "Top 49% harm-weighted violence (&lt;5 incidents)"
    assert next(r for r in analyst if r["LSOA"] == code)["Why"] == "Top 49% harm-weighted violence (4 incidents)"


def test_tooltips_carry_rank_interval_tier_and_reason(results, study):
    tips = geojson_rows(maps.build_map("board", results, study), "Priority places (tiers)", tooltip=True)
    first = results["places"].iloc[0]
    tip = next(t for t in tips if t["Place"].startswith(esc(first["lsoa_name"])))
    assert list(tip) == ["Place", "Rank", "Tier", "Why"]
    assert tip["Rank"] == f"1 of {len(results['places']):,} (likely 1\u20136)"
    assert tip["Tier"] == "Tier 1" and tip["Why"] == "Top 1 for harm-weighted violence"


def test_data_text_is_escaped_everywhere(results, study):
    venues = study.venues.copy()
    venues.loc[venues.index[0], C.VENUE_NAME] = XSS
    s = dataclasses.replace(study, venues=venues)
    res = dict(results)
    places = results["places"].copy()
    places.loc[places.index[0], "reason"] = XSS
    places.loc[places.index[0], "lsoa_name"] = "`${alert(3)}`"
    res["places"] = places
    for audience in maps.AUDIENCES:
        page = maps.build_map(audience, res, s).get_root().render()
        assert "<img src=x" not in page and "${alert(3)}" not in page
        if audience != "board":  # as escaped text (inside JSON data the & is written \u0026)
            assert (
                "&lt;img src=x onerror=alert(1)&gt;" in page or "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in page
            )


def test_missing_primary_result_or_column_is_a_clear_error(results, study):
    with pytest.raises(InputError, match=r"the board map needs results\['places'\], made by the rank stage"):
        maps.build_map("board", {k: v for k, v in results.items() if k != "places"}, study)
    bad = dict(results, outreach=results["outreach"].drop(columns=["focal_x"]))
    with pytest.raises(InputError, match=r"results\['outreach'\] lacks column\(s\) \['focal_x'\]"):
        maps.build_map("outreach", bad, study)
    with pytest.raises(InputError, match=r"unknown map audience 'press'"):
        maps.build_map("press", results, study)
    with pytest.warns(Warning, match=r"analyst map: no 'clusters' result \(made by the detect stage\)"):
        maps.build_map("analyst", {k: v for k, v in results.items() if k != "clusters"}, study)


def test_units_not_analysed_are_not_drawn(results, study):
    grid = results["grid"].copy()
    grid.loc[grid.index[:50], ["gi_z", "gi_p", "gi_q"]] = np.nan
    grid.loc[grid.index[:50], "hotspot_class"] = "not analysed"
    m = maps.build_map("analyst", {**results, "grid": grid}, study)
    assert "Gi* hot and cold spots (grid)" in layer_names(m)


def test_emerging_layer_draws_only_hot_and_cold_categories(results, study):
    grid = results["grid"].copy()
    grid["emerging_class"] = "not analysed"
    grid.loc[grid.index[:3], "emerging_class"] = "persistent hot spot"
    grid.loc[grid.index[3:5], "emerging_class"] = "no pattern"
    grid.loc[grid.index[5], "emerging_class"] = "sporadic cold spot"
    rows = geojson_rows(maps.build_map("analyst", dict(results, grid=grid), study), "Emerging hot spots", tooltip=True)
    assert sorted(r["Emerging class"] for r in rows) == ["persistent hot spot"] * 3 + ["sporadic cold spot"]
    assert "Emerging hot spots" not in layer_names(maps.build_map("analyst", results, study))


def test_large_grids_are_drawn_as_one_shape_per_class(results, study):
    m = maps.build_map("analyst", results, study, max_cells=10)
    rows = geojson_rows(m, "Gi* hot and cold spots (grid)", tooltip=True)
    classes = results["grid"]["hotspot_class"]
    sig = classes[classes != "not significant"]
    assert sorted(r["Class"] for r in rows) == sorted(sig.unique())
    assert sum(int(r["Cells"].replace(",", "")) for r in rows) == len(sig)


# --------------------------------------------------------------------------------------
# self-contained pages
# --------------------------------------------------------------------------------------


@requires_assets
def test_pages_are_self_contained_and_small(results, study, tmp_path):
    for audience in maps.AUDIENCES:
        path = maps.write_map(maps.build_map(audience, results, study), tmp_path / f"{audience}.html")
        page = path.read_text(encoding="utf-8")
        assert path.stat().st_size < 10e6
        assert not re.search(r"<script[^>]+src=", page) and not re.search(r"<link[^>]+href=", page)
        assert not re.search(r"url\(\s*[\"']?(?:https?:)?//", page)
        assert "L.Icon.Default" in page and "data:font/woff2;base64," in page
        assert 'id="third-party-licences"' in page and "Copyright" in page
        assert "Open Government Licence v3.0" in page and "data period" in page


@requires_assets
def test_unmapped_external_url_is_an_error_at_write_time():
    m = folium.Map(tiles=None)
    m.get_root().header.add_child(folium.JavascriptLink("https://example.org/tracker.js"))
    with pytest.raises(
        assets.AssetError, match=r"1 external URL\(s\) that are not vendored: https://example.org/tracker.js"
    ):
        maps.map_html(m)
    m2 = folium.Map(tiles=None)
    folium.Marker([53, -1], popup=folium.Popup('<img src="http://x.test/p.png">')).add_to(m2)
    with pytest.raises(assets.AssetError, match=r"not vendored: http:"):
        maps.map_html(m2)


@requires_assets
def test_online_tiles_only_when_configured(results, study):
    m = maps.build_map("board", results, study, tiles="OpenStreetMap")
    page = maps.map_html(m, tiles="OpenStreetMap")
    assert "tile.openstreetmap.org" in page
    with pytest.raises(assets.AssetError, match="not vendored"):
        maps.map_html(m)  # the same page without the allowance is refused


# --------------------------------------------------------------------------------------
# asset install: integrity, extraction, idempotence (with a stand-in npm, no network)
# --------------------------------------------------------------------------------------


def _tarball(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _fake_npm(tmp_path: Path, tgz: Path) -> Path:
    """An executable that behaves like `npm pack --json --pack-destination DIR spec` for one tarball."""
    script = tmp_path / "npm"
    script.write_text(
        textwrap.dedent(f"""\
        #!{sys.executable}
        import json, shutil, sys
        args = sys.argv[1:]
        dest = args[args.index("--pack-destination") + 1]
        shutil.copy({str(tgz)!r}, dest)
        print(json.dumps([{{"name": "demo", "version": "1.0.0", "filename": {tgz.name!r}}}]))
        """)
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def _lock(tmp_path: Path, integrity: str) -> Path:
    lock = tmp_path / "lock.json"
    lock.write_text(
        json.dumps(
            {
                "packages": [
                    {
                        "name": "demo",
                        "version": "1.0.0",
                        "integrity": integrity,
                        "license": "MIT",
                        "files": ["dist/*.js"],
                        "licenses": ["LICENSE"],
                    }
                ]
            }
        )
    )
    return lock


def test_install_verifies_extracts_only_wanted_files_and_is_idempotent(tmp_path):
    tgz = _tarball(
        tmp_path / "demo-1.0.0.tgz",
        {
            "dist/demo.js": b"var demo = 1;",
            "dist/demo.js.map": b"{}",
            "src/x.js": b"x",
            "LICENSE": b"MIT demo",
            "../escape.js": b"bad",
        },
    )
    lock = _lock(tmp_path, assets.sri(tgz))
    npm = _fake_npm(tmp_path, tgz)
    dest = tmp_path / "vendor"
    assert assets.install(dest=dest, lock=lock, npm=str(npm)) == {"demo": "installed"}
    files = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert files == ["demo/LICENSE", "demo/dist/demo.js", "installed.json"]
    # second call: nothing fetched (npm that would fail is never called)
    assert assets.install(dest=dest, lock=lock, npm="no-such-npm-here") == {"demo": "present"}
    assert assets.problems(dest=dest, lock=lock) == {}
    (dest / "demo" / "dist" / "demo.js").write_text("tampered")
    assert "file changed since install" in assets.problems(dest=dest, lock=lock)["demo"]


def test_assets_command_line_check_and_install(tmp_path, capsys):
    tgz = _tarball(tmp_path / "demo-1.0.0.tgz", {"dist/demo.js": b"1", "LICENSE": b"MIT"})
    lock, npm, dest = str(_lock(tmp_path, assets.sri(tgz))), str(_fake_npm(tmp_path, tgz)), str(tmp_path / "v")
    assert assets.main(["check", "--dest", dest, "--lock", lock]) == 1
    assert "demo: not installed" in capsys.readouterr().err
    assert assets.main(["install", "--dest", dest, "--lock", lock, "--npm", npm]) == 0
    assert "installed demo" in capsys.readouterr().out
    assert assets.main(["install", "--dest", dest, "--lock", lock, "--npm", "no-such-npm-here"]) == 0
    assert "all 1 packages present" in capsys.readouterr().out
    assert assets.main(["check", "--dest", dest, "--lock", lock]) == 0
    assert assets.main(["install", "--force", "--dest", dest, "--lock", lock, "--npm", "no-such-npm-here"]) == 2
    assert "error: npm was not found" in capsys.readouterr().err


def test_install_refuses_a_tarball_that_fails_its_integrity(tmp_path):
    tgz = _tarball(tmp_path / "demo-1.0.0.tgz", {"dist/demo.js": b"evil", "LICENSE": b"MIT"})
    lock = _lock(tmp_path, "sha512-" + "A" * 86 + "==")
    dest = tmp_path / "vendor"
    with pytest.raises(assets.AssetError, match=r"integrity check failed for demo@1.0.0 .*nothing was extracted"):
        assets.install(dest=dest, lock=lock, npm=str(_fake_npm(tmp_path, tgz)))
    assert not (dest / "demo").exists()


def test_install_without_npm_says_how_to_fix(tmp_path):
    tgz = _tarball(tmp_path / "demo-1.0.0.tgz", {"dist/demo.js": b"1", "LICENSE": b"MIT"})
    with pytest.raises(assets.AssetError, match=r"npm was not found .*install Node.js with npm"):
        assets.install(dest=tmp_path / "v", lock=_lock(tmp_path, assets.sri(tgz)), npm="no-such-npm-here")


def test_lock_manifest_pins_every_package_with_sha512():
    pkgs = assets.read_lock()
    names = {p.name for p in pkgs}
    assert {
        "leaflet",
        "leaflet.markercluster",
        "leaflet.awesome-markers",
        "jquery",
        "bootstrap",
        "@fortawesome/fontawesome-free",
        "d3",
    } <= names
    assert all(p.integrity.startswith("sha512-") and len(p.integrity) == 95 for p in pkgs)
    assert all(pkg in names | {"folium"} for pkg, _ in assets.URL_MAP.values())


def test_bad_lock_manifest_is_named(tmp_path):
    bad = tmp_path / "lock.json"
    bad.write_text(
        json.dumps({"packages": [{"name": "x", "version": "1", "integrity": "md5-abc", "files": [], "licenses": []}]})
    )
    with pytest.raises(assets.AssetError, match=r"package 'x' integrity must be a sha512 value"):
        assets.read_lock(bad)


def test_missing_assets_error_says_how_to_install(tmp_path):
    with pytest.raises(
        assets.AssetError, match=r"offline map assets are not ready .*python -m hotspots.present.assets install"
    ):
        assets.require_installed(dest=tmp_path / "empty")


def test_inline_css_keeps_woff2_only_as_data_uris(tmp_path):
    (tmp_path / "css").mkdir()
    (tmp_path / "webfonts").mkdir()
    (tmp_path / "webfonts" / "f.woff2").write_bytes(b"wOF2")
    (tmp_path / "webfonts" / "f.ttf").write_bytes(b"ttf")
    css = '@font-face{font-family:X;src:url(../webfonts/f.woff2) format("woff2"),url(../webfonts/f.ttf) format("truetype")}'
    out = assets.inline_css(css, tmp_path / "css" / "all.css")
    assert out == '@font-face{font-family:X;src:url("data:font/woff2;base64,d09GMg==") format("woff2")}'
    with pytest.raises(assets.AssetError, match=r"references the external URL 'https://x.test/a.png'"):
        assets.inline_css("a{background:url(https://x.test/a.png)}", tmp_path / "css" / "all.css")


@requires_assets
def test_maps_stage_builds_three_pages_and_the_pipeline_writes_them(results, study, config, tmp_path):
    from hotspots.pipeline import Run, Written, write_outputs
    from hotspots.present.maps.config import MapsConfig

    with pytest.raises(InputError, match=r"the outreach map needs results\['outreach'\], made by the sites stage"):
        maps.build_maps(study, None, None, None, MapsConfig(audiences=["outreach"]))
    res = _stage_results(results)
    m = maps.build_maps(study, *res, config.maps)
    written = Written(tmp_path)
    write_outputs(Run(config=config, study=study, maps=m), "maps", written)
    for audience in maps.AUDIENCES:
        path = tmp_path / "maps" / f"{audience}.html"
        assert path.is_file() and path.stat().st_size < 10e6
        assert f"maps/{audience}.html" in written.outputs
        assert m.summary[audience]["bytes"] == path.stat().st_size
    assert m.auto == {"kit_radius_m": 100.0}


@requires_assets
def test_kit_circles_use_the_sites_radius(results, study):
    from hotspots.present.maps.config import MapsConfig

    det, ranked, sited = _stage_results(results)
    sited60 = dataclasses.replace(sited, radius_m=60.0)
    assert maps.build_maps(study, det, ranked, sited60, MapsConfig(audiences=["board"])).auto == {"kit_radius_m": 60.0}
    over = maps.build_maps(study, det, ranked, sited60, MapsConfig(audiences=["board"], kit_radius_m=150.0))
    assert over.auto == {"kit_radius_m": 150.0}
    assert "150 m coverage circle" in over.pages["board"]


def _stage_results(results):
    """The documented results as the detect, rank and sites stages' result objects."""
    from hotspots.detect.stage import DetectResult
    from hotspots.rank.stage import RankResult
    from hotspots.sites.stage import SitesResult

    det = DetectResult(
        grid=results["grid"],
        lsoa=results["lsoa"],
        clusters=results["clusters"],
        nte_zones=results["nte_zones"],
        emerging=None,
    )
    ranked = RankResult(places=results["places"], districts=pd.DataFrame(), concentration={})
    sited = SitesResult(
        kits=results["bleed_kits"],
        coverage_curve=pd.DataFrame(),
        sensitivity=pd.DataFrame(),
        target={},
        outreach=results["outreach"],
        fixed_sites=None,
        radius_m=100.0,
    )
    return det, ranked, sited
