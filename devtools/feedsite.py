"""A news site on 127.0.0.x for the feed tests and `bench/feeds.py`, behaving as real
servers and CDNs do: ETag and Last-Modified with 304, redirects, 410, 429 and 503 with
Retry-After, gzip (and stacked gzip), and the slow and hostile ones: headers or body dripped
a byte at a time, a server that accepts and never answers.

It speaks HTTP/1.1 by hand over asyncio streams (one request per connection), so every
byte and every pause is the test's to choose. It runs its loop on a thread of its own.
"""

from __future__ import annotations

import asyncio
import gzip
import threading
import time
import zlib
from dataclasses import dataclass, field
from email.utils import formatdate

REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 303: "See Other",
           304: "Not Modified", 307: "Temporary Redirect", 308: "Permanent Redirect",
           404: "Not Found", 410: "Gone", 429: "Too Many Requests", 500: "Internal Server Error",
           503: "Service Unavailable"}  # fmt: skip
LAST_MODIFIED = formatdate(1_752_217_200, usegmt=True)  # 11 July 2025, 07:00 GMT


@dataclass
class Page:
    """What one path answers."""

    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    validators: bool = True  # ETag and Last-Modified, and 304 when the client has them
    encoding: str = ""  # "gzip", or "gzip, gzip": the body is compressed that many times
    compressed: bool = False  # the body is already encoded as `encoding` says (a bomb)
    drip_headers: float = 0.0  # seconds between two bytes of the headers
    drip_body: float = 0.0  # seconds between two bytes of the body
    hang: bool = False  # accept, read the request, never answer

    @property
    def etag(self) -> str:
        return f'"{hash(self.body) & 0xFFFFFFFF:08x}"'


def redirect(status: int, location: str) -> Page:
    """A redirect to `location`."""
    return Page(status=status, headers={"Location": location}, validators=False)


def feed(body: str | bytes, **options: object) -> Page:
    """A feed document."""
    data = body.encode() if isinstance(body, str) else body
    return Page(body=data, **options)  # type: ignore[arg-type]


def page(body: str | bytes, **options: object) -> Page:
    """A web page."""
    data = body.encode() if isinstance(body, str) else body
    return Page(body=data, content_type="text/html; charset=utf-8", **options)  # type: ignore[arg-type]


def bomb(decoded: int, layers: int = 1) -> Page:
    """A gzip body that decodes to `decoded` bytes of '<' (built in chunks): one layer of
    gzip, or `layers` stacked, as `Content-Encoding: gzip, gzip` says."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip container
    chunk = b"<" * 1_000_000
    body = b"".join(packer.compress(chunk) for _ in range(decoded // len(chunk)))
    body += packer.flush()
    for _ in range(layers - 1):
        body = gzip.compress(body, 9)
    return Page(body=body, encoding=", ".join(["gzip"] * layers), compressed=True,
                validators=False)  # fmt: skip


@dataclass(frozen=True)
class Request:
    """A request as the site saw it."""

    host: str
    path: str
    headers: dict[str, str]
    at: float  # time.monotonic() when it came


class FeedSite:
    """Serves `pages` (path → `Page`) on each of `hosts`, one port for all (`host_pages` for
    what one host serves otherwise); records every request. `start()` then `url(path)`;
    `stop()` at the end."""

    def __init__(self, hosts: tuple[str, ...] = ("127.0.0.1",)) -> None:
        self.hosts = hosts
        self.pages: dict[str, Page] = {}
        self.host_pages: dict[str, dict[str, Page]] = {}  # what one host serves instead
        self.requests: list[Request] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._servers: list[asyncio.Server] = []
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="feedsite")  # fmt: skip

    def url(self, path: str, host: str | None = None) -> str:
        return f"http://{host or self.hosts[0]}:{self.port}{path}"

    def hits(self, path: str) -> list[Request]:
        """The requests made for `path`."""
        return [r for r in self.requests if r.path == path]

    def start(self) -> FeedSite:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)
        return self

    def stop(self) -> None:
        async def close() -> None:
            for server in self._servers:
                server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _listen(self) -> None:
        for host in self.hosts:
            server = await asyncio.start_server(self._serve, host, self.port, backlog=1024)
            self.port = self.port or server.sockets[0].getsockname()[1]
            self._servers.append(server)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            _, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name:
                    headers[name.strip().lower()] = value.strip()
            host = writer.get_extra_info("sockname")[0]
            self.requests.append(Request(host, path, headers, time.monotonic()))
            found = self.host_pages.get(host, {}).get(path) or self.pages.get(path)
            await self._answer(found, headers, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        except asyncio.CancelledError:  # the site stops
            pass
        finally:
            writer.close()

    async def _answer(self, found: Page | None, asked: dict[str, str],
                      writer: asyncio.StreamWriter) -> None:  # fmt: skip
        if found is None:
            found = Page(status=404, body=b"not here", content_type="text/plain",
                         validators=False)  # fmt: skip
        if found.hang:
            await asyncio.sleep(3600)
            return
        status, body = found.status, found.body
        headers = {"Content-Type": found.content_type, **found.headers}
        if found.validators:
            headers |= {"ETag": found.etag, "Last-Modified": LAST_MODIFIED}
            if asked.get("if-none-match") == found.etag or (
                "if-none-match" not in asked and asked.get("if-modified-since") == LAST_MODIFIED
            ):
                status, body = 304, b""
        if found.encoding and status == 200:
            for _ in found.encoding.split(",") if not found.compressed else ():
                body = gzip.compress(body, 9)
            headers["Content-Encoding"] = found.encoding
        headers |= {"Content-Length": str(len(body)), "Connection": "close"}
        reason = REASONS.get(status, "Whatever")
        lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers.items())]
        top = "\r\n".join(lines) + "\r\n\r\n"
        await _send(writer, top.encode("latin-1"), found.drip_headers)
        if status not in (204, 304):
            await _send(writer, body, found.drip_body)


async def _send(writer: asyncio.StreamWriter, data: bytes, drip: float) -> None:
    if not drip:
        writer.write(data)
        await writer.drain()
        return
    for i in range(len(data)):
        writer.write(data[i : i + 1])
        await writer.drain()
        await asyncio.sleep(drip)
