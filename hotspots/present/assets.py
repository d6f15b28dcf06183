"""Offline browser assets for the maps: fetch, verify, vendor and inline them.

folium writes pages that load Leaflet, its plugins, jQuery, Bootstrap, Font Awesome
and d3 from content delivery networks; on a laptop with no internet such a page is
blank (``L is not defined``). This module makes the pages self-contained:

1. :func:`install` (``python -m hotspots.present.assets install``, run by ``setup.sh``) fetches
   each package pinned in ``hotspots/assets.lock.json`` with ``npm pack name@version``,
   checks the tarball against the pinned sha512 ``integrity`` before reading it, and
   extracts only the files the maps need, with the package's licence, into
   ``hotspots/_vendor/`` (git-ignored: the assets are never committed). It is
   idempotent and returns at once when everything is present and unchanged.
2. :func:`inline_html` replaces every ``<script src>`` and ``<link href>`` that folium
   and branca emit by the vendored file's content, turns CSS ``url(...)`` references
   into base64 ``data:`` URIs (woff2 fonts only; other font formats are dropped), sets
   Leaflet's default marker icon to data URIs, appends the third-party licences, and
   raises :class:`AssetError` when any external URL is left in the page.

The vendored folder can be moved with the ``HOTSPOTS_VENDOR_DIR`` environment variable.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import folium

from hotspots.errors import HotspotsError

log = logging.getLogger(__name__)

LOCK_FILE = Path(__file__).resolve().with_name("assets.lock.json")
"""The committed lock manifest: package, version, sha512 integrity, files to vendor."""

DEFAULT_VENDOR_DIR = Path(__file__).resolve().with_name("_vendor")
"""Where the assets are vendored (``HOTSPOTS_VENDOR_DIR`` overrides it)."""

STAMP = "installed.json"
"""File in the vendor folder recording what was installed (versions, integrity, sha256 per file)."""

INSTALL_HINT = (
    "run `.venv/bin/python -m hotspots.present.assets install` (needs npm and access to the npm registry once)"
)

FOLIUM_TEMPLATES = Path(folium.__file__).resolve().parent / "templates"

URL_MAP: dict[str, tuple[str, str]] = {
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": ("leaflet", "dist/leaflet.js"),
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": ("leaflet", "dist/leaflet.css"),
    "https://code.jquery.com/jquery-3.7.1.min.js": ("jquery", "dist/jquery.min.js"),
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": (
        "bootstrap",
        "dist/js/bootstrap.bundle.min.js",
    ),
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": (
        "bootstrap",
        "dist/css/bootstrap.min.css",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": (
        "leaflet.awesome-markers",
        "dist/leaflet.awesome-markers.js",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": (
        "leaflet.awesome-markers",
        "dist/leaflet.awesome-markers.css",
    ),
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": (
        "@fortawesome/fontawesome-free",
        "css/all.min.css",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js": (
        "leaflet.markercluster",
        "dist/leaflet.markercluster.js",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css": (
        "leaflet.markercluster",
        "dist/MarkerCluster.css",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css": (
        "leaflet.markercluster",
        "dist/MarkerCluster.Default.css",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js": ("d3", "d3.min.js"),
    # leaflet-heat ships inside folium's own wheel
    "https://cdn.jsdelivr.net/gh/python-visualization/folium@main/folium/templates/leaflet_heat.min.js": (
        "folium",
        "leaflet_heat.min.js",
    ),
}
"""Every external URL folium 0.20 / branca 0.8 emit, mapped to ``(package, file)`` in the vendor folder."""

GENERATED_CSS: dict[str, str] = {
    # folium's awesome-marker rotation sheet has no registry package; our icons are never
    # rotated, so one rule (rotation 0, the class folium adds to every icon) replaces it.
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css": (
        ".leaflet-marker-icon .fa-rotate-0{transform:none}"
    ),
}
"""External stylesheets replaced by a small stylesheet written here."""

DROPPED_URLS: dict[str, str] = {
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": (
        "Glyphicons have no registry package; every icon uses prefix='fa' (Font Awesome)"
    ),
}
"""External references removed from the page, with the reason."""

MIME = {
    ".woff2": "font/woff2",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".gif": "image/gif",
    ".jpg": "image/jpeg",
}
"""Media types of the files a stylesheet may reference (only these are inlined)."""

_FONT_EXT = (".woff", ".ttf", ".eot", ".otf")


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


def _read_stamp(dest: Path) -> dict[str, Any]:
    try:
        return json.loads((dest / STAMP).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def problems(*, dest: Path | None = None, lock: Path = LOCK_FILE, deep: bool = True) -> dict[str, str]:
    """What is missing or stale in the vendor folder, by package name (empty when all is well).

    ``deep`` also re-hashes every vendored file against the sha256 recorded at install.
    """
    dest = dest or vendor_dir()
    stamp = _read_stamp(dest).get("packages", {})
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
            if len(parts) < 2 or parts[0] != "package" or ".." in parts:
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
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=workdir)
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
    stamp = _read_stamp(dest)
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


# --------------------------------------------------------------------------------------
# inlining
# --------------------------------------------------------------------------------------

_SCRIPT_RE = re.compile(r"<script\b[^>]*?\bsrc\s*=\s*[\"']([^\"']+)[\"'][^>]*>\s*</script>", re.I)
_LINK_RE = re.compile(r"<link\b[^>]*?\bhref\s*=\s*[\"']([^\"']+)[\"'][^>]*?/?>", re.I)
_URL_RE = re.compile(r"url\(\s*([\"']?)([^\"')]+)\1\s*\)", re.I)
_SRC_DECL_RE = re.compile(r"src\s*:\s*([^;}]+)", re.I)
_EXTERNAL_RE = re.compile(r"(?:https?:)?//[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+|\bhttps?:", re.I)


def _asset_path(dest: Path, package: str, rel: str) -> Path:
    if package == "folium":
        return FOLIUM_TEMPLATES / rel
    return dest / package / rel


def _data_uri(path: Path) -> str:
    mime = MIME[path.suffix.lower()]
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _strip_non_woff2(css: str) -> str:
    """In every ``@font-face`` ``src`` list keep only the woff2 entries."""

    def fix(m: re.Match[str]) -> str:
        entries = [e.strip() for e in m.group(1).split(",")]
        if not any("url(" in e for e in entries):
            return m.group(0)
        keep = [e for e in entries if "url(" not in e or ".woff2" in e.lower()]
        return "src:" + ",".join(keep)

    return _SRC_DECL_RE.sub(fix, css)


def inline_css(css: str, css_path: Path) -> str:
    """Turn every relative ``url(...)`` of a vendored stylesheet into a ``data:`` URI.

    Font formats other than woff2 are dropped from ``@font-face`` rules (every
    browser in use reads woff2). A referenced file that is missing or of an unknown
    type is an :class:`AssetError`.
    """
    css = _strip_non_woff2(css)

    def repl(m: re.Match[str]) -> str:
        ref = m.group(2).strip()
        if ref.startswith("data:") or ref.startswith("#"):
            return m.group(0)
        if _EXTERNAL_RE.match(ref):
            raise AssetError(f"stylesheet {css_path.name} references the external URL {ref!r}; it cannot be inlined.")
        target = (css_path.parent / ref.split("?")[0].split("#")[0]).resolve()
        if target.suffix.lower() not in MIME:
            raise AssetError(f"stylesheet {css_path.name} references {ref!r}, a file type that is not inlined.")
        if not target.is_file():
            raise AssetError(f"stylesheet {css_path.name} references {ref!r}, missing at {target}. {INSTALL_HINT}.")
        return f'url("{_data_uri(target)}")'

    return _URL_RE.sub(repl, css)


def _safe_script(js: str) -> str:
    # keep the HTML parser inside the <script> element
    return js.replace("</script", "<\\/script").replace("<!--", "<\\!--")


def _leaflet_icon_fix(dest: Path) -> str:
    img = dest / "leaflet" / "dist" / "images"
    return (
        "\n;(function(){var D=L.Icon.Default;D.imagePath='';D.mergeOptions({"
        f"iconUrl:'{_data_uri(img / 'marker-icon.png')}',"
        f"iconRetinaUrl:'{_data_uri(img / 'marker-icon-2x.png')}',"
        f"shadowUrl:'{_data_uri(img / 'marker-shadow.png')}'"
        "});})();\n"
    )


def _licence_block(dest: Path, used: set[str]) -> str:
    stamp = _read_stamp(dest).get("packages", {})
    parts = ["Third-party software inlined in this page, with its licences. Map data: see the attribution on the page."]
    for name in sorted(used):
        if name == "folium":
            parts.append(f"== leaflet-heat, from folium {folium.__version__} (MIT) ==")
            continue
        info = stamp.get(name, {})
        parts.append(f"== {name} {info.get('version', '')} ({info.get('license', '')}) ==")
        for lic in info.get("licenses", []):
            p = dest / name / lic
            if p.is_file():
                parts.append(p.read_text(encoding="utf-8", errors="replace").strip())
    text = "\n\n".join(parts)
    return f'<script type="text/plain" id="third-party-licences">\n{_safe_script(text)}\n</script>'


def external_urls(html: str, *, allow: tuple[str, ...] = ()) -> list[str]:
    """External references (``http:``, ``https:``, ``//host``) in ``html`` not starting with an allowed prefix."""
    found = []
    for m in _EXTERNAL_RE.finditer(html):
        start = m.start()
        tail = html[start : start + 300]
        if any(tail.startswith(a) for a in allow):
            continue
        found.append(re.split(r"[\s\"'<>)`]", tail, maxsplit=1)[0])
    return found


def inline_html(html: str, *, dest: Path | None = None, allow: tuple[str, ...] = ()) -> str:
    """Make a folium page self-contained.

    Parameters
    ----------
    html
        The page as folium renders it (``m.get_root().render()``).
    dest
        Vendor folder (default :func:`vendor_dir`).
    allow
        URL prefixes that may stay in the page (only the online base-tile template,
        when the user asked for online tiles).

    Returns
    -------
    str
        The page with every script and stylesheet inlined and the licences appended.

    Raises
    ------
    AssetError
        The assets are not installed, or the page references a URL this module does
        not map (the message lists them): nothing is written with a network dependency.
    """
    dest = require_installed(dest=dest, deep=True)
    chunks: dict[str, str] = {}
    used: set[str] = set()
    unmapped: list[str] = []

    def placeholder(content: str) -> str:
        key = f"\x00HOTSPOTS_ASSET_{len(chunks)}\x00"
        chunks[key] = content
        return key

    def script(m: re.Match[str]) -> str:
        url = m.group(1)
        if url not in URL_MAP:
            unmapped.append(url)
            return m.group(0)
        package, rel = URL_MAP[url]
        used.add(package)
        js = _asset_path(dest, package, rel).read_text(encoding="utf-8")
        if package == "leaflet" and rel == "dist/leaflet.js":
            js += _leaflet_icon_fix(dest)
        return placeholder(f"<script>/* {package}/{rel} (inlined) */\n{_safe_script(js)}\n</script>")

    def link(m: re.Match[str]) -> str:
        url = m.group(1)
        if url in DROPPED_URLS:
            return f"<!-- dropped external stylesheet: {DROPPED_URLS[url]} -->"
        if url in GENERATED_CSS:
            return placeholder(f"<style>{GENERATED_CSS[url]}</style>")
        if url not in URL_MAP:
            unmapped.append(url)
            return m.group(0)
        package, rel = URL_MAP[url]
        used.add(package)
        path = _asset_path(dest, package, rel)
        css = inline_css(path.read_text(encoding="utf-8"), path).replace("</style", "<\\/style")
        return placeholder(f"<style>/* {package}/{rel} (inlined) */\n{css}\n</style>")

    page = _SCRIPT_RE.sub(script, html)
    page = _LINK_RE.sub(link, page)
    leftover = [u for u in external_urls(page, allow=allow)]
    if unmapped or leftover:
        urls = sorted(set(unmapped) | set(leftover))
        raise AssetError(
            f"the page references {len(urls)} external URL(s) that are not vendored: {', '.join(urls[:10])}. "
            "A self-contained map cannot load them offline: map each to a vendored file in "
            "hotspots/assets.py (URL_MAP) and hotspots/assets.lock.json, or remove it from the page."
        )
    licences = _licence_block(dest, used)
    if "</body>" in page:
        page = page.replace("</body>", licences + "\n</body>", 1)
    else:
        page += licences
    for key, content in chunks.items():
        page = page.replace(key, content, 1)
    return page


def main(argv: list[str] | None = None) -> int:
    """``python -m hotspots.present.assets install [--force] | check``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m hotspots.present.assets", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_install = sub.add_parser("install", help="fetch, verify and vendor the pinned assets (idempotent)")
    p_install.add_argument("--force", action="store_true", help="fetch every package again")
    p_install.add_argument("--dest", type=Path, default=None, help="vendor folder (default hotspots/_vendor)")
    p_install.add_argument("--lock", type=Path, default=LOCK_FILE, help="lock manifest (default the bundled one)")
    p_install.add_argument("--npm", default="npm", help="npm executable (default npm on PATH)")
    p_check = sub.add_parser("check", help="verify the vendored files against the lock and the install record")
    p_check.add_argument("--dest", type=Path, default=None)
    p_check.add_argument("--lock", type=Path, default=LOCK_FILE)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    dest = args.dest or vendor_dir()
    try:
        if args.cmd == "install":
            result = install(dest=dest, lock=args.lock, npm=args.npm, force=args.force)
            fetched = [k for k, v in result.items() if v == "installed"]
            print(
                f"offline map assets in {dest}: "
                + (f"installed {', '.join(fetched)}" if fetched else f"all {len(result)} packages present")
            )
        else:
            bad = problems(dest=dest, lock=args.lock)
            if bad:
                for k, v in bad.items():
                    print(f"{k}: {v}", file=sys.stderr)
                print(f"to fix, {INSTALL_HINT}", file=sys.stderr)
                return 1
            print(f"offline map assets in {dest}: all verified")
    except AssetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
