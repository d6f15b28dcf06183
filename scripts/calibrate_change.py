"""Calibration and power of the per-unit change test on the bundled real data (the numbers in docs/change.md).

Data: the three bundled 2020 sources with 12 months (City violence and City robbery on the 182 City
LSOAs, county possession of weapons on the 679 county LSOAs), every incident placed in its LSOA by
location. Two settings of the test: ``none`` (the plain exact test, incidents independent) and
``auto`` (the default: month-to-month overdispersion estimated within the periods, each unit's
design effect ``1 + c mu``). Every simulated data set re-estimates the dispersion, as the CLI does.

Nulls ("no change anywhere"):
  iid      each incident's month drawn at random (1,000 data sets): the test's own null;
  permute  incidents' month labels permuted (1,000): the area's real monthly totals are kept;
  splits   the 12 calendar months split into two sets of 6 in all 462 ways: whole months move, so the
           real month-to-month variation (lockdowns included) stays in the data.
For each: the share of data sets with any LSOA at q <= 0.05 (BH) and P(p <= 0.05) over units.
Power: a 50 % fall planted in the ten busiest LSOAs (shuffled months; the real halves), and the
stated minimum detectable fall simulated with Poisson and with overdispersed monthly counts.

Run: .venv/bin/python scripts/calibrate_change.py   (about a minute)
"""

from __future__ import annotations

import itertools
import time
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from hotspots import columns as C
from hotspots.config import load_config
from hotspots.evaluate._exact import binom_p_two_sided
from hotspots.evaluate.change import count_change
from hotspots.evaluate.change_units import assign_lsoa
from hotspots.evaluate.power import mde_fall
from hotspots.evaluate.tally import estimate_dispersion
from hotspots.prepare.study import load_study

SIMS = 1000


