"""National hot spots from per-force partitions: KDE and the exact Gi* test on one national grid and the LSOAs.

:func:`detect_national` plans the partitions (:func:`hotspots.national.partition.plan_partitions`),
runs their first step on the executor, adds up the national null (incidents, exposure, dispersion,
harm marks), runs their second step, and gathers the p-values: Benjamini-Hochberg then runs
**once over all analysed units of the country** (one family for the grid, one for the LSOAs, as
in a single run), and the classes follow. The result equals that of one run over the whole
country (``tests/test_national.py``): the partitions only split the work.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from hotspots import columns as C
from hotspots.detect._marks import mark_mix
from hotspots.detect._tails import MAX_STEPS
from hotspots.detect.gistar import (
    COLD_CLASSES,
    GI_P,
    GI_Q,
    GI_Z,
    HOT_CLASSES,
    HOTSPOT_CLASS,
    LOCAL_EXPECTED,
    LOCAL_SUM,
    MIN_UNITS,
    NOT_ANALYSED,
    classify,
    fdr_bh,
)
from hotspots.detect.kde import KDE
from hotspots.detect.methods.exact import resolve_dispersion
from hotspots.errors import InputError
from hotspots.national.engine import Executor
from hotspots.national.partition import (
    GridSettings,
    Lattice,
    NationalNull,
    PartitionSummary,
    UnitTests,
    check_cover,
    infer_partition,
    partition_inputs,
    plan_partitions,
    prepare_partition,
)
from hotspots.units import HARM_SUM, RATE_PER_1000, N

log = logging.getLogger(__name__)

FORCE = "force"
"""Column: police.uk id of the force whose area holds the unit (LSOA: its district's force; cell: its owner)."""
CELL_X, CELL_Y = "x", "y"
"""Columns: the cell's centre, British National Grid metres."""
EXPOSURE = "exposure"
"""Column: the unit's exposure under the null (cell area in m² or residents; LSOA residents)."""

GRID_COLUMNS = [C.CELL_ID, CELL_X, CELL_Y, FORCE, N, HARM_SUM, KDE, EXPOSURE, GI_Z, GI_P, GI_Q, HOTSPOT_CLASS]
GRID_COLUMNS += [LOCAL_SUM, LOCAL_EXPECTED]
"""Columns of the national grid table (one row per cell of England and Wales, by ``cell_id``)."""
LSOA_COLUMNS = [C.LSOA_CODE, FORCE, N, HARM_SUM, RATE_PER_1000, C.POPULATION, KDE]
LSOA_COLUMNS += [GI_Z, GI_P, GI_Q, HOTSPOT_CLASS, LOCAL_SUM, LOCAL_EXPECTED]
"""Columns of the national LSOA layer (before geometry), in the national LSOA order."""


@dataclass(frozen=True)
class NationalDetect:
    """The national hot spot results.

    Attributes
    ----------
    grid
        :data:`GRID_COLUMNS`, one row per national cell (no polygons: the lattice gives them).
    lsoa
        :data:`LSOA_COLUMNS` and geometry, one row per LSOA.
    lattice
        The national lattice (cell ``cell_id`` = ``row * ncols + col``).
    summary
        Partitions (window cells and incidents per force), national nulls, class counts, timings.
    """

    grid: pd.DataFrame
    lsoa: gpd.GeoDataFrame
    lattice: Lattice
    summary: dict[str, Any] = field(default_factory=dict)


def _null(
    counts: np.ndarray, exposure: np.ndarray, marks: np.ndarray | None, dispersion: Any, max_steps: int
) -> NationalNull:
    ok = exposure > 0
    n_tot = float(counts[ok].sum())
    e_tot = float(exposure[ok].sum())
    if ok.sum() < MIN_UNITS or e_tot <= 0:
        raise InputError("fewer than two units have exposure nationally: nothing to test for hot spots.")
    phi = resolve_dispersion(dispersion, counts[ok], n_tot * exposure[ok] / e_tot)
    mix = mark_mix([1.0]) if marks is None else mark_mix(marks)
    return NationalNull(incidents=n_tot, exposure=e_tot, dispersion=phi, mix=mix, max_steps=max_steps)


def _assemble(
    tests: list[UnitTests], sizes: list[int], counts: np.ndarray, mix_mean: float, fdr: bool
) -> dict[str, Any]:
    """National columns of the hot spot test from the partitions' results (BH once over all analysed units)."""
    total = int(sum(sizes))
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    where = np.concatenate([t.which + o for t, o in zip(tests, offsets, strict=True)]) if tests else np.zeros(0, int)
    z = np.concatenate([t.z for t in tests]) if tests else np.zeros(0)
    p = np.concatenate([t.p for t in tests]) if tests else np.zeros(0)
    local = np.concatenate([t.local for t in tests]) if tests else np.zeros(0)
    lam = np.concatenate([t.lam for t in tests]) if tests else np.zeros(0)
    q = fdr_bh(p) if fdr else p.copy()
    cls = classify(z, q, counts[where])
    out: dict[str, Any] = {
        GI_Z: np.full(total, np.nan),
        GI_P: np.full(total, np.nan),
        GI_Q: np.full(total, np.nan),
        HOTSPOT_CLASS: np.full(total, NOT_ANALYSED, dtype=object),
        LOCAL_SUM: np.full(total, np.nan),
        LOCAL_EXPECTED: np.full(total, np.nan),
    }
    for col, vals in ((GI_Z, z), (GI_P, p), (GI_Q, q), (HOTSPOT_CLASS, cls), (LOCAL_SUM, local)):
        out[col][where] = vals
    out[LOCAL_EXPECTED][where] = lam * mix_mean
    return out


def _class_counts(cls: np.ndarray) -> dict[str, int]:
    s = pd.Series(cls).value_counts()
    return {str(k): int(v) for k, v in s.items()}


def detect_national(
    incidents: pd.DataFrame,
    lsoa: gpd.GeoDataFrame,
    forces: np.ndarray,
    settings: GridSettings,
    executor: Executor,
    *,
    dispersion: float | str | None = "pearson",
    fdr: bool = True,
    max_steps: int = MAX_STEPS,
) -> NationalDetect:
    """Partitioned national KDE and hot spot tests; FDR once over the country.

    Parameters
    ----------
    incidents
        Cleaned incidents with ``x``, ``y`` (EPSG:27700), ``harm`` and ``lsoa_code``.
    lsoa
        Every LSOA: ``lsoa_code``, ``population`` (NaN where unknown) and geometry, EPSG:27700.
    forces
        The force of each LSOA (aligned to ``lsoa``).
    settings
        One set of grid settings for the country.
    executor
        Where the partitions run (:func:`hotspots.national.engine.open_executor`).
    dispersion
        ``"pearson"`` (estimated nationally), a number >= 1, or None (the method uses none), as
        ``[detect] dispersion``.
    fdr
        Benjamini-Hochberg over all analysed units of the country (default) or raw p.
    max_steps
        Largest lattice sum computed exactly per unit (beyond it, the saddlepoint).

    Returns
    -------
    NationalDetect
    """
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    lattice = Lattice.covering(tuple(lsoa.total_bounds), settings.cell_size)
    codes = pd.Index(lsoa[C.LSOA_CODE].astype(str))
    pos = codes.get_indexer(incidents[C.LSOA_CODE].astype(str))
    if (pos < 0).any():
        raise InputError(f"internal: {int((pos < 0).sum())} incidents carry an LSOA code outside the LSOA frame.")
    harm = incidents[C.HARM].to_numpy(dtype=float)
    n_l = np.bincount(pos, minlength=len(lsoa)).astype(float)
    h_l = np.bincount(pos, weights=harm, minlength=len(lsoa))
    frame = gpd.GeoDataFrame(
        {
            C.LSOA_CODE: codes.to_numpy(),
            C.POPULATION: pd.to_numeric(lsoa[C.POPULATION], errors="coerce").to_numpy(dtype=float),
            N: n_l,
            HARM_SUM: h_l,
        },
        geometry=lsoa.geometry.values,
        crs=C.CRS,
    )
    specs = plan_partitions(frame, np.asarray(forces), margin=settings.margin)
    pts = incidents[["x", "y", C.HARM]].reset_index(drop=True)
    xy = (pts["x"].to_numpy(dtype=float), pts["y"].to_numpy(dtype=float))
    timings["plan"] = time.perf_counter() - t0
    t = time.perf_counter()
    handles = []
    for spec in specs:
        lsoa_w, inc_w = partition_inputs(spec, frame, pts, xy)
        handles.append(executor.submit(prepare_partition, spec, lsoa_w, inc_w, settings, lattice))
    summaries: list[PartitionSummary] = executor.gather([executor.pick(h, 1) for h in handles])
    timings["partitions_prepare"] = time.perf_counter() - t
    check_cover(summaries, len(lsoa))
    t = time.perf_counter()
    cell_n = np.concatenate([s.cell_n for s in summaries])
    cell_e = np.concatenate([s.cell_exposure for s in summaries])
    lsoa_pos = np.concatenate([s.lsoa_pos for s in summaries])
    lsoa_e = np.concatenate([s.lsoa_exposure for s in summaries])
    marks = None if settings.weights == "count" else harm
    grid_null = _null(cell_n, cell_e, marks, dispersion, max_steps)
    lsoa_null = _null(n_l[lsoa_pos], lsoa_e, marks, dispersion, max_steps)
    results = executor.gather(
        [executor.submit(infer_partition, executor.pick(h, 0), grid_null, lsoa_null) for h in handles]
    )
    timings["partitions_test"] = time.perf_counter() - t
    t = time.perf_counter()
    grid_cols = _assemble(
        [r[0] for r in results], [len(s.cell_ids) for s in summaries], cell_n, grid_null.mix.mean, fdr
    )
    lsoa_cols = _assemble(
        [r[1] for r in results], [len(s.lsoa_pos) for s in summaries], n_l[lsoa_pos], lsoa_null.mix.mean, fdr
    )
    grid = _grid_table(summaries, grid_cols, lattice)
    layer = _lsoa_layer(frame, forces, summaries, lsoa_pos, lsoa_cols)
    timings["gather_fdr"] = time.perf_counter() - t
    summary = {
        "partitions": {
            s.force: {
                "owned_cells": len(s.cell_ids),
                "window_cells": s.window_cells,
                "window_incidents": s.window_incidents,
            }
            for s in summaries
        },
        "margin_m": round(settings.margin, 1),
        "margin_rule": "max(KDE reach, Gi* neighbourhood reach) + 3 cell diagonals, around each force's bounding box",
        "cells": len(grid),
        "grid_null": _describe(grid_null),
        "lsoa_null": _describe(lsoa_null),
        "fdr": "Benjamini-Hochberg once over every analysed unit of the country" if fdr else "none (raw p)",
        "grid_classes": _class_counts(grid[HOTSPOT_CLASS].to_numpy()),
        "lsoa_classes": _class_counts(layer[HOTSPOT_CLASS].to_numpy()),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }
    log.info("national detect: %d cells, %d LSOAs in %d partitions", len(grid), len(layer), len(specs))
    return NationalDetect(grid=grid, lsoa=layer, lattice=lattice, summary=summary)


def _describe(null: NationalNull) -> dict[str, Any]:
    return {
        "incidents": null.incidents,
        "exposure": null.exposure,
        "dispersion": round(null.dispersion, 4),
        **null.mix.describe(),
    }


def _grid_table(summaries: list[PartitionSummary], cols: dict[str, Any], lattice: Lattice) -> pd.DataFrame:
    ids = np.concatenate([s.cell_ids for s in summaries])
    xy = lattice.centres(ids)
    grid = pd.DataFrame(
        {
            C.CELL_ID: ids,
            CELL_X: xy[:, 0],
            CELL_Y: xy[:, 1],
            FORCE: np.concatenate([np.full(len(s.cell_ids), s.force, dtype=object) for s in summaries]),
            N: np.concatenate([s.cell_n for s in summaries]).astype(np.int64),
            HARM_SUM: np.concatenate([s.cell_harm for s in summaries]),
            KDE: np.concatenate([s.cell_kde for s in summaries]),
            EXPOSURE: np.concatenate([s.cell_exposure for s in summaries]),
            **cols,
        }
    )
    return grid.sort_values(C.CELL_ID, kind="stable").reset_index(drop=True)[GRID_COLUMNS]


def _lsoa_layer(
    frame: gpd.GeoDataFrame,
    forces: np.ndarray,
    summaries: list[PartitionSummary],
    lsoa_pos: np.ndarray,
    cols: dict[str, Any],
) -> gpd.GeoDataFrame:
    out = pd.DataFrame(index=np.arange(len(frame)))
    out[C.LSOA_CODE] = frame[C.LSOA_CODE].to_numpy()
    out[FORCE] = np.asarray(forces, dtype=object)
    out[N] = frame[N].to_numpy().astype(np.int64)
    out[HARM_SUM] = frame[HARM_SUM].to_numpy()
    pop = frame[C.POPULATION].to_numpy(dtype=float)
    out[RATE_PER_1000] = np.where(pop > 0, out[N].to_numpy() / np.where(pop > 0, pop, 1) * 1000.0, np.nan)
    out[C.POPULATION] = pop
    kde = np.full(len(frame), np.nan)
    kde[lsoa_pos] = np.concatenate([s.lsoa_kde for s in summaries])
    out[KDE] = kde
    for col, vals in cols.items():
        full = np.full(
            len(frame),
            NOT_ANALYSED if col == HOTSPOT_CLASS else np.nan,
            dtype=object if col == HOTSPOT_CLASS else float,
        )
        full[lsoa_pos] = vals
        out[col] = full
    return gpd.GeoDataFrame(out[LSOA_COLUMNS], geometry=frame.geometry.values, crs=C.CRS)


def hot_counts(classes: pd.Series) -> tuple[int, int]:
    """(hot, cold) units at 90 % or more."""
    return int(classes.isin(HOT_CLASSES).sum()), int(classes.isin(COLD_CLASSES).sum())


__all__ = ["EXPOSURE", "FORCE", "GRID_COLUMNS", "LSOA_COLUMNS", "NationalDetect", "detect_national", "hot_counts"]
