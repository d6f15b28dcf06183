"""hotspots.evaluate."""
