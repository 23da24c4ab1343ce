"""What is due, derived from the database alone: weekly digest editions, new-bulletin pushes,
alerts.

The minute tick calls `queue_due_digests` and `announce_new_bulletins`; both only add
outbox rows (idempotently: one digest row per chat and period), so running them twice,
late, after a restart or from a second process is harmless.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlite_utils import Database

from bot.digest import Digest, edition_for, store_edition, week_of
from bot.text.analyze import Analyzer
from storage.outbox import EditionRow, enqueue, enqueue_editions, served_periods
from storage.people import Subscriber, weekly_subscribers

log = logging.getLogger(__name__)

MISSED = "slot missed by more than the catch-up window"
NOTHING_NEW = "nothing new"


@dataclass(frozen=True)
class Due:
    """A chat whose edition is due at `slot` (its weekly slot, or an admin's send)."""

    chat_id: int
    language: str
    zone: ZoneInfo
    slot: datetime

    @property
    def period(self) -> str:
        """The week of delivery in the chat's zone: one edition a chat and period."""
        return week_of(self.slot, self.zone)


def slot_of_week(now: datetime, zone: ZoneInfo, day: int, at: time) -> datetime:
    """This week's slot (Monday-based ISO week in `zone`) as an aware datetime.

    Daylight-saving gaps move a slot forward (02:30 on a spring-forward night is 03:30),
    folds take the first 02:30, as `zoneinfo` does with fold=0.
    """
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    wall = datetime.combine(monday + timedelta(days=day), at)
    aware = wall.replace(tzinfo=zone)
    # normalise a wall time that does not exist (spring forward)
    return aware.astimezone(ZoneInfo("UTC")).astimezone(zone)


def _zone_and_time(chat: Subscriber) -> tuple[ZoneInfo, time] | None:
    try:
        hour, minute = (int(x) for x in chat.digest_time.split(":"))
        return ZoneInfo(chat.timezone), time(hour, minute)
    except (ZoneInfoNotFoundError, ValueError, TypeError, AttributeError):
        log.warning("chat %s has unusable settings (%s, %s)", chat.chat_id, chat.timezone,
                    chat.digest_time)  # fmt: skip
        return None


def due_chats(db: Database, now: datetime, catch_up: timedelta) -> tuple[list[Due], list[Due]]:
    """(due now, missed for longer than `catch_up`) among weekly subscribers, this week."""
    due: list[Due] = []
    missed: list[Due] = []
    for chat in weekly_subscribers(db):
        settings = _zone_and_time(chat)
        if settings is None:
            continue
        zone, at = settings
        slot = slot_of_week(now, zone, chat.digest_day, at)
        if slot > now:
            continue
        entry = Due(chat.chat_id, chat.language, zone, slot)
        (due if now - slot <= catch_up else missed).append(entry)
    return due, missed


def due_now(db: Database, now: datetime) -> list[Due]:
    """Every weekly subscriber, due at `now` (an admin's "send the digest now")."""
    entries = []
    for chat in weekly_subscribers(db):
        settings = _zone_and_time(chat)
        if settings is not None:
            entries.append(Due(chat.chat_id, chat.language, settings[0], now))
    return entries


def unserved(db: Database, entries: list[Due]) -> list[Due]:
    """The entries whose chat has no digest row for their period yet."""
    served = served_periods(db, {e.period for e in entries})
    return [e for e in entries if (e.chat_id, e.period) not in served]


def queue_editions(
    db: Database,
    entries: list[Due],
    now: datetime,
    *,
    missed: list[Due] | None = None,
    send_empty: bool = False,
    per_bulletin: int | None = None,
) -> int:
    """Cut and queue each due chat's own edition (once a period); record the skips.

    A chat with nothing new gets nothing (a `skipped` row, "nothing new") unless
    `send_empty`; `missed` slots are recorded as skipped. Returns how many were queued."""
    cut = now.astimezone(UTC).isoformat(timespec="seconds")
    rows = [
        EditionRow(e.chat_id, 0, e.period, cut, "skipped", MISSED)
        for e in unserved(db, missed or [])
    ]
    built: dict[str, Digest] = {}
    stored: dict[str, int] = {}
    for e in unserved(db, entries):
        edition = edition_for(db, e.chat_id, e.language, e.zone, now, per_bulletin=per_bulletin,
                              built=built)  # fmt: skip
        if edition.empty and not send_empty:
            rows.append(EditionRow(e.chat_id, 0, e.period, cut, "skipped", NOTHING_NEW))
            continue
        if edition.key not in stored:
            stored[edition.key] = store_edition(db, edition)
        rows.append(EditionRow(e.chat_id, stored[edition.key], e.period, cut))
    queued = enqueue_editions(db, rows, at=cut)
    skipped = sum(1 for r in rows if r.reason == MISSED)
    if skipped:
        log.warning("%d chats missed their digest slot by more than the catch-up window", skipped)
    return queued


def queue_due_digests(
    db: Database,
    now: datetime,
    catch_up: timedelta,
    *,
    send_empty: bool = False,
    per_bulletin: int | None = None,
) -> int:
    """Queue the edition of every chat whose slot has come; return how many were queued."""
    due, missed = due_chats(db, now, catch_up)
    return queue_editions(db, due, now, missed=missed, send_empty=send_empty,
                          per_bulletin=per_bulletin)  # fmt: skip


def _matching_items(db: Database, bulletin_id: int, fts: str) -> list[int]:
    rows = db.execute(
        "SELECT s.rowid FROM search_fts s JOIN items i ON i.id = s.rowid "
        "WHERE search_fts MATCH ? AND i.bulletin_id = ? ORDER BY s.rowid",
        [fts, bulletin_id],
    ).fetchall()
    return [r[0] for r in rows]


def follow_query(analyzer: Analyzer, term: str) -> str | None:
    """A safe FTS query for a followed word: every sub-word, in any of its forms."""
    parts = []
    for _typed, forms in analyzer.word_forms(term):
        quoted = sorted('"' + f.replace('"', '""') + '"' for f in forms)
        parts.append("(" + " OR ".join(quoted) + ")")
    return " AND ".join(parts) or None


def announce_new_bulletins(
    db: Database, analyzer: Analyzer, now: datetime, *, fresh: timedelta = timedelta(days=7)
) -> int:
    """Queue pushes for bulletins not announced yet; return how many rows were queued.

    Chats in "every bulletin" mode get the bulletin; chats following a word it mentions
    get an alert with the matching items — one message per bulletin and chat at most.
    Bulletins published more than `fresh` ago are marked announced without a push.
    """
    pending = db.execute(
        "SELECT id, published_at FROM bulletins WHERE announced_at IS NULL AND deleted_at IS NULL "
        "ORDER BY id"
    ).fetchall()
    queued = 0
    for bulletin_id, published in pending:
        payloads: dict[int, dict[str, object]] = {}
        if now - datetime.fromisoformat(published) <= fresh:
            for (chat_id,) in db.execute(
                "SELECT chat_id FROM subscribers WHERE subscribed AND active "
                "AND mode IN ('every', 'both')"
            ).fetchall():
                payloads[chat_id] = {}
            follows = db.execute(
                "SELECT f.chat_id, f.term FROM follows f JOIN subscribers s USING (chat_id) "
                "WHERE s.active ORDER BY f.rowid"
            ).fetchall()
            matches: dict[str, list[int]] = {}
            for chat_id, term in follows:
                if term not in matches:
                    fts = follow_query(analyzer, term)
                    matches[term] = _matching_items(db, bulletin_id, fts) if fts else []
                if matches[term]:
                    entry = payloads.setdefault(chat_id, {})
                    terms = entry.setdefault("terms", [])
                    items = entry.setdefault("items", [])
                    assert isinstance(terms, list) and isinstance(items, list)
                    terms.append(term)
                    items.extend(i for i in matches[term] if i not in items)
        with db.atomic():
            if payloads:
                queued += enqueue(
                    db, "bulletin", bulletin_id, sorted(payloads), payloads=payloads,
                    at=now.isoformat(),
                )  # fmt: skip
            db.execute(
                "UPDATE bulletins SET announced_at = ? WHERE id = ?",
                [now.isoformat(timespec="seconds"), bulletin_id],
            )
    return queued
