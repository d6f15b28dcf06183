"""Build SYNTHETIC police.uk forces for the benchmarks (``scripts/bench_force.py``).

Everything about the places is real open data bundled in ``data/``; only the crimes are synthetic.

``force`` mode (a whole force of chosen districts):

* LSOAs: the real ONS LSOA 2011 BSC polygons of England & Wales (``data/boundaries/lsoa2011_bsc_ew.fgb.zip``)
  of the chosen local authority districts (LAD19 codes); districts are their union per LAD.
* Deprivation: the real England-wide IoD2019 files in ``data/iod2019``.
* Venues: the real Open Pubs 2017-08 rows of those districts (``data/nte/open_pubs_2017-08_uk.csv.gz``).
* Crimes (SYNTHETIC): police.uk street-level rows. Each LSOA gets 10 + Poisson(15) anonymous "snap points"
  drawn uniformly inside its polygon and named with real police.uk location texts sampled from the bundled
  month (so "On or near Hospital" occurs at the real rate). The expected in-scope crimes of an LSOA are
  population x exp(2.5 x (1 - IMD rank / 32,844)) x Gamma(1, 1), scaled to ``--inscope``; within an LSOA
  crimes go to its snap points with Dirichlet(0.5) weights; the month is uniform over ``--months``.
  Other police.uk categories are added in the proportions of the bundled month (in-scope rows are about
  28 % of the file, as there). Crime IDs are 64-hex strings (blank for anti-social behaviour, as police.uk).

``jittered`` mode: ``--copies`` copies of the bundled police.uk month, every point moved by a Gaussian
offset of ``--sigma`` metres per axis (unsnapped: about one distinct point per row), IDs suffixed ``-k``;
one file, or one file per copy with ``--files``. The config is the bundled one with the police_uk source
pointed at the copies.

Each mode writes FOLDER/force.toml (absolute paths into ``data/``) beside the files.

Usage::

    python scripts/make_synthetic_force.py force FOLDER --lads E08000001,... --months 2019-01,... --inscope 100000
    python scripts/make_synthetic_force.py force FOLDER --preset gm100k      # 2,034 LSOAs, 12 months, 100k
    python scripts/make_synthetic_force.py force FOLDER --preset met         # London boroughs, 12 months, 300k
    python scripts/make_synthetic_force.py jittered FOLDER --copies 100 [--files] [--sigma 25]
"""

from __future__ import annotations

import argparse
import hashlib
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
MONTH_FILE = DATA / "crime/police_uk/2019-09/2019-09-nottinghamshire-street.csv.gz"
IN_SCOPE = ["Violence and sexual offences", "Robbery", "Possession of weapons"]
YEAR_2019 = ",".join(f"2019-{m:02d}" for m in range(1, 13))

PRESETS = {
    # Greater Manchester (10 boroughs) + Cheshire East + Warrington: 2,034 LSOAs, ~100,000 in scope a year
    "gm100k": dict(
        lads=",".join([f"E0800000{i}" for i in range(1, 10)] + ["E08000010", "E06000049", "E06000007"]),
        months=YEAR_2019,
        inscope=100_000,
        name="Greater Manchester, Cheshire East and Warrington",
        seed=1,
    ),
    # the Metropolitan Police area: the 32 London boroughs (not the City): ~4,800 LSOAs, 300,000 a year
    "met": dict(
        lads=",".join(f"E090000{i:02d}" for i in range(2, 34)),
        months=YEAR_2019,
        inscope=300_000,
        name="Metropolitan Police area",
        seed=2,
    ),
}


