"""Admins post a bulletin from Telegram, as a `ConversationHandler`: /post (or a file),
then text or a .txt/.md/.html file, a preview with the picked headline items, and Publish /
Edit title / Add text / Cancel buttons. Nothing is published before the admin confirms.

States: `TEXT` (the post waits for its text or file), `TITLE` (for a new title), `PREVIEW`
(the buttons; plain text is a search again). `/cancel` ends it; any other command ends what
it waits for (app.py's first handler group); after `DRAFT_MINUTES` it times out and says so.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePath
from typing import cast

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.delivery.schedule import announce_new_bulletins
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
    user_id,
)
from bot.handlers.sources import OPML_FILES
from bot.i18n import Html, t
from bot.ingest import Rejected, Submission, limits_for, prepare, store
from bot.ingest.pipeline import SUFFIXES
from bot.render import esc, shorten
from storage.bulletins import find_duplicate
from storage.models import NewBulletin

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
# the same first line in a file's bytes (after a UTF-8 byte order mark, if any)
_DATE_BYTES = re.compile(rb"(?:\xef\xbb\xbf)?\s*date\s*:\s*(\d{4}-\d{2}-\d{2})[ \t]*(?:\r?\n|\Z)",
                         re.IGNORECASE)  # fmt: skip


class BadDate(ValueError):
    """A `date:` first line that is no calendar date."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _dated(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(hour=12, tzinfo=UTC)
    except ValueError:
        raise BadDate(text) from None


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

    def submission(self, user_id: int, now: datetime) -> Submission:
        """What ingestion receives: a text's or a file's `date: 2025-07-18` first line dates
        it and is not published (else a file keeps its name, and its date if it holds one;
        a text is dated `now`, the bot's clock); an edited title replaces the text's own
        first heading; an untitled text takes its first sentence. Raises `BadDate`."""
        source = f"admin:{user_id}"
        if self.data is not None:
            name = self.file_name or "post.txt"
            data, published = self.data, None
            if found_bytes := _DATE_BYTES.match(data):
                data, published = data[found_bytes.end() :], _dated(found_bytes[1].decode())
            return Submission(source, name, data=data, title=self.title, retitle=True,
                              published=published, received=now)  # fmt: skip
        text = "\n\n".join(self.parts)
        published = None
        if found := _DATE_LINE.match(text):
            text = text[found.end() :]
            published = _dated(found[1])
        return Submission(source, "", text=text, title=self.title, published=published,
                          retitle=True, received=now)  # fmt: skip


def _draft(context: Context) -> Draft | None:
    draft = context.user_data.draft if context.user_data else None
    if draft is not None and draft.expired:
        drop_draft(context)
        return None
    return draft


TEXT, TITLE, PREVIEW = range(3)
END = ConversationHandler.END


@admin_only
async def cmd_post(update: Update, context: Context) -> int:
    """Start a post: the next text messages or file become the bulletin."""
    assert context.user_data is not None
    context.user_data.draft = Draft()
    await reply(update, context, tr(update, context, "adm_post_start"))
    return TEXT


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
    submission = draft.submission(user_id(update), context.bot_data.clock())
    return await asyncio.to_thread(prepare, submission, limits_for(settings))


async def _preview(update: Update, context: Context, draft: Draft) -> int:
    """Show the draft as it would be published, with its buttons; the next state."""
    try:
        bulletin = await _prepare(update, context, draft)
    except (Rejected, BadDate) as exc:
        if draft.data is not None:
            draft.data = draft.file_name = None
        said = (tr(update, context, "adm_post_bad_date", date=exc.text) if isinstance(exc, BadDate)
                else tr(update, context, "adm_post_rejected", reason=exc.reason))  # fmt: skip
        await reply(update, context, said)
        draft.awaiting = "text"
        return TEXT
    draft.awaiting = None  # from here on, plain text is a search again
    language = chat_language(update, context)
    _, store = context.bot_data.ready
    text = preview_text(bulletin, language)
    if (dup := await store.read(find_duplicate, bulletin)) is not None:
        text += "\n\n" + t(language, "adm_preview_duplicate", id=dup.existing_id)
    await reply(update, context, text, [
        [(t(language, "adm_btn_publish"), "ad:pub"), (t(language, "adm_btn_title"), "ad:title")],
        [(t(language, "adm_btn_add"), "ad:more"), (t(language, "adm_btn_cancel"), "ad:cancel")],
    ])  # fmt: skip
    return PREVIEW


def preview_text(bulletin: NewBulletin, language: str) -> str:
    """Title, language, date and the picked headline items."""
    picks = [i for i in bulletin.items if i.headline_rank]  # reading order, as everywhere
    lines = "\n".join(f"{n}. {esc(shorten(i.text, 300))}" for n, i in enumerate(picks, start=1))
    return t(language, "adm_preview_post", title=bulletin.title, language=bulletin.language,
             date=bulletin.published_at[:10], sentences=len(bulletin.items),
             sections=len(bulletin.sections), items=Html(lines))  # fmt: skip


async def on_text(update: Update, context: Context) -> int:
    """Text while the post waits: its text (after /post or ➕ Add text) or its new title
    (after ✏️ Edit title). If it no longer waits (another command ended the question, or
    the post was left too long), the text is a search, as anywhere else."""
    draft = _draft(context)
    message = update.effective_message
    assert message is not None and message.text is not None
    if draft is None or draft.awaiting is None:
        from bot.handlers.search import on_plain_text  # the text router's last taker

        await on_plain_text(update, context)
        return PREVIEW if draft is not None else END
    if draft.awaiting == "title":
        draft.title = " ".join(message.text.split())[:200] or None
    else:
        draft.parts.append(message.text)
        draft.data = draft.file_name = None
    return await _preview(update, context, draft)


