"""Run independent parts of a run side by side, in forked worker processes.

A run's stages are pure functions of the loaded study and earlier results, so parts that do
not need each other (the forecast beside detection, the kit siting beside the ranking, one map
page beside another) can run at the same time. :func:`start` runs a function in a child
process forked from this one: the child sees the study and every earlier result as they are
(the operating system shares the memory until it is written to), computes, and sends its
result back pickled, with the seconds of its steps (:mod:`hotspots.steps`). The parent goes
on with its own work and collects the result with :meth:`Task.result`.

The number of processes working at once is the run's ``jobs`` (``hotspots run --jobs``;
:func:`jobs`). With one job, or where ``fork`` is not available (Windows, and macOS, where
forking a process that has loaded some system frameworks is unsafe), :func:`start` runs the
function at once, in this process, and the results are the same: every stage is seeded and
pure, so the order in which parts run does not change what they compute (the tests compare
the files of a one-job and a three-job run byte for byte).

A child never forks again, and a child that fails sends its exception back: :meth:`Task.result`
raises it in the parent. A worker that cannot be started (no temporary folder, no process or
memory to spare) is run in the parent instead, with a warning. The child's log messages and
warnings are sent back too and issued in the parent when the result is collected (so ``-v``
shows a worker's step timings then, and the parent's warning filters apply). A child that dies
(killed, out of memory) fails the run with a message saying so. When a result cannot be pickled
the part is run again in the parent, with a warning.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import logging
import os
import pickle
import signal
import sys
import tempfile
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Generic, TypeVar

from hotspots.steps import Timer, active_timer

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_AUTO_JOBS = 3
"""The most processes :func:`auto_jobs` chooses (more rarely help: the parts that can run side by side are few)."""

GC_THRESHOLD = 50_000
"""Allocations between two collections of Python's youngest garbage generation during a run (700 by
default): a run makes many short-lived objects that are not in reference cycles, and the
collector's passes over them cost about 5 % of a run's CPU."""

BACKGROUND_NICE = 10
"""How much lower the CPU priority of a background part's worker is (``os.nice``)."""

_JOBS = 1
_CHILDREN: dict[int, Path] = {}  # workers running, by process id: their result files
_EXITED: dict[int, tuple[int, Path]] = {}  # workers ended but not yet collected: exit status, result file
_BACKGROUND: set[int] = set()  # workers started as background parts (not counted against jobs)
_IN_CHILD = False


