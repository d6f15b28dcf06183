"""``hotspots serve RUN_DIR``: show a run's maps over ``http://localhost`` so online base maps work.

A page opened by double-click (``file://``) sends no Referer header with its requests, and
tile servers such as OpenStreetMap's refuse tile requests without one. The maps themselves
need nothing online (``[maps] basemap = "none"``, the default); with an online base map, open
them through this small local web server (Python's ``http.server``, bound to 127.0.0.1 on a
free port), which sends the page's address as the Referer. It serves the run folder read-only
and only to this computer.
"""

from __future__ import annotations

import html
import logging
import threading
import webbrowser
from collections.abc import Callable
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from hotspots.errors import InputError
from hotspots.present.maps.config import AUDIENCES, TITLES

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
"""The server listens on this computer only."""

MAPS_DIR = "maps"


def check_run_dir(run_dir: Path) -> Path:
    """The run folder, resolved.

    Raises
    ------
    InputError
        It does not exist or holds no ``maps/*.html``.
    """
    path = Path(run_dir).expanduser().resolve()
    if not path.is_dir():
        raise InputError(f"run folder {path} does not exist; give the folder `hotspots run --out DIR` wrote.")
    if not any((path / MAPS_DIR).glob("*.html")):
        raise InputError(
            f"{path} holds no maps ({MAPS_DIR}/*.html); "
            "give a run folder written by `hotspots run` with the maps stage."
        )
    return path


def index_page(run_dir: Path) -> str:
    """A small page linking the folder's maps and pages (a run's, or those of ``hotspots change``)."""
    links = []
    for audience in AUDIENCES:
        rel = f"{MAPS_DIR}/{audience}.html"
        if (run_dir / rel).is_file():
            links.append(f'<li><a href="{rel}">{html.escape(TITLES[audience])}</a> ({audience})</li>')
    if (run_dir / MAPS_DIR / "change.html").is_file():  # a `hotspots change` folder
        links.append(f'<li><a href="{MAPS_DIR}/change.html">What changed: map</a> (change)</li>')
    if (run_dir / "change.html").is_file():
        links.append('<li><a href="change.html">What changed: Board page</a></li>')
    if (run_dir / "report.html").is_file():
        links.append('<li><a href="report.html">Board report</a></li>')
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'><title>hotspots run</title>"
        "<style>body{font:16px/1.5 system-ui,sans-serif;margin:2em;max-width:40em}</style></head><body>"
        f"<h1>hotspots run</h1><p>{html.escape(str(run_dir))}</p><ul>{''.join(links)}</ul>"
        "<p>Served from this computer only. Stop the server with Ctrl+C in its terminal.</p></body></html>"
    )


class _Handler(SimpleHTTPRequestHandler):
    """Serves the run folder; ``/`` is :func:`index_page`; quiet unless debugging."""

    run_dir: Path

    def do_GET(self) -> None:
        """Serve a file, or the index page for ``/``."""
        if self.path in ("/", "/index.html") and not (self.run_dir / "index.html").is_file():
            body = index_page(self.run_dir).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        """Log requests at debug level instead of printing them."""
        log.debug("serve: " + format, *args)


class MapServer:
    """A local web server for one run folder, on a free port (use as a context manager).

    Parameters
    ----------
    run_dir
        The run folder (holding ``maps/``).
    port
        Port to listen on (0: a free one).

    Raises
    ------
    InputError
        ``run_dir`` is not a run folder with maps, or the port is taken.
    """

    def __init__(self, run_dir: Path, *, port: int = 0) -> None:
        self.run_dir = check_run_dir(run_dir)
        handler = type("RunHandler", (_Handler,), {"run_dir": self.run_dir})
        try:
            self.httpd = ThreadingHTTPServer((HOST, port), partial(handler, directory=str(self.run_dir)))
        except OSError as exc:
            raise InputError(
                f"cannot listen on {HOST} port {port} ({exc.strerror or exc}); choose another with --port, "
                "or leave it out for a free one."
            ) from exc
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>/``."""
        return f"http://{HOST}:{self.httpd.server_address[1]}/"

    def start(self) -> MapServer:
        """Serve in a background thread."""
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="hotspots-serve", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)

    def __enter__(self) -> MapServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(
    run_dir: Path, *, port: int = 0, open_browser: bool = True, page: str = "", echo: Callable[[str], object] = log.info
) -> None:
    """Serve ``run_dir`` until interrupted (Ctrl+C), opening ``page`` (default the index) in the browser.

    ``echo`` receives the address and the stop message (the command line passes ``click.echo``).

    Raises
    ------
    InputError
        ``run_dir`` is not a run folder with maps.
    """
    server = MapServer(run_dir, port=port)
    url = server.url + page.lstrip("/")
    echo(f"serving {server.run_dir} at {server.url} (this computer only); press Ctrl+C to stop")
    if open_browser:
        threading.Timer(0.3, webbrowser.open, args=(url,)).start()
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        echo("stopped")
    finally:
        server.httpd.server_close()
