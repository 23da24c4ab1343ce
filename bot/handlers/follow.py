"""Keyword alerts: /follow, /following, /unfollow (delivery comes with the sender)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.handlers.common import (
    IN_CHANNELS,
    Command,
    Context,
    chat_language,
    chat_row,
    edit_or_reply,
    reader_id,
    refused,
    reply,
)
from bot.i18n import Html, t
from bot.render import esc
from bot.text.analyze import fold
from storage.people import MAX_FOLLOWS, add_follow, list_follows, remove_follow

MAX_TERM = 40
COMMANDS = [
    Command(
        "follow",
        {
            "fr": "alerte sur un mot : /follow otan",
            "en": "alert on a word: /follow nato",
            "uk": "сповіщення про слово",
        },
    ),
    Command(
        "following",
        {
            "fr": "mots suivis",
            "en": "words you follow",
            "uk": "ваші слова",
        },
    ),
    Command(
        "unfollow",
        {
            "fr": "ne plus suivre un mot",
            "en": "stop following a word",
            "uk": "не стежити за словом",
        },
    ),
]


def normalize(term: str) -> str:
    """The follow's identity: folded, single-spaced."""
    return " ".join(fold(term).split())


async def cmd_follow(update: Update, context: Context) -> None:
    """/follow word — store a keyword alert."""
    sub = await chat_row(update, context)
    term = " ".join(" ".join(context.args or []).split())[:MAX_TERM]
    if not term or not context.bot_data.analyzer.word_forms(term):
        await reply(update, context, t(sub.language, "follow_usage"))
        return
    if await refused(update, context):
        return
    _, store = context.bot_data.ready
    outcome = await store.write(add_follow, sub.chat_id, term, normalize(term))
    key = {"added": "followed", "exists": "already_followed", "limit": "follow_limit"}[outcome]
    await reply(update, context, t(sub.language, key, term=term, n=MAX_FOLLOWS))


async def cmd_following(update: Update, context: Context) -> None:
    """The chat's follows, each a button to stop following it (a read: writes nothing)."""
    chat = update.effective_chat
    assert chat is not None
    language = chat_language(update, context)
    _, store = context.bot_data.ready
    follows = await store.read(list_follows, await reader_id(update, context))
    if not follows:
        await edit_or_reply(update, context, t(language, "following_none"))
        return
    terms = Html("\n".join(f"• {esc(term)}" for _, term in follows))
    buttons = [[(f"✖ {term}", f"unf:{rowid}")] for rowid, term in follows]
    await edit_or_reply(update, context, t(language, "following", terms=terms), buttons)


async def cmd_unfollow(update: Update, context: Context) -> None:
    """/unfollow word."""
    sub = await chat_row(update, context)
    term = " ".join(context.args or []).strip()
    if not term:
        await reply(update, context, t(sub.language, "unfollow_usage"))
        return
    if await refused(update, context):
        return
    _, store = context.bot_data.ready
    removed = await store.write(remove_follow, sub.chat_id, normalized=normalize(term[:MAX_TERM]))
    key = "unfollowed" if removed else "not_followed"
    await reply(update, context, t(sub.language, key, term=removed or term[:MAX_TERM]))


async def on_unfollow(update: Update, context: Context) -> None:
    """✖ under /following."""
    query = update.callback_query
    assert query is not None and query.data is not None
    sub = await chat_row(update, context)
    if await refused(update, context):
        return
    _, store = context.bot_data.ready
    removed = await store.write(remove_follow, sub.chat_id, rowid=int(query.data.split(":")[1]))
    if removed is None:
        await query.answer(t(sub.language, "expired"))
        return
    await query.answer(
        t(sub.language, "unfollowed", term=removed).replace("<b>", "").replace("</b>", "")
    )
    await cmd_following(update, context)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add this feature's handlers."""
    app.add_handler(CommandHandler("follow", cmd_follow, filters=IN_CHANNELS))
    app.add_handler(CommandHandler("following", cmd_following, filters=IN_CHANNELS))
    app.add_handler(CommandHandler("unfollow", cmd_unfollow, filters=IN_CHANNELS))
    app.add_handler(CallbackQueryHandler(on_unfollow, pattern=r"^unf:\d{1,12}$"))
