"""The Board report: content of the rendered HTML, figures, escaping, degrading honestly.

Most tests build the report from the real bundled study with stage results made here
in code (documented columns; numbers known to the test), so they check the report
alone and run in seconds. ``test_report_stage_on_real_run`` uses the real stages.
"""

from __future__ import annotations

import base64
import dataclasses
import html as html_lib
import re
from dataclasses import replace
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from hotspots import columns as C
from hotspots.errors import ConfigError, InputError
from hotspots.present.report import build as R

XSS_PLACE = "<script>alert('place')</script>"
XSS_VENUE = "<img src=x onerror=alert(1)>"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def make_results(study, *, n_kits: int = 8) -> dict:
    """Stage results with the documented columns, derived from the real incidents."""
    counts = R.lsoa_counts(study.incidents, study.lsoa)
    order = np.lexsort((counts[C.LSOA_CODE].to_numpy(), -counts[C.HARM].to_numpy()))
    p = counts.iloc[order].reset_index(drop=True)
    n = len(p)
    rank = np.arange(1, n + 1)
    places = pd.DataFrame(
        {
            C.LSOA_CODE: p[C.LSOA_CODE],
            C.LSOA_NAME: p[C.LSOA_NAME],
            C.DISTRICT: p[C.DISTRICT],
            "rank": rank,
            "score": np.linspace(1, 0, n),
            "rank_low": np.maximum(1, rank - 3),
            "rank_high": np.minimum(n, rank + 5),
            "p_top_n": np.clip(1 - rank / 40, 0, 1),
            "tier": np.where(rank <= 34, "Tier 1", np.where(rank <= 102, "Tier 2", "Tier 3")),
            "reason": [f"Harm {h:.0f}; {k} incidents" for h, k in zip(p[C.HARM], p["n"], strict=False)],
        }
    )
    places.loc[1, C.LSOA_NAME] = XSS_PLACE
    places.attrs["rank"] = {"top_n": 20}
    kits = pd.DataFrame(
        {
            "site_id": [f"k{i}" for i in range(n_kits)],
            "order": np.arange(1, n_kits + 1),
            "source": ["venue"] * n_kits,
            "name": [XSS_VENUE] + [f"Venue {i}" for i in range(1, n_kits)],
            "x": 457000.0,
            "y": 340000.0,
            "lon": -1.15,
            "lat": 52.95,
            "covered_harm": np.linspace(100, 20, n_kits),
            "marginal_harm": np.linspace(100, 20, n_kits),
            "cumulative_coverage_pct": np.cumsum(np.linspace(5, 1, n_kits)),
        }
    )
    curve = pd.DataFrame(
        {
            "kits": kits["order"],
            "covered_harm": kits["covered_harm"].cumsum(),
            "coverage_pct": kits["cumulative_coverage_pct"],
        }
    )
    emerging = pd.DataFrame(
        {
            "cell_id": np.arange(10),
            "emerging_class": ["new hot spot"] * 2 + ["persistent hot spot"] * 3 + ["no pattern"] * 5,
        }
    )
    lsoa = pd.DataFrame(
        {
            C.LSOA_CODE: places[C.LSOA_CODE],
            "hotspot_class": ["hot 99%"] * 10 + ["hot 95%"] * 5 + ["not significant"] * (n - 16) + ["cold 90%"],
        }
    )
    return {"places": places, "bleed_kits": kits, "coverage_curve": curve, "emerging": emerging, "lsoa": lsoa}


SITES_EXTRA = {
    "sites": {
        "radius_sensitivity": [{"radius_m": 60.0, "coverage_pct": 6.2}, {"radius_m": 200.0, "coverage_pct": 14.7}],
        "kits_for_target": {"target_pct": 50.0, "radius_m": 100.0, "kits": 243},
    }
}


@pytest.fixture(scope="module")
def results(study):
    return make_results(study)


@pytest.fixture(scope="module")
def full(study, results):
    return R.build_report(
        study, results, auto={"detect": {"cell_size": 100.0, "bandwidth": 312.5}}, radius=100.0, extra=SITES_EXTRA
    )


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> _Collect:
    p = _Collect()
    p.feed(html)
    return p


