"""hotspots: place-based violence analysis for a Violence Reduction Unit.

Load police.uk (or local force) crime, IoD2019 deprivation, LSOA boundaries and
night-time-economy venues; find where serious violence concentrates; rank places for
intervention; site bleed-control kits and youth outreach; write offline maps and a
Board report. See docs/ (the documentation site) for the pipeline and every output column.
"""

from __future__ import annotations

__version__ = "0.1.0"

from hotspots.config import Config, load_config
from hotspots.errors import ConfigError, HotspotsError, HotspotsWarning, InputError
from hotspots.prepare.study import Study, load_study

__all__ = [
    "Config",
    "ConfigError",
    "HotspotsError",
    "HotspotsWarning",
    "InputError",
    "Study",
    "__version__",
    "load_config",
    "load_study",
]
