"""The bot's HTTP side: Telegram's webhook (when `WEBHOOK_URL` is set) and `/healthz`.

python-telegram-bot's own webhook server (`run_webhook`) serves the bot's path and nothing
else, so Hebdo follows the library's pattern for a custom server instead: an aiohttp
server puts each update Telegram posts into `Application.update_queue`, and serves the
health check beside it. The same server runs in polling mode when `HTTP_PORT` is set, for
`/healthz` alone.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update

from storage.db import reachable
from storage.store import Store

if TYPE_CHECKING:
    from telegram.ext import Application

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_TIMEOUT = 5.0  # seconds the database may take to answer the health check


async def _database_problem(store: Store) -> str | None:
    """None if the database answers a read within a few seconds, else what went wrong."""
    try:
        return await asyncio.wait_for(store.read(reachable), HEALTH_TIMEOUT)
    except TimeoutError:
        return f"no answer within {HEALTH_TIMEOUT:g} s"
    except Exception as exc:  # closed, or a thread pool that is gone: the check fails
        return str(exc) or type(exc).__name__


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment is not None else None


class WebServer:
    """Serves `/healthz` and, in webhook mode, the webhook path, for one Application."""

    def __init__(self, app: Application) -> None:  # type: ignore[type-arg]
        settings, _ = app.bot_data.ready
        self.app = app
        self.listen = settings.http_listen
        self.port = settings.http_port or 0
        self.secret = (settings.webhook_secret or "").encode()
        self.path = (urlsplit(settings.webhook_url).path or "/") if settings.webhook_url else None
        self.refused = 0
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen; `port` is the real one afterwards (a free one if it was 0)."""
        server = web.Application(client_max_size=2 * 1024 * 1024)
        server.router.add_get("/healthz", self.healthz)
        if self.path is not None:
            server.router.add_post(self.path, self.webhook)
        self._runner = web.AppRunner(server, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.listen, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        log.info("HTTP on %s:%d: /healthz%s", self.listen, self.port,
                 f" and the webhook at {self.path}" if self.path else "")  # fmt: skip

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def webhook(self, request: web.Request) -> web.Response:
        """An update from Telegram: refused (403) unless it carries the secret token."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            self.refused += 1
            log.warning("webhook: a request without the right secret was refused (%s)",
                        request.remote)  # fmt: skip
            return web.Response(status=403, text="forbidden")
        try:
            payload = await request.json()
            update = Update.de_json(payload, self.app.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            return web.Response(status=400, text="not an update")
        await self.app.update_queue.put(update)
        return web.Response(text="ok")

    async def healthz(self, request: web.Request) -> web.Response:
        """200 and a JSON report while the database answers and the bot runs, else 503."""
        data = self.app.bot_data
        settings = data.settings
        problem = "not initialised" if data.store is None else await _database_problem(data.store)
        running = bool(self.app.running)
        report: dict[str, Any] = {
            "status": "ok" if problem is None and running else "failing",
            "mode": settings.mode if settings is not None else None,
            "database": problem or "ok",
            "running": running,
            "last_update": _iso(data.last_update_at),
            "last_feed_poll": _iso(data.last_poll_at),
            "last_send": _iso(data.sender.last_sent_at if data.sender is not None else None),
        }
        status = 200 if report["status"] == "ok" else 503
        return web.Response(status=status, text=json.dumps(report),
                            content_type="application/json")  # fmt: skip
