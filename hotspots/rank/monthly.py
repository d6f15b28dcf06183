"""Harm per place and month (the input of the overdispersion estimate and the rank-interval backtest)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.errors import InputError


def monthly_harm(
    incidents: pd.DataFrame, codes: Sequence[str], months: Sequence[str], *, weights: str = "harm"
) -> np.ndarray:
    """Harm (or counts) per place and month: a ``(places, months)`` matrix.

    Parameters
    ----------
    incidents
        Canonical incidents (``lsoa_code``, ``month`` YYYY-MM, ``harm``).
    codes
        The places (LSOA codes), in output row order; incidents elsewhere are ignored.
    months
        The months, in output column order; incidents in other months are ignored.
    weights
        ``"harm"`` (summed harm weights) or ``"count"``.

    Returns
    -------
    numpy.ndarray
        float, zeros where a place had nothing in a month.

    Raises
    ------
    InputError
        Missing columns or an unknown ``weights``.
    """
    need = [C.LSOA_CODE, C.MONTH] + ([C.HARM] if weights == "harm" else [])
    miss = [c for c in need if c not in incidents.columns]
    if miss:
        raise InputError(f"monthly_harm: incidents lack column(s) {', '.join(map(repr, miss))}.")
    if weights not in ("harm", "count"):
        raise InputError(f"monthly_harm: `weights` must be 'harm' or 'count', got {weights!r}.")
    row = pd.Index(list(codes)).get_indexer(incidents[C.LSOA_CODE].astype(str))
    col = pd.Index(list(months)).get_indexer(incidents[C.MONTH].astype(str))
    ok = (row >= 0) & (col >= 0)
    w = incidents[C.HARM].to_numpy(dtype=float) if weights == "harm" else np.ones(len(incidents))
    m = np.zeros((len(codes), len(months)))
    np.add.at(m, (row[ok], col[ok]), w[ok])
    return m
