"""What every stage result shares: the parameters it chose automatically and its manifest summary.

Each stage returns a frozen result dataclass (:class:`hotspots.detect.DetectResult`,
:class:`hotspots.rank.RankResult`, ...) with its frames, an ``auto`` mapping of the
parameters it chose itself (cell size, bandwidth, ...) and a ``summary`` of its key
numbers; the pipeline writes both into ``manifest.json``.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


class AutoChoices(dict[str, Any]):
    """The parameters a stage chose automatically, logged at INFO as they are recorded."""

    def __init__(self, stage: str) -> None:
        super().__init__()
        self.stage = stage

    def record(self, **params: Any) -> None:
        """Record ``params`` (``name=value``) and log each as chosen automatically."""
        self.update(params)
        for k, v in params.items():
            log.info("%s: %s set to %s automatically", self.stage, k, v)
