"""Subscribing and settings: /start, /subscribe, /unsubscribe, /settings and their buttons."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlite_utils import Database
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.digest import LENGTH_ITEMS
from bot.handlers.common import (
    IN_CHANNELS,
    Buttons,
    Command,
    Context,
    chat_language,
    chat_row,
    edit_or_reply,
    may_change_settings,
    parse_id,
    refused,
    remember,
    reply,
    tick_now,
)
from bot.i18n import LANGUAGE_NAMES, day_name, t
from bot.render import shorten
from storage.feeds import admin_feeds, feed_titles
from storage.people import (
    ADMIN,
    INBOX,
    MODES,
    Subscriber,
    set_source,
    sources_off,
    subscribe,
    update_settings,
)

COMMON_ZONES = (
    "Europe/Paris", "Europe/Kyiv", "Europe/London", "Europe/Berlin", "Europe/Warsaw",
    "America/New_York", "America/Montreal", "America/Los_Angeles", "Asia/Tokyo", "UTC",
)  # fmt: skip
COMMANDS = [
    Command(
        "start",
        {
            "fr": "présentation",
            "en": "what Hebdo does",
            "uk": "про бота",
        },
    ),
    Command(
        "subscribe",
        {
            "fr": "recevoir le résumé",
            "en": "get the digest",
            "uk": "підписатися",
        },
    ),
    Command(
        "unsubscribe",
        {
            "fr": "ne plus rien recevoir",
            "en": "stop everything",
            "uk": "відписатися",
        },
    ),
    Command(
        "settings",
        {
            "fr": "jour, heure, fuseau, langue, envoi, longueur, sources",
            "en": "day, time, zone, language, delivery, length, sources",
            "uk": "день, час, пояс, мова, довжина, джерела",
        },
    ),
]


def settings_text(language: str, sub: Subscriber, default_length: str) -> str:
    """The settings card (`default_length`: the operator's, for a chat that chose none)."""
    length = sub.digest_length if sub.digest_length in LENGTH_ITEMS else default_length
    return t(
        language,
        "settings",
        day=day_name(language, sub.digest_day),
        time=sub.digest_time,
        tz=sub.timezone,
        language=LANGUAGE_NAMES.get(sub.language, sub.language),
        mode=t(language, f"mode_{sub.mode}"),
        length=t(language, f"length_{length}", n=LENGTH_ITEMS[length]),
        state=t(language, "state_on" if sub.subscribed and sub.active else "state_off"),
    )


def settings_buttons(language: str, sub: Subscriber) -> Buttons:
    """Buttons under the settings card."""
    toggle = ("btn_unsubscribe", "unsub") if sub.subscribed else ("btn_subscribe", "sub")
    return [
        [(t(language, "btn_day"), "set:day"), (t(language, "btn_hour"), "set:hour")],
        [(t(language, "btn_tz"), "set:tz"), (t(language, "btn_language"), "set:lang")],
        [(t(language, "btn_mode"), "set:mode"), (t(language, "btn_length"), "set:len")],
        [(t(language, "btn_sources"), "src:p:0"), (t(language, toggle[0]), toggle[1])],
    ]


def card(context: Context, sub: Subscriber) -> tuple[str, Buttons]:
    """The settings card and its buttons, in the chat's language."""
    settings, _ = context.bot_data.ready
    text = settings_text(sub.language, sub, settings.digest_length)
    return text, settings_buttons(sub.language, sub)


async def cmd_start(update: Update, context: Context) -> None:
    """Welcome in the user's language with a Subscribe button; `/start b12` opens bulletin 12."""
    if context.args and context.args[0].startswith("b"):  # a deep link: /start b12
        from bot.handlers.reading import show_bulletin

        bulletin_id = parse_id(context.args[0][1:])
        if bulletin_id is None:  # as /delete answers a non-number: the usage line
            await reply(update, context, t(chat_language(update, context), "open_usage"))
            return
        await show_bulletin(update, context, bulletin_id)
        return
    sub = await chat_row(update, context)
    user = update.effective_user
    name = user.first_name if user else ""
    buttons = [
        [(t(sub.language, "btn_subscribe"), "sub"), (t(sub.language, "btn_settings"), "set:menu")]
    ]
    if sub.subscribed:
        buttons = [[(t(sub.language, "btn_settings"), "set:menu")]]
    await reply(update, context, t(sub.language, "welcome", name=name), buttons)


async def cmd_subscribe(update: Update, context: Context) -> None:
    """Subscribe this chat to the weekly digest."""
    await _set_subscription(update, context, True)


async def cmd_unsubscribe(update: Update, context: Context) -> None:
    """Stop every message to this chat."""
    await _set_subscription(update, context, False)


async def _set_subscription(update: Update, context: Context, on: bool) -> None:
    if await refused(update, context):
        return
    sub = await chat_row(update, context)
    _, store = context.bot_data.ready
    changed, now = await store.write(subscribe, sub.chat_id, on)
    sub = now or sub
    if on:
        key = "subscribed" if changed else "already_subscribed"
        text = t(
            sub.language,
            key,
            day=day_name(sub.language, sub.digest_day),
            time=sub.digest_time,
            tz=sub.timezone,
        )
        buttons: Buttons = [[(t(sub.language, "btn_settings"), "set:menu")]]
    else:
        text = t(sub.language, "unsubscribed" if changed else "not_subscribed")
        buttons = [[(t(sub.language, "btn_subscribe"), "sub")]]
    if update.callback_query:
        await update.callback_query.answer()
    await reply(update, context, text, buttons)
    if on and changed:  # this week's edition, if its slot has passed, comes now
        tick_now(context)


async def cmd_settings(update: Update, context: Context) -> None:
    """Show the settings card with its buttons."""
    sub = await chat_row(update, context)
    await reply(update, context, *card(context, sub))


async def on_setting(update: Update, context: Context) -> None:
    """A settings button: open a picker, or store the picked value."""
    query = update.callback_query
    assert query is not None and query.data is not None
    language = chat_language(update, context)
    if await refused(update, context):
        return
    sub = await chat_row(update, context)
    parts = query.data.split(":")
    if parts[0] == "setv":
        stored = await _store(context, sub, parts[1], parts[2])
        if stored is None:
            await query.answer(t(language, "expired"))
            return
        if parts[1] == "tz" and parts[2] == "other":
            assert context.chat_data is not None
            context.chat_data.awaiting_tz = time.monotonic()
            await query.answer()
            await reply(update, context, t(sub.language, "ask_tz"))
            return
        await query.answer(t(language, "saved"))
        sub = stored
        await edit_or_reply(update, context, *card(context, sub))
        if parts[1] in ("day", "hour", "tz"):  # the slot moved: it may have come
            tick_now(context)
        return
    await query.answer()
    picker = parts[1]
    if picker == "menu":
        await edit_or_reply(update, context, *card(context, sub))
        return
    text, buttons = _picker(sub.language, picker)
    await edit_or_reply(
        update, context, text, [*buttons, [(t(sub.language, "btn_back"), "set:menu")]]
    )


def _picker(language: str, picker: str) -> tuple[str, list[list[tuple[str, str]]]]:
    if picker == "day":
        days = [(day_name(language, d).capitalize(), f"setv:day:{d}") for d in range(7)]
        return t(language, "pick_day"), [days[:4], days[4:]]
    if picker == "hour":
        hours = [(f"{h:02d}:00", f"setv:hour:{h}") for h in range(24)]
        return t(language, "pick_hour"), [hours[i : i + 6] for i in range(0, 24, 6)]
    if picker == "tz":
        zones = [
            (z.split("/")[-1].replace("_", " "), f"setv:tz:{i}") for i, z in enumerate(COMMON_ZONES)
        ]
        rows = [zones[i : i + 3] for i in range(0, len(zones), 3)]
        return t(language, "pick_tz"), [*rows, [(t(language, "btn_other_tz"), "setv:tz:other")]]
    if picker == "lang":
        return t(language, "pick_language"), [
            [(name, f"setv:lang:{code}") for code, name in LANGUAGE_NAMES.items()]
        ]
    if picker == "len":
        return t(language, "pick_length"), [
            [(t(language, f"length_{k}", n=n), f"setv:len:{k}")] for k, n in LENGTH_ITEMS.items()
        ]
    return t(language, "pick_mode"), [[(t(language, f"mode_{m}"), f"setv:mode:{m}")] for m in MODES]


async def _store(context: Context, sub: Subscriber, field: str, value: str) -> Subscriber | None:
    """Validate and store one setting from button data; the chat's row as it now is, or
    None for forged data."""
    change: dict[str, str | int]
    if field == "day" and value.isdigit() and int(value) < 7:
        change = {"digest_day": int(value)}
    elif field == "hour" and value.isdigit() and int(value) < 24:
        change = {"digest_time": f"{int(value):02d}:00"}
    elif field == "tz" and value == "other":
        return sub
    elif field == "tz" and value.isdigit() and int(value) < len(COMMON_ZONES):
        change = {"timezone": COMMON_ZONES[int(value)]}
    elif field == "lang" and value in LANGUAGE_NAMES:
        change = {"language": value}
    elif field == "mode" and value in MODES:
        change = {"mode": value}
    elif field == "len" and value in LENGTH_ITEMS:
        change = {"digest_length": value}
    else:
        return None
    _, store = context.bot_data.ready
    stored = await store.write(update_settings, sub.chat_id, **change) or sub
    remember(context, stored)
    return stored


TZ_QUESTION_SECONDS = 600.0  # "which time zone?" lapses after ten minutes


def end_tz_question(context: Context) -> bool:
    """Forget a pending "which time zone?" question; True if there was one."""
    data = context.chat_data
    if data is None or data.awaiting_tz is None:
        return False
    data.awaiting_tz = None
    return True


async def on_text(update: Update, context: Context) -> bool:
    """A time-zone name typed after "Other…"; True if the message was that."""
    asked = context.chat_data.awaiting_tz if context.chat_data else None
    if asked is None:
        return False
    if time.monotonic() - asked > TZ_QUESTION_SECONDS:
        end_tz_question(context)
        return False  # the question has lapsed: this text is a search again
    message = update.effective_message
    if message is None or not message.text:
        return False
    if not await may_change_settings(update, context):
        return False
    name = message.text.strip()
    sub = await chat_row(update, context)
    try:
        if "/" not in name and name.upper() != "UTC":
            raise ZoneInfoNotFoundError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        await reply(update, context, t(sub.language, "bad_tz", tz=name[:60]) + "\n"
                    + t(sub.language, "or_cancel"))  # fmt: skip
        return True
    end_tz_question(context)
    _, store = context.bot_data.ready
    stored = await store.write(update_settings, sub.chat_id, timezone=name)
    sub = stored or sub
    text, buttons = card(context, sub)
    await reply(update, context, t(sub.language, "saved") + "\n\n" + text, buttons)
    tick_now(context)  # the slot moved: it may have come
    return True


SOURCES_PAGE = 20  # sources a page of the list (Telegram: 100 buttons a message at most)


def reader_sources(db: Database, configured: Sequence[str]) -> list[tuple[str, str | None]]:
    """The bot's sources a reader may turn off: each feed (`FEED_URLS`, then the admins'),
    by its title, then the inbox and the admins' posts: (source key, title or None)."""
    feeds = list(dict.fromkeys([*configured, *admin_feeds(db)]))
    titles = feed_titles(db, feeds)
    listed: list[tuple[str, str | None]] = [(f"feed:{u}", titles.get(u)) for u in feeds]
    return [*listed, (INBOX, None), (ADMIN, None)]


def _tag(key: str) -> str:
    """A source in button data (64 bytes at most; a feed's URL may be longer)."""
    return hashlib.sha256(key.encode()).hexdigest()[:10]


def _source_name(language: str, key: str, title: str | None) -> str:
    if key in (INBOX, ADMIN):
        return t(language, f"source_{key}")
    return shorten(title or urlsplit(key[len("feed:") :]).netloc or key, 40)


def sources_page(
    language: str, listed: list[tuple[str, str | None]], off: frozenset[str], page: int
) -> tuple[str, Buttons]:
    """One page of the sources list, a toggle each (✅ on, ⬜ off), then paging and Back."""
    pages = max(1, -(-len(listed) // SOURCES_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = listed[page * SOURCES_PAGE : (page + 1) * SOURCES_PAGE]
    rows: Buttons = [
        [(f"{'⬜' if key in off else '✅'} {_source_name(language, key, title)}",
          f"src:t:{_tag(key)}:{page}")]
        for key, title in shown
    ]  # fmt: skip
    paging = [("◀", f"src:p:{page - 1}")] if page > 0 else []
    paging += [("▶", f"src:p:{page + 1}")] if page + 1 < pages else []
    on = sum(1 for key, _ in listed if key not in off)
    text = t(language, "pick_sources", on=on, total=len(listed))
    return text, [*rows, *([paging] if paging else []), [(t(language, "btn_back"), "set:menu")]]


def _sources_of(db: Database, chat_id: int, configured: Sequence[str]) -> tuple[
    list[tuple[str, str | None]], frozenset[str]
]:  # fmt: skip
    return reader_sources(db, configured), sources_off(db, [chat_id]).get(chat_id, frozenset())


def _toggle(db: Database, chat_id: int, key: str) -> frozenset[str]:
    """Turn `key` off, or on if it was off; the chat's sources now off."""
    off = sources_off(db, [chat_id]).get(chat_id, frozenset())
    set_source(db, chat_id, key, on=key in off)
    return off - {key} if key in off else off | {key}


async def on_sources(update: Update, context: Context) -> None:
    """/settings → Sources: the list, a page at a time; a tap turns one off or on for this
    chat (its digests, pushes and alerts)."""
    query = update.callback_query
    assert query is not None and query.data is not None
    if await refused(update, context):
        return
    sub = await chat_row(update, context)
    settings, store = context.bot_data.ready
    listed, off = await store.read(_sources_of, sub.chat_id, settings.feed_urls)
    parts = query.data.split(":")
    if parts[1] == "t":
        key = next((k for k, _ in listed if _tag(k) == parts[2]), None)
        if key is None:  # a source removed since the list was shown, or forged data
            await query.answer(t(sub.language, "expired"))
            return
        off = await store.write(_toggle, sub.chat_id, key)
    await query.answer(t(sub.language, "saved") if parts[1] == "t" else None)
    await edit_or_reply(update, context, *sources_page(sub.language, listed, off, int(parts[-1])))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add this feature's handlers."""
    app.add_handler(CommandHandler("start", cmd_start, filters=IN_CHANNELS))
    app.add_handler(CommandHandler("subscribe", cmd_subscribe, filters=IN_CHANNELS))
    app.add_handler(CommandHandler("unsubscribe", cmd_unsubscribe, filters=IN_CHANNELS))
    app.add_handler(CommandHandler("settings", cmd_settings, filters=IN_CHANNELS))
    app.add_handler(CallbackQueryHandler(cmd_subscribe, pattern=r"^sub$"))
    app.add_handler(
        CallbackQueryHandler(on_sources, pattern=r"^src:(t:[0-9a-f]{10}:\d{1,3}|p:-?\d{1,3})$")
    )
    app.add_handler(CallbackQueryHandler(cmd_unsubscribe, pattern=r"^unsub$"))
    app.add_handler(
        CallbackQueryHandler(
            on_setting,
            pattern=r"^(set:(menu|day|hour|tz|lang|mode|len)|setv:(day|hour|tz|lang|mode|len):[\w-]{1,12})$",
        )
    )
