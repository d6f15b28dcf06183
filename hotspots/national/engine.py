"""Where the partitions run: a Dask cluster (a local one by default, or a scheduler's address), or this process.

:func:`open_executor` gives an :class:`Executor` with three verbs, the same for both:
``submit(fn, *args)`` returns a handle (a Dask future: the result stays on the worker),
``gather(handles)`` brings results back, ``scatter(obj)`` sends a large object to every worker
once. The national run submits one task per force and keeps each partition's state on its
worker between its two steps (:mod:`hotspots.national.partition`).

Dask (``dask[distributed]``) is imported only here, and only when a cluster is used.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from hotspots.errors import InputError

log = logging.getLogger(__name__)

IN_PROCESS = "none"
"""``--scheduler none``: run every partition in this process, one after the other (no Dask)."""


class Executor(Protocol):
    """Runs tasks: in this process or on a Dask cluster.

    Handles are opaque (a result itself in process, a Dask ``Future`` on a cluster) and tasks take
    and return any picklable value, so the signatures say ``Any``.
    """

    description: str

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Start ``fn(*args)``; return a handle (handles may be passed as arguments of later tasks)."""
        ...

    def gather(self, handles: Sequence[Any]) -> list[Any]:
        """The results of ``handles``, in order."""
        ...

    def scatter(self, obj: Any) -> Any:
        """Send ``obj`` to every worker once; return a handle to pass to tasks."""
        ...

    def pick(self, handle: Any, i: int) -> Any:
        """A handle to item ``i`` of the result of ``handle`` (computed where the result lives)."""
        ...

    def worker_pids(self) -> list[int]:
        """Process ids of the workers (this process for the in-process executor)."""
        ...


@dataclass
class InProcess:
    """Runs each task at once, in this process (``--scheduler none``; tests and debugging)."""

    description: str = "in this process (no Dask)"

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` now; the handle is the result."""
        return fn(*args)

    def gather(self, handles: Sequence[Any]) -> list[Any]:
        """The results themselves."""
        return list(handles)

    def scatter(self, obj: Any) -> Any:
        """``obj`` itself."""
        return obj

    def pick(self, handle: Any, i: int) -> Any:
        """Item ``i`` of the result."""
        return handle[i]

    def worker_pids(self) -> list[int]:
        """The process id of this process (it runs every task)."""
        return [os.getpid()]


def _item(result: Any, i: int) -> Any:
    return result[i]


@dataclass
class DaskExecutor:
    """Runs tasks on a Dask cluster through a ``distributed.Client``."""

    client: Any
    description: str = "Dask"
    _pure: bool = field(default=False)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``client.submit`` (not pure: each call is a new task)."""
        return self.client.submit(fn, *args, pure=self._pure)

    def gather(self, handles: Sequence[Any]) -> list[Any]:
        """``client.gather``: raises the first task's error here."""
        return list(self.client.gather(list(handles)))

    def scatter(self, obj: Any) -> Any:
        """``client.scatter(obj, broadcast=True)``."""
        return self.client.scatter(obj, broadcast=True)

    def pick(self, handle: Any, i: int) -> Any:
        """Item ``i`` of the future's result, computed on its worker."""
        return self.client.submit(_item, handle, i, pure=self._pure)

    def worker_pids(self) -> list[int]:
        """Process ids of the workers (meaningful for a local cluster)."""
        return sorted(int(p) for p in self.client.run(os.getpid).values())


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - dask[distributed] is a dependency
        raise InputError(
            "the national run needs Dask: pip install 'dask[distributed]' (or use --scheduler none to run "
            "in this process)."
        ) from exc
    return distributed


@contextmanager
def open_executor(
    scheduler: str | None = None, *, workers: int = 2, memory_limit: str = "auto", timeout: float = 20.0
) -> Iterator[Executor]:
    """An executor for the national run, closed (with its local cluster) on exit.

    Parameters
    ----------
    scheduler
        None: start a local Dask cluster of ``workers`` processes (one thread each) on this
        machine. ``"none"``: no Dask, every task in this process. Anything else: the address of a
        running Dask scheduler (``tcp://host:8786``); its workers must be able to import
        ``hotspots`` and read the archive at the same path.
    workers
        Worker processes of the local cluster (>= 1).
    memory_limit
        Memory limit per local worker (Dask's ``memory_limit``: ``"auto"`` shares the machine's
        memory among the workers, or e.g. ``"8GB"``).
    timeout
        Seconds to wait for the scheduler at ``scheduler`` before giving up.

    Raises
    ------
    InputError
        ``workers`` < 1, or the scheduler cannot be reached.
    """
    if scheduler == IN_PROCESS:
        yield InProcess()
        return
    distributed = _distributed()
    if scheduler is None:
        if workers < 1:
            raise InputError(f"--workers must be at least 1, got {workers}; use --scheduler none for no Dask at all.")
        cluster = distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
            memory_limit=memory_limit,
        )
        try:
            with distributed.Client(cluster) as client:
                yield DaskExecutor(client, description=f"a local Dask cluster of {workers} worker process(es)")
        finally:
            cluster.close()
        return
    try:
        client = distributed.Client(scheduler, timeout=f"{timeout}s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(
            f"cannot reach the Dask scheduler at {scheduler!r} ({exc}). Start it with `dask scheduler` and its "
            "workers with `dask worker ADDRESS`, or leave --scheduler out for a local cluster."
        ) from exc
    try:
        n = len(client.scheduler_info().get("workers", {}))
        yield DaskExecutor(client, description=f"the Dask scheduler at {scheduler} ({n} worker(s))")
    finally:
        client.close()


__all__ = ["IN_PROCESS", "DaskExecutor", "Executor", "InProcess", "open_executor"]
