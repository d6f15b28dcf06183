"""Stage ``maps``: self-contained interactive maps for the Board, outreach coordinators and analysts."""

from hotspots.present.maps.build import MapsResult, build_map, build_maps, map_html
from hotspots.present.maps.config import MapsConfig

__all__ = ["MapsConfig", "MapsResult", "build_map", "build_maps", "map_html"]
