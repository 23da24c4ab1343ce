"""What every handler needs: the typed context, the chat's language, replies, permissions."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import CallbackContext, ExtBot, filters

from bot.config import DAYS, Settings
from bot.i18n import language_of, t
from bot.render import split_blocks
from bot.text.analyze import Analyzer, analyzer_for
from storage.people import (
    Subscriber,
    audit,
    ensure_chat,
    find_topic,
    get_subscriber,
    is_topic,
    topic_reader,
)
from storage.store import Store

if TYPE_CHECKING:
    from bot.alerts import AlertCollector
    from bot.chart import ChartCache
    from bot.delivery.sender import Sender
    from bot.handlers.posting import Draft
    from bot.web import WebServer

log = logging.getLogger("bot.handlers")


@dataclass
class BotData:
    """Resources reached through `context.bot_data`, opened in post_init."""

    settings: Settings | None = None
    sender: Sender | None = field(default=None, repr=False)  # once started
    sender_task: asyncio.Task[None] | None = field(default=None, repr=False)
    # failures waiting to be reported to ALERT_CHAT_ID
    alerts: AlertCollector | None = field(default=None, repr=False)
    # per-user token buckets of the throttle: user → (tokens, when, told to slow down)
    throttle: dict[int, tuple[float, float, bool]] = field(default_factory=dict, repr=False)
    # who administers which group or channel: (chat, user) → (allowed, when checked)
    admin_cache: dict[tuple[int, int], tuple[bool, float]] = field(default_factory=dict, repr=False)
    # "now" for schedules, editions and audits; tests set it to the moment they play
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC), repr=False)
    # for /healthz: when the last update arrived and the feeds were last polled
    last_update_at: datetime | None = None
    last_poll_at: datetime | None = None
    web: WebServer | None = field(default=None, repr=False)  # the webhook and /healthz
    # the last trend charts drawn (/trend), made on first use
    charts: ChartCache | None = field(default=None, repr=False)
    # one poll of the inbox and feeds at a time
    polling: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    # every read and write of the database, off the event loop; opened in post_init
    store: Store | None = field(default=None, repr=False)

    @property
    def ready(self) -> tuple[Settings, Store]:
        """Settings and the store, once post_init has run."""
        if self.settings is None or self.store is None:
            raise RuntimeError("the application is not initialised")
        return self.settings, self.store

    def wake_sender(self) -> None:
        """Something was queued: the sender should look at the outbox now, not in a minute."""
        if self.sender is not None:
            self.sender.wake.set()

    @property
    def analyzer(self) -> Analyzer:
        """The search analyzer for the configured variants file."""
        settings, _ = self.ready
        return analyzer_for(settings.variants_file)


def tick_now(context: Context) -> None:
    """A chat's weekly slot may have come (it subscribed, or moved its slot): the minute
    tick runs now (it queues what is due and wakes the sender), not up to a minute later.
    One at a time: a burst of subscriptions runs it once."""
    queue = context.job_queue
    if queue is None or queue.get_jobs_by_name("tick-now"):
        return
    for job in queue.get_jobs_by_name("tick")[:1]:
        queue.run_once(job.callback, 0, name="tick-now")


@dataclass(frozen=True)
class Command:
    """A command the bot registers: its name, what it does in each language (the menus and
    /help), and whether only admins may run it (then only they see it, marked 🔒)."""

    name: str
    help: dict[str, str]
    admin: bool = False

    def describe(self, language: str) -> str:
        """What it does, in `language` (English for a language it lacks)."""
        return self.help.get(language, self.help["en"])


@dataclass
class ChatData:
    """What the bot keeps about a chat between its updates (in memory)."""

    searches: dict[str, str] = field(default_factory=dict)  # query id → text, for ◀ ▶
    awaiting_tz: float | None = None  # when "which time zone?" was asked (monotonic)
    # the language the chat chose (None: it has no row), read once: see `know_the_chat`
    language: str | None = None
    language_known: bool = False
    # a forum's topics that talked to the bot: thread → reader id, reader id → its language
    topics: dict[int, int] = field(default_factory=dict)
    topic_languages: dict[int, str] = field(default_factory=dict)


@dataclass
class UserData:
    """What the bot keeps about a user between their updates (in memory)."""

    draft: Draft | None = None  # an admin's post in progress


Context: TypeAlias = CallbackContext[ExtBot[None], UserData, ChatData, BotData]
Handler: TypeAlias = Callable[[Update, Context], Coroutine[Any, Any, None]]
Buttons: TypeAlias = Sequence[Sequence[tuple[str, str]]]


_ID = re.compile(r"#?([0-9]{1,12})")


def parse_id(text: str) -> int | None:
    """A bulletin or item number typed by a user (`12`, `#12`), or None: only ASCII digits,
    at most 12 of them (`²`, `٣` or 20 digits are no id)."""
    found = _ID.fullmatch(text.strip())
    return int(found[1]) if found else None


def keyboard(rows: Buttons) -> InlineKeyboardMarkup | None:
    """Rows of (label, callback data) as an inline keyboard (None when empty)."""
    built = [
        [InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows
    ]
    built = [row for row in built if row]
    return InlineKeyboardMarkup(built) if built else None


def user_id(update: Update) -> int:
    """The id of the user behind an update (0 for a channel post)."""
    return update.effective_user.id if update.effective_user else 0


async def know_the_chat(update: Update, context: Context) -> None:
    """Before any handler: read the chat's chosen language once (off the event loop) and
    keep it in its chat data, where `chat_language` finds it without a query. The handlers
    that write the chat's row keep it up to date (`remember`)."""
    data = context.chat_data
    chat = update.effective_chat
    if chat is None or data is None:
        return
    _, store = context.bot_data.ready
    thread = topic_of(update)
    if thread is not None and thread not in data.topics:
        reader = await store.read(find_topic, chat.id, thread)
        if reader is not None:
            data.topics[thread] = reader
            remember(context, await store.read(get_subscriber, reader))
    if not data.language_known:
        remember(context, await store.read(get_subscriber, chat.id))


