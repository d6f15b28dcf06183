"""hotspots.prepare."""
