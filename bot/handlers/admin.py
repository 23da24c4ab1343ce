"""Admin commands: /post (preview, then publish), /bulletins, /delete, /preview, /sources, /stats.

Only users in ADMIN_IDS get past `admin_only`; everyone else gets a polite refusal and the
attempt goes to the audit log, like every admin action.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.delivery.schedule import announce_new_bulletins, digest_id_for
from bot.digest import week_of
from bot.handlers.common import Context, admin_only, edit_or_reply, reply
from bot.handlers.reading import current_digest
from bot.ingest import Rejected, Submission, limits_for, poll_sources, prepare, store
from bot.ingest.feeds import add_admin_feed, admin_feeds, feed_state, remove_admin_feed
from bot.ingest.pipeline import SUFFIXES
from bot.render import esc, render_digest, shorten
from storage import open_db
from storage.bulletins import count_bulletins, get_bulletin, list_bulletins, set_deleted
from storage.models import NewBulletin
from storage.outbox import chats_with_week_digest, digest_counts, enqueue, send_rate
from storage.people import audit, subscriber_stats

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
        "cancel",
        {
            "fr": "abandonner la publication en cours",
            "en": "drop the post in progress",
            "uk": "скасувати публікацію",
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
        "preview",
        {
            "fr": "le prochain résumé, tel quel",
            "en": "the next digest as sent",
            "uk": "наступний дайджест",
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
    (
        "send_digest",
        {
            "fr": "envoyer le résumé maintenant (avec confirmation)",
            "en": "send the digest now (asks first)",
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


@admin_only
async def cmd_cancel(update: Update, context: Context) -> None:
    """Drop the draft."""
    had = (context.user_data or {}).pop("draft", None)
    await edit_or_reply(
        update, context, "Cancelled, nothing was published." if had else "No post in progress."
    )


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
    picks = sorted(
        (i for i in bulletin.items if i.headline_rank), key=lambda i: i.headline_rank or 0
    )
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
        await cmd_cancel.__wrapped__(update, context)  # type: ignore[attr-defined]
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
        announce_new_bulletins(db, context.bot_data.analyzer, datetime.now(UTC))
        if context.bot_data.sender is not None:
            context.bot_data.sender.wake.set()
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
    arg = (context.args or [""])[0].lstrip("#")
    if not arg.isdigit():
        await reply(
            update, context, "Usage: /delete ID — the number shown in /bulletins, e.g. /delete 12"
        )
        return
    bulletin_id = int(arg)
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


@admin_only
async def cmd_preview(update: Update, context: Context) -> None:
    """The next weekly digest, as subscribers will see it."""
    settings, db = context.bot_data.ready
    digest = current_digest(context, settings.default_language)
    audit(db, _user_id(update), "preview", week=digest.week)
    await reply(
        update, context, f"<i>Preview of the digest for {digest.week} ({digest.language}):</i>"
    )
    for part in render_digest(digest, context.bot.username):
        await reply(update, context, part)


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

    def work() -> str:
        own = open_db(settings.database_path)
        try:
            return poll_sources(own, settings, force=True).summary()
        finally:
            own.close()

    summary = await asyncio.to_thread(work)
    audit(db, _user_id(update), "poll", summary=summary)
    await reply(update, context, f"🔄 Poll done: {esc(summary)}")


def _due_this_week(context: Context) -> tuple[str, dict[str, list[int]]]:
    """The digest week /preview shows, and the weekly subscribers without it, by language."""
    settings, db = context.bot_data.ready
    week = current_digest(context, settings.default_language).week
    rows = db.execute(
        "SELECT chat_id, language FROM subscribers WHERE subscribed AND active "
        "AND mode IN ('weekly', 'both') ORDER BY chat_id"
    ).fetchall()
    served = chats_with_week_digest(db, week)
    chats: dict[str, list[int]] = {}
    for chat_id, language in rows:
        if chat_id not in served:
            chats.setdefault(language, []).append(chat_id)
    return week, chats


@admin_only
async def cmd_send_digest(update: Update, context: Context) -> None:
    """Ask before sending this week's digest now to every weekly subscriber who lacks it."""
    week, chats = _due_this_week(context)
    count = sum(len(c) for c in chats.values())
    if not count:
        await reply(update, context, f"Every weekly subscriber already has the digest of {week}.")
        return
    await reply(update, context, f"Send the digest of <b>{week}</b> now to <b>{count}</b> chat(s)?",
                [[("📤 Send now", f"ad:send:{week}"), ("✖ Cancel", "ad:nosend")]])  # fmt: skip


