"""Null calibration and power of the hot spot test on a study's own units, vectorised.

Every map is drawn under the exposure null of :mod:`hotspots.detect.inference`: the study's N
incidents, with their real harm marks, fall in unit j with probability proportional to its
exposure (cell area on the grid = complete spatial randomness; residents on LSOAs = equal rate
per resident). Power maps multiply the probability of a planted cluster (a unit and up to
``size - 1`` of its neighbours) by a factor, keeping N. Arrays are units x maps throughout.
Used by ``tests/test_calibration.py`` and ``scripts/null_calibration.py``; an analyst can run
the same checks on another force's units (:func:`study_layers`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import scipy.sparse as sp

from hotspots import columns as C
from hotspots.detect._marks import MarkMix, mark_mix
from hotspots.detect._montecarlo import simulate_null
from hotspots.detect.exposure import RESIDENTS, areal_exposure
from hotspots.detect.gistar import contiguity_weights, fdr_bh, gistar, grid_weights
from hotspots.detect.methods.exact import exact_test, pearson_dispersion
from hotspots.units import CELL_ID, choose_cell_size, count_in_units, lsoa_units, make_grid

if TYPE_CHECKING:
    from hotspots.prepare.study import Study


@dataclass(frozen=True)
class Layer:
    """A layer's weights, null probabilities and marks.

    Attributes
    ----------
    name
        ``"grid"`` or ``"lsoa"`` (or any label).
    W
        Binary weights including self.
    prob
        Null probability of each unit (its share of the exposure).
    mix
        The incidents' harm marks (N = ``mix.n``).
    """

    name: str
    W: sp.csr_array
    prob: np.ndarray
    mix: MarkMix

    @property
    def lam(self) -> np.ndarray:
        """Expected incidents per neighbourhood under the null."""
        return self.mix.n * np.asarray(self.W @ self.prob)


@dataclass(frozen=True)
class StudyUnits:
    """The default run's units of a study with counts, harm and exposure, and their layers.

    Attributes
    ----------
    grid
        Grid cells (``cell_id, n, harm, area, residents``; ``attrs["grid"]``).
    lsoa
        LSOAs (``lsoa_code, n, harm, rate_per_1000, population``).
    marks
        Harm marks of the place-analysis incidents.
    layers
        ``{"grid": Layer (area), "lsoa": Layer (residents)}``.
    """

    grid: gpd.GeoDataFrame
    lsoa: gpd.GeoDataFrame
    marks: np.ndarray
    layers: dict[str, Layer]


def study_units(study: Study, *, cell_size: float | None = None) -> StudyUnits:
    """The grid (``choose_cell_size`` unless given) and LSOAs as the detect stage builds them by default."""
    inc = study.analysis_incidents
    grid = make_grid(study.area, cell_size=cell_size or choose_cell_size(inc, study.area))
    counts = count_in_units(inc, grid, key=CELL_ID)
    attrs = dict(grid.attrs)
    grid = grid.assign(n=counts[C.N].to_numpy(), harm=counts[C.HARM_SUM].to_numpy(), area=grid.geometry.area)
    grid[RESIDENTS] = areal_exposure(grid, study.lsoa).to_numpy()
    grid.attrs = attrs
    lsoa = lsoa_units(inc, study.lsoa)
    marks = inc[C.HARM].to_numpy(dtype=float)
    mix = mark_mix(marks)
    layers = {
        "grid": Layer("grid", grid_weights(grid), _share(grid["area"]), mix),
        "lsoa": Layer("lsoa", contiguity_weights(lsoa), _share(lsoa[C.POPULATION].fillna(0.0)), mix),
    }
    return StudyUnits(grid=grid, lsoa=lsoa, marks=marks, layers=layers)


def _share(e: Any) -> np.ndarray:
    x = np.asarray(e, dtype=float)
    return x / x.sum()


def null_maps(lay: Layer, n_maps: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts and harm (units x maps) under the null."""
    c, h = simulate_null(lay.prob, lay.mix, n_maps, seed=seed)
    return c.T, h.T


