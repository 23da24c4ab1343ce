"""Admin commands: /post (preview, then publish), /bulletins, /delete, /sources.

Only users in ADMIN_IDS get past `admin_only`; everyone else gets a polite refusal and the
attempt goes to the audit log, like every admin action.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.delivery.schedule import announce_new_bulletins
from bot.handlers.common import Context, admin_only, edit_or_reply, parse_id, reply
from bot.ingest import Rejected, Submission, limits_for, poll_in_thread, prepare, store
from bot.ingest.pipeline import SUFFIXES
from bot.render import esc, shorten
from storage.bulletins import count_bulletins, get_bulletin, list_bulletins, set_deleted
from storage.feeds import add_admin_feed, admin_feeds, feed_state, remove_admin_feed
from storage.models import NewBulletin
from storage.people import audit

log = logging.getLogger(__name__)
PAGE = 8
COMMANDS = [
    (
        "post",
        {
            "fr": "publier un bulletin (texte ou fichier)",
            "en": "publish a bulletin (text or file)",
            "uk": "опублікувати бюлетень",
        },
        True,
    ),
    (
        "bulletins",
        {"fr": "liste des bulletins", "en": "list bulletins", "uk": "список бюлетенів"},
        True,
    ),
    (
        "delete",
        {
            "fr": "retirer un bulletin : /delete 12",
            "en": "remove a bulletin: /delete 12",
            "uk": "прибрати бюлетень",
        },
        True,
    ),
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


@dataclass
class Draft:
    """A bulletin being posted: text parts or a file, and an optional title."""

    parts: list[str] = field(default_factory=list)
    file_name: str | None = None
    data: bytes | None = None
    title: str | None = None
    awaiting_title: bool = False

    def submission(self, user_id: int) -> Submission:
        """What ingestion receives."""
        if self.data is not None:
            name = self.file_name or "post.txt"
            return Submission(f"admin:{user_id}", name, data=self.data, title=self.title)
        return Submission(
            f"admin:{user_id}", "post", text="\n\n".join(self.parts), title=self.title
        )


def _draft(context: Context) -> Draft | None:
    value = (context.user_data or {}).get("draft")
    return value if isinstance(value, Draft) else None


def _user_id(update: Update) -> int:
    return update.effective_user.id if update.effective_user else 0


@admin_only
async def cmd_post(update: Update, context: Context) -> None:
    """Start a post: the next text messages or file become the bulletin."""
    assert context.user_data is not None
    context.user_data["draft"] = Draft()
    await reply(
        update,
        context,
        "📝 Send the bulletin: text (one or several messages) or a .txt, .md or .html file. "
        "You will see a preview before anything is published. /cancel to stop.",
    )


def drop_draft(context: Context) -> bool:
    """Forget the post in progress; True if there was one."""
    return (context.user_data or {}).pop("draft", None) is not None


async def _prepare(update: Update, context: Context, draft: Draft) -> NewBulletin:
    """The draft as a bulletin (parsed and summarised in a worker thread); may raise Rejected."""
    settings, _ = context.bot_data.ready
    submission = draft.submission(_user_id(update))
    return await asyncio.to_thread(prepare, submission, limits_for(settings))


async def _preview(update: Update, context: Context, draft: Draft) -> None:
    try:
        bulletin = await _prepare(update, context, draft)
    except Rejected as exc:
        if draft.data is not None:
            draft.data = draft.file_name = None
        await reply(
            update,
            context,
            f"⚠️ Not accepted: {esc(exc.reason)}\nSend another text or file, or /cancel.",
        )
        return
    await reply(update, context, preview_text(bulletin), [
        [("✅ Publish", "ad:pub"), ("✏️ Edit title", "ad:title"), ("✖ Cancel", "ad:cancel")]
    ])  # fmt: skip


def preview_text(bulletin: NewBulletin) -> str:
    """Title, language, date and the picked headline items."""
    picks = [i for i in bulletin.items if i.headline_rank]  # reading order, as everywhere
    lines = "\n".join(f"{n}. {esc(shorten(i.text, 300))}" for n, i in enumerate(picks, start=1))
    return (
        f"<b>Preview</b> — nothing is published yet\n\n<b>{esc(bulletin.title)}</b>\n"
        f"Language: {esc(bulletin.language)} · Date: {esc(bulletin.published_at[:10])} · "
        f"{len(bulletin.items)} sentences, {len(bulletin.sections)} section(s)\n\n"
        f"<b>Headline items</b>\n{lines}"
    )


async def on_text(update: Update, context: Context) -> bool:
    """Text while a post is open: a new title, or more bulletin text; True if consumed."""
    draft = _draft(context)
    message = update.effective_message
    if draft is None or message is None or not message.text:
        return False
    settings, _ = context.bot_data.ready
    if _user_id(update) not in settings.admin_ids:
        return False
    if draft.awaiting_title:
        draft.title = " ".join(message.text.split())[:200] or None
        draft.awaiting_title = False
    else:
        draft.parts.append(message.text)
        draft.data = draft.file_name = None
    await _preview(update, context, draft)
    return True


@admin_only
async def on_document(update: Update, context: Context) -> None:
    """A .txt/.md/.html file from an admin: downloaded, previewed."""
    message = update.effective_message
    assert message is not None and message.document is not None and context.user_data is not None
    settings, _ = context.bot_data.ready
    doc = message.document
    name = PurePath(doc.file_name or "post.txt").name
    if PurePath(name).suffix.lower() not in SUFFIXES:
        await reply(update, context, "⚠️ Send a .txt, .md or .html file.")
        return
    if doc.file_size and doc.file_size > settings.max_bulletin_bytes:
        await reply(update, context, f"⚠️ Too large: {doc.file_size / 1e6:.1f} MB, the limit is "
                    f"{settings.max_bulletin_bytes / 1e6:.1f} MB.")  # fmt: skip
        return
    try:
        data = bytes(await (await doc.get_file()).download_as_bytearray())
    except TelegramError as exc:
        await reply(update, context, f"⚠️ Could not download the file: {esc(exc)}")
        return
    draft = _draft(context) or Draft()
    draft.file_name, draft.data, draft.parts = name, data, []
    context.user_data["draft"] = draft
    await _preview(update, context, draft)


@admin_only
async def on_post_button(update: Update, context: Context) -> None:
    """Publish, Edit title or Cancel under a preview."""
    query = update.callback_query
    assert query is not None and query.data is not None
    draft = _draft(context)
    if draft is None:
        await query.answer("This button has expired.")
        return
    action = query.data.split(":")[1]
    if action == "cancel":
        await query.answer()
        had = drop_draft(context)
        await edit_or_reply(
            update, context, "Cancelled, nothing was published." if had else "No post in progress."
        )
    elif action == "title":
        draft.awaiting_title = True
        await query.answer()
        await reply(update, context, "Send the new title.")
    else:
        await query.answer()
        await _publish(update, context, draft)


async def _publish(update: Update, context: Context, draft: Draft) -> None:
    _, db = context.bot_data.ready
    try:
        bulletin = await _prepare(update, context, draft)
    except Rejected as exc:
        await edit_or_reply(update, context, f"⚠️ Not accepted: {esc(exc.reason)}")
        return
    outcome = store(db, bulletin, "post")
    (context.user_data or {}).pop("draft", None)
    audit(db, _user_id(update), "post", bulletin_id=outcome.bulletin_id, status=outcome.status)
    if outcome.status == "added":
        announce_new_bulletins(db, context.bot_data.analyzer, context.bot_data.clock())
        context.bot_data.wake_sender()
    if outcome.status == "duplicate":
        text = f"Already published as #{outcome.bulletin_id}; nothing new was stored."
    else:
        text = f"✅ Published #{outcome.bulletin_id}: <b>{esc(bulletin.title)}</b>"
    await edit_or_reply(update, context, text)


@admin_only
async def cmd_bulletins(update: Update, context: Context) -> None:
    """Bulletins, newest first, a page at a time."""
    page = 0
    if update.callback_query and update.callback_query.data:
        page = int(update.callback_query.data.split(":")[1])
        await update.callback_query.answer()
    _, db = context.bot_data.ready
    total = count_bulletins(db)
    rows = list_bulletins(db, limit=PAGE, offset=page * PAGE)
    if not rows:
        await edit_or_reply(update, context, "No bulletins yet.")
        return
    lines = [
        f"#{b.id} · {b.published_at[:10]} · {b.language} · {esc(shorten(b.title, 80))}"
        for b in rows
    ]
    nav = []
    if page > 0:
        nav.append(("◀", f"bl:{page - 1}"))
    if (page + 1) * PAGE < total:
        nav.append(("▶", f"bl:{page + 1}"))
    header = f"<b>Bulletins</b> {page * PAGE + 1}–{page * PAGE + len(rows)} of {total}"
    await edit_or_reply(update, context, header + "\n" + "\n".join(lines), [nav])


@admin_only
async def cmd_delete(update: Update, context: Context) -> None:
    """/delete ID — hide a bulletin (soft delete), with an Undo button."""
    _, db = context.bot_data.ready
    bulletin_id = parse_id((context.args or [""])[0])
    if bulletin_id is None:
        await reply(
            update, context, "Usage: /delete ID — the number shown in /bulletins, e.g. /delete 12"
        )
        return
    detail = get_bulletin(db, bulletin_id)
    if detail is None:
        await reply(update, context, f"No bulletin #{bulletin_id}.")
        return
    if not set_deleted(db, bulletin_id, True):
        await reply(
            update,
            context,
            f"#{bulletin_id} is already deleted.",
            [[("↩️ Undo", f"und:{bulletin_id}")]],
        )
        return
    audit(db, _user_id(update), "delete", bulletin_id=bulletin_id)
    await reply(update, context, f"🗑 Deleted #{bulletin_id}: {esc(detail.bulletin.title)}",
                [[("↩️ Undo", f"und:{bulletin_id}")]])  # fmt: skip


@admin_only
async def on_undo(update: Update, context: Context) -> None:
    """Undo a deletion."""
    query = update.callback_query
    assert query is not None and query.data is not None
    _, db = context.bot_data.ready
    bulletin_id = int(query.data.split(":")[1])
    if not set_deleted(db, bulletin_id, False):
        await query.answer("This button has expired.")
        return
    audit(db, _user_id(update), "undelete", bulletin_id=bulletin_id)
    await query.answer()
    await edit_or_reply(update, context, f"↩️ Restored #{bulletin_id}.")


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
        audit(db, _user_id(update), f"feed_{args[0]}", url=url, changed=changed)
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
    audit(db, _user_id(update), "poll", summary=summary)
    await reply(update, context, f"🔄 Poll done: {esc(summary)}")


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add this feature's handlers."""
    commands = {
        "post": cmd_post,
        "bulletins": cmd_bulletins,
        "delete": cmd_delete,
        "sources": cmd_sources,
    }
    for name, callback in commands.items():
        app.add_handler(CommandHandler(name, callback))
    app.add_handler(MessageHandler(filters.Document.ALL & filters.ChatType.PRIVATE, on_document))
    app.add_handler(CallbackQueryHandler(on_post_button, pattern=r"^ad:(pub|title|cancel)$"))
    app.add_handler(CallbackQueryHandler(on_poll_now, pattern=r"^ad:poll$"))
    app.add_handler(CallbackQueryHandler(cmd_bulletins, pattern=r"^bl:\d{1,5}$"))
    app.add_handler(CallbackQueryHandler(on_undo, pattern=r"^und:\d{1,12}$"))
