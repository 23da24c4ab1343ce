"""Delivery rules: the pace Telegram allows, the back-off after a failure, and which
failures mean a chat is gone."""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from telegram.error import BadRequest, Forbidden

MAX_ATTEMPTS = 5
BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_CAP = timedelta(minutes=30)
PRIVATE_INTERVAL = 1.0  # seconds between two messages to one private chat
GROUP_INTERVAL = 3.0  # 20 a minute in groups and channels
SLACK = 0.002  # seconds of lateness the pacer makes up for


Sleep = Callable[[float], Awaitable[None]]


class Pacer:
    """Spaces request starts `1/rate` apart; can be paused (RetryAfter)."""

    def __init__(
        self, rate: float, clock: Callable[[], float] = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        self.interval = 1.0 / rate
        self.clock, self.sleep = clock, sleep
        self.next_at = 0.0

    async def wait(self) -> None:
        """Return when the next request may start.

        A request that wakes late (the event loop is busy) leaves its slot's time to the
        next ones, up to `SLACK` seconds, so the average rate holds at high rates."""
        now = self.clock()
        start = max(now - SLACK, self.next_at)
        self.next_at = start + self.interval
        if start > now:
            await self.sleep(start - now)

    def pause(self, seconds: float) -> None:
        """No request before `seconds` from now."""
        self.next_at = max(self.next_at, self.clock() + seconds)


def unreachable(exc: BaseException | None) -> bool:
    """Telegram says the chat is gone for us: the bot was blocked or removed, the chat does
    not exist, or the forum topic was closed or deleted (the one test, for the sender and
    for the bot's error handler)."""
    if isinstance(exc, Forbidden):
        return True
    text = str(exc).lower()
    gone = ("chat not found", "chat_id is empty", "topic_closed", "topic_deleted",
            "message thread not found")  # fmt: skip
    return isinstance(exc, BadRequest) and any(reason in text for reason in gone)


def utc_now() -> datetime:
    return datetime.now(UTC)


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s, … up to 30 minutes."""
    delay: timedelta = BACKOFF_BASE * 2 ** max(attempts - 1, 0)
    return min(delay, BACKOFF_CAP)


def plain(text: str) -> str:
    """Telegram HTML as plain text (the fallback when Telegram refuses our HTML)."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))