def matrices() -> dict[str, tuple[np.ndarray, np.ndarray, int]]:
    """Per source: (unit position, month index) of every incident in its LSOAs, and the number of LSOAs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = load_study(load_config())
    out = {}
    for src, city_only in (("city_violence_2020", True), ("city_robbery_2020", True), ("county_weapons_2020", False)):
        lsoa = study.lsoa[study.lsoa[C.DISTRICT] == "Nottingham"] if city_only else study.lsoa
        inc = study.incidents[study.incidents[C.SOURCE] == src]
        pos = pd.Index(lsoa[C.LSOA_CODE]).get_indexer(assign_lsoa(inc, study.lsoa, tolerance=250.0))
        mon = inc[C.MONTH].str[5:7].astype(int).to_numpy() - 1
        ok = pos >= 0
        out[src] = (pos[ok], mon[ok], len(lsoa))
    return out


def month_matrix(unit: np.ndarray, month: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(unit * 12 + month, minlength=n * 12).reshape(n, 12)


def test_p(
    mat: np.ndarray, before: list[int], after: list[int], setting: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """p-values of the test (``none`` or ``auto``) of the months ``after`` against ``before``; and the counts."""
    b, a = mat[:, before].sum(axis=1), mat[:, after].sum(axis=1)
    if setting == "none":
        phi = np.ones(len(b))
    else:
        phi = estimate_dispersion(mat[:, before], mat[:, after]).phi((a + b) / (len(before) + len(after)))
    p = count_change(b, a, before_months=len(before), after_months=len(after), dispersion=phi).p_value
    return p, b, a


def any_flagged(p: np.ndarray) -> bool:
    ok = np.isfinite(p)
    return bool(ok.any() and (stats.false_discovery_control(p[ok]) <= 0.05).any())


def nulls(data: dict[str, tuple[np.ndarray, np.ndarray, int]]) -> None:
    rng = np.random.default_rng(2026)
    halves = list(range(6, 12))
    splits = [list(c) for c in itertools.combinations(range(12), 6) if 0 in c]
    print("\nNULLS: share of data sets with any LSOA at q <= 0.05 | P(p <= 0.05) over tested units")
    head = f"{'none: any':>10} {'P(p<=.05)':>10}  {'auto: any':>10} {'P(p<=.05)':>10}"
    print(f"{'source':<22}{'null':<9}{'sets':>6}  {head}")
    for src, (unit, month, n) in data.items():
        for null in ("iid", "permute", "splits"):
            sets = SIMS if null != "splits" else len(splits)
            res = {"none": [0, []], "auto": [0, []]}
            for i in range(sets):
                if null == "splits":
                    mat, after = month_matrix(unit, month, n), splits[i]
                else:
                    m = rng.integers(0, 12, len(month)) if null == "iid" else rng.permutation(month)
                    mat, after = month_matrix(unit, m, n), halves
                before = [k for k in range(12) if k not in after]
                for setting, tallies in res.items():
                    p, _, _ = test_p(mat, before, after, setting)
                    tallies[0] += any_flagged(p)
                    tallies[1].append(p[np.isfinite(p)])
            cells = []
            for setting in ("none", "auto"):
                share = res[setting][0] / sets
                pv = np.concatenate(res[setting][1])
                cells.append(f"{share:10.3f} {(pv <= 0.05).mean():10.4f}")
            print(f"{src:<22}{null:<9}{sets:>6}  " + "  ".join(cells))


def dispersion_by_rate(data: dict[str, tuple[np.ndarray, np.ndarray, int]]) -> None:
    unit, month, n = data["city_violence_2020"]
    mat = month_matrix(unit, month, n)
    halves = (mat[:, :6], mat[:, 6:])
    c = estimate_dispersion(*halves).c
    mu = mat.sum(axis=1) / 12
    print(
        f"\nMONTH-TO-MONTH VARIATION of City violence 2020 within the halves, by incidents per month (NB2 c = {c:.4f})"
    )
    print(f"{'incidents a month':<20}{'LSOAs':>7}{'observed var/mean':>19}{'modelled 1 + c mu':>19}")
    for lo, hi in ((0, 1), (1, 2), (2, 4), (4, 8), (8, 16), (16, 60)):
        s = (mu >= lo) & (mu < hi)
        if not s.any():
            continue
        ss = sum(((h[s] - h[s].mean(axis=1, keepdims=True)) ** 2).sum() for h in halves)
        den = sum(h[s].mean(axis=1).sum() * (h.shape[1] - 1) for h in halves)
        print(f"{f'{lo}-{hi}':<20}{int(s.sum()):>7}{ss / den:>19.2f}{1 + c * mu[s].mean():>19.2f}")


def plants(data: dict[str, tuple[np.ndarray, np.ndarray, int]]) -> None:
    rng = np.random.default_rng(7)
    unit, month, n = data["city_violence_2020"]
    top = np.argsort(-np.bincount(unit, minlength=n), kind="stable")[:10]
    print("\nPOWER: a 50 % fall planted in the ten busiest City LSOAs (violence 2020), found at q <= 0.05")
    print(f"{'data':<34}{'setting':<8}{'median found':>13}{'>= 7 found':>12}{'false disc.':>12}")
    designs = [
        ("months shuffled, Jan-Jun / Jul-Dec", list(range(6)), list(range(6, 12)), True),
        ("real months, Jan-Jun / Jul-Dec", list(range(6)), list(range(6, 12)), False),
        ("real months, Jul-Sep / Oct-Dec", [6, 7, 8], [9, 10, 11], False),
    ]
    for label, before, after, shuffled in designs:
        for setting in ("none", "auto"):
            found, fdp = [], []
            for _ in range(400):
                m = rng.permutation(month) if shuffled else month
                drop = np.isin(unit, top) & np.isin(m, after) & (rng.random(len(m)) < 0.5)
                p, b, a = test_p(month_matrix(unit[~drop], m[~drop], n), before, after, setting)
                q = np.full(len(p), np.nan)
                ok = np.isfinite(p)
                q[ok] = stats.false_discovery_control(p[ok])
                found.append(int(((q[top] <= 0.05) & (a[top] < b[top])).sum()))
                flagged = int((q <= 0.05).sum())
                fdp.append((flagged - int((q[top] <= 0.05).sum())) / max(flagged, 1))
            f = np.array(found)
            print(f"{label:<34}{setting:<8}{np.median(f):>13.0f}{(f >= 7).mean():>12.3f}{np.mean(fdp):>12.3f}")


def mde_check() -> None:
    rng = np.random.default_rng(5)
    print("\nMINIMUM DETECTABLE FALL achieved in simulation (stated power 80 %, two-sided alpha 0.05 per unit)")
    print("Poisson counts, plain exact test (20,000 simulations each):")
    for tb, ta in ((12, 12), (6, 6), (9, 3), (3, 9)):
        mus = np.array([8.0, 15, 40, 120, 400])
        f = mde_fall(mus, before_months=tb, after_months=ta)
        ok = np.isfinite(f)
        bef = rng.poisson(mus[ok][None, :], size=(20000, int(ok.sum())))
        aft = rng.poisson((mus[ok] * ta / tb * (1 - f[ok]))[None, :], size=(20000, int(ok.sum())))
        hit = ((binom_p_two_sided(aft, aft + bef, ta / (ta + tb)) <= 0.05) & (aft / ta < bef / tb)).mean(axis=0)
        cells = ", ".join(f"{m:g}: {100 * x:.0f} % -> {h:.3f}" for m, x, h in zip(mus[ok], f[ok], hit, strict=True))
        print(f"  {tb:2d} vs {ta:2d} months, before count: MDE -> power  {cells}")
    print("Overdispersed monthly counts (NB2, c = 0.2), default test with the dispersion re-estimated (2,000 sets):")
    c, units, rates = 0.2, 300, np.array([2.0, 4.0, 10.0, 25.0])
    r = np.repeat(rates, units // len(rates))
    f = mde_fall(12 * r, before_months=12, after_months=12, nb2_c=c)
    hits = []
    for _ in range(2000 // units * 10):
        lb = r[:, None] * rng.gamma(1 / c, c, size=(len(r), 12))
        la = (r * (1 - f))[:, None] * rng.gamma(1 / c, c, size=(len(r), 12))
        mat = np.hstack([rng.poisson(lb), rng.poisson(la)])
        b, a = mat[:, :12].sum(axis=1), mat[:, 12:].sum(axis=1)
        phi = estimate_dispersion(mat[:, :12], mat[:, 12:]).phi((a + b) / 24)
        p = count_change(b, a, before_months=12, after_months=12, dispersion=phi).p_value
        hits.append((p <= 0.05) & (a < b))
    h = np.array(hits).mean(axis=0)
    print("  " + ", ".join(f"{m:g}/month: MDE {100 * f[r == m][0]:.0f} % -> {h[r == m].mean():.3f}" for m in rates))


def main() -> None:
    t0 = time.perf_counter()
    data = matrices()
    for src, (unit, month, n) in data.items():
        print(f"{src}: {len(unit):,} incidents in {n} LSOAs; per month {np.bincount(month, minlength=12).tolist()}")
    dispersion_by_rate(data)
    nulls(data)
    plants(data)
    mde_check()
    print(f"\n({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
