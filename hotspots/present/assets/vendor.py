"""Fetch, verify and vendor the pinned browser assets of the maps.

:func:`install` (``python -m hotspots.present.assets install``, run by ``setup.sh``) fetches
each package pinned in ``hotspots/present/assets.lock.json`` with ``npm pack name@version``,
checks the tarball against the pinned sha512 ``integrity`` before reading it, and extracts only
the files the maps need, with the package's licence, into ``hotspots/present/_vendor/``
(git-ignored: the assets are never committed). It is idempotent and returns at once when
everything is present and unchanged. The vendored folder can be moved with the
``HOTSPOTS_VENDOR_DIR`` environment variable.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import logging
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from hotspots.errors import HotspotsError

log = logging.getLogger(__name__)

PRESENT = Path(__file__).resolve().parent.parent
"""The ``hotspots/present`` folder."""

LOCK_FILE = PRESENT / "assets.lock.json"
"""The committed lock manifest: package, version, sha512 integrity, files to vendor."""

DEFAULT_VENDOR_DIR = PRESENT / "_vendor"
"""Where the assets are vendored (``HOTSPOTS_VENDOR_DIR`` overrides it)."""

STAMP = "installed.json"
"""File in the vendor folder recording what was installed (versions, integrity, sha256 per file)."""

NPM_TIMEOUT_S = 900
"""Longest wait for ``npm pack``."""

INSTALL_HINT = (
    "run `.venv/bin/python -m hotspots.present.assets install` (needs npm and access to the npm registry once)"
)


class AssetError(HotspotsError):
    """The offline assets are missing, fail their integrity check, or a page references an unmapped URL."""


@dataclass(frozen=True)
class Package:
    """One pinned npm package from the lock manifest."""

    name: str
    version: str
    integrity: str
    license: str
    files: tuple[str, ...]
    licenses: tuple[str, ...]

    @property
    def spec(self) -> str:
        """``name@version`` as given to ``npm pack``."""
        return f"{self.name}@{self.version}"


# --------------------------------------------------------------------------------------
# lock manifest and vendor folder
# --------------------------------------------------------------------------------------


def read_lock(path: Path = LOCK_FILE) -> list[Package]:
    """Read the lock manifest.

    Raises
    ------
    AssetError
        The file is missing, not JSON, or an entry lacks a key or has a malformed integrity.
    """
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise AssetError(f"asset lock manifest not found: {path}") from exc
    except json.JSONDecodeError as exc:
        raise AssetError(f"asset lock manifest {path} is not valid JSON: {exc}") from exc
    out = []
    for i, entry in enumerate(raw.get("packages", [])):
        missing = [k for k in ("name", "version", "integrity", "files", "licenses") if k not in entry]
        if missing:
            raise AssetError(f"{path}: package entry {i + 1} lacks {', '.join(missing)}.")
        if not str(entry["integrity"]).startswith("sha512-"):
            raise AssetError(
                f"{path}: package {entry['name']!r} integrity must be a sha512 value "
                f"('sha512-<base64>'), got {entry['integrity']!r}."
            )
        out.append(
            Package(
                name=entry["name"],
                version=entry["version"],
                integrity=entry["integrity"],
                license=entry.get("license", ""),
                files=tuple(entry["files"]),
                licenses=tuple(entry["licenses"]),
            )
        )
    if not out:
        raise AssetError(f"{path} lists no packages.")
    return out


def vendor_dir() -> Path:
    """The vendor folder (``HOTSPOTS_VENDOR_DIR`` or ``hotspots/_vendor``)."""
    env = os.environ.get("HOTSPOTS_VENDOR_DIR")
    return Path(env).expanduser().resolve() if env else DEFAULT_VENDOR_DIR


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sri(path: Path) -> str:
    """Subresource-integrity string ``sha512-<base64>`` of a file (what npm publishes)."""
    return "sha512-" + base64.b64encode(hashlib.sha512(Path(path).read_bytes()).digest()).decode("ascii")


def verify_integrity(path: Path, integrity: str, *, what: str) -> None:
    """Raise :class:`AssetError` unless ``path`` hashes to ``integrity`` (sha512)."""
    got = sri(path)
    if got != integrity:
        raise AssetError(
            f"integrity check failed for {what} ({Path(path).name}): expected {integrity}, got {got}. "
            "The download is corrupt or the package was changed; nothing was extracted. "
            "Delete the npm cache entry (`npm cache clean --force`) and install again; "
            "if it persists, do not use the package."
        )


def read_stamp(dest: Path) -> dict[str, Any]:
    """The install record of a vendor folder (empty when there is none)."""
    try:
        return json.loads((dest / STAMP).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def problems(*, dest: Path | None = None, lock: Path = LOCK_FILE, deep: bool = True) -> dict[str, str]:
    """What is missing or stale in the vendor folder, by package name (empty when all is well).

    ``deep`` also re-hashes every vendored file against the sha256 recorded at install.
    """
    dest = dest or vendor_dir()
    stamp = read_stamp(dest).get("packages", {})
    out: dict[str, str] = {}
    for pkg in read_lock(lock):
        got = stamp.get(pkg.name)
        if not got:
            out[pkg.name] = "not installed"
            continue
        if got.get("version") != pkg.version or got.get("integrity") != pkg.integrity:
            out[pkg.name] = f"installed {got.get('version')} does not match the lock ({pkg.version})"
            continue
        for rel, digest in got.get("files", {}).items():
            f = dest / pkg.name / rel
            if not f.is_file():
                out[pkg.name] = f"file missing: {f}"
                break
            if deep and _sha256(f) != digest:
                out[pkg.name] = f"file changed since install: {f}"
                break
    return out


def _wanted(rel: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(rel, p) for p in patterns)


def _extract(tarball: Path, pkg: Package, dest: Path) -> dict[str, str]:
    """Extract the wanted files and licences of ``pkg`` into ``dest/<name>``; return sha256 by file."""
    target = dest / pkg.name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    patterns = pkg.files + pkg.licenses
    digests: dict[str, str] = {}
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            parts = PurePosixPath(member.name).parts
            if len(parts) <= 1 or parts[0] != "package" or ".." in parts:
                continue
            rel = "/".join(parts[1:])
            if not _wanted(rel, patterns):
                continue
            fh = tar.extractfile(member)
            if fh is None:  # pragma: no cover
                continue
            data = fh.read()
            out = target / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
            digests[rel] = hashlib.sha256(data).hexdigest()
    for pattern in patterns:
        if not any(fnmatch.fnmatchcase(rel, pattern) for rel in digests):
            raise AssetError(
                f"package {pkg.spec} has no file matching {pattern!r}; fix its 'files'/'licenses' in {LOCK_FILE.name}."
            )
    return digests


def _npm_pack(specs: list[str], workdir: Path, npm: str) -> dict[str, Path]:
    exe = shutil.which(npm)
    if exe is None:
        raise AssetError(
            f"npm was not found (looked for {npm!r} on PATH). The offline map assets are fetched "
            "from their npm packages: install Node.js with npm (e.g. `apt-get install npm`) "
            "and run `python -m hotspots.present.assets install` again."
        )
    cmd = [exe, "pack", "--json", "--ignore-scripts", "--pack-destination", str(workdir), *specs]
    log.info("fetching %s", ", ".join(specs))
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=NPM_TIMEOUT_S, check=False, cwd=workdir)
    except subprocess.TimeoutExpired as exc:
        raise AssetError(f"`npm pack` timed out after {exc.timeout} s fetching {', '.join(specs)}.") from exc
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        raise AssetError(
            f"`npm pack` failed (exit {proc.returncode}) fetching {', '.join(specs)}:\n{tail}\n"
            "Check that this machine can reach the npm registry (proxy settings: `npm config get proxy`)."
        )
    try:
        info = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise AssetError(f"`npm pack --json` printed something unexpected: {proc.stdout[:300]!r}") from exc
    out = {}
    for d in info:
        out[f"{d['name']}@{d['version']}"] = workdir / d["filename"]
    return out


def install(
    *, dest: Path | None = None, lock: Path = LOCK_FILE, npm: str = "npm", force: bool = False
) -> dict[str, str]:
    """Fetch, verify and vendor every package of the lock manifest.

    Idempotent: packages already vendored at the pinned version with unchanged files are
    skipped without touching npm.

    Parameters
    ----------
    dest
        Vendor folder (default :func:`vendor_dir`).
    lock
        Lock manifest.
    npm
        The npm executable.
    force
        Fetch and extract every package again.

    Returns
    -------
    dict
        Package name to ``"installed"`` or ``"present"``.

    Raises
    ------
    AssetError
        npm is missing or fails, or a tarball does not match its pinned integrity.
    """
    dest = dest or vendor_dir()
    packages = read_lock(lock)
    todo = packages if force else [p for p in packages if p.name in problems(dest=dest, lock=lock)]
    result = {p.name: "present" for p in packages}
    if not todo:
        return result
    dest.mkdir(parents=True, exist_ok=True)
    stamp = read_stamp(dest)
    stamp.setdefault("packages", {})
    with tempfile.TemporaryDirectory(prefix="hotspots-assets-") as tmp:
        tarballs = _npm_pack([p.spec for p in todo], Path(tmp), npm)
        for pkg in todo:
            tgz = tarballs.get(pkg.spec)
            if tgz is None or not tgz.is_file():
                raise AssetError(f"`npm pack {pkg.spec}` produced no tarball.")
            verify_integrity(tgz, pkg.integrity, what=pkg.spec)
            digests = _extract(tgz, pkg, dest)
            stamp["packages"][pkg.name] = {
                "version": pkg.version,
                "integrity": pkg.integrity,
                "license": pkg.license,
                "licenses": list(pkg.licenses),
                "files": digests,
            }
            result[pkg.name] = "installed"
            log.info("vendored %s (%d files)", pkg.spec, len(digests))
    (dest / STAMP).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
    return result


def require_installed(*, dest: Path | None = None, lock: Path = LOCK_FILE, deep: bool = False) -> Path:
    """Return the vendor folder, or raise :class:`AssetError` saying how to install the assets.

    ``deep`` also re-hashes every vendored file against the sha256 recorded at install.
    """
    dest = dest or vendor_dir()
    bad = problems(dest=dest, lock=lock, deep=deep)
    if bad:
        detail = "; ".join(f"{k}: {v}" for k, v in bad.items())
        raise AssetError(f"offline map assets are not ready in {dest} ({detail}). To fix, {INSTALL_HINT}.")
    return dest
