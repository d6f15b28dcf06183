"""``[report]``: the Board report."""

from __future__ import annotations

from dataclasses import dataclass

from hotspots.errors import ConfigError

MIN_DPI, MAX_DPI = 100, 600
"""The range of ``[report] dpi``."""


@dataclass(frozen=True)
class ReportConfig:
    """``[report]``: the Board report.

    Attributes
    ----------
    title
        Page title; default ``"<study name>: serious violence hot spots"``.
    top
        How many places of each priority tier the Board part lists (default 20); the appendix
        lists every place of those tiers.
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
        if not MIN_DPI <= self.dpi <= MAX_DPI:
            raise ConfigError(f"[report] key 'dpi' must be between {MIN_DPI} and {MAX_DPI}, got {self.dpi!r}.")
