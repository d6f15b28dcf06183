"""The Board report: what page 1 says, that every number matches the stages, honest words, escaping, absences.

The report is built from the real bundled run (``bundled_run``, every stage once per session)
and from copies of its results changed here in code (markup in names, small counts, a
composite ranking, stages missing), so each test knows the numbers it checks.
"""

from __future__ import annotations

import base64
import dataclasses
import html as html_lib
import re
import warnings
from dataclasses import replace
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from hotspots import columns as C
from hotspots.errors import ConfigError, InputError
from hotspots.prepare.scope import SCOPE_CATEGORIES
from hotspots.present.report import build as R
from hotspots.present.report import text as T
from hotspots.present.report.config import ReportConfig
from hotspots.present.report.priority_map import zoom_window
from hotspots.present.report.sections.kits import curve_shape
from hotspots.present.report.tables import (
    fmt_count,
    lsoa_counts,
    lsoa_wards,
    mask_small_counts,
    monthly_counts,
    top_share,
)

XSS_PLACE = "<script>alert('place')</script>"
XSS_VENUE = "<img src=x onerror=alert(1)>"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
GLOSSARY_TERMS = ("Gi*", "FDR", "Predictive interval", "Mann-Kendall", "Gini", "IMD", "IDACI", "LSOA", "PEI", "MCLP")


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


def visible(html: str) -> str:
    """The page's text as a reader sees it (no style block, tags removed, entities decoded, spaces collapsed)."""
    body = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def element(html: str, tag: str, el_id: str) -> str:
    """The inner HTML of ``<tag id=el_id>`` (nested tags of the same name balanced)."""
    m = re.search(rf'<{tag}\b[^>]*\bid="{re.escape(el_id)}"[^>]*>', html)
    assert m, f"<{tag} id={el_id}> missing"
    depth, pos = 1, m.end()
    for t in re.finditer(rf"<(/?){tag}\b[^>]*>", html[pos:]):
        depth += -1 if t.group(1) else 1
        if depth == 0:
            return html[pos : pos + t.start()]
    raise AssertionError(f"<{tag} id={el_id}> not closed")


