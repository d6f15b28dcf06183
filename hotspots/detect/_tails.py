"""Exact tail probabilities of compound Poisson (or negative binomial) local sums.

The null distribution of a neighbourhood's harm sum, when every incident falls in the
neighbourhood independently with probability ``pi`` and carries a harm mark drawn from the
study's mark mix, is compound Poisson: ``H = sum_t m_t X_t`` with independent
``X_t ~ Poisson(N_t pi)`` (``N_t`` incidents carry mark ``m_t``). With extra-Poisson
variation (dispersion ``phi > 1``) the neighbourhood count is negative binomial with mean
``mu = N pi`` and variance ``phi mu`` (a gamma-mixed Poisson; sums of such counts with a common
``phi`` stay negative binomial), compounded with the same marks. This module gives upper and
lower tails, in logs (so that tails far below 1e-308 keep their size), for many units at once:

* one mark value (counts): scipy's regularised incomplete gamma / beta functions, exact;
* several marks on a lattice (harm 1 / 1.5 / 4 sit on a 0.5 lattice): Panjer's (a, b, 0)
  recursion vectorised across units, exact up to a truncated upper tail whose mass is
  bounded by a Chernoff bound (at most 1e-14, and at most 1e-10 of the Chernoff bound at the
  observed value); tails below ~1e-300 (never decisive) take their size from the saddlepoint;
* otherwise (marks without a usable lattice, sums needing more than ``max_steps`` lattice
  steps, or ``P(H = 0)`` below ``exp(-650)``): the saddlepoint (:mod:`hotspots.detect._saddle`).

Private to :mod:`hotspots.detect`.

References
----------
Panjer, H. H. (1981) Recursive evaluation of a family of compound distributions. ASTIN
Bulletin 12(1).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import special

from hotspots.detect._family import Family, family
from hotspots.detect._marks import MAX_LATTICE_MARK, MarkMix
from hotspots.detect._saddle import saddle_tails
from hotspots.errors import InputError

LOG_EPS_ABS = math.log(1e-14)
"""Largest truncated upper-tail mass allowed in Panjer's recursion (absolute)."""
LOG_EPS_REL = math.log(1e-10)
"""Largest truncated upper-tail mass allowed relative to the Chernoff bound at the observed value."""
MAX_STEPS = 20_000
"""Default largest number of lattice steps per unit for Panjer's recursion; beyond it, the saddlepoint."""
_CHUNK_CELLS = 4_000_000
"""Panjer table entries (units x steps) of one chunk: fixes which units share a truncation point."""
_BATCH_CELLS = 16_000_000
"""Panjer table entries held at once when chunks with the same truncation point run together
(two tables of 128 MB at most)."""
LATTICE_TOLERANCE = 1e-6
"""Largest distance (in lattice steps) of a local sum from the marks' lattice before it is an error."""
MAX_LOG_ZERO = 650.0
"""Panjer's recursion starts from ``P(H = 0)``; it is used while ``-log P(H = 0) <= 650`` (a Poisson
neighbourhood expecting at most 650 incidents). Beyond, the saddlepoint (accurate to about 1e-4 there)."""


def _panjer_pmf(fam: Family, rows: np.ndarray, s_max: int) -> np.ndarray:
    """Pmf ``P(H = s)``, ``s = 0..s_max``, for units ``rows``; shape (s_max + 1, len(rows)).

    Panjer (1981) for the (a, b, 0) class: ``g_s = (1 / (1 - a f0)) sum_t (a + b j_t / s) f_t
    g_{s - j_t}``, with ``a = 0, b = mu`` (Poisson) or ``a = q, b = (r - 1) q`` (negative
    binomial, ``q = 1 - 1/phi``, ``r = mu / (phi - 1)``), from ``g_0 = P(H = 0)``. Every term is
    >= 0 (``a + b j / s >= q (1 - j / s) >= 0``), so the recursion is stable. Callers keep
    ``-log g_0 <= MAX_LOG_ZERO``; terms of the far upper tail below 1e-308 underflow to 0.
    """
    n = len(rows)
    out = np.zeros((s_max + 1, n))
    out[0] = np.exp(fam.log_p0()[rows])
    if fam.phi == 1.0:
        a, b = 0.0, fam.mu[rows]
    else:
        a, b = fam.q, (fam.r[rows] - 1.0) * fam.q
    norm = 1.0 / (1.0 - a * fam.f0)
    jumps = [(int(jt), float(ft)) for jt, ft in zip(fam.j.astype(np.int64), fam.f, strict=True)]
    # rows s .. s + step - 1 depend only on rows before s (every jump is at least `step` lattice
    # steps), so they are computed together: the same operations on every value as one row at a
    # time (bit for bit), with a fraction of numpy's per-call cost
    step = max(1, min((jt for jt, _ in jumps), default=1))
    tmp = np.empty((step, n))
    acc_a = np.empty((step, n))
    divisors = np.arange(s_max + step + 1, dtype=float)[:, None]
    for s in range(1, s_max + 1, step):
        e = min(s + step, s_max + 1)  # rows s .. e - 1
        g = out[s:e]
        acc = acc_a[: e - s]
        acc[:] = 0.0
        for jt, ft in jumps:
            lo = max(s, jt)  # rows r >= jt have a term for this jump
            if lo >= e:
                continue
            prev = out[lo - jt : e - jt]
            t = tmp[: e - lo]
            if a:
                np.multiply(prev, ft, out=t)
                acc[lo - s :] += t
            np.multiply(prev, ft * jt, out=t)
            g[lo - s :] += t
        g *= b
        g /= divisors[s:e]
        if a:
            acc *= a
            g += acc
        if norm != 1.0:
            g *= norm
    return out


