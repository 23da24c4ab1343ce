"""Admins look after the archive: /bulletins (a page at a time), /delete with an Undo
button."""

from __future__ import annotations

import logging

from sqlite_utils import Database
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.handlers.common import (
    Command,
    Context,
    admin_only,
    edit_or_reply,
    parse_id,
    record,
    reply,
    tr,
)
from bot.render import esc, shorten
from storage.bulletins import count_bulletins, get_bulletin, list_bulletins, set_deleted
from storage.models import Bulletin

log = logging.getLogger(__name__)
PAGE = 8
COMMANDS = [
    Command(
        "bulletins",
        {
            "fr": "liste des bulletins",
            "en": "list bulletins",
            "uk": "список бюлетенів",
        },
        admin=True,
    ),
    Command(
        "delete",
        {
            "fr": "retirer un bulletin : /delete 12",
            "en": "remove a bulletin: /delete 12",
            "uk": "прибрати бюлетень",
        },
        admin=True,
    ),
]


@admin_only
async def cmd_bulletins(update: Update, context: Context) -> None:
    """Bulletins, newest first, a page at a time."""
    page = 0
    if update.callback_query and update.callback_query.data:
        page = int(update.callback_query.data.split(":")[1])
        await update.callback_query.answer()
    _, store = context.bot_data.ready
    total, rows = await store.read(_page, page)
    if not rows:
        await edit_or_reply(update, context, tr(update, context, "adm_no_bulletins"))
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
    header = tr(update, context, "adm_bulletins_page", first=page * PAGE + 1,
                last=page * PAGE + len(rows), total=total)  # fmt: skip
    await edit_or_reply(update, context, header + "\n" + "\n".join(lines), [nav])


def _page(db: Database, page: int) -> tuple[int, list[Bulletin]]:
    return count_bulletins(db), list_bulletins(db, limit=PAGE, offset=page * PAGE)


@admin_only
async def cmd_delete(update: Update, context: Context) -> None:
    """/delete ID — hide a bulletin (soft delete), with an Undo button."""
    _, store = context.bot_data.ready
    bulletin_id = parse_id((context.args or [""])[0])
    if bulletin_id is None:
        await reply(update, context, tr(update, context, "adm_delete_usage"))
        return
    detail = await store.read(get_bulletin, bulletin_id)
    if detail is None:
        await reply(update, context, tr(update, context, "adm_no_such_bulletin", id=bulletin_id))
        return
    if not await store.write(set_deleted, bulletin_id, True):
        await reply(
            update,
            context,
            tr(update, context, "adm_already_deleted", id=bulletin_id),
            [[(tr(update, context, "adm_btn_undo"), f"und:{bulletin_id}")]],
        )
        return
    await record(update, context, "delete", bulletin_id=bulletin_id)
    await reply(update, context,
                tr(update, context, "adm_deleted", id=bulletin_id, title=detail.bulletin.title),
                [[(tr(update, context, "adm_btn_undo"), f"und:{bulletin_id}")]])  # fmt: skip


@admin_only
async def on_undo(update: Update, context: Context) -> None:
    """Undo a deletion."""
    query = update.callback_query
    assert query is not None and query.data is not None
    _, store = context.bot_data.ready
    bulletin_id = int(query.data.split(":")[1])
    if not await store.write(set_deleted, bulletin_id, False):
        await query.answer(tr(update, context, "expired"))
        return
    await record(update, context, "undelete", bulletin_id=bulletin_id)
    await query.answer()
    await edit_or_reply(update, context, tr(update, context, "adm_restored", id=bulletin_id))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add this feature's handlers."""
    app.add_handler(CommandHandler("bulletins", cmd_bulletins))
    app.add_handler(CommandHandler("delete", cmd_delete))
    app.add_handler(CallbackQueryHandler(cmd_bulletins, pattern=r"^bl:\d{1,5}$"))
    app.add_handler(CallbackQueryHandler(on_undo, pattern=r"^und:\d{1,12}$"))
