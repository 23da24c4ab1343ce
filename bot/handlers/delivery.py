"""Admin delivery commands: /preview (this chat's edition now), /send_digest (each chat its
own edition, after a confirmation), /stats (subscribers, bulletins, digests and skips)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.delivery.schedule import Due, due_now, queue_editions, unserved
from bot.digest import week_of
from bot.handlers.common import (
    Command,
    Context,
    admin_only,
    chat_language,
    edit_or_reply,
    record,
    reply,
    tr,
)
from bot.handlers.reading import chat_edition
from bot.i18n import CATALOGUES, Html, t
from bot.languages import FALLBACK
from bot.render import esc, render_digest
from storage.bulletins import count_bulletins
from storage.outbox import digest_send_rate, edition_counts, status_counts
from storage.people import subscriber_stats

COMMANDS = [
    Command(
        "preview",
        {
            "fr": "le résumé que ce chat recevrait maintenant",
            "en": "the digest this chat would receive now",
            "uk": "дайджест, який цей чат отримав би зараз",
        },
        admin=True,
    ),
    Command(
        "send_digest",
        {
            "fr": "envoyer à chacun son résumé maintenant (avec confirmation)",
            "en": "send everyone their digest now (asks first)",
            "uk": "надіслати дайджест зараз",
        },
        admin=True,
    ),
    Command(
        "stats",
        {
            "fr": "abonnés, bulletins, envois",
            "en": "subscribers, bulletins, deliveries",
            "uk": "статистика",
        },
        admin=True,
    ),
]


@admin_only
async def cmd_preview(update: Update, context: Context) -> None:
    """Exactly what this chat would receive if its digest were cut now; writes nothing."""
    settings, _ = context.bot_data.ready
    edition = await chat_edition(update, context)
    digest = edition.digest
    await record(update, context, "preview", week=digest.week, items=len(digest.items))
    if edition.empty and not settings.empty_digest_notice:
        await reply(update, context, tr(update, context, "adm_preview_empty"))
        return
    await reply(update, context, tr(update, context, "adm_preview", language=digest.language,
                                    n=digest.bulletin_count))  # fmt: skip
    for part in render_digest(digest, context.bot.username):
        await reply(update, context, part)


def _waiting(db: Database, now: datetime) -> list[Due]:
    """Weekly subscribers without this week's digest yet (a slot that found nothing new
    gave them none)."""
    return unserved(db, due_now(db, now), skips=False)


def _queue_now(
    db: Database, now: datetime, send_empty: bool, per_bulletin: int | None, length: str
) -> tuple[int, int]:
    """Cut and queue the edition of each chat still waiting: (queued, waiting)."""
    waiting = _waiting(db, now)
    queued = queue_editions(db, waiting, now, send_empty=send_empty, per_bulletin=per_bulletin,
                            resend_skipped=True, length=length)  # fmt: skip
    return queued, len(waiting)


def _figures(db: Database, since: str) -> dict[str, Any]:
    """What /stats shows, read in one go (on a reader thread)."""
    return {
        "stats": subscriber_stats(db), "rate": digest_send_rate(db, since),
        "editions": edition_counts(db, since), "week": count_bulletins(db, since=since),
        "all": count_bulletins(db), "deliveries": status_counts(db),
    }  # fmt: skip


def _button_week(context: Context) -> str:
    settings, _ = context.bot_data.ready
    return week_of(context.bot_data.clock(), settings.tz)


@admin_only
async def cmd_send_digest(update: Update, context: Context) -> None:
    """Ask before sending each weekly subscriber without this week's digest its edition."""
    _, store = context.bot_data.ready
    waiting = await store.read(_waiting, context.bot_data.clock())
    week = _button_week(context)
    if not waiting:
        await reply(update, context, tr(update, context, "adm_send_none", week=week))
        return
    await reply(update, context, tr(update, context, "adm_send_ask", n=len(waiting)),
                [[(tr(update, context, "adm_btn_send_now"), f"ad:send:{week}"),
                  (tr(update, context, "adm_btn_cancel"), "ad:nosend")]])  # fmt: skip


@admin_only
async def on_send_digest(update: Update, context: Context) -> None:
    """Confirmed: cut and queue each chat's edition now, and wake the sender."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    if query.data == "ad:nosend":
        await edit_or_reply(update, context, tr(update, context, "adm_send_cancelled"))
        return
    settings, store = context.bot_data.ready
    if _button_week(context) != query.data.split(":", 2)[2]:
        await edit_or_reply(update, context, tr(update, context, "adm_send_week_changed"))
        return
    queued, due = await store.write(  # cutting editions: off the loop
        _queue_now, context.bot_data.clock(), settings.empty_digest_notice,
        settings.summary_items, settings.digest_length,
    )  # fmt: skip
    await record(update, context, "send_digest_queued", chats=queued, due=due)
    context.bot_data.wake_sender()
    nothing_new = due - queued
    await edit_or_reply(update, context, tr(update, context, "adm_send_queued", n=queued,
                                            empty=nothing_new))  # fmt: skip


def fmt(language: str, counts: dict[str, int]) -> str:
    """`sent 12, failed 1` (or `none`), the outcome words in `language`."""

    def word(key: str) -> str:
        name = "st_" + key.replace(" ", "_")
        return t(language, name) if name in CATALOGUES[FALLBACK] else esc(key)

    return ", ".join(f"{word(k)} {v}" for k, v in counts.items()) or t(language, "st_none")


@admin_only
async def cmd_stats(update: Update, context: Context) -> None:
    """Subscribers, bulletins this week, digests of the last 7 days and what was skipped."""
    settings, store = context.bot_data.ready
    now = context.bot_data.clock()
    since = (now - timedelta(days=7)).isoformat(timespec="seconds")
    figures = await store.read(_figures, since)
    stats, rate = figures["stats"], figures["rate"]
    language = chat_language(update, context)
    digests = fmt(language, figures["editions"])
    if rate:
        digests += t(language, "adm_stats_rate", rate=f"{rate:.1f}")
    text = t(
        language, "adm_stats", week=week_of(now, settings.tz),
        by_language=Html(fmt(language, stats["by_language"])),
        by_mode=Html(fmt(language, stats["by_mode"])), unreachable=stats["inactive"],
        week_bulletins=figures["week"], all_bulletins=figures["all"],
        digests=Html(digests), deliveries=Html(fmt(language, figures["deliveries"])),
    )  # fmt: skip
    await reply(update, context, text)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add this feature's handlers."""
    app.add_handler(CommandHandler("preview", cmd_preview))
    app.add_handler(CommandHandler("send_digest", cmd_send_digest))
    app.add_handler(CommandHandler("stats", cmd_stats))
    app.add_handler(
        CallbackQueryHandler(on_send_digest, pattern=r"^ad:(send:\d{4}-W\d{2}|nosend)$")
    )
