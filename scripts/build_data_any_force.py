"""Build the England & Wales data files of issue 11 from the shared real data (reproducible).

Run from anywhere with the project's virtualenv::

    HOTSPOTS_SHARED_DATA=/path/to/shared/data python scripts/build_data_any_force.py

Inputs (read only): the project's shared real data set (``$HOTSPOTS_SHARED_DATA``, default
``/work/shared/data``; see its PROVENANCE.md), IoD2019 File 2 in ``data/iod2019`` and the
ONS LAD -> CSP -> PFA lookup copied (unchanged) into
``data/lookups/source/``. Outputs (overwritten):

* ``hotspots/prepare/lad19_pfa_ew.csv``: every IoD2019 district (LAD 2019) of England
  and every Welsh district with its police force area and police.uk force id;
* ``hotspots/prepare/forces_ew.csv``: the 43 territorial forces of England and Wales;
* ``data/boundaries/lsoa2011_bsc_ew.fgb.zip``: the 34,753 LSOA 2011 BSC polygons of England
  and Wales with ``LAD19CD``/``LAD19NM`` added (FlatGeobuf with spatial index, zipped);
* ``data/iod2019/humaniverse_imd2019_england_lsoa11_{subdomains,indicators}.csv.gz`` and
  ``data/nte/open_pubs_2017-08_uk.csv.gz``: byte-identical copies.

Every check prints; any failed check raises SystemExit.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
import pyogrio

HERE = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("HOTSPOTS_SHARED_DATA", "/work/shared/data"))
FILE2 = HERE / "data/iod2019/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"
BUNDLED_NOTTS = HERE / "data/boundaries/lsoa2011_bsc_nottinghamshire.gpkg"
LOOKUP_SRC = HERE / "data/lookups/source/macoj_crime-city_lad_to_csp.csv"
PREPARE = HERE / "hotspots/prepare"

# police.uk force ids (data.police.uk /api/forces "id") and names ("name"), as listed in
# jennyd/mapit@c324ef6569ada2fd388b905b4f5572384fb43aa4
# mapit/management/commands/mapit_UK_police_areas_england_wales.py ("code"/"name" values
# "fetched from the Police API") and in copies of the /api/forces response in public code;
# names are the current API names (e.g. "Devon & Cornwall Police").
FORCES = {
    # ONS PFA21NM: (police.uk id, police.uk name)
    "Avon and Somerset": ("avon-and-somerset", "Avon and Somerset Constabulary"),
    "Bedfordshire": ("bedfordshire", "Bedfordshire Police"),
    "Cambridgeshire": ("cambridgeshire", "Cambridgeshire Constabulary"),
    "Cheshire": ("cheshire", "Cheshire Constabulary"),
    "London, City of": ("city-of-london", "City of London Police"),
    "Cleveland": ("cleveland", "Cleveland Police"),
    "Cumbria": ("cumbria", "Cumbria Constabulary"),
    "Derbyshire": ("derbyshire", "Derbyshire Constabulary"),
    "Devon & Cornwall": ("devon-and-cornwall", "Devon & Cornwall Police"),
    "Dorset": ("dorset", "Dorset Police"),
    "Durham": ("durham", "Durham Constabulary"),
    "Dyfed-Powys": ("dyfed-powys", "Dyfed-Powys Police"),
    "Essex": ("essex", "Essex Police"),
    "Gloucestershire": ("gloucestershire", "Gloucestershire Constabulary"),
    "Greater Manchester": ("greater-manchester", "Greater Manchester Police"),
    "Gwent": ("gwent", "Gwent Police"),
    "Hampshire": ("hampshire", "Hampshire Constabulary"),
    "Hertfordshire": ("hertfordshire", "Hertfordshire Constabulary"),
    "Humberside": ("humberside", "Humberside Police"),
    "Kent": ("kent", "Kent Police"),
    "Lancashire": ("lancashire", "Lancashire Constabulary"),
    "Leicestershire": ("leicestershire", "Leicestershire Police"),
    "Lincolnshire": ("lincolnshire", "Lincolnshire Police"),
    "Merseyside": ("merseyside", "Merseyside Police"),
    "Metropolitan Police": ("metropolitan", "Metropolitan Police Service"),
    "Norfolk": ("norfolk", "Norfolk Constabulary"),
    "North Wales": ("north-wales", "North Wales Police"),
    "North Yorkshire": ("north-yorkshire", "North Yorkshire Police"),
    "Northamptonshire": ("northamptonshire", "Northamptonshire Police"),
    "Northumbria": ("northumbria", "Northumbria Police"),
    "Nottinghamshire": ("nottinghamshire", "Nottinghamshire Police"),
    "South Wales": ("south-wales", "South Wales Police"),
    "South Yorkshire": ("south-yorkshire", "South Yorkshire Police"),
    "Staffordshire": ("staffordshire", "Staffordshire Police"),
    "Suffolk": ("suffolk", "Suffolk Constabulary"),
    "Surrey": ("surrey", "Surrey Police"),
    "Sussex": ("sussex", "Sussex Police"),
    "Thames Valley": ("thames-valley", "Thames Valley Police"),
    "Warwickshire": ("warwickshire", "Warwickshire Police"),
    "West Mercia": ("west-mercia", "West Mercia Police"),
    "West Midlands": ("west-midlands", "West Midlands Police"),
    "West Yorkshire": ("west-yorkshire", "West Yorkshire Police"),
    "Wiltshire": ("wiltshire", "Wiltshire Police"),
}

# Independent check: PFA codes per police.uk id as listed in a public analysis script
# (get_reporting_force_mappings in a copy of data_prep.py found with the search tool).
EXPECTED_PFA_CODE = {
    "avon-and-somerset": "E23000036",
    "bedfordshire": "E23000026",
    "cambridgeshire": "E23000023",
    "cheshire": "E23000006",
    "city-of-london": "E23000034",
    "cleveland": "E23000013",
    "cumbria": "E23000002",
    "derbyshire": "E23000018",
    "devon-and-cornwall": "E23000035",
    "dorset": "E23000039",
    "durham": "E23000008",
    "dyfed-powys": "W15000004",
    "essex": "E23000028",
    "gloucestershire": "E23000037",
    "greater-manchester": "E23000005",
    "gwent": "W15000002",
    "hampshire": "E23000030",
    "hertfordshire": "E23000027",
    "humberside": "E23000012",
    "kent": "E23000032",
    "lancashire": "E23000003",
    "leicestershire": "E23000021",
    "lincolnshire": "E23000020",
    "merseyside": "E23000004",
    "metropolitan": "E23000001",
    "norfolk": "E23000024",
    "north-wales": "W15000001",
    "north-yorkshire": "E23000009",
    "northamptonshire": "E23000022",
    "northumbria": "E23000007",
    "nottinghamshire": "E23000019",
    "south-wales": "W15000003",
    "south-yorkshire": "E23000011",
    "staffordshire": "E23000015",
    "suffolk": "E23000025",
    "surrey": "E23000031",
    "sussex": "E23000033",
    "thames-valley": "E23000029",
    "warwickshire": "E23000017",
    "west-mercia": "E23000016",
    "west-midlands": "E23000014",
    "west-yorkshire": "E23000010",
    "wiltshire": "E23000038",
}

# LAD 2019 districts that the 2021 lookup no longer lists (merged into Buckinghamshire UA in
# 2020 and North/West Northamptonshire UAs in 2021). The lookup still lists their Community
# Safety Partnerships under the old names; each maps to the CSP row of the same name.
MERGED_VIA_CSP = {
    "E07000004": "Aylesbury Vale",
    "E07000005": "Chiltern",
    "E07000006": "South Bucks",
    "E07000007": "Wycombe",
    "E07000150": "Corby",
    "E07000152": "East Northamptonshire",
    "E07000153": "Kettering",
    "E07000154": "Northampton",
    "E07000156": "Wellingborough",
    "E07000151": "Daventry and South Northamptonshire",  # CSP covering Daventry ...
    "E07000155": "Daventry and South Northamptonshire",  # ... and South Northamptonshire
}

# Welsh LSOA 2011 names start with the district name; one differs from the lookup's name.
WELSH_NAME_ALIAS = {"The Vale of Glamorgan": "Vale of Glamorgan"}


def fail(msg: str) -> None:
    """Stop with a failed check."""
    raise SystemExit(f"CHECK FAILED: {msg}")


def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    h.update(path.read_bytes())
    return h.hexdigest()


def build_tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Build the district -> force and force tables, checked."""
    lk = pd.read_csv(LOOKUP_SRC, sep=";", dtype=str, encoding="utf-8")
    if lk.shape != (341, 6):
        fail(f"lookup shape {lk.shape}")
    f2 = pd.read_csv(FILE2, dtype=str, encoding="utf-8-sig")
    lad19 = (
        f2[["Local Authority District code (2019)", "Local Authority District name (2019)"]]
        .drop_duplicates()
        .set_axis(["lad19cd", "lad19nm"], axis=1)
    )
    by_code = lk.drop_duplicates("lad-code").set_index("lad-code")
    by_csp = lk.set_index("csp-name")
    rows = []
    for r in lad19.itertuples():
        if r.lad19cd in by_code.index:
            src = by_code.loc[r.lad19cd]
            if src["lad-name"] != r.lad19nm:
                fail(f"name {r.lad19nm!r} vs lookup {src['lad-name']!r}")
            how = "lookup LAD row (code and name identical)"
        elif r.lad19cd in MERGED_VIA_CSP:
            csp = MERGED_VIA_CSP[r.lad19cd]
            src = by_csp.loc[csp]
            how = f"lookup CSP row {src['csp-code']} {csp!r} (district merged into {src['lad-code']} {src['lad-name']})"
        else:
            fail(f"no lookup row for {r.lad19cd} {r.lad19nm}")
        rows.append((r.lad19cd, r.lad19nm, "England", src["PFA21CD"], src["PFA21NM"], how))
    wales = lk[lk["lad-code"].str.startswith("W")].drop_duplicates("lad-code")
    for r in wales.itertuples():
        rows.append((r._1, r._2, "Wales", r.PFA21CD, r.PFA21NM, "lookup LAD row (code and name identical)"))
    table = pd.DataFrame(rows, columns=["lad19cd", "lad19nm", "country", "pfa_code", "pfa_name", "source"])
    table["force"] = table["pfa_name"].map(lambda n: FORCES[n][0])
    table = table.sort_values(["force", "lad19cd"]).reset_index(drop=True)
    forces = (
        table.groupby(["force", "pfa_code", "pfa_name", "country"], as_index=False)
        .agg(districts=("lad19cd", "size"))
        .sort_values("force")
        .reset_index(drop=True)
    )
    forces.insert(1, "force_name", forces["force"].map({v[0]: v[1] for v in FORCES.values()}))
    # checks
    if len(forces) != 43 or (forces.country == "England").sum() != 39:
        fail(f"{len(forces)} forces, {(forces.country == 'England').sum()} English")
    for f, code in EXPECTED_PFA_CODE.items():
        got = forces.loc[forces.force == f, "pfa_code"].tolist()
        if got != [code]:
            fail(f"PFA code of {f}: {got} vs {code}")
    if table.lad19cd.duplicated().any():
        fail("duplicate district")
    print(
        f"districts: {len(table)} ({(table.country == 'England').sum()} England, "
        f"{(table.country == 'Wales').sum()} Wales); forces: {len(forces)}; "
        f"{table.source.str.startswith('lookup CSP').sum()} districts via CSP rows"
    )
    return table, forces, f2


