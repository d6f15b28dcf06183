"""Month lists: ``hotspots change --before/--after``, ``hotspots evaluate --train/--test``, interventions.

A month list is comma-separated months (``YYYY-MM``) or inclusive ranges ``A..B``::

    "2020-01..2020-06,2020-09"  ->  2020-01 .. 2020-06 and 2020-09 (7 months)

The same syntax serves ``hotspots evaluate --train/--test``. The exposure of a period is the
number of its months **with data** (a month in which the selected sources recorded at least one
incident), so a month missing from a source shortens the exposure instead of being read as a
month with no crime.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from hotspots.errors import HotspotsWarning, InputError

MONTH_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
"""A month as ``YYYY-MM`` (groups: year, month)."""
_EXAMPLE = "e.g. '2020-01..2020-06,2020-09'"
_CALENDAR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _month(token: str, *, what: str, part: str) -> pd.Period:
    """One ``YYYY-MM`` month, or an InputError naming the list and the bad text."""
    m = MONTH_PATTERN.match(token)
    if m is None:
        raise InputError(
            f"{what}: {part!r} is not a month (YYYY-MM) or a range of months (YYYY-MM..YYYY-MM); {_EXAMPLE}."
        )
    return pd.Period(year=int(m.group(1)), month=int(m.group(2)), freq="M")


def parse_months(spec: str | Sequence[str], *, what: str = "months") -> list[str]:
    """Parse a month list into sorted ``YYYY-MM`` strings.

    Parameters
    ----------
    spec
        Comma-separated months and inclusive ranges, e.g. ``"2020-01..2020-06,2020-09"``, or a
        sequence of such strings (a TOML array). Spaces around items are ignored.
    what
        How the list is named in error messages (e.g. ``"--before"`` or ``"[change] before"``).

    Returns
    -------
    list of str
        Every month in the list, ascending, each once.

    Raises
    ------
    InputError
        The list is empty, an item is not a month or range, a range runs backwards, or a month
        is listed twice (directly or through overlapping ranges).

    Examples
    --------
    >>> parse_months("2020-11..2021-01,2021-03")
    ['2020-11', '2020-12', '2021-01', '2021-03']
    """
    if isinstance(spec, str):
        items = spec.split(",")
    elif isinstance(spec, Sequence) and all(isinstance(s, str) for s in spec):
        items = [part for s in spec for part in s.split(",")]
    else:
        raise InputError(f"{what} must be text such as '2020-01..2020-06,2020-09', got {spec!r}.")
    items = [s.strip() for s in items]
    if not any(items):
        raise InputError(
            f"{what} is empty; give months as YYYY-MM and ranges as A..B, separated by commas ({_EXAMPLE})."
        )
    seen: dict[str, str] = {}
    for item in items:
        if not item:
            raise InputError(f"{what} has an empty item between commas in {spec!r}; remove the extra comma.")
        if ".." in item:
            first, _, last = item.partition("..")
            a = _month(first.strip(), what=what, part=item)
            b = _month(last.strip(), what=what, part=item)
            if b < a:
                raise InputError(f"{what}: range {item!r} runs backwards ({a} is after {b}); write it as '{b}..{a}'.")
            months = [str(p) for p in pd.period_range(a, b, freq="M")]
        else:
            months = [str(_month(item, what=what, part=item))]
        for m in months:
            if m in seen:
                where = f"in {seen[m]!r} and {item!r}" if seen[m] != item else f"in {item!r}"
                raise InputError(f"{what}: month {m} is listed twice ({where}); list each month once.")
            seen[m] = item
    return sorted(seen)


def format_months(months: Iterable[str]) -> str:
    """Write months back as a compact month list (consecutive months become ``A..B`` ranges).

    Examples
    --------
    >>> format_months(["2020-01", "2020-02", "2020-03", "2020-09"])
    '2020-01..2020-03,2020-09'
    """
    periods = sorted({pd.Period(m, freq="M") for m in months})
    out: list[str] = []
    i = 0
    while i < len(periods):
        j = i
        while j + 1 < len(periods) and periods[j + 1] == periods[j] + 1:
            j += 1
        out.append(str(periods[i]) if i == j else f"{periods[i]}..{periods[j]}")
        i = j + 1
    return ",".join(out)


def month_runs(months: Iterable[str]) -> list[list[str]]:
    """Split distinct months into runs of consecutive months, ascending.

    Examples
    --------
    >>> month_runs(["2016-07", "2017-07", "2017-08"])
    [['2016-07'], ['2017-07', '2017-08']]
    """
    periods = sorted({pd.Period(m, freq="M") for m in months})
    runs: list[list[str]] = []
    for i, p in enumerate(periods):
        if i == 0 or p != periods[i - 1] + 1:
            runs.append([])
        runs[-1].append(str(p))
    return runs


def missing_months(months: Iterable[str]) -> list[str]:
    """List the months between the first and the last of ``months`` that are not in it, ascending.

    Examples
    --------
    >>> format_months(missing_months(["2016-07", "2017-07", "2018-07"]))
    '2016-08..2017-06,2017-08..2018-06'
    """
    present = {pd.Period(m, freq="M") for m in months}
    if not present:
        return []
    span = pd.period_range(min(present), max(present), freq="M")
    return [str(p) for p in span if p not in present]


def longest_run(months: Iterable[str]) -> list[str]:
    """The longest run of consecutive months (the latest among equally long runs); empty for no months.

    Examples
    --------
    >>> longest_run(["2016-07", "2017-07", "2017-08", "2019-01", "2019-02"])
    ['2019-01', '2019-02']
    """
    runs = month_runs(months)
    if not runs:
        return []
    return max(reversed(runs), key=len)


def overlap(a: Iterable[str], b: Iterable[str]) -> list[str]:
    """Months in both lists, ascending (empty when the lists do not overlap)."""
    return sorted(set(a) & set(b))


def months_with_data(incident_months: Iterable[str | None], period: Iterable[str]) -> list[str]:
    """List the months of ``period`` in which at least one incident was recorded, ascending.

    Parameters
    ----------
    incident_months
        The ``month`` (YYYY-MM) of every incident of the selected sources.
    period
        A parsed month list.
    """
    present = set(pd.Series(list(incident_months), dtype=object).dropna().astype(str))
    return sorted(set(period) & present)


@dataclass(frozen=True)
class Periods:
    """Two checked periods and their exposure.

    Attributes
    ----------
    before, after
        The months asked for (parsed, ascending).
    before_data, after_data
        The months of each period with data; their lengths are the exposures.
    before_missing, after_missing
        Months asked for that have no data (left out of the exposure).
    """

    before: list[str]
    after: list[str]
    before_data: list[str]
    after_data: list[str]
    before_missing: list[str]
    after_missing: list[str]

    @property
    def before_months(self) -> int:
        """Exposure of the before period: months with data."""
        return len(self.before_data)

    @property
    def after_months(self) -> int:
        """Exposure of the after period: months with data."""
        return len(self.after_data)


def check_periods(
    before: str | Sequence[str],
    after: str | Sequence[str],
    *,
    incident_months: Iterable[str],
    names: tuple[str, str] = ("--before", "--after"),
    equal_length: bool = False,
    advice: str = "Choose months inside the data or other sources.",
) -> Periods:
    """Parse and check a before and an after period against the data.

    Parameters
    ----------
    before, after
        Month lists (text or parsed lists).
    incident_months
        The month of every incident of the selected sources (defines the months with data).
    names
        How the two lists are named in messages.
    equal_length
        Require the same exposure in both periods (interventions: Wheeler & Ratcliffe's WDD
        compares equal before and after periods).
    advice
        What to do when a period has no month with data, or (``equal_length``) the exposures differ.

    Returns
    -------
    Periods
        The periods, the months of each with data, and the months without.

    Raises
    ------
    InputError
        A list is empty or malformed (see :func:`parse_months`); the periods share a month; a
        period has no month with data (it lies outside the data); ``equal_length`` and the
        exposures differ.

    Warns
    -----
    HotspotsWarning
        Some months of a period have no data: they are left out of its exposure.
    """
    b = parse_months(before, what=names[0])
    a = parse_months(after, what=names[1])
    both = overlap(b, a)
    if both:
        raise InputError(
            f"{names[0]} and {names[1]} overlap in {len(both)} month(s) ({format_months(both)}); "
            f"a month can only be in one period."
        )
    present = set(pd.Series(list(incident_months), dtype=object).dropna().astype(str))
    span = f"{min(present)} to {max(present)}" if present else "no months at all"
    out = {}
    for name, months in ((names[0], b), (names[1], a)):
        data = sorted(set(months) & present)
        if not data:
            raise InputError(
                f"{name} ({format_months(months)}) has no month with data: the selected sources cover {span}. {advice}"
            )
        missing = sorted(set(months) - present)
        if missing:
            warnings.warn(
                f"{name}: {len(missing)} of its {len(months)} months have no data ({format_months(missing)}); "
                f"the exposure is the {len(data)} months with data.",
                HotspotsWarning,
                stacklevel=2,
            )
        out[name] = (data, missing)
    (bd, bm), (ad, am) = out[names[0]], out[names[1]]
    if equal_length and len(bd) != len(ad):
        raise InputError(
            f"{names[0]} has {len(bd)} months with data and {names[1]} has {len(ad)}; the WDD test compares "
            f"equal periods. {advice}"
        )
    return Periods(before=b, after=a, before_data=bd, after_data=ad, before_missing=bm, after_missing=am)


def intervention_periods(
    start: str, *, months: int, what: str = "[[intervention]] start"
) -> tuple[list[str], list[str]]:
    """Equal before and after periods around an intervention start month.

    Parameters
    ----------
    start
        First month of the intervention (``YYYY-MM``): the first month of the after period.
    months
        Length of each period in months.

    Returns
    -------
    (before, after)
        The ``months`` months before ``start`` and ``start`` with the ``months - 1`` months after it.

    Examples
    --------
    >>> intervention_periods("2020-07", months=3)
    (['2020-04', '2020-05', '2020-06'], ['2020-07', '2020-08', '2020-09'])
    """
    s = _month(str(start).strip(), what=what, part=str(start))
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise InputError(f"{what}: the period length must be a whole number of months >= 1, got {months!r}.")
    before = [str(p) for p in pd.period_range(s - months, s - 1, freq="M")]
    after = [str(p) for p in pd.period_range(s, s + months - 1, freq="M")]
    return before, after


@dataclass(frozen=True)
class SeasonalMatch:
    """Whether two periods cover the same calendar months equally often.

    Attributes
    ----------
    matched
        True when every calendar month appears equally often in both periods.
    before_only, after_only
        Calendar months (1-12) over-represented in each period, with repeats.
    note
        One plain sentence for the report.
    """

    matched: bool
    before_only: list[int]
    after_only: list[int]
    note: str


def seasonal_match(before: Iterable[str], after: Iterable[str]) -> SeasonalMatch:
    """Check that two periods are matched by calendar month (so seasonality cancels in their ratio).

    Examples
    --------
    >>> seasonal_match(["2020-01", "2020-02"], ["2022-01", "2022-02"]).matched
    True
    >>> print(seasonal_match(["2020-01", "2020-02"], ["2020-07", "2020-08"]).note)  # doctest: +NORMALIZE_WHITESPACE
    The periods are not matched by calendar month (before has Jan, Feb; after has Jul, Aug):
    part of the change may be seasonal.
    """
    cb = Counter(pd.Period(m, freq="M").month for m in before)
    ca = Counter(pd.Period(m, freq="M").month for m in after)
    b_only = sorted((cb - ca).elements())
    a_only = sorted((ca - cb).elements())
    if not b_only and not a_only:
        return SeasonalMatch(True, [], [], "The periods cover the same calendar months, so seasonality cancels.")

    def names(ms: list[int]) -> str:
        return ", ".join(_CALENDAR[m - 1] for m in ms) or "nothing extra"

    note = (
        f"The periods are not matched by calendar month (before has {names(b_only)}; after has {names(a_only)}): "
        f"part of the change may be seasonal."
    )
    return SeasonalMatch(False, b_only, a_only, note)