def table_rows(html: str, table_id: str) -> list[list[str]]:
    """Cell texts of each body row of the table with ``id=table_id``."""
    m = re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.S)
    assert m, f"table {table_id} missing"
    body = m.group(1).split("<tbody>")[1]
    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
        rows.append([html_lib.unescape(re.sub(r"<[^>]+>", " ", c)).strip() for c in cells])
    return rows


# --------------------------------------------------------------------------------------
# Formatting and tables
# --------------------------------------------------------------------------------------


def test_fmt_count_masks_small_counts():
    assert [R.fmt_count(v) for v in (0, 1, 4, 5, 12345)] == ["<5", "<5", "<5", "5", "12,345"]
    assert R.fmt_count(2, small=3) == "<3"
    assert R.fmt_count(float("nan")) == "n/a"


def test_top_share_and_curve():
    sh, k = R.top_share([10, 0, 0, 0, 0, 0, 0, 0, 0, 10], 0.1)
    assert (sh, k) == (0.5, 1)
    sh, k = R.top_share(np.arange(100), 0.05)  # top 5 of 0..99: 95..99
    assert k == 5 and sh == pytest.approx(sum(range(95, 100)) / sum(range(100)))


def test_monthly_counts_conserve_incidents(study):
    m = R.monthly_counts(study.incidents)
    assert list(m.columns) == R.MONTHLY_COLUMNS
    assert m["n"].sum() == len(study.incidents)
    assert m[C.HARM].sum() == pytest.approx(study.incidents[C.HARM].sum())
    v = m[(m[C.SOURCE] == "city_violence_2020")]
    assert v[C.MONTH].tolist() == [f"2020-{i:02d}" for i in range(1, 13)]
    assert v["n"].tolist()[:3] == [1262, 1240, 1145]  # PROVENANCE.md monthly counts


def test_lsoa_counts_and_district_summary(study, results):
    counts = R.lsoa_counts(study.incidents, study.lsoa)
    assert list(counts.columns) == R.LSOA_COUNT_COLUMNS
    assert len(counts) == len(study.lsoa) == 679
    assert counts["n"].sum() == study.incidents[C.LSOA_CODE].isin(study.lsoa[C.LSOA_CODE]).sum()
    d = R.district_summary(counts, places=results["places"], top_n=20, first=study.city_districts)
    assert list(d.columns) == R.DISTRICT_COLUMNS
    assert d[C.DISTRICT].iloc[0] == "Nottingham"  # [study] city_districts first, then alphabetical
    assert d[C.DISTRICT].iloc[1:].tolist() == sorted(d[C.DISTRICT].iloc[1:])
    assert len(d) == 8 and d["lsoas"].sum() == 679
    assert d["n"].sum() == counts["n"].sum()
    assert d["top_n_places"].sum() == 20
    assert d["tier1_places"].sum() == 34
    city = d.iloc[0]
    assert city["rate_per_1000"] == pytest.approx(1000 * city["n"] / city[C.POPULATION])
    # the City holds the 2020 City-only sources, so its rate is far above every county district
    assert city["rate_per_1000"] > 3 * d["rate_per_1000"].iloc[1:].max()
    assert ((d["gini"] >= 0) & (d["gini"] <= 1)).all()


def test_missing_columns_named(study):
    with pytest.raises(InputError, match=r"the places frame lacks column\(s\) 'rank_low', 'rank_high'"):
        R.top_places_figure(pd.DataFrame({"rank": [1]}))
    bad = make_results(study)
    bad["places"] = bad["places"].drop(columns=["reason"])
    with pytest.raises(InputError, match=r"results\['places'\] lacks column\(s\) 'reason'"):
        R.build_report(study, bad)


def test_report_config_validates():
    with pytest.raises(ConfigError, match=r"\[report\] key 'top' must be at least 1, got 0"):
        R.ReportConfig(top=0)
    with pytest.raises(ConfigError, match=r"\[report\] key 'dpi' must be between 100 and 600, got 72"):
        R.ReportConfig(dpi=72)
    with pytest.raises(ConfigError, match=r"\[report\] key 'small_count' must be >= 0"):
        R.ReportConfig(small_count=-1)


# --------------------------------------------------------------------------------------
# The rendered report
# --------------------------------------------------------------------------------------


