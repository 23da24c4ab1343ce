"""Parse clean text into a bulletin: title, date, language, sections, paragraphs, sentences."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import PurePath

from bot.ingest.errors import Rejected
from bot.ingest.markup import (
    MAX_SECTIONS,
    Block,
    Format,
    looks_like_heading,
    to_blocks,
    too_many_headings,
)
from bot.text.clip import clip
from bot.text.language import detect_language
from bot.text.sentences import split_spans
from storage.models import NewItem, NewSection

_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
MAX_TITLE = 200


@dataclass(frozen=True)
class Parsed:
    """The structure of one bulletin, with offsets into `clean_text`."""

    title: str
    language: str
    clean_text: str
    sections: list[NewSection]
    items: list[NewItem]

    @cached_property
    def content_hash(self) -> str:
        """The de-duplication key of the clean text."""
        return content_hash(self.clean_text)


def content_hash(clean_text: str) -> str:
    """Hash of the text after case folding and whitespace collapsing: the dedupe key."""
    folded = " ".join(clean_text.casefold().split())
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


def date_from_name(name: str) -> date | None:
    """`2025-07-11-bilan.txt` → 2025-07-11; None if the name holds no valid date."""
    match = _DATE_IN_NAME.search(PurePath(name).name)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def published_at(name: str, given: datetime | None, tz_now: datetime | None = None) -> str:
    """The publication time as UTC ISO: the one given, else the file name's date, else now."""
    if given is not None:
        moment = given if given.tzinfo else given.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat(timespec="seconds")
    day = date_from_name(name)
    if day is not None:
        # Noon UTC keeps the calendar day in every time zone from UTC-11 to UTC+11.
        return datetime(day.year, day.month, day.day, 12, tzinfo=UTC).isoformat(timespec="seconds")
    return (tz_now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")


def _title_from_name(name: str) -> str:
    stem = PurePath(name).stem
    stem = _DATE_IN_NAME.sub("", stem).strip("-_ ")
    return re.sub(r"[-_]+", " ", stem).strip().capitalize()


def _shorten(text: str, limit: int = MAX_TITLE) -> str:
    return clip(text, limit)


MAX_SENTENCES = 50_000  # 2 MB of news prose (short sentences) is about 35,000


def parse_text(
    text: str,
    fmt: Format,
    *,
    name: str = "",
    title: str | None = None,
    default_language: str = "fr",
    retitle: bool = False,
) -> Parsed:
    """Split normalised text into sections, paragraphs and sentence items.

    The first heading, or a given `title`, names the bulletin; later headings start new
    sections. With `retitle`, a given title replaces the text's own first heading (an
    admin's "Edit title") instead of standing above it. Raises `Rejected` when no text is
    left.
    """
    blocks = to_blocks(text, fmt)
    if not blocks:
        raise Rejected("empty: no text left after cleaning")
    if (
        (title is None or retitle)
        and blocks[0].kind == "paragraph"
        and looks_like_heading(blocks[0].text)
    ):
        blocks[0] = Block("heading", blocks[0].text)
    if title:
        title = _shorten(title)
        if retitle and blocks[0].kind == "heading":
            blocks[0] = Block("heading", title)
        elif blocks[0].kind != "heading" or blocks[0].text != title:
            blocks.insert(0, Block("heading", title))
    clean, sections, items = _layout(blocks)
    if not items and not title and len(sections) <= 1:
        # A lone heading-like line is still a (tiny) bulletin: make it an item.
        clean, sections, items = _layout([Block("paragraph", b.text) for b in blocks])
    first = blocks[0]
    bulletin_title = (
        title
        or (first.text if first.kind == "heading" else None)
        or _title_from_name(name)
        or _shorten(items[0].text if items else clean, 120)
    )
    return Parsed(
        title=_shorten(bulletin_title),
        language=detect_language(clean, default=default_language),
        clean_text=clean,
        sections=sections,
        items=items,
    )


def _layout(blocks: list[Block]) -> tuple[str, list[NewSection], list[NewItem]]:
    """Join blocks with blank lines, recording sections and sentence spans."""
    parts: list[str] = []
    sections: list[NewSection] = []
    items: list[NewItem] = []
    pos = 0
    paragraph = 0
    for block in blocks:
        if parts:
            parts.append("\n\n")
            pos += 2
        start, end = pos, pos + len(block.text)
        parts.append(block.text)
        pos = end
        if block.kind == "heading":
            if len(sections) == MAX_SECTIONS:  # a given title above the text's own
                raise too_many_headings()
            if sections:
                sections[-1] = NewSection(sections[-1].heading, sections[-1].start, start - 2)
            sections.append(NewSection(block.text, start, end))
            continue
        if not sections:
            sections.append(NewSection("", start, end))
        sections[-1] = NewSection(sections[-1].heading, sections[-1].start, end)
        for s, e in split_spans(block.text):
            if len(items) == MAX_SENTENCES:
                raise Rejected(f"too many sentences: over {MAX_SENTENCES:,}; a bulletin is a news "
                               "round-up, not an archive (split the file)")  # fmt: skip
            items.append(
                NewItem(
                    section=len(sections) - 1,
                    paragraph=paragraph,
                    text=block.text[s:e],
                    start=start + s,
                    end=start + e,
                    paragraph_start=start,
                    paragraph_end=end,
                )
            )
        paragraph += 1
    return "".join(parts), sections, items
