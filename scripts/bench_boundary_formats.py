"""Size and read time of candidate formats for the England & Wales LSOA boundaries (the source GeoJSON is the baseline).

    HOTSPOTS_SHARED_DATA=/path/to/shared/data python scripts/bench_boundary_formats.py

Writes temporary files under a temporary folder; prints a Markdown table (median of 3 reads,
wall clock). The chosen format is FlatGeobuf inside a zip (``lsoa2011_bsc_ew.fgb.zip``).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import zipfile
from pathlib import Path

import pyogrio

HERE = Path(__file__).resolve().parent.parent
SRC = (
    Path(os.environ.get("HOTSPOTS_SHARED_DATA", "/work/shared/data")) / "boundaries/LSOA_Dec_2011_BSC_EW_V3.geojson.gz"
)
CHOSEN = HERE / "data/boundaries/lsoa2011_bsc_ew.fgb.zip"
NOTTS = ["E06000018", "E07000170", "E07000171", "E07000172", "E07000173", "E07000174", "E07000175", "E07000176"]
BBOX = (-1.35, 52.78, -0.65, 53.51)  # Nottinghamshire in lon/lat


def med(fn, n: int = 3) -> float:
    """Median wall-clock seconds of ``n`` calls."""
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main() -> None:
    """Write the candidate files and print the table."""
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        g = pyogrio.read_dataframe(CHOSEN)  # same features and attributes as will be bundled
        pyogrio.write_dataframe(g, t / "ew.gpkg", promote_to_multi=False)
        pyogrio.write_dataframe(g, t / "ew.fgb", driver="FlatGeobuf", promote_to_multi=False)
        for name in ("ew.gpkg",):
            with zipfile.ZipFile(t / (name + ".zip"), "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
                zf.write(t / name, name)
        where = '"LAD19CD" IN (' + ", ".join(f"'{c}'" for c in NOTTS) + ")"
        src = "/vsigzip/" + str(SRC)
        rows = [
            ("source GeoJSON, gzipped (as published in the wheel, 11 attributes)", SRC, src, None),
            ("GeoPackage", t / "ew.gpkg", str(t / "ew.gpkg"), where),
            ("GeoPackage in a zip", t / "ew.gpkg.zip", str(t / "ew.gpkg.zip"), where),
            ("FlatGeobuf", t / "ew.fgb", str(t / "ew.fgb"), where),
            ("FlatGeobuf in a zip (chosen)", CHOSEN, str(CHOSEN), where),
        ]
        print("| format | bytes | read all 34,753 (s) | Nottinghamshire by LAD19CD (s) | by bbox (s) |")
        print("|---|---:|---:|---:|---:|")
        for label, path, uri, w in rows:
            full = med(lambda uri=uri: pyogrio.read_dataframe(uri))
            sub = med(lambda uri=uri, w=w: pyogrio.read_dataframe(uri, where=w)) if w else float("nan")
            box = med(lambda uri=uri: pyogrio.read_dataframe(uri, bbox=BBOX))
            print(f"| {label} | {path.stat().st_size:,} | {full:.2f} | {sub:.2f} | {box:.2f} |")


if __name__ == "__main__":
    main()
