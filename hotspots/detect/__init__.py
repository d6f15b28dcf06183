"""hotspots.detect."""
