"""National runs over every LSOA of England and Wales: archive, per-force partitions on Dask, national outputs.

``hotspots national --archive YYYY-MM.zip --out DIR`` runs :func:`national_run`; see docs/national.md.
The public verbs are imported on first use, so that ``hotspots --help`` stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "street_members": "archive",
    "select_members": "archive",
    "read_member": "archive",
    "detect_national": "detect",
    "NationalDetect": "detect",
    "open_executor": "engine",
    "GridSettings": "partition",
    "Lattice": "partition",
    "plan_partitions": "partition",
    "NationalConfig": "run",
    "Sections": "run",
    "national_run": "run",
}

__all__ = [
    "GridSettings",
    "Lattice",
    "NationalConfig",
    "NationalDetect",
    "Sections",
    "detect_national",
    "national_run",
    "open_executor",
    "plan_partitions",
    "read_member",
    "select_members",
    "street_members",
]


def __getattr__(name: str) -> Any:
    """The public verbs, imported from their modules on first use."""
    if name in _WHERE:
        return getattr(import_module(f"hotspots.national.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'hotspots.national' has no attribute {name!r}")
