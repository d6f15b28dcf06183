"""Benchmark: the exact hot spot test (hotspots) against esda's permutation Gi*, side by side.

All inputs are SYNTHETIC (seeded): clustered incident counts (Poisson around 25 planted
centres plus a background) with the bundled data's harm-mark mix (1 / 1.5 / 4 in the
proportions 2,972 : 1,143 : 85) drawn per incident, on

* a square grid of 100 m cells (``--cells``, default 99,856 = 316 x 316; exposure: area);
* Voronoi polygons of clustered random points over a 50 x 80 km box (``--polygons``, default
  33,000, about England's LSOAs) with 1,000-3,000 residents each (exposure: residents).

Rows per case: hotspots ``hotspot_gistar`` with the default (exact test, Pearson dispersion),
with dispersion 1 (Poisson), and the ``permutation`` option (999 maps under the exposure
null); the peer is esda ``G_Local(star=True, transform="B", permutations=999,
keep_simulations=False)`` on a libpysal queen ``Graph`` (its conditional permutation null:
values shuffled among units, no exposure), with the same Benjamini-Hochberg step. Weights
are built once and passed to every row (their time is shown separately). Times are the best
of ``--repeat`` runs (esda: one run). "hot" counts units hot at q <= 0.05; "p floor" is the
smallest two-sided p the method can return (the Monte Carlo floor 2 / (R + 1) keeps BH at
99 % out of reach for a single unit once units outnumber R / 2 / 0.01).

Usage::

    .venv/bin/python scripts/bench_inference.py                 # full sizes (esda takes a minute or two)
    .venv/bin/python scripts/bench_inference.py --quick         # 20,000 cells and 10,000 polygons
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely

from hotspots.detect.gistar import contiguity_weights, fdr_bh, grid_weights
from hotspots.detect.inference import hotspot_gistar
from hotspots.units import make_grid

MIX = {1.0: 2972, 1.5: 1143, 4.0: 85}


def marked_counts(lam: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts per unit ~ Poisson(lam), each incident's mark drawn from the real mix; returns n, harm, marks."""
    vals = np.array(list(MIX))
    freqs = np.array(list(MIX.values()), dtype=float)
    freqs /= freqs.sum()
    n = rng.poisson(lam)
    per = rng.multinomial(n, freqs)
    return n, per @ vals, np.repeat(vals, per.sum(axis=0))