@admin_only
async def on_send_digest(update: Update, context: Context) -> None:
    """Confirmed: queue the digest for everyone due, and wake the sender."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    if query.data == "ad:nosend":
        await edit_or_reply(update, context, "Nothing was sent.")
        return
    settings, db = context.bot_data.ready
    week, chats = _due_this_week(context)
    if week != query.data.split(":", 2)[2]:
        await edit_or_reply(update, context, "This button has expired: the week has changed.")
        return
    queued = 0
    for language, chat_ids in chats.items():
        digest_id = digest_id_for(db, week, language, settings.tz)
        queued += enqueue(db, "digest", digest_id, chat_ids)
    audit(db, _user_id(update), "send_digest_queued", week=week, chats=queued)
    if context.bot_data.sender is not None:
        context.bot_data.sender.wake.set()
    await edit_or_reply(update, context, f"📤 Queued the digest of {week} for {queued} chat(s).")


def fmt(counts: dict[str, int]) -> str:
    """`sent 12, failed 1` (or `none`)."""
    return ", ".join(f"{esc(k)} {v}" for k, v in counts.items()) or "none"


@admin_only
async def cmd_stats(update: Update, context: Context) -> None:
    """Subscribers by language and mode, bulletins this week, last deliveries."""
    settings, db = context.bot_data.ready
    stats = subscriber_stats(db)
    week = week_of(datetime.now(UTC), settings.tz)
    this_week = db.execute(
        "SELECT count(*) FROM bulletins WHERE deleted_at IS NULL AND published_at >= "
        "datetime('now', '-7 days')"
    ).fetchone()[0]
    deliveries = dict(db.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())
    last = db.execute(
        "SELECT d.id, d.week, d.language FROM digests d JOIN outbox o ON o.content_id = d.id "
        "AND o.kind = 'digest' ORDER BY o.id DESC LIMIT 1"
    ).fetchone()
    last_digest = "none sent yet"
    if last is not None:
        counts = digest_counts(db, last[0])
        rate = send_rate(db, last[0])
        last_digest = (
            f"{last[1]} ({esc(last[2])}): "
            + fmt(counts)
            + (f", {rate:.1f} messages/s" if rate else "")
        )

    text = (
        f"<b>Stats</b> ({week})\n"
        f"Subscribers by language: {fmt(stats['by_language'])}\n"
        f"Subscribers by mode: {fmt(stats['by_mode'])}\n"
        f"Unreachable: {stats['inactive']}\n"
        f"Bulletins in the last 7 days: {this_week} (all: {count_bulletins(db)})\n"
        f"Deliveries: {fmt(deliveries)}\n"
        f"Last digest: {last_digest}"
    )
    await reply(update, context, text)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add this feature's handlers."""
    commands = {
        "post": cmd_post,
        "cancel": cmd_cancel,
        "bulletins": cmd_bulletins,
        "delete": cmd_delete,
        "preview": cmd_preview,
        "sources": cmd_sources,
        "stats": cmd_stats,
        "send_digest": cmd_send_digest,
    }
    for name, callback in commands.items():
        app.add_handler(CommandHandler(name, callback))
    app.add_handler(MessageHandler(filters.Document.ALL & filters.ChatType.PRIVATE, on_document))
    app.add_handler(CallbackQueryHandler(on_post_button, pattern=r"^ad:(pub|title|cancel)$"))
    app.add_handler(CallbackQueryHandler(on_poll_now, pattern=r"^ad:poll$"))
    app.add_handler(
        CallbackQueryHandler(on_send_digest, pattern=r"^ad:(send:\d{4}-W\d{2}|nosend)$")
    )
    app.add_handler(CallbackQueryHandler(cmd_bulletins, pattern=r"^bl:\d{1,5}$"))
    app.add_handler(CallbackQueryHandler(on_undo, pattern=r"^und:\d{1,12}$"))
