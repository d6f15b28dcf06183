"""``python -m hotspots.present.assets install [--force] | check`` (see :mod:`hotspots.present.assets.cli`)."""

import sys

from hotspots.present.assets.cli import main

sys.exit(main())
