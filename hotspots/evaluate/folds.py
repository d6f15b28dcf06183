"""The folds of the backtest: which months train and which test, never counting a missing month as zero.

A month "has data" when the source recorded at least one incident in it (as in
:mod:`hotspots.months`). Rolling-origin folds (:func:`rolling_folds`) run over the calendar:
fold k trains on the months with data before calendar month k and tests on the ``horizon``
months from k; a fold is **skipped** (with a warning naming it) when a month of its test
window has no data, when the month just before it has none (training must end right before
the test window: "next month" means the next month), or when fewer than ``min_train``
training months have data. The "last period" of ``last_period`` is the last ``horizon``
training months with data. Explicit folds
(:func:`explicit_fold`, ``hotspots evaluate --train ... --test ...``) take the months as given.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from hotspots.errors import HotspotsWarning, InputError
from hotspots.months import format_months, parse_months


@dataclass(frozen=True)
class Fold:
    """One train / test split.

    Attributes
    ----------
    horizon
        Test window length in months.
    train
        Training months (all with data), ascending.
    test
        Test months (all with data), ascending.
    last
        The "last period": the training months ``last_period`` counts, the last ``horizon``
        training months with data.
    """

    horizon: int
    train: list[str]
    test: list[str]
    last: list[str]


@dataclass(frozen=True)
class SkippedFold:
    """A rolling fold left out, and why.

    Attributes
    ----------
    horizon
        Test window length in months.
    test
        Its test months.
    reason
        Plain words: which months have no data, or too few training months.
    """

    horizon: int
    test: list[str]
    reason: str


def calendar(months: Sequence[str]) -> list[str]:
    """Every calendar month from the first to the last of ``months``, ascending (empty for none)."""
    if not months:
        return []
    ms = sorted(months)
    return [str(p) for p in pd.period_range(ms[0], ms[-1], freq="M")]


def rolling_folds(
    months: Sequence[str], with_data: Sequence[str], *, horizons: Sequence[int], min_train: int
) -> tuple[list[Fold], list[SkippedFold]]:
    """Rolling-origin folds over the calendar ``months``, skipping those that would need a missing month.

    Parameters
    ----------
    months
        The calendar months of the backtest, ascending and consecutive.
    with_data
        The months with data.
    horizons
        Test window lengths in months.
    min_train
        Fewest training months with data.

    Returns
    -------
    folds, skipped
        The usable folds (per horizon in calendar order) and the skipped ones with the reason.
    """
    cal = list(months)
    has = set(with_data)
    folds: list[Fold] = []
    skipped: list[SkippedFold] = []
    for h in horizons:
        for k in range(min_train, len(cal) - h + 1):
            test = cal[k : k + h]
            train = [m for m in cal[:k] if m in has]
            gaps = [m for m in test if m not in has]
            if gaps:
                skipped.append(SkippedFold(h, test, f"no data in test month(s) {format_months(gaps)}"))
            elif cal[k - 1] not in has:
                skipped.append(SkippedFold(h, test, f"no data in {cal[k - 1]}, the month before the test window"))
            elif len(train) < min_train:
                skipped.append(SkippedFold(h, test, f"{len(train)} training month(s) with data (< {min_train})"))
            else:
                folds.append(Fold(h, train, test, train[-h:]))
    return folds, skipped


def explicit_fold(train: str | Sequence[str], test: str | Sequence[str], *, with_data: Sequence[str]) -> Fold:
    """One fold from explicit month lists (``--train 2016-07,2017-07 --test 2018-07``).

    Months listed without data are left out with a warning; the last period is the last
    ``len(test)`` training months.

    Raises
    ------
    InputError
        A malformed list (:func:`hotspots.months.parse_months`), a list with no month with data,
        overlapping lists, or a training month after a test month.
    """
    tr = parse_months(train, what="--train")
    te = parse_months(test, what="--test")
    both = sorted(set(tr) & set(te))
    if both:
        raise InputError(f"--train and --test share {format_months(both)}; a month can only be in one of them.")
    if max(tr) > min(te):
        raise InputError(
            f"--train ends {max(tr)}, after the first test month {min(te)}: train on months before the test months "
            "only (no future months in training)."
        )
    has = set(with_data)
    span = f"{min(has)} to {max(has)}" if has else "no months at all"
    kept = {}
    for name, ms in (("--train", tr), ("--test", te)):
        data = [m for m in ms if m in has]
        missing = [m for m in ms if m not in has]
        if not data:
            raise InputError(f"{name} ({format_months(ms)}) has no month with data: the source covers {span}.")
        if missing:
            warnings.warn(
                f"{name}: {len(missing)} of its {len(ms)} months have no data ({format_months(missing)}); they are "
                "left out (a missing month is never counted as a month without crime).",
                HotspotsWarning,
                stacklevel=3,
            )
        kept[name] = data
    tr, te = kept["--train"], kept["--test"]
    return Fold(len(te), tr, te, tr[-len(te) :])


SHOWN = 6
"""Skipped folds named in the warning (the rest are counted; all are in evaluation.json)."""


def warn_skipped(skipped: Sequence[SkippedFold], *, used: int) -> None:
    """One warning naming the skipped folds (their test months and why), if any."""
    if not skipped:
        return
    shown = "; ".join(f"test {format_months(s.test)} (horizon {s.horizon}): {s.reason}" for s in skipped[:SHOWN])
    more = f"; and {len(skipped) - SHOWN} more" if len(skipped) > SHOWN else ""
    warnings.warn(
        f"{len(skipped)} fold(s) skipped because months have no data (a missing month is never counted as zero), "
        f"{used} used: {shown}{more}.",
        HotspotsWarning,
        stacklevel=3,
    )


__all__ = ["Fold", "SkippedFold", "calendar", "explicit_fold", "rolling_folds", "warn_skipped"]
