"""Null calibration, power and real-data results of hot spot inference, before and after.

Run: ``.venv/bin/python scripts/null_calibration.py [--config FILE] [--maps 200]`` (about 2-4
minutes on 2 cores). Prints markdown tables, all on the study's own units (the default
run's grid and LSOAs, its place-analysis incidents with their real harm marks):

1. false alarms: share of maps SIMULATED under the exposure null (complete spatial
   randomness on the grid; equal rate per resident on the LSOAs) with any unit hot at
   q <= 0.01 and q <= 0.05: BEFORE (the analytic Gi* + BH that was the default) and every
   option now, the default (exact test, Pearson dispersion) first;
2. super-uniformity of the exact p-values;
3. the same under extra-Poisson variation without clustering (negative-binomial units);
4. power: clusters of 3-5 neighbouring units planted at 2x, 3x, 5x and 10x their expected count;
5. the real data: hot and cold units per method, hot units without an incident, the unit
   holding the most incidents;
6. accuracy of the saddlepoint fallback, and of the Poisson version against the binomial;
7. where cold spots are attainable.

Everything in tables 1-4 and 6 is synthetic (seeded) and labelled so; table 5 and 7 are the
real data.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from scipy import stats

from hotspots import load_config, load_study
from hotspots.detect import calibration as K
from hotspots.detect._marks import mark_mix
from hotspots.detect._montecarlo import permutation_test
from hotspots.detect._saddle import saddlepoint_tails
from hotspots.detect._tails import compound_poisson_tails
from hotspots.detect.gistar import classify, fdr_bh, gistar
from hotspots.detect.inference import hotspot_gistar
from hotspots.detect.methods.eb_rate import eb_rates
from hotspots.detect.methods.exact import exact_test, min_expected_for_cold

SEED = 20261129


def row(*cells: object) -> None:
    """Print one markdown table row."""
    print("| " + " | ".join(str(c) for c in cells) + " |")


def pct(x: float, maps: int) -> str:
    """Share as a percentage and a count of maps."""
    return f"{100 * x:.1f} % ({round(x * maps)}/{maps})"


def eb_maps(lay: K.Layer, harm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Option ``eb_rate`` map by map (units x maps)."""
    z = np.zeros(harm.shape)
    q = np.ones(harm.shape)
    kappa = lay.mix.second_moment / lay.mix.mean
    for m in range(harm.shape[1]):
        zz, pp = gistar(eb_rates(harm[:, m], lay.prob, kappa=kappa), lay.W)
        z[:, m], q[:, m] = zz, fdr_bh(pp)
    return z, q


def permutation_maps(lay: K.Layer, harm: np.ndarray, n_maps: int) -> tuple[np.ndarray, np.ndarray]:
    """Option ``permutation`` (999 simulations) on the first ``n_maps`` maps."""
    z = np.zeros((harm.shape[0], n_maps))
    q = np.ones((harm.shape[0], n_maps))
    for m in range(n_maps):
        local = np.asarray(lay.W @ harm[:, m])
        zz, pp = permutation_test(local, lay.W, lay.prob, lay.mix, counts=False, permutations=999, seed=m)
        z[:, m], q[:, m] = zz, fdr_bh(pp)
    return z, q


def false_alarms(units: K.StudyUnits, maps: int) -> None:
    """Table 1."""
    print(f"\n## 1. False alarms under the exposure null ({maps} SIMULATED maps per layer, real harm marks)\n")
    row("layer", "method", "any hot 99 % (q <= 0.01)", "any hot >= 95 % (q <= 0.05)", "any cold >= 95 %")
    row(*["---"] * 5)
    for name, lay in units.layers.items():
        counts, harm = K.null_maps(lay, maps, seed=SEED)
        cases = {
            "BEFORE: analytic Gi* + BH (the old default)": (*K.analytic_maps(lay, counts, harm), False),
            "NOW: exact, harm, dispersion 'pearson' (default)": (
                *K.exact_maps(lay, counts, harm, dispersion="pearson"),
                True,
            ),
            "exact, harm, dispersion 1 (Poisson)": (*K.exact_maps(lay, counts, harm), True),
            "exact, counts, 'pearson'": (*K.exact_maps(lay, counts, harm, value="n", dispersion="pearson"), True),
            "option 'analytic' (Gi* z; hot needs an incident)": (*K.analytic_maps(lay, counts, harm), True),
            "option 'eb_rate'": (*eb_maps(lay, harm), True),
        }
        for label, (z, q, need) in cases.items():
            cold = float(((q <= 0.05) & (z < 0)).any(axis=0).mean())
            row(
                name,
                label,
                pct(K.share_hot(z, q, counts, level=0.01, need_incident=need), maps),
                pct(K.share_hot(z, q, counts, level=0.05, need_incident=need), maps),
                pct(cold, maps),
            )
        n_perm = 50
        z, q = permutation_maps(lay, harm, n_perm)
        c = counts[:, :n_perm]
        row(
            name,
            f"option 'permutation' (999 simulations; first {n_perm} maps)",
            pct(K.share_hot(z, q, c, level=0.01), n_perm),
            pct(K.share_hot(z, q, c, level=0.05), n_perm),
            pct(float(((q <= 0.05) & (z < 0)).any(axis=0).mean()), n_perm),
        )