def grid_units(n_cells: int, rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """A square grid of about ``n_cells`` 100 m cells with clustered counts (1 incident per cell on average)."""
    side = round(n_cells**0.5)
    grid = make_grid(shapely.box(0, 0, side * 100, side * 100), cell_size=100)
    r, c = np.divmod(grid["cell_id"].to_numpy(), side)
    lam = np.full(len(grid), 0.2)
    for cr, cc in rng.uniform(0, side, (25, 2)):
        lam += 4.0 * np.exp(-((r - cr) ** 2 + (c - cc) ** 2) / (2 * 6.0**2))
    lam *= len(grid) / lam.sum()
    n, harm, marks = marked_counts(lam, rng)
    attrs = dict(grid.attrs)
    grid = grid.assign(n=n, harm=harm)
    grid.attrs = attrs
    return grid, marks


def polygon_units(n_poly: int, rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Voronoi polygons with residents and about 4.5 incidents each, spread by residents x a clustered risk."""
    box = shapely.box(0.0, 0.0, 50_000.0, 80_000.0)
    centres = rng.uniform([0, 0], [50_000, 80_000], (60, 2))
    pts = centres[rng.integers(0, 60, n_poly)] + rng.normal(0, 1500, (n_poly, 2))
    pts = pts[(pts[:, 0] > 0) & (pts[:, 0] < 50_000) & (pts[:, 1] > 0) & (pts[:, 1] < 80_000)][: n_poly // 2]
    seeds = np.vstack([pts, rng.uniform([0, 0], [50_000, 80_000], (n_poly - len(pts), 2))])
    polys = shapely.intersection(
        np.asarray(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=box).geoms), box
    )
    pop = rng.integers(1000, 3000, len(polys)).astype(float)
    risk = rng.gamma(2.0, 0.5, len(polys))
    lam = 4.5 * len(polys) * pop * risk / (pop * risk).sum()
    n, harm, marks = marked_counts(lam, rng)
    return gpd.GeoDataFrame({"n": n, "harm": harm, "population": pop}, geometry=polys, crs="EPSG:27700"), marks


def best_of(f: Callable[[], Any], k: int) -> tuple[float, Any]:
    """Best wall time of ``k`` calls, and the last result."""
    times, out = [], None
    for _ in range(k):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return min(times), out


def esda_gistar(values: np.ndarray, W: sp.csr_array) -> tuple[np.ndarray, np.ndarray]:
    """Run esda G_Local (Gi*, binary, 999 conditional permutations): z and two-sided pseudo p."""
    import esda
    from libpysal.graph import Graph

    A = W.tolil()
    A.setdiag(0)
    g = Graph.from_sparse(sp.csr_array(A.tocsr()))
    gl = esda.G_Local(values, g, transform="B", star=True, permutations=999, seed=0, keep_simulations=False)
    return np.asarray(gl.Zs, dtype=float), np.minimum(1.0, 2.0 * np.asarray(gl.p_sim, dtype=float))


def case(label: str, units: gpd.GeoDataFrame, marks: np.ndarray, W: sp.csr_array, t_w: float, repeat: int) -> None:
    """Print the rows of one case."""
    n = len(units)
    rows = []
    for name, kw in (
        ("hotspots exact, 'pearson' (default)", {}),
        ("hotspots exact, dispersion 1", {"dispersion": 1.0}),
        ("hotspots 'permutation' (999)", {"inference": "permutation", "permutations": 999}),
    ):
        k = 1 if "permutation" in kw.get("inference", "") else repeat
        secs, out = best_of(lambda kw=kw: hotspot_gistar(units, value="harm", marks=marks, weights=W, **kw), k)
        hot = int(((out["gi_q"] <= 0.05) & (out["gi_z"] > 0) & (units["n"] >= 1)).sum())
        floor = "none" if "permutation" not in name else f"{2 / 1000:.3g}"
        rows.append((name, secs, hot, floor, float(out["gi_p"].min())))
    secs, (z, p) = best_of(lambda: esda_gistar(units["harm"].to_numpy(float), W), 1)
    q = fdr_bh(p)
    rows.append(("esda G_Local 999 perm. (peer)", secs, int(((q <= 0.05) & (z > 0)).sum()), f"{2 / 1000:.3g}", p.min()))
    peer = rows[-1][1]
    for name, secs, hot, floor, pmin in rows:
        ratio = "" if name.startswith("esda") else f"(ours {peer / secs:.2g}x)"
        print(
            f"{label:<26} {name:<37} {n:>8,} {secs:>8.2f} {ratio:>13} {hot:>7,} {floor:>8} {pmin:>10.2g}"
            f"   weights {t_w:.2f} s"
        )


def main() -> None:
    """Print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=99_856)
    ap.add_argument("--polygons", type=int, default=33_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="20,000 cells and 10,000 polygons")
    args = ap.parse_args()
    if args.quick:
        args.cells, args.polygons = 20_000, 10_000
    rng = np.random.default_rng(2026)
    print("SYNTHETIC inputs (seeded; see the docstring)\n")
    head = f"{'case':<26} {'implementation':<37} {'units':>8} {'seconds':>8} {'x faster':>13} {'hot q<=.05':>7} "
    print(head + f"{'p floor':>8} {'min p':>10}")
    print("-" * (len(head) + 20))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid, marks = grid_units(args.cells, rng)
        t = time.perf_counter()
        W = grid_weights(grid)
        case("grid, exposure area", grid, marks, W, time.perf_counter() - t, args.repeat)
        polys, marks = polygon_units(args.polygons, rng)
        t = time.perf_counter()
        W = contiguity_weights(polys)
        case("polygons, residents", polys, marks, W, time.perf_counter() - t, args.repeat)
    print(
        "\nx faster: esda seconds / hotspots seconds. The nulls differ: hotspots conditions on exposure (area, "
        "residents) and the marks; esda permutes the values among units."
    )


if __name__ == "__main__":
    main()
