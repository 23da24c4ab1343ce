"""The sender: drains the outbox, paced, retried, crash-safe.

Pacing: at most `rate` messages/s overall, 1/s per private chat, 20/min per group or
channel. Many requests are in flight at once (Telegram answers in ~100 ms), each started
by the pacer. Outcomes are written in small batches, one transaction each; a message
Telegram accepted is written before its slot (one of `concurrency`) sends anything else —
the requests finishing meanwhile share that write — so a SIGKILL can repeat only the
requests in flight, at most `concurrency`.

Every read and write of the outbox goes through the store (the bot's writer thread, or
the `send` command's own), so the event loop never waits for SQLite.

One sender per database: Telegram's rate limit is per bot, so a sender holds the
outbox's lease (renewed at each claim, `LEASE`) and a second one — a cron `send` beside
the running bot — finds it held, says by whom, and sends nothing (the bot's sender looks
again every `HELD_PAUSE` seconds). A lease whose holder died on this host is taken over.

Errors: `RetryAfter` → everything pauses as told and the row is tried again; timeouts,
network errors and 5xx → exponential back-off, `failed` after `MAX_ATTEMPTS`; `Forbidden`
or "chat not found" → the chat is marked inactive and the row `skipped`; "can't parse
entities" → sent again once as plain text, and logged as a bug.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.delivery.messages import render_delivery
from bot.delivery.pacing import (
    GROUP_INTERVAL,
    MAX_ATTEMPTS,
    PRIVATE_INTERVAL,
    Pacer,
    Sleep,
    backoff,
    plain,
    unreachable,
    utc_now,
)
from bot.i18n import t
from storage.outbox import (
    Delivery,
    claim,
    drop_sender_lease,
    hold_sender_lease,
    mark_final,
    mark_retry,
    mark_sent_many,
    next_due_at,
    record_part,
    release,
    stranded,
)
from storage.people import is_topic, mark_inactive, topic_addresses
from storage.store import Store, StoreClosed
from storage.tx import transaction

log = logging.getLogger(__name__)

FLUSH_EVERY = 0.1  # seconds between two writes of outcomes
COMMIT_EVERY = 0.01  # seconds a slot waits at most for others to share its write
LEASE = timedelta(minutes=10)  # a claimed row another sender may take back after this
ERROR_PAUSE = 30
HELD_PAUSE = 30  # seconds between two looks at an outbox another process sends


@dataclass
class RowResult:
    """What happened to one row, written by the flusher."""

    delivery: Delivery
    status: str  # sent | retry | failed | skipped | progress
    message_ids: list[int] = field(default_factory=list)
    error: str = ""
    retry_at: datetime | None = None
    at: str = ""


class Sender:
    """Sends outbox rows with `bot` until stopped."""

    def __init__(
        self,
        store: Store,
        bot: Bot,
        *,
        rate: float = 29.4,
        concurrency: int = 32,
        bot_username: str | None = None,
        now: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        private_interval: float = PRIVATE_INTERVAL,
        group_interval: float = GROUP_INTERVAL,
    ) -> None:
        self.store, self.bot, self.now = store, bot, now
        self.pacer = Pacer(rate, monotonic, sleep)
        self.intervals = (private_interval, group_interval)
        self.concurrency = asyncio.Semaphore(concurrency)
        self.bot_username = bot_username
        self.chat_next: dict[int, float] = {}
        self.rendered: dict[int, list[str]] = {}  # digest → its parts, for all its chats
        # a forum topic's reader id → (chat, thread, language): where its messages go
        self.addresses: dict[int, tuple[int, int, str]] = {}
        self.reported: set[int] = set()  # topics found closed: their group was told, once
        self.outcomes: list[RowResult] = []  # sent or given up, not yet written
        self._flushing = asyncio.Lock()  # one batch of outcomes written at a time
        self._next_commit: asyncio.Future[None] | None = None  # the write slots wait for
        self._committer: asyncio.Task[None] | None = None
        self.wake = asyncio.Event()
        self.stats = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
        self.last_sent_at: datetime | None = None  # the last message Telegram accepted
        self.held_by: tuple[str, str] | None = None  # (sender, until) holding the outbox
        self.name = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        # a claim is sent well within its lease, even at a slow SEND_RATE
        self.claim_size = max(1, min(concurrency * 4, int(rate * LEASE.total_seconds() / 4)))

    # ---- the loop ------------------------------------------------------------------------
    async def recover(self) -> int:
        """Rows left `sending` by a sender that is gone (its lease ran out, or its process
        on this host is dead) go back to pending, keeping their recorded parts. A live
        sender's rows (another process, a cron `send` beside the bot) are left alone."""
        released = await self.store.write(_release_stranded, self.now().isoformat(),
                                          self._is_gone)  # fmt: skip
        if released:
            log.warning("%d deliveries were interrupted; they resume after their sent parts",
                        released)  # fmt: skip
        return released

    def _is_gone(self, claimed_by: str | None) -> bool:
        """Whether the sender that claimed a row can no longer be sending it."""
        if not claimed_by:
            return True  # claimed before senders had names
        if claimed_by == self.name:
            return False
        host, _, rest = claimed_by.partition(":")
        pid, _, _token = rest.partition(":")
        if host != socket.gethostname() or not pid.isdigit():
            return False  # another machine's: its lease decides
        if int(pid) == os.getpid():
            return True  # an earlier sender of this very process
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    async def run(self) -> None:
        """Drain the outbox until cancelled or the store is closed; an unexpected error
        pauses it, never stops it."""
        await self.recover()
        while True:
            try:
                await self.drain_once()
                if self.held_by is not None:  # another process sends: look again later
                    await self._sleep(HELD_PAUSE)
                else:
                    await self._sleep_until_due()
            except StoreClosed:  # shutting down: what is left to write is kept for the flush
                log.info("sender: the database is closed; the sender stops")
                return
            except Exception:
                log.exception("sender: unexpected error; trying again in %d s", ERROR_PAUSE)
                await self.pacer.sleep(ERROR_PAUSE)

    async def drain_once(self) -> int:
        """Send every row due now; return how many rows were handled.

        Rows are claimed a few at a time (at most one per chat in a claim), so a chat with
        many rows waiting never holds the others back, and a crash strands few rows."""
        handled = 0
        while True:
            now = self.now()
            until = (now + LEASE).isoformat()
            held = await self.store.write(hold_sender_lease, self.name, now.isoformat(), until,
                                          self._is_gone)  # fmt: skip
            if held is not None:
                if self.held_by is None:
                    log.info("sender: %s sends this database's outbox (its lease runs until "
                             "%s); this one waits", *held)  # fmt: skip
                self.held_by = held
                break
            self.held_by = None
            rows = await self.store.write(claim, now.isoformat(), until, self.name,
                                          self.claim_size)  # fmt: skip
            if not rows:
                break
            rendered = await self.store.read(self._render_all, rows)  # one read a claim
            done = asyncio.Event()
            flusher = asyncio.create_task(self._flush_periodically(done))
            try:
                await asyncio.gather(*(self._deliver(row, rendered[row.id]) for row in rows))
            finally:
                done.set()  # the flusher ends after its current write, never in its middle
                await flusher
                await self.flush_all()
            handled += len(rows)
        self.rendered.clear()  # digests are immutable, but deletions and memory are not
        return handled

    async def release(self) -> None:
        """Give up the outbox (another process's sender may start at once)."""
        await self.store.write(drop_sender_lease, self.name)

    async def _sleep_until_due(self) -> None:
        upcoming = await self.store.read(next_due_at)
        delay = 60.0
        if upcoming is not None:
            delay = (datetime.fromisoformat(upcoming) - self.now()).total_seconds()
        await self._sleep(min(max(delay, 0.05), 60.0))

    async def _sleep(self, seconds: float) -> None:
        """Until `seconds` have passed or the sender is woken (something was queued)."""
        self.wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), timeout=seconds)

    async def _flush_periodically(self, done: asyncio.Event) -> None:
        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), FLUSH_EVERY)
            await self.flush()

    async def flush(self) -> bool:
        """Write pending outcomes in one transaction; True when nothing is left to write.

        A write that fails (another process holds the database, the disk is full) loses
        nothing: the outcomes are kept, logged, and written by the next flush. The write is
        shielded: a flush cancelled while it waits still writes, and the outcomes stay
        listed until they are written (writing one twice sets the same values)."""
        async with self._flushing:
            outcomes = list(self.outcomes)
            if not outcomes:
                return True
            try:
                await asyncio.shield(self.store.write(_write_outcomes, outcomes))
            except sqlite3.OperationalError as exc:
                log.warning("could not record %d delivery outcome(s) yet (%s); retrying",
                            len(outcomes), exc)  # fmt: skip
                return False
            del self.outcomes[: len(outcomes)]  # those added meanwhile wait for the next
        for o in outcomes:
            if o.status != "progress":
                self.stats[o.status] += 1
            if o.status == "sent":
                self.last_sent_at = self.now()
            if o.status == "failed":
                log.warning("delivery %d to chat %d failed: %s", o.delivery.id,
                            o.delivery.chat_id, o.error)  # fmt: skip
        return True

    async def _recorded(self) -> None:
        """Until the outcomes listed so far are written: the slots waiting share one write
        every `COMMIT_EVERY` (a group commit; a write a message cost twice the CPU)."""
        if self._next_commit is None:
            self._next_commit = asyncio.get_running_loop().create_future()
            self._committer = asyncio.create_task(self._commit(self._next_commit))
        await asyncio.shield(self._next_commit)

    async def _commit(self, waiting: asyncio.Future[None]) -> None:
        try:
            await asyncio.sleep(COMMIT_EVERY)  # real time: what completes meanwhile joins
            self._next_commit = None  # outcomes listed from now on wait for the next write
            await self.flush_all()
        except asyncio.CancelledError:
            waiting.cancel()
            raise
        except Exception as exc:  # the store closed: every waiting slot hears of it
            waiting.set_exception(exc)
            return
        waiting.set_result(None)

    async def flush_all(self) -> None:
        """Flush until every outcome is written (the sends happened: they must be recorded)."""
        delay = FLUSH_EVERY
        while not await self.flush():
            await self.pacer.sleep(delay)
            delay = min(delay * 2, 5.0)

    # ---- one row ------------------------------------------------------------------------------
    async def _deliver(self, d: Delivery, parts: list[str] | Exception) -> None:
        if isinstance(parts, LookupError):  # its content was deleted since it was queued
            log.warning("delivery %d not sent: %s", d.id, parts)
            self.outcomes.append(RowResult(d, "failed", error=f"gone: {parts}"))
            return
        if isinstance(parts, Exception):
            log.error("cannot render delivery %d", d.id, exc_info=parts)
            self.outcomes.append(RowResult(d, "failed", error=f"render: {parts}"))
            return
        ids = list(d.message_ids)
        if len(ids) >= len(parts):  # every part went out before an interruption
            self.outcomes.append(RowResult(d, "sent", ids, at=self.now().isoformat()))
            return
        for part in parts[len(ids) :]:
            await self._chat_turn(self._address(d.chat_id)[0])  # holds no one else's slot
            async with self.concurrency:
                outcome = await self._send_part(d, part, ids)
                if outcome is None:  # accepted: recorded before this slot sends anything else
                    if len(ids) == len(parts):
                        outcome = RowResult(d, "sent", ids, at=self.now().isoformat())
                    self.outcomes.append(outcome or RowResult(d, "progress", list(ids)))
                    await self._recorded()
                    continue
            self.outcomes.append(outcome)
            return

    def _render_all(self, db: Database, rows: list[Delivery]) -> dict[int, list[str] | Exception]:
        """Each claimed row's message parts, or why it cannot be rendered (on a reader
        thread, one call for the whole claim); a digest is rendered once for all its chats."""
        rendered: dict[int, list[str] | Exception] = {}
        self.addresses.update(topic_addresses(db, [d.chat_id for d in rows if is_topic(d.chat_id)]))
        for d in rows:
            try:
                if d.kind != "digest":
                    rendered[d.id] = render_delivery(db, d, self.bot_username)
                    continue
                parts = self.rendered.get(d.content_id)
                if parts is None:
                    parts = self.rendered[d.content_id] = render_delivery(db, d, self.bot_username)
                rendered[d.id] = parts
            except Exception as exc:  # a row we cannot render must not stop the others
                rendered[d.id] = exc
        return rendered

    async def _chat_turn(self, chat_id: int) -> None:
        interval = self.intervals[0] if chat_id > 0 else self.intervals[1]
        now = self.pacer.clock()
        start = max(now, self.chat_next.get(chat_id, 0.0))
        self.chat_next[chat_id] = start + interval
        if start > now:
            await self.pacer.sleep(start - now)

    async def _send_part(self, d: Delivery, text: str, ids: list[int]) -> RowResult | None:
        """Send one part; None on success (its id appended), else the row's outcome."""
        as_plain = False
        chat, thread = self._address(d.chat_id)
        while True:
            await self.pacer.wait()
            try:
                if as_plain:
                    ids.append(await send_text(self.bot, chat, plain(text), thread=thread))
                else:
                    ids.append(await send_text(self.bot, chat, text, ParseMode.HTML, thread))
                return None
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                self.pacer.pause(wait)
                return RowResult(d, "retry", list(ids), f"429 retry after {wait:g}s",
                               self.now() + timedelta(seconds=wait))  # fmt: skip
            except Forbidden as exc:
                return RowResult(d, "skipped", list(ids), f"forbidden: {exc}")
            except BadRequest as exc:
                reason = str(exc).lower()
                if unreachable(exc):
                    if d.chat_id in self.addresses:
                        await self._topic_gone(d.chat_id, str(exc))
                    return RowResult(d, "skipped", list(ids), f"chat not found: {exc}")
                if "can't parse entities" in reason and not as_plain:
                    log.error("BUG: Telegram refused our HTML for delivery %d: %s", d.id, exc)
                    as_plain = True
                    continue
                return RowResult(d, "failed", list(ids), f"bad request: {exc}")
            except (TimedOut, NetworkError) as exc:
                return self._transient(d, ids, exc)
            except TelegramError as exc:
                return self._transient(d, ids, exc)

    def _address(self, reader: int) -> tuple[int, int]:
        """Where a reader's messages go: (chat, thread; 0 outside forum topics)."""
        found = self.addresses.get(reader)
        return (found[0], found[1]) if found else (reader, 0)

    async def _topic_gone(self, reader: int, error: str) -> None:
        """A forum topic refused its message (closed or deleted): its subscription is paused
        (the row is skipped and the reader marked unreachable) and the group is told once,
        in General, in the topic's language."""
        if reader in self.reported:
            return
        self.reported.add(reader)
        chat, thread, language = self.addresses[reader]
        try:
            await send_text(self.bot, chat, t(language, "topic_gone", thread=thread))
        except TelegramError as exc:
            log.info("could not tell chat %s that topic %s is gone (%s; %s)", chat, thread,
                     exc, error)  # fmt: skip

    def _transient(self, d: Delivery, ids: list[int], exc: Exception) -> RowResult:
        attempts = d.attempts + 1
        error = f"{type(exc).__name__}: {exc}"
        if attempts >= MAX_ATTEMPTS:
            return RowResult(d, "failed", list(ids), f"gave up after {attempts} attempts: {error}")
        return RowResult(d, "retry", list(ids), error, self.now() + backoff(attempts))


