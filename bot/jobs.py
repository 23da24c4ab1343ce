"""The application's jobs: the poll of the inbox and feeds, the minute tick, the alert
report, and the outbox sender's start and stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram.error import TelegramError
from telegram.ext import Application

from bot.alerts import ALERT_MINUTES
from bot.delivery.schedule import queue_what_is_due
from bot.delivery.worker import make_sender, sender_bot
from bot.handlers.common import BotData, Context
from bot.ingest import Report, poll_sources

log = logging.getLogger("bot.app")

__all__ = [
    "ALERT_MINUTES", "alert_job", "poll", "poll_job", "start_sender", "stop_sender", "tick_job",
]  # fmt: skip


async def poll(data: BotData, *, force: bool = False) -> Report:
    """Ingest the inbox and the feeds: read, fetched and parsed on a worker thread, stored
    by the writer. One poll at a time (the job, or an admin's "poll now")."""
    settings, store = data.ready
    async with data.polling:
        report = await asyncio.to_thread(poll_sources, store.blocking_write, settings,
                                         force=force, now=data.clock())  # fmt: skip
    data.last_poll_at = data.clock()
    return report


async def poll_job(context: Context) -> None:
    """Every few minutes: the inbox and the feeds that are due."""
    report = await poll(context.bot_data)
    log.info("poll: %s", report.summary())


async def alert_job(context: Context) -> None:
    """Every few minutes: what went wrong since the last report, to ALERT_CHAT_ID."""
    settings, _ = context.bot_data.ready
    collector = context.bot_data.alerts
    if settings.alert_chat_id is None or collector is None:
        return
    for part in collector.report(settings.default_language):
        try:
            await context.bot.send_message(settings.alert_chat_id, part)
        except TelegramError as exc:  # logged below WARNING: it must not feed itself
            log.info("could not send the alert report: %s", exc)
            return


async def tick_job(context: Context) -> None:
    """Every minute: queue due digests and new-bulletin pushes, wake the sender."""
    settings, store = context.bot_data.ready
    queued = await store.write(
        queue_what_is_due, settings, context.bot_data.analyzer, context.bot_data.clock()
    )
    if queued:
        log.info("tick: %d messages queued", queued)
    context.bot_data.wake_sender()


async def start_sender(app: Application) -> None:  # type: ignore[type-arg]
    """The outbox sender, on its own Bot (no rate limiter: it paces itself)."""
    data: BotData = app.bot_data
    settings, store = data.ready
    bot = sender_bot(settings)
    await bot.initialize()
    data.sender = make_sender(store, bot, settings, now=lambda: data.clock(),
                              bot_username=app.bot.username)  # fmt: skip
    data.sender_task = asyncio.create_task(data.sender.run(), name="outbox-sender")


async def stop_sender(data: BotData) -> None:
    """Cancel the sender, write what it knows, close its Bot."""
    if data.sender_task is not None:
        data.sender_task.cancel()
        try:
            await data.sender_task
        except asyncio.CancelledError:
            pass
        except Exception:  # it ended before (recovery failed): shutting down goes on
            log.exception("sender: ended with an error")
        data.sender_task = None
    if data.sender is not None:
        await data.sender.flush()
        with contextlib.suppress(Exception):  # the store may be closed: the lease then runs out
            await data.sender.release()
        await data.sender.bot.shutdown()
        data.sender = None
