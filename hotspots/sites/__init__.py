"""hotspots.sites."""
