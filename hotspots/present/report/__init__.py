"""hotspots.present.report."""
