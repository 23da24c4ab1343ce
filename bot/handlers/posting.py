"""Admins post a bulletin from Telegram: /post, then text or a .txt/.md/.html file, a
preview with the picked headline items, and Publish / Edit title / Cancel buttons. Nothing
is published before the admin confirms."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePath

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.delivery.schedule import announce_new_bulletins
from bot.handlers.common import (
    Command,
    Context,
    admin_only,
    chat_language,
    edit_or_reply,
    reply,
    tr,
    user_id,
)
from bot.handlers.sources import OPML_FILES
from bot.i18n import Html, t
from bot.ingest import Rejected, Submission, limits_for, prepare, store
from bot.ingest.pipeline import SUFFIXES
from bot.render import esc, shorten
from storage.models import NewBulletin
from storage.people import audit

log = logging.getLogger(__name__)
COMMANDS = [
    Command(
        "post",
        {
            "fr": "publier un bulletin (texte ou fichier)",
            "en": "publish a bulletin (text or file)",
            "uk": "опублікувати бюлетень",
        },
        admin=True,
    ),
]


DRAFT_MINUTES = 30  # a post left unfinished this long is dropped
_DATE_LINE = re.compile(r"\s*date\s*:\s*(\d{4}-\d{2}-\d{2})\s*(?:\n|$)", re.IGNORECASE)


@dataclass
class Draft:
    """A bulletin being posted: text parts or a file, an optional title and date, and what
    the admin's next text message is for (`text`, `title`, or nothing: then it is a search)."""

    parts: list[str] = field(default_factory=list)
    file_name: str | None = None
    data: bytes | None = None
    title: str | None = None
    awaiting: str | None = "text"
    started: float = field(default_factory=time.monotonic)

    @property
    def expired(self) -> bool:
        """Left unfinished for more than `DRAFT_MINUTES`."""
        return time.monotonic() - self.started > DRAFT_MINUTES * 60

    def submission(self, user_id: int) -> Submission:
        """What ingestion receives: a file keeps its name (its date, if it holds one); a
        text's `date: 2025-07-18` first line dates it, else it is dated now; an edited title
        replaces the text's own first heading; an untitled text takes its first sentence."""
        source = f"admin:{user_id}"
        if self.data is not None:
            name = self.file_name or "post.txt"
            return Submission(source, name, data=self.data, title=self.title, retitle=True)
        text = "\n\n".join(self.parts)
        published = None
        if found := _DATE_LINE.match(text):
            text = text[found.end() :]
            published = datetime.strptime(found[1], "%Y-%m-%d").replace(hour=12, tzinfo=UTC)
        return Submission(source, "", text=text, title=self.title, published=published,
                          retitle=True)  # fmt: skip


def _draft(context: Context) -> Draft | None:
    draft = context.user_data.draft if context.user_data else None
    if draft is not None and draft.expired:
        drop_draft(context)
        return None
    return draft


@admin_only
async def cmd_post(update: Update, context: Context) -> None:
    """Start a post: the next text messages or file become the bulletin."""
    assert context.user_data is not None
    context.user_data.draft = Draft()
    await reply(update, context, tr(update, context, "adm_post_start"))


def end_question(context: Context) -> str | None:
    """Another command came while the post waited for text or a title: stop waiting, and
    return the catalogue key saying what happened (None if nothing was waiting). A draft
    with content keeps its preview and buttons; a post with nothing in it yet is dropped."""
    draft = context.user_data.draft if context.user_data else None
    if draft is None or draft.awaiting is None:
        return None
    if not draft.parts and draft.data is None:
        drop_draft(context)
        return "adm_post_dropped"
    draft.awaiting = None
    return "adm_post_question_closed"


def drop_draft(context: Context) -> bool:
    """Forget the post in progress; True if there was one."""
    if context.user_data is None or context.user_data.draft is None:
        return False
    context.user_data.draft = None
    return True


async def _prepare(update: Update, context: Context, draft: Draft) -> NewBulletin:
    """The draft as a bulletin (parsed and summarised in a worker thread); may raise Rejected."""
    settings, _ = context.bot_data.ready
    submission = draft.submission(user_id(update))
    return await asyncio.to_thread(prepare, submission, limits_for(settings))


async def _preview(update: Update, context: Context, draft: Draft) -> None:
    try:
        bulletin = await _prepare(update, context, draft)
    except Rejected as exc:
        if draft.data is not None:
            draft.data = draft.file_name = None
        await reply(update, context, tr(update, context, "adm_post_rejected", reason=exc.reason))
        return
    draft.awaiting = None  # from here on, plain text is a search again
    language = chat_language(update, context)
    await reply(update, context, preview_text(bulletin, language), [
        [(t(language, "adm_btn_publish"), "ad:pub"), (t(language, "adm_btn_title"), "ad:title")],
        [(t(language, "adm_btn_add"), "ad:more"), (t(language, "adm_btn_cancel"), "ad:cancel")],
    ])  # fmt: skip


