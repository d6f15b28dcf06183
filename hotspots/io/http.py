"""A small, polite HTTP client (standard library only) and a plain progress bar, for ``hotspots fetch``.

:class:`PoliteClient` keeps to one request per ``min_interval`` seconds, identifies itself,
retries with backoff on 429/5xx and dropped connections (honouring ``Retry-After``), makes
HTTP Range requests, and turns every failure into one :class:`~hotspots.errors.InputError`
line that says what to do (offline: check the connection and run the same command again).
"""

from __future__ import annotations

import email.message
import http.client
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from hotspots.errors import InputError

USER_AGENT = "hotspots-fetch/1 (violence-hotspots toolkit; polite: one request per second)"
RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
HTTP_NOT_FOUND = 404
HTTP_RANGE_REFUSED = 416
HTTP_PARTIAL = 206
MAX_RETRY_AFTER_S = 120.0
MAX_BACKOFF_S = 60.0


@dataclass
class HttpResult:
    """A finished HTTP response: status, headers, body and the final URL (after redirects)."""

    status: int
    headers: email.message.Message
    body: bytes
    url: str


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url


def _offline_error(url: str, exc: BaseException) -> InputError:
    reason = getattr(exc, "reason", exc)
    return InputError(
        f"cannot reach {_host(url)} ({url}): {reason}. Check the internet connection (or set HTTPS_PROXY "
        "for a proxy) and run the same command again; finished files are kept and partial ones resume."
    )


