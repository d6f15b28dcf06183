"""Write an output folder atomically: into a temporary folder beside it, moved into place on success.

A folder then never mixes two runs, and a failed run leaves the previous folder untouched.
``hotspots change`` uses it; any writer of a whole folder can (``with atomic_folder(out) as tmp:``
write into ``tmp``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from hotspots.errors import InputError

MANIFEST = "manifest.json"


def _replaceable(out: Path, *, owned: Callable[[dict], bool]) -> bool:
    """Whether ``out`` may be replaced: empty, or a folder this tool wrote (its manifest says so)."""
    if not any(out.iterdir()):
        return True
    manifest = out / MANIFEST
    if not manifest.is_file():
        return False
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("tool") == "hotspots" and owned(data)


def check_out(out: Path, *, owned: Callable[[dict], bool] = lambda m: True) -> None:
    """Raise :class:`InputError` now if :func:`atomic_folder` would refuse ``out`` (call it before long work).

    Raises
    ------
    InputError
        ``out`` exists and is a file, or a folder that may not be replaced (see :func:`atomic_folder`).
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file; give a folder to write.")
    if out.exists() and not _replaceable(out, owned=owned):
        raise InputError(
            f"--out {out} already holds files this command did not write; choose a new or empty folder "
            f"(an earlier output of the same command is replaced)."
        )


@contextlib.contextmanager
def atomic_folder(out: Path, *, owned: Callable[[dict], bool] = lambda m: True) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``out``; on success move it into place as ``out``.

    Parameters
    ----------
    out
        The folder to write. An existing ``out`` is replaced only when it is empty or holds a
        ``manifest.json`` written by hotspots for which ``owned(manifest)`` is true; anything
        else is an error, so a mistyped ``--out`` never deletes someone's files.
    owned
        Which earlier hotspots folders may be replaced (e.g. only those of the same command).

    Raises
    ------
    InputError
        ``out`` exists and is a file, or a folder this command did not write.
    """
    out = Path(out)
    check_out(out, owned=owned)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes the folder private; give it the usual permissions
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
        old.rmdir()
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out)
