"""Text for the maps: escaping data for the page, numbers and percentages for people.

Every text that comes from the data goes through :func:`esc` before it reaches the page:
the page inserts popup and tooltip text as HTML, so a venue called
``<img src=x onerror=alert(1)>`` would otherwise run.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

_EXPONENT_FREE_MIN = 1e-3
"""Below this magnitude a number is shown as ``<0.001`` (never in exponent notation)."""

_THOUSANDS = 100
"""From this magnitude numbers are whole, with thousands separators."""

_HUGE = 1e15
"""Whole numbers below this are written as integers (floats above it lose their last digits)."""

_WHOLE = 100.0
_HALF_TENTH = 0.05
_ONE_DECIMAL_BELOW = 10.0
"""Percentages closer than this to 0 or 100 would round to them: shown as ``<0.1 %`` / ``>99.9 %``."""


def missing(value: object) -> bool:
    """True for None, NaN and ``pd.NA``."""
    if value is None or value is pd.NA:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value))
    except TypeError:  # pragma: no cover - exotic types
        return False


_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&#x27;",
        "`": "&#96;",
        "$": "&#36;",
        "\\": "&#92;",
        "/": "&#47;",
        ":": "&#58;",
    }
)
"""What :func:`esc` replaces: ``html.escape(s, quote=True)``'s five characters, then five more."""

_TO_ESCAPE = re.compile(r"[&<>\"'`$\\/:]")
"""Any character of :data:`_ESCAPES`."""


def esc(value: object) -> str:
    r"""Escape a data value for HTML inserted by script.

    ``html.escape`` plus the characters that matter inside script strings (`` ` ``,
    ``$``, ``\\``), ``/`` and ``:`` (so no text from the data can form ``</script>`` or a URL,
    and a name that mentions a web address never trips the external-URL check).
    Missing values become an empty string.
    """
    if type(value) is str:  # most values: skip the checks for missing values
        s = value
    elif missing(value):
        return ""
    else:
        s = str(value)
    # most texts have nothing to escape: one scan finds out, and one pass escapes the rest
    return s.translate(_ESCAPES) if _TO_ESCAPE.search(s) else s


def _number(value: object) -> float | None:
    """``value`` as a finite float, or None (missing, infinite or not a number)."""
    if missing(value):
        return None
    try:
        f = float(value)  # type: ignore[arg-type]  # any value is tried: TypeError/ValueError mean "not a number"
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


_PLAIN_NUMBERS = frozenset({float, int, np.float64, np.int64})
"""Types :func:`fmt` converts with ``float()`` straight away (NaN and infinities read ``n/a``)."""


def fmt(value: object) -> str:
    """A number for people, never in exponent notation.

    Whole numbers and numbers of 100 or more get thousands separators and no decimals;
    smaller ones keep about three significant figures (``12.3``, ``1.23``, ``0.123``);
    below 0.001 they read ``<0.001``. Missing values read ``n/a``; text is escaped.
    """
    if type(value) in _PLAIN_NUMBERS:  # most values: no checks for missing values or text needed
        f = float(value)  # type: ignore[arg-type]  # one of _PLAIN_NUMBERS (mypy cannot narrow by type())
        if not math.isfinite(f):
            return "n/a"
    else:
        number = _number(value)
        if number is None:
            return "n/a" if missing(value) or isinstance(value, (int, float)) else esc(value)
        f = number
    a = abs(f)
    if (f.is_integer() and a < _HUGE) or a >= _THOUSANDS:
        text = f"{f:,.0f}"
    elif a < _EXPONENT_FREE_MIN:
        text = "&lt;0.001" if f > 0 else "&gt;-0.001"
    else:
        decimals = max(0, 2 - math.floor(math.log10(a)))
        text = f"{f:.{decimals}f}".rstrip("0").rstrip(".")
    return text


def pct(share: object) -> str:
    """A share in [0, 1] as a percentage for people: ``"37 %"``, ``"4.5 %"``, ``">99.9 %"``.

    Whole per cents from 10 % to 99 %, one decimal outside that range; exactly 0 and 1 read
    ``0 %`` and ``100 %``; shares that would round to them read ``<0.1 %`` / ``>99.9 %``.
    """
    f = _number(share)
    if f is None:
        return "n/a"
    p = 100.0 * f
    if p <= 0 or p >= _WHOLE:
        text = "0 %" if p <= 0 else "100 %"
    elif p < _HALF_TENTH or p > _WHOLE - _HALF_TENTH:
        text = "&lt;0.1 %" if p < _HALF_TENTH else "&gt;99.9 %"
    elif _ONE_DECIMAL_BELOW <= p <= _WHOLE - 1:
        text = f"{p:.0f} %"
    else:
        text = f"{p:.1f} %"
    return text


def count_text(n: object, *, suppress_below: int | None) -> str:
    """An incident count, shown as ``"<5"`` (for ``suppress_below=5``) when small and positive."""
    if missing(n):
        return "n/a"
    f = _number(n)
    if suppress_below and f is not None and 0 < f < suppress_below:
        return f"&lt;{suppress_below}"
    return fmt(n)


_COUNT_IN_TEXT = re.compile(
    r"(?<![\d.,])(\d+)(\s+(?:violent\s+)?(?:incidents?|crimes?|offences?|robberies|robbery))\b", re.I
)


def suppress_counts_in_text(text: object, *, below: int | None) -> object:
    """Replace incident counts from 1 to ``below - 1`` written in free text (e.g. a reason) by ``"<below"``.

    ``"Top 49% harm-weighted violence (4 incidents)"`` becomes ``"... (<5 incidents)"``.
    Apply before :func:`esc`.
    """
    if not below or not isinstance(text, str):
        return text

    def repl(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return f"<{below}{m.group(2)}" if 0 < n < below else m.group(0)

    return _COUNT_IN_TEXT.sub(repl, text)


def join_names(names: list[str], *, most: int = 3) -> str:
    """``"A, B and C"``; more than ``most`` names end in ``"and N more"`` (names not escaped)."""
    names = [n for n in names if n]
    if len(names) > most:
        return f"{', '.join(names[:most])} and {len(names) - most} more"
    if len(names) > 1:
        return f"{', '.join(names[:-1])} and {names[-1]}"
    return names[0] if names else ""
