"""Benchmark: KDE and Gi* + FDR (hotspots) against scikit-learn and esda, side by side.

All inputs are SYNTHETIC (seeded):

* **KDE**: 500,000 points over Nottinghamshire, 80 % drawn around the real incident
  locations of the bundled data (Gaussian jitter, sigma 300 m) and 20 % uniform over the
  county's bounding box, harm weights 1 / 1.5 / 4; a 100 m square grid over the county
  (the bundled 679 LSOAs; about 216,000 cells, built before the timer starts, time shown
  separately). Gaussian kernel, sigma 200 m on both sides, so the surfaces are comparable.
  hotspots: :func:`hotspots.detect.kde.hotspot_kde`; peer: ``sklearn.neighbors.KernelDensity``
  (``rtol=1e-4``: exact evaluation, ``rtol=0``, takes minutes even at 50,000 points) at the
  same cell centres. The correlation column compares
  the two surfaces.
* **Gi* on a grid**: a 316 x 316 square grid of 100 m cells (99,856 cells) with Poisson
  counts around 25 planted centres. hotspots: queen weights from the lattice
  (:func:`hotspots.detect.gistar.grid_weights`) + analytic Gi* + Benjamini-Hochberg + classes
  (:func:`hotspots.detect.inference.hotspot_gistar` with ``inference="analytic"``; the calibrated
  default is benchmarked in ``scripts/bench_inference.py``). Peer: libpysal ``Graph.build_contiguity`` (queen)
  + esda ``G_Local(star=True, transform="B", permutations=999, keep_simulations=False)``
  + the same FDR. The z column compares hotspots' z with esda's analytic ``Zs``; the class
  column the share of cells given the same 99 % hot/cold/other class.
* **Gi* on polygons**: 33,000 Voronoi polygons of clustered random points over the county's
  bounding box (LSOA-like: England has 32,844 LSOAs), Poisson values. hotspots:
  :func:`hotspots.detect.gistar.contiguity_weights` + the same statistic; peer as above.

Each row runs in a fresh Python process (``ru_maxrss`` = that process's peak resident
memory, imports included; "step MB" is the increase over the memory held just before the
timed step). numba is not installed, so esda runs its pure-numpy permutation path (no JIT
start-up; with numba the first call costs another 45-55 s, see /work/shared/NOTES.md).

Targets (issue 3): KDE under 1 s end to end and at least 100x faster than scikit-learn at
correlation >= 0.999; Gi* with FDR under 1 s each including the weights.

Usage::

    .venv/bin/python scripts/bench_detect.py            # full sizes (scikit-learn takes minutes)
    .venv/bin/python scripts/bench_detect.py --quick    # 50,000 KDE points, 20,000 cells/polygons
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LSOA = ROOT / "data" / "boundaries" / "lsoa2011_bsc_nottinghamshire.gpkg"
CONFIG = ROOT / "data" / "nottinghamshire.toml"
SIGMA = 200.0
CELL = 100.0


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# --------------------------------------------------------------------------------------
# inputs (written once by the parent process)
# --------------------------------------------------------------------------------------


def prepare(work: Path, *, kde_points: int, cells_side: int, polygons: int) -> None:
    import numpy as np

    warnings.simplefilter("ignore")
    from hotspots.config import load_config
    from hotspots.prepare.study import load_study

    rng = np.random.default_rng(0)
    study = load_study(load_config(CONFIG))
    real = np.column_stack([study.incidents.geometry.x, study.incidents.geometry.y])
    minx, miny, maxx, maxy = study.lsoa.total_bounds
    n_near = int(0.8 * kde_points)
    near = real[rng.integers(0, len(real), n_near)] + rng.normal(0, 300, (n_near, 2))
    far = rng.uniform([minx, miny], [maxx, maxy], (kde_points - n_near, 2))
    xy = np.vstack([near, far])
    np.save(work / "kde_xy.npy", xy)
    np.save(work / "kde_w.npy", rng.choice([1.0, 1.5, 4.0], len(xy), p=[0.8, 0.1, 0.1]))

    # grid values: Poisson around planted centres
    side = cells_side
    r, c = np.divmod(np.arange(side * side), side)
    lam = np.full(side * side, 0.3)
    for cr, cc in rng.uniform(0, side, (25, 2)):
        lam += 6.0 * np.exp(-((r - cr) ** 2 + (c - cc) ** 2) / (2 * 3.0**2))
    np.save(work / "grid_values.npy", rng.poisson(lam).astype(float))

    # Voronoi polygons of clustered points
    centres = rng.uniform([minx, miny], [maxx, maxy], (60, 2))
    clustered = centres[rng.integers(0, 60, polygons)] + rng.normal(0, 1500, (polygons, 2))
    inside = (clustered[:, 0] > minx) & (clustered[:, 0] < maxx) & (clustered[:, 1] > miny) & (clustered[:, 1] < maxy)
    clustered = clustered[inside][: polygons // 2]
    seeds = np.vstack([clustered, rng.uniform([minx, miny], [maxx, maxy], (polygons - len(clustered), 2))])
    np.save(work / "poly_seeds.npy", seeds)
    np.save(work / "bbox.npy", np.array([minx, miny, maxx, maxy]))


def voronoi(work: Path):
    import geopandas as gpd
    import numpy as np
    import shapely

    seeds = np.load(work / "poly_seeds.npy")
    box = shapely.box(*np.load(work / "bbox.npy"))
    vor = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=box)
    polys = shapely.intersection(np.asarray(vor.geoms), box)
    # values: more where seeds are dense (small polygons), Poisson
    area = shapely.area(polys)
    rng = np.random.default_rng(1)
    vals = rng.poisson(2.0 + 2e6 / np.maximum(area, 1e5)).astype(float)
    return gpd.GeoDataFrame({"harm": vals}, geometry=polys, crs="EPSG:27700")


def county_grid():
    import geopandas as gpd

    from hotspots.units import make_grid

    lsoa = gpd.read_file(LSOA).to_crs("EPSG:27700")
    return make_grid(lsoa, cell_size=CELL)


def box_grid(side: int):
    import numpy as np
    import shapely

    from hotspots.units import make_grid

    g = make_grid(shapely.box(0, 0, side * CELL, side * CELL), cell_size=CELL)
    attrs = dict(g.attrs)
    g = g.assign(harm=np.zeros(len(g)))
    g.attrs = attrs
    return g


# --------------------------------------------------------------------------------------
# cases (each runs in its own process)
# --------------------------------------------------------------------------------------


def case_kde_hotspots(work: Path) -> dict:
    import geopandas as gpd
    import numpy as np

    from hotspots.detect.kde import hotspot_kde

    t = time.perf_counter()
    grid = county_grid()
    t_grid = time.perf_counter() - t
    xy = np.load(work / "kde_xy.npy")
    pts = gpd.GeoDataFrame(
        {"harm": np.load(work / "kde_w.npy")}, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:27700"
    )
    before = rss_mb()
    t = time.perf_counter()
    d = hotspot_kde(pts, grid, bandwidth=SIGMA, kernel="gaussian", weights="harm")
    secs = time.perf_counter() - t
    np.save(work / "kde_hotspots.npy", d.to_numpy())
    return {
        "n": f"{len(xy):,} pts / {len(grid):,} cells",
        "seconds": secs,
        "step_mb": rss_mb() - before,
        "note": f"grid built in {t_grid:.2f} s (not timed)",
    }


def case_kde_sklearn(work: Path) -> dict:
    import numpy as np
    from sklearn.neighbors import KernelDensity

    from hotspots.units import cell_centres

    grid = county_grid()
    centres = cell_centres(grid)
    xy = np.load(work / "kde_xy.npy")
    w = np.load(work / "kde_w.npy")
    before = rss_mb()
    t = time.perf_counter()
    kd = KernelDensity(bandwidth=SIGMA, kernel="gaussian", rtol=1e-4).fit(xy, sample_weight=w)
    dens = np.exp(kd.score_samples(centres)) * w.sum() * 1e6
    secs = time.perf_counter() - t
    np.save(work / "kde_sklearn.npy", dens)
    return {"n": f"{len(xy):,} pts / {len(grid):,} cells", "seconds": secs, "step_mb": rss_mb() - before}


def _gi_hotspots(units, build) -> tuple[dict, object]:
    from hotspots.detect.inference import hotspot_gistar

    attrs = dict(units.attrs)
    units = units.assign(n=units["harm"].round())  # the values are Poisson counts
    units.attrs = attrs
    before = rss_mb()
    t = time.perf_counter()
    W = build(units)
    t_w = time.perf_counter() - t
    out = hotspot_gistar(units, value="harm", weights=W, inference="analytic", exposure="area")
    secs = time.perf_counter() - t
    return {"seconds": secs, "step_mb": rss_mb() - before, "note": f"weights {t_w:.2f} s"}, out


def _gi_esda(units) -> tuple[dict, object, object]:
    import esda
    import geopandas as gpd
    import numpy as np
    from libpysal.graph import Graph

    from hotspots.detect.gistar import classify, fdr_bh

    before = rss_mb()
    t = time.perf_counter()
    g = Graph.build_contiguity(gpd.GeoSeries(units.geometry.values, crs=units.crs), rook=False)
    t_w = time.perf_counter() - t
    gl = esda.G_Local(
        units["harm"].to_numpy(), g, transform="B", star=True, permutations=999, seed=0, keep_simulations=False
    )
    p = np.minimum(1.0, 2.0 * np.asarray(gl.p_sim, dtype=float))
    cls = classify(gl.Zs, fdr_bh(p))
    secs = time.perf_counter() - t
    return {"seconds": secs, "step_mb": rss_mb() - before, "note": f"weights {t_w:.2f} s"}, gl.Zs, cls


def _agreement(work: Path, name: str, z, cls) -> None:
    import numpy as np

    np.save(work / f"{name}_z.npy", np.asarray(z, dtype=float))
    np.save(work / f"{name}_cls.npy", np.asarray(cls, dtype=str))


def case_gi_grid_hotspots(work: Path) -> dict:
    import numpy as np

    from hotspots.detect.gistar import grid_weights

    side = int(np.load(work / "side.npy"))
    g = box_grid(side)
    g["harm"] = np.load(work / "grid_values.npy")
    row, out = _gi_hotspots(g, grid_weights)
    _agreement(work, "gi_grid_hotspots", out["gi_z"], out["hotspot_class"])
    row["n"] = f"{len(g):,} cells"
    return row


def case_gi_grid_esda(work: Path) -> dict:
    import numpy as np

    side = int(np.load(work / "side.npy"))
    g = box_grid(side)
    g["harm"] = np.load(work / "grid_values.npy")
    row, z, cls = _gi_esda(g)
    _agreement(work, "gi_grid_esda", z, cls)
    row["n"] = f"{len(g):,} cells"
    return row


def case_gi_poly_hotspots(work: Path) -> dict:
    from hotspots.detect.gistar import contiguity_weights

    u = voronoi(work)
    row, out = _gi_hotspots(u, contiguity_weights)
    _agreement(work, "gi_poly_hotspots", out["gi_z"], out["hotspot_class"])
    row["n"] = f"{len(u):,} polygons"
    return row


def case_gi_poly_esda(work: Path) -> dict:
    u = voronoi(work)
    row, z, cls = _gi_esda(u)
    _agreement(work, "gi_poly_esda", z, cls)
    row["n"] = f"{len(u):,} polygons"
    return row


CASES = {
    "kde_hotspots": ("KDE Gaussian 200 m", "hotspots binned FFT", case_kde_hotspots),
    "kde_sklearn": ("KDE Gaussian 200 m", "scikit-learn KernelDensity", case_kde_sklearn),
    "gi_grid_hotspots": ("Gi* + FDR, grid", "hotspots analytic", case_gi_grid_hotspots),
    "gi_grid_esda": ("Gi* + FDR, grid", "libpysal + esda 999 perm.", case_gi_grid_esda),
    "gi_poly_hotspots": ("Gi* + FDR, polygons", "hotspots analytic", case_gi_poly_hotspots),
    "gi_poly_esda": ("Gi* + FDR, polygons", "libpysal + esda 999 perm.", case_gi_poly_esda),
}


def run_case(name: str, work: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--case", name, "--work", str(work)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"case {name} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    ap.add_argument("--skip-sklearn", action="store_true", help="leave out the slow scikit-learn row")
    ap.add_argument("--case", help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    if args.case:
        work = Path(args.work)
        row = CASES[args.case][2](work)
        row["peak_mb"] = rss_mb()
        print(json.dumps(row))
        return

    import numpy as np

    kde_points, side, polygons = (50_000, 141, 20_000) if args.quick else (500_000, 316, 33_000)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        np.save(work / "side.npy", np.array(side))
        t = time.perf_counter()
        prepare(work, kde_points=kde_points, cells_side=side, polygons=polygons)
        print(f"SYNTHETIC inputs prepared in {time.perf_counter() - t:.1f} s (seeded; see the docstring)\n")
        rows = {}
        for name in CASES:
            if args.skip_sklearn and name == "kde_sklearn":
                continue
            rows[name] = run_case(name, work)

        def extra(name: str) -> str:
            if name == "kde_sklearn" and "kde_sklearn" in rows:
                a, b = np.load(work / "kde_hotspots.npy"), np.load(work / "kde_sklearn.npy")
                return f"corr {np.corrcoef(a, b)[0, 1]:.5f}, total ratio {a.sum() / b.sum():.4f}"
            for kind in ("grid", "poly"):
                if name == f"gi_{kind}_esda":
                    za, zb = np.load(work / f"gi_{kind}_hotspots_z.npy"), np.load(work / f"gi_{kind}_esda_z.npy")
                    ca, cb = np.load(work / f"gi_{kind}_hotspots_cls.npy"), np.load(work / f"gi_{kind}_esda_cls.npy")
                    return f"max |z - esda Zs| {np.abs(za - zb).max():.1e}; same class {(ca == cb).mean() * 100:.1f} %"
            return ""

        head = f"{'task':<22} {'implementation':<27} {'size':<28} {'seconds':>8} {'x faster':>9} {'peak MB':>8} {'step MB':>8}  notes"
        print(head)
        print("-" * len(head))
        pairs = {"kde_sklearn": "kde_hotspots", "gi_grid_esda": "gi_grid_hotspots", "gi_poly_esda": "gi_poly_hotspots"}
        for name, row in rows.items():
            task, impl, _ = CASES[name]
            speed = ""
            if name in pairs and pairs[name] in rows:
                speed = f"{row['seconds'] / rows[pairs[name]]['seconds']:.0f}x"
                speed = f"(ours {speed})"
            notes = "; ".join(x for x in (row.get("note", ""), extra(name)) if x)
            print(
                f"{task:<22} {impl:<27} {row['n']:<28} {row['seconds']:>8.3f} {speed:>9} {row['peak_mb']:>8.0f} "
                f"{row['step_mb']:>8.0f}  {notes}"
            )
        print(
            "\nx faster: peer seconds / hotspots seconds. Targets: KDE < 1 s and >= 100x scikit-learn at corr >= 0.999;"
            " Gi* + FDR < 1 s including weights."
        )


if __name__ == "__main__":
    main()
