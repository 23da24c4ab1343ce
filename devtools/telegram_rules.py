"""What the Bot API emulator checks the way Telegram does: the bot's own user, HTML
entities, message length in UTF-16 units, and the records it keeps of what was sent."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

BOT_USER = {
    "id": 4242,
    "is_bot": True,
    "first_name": "Hebdo",
    "username": "hebdo_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
}
_ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
    "tg-spoiler", "span", "blockquote", "tg-emoji",
}  # fmt: skip


class ApiError(Exception):
    """An error answer: `error_code`, `description`, optional `retry_after`."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


class _EntityChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS:
            self.error = self.error or f'unsupported start tag "{tag}"'
        if tag == "a" and not dict(attrs).get("href"):
            self.error = self.error or "a tag without href"
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.error = self.error or f'unexpected end tag "{tag}"'
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(text: str) -> str:
    """The plain text of Telegram HTML, or `ApiError(400)` as Telegram would answer."""
    if re.search(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)", text):
        raise ApiError(400, "Bad Request: can't parse entities: unsupported entity")
    checker = _EntityChecker()
    checker.feed(text)
    checker.close()
    if checker.error or checker.stack:
        problem = checker.error or f'unclosed tag "{checker.stack[-1]}"'
        raise ApiError(400, f"Bad Request: can't parse entities: {problem}")
    return html.unescape("".join(checker.text))


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Failure:
    """An injected error for the next `count` calls of `method` (to `chat_id` if given)."""

    method: str
    code: int
    description: str
    retry_after: int | None = None
    count: int = 1
    chat_id: int | None = None


@dataclass
class Sent:
    """A message the bot sent (or edited), as the fake stores it."""

    chat_id: int
    message_id: int
    text: str  # plain text
    html: str  # as sent
    reply_markup: dict[str, Any] | None
    method: str
    thread_id: int | None = None  # the forum topic it went to (None: the chat, or General)
