"""Before and after on the bundled REAL data: the most-harm place, institutions, kits, honest numbers.

For the bundled configuration ([study] sources = the force-wide sources) and the pooled one
(every source, as a new user who leaves ``[study] sources`` out would run it):

1. the place with the most harm: its composite rank and tier (BEFORE, ``[rank] method =
   "composite"``) and its harm rank and tier (AFTER, the default axes);
2. institutional locations: incidents flagged, the LSOAs holding them and their harm rank with
   the institutions kept (BEFORE, ``[institutions] exclude_from = []``) and left out (AFTER);
   kits within 100 m of an institutional snap point before and after;
3. honest numbers: the Gini beside its chance floor, rates a year with the population year,
   the most different near-optimal kit set.

Run: ``.venv/bin/python scripts/analysis_rank_before_after.py`` (about a minute).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.config import load_config
from hotspots.detect import detect
from hotspots.prepare.institutions import InstitutionsConfig
from hotspots.prepare.study import load_study
from hotspots.rank.config import RankConfig
from hotspots.rank.stage import rank
from hotspots.sites.stage import site


def _variant(study, cfg, *, pooled: bool, keep_institutions: bool):
    inputs = study.config
    if pooled:
        inputs = dataclasses.replace(inputs, study=dataclasses.replace(inputs.study, sources=[]))
    if keep_institutions:
        inputs = dataclasses.replace(inputs, institutions=InstitutionsConfig(exclude_from=[]))
    return dataclasses.replace(study, config=inputs)


def _kits_near_institutions(kits: pd.DataFrame, institutions: pd.DataFrame, radius: float = 100.0) -> list[str]:
    if not len(institutions):
        return []
    pts = institutions.drop_duplicates(["x", "y"])
    out = []
    for r in kits.itertuples():
        d = np.hypot(pts["x"].to_numpy() - r.x, pts["y"].to_numpy() - r.y)
        if (d <= radius).any():
            i = int(np.argmin(d))
            out.append(f"{r.name} ({d[i]:.0f} m from {pts['location'].iloc[i]})")
    return out


def main() -> None:
    """Print the before/after figures."""
    cfg = load_config()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = load_study(cfg)
        print(f"institutional incidents flagged: {int((study.incidents[C.INSTITUTION] != '').sum())} of "
              f"{len(study.incidents):,} (by name and coordinates):")  # fmt: skip
        print(study.institutions.groupby(["location", "matched_by"])["incidents"].sum().to_string())
        for pooled in (False, True):
            label = "pooled (every source)" if pooled else "bundled ([study] sources)"
            before = _variant(study, cfg, pooled=pooled, keep_institutions=True)
            after = _variant(study, cfg, pooled=pooled, keep_institutions=False)
            det = detect(after, cfg.detect)
            comp = rank(before, det, RankConfig(method="composite", draws=200)).places.set_index(C.LSOA_CODE)
            axes_kept = rank(before, det, RankConfig(draws=200)).places.set_index(C.LSOA_CODE)
            res = rank(after, det, RankConfig(draws=200))
            axes = res.places.set_index(C.LSOA_CODE)
            left = res.summary["evidence"]["institutional_incidents_left_out"]
            print(f"\n== {label}: {res.summary['ranked_incidents']:,} incidents ranked ({left} institutional left out)")
            top = comp["harm"].idxmax()
            print(f"most harm (institutions kept): {top} {comp.loc[top, 'lsoa_name']}, n = {comp.loc[top, 'n']}: "
                  f"composite rank {comp.loc[top, 'rank']} tier {comp.loc[top, 'tier']}; "
                  f"axes harm rank {axes_kept.loc[top, 'harm_rank']} tier {axes_kept.loc[top, 'tier']}")  # fmt: skip
            top2 = axes["harm"].idxmax()
            name2 = axes.loc[top2, "lsoa_name"]
            print(f"most harm (institutions left out): {top2} {name2}, n = {axes.loc[top2, 'n']}: "
                  f"harm rank {axes.loc[top2, 'harm_rank']} ({axes.loc[top2, 'harm_rank_low']}-"
                  f"{axes.loc[top2, 'harm_rank_high']}), tier {axes.loc[top2, 'tier_name']}")  # fmt: skip
            inc = before.analysis_incidents
            flagged = inc[inc[C.INSTITUTION] != ""].groupby(C.LSOA_CODE)[C.INSTITUTION].agg(["size", "first"])
            for code, r in flagged.sort_values("size", ascending=False).head(5).iterrows():
                nm = axes.loc[code, "lsoa_name"]
                print(f"  {code} {nm}: {r['size']} of {axes_kept.loc[code, 'n']} incidents at "
                      f"a {r['first']}; harm rank {axes_kept.loc[code, 'harm_rank']} "
                      f"(tier {axes_kept.loc[code, 'tier']})"
                      f" -> {axes.loc[code, 'harm_rank']} (tier {axes.loc[code, 'tier']}); composite rank "
                      f"{comp.loc[code, 'rank']}")  # fmt: skip
            conc = res.summary["concentration_lsoa"]
            print(f"Gini over LSOAs {conc['gini']:.3f}; chance floor (residents) "
                  f"{conc['gini_chance_floor_residents']['mean']:.3f} "
                  f"[{conc['gini_chance_floor_residents']['low']:.3f}-"
                  f"{conc['gini_chance_floor_residents']['high']:.3f}],"
                  f" (area) {conc['gini_chance_floor_area']['mean']:.3f}")  # fmt: skip
            rates = res.summary["rates"]
            print(f"rates: {rates['incidents_per_1000_yr']:.1f} incidents and {rates['harm_per_1000_yr']:.1f} harm "
                  f"per 1,000 residents a year ({rates['population_year']}); months by source "
                  f"{rates['months_by_source']}")  # fmt: skip
            for name, s in (("before", before), ("after", after)):
                sres = site(s, det, cfg.sites, cfg.outreach)
                near = _kits_near_institutions(sres.kits, study.institutions)
                alt = sres.summary["kit_alternatives"]
                diff = alt["most_different_set"]
                print(f"kits {name}: {len(near)} within 100 m of an institutional point {near}; kits with an "
                      f"alternative within 1 %: {alt['kits_with_an_alternative']} of {len(sres.kits)}; best set "
                      f"sharing <= {diff['max_shared']} sites: {diff['pct_of_optimum']:.1f} % of the optimum "
                      f"(shares {diff['shared']})")  # fmt: skip


if __name__ == "__main__":
    main()