def fork_supported() -> bool:
    """True where :func:`start` can fork a worker: Linux (``os.fork`` and a safe ``fork`` start)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


JOBS_ENV = "HOTSPOTS_JOBS"
"""Environment variable setting the default number of jobs (a whole number, 1 or more)."""


def auto_jobs() -> int:
    """The number of jobs a run uses by default.

    :data:`JOBS_ENV` when it is set; else one more than the CPUs this process may use (this
    process often waits for a worker's result), at most :data:`MAX_AUTO_JOBS`, and one with a
    single CPU or where forking is not supported (:func:`fork_supported`).

    Raises
    ------
    ValueError
        :data:`JOBS_ENV` is set but is not a whole number of 1 or more.
    """
    if not fork_supported():
        return 1
    env = os.environ.get(JOBS_ENV, "").strip()
    if env:
        if not env.isdigit() or int(env) < 1:
            raise ValueError(f"the environment variable {JOBS_ENV} is {env!r}: set it to a whole number of 1 or more")
        return int(env)
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - Linux has sched_getaffinity
        cpus = os.cpu_count() or 1
    return 1 if cpus == 1 else min(MAX_AUTO_JOBS, cpus + 1)


def jobs() -> int:
    """How many processes may work at once now (1 in a worker: workers never fork)."""
    return 1 if _IN_CHILD else _JOBS


@contextlib.contextmanager
def using(n: int | None) -> Iterator[int]:
    """Let up to ``n`` processes work at once inside the block (None: :func:`auto_jobs`); yields the number used.

    Inside the block the garbage collector's youngest generation runs every
    :data:`GC_THRESHOLD` allocations; objects frozen before a fork are unfrozen at the end.

    Raises
    ------
    ValueError
        ``n`` is below 1.
    """
    global _JOBS  # noqa: PLW0603 - one setting per process, restored on exit
    if n is not None and n < 1:
        raise ValueError(f"jobs must be 1 or more, got {n}")
    want = auto_jobs() if n is None else n
    used = want if fork_supported() else 1
    old, _JOBS = _JOBS, used
    thresholds = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, *thresholds[1:])
    try:
        yield used
    finally:
        _JOBS = old
        kill_children()
        gc.unfreeze()  # the objects frozen before forking are collectable again
        gc.set_threshold(*thresholds)


class Task(Generic[T]):
    """A part of the run started by :func:`start`: in a worker process, or already done here."""

    def __init__(
        self,
        name: str,
        *,
        value: T | None = None,
        pid: int | None = None,
        path: Path | None = None,
        fn: Callable[[], T] | None = None,
        timer: Timer | None = None,
        stack: list[str] | None = None,
    ) -> None:
        self.name = name
        self._value = value
        self._pid = pid
        self._path = path
        self._fn = fn
        self._timer = timer
        self._stack = list(stack or [])
        self._done = pid is None

    @property
    def done(self) -> bool:
        """True once the value has been collected (or was computed here)."""
        return self._done

    @property
    def pid(self) -> int | None:
        """The worker's process id (None when the part ran here)."""
        return self._pid

    @property
    def forked(self) -> bool:
        """True when the part runs (or ran) in a worker process."""
        return self._path is not None

    def stop(self) -> None:
        """Kill the worker if it is still running, and forget its result (a failed run)."""
        if self._done or self._pid is None:
            return
        _kill(self._pid)
        self._done = True

    def result(self) -> T:
        """The part's value, waiting for its worker; raises the worker's exception if it failed.

        Raises
        ------
        RuntimeError
            The worker process died without sending a result (killed, out of memory).
        """
        if not self._done:
            self._collect()
        return self._value  # type: ignore[return-value]

    def _collect(self) -> None:
        assert self._pid is not None and self._path is not None
        if self._pid in _EXITED:
            status = _EXITED.pop(self._pid)[0]
        else:
            try:
                _, status = os.waitpid(self._pid, 0)
            except ChildProcessError:  # pragma: no cover - reaped elsewhere
                status = 0
            _CHILDREN.pop(self._pid, None)
            _BACKGROUND.discard(self._pid)
        self._done = True
        try:
            data = self._path.read_bytes() if self._path.exists() else b""
        finally:
            self._path.unlink(missing_ok=True)
        if not data:
            code = os.waitstatus_to_exitcode(status) if status else 0
            how = f"signal {-code}" if code < 0 else f"exit code {code}"
            raise RuntimeError(
                f"the worker process running {self.name!r} ended ({how}) without a result; "
                "it may have run out of memory: run again with --jobs 1"
            )
        kind, payload, wall, cpu, records, said = pickle.loads(data)
        for record in records:  # the worker's log messages and warnings, as if said here
            logging.getLogger(record.name).handle(record)
        for message, category, filename, lineno in said:
            warnings.warn_explicit(message, category, filename, lineno)
        if self._timer is not None:
            for key, seconds in wall.items():
                self._timer.add(key, seconds, cpu.get(key, 0.0))
        if kind == "ok":
            self._value = payload
        elif kind == "unpicklable":
            log.warning(
                "%s: its result could not be sent back from the worker process (%s); computing it here",
                self.name,
                payload,
            )
            assert self._fn is not None
            self._value = _run_here(self._fn, self._timer, self._stack)
        else:
            exc, text = payload
            log.debug("%s failed in its worker process:\n%s", self.name, text)
            raise exc


def _run_here(fn: Callable[[], T], timer: Timer | None, stack: list[str]) -> T:
    if timer is None:
        return fn()
    with timer.nested(stack):
        return fn()


def start(fn: Callable[[], T], *, name: str, timer: Timer | None = None, background: bool = False) -> Task[T]:
    """Run ``fn()`` in a forked worker when a process is free (:func:`jobs`), else now, here.

    Steps timed inside ``fn`` (:func:`hotspots.steps.step`) are recorded in the running
    pipeline's timings under the stage or step open when :func:`start` was called, as if
    ``fn`` had run there.

    Parameters
    ----------
    fn
        A function of no arguments; its value must pickle (it is sent back from the worker).
    name
        What the part is, for messages (``"forecast"``, ``"maps.analyst"``).
    timer
        Where the steps' seconds go (default the running stage's, :func:`hotspots.steps.active_timer`).
    background
        The part's result is needed only later: its worker runs at a CPU priority lowered by
        :data:`BACKGROUND_NICE` and does not count against :func:`jobs` (with more than one job),
        so it takes the CPU time the parts the run is waiting for leave.

    Returns
    -------
    Task
        Call :meth:`Task.result` for the value.
    """
    timer = timer if timer is not None else active_timer()
    stack = timer.open_steps() if timer is not None else []
    if _IN_CHILD or _JOBS <= 1 or (not background and running() + 1 >= _JOBS):
        return Task(name, value=_run_here(fn, timer, stack))
    path = None
    try:
        fd, tmp = tempfile.mkstemp(prefix="hotspots-task-", suffix=".pickle")
        os.close(fd)
        path = Path(tmp)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        # objects alive now are left out of garbage collection until the run ends, so the
        # worker's collector does not write to (and so copy) the memory it shares with this process
        gc.freeze()
        pid = os.fork()
    except OSError as exc:  # no temporary folder, too many processes, no memory: run it here (same result)
        if path is not None:
            path.unlink(missing_ok=True)
        log.warning("%s: cannot start a worker process (%s); running it in this process", name, exc)
        return Task(name, value=_run_here(fn, timer, stack))
    if pid == 0:  # pragma: no cover - the worker (its work is covered by the one-job runs)
        if background:
            with contextlib.suppress(OSError):
                os.nice(BACKGROUND_NICE)
        _child(fn, path, stack)
    _CHILDREN[pid] = path
    if background:
        _BACKGROUND.add(pid)
    log.debug("%s: started in worker process %d", name, pid)
    return Task(name, pid=pid, path=path, fn=fn, timer=timer, stack=stack)


def _child(fn: Callable[[], object], path: Path, stack: list[str]) -> None:  # pragma: no cover - runs in the worker
    global _IN_CHILD  # noqa: PLW0603 - this process is a worker from here on
    _IN_CHILD = True
    _CHILDREN.clear()
    _EXITED.clear()
    _BACKGROUND.clear()
    code = 0
    timer = Timer()
    records: list[logging.LogRecord] = []

    def keep(self: logging.Logger, record: logging.LogRecord) -> None:  # the parent handles them
        if not self.disabled and self.filter(record):
            records.append(_portable(record))

    logging.Logger.handle = keep  # type: ignore[method-assign]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # the parent's filters decide, when they are re-issued there
            try:
                with timer.nested(stack):
                    out: tuple[object, ...] = ("ok", fn())
            except BaseException as exc:  # sent to the parent, which raises it
                out = ("error", (exc, traceback.format_exc()))
        said = [(str(w.message), w.category, w.filename, w.lineno) for w in caught]
        try:
            data = pickle.dumps((*out, timer.wall, timer.cpu, records, said), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            data = pickle.dumps(("unpicklable", f"{type(exc).__name__}: {exc}", {}, {}, records, said))
        path.write_bytes(data)
    except BaseException:
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def _portable(record: logging.LogRecord) -> logging.LogRecord:
    """``record`` with its message formatted and its traceback as text, so that it pickles."""
    record = copy.copy(record)
    record.msg, record.args = record.getMessage(), None
    if record.exc_info:
        record.exc_text = record.exc_text or logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
    return record


def kill_children() -> None:
    """Stop every worker still running (a failed or interrupted run) and remove its files."""
    for pid in [*_CHILDREN, *_EXITED]:
        _kill(pid)


def _kill(pid: int) -> None:
    """Kill worker ``pid`` if it is still running, reap it, and forget it and its result file."""
    if pid in _CHILDREN:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        path: Path | None = _CHILDREN.pop(pid)
    else:
        path = _EXITED.pop(pid, (0, None))[1]
    _BACKGROUND.discard(pid)
    if path is not None:
        path.unlink(missing_ok=True)


def running() -> int:
    """How many worker processes this process has running now, background ones left out.

    Ended workers are noted (their results are collected later), not waited for.
    """
    for pid, path in list(_CHILDREN.items()):
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # pragma: no cover - reaped elsewhere
            done, status = pid, 0
        if done:
            _CHILDREN.pop(pid)
            _BACKGROUND.discard(pid)
            _EXITED[pid] = (status, path)
    return sum(pid not in _BACKGROUND for pid in _CHILDREN)


def finished(task: Task[object]) -> bool:
    """True when ``task`` has its value or its worker has ended (so :meth:`Task.result` will not wait)."""
    running()
    return task.done or task.pid in _EXITED
