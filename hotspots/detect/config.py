"""``[detect]``: the options of hot spot detection."""

from __future__ import annotations

from dataclasses import dataclass

from hotspots.detect.exposure import GRID_EXPOSURES
from hotspots.detect.kde import KERNELS
from hotspots.detect.lisa import MIN_PERMUTATIONS
from hotspots.detect.methods.exact import DEFAULT_DISPERSION, check_dispersion
from hotspots.detect.registry import DEFAULT_INFERENCE, METHODS
from hotspots.detect.trend import MIN_TIMES
from hotspots.errors import ConfigError, InputError
from hotspots.units import GRID_SHAPES

WEIGHTS = ("harm", "count")
CLUSTER_METHODS = ("hdbscan", "dbscan")
MIN_CLUSTER_LOCATIONS = 100
"""Smallest ``cluster_max_locations`` accepted."""


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
        Benjamini-Hochberg false discovery rate control for the hot spot classes (default true).
    inference
        Hot spot inference (a method of :data:`hotspots.detect.registry.METHODS`):
        ``"exact"`` (default: the exact tail test of each unit's neighbourhood sum under an
        exposure null; calibrated), ``"analytic"`` (Getis-Ord Gi* z with normal p: fast, not
        calibrated on sparse counts), ``"permutation"`` (Monte Carlo under the exposure null,
        ``permutations`` maps; its p floor is stated in a warning) or ``"eb_rate"`` (Gi* on
        empirical-Bayes smoothed rates).
    dispersion
        Variance / mean of the null counts for ``inference = "exact"`` and emerging hot spots:
        ``"pearson"`` (default: estimated from the unit counts; real counts are overdispersed,
        and a plain Poisson null calls 147 of the 679 bundled LSOAs hot) or a number >= 1
        (1 = Poisson).
    grid_exposure
        What grid-cell incidents are proportional to under the null: ``"area"`` (default:
        complete spatial randomness) or ``"residents"`` (the residents of the LSOAs each cell
        overlaps, by area; cells without residents are not analysed). LSOAs always use residents.
    permutations
        Monte Carlo maps for ``inference = "permutation"`` and permutations of local Moran (default 999).
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
    cluster_max_locations
        Most distinct locations the density clusters work on (default 100,000). Snapped
        police.uk data stays below it (a force of the Metropolitan Police's size: under
        80,000); unsnapped data (about one location per incident) is merged onto the finest
        grid of 1 to 100 m that fits, so time and memory stay flat, and the manifest gives the
        cell size (``auto.detect.clusters.aggregated_m``). Unset: never merge.
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
    inference: str = DEFAULT_INFERENCE
    dispersion: float | str = DEFAULT_DISPERSION
    grid_exposure: str = "area"
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
    cluster_max_locations: int | None = 100_000
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
        one_of("inference", tuple(METHODS))
        one_of("grid_exposure", GRID_EXPOSURES)
        self._check_dispersion()
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
        if self.permutations < MIN_PERMUTATIONS:
            raise ConfigError(
                f"[detect] key 'permutations' must be at least {MIN_PERMUTATIONS}, got {self.permutations!r}."
            )
        if self.emerging_min_months < MIN_TIMES:
            raise ConfigError(
                f"[detect] key 'emerging_min_months' must be at least {MIN_TIMES}, got {self.emerging_min_months!r}."
            )
        if self.emerging_time_window < 0:
            raise ConfigError(f"[detect] key 'emerging_time_window' must be >= 0, got {self.emerging_time_window!r}.")
        if self.cluster_max_locations is not None and self.cluster_max_locations < MIN_CLUSTER_LOCATIONS:
            raise ConfigError(
                f"[detect] key 'cluster_max_locations' must be at least {MIN_CLUSTER_LOCATIONS} locations, "
                f"got {self.cluster_max_locations!r}; remove the key to never merge."
            )
        if self.nte_min_venues < 1:
            raise ConfigError(f"[detect] key 'nte_min_venues' must be >= 1, got {self.nte_min_venues!r}.")

    def _check_dispersion(self) -> None:
        try:
            check_dispersion(self.dispersion, where="[detect] key 'dispersion'")
        except InputError as exc:
            raise ConfigError(str(exc)) from exc
        if self.dispersion != DEFAULT_DISPERSION and not METHODS[self.inference].uses_dispersion:
            users = [name for name, m in METHODS.items() if m.uses_dispersion]
            raise ConfigError(
                f"[detect] key 'dispersion' applies to inference {users} only, not {self.inference!r}; "
                f"remove the key or set inference = {users[0]!r}."
            )

    @property
    def method_dispersion(self) -> float | str | None:
        """The dispersion to pass to the inference method (None for methods that do not use it)."""
        return self.dispersion if METHODS[self.inference].uses_dispersion else None
