"""The outbox: one row per (kind, content, chat), the delivery ledger of every message.

Statuses: pending → sending → sent, or back to pending (retry later), failed (gave up),
skipped (chat unreachable, nothing new for a digest, or a slot missed for too long).
Creating rows is idempotent (`INSERT OR IGNORE` on the unique keys: one push per bulletin
and chat, one digest per chat and period), so a tick or a restart never queues twice.

A row is marked `sending` before the first request; each part's Telegram message id is
recorded as soon as Telegram answers, so after a crash a row left in `sending` resumes
after its last recorded part: only a part whose request was in flight at the crash can
arrive twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from storage.bulletins import now_iso
from storage.tx import transaction

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


def _row(row: dict[str, Any]) -> Delivery:
    """A row read by column name (never by position)."""
    values = {name: row[name] for name in Delivery.__dataclass_fields__}
    values["message_ids"] = json.loads(values["message_ids"] or "[]")
    values["payload"] = json.loads(values["payload"] or "{}")
    return Delivery(**values)


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
    with transaction(db):
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


@dataclass(frozen=True)
class EditionRow:
    """A chat's digest for a period: queued (`pending`) or recorded as `skipped`."""

    chat_id: int
    digest_id: int  # 0 when skipped without a digest (nothing new, slot missed)
    period: str  # ISO week of delivery in the chat's time zone
    cut_at: str  # the moment the edition was cut (UTC ISO)
    status: str = "pending"
    reason: str | None = None


def served_periods(
    db: Database, periods: Iterable[str], *, skips: bool = True
) -> set[tuple[int, str]]:
    """(chat, period) pairs that already have a digest row, whatever its status (without
    `skips`: a row that was skipped — nothing new, slot missed — does not count)."""
    wanted = sorted(set(periods))
    if not wanted:
        return set()
    marks = ", ".join("?" * len(wanted))
    rows = db.execute(
        f"SELECT chat_id, period FROM outbox WHERE kind = 'digest' AND period IN ({marks})"
        + ("" if skips else " AND status != 'skipped'"),
        wanted,
    ).fetchall()
    return {(r[0], r[1]) for r in rows}


def enqueue_editions(
    db: Database, rows: Iterable[EditionRow], *, at: str, replace_skipped: bool = False
) -> int:
    """Record each chat's digest for its period (once: existing rows untouched, except, with
    `replace_skipped`, a skipped one, which a pending row replaces: an admin's send).

    Returns how many `pending` rows were new."""
    now = now_iso()
    queued = 0
    with transaction(db):
        for row in rows:
            if replace_skipped and row.status == "pending":
                cursor = db.execute(
                    "UPDATE OR IGNORE outbox SET content_id = ?, status = 'pending', attempts = 0, "
                    "next_attempt_at = ?, last_error = NULL, cut_at = ?, updated_at = ? "
                    "WHERE kind = 'digest' AND chat_id = ? AND period = ? AND status = 'skipped'",
                    [row.digest_id, at, row.cut_at, now, row.chat_id, row.period],
                )
                if cursor.rowcount:
                    queued += 1
                    continue
            cursor = db.execute(
                "INSERT OR IGNORE INTO outbox (kind, content_id, chat_id, status, attempts, "
                "next_attempt_at, last_error, payload, period, cut_at, created_at, updated_at) "
                "VALUES ('digest', ?, ?, ?, 0, ?, ?, '{}', ?, ?, ?, ?)",
                [row.digest_id, row.chat_id, row.status, at, row.reason, row.period, row.cut_at,
                 now, now],
            )  # fmt: skip
            queued += cursor.rowcount if row.status == "pending" else 0
    return queued


def edition_counts(db: Database, since: str) -> dict[str, int]:
    """Digest rows cut since `since`, by outcome: sent, pending, nothing new, missed…"""
    rows = db.execute(
        "SELECT CASE WHEN status = 'skipped' AND last_error = 'nothing new' THEN 'nothing new' "
        "WHEN status = 'skipped' AND last_error LIKE 'slot missed%' THEN 'missed' "
        "WHEN status = 'skipped' THEN 'unreachable' ELSE status END AS outcome, count(*) "
        "FROM outbox WHERE kind = 'digest' AND cut_at >= ? GROUP BY outcome",
        [since],
    ).fetchall()
    return {outcome: n for outcome, n in rows}


def claim(db: Database, now: str, lease_until: str, sender: str, limit: int) -> list[Delivery]:
    """Atomically take up to `limit` due rows for `sender` (status `sending`, leased until
    `lease_until`, attempts counted), at most one per chat, oldest first. Two senders
    never get the same row: one write transaction.

    The due rows are read oldest first from the (status, next_attempt_at) index, a few
    times `limit` at a time, until `limit` chats are found: a claim reads what it takes,
    not the whole backlog (a window over every pending row made each claim cost as much
    as the outbox: the send rate fell as the outbox grew)."""
    with transaction(db):
        chosen: list[int] = []
        chats: set[int] = set()
        offset, window = 0, max(limit * 4, 64)
        while len(chosen) < limit:
            rows = db.execute(
                "SELECT id, chat_id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? "
                "ORDER BY next_attempt_at, id LIMIT ? OFFSET ?",
                [now, window, offset],
            ).fetchall()
            for row_id, chat in rows:
                if chat not in chats and len(chosen) < limit:
                    chats.add(chat)
                    chosen.append(row_id)
            if len(rows) < window:
                break
            offset, window = offset + window, window * 2
        if not chosen:
            return []
        marks = ",".join("?" * len(chosen))
        cursor = db.execute(
            "UPDATE outbox SET status = 'sending', attempts = attempts + 1, lease_until = ?, "
            f"claimed_by = ?, updated_at = ? WHERE id IN ({marks}) RETURNING {_COLUMNS}",
            [lease_until, sender, now, *chosen],
        )
        names = [c[0] for c in cursor.description]
        rows_out = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    return sorted((_row(r) for r in rows_out), key=lambda d: d.id)


