"""Config sections that describe input files: boundaries, deprivation, venues, crime, site files.

Each is a small frozen dataclass that validates itself (raising
:class:`~hotspots.errors.ConfigError`); :func:`hotspots.config.load_config` builds them
from the TOML file, resolving paths against the config file's folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hotspots.errors import ConfigError
from hotspots.validate import folder_message, require_file


@dataclass(frozen=True)
class BoundariesConfig:
    """``[boundaries]``: LSOA polygons (the study area), districts and wards.

    Attributes
    ----------
    lsoa
        LSOA polygons, any format GDAL reads (zipped files are read in place). 2011 or
        2021 LSOAs: the deprivation file must be of the same vintage.
    lsoa_code_column, lsoa_name_column
        Columns holding the LSOA code and name (``LSOA11CD``/``LSOA11NM``; ``LSOA21CD``/
        ``LSOA21NM`` for 2021 boundaries).
    filter_column, filter_values
        Keep only the features whose ``filter_column`` is one of ``filter_values`` (e.g.
        ``"LAD19CD"`` and a force's district codes, as ``hotspots init`` writes). Give both
        or neither; every value must match a feature.
    districts, district_code_column, district_name_column
        District polygons (optional; without them districts come from the LSOA file's
        ``LAD19CD``/``LAD19NM`` or the deprivation file).
    wards, ward_code_column, ward_name_column
        Ward polygons (optional), used to name the wards of top places.
    nearest_tolerance_m
        How far (metres) a point outside every generalised LSOA polygon may be from the
        nearest one and still be assigned to it; 0 assigns by point in polygon only.
    """

    lsoa: Path
    lsoa_code_column: str = "LSOA11CD"
    lsoa_name_column: str = "LSOA11NM"
    filter_column: str | None = None
    filter_values: list[str] | None = None
    districts: Path | None = None
    district_code_column: str = "district_code"
    district_name_column: str = "district_name"
    wards: Path | None = None
    ward_code_column: str = "ward_code"
    ward_name_column: str = "ward_name"
    nearest_tolerance_m: float = 250.0

    def __post_init__(self) -> None:
        require_file(self.lsoa, "[boundaries] key 'lsoa'")
        require_file(self.districts, "[boundaries] key 'districts'")
        require_file(self.wards, "[boundaries] key 'wards'")
        if self.nearest_tolerance_m < 0:
            raise ConfigError("[boundaries] key 'nearest_tolerance_m' must be >= 0 metres.")
        if (self.filter_column is None) != (self.filter_values is None):
            raise ConfigError(
                "[boundaries] keys 'filter_column' and 'filter_values' go together: give both (e.g. "
                'filter_column = "LAD19CD" and filter_values = ["E06000018"]) or neither.'
            )
        if self.filter_values is not None and not self.filter_values:
            raise ConfigError(
                "[boundaries] key 'filter_values' is empty; list at least one value, or remove both keys."
            )


@dataclass(frozen=True)
class DeprivationConfig:
    """``[deprivation]``: English Indices of Deprivation, IoD2019 or IoD2025 (told from the file).

    Attributes
    ----------
    domains
        IoD2019 File 2 (ranks and deciles, 2011 LSOAs) or IoD2025 File 7 (all ranks,
        scores, deciles and mid-2022 denominators, 2021 LSOAs), England-wide.
    population
        IoD2019 File 6 (mid-2015 denominators); required with File 2, not given with File 7.
    subdomains
        IoD2019 sub-domain ranks (the Children and Young People sub-domain), England-wide
        (``data/iod2019/humaniverse_imd2019_england_lsoa11_subdomains.csv.gz``); IoD2019 only.
    indicators
        IoD2019 indicators (the IDACI numerator), England-wide
        (``data/iod2019/humaniverse_imd2019_england_lsoa11_indicators.csv.gz``); IoD2019 only.
    """

    domains: Path
    population: Path | None = None
    subdomains: Path | None = None
    indicators: Path | None = None

    def __post_init__(self) -> None:
        for name in ("domains", "population", "subdomains", "indicators"):
            require_file(getattr(self, name), f"[deprivation] key {name!r}")


@dataclass(frozen=True)
class ColumnMap:
    """Column mapping for a generic point file: which column holds what.

    ``x``/``y`` are longitude/latitude when ``crs`` is geographic, easting/northing
    when it is projected. Leave a key out when the file has no such column. For a
    GeoPackage/GeoJSON the geometry is used and ``x``/``y`` are ignored.

    Attributes
    ----------
    id
        Unique reference (repeats are dropped as ``duplicate_crime_id``); without it the
        id is ``<source>:<file>:<row>``.
    month
        Month, ``YYYY-MM`` (or any date starting ``YYYY-MM``).
    date
        Date, ``YYYY-MM-DD`` or ``DD/MM/YYYY``; gives the month when ``month`` is not mapped.
    time
        Time of day, appended to ``date``.
    x, y
        Longitude/latitude, or easting/northing with a projected ``crs`` (CSV only).
    crime_type
        The category column (else give ``crime_type`` for the whole file).
    offence_code
        Home Office offence code (e.g. ``5D``, ``34B``).
    lsoa_code
        The row's LSOA code, if the file has one.
    location
        Street-level location text.
    name, address, postcode
        Venue name, address and postcode (venue files).
    """

    id: str | None = None
    month: str | None = None
    date: str | None = None
    time: str | None = None
    x: str | None = None
    y: str | None = None
    crime_type: str | None = None
    offence_code: str | None = None
    lsoa_code: str | None = None
    location: str | None = None
    name: str | None = None
    address: str | None = None
    postcode: str | None = None


CRIME_FORMATS = ("police_uk", "points")


@dataclass(frozen=True)
class CrimeSource:
    """One ``[[crime]]`` entry: a crime file, folder or glob.

    Attributes
    ----------
    name
        Short unique name; becomes the ``source`` column.
    path
        A file, a folder (searched recursively for ``*-street.csv[.gz]`` in the
        data.police.uk archive layout, or for ``*.csv``, ``*.gpkg``, ``*.geojson``), or a
        glob relative to the config file.
    format
        ``"police_uk"`` (street-level CSV, read unchanged) or ``"points"`` (generic
        CSV/GeoPackage/GeoJSON with ``columns``).
    crime_type
        Category for every row when the file has no crime-type column (e.g. a file of
        robberies only).
    crs
        CRS of the coordinates: ``x``/``y`` of a generic CSV, or ``Longitude``/``Latitude``
        of a police.uk-layout file (default lon/lat, EPSG:4326; ``"EPSG:27700"`` when they
        hold British National Grid metres).
    encoding
        Text encoding; by default UTF-8 (with or without BOM), falling back to
        Windows-1252 with a warning.
    columns
        For ``format = "points"``: which column of the file holds what.
    """

    name: str
    path: str
    format: str = "police_uk"
    crime_type: str | None = None
    crs: str = "EPSG:4326"
    encoding: str | None = None
    columns: ColumnMap = field(default_factory=ColumnMap)
    base: Path | None = field(default=None, metadata={"internal": True})
    """Folder the path is relative to (the config file's; set by the loader, not a config key)."""

    def __post_init__(self) -> None:
        if self.format not in CRIME_FORMATS:
            raise ConfigError(
                f"[[crime]] {self.name!r} key 'format' must be one of {list(CRIME_FORMATS)}, got {self.format!r}."
            )
        if self.format == "points" and self.columns.crime_type is None and self.crime_type is None:
            raise ConfigError(
                f"[[crime]] {self.name!r}: a 'points' file needs either columns.crime_type "
                f"(the column holding the category) or crime_type (one category for every row)."
            )


VENUE_FORMATS = ("open_pubs", "points")


@dataclass(frozen=True)
class VenuesConfig:
    """``[venues]``: night-time-economy venues (Open Pubs format or a generic point file).

    Attributes
    ----------
    path
        The venue file.
    format
        ``"open_pubs"`` (the Open Pubs CSV) or ``"points"`` (CSV/GeoPackage/GeoJSON with ``columns``).
    crs
        CRS of ``x``/``y`` in a generic CSV (default EPSG:4326).
    encoding
        Text encoding (default UTF-8, falling back to Windows-1252 with a warning).
    columns
        Column mapping of a generic file (``id``, ``name``, ``address``, ``postcode``, ``x``, ``y``).
    snapshot
        Date the venue list describes (shown in caveats), e.g. ``"2017-08"``.
    clip_to_area
        The list covers a larger area (e.g. the whole UK): venues outside the study area
        are expected, counted as ``outside_study_area`` and not an error. Without it, a
        venue file with more than ``[study] max_outside_share`` of its venues outside the
        area is an error (the wrong area's file).
    """

    path: Path
    format: str = "open_pubs"
    crs: str = "EPSG:4326"
    encoding: str | None = None
    columns: ColumnMap = field(default_factory=ColumnMap)
    snapshot: str | None = None
    clip_to_area: bool = False

    def __post_init__(self) -> None:
        require_file(self.path, "[venues] key 'path'")
        if self.format not in VENUE_FORMATS:
            raise ConfigError(f"[venues] key 'format' must be one of {list(VENUE_FORMATS)}, got {self.format!r}.")


@dataclass(frozen=True)
class PointFile:
    """A point file of sites: CSV (lon/lat or easting/northing) or GeoPackage/GeoJSON.

    Attributes
    ----------
    path
        The file, relative to the config file.
    crs
        CRS of ``x``/``y`` in a CSV. Defaults to EPSG:4326 when the CSV has ``lon``/``lat``
        (or ``longitude``/``latitude``) columns and EPSG:27700 when it has
        ``easting``/``northing``; required when ``x``/``y`` name other columns, and for a
        vector file that carries no CRS.
    id, name, x, y
        Column names. ``id`` defaults to ``id`` when present, else the row number; ``name``
        to ``name`` when present.
    encoding
        Text encoding of a CSV (default UTF-8, falling back to Windows-1252 with a warning).
    """

    path: Path
    crs: str | None = None
    id: str | None = None
    name: str | None = None
    x: str | None = None
    y: str | None = None
    encoding: str | None = None

    def __post_init__(self) -> None:
        if Path(self.path).is_dir():
            raise ConfigError(f"site file: {folder_message(Path(self.path), 'the path')}")
        if not Path(self.path).exists():
            raise ConfigError(f"site file not found: {self.path}. Paths are relative to the config file.")
        if (self.x is None) != (self.y is None):
            raise ConfigError(f"site file {self.path}: give both x and y column names, or neither.")