async def send_text(
    bot: Bot, chat_id: int, text: str, parse_mode: str | None = None, thread: int = 0
) -> int:
    """`sendMessage`, its answer's message id. The same request, answer and errors as
    `Bot.send_message` (its `_post` checks the answer and raises `RetryAfter`, `Forbidden`,
    `BadRequest`…), without building a `telegram.Message` from the answer: about 170
    attribute writes a message, half the sender's CPU at 1,000 messages/s."""
    data: dict[str, Any] = {"chat_id": chat_id, "text": text}
    if parse_mode is not None:
        data["parse_mode"] = parse_mode
    if thread:  # a forum topic's
        data["message_thread_id"] = thread
    answer = await bot._post("sendMessage", data)  # the documented endpoint, its raw answer
    return int(answer["message_id"])


def _release_stranded(db: Database, now: str, is_gone: Callable[[str | None], bool]) -> int:
    """Put the rows of senders that are gone back to pending; how many."""
    rows = stranded(db, now, is_gone)
    return sum(release(db, row.id, now, row.last_error or "interrupted") for row in rows)


def _write_outcomes(db: Database, outcomes: list[RowResult]) -> None:
    """What happened to each row, in one transaction."""
    with transaction(db):
        for o in outcomes:
            d = o.delivery
            if o.status == "progress":
                record_part(db, d.id, o.message_ids)
            elif o.status == "sent":
                continue  # below, all in one statement (a row has one outcome in a batch)
            elif o.status == "retry":
                assert o.retry_at is not None
                mark_retry(db, d.id, o.retry_at.isoformat(), o.error)
                if o.message_ids:
                    record_part(db, d.id, o.message_ids)
            else:
                mark_final(db, d.id, o.status, o.error)
                if o.status == "skipped":
                    mark_inactive(db, d.chat_id, o.error)
        mark_sent_many(db, [(o.delivery.id, o.message_ids, o.at) for o in outcomes
                            if o.status == "sent"])  # fmt: skip


def _seconds(value: Any) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)