def test_sections_present(full):
    html = full.html
    for sid in (
        "headline",
        "top-places",
        "districts",
        "concentration",
        "hotspots",
        "trend",
        "emerging",
        "bleed-kits",
        "methods",
        "caveats",
        "attribution",
    ):
        assert f'<section id="{sid}">' in html, sid
    assert "no monthly data" not in html.lower()
    assert set(full.figures) == set(R.FIGURE_FILES)


def test_headline_numbers_match_frames(study, results, full):
    html = full.html
    inc = study.incidents
    assert f'{len(inc):,}</span><span class="label">incidents in scope' in html
    assert study.period in html
    assert '34</span><span class="label">places (LSOAs) in Tier 1' in html
    fw = ["police_uk", "county_weapons_2020"]
    assert R.force_wide_sources(inc, study.lsoa) == fw
    counts = R.lsoa_counts(inc[inc[C.SOURCE].isin(fw)], study.lsoa)["n"].to_numpy()
    c = np.sort(counts)[::-1]
    k = int(np.ceil(0.05 * len(c)))
    share = c[:k].sum() / c.sum()
    assert k == 34 and full.summary["top5_share"] == pytest.approx(share)
    assert f"{100 * share:.0f} %</span>" in html
    assert f"({k} LSOAs; force-wide sources)" in html
    assert "Like for like: these figures use only the sources that cover every district (police_uk, " in html
    last = results["bleed_kits"]["cumulative_coverage_pct"].iloc[-1]
    assert f"covering {last:.1f} % of harm" in html
    rows = table_rows(html, "scope-table")
    by_scope = inc.groupby(C.SCOPE).size()
    assert {r[0]: r[2] for r in rows} == {k: f"{v:,}" for k, v in by_scope.items()}
    src = table_rows(html, "sources-table")
    assert [r[0] for r in src] == study.coverage["source"].tolist()
    assert src[1][1] == "2020-01 to 2020-12"


def test_top_places_table(study, results, full):
    rows = table_rows(full.html, "places-table")
    p = results["places"]
    assert len(rows) == 20
    assert [int(r[0]) for r in rows] == list(range(1, 21))
    assert "Chance in the top 20</th>" in full.html
    text = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", full.html)).split())
    assert "“Chance in the top 20” is the share of draws in which the place is in the top 20." in text
    top = p.sort_values("rank").head(20)
    for row, rec in zip(rows, top.to_dict("records"), strict=False):
        assert row[4] == f"{rec['rank_low']}–{rec['rank_high']}"
        assert row[3] == rec["tier"]
        assert row[7] == rec["reason"]
        assert rec[C.LSOA_CODE] in row[1]
    counts = R.lsoa_counts(study.incidents, study.lsoa).set_index(C.LSOA_CODE)["n"]
    shown = [r[6] for r in rows]
    expect = [R.fmt_count(counts[c]) for c in top[C.LSOA_CODE]]
    assert shown == expect


def test_small_counts_shown_as_less_than_5(study, results):
    res = dict(results)
    p = res["places"].copy()
    counts = R.lsoa_counts(study.incidents, study.lsoa).set_index(C.LSOA_CODE)["n"]
    small = counts[(counts > 0) & (counts < 5)].index[:3].tolist()
    assert small, "the real data has LSOAs with 1-4 incidents"
    # move three small-count places into the top 20
    p["rank"] = p["rank"] + 3
    p.loc[p[C.LSOA_CODE].isin(small), "rank"] = [1, 2, 3]
    p = p.sort_values("rank").reset_index(drop=True)
    p["rank"] = np.arange(1, len(p) + 1)
    res["places"] = p
    rep = R.build_report(study, res)
    rows = table_rows(rep.html, "places-table")
    assert [r[6] for r in rows[:3]] == ["<5", "<5", "<5"]
    assert sorted(r[1].split()[-1] for r in rows[:3]) == sorted(small)
    assert all(re.search(r"; <5 incidents$", r[7]) for r in rows[:3]), [r[7] for r in rows[:3]]
    assert not any(re.search(r"\b[0-4] incidents?\b", r[7]) for r in rows)


def test_mask_small_counts():
    m = R.mask_small_counts
    assert m("Top 2% (3 incidents); 14 NTE venues within 200 m") == "Top 2% (<5 incidents); 14 NTE venues within 200 m"
    assert m("1 incident, 5 incidents, 1,234 incidents") == "<5 incidents, 5 incidents, 1,234 incidents"
    assert m("IMD decile 1; 0 crimes", small=3) == "IMD decile 1; <3 crimes"


