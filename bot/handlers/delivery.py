"""Admin delivery commands: /preview (this chat's edition now), /send_digest (each chat its
own edition, after a confirmation), /stats (subscribers, bulletins, digests and skips)."""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.delivery.schedule import due_now, queue_editions, unserved
from bot.digest import week_of
from bot.handlers.common import Context, admin_only, edit_or_reply, reply, user_id
from bot.handlers.reading import chat_edition
from bot.render import esc, render_digest
from storage.bulletins import count_bulletins
from storage.outbox import digest_send_rate, edition_counts, status_counts
from storage.people import audit, subscriber_stats

COMMANDS = [
    (
        "preview",
        {
            "fr": "le résumé que ce chat recevrait maintenant",
            "en": "the digest this chat would receive now",
            "uk": "дайджест, який цей чат отримав би зараз",
        },
        True,
    ),
    (
        "send_digest",
        {
            "fr": "envoyer à chacun son résumé maintenant (avec confirmation)",
            "en": "send everyone their digest now (asks first)",
            "uk": "надіслати дайджест зараз",
        },
        True,
    ),
    (
        "stats",
        {
            "fr": "abonnés, bulletins, envois",
            "en": "subscribers, bulletins, deliveries",
            "uk": "статистика",
        },
        True,
    ),
]


@admin_only
async def cmd_preview(update: Update, context: Context) -> None:
    """Exactly what this chat would receive if its digest were cut now; writes nothing."""
    settings, db = context.bot_data.ready
    edition = chat_edition(update, context)
    digest = edition.digest
    audit(db, user_id(update), "preview", week=digest.week, items=len(digest.items))
    if edition.empty and not settings.empty_digest_notice:
        await reply(update, context, "<i>Preview: nothing new for this chat since its last "
                    "digest, so nothing would be sent now (EMPTY_DIGEST_NOTICE is off).</i>")  # fmt: skip
        return
    await reply(update, context, f"<i>Preview: what this chat would receive now "
                f"({esc(digest.language)}, {digest.bulletin_count} bulletin(s)):</i>")  # fmt: skip
    for part in render_digest(digest, context.bot.username):
        await reply(update, context, part)


def _button_week(context: Context) -> str:
    settings, _ = context.bot_data.ready
    return week_of(context.bot_data.clock(), settings.tz)


@admin_only
async def cmd_send_digest(update: Update, context: Context) -> None:
    """Ask before sending each weekly subscriber without this week's digest its edition."""
    _, db = context.bot_data.ready
    waiting = unserved(db, due_now(db, context.bot_data.clock()))
    week = _button_week(context)
    if not waiting:
        await reply(update, context, f"Every weekly subscriber already has a digest this week ({week}).")  # fmt: skip
        return
    await reply(update, context, f"Send each of <b>{len(waiting)}</b> weekly subscriber(s) without "
                "a digest this week their own edition now? Chats with nothing new get nothing.",
                [[("📤 Send now", f"ad:send:{week}"), ("✖ Cancel", "ad:nosend")]])  # fmt: skip


@admin_only
async def on_send_digest(update: Update, context: Context) -> None:
    """Confirmed: cut and queue each chat's edition now, and wake the sender."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    if query.data == "ad:nosend":
        await edit_or_reply(update, context, "Nothing was sent.")
        return
    settings, db = context.bot_data.ready
    if _button_week(context) != query.data.split(":", 2)[2]:
        await edit_or_reply(update, context, "This button has expired: the week has changed.")
        return
    now = context.bot_data.clock()
    waiting = unserved(db, due_now(db, now))
    queued = queue_editions(db, waiting, now, send_empty=settings.empty_digest_notice,
                            per_bulletin=settings.summary_items)  # fmt: skip
    audit(db, user_id(update), "send_digest_queued", chats=queued, due=len(waiting))
    context.bot_data.wake_sender()
    nothing_new = len(waiting) - queued
    await edit_or_reply(update, context, f"📤 Queued {queued} digest(s); {nothing_new} chat(s) "
                        "had nothing new.")  # fmt: skip


def fmt(counts: dict[str, int]) -> str:
    """`sent 12, failed 1` (or `none`)."""
    return ", ".join(f"{esc(k)} {v}" for k, v in counts.items()) or "none"


@admin_only
async def cmd_stats(update: Update, context: Context) -> None:
    """Subscribers, bulletins this week, digests of the last 7 days and what was skipped."""
    settings, db = context.bot_data.ready
    now = context.bot_data.clock()
    since = (now - timedelta(days=7)).isoformat(timespec="seconds")
    stats = subscriber_stats(db)
    rate = digest_send_rate(db, since)
    text = (
        f"<b>Stats</b> ({week_of(now, settings.tz)})\n"
        f"Subscribers by language: {fmt(stats['by_language'])}\n"
        f"Subscribers by mode: {fmt(stats['by_mode'])}\n"
        f"Unreachable: {stats['inactive']}\n"
        f"Bulletins in the last 7 days: {count_bulletins(db, since=since)} "
        f"(all: {count_bulletins(db)})\n"
        f"Digests in the last 7 days: {fmt(edition_counts(db, since))}"
        + (f", {rate:.1f} messages/s" if rate else "")
        + f"\nDeliveries: {fmt(status_counts(db))}"
    )
    await reply(update, context, text)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add this feature's handlers."""
    app.add_handler(CommandHandler("preview", cmd_preview))
    app.add_handler(CommandHandler("send_digest", cmd_send_digest))
    app.add_handler(CommandHandler("stats", cmd_stats))
    app.add_handler(
        CallbackQueryHandler(on_send_digest, pattern=r"^ad:(send:\d{4}-W\d{2}|nosend)$")
    )
