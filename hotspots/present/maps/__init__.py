"""Stage ``maps``: self-contained interactive maps for the Board, outreach coordinators and analysts."""

from hotspots.present.maps.build import MapsResult, build_map, build_maps, map_html, stage_results, write_map
from hotspots.present.maps.config import BASEMAPS, MapsConfig
from hotspots.present.maps.page import MapPage

__all__ = [
    "BASEMAPS",
    "MapPage",
    "MapsConfig",
    "MapsResult",
    "build_map",
    "build_maps",
    "map_html",
    "stage_results",
    "write_map",
]
