"""Atomic run folders: a run is written beside its target and moved into place only when it is complete.

A folder named by ``--out`` only ever holds one complete run (its ``manifest.json`` says
``"status": "ok"``), or nothing. The steps, and what an interruption at each leaves:

1. **Start**: leftovers of earlier interrupted runs of the same target are tidied
   (:func:`recover`): a previous complete run that was moved aside is moved back if the
   target is missing, else deleted; abandoned temporary folders are deleted.
2. **Write**: every output goes to a new temporary folder beside the target,
   ``.<name>.incomplete-<time>-<pid>`` (same file system, so the final move is a rename).
   Interrupted here: the target is untouched; the temporary folder is tidied at the next start.
3. **Failed**: a stage raised. The temporary folder (with ``manifest.json`` saying
   ``"status": "failed"``) is renamed ``<name>.failed`` (replacing an older one) and the
   target is untouched.
4. **Swap**: on success, an existing target is renamed ``.<name>.previous-<time>-<pid>``,
   then the temporary folder is renamed to the target. Interrupted between the two renames:
   the target is missing and the previous run is intact beside it; the next start moves it back.
5. **Clean up**: the previous run is deleted. Interrupted here: the target holds the new
   complete run; the next start deletes the leftover.

An existing target that is not a hotspots run folder (no ``manifest.json``) and is not empty
is never replaced: that is an error, so a mistyped ``--out`` cannot delete a user's folder.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import shutil
from pathlib import Path

from hotspots.errors import InputError

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
INCOMPLETE = ".incomplete-"
PREVIOUS = ".previous-"
FAILED_SUFFIX = ".failed"


def _stamp() -> str:
    return f"{_dt.datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}"


def _pid(name: str) -> int | None:
    try:
        return int(name.rsplit("-", 1)[-1])
    except ValueError:
        return None


def _alive(pid: int | None) -> bool:
    """True when another process with this id is running (its run may still be writing)."""
    if pid is None or pid == os.getpid():
        return False  # this process starts one run of a target at a time: its own leftovers are dead
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - another user's live process
        return True
    return True


def _leftovers(target: Path, kind: str) -> list[Path]:
    prefix = f".{target.name}{kind}"
    parent = target.parent
    if not parent.is_dir():
        return []
    return sorted(p for p in parent.iterdir() if p.name.startswith(prefix) and p.is_dir())


def is_run_folder(path: Path) -> bool:
    """True when ``path`` is a folder written by ``hotspots run`` (it holds a ``manifest.json``)."""
    manifest = path / MANIFEST
    if not manifest.is_file():
        return False
    try:
        return json.loads(manifest.read_text(encoding="utf-8")).get("tool") == "hotspots"
    except (OSError, ValueError, AttributeError):
        return False


def recover(target: Path) -> list[str]:
    """Tidy what interrupted runs of ``target`` left beside it; return what was done (for the log).

    A previous complete run moved aside is moved back when the target is missing (the run
    was interrupted between the two renames of the swap), else deleted; temporary folders
    of runs whose process is no longer running are deleted.
    """
    done = []
    previous = [p for p in _leftovers(target, PREVIOUS) if not _alive(_pid(p.name))]
    if previous and not target.exists():
        keep = previous.pop()
        keep.rename(target)
        done.append(f"restored the previous run {keep.name} to {target.name}")
    for p in previous:
        shutil.rmtree(p, ignore_errors=True)
        done.append(f"deleted {p.name}")
    for p in _leftovers(target, INCOMPLETE):
        if not _alive(_pid(p.name)):
            shutil.rmtree(p, ignore_errors=True)
            done.append(f"deleted the interrupted run {p.name}")
    for line in done:
        log.info("run folder %s: %s", target, line)
    return done


def check_target(target: Path) -> None:
    """Raise :class:`InputError` when ``target`` cannot become a run folder.

    It may not be a file, nor a non-empty folder that is not a hotspots run folder; its
    parent must be a folder that can be written.
    """
    if target.is_file():
        raise InputError(f"--out {target} is a file; give a folder for the run (it is created).")
    blocker = next((p for p in target.parents if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise InputError(
            f"cannot write the run folder {target}: {blocker} is a file, not a folder. "
            "Give --out a folder you can write to."
        )
    if target.is_dir() and any(target.iterdir()) and not is_run_folder(target):
        raise InputError(
            f"--out {target} is a folder that is not a hotspots run folder (no manifest.json) and is not empty; "
            "hotspots replaces only its own run folders. Give a new folder name (it is created)."
        )


def start(target: Path) -> Path:
    """Create and return the temporary folder a run of ``target`` writes into (after :func:`recover`).

    Raises
    ------
    InputError
        ``target`` is unusable (see :func:`check_target`) or its parent cannot be written.
    """
    check_target(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        recover(target)
        tmp = target.parent / f".{target.name}{INCOMPLETE}{_stamp()}"
        tmp.mkdir()
    except OSError as exc:
        raise InputError(
            f"cannot write the run folder {target}: {exc.strerror or exc} ({exc.filename or target.parent}). "
            "Give --out a folder you can write to."
        ) from exc
    return tmp


def discard(tmp: Path) -> None:
    """Delete a temporary folder (a run that failed before writing anything worth keeping)."""
    shutil.rmtree(tmp, ignore_errors=True)


def keep_failed(tmp: Path, target: Path) -> Path:
    """Rename a failed run's temporary folder to ``<target>.failed`` (replacing an older one); return it."""
    failed = target.with_name(target.name + FAILED_SUFFIX)
    if failed.exists():
        shutil.rmtree(failed, ignore_errors=True)
    tmp.rename(failed)
    return failed


def publish(tmp: Path, target: Path) -> Path:
    """Move the complete run in ``tmp`` to ``target``, replacing an earlier run there; return ``target``.

    The earlier run is renamed aside first and deleted only after the new run is in place,
    so at every moment one complete run exists (see the module docstring).
    """
    aside = None
    if target.exists():
        if not any(target.iterdir()):
            target.rmdir()
        else:
            aside = target.parent / f".{target.name}{PREVIOUS}{_stamp()}"
            target.rename(aside)
    tmp.rename(target)
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
    return target
