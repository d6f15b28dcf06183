"""Measure what starting on any force costs: reading the area, loading the study, fetching a month.

Three tables, each with its baseline beside it:

1. the force's LSOAs from the bundled England & Wales file with an attribute filter, against
   the bundled force-only GeoPackage (median of 3 reads);
2. ``load_study`` of the ``hotspots init`` config for the bundled force (England-wide files,
   the UK venue list clipped to the area) against the bundled example config restricted to
   the same police.uk month (median of 3);
3. ``hotspots fetch`` of one month from a local server replaying a real police.uk archive
   layout (4,752 members: 44 forces x 36 months x 3 files, the real month inside), against
   downloading the whole archive: requests and bytes.

Run: ``python scripts/bench_any_force.py`` (about a minute on a 2-core machine).
"""

from __future__ import annotations

import gzip
import io
import shutil
import statistics
import sys
import tempfile
import time
import warnings
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hotspots.config import config_from_dict, load_config  # noqa: E402
from hotspots.io import fetch as F  # noqa: E402
from hotspots.io.config import BoundariesConfig  # noqa: E402
from hotspots.io.vector import read_lsoa_boundaries  # noqa: E402
from hotspots.newforce import write_config  # noqa: E402
from hotspots.prepare.forces import force_districts, list_forces  # noqa: E402
from hotspots.prepare.study import load_study  # noqa: E402

DATA = ROOT / "data"
MONTH = DATA / "crime/police_uk/2019-09/2019-09-nottinghamshire-street.csv.gz"
MEMBER = "2019-09/2019-09-nottinghamshire-street.csv"


def median_time(fn, n: int = 3) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def area() -> None:
    lads = force_districts("nottinghamshire")["lad19cd"].tolist()
    ew_file = DATA / "boundaries/lsoa2011_bsc_ew.fgb.zip"
    ew = BoundariesConfig(lsoa=ew_file, filter_column="LAD19CD", filter_values=lads)
    own = BoundariesConfig(lsoa=DATA / "boundaries/lsoa2011_bsc_nottinghamshire.gpkg")
    rows = [
        ("force-only GeoPackage (baseline)", own.lsoa.stat().st_size, median_time(lambda: read_lsoa_boundaries(own))),
        (
            "England & Wales FlatGeobuf zip, filtered",
            ew.lsoa.stat().st_size,
            median_time(lambda: read_lsoa_boundaries(ew)),
        ),
    ]
    print("1. the force's 679 LSOAs")
    print(f"{'file':45} {'bytes':>12} {'read (s)':>9}")
    for name, size, t in rows:
        print(f"{name:45} {size:>12,} {t:>9.2f}")
    print()


def load(tmp: Path) -> None:
    cfg_path = write_config("nottinghamshire", tmp / "notts.toml")
    (tmp / "police_uk/2019-09").mkdir(parents=True)
    shutil.copy(MONTH, tmp / "police_uk/2019-09" / MONTH.name)
    generated = load_config(cfg_path)
    raw = dict(load_config().raw)
    raw["crime"] = [c for c in raw["crime"] if c["name"] == "police_uk"]
    raw["study"] = {k: v for k, v in raw["study"].items() if k != "sources"}
    raw["detect"] = {}
    bundled = config_from_dict(raw, path=DATA / "nottinghamshire.toml")
    print("2. load_study, the same police.uk month")
    print(f"{'config':45} {'LSOAs':>6} {'incidents':>10} {'venues':>7} {'load (s)':>9}")
    configs = (("bundled example (area-only files, baseline)", bundled), ("hotspots init (England-wide)", generated))
    for name, cfg in configs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            study = load_study(cfg)
            t = median_time(lambda c=cfg: load_study(c))
        n_venues = len(study.venues) if study.venues is not None else 0
        print(f"{name:45} {len(study.lsoa):>6} {len(study.incidents):>10,} {n_venues:>7} {t:>9.2f}")
    print()


def fetch(tmp: Path) -> None:
    from policeuk_server import ArchiveServer

    data = gzip.decompress(MONTH.read_bytes())
    forces = [*list_forces()["force"], "btp"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for mo in F.month_range("2016-10", "2019-09"):
            for f in forces:
                for kind in ("street", "outcomes", "stop-and-search"):
                    name = f"{mo}/{mo}-{f}-{kind}.csv"
                    zf.writestr(name, data if name == MEMBER else b"Crime ID,Month\n")
    z = buf.getvalue()
    with ArchiveServer({"2019-09": z}) as s:
        client = F.PoliteClient(min_interval=0.0)
        t = time.perf_counter()
        res = F.fetch_police_uk("nottinghamshire", "2019-09", "2019-09", tmp / "out", index_url=s.index_url,
                                client=client, progress=False)  # fmt: skip
        first = (res.requests, res.bytes_received, time.perf_counter() - t)
        client2 = F.PoliteClient(min_interval=0.0)
        F.fetch_police_uk("nottinghamshire", "2019-09", "2019-09", tmp / "out", index_url=s.index_url,
                          client=client2, progress=False)  # fmt: skip
        again = (client2.requests, client2.bytes_received)
    print("3. fetch one force-month from a 4,752-member archive (local server; real month inside)")
    print(f"{'':45} {'requests':>9} {'bytes':>12}")
    print(f"{'the whole archive (baseline; placeholders here)':45} {1:>9} {len(z):>12,}")
    print(f"{'hotspots fetch, first run':45} {first[0]:>9} {first[1]:>12,}   ({first[2]:.2f} s)")
    print(f"{'hotspots fetch, file already there':45} {again[0]:>9} {again[1]:>12,}")
    print("(the real archive is about 1.7 GB; the fixed cost per archive is the 128 KiB tail plus its directory)")


def main() -> None:
    area()
    with tempfile.TemporaryDirectory() as d:
        load(Path(d) / "load")
        fetch(Path(d) / "fetch")


if __name__ == "__main__":
    main()
