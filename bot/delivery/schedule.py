"""What is due, derived from the database alone: weekly digest slots, new-bulletin pushes, alerts.

The minute tick calls `queue_due_digests` and `announce_new_bulletins`; both only add
outbox rows (idempotently), so running them twice, late, or after a restart is harmless.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlite_utils import Database

from bot.digest import build_digest, store_digest, week_of
from bot.text.analyze import Analyzer
from storage.digests import load_digest
from storage.outbox import chats_with_week_digest, enqueue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Due:
    """A chat whose weekly slot has come."""

    chat_id: int
    language: str
    week: str
    slot: datetime


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


def digest_week(slot: datetime) -> str:
    """The week a slot's digest covers: the slot's own week from Friday on, else the last one."""
    if slot.weekday() >= 4:
        return week_of(slot, slot.tzinfo)  # type: ignore[arg-type]
    return week_of(slot - timedelta(days=7), slot.tzinfo)  # type: ignore[arg-type]


def due_chats(db: Database, now: datetime, catch_up: timedelta) -> tuple[list[Due], list[Due]]:
    """(due now, missed for longer than `catch_up`) among weekly subscribers without a row."""
    rows = db.execute(
        "SELECT chat_id, language, timezone, digest_day, digest_time FROM subscribers "
        "WHERE subscribed AND active AND mode IN ('weekly', 'both')"
    ).fetchall()
    due: list[Due] = []
    missed: list[Due] = []
    for chat_id, language, tz_name, day, at in rows:
        try:
            zone = ZoneInfo(tz_name)
            hour, minute = (int(x) for x in at.split(":"))
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("chat %s has unusable settings (%s, %s)", chat_id, tz_name, at)
            continue
        slot = slot_of_week(now, zone, day, time(hour, minute))
        if slot > now:
            continue
        entry = Due(chat_id, language, digest_week(slot), slot)
        (due if now - slot <= catch_up else missed).append(entry)
    return due, missed


def digest_id_for(db: Database, week: str, language: str, zone: ZoneInfo) -> int:
    """The stored digest of a week and language, built once (the first time it is due)."""
    row = db.execute(
        "SELECT id FROM digests WHERE week = ? AND language = ?", [week, language]
    ).fetchone()
    if row is not None and load_digest(db, week, language) is not None:
        return int(row[0])
    return store_digest(db, build_digest(db, week, language, zone))


def queue_due_digests(db: Database, now: datetime, zone: ZoneInfo, catch_up: timedelta) -> int:
    """One outbox row per chat whose slot has come; missed slots recorded as skipped."""
    due, missed = due_chats(db, now, catch_up)
    served = {week: chats_with_week_digest(db, week) for week in {e.week for e in due + missed}}
    queued = 0
    for group, status in ((due, "pending"), (missed, "skipped")):
        by_digest: dict[int, list[int]] = {}
        for entry in group:
            if entry.chat_id in served[entry.week]:
                continue  # once a week, whatever language the chat picked since
            digest_id = digest_id_for(db, entry.week, entry.language, zone)
            by_digest.setdefault(digest_id, []).append(entry.chat_id)
        for digest_id, chats in by_digest.items():
            reason = None if status == "pending" else "slot missed by more than the catch-up window"
            count = enqueue(
                db, "digest", digest_id, chats, status=status, reason=reason, at=now.isoformat()
            )
            if status == "pending":
                queued += count
            elif count:
                log.warning("digest %d: %d chats missed their slot, skipped", digest_id, count)
    return queued


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
