"""hotspots.rank."""