def table_rows(html: str, table_id: str) -> list[list[str]]:
    """Cell texts of each body row of the table with ``id=table_id``."""
    body = element(html, "table", table_id).split("<tbody>")[1]
    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
        rows.append([" ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in cells])
    return rows


def stage_report(run, **changes):
    """The report of the bundled run's stages, with keyword changes to ``build_report``'s arguments."""
    r = run.run
    kw = {
        "auto": r.auto,
        "radius": r.sites.radius_m,
        "extra": {"detect": r.detect.summary, "rank": r.rank.summary, "sites": r.sites.summary},
        "created": "1 January 2030",
    }
    kw.update(changes)
    results = changes.pop("results", None) or R.stage_results(r.detect, r.rank, r.sites)
    kw.pop("results", None)
    return R.build_report(r.study, results, **kw)


@pytest.fixture(scope="module")
def real(bundled_run):
    """The bundled run's report as the pipeline wrote it."""
    return (bundled_run.out / R.REPORT_FILE).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def marked(bundled_run):
    """The bundled run's report with markup in a place's and a kit's name."""
    r = bundled_run.run
    res = R.stage_results(r.detect, r.rank, r.sites)
    places = res["places"].copy()
    places.loc[places["order"] == 2, C.LSOA_NAME] = XSS_PLACE
    kits = res["bleed_kits"].copy()
    kits.loc[kits["order"] == 1, "name"] = XSS_VENUE
    res.update(places=places, bleed_kits=kits)
    return stage_report(bundled_run, results=res)


# --------------------------------------------------------------------------------------
# Formatting, words and small pure functions
# --------------------------------------------------------------------------------------


def test_fmt_count_masks_small_counts():
    assert [fmt_count(v) for v in (0, 1, 4, 5, 12345)] == ["<5", "<5", "<5", "5", "12,345"]
    assert fmt_count(2, small=3) == "<3"
    assert fmt_count(float("nan")) == "n/a"
    assert mask_small_counts("1 incident, 5 incidents, 1,234 incidents") == "<5 incidents, 5 incidents, 1,234 incidents"


def test_top_share():
    assert top_share([10, 0, 0, 0, 0, 0, 0, 0, 0, 10], 0.1) == (0.5, 1)
    sh, k = top_share(np.arange(100), 0.05)
    assert k == 5 and sh == pytest.approx(sum(range(95, 100)) / sum(range(100)))


def test_monthly_and_lsoa_counts_conserve_incidents(study):
    m = monthly_counts(study.incidents)
    assert m["n"].sum() == len(study.incidents)
    v = m[m[C.SOURCE] == "city_violence_2020"]
    assert v[C.MONTH].tolist() == [f"2020-{i:02d}" for i in range(1, 13)]
    assert v["n"].tolist()[:3] == [1262, 1240, 1145]
    counts = lsoa_counts(study.incidents, study.lsoa)
    assert len(counts) == 679 and counts["n"].sum() == study.incidents[C.LSOA_CODE].isin(study.lsoa[C.LSOA_CODE]).sum()


def test_scope_codes_have_plain_labels():
    assert T.scope_label("violence_sexual") == "Violence and sexual offences"
    assert T.scope_label("weapons_possession") == "Possession of weapons"
    for code in SCOPE_CATEGORIES:
        label = T.scope_label(code)
        assert "_" not in label and label, code
        assert "_" not in T.plain(f"a {code} b")


def test_inference_method_and_calibration_table():
    assert T.inference_method({"grid_inference": {"inference": "exact"}}) == "exact"
    assert T.inference_method(None) == T.DEFAULT_INFERENCE == "analytic"
    cal = T.HOT_SPOT_CALIBRATION
    assert cal["exact"].ok("lsoa") and cal["exact"].ok("grid") and not cal["analytic"].ok("lsoa")
    assert cal["eb_rate"].ok("lsoa") and not cal["eb_rate"].ok("grid")


def test_quoted_calibration_is_what_the_docs_measured():
    """The false-alarm rates and coverages the page quotes are those docs/detect.md and docs/rank.md give."""
    from conftest import ROOT

    detect = (ROOT / "docs" / "detect.md").read_text(encoding="utf-8")
    for method, label in (
        ("exact", '**now: exact, dispersion `"pearson"`**'),
        ("analytic", "before: analytic Gi\\* + BH"),
    ):
        c = T.HOT_SPOT_CALIBRATION[method]
        for layer, p99, p95 in (("grid", c.grid99, c.grid95), ("LSOA", c.lsoa99, c.lsoa95)):
            row = f"| {layer} | {label} | {p99:.1f} % ({round(p99 * 2)}) | {p95:.1f} % ({round(p95 * 2)}) |"
            assert row in detect, row
    eb = T.HOT_SPOT_CALIBRATION["eb_rate"]
    assert f"LSOAs yes ({eb.lsoa99:g} % / {eb.lsoa95:g} %), grid **no** ({eb.grid99:g} % / {eb.grid95:g} %)" in detect
    assert "on the null, yes (0 of 50 maps)" in detect
    rank = (ROOT / "docs" / "rank.md").read_text(encoding="utf-8")
    axes, composite = T.RANK_INTERVAL_COVERAGE["axes"], T.RANK_INTERVAL_COVERAGE["composite"]
    assert f"| next month | {composite.next_month:.3f} (width {composite.width_month:g}) |" in rank
    assert f"**{axes.next_month:.3f} ({axes.width_month:g})** |" in rank
    assert f"{composite.next_quarter:.3f} (33)" in rank and f"**{axes.next_quarter:.3f} (97)**" in rank


def test_curve_shape_is_decided_from_the_numbers():
    assert curve_shape(np.arange(1, 11) * 0.6).shape == "straight"
    assert curve_shape([10, 19, 27, 34, 40, 45, 49, 52, 55]).shape == "bends"
    flat = curve_shape([10, 15, 17, 18, 18.5, 18.8])
    assert flat.shape == "flattens" and "flattens" in flat.sentence(6)
    assert "straight" in curve_shape([1, 2, 3]).sentence(3)
    assert curve_shape([1, 2]) is None


def test_zoom_window_only_where_kits_cluster():
    bounds = (0, 0, 60_000, 80_000)
    w = zoom_window([1000, 1200, 1500, 1900, 50_000], [1000, 1100, 1600, 1400, 70_000], bounds)
    assert w is not None and w.kits == 4 and w.side < 0.35 * 80_000
    assert w.contains(np.array([1200.0]), np.array([1100.0]))[0]
    assert zoom_window([0, 30_000, 60_000], [0, 40_000, 80_000], bounds) is None  # spread out: no enlargement
    assert zoom_window([0, 10], [0, 10], bounds) is None  # too few kits


def test_priority_map_without_a_cluster_has_one_panel(study):
    from hotspots.present.report.priority_map import priority_map_figure

    tiers = pd.Series(1, index=study.lsoa[C.LSOA_CODE].head(30).astype(str))
    b = study.lsoa.total_bounds
    kits = pd.DataFrame(
        {
            "order": [1, 2, 3],
            "x": [b[0] + 5e3, (b[0] + b[2]) / 2, b[2] - 5e3],
            "y": [b[1] + 5e3, (b[1] + b[3]) / 2, b[3] - 5e3],
        }
    )
    fig, info = priority_map_figure(study.lsoa, tiers, tier_names={1: "Act now (30)", 3: "Monitor"}, kits=kits)
    assert info["window"] is None and len(fig.axes) == 2  # the map and the legend row
    fig, info = priority_map_figure(study.lsoa, tiers, tier_names={1: "Act now (30)"}, kits=None)
    assert info["kits_in_window"] == 0 and len(info["districts"]) == 8


def test_report_config_validates():
    with pytest.raises(ConfigError, match=r"\[report\] key 'top' must be at least 1, got 0"):
        ReportConfig(top=0)
    with pytest.raises(ConfigError, match=r"\[report\] key 'dpi' must be between 100 and 600, got 72"):
        ReportConfig(dpi=72)
    with pytest.raises(ConfigError, match=r"\[report\] key 'small_count' must be >= 0"):
        ReportConfig(small_count=-1)


def test_report_section_in_config(config):
    from hotspots.config import config_from_dict

    raw = dict(config.raw)
    raw["report"] = {"top": 10, "title": "Board pack"}
    assert config_from_dict(raw, path=config.path).report == ReportConfig(top=10, title="Board pack")
    raw["report"] = {"tops": 10}
    with pytest.raises(ConfigError, match=r"unknown key 'tops' in \[report\]. Did you mean 'top'\?"):
        config_from_dict(raw, path=config.path)


def test_lsoa_wards_say_where_a_place_is(study):
    w = lsoa_wards(study.lsoa, study.wards)
    city = study.lsoa.loc[study.lsoa[C.DISTRICT] == "Nottingham", C.LSOA_CODE]
    assert set(w.index) == set(city)
    assert w["E01033400"] == "Castle"  # Nottingham 039B holds the Old Market Square
    assert lsoa_wards(study.lsoa, None).empty


# --------------------------------------------------------------------------------------
# Page 1: the answer
# --------------------------------------------------------------------------------------


def test_headline_counts_what_the_places_rest_on(bundled_run, real):
    study, ranked = bundled_run.run.study, bundled_run.run.rank
    rested = len(study.place_incidents("rank"))
    ev = ranked.summary["evidence"]
    assert ev["incidents"] == rested == 4134 != len(study.incidents)
    stats = visible(element(real, "div", "headline"))
    assert f"{rested:,} incidents the places rest on (2 sources, 2019-09 to 2020-12" in stats
    assert f"{len(study.incidents):,}" not in visible(element(real, "section", "answer"))
    rests = visible(element(real, "p", "rests-on"))
    assert rests.startswith(f"The places rest on {rested:,} incidents: ")
    for name, v in ev["sources"].items():
        assert f"{name}: {v['incidents']:,} in " in rests
    assert "police_uk: 3,103 in 2019-09, 1 month" in rests
    assert "county_weapons_2020: 1,031 in 2020-01 to 2020-12, 12 months" in rests
    assert "66 more, recorded at institutions (prison 32, hospital 28, police station 6), are left out" in rests
    assert "not one year of violence" in rests


def test_page_one_answers_where_to_act(bundled_run, real):
    places = bundled_run.run.rank.places
    sizes = places["tier"].value_counts()
    act = visible(element(real, "p", "answer-act-now"))
    assert act.startswith(f"Act now: high harm: {sizes[1]} places. The 5 % of places with the most harm, holding 22 %")
    assert "15 in Nottingham" in act
    first = places.sort_values("order").iloc[0]
    assert f"Most harm: {first[C.LSOA_NAME]} (Castle ward; likely rank {first['harm_rank_low']}–" in act
    prevent = visible(element(real, "p", "answer-prevent"))
    assert prevent.startswith(f"Prevent: high need: {sizes[2]} places.")
    assert "13 places to act now also have high need." in prevent
    kits = visible(element(real, "p", "answer-kits"))
    assert kits.startswith(
        "Bleed-control kits. 10 bleed-control kits, each where it adds the most, put 5.9 % of the harm within 100 m"
    )
    assert "Reaching 50 % would take 404 kits." in kits
    answer = element(real, "section", "answer")
    for heading in ("Where to act", "How sure", "What the data rest on"):
        assert f"<h3>{heading}</h3>" in answer
    assert "What changed" not in answer  # no [change] in the bundled config
    assert 'id="priority-map"' in answer


def test_how_sure_quotes_the_measured_calibration(bundled_run, real):
    answer = visible(element(real, "section", "answer"))
    assert "such ranges held for 91 % of places next month and 89 % next quarter (docs/rank.md)" in answer
    detect_auto = bundled_run.run.auto["detect"]
    method = T.inference_method(detect_auto)
    cal = T.HOT_SPOT_CALIBRATION[method]
    n99 = int((bundled_run.run.detect.lsoa["hotspot_class"] == "hot 99%").sum())
    assert f"“Hot 99 %” ({n99} LSOAs here)" in answer
    if cal.ok("lsoa") and cal.ok("grid"):
        assert f"{cal.lsoa99:g} % of LSOA maps and {cal.grid99:g} % of grid maps showed one" in answer
    else:
        assert f"not calibrated on sparse counts: on simulated maps with no hot spot at all, {cal.lsoa99:g} %" in answer
        assert "not as 99 % confidence" in answer


def test_hot_spot_words_follow_the_test_used(bundled_run):
    auto = dict(bundled_run.run.auto)
    auto["detect"] = {**auto["detect"], "lsoa_inference": {"inference": "exact"}}
    page = visible(stage_report(bundled_run, auto=auto).html)
    assert (
        "on 200 maps of the example force simulated with no hot spot at all, 0 % of LSOA maps and 0.5 % of grid maps "
        "showed one (docs/detect.md)" in page
    )
    assert "not calibrated" not in page
    auto["detect"] = {**auto["detect"], "lsoa_inference": {"inference": "analytic"}}
    page = visible(stage_report(bundled_run, auto=auto).html)
    assert "69 % of LSOA maps still showed one" in page and "not as 99 % confidence" in page
    auto["detect"] = {**auto["detect"], "lsoa_inference": {"inference": "eb_rate"}}
    page = visible(stage_report(bundled_run, auto=auto).html)
    assert "1 % of LSOA maps showed one, but 9.5 % of grid maps did" in page
    assert "It holds for LSOAs only" in page


def test_no_unsupported_claims(real):
    text = visible(real).lower()
    for phrase in ("conservative", "unlikely to be chance", "very unlikely", "statistically significant hot spots at"):
        assert phrase not in text, phrase
    assert {m.strip() for m in re.findall(r"(.{0,8})99 % confidence", text)} <= {"not as"}
    assert "flatten" not in text  # the default curve is close to a straight line
    assert "tier 1" not in text and "composite score" not in text.split("appendix")[0]


def test_what_changed_slot_is_filled_only_when_given(bundled_run):
    change = {"headline": ["Across the area, incidents went from 100 to 80: a fall of 20 % per month."]}
    html = stage_report(bundled_run, change=change).html
    answer = element(html, "section", "answer")
    assert "<h3>What changed</h3>" in answer
    assert "a fall of 20 % per month" in visible(element(answer, "div", "answer-change"))


def test_priority_map_drawn_from_the_data(bundled_run, real):
    png = (bundled_run.out / R.FIGURES_DIR / R.FIGURE_FILES["priority_map"]).read_bytes()
    assert png[:8] == PNG_MAGIC and base64.b64encode(png).decode() in real
    from io import BytesIO

    from PIL import Image

    rgb = np.asarray(Image.open(BytesIO(png)).convert("RGB"), dtype=int)
    # act now (vermillion), prevent (blue) and the kits (near-black squares) are all drawn
    vermillion = (np.abs(rgb - [218, 112, 38]).sum(axis=2) < 40).mean()
    blue = (np.abs(rgb - [38, 128, 188]).sum(axis=2) < 40).mean()
    dark = (rgb.sum(axis=2) < 90).mean()
    assert vermillion > 0.01 and blue > 0.01 and dark > 0.001, (vermillion, blue, dark)
    alt = re.search(r'<figure id="priority-map"><img [^>]*alt="([^"]+)"', real).group(1)
    alt = html_lib.unescape(alt)
    assert alt.startswith("Map of Nottingham City and Nottinghamshire by LSOA. 34 places to act now: high harm in")
    assert "10 bleed-control kits are numbered dark squares; 8 of them in the enlarged panel" in alt


# --------------------------------------------------------------------------------------
# The Board part and the appendix
# --------------------------------------------------------------------------------------


def test_tiers_defined_in_words_and_listed(bundled_run, real):
    places = bundled_run.run.rank.places.sort_values("order")
    defs = [visible(li) for li in re.findall(r"<li>(.*?)</li>", element(real, "ul", "tier-definitions"), re.S)]
    assert [d.split(" (")[0] for d in defs] == ["Act now: high harm", "Prevent: high need", "Monitor"]
    assert defs[0].startswith("Act now: high harm (34 places): the 5 % of places with the most harm (34 of 679")
    act = table_rows(real, "act-now-table")
    top = places[places["tier"] == 1].head(20)
    assert len(act) == 20
    for row, rec in zip(act, top.to_dict("records"), strict=True):
        assert row[0] == str(rec["order"]) and rec[C.LSOA_CODE] in row[1]
        assert row[3] == str(rec["harm_rank"]) and row[4] == f"{rec['harm_rank_low']}–{rec['harm_rank_high']}"
        assert row[5] == fmt_count(rec["n"]) and row[6] == f"{rec['harm_per_1000_yr']:,.0f}"
    assert act[0][2] == "Castle ward, Nottingham"
    full = table_rows(real, "all-act-now-table")
    assert len(full) == 34 and full[0][5] == places.iloc[0]["reason"]
    assert len(table_rows(real, "all-prevent-table")) == int((places["tier"] == 2).sum())


def test_districts_per_year_with_gini_and_chance_floor(bundled_run, real):
    d = bundled_run.run.rank.districts
    rows = table_rows(real, "districts-table")
    cities = bundled_run.run.study.city_districts
    assert cities == ["Nottingham"] and d["district"].iloc[0] == "Nottingham"  # the most incidents, and the city
    assert [r[0] for r in rows] == ["Nottingham (City)", *d["district"].iloc[1:-1].tolist(), "Whole area"]
    for row, rec in zip(rows, d.to_dict("records"), strict=True):
        assert row[1] == f"{rec['incidents']:,}"
        assert row[2] == f"{rec['incidents_per_1000_yr']:,.1f}"
        assert row[-2] == f"{rec['gini']:.2f}" and row[-1] == f"{rec['gini_chance_floor']:.2f}"
    section = visible(element(real, "section", "districts"))
    assert section.startswith("Districts and concentration Nottingham City and the 7 other districts. Rates are ")
    assert "Rates are incidents a year per 1,000 residents (IoD2019 mid-2015 population)" in section
    assert "police_uk (1 month) stands for its months only" in section
    c = bundled_run.run.rank.concentration
    floor = c["gini_chance_floor_residents"]
    assert (
        f"Gini of incidents over the area's LSOAs is {c['gini']:.2f}, against a chance floor of {floor['mean']:.2f}"
        in section
    )
    assert "concentrated beyond what chance alone gives" in section


def test_kits_with_alternatives_and_the_curve_as_it_is(bundled_run, real):
    kits = bundled_run.run.sites.kits
    rows = table_rows(real, "kits-table")
    assert len(rows) == len(kits) == 10
    assert rows[0][6] == "2 sites, nearest 43 m away" and rows[1][6] == "no other site"
    assert rows[-1][5] == f"{kits['cumulative_coverage_pct'].iloc[-1]:.1f} %"
    assert rows[0][3] == "licensed venue" and rows[1][3] == "street point where incidents are recorded"
    section = visible(element(real, "section", "bleed-kits"))
    assert "6 of the 10 kits could each be moved to another site" in section
    assert "A quite different set, sharing only 5 of the 10 sites, reaches 97.8 % of the best coverage." in section
    assert "No existing kits or defibrillators were supplied" in section
    shape = curve_shape(bundled_run.run.sites.coverage_curve["coverage_pct"].iloc[1:])
    assert shape.shape == "straight" and "close to a straight line" in section
    assert "Putting 50 % of the harm within reach (100 m) would take 404 kits." in section


def test_glossary_and_plain_words(real):
    terms = [visible(t) for t in re.findall(r"<dt>(.*?)</dt>", element(real, "section", "glossary"), re.S)]
    for term in GLOSSARY_TERMS:
        assert any(t.startswith(term) for t in terms), term
    assert "chance floor" in visible(element(real, "section", "glossary"))
    text = visible(real)
    for code in (c for c in SCOPE_CATEGORIES if "_" in c):  # raw codes; "robbery" is a word too
        assert not re.search(rf"\b{code}\b", text), code
    assert "Violence and sexual offences" in text and "violence_sexual" not in real.split("<style>")[0]


def test_hot_spot_and_emerging_tables(bundled_run, real):
    lsoa = bundled_run.run.detect.lsoa["hotspot_class"].value_counts()
    rows = {r[0]: r[1:] for r in table_rows(real, "hotspots-table")}
    assert rows["hot 99%"][0] == f"{lsoa['hot 99%']:,}"
    em = {r[0]: r[1] for r in table_rows(real, "emerging-table")}
    assert (
        em["persistent hot spot"]
        == f"{int((bundled_run.run.detect.emerging['emerging_class'] == 'persistent hot spot').sum()):,}"
    )


def test_appendix_sources_methods_caveats(bundled_run, real):
    appendix = element(real, "div", "appendix")
    src = table_rows(appendix, "sources-table")
    study = bundled_run.run.study
    assert [r[0] for r in src] == study.coverage["source"].tolist()
    uses = {r[0]: r[6] for r in src}
    assert uses["police_uk"].startswith("places") and uses["city_violence_2020"] == "trend, emerging"
    scope = table_rows(appendix, "scope-table")
    assert sum(int(r[2].replace(",", "")) for r in scope) == 4134
    assert {r[0] for r in scope} == {"Violence and sexual offences", "Robbery", "Possession of weapons"}
    inst = table_rows(appendix, "institutions-table")
    assert inst and all(r[0] in {"prison", "hospital", "police station"} for r in inst)
    text = visible(appendix)
    assert "Contains public sector information licensed under the Open Government Licence v3.0" in text
    assert "month only" in text.lower() and "2017-08 snapshot" in text
    assert "Other sources loaded (city_violence_2020, city_robbery_2020, city_robbery_2022)" in text
    auto = table_rows(appendix, "auto-table")
    assert any(r[:2] == ["detect", "cell_size_m"] for r in auto)


def test_every_figure_has_alt_text_and_is_inline(real, bundled_run):
    p = parse(real)
    imgs = [a for t, a in p.tags if t == "img"]
    files = sorted((bundled_run.out / R.FIGURES_DIR).glob("*.png"))
    assert len(imgs) == len(files) == len(R.FIGURE_FILES)
    for a in imgs:
        assert base64.b64decode(a["src"].split(",", 1)[1])[:8] == PNG_MAGIC
        assert len(a.get("alt", "")) > 30, a.get("alt")


def test_self_contained_no_script_no_network(real):
    p = parse(real)
    assert not [t for t, _ in p.tags if t == "script"]
    for tag, attrs in p.tags:
        for key in ("src", "href", "srcset", "data", "action"):
            v = attrs.get(key)
            assert v is None or v.startswith("data:"), (tag, key, v[:60])
    assert "url(" not in real and "@import" not in real
    assert "default-src 'none'" in real


def test_data_text_is_escaped(marked):
    html = marked.html
    assert XSS_PLACE not in html and XSS_VENUE not in html
    assert "&lt;script&gt;alert(&#39;place&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    p = parse(html)
    assert not [t for t, _ in p.tags if t == "script"]
    assert not [a for t, a in p.tags if t == "img" and "onerror" in a]


def test_small_counts_shown_as_less_than_5(bundled_run):
    r = bundled_run.run
    res = R.stage_results(r.detect, r.rank, r.sites)
    p = res["places"].copy()
    small = p[(p["n"] > 0) & (p["n"] < 5)].index[:2]
    first = p[p["tier"] == 1].sort_values("order").index[:2]
    p.loc[first, "n"] = [3, 1]
    p.loc[first, "reason"] = ["Act now: high harm. 3 incidents (harm 3)", "Act now: high harm. 1 incident (harm 4)"]
    assert len(small)
    res["places"] = p
    html = stage_report(bundled_run, results=res).html
    rows = table_rows(html, "act-now-table")
    assert [r[5] for r in rows[:2]] == ["<5", "<5"]
    full = table_rows(html, "all-act-now-table")
    assert full[0][5] == "Act now: high harm. <5 incidents (harm 3)"
    assert not re.search(r"\b[1-4] incidents?\b", visible(html))


def test_composite_ranking_reported_honestly(bundled_run, config):
    from hotspots.rank.stage import rank

    r = bundled_run.run
    cfg = dataclasses.replace(config.rank, method="composite", draws=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the composite warns about the 93 LSOAs without IDACI
        ranked = rank(r.study, r.detect, cfg)
    rep = R.report(r.study, r.detect, ranked, r.sites, config.report, auto=r.auto)
    text = visible(rep.html)
    assert "Tier 1: " in text and "act now" not in text.split("Appendix")[0].lower()
    assert "they held for only 46 % of places next month (docs/rank.md): read them as too narrow" in text
    assert len(table_rows(rep.html, "tier-1-table")) == 20


def test_degrades_honestly_without_stages(study):
    rep = R.build_report(study, {})
    text = visible(rep.html)
    assert "No ranked places: the rank stage did not run" in text
    assert "No bleed-control kit siting in this run" in text
    assert "No hot spot analysis in this run: the detect stage did not run." in text
    assert "No district comparison: the rank stage did not run" in text
    assert "not ranked" in text and "not sited" in text
    # the headline still counts what the places would rest on, never every row loaded
    assert f"{len(study.place_incidents('rank')):,} incidents the places rest on" in text
    assert set(rep.figures) == {"monthly_trend"}
    one = study.incidents[study.incidents[C.SOURCE] == "police_uk"]
    s = replace(study, incidents=one)
    s.coverage = study.coverage[study.coverage[C.SOURCE] == "police_uk"].reset_index(drop=True)
    assert "No monthly data: no source covers more than one month" in R.build_report(s, {}).html


def test_missing_columns_named(bundled_run):
    r = bundled_run.run
    res = R.stage_results(r.detect, r.rank, r.sites)
    res["places"] = res["places"].drop(columns=["reason"])
    with pytest.raises(InputError, match=r"results\['places'\] lacks column\(s\) 'reason'"):
        R.build_report(r.study, res)


def test_pipeline_writes_the_report_and_its_figures(bundled_run, real):
    out = bundled_run.out
    assert real.startswith("<!DOCTYPE html>")
    for key, name in R.FIGURE_FILES.items():
        f = out / R.FIGURES_DIR / name
        assert f.read_bytes()[:8] == PNG_MAGIC, key
        assert f"figures/{name}" in bundled_run.outputs
    assert (out / R.REPORT_FILE).stat().st_size < 3_000_000
    summary = bundled_run.run.report.summary
    assert summary["evidence"]["incidents"] == 4134 and summary["kits"] == 10
    assert summary["kit_curve"]["shape"] == "straight"
    pd.testing.assert_index_equal(
        pd.Index(sorted(summary["tiers"])), pd.Index(sorted(["Act now: high harm", "Prevent: high need", "Monitor"]))
    )


def test_hot_spot_table_counts_units_not_analysed(bundled_run):
    r = bundled_run.run
    res = R.stage_results(r.detect, r.rank, r.sites)
    lsoa = res["lsoa"].copy()
    lsoa.loc[lsoa.index[-3:], "hotspot_class"] = "not analysed"  # e.g. LSOAs without residents
    rep = stage_report(bundled_run, results={**res, "lsoa": lsoa})
    rows = {r[0]: r[1] for r in table_rows(rep.html, "hotspots-table")}
    assert rows["not analysed"] == "3" and rep.summary["hot_spots_lsoa"]["not analysed"] == 3
    assert "not analysed" not in {r[0] for r in table_rows(stage_report(bundled_run).html, "hotspots-table")}


def test_map_tier_colours_are_the_interactive_maps_colours():
    from hotspots.present.report.priority_map import KIT_COLOUR, TIER_COLOURS

    palette = pytest.importorskip("hotspots.present.maps.palette", reason="the maps' palette module is not here")
    assert [TIER_COLOURS[t] for t in (1, 2, 3)] == palette.tier_colours(3)
    assert KIT_COLOUR == palette.KIT


def test_page_one_says_how_many_act_now_places_are_sure_of_their_tier(bundled_run):
    places = pd.read_csv(bundled_run.out / "places.csv")
    act = places[places["tier"] == 1]
    n, stay = len(act), int((act["harm_rank_high"] <= len(act)).sum())
    assert 0 < stay < n  # the bundled data: a few are sure, most are not
    answer = visible(element(stage_report(bundled_run).html, "section", "answer"))
    assert f"{stay} of the {n} are likely to stay in this tier" in answer


def test_page_one_says_when_no_act_now_place_is_sure_of_its_tier(bundled_run):
    r = bundled_run.run
    res = R.stage_results(r.detect, r.rank, r.sites)
    res["places"] = res["places"].assign(harm_rank_high=len(res["places"]))  # every range reaches the last place
    html = stage_report(bundled_run, results=res).html
    text = visible(element(html, "section", "answer"))
    assert "so on these data the order among places could be chance" in text