def super_uniform(units: K.StudyUnits) -> None:
    """Table 2."""
    print("\n## 2. Super-uniformity of the exact two-sided p (SIMULATED, pooled over units and maps): P(p <= a) / a\n")
    levels = (1e-4, 1e-3, 0.01, 0.05, 0.1, 0.5)
    row("layer", "maps", "p-values", *[f"a = {a:g}" for a in levels])
    row(*["---"] * (3 + len(levels)))
    for (name, lay), n_maps in zip(units.layers.items(), (1000, 4000), strict=True):
        _, harm = K.null_maps(lay, n_maps, seed=7)
        _, p, _ = exact_test(np.asarray(lay.W @ harm), lay.lam, lay.mix)
        row(name, n_maps, f"{p.size:,}", *[f"{(p <= a).mean() / a:.3f}" for a in levels])


def overdispersed(units: K.StudyUnits, maps: int) -> None:
    """Table 3."""
    print(
        f"\n## 3. Extra-Poisson variation between units, no clustering ({maps} SIMULATED maps; negative-binomial"
        " units with the dispersion measured on the real data)\n"
    )
    row("layer", "dispersion", "method", "any hot 99 %", "any hot >= 95 %")
    row(*["---"] * 5)
    for name, phi in (("lsoa", 7.3), ("lsoa", 2.0), ("grid", 3.7)):
        lay = units.layers[name]
        counts, harm = K.overdispersed_maps(lay, phi, maps, seed=11)
        for label, (z, q, need) in {
            "BEFORE analytic Gi*": (*K.analytic_maps(lay, counts, harm), False),
            "exact, dispersion 1 (Poisson)": (*K.exact_maps(lay, counts, harm), True),
            "NOW exact, 'pearson' (default)": (*K.exact_maps(lay, counts, harm, dispersion="pearson"), True),
        }.items():
            row(
                name,
                phi,
                label,
                pct(K.share_hot(z, q, counts, level=0.01, need_incident=need), maps),
                pct(K.share_hot(z, q, counts, level=0.05, need_incident=need), maps),
            )


def power(units: K.StudyUnits, maps: int) -> None:
    """Table 4."""
    print(
        f"\n## 4. Power: share of {maps} SIMULATED maps where a planted cluster (3-5 neighbouring units) has a unit "
        "hot at q <= 0.05\n"
    )
    row("layer", "factor", "median expected in cluster", "NOW exact 'pearson'", "exact Poisson", "BEFORE analytic")
    row(*["---"] * 6)
    for name, lay in units.layers.items():
        for factor in (2, 3, 5, 10):
            counts, harm, planted, expected = K.planted_maps(lay, factor, maps, seed=factor)
            zd, qd = K.exact_maps(lay, counts, harm, dispersion="pearson")
            z, q = K.exact_maps(lay, counts, harm)
            zb, qb = K.analytic_maps(lay, counts, harm)
            row(
                name,
                f"{factor}x",
                f"{np.median(expected):.1f}",
                f"{100 * K.share_hot(zd, qd, counts, level=0.05, within=planted):.1f} %",
                f"{100 * K.share_hot(z, q, counts, level=0.05, within=planted):.1f} %",
                f"{100 * K.share_hot(zb, qb, counts, level=0.05, within=planted, need_incident=False):.1f} % "
                "(miscalibrated)",
            )


