"""Shared input checks: one place for the checks every stage makes on what it is given.

Each raises :class:`~hotspots.errors.ConfigError` or :class:`~hotspots.errors.InputError`
with a message that says what is wrong, where, and how to fix it.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from hotspots.errors import ConfigError, InputError

_MONTH_RE = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def suggest(key: str, valid: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` for the closest of ``valid`` to ``key`` (empty when none is close)."""
    close = difflib.get_close_matches(key, list(valid), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def check_month(value: str | None, where: str) -> str | None:
    """``value`` when it is a month written ``YYYY-MM`` (or None); :class:`ConfigError` otherwise."""
    if value is None:
        return None
    if not _MONTH_RE.fullmatch(value):
        raise ConfigError(f"{where} must be a month written YYYY-MM, got {value!r}.")
    return value


def require_file(path: Path | None, where: str) -> None:
    """Raise :class:`ConfigError` when ``path`` is given and does not exist."""
    if path is not None and not path.exists():
        shown = os.path.normpath(path)
        raise ConfigError(f"{where}: file not found: {shown}. Paths are relative to the config file.")


def counts_array(counts: Any, what: str = "counts") -> np.ndarray:
    """``counts`` as a 1-D float array of non-negative finite numbers, one per place; else :class:`InputError`."""
    try:
        x = np.asarray(counts, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} must be numbers (one per place), got {type(counts).__name__}: {exc}") from exc
    if len(x) == 0:
        raise InputError(f"{what} is empty; pass one count per place (zeros included).")
    bad = np.flatnonzero(~np.isfinite(x) | (x < 0))
    if len(bad):
        i = int(bad[0])
        raise InputError(
            f"{what} must be non-negative finite numbers; position {i} holds {float(x[i])!r}. "
            f"Count places without crime as 0 and drop missing values."
        )
    return x
