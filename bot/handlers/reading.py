"""Reading: /latest, /digest, a bulletin opened from a link, a paragraph opened from a button."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.digest import Digest, build_digest, store_digest, week_of
from bot.handlers.common import IN_CHANNELS, Context, chat_language, reply
from bot.i18n import Html, t
from bot.render import esc, render_digest, shorten
from storage.bulletins import get_bulletin, get_item, latest_bulletin_id

COMMANDS = [
    (
        "latest",
        {
            "fr": "le dernier bulletin en bref",
            "en": "the latest bulletin in brief",
            "uk": "останній бюлетень коротко",
        },
        False,
    ),
    (
        "digest",
        {"fr": "le résumé de la semaine", "en": "this week’s digest", "uk": "дайджест тижня"},
        False,
    ),
]


async def show_bulletin(update: Update, context: Context, bulletin_id: int) -> None:
    """A bulletin's headline items, each with a button to read its paragraph."""
    _, db = context.bot_data.ready
    language = chat_language(update, context)
    detail = get_bulletin(db, bulletin_id)
    if detail is None or detail.bulletin.deleted_at:
        await reply(update, context, t(language, "no_bulletin"))
        return
    picks = detail.headlines
    lines = [f"{n}. {esc(shorten(i.text))}" for n, i in enumerate(picks, start=1)]
    text = t(
        language,
        "latest",
        title=detail.bulletin.title,
        date=detail.bulletin.published_at[:10],
        items=Html("\n\n".join(lines)),
    )
    buttons = [(t(language, "btn_read", n=n), f"rd:{i.id}") for n, i in enumerate(picks, start=1)]
    await reply(update, context, text, [buttons[k : k + 4] for k in range(0, len(buttons), 4)])


async def cmd_latest(update: Update, context: Context) -> None:
    """The newest bulletin's headline items."""
    _, db = context.bot_data.ready
    newest = latest_bulletin_id(db)
    if newest is None:
        await reply(update, context, t(chat_language(update, context), "no_bulletin"))
        return
    await show_bulletin(update, context, newest)


def current_digest(context: Context, language: str) -> Digest:
    """This week's digest; if the week is empty, the latest week that has bulletins."""
    settings, db = context.bot_data.ready
    digest = build_digest(db, week_of(datetime.now(UTC), settings.tz), language, settings.tz)
    if not digest.items:
        newest = latest_bulletin_id(db)
        detail = get_bulletin(db, newest) if newest else None
        if detail is not None:
            week = week_of(datetime.fromisoformat(detail.bulletin.published_at), settings.tz)
            digest = build_digest(db, week, language, settings.tz)
    store_digest(db, digest)
    return digest


async def cmd_digest(update: Update, context: Context) -> None:
    """This week's digest, now."""
    language = chat_language(update, context)
    digest = current_digest(context, language)
    for part in render_digest(digest, context.bot.username):
        await reply(update, context, part)


async def on_read(update: Update, context: Context) -> None:
    """The whole paragraph an item comes from."""
    query = update.callback_query
    assert query is not None and query.data is not None
    _, db = context.bot_data.ready
    found = get_item(db, int(query.data.split(":")[1]))
    if found is None:
        await query.answer(t(chat_language(update, context), "expired"))
        return
    _item, paragraph, title = found
    await query.answer()
    await reply(update, context, f"<i>{esc(title)}</i>\n\n{esc(paragraph)}")


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add this feature's handlers."""
    app.add_handler(CommandHandler("latest", cmd_latest, filters=IN_CHANNELS))
    app.add_handler(CommandHandler("digest", cmd_digest, filters=IN_CHANNELS))
    app.add_handler(CallbackQueryHandler(on_read, pattern=r"^rd:\d{1,12}$"))