def hold_sender_lease(
    db: Database, holder: str, now: str, until: str, gone: Callable[[str], bool]
) -> tuple[str, str] | None:
    """Take or renew the database's one sender lease for `holder` until `until`; None when
    it is ours, else (who holds it, until when). A lease run out, or whose holder is `gone`
    (a dead process on this host), is taken over."""
    with transaction(db):
        row = db.execute("SELECT holder, until FROM sender_lease WHERE id = 1").fetchone()
        if row is not None and row[0] != holder and row[1] > now and not gone(row[0]):
            return str(row[0]), str(row[1])
        db.execute(
            "INSERT INTO sender_lease (id, holder, until) VALUES (1, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, until = excluded.until",
            [holder, until],
        )
    return None


def drop_sender_lease(db: Database, holder: str) -> None:
    """Give the lease up (another sender may start at once), if `holder` has it."""
    db.execute("DELETE FROM sender_lease WHERE id = 1 AND holder = ?", [holder])


def next_due_at(db: Database) -> str | None:
    """When the next pending row becomes due."""
    row = db.execute("SELECT min(next_attempt_at) FROM outbox WHERE status = 'pending'").fetchone()
    return row[0] if row else None


def stranded(db: Database, now: str, dead: Callable[[str | None], bool]) -> list[Delivery]:
    """Rows left in `sending` whose lease has run out or whose sender is gone."""
    rows = db.query(
        f"SELECT {_COLUMNS}, lease_until, claimed_by FROM outbox WHERE status = 'sending'"
    )
    return [
        _row(r)
        for r in rows
        if r["lease_until"] is None or r["lease_until"] <= now or dead(r["claimed_by"])
    ]


def release(db: Database, delivery_id: int, at: str, error: str) -> bool:
    """A stranded row back to pending (parts already sent are kept); False if its state
    changed meanwhile (another sender took it back first)."""
    cursor = db.execute(
        "UPDATE outbox SET status = 'pending', next_attempt_at = ?, last_error = ?, "
        "lease_until = NULL, claimed_by = NULL, updated_at = ? "
        "WHERE id = ? AND status = 'sending'",
        [at, error[:300], now_iso(), delivery_id],
    )
    return cursor.rowcount > 0


def _update(db: Database, delivery_id: int, **values: Any) -> None:
    values["updated_at"] = now_iso()
    assignments = ", ".join(f"{k} = ?" for k in values)
    db.execute(f"UPDATE outbox SET {assignments} WHERE id = ?", [*values.values(), delivery_id])


def record_part(db: Database, delivery_id: int, message_ids: list[int]) -> None:
    """After Telegram accepted one more part."""
    _update(db, delivery_id, message_ids=json.dumps(message_ids))


def mark_sent_many(db: Database, sent: list[tuple[int, list[int], str]]) -> None:
    """Every part of these rows (id, message ids, sent at) delivered, in one statement: at
    1,000 messages/s one statement a row was most of the writer's share of the CPU."""
    now = now_iso()
    db.conn.executemany(
        "UPDATE outbox SET status = 'sent', message_ids = ?, last_error = NULL, sent_at = ?, "
        "lease_until = NULL, updated_at = ? WHERE id = ?",
        [(json.dumps(ids), at, now, delivery_id) for delivery_id, ids, at in sent],
    )


def mark_retry(db: Database, delivery_id: int, at: str, error: str) -> None:
    """Back to pending, to try again at `at`."""
    _update(db, delivery_id, status="pending", next_attempt_at=at, last_error=error[:300],
            lease_until=None, claimed_by=None)  # fmt: skip


def mark_final(db: Database, delivery_id: int, status: str, error: str) -> None:
    """`failed` (gave up) or `skipped` (chat unreachable)."""
    _update(db, delivery_id, status=status, last_error=error[:300])


def status_counts(db: Database) -> dict[str, int]:
    """Every outbox row by status."""
    rows = db.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()
    return {status: n for status, n in rows}


def digest_send_rate(db: Database, since: str) -> float | None:
    """Messages per second achieved for the digests sent since `since`, first to last."""
    row = db.execute(
        "SELECT count(*), min(sent_at), max(sent_at) FROM outbox "
        "WHERE kind = 'digest' AND status = 'sent' AND sent_at >= ?",
        [since],
    ).fetchone()
    count, first, last = row
    if not count or first is None or first == last:
        return None
    seconds = (datetime.fromisoformat(last) - datetime.fromisoformat(first)).total_seconds()
    return count / seconds if seconds > 0 else None
