"""HTTP as a feed reader must speak it: one deadline for the whole exchange, redirects by
hand (never to a private address), content decoded by a bounded decompressor, and a gate
that keeps requests few at a time, one per host and spaced out.

Everything here is asyncio: a poll runs its own event loop on a worker thread, so a slow
server holds only its own request (cancelled at its deadline, headers included)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

USER_AGENT = "Hebdo/0.2 (+news digest bot)"
ACCEPT_ENCODING = "gzip, deflate"  # what the bounded decoder reads, and nothing else
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT = frozenset({301, 308})
MAX_REDIRECTS = 5
MAX_RETRY_AFTER = timedelta(days=7)


class FeedRefused(ValueError):
    """An answer we will not read: too large, too slow, an encoding we do not decode, too
    many redirects, or a redirect to a private address."""


class NotAFeed(FeedRefused):
    """The address answers, but with no feed: a page that announces none, a document no
    parser reads as a feed, or a client error (404, 401…) that waiting will not mend."""


@dataclass(frozen=True)
class Answer:
    """What a server answered, after redirects."""

    status: int
    url: str  # where the answer came from
    headers: dict[str, str]  # lower-case names
    body: bytes  # decoded; empty unless the status is 2xx
    moved_to: str | None = None  # the address a chain of permanent redirects leads to
    seconds: float = 0.0  # the exchange's duration, redirects included

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return 200 <= self.status < 300


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """A `Retry-After` header (seconds, or an HTTP date) as a delay, at most a week; None
    when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit() and len(value) <= 9:
        return min(timedelta(seconds=int(value)), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(when - now, timedelta(0)), MAX_RETRY_AFTER)


