"""Questions: /search, plain text in private chats, result pages, and inline mode."""

from __future__ import annotations

import logging
from uuid import uuid4

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ChatType
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, InlineQueryHandler

from bot.handlers.common import Command, Context, chat_language, edit_or_reply, is_admin
from bot.i18n import Html, language_of, t
from bot.render import esc, sources_line
from bot.search import HIGHLIGHT_END, HIGHLIGHT_START, Hit, QueryError, Results, search
from storage.search import SearchSyntaxError

log = logging.getLogger(__name__)
PER_PAGE = 5
KEPT_SEARCHES = 20
COMMANDS = [
    Command(
        "search",
        {
            "fr": "chercher : /search patriot",
            "en": "search: /search patriot",
            "uk": "пошук: /search patriot",
        },
    ),
]


def marked(snippet: str) -> str:
    """A snippet with markers, as escaped HTML with matched words in bold."""
    return esc(snippet).replace(HIGHLIGHT_START, "<b>").replace(HIGHLIGHT_END, "</b>")


def hit_block(n: int, hit: Hit, language: str = "fr", bot_username: str | None = None) -> str:
    """One result: number, snippet, date and bulletin; for a story other outlets told too,
    its sources, each linked to its original."""
    block = (
        f"{n}. {marked(hit.snippet)}\n<i>{hit.published_at[:10]} · {esc(hit.bulletin_title)}</i>"
    )
    if hit.sources:
        block += "\n" + sources_line(language, hit.sources, bot_username)
    return block


async def _run(
    context: Context, query: str, page: int, admin: bool, bulletin: int | None, language: str
) -> Results:
    """The search, on a reader thread: the event loop keeps answering meanwhile."""
    settings, store = context.bot_data.ready
    return await store.read(
        search, query, context.bot_data.analyzer, page=page, per_page=PER_PAGE, admin=admin,
        now=context.bot_data.clock(), half_life_days=settings.search_half_life_days,
        bulletin=bulletin, reader_language=language,
    )  # fmt: skip


async def answer_search(
    update: Update, context: Context, query: str, page: int = 0, bulletin: int | None = None
) -> None:
    """Run a search and show one page — one result per bulletin, or every match of one
    bulletin — with ◀ ▶, 📖 (the paragraph) and ➕ (more from that bulletin) buttons."""
    language = chat_language(update, context)
    try:
        results = await _run(context, query, page, is_admin(update, context), bulletin, language)
    except QueryError as exc:
        problem = t(language, f"qerr_{exc.key}", **exc.values)
        await edit_or_reply(update, context, t(language, "search_usage", hint=Html(
            f"{problem} {t(language, 'search_hint')}"
        )))  # fmt: skip
        return
    except SearchSyntaxError as exc:
        await edit_or_reply(update, context, t(language, "adm_fts_error", error=str(exc)))
        return
    if not results.hits:
        await edit_or_reply(update, context, t(language, "nothing_found", query=query[:200]))
        return
    first = page * PER_PAGE + 1
    header = t(language, "results", query=query[:100], first=first,
               last=first + len(results.hits) - 1, total=results.total)  # fmt: skip
    if bulletin is not None:  # "more from this bulletin": say which
        header += "\n" + t(language, "results_within", title=results.hits[0].bulletin_title)
    if results.corrections:  # "Harkiv" was read as "Kharkiv": say so
        header += "\n" + t(language, "corrected",
                           words=", ".join(shown for _, shown in results.corrections),
                           typed=", ".join(typed for typed, _ in results.corrections))  # fmt: skip
    if results.partial:  # no bulletin has every word: say how many these have
        header += "\n" + t(language, "partial", n=results.best, m=results.words)
    blocks = [header] + [hit_block(first + k, h, language, context.bot.username)
                         for k, h in enumerate(results.hits)]  # fmt: skip
    qid = remember_query(context, query)
    where = f":{bulletin}" if bulletin is not None else ""
    nav = []
    if page > 0:
        nav.append(("◀", f"sp:{qid}:{page - 1}{where}"))
    if results.has_next:
        nav.append(("▶", f"sp:{qid}:{page + 1}{where}"))
    if bulletin is None:  # the query over the weeks, as a chart (/trend)
        nav.append(("📈", f"tr:{qid}:6m:b"))
    reads = [
        (t(language, "btn_read", n=first + k), f"rd:{h.item_id}")
        for k, h in enumerate(results.hits)
    ]
    more = [
        (t(language, "btn_more_here", n=first + k, count=h.also), f"sp:{qid}:0:{h.bulletin_id}")
        for k, h in enumerate(results.hits) if h.also and bulletin is None
    ]  # fmt: skip
    await edit_or_reply(update, context, "\n\n".join(blocks), [reads, more, nav])


def remember_query(context: Context, query: str) -> str:
    """A short id for the query, kept in chat data for the page buttons."""
    assert context.chat_data is not None
    searches = context.chat_data.searches
    for qid, known in searches.items():
        if known == query:
            return qid
    qid = uuid4().hex[:8]
    searches[qid] = query
    while len(searches) > KEPT_SEARCHES:
        searches.pop(next(iter(searches)))
    return qid


async def cmd_search(update: Update, context: Context) -> None:
    """/search words."""
    await answer_search(update, context, " ".join(context.args or []))


async def on_page(update: Update, context: Context) -> None:
    """◀ or ▶ under results."""
    query = update.callback_query
    assert query is not None and query.data is not None
    _, qid, page, *where = query.data.split(":")
    text = context.chat_data.searches.get(qid) if context.chat_data else None
    if text is None:
        await query.answer(t(chat_language(update, context), "expired"))
        return
    await query.answer()
    await answer_search(update, context, text, int(page), int(where[0]) if where else None)


async def on_plain_text(update: Update, context: Context) -> bool:
    """Plain text in a private chat is a question; True if handled."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None or chat.type != ChatType.PRIVATE or message is None or not message.text:
        return False
    await answer_search(update, context, message.text)
    return True


async def on_inline(update: Update, context: Context) -> None:
    """`@bot words` in any chat: the same items as articles."""
    inline = update.inline_query
    if inline is None:
        return
    articles = []
    if inline.query.strip():
        try:
            settings, store = context.bot_data.ready
            results = await store.read(
                search, inline.query, context.bot_data.analyzer, per_page=10,
                now=context.bot_data.clock(), half_life_days=settings.search_half_life_days,
                reader_language=language_of(inline.from_user.language_code),
            )  # fmt: skip
        except QueryError:
            results = None
        for hit in results.hits if results else []:
            articles.append(
                InlineQueryResultArticle(
                    id=str(hit.item_id),
                    title=f"{hit.published_at[:10]} · {hit.bulletin_title}"[:120],
                    description=hit.snippet.replace(HIGHLIGHT_START, "").replace(HIGHLIGHT_END, ""),
                    input_message_content=InputTextMessageContent(hit_block(0, hit)[3:]),
                )
            )
    await inline.answer(articles, cache_time=30, is_personal=False)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add this feature's handlers."""
    app.add_handler(CommandHandler("search", cmd_search))
    app.add_handler(CallbackQueryHandler(on_page, pattern=r"^sp:[0-9a-f]{8}:\d{1,3}(:\d{1,12})?$"))
    app.add_handler(InlineQueryHandler(on_inline))
