"""Worked analysis: night-time-economy violence in Nottingham City, 2020.

The VRU's Strategic Needs Assessment found "particular patterns of violence in relation to
the night time economy". police.uk has no time of day, so NTE violence cannot be picked
out by hour; this script approaches it by place instead, on the Python API:

1. load the bundled study and keep the 2020 City violence source (12 months);
2. a 100 m grid over Nottingham City, a quartic KDE and Getis-Ord Gi* with FDR;
3. NTE zones (clusters of licensed venues) and the violence inside/within 200 m of each;
4. how much of the City's violence is in the 99 % hot cells, and how much is near venues.

Run it from the repository folder::

    .venv/bin/python scripts/analysis_nte_city_centre.py [--out outputs/nte_city]

It prints the tables and, with ``--out``, writes ``nte_city.gpkg`` (layers grid, nte_zones)
for QGIS/ArcGIS.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import shapely

from hotspots import load_config, load_study
from hotspots.detect.inference import hotspot_gistar
from hotspots.detect.kde import hotspot_kde
from hotspots.detect.nte import nte_zones
from hotspots.io.write import write_layer
from hotspots.units import count_in_units, make_grid


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=None, help="config file (default: bundled Nottinghamshire)")
    ap.add_argument("--source", default="city_violence_2020", help="crime source to analyse")
    ap.add_argument("--cell-size", type=float, default=100.0, help="grid cell size in metres")
    ap.add_argument("--out", type=Path, default=None, help="folder for nte_city.gpkg")
    args = ap.parse_args()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # caveats are printed below instead
        study = load_study(load_config(args.config))
    inc = study.incidents[study.incidents["source"] == args.source]
    if inc.empty:
        raise SystemExit(
            f"no incidents from source {args.source!r}; sources: {sorted(study.incidents.source.unique())}"
        )
    city_lsoa = study.lsoa[study.lsoa["district"] == "Nottingham"]
    city = shapely.union_all(city_lsoa.geometry.values)
    print(f"{len(inc):,} incidents from {args.source} ({inc.month.min()} to {inc.month.max()})")

    # Grid, counts, KDE and Gi* over the City.
    grid = make_grid(city, cell_size=args.cell_size)
    counts = count_in_units(inc, grid, key="cell_id")
    grid = grid.assign(n=counts["n"].to_numpy(), harm=counts["harm"].to_numpy())
    grid["kde"] = hotspot_kde(inc, grid, kernel="quartic").to_numpy()
    grid = hotspot_gistar(grid, value="n")
    classes = grid.groupby("hotspot_class")["n"].agg(["size", "sum"]).sort_values("sum", ascending=False)
    classes.columns = ["cells", "incidents"]
    classes["share_of_incidents"] = (classes["incidents"] / classes["incidents"].sum()).round(3)
    print(f"\nGi* classes on a {args.cell_size:.0f} m grid ({len(grid):,} cells, FDR-adjusted):")
    print(classes.to_string())

    # NTE zones and violence near them.
    venues = study.venues[study.venues["lsoa_code"].isin(city_lsoa["lsoa_code"])]
    zones = nte_zones(venues, inc, distance=200.0)
    print(f"\nNTE zones in the City ({len(venues)} venues from the 2017 Open Pubs snapshot):")
    print(zones.drop(columns="geometry").head(10).to_string(index=False))
    if len(zones):
        near = inc.geometry.intersects(shapely.union_all(zones.buffer(200.0).values))
        print(
            f"\n{near.mean():.1%} of {args.source} incidents are inside or within 200 m of an NTE zone, "
            f"which covers {zones.buffer(200.0).union_all().area / city.area:.1%} of the City's area."
        )

    print("\nCaveats:")
    for c in study.caveats:
        print(f"  - {c}")
    if args.out:
        path = args.out / "nte_city.gpkg"
        write_layer(grid, path, "grid")
        write_layer(zones, path, "nte_zones")
        print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