class Gate:
    """At most `concurrency` requests at once, `per_host` at a time to one host, and
    `spacing` seconds between the end of one request to a host and the start of the next.
    A request keeps its place through its redirects: it never queues again behind others."""

    def __init__(self, concurrency: int = 16, *, per_host: int = 1, spacing: float = 1.0) -> None:
        self.spacing = spacing
        self.per_host = per_host
        self.requests = asyncio.Semaphore(concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._last: dict[str, float] = {}

    @asynccontextmanager
    async def turn(self, host: str, *, spaced: bool = True) -> AsyncIterator[None]:
        """Wait for this host's turn (and, when `spaced`, its spacing)."""
        host = host.lower()
        turn = self._hosts.setdefault(host, asyncio.Semaphore(self.per_host))
        async with turn:
            wait = self._last.get(host, float("-inf")) + self.spacing - time.monotonic()
            if wait > 0 and spaced:
                await asyncio.sleep(wait)
            try:
                yield
            finally:
                self._last[host] = time.monotonic()


async def is_private(host: str) -> bool:
    """The host is (or resolves to) a loopback, link-local, private or reserved address."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False  # unresolvable: the request itself will fail
    addresses = {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos}
    return any(a.is_loopback or a.is_link_local or a.is_private or a.is_reserved
               or a.is_unspecified or a.is_multicast for a in addresses)  # fmt: skip


def _server(url: httpx.URL) -> tuple[str, int | None]:
    return url.host, url.port or (443 if url.scheme == "https" else 80)


async def _check_target(target: httpx.URL, home: httpx.URL, home_private: bool) -> None:
    """Refuse anything but http(s), and a private address unless `home` (the configured
    feed) is itself on one and the target is the same host and port."""
    if target.scheme not in ("http", "https") or not target.host:
        raise FeedRefused(f"not an http(s) address: {str(target)[:100]}")
    same_server = _server(target) == _server(home)
    if await is_private(target.host) and not (home_private and same_server):
        raise FeedRefused(f"a private address ({target.host}:{target.port or ''}): refused")


async def fetch(
    client: httpx.AsyncClient,
    gate: Gate,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    max_bytes: int,
    timeout: float,
    home: str | None = None,
) -> Answer:
    """GET `url`, its redirects followed by hand (301/302/303/307/308 with a `Location`,
    at most 5), within one deadline of `timeout` seconds for everything: connecting, the
    headers, the body, every redirect. The body is read only for a 2xx answer, decoded by a
    bounded decompressor and refused beyond `max_bytes`, raw or decoded. A private address
    is refused, except on the server of `home` (the configured feed's address, by default
    `url`) when that is itself private: a feed on your own network may use its own server,
    never another service. Raises `FeedRefused` or `httpx.HTTPError`."""
    home_url = httpx.URL(home or url)
    home_private = await is_private(home_url.host) if home_url.host else False
    start = time.monotonic()
    deadline: float | None = None
    moved: str | None = None
    permanent = True  # every redirect so far was permanent
    try:
        for _ in range(MAX_REDIRECTS + 1):
            target = httpx.URL(url)
            await _check_target(target, home_url, home_private)
            async with gate.turn(target.host, spaced=deadline is None):
                if deadline is None:  # the clock starts with the first request, not the queue
                    await gate.requests.acquire()  # held through the redirects
                    deadline = asyncio.get_running_loop().time() + timeout
                    start = time.monotonic()
                try:
                    async with asyncio.timeout_at(deadline):
                        status, answer, body = await _exchange(client, url, headers or {},
                                                               max_bytes)  # fmt: skip
                except TimeoutError:
                    raise FeedRefused(
                        f"timed out (no complete answer within {timeout:g} s)"
                    ) from None
            location = answer.get("location")
            if status in REDIRECTS and location:
                try:
                    url = str(target.join(location))
                except httpx.InvalidURL:
                    raise FeedRefused(f"redirect to an invalid address: {location[:100]}") from None
                permanent = permanent and status in PERMANENT
                moved = url if permanent else moved
                continue
            return Answer(status, str(target), answer, body, moved, time.monotonic() - start)
        raise FeedRefused(f"more than {MAX_REDIRECTS} redirects")
    finally:
        if deadline is not None:
            gate.requests.release()


async def _exchange(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], max_bytes: int
) -> tuple[int, dict[str, str], bytes]:
    """One request: status, headers, and (for a 2xx) the decoded body."""
    request_headers = {"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING, **headers}
    async with client.stream("GET", url, headers=request_headers) as response:
        answer = {k.lower(): v for k, v in response.headers.items()}
        if not 200 <= response.status_code < 300:
            return response.status_code, answer, b""
        declared = answer.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise FeedRefused(_too_large(max_bytes))
        decoder = Decoder(answer.get("content-encoding", ""), max_bytes)
        received = 0
        async for raw in response.aiter_raw():
            received += len(raw)
            if received > max_bytes:
                raise FeedRefused(_too_large(max_bytes))
            decoder.feed(raw)
        return response.status_code, answer, decoder.finish()


def _too_large(max_bytes: int) -> str:
    return f"too large (over {max_bytes:,} bytes)"


class Decoder:
    """The body as sent (`identity`), or inflated from one layer of `gzip` or `deflate`,
    never more than `max_bytes` out: zlib is asked for at most the room left, so a bomb
    stops at the cap whatever its ratio. Stacked or unknown encodings are refused."""

    def __init__(self, encoding: str, max_bytes: int) -> None:
        layers = [e.strip().lower() for e in encoding.split(",") if e.strip()]
        layers = [e for e in layers if e != "identity"]
        if len(layers) > 1:
            raise FeedRefused(f"stacked content encodings refused: {encoding[:60]}")
        self.kind = layers[0] if layers else ""
        if self.kind not in ("", "gzip", "x-gzip", "deflate"):
            raise FeedRefused(f"unknown content encoding refused: {self.kind[:40]}")
        self.max_bytes = max_bytes
        self.out = bytearray()
        self._wbits = 31 if self.kind in ("gzip", "x-gzip") else 15
        self._inflate = zlib.decompressobj(self._wbits) if self.kind else None
        self._started = False

    def feed(self, data: bytes) -> None:
        """Decode one chunk as it arrives."""
        if self._inflate is None:
            self._append(data)
            return
        try:
            self._feed(data)
        except zlib.error as exc:
            if self.kind == "deflate" and not self._started and self._wbits == 15:
                self._wbits = -15  # a raw deflate stream, as some servers send it
                self._inflate = zlib.decompressobj(-15)
                self.feed(data)
                return
            raise FeedRefused(f"corrupt {self.kind} body: {exc}") from None

    def _feed(self, data: bytes) -> None:
        assert self._inflate is not None
        while data:
            room = self.max_bytes - len(self.out) + 1  # one byte over tells it is too large
            self._append(self._inflate.decompress(data, room))
            self._started = True
            data = self._inflate.unconsumed_tail
            if self._inflate.eof:  # a second gzip member follows, or nothing
                data = self._inflate.unused_data + data
                if not data:
                    return
                self._inflate = zlib.decompressobj(self._wbits)

    def _append(self, data: bytes) -> None:
        self.out += data
        if len(self.out) > self.max_bytes:
            raise FeedRefused(_too_large(self.max_bytes))

    def finish(self) -> bytes:
        """The decoded body."""
        if self._inflate is not None:
            try:
                self._append(self._inflate.flush())
            except zlib.error as exc:
                raise FeedRefused(f"corrupt {self.kind} body: {exc}") from None
        return bytes(self.out)


def describe(exc: BaseException) -> str:
    """One line for the operator about a failed request."""
    if isinstance(exc, FeedRefused):
        return str(exc)[:300]
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError | socket.gaierror):
        return f"cannot connect: {exc}"[:300] if str(exc) else "cannot connect"
    if isinstance(exc, httpx.HTTPError):
        return f"{type(exc).__name__}: {exc}"[:300]
    return f"{type(exc).__name__}: {exc}"[:300]