def _panjer_tails(k: np.ndarray, fam: Family, rows: np.ndarray, s_need: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log upper and lower tails at lattice values ``k`` (shape (len(rows), m)) by Panjer's recursion.

    Units are processed in chunks of similar ``s_need`` (the lattice value up to which each
    unit's pmf is needed) so the table stays small. Tails that underflow come back as -inf.
    """
    n, m = k.shape
    log_up = np.empty((n, m))
    log_low = np.empty((n, m))
    order = np.argsort(s_need, kind="stable")
    for start, stop, s_max in _chunks(s_need, order):
        idx = order[start:stop]
        # (steps, units): the running sums go row by row, several times faster than np.cumsum(axis=0)
        pmf = _panjer_pmf(fam, rows[idx], s_max)
        sf = np.empty_like(pmf)
        sf[-1] = pmf[-1]
        for i in range(s_max - 1, -1, -1):
            np.add(sf[i + 1], pmf[i], out=sf[i])
        cdf = pmf  # running sum in place: the pmf is not needed any more
        for i in range(1, s_max + 1):
            cdf[i] += cdf[i - 1]
        kk = np.clip(k[idx], 0, s_max).T
        with np.errstate(divide="ignore"):
            log_up[idx] = np.log(np.take_along_axis(sf, kk, axis=0)).T
            log_low[idx] = np.log(np.minimum(1.0, np.take_along_axis(cdf, kk, axis=0))).T
    return log_up, log_low


def _chunks(s_need: np.ndarray, order: np.ndarray) -> list[tuple[int, int, int]]:
    """``(start, stop, s_max)`` ranges of ``order`` whose pmf is computed together, up to ``s_max``.

    Each chunk grows while its table (units x steps) stays under :data:`_CHUNK_CELLS`; a
    unit's tails depend on the ``s_max`` its chunk is computed to (the truncated upper
    tail), so this rule fixes every unit's ``s_max``. Consecutive chunks with the same
    ``s_max`` are then run as one, up to :data:`_BATCH_CELLS`: each unit's numbers are the
    same (every step is elementwise across units), and the recursion's per-step cost is
    paid once for the batch (many units often share the largest ``s_max``).
    """
    n = len(order)
    out: list[tuple[int, int, int]] = []
    start = 0
    while start < n:
        s_max = int(s_need[order[start]])
        stop = start + 1
        while stop < n:  # grow the chunk while its table (units x steps) stays small
            s_next = int(s_need[order[stop]])
            if (stop - start + 1) * (s_next + 1) > _CHUNK_CELLS:
                break
            s_max = s_next
            stop += 1
        if out and out[-1][2] == s_max and (stop - out[-1][0]) * (s_max + 1) <= _BATCH_CELLS:
            out[-1] = (out[-1][0], stop, s_max)
        else:
            out.append((start, stop, s_max))
        start = stop
    return out


# --------------------------------------------------------------------------------------
# dispatcher
# --------------------------------------------------------------------------------------


def compound_poisson_tails(
    x: npt.ArrayLike,
    lam: npt.ArrayLike,
    mix: MarkMix,
    *,
    dispersion: float = 1.0,
    method: str = "auto",
    max_steps: int = MAX_STEPS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log upper and lower tails of compound Poisson (or negative binomial) local sums.

    Parameters
    ----------
    x
        Observed local sums in harm units, shape (n,) or (n, m) (m maps sharing ``lam``).
    lam
        Expected number of incidents in each unit's neighbourhood under the null, shape (n,).
    mix
        The mark mix (:func:`mark_mix`); one value = a (scaled) count.
    dispersion
        Variance / mean of the neighbourhood count: 1 (default) = Poisson; > 1 = negative
        binomial with that dispersion.
    method
        ``"auto"`` (exact where possible, saddlepoint beyond ``max_steps``, beyond
        :data:`MAX_LOG_ZERO` or without a lattice), ``"exact"`` (error when impossible) or
        ``"saddlepoint"``.
    max_steps
        Largest number of lattice steps of Panjer's recursion per unit.

    Returns
    -------
    log_upper, log_lower, exact
        ``log P(H >= x)``, ``log P(H <= x)`` (shape of ``x``) and a boolean array (n,) saying
        which units were computed exactly.

    Raises
    ------
    InputError
        ``x`` off the marks' lattice, negative ``lam``, dispersion below 1, or
        ``method="exact"`` impossible.
    """
    if method not in ("auto", "exact", "saddlepoint"):
        raise InputError(f"method must be 'auto', 'exact' or 'saddlepoint', got {method!r}.")
    if not (math.isfinite(dispersion) and dispersion >= 1.0):
        raise InputError(f"dispersion must be a number >= 1 (1 = Poisson), got {dispersion!r}.")
    lam = np.asarray(lam, dtype=float).ravel()
    x = np.asarray(x, dtype=float)
    if x.shape[0] != len(lam):
        raise InputError(f"x has {x.shape[0]} rows but lam has {len(lam)}; they must match.")
    if not (np.isfinite(lam).all() and (lam >= 0).all()):
        raise InputError("expected counts (lam) must be finite and >= 0.")
    x2 = x.reshape(len(lam), -1)
    n, m = x2.shape
    log_up = np.zeros((n, m))
    log_low = np.zeros((n, m))
    exact = np.zeros(n, dtype=bool)
    pos = lam > 0
    # a neighbourhood with no exposure: H = 0 surely
    log_up[~pos] = np.where(x2[~pos] <= 0, 0.0, -np.inf)
    exact[~pos] = True
    ip = np.flatnonzero(pos)
    if len(ip) == 0:
        return log_up.reshape(x.shape), log_low.reshape(x.shape), exact
    if len(mix.values) == 1:
        kk = x2 / mix.values[0]
        _check_lattice(kk, float(mix.values[0]))
        up, low = _count_tails(np.rint(kk[ip]), lam[ip], dispersion, 1.0 - mix.zeros / mix.n)
        log_up[ip], log_low[ip] = up, low
        exact[ip] = True
        return log_up.reshape(x.shape), log_low.reshape(x.shape), exact
    lattice = mix.delta is not None
    if not lattice and method == "exact":
        raise InputError(
            f"the harm marks {mix.values.tolist()} have no lattice with at most {MAX_LATTICE_MARK} "
            f"steps per mark, so the exact test is impossible; use method='auto' (saddlepoint)."
        )
    up, low, ex = _compound_tails(x2[ip], family(lam[ip], mix, dispersion, lattice=lattice), mix, method, max_steps)
    log_up[ip], log_low[ip], exact[ip] = up, low, ex
    return log_up.reshape(x.shape), log_low.reshape(x.shape), exact


def _compound_tails(
    x: np.ndarray, fam: Family, mix: MarkMix, method: str, max_steps: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tails of units with lam > 0 (x of shape (n, m)): Panjer where possible, else saddlepoint."""
    n, m = x.shape
    lattice = mix.delta is not None
    kx = x / float(mix.delta) if mix.delta is not None else x
    if lattice:
        _check_lattice(kx, float(mix.delta or 1.0))
        kx = np.rint(kx)
    log_up = np.zeros((n, m))
    log_low = np.zeros((n, m))
    ok = np.zeros(n, dtype=bool)
    s_need = np.zeros(n, dtype=np.int64)
    if lattice and method != "saddlepoint":
        kmax = kx.max(axis=1)
        log_target = np.minimum(LOG_EPS_ABS, fam.log_chernoff(kmax) + LOG_EPS_REL)
        s_need = np.maximum(kmax, np.ceil(np.minimum(fam.reach(log_target), 1e15))).astype(np.int64)
        ok = (s_need <= max_steps) & (-fam.log_p0() <= MAX_LOG_ZERO)
        if method == "exact" and not ok.all():
            raise InputError(
                f"{int((~ok).sum())} units need more than max_steps = {max_steps:,} lattice steps (or start "
                f"below P(H = 0) = exp(-{MAX_LOG_ZERO:g})) for the exact test; use method='auto'."
            )
    i_ok = np.flatnonzero(ok)
    if len(i_ok):
        up, low = _panjer_tails(kx[i_ok].astype(np.int64), fam, i_ok, s_need[i_ok])
        under = ~np.isfinite(up) | ~np.isfinite(low)
        if under.any():  # tails beyond ~1e-308: their size from the saddlepoint (never decisive)
            r, c = np.nonzero(under)
            su, sl = saddle_tails(kx[i_ok][r, c], fam, i_ok[r], lattice=True)
            up[r, c] = np.where(np.isfinite(up[r, c]), up[r, c], np.minimum(np.nan_to_num(su, nan=-700.0), -700.0))
            low[r, c] = np.where(np.isfinite(low[r, c]), low[r, c], np.minimum(np.nan_to_num(sl, nan=-700.0), -700.0))
        log_up[i_ok], log_low[i_ok] = up, low
    i_sp = np.flatnonzero(~ok)
    if len(i_sp):
        up, low = saddle_tails(kx[i_sp].ravel(), fam, np.repeat(i_sp, m), lattice=lattice)
        log_up[i_sp], log_low[i_sp] = up.reshape(-1, m), low.reshape(-1, m)
    return log_up, log_low, ok


def _check_lattice(kk: np.ndarray, delta: float) -> None:
    off = np.abs(kk - np.rint(kk))
    if (off > LATTICE_TOLERANCE).any():
        i = np.unravel_index(int(np.argmax(off)), kk.shape)
        raise InputError(
            f"a local harm sum ({float(kk[i] * delta)!r}) is not a multiple of the marks' lattice {delta:g}: the "
            f"marks passed are not those of the incidents counted in the units. Pass marks=<their harm weights>."
        )


def _count_tails(k: np.ndarray, lam: np.ndarray, dispersion: float, keep: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact log P(X >= k), log P(X <= k) of counts (k integer, shape (n, m)).

    X ~ Poisson(keep lam) for dispersion 1; otherwise the binomial thinning by ``keep`` of a
    negative binomial NB(r = lam / (phi - 1), p = 1 / phi), which is NB(r, p / (p + keep q)).
    Tails below the float range come from the saddlepoint, capped at exp(-700).
    """
    lam2 = np.broadcast_to(lam[:, None], k.shape)
    with np.errstate(divide="ignore"):
        if dispersion == 1.0:
            mu = lam2 * keep
            up = np.where(k <= 0, 0.0, np.log(special.gammainc(np.maximum(k, 1), mu)))
            low = np.where(k < 0, -np.inf, np.log(special.gammaincc(np.maximum(k, 0) + 1, mu)))
        else:
            r = lam2 / (dispersion - 1.0)
            p0 = 1.0 / dispersion
            p = p0 / (p0 + keep * (1.0 - p0))
            # P(X >= k) = I_{1-p}(k, r); P(X <= k) = I_p(r, k + 1)  (regularised incomplete beta)
            up = np.where(k <= 0, 0.0, np.log(special.betainc(np.maximum(k, 1), r, 1.0 - p)))
            low = np.where(k < 0, -np.inf, np.log(special.betainc(r, np.maximum(k, 0) + 1, p)))
    bad = (~np.isfinite(up) & (k > 0)) | (~np.isfinite(low) & (k >= 0))
    if bad.any():
        fam = Family(mu=lam2[bad].astype(float), phi=dispersion, j=np.array([1.0]), f=np.array([keep]), f0=1.0 - keep)
        su, sl = saddle_tails(k[bad].astype(float), fam, np.arange(int(bad.sum())), lattice=True)
        up[bad] = np.where(np.isfinite(up[bad]), up[bad], np.minimum(np.nan_to_num(su, nan=-700.0), -700.0))
        low[bad] = np.where(np.isfinite(low[bad]), low[bad], np.minimum(np.nan_to_num(sl, nan=-700.0), -700.0))
    return up, low


__all__ = ["MAX_LOG_ZERO", "MAX_STEPS", "compound_poisson_tails"]
