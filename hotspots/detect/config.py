"""``[detect]``: the options of hot spot detection."""

from __future__ import annotations

from dataclasses import dataclass

from hotspots.detect.gistar import INFERENCES
from hotspots.detect.kde import KERNELS
from hotspots.errors import ConfigError
from hotspots.units import GRID_SHAPES

WEIGHTS = ("harm", "count")
CLUSTER_METHODS = ("hdbscan", "dbscan")


@dataclass(frozen=True)
class DetectConfig:
    """``[detect]``: hot spot detection.

    Attributes
    ----------
    cell_size
        Grid cell size in metres; unset = sfhotspot's rule (shorter side of the study
        area's bounding box / 50, rounded; 1,000 m for Nottinghamshire).
    grid_shape
        ``"square"`` (default) or ``"hex"``.
    kernel
        KDE kernel: ``"quartic"`` (default) or ``"gaussian"``.
    bandwidth
        KDE bandwidth in metres (quartic radius or Gaussian sigma); unset = ArcGIS's
        spatial Silverman rule.
    weights
        ``"harm"`` (default: harm-weighted KDE, Gi* on harm sums, clusters by harm) or
        ``"count"``.
    fdr
        Benjamini-Hochberg false discovery rate control for Gi* classes (default true).
    inference
        Gi* inference: ``"analytic"`` (default) or ``"permutation"`` (esda).
    permutations
        Permutations for Gi* (``inference = "permutation"``) and local Moran (default 999).
    seed
        Seed of every random step (default 0).
    neighbour_distance
        Gi* grid neighbourhood: unset = queen neighbours; a number = distance band (m).
    alpha
        Significance level for local Moran classes and emerging hot spots (default 0.05).
    lisa_fdr
        FDR control for local Moran (default false, as GeoDa).
    cluster_method, cluster_min_cluster_size, cluster_min_samples, cluster_eps, cluster_buffer
        Options of :func:`hotspots.detect.clusters.density_clusters` (unset = automatic).
    nte_distance, nte_eps, nte_min_venues
        Options of :func:`hotspots.detect.nte.nte_zones` (metres, metres, venues).
    emerging_source
        Crime source with a monthly series for emerging hot spots; unset = the source
        with the most months (ties: the most incidents). ``"all"`` = every source pooled.
    emerging_value, emerging_min_months, emerging_time_window
        Options of :func:`hotspots.detect.emerging.emerging_hotspots`.
    """

    cell_size: float | None = None
    grid_shape: str = "square"
    kernel: str = "quartic"
    bandwidth: float | None = None
    weights: str = "harm"
    fdr: bool = True
    inference: str = "analytic"
    permutations: int = 999
    seed: int = 0
    neighbour_distance: float | None = None
    alpha: float = 0.05
    lisa_fdr: bool = False
    cluster_method: str = "hdbscan"
    cluster_min_cluster_size: int | None = None
    cluster_min_samples: float | None = None
    cluster_eps: float | None = None
    cluster_buffer: float = 50.0
    nte_distance: float = 200.0
    nte_eps: float = 150.0
    nte_min_venues: int = 5
    emerging_source: str | None = None
    emerging_value: str = "n"
    emerging_min_months: int = 10
    emerging_time_window: int = 1

    def __post_init__(self) -> None:
        def one_of(key: str, options: tuple[str, ...]) -> None:
            v = getattr(self, key)
            if v not in options:
                raise ConfigError(f"[detect] key {key!r} must be one of {list(options)}, got {v!r}.")

        one_of("grid_shape", GRID_SHAPES)
        one_of("kernel", KERNELS)
        one_of("weights", WEIGHTS)
        one_of("inference", INFERENCES)
        one_of("cluster_method", CLUSTER_METHODS)
        one_of("emerging_value", ("n", "harm"))
        for key in ("cell_size", "bandwidth", "neighbour_distance", "cluster_eps"):
            v = getattr(self, key)
            if v is not None and not v > 0:
                raise ConfigError(f"[detect] key {key!r} must be a positive number of metres, got {v!r}.")
        for key in ("nte_distance", "nte_eps", "cluster_buffer"):
            if not getattr(self, key) >= 0:
                raise ConfigError(f"[detect] key {key!r} must be >= 0 metres, got {getattr(self, key)!r}.")
        if not 0 < self.alpha < 1:
            raise ConfigError(f"[detect] key 'alpha' must be between 0 and 1, got {self.alpha!r}.")
        if self.permutations < 99:
            raise ConfigError(f"[detect] key 'permutations' must be at least 99, got {self.permutations!r}.")
        if self.emerging_min_months < 3:
            raise ConfigError(
                f"[detect] key 'emerging_min_months' must be at least 3, got {self.emerging_min_months!r}."
            )
        if self.emerging_time_window < 0:
            raise ConfigError(f"[detect] key 'emerging_time_window' must be >= 0, got {self.emerging_time_window!r}.")
        if self.nte_min_venues < 1:
            raise ConfigError(f"[detect] key 'nte_min_venues' must be >= 1, got {self.nte_min_venues!r}.")