def remember(context: Context, sub: Subscriber | None) -> None:
    """The chat's (or a topic's) row as just read or written: its language is the one to
    answer in."""
    if context.chat_data is None:
        return
    if sub is not None and is_topic(sub.chat_id):
        context.chat_data.topic_languages[sub.chat_id] = sub.language
        return
    context.chat_data.language = sub.language if sub is not None else None
    context.chat_data.language_known = True


def chat_language(update: Update, context: Context) -> str:
    """The topic's or the chat's chosen language, else the user's Telegram language, else
    French."""
    data = context.chat_data
    thread = topic_of(update)
    if data is not None and thread is not None and thread in data.topics:
        chosen = data.topic_languages.get(data.topics[thread])
        if chosen is not None:
            return chosen
    if update.effective_chat is not None and data is not None and data.language is not None:
        return data.language
    user = update.effective_user
    return language_of(user.language_code if user else None)


def tr(update: Update, context: Context, key: str, /, **values: Any) -> str:
    """The catalogue text `key` in this chat's language (values escaped, as `t` does)."""
    return t(chat_language(update, context), key, **values)


async def reader_id(update: Update, context: Context) -> int:
    """Who is asking: the chat, or in a forum the topic the update came from (each topic
    a reader of its own: subscription, settings, follows, sources)."""
    chat = update.effective_chat
    assert chat is not None
    thread = topic_of(update)
    if thread is None:
        return chat.id
    data = context.chat_data
    if data is not None and thread in data.topics:
        return data.topics[thread]
    _, store = context.bot_data.ready
    reader = await store.write(topic_reader, chat.id, thread)
    if data is not None:
        data.topics[thread] = reader
    return reader


async def chat_row(update: Update, context: Context) -> Subscriber:
    """The chat's (in a forum, the topic's) subscriber row, created with defaults the first
    time (on the writer)."""
    settings, store = context.bot_data.ready
    chat = update.effective_chat
    assert chat is not None
    user = update.effective_user
    reader = await reader_id(update, context)
    title = chat.title or (user.full_name if user else None)
    if reader != chat.id:
        title = f"{title or chat.id} · #{topic_of(update)}"
    sub = await store.write(
        ensure_chat,
        reader,
        chat.type,
        title,
        language=language_of(user.language_code if user else None),
        timezone=settings.timezone,
        digest_day=settings.digest_day,
        digest_time=settings.digest_time.strftime("%H:%M"),
    )
    remember(context, sub)
    return sub


def topic_of(update: Update) -> int | None:
    """The forum topic the update came from (a command, or a button under a message there),
    so that the answer goes there too; None outside forum topics ("General" included)."""
    message = update.effective_message
    if message is None or not message.is_topic_message:
        return None
    return message.message_thread_id


