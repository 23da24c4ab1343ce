"""Reading: /latest, /digest, a bulletin opened from a link, a paragraph opened from a button."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlite_utils import Database
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.digest import ALL_ITEMS, Edition, chat_zone, edition_for, items_for
from bot.handlers.common import IN_CHANNELS, Command, Context, chat_language, reader_id, reply
from bot.i18n import Html, t
from bot.render import esc, render_digest, shorten
from storage.bulletins import get_bulletin, get_item, latest_bulletin_id
from storage.people import get_subscriber, sources_off

COMMANDS = [
    Command(
        "latest",
        {
            "fr": "le dernier bulletin en bref",
            "en": "the latest bulletin in brief",
            "uk": "останній бюлетень коротко",
        },
    ),
    Command(
        "digest",
        {
            "fr": "le résumé : ce qui est nouveau depuis le dernier ; /digest all : tous les sujets de la semaine",
            "en": "the digest: what is new since your last one; /digest all: every story of the week",
            "uk": "дайджест: нове від попереднього; /digest all: усі сюжети тижня",
        },
    ),
]


async def show_bulletin(update: Update, context: Context, bulletin_id: int) -> None:
    """A bulletin's headline items, each with a button to read its paragraph."""
    _, store = context.bot_data.ready
    language = chat_language(update, context)
    detail = await store.read(get_bulletin, bulletin_id)
    if detail is None or detail.bulletin.deleted_at:  # as /delete says it
        await reply(update, context, t(language, "adm_no_such_bulletin", id=bulletin_id))
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
    _, store = context.bot_data.ready
    newest = await store.read(latest_bulletin_id)
    if newest is None:
        await reply(update, context, t(chat_language(update, context), "no_bulletin"))
        return
    await show_bulletin(update, context, newest)


async def chat_edition(update: Update, context: Context, *, whole_week: bool = False) -> Edition:
    """What the asking chat would receive if its digest were cut now (built on a reader
    thread); with `whole_week`, every story of the last 7 days. Writes nothing."""
    settings, store = context.bot_data.ready
    chat = update.effective_chat
    assert chat is not None
    language = chat_language(update, context)
    reader = await reader_id(update, context)
    return await store.read(_edition, reader, language, settings.tz, context.bot_data.clock(),
                            settings.summary_items, settings.digest_length,
                            whole_week)  # fmt: skip


def _edition(db: Database, chat_id: int, language: str, default_zone: ZoneInfo, now: datetime,
             per: int | None, length: str, whole_week: bool = False) -> Edition:  # fmt: skip
    """The chat's edition at `now`, of its digest length (`length`: the operator's)."""
    known = get_subscriber(db, chat_id)
    zone = chat_zone(known.timezone if known else None, default_zone)
    if whole_week:  # as a new reader sees it: the last 7 days, all their stories
        return edition_for(db, None, language, zone, now, per_bulletin=per, items=ALL_ITEMS)
    items = items_for(known.digest_length if known else None, length)
    off = sources_off(db, [chat_id]).get(chat_id, frozenset())
    return edition_for(db, chat_id, language, zone, now, per_bulletin=per, items=items, off=off)


async def cmd_digest(update: Update, context: Context) -> None:
    """The digest this chat would receive now: what is new since its last one; `/digest
    all`: every story of the last 7 days."""
    args = context.args or []
    if args not in ([], ["all"]):
        await reply(update, context, t(chat_language(update, context), "digest_usage"))
        return
    edition = await chat_edition(update, context, whole_week=args == ["all"])
    if edition.empty:
        await reply(update, context, t(chat_language(update, context), "digest_nothing_new"))
        return
    for part in render_digest(edition.digest, context.bot.username):
        await reply(update, context, part)


READ_CHUNK = 3000  # characters of a paragraph per message; "more" shows the next ones


async def on_read(update: Update, context: Context) -> None:
    """The paragraph an item comes from, a message at a time (a 📖 button for the rest)."""
    query = update.callback_query
    assert query is not None and query.data is not None
    _, store = context.bot_data.ready
    language = chat_language(update, context)
    _, item_id, *rest = query.data.split(":")
    start = int(rest[0]) if rest else 0
    found = await store.read(get_item, int(item_id))
    if found is None or start >= max(1, len(found[1])):
        await query.answer(t(language, "expired"))
        return
    _item, paragraph, title = found
    end = start + READ_CHUNK
    if end < len(paragraph):
        end = paragraph.rfind(" ", start + 1, end) if " " in paragraph[start + 1 : end] else end
    chunk = paragraph[start:end].strip()
    await query.answer()
    heading = f"<i>{esc(title)}</i>\n\n" if start == 0 else ""
    more = [[(t(language, "btn_more"), f"rd:{item_id}:{end}")]] if end < len(paragraph) else []
    await reply(update, context, f"{heading}{esc(chunk)}{' …' if more else ''}", more)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add this feature's handlers."""
    app.add_handler(CommandHandler("latest", cmd_latest, filters=IN_CHANNELS))
    app.add_handler(CommandHandler("digest", cmd_digest, filters=IN_CHANNELS))
    app.add_handler(CallbackQueryHandler(on_read, pattern=r"^rd:[0-9]{1,12}(:[0-9]{1,9})?$"))
