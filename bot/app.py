"""The Telegram application: built from settings; resources opened in post_init, closed after."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from sqlite_utils import Database
from telegram import BotCommand, BotCommandScopeChat, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.alerts import ALERT_MINUTES, AlertCollector
from bot.config import Settings
from bot.delivery.pacing import unreachable
from bot.handlers import (
    archive,
    delivery,
    follow,
    posting,
    reading,
    search,
    sources,
    subscribe,
    trend,
)
from bot.handlers.common import (
    IN_CHANNELS,
    BotData,
    ChatData,
    Command,
    Context,
    UserData,
    chat_language,
    is_admin,
    know_the_chat,
    reply,
    topic_of,
)
from bot.i18n import Html, t
from bot.jobs import alert_job, poll_job, start_sender, stop_sender, tick_job
from bot.languages import READER_LANGUAGES
from bot.maintenance import prepare_database
from bot.render import esc
from bot.transport import AiohttpRequest
from bot.updates import ChatOrderedProcessor
from storage import open_db
from storage.bulletins import count_bulletins
from storage.people import find_topic, mark_inactive, subscriber_stats
from storage.store import Store

log = logging.getLogger(__name__)
FEATURES = (subscribe, reading, search, trend, follow, posting, archive, sources, delivery)
HELP = [
    Command(
        "help",
        {
            "fr": "cette aide",
            "en": "this help",
            "uk": "ця довідка",
        },
    ),
    Command(
        "cancel",
        {
            "fr": "abandonner la question ou la publication en cours",
            "en": "drop the pending question or the post in progress",
            "uk": "скасувати питання чи публікацію",
        },
    ),
]


def all_commands() -> list[Command]:
    """Every command the bot registers, in the order /help lists them."""
    return [*HELP, *(c for feature in FEATURES for c in feature.COMMANDS)]


async def cmd_help(update: Update, context: Context) -> None:
    """Every command this user can run, generated from the registered ones."""
    language = chat_language(update, context)
    admin_user = is_admin(update, context)
    lines = [
        f"/{c.name} — {esc(c.describe(language))}" + (" 🔒" if c.admin else "")
        for c in all_commands()
        if admin_user or not c.admin
    ]
    await reply(update, context, t(language, "help", commands=Html("\n".join(lines))))


async def on_text(update: Update, context: Context) -> None:
    """Plain text, offered in this order, the first taker wins: the answer to a pending
    "which time zone?" question of this chat; then an admin's post in progress (its text or
    a new title); else a search (in a private chat)."""
    for handler in (subscribe.on_text, search.on_plain_text):
        if await handler(update, context):
            return


THROTTLE_BURST = 20  # messages a user may send at once…
THROTTLE_RATE = 3.0  # …then this many a second


async def throttle(update: Update, context: Context) -> None:
    """Before any handler: a user who sends more than a few updates a second is told once to
    slow down and the extra updates are dropped, so no one starves the others. Admins are
    not throttled."""
    context.bot_data.last_update_at = context.bot_data.clock()
    user = update.effective_user
    if user is None or is_admin(update, context):
        return
    buckets = context.bot_data.throttle
    now = time.monotonic()
    tokens, last, warned = buckets.get(user.id, (float(THROTTLE_BURST), now, False))
    tokens = min(float(THROTTLE_BURST), tokens + (now - last) * THROTTLE_RATE)
    if tokens >= 1.0:
        buckets[user.id] = (tokens - 1.0, now, False)
        return
    buckets[user.id] = (tokens, now, True)
    if not warned:
        text = t(chat_language(update, context), "slow_down")
        if update.callback_query is not None:
            await update.callback_query.answer(text)
        elif update.effective_chat is not None and update.effective_chat.type == "private":
            await reply(update, context, text)
    if len(buckets) > 100_000:
        buckets.clear()
    raise ApplicationHandlerStop


async def cmd_cancel(update: Update, context: Context) -> None:
    """End whatever the bot is waiting for in this chat: a time zone, an admin's post."""
    language = chat_language(update, context)
    ended = []
    if subscribe.end_tz_question(context):
        ended.append(t(language, "tz_question_closed"))
    if is_admin(update, context) and posting.drop_draft(context):
        ended.append(t(language, "adm_post_cancelled"))
    await reply(update, context, "\n".join(ended) or t(language, "nothing_to_cancel"))


async def end_pending_on_command(update: Update, context: Context) -> None:
    """Another command ends a pending question — "which time zone?", or the text or title a
    post waits for — and the bot says so."""
    message = update.effective_message
    text = message.text if message is not None and message.text else ""
    if text.startswith("/cancel"):
        return
    if subscribe.end_tz_question(context):
        await reply(update, context, t(chat_language(update, context), "tz_question_closed"))
    if not text.startswith("/post") and (key := posting.end_question(context)) is not None:
        await reply(update, context, t(chat_language(update, context), key))


async def on_unknown_command(update: Update, context: Context) -> None:
    """A command the bot does not know."""
    chat = update.effective_chat
    if chat is not None and chat.type == "private":
        await reply(update, context, t(chat_language(update, context), "unknown_command"))


async def on_stale_button(update: Update, context: Context) -> None:
    """Any callback data no handler accepted: old, forged or malformed."""
    if update.callback_query is not None:
        await update.callback_query.answer(t(chat_language(update, context), "expired"))


