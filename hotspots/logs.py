"""Logging and warnings for the command line (``hotspots -v``/``-q``)."""

from __future__ import annotations

import logging
import sys
import warnings
from typing import TextIO

import click

__all__ = ["setup_logging"]


def setup_logging(verbose: int, quiet: bool) -> None:
    """Send the ``hotspots`` loggers and warnings to stderr at the CLI's verbosity.

    Parameters
    ----------
    verbose
        0: warnings; 1 (``-v``): each step with its time and every automatic choice; 2 (``-vv``): debug.
    quiet
        ``-q``: errors only; warnings and progress bars are not shown.
    """
    level = (  # -q: only errors (and no progress bars: hotspots.steps.progress_enabled)
        logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("hotspots")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        click.echo(f"warning: {message}", err=True)

    warnings.showwarning = show
    warnings.simplefilter("default")
    if quiet:
        warnings.simplefilter("ignore")
