"""Telegram HTML rendering: escaping, message splitting under 4096 UTF-16 units, digests.

Every value interpolated into a message goes through `esc`. Messages are built from
blocks (an item, a heading) that are joined and split only between blocks or lines, so
tags never straddle two messages.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.digest import Digest
from bot.i18n import Html, t
from bot.text.clip import clip

LIMIT = 4096
MAX_ITEM_CHARS = 700


def esc(value: object) -> str:
    """Escape any value for Telegram HTML (only &, <, > matter there)."""
    return html.escape(str(value), quote=False)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def shorten(text: str, limit: int = MAX_ITEM_CHARS) -> str:
    """At most `limit` characters (an item's length by default), cut at a word."""
    return clip(text, limit)


def split_blocks(blocks: Iterable[str], limit: int = LIMIT, sep: str = "\n\n") -> list[str]:
    """Join blocks into messages under `limit` UTF-16 units, splitting between blocks.

    A block longer than the limit is split between its lines; a line longer than the
    limit (which rendering never produces) is cut between words.
    """
    messages: list[str] = []
    current = ""
    for block in blocks:
        for piece in _fit(block, limit):
            candidate = f"{current}{sep}{piece}" if current else piece
            if utf16_len(candidate) <= limit:
                current = candidate
            else:
                messages.append(current)
                current = piece
    if current:
        messages.append(current)
    return messages


def _fit(block: str, limit: int) -> list[str]:
    if utf16_len(block) <= limit:
        return [block]
    pieces: list[str] = []
    for line in block.split("\n"):
        while utf16_len(line) > limit:
            cut = line[: limit // 2].rsplit(" ", 1)[0] or line[: limit // 2]
            pieces.append(cut)
            line = line[len(cut) :].lstrip()
        pieces.append(line)
    return pieces


def _day(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%d/%m")
    except ValueError:
        return iso[:10]


def bulletin_link(
    bulletin_id: int, title: str, bot_username: str | None, original: str | None = None
) -> str:
    """The bulletin's title, linked to the original when it has one (a feed entry), else to
    open it in the bot (when the bot's username is known)."""
    if original:
        return f'<a href="{html.escape(original, quote=True)}">{esc(title)}</a>'
    if bot_username:
        return f'<a href="https://t.me/{esc(bot_username)}?start=b{bulletin_id}">{esc(title)}</a>'
    return esc(title)


def render_digest(digest: Digest, bot_username: str | None = None) -> list[str]:
    """A digest as Telegram HTML messages, split at item boundaries (items in reading order)."""
    count = t(digest.language, "digest_count", n=digest.bulletin_count)
    header = f"<b>{esc(digest.title)}</b>\n<i>{count}</i>"
    if not digest.items:
        return [f"{header}\n\n{t(digest.language, 'digest_empty')}"]
    blocks = [header]
    for n, item in enumerate(digest.items, start=1):
        source = bulletin_link(item.bulletin_id, item.bulletin_title, bot_username, item.link)
        other = item.language and item.language != digest.language
        marker = f" · {esc(item.language.upper())}" if other else ""
        day = _day(item.published_at)
        block = f"{n}. {esc(shorten(item.text))}\n<i>{day} · {source}{marker}</i>"
        if item.sources >= 2:  # a story several outlets told: each original
            block += "\n" + sources_line(digest.language, item.others, bot_username)
        blocks.append(block)
    if digest.more_stories:
        blocks.append(f"<i>{t(digest.language, 'digest_more', n=digest.more_stories)}</i>")
    return split_blocks(blocks)


MAX_OUTLETS = 5  # originals linked under a story's item


def sources_line(
    language: str, sources: Sequence[tuple[int, str, str]], bot_username: str | None
) -> str:
    """`📰 3 sources : lemonde.fr, …`: each (bulletin, outlet, link) linked to its original
    (the bulletin in the bot when it has no link), the first `MAX_OUTLETS`."""
    outlets = ", ".join(bulletin_link(b, shorten(outlet, 40), bot_username, link or None)
                        for b, outlet, link in sources[:MAX_OUTLETS])  # fmt: skip
    more = " …" if len(sources) > MAX_OUTLETS else ""
    return t(language, "digest_sources", n=len(sources), outlets=Html(outlets + more))
