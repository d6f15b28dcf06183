"""hotspots.present.maps."""
