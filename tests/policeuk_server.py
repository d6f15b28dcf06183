"""A local stand-in for data.police.uk's archive: index page, redirect, Range-capable zip server.

It mimics what is known of the real service (see ``docs/any-force.md``): the index page
``/data/archive/`` links ``YYYY-MM.zip`` files; ``/data/archive/YYYY-MM.zip`` redirects (302)
to the file on another path (the real site redirects to an S3 bucket), which answers
``Range: bytes=a-b``, ``bytes=a-`` and ``bytes=-n`` with 206 Partial Content.

Test knobs: ``drop_after`` (path -> bytes: the next explicit ``bytes=a-b`` response of 10,000 bytes or
more to that path stops after that many body bytes, as a dropped connection), ``fail_once`` (path -> status: the next
request gets that status once, with ``Retry-After: 0``), ``ignore_range`` (answer 200 with the
whole file), ``corrupt`` (path -> bytes replacing the file's content, same length).

Fixture archives are built from real police.uk files only: the bundled Nottinghamshire
month (2019-09) and the first five rows of three real West Yorkshire months
(``fixtures/policeuk_tiny``, see its README).
"""

from __future__ import annotations

import gzip
import io
import re
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NOTTS_MONTH = HERE.parent / "data" / "crime" / "police_uk" / "2019-09" / "2019-09-nottinghamshire-street.csv.gz"
TINY = HERE / "fixtures" / "policeuk_tiny"


def real_members() -> dict[str, bytes]:
    """Member name -> bytes of every real file available for the fixtures."""
    out = {"2019-09/2019-09-nottinghamshire-street.csv": gzip.decompress(NOTTS_MONTH.read_bytes())}
    for p in sorted(TINY.glob("*/*.csv")):
        out[f"{p.parent.name}/{p.name}"] = p.read_bytes()
    return out


def build_zip(members: dict[str, bytes], *, zip64: set[str] | None = None) -> bytes:
    """A deflated zip of ``members`` (those in ``zip64`` get ZIP64 local headers)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2019, 10, 31, 12, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=name in (zip64 or set())) as fh:
                fh.write(data)
    return buf.getvalue()


def index_html(months: list[str]) -> str:
    """An index page in the spirit of data.police.uk/data/archive/ (links to YYYY-MM.zip)."""
    rows = "\n".join(
        f'<tr><td><a href="/data/archive/{m}.zip">{m}.zip</a></td><td>36 months to {m}</td>'
        f"<td>md5 0123456789abcdef0123456789abcdef</td></tr>"
        for m in sorted(months, reverse=True)
    )
    return (
        "<!DOCTYPE html><html><head><title>Archive | data.police.uk</title></head><body>"
        '<h1>Archive</h1><p><a href="/data/archive/latest.zip">Latest</a></p>'
        f"<table>{rows}</table></body></html>"
    )


class ArchiveServer:
    """Serve archives on 127.0.0.1 in a background thread (``with ArchiveServer(...) as s:``)."""

    def __init__(self, archives: dict[str, bytes], *, index: str | None = None) -> None:
        self.files: dict[str, bytes] = {f"/s3/archive/{m}.zip": data for m, data in archives.items()}
        self.redirects = {f"/data/archive/{m}.zip": f"/s3/archive/{m}.zip" for m in archives}
        self.index = index if index is not None else index_html(list(archives))
        self.log: list[tuple[str, str, str | None]] = []
        self.drop_after: dict[str, int] = {}
        self.fail_once: dict[str, int] = {}
        self.corrupt: dict[str, bytes] = {}
        self.ignore_range = False
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def index_url(self) -> str:
        return self.base + "/data/archive/"

    def __enter__(self) -> ArchiveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def ranges(self, path: str) -> list[str | None]:
        """Range headers of the GETs of ``path``, in order."""
        return [r for m, p, r in self.log if p == path and m == "GET"]


def _make_handler(state: ArchiveServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None, head: bool = False) -> None:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def do_HEAD(self) -> None:
            self._route(head=True)

        def do_GET(self) -> None:
            self._route(head=False)

        def _route(self, head: bool) -> None:  # noqa: PLR0911 (one return per kind of answer, as the real server gives)
            path = self.path.split("?", 1)[0]
            rng = self.headers.get("Range")
            state.log.append(("HEAD" if head else "GET", path, rng))
            if path in state.fail_once:
                self._send(state.fail_once.pop(path), b"busy", {"Retry-After": "0"}, head)
                return
            if path in ("/data/archive/", "/data/archive"):
                self._send(200, state.index.encode(), {"Content-Type": "text/html; charset=utf-8"}, head)
                return
            if path in state.redirects:
                self.send_response(302)
                self.send_header("Location", state.base + state.redirects[path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = state.files.get(path)
            if data is None:
                self._send(404, b"<html>Not Found</html>", {"Content-Type": "text/html"}, head)
                return
            data = state.corrupt.get(path, data)
            size = len(data)
            if rng is None or state.ignore_range:
                self._send(200, data, {"Content-Type": "application/zip", "Accept-Ranges": "bytes"}, head)
                return
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
            if not m or (m.group(1) == "" and m.group(2) == ""):
                self._send(416, b"", {"Content-Range": f"bytes */{size}"}, head)
                return
            if m.group(1) == "":
                start, end = max(0, size - int(m.group(2))), size - 1
            else:
                start = int(m.group(1))
                end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
            if start >= size or start > end:
                self._send(416, b"", {"Content-Range": f"bytes */{size}"}, head)
                return
            body = data[start : end + 1]
            headers = {"Content-Type": "application/zip", "Content-Range": f"bytes {start}-{end}/{size}"}
            explicit = m.group(1) != ""
            cut = state.drop_after.pop(path, None) if explicit and len(body) >= 10_000 else None
            if cut is not None and not head:
                self.send_response(206)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[:cut])
                self.wfile.flush()
                self.close_connection = True
                return
            self._send(206, body, headers, head)

    return Handler
