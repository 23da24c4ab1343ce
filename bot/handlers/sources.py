"""Admins look after the sources: /sources (feeds, their state, where they moved, whether
teasers are completed, the inbox) with buttons to poll now, export the feeds as OPML, switch
teaser completion and remove an added feed; /sources add URL (a feed, or a site's page: the
feed it announces), /sources remove URL, /sources export; an OPML file imports its feeds."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from pathlib import PurePath
from urllib.parse import urlsplit

from sqlite_utils import Database
from telegram import InputFile, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.handlers.common import (
    Command,
    Context,
    admin_only,
    chat_language,
    edit_or_reply,
    record,
    reply,
    topic_of,
    tr,
)
from bot.i18n import Html, t
from bot.ingest.feeds import MAX_FEED_FACTOR, Discovery, discover
from bot.ingest.http import NotAFeed, describe
from bot.ingest.opml import MAX_OPML_BYTES, OpmlError, export_opml, import_feeds, polled_feeds
from bot.jobs import poll
from bot.render import esc, shorten
from storage.feeds import (
    FeedState,
    add_admin_feed,
    admin_feeds,
    feed_state,
    remove_admin_feed,
    set_expand,
)

log = logging.getLogger(__name__)
COMMANDS = [
    Command(
        "sources",
        {
            "fr": "flux et dossier : /sources add URL, export ; un fichier OPML les importe",
            "en": "feeds and inbox: /sources add URL, export; an OPML file imports feeds",
            "uk": "джерела: /sources add URL, export; файл OPML імпортує стрічки",
        },
        admin=True,
    ),
]


def _key(url: str) -> str:
    """A short, stable handle for a feed URL in a button's callback data (64 bytes at most)."""
    return hashlib.sha256(url.encode()).hexdigest()[:12]


def _feed_states(db: Database, configured: Sequence[str]) -> list[tuple[str, FeedState, bool]]:
    """Each configured feed, then each an admin added: its URL, state, and whether added."""
    added = [u for u in admin_feeds(db) if u not in configured]
    return [(u, feed_state(db, u), False) for u in configured] + [
        (u, feed_state(db, u), True) for u in added
    ]


def _feed_line(language: str, url: str, state: FeedState, origin: str) -> str:
    """A feed in /sources: its title and address, where it moved, its state, its articles."""
    if state.gone_at:
        status = t(language, "adm_feed_gone", when=state.gone_at)
    elif state.last_error:
        status = t(language, "adm_feed_failing", error=state.last_error, n=state.failures,
                   next=state.next_try_at or "?")  # fmt: skip
    elif state.last_ok_at:
        status = t(language, "adm_feed_ok", when=state.last_ok_at)
    else:
        status = t(language, "adm_feed_new")
    name = f"<b>{esc(shorten(state.title, 80))}</b> " if state.title else ""
    lines = [f"• {name}{esc(url)} <i>({esc(origin)})</i>"]
    if state.fetch_url:
        why = t(language, f"adm_feed_moved_{'page' if state.moved_why == 'page' else 'redirect'}")
        lines.append(t(language, "adm_feed_moved", url=state.fetch_url, why=why,
                       when=state.moved_at or "?"))  # fmt: skip
    lines += [status, t(language, f"adm_feed_expand_{state.expand}")]
    return "\n  ".join(lines)


async def sources_view(update: Update, context: Context) -> tuple[str, list[list[tuple[str, str]]]]:
    """The text and buttons of /sources: each feed and its state, the inbox; Poll now,
    Export OPML, and a ✖ to stop polling each feed an admin added."""
    settings, store = context.bot_data.ready
    language = chat_language(update, context)
    feeds = await store.read(_feed_states, settings.feed_urls)
    origins = ("FEED_URLS", t(language, "adm_feed_added"))
    lines = [_feed_line(language, u, state, origins[added]) for u, state, added in feeds]
    inbox = settings.inbox_dir
    waiting = len([p for p in inbox.iterdir() if p.is_file()]) if inbox.is_dir() else 0
    text = t(language, "adm_sources", feeds=Html("\n".join(lines) or t(language, "adm_no_feeds")),
             inbox=str(inbox), waiting=waiting, minutes=settings.poll_minutes)  # fmt: skip
    buttons = [[(t(language, "adm_btn_poll"), "ad:poll"), ("📤 OPML", "src:export")]]
    for url, state, was_added in feeds[:20]:
        name = shorten(state.title or url, 30)
        row = [(f"📄 {'✓' if state.expand == 'auto' else '✗'} {name}", f"src:ex:{_key(url)}")]
        if was_added:
            row.append((f"✖ {shorten(url, 30)}", f"src:rm:{_key(url)}"))
        buttons.append(row)
    return text, buttons