class PoliteClient:
    """A small HTTP client: rate limit, retries with backoff, Range requests, one-line errors.

    Parameters
    ----------
    min_interval
        Seconds between the starts of two requests (default 1).
    timeout
        Seconds before a silent connection is abandoned (default 60).
    retries
        Further tries after a retryable failure (429/5xx, dropped or timed-out connection).
    backoff
        First retry delay in seconds, doubled each time (capped at 60 s); a ``Retry-After``
        header is honoured up to 120 s.
    user_agent
        Sent with every request.
    sleep, clock
        Injected for tests (default :func:`time.sleep`, :func:`time.monotonic`).
    """

    def __init__(
        self,
        *,
        min_interval: float = 1.0,
        timeout: float = 60.0,
        retries: int = 4,
        backoff: float = 2.0,
        user_agent: str = USER_AGENT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.min_interval = float(min_interval)
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.user_agent = user_agent
        self._sleep = sleep
        self._clock = clock
        self._last: float | None = None
        self.requests = 0
        self.bytes_received = 0
        self._opener = urllib.request.build_opener()

    def _wait_turn(self) -> None:
        now = self._clock()
        if self._last is not None:
            wait = self._last + self.min_interval - now
            if wait > 0:
                self._sleep(wait)
                now = self._clock()
        self._last = now

    def _retry_delay(self, attempt: int, headers: email.message.Message | None) -> float:
        after = headers.get("Retry-After") if headers is not None else None
        if after and after.strip().isdigit():
            return min(float(after.strip()), MAX_RETRY_AFTER_S)
        return min(self.backoff * (2**attempt), MAX_BACKOFF_S)

    def open(self, url: str, *, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
        """Open ``url`` (GET) with retries; return the live response (caller reads and closes).

        Raises
        ------
        InputError
            Offline, unknown host, HTTP error after the retries (404 is not retried).
        """
        hdrs = {"User-Agent": self.user_agent, "Accept-Encoding": "identity", **(headers or {})}
        for attempt in range(self.retries + 1):
            self._wait_turn()
            self.requests += 1
            req = urllib.request.Request(url, headers=hdrs)
            try:
                return self._opener.open(req, timeout=self.timeout)
            except urllib.error.HTTPError as exc:
                exc.close()
                if exc.code in RETRY_STATUS and attempt < self.retries:
                    self._sleep(self._retry_delay(attempt, exc.headers))
                    continue
                if exc.code == HTTP_RANGE_REFUSED:
                    raise InputError(
                        f"{url}: the server refused the byte range {hdrs.get('Range')!r} (HTTP 416)."
                    ) from exc
                raise InputError(
                    f"{_host(url)} answered HTTP {exc.code} {exc.reason} for {url}"
                    + (f" after {attempt + 1} tries" if attempt else "")
                    + ("." if exc.code != HTTP_NOT_FOUND else "; it is not there (check the month or the address).")
                ) from exc
            except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                dns = isinstance(reason, (socket.gaierror, ConnectionRefusedError))
                if not dns and attempt < self.retries:
                    self._sleep(self._retry_delay(attempt, None))
                    continue
                raise _offline_error(url, exc) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def get(
        self, url: str, *, start: int | None = None, end: int | None = None, suffix: int | None = None
    ) -> HttpResult:
        """GET ``url`` whole, or bytes ``start..end`` (inclusive), or the last ``suffix`` bytes.

        A range request must be answered with 206 Partial Content; a server that ignores
        ranges (200) is an error, since the archives are too large to download whole.
        """
        headers = {}
        if suffix is not None:
            headers["Range"] = f"bytes=-{int(suffix)}"
        elif start is not None:
            headers["Range"] = f"bytes={int(start)}-" + ("" if end is None else str(int(end)))
        for attempt in range(self.retries + 1):
            resp = self.open(url, headers=headers)
            try:
                body = resp.read()
            except (http.client.IncompleteRead, ConnectionError, TimeoutError, OSError) as exc:
                resp.close()
                if attempt < self.retries:
                    self._sleep(self._retry_delay(attempt, None))
                    continue
                raise _offline_error(url, exc) from exc
            status = getattr(resp, "status", 200)
            final = resp.geturl()
            resp.close()
            self.bytes_received += len(body)
            if headers.get("Range") and status != HTTP_PARTIAL:
                raise InputError(
                    f"{_host(final)} does not serve parts of files (HTTP {status} to a Range request for {final}); "
                    "`hotspots fetch` needs that to read one force from a 1.7 GB archive. Download the archive "
                    "yourself and pass it with --archive-file."
                )
            return HttpResult(status, resp.headers, body, final)
        raise AssertionError("unreachable")  # pragma: no cover

    def copy_range(self, url: str, start: int, end: int, out: IO[bytes], on_bytes: Callable[[int], None]) -> int:
        """Stream bytes ``start..end`` (inclusive) of ``url`` into ``out``; return bytes written.

        Stops early (returning fewer bytes) if the connection drops; the caller resumes.
        """
        resp = self.open(url, headers={"Range": f"bytes={start}-{end}"})
        want = end - start + 1
        written = 0
        try:
            if getattr(resp, "status", 200) != HTTP_PARTIAL:
                raise InputError(
                    f"{_host(resp.geturl())} ignored a Range request for {resp.geturl()} (HTTP {resp.status}); "
                    "download the archive yourself and pass it with --archive-file."
                )
            while written < want:
                try:
                    chunk = resp.read(min(256 * 1024, want - written))
                except (http.client.IncompleteRead, ConnectionError, TimeoutError, OSError) as exc:
                    chunk = (getattr(exc, "partial", b"") or b"")[: want - written]
                    if chunk:
                        out.write(chunk)
                        written += len(chunk)
                        self.bytes_received += len(chunk)
                        on_bytes(len(chunk))
                    break
                if not chunk:
                    break
                out.write(chunk)
                written += len(chunk)
                self.bytes_received += len(chunk)
                on_bytes(len(chunk))
        finally:
            resp.close()
        return written


class Progress:
    """A one-line progress bar on a text stream (stderr by default); silent when disabled.

    On a terminal the line is redrawn in place; otherwise one line per finished file.
    """

    def __init__(self, total_bytes: int, n_files: int, *, stream: IO[str] | None = None, enabled: bool = True) -> None:
        self.total = max(int(total_bytes), 1)
        self.n = n_files
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.done = 0
        self.k = 0
        self.name = ""
        self.t0 = time.monotonic()

    def start_file(self, name: str) -> None:
        """Begin the next file."""
        self.k += 1
        self.name = name
        self._draw()

    def advance(self, n: int) -> None:
        """Count ``n`` more bytes."""
        self.done += n
        if self.tty:
            self._draw()

    def end_file(self, note: str) -> None:
        """Finish the current file with a note (e.g. ``"downloaded, 11,472 rows"``)."""
        if not self.enabled:
            return
        if self.tty:
            self._draw()
            self.stream.write("\n")
        else:
            self.stream.write(f"[{self.k}/{self.n}] {self.name}: {note}\n")
        self.stream.flush()

    def _draw(self) -> None:
        if not self.tty:
            return
        frac = min(self.done / self.total, 1.0)
        bar = "#" * int(frac * 30)
        rate = self.done / max(time.monotonic() - self.t0, 1e-6) / 1e6
        self.stream.write(
            f"\r[{self.k}/{self.n}] [{bar:<30}] {frac:6.1%} {self.done / 1e6:7.1f}/{self.total / 1e6:.1f} MB "
            f"{rate:5.1f} MB/s {self.name[-40:]}"
        )
        self.stream.flush()
