"""``[report]``: the Board report."""

from __future__ import annotations

from dataclasses import dataclass

from hotspots.errors import ConfigError


@dataclass(frozen=True)
class ReportConfig:
    """``[report]``: the Board report.

    Attributes
    ----------
    title
        Page title; default ``"<study name>: serious violence hot spots"``.
    top
        How many top places the report lists (default 20).
    small_count
        Place-level counts below this are shown as ``"<small_count"`` (default 5).
    dpi
        Resolution of the PNG figures (default 150; at least 100).
    """

    title: str | None = None
    top: int = 20
    small_count: int = 5
    dpi: int = 150

    def __post_init__(self) -> None:
        if self.top < 1:
            raise ConfigError(f"[report] key 'top' must be at least 1, got {self.top!r}.")
        if self.small_count < 0:
            raise ConfigError(f"[report] key 'small_count' must be >= 0, got {self.small_count!r}.")
        if not 100 <= self.dpi <= 600:
            raise ConfigError(f"[report] key 'dpi' must be between 100 and 600, got {self.dpi!r}.")