def build_boundaries(table: pd.DataFrame, f2: pd.DataFrame, out: Path) -> pd.DataFrame:
    """Write the England & Wales boundary file with LAD19CD/LAD19NM added."""
    src = "/vsigzip/" + str(SHARED / "boundaries/LSOA_Dec_2011_BSC_EW_V3.geojson.gz")
    g = pyogrio.read_dataframe(src)
    if len(g) != 34_753:
        fail(f"{len(g)} features")
    lsoa_lad = f2.set_index("LSOA code (2011)")[
        ["Local Authority District code (2019)", "Local Authority District name (2019)"]
    ]
    eng = g["LSOA11CD"].str.startswith("E")
    g["LAD19CD"] = g["LSOA11CD"].map(lsoa_lad.iloc[:, 0])
    g["LAD19NM"] = g["LSOA11CD"].map(lsoa_lad.iloc[:, 1])
    welsh = table[table.country == "Wales"].set_index("lad19nm")["lad19cd"]
    prefix = g.loc[~eng, "LSOA11NM"].str.replace(r"\s+\d{3}[A-Z]$", "", regex=True).replace(WELSH_NAME_ALIAS)
    g.loc[~eng, "LAD19NM"] = prefix
    g.loc[~eng, "LAD19CD"] = prefix.map(welsh)
    if g["LAD19CD"].isna().any():
        fail(f"{int(g['LAD19CD'].isna().sum())} LSOAs without a district")
    if not set(g["LAD19CD"]) <= set(table.lad19cd):
        fail("district not in table")
    keep = ["LSOA11CD", "LSOA11NM", "LSOA11NMW", "LAD19CD", "LAD19NM", "BNG_E", "BNG_N", "LONG", "LAT", "geometry"]
    g = g[keep]
    with tempfile.TemporaryDirectory() as tmp:
        fgb = Path(tmp) / "lsoa2011_bsc_ew.fgb"
        pyogrio.write_dataframe(g, fgb, driver="FlatGeobuf", layer="lsoa2011_bsc_ew", promote_to_multi=False)
        out.parent.mkdir(parents=True, exist_ok=True)
        info = zipfile.ZipInfo(fgb.name, date_time=(2026, 11, 29, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        with zipfile.ZipFile(out, "w") as zf:
            zf.writestr(info, fgb.read_bytes(), compresslevel=9)
    print(f"boundaries: {out.name} {out.stat().st_size:,} bytes, {len(g)} features")
    return g


def check_against_bundled(table: pd.DataFrame, out: Path, g: pd.DataFrame) -> None:
    """Check the force subset against the bundled Nottinghamshire file."""
    notts = table.loc[table.force == "nottinghamshire", "lad19cd"].tolist()
    sub = g[g.LAD19CD.isin(notts)]
    bundled = pyogrio.read_dataframe(BUNDLED_NOTTS)
    if set(sub.LSOA11CD) != set(bundled.LSOA11CD) or len(sub) != 679:
        fail("Nottinghamshire LSOAs differ from the bundled 679")
    a = sub.set_index("LSOA11CD").geometry.sort_index()
    b = bundled.set_index("LSOA11CD").geometry.sort_index()
    if not a.geom_equals_exact(b, tolerance=0).all():
        fail("Nottinghamshire geometries differ from the bundled file")
    read = pyogrio.read_dataframe(out, where=f"LAD19CD IN ({', '.join(repr(c) for c in notts)})")
    if set(read.LSOA11CD) != set(bundled.LSOA11CD):
        fail("attribute-filtered read differs")
    c = read.set_index("LSOA11CD").geometry.sort_index()
    if not c.geom_equals_exact(b, tolerance=0).all() or list(c.geom_type) != list(b.geom_type):
        fail("geometries read back from the zipped FlatGeobuf differ from the bundled file")
    full = pyogrio.read_dataframe(out)
    src = g.set_index("LSOA11CD").geometry.sort_index()
    back = full.set_index("LSOA11CD").geometry.sort_index()
    if not (back.geom_equals_exact(src, tolerance=0).all() and (back.geom_type == src.geom_type).all()):
        fail("the zipped FlatGeobuf does not give back the source geometries exactly")
    print(f"read back: all {len(full)} geometries identical to the source GeoJSON (types kept)")
    print("Nottinghamshire: 679 LSOAs, codes and geometries identical to the bundled gpkg")


def main() -> None:
    """Build every output and copy the byte-identical files."""
    table, forces, f2 = build_tables()
    table.to_csv(PREPARE / "lad19_pfa_ew.csv", index=False, lineterminator="\n")
    forces.to_csv(PREPARE / "forces_ew.csv", index=False, lineterminator="\n")
    out = HERE / "data/boundaries/lsoa2011_bsc_ew.fgb.zip"
    g = build_boundaries(table, f2, out)
    check_against_bundled(table, out, g)
    copies = {
        SHARED / "iod2019/humaniverse_imd2019_england_lsoa11_subdomains.csv.gz": HERE / "data/iod2019",
        SHARED / "iod2019/humaniverse_imd2019_england_lsoa11_indicators.csv.gz": HERE / "data/iod2019",
        SHARED / "nte/open_pubs_2017-08_uk.csv.gz": HERE / "data/nte",
    }
    for src, dst in copies.items():
        dst.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst / src.name)
        if sha256(src) != sha256(dst / src.name):
            fail(f"copy of {src.name} differs")
        print(f"copied {src.name}: {src.stat().st_size:,} bytes, sha256 {sha256(src)[:16]}")
    print(f"lookup source sha256 {sha256(LOOKUP_SRC)}")


if __name__ == "__main__":
    main()
