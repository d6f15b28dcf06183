"""Board tiers on the two axes: ``act now: high harm``, ``prevent: high need``, ``monitor``.

The cut-offs (docs/rank.md): ``act now`` = the top ``ceil(act_share x N)`` places on the harm
axis (or the fewest top places holding ``act_harm_share`` of all harm), ties at the cut-off
included, harm > 0; ``prevent`` = places not in ``act now`` whose need is among the top
``ceil(prevent_share x N)``; ``monitor`` = the rest.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from hotspots.errors import InputError
from hotspots.rank.columns import TIER_NAMES
from hotspots.rank.eb import as_1d
from hotspots.rank.options import ACT_RULES


def top_set(values: np.ndarray, k: int) -> np.ndarray:
    """Places whose value is at least the k-th highest (ties at the cut-off all included; NaN never)."""
    ok = ~np.isnan(values)
    if k <= 0 or not ok.any():
        return np.zeros(len(values), dtype=bool)
    s = np.sort(values[ok])[::-1]
    cut = s[min(k, len(s)) - 1]
    return ok & (values >= cut)


def board_tiers(
    harm: npt.ArrayLike,
    need_score: npt.ArrayLike,
    *,
    act_rule: str = "places",
    act_share: float = 0.05,
    act_harm_share: float = 0.25,
    prevent_share: float = 0.15,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Board tiers on the two axes.

    Parameters
    ----------
    harm
        The harm axis value (``harm_eb``; raw harm gives the same tiers with equal exposure).
        Places with no harm are never ``act now``.
    need_score
        The need axis (NaN = no need data: never ``prevent``).
    act_rule
        ``"places"``: ``act now`` = the top ``ceil(act_share x N)`` places on the harm axis;
        ``"harm"``: the fewest top places holding at least ``act_harm_share`` of all harm.
        Either way places tied at the cut-off are all included and a place needs harm > 0.
    act_share, act_harm_share
        See ``act_rule`` (shares in (0, 1]).
    prevent_share
        ``prevent`` = places not in ``act now`` whose need is among the top
        ``ceil(prevent_share x N)`` of all places (ties at the cut-off included); 0 = none.

    Returns
    -------
    (tier, info)
        ``tier``: int array, 1 = act now: high harm, 2 = prevent: high need, 3 = monitor;
        ``info``: the rule, shares, cut-off values and tier sizes.

    Raises
    ------
    InputError
        Unknown rule, shares outside their range, or lengths that differ.

    Notes
    -----
    The place with the most harm is always ``act now`` (when any place has harm): its harm is
    the highest, so it is at or above any cut-off. ``monitor`` is the largest group unless
    ``act_share + prevent_share > 0.5``.

    Examples
    --------
    >>> tier, _ = board_tiers([9.0, 0.0, 1.0, 0.0], [10.0, 99.0, 50.0, 5.0], act_share=0.25, prevent_share=0.25)
    >>> tier.tolist()
    [1, 2, 3, 3]
    """
    where = "board_tiers"
    h = as_1d(harm, "harm", where)
    need = as_1d(need_score, "need_score", where, allow_nan=True)
    if len(need) != len(h):
        raise InputError(f"{where}: `need_score` has {len(need)} values for {len(h)} places.")
    if act_rule not in ACT_RULES:
        raise InputError(f"{where}: act_rule must be one of {', '.join(map(repr, ACT_RULES))}, got {act_rule!r}.")
    for name, v, lo_open in (
        ("act_share", act_share, True),
        ("act_harm_share", act_harm_share, True),
        ("prevent_share", prevent_share, False),
    ):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0 < v <= 1 if lo_open else 0 <= v <= 1):
            rng = "(0, 1]" if lo_open else "[0, 1]"
            raise InputError(f"{where}: `{name}` must be a share in {rng} (write 5 % as 0.05), got {v!r}.")
    p = len(h)
    pos = h > 0
    if act_rule == "places":
        k = math.ceil(act_share * p)
    else:
        total = h.sum()
        s = np.sort(h)[::-1]
        k = int(np.searchsorted(np.cumsum(s), act_harm_share * total - 1e-9 * max(total, 1.0)) + 1) if total > 0 else 0
    act = top_set(np.where(pos, h, np.nan), k)
    kp = math.ceil(prevent_share * p)
    prevent = top_set(need, kp) & ~act
    tier = np.where(act, 1, np.where(prevent, 2, 3))
    info = {
        "act_rule": act_rule,
        "act_share": act_share if act_rule == "places" else None,
        "act_harm_share": act_harm_share if act_rule == "harm" else None,
        "prevent_share": prevent_share,
        "act_cutoff_harm": float(h[act].min()) if act.any() else None,
        "prevent_cutoff_need": float(np.nanmin(need[prevent])) if prevent.any() else None,
        "sizes": {TIER_NAMES[t]: int((tier == t).sum()) for t in (1, 2, 3)},
        "harm_share_act_now": float(h[act].sum() / h.sum()) if h.sum() > 0 else 0.0,
    }
    return tier, info
