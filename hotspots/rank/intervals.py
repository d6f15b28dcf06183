r"""Predictive intervals for every place's harm-axis rank next period.

The composite method's Monte Carlo redraws each place's count from Poisson(observed): it leaves
out the month-to-month overdispersion of the counts, the uncertainty of the place's own rate,
and places with no recorded incident (they stay at zero), so its intervals are too narrow
(docs/rank.md gives the measured coverage).

Here the quantity predicted is stated: the place's **rank on the harm axis over the next
period** (by default a period as long as the analysed one), among the same places, with ties
ranked by :func:`hotspots.rank.axes.tied_ranks` (the number of places with at least as
much harm) in the observed and the simulated worlds alike. The predictive distribution of each
place's next-period pseudo-count is negative binomial: the empirical-Bayes posterior of its
rate (which carries the uncertainty of a rate estimated from few incidents, and gives places
with none a small positive rate) mixed with the estimated month-to-month overdispersion.

The harm axis has no spatial component (no Gi\\*, no KDE) and no scaling choice, so nothing of
that kind needs re-computing per draw.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
import pandas as pd

from hotspots.errors import InputError
from hotspots.rank.axes import tied_ranks
from hotspots.rank.columns import HARM_RANK, HARM_RANK_HIGH, HARM_RANK_LOW, P_TOP_N
from hotspots.rank.eb import Dispersion, GammaPrior, as_1d, eb_posterior, fit_gamma_prior

__all__ = [
    "INTERVAL_COLUMNS",
    "nb_table",
    "predictive_moments",
    "rank_intervals",
    "simulate_rank_draws",
    "summarise_draws",
]

INTERVAL_COLUMNS = [HARM_RANK, HARM_RANK_LOW, HARM_RANK_HIGH, P_TOP_N]
"""Columns of :func:`rank_intervals`."""

BLOCK_CELLS = 2_000_000
"""Draws are simulated in blocks of about this many place-draws (memory stays flat)."""

TABLE_SIZE = 64
"""Places whose next-period count is below this with probability >= 1 - TABLE_TAIL are drawn from a table."""

TABLE_TAIL = 1e-12
"""Tail probability left out of a tabled place's distribution (counts >= TABLE_SIZE)."""

MAX_HIST_CELLS = 50_000_000
"""Above this many (draw x count value) histogram cells the ranks are found by sorting instead."""