def planted_maps(
    lay: Layer, factor: float, n_maps: int, *, seed: int, sizes: tuple[int, ...] = (3, 4, 5)
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Maps with one planted cluster each: ``factor`` times the expected count in its units.

    The cluster is a unit drawn in proportion to exposure and up to ``size - 1`` of its
    neighbours (size drawn from ``sizes``); its units' probabilities are multiplied by
    ``factor`` and the others scaled down so that N stays fixed.

    Returns
    -------
    counts, harm, planted, expected
        Units x maps arrays, the planted mask (units x maps), and each cluster's expected
        count under the null.
    """
    rng = np.random.default_rng(seed)
    n = len(lay.prob)
    W = sp.csr_array(lay.W)
    counts = np.zeros((n, n_maps), dtype=np.int64)
    harm = np.zeros((n, n_maps))
    planted = np.zeros((n, n_maps), dtype=bool)
    expected = np.zeros(n_maps)
    for m, s in enumerate(rng.choice(n, size=n_maps, p=lay.prob)):
        nb = W.indices[W.indptr[s] : W.indptr[s + 1]]
        cl = np.concatenate([[s], rng.permutation(nb[nb != s])[: int(rng.choice(sizes)) - 1]])
        pc = lay.prob[cl].sum()
        p2 = lay.prob * (1 - factor * pc) / (1 - pc)
        p2[cl] = factor * lay.prob[cl]
        c, h = simulate_null(p2, lay.mix, 1, seed=rng)
        counts[:, m], harm[:, m] = c[0], h[0]
        planted[cl, m] = True
        expected[m] = lay.mix.n * pc
    return counts, harm, planted, expected


def overdispersed_maps(lay: Layer, phi: float, n_maps: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts and harm (units x maps) with independent extra-Poisson variation and no clustering.

    Unit j's count is Poisson(mu_j g_j) with ``g_j ~ Gamma(mu_j / (phi - 1), (phi - 1) / mu_j)``
    (mean 1): negative binomial with variance ``phi mu_j``, independent across units, so
    there is no spatial concentration beyond unit-level noise. Marks are drawn per incident
    from the real mix; N varies from map to map around the real total.
    """
    rng = np.random.default_rng(seed)
    mu = lay.mix.n * lay.prob
    shape = mu / (phi - 1.0)
    g = rng.gamma(shape, 1.0 / np.maximum(shape, 1e-300), size=(n_maps, len(mu)))
    counts = np.zeros((len(mu), n_maps), dtype=np.int64)
    harm = np.zeros((len(mu), n_maps))
    for v, f in zip(lay.mix.values, lay.mix.freqs, strict=True):
        x = rng.poisson(mu * f * g).T
        counts += x
        harm += v * x
    return counts, harm


def exact_maps(
    lay: Layer, counts: np.ndarray, harm: np.ndarray, *, value: str = "harm", dispersion: float | str = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """The exact test + BH on every map: z and q, units x maps.

    ``dispersion`` 1 (Poisson) runs all maps at once; ``"pearson"`` (the default of the
    pipeline) estimates it map by map from the map's own counts, as the pipeline does.
    """
    x, mix = (harm, lay.mix) if value == "harm" else (counts.astype(float), mark_mix([1.0]))
    if dispersion != "pearson":
        z, p, _ = exact_test(np.asarray(lay.W @ x), lay.lam, mix, dispersion=float(dispersion))
        return z, fdr_bh(p, axis=0)
    z = np.zeros(x.shape)
    q = np.ones(x.shape)
    lam_share = np.asarray(lay.W @ lay.prob)
    for m in range(x.shape[1]):
        n_inc = counts[:, m].sum()
        phi = pearson_dispersion(counts[:, m], n_inc * lay.prob)
        zz, pp, _ = exact_test(np.asarray(lay.W @ x[:, m]), n_inc * lam_share, mix, dispersion=phi)
        z[:, m], q[:, m] = zz, fdr_bh(pp)
    return z, q


def analytic_maps(
    lay: Layer, counts: np.ndarray, harm: np.ndarray, *, value: str = "harm"
) -> tuple[np.ndarray, np.ndarray]:
    """Analytic Gi* z + BH, map by map (the option ``"analytic"``, and the default before calibration)."""
    x = harm if value == "harm" else counts.astype(float)
    z = np.zeros(x.shape)
    q = np.ones(x.shape)
    for m in range(x.shape[1]):
        zz, pp = gistar(x[:, m], lay.W)
        z[:, m], q[:, m] = zz, fdr_bh(pp)
    return z, q


def share_hot(
    z: np.ndarray,
    q: np.ndarray,
    counts: np.ndarray,
    *,
    level: float,
    within: np.ndarray | None = None,
    need_incident: bool = True,
) -> float:
    """Share of maps with any unit hot at ``q <= level`` (within the ``within`` mask when given).

    ``need_incident``: count a unit as hot only where it holds an incident (the rule of the
    classes; the analytic Gi* before calibration did not have it).
    """
    hot = (q <= level) & (z > 0)
    if need_incident:
        hot &= counts >= 1
    if within is not None:
        hot &= within
    return float(hot.any(axis=0).mean())


__all__ = [
    "Layer",
    "StudyUnits",
    "analytic_maps",
    "exact_maps",
    "null_maps",
    "overdispersed_maps",
    "planted_maps",
    "share_hot",
    "study_units",
]