@admin_only
async def on_document(update: Update, context: Context) -> int:
    """A .txt/.md/.html file from an admin: downloaded, previewed (it starts a post, or
    replaces the draft's text)."""
    message = update.effective_message
    assert message is not None and message.document is not None and context.user_data is not None
    settings, _ = context.bot_data.ready
    doc = message.document
    name = PurePath(doc.file_name or "post.txt").name
    waiting = TEXT if _draft(context) is not None else END
    if PurePath(name).suffix.lower() not in SUFFIXES:
        await reply(update, context, tr(update, context, "adm_post_file_kind"))
        return waiting
    if doc.file_size and doc.file_size > settings.max_bulletin_bytes:
        await reply(update, context, tr(update, context, "adm_post_too_large",
                                        size=f"{doc.file_size / 1e6:.1f}",
                                        limit=f"{settings.max_bulletin_bytes / 1e6:.1f}"))  # fmt: skip
        return waiting
    try:
        data = bytes(await (await doc.get_file()).download_as_bytearray())
    except TelegramError as exc:
        await reply(update, context, tr(update, context, "adm_download_failed", error=str(exc)))
        return waiting
    draft = _draft(context) or Draft()
    draft.file_name, draft.data, draft.parts = name, data, []
    context.user_data.draft = draft
    return await _preview(update, context, draft)


@admin_only
async def on_post_button(update: Update, context: Context) -> int:
    """Publish, Edit title, Add text or Cancel under a preview."""
    query = update.callback_query
    assert query is not None and query.data is not None
    draft = context.user_data.draft if context.user_data else None
    if draft is not None and draft.expired:
        drop_draft(context)
        await query.answer(tr(update, context, "adm_post_expired", minutes=DRAFT_MINUTES),
                           show_alert=True)  # fmt: skip
        return END
    if draft is None:
        await query.answer(tr(update, context, "expired"))
        return END
    action = query.data.split(":")[1]
    await query.answer()
    if action == "cancel":
        drop_draft(context)
        await edit_or_reply(update, context, tr(update, context, "adm_post_cancelled"))
        return END
    if action in ("title", "more"):
        draft.awaiting = "title" if action == "title" else "text"
        key = "adm_post_ask_title" if action == "title" else "adm_post_ask_text"
        await reply(update, context, tr(update, context, key))
        return TITLE if action == "title" else TEXT
    await _publish(update, context, draft)
    return END


async def on_timeout(update: object, context: Context) -> None:
    """The post was left unfinished for `DRAFT_MINUTES`: drop it and say so."""
    if isinstance(update, Update) and drop_draft(context) and update.effective_chat:
        await context.bot.send_message(update.effective_chat.id, tr(update, context,
                                       "adm_post_expired", minutes=DRAFT_MINUTES),
                                       message_thread_id=topic_of(update))  # fmt: skip


async def on_cancel(update: Update, context: Context) -> int:
    """/cancel during a post: the app's /cancel (it says what it ended), and the end."""
    from bot.app import cmd_cancel  # one /cancel for everything the bot may wait for

    await cmd_cancel(update, context)
    return END


async def _publish(update: Update, context: Context, draft: Draft) -> None:
    try:
        bulletin = await _prepare(update, context, draft)
    except Rejected as exc:
        await edit_or_reply(update, context, tr(update, context, "adm_not_accepted",
                                                reason=exc.reason))  # fmt: skip
        return
    _, writer = context.bot_data.ready  # storing and matching alerts: off the event loop
    outcome = await writer.write(store, bulletin, "post")
    drop_draft(context)
    await record(update, context, "post", bulletin_id=outcome.bulletin_id, status=outcome.status)
    if outcome.status == "added":
        await writer.write(announce_new_bulletins, context.bot_data.analyzer,
                           context.bot_data.clock())  # fmt: skip
        context.bot_data.wake_sender()
    key = "adm_post_duplicate" if outcome.status == "duplicate" else "adm_post_published"
    await edit_or_reply(update, context, tr(update, context, key, id=outcome.bulletin_id,
                                            title=bulletin.title))  # fmt: skip


DOCUMENTS = filters.Document.ALL & filters.ChatType.PRIVATE & ~OPML_FILES  # OPML: /sources
BUTTONS = r"^ad:(pub|title|more|cancel)$"


Step = BaseHandler[Update, Context, object]


def conversation() -> ConversationHandler[Context]:
    """/post as a conversation, one per admin and chat."""
    # PTB's handler types are invariant in what a callback returns: one list type for all
    text = cast(Step, MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    document = cast(Step, MessageHandler(DOCUMENTS, on_document))
    buttons = cast(Step, CallbackQueryHandler(on_post_button, pattern=BUTTONS))
    start = cast(Step, CommandHandler("post", cmd_post))
    with warnings.catch_warnings():
        # per chat and user, not per message, on purpose: the buttons of an earlier preview
        # act on the same draft (PTB warns that they are then not tracked message by message)
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        return _conversation(start, text, document, buttons)


def _conversation(
    start: Step, text: Step, document: Step, buttons: Step
) -> ConversationHandler[Context]:
    return ConversationHandler(
        entry_points=[start, document, buttons],
        states={
            TEXT: [text, document, buttons],
            TITLE: [text, document, buttons],
            PREVIEW: [document, buttons],
            ConversationHandler.TIMEOUT: [TypeHandler(Update, on_timeout)],
        },
        fallbacks=[CommandHandler("cancel", on_cancel)],
        conversation_timeout=DRAFT_MINUTES * 60,
        name="post",
        per_message=False,
        allow_reentry=True,  # /post again starts afresh
    )


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add this feature's handlers."""
    app.add_handler(conversation())