def predictive_moments(
    shape: npt.ArrayLike, rate: npt.ArrayLike, *, horizon: float, dispersion: Dispersion | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and gamma-mixing variance of every place's next-period pseudo-count.

    Parameters
    ----------
    shape, rate
        Gamma posterior of each place's monthly rate (:func:`~hotspots.rank.eb.eb_posterior`).
    horizon
        Length of the next period in the rate's units (months).
    dispersion
        Month-to-month overdispersion (default Poisson).

    Returns
    -------
    (mean, extra)
        ``mean = h a / b``; ``extra`` = the variance of the Gamma-distributed Poisson mean
        ``lambda``, so that ``Y ~ Poisson(lambda)`` has variance ``mean + extra``.

    Notes
    -----
    With ``theta ~ Gamma(a, b)`` and, given ``theta``, a next-period count with mean
    ``h theta`` and variance ``h (phi theta + inv_kappa theta^2)`` (independent months),
    ``Var(Y) = h^2 Var(theta) + h (phi E[theta] + inv_kappa E[theta^2])``; subtracting the
    Poisson part ``h E[theta]`` gives ``extra = h^2 a / b^2 + h (phi - 1) a / b +
    h inv_kappa (a + a^2) / b^2``. ``Y`` is then drawn as a Gamma-Poisson mixture with those
    two moments: a negative binomial.
    """
    a = np.asarray(shape, dtype=float)
    b = np.asarray(rate, dtype=float)
    d = dispersion or Dispersion()
    h = float(horizon)
    mean = h * a / b
    extra = h * h * a / b**2 + h * (d.phi - 1.0) * a / b + h * d.inv_kappa * (a + a * a) / b**2
    return mean, np.maximum(extra, 0.0)


def _rank_counts(y: np.ndarray) -> np.ndarray:
    """:func:`tied_ranks` of non-negative integer rows, by counting (no sort)."""
    d = y.shape[0]
    k = int(y.max()) + 1 if y.size else 1
    if d * k > MAX_HIST_CELLS:  # extreme counts: fall back to sorting
        return tied_ranks(y.astype(float)).astype(np.int32)
    off = (np.arange(d, dtype=np.int64) * k)[:, None]
    hist = np.bincount((y + off).ravel(), minlength=d * k).reshape(d, k)
    at_least = np.cumsum(hist[:, ::-1], axis=1)[:, ::-1]
    return np.take_along_axis(at_least, y, axis=1)


def nb_table(mean: np.ndarray, extra: np.ndarray, *, size: int = TABLE_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities of the counts 0..size-1 of each place's negative binomial (Poisson if ``extra = 0``).

    Returns ``(pmf, tail)``: ``pmf`` ``(places, size)`` and ``tail`` = 1 - its row sum (the
    probability of a count >= size). By the recursion ``P(0) = (r / (r + mu))^r``,
    ``P(k + 1) = P(k) (k + r) / (k + 1) x mu / (r + mu)`` with ``r = mu^2 / extra``
    (``P(k + 1) = P(k) mu / (k + 1)`` for Poisson).
    """
    mu = mean[:, None]
    ks = np.arange(size - 1, dtype=float)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(extra > 0, mean**2 / np.where(extra > 0, extra, 1.0), np.inf)[:, None]
        pois = np.isinf(r)
        log_p0 = np.where(pois, -mu, -r * np.log1p(mu / np.where(pois, 1.0, r)))
        ratio = np.where(pois, mu / (ks + 1.0), (ks + r) / (ks + 1.0) * mu / (r + mu))
    pmf = np.exp(log_p0) * np.concatenate([np.ones((len(mean), 1)), np.cumprod(ratio, axis=1)], axis=1)
    return pmf, 1.0 - pmf.sum(axis=1)


def simulate_rank_draws(
    mean: npt.ArrayLike,
    extra: npt.ArrayLike,
    *,
    draws: int = 1000,
    seed: int = 0,
    workers: int = 2,
) -> np.ndarray:
    """Ranks of every place in ``draws`` simulated next periods.

    Parameters
    ----------
    mean, extra
        Per place: mean of the next-period pseudo-count and the variance of its Gamma-mixed
        Poisson mean (:func:`predictive_moments`); ``extra = 0`` = Poisson, ``mean = 0`` = 0.
    draws, seed
        Number of simulated periods and the seed (numpy ``SeedSequence``).
    workers
        Threads for the blocks of draws (numpy's generators release the GIL); the result
        does not depend on it.

    Returns
    -------
    numpy.ndarray
        ``(draws, places)``, uint16 when there are at most 65,535 places (else int32):
        :func:`~hotspots.rank.axes.tied_ranks` of each simulated period.

    Notes
    -----
    Every place's counts are independent negative-binomial (Gamma-Poisson) draws. Two exact
    samplers share the work. Places whose count is below :data:`TABLE_SIZE` with probability
    at least ``1 - TABLE_TAIL`` (nearly all places) draw all their periods at once: the
    number of periods with each count is ``Multinomial(draws, pmf)`` (:func:`nb_table`), and
    the values are shuffled into periods independently per place (``Generator.permuted``), a
    sample with the same joint law as ``draws`` independent draws at a fraction of the cost.
    The other places draw a float32 Gamma mean and a Poisson count per period, in blocks of
    about :data:`BLOCK_CELLS` place-draws, one generator per block spawned from
    ``SeedSequence(seed)``; block sizes depend only on the number of places, so the same
    inputs and seed give the same ranks on any number of threads. Ranks are found per block by
    counting (``bincount`` of the draw-offset counts, reverse cumulative sum), linear in places.
    """
    mu = np.asarray(mean, dtype=float)
    ex = np.asarray(extra, dtype=float)
    if mu.ndim != 1 or ex.shape != mu.shape:
        raise InputError(
            f"simulate_rank_draws: `mean` and `extra` must be 1-D of equal length, got {mu.shape!r}, {ex.shape!r}."
        )
    if (~np.isfinite(mu)).any() or (mu < 0).any() or (~np.isfinite(ex)).any() or (ex < 0).any():
        raise InputError("simulate_rank_draws: `mean` and `extra` must be finite and >= 0.")
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise InputError(f"simulate_rank_draws: `draws` must be a whole number >= 1, got {draws!r}.")
    p = len(mu)
    dtype = np.uint16 if p <= np.iinfo(np.uint16).max else np.int32
    block = max(1, min(draws, BLOCK_CELLS // max(p, 1)))
    starts = list(range(0, draws, block))
    seqs = np.random.SeedSequence(seed).spawn(len(starts) + 1)
    out = np.empty((draws, p), dtype=dtype)

    pos = np.flatnonzero(mu > 0)
    pmf, tail = nb_table(mu[pos], ex[pos])
    small = tail <= TABLE_TAIL
    tab = pos[small]
    big = pos[~small]
    tab_vals = np.zeros((len(tab), draws), dtype=np.int16)
    if len(tab):
        rng0 = np.random.default_rng(seqs[-1])
        probs = pmf[small]
        probs /= probs.sum(axis=1, keepdims=True)  # the tail (<= TABLE_TAIL) is left out
        reps = rng0.multinomial(draws, probs)
        values = np.broadcast_to(np.arange(TABLE_SIZE, dtype=np.int16), reps.shape)
        tab_vals = rng0.permuted(np.repeat(values.ravel(), reps.ravel()).reshape(len(tab), draws), axis=1)
    shape = (mu[big] ** 2 / np.where(ex[big] > 0, ex[big], 1.0)).astype(np.float32)
    scale = (ex[big] / mu[big]).astype(np.float32)
    big_pois = ex[big] == 0

    def run(b: int) -> None:
        rng = np.random.default_rng(seqs[b])
        d = min(block, draws - starts[b])
        y = np.zeros((d, p), dtype=np.int64)
        if len(tab):
            y[:, tab] = tab_vals[:, starts[b] : starts[b] + d].T
        if len(big):
            lam = rng.standard_gamma(np.broadcast_to(np.where(big_pois, 1.0, shape), (d, len(big))), dtype=np.float32)
            lam = np.where(big_pois, mu[big], lam * scale)
            y[:, big] = rng.poisson(lam)
        out[starts[b] : starts[b] + d] = _rank_counts(y)

    w = max(1, min(int(workers), len(starts)))
    if w == 1:
        for b in range(len(starts)):
            run(b)
    else:
        with ThreadPoolExecutor(max_workers=w) as ex_:
            list(ex_.map(run, range(len(starts))))
    return out


def summarise_draws(
    ranks: np.ndarray, *, level: float = 0.90, top_n: int = 20
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Equal-tailed interval and P(rank <= top_n) of simulated ranks ``(draws, places)``.

    Returns ``(low, high, p_top)``: ``low`` = the ceil(q x D)-th smallest rank with
    ``q = (1 - level) / 2`` and ``high`` the ceil((1 - q) x D)-th (inverse-CDF quantiles:
    at most a share q of the draws lies beyond each end). ``ranks`` is sorted in place.
    """
    d = ranks.shape[0]
    q = (1.0 - level) / 2.0
    p_top = (ranks <= top_n).mean(axis=0)
    ranks.sort(axis=0)
    lo_i = max(math.ceil(q * d) - 1, 0)
    hi_i = min(math.ceil((1.0 - q) * d) - 1, d - 1)
    return ranks[lo_i].astype(np.int64), ranks[hi_i].astype(np.int64), p_top


def rank_intervals(
    harm: npt.ArrayLike,
    *,
    months: float,
    horizon: float | None = None,
    scale: float = 1.0,
    dispersion: Dispersion | None = None,
    prior: GammaPrior | None = None,
    draws: int = 1000,
    seed: int = 0,
    level: float = 0.90,
    top_n: int = 20,
    widen: bool = True,
    workers: int = 2,
) -> pd.DataFrame:
    """90 % predictive interval of every place's harm-axis rank over the next period.

    Parameters
    ----------
    harm
        Each place's harm over the analysed period (>= 0); every place of the area, zeros
        included.
    months
        Length of the analysed period in months.
    horizon
        Length of the next period in months (default ``months``: a period as long as the
        analysed one). The backtest uses 1 (next month) and 3 (next quarter).
    scale
        Harm per pseudo-count (:func:`~hotspots.rank.eb.mark_scale`).
    dispersion
        Month-to-month overdispersion (:func:`~hotspots.rank.eb.estimate_dispersion`);
        default Poisson (too narrow on real data: estimate it).
    prior
        Gamma prior of the rates; default fitted across the places (method of moments).
    draws, seed
        Simulated periods and seed (the same seed gives the same intervals).
    level
        Interval probability (0.90).
    top_n
        For ``p_top_n``.
    widen
        Widen each interval to contain the point rank (the count is recorded).
    workers
        Threads for the draws (results do not depend on it).

    Returns
    -------
    pandas.DataFrame
        :data:`INTERVAL_COLUMNS`, input order: ``harm_rank`` (point rank of the analysed
        period, :func:`~hotspots.rank.axes.tied_ranks`), ``harm_rank_low``,
        ``harm_rank_high`` (the interval), ``p_top_n``. ``attrs["intervals"]``: settings,
        prior, dispersion, number widened and seconds taken.

    Raises
    ------
    InputError
        Bad harm, months, horizon, level, draws or top_n.

    Notes
    -----
    Each place's next-period pseudo-count is negative binomial (:func:`predictive_moments`)
    and its harm is ``scale`` x that count; all places are drawn independently in every
    simulated period and ranked together, ties by the number of places with at least as
    much harm (the rule of the point rank and of the backtest's observed rank). Places with
    no incident get the posterior of a zero count, a small positive rate, so they can rise
    in some draws. A place's rank interval is the equal-tailed ``level`` interval of its
    simulated ranks (:func:`summarise_draws`). Rank uncertainty follows Goldstein &
    Spiegelhalter (1996); the Poisson-Gamma predictive is the negative binomial of
    Clayton & Kaldor (1987).
    """
    where = "rank_intervals"
    t0 = time.perf_counter()
    h = as_1d(harm, "harm", where)
    if len(h) == 0:
        raise InputError(f"{where}: there are no places.")
    for name, v in (("months", months), ("scale", scale)) + ((("horizon", horizon),) if horizon is not None else ()):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise InputError(f"{where}: `{name}` must be a positive number, got {v!r}.")
    if isinstance(level, bool) or not isinstance(level, float) or not 0 < level < 1:
        raise InputError(f"{where}: `level` must be a probability in (0, 1), e.g. 0.9, got {level!r}.")
    if isinstance(top_n, bool) or not isinstance(top_n, (int, np.integer)) or top_n < 1:
        raise InputError(f"{where}: `top_n` must be a whole number >= 1, got {top_n!r}.")
    hz = float(months if horizon is None else horizon)
    y = h / scale
    pr = prior or fit_gamma_prior(y, exposure=months, dispersion=dispersion)
    a, b = eb_posterior(y, exposure=months, prior=pr, dispersion=dispersion)
    point = tied_ranks(a / b).astype(np.int64)
    mean, extra = predictive_moments(a, b, horizon=hz, dispersion=dispersion)
    ranks = simulate_rank_draws(mean, extra, draws=draws, seed=seed, workers=workers)
    low, high, p_top = summarise_draws(ranks, level=level, top_n=min(int(top_n), len(h)))
    outside = (point < low) | (point > high)
    if widen:
        low, high = np.minimum(low, point), np.maximum(high, point)
    d = dispersion or Dispersion()
    out = pd.DataFrame({HARM_RANK: point, HARM_RANK_LOW: low, HARM_RANK_HIGH: high, P_TOP_N: p_top})
    out.attrs["intervals"] = {
        "quantity": f"harm-axis rank over the next {hz:g} month(s), ties = number of places with at least as much harm",
        "level": level,
        "draws": int(draws),
        "seed": int(seed),
        "months": float(months),
        "horizon_months": hz,
        "scale": float(scale),
        "phi": d.phi,
        "inv_kappa": d.inv_kappa,
        "dispersion_note": d.note,
        "prior_shape": pr.shape,
        "prior_rate": pr.rate,
        "point_rank_outside_interval": int(outside.sum()),
        "widened": bool(widen),
        "seconds": round(time.perf_counter() - t0, 3),
    }
    return out
