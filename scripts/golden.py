"""Golden outputs of the default run: record them, check them, and show what changed.

The golden test (``tests/test_golden.py``) runs the default pipeline (load, detect, rank,
sites) on the bundled data and compares a digest of every output table with
``tests/golden/digest.json``: a refactoring must leave every table identical, and a
deliberate change of behaviour re-records the digest in the same commit, listing the
difference (``diff``) in the commit message.

Each table is canonicalised before hashing: columns in file order, floats rounded to
nine significant digits (so that last-bit differences between library builds do not
count), missing values as empty strings; geometries are normalised and rounded to 1 mm.

Usage::

    python scripts/golden.py run OUT            # run the default pipeline's table stages into OUT
    python scripts/golden.py record OUT         # write tests/golden/digest.json from OUT
    python scripts/golden.py check OUT          # compare OUT with tests/golden/digest.json
    python scripts/golden.py diff OLD_OUT NEW_OUT   # what changed between two run folders
"""

from __future__ import annotations

import hashlib
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely

ROOT = Path(__file__).resolve().parent.parent
DIGEST = ROOT / "tests" / "golden" / "digest.json"
CSV_TABLES = ("places.csv", "districts.csv", "bleed_kits.csv", "outreach.csv", "dropped_rows.csv")
GPKG_FILES = ("hotspots.gpkg", "places.gpkg", "sites.gpkg")
STAGES = ["detect", "rank", "sites"]
"""Stages whose outputs are the golden tables (maps and the report are checked by their own tests)."""


def _canon_value(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.9g}"
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return str(v)


def canonical(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` as strings: floats to 9 significant digits, missing values empty."""
    out = pd.DataFrame(index=range(len(df)))
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_float_dtype(s):
            out[col] = [_canon_value(x) for x in s.to_numpy(dtype=float)]
        else:
            out[col] = [_canon_value(x) for x in s.astype(object).where(s.notna(), None)]
    return out


def _geometry_digest(geoms: np.ndarray) -> str:
    g = shapely.set_precision(shapely.normalize(geoms), 0.001)
    return hashlib.sha256(b"".join(shapely.to_wkb(g, hex=False, include_srid=False))).hexdigest()


def read_tables(out: Path) -> dict[str, tuple[pd.DataFrame, str | None]]:
    """Every golden table of run folder ``out``: name -> (canonical attributes, geometry digest)."""
    tables: dict[str, tuple[pd.DataFrame, str | None]] = {}
    for name in CSV_TABLES:
        path = out / name
        if path.exists():
            df = pd.read_csv(path, dtype=None, keep_default_na=True, low_memory=False)
            tables[name] = (canonical(df), None)
    for name in GPKG_FILES:
        path = out / name
        if not path.exists():
            continue
        for layer, _ in pyogrio.list_layers(path):
            df = pyogrio.read_dataframe(path, layer=layer)
            geo = df.geometry.to_numpy() if "geometry" in df else None
            attrs = pd.DataFrame(df.drop(columns="geometry")) if geo is not None else pd.DataFrame(df)
            tables[f"{name}:{layer}"] = (canonical(attrs), _geometry_digest(geo) if geo is not None else None)
    return tables


def digest(out: Path) -> dict[str, dict[str, object]]:
    """Row count, columns and sha256 of each golden table of ``out``."""
    result: dict[str, dict[str, object]] = {}
    for name, (df, geo) in sorted(read_tables(out).items()):
        text = df.to_csv(index=False, lineterminator="\n").encode("utf-8")
        result[name] = {
            "rows": len(df),
            "columns": list(df.columns),
            "sha256": hashlib.sha256(text).hexdigest(),
            "geometry_sha256": geo,
        }
    return result


def compare(expected: dict[str, dict[str, object]], actual: dict[str, dict[str, object]]) -> list[str]:
    """Names of tables (with what differs) between two digests; empty when identical."""
    problems = []
    for name in sorted(set(expected) | set(actual)):
        e, a = expected.get(name), actual.get(name)
        if e is None:
            problems.append(f"{name}: new table")
        elif a is None:
            problems.append(f"{name}: missing")
        else:
            parts = [k for k in ("rows", "columns", "sha256", "geometry_sha256") if e.get(k) != a.get(k)]
            if parts:
                problems.append(f"{name}: {', '.join(parts)} differ")
    return problems


def run_default(out: Path) -> Path:
    """Run the default pipeline's table stages (bundled config) into ``out``."""
    from hotspots import pipeline
    from hotspots.config import load_config

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline.run(load_config(None), out, stages=STAGES)
    return out


def diff(old: Path, new: Path, *, max_rows: int = 5) -> str:
    """A readable account of how the golden tables of two run folders differ."""
    a, b = read_tables(old), read_tables(new)
    lines = []
    for name in sorted(set(a) | set(b)):
        if name not in a:
            lines.append(f"{name}: new table ({len(b[name][0])} rows, columns {list(b[name][0].columns)})")
            continue
        if name not in b:
            lines.append(f"{name}: removed")
            continue
        (da, ga), (db, gb) = a[name], b[name]
        notes = []
        if list(da.columns) != list(db.columns):
            added = [c for c in db.columns if c not in da.columns]
            removed = [c for c in da.columns if c not in db.columns]
            notes.append(f"columns added {added}, removed {removed}" if added or removed else "columns reordered")
        if len(da) != len(db):
            notes.append(f"rows {len(da)} -> {len(db)}")
        common = [c for c in da.columns if c in db.columns]
        n = min(len(da), len(db))
        for c in common:
            va, vb = da[c].to_numpy()[:n], db[c].to_numpy()[:n]
            bad = np.flatnonzero(va != vb)
            if len(bad):
                ex = ", ".join(f"row {i}: {va[i]!r} -> {vb[i]!r}" for i in bad[:max_rows])
                notes.append(f"{c}: {len(bad)} of {n} values differ ({ex})")
        if ga != gb:
            notes.append("geometries differ")
        if notes:
            lines.append(f"{name}:\n  " + "\n  ".join(notes))
    return "\n".join(lines) if lines else "identical"


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in ("run", "record", "check", "diff"):
        print(__doc__)
        return 2
    cmd, out = argv[0], Path(argv[1])
    if cmd == "run":
        run_default(out)
        print(f"wrote {out}")
    elif cmd == "record":
        DIGEST.parent.mkdir(parents=True, exist_ok=True)
        DIGEST.write_text(json.dumps(digest(out), indent=1) + "\n", encoding="utf-8")
        print(f"recorded {DIGEST}")
    elif cmd == "check":
        problems = compare(json.loads(DIGEST.read_text(encoding="utf-8")), digest(out))
        print("\n".join(problems) if problems else "identical to the golden digest")
        return 1 if problems else 0
    else:
        print(diff(out, Path(argv[2])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