@admin_only
async def cmd_sources(update: Update, context: Context) -> None:
    """Feeds and inbox; `/sources add URL`, `/sources remove URL`, `/sources export`."""
    _, store = context.bot_data.ready
    args = context.args or []
    if args[:1] == ["export"] and len(args) == 1:
        await send_opml(update, context)
        return
    if args and args[0] in ("add", "remove") and len(args) == 2:
        url = args[1]
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 500:
            await reply(update, context, tr(update, context, "adm_sources_usage"))
            return
        if args[0] == "add":
            await add_feed(update, context, url)
            return
        change = remove_admin_feed
        changed = await store.write(change, url)
        await record(update, context, f"feed_{args[0]}", url=url, changed=changed)
        key = f"adm_feed_{args[0]}_{'done' if changed else 'noop'}"
        await reply(update, context, tr(update, context, key, url=url))
        return
    if args:
        await reply(update, context, tr(update, context, "adm_sources_usage"))
        return
    text, buttons = await sources_view(update, context)
    await reply(update, context, text, buttons)


ADD_TIMEOUT = 15.0  # seconds an admin waits for /sources add to read the address


async def add_feed(update: Update, context: Context, url: str) -> None:
    """`/sources add URL`: read the address once (a worker thread); a feed is added as it is,
    a page for the feed it announces; an address that is no feed is refused with the reason;
    one that cannot be reached now is added, and said so."""
    settings, store = context.bot_data.ready
    if url in settings.feed_urls or url in await store.read(admin_feeds):
        await reply(update, context, tr(update, context, "adm_feed_add_noop", url=url))
        return
    found: Discovery | None = None
    error = ""
    try:
        found = await asyncio.to_thread(
            discover, url, timeout=min(settings.feed_timeout_seconds, ADD_TIMEOUT),
            max_bytes=settings.max_bulletin_bytes * MAX_FEED_FACTOR)  # fmt: skip
    except NotAFeed as exc:
        await reply(update, context, tr(update, context, "adm_feed_not_a_feed", url=url,
                                        error=describe(exc)))  # fmt: skip
        return
    except Exception as exc:  # unreachable now: added, tried at each poll
        error = describe(exc)
    address = found.url if found else url
    changed = await store.write(add_admin_feed, address)
    await record(update, context, "feed_add", url=address, changed=changed, given=url)
    if not changed:
        text = tr(update, context, "adm_feed_add_noop", url=address)
    elif found is None:
        text = tr(update, context, "adm_feed_unreachable", url=url, error=error)
    elif found.announced:
        text = tr(update, context, "adm_feed_found_page", title=found.title or "?", url=address,
                  page=url, n=found.entries)  # fmt: skip
    else:
        text = tr(update, context, "adm_feed_found", title=found.title or "?", url=address,
                  n=found.entries)  # fmt: skip
    await reply(update, context, text)


async def send_opml(update: Update, context: Context) -> None:
    """The polled feeds as an OPML file, sent as a document."""
    settings, store = context.bot_data.ready
    chat = update.effective_chat
    assert chat is not None
    urls = await store.read(polled_feeds, settings.feed_urls)
    document = InputFile(export_opml(urls).encode(), filename="hebdo-feeds.opml")
    await context.bot.send_document(chat.id, document,
                                    caption=tr(update, context, "adm_opml_export", n=len(urls)),
                                    message_thread_id=topic_of(update))  # fmt: skip


