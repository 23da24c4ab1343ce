"""Running the application: start and stop it (polling or webhook, the HTTP server), wait
for Telegram at start-up, and serve until told to stop."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys

from telegram import Bot, Update
from telegram.error import InvalidToken, NetworkError, TimedOut
from telegram.ext import Application

from bot.app import build_application
from bot.config import Settings
from bot.handlers.common import BotData
from bot.logs import redact
from bot.web import WebServer

log = logging.getLogger("bot.app")


async def start_app(app: Application, *, poll_timeout: float = 10.0) -> None:  # type: ignore[type-arg]
    """Initialise and start the application, then receive updates: long polling, or the
    webhook (registered with Telegram, secret token included) when `WEBHOOK_URL` is set;
    the HTTP server (webhook, `/healthz`) when either is configured."""
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    data: BotData = app.bot_data
    settings, _ = data.ready
    if settings.serves_http:
        data.web = WebServer(app)
        await data.web.start()
    if settings.webhook_url:
        await app.bot.set_webhook(settings.webhook_url, secret_token=settings.webhook_secret,
                                  allowed_updates=Update.ALL_TYPES)  # fmt: skip
        return
    assert app.updater is not None
    await app.updater.start_polling(
        poll_interval=0.0, timeout=int(poll_timeout), allowed_updates=Update.ALL_TYPES
    )


async def stop_app(app: Application) -> None:  # type: ignore[type-arg]
    """Undo `start_app` (a webhook stays registered: Telegram keeps the updates meanwhile)."""
    data: BotData = app.bot_data
    if data.web is not None:
        await data.web.stop()
        data.web = None
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)


async def wait_for_telegram(settings: Settings, *, first: float = 1.0, cap: float = 60.0) -> None:
    """Until Telegram answers `getMe`: each failed attempt is one warning line, and the next
    waits twice as long (up to `cap`). A token Telegram refuses is not retried."""
    delay = first
    attempt = 1
    while True:
        bot = Bot(settings.telegram_bot_token or "", base_url=settings.telegram_api_base_url)
        try:
            async with bot:
                return
        except InvalidToken:
            raise
        except (NetworkError, TimedOut) as exc:
            reason = redact(str(exc), [settings.telegram_bot_token])
            log.warning("Telegram not reachable (attempt %d: %s); retrying in %g s",
                        attempt, reason, delay)  # fmt: skip
        await asyncio.sleep(delay)
        delay, attempt = min(delay * 2, cap), attempt + 1


SWITCH_INTERVAL = 0.001  # seconds a thread running Python may keep the GIL from the others


def settle_after_start() -> None:
    """Move every object alive after start-up (modules, catalogues, the analyzer, the
    application) out of the garbage collector's sight: its full collections then scan only
    what updates create, instead of pausing some searches for ~10 ms to walk them all.
    And let the event loop's thread take the GIL back within a millisecond (not Python's
    5 ms) from a worker thread busy in Python — the tick queueing for 10,000 chats, a poll
    parsing a bulletin —: each answer waits for the GIL several times."""
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(SWITCH_INTERVAL)


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Wait for Telegram, then run until `stop` is set (by SIGINT or SIGTERM when not given)."""
    await wait_for_telegram(settings)
    app = build_application(settings)
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    await start_app(app)
    settle_after_start()
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await stop_app(app)


def run_bot(settings: Settings) -> None:
    """Run the bot (long polling or webhook) until interrupted."""
    asyncio.run(serve(settings))
