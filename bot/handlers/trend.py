"""/trend: a topic over the weeks as a chart, with buttons for the range and the count;
search results chart their query with 📈."""

from __future__ import annotations

import logging

from telegram import InputMediaPhoto, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.chart import Chart, ChartCache, ChartError, make_chart
from bot.handlers.common import (
    IN_CHANNELS,
    Buttons,
    Command,
    Context,
    chat_language,
    edit_or_reply,
    keyboard,
    reply,
    topic_of,
)
from bot.handlers.search import remember_query
from bot.i18n import Html, t
from bot.query import QueryError
from bot.trend import DEFAULT_RANGE, MODES, RANGES
from storage.search import SearchSyntaxError

COMMANDS = [
    Command(
        "trend",
        {
            "fr": "un sujet semaine après semaine, en courbe : /trend drones, missiles",
            "en": "a topic week by week, as a chart: /trend drones, missiles",
            "uk": "тема тиждень за тижнем, графіком: /trend дрони, ракети",
        },
    ),
]
log = logging.getLogger(__name__)
BUTTON = r"^tr:[0-9a-f]{8}:(3m|6m|1y|all):[bi]$"


async def chart_for(context: Context, text: str, range_code: str, mode: str, language: str
                    ) -> Chart:  # fmt: skip
    """The chart of `text` for this chat, or the cached one."""
    settings, store = context.bot_data.ready
    data = context.bot_data
    if data.charts is None:
        data.charts = ChartCache()
    return await make_chart(store, data.charts, data.analyzer, settings.tz, data.clock(),
                            text, range_code, mode, language)  # fmt: skip


def buttons(language: str, qid: str, range_code: str, mode: str) -> Buttons:
    """The range row and the count row, the current choice marked."""

    def label(key: str, chosen: bool) -> str:
        return ("• " if chosen else "") + t(language, key)

    ranges = [(label(f"btn_trend_{r}", r == range_code), f"tr:{qid}:{r}:{mode}") for r in RANGES]
    modes = [(label(f"btn_trend_{m}", m == mode), f"tr:{qid}:{range_code}:{m}") for m in MODES]
    return [ranges, modes]


async def show_trend(
    update: Update, context: Context, text: str, range_code: str = DEFAULT_RANGE, mode: str = "b"
) -> None:
    """Send the chart, or edit the chart whose button was tapped."""
    language = chat_language(update, context)
    query = update.callback_query
    try:
        chart = await chart_for(context, text, range_code, mode, language)
    except QueryError as exc:
        problem = t(language, f"qerr_{exc.key}", **exc.values)
        if query is not None:
            await query.answer()
        await edit_or_reply(update, context, t(language, "trend_usage", hint=Html(
            f"{problem} {t(language, 'trend_hint')}")))  # fmt: skip
        return
    except SearchSyntaxError as exc:
        await reply(update, context, t(language, "adm_fts_error", error=str(exc)))
        return
    except ChartError as exc:  # logged by the painter; the chat gets a sentence, not silence
        log.warning("chart for %r not drawn: %s", text[:80], exc)
        if query is not None:
            await query.answer(t(language, "trend_failed"), show_alert=True)
        else:
            await reply(update, context, t(language, "trend_failed"))
        return
    rows = buttons(language, remember_query(context, text), range_code, mode)
    message = query.message if query is not None else None
    if chart.png is None:
        if query is not None and message is not None and getattr(message, "photo", None):
            await query.answer(t(language, "trend_nothing_here"))  # keep the chart shown
            return
        if query is not None:
            await query.answer()
        await edit_or_reply(update, context, chart.caption, rows)
        return
    if query is not None:
        await query.answer()
    if query is not None and message is not None and getattr(message, "photo", None):
        try:
            await query.edit_message_media(
                InputMediaPhoto(chart.png, caption=chart.caption, parse_mode=ParseMode.HTML),
                reply_markup=keyboard(rows),
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise
        return
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_photo(chat.id, chart.png, caption=chart.caption,
                                 reply_markup=keyboard(rows),
                                 message_thread_id=topic_of(update))  # fmt: skip


async def cmd_trend(update: Update, context: Context) -> None:
    """/trend drones, missiles, Patriot."""
    text = " ".join(context.args or [])
    if not text.strip():
        language = chat_language(update, context)
        await reply(update, context, t(language, "trend_usage", hint=t(language, "trend_hint")))
        return
    await show_trend(update, context, text)


async def on_trend_button(update: Update, context: Context) -> None:
    """A range or count button under a chart, or 📈 under search results."""
    query = update.callback_query
    assert query is not None and query.data is not None
    _, qid, range_code, mode = query.data.split(":")
    text = context.chat_data.searches.get(qid) if context.chat_data else None
    if text is None:
        await query.answer(t(chat_language(update, context), "expired"))
        return
    await show_trend(update, context, text, range_code, mode)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add this feature's handlers."""
    app.add_handler(CommandHandler("trend", cmd_trend, filters=IN_CHANNELS))
    app.add_handler(CallbackQueryHandler(on_trend_button, pattern=BUTTON))
