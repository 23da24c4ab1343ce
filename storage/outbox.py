"""The outbox: one row per (kind, content, chat), the delivery ledger of every message.

Statuses: pending → sending → sent, or back to pending (retry later), failed (gave up),
skipped (chat unreachable, or a slot missed for too long). Creating rows is idempotent
(`INSERT OR IGNORE` on the unique key), so a tick or a restart never queues twice.

A row is marked `sending` before the first request; each part's Telegram message id is
recorded as soon as Telegram answers, so after a crash a row left in `sending` resumes
after its last recorded part: only a part whose request was in flight at the crash can
arrive twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from storage.bulletins import now_iso

KINDS = ("digest", "bulletin")


@dataclass(frozen=True)
class Delivery:
    """An outbox row."""

    id: int
    kind: str
    content_id: int
    chat_id: int
    status: str
    attempts: int
    next_attempt_at: str | None
    last_error: str | None
    message_ids: list[int]
    payload: dict[str, Any]


_COLUMNS = (
    "id, kind, content_id, chat_id, status, attempts, next_attempt_at, last_error, "
    "message_ids, payload"
)


def _row(row: Any) -> Delivery:
    values = list(row)
    values[8] = json.loads(values[8] or "[]")
    values[9] = json.loads(values[9] or "{}")
    return Delivery(*values)


def enqueue(
    db: Database,
    kind: str,
    content_id: int,
    chat_ids: list[int],
    *,
    payloads: dict[int, dict[str, Any]] | None = None,
    status: str = "pending",
    reason: str | None = None,
    at: str | None = None,
) -> int:
    """Queue one row per chat, due `at` (default now); existing rows untouched.

    Returns how many rows were new."""
    now = now_iso()
    due_at = at or now
    payloads = payloads or {}
    with db.atomic():
        before = db.conn.total_changes
        db.conn.executemany(
            "INSERT OR IGNORE INTO outbox (kind, content_id, chat_id, status, attempts, "
            "next_attempt_at, last_error, payload, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
            [
                (
                    kind,
                    content_id,
                    chat,
                    status,
                    due_at,
                    reason,
                    json.dumps(payloads.get(chat, {}), ensure_ascii=False),
                    now,
                    now,
                )
                for chat in chat_ids
            ],
        )
        return int(db.conn.total_changes - before)


def has_delivery(db: Database, kind: str, content_id: int, chat_id: int) -> bool:
    """Whether a row exists for this message and chat, whatever its status."""
    row = db.execute(
        "SELECT 1 FROM outbox WHERE kind = ? AND content_id = ? AND chat_id = ?",
        [kind, content_id, chat_id],
    ).fetchone()
    return row is not None


def chats_with_week_digest(db: Database, week: str) -> set[int]:
    """Chats that have a digest row (any language, any status) for `week`."""
    rows = db.execute(
        "SELECT DISTINCT o.chat_id FROM digests d JOIN outbox o ON o.content_id = d.id "
        "AND o.kind = 'digest' WHERE d.week = ?",
        [week],
    ).fetchall()
    return {r[0] for r in rows}


def due(db: Database, now: str, limit: int = 200) -> list[Delivery]:
    """Rows to send now: pending and due, oldest first."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? "
        "ORDER BY next_attempt_at, id LIMIT ?",
        [now, limit],
    ).fetchall()
    return [_row(r) for r in rows]


def next_due_at(db: Database) -> str | None:
    """When the next pending row becomes due."""
    row = db.execute("SELECT min(next_attempt_at) FROM outbox WHERE status = 'pending'").fetchone()
    return row[0] if row else None


def in_flight(db: Database) -> list[Delivery]:
    """Rows left in `sending` (by a crash)."""
    rows = db.execute(f"SELECT {_COLUMNS} FROM outbox WHERE status = 'sending'").fetchall()
    return [_row(r) for r in rows]


def _update(db: Database, delivery_id: int, **values: Any) -> None:
    values["updated_at"] = now_iso()
    assignments = ", ".join(f"{k} = ?" for k in values)
    db.execute(f"UPDATE outbox SET {assignments} WHERE id = ?", [*values.values(), delivery_id])


def mark_sending(db: Database, delivery: Delivery) -> None:
    """Before the first request of an attempt."""
    _update(db, delivery.id, status="sending", attempts=delivery.attempts + 1)


def record_part(db: Database, delivery_id: int, message_ids: list[int]) -> None:
    """After Telegram accepted one more part."""
    _update(db, delivery_id, message_ids=json.dumps(message_ids))


def mark_sent(db: Database, delivery_id: int, message_ids: list[int], sent_at: str) -> None:
    """Every part delivered."""
    _update(db, delivery_id, status="sent", message_ids=json.dumps(message_ids), last_error=None,
            sent_at=sent_at)  # fmt: skip


def mark_retry(db: Database, delivery_id: int, at: str, error: str) -> None:
    """Back to pending, to try again at `at`."""
    _update(db, delivery_id, status="pending", next_attempt_at=at, last_error=error[:300])


def mark_final(db: Database, delivery_id: int, status: str, error: str) -> None:
    """`failed` (gave up) or `skipped` (chat unreachable)."""
    _update(db, delivery_id, status=status, last_error=error[:300])


def digest_counts(db: Database, digest_id: int) -> dict[str, int]:
    """Rows of one digest by status."""
    rows = db.execute(
        "SELECT status, count(*) FROM outbox WHERE kind = 'digest' AND content_id = ? "
        "GROUP BY status",
        [digest_id],
    ).fetchall()
    return {status: n for status, n in rows}


def send_rate(db: Database, digest_id: int) -> float | None:
    """Messages per second achieved for a digest, from its first to its last sending."""
    row = db.execute(
        "SELECT count(*), min(sent_at), max(sent_at) FROM outbox "
        "WHERE kind = 'digest' AND content_id = ? AND status = 'sent'",
        [digest_id],
    ).fetchone()
    count, first, last = row
    if not count or first is None or first == last:
        return None
    seconds = (datetime.fromisoformat(last) - datetime.fromisoformat(first)).total_seconds()
    return count / seconds if seconds > 0 else None
