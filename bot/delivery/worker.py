"""Delivery outside the bot process: `python -m bot send` queues what is due and drains it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from telegram import Bot

from bot.config import Settings
from bot.delivery.schedule import queue_what_is_due
from bot.delivery.sender import Sender
from bot.text.analyze import analyzer_for
from bot.transport import AiohttpRequest
from storage.store import Store


def clock_from(start: datetime) -> Callable[[], datetime]:
    """A clock that reads `start` now and runs on from it at the pace of real time."""
    origin = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - origin)


def sender_bot(settings: Settings) -> Bot:
    """The sender's own Bot: the aiohttp transport, no rate limiter (the sender paces). It
    never asks for updates: that slot gets the same transport, not an httpx client of its
    own that would load a CA bundle for nothing."""
    transport = AiohttpRequest(settings.send_concurrency)
    return Bot(
        settings.telegram_bot_token or "",
        base_url=settings.telegram_api_base_url,
        base_file_url=settings.telegram_file_base_url,
        request=transport,
        get_updates_request=transport,
    )


def make_sender(
    store: Store,
    bot: Bot,
    settings: Settings,
    *,
    now: Callable[[], datetime],
    bot_username: str | None,
    rate: float | None = None,
) -> Sender:
    """The outbox sender as the bot and `send` both run it."""
    return Sender(store, bot, rate=rate or settings.send_rate,
                  concurrency=settings.send_concurrency, bot_username=bot_username,
                  now=now)  # fmt: skip


async def send_pending(
    settings: Settings, *, rate: float | None = None, now: datetime | None = None
) -> tuple[dict[str, int], tuple[str, str] | None]:
    """Queue what is due, then send until nothing is due; return outcome counts, and who
    held the outbox if another sender did (this run then sent nothing).

    `now` (default: the wall clock) is the moment the run acts at; the sender's clock
    starts there, so a run can be replayed (and tested) at any date."""
    clock = clock_from(now or datetime.now(UTC))
    store = Store(settings.database_path)
    try:
        analyzer = analyzer_for(settings.variants_file)
        await store.write(queue_what_is_due, settings, analyzer, clock())
        async with sender_bot(settings) as bot:
            sender = make_sender(store, bot, settings, now=clock, bot_username=bot.username,
                                 rate=rate)  # fmt: skip
            await sender.recover()
            try:
                await sender.drain_once()
            finally:
                await sender.release()
    finally:
        store.close()
    return sender.stats, sender.held_by