def sample_in_polygons(polys: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``counts[i]`` uniform random points inside ``polys[i]`` (rejection sampling, vectorised)."""
    out = np.empty((counts.sum(), 2))
    owner = np.repeat(np.arange(len(polys)), counts)
    todo = np.arange(len(owner))
    b = shapely.bounds(polys)
    while len(todo):
        o = owner[todo]
        x = rng.uniform(b[o, 0], b[o, 2])
        y = rng.uniform(b[o, 1], b[o, 3])
        ok = shapely.contains_xy(polys[o], x, y)
        out[todo[ok], 0], out[todo[ok], 1] = x[ok], y[ok]
        todo = todo[~ok]
    return out


def _areas(out: Path, lads: list[str]) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    iod = pd.read_csv(DATA / "iod2019/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz", usecols=[0, 1, 2, 3, 4])
    iod.columns = ["code", "name", "lad", "lad_name", "imd_rank"]
    pop = pd.read_csv(DATA / "iod2019/File_6_-_IoD2019_Population_Denominators.csv.gz", usecols=[0, 4], thousands=",")
    pop.columns = ["code", "population"]
    sel = iod[iod["lad"].isin(lads)].merge(pop, on="code")
    lsoa = pyogrio.read_dataframe(DATA / "boundaries/lsoa2011_bsc_ew.fgb.zip", columns=["LSOA11CD", "LSOA11NM"])
    lsoa = lsoa[lsoa["LSOA11CD"].isin(sel["code"])]
    lsoa = lsoa.merge(sel[["code", "lad", "lad_name", "imd_rank", "population"]], left_on="LSOA11CD", right_on="code")
    lsoa = lsoa.drop(columns="code").sort_values("LSOA11CD").reset_index(drop=True).to_crs("EPSG:27700")
    lsoa[["LSOA11CD", "LSOA11NM", "geometry"]].to_file(out / "boundaries/lsoa.gpkg", driver="GPKG")
    dist = lsoa.dissolve("lad", as_index=False)[["lad", "lad_name", "geometry"]]
    dist.columns = ["district_code", "district_name", "geometry"]
    dist.to_file(out / "boundaries/districts.gpkg", driver="GPKG")
    print(f"{len(lsoa)} LSOAs in {len(dist)} districts")
    return lsoa, dist


def make_force(out: Path, *, lads: list[str], months: list[str], inscope: int, name: str, seed: int) -> None:
    """Write a SYNTHETIC police.uk force for ``lads`` into ``out`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    (out / "boundaries").mkdir(parents=True, exist_ok=True)
    (out / "nte").mkdir(parents=True, exist_ok=True)
    lsoa, dist = _areas(out, lads)
    pubs = pd.read_csv(DATA / "nte/open_pubs_2017-08_uk.csv.gz", dtype=str, keep_default_na=False)
    pubs = pubs[pubs["local_authority"].isin(set(dist["district_name"]))]
    pubs.to_csv(out / "nte/pubs.csv", index=False)
    print(f"{len(pubs)} Open Pubs venues")
    real = pd.read_csv(MONTH_FILE, dtype=str)
    names = real["Location"].dropna().to_numpy()
    types = real["Crime type"].value_counts()
    frac_in = types[types.index.isin(IN_SCOPE)].sum() / types.sum()
    n_snap = 10 + rng.poisson(15, len(lsoa))
    snap_xy = sample_in_polygons(lsoa.geometry.values, n_snap, rng)
    snap_name = rng.choice(names, size=len(snap_xy))
    start = np.concatenate([[0], np.cumsum(n_snap)[:-1]])
    r = 1 - lsoa["imd_rank"].to_numpy() / 32844
    lam = lsoa["population"].to_numpy(float) * np.exp(2.5 * r) * rng.gamma(1.0, 1.0, len(lsoa))
    total = round(inscope / frac_in)
    per = rng.multinomial(total, lam / lam.sum())
    owner = np.repeat(np.arange(len(lsoa)), per)
    pick = np.empty(total, dtype=np.int64)
    at = np.concatenate([[0], np.cumsum(per)])
    for i in range(len(lsoa)):  # Dirichlet weights per LSOA (owner is sorted, so rows at[i]:at[i+1])
        if per[i]:
            w = rng.dirichlet(np.full(n_snap[i], 0.5))
            pick[at[i] : at[i + 1]] = start[i] + rng.choice(n_snap[i], size=per[i], p=w)
    ctype = rng.choice(types.index.to_numpy(), size=total, p=(types / types.sum()).to_numpy())
    month = rng.choice(months, size=total)
    tr = pyproj.Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(snap_xy[pick, 0], snap_xy[pick, 1])
    ids = np.array([hashlib.sha256(f"{seed}:{name}:{i}".encode()).hexdigest() for i in range(total)], dtype=object)
    ids[ctype == "Anti-social behaviour"] = ""
    df = pd.DataFrame(
        {
            "Crime ID": ids,
            "Month": month,
            "Reported by": "Synthetic Police",
            "Falls within": "Synthetic Police",
            "Longitude": np.round(lon, 6),
            "Latitude": np.round(lat, 6),
            "Location": snap_name[pick],
            "LSOA code": lsoa["LSOA11CD"].to_numpy()[owner],
            "LSOA name": lsoa["LSOA11NM"].to_numpy()[owner],
            "Crime type": ctype,
            "Last outcome category": "",
            "Context": "",
        }
    )
    for m in months:
        d = out / "crime" / m
        d.mkdir(parents=True, exist_ok=True)
        df[df["Month"] == m].to_csv(d / f"{m}-synthetic-street.csv", index=False)
    n_in = int(df["Crime type"].isin(IN_SCOPE).sum())
    print(f"{total:,} rows, {n_in:,} in scope, {len(np.unique(pick)):,} distinct locations")
    iod = DATA / "iod2019"
    (out / "force.toml").write_text(
        f"""# SYNTHETIC force for benchmarking (scripts/make_synthetic_force.py, seed {seed}): real LSOAs,
# IoD2019 and Open Pubs of {len(dist)} districts; synthetic police.uk crimes ({n_in:,} in scope).
[study]
name = "{name} (SYNTHETIC)"

[boundaries]
lsoa = "boundaries/lsoa.gpkg"
districts = "boundaries/districts.gpkg"

[deprivation]
domains = "{iod}/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"
population = "{iod}/File_6_-_IoD2019_Population_Denominators.csv.gz"
subdomains = "{iod}/humaniverse_imd2019_england_lsoa11_subdomains.csv.gz"
indicators = "{iod}/humaniverse_imd2019_england_lsoa11_indicators.csv.gz"

[venues]
path = "nte/pubs.csv"
format = "open_pubs"
snapshot = "2017-08"

[[crime]]
name = "police_uk"
path = "crime"
format = "police_uk"
"""
    )


def make_jittered(out: Path, *, copies: int, files: bool, sigma: float, seed: int) -> None:
    """Write ``copies`` jittered copies of the bundled month into ``out`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    real = pd.read_csv(MONTH_FILE, dtype=str, keep_default_na=False)
    fwd = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    inv = pyproj.Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    has = real["Longitude"] != ""
    x0, y0 = fwd.transform(
        real.loc[has, "Longitude"].astype(float).to_numpy(), real.loc[has, "Latitude"].astype(float).to_numpy()
    )
    folder = out / "2019-09"
    folder.mkdir(parents=True, exist_ok=True)
    parts = []
    for k in range(copies):
        d = real.copy()
        lon, lat = inv.transform(x0 + rng.normal(0, sigma, len(x0)), y0 + rng.normal(0, sigma, len(y0)))
        d.loc[has, "Longitude"] = np.char.mod("%.6f", lon)
        d.loc[has, "Latitude"] = np.char.mod("%.6f", lat)
        d["Crime ID"] = np.where(d["Crime ID"] != "", d["Crime ID"] + f"-{k}", "")
        if files:
            d.to_csv(folder / f"2019-09-copy{k:03d}-street.csv", index=False)
        else:
            parts.append(d)
    if parts:
        pd.concat(parts, ignore_index=True).to_csv(folder / "2019-09-synthetic-street.csv", index=False)
    toml = (DATA / "nottinghamshire.toml").read_text()
    toml = toml.replace('path = "crime/police_uk"', f'path = "{out.resolve()}"')
    toml = re.sub(
        r'^(\w+ = )"((?:boundaries|iod2019|nte|crime)/[^"]+)"',
        lambda m: f'{m.group(1)}"{DATA}/{m.group(2)}"',
        toml,
        flags=re.MULTILINE,
    )
    toml = re.sub(
        r'^name = "([^"]+)"',
        f'name = "Nottinghamshire x{copies} jittered copies (SYNTHETIC)"',
        toml,
        count=1,
        flags=re.MULTILINE,
    )
    (out / "force.toml").write_text(
        f"# SYNTHETIC: {copies} jittered copies (sigma {sigma:g} m), scripts/make_synthetic_force.py\n" + toml
    )
    print(f"{copies} copies x {len(real):,} rows = {copies * len(real):,} rows")


def main() -> None:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    f = sub.add_parser("force")
    f.add_argument("folder", type=Path)
    f.add_argument("--preset", choices=sorted(PRESETS))
    f.add_argument("--lads", help="comma-separated LAD19 codes")
    f.add_argument("--months", default=YEAR_2019)
    f.add_argument("--inscope", type=int)
    f.add_argument("--name", default="Synthetic force")
    f.add_argument("--seed", type=int, default=0)
    j = sub.add_parser("jittered")
    j.add_argument("folder", type=Path)
    j.add_argument("--copies", type=int, required=True)
    j.add_argument("--files", action="store_true")
    j.add_argument("--sigma", type=float, default=25.0)
    j.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if a.mode == "jittered":
        make_jittered(a.folder, copies=a.copies, files=a.files, sigma=a.sigma, seed=a.seed)
        return
    if a.preset:
        p = PRESETS[a.preset]
        make_force(
            a.folder,
            lads=str(p["lads"]).split(","),
            months=str(p["months"]).split(","),
            inscope=int(p["inscope"]),  # type: ignore[call-overload]
            name=str(p["name"]),
            seed=int(p["seed"]),  # type: ignore[call-overload]
        )
    elif a.lads and a.inscope:
        make_force(
            a.folder, lads=a.lads.split(","), months=a.months.split(","), inscope=a.inscope, name=a.name, seed=a.seed
        )
    else:
        ap.error("force needs --preset, or --lads and --inscope")


if __name__ == "__main__":
    main()