def test_district_table_matches_summary(study, results, full):
    rows = table_rows(full.html, "districts-table")
    inc = study.incidents
    fw = inc[inc[C.SOURCE].isin(["police_uk", "county_weapons_2020"])]
    d = R.district_summary(R.lsoa_counts(fw, study.lsoa), places=results["places"], top_n=20, first=["Nottingham"])
    assert [r[0] for r in rows] == ["Nottingham (City)", *d[C.DISTRICT].iloc[1:].tolist()]
    for row, rec in zip(rows, d.to_dict("records"), strict=False):
        assert row[3] == f"{rec['n']:,}"
        assert row[4] == f"{rec['rate_per_1000']:,.1f}"
        assert row[6] == str(int(rec["top_n_places"]))
        assert row[7] == str(int(rec["tier1_places"]))
        assert row[9] == f"{rec['gini']:.2f}"


def test_kits_and_emerging_tables(results, full):
    rows = table_rows(full.html, "kits-table")
    assert len(rows) == len(results["bleed_kits"])
    assert rows[-1][5] == f"{results['bleed_kits']['cumulative_coverage_pct'].iloc[-1]:.1f} %"
    assert rows[0][2].endswith("ward, Nottingham")  # (457000, 340000) is in the City centre
    em = table_rows(full.html, "emerging-table")
    assert {r[0]: r[1] for r in em} == {"no pattern": "5", "persistent hot spot": "3", "new hot spot": "2"}
    assert "of 10 cells analysed, 5 show a hot spot pattern and 0 a cold spot pattern" in full.html
    assert "6.2 % at 60 m, 14.7 % at 200 m" in full.html
    assert "Covering 50 % of harm within 100 m would take 243 kits." in full.html


def test_hotspot_table(full):
    rows = table_rows(full.html, "hotspots-table")
    assert rows == [
        ["hot 99%", "10"],
        ["hot 95%", "5"],
        ["hot 90%", "0"],
        ["not significant", "663"],
        ["cold 90%", "1"],
    ]
    assert "LSOAs (of 679)" in full.html
    assert full.summary["gistar_lsoa"]["hot 99%"] == 10


def test_hotspot_table_counts_units_not_analysed(study, results):
    lsoa = results["lsoa"].copy()
    lsoa.loc[lsoa.index[-3:], "hotspot_class"] = "not analysed"  # e.g. LSOAs without residents
    rep = R.build_report(study, {**results, "lsoa": lsoa}, auto={}, radius=100.0, extra=SITES_EXTRA)
    rows = dict(table_rows(rep.html, "hotspots-table"))
    assert rows["not analysed"] == "3" and rep.summary["gistar_lsoa"]["not analysed"] == 3
    assert "not analysed" not in dict(
        table_rows(R.build_report(study, results, auto={}, radius=100.0, extra=SITES_EXTRA).html, "hotspots-table")
    )


def test_methods_caveats_attribution(study, full):
    html = full.html
    for c in study.caveats:
        assert str(pd.Series([c]).iloc[0]).split(":")[0].replace("&", "&amp;") in html
    low = html.lower()
    assert "month only" in low
    assert "snaps each crime" in low
    assert "2017-08 snapshot" in low
    assert "iod2019" in low
    assert "2011 lower layer super output areas" in low
    assert "Contains public sector information licensed under the Open Government Licence v3.0 (data.police.uk)" in html
    assert (
        "Source: Office for National Statistics licensed under the OGL v3.0. Contains OS data © Crown copyright "
        "and database right 2011/2022"
    ) in html
    assert "Royal Mail" in html and "MHCLG" in html
    auto = table_rows(html, "auto-table")
    assert ["detect", "bandwidth", "312.5"] in auto


def test_data_text_is_escaped(full):
    html = full.html
    assert XSS_PLACE not in html and XSS_VENUE not in html
    assert "&lt;script&gt;alert(&#39;place&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    p = parse(html)
    assert not [t for t, _ in p.tags if t == "script"]
    assert not [a for t, a in p.tags if t == "img" and "onerror" in a]
    assert XSS_PLACE in "".join(p.text)  # shown to the reader as text


