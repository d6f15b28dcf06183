"""Stage ``detect``: where serious violence concentrates.

One module per method: kernel density (:mod:`~hotspots.detect.kde`), calibrated hot spot
inference on Getis-Ord Gi* neighbourhoods (:mod:`~hotspots.detect.inference`, methods in
:mod:`~hotspots.detect.registry`; weights and the analytic Gi* in :mod:`~hotspots.detect.gistar`),
local Moran's I (:mod:`~hotspots.detect.lisa`),
density clusters (:mod:`~hotspots.detect.clusters`), emerging hot spots
(:mod:`~hotspots.detect.emerging`) and night-time-economy zones (:mod:`~hotspots.detect.nte`);
:func:`detect` (in :mod:`~hotspots.detect.stage`) runs them all on a study.
"""

from hotspots.detect.clusters import density_clusters
from hotspots.detect.config import DetectConfig
from hotspots.detect.emerging import emerging_hotspots
from hotspots.detect.inference import hotspot_gistar
from hotspots.detect.kde import hotspot_kde
from hotspots.detect.lisa import hotspot_lisa
from hotspots.detect.nte import nte_zones
from hotspots.detect.stage import DetectResult, detect

__all__ = [
    "DetectConfig",
    "DetectResult",
    "density_clusters",
    "detect",
    "emerging_hotspots",
    "hotspot_gistar",
    "hotspot_kde",
    "hotspot_lisa",
    "nte_zones",
]