async def post_init(app: Application) -> None:  # type: ignore[type-arg]
    """Open the database, bring it up to date, start the sender, announce the commands."""
    data: BotData = app.bot_data
    assert data.settings is not None
    if data.settings.alert_chat_id is not None and data.alerts is None:
        data.alerts = AlertCollector()
        logging.getLogger().addHandler(data.alerts)
    db = open_db(data.settings.database_path)  # migrations, then this connection is done
    try:
        prepare_database(db, data.settings)
    finally:
        db.close()
    data.store = Store(data.settings.database_path)
    await start_sender(app)
    bulletins, stats = await data.store.read(_census)
    log.info("Hebdo @%s: database %s, %d bulletins, %d subscribers, %s",
             app.bot.username, data.settings.database_path, bulletins,
             sum(stats["by_language"].values()), data.settings.mode)  # fmt: skip
    await set_menus(app)


def _census(db: Database) -> tuple[int, dict[str, Any]]:
    return count_bulletins(db), subscriber_stats(db)


async def set_menus(app: Application) -> None:  # type: ignore[type-arg]
    """The command menu in each language (English for everyone else), and, in each admin's
    private chat, the admin commands too. A refusal is logged, never fatal."""
    settings, _ = app.bot_data.ready
    commands = all_commands()

    def menu(language: str, admin_menu: bool) -> list[BotCommand]:
        wanted = [c for c in commands if admin_menu or not c.admin]
        return [BotCommand(c.name, c.describe(language)) for c in wanted]

    try:
        await app.bot.set_my_commands(menu("en", False))
        for language in READER_LANGUAGES:
            await app.bot.set_my_commands(menu(language, False), language_code=language)
        for admin_id in sorted(settings.admin_ids):
            await app.bot.set_my_commands(menu(settings.default_language, True),
                                          scope=BotCommandScopeChat(admin_id))  # fmt: skip
    except TelegramError as exc:
        log.warning("could not set the command menus: %s", exc)


async def post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
    """Close the database."""
    data: BotData = app.bot_data
    if data.alerts is not None:
        logging.getLogger().removeHandler(data.alerts)
        data.alerts = None
    await stop_sender(data)
    if data.store is not None:
        await asyncio.to_thread(data.store.close)  # after the work queued on it
        data.store = None


async def on_error(update: object, context: Context) -> None:
    """Log unexpected errors (never the token), mark unreachable chats, answer briefly."""
    error = context.error
    chat = update.effective_chat if isinstance(update, Update) else None
    if unreachable(error):
        store = context.bot_data.store
        if chat is not None and store is not None:
            thread = topic_of(update) if isinstance(update, Update) else None
            # a closed topic is that topic's reader gone, never the whole group
            reader = chat.id if thread is None else await store.read(find_topic, chat.id, thread)
            if reader is not None:
                await store.write(mark_inactive, reader, str(error))
                log.info("chat %s marked inactive: %s", reader, error)
        return
    log.error("unhandled error while handling an update", exc_info=error)
    if isinstance(update, Update) and chat is not None:
        try:
            if update.callback_query is not None:
                await update.callback_query.answer(t(chat_language(update, context), "error"))
            else:
                await context.bot.send_message(chat.id, t(chat_language(update, context), "error"),
                                               message_thread_id=topic_of(update))  # fmt: skip
        except Exception:  # the error answer must never raise in turn
            log.warning("could not tell the user about the error")


def bot_api_requests() -> tuple[AiohttpRequest, AiohttpRequest]:
    """The Bot API clients (aiohttp, `bot.transport`): a pool of 256 connections for calls,
    one for getUpdates, PTB's timeouts."""
    return AiohttpRequest(connections=256), AiohttpRequest(connections=1)


def build_application(settings: Settings, *, rate_limit: bool = True) -> Application:  # type: ignore[type-arg]
    """The application with every feature registered and the poll job; not started.

    `rate_limit` paces replies to Telegram's limits (30/s overall, 20/min per group) and
    retries once told to wait (429); benchmarks of the bot's own speed turn it off.
    """
    calls, updates = bot_api_requests()
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token or "")
        .request(calls)
        .get_updates_request(updates)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_file_base_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=settings.tz,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .context_types(ContextTypes(bot_data=BotData, chat_data=ChatData, user_data=UserData))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .concurrent_updates(ChatOrderedProcessor())  # chats side by side, each in order
    )
    if rate_limit:  # the builder's generic type changes with a rate limiter; same object
        builder.rate_limiter(AIORateLimiter(max_retries=2))
    app = builder.build()
    app.bot_data.settings = settings
    app.add_handler(TypeHandler(Update, know_the_chat), group=-3)
    app.add_handler(MessageHandler(filters.COMMAND, end_pending_on_command), group=-2)
    app.add_handler(TypeHandler(Update, throttle), group=-1)
    app.add_handler(CommandHandler("help", cmd_help, filters=IN_CHANNELS))
    app.add_handler(CommandHandler("cancel", cmd_cancel))
    for feature in FEATURES:
        feature.register(app)
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(MessageHandler(filters.COMMAND, on_unknown_command))
    app.add_handler(CallbackQueryHandler(on_stale_button))
    app.add_error_handler(on_error)
    if app.job_queue is not None:
        app.job_queue.run_repeating(
            poll_job, interval=settings.poll_minutes * 60, first=10, name="poll",
            job_kwargs={"misfire_grace_time": 60, "coalesce": True},
        )  # fmt: skip
        app.job_queue.run_repeating(
            tick_job, interval=60, first=1, name="tick",
            job_kwargs={"misfire_grace_time": 300, "coalesce": True},
        )  # fmt: skip
        if settings.alert_chat_id is not None:
            app.job_queue.run_repeating(
                alert_job, interval=ALERT_MINUTES * 60, first=ALERT_MINUTES * 60, name="alerts",
                job_kwargs={"misfire_grace_time": 300, "coalesce": True},
            )  # fmt: skip
    return app
