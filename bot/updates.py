"""Updates processed concurrently across chats, in order within each chat.

python-telegram-bot runs one update at a time unless told otherwise; then a slow answer
(a search over a large archive, a digest being cut) makes every other reader wait behind
it. With `ChatOrderedProcessor`, updates of different chats run side by side, while the
updates of one chat (and of one user, for inline queries and taps) keep their order — a
conversation such as `/post` or the time-zone question sees its messages as they were sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

MAX_CONCURRENT = 64


def order_key(update: object) -> int | None:
    """What an update must stay in order with: its chat, else its user (None: anything)."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Up to `max_concurrent_updates` at once; one chat's updates one after the other, in
    the order they arrived (asyncio locks are first come, first served)."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int | None, asyncio.Lock] = {}
        self._waiting: dict[int | None, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = order_key(update)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:  # nobody else queued for this chat: forget it
                del self._waiting[key]
                del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
