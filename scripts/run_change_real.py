"""The change statistics on the bundled real data: every number of the real-data section of docs/change.md.

Scenarios (issue 12), each with the default test (``dispersion="auto"``) and the plain exact test
(``"none"``) side by side:
  * City robbery, 2020 against 2022 (the 2020 file has no LSOA codes, the 2022 file has them: both
    are placed in LSOAs by location);
  * City violence 2020, first half against second half (COVID-19 restrictions fall in both halves),
    on LSOAs and on a 250 m grid;
  * county possession of weapons 2020, quarter against quarter, with the City against the rest of
    the county as a comparison area.
Then: the patterns of two sources compared (SPPT and Gi*), an ILLUSTRATIVE intervention (a made-up
treated and control pair, not a real scheme), and what a claim like "fell 13 % while England and
Wales rose 6 %" needs (HYPOTHETICAL counts: the claim's counts are not in the bundled data).

Run: .venv/bin/python scripts/run_change_real.py   (about a minute)
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.config import load_config
from hotspots.detect.gistar import HOTSPOT_CLASSES, NOT_SIGNIFICANT
from hotspots.errors import HotspotsWarning
from hotspots.evaluate.area import area_change_from_totals, compare_areas
from hotspots.evaluate.change_config import ChangeConfig, InterventionConfig
from hotspots.evaluate.change_extras import _gi_classes
from hotspots.evaluate.change_stage import ChangeResult, change
from hotspots.evaluate.change_units import Units, assign_lsoa
from hotspots.evaluate.power import mde_fall
from hotspots.evaluate.similarity import compare_classes, sppt
from hotspots.prepare.study import Study, load_study

pd.set_option("display.width", 200)
pd.set_option("display.max_columns", 20)


def run(study: Study, **kw: object) -> ChangeResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HotspotsWarning)
        entries = kw.pop("interventions", ())
        return change(study, ChangeConfig(**kw), interventions=entries)  # type: ignore[arg-type]


def show(title: str, study: Study, **kw: object) -> ChangeResult:
    print(f"\n=== {title} ===")
    auto = run(study, **kw)
    plain = run(study, **kw, dispersion="none")
    s, a = auto.summary, auto.area
    print(
        f"sources {', '.join(auto.sources)}; {s['units']} units {s['unit_count']} ({s['tested']} with data); "
        f"before {s['before']} ({s['before_months']} months), after {s['after']} ({s['after_months']})"
    )
    print(
        f"whole area ({a.label}): {a.before:,.0f} -> {a.after:,.0f}; rate ratio {a.rate_ratio:.3f} "
        f"({a.lower:.3f}-{a.upper:.3f}), p {a.p_value:.3g}; exact Poisson p ignoring overdispersion {a.exact_p:.3g}; "
        f"{a.method}; seasonally matched: {a.seasonal.matched if a.seasonal else None}"
    )
    if auto.comparison is not None:
        print("comparison:", auto.comparison.sentence)
    d = s["dispersion"]
    print(
        f"dispersion (auto): NB2 c = {d['nb2_c']}, Pearson {d['pearson']}, df {d['df']}, max design effect "
        f"{d['max_design_effect']:.2f}"
    )
    for label, r in (("auto", auto), ("none", plain)):
        mde = r.table["mde_pct"].dropna()
        print(
            f"  {label}: classes {r.summary['classes']}; a fall detectable in {len(mde)} of {r.summary['tested']} "
            f"units, median MDE {mde.median():.0f} %, smallest {mde.min():.0f} %"
            if len(mde)
            else f"  {label}: classes {r.summary['classes']}; no fall detectable in any unit"
        )
    top = auto.table.drop(columns="geometry").sort_values("p_value").head(4)
    top = top.assign(q_plain=plain.table.loc[top.index, "q_value"])
    cols = ["unit_id", "unit_name", "before", "after", "rate_ratio", "rr_lower", "rr_upper", "p_value", "q_value"]
    print(top[[*cols, "q_plain", "change_class", "mde_pct"]].round(4).to_string(index=False))
    c = auto.classes
    print(
        f"SPPT robust S {auto.sppt.robust_s_index:.3f} (S {auto.sppt.s_index:.3f}); Gi* same class "
        + (f"{c.agreement:.3f}, kappa {c.kappa:.3f}" if c is not None else "not run")
    )
    return auto


def two_sources(study: Study) -> None:
    print("\n=== Two sources, same period: City robbery 2020 against City violence 2020 (City LSOAs) ===")
    city = study.lsoa[study.lsoa[C.DISTRICT] == "Nottingham"].reset_index(drop=True)
    counts = {}
    for src in ("city_violence_2020", "city_robbery_2020"):
        inc = study.incidents[study.incidents[C.SOURCE] == src]
        pos = pd.Index(city[C.LSOA_CODE]).get_indexer(assign_lsoa(inc, study.lsoa, tolerance=250.0))
        counts[src] = np.bincount(pos[pos >= 0], minlength=len(city))
    s = sppt(counts["city_violence_2020"], counts["city_robbery_2020"], seed=0)
    print(f"{s.variant}\nS {s.s_index:.3f}, robust S {s.robust_s_index:.3f}")
    frame = city[[C.LSOA_CODE, "geometry"]].rename(columns={C.LSOA_CODE: "unit_id"})
    units = Units(frame, np.zeros(0, dtype=int), "lsoa")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HotspotsWarning)
        gv, gr, _ = _gi_classes(units, counts["city_violence_2020"] * 1.0, counts["city_robbery_2020"] * 1.0)
    cc = compare_classes(gv, gr, classes=HOTSPOT_CLASSES)
    cs = compare_classes(gv, gr, classes=HOTSPOT_CLASSES, exclude_both=NOT_SIGNIFICANT)
    print(
        f"Gi* classes: same class {cc.agreement:.3f}, kappa {cc.kappa:.3f}, weighted kappa {cc.weighted_kappa:.3f}; "
        f"over the {cs.units} LSOAs significant in either: same class {cs.agreement:.3f}, kappa {cs.kappa:.3f}"
    )


def claim() -> None:
    print("\n=== 'Fell 13 % while England and Wales rose 6 %': what it needs (HYPOTHETICAL counts) ===")
    for n in (300, 1000, 3000):
        here = area_change_from_totals(n, round(0.87 * n), before_months=12, after_months=12, label="The force")
        print(f"  {n:5d} before: {compare_areas(here, 1.06, comparison_label='England and Wales').sentence}")
        mde = 100 * float(mde_fall(n, before_months=12, after_months=12))
        print(f"         smallest fall detectable with 80 % power at this count: {mde:.1f} %")


def main() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = load_study(load_config())
    show(
        "City robbery 2020 vs 2022 (LSOAs by location)",
        study,
        before="2020-01..2020-12",
        after="2022-01..2022-12",
        sources=["city_robbery_2020", "city_robbery_2022"],
    )
    halves = {"before": "2020-01..2020-06", "after": "2020-07..2020-12", "sources": ["city_violence_2020"]}
    show("City violence 2020, Jan-Jun vs Jul-Dec (COVID-19 restrictions in both halves)", study, **halves)
    show("The same on a 250 m grid", study, **halves, units="grid", cell_size=250.0)
    quarters = ["2020-01..2020-03", "2020-04..2020-06", "2020-07..2020-09", "2020-10..2020-12"]
    rest = sorted(set(study.lsoa[C.DISTRICT]) - {"Nottingham"})
    for i in range(3):
        show(
            f"County possession of weapons 2020, Q{i + 1} vs Q{i + 2}",
            study,
            before=quarters[i],
            after=quarters[i + 1],
            sources=["county_weapons_2020"],
        )
    show(
        "Possession of weapons, Q1 vs Q2: the City against the rest of the county",
        study,
        before=quarters[0],
        after=quarters[1],
        sources=["county_weapons_2020"],
        districts=["Nottingham"],
        comparison_districts=rest,
        comparison_label="the rest of the county",
    )
    two_sources(study)
    print("\n=== ILLUSTRATIVE intervention (made up to show the register working, NOT a real scheme) ===")
    names = study.lsoa.set_index(C.LSOA_CODE)[C.LSOA_NAME]
    print(
        f"treated {names['E01033406']} (E01033406), control {names['E01013855']} (E01013855), 200 m rings, from "
        f"2020-07, 6 months each side, City violence and robbery 2020 pooled (harm weights differ by offence)"
    )
    entry = InterventionConfig(
        name="illustration",
        start="2020-07",
        months=6,
        treated_lsoas=["E01033406"],
        control_lsoas=["E01013855"],
        buffer_m=200.0,
        sources=["city_violence_2020", "city_robbery_2020"],
    )
    r = run(study, **halves, interventions=(entry,))
    print(r.impact.T.to_string())
    claim()


if __name__ == "__main__":
    main()