def test_self_contained_no_external_urls(full):
    p = parse(full.html)
    for tag, attrs in p.tags:
        for key in ("src", "href", "srcset", "data", "action"):
            v = attrs.get(key)
            assert v is None or v.startswith("data:"), (tag, key, v[:60])
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", full.html, re.I)
    assert "url(" not in full.html and "@import" not in full.html
    assert "default-src 'none'" in full.html
    imgs = [a for t, a in p.tags if t == "img"]
    assert len(imgs) == len(full.figures)
    for a in imgs:
        assert base64.b64decode(a["src"].split(",", 1)[1])[:8] == PNG_MAGIC
        assert a.get("alt")


def test_figures_are_readable_pngs(full):
    for key, png in full.figures.items():
        assert png[:8] == PNG_MAGIC
        w, h = R._png_size(png)
        assert w >= 900 and h >= 450, (key, w, h)  # 150 dpi: >= 6 x 3 inches


def test_degrades_honestly_without_optional_inputs(study):
    inc = study.incidents
    one_month = inc[inc[C.SOURCE] == "police_uk"]
    s = replace(study, incidents=one_month)
    s.coverage = study.coverage[study.coverage[C.SOURCE] == "police_uk"].reset_index(drop=True)
    rep = R.build_report(s, {})
    html = rep.html
    assert "No monthly data: no source covers more than one month" in html
    assert "No ranked places: the rank stage did not run" in html
    assert "No bleed-control kit siting in this run" in html
    assert "No emerging hot spot analysis in this run" in html
    assert "No hot spot analysis in this run: the detect stage did not run." in html
    assert "not ranked" in html and "not sited" in html
    assert set(rep.figures) == {"districts", "concentration"}
    assert 'id="places-table"' not in html and 'id="kits-table"' not in html
    assert f"{len(one_month):,}</span>" in html
    # still a district comparison and a concentration curve from the incidents themselves
    assert len(table_rows(html, "districts-table")) == 8


def test_no_incidents(study):
    s = replace(study, incidents=study.incidents.iloc[:0])
    s.coverage = study.coverage.iloc[:0]
    rep = R.build_report(s, {})
    assert "No concentration curve: there are no incidents in scope" in rep.html
    assert "No monthly data" in rep.html
    assert "concentration" not in rep.figures


def test_pipeline_writes_the_report_and_its_figures(tmp_path, study, results, config):
    from hotspots.pipeline import Run, Written, write_outputs

    rep = R.build_report(study, results, auto={})
    written = Written(tmp_path)
    write_outputs(Run(config=config, study=study, report=rep), "report", written)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "report.html" in written.outputs
    for name in R.FIGURE_FILES.values():
        f = tmp_path / "figures" / name
        assert f.exists() and f.read_bytes()[:8] == PNG_MAGIC, name
        assert f"figures/{name}" in written.outputs
        # the PNG on disk is the one inlined in the page
        assert base64.b64encode(f.read_bytes()).decode() in html
    assert rep.summary["kits"] == len(results["bleed_kits"])
    assert (tmp_path / "report.html").stat().st_size < 3_000_000


def test_report_stage_on_real_run(bundled_run):
    """The whole pipeline on the bundled data: the report agrees with the stages' frames."""
    out = bundled_run.out
    html = (out / R.REPORT_FILE).read_text(encoding="utf-8")
    run = bundled_run.run
    places = run.rank.places.sort_values("rank")
    rows = table_rows(html, "places-table")
    assert [r[1].split()[-1] for r in rows] == places[C.LSOA_CODE].head(20).tolist()
    assert [r[4] for r in rows] == [
        f"{lo}–{hi}" for lo, hi in zip(places["rank_low"].head(20), places["rank_high"].head(20), strict=False)
    ]
    assert [r[6] for r in rows] == [R.fmt_count(n) for n in places["n"].head(20)]
    tier1 = int((places["tier"] == 1).sum())
    assert f'{tier1:,}</span><span class="label">places (LSOAs) in Tier 1' in html
    dist = table_rows(html, "districts-table")
    assert sum(int(r[7]) for r in dist) == tier1 and sum(int(r[6]) for r in dist) == 20
    kits = run.sites.kits
    assert len(table_rows(html, "kits-table")) == len(kits)
    assert f"covering {kits['cumulative_coverage_pct'].iloc[-1]:.1f} % of harm" in html
    hot = table_rows(html, "hotspots-table")
    assert hot[0][0] == "hot 99%"
    assert hot[0][2] == f"{int((run.detect.lsoa['hotspot_class'] == 'hot 99%').sum()):,}"
    for name in R.FIGURE_FILES.values():  # every figure has its input in the bundled run
        assert (out / R.FIGURES_DIR / name).read_bytes()[:8] == PNG_MAGIC
    assert "report.html" in bundled_run.outputs
    # the City's central LSOAs lead the ranking, and the report says Nottingham first
    assert rows[0][2].split()[0] == "Nottingham"


