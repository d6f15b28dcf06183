"""Per-step timings and progress bars for the pipeline's long steps.

Inside a stage, ``with step("demand"):`` times a block (wall and CPU seconds) and logs it at
INFO (``hotspots -v run`` prints ``sites.demand: 0.12 s (CPU 0.11 s)``). While the pipeline
runs the stage (:meth:`Timer.stage`, used by :class:`hotspots.pipeline.Run`), the seconds are
also added to the run's timings as ``"<stage>.<step>"`` and so to the manifest's
``timings_s`` (wall) and ``cpu_s``. Called outside a run (an analyst's script), a step only
logs. Steps nest: a step inside ``"kits"`` is ``"sites.kits.<name>"``.

:func:`progress` wraps a loop in a progress bar (tqdm, on stderr) that appears only when
stderr is a terminal, logging is not quietened (``-q``) and the loop has run for
:data:`PROGRESS_DELAY_S` seconds: short steps, tests, pipes and log files never see one.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

PROGRESS_DELAY_S = 2.0
"""A progress bar appears only once its loop has run this long (seconds)."""


@dataclass
class StepTime:
    """The seconds one step took (filled in when the ``with`` block ends)."""

    name: str
    wall_s: float = 0.0
    cpu_s: float = 0.0


@dataclass
class Timer:
    """Wall and CPU seconds per stage and per step, keyed ``"<stage>"`` and ``"<stage>.<step>"``.

    Attributes
    ----------
    wall, cpu
        Seconds by key; a step entered twice adds up.
    """

    wall: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    _stack: list[str] = field(default_factory=list)

    def add(self, key: str, wall: float, cpu: float) -> None:
        """Add ``wall`` and ``cpu`` seconds to ``key``."""
        self.wall[key] = self.wall.get(key, 0.0) + wall
        self.cpu[key] = self.cpu.get(key, 0.0) + cpu

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[StepTime]:
        """Time stage ``name``; :func:`step` calls inside it are recorded as ``"<name>.<step>"``."""
        token = _ACTIVE.set(self)
        self._stack.append(name)
        try:
            with _timed(name, self) as t:
                yield t
        finally:
            self._stack.pop()
            _ACTIVE.reset(token)

    @contextlib.contextmanager
    def nested(self, stack: list[str]) -> Iterator[None]:
        """Record :func:`step` calls inside the block as if the stages and steps ``stack`` were open."""
        token = _ACTIVE.set(self)
        old, self._stack = self._stack, list(stack)
        try:
            yield
        finally:
            self._stack = old
            _ACTIVE.reset(token)

    def open_steps(self) -> list[str]:
        """The stages and steps open now, outermost first."""
        return list(self._stack)

    def key(self, name: str) -> str:
        """The key of step ``name`` inside the stages and steps now open."""
        return ".".join([*self._stack, name])


_ACTIVE: ContextVar[Timer | None] = ContextVar("hotspots_steps_timer", default=None)


def active_timer() -> Timer | None:
    """The :class:`Timer` of the stage running now (None outside a pipeline run)."""
    return _ACTIVE.get()


@contextlib.contextmanager
def _timed(key: str, timer: Timer | None) -> Iterator[StepTime]:
    t = StepTime(key)
    w0, c0 = time.perf_counter(), time.process_time()
    try:
        yield t
    finally:
        t.wall_s, t.cpu_s = time.perf_counter() - w0, time.process_time() - c0
        if timer is not None:
            timer.add(key, t.wall_s, t.cpu_s)
        log.info("%s: %.2f s (CPU %.2f s)", key, t.wall_s, t.cpu_s)


@contextlib.contextmanager
def step(name: str) -> Iterator[StepTime]:
    """Time one step of a stage: logged at INFO, and recorded in the running pipeline's timings.

    Examples
    --------
    >>> with step("demand") as t:
    ...     _ = sum(range(1000))
    >>> t.name, t.wall_s >= 0
    ('demand', True)
    """
    timer = _ACTIVE.get()
    if timer is None:
        with _timed(name, None) as t:
            yield t
        return
    key = timer.key(name)
    timer._stack.append(name)
    try:
        with _timed(key, timer) as t:
            yield t
    finally:
        timer._stack.pop()


def progress_enabled() -> bool:
    """True when a progress bar may be drawn: stderr is a terminal and ``hotspots`` logging is not quietened."""
    stream = sys.stderr
    tty = bool(getattr(stream, "isatty", lambda: False)())
    return tty and logging.getLogger("hotspots").getEffectiveLevel() <= logging.WARNING


def progress(items: Iterable[T], *, desc: str, total: int | None = None, unit: str = "it") -> Iterable[T]:
    """``items``, with a progress bar on stderr when the loop runs over :data:`PROGRESS_DELAY_S` seconds.

    The bar is tqdm's (imported only when it may be shown); it is never drawn when stderr is
    not a terminal (tests, pipes, log files) or with ``hotspots -q``.
    """
    if not progress_enabled():
        return items
    from tqdm import tqdm  # only on a terminal

    return tqdm(items, desc=desc, total=total, unit=unit, delay=PROGRESS_DELAY_S, leave=False, file=sys.stderr)
