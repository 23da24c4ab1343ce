"""Delivery outside the bot process: `python -m bot send` queues what is due and drains it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database
from telegram import Bot

from bot.config import Settings
from bot.delivery.schedule import announce_new_bulletins, queue_due_digests
from bot.delivery.sender import Sender
from bot.delivery.transport import AiohttpRequest
from bot.text.analyze import analyzer_for

CONCURRENCY = 32


def clock_from(start: datetime) -> Callable[[], datetime]:
    """A clock that reads `start` now and runs on from it at the pace of real time."""
    origin = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - origin)


async def send_pending(
    db: Database, settings: Settings, *, rate: float | None = None, now: datetime | None = None
) -> dict[str, int]:
    """Queue due digests and pushes, then send until nothing is due; return outcome counts.

    `now` (default: the wall clock) is the moment the run acts at; the sender's clock
    starts there, so a run can be replayed (and tested) at any date."""
    clock = clock_from(now or datetime.now(UTC))
    now = clock()
    queue_due_digests(db, now, timedelta(hours=settings.catch_up_hours),
                      send_empty=settings.empty_digest_notice,
                      per_bulletin=settings.summary_items)  # fmt: skip
    announce_new_bulletins(db, analyzer_for(settings.variants_file), now)
    bot = Bot(
        settings.telegram_bot_token or "",
        base_url=settings.telegram_api_base_url,
        base_file_url=settings.telegram_file_base_url,
        request=AiohttpRequest(CONCURRENCY),
    )
    async with bot:
        sender = Sender(db, bot, rate=rate or settings.send_rate, concurrency=CONCURRENCY,
                        bot_username=bot.username, now=clock)  # fmt: skip
        sender.recover()
        await sender.drain_once()
    return sender.stats
