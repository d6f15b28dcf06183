"""Minimum spanning trees of weighted mutual-reachability distances (the core of the weighted HDBSCAN).

HDBSCAN* needs nothing but the minimum spanning tree of the mutual-reachability distances
``max(core_i, core_j, d_ij)`` (Campello, Moulavi & Sander 2013). :func:`mutual_reachability_mst`
builds it by Borůvka's algorithm on a KD-tree in about O(m log m) time and O(m k) memory
(20,610 locations in 0.5 s, 77,800 in a few seconds); :func:`prim_mst` is the plain O(m²)
Prim's algorithm it replaced, kept as the tests' oracle, and :func:`mutual_reachability` the
full matrix (m² x 8 bytes) for the smallest checks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

TIE_BREAK = 1e-6
"""Weighted core distances make many mutual-reachability distances equal, and HDBSCAN's
tree then depends on the order of the locations. Adding ``TIE_BREAK`` x the distance (a
micrometre per metre) breaks ties towards the nearer pair, so the result does not."""

BORUVKA_K = (16, 128)
"""Fewest and most neighbours per location queried once by :func:`mutual_reachability_mst`."""

BIG_COMPONENT = 2000
"""Components at least this large search for foreign neighbours in a KD-tree of the other locations."""

QUERY_BLOCK = 4_000_000
"""Most neighbour entries (locations x k) held at once by a KD-tree query."""


def mr_weight(core_a: np.ndarray, core_b: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Mutual-reachability weight ``max(core_a, core_b, d) + TIE_BREAK d``."""
    return np.maximum(np.maximum(core_a, core_b), dist) + TIE_BREAK * dist


def mutual_reachability(xy: np.ndarray, core: np.ndarray) -> np.ndarray:
    """Full matrix of mutual-reachability distances ``max(core_i, core_j, d_ij) + TIE_BREAK d_ij``.

    Needs m² x 8 bytes; the clusters use :func:`mutual_reachability_mst`, and the tests use
    this as its oracle.
    """
    dist = cdist(xy, xy)
    mreach = np.maximum(dist, core[:, None])
    np.maximum(mreach, core[None, :], out=mreach)
    mreach += TIE_BREAK * dist
    np.fill_diagonal(mreach, 0.0)
    return mreach


def prim_mst(xy: np.ndarray, core: np.ndarray) -> sp.csr_array:
    """Minimum spanning tree of the mutual-reachability distances by Prim's algorithm (the oracle).

    O(m²) time in m vectorised steps and O(m) memory; 20,610 locations took 3-6 s and
    47,000 about 30 s, which is why :func:`mutual_reachability_mst` replaced it.
    """
    m = len(xy)
    rows = np.empty(m - 1, dtype=np.intp)
    cols = np.empty(m - 1, dtype=np.intp)
    vals = np.empty(m - 1)
    # arrays over the locations not yet in the tree; a joined location is swapped out
    rem = np.arange(1, m)
    x, y, c = xy[1:, 0].copy(), xy[1:, 1].copy(), core[1:].copy()
    best = np.full(m - 1, np.inf)
    parent = np.zeros(m - 1, dtype=np.intp)
    v, vx, vy, vc = 0, xy[0, 0], xy[0, 1], core[0]
    for step in range(m - 1):
        k = m - 1 - step  # locations left
        dist = np.hypot(x[:k] - vx, y[:k] - vy)
        mr = np.maximum(dist, c[:k])
        np.maximum(mr, vc, out=mr)
        mr += TIE_BREAK * dist
        better = mr < best[:k]
        best[:k][better] = mr[better]
        parent[:k][better] = v
        j = int(np.argmin(best[:k]))
        v = int(rem[j])
        rows[step], cols[step], vals[step] = parent[j], v, best[j]
        vx, vy, vc = x[j], y[j], c[j]
        last = k - 1
        for arr in (rem, x, y, c, best, parent):
            arr[j] = arr[last]
    g = sp.csr_array((vals, (rows, cols)), shape=(m, m))
    return sp.csr_array(g + g.T)


def _roots(parent: np.ndarray) -> np.ndarray:
    """Root of every element of a union-find forest (vectorised pointer jumping; compresses ``parent``)."""
    while True:
        grand = parent[parent]
        if np.array_equal(grand, parent):
            return parent
        parent[:] = grand


