"""Worked analysis: weapons possession across the Nottinghamshire force area, 2020.

Knife possession is one of the VRU's scope offences. police.uk's "Possession of weapons"
cannot isolate knives, but it is the only scope category in the bundled data recorded
force-wide for a whole year, so it is the fairest City-versus-county comparison we have.
On the Python API:

1. keep the 2020 force-wide weapons source;
2. LSOAs as units: counts and rates per 1,000 residents (IoD2019 mid-2015 population);
3. Getis-Ord Gi* on LSOA counts (queen contiguity + self, FDR) and local Moran's I on rates;
4. a district comparison and the concentration of offences (Gini, share of LSOAs holding
   half of all offences).

Run it from the repository folder::

    .venv/bin/python scripts/analysis_weapons_countywide.py [--out outputs/weapons]
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from hotspots import load_config, load_study
from hotspots.detect.inference import hotspot_gistar
from hotspots.detect.lisa import hotspot_lisa
from hotspots.io.write import write_csv, write_layer
from hotspots.rank.concentration import generalised_gini, gini, share_holding
from hotspots.units import lsoa_units


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=None, help="config file (default: bundled Nottinghamshire)")
    ap.add_argument("--source", default="county_weapons_2020", help="crime source to analyse")
    ap.add_argument("--out", type=Path, default=None, help="folder for weapons_lsoa.gpkg and districts CSV")
    args = ap.parse_args()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = load_study(load_config(args.config))
    inc = study.incidents[study.incidents["source"] == args.source]
    if inc.empty:
        raise SystemExit(f"no incidents from source {args.source!r}")
    print(
        f"{len(inc):,} weapons possession offences, {inc.month.min()} to {inc.month.max()}, "
        f"{inc.lsoa_code.nunique()} of {len(study.lsoa)} LSOAs"
    )

    units = lsoa_units(inc, study.lsoa)
    units = hotspot_gistar(units, value="n")
    lisa = hotspot_lisa(units, value="rate_per_1000", seed=0)
    units["lisa_class"] = lisa["lisa_class"].to_numpy()
    units = units.merge(study.lsoa[["lsoa_code", "lsoa_name", "district"]], on="lsoa_code")

    hot = units[units["hotspot_class"].str.startswith("hot")].sort_values("gi_z", ascending=False)
    print(f"\nGi* hot spot LSOAs (FDR-adjusted): {len(hot)}")
    print(hot[["lsoa_name", "district", "n", "rate_per_1000", "gi_z", "hotspot_class"]].head(15).to_string(index=False))
    print("\nLocal Moran classes on rates:")
    print(units["lisa_class"].value_counts().to_string())

    by = units.groupby("district").agg(
        offences=("n", "sum"),
        population=("population", "sum"),
        lsoas=("lsoa_code", "size"),
        hot_lsoas=("hotspot_class", lambda s: int(s.str.startswith("hot").sum())),
    )
    by["per_1000"] = (by["offences"] / by["population"] * 1000).round(2)
    by["gini"] = units.groupby("district")["n"].apply(lambda s: round(gini(s.to_numpy()), 3))
    print("\nDistricts:")
    print(by.sort_values("per_1000", ascending=False).to_string())

    n = units["n"].to_numpy()
    print(
        f"\nConcentration over {len(n)} LSOAs: Gini {gini(n):.3f}, generalised Gini {generalised_gini(n):.3f}; "
        f"{share_holding(n, 0.5):.1%} of LSOAs hold half of all offences."
    )
    if args.out:
        write_layer(units, args.out / "weapons_lsoa.gpkg", "lsoa")
        write_csv(by.reset_index(), args.out / "weapons_districts.csv")
        print(f"wrote {args.out / 'weapons_lsoa.gpkg'} and {args.out / 'weapons_districts.csv'}")


if __name__ == "__main__":
    main()