def preview_text(bulletin: NewBulletin, language: str) -> str:
    """Title, language, date and the picked headline items."""
    picks = [i for i in bulletin.items if i.headline_rank]  # reading order, as everywhere
    lines = "\n".join(f"{n}. {esc(shorten(i.text, 300))}" for n, i in enumerate(picks, start=1))
    return t(language, "adm_preview_post", title=bulletin.title, language=bulletin.language,
             date=bulletin.published_at[:10], sentences=len(bulletin.items),
             sections=len(bulletin.sections), items=Html(lines))  # fmt: skip


async def on_text(update: Update, context: Context) -> bool:
    """Text the post is waiting for — its text (after /post or ➕ Add text) or its new
    title (after ✏️ Edit title); True if consumed. Any other text is not the draft's."""
    draft = _draft(context)
    message = update.effective_message
    if draft is None or draft.awaiting is None or message is None or not message.text:
        return False
    settings, _ = context.bot_data.ready
    if user_id(update) not in settings.admin_ids:
        return False
    if draft.awaiting == "title":
        draft.title = " ".join(message.text.split())[:200] or None
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
        await reply(update, context, tr(update, context, "adm_post_file_kind"))
        return
    if doc.file_size and doc.file_size > settings.max_bulletin_bytes:
        await reply(update, context, tr(update, context, "adm_post_too_large",
                                        size=f"{doc.file_size / 1e6:.1f}",
                                        limit=f"{settings.max_bulletin_bytes / 1e6:.1f}"))  # fmt: skip
        return
    try:
        data = bytes(await (await doc.get_file()).download_as_bytearray())
    except TelegramError as exc:
        await reply(update, context, tr(update, context, "adm_download_failed", error=str(exc)))
        return
    draft = _draft(context) or Draft()
    draft.file_name, draft.data, draft.parts = name, data, []
    context.user_data.draft = draft
    await _preview(update, context, draft)


@admin_only
async def on_post_button(update: Update, context: Context) -> None:
    """Publish, Edit title or Cancel under a preview."""
    query = update.callback_query
    assert query is not None and query.data is not None
    draft = context.user_data.draft if context.user_data else None
    if draft is not None and draft.expired:
        drop_draft(context)
        await query.answer(tr(update, context, "adm_post_expired", minutes=DRAFT_MINUTES),
                           show_alert=True)  # fmt: skip
        return
    if draft is None:
        await query.answer(tr(update, context, "expired"))
        return
    action = query.data.split(":")[1]
    if action == "cancel":
        await query.answer()
        had = drop_draft(context)
        await edit_or_reply(
            update, context, tr(update, context, "adm_post_cancelled" if had else "adm_no_post")
        )
    elif action == "title":
        draft.awaiting = "title"
        await query.answer()
        await reply(update, context, tr(update, context, "adm_post_ask_title"))
    elif action == "more":
        draft.awaiting = "text"
        await query.answer()
        await reply(update, context, tr(update, context, "adm_post_ask_text"))
    else:
        await query.answer()
        await _publish(update, context, draft)


async def _publish(update: Update, context: Context, draft: Draft) -> None:
    _, db = context.bot_data.ready
    try:
        bulletin = await _prepare(update, context, draft)
    except Rejected as exc:
        await edit_or_reply(update, context, tr(update, context, "adm_not_accepted",
                                                reason=exc.reason))  # fmt: skip
        return
    outcome = store(db, bulletin, "post")
    drop_draft(context)
    audit(db, user_id(update), "post", bulletin_id=outcome.bulletin_id, status=outcome.status)
    if outcome.status == "added":
        announce_new_bulletins(db, context.bot_data.analyzer, context.bot_data.clock())
        context.bot_data.wake_sender()
    key = "adm_post_duplicate" if outcome.status == "duplicate" else "adm_post_published"
    await edit_or_reply(update, context, tr(update, context, key, id=outcome.bulletin_id,
                                            title=bulletin.title))  # fmt: skip


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add this feature's handlers."""
    app.add_handler(CommandHandler("post", cmd_post))
    app.add_handler(MessageHandler(  # an OPML file is for /sources, not a bulletin
        filters.Document.ALL & filters.ChatType.PRIVATE & ~OPML_FILES, on_document
    ))  # fmt: skip
    app.add_handler(CallbackQueryHandler(on_post_button, pattern=r"^ad:(pub|title|more|cancel)$"))
