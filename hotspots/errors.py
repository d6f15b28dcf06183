"""Exceptions raised by hotspots.

Every error a user can cause is a :class:`HotspotsError`; the CLI turns it into one
clear message and exit code 2, never a traceback.
"""

from __future__ import annotations


class HotspotsError(Exception):
    """Base class for every error hotspots raises on purpose."""


class ConfigError(HotspotsError):
    """The configuration file is missing, malformed, or names something that does not exist."""


class InputError(HotspotsError):
    """An input file or frame cannot be used: it names the file, row or column and how to fix it."""


class HotspotsWarning(UserWarning):
    """A usable input or result that the analyst should know about."""