def test_report_section_in_config(config):
    from hotspots.config import config_from_dict

    raw = dict(config.raw)
    raw["report"] = {"top": 10, "title": "Board pack"}
    cfg = config_from_dict(raw, path=config.path)
    assert cfg.report == R.ReportConfig(top=10, title="Board pack")
    raw["report"] = {"tops": 10}
    with pytest.raises(ConfigError, match=r"unknown key 'tops' in \[report\]. Did you mean 'top'\?"):
        config_from_dict(raw, path=config.path)


def test_force_wide_sources_fallback(study):
    inc = study.incidents
    city = inc[inc[C.SOURCE] == "city_violence_2020"]
    assert R.force_wide_sources(city, study.lsoa) == []
    both = inc[inc[C.SOURCE].isin(["city_violence_2020", "city_robbery_2020"])]
    s = replace(study, incidents=both)
    s.coverage = study.coverage[study.coverage[C.SOURCE].isin(["city_violence_2020", "city_robbery_2020"])]
    rep = R.build_report(s, {})
    assert "No source covers every district, so these figures pool all sources" in rep.html
    assert rep.summary["comparison_sources"] == ["city_violence_2020", "city_robbery_2020"]


def test_lsoa_wards_say_where_a_place_is(study, full):
    w = R.lsoa_wards(study.lsoa, study.wards)
    city = study.lsoa.loc[study.lsoa[C.DISTRICT] == "Nottingham", C.LSOA_CODE]
    assert set(w.index) == set(city)  # the bundled wards are the City's; every City LSOA gets one
    assert w["E01033400"] == "Castle"  # Nottingham 039B holds the Old Market Square
    assert R.lsoa_wards(study.lsoa, None).empty
    rows = table_rows(full.html, "places-table")
    assert rows[0][2].split() == ["Nottingham", "Castle", "ward"]


def test_key_points_follow_the_numbers(study, results, full):
    # the bundled config ranks on force-wide sources ([study] sources): no pooling warning there
    assert "The ranking pools every source" not in full.html
    assert "use only police_uk, county_weapons_2020 ([study] sources)" in full.html
    # these results pool every source, so report them for a study that pools every source
    cfg = dataclasses.replace(study.config, study=dataclasses.replace(study.config.study, sources=[]))
    pooled = R.build_report(
        dataclasses.replace(study, config=cfg),
        results,
        auto={"detect": {"cell_size": 100.0, "bandwidth": 312.5}},
        radius=100.0,
        extra=SITES_EXTRA,
    )
    m = re.search(r'<ul id="key-points">(.*?)</ul>', pooled.html, re.S)
    points = [
        " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", li)).split())
        for li in re.findall(r"<li>(.*?)</li>", m.group(1), re.S)
    ]
    top = results["places"].sort_values("rank").head(20)
    assert (top[C.DISTRICT] == "Nottingham").all()
    assert points[0].startswith("All 20 top-ranked places are in Nottingham City. The ranking pools every source")
    assert "city_violence_2020" in points[0]
    assert "34 places are in Tier 1, the Board's first priority." in points
    assert "10 LSOAs are statistically significant hot spots at 99 % confidence (Gi*)." in points
    d = pd.DataFrame(full.summary["districts"])
    lo = d.loc[d["rate_per_1000"].idxmin()]
    assert any(
        p.endswith(f"the lowest in {lo[C.DISTRICT]} ({lo['rate_per_1000']:.1f}), like for like.") for p in points
    )
    # a place list spread over districts is described as such
    res = dict(results)
    p = res["places"].copy()
    p.loc[p["rank"] == 20, C.DISTRICT] = "Mansfield"
    res["places"] = p
    rep = R.build_report(study, res)
    assert "Of the 20 top-ranked places, 19 in Nottingham City, 1 in Mansfield." in rep.html