def _best_per_group(group: np.ndarray, w: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Index of the lightest candidate edge of each group, ties broken by (lower end, higher end)."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    order = np.lexsort((hi, lo, w, group))
    g = group[order]
    first = np.ones(len(g), dtype=bool)
    first[1:] = g[1:] != g[:-1]
    return order[first]


def _ball_edges(
    tree: Any, xy: np.ndarray, core: np.ndarray, pts: np.ndarray, radius: np.ndarray | float, index: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair (point of ``pts``, location of ``tree`` within ``radius``) with its mutual-reachability weight.

    ``index`` maps the tree's rows to location indices (None: the tree holds every location).
    """
    hits = tree.query_ball_point(xy[pts], r=radius)
    lens = np.fromiter((len(h) for h in hits), dtype=np.intp, count=len(hits))
    a = np.repeat(pts, lens)
    b = np.concatenate([np.asarray(h, dtype=np.intp) for h in hits]) if lens.sum() else a[:0]
    if index is not None:
        b = index[b]
    d = np.hypot(xy[a, 0] - xy[b, 0], xy[a, 1] - xy[b, 1])
    return a, b, mr_weight(core[a], core[b], d)


def _knn(tree: Any, xy: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest other locations of every location (self dropped), queried in blocks."""
    m = len(xy)
    dist = np.empty((m, k))
    idx = np.empty((m, k), dtype=np.intp)
    step = max(1, QUERY_BLOCK // (k + 1))
    for s0 in range(0, m, step):
        d, i = tree.query(xy[s0 : s0 + step], k=k + 1)
        dist[s0 : s0 + step], idx[s0 : s0 + step] = d[:, 1:], i[:, 1:]  # locations are distinct: self first
    return dist, idx


def mutual_reachability_mst(xy: np.ndarray, core: np.ndarray, *, k: int | None = None) -> sp.csr_array:
    """Minimum spanning tree of the mutual-reachability distances, as a symmetric sparse graph (Borůvka).

    The same tree as :func:`prim_mst` (the same edges and weights whenever the weights have no
    exact ties; with ties, another tree of the same total weight), in about O(m log m) time.

    Parameters
    ----------
    xy
        (m, 2) distinct locations, metres.
    core
        (m,) finite core distances (:func:`hotspots.detect.clusters.weighted_core_distance`).
    k
        Neighbours queried once per location; default the 90th percentile of the number of
        locations within each core distance, clamped to :data:`BORUVKA_K` (with fewer, most
        locations would need the wider search below).

    Returns
    -------
    scipy.sparse.csr_array
        Symmetric (m, m) graph holding the m - 1 tree edges and their weights.

    Notes
    -----
    Borůvka (1926): every round, each component adds its lightest edge to another component
    (ties broken by the edge's end indices; a union-find guards against cycles). The lightest
    foreign edge of a location ``a`` is looked for among its ``k`` nearest neighbours first;
    any location beyond them is at least ``r_k(a)`` away, so its weight is at least
    ``max(core_a, r_k(a)) + TIE_BREAK r_k(a)``, and ``a`` needs a wider search only when that
    bound is not above the best edge its component has found. The wider search is exact: a
    ball query of that radius (for a component of :data:`BIG_COMPONENT` locations or more,
    first the nearest location outside it, from a KD-tree of the other locations, to tighten
    the bound). HDBSCAN* needs nothing but this tree (Campello et al. 2013), and
    scikit-learn's HDBSCAN given it as a sparse precomputed graph reproduces the result from
    the full matrix exactly (tested).
    """
    xy = np.ascontiguousarray(xy, dtype=float)
    core = np.asarray(core, dtype=float)
    m = len(xy)
    if m < 2:  # noqa: PLR2004 - a tree needs two locations
        return sp.csr_array((m, m))
    tree = cKDTree(xy)
    if k is None:
        inside = tree.query_ball_point(xy, r=core, return_length=True)
        k = int(np.clip(np.percentile(inside, 90), *BORUVKA_K))
    kk = min(k, m - 1)
    dist, idx = _knn(tree, xy, kk)
    wk = mr_weight(core[:, None], core[idx], dist)
    rk = dist[:, -1]
    beyond = np.maximum(core, rk) + TIE_BREAK * rk  # lower bound of any edge beyond the k neighbours
    if kk == m - 1:
        beyond[:] = np.inf
    parent = np.arange(m)
    edges: list[tuple[int, int, float]] = []
    while True:
        comp = np.unique(_roots(parent), return_inverse=True)[1].ravel()
        if int(comp.max()) == 0:
            break
        a, b, w = _lightest_foreign(tree, xy, core, comp, idx, wk, beyond)
        added = 0
        for i in np.lexsort((np.maximum(a, b), np.minimum(a, b), w)):  # one edge per component, lightest first
            ra, rb = int(a[i]), int(b[i])
            while parent[ra] != ra:
                ra = int(parent[ra])
            while parent[rb] != rb:
                rb = int(parent[rb])
            if ra == rb:  # only with exactly equal weights
                continue
            parent[max(ra, rb)] = min(ra, rb)
            edges.append((int(a[i]), int(b[i]), float(w[i])))
            added += 1
        if added == 0:  # pragma: no cover - every component has a foreign edge
            raise RuntimeError("internal: Borůvka made no progress")
    ea, eb, ew = (np.asarray(v) for v in zip(*edges, strict=True))
    g = sp.csr_array((ew.astype(float), (ea.astype(np.intp), eb.astype(np.intp))), shape=(m, m))
    return sp.csr_array(g + g.T)


def _lightest_foreign(
    tree: Any,
    xy: np.ndarray,
    core: np.ndarray,
    comp: np.ndarray,
    idx: np.ndarray,
    wk: np.ndarray,
    beyond: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The lightest edge from each component to another (one Borůvka round): ends ``a, b`` and weights ``w``."""
    m = len(xy)
    ncomp = int(comp.max()) + 1
    # the best foreign edge of every location among its k neighbours
    wf = np.where(comp[idx] != comp[:, None], wk, np.inf)
    bw = wf.min(axis=1)
    bb = np.where(wf == bw[:, None], idx, m).min(axis=1)
    has = np.isfinite(bw)
    loc = np.arange(m)
    cands = [(loc[has], bb[has], bw[has])]
    bound = np.full(ncomp, np.inf)
    np.minimum.at(bound, comp[has], bw[has])
    sizes = np.bincount(comp, minlength=ncomp)
    for c in np.flatnonzero(~np.isfinite(bound)):  # no member sees a foreign neighbour: an upper bound
        p = int(np.flatnonzero(comp == c)[0])
        dn, jn = tree.query(xy[p], k=int(min(m, sizes[c] + 1)))
        jn, dn = np.atleast_1d(jn), np.atleast_1d(dn)
        f = comp[jn] != c
        wn = mr_weight(core[p], core[jn[f]], dn[f])
        cands.append((np.full(int(f.sum()), p), jn[f], wn))
        bound[c] = float(wn.min())
    need = beyond <= bound[comp]  # a location beyond the k neighbours could be as light
    big = need & (sizes[comp] >= BIG_COMPONENT)
    for c in np.unique(comp[big]):
        others = np.flatnonzero(comp != c)
        ftree = cKDTree(xy[others])
        pts = np.flatnonzero(big & (comp == c))
        dn, jn = ftree.query(xy[pts], k=1)
        wn = mr_weight(core[pts], core[others[jn]], dn)
        cands.append((pts, others[jn], wn))
        bound[c] = min(bound[c], float(wn.min()))
        pts = pts[np.maximum(core[pts], dn) + TIE_BREAK * dn <= bound[c]]
        if len(pts):
            cands.append(_ball_edges(ftree, xy, core, pts, bound[c] * (1 + 1e-9), others))
    small = np.flatnonzero(need & ~big)
    if len(small):
        a, b, w = _ball_edges(tree, xy, core, small, bound[comp[small]] * (1 + 1e-9), None)
        keep = comp[a] != comp[b]
        cands.append((a[keep], b[keep], w[keep]))
    a = np.concatenate([x[0] for x in cands])
    b = np.concatenate([x[1] for x in cands])
    w = np.concatenate([x[2] for x in cands])
    pick = _best_per_group(comp[a], w, a, b)
    return a[pick], b[pick], w[pick]
