"""The assets command line: ``python -m hotspots.present.assets install [--force] | check``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from hotspots.present.assets.vendor import (
    INSTALL_HINT,
    LOCK_FILE,
    AssetError,
    install,
    problems,
    vendor_dir,
)

EXIT_ERROR = 2
"""Exit code of a failed install or check (as the ``hotspots`` command's input errors)."""


def main(argv: list[str] | None = None) -> int:
    """``python -m hotspots.present.assets install [--force] | check``."""
    parser = argparse.ArgumentParser(
        prog="python -m hotspots.present.assets", description="Vendor or verify the offline map assets."
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_install = sub.add_parser("install", help="fetch, verify and vendor the pinned assets (idempotent)")
    p_install.add_argument("--force", action="store_true", help="fetch every package again")
    p_install.add_argument("--dest", type=Path, default=None, help="vendor folder (default hotspots/present/_vendor)")
    p_install.add_argument("--lock", type=Path, default=LOCK_FILE, help="lock manifest (default the bundled one)")
    p_install.add_argument("--npm", default="npm", help="npm executable (default npm on PATH)")
    p_check = sub.add_parser("check", help="verify the vendored files against the lock and the install record")
    p_check.add_argument("--dest", type=Path, default=None)
    p_check.add_argument("--lock", type=Path, default=LOCK_FILE)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    dest = args.dest or vendor_dir()
    try:
        if args.cmd == "install":
            result = install(dest=dest, lock=args.lock, npm=args.npm, force=args.force)
            fetched = [k for k, v in result.items() if v == "installed"]
            print(
                f"offline map assets in {dest}: "
                + (f"installed {', '.join(fetched)}" if fetched else f"all {len(result)} packages present")
            )
        else:
            bad = problems(dest=dest, lock=args.lock)
            if bad:
                for k, v in bad.items():
                    print(f"{k}: {v}", file=sys.stderr)
                print(f"to fix, {INSTALL_HINT}", file=sys.stderr)
                return 1
            print(f"offline map assets in {dest}: all verified")
    except AssetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return 0
