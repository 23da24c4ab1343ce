"""The Telegram application: built from settings, resources opened in post_init."""

from __future__ import annotations

import asyncio
import html
import logging
from dataclasses import dataclass, field

from sqlite_utils import Database
from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackContext,
    CommandHandler,
    ContextTypes,
    Defaults,
    ExtBot,
)

from bot.config import Settings
from bot.ingest import poll_sources
from bot.maintenance import prepare_database
from bot.search import HIGHLIGHT_END, HIGHLIGHT_START, QueryError, search
from bot.text.analyze import analyzer_for
from storage import open_db

log = logging.getLogger(__name__)


@dataclass
class BotData:
    """What handlers reach through `context.bot_data`: settings and the database."""

    settings: Settings | None = None
    db: Database | None = field(default=None, repr=False)


Context = CallbackContext[ExtBot[None], dict[object, object], dict[object, object], BotData]
COMMANDS = [
    ("start", "what Hebdo does"),
    ("help", "list the commands"),
    ("search", "search the archive: /search patriot"),
]


async def cmd_start(update: Update, context: Context) -> None:
    """Greet the user."""
    if update.effective_message:
        await update.effective_message.reply_text(
            "<b>Hebdo</b> turns news bulletins into a weekly digest.\n"
            "Try /search patriot, or /help for every command."
        )


async def cmd_help(update: Update, context: Context) -> None:
    """List every registered command."""
    if update.effective_message:
        lines = [f"/{name} — {html.escape(text)}" for name, text in COMMANDS]
        await update.effective_message.reply_text("\n".join(lines))


async def cmd_search(update: Update, context: Context) -> None:
    """Search the archive and answer with the best items."""
    message = update.effective_message
    db = context.bot_data.db
    if message is None or db is None:
        return
    query = " ".join(context.args or [])
    settings = context.bot_data.settings
    assert settings is not None
    try:
        hits = search(db, query, analyzer_for(settings.variants_file)).hits
    except QueryError:
        await message.reply_text("Usage: /search WORDS — for example /search patriot")
        return
    if not hits:
        await message.reply_text(f"Nothing found for <i>{html.escape(query[:100])}</i>.")
        return
    blocks = []
    for h in hits:
        snippet = (
            html.escape(h.snippet).replace(HIGHLIGHT_START, "<b>").replace(HIGHLIGHT_END, "</b>")
        )
        title = html.escape(h.bulletin_title)
        blocks.append(f"<i>{h.published_at[:10]} · {title}</i>\n{snippet}")
    await message.reply_text("\n\n".join(blocks))


async def poll_job(context: Context) -> None:
    """Ingest the inbox and the feeds in a worker thread, with its own connection."""
    settings = context.bot_data.settings
    if settings is None:
        return

    def work() -> str:
        db = open_db(settings.database_path)
        try:
            return poll_sources(db, settings).summary()
        finally:
            db.close()

    summary = await asyncio.to_thread(work)
    log.info("poll: %s", summary)


async def post_init(app: Application) -> None:  # type: ignore[type-arg]
    """Open the database and announce the commands."""
    data: BotData = app.bot_data
    assert data.settings is not None
    data.db = open_db(data.settings.database_path)
    prepare_database(data.db, data.settings)
    await app.bot.set_my_commands([BotCommand(n, d) for n, d in COMMANDS])


async def post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
    """Close the database."""
    data: BotData = app.bot_data
    if data.db is not None:
        data.db.close()
        data.db = None


async def on_error(update: object, context: Context) -> None:
    """Log unexpected errors (never the token) and tell the user briefly."""
    log.error("unhandled error", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message:
        await update.effective_message.reply_text("Sorry, something went wrong. Try again.")


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    """The application, with handlers and the poll job, not yet started."""
    assert settings.telegram_bot_token
    context_types = ContextTypes(bot_data=BotData)
    app = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_file_base_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz))
        .context_types(context_types)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    app.bot_data.settings = settings
    app.add_handler(CommandHandler("start", cmd_start))
    app.add_handler(CommandHandler("help", cmd_help))
    app.add_handler(CommandHandler("search", cmd_search))
    app.add_error_handler(on_error)
    if app.job_queue is not None:
        app.job_queue.run_repeating(
            poll_job, interval=settings.poll_minutes * 60, first=5, name="poll"
        )
    return app


def run_bot(settings: Settings) -> None:
    """Run the bot with long polling until interrupted."""
    build_application(settings).run_polling(allowed_updates=Update.ALL_TYPES)