@admin_only
async def on_sources_button(update: Update, context: Context) -> None:
    """📤 OPML: the export; 📄: teasers completed or not; ✖: stop polling that added feed;
    then the list again."""
    query = update.callback_query
    assert query is not None and query.data is not None
    settings, store = context.bot_data.ready
    if query.data == "src:export":
        await query.answer()
        await send_opml(update, context)
        return
    if query.data.startswith("src:ex:"):
        wanted = query.data.removeprefix("src:ex:")
        urls = await store.read(polled_feeds, settings.feed_urls)
        url = next((u for u in urls if _key(u) == wanted), None)
        if url is None:
            await query.answer(tr(update, context, "expired"))
            return
        state = await store.read(feed_state, url)
        mode = "off" if state.expand == "auto" else "auto"
        await store.write(set_expand, url, mode)
        await record(update, context, "feed_expand", url=url, mode=mode)
        name = shorten(state.title or url, 60)
        await query.answer(shorten(tr(update, context, "adm_feed_expand_toggled", name=name,
                                      mode=tr(update, context, f"adm_feed_expand_{mode}")), 190))  # fmt: skip
        text, buttons = await sources_view(update, context)
        await edit_or_reply(update, context, text, buttons)
        return
    wanted = query.data.removeprefix("src:rm:")
    url = next((u for u in await store.read(admin_feeds) if _key(u) == wanted), None)
    if url is None or not await store.write(remove_admin_feed, url):
        await query.answer(tr(update, context, "expired"))
        return
    await record(update, context, "feed_remove", url=url, changed=True)
    await query.answer(shorten(tr(update, context, "adm_feed_remove_done", url=url), 190))
    text, buttons = await sources_view(update, context)
    await edit_or_reply(update, context, text, buttons)


@admin_only
async def on_opml_document(update: Update, context: Context) -> None:
    """An OPML file from an admin: its feeds are added (as `/sources add` would)."""
    message = update.effective_message
    assert message is not None and message.document is not None
    settings, store = context.bot_data.ready
    doc = message.document
    if doc.file_size and doc.file_size > MAX_OPML_BYTES:
        await reply(update, context, tr(update, context, "adm_opml_bad",
                                        error=tr(update, context, "opml_too_large")))  # fmt: skip
        return
    try:
        data = bytes(await (await doc.get_file()).download_as_bytearray())
        done = await store.write(import_feeds, data[: MAX_OPML_BYTES + 1], settings.feed_urls)
    except TelegramError as exc:
        await reply(update, context, tr(update, context, "adm_download_failed", error=str(exc)))
        return
    except OpmlError as exc:
        await reply(update, context, tr(update, context, "adm_opml_bad",
                                        error=tr(update, context, f"opml_{exc.key}")))  # fmt: skip
        return
    await record(update, context, "opml_import", file=PurePath(doc.file_name or "").name,
                 added=len(done.added), refused=len(done.refused))  # fmt: skip
    await reply(update, context, tr(update, context, "adm_opml_imported", added=len(done.added),
                                    already=len(done.already), refused=len(done.refused)))  # fmt: skip


@admin_only
async def on_poll_now(update: Update, context: Context) -> None:
    """Poll the inbox and feeds now, in a worker thread."""
    query = update.callback_query
    assert query is not None
    await query.answer(tr(update, context, "adm_polling"))
    report = await poll(context.bot_data, force=True)
    await record(update, context, "poll", summary=report.summary())
    text = tr(update, context, "adm_poll_done", added=report.count("added"),
              duplicates=report.count("duplicate"), rejected=report.count("rejected"))  # fmt: skip
    if report.merged:
        text += tr(update, context, "adm_poll_merged", merged=report.merged)
    await reply(update, context, text)


OPML_FILES = filters.ChatType.PRIVATE & (
    filters.Document.FileExtension("opml") | filters.Document.FileExtension("xml")
)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add this feature's handlers."""
    app.add_handler(CommandHandler("sources", cmd_sources))
    app.add_handler(CallbackQueryHandler(on_poll_now, pattern=r"^ad:poll$"))
    app.add_handler(
        CallbackQueryHandler(on_sources_button, pattern=r"^src:(export|(rm|ex):[0-9a-f]{12})$")
    )
    app.add_handler(MessageHandler(OPML_FILES, on_opml_document))
