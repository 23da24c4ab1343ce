"""Admins look after the sources: /sources (feeds, their state, the inbox), /sources add
URL, /sources remove URL, and a Poll now button."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.handlers.common import Context, admin_only, reply, user_id
from bot.ingest import poll_in_thread
from bot.render import esc
from storage.feeds import add_admin_feed, admin_feeds, feed_state, remove_admin_feed
from storage.people import audit

log = logging.getLogger(__name__)
COMMANDS = [
    (
        "sources",
        {
            "fr": "flux et dossier : /sources add URL",
            "en": "feeds and inbox: /sources add URL",
            "uk": "джерела",
        },
        True,
    ),
]


def _feed_line(db: Any, url: str, origin: str) -> str:
    state = feed_state(db, url)
    if state.last_error:
        retry = esc(state.next_try_at or "?")
        status = f"⚠️ {esc(state.last_error)} ({state.failures}×), next try {retry}"
    elif state.last_ok_at:
        status = f"✅ ok {esc(state.last_ok_at)}"
    else:
        status = "not polled yet"
    return f"• {esc(url)} <i>({origin})</i>\n  {status}"


@admin_only
async def cmd_sources(update: Update, context: Context) -> None:
    """Feeds and inbox; `/sources add URL`, `/sources remove URL`."""
    settings, db = context.bot_data.ready
    args = context.args or []
    if args and args[0] in ("add", "remove"):
        url = args[1] if len(args) > 1 else ""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 500:
            await reply(
                update, context, "Usage: /sources add URL or /sources remove URL (http or https)"
            )
            return
        changed = add_admin_feed(db, url) if args[0] == "add" else remove_admin_feed(db, url)
        audit(db, user_id(update), f"feed_{args[0]}", url=url, changed=changed)
        done = {
            "add": ("Added", "Already polled"),
            "remove": ("Removed", "Not an admin-added feed"),
        }[args[0]]
        await reply(update, context, f"{done[0] if changed else done[1]}: {esc(url)}")
        return
    if args:
        await reply(update, context, "Usage: /sources, /sources add URL, /sources remove URL")
        return
    lines = [_feed_line(db, u, "FEED_URLS") for u in settings.feed_urls]
    lines += [_feed_line(db, u, "added") for u in admin_feeds(db) if u not in settings.feed_urls]
    inbox = settings.inbox_dir
    waiting = len([p for p in inbox.iterdir() if p.is_file()]) if inbox.is_dir() else 0
    text = (
        "<b>Sources</b>\n"
        + ("\n".join(lines) or "No feeds. /sources add URL")
        + f"\n\n📂 Inbox: <code>{esc(inbox)}</code> — {waiting} file(s) waiting"
        + f"\nPolled every {settings.poll_minutes} min."
    )
    await reply(update, context, text, [[("🔄 Poll now", "ad:poll")]])


@admin_only
async def on_poll_now(update: Update, context: Context) -> None:
    """Poll the inbox and feeds now, in a worker thread."""
    query = update.callback_query
    assert query is not None
    settings, db = context.bot_data.ready
    await query.answer("Polling…")
    summary = await poll_in_thread(settings, force=True)
    audit(db, user_id(update), "poll", summary=summary)
    await reply(update, context, f"🔄 Poll done: {esc(summary)}")


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add this feature's handlers."""
    app.add_handler(CommandHandler("sources", cmd_sources))
    app.add_handler(CallbackQueryHandler(on_poll_now, pattern=r"^ad:poll$"))
