"""Row accounting: for every file, rows read = rows used + rows dropped (with one reason each)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class FileAccount:
    """Row accounting of one input file."""

    file: str
    source: str
    sha256: str
    rows_read: int
    rows_used: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    assigned: dict[str, int] = field(default_factory=dict)

    @property
    def rows_dropped(self) -> int:
        """Rows dropped, for every reason."""
        return int(sum(self.dropped.values()))

    def balanced(self) -> bool:
        """True when rows read = rows used + rows dropped."""
        return self.rows_read == self.rows_used + self.rows_dropped

    def to_dict(self) -> dict[str, Any]:
        """The file's accounting as plain JSON-serialisable data (for the manifest)."""
        return {
            "file": self.file,
            "source": self.source,
            "sha256": self.sha256,
            "rows_read": self.rows_read,
            "rows_used": self.rows_used,
            "rows_dropped": self.rows_dropped,
            "dropped": dict(self.dropped),
            "assigned": dict(self.assigned),
        }


@dataclass
class Accounting:
    """Row accounting for every file, and the list of dropped rows with reasons.

    ``dropped_rows`` has columns ``file, source, row, reason, detail`` (``row`` is the
    1-based data row, header not counted).
    """

    files: list[FileAccount] = field(default_factory=list)
    dropped_rows: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["file", "source", "row", "reason", "detail"])
    )

    def extend(self, other: Accounting) -> None:
        """Add the files of ``other`` (e.g. the venue file's account) to this one."""
        self.files.extend(other.files)
        self.dropped_rows = pd.concat([self.dropped_rows, other.dropped_rows], ignore_index=True)

    def check(self) -> None:
        """Raise AssertionError if any file's rows do not balance (a bug, never user error)."""
        for f in self.files:
            if not f.balanced():  # pragma: no cover - guards the invariant
                raise AssertionError(f"row accounting does not balance for {f.file}: {f.to_dict()}")

    def table(self) -> pd.DataFrame:
        """One row per file: read, used, dropped, and each drop reason."""
        rows = []
        for f in self.files:
            row = {
                "file": f.file,
                "source": f.source,
                "read": f.rows_read,
                "used": f.rows_used,
                "dropped": f.rows_dropped,
            }
            row.update(f.dropped)
            rows.append(row)
        return pd.DataFrame(rows).fillna(0)

    def to_dict(self) -> list[dict[str, Any]]:
        """Every file's accounting as plain JSON-serialisable data (for the manifest)."""
        return [f.to_dict() for f in self.files]


def format_accounting(table: pd.DataFrame) -> str:
    """Row accounting table as text (read = used + dropped, per file), with a TOTAL row per kind of input.

    Crime files and the venue file are different things: their rows are totalled separately
    (``TOTAL crime``, ``TOTAL venues``), never added together.
    """
    if len(table) == 0:
        return "no files read"
    t = table.copy()
    numeric = [c for c in t.columns if c not in ("file", "source")]
    for col in numeric:
        t[col] = t[col].astype(int)
    kind = t["source"].map(lambda s: "venues" if s == "venues" else "crime")
    parts = []
    for name in ("crime", "venues"):
        rows = t[kind == name]
        if len(rows):
            total = {c: int(rows[c].sum()) for c in numeric}
            parts.append(rows)
            parts.append(pd.DataFrame([{"file": f"TOTAL {name}", "source": "", **total}]))
    out = pd.concat(parts, ignore_index=True)[list(t.columns)]
    return "row accounting (read = used + dropped):\n" + out.to_string(index=False)