def real_data(units: K.StudyUnits) -> None:
    """Table 5."""
    print(f"\n## 5. The real data ({len(units.marks):,} place-analysis incidents, harm)\n")
    row("layer", "method", "hot 99/95/90", "hot", "cold", "hot without an incident", "unit with the most incidents")
    row(*["---"] * 7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, frame in (("grid", units.grid), ("lsoa", units.lsoa)):
            z, p = gistar(frame["harm"].to_numpy(float), units.layers[name].W)
            before = frame.assign(gi_z=z, hotspot_class=classify(z, fdr_bh(p)))
            runs = {"BEFORE analytic Gi* + BH (the old default)": before}
            for disp, label in (("pearson", "NOW exact, 'pearson' (default)"), (1.0, "exact, dispersion 1")):
                out = hotspot_gistar(frame, value="harm", marks=units.marks, dispersion=disp)
                runs[f"{label}, phi {out.attrs['inference']['dispersion']:.1f}"] = out
            if name == "grid":
                for disp in ("pearson", 1.0):
                    out = hotspot_gistar(frame, value="harm", marks=units.marks, exposure="residents", dispersion=disp)
                    runs[
                        f"exact, grid_exposure residents, dispersion {disp}, phi "
                        f"{out.attrs['inference']['dispersion']:.1f}"
                    ] = out
            for inf in ("analytic", "eb_rate", "permutation"):
                runs[f"option '{inf}'"] = hotspot_gistar(frame, value="harm", marks=units.marks, inference=inf)
            for label, out in runs.items():
                cls = out["hotspot_class"]
                hot = cls.str.startswith("hot")
                k = out.loc[out["n"].idxmax()]
                key = f" {k['lsoa_code']}" if name == "lsoa" else ""
                row(
                    name,
                    label,
                    "/".join(str(int((cls == c).sum())) for c in ("hot 99%", "hot 95%", "hot 90%")),
                    int(hot.sum()),
                    int(cls.str.startswith("cold").sum()),
                    int((hot & (out["n"] == 0)).sum()),
                    f"{k['hotspot_class']} (z {k['gi_z']:.1f}, n {int(k['n'])}){key}",
                )
    lsoa = units.lsoa
    top = lsoa.loc[lsoa["n"].idxmax()]
    exp = lsoa["n"].sum() * top["population"] / lsoa["population"].sum()
    print(
        f"\nLSOA with the most incidents ({top['lsoa_code']}): {int(top['n'])} incidents, {int(top['population'])} "
        f"residents, expected {exp:.2f} under equal rate per resident: {top['n'] / exp:.1f}x."
    )


def accuracy(units: K.StudyUnits) -> None:
    """Table 6."""
    print("\n## 6. Accuracy of the fallbacks (SIMULATED / computed)\n")
    mix = units.layers["lsoa"].mix
    print("Largest relative error of the saddlepoint against the exact tails, where the exact p is in [1e-12, 0.1]:\n")
    row("distribution (real harm marks)", "expected incidents", "upper tail", "lower tail")
    row(*["---"] * 4)
    for phi in (1.0, 3.0):
        for lam in (16.0, 50.0, 200.0, 600.0):
            mean = lam * mix.mean / (mix.delta or 1.0)
            x = np.arange(int(mean * 0.3), int(mean * 3 + 40 * phi))[None, :] * (mix.delta or 1.0)
            eu, el, _ = compound_poisson_tails(x, np.array([lam]), mix, dispersion=phi)
            su, sl = saddlepoint_tails(x, np.array([lam]), mix, dispersion=phi)
            errs = []
            for ex, sa in ((eu, su), (el, sl)):
                sel = (ex > np.log(1e-12)) & (ex < np.log(0.1))
                errs.append(f"{np.max(np.abs(np.expm1(sa[sel] - ex[sel]))):.1e}" if sel.any() else "-")
            row("compound Poisson" if phi == 1 else f"compound NB (phi {phi:g})", f"{lam:g}", *errs)
    lay = units.layers["lsoa"]
    counts, _ = K.null_maps(lay, 1000, seed=3)
    local = np.asarray(lay.W @ counts.astype(float))
    pi = np.asarray(lay.W @ lay.prob)
    n_inc = lay.mix.n
    _, p_pois, _ = exact_test(local, n_inc * pi, mark_mix([1.0]))
    p_bin = np.minimum(
        1, 2 * np.minimum(stats.binom.sf(local - 1, n_inc, pi[:, None]), stats.binom.cdf(local, n_inc, pi[:, None]))
    )
    tail = p_bin < 0.05
    ratio = p_pois[tail] / p_bin[tail]
    print(
        f"\nPoisson vs exact binomial (counts, 1,000 SIMULATED LSOA null maps, {tail.sum():,} p < 0.05): Poisson p / "
        f"binomial p from {ratio.min():.3f} to {ratio.max():.3f} (median {np.median(ratio):.3f}); share with "
        f"Poisson p < binomial p: {(ratio < 1).mean():.3%}."
    )


def cold(units: K.StudyUnits) -> None:
    """Table 7."""
    print("\n## 7. Where cold spots are attainable (q <= 0.05, Poisson null; real units)\n")
    row("layer", "units", "min expected, every unit cold", "min expected, lone cold unit", "units reaching the first")
    row(*["---"] * 5)
    for name, lay in units.layers.items():
        best, lone = min_expected_for_cold(len(lay.prob))
        row(name, len(lay.prob), f"{best:.2f}", f"{lone:.2f}", int((lay.lam >= best).sum()))


def main() -> None:
    """Print every table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=None, help="config file (default: the bundled one)")
    ap.add_argument("--maps", type=int, default=200, help="simulated maps per layer and case")
    args = ap.parse_args()
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = load_study(load_config(args.config))
        units = K.study_units(study)
        mix = units.layers["grid"].mix
        print(
            f"study: {study.name}; {mix.n:,} place-analysis incidents; marks "
            f"{', '.join(f'{int(c):,} x {v:g}' for v, c in zip(mix.values, mix.counts, strict=True))}; "
            f"{len(units.grid):,} grid cells, {len(units.lsoa):,} LSOAs"
        )
        false_alarms(units, args.maps)
        super_uniform(units)
        overdispersed(units, args.maps)
        power(units, args.maps)
        real_data(units)
        accuracy(units)
        cold(units)
    print(f"\n(done in {time.perf_counter() - t:.0f} s)")


if __name__ == "__main__":
    main()