async def reply(
    update: Update, context: Context, text: str, buttons: Buttons = ()
) -> Message | None:
    """Answer in the chat (in its topic, in a forum): split under 4096 UTF-16 units, buttons
    under the last part."""
    chat = update.effective_chat
    if chat is None:
        return None
    parts = split_blocks(text.split("\n\n")) or [text]
    sent = None
    for n, part in enumerate(parts):
        markup = keyboard(buttons) if n == len(parts) - 1 else None
        sent = await context.bot.send_message(chat.id, part, reply_markup=markup,
                                              message_thread_id=topic_of(update))  # fmt: skip
    return sent


async def edit_or_reply(update: Update, context: Context, text: str, buttons: Buttons = ()) -> None:
    """Edit the message whose button was tapped, or send a new one."""
    query = update.callback_query
    if query is not None and query.message is not None:
        try:
            await query.edit_message_text(text, reply_markup=keyboard(buttons))
            return
        except TelegramError as exc:
            if "not modified" in str(exc).lower():
                return
            log.info("edit failed (%s); sending a new message", exc)
    await reply(update, context, text, buttons)


def is_admin(update: Update, context: Context) -> bool:
    """The user is in ADMIN_IDS."""
    settings, _ = context.bot_data.ready
    user = update.effective_user
    return user is not None and user.id in settings.admin_ids


async def record(update: Update, context: Context, action: str, **details: Any) -> None:
    """Add an admin's action to the audit log (on the writer)."""
    _, store = context.bot_data.ready
    await store.write(audit, user_id(update), action, **details)


R = TypeVar("R")


def admin_only(
    func: Callable[[Update, Context], Coroutine[Any, Any, R]],
) -> Callable[[Update, Context], Coroutine[Any, Any, R | None]]:
    """Refuse politely (and log the attempt) unless the user is an admin; else run `func`
    and return what it returns (a conversation's next state)."""

    @wraps(func)
    async def guarded(update: Update, context: Context) -> R | None:
        _, store = context.bot_data.ready
        user = update.effective_user
        attempt = func.__name__.removeprefix("cmd_").removeprefix("on_")
        if is_admin(update, context):
            query = update.callback_query
            detail = query.data if query else " ".join(context.args or [])
            await store.write(audit, user.id if user else None, attempt,
                              input=(detail or "")[:200])  # fmt: skip
            return await func(update, context)
        log.warning("refused admin action %s for user %s", attempt, user.id if user else None)
        await store.write(audit, user.id if user else None, "refused", attempted=attempt)
        if update.callback_query is not None:
            await update.callback_query.answer(t(chat_language(update, context), "not_admin"))
        else:
            await reply(update, context, t(chat_language(update, context), "not_admin"))
        return None

    return guarded


ADMIN_CACHE_SECONDS = 60.0


async def may_change_settings(update: Update, context: Context) -> bool:
    """In a private chat, yes. In a group, only its administrators. In a channel, a post
    (only its administrators can post) or a button tapped by one of its administrators —
    never any reader. Administrator checks (`getChatMember`) that say yes are cached for a minute."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or chat.type == ChatType.PRIVATE:
        return True
    if chat.type == ChatType.CHANNEL and update.callback_query is None:
        return True  # a channel post: only the channel's administrators can post
    if user is None:
        return False
    cache = context.bot_data.admin_cache
    key = (chat.id, user.id)
    now = time.monotonic()
    known = cache.get(key)
    if known is not None and now - known[1] < ADMIN_CACHE_SECONDS:
        return known[0]  # only a yes is kept: a user just made administrator is not refused
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError:
        return False
    allowed = member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
    if allowed:
        if len(cache) > 10_000:
            cache.clear()
        cache[key] = (True, now)
    return allowed


async def refused(update: Update, context: Context) -> bool:
    """Unless this user may change this chat (`may_change_settings`), answer that only its
    administrators can (an alert under a tapped button, else a reply) and return True."""
    if await may_change_settings(update, context):
        return False
    text = t(chat_language(update, context), "group_admins_only")
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await reply(update, context, text)
    return True


# Commands that also work when posted in a channel the bot administers.
IN_CHANNELS = filters.UpdateType.MESSAGES | filters.UpdateType.CHANNEL_POST


def day_code(day: int) -> str:
    """0 → 'mon'."""
    return DAYS[day]
