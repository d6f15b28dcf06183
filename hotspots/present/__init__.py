"""hotspots.present."""
