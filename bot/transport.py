"""The Bot API transport: a python-telegram-bot request class on aiohttp.

httpx (PTB's default transport) spends about 3 ms of CPU per request when dozens are in
flight; aiohttp's client does the same work in a fraction of that. The sender's many small
JSON calls need it to reach Telegram's 1,000 messages/s broadcast rate on two cores, and
the bot's own replies, getUpdates and uploads (charts, OPML files) go through it too: a
search answer's reply cost about a fifth of the bot's CPU through httpx.

What PTB's httpx transport does, this one does: the timeouts a call is given (or the
defaults: 5 s to connect, read and write, 1 s for a free connection, 20 s to write a
file), the proxies the environment names (`HTTPS_PROXY`, `NO_PROXY`), one TLS context, and
PTB's errors (`TimedOut`, `NetworkError`); Telegram's answer, whatever its status, goes
back to PTB, which reads it (`RetryAfter`, `Forbidden`, `BadRequest`…).
"""

from __future__ import annotations

import asyncio
import functools
import json
import ssl
from typing import Any

import aiohttp
import httpx
from aiohttp.helpers import get_env_proxy_for_url
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

CONNECT, READ, WRITE, POOL = 5.0, 5.0, 5.0, 1.0  # seconds, as PTB's httpx transport
MEDIA_WRITE = 20.0  # seconds to write a request that uploads a file


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context (httpx's default: certifi's authorities) for every client of the Bot
    API: each client loading the bundle again costs about 40 ms of CPU."""
    return httpx.create_ssl_context()


class AiohttpRequest(BaseRequest):
    """Requests over one pooled aiohttp session (`connections` at once)."""

    def __init__(self, connections: int = 32, read_timeout: float | None = READ) -> None:
        self._connections = connections
        self._read_timeout = read_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, tuple[URL | None, aiohttp.BasicAuth | None]] = {}

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (PTB adds getUpdates' long-polling time to it)."""
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections, ssl=tls_context()),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        # taken before closing: the sender's Bot holds this transport twice (calls and
        # updates) and shuts both down at once
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None:
            raise RuntimeError("AiohttpRequest is not initialised")
        files = request_data is not None and request_data.contains_files
        timeout = _timeout(
            _given(read_timeout, self._read_timeout),
            _given(write_timeout, MEDIA_WRITE if files else WRITE),
            _given(connect_timeout, CONNECT),
            _given(pool_timeout, POOL),
        )
        body: Any = None
        headers = {}
        if request_data is not None and files:
            body = _form(request_data)
        elif request_data is not None:  # JSON, objects nested as objects (not as strings)
            body = json.dumps(request_data.parameters).encode()
            headers["Content-Type"] = "application/json"
        try:
            proxy, proxy_auth = self._proxy(url)
            async with self._session.request(method, url, data=body, headers=headers,
                                             timeout=timeout, proxy=proxy,
                                             proxy_auth=proxy_auth) as response:  # fmt: skip
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut("timed out") from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
        except asyncio.CancelledError:
            raise

    def _proxy(self, url: str) -> tuple[URL | None, aiohttp.BasicAuth | None]:
        """The proxy the environment names for this URL's server (`HTTPS_PROXY`,
        `NO_PROXY`…), read once per server: aiohttp's `trust_env` reads the environment and
        ~/.netrc at every request (half a millisecond of CPU each)."""
        end = url.find("/", url.find("//") + 2)
        server = url if end == -1 else url[:end]
        found = self._proxies.get(server)
        if found is None:
            try:
                found = get_env_proxy_for_url(URL(server))
            except LookupError:  # none, or the server is in NO_PROXY
                found = (None, None)
            self._proxies[server] = found
        return found


def _given(value: object, default: float | None) -> float | None:
    """A timeout PTB passed (a number, or None: no limit), else the default."""
    if isinstance(value, int | float) or value is None:
        return value
    return default  # PTB's DEFAULT_NONE: the call named no timeout


def _timeout(
    read: float | None, write: float | None, connect: float | None, pool: float | None
) -> aiohttp.ClientTimeout:
    """aiohttp's timeouts for PTB's four: waiting for a connection and connecting
    (`connect`), each read (`sock_read`); aiohttp has no write timeout, so the whole request
    is bounded by the four together (none if any of them is unbounded)."""
    parts = (read, write, connect, pool)
    total = None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
    wait = None if connect is None or pool is None else connect + pool
    return aiohttp.ClientTimeout(total=total, connect=wait, sock_connect=connect,
                                 sock_read=read)  # fmt: skip


def _form(request_data: RequestData) -> aiohttp.FormData:
    """A multipart body: the parameters as fields (as PTB encodes them), the files as parts."""
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, part in request_data.multipart_data.items():
        filename, content, *mime = part
        kind = mime[0] if mime and mime[0] else "application/octet-stream"
        form.add_field(name, content, filename=filename, content_type=kind)
    return form
