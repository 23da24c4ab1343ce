"""Subscribers (chats and their settings), follows, and the admin audit log."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from storage.batches import rows_for
from storage.bulletins import now_iso
from storage.tx import transaction

SETTINGS_COLUMNS = ("language", "timezone", "digest_day", "digest_time", "mode", "digest_length")
LENGTHS = ("short", "normal", "long")  # a digest's length, a chat's choice (NULL: the default)
MODES = ("weekly", "every", "both")


@dataclass(frozen=True)
class Subscriber:
    """A chat Hebdo knows, with its delivery settings."""

    chat_id: int
    chat_type: str
    title: str | None
    language: str
    timezone: str
    digest_day: int
    digest_time: str
    mode: str
    active: bool
    subscribed: bool
    inactive_reason: str | None
    digest_length: str | None = None  # one of LENGTHS; None: the operator's DIGEST_LENGTH


_COLUMNS = (
    "chat_id, chat_type, title, language, timezone, digest_day, digest_time, mode, active, "
    "subscribed, inactive_reason, digest_length"
)


def _subscriber(row: dict[str, Any]) -> Subscriber:
    return Subscriber(
        **{**row, "active": bool(row["active"]), "subscribed": bool(row["subscribed"])}
    )


def get_subscriber(db: Database, chat_id: int) -> Subscriber | None:
    """The chat's row, or None if it never talked to the bot."""
    rows = db.query(f"SELECT {_COLUMNS} FROM subscribers WHERE chat_id = ?", [chat_id])
    return next((_subscriber(row) for row in rows), None)


def push_chats(db: Database) -> list[int]:
    """Subscribed, reachable chats that want every new bulletin."""
    rows = db.execute(
        "SELECT chat_id FROM subscribers WHERE subscribed AND active AND mode IN ('every', 'both') "
        "ORDER BY chat_id"
    ).fetchall()
    return [r[0] for r in rows]


_REACHABLE_FOLLOWS = (
    "FROM follows f JOIN subscribers s USING (chat_id) WHERE s.subscribed AND s.active"
)


def followed_terms(db: Database) -> list[str]:
    """Every word a subscribed, reachable chat follows, once each."""
    rows = db.execute(f"SELECT DISTINCT f.term {_REACHABLE_FOLLOWS} ORDER BY f.term").fetchall()
    return [r[0] for r in rows]


def followers_of(db: Database, terms: list[str]) -> list[tuple[int, str]]:
    """(chat, word) of the follows of these words by subscribed, reachable chats, oldest
    first."""
    found: list[tuple[int, str, int]] = []
    for start in range(0, len(terms), 500):
        chunk = terms[start : start + 500]
        marks = ",".join("?" * len(chunk))
        found += db.execute(
            f"SELECT f.chat_id, f.term, f.rowid {_REACHABLE_FOLLOWS} AND f.term IN ({marks})",
            chunk,
        ).fetchall()
    return [(chat, term) for chat, term, _ in sorted(found, key=lambda r: r[2])]


_WEEKLY = "subscribed AND active AND mode IN ('weekly', 'both')"


def weekly_slots(db: Database) -> list[tuple[str, int, str]]:
    """The (time zone, day, time) slots weekly subscribers chose, once each: a few hundred
    at most, whatever the number of chats."""
    rows = db.execute(
        f"SELECT DISTINCT timezone, digest_day, digest_time FROM subscribers WHERE {_WEEKLY}"
    ).fetchall()  # fmt: skip
    return [(str(z), int(d), str(t)) for z, d, t in rows]


def unserved_at(
    db: Database, slots: list[tuple[str, int, str, str]]
) -> list[tuple[int, str, str | None, tuple[str, int, str]]]:
    """(chat, language, digest length, slot) of the weekly subscribers of these slots
    (time zone, day, time, and the period it is in) that have no digest row for their
    slot's period yet (whatever its status), by chat id. One pass over the subscribers a
    period (one or two): SQLite looks each chat's slot up in the list's own index."""
    by_period: dict[str, list[tuple[str, int, str]]] = {}
    for zone, day, at, period in slots:
        by_period.setdefault(period, []).append((zone, day, at))
    rows = []
    for period, keys in by_period.items():
        for first in range(0, len(keys), 2000):  # 3 parameters a slot, within SQLite's limit
            chunk = keys[first : first + 2000]
            listed = ", ".join(["(?, ?, ?)"] * len(chunk))
            rows += db.execute(
                "SELECT s.chat_id, s.language, s.digest_length, s.timezone, s.digest_day, "
                f"s.digest_time FROM subscribers s WHERE {_WEEKLY} AND (s.timezone, "
                f"s.digest_day, s.digest_time) IN (VALUES {listed}) AND NOT EXISTS (SELECT 1 "
                "FROM outbox o WHERE o.kind = 'digest' AND o.chat_id = s.chat_id "
                "AND o.period = ?)",
                [*(v for key in chunk for v in key), period],
            ).fetchall()
    rows.sort(key=lambda r: r[0])
    return [(int(c), str(lang), length, (str(z), int(d), str(t)))
            for c, lang, length, z, d, t in rows]  # fmt: skip


def weekly_subscribers(db: Database) -> list[Subscriber]:
    """Subscribed, reachable chats that take the weekly digest, by chat id."""
    rows = db.query(f"SELECT {_COLUMNS} FROM subscribers WHERE {_WEEKLY} ORDER BY chat_id")
    return [_subscriber(row) for row in rows]


def ensure_chat(
    db: Database,
    chat_id: int,
    chat_type: str,
    title: str | None,
    *,
    language: str,
    timezone: str,
    digest_day: int,
    digest_time: str,
) -> Subscriber:
    """The chat's row, created (not subscribed) with defaults if new; reactivated if known."""
    now = now_iso()
    with transaction(db):
        db.execute(
            "INSERT INTO subscribers (chat_id, chat_type, title, language, timezone, digest_day, "
            "digest_time, mode, active, subscribed, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'weekly', 1, 0, ?, ?) "
            "ON CONFLICT(chat_id) DO UPDATE SET active = 1, inactive_reason = NULL, "
            "title = coalesce(excluded.title, title), chat_type = excluded.chat_type",
            [chat_id, chat_type, title, language, timezone, digest_day, digest_time, now, now],
        )
    found = get_subscriber(db, chat_id)
    assert found is not None
    return found


def set_subscribed(db: Database, chat_id: int, subscribed: bool) -> bool:
    """Subscribe or unsubscribe; False if it already was so."""
    cursor = db.execute(
        "UPDATE subscribers SET subscribed = ?, updated_at = ? "
        "WHERE chat_id = ? AND subscribed != ?",
        [int(subscribed), now_iso(), chat_id, int(subscribed)],
    )
    return cursor.rowcount > 0


def subscribe(db: Database, chat_id: int, subscribed: bool) -> tuple[bool, Subscriber | None]:
    """`set_subscribed`, and the chat's row as it now is."""
    changed = set_subscribed(db, chat_id, subscribed)
    return changed, get_subscriber(db, chat_id)


def update_settings(db: Database, chat_id: int, **values: Any) -> Subscriber | None:
    """Change delivery settings (language, timezone, digest_day, digest_time, mode,
    digest_length); the chat's row as it now is."""
    unknown = set(values) - set(SETTINGS_COLUMNS)
    if unknown:
        raise ValueError(f"not a setting: {', '.join(sorted(unknown))}")
    if "mode" in values and values["mode"] not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    if values.get("digest_length") not in (None, *LENGTHS):
        raise ValueError(f"digest_length must be one of {LENGTHS}")
    assignments = ", ".join(f"{k} = ?" for k in values)
    db.execute(
        f"UPDATE subscribers SET {assignments}, updated_at = ? WHERE chat_id = ?",
        [*values.values(), now_iso(), chat_id],
    )
    return get_subscriber(db, chat_id)


def mark_inactive(db: Database, chat_id: int, reason: str) -> None:
    """The chat cannot be reached (blocked, removed, deleted)."""
    db.execute(
        "UPDATE subscribers SET active = 0, inactive_reason = ?, updated_at = ? WHERE chat_id = ?",
        [reason[:200], now_iso(), chat_id],
    )


def subscriber_stats(db: Database) -> dict[str, Any]:
    """Active subscribers by language and by mode, and inactive ones."""
    by_language = dict(
        db.execute(
            "SELECT language, count(*) FROM subscribers WHERE subscribed AND active "
            "GROUP BY language ORDER BY language"
        ).fetchall()
    )
    by_mode = dict(
        db.execute(
            "SELECT mode, count(*) FROM subscribers WHERE subscribed AND active "
            "GROUP BY mode ORDER BY mode"
        ).fetchall()
    )
    inactive = db.execute(
        "SELECT count(*) FROM subscribers WHERE subscribed AND NOT active"
    ).fetchone()[0]
    return {"by_language": by_language, "by_mode": by_mode, "inactive": inactive}


MAX_FOLLOWS = 20


def add_follow(db: Database, chat_id: int, term: str, normalized: str) -> str:
    """'added', 'exists' or 'limit'."""
    with transaction(db):
        exists = db.execute(
            "SELECT 1 FROM follows WHERE chat_id = ? AND normalized = ?", [chat_id, normalized]
        ).fetchone()
        if exists:
            return "exists"
        count = db.execute("SELECT count(*) FROM follows WHERE chat_id = ?", [chat_id]).fetchone()[
            0
        ]
        if count >= MAX_FOLLOWS:
            return "limit"
        db.execute(
            "INSERT INTO follows (chat_id, term, normalized, created_at) VALUES (?, ?, ?, ?)",
            [chat_id, term, normalized, now_iso()],
        )
    return "added"


def list_follows(db: Database, chat_id: int) -> list[tuple[int, str]]:
    """(row id, term) of a chat's follows, oldest first."""
    rows = db.execute(
        "SELECT rowid, term FROM follows WHERE chat_id = ? ORDER BY created_at, rowid", [chat_id]
    ).fetchall()
    return [(int(r), str(term)) for r, term in rows]


def remove_follow(db: Database, chat_id: int, *, normalized: str | None = None,
                  rowid: int | None = None) -> str | None:  # fmt: skip
    """Remove a follow by its normalised term or row id; return its term, or None."""
    column, value = ("normalized", normalized) if normalized is not None else ("rowid", rowid)
    row = db.execute(
        f"SELECT term FROM follows WHERE chat_id = ? AND {column} = ?", [chat_id, value]
    ).fetchone()
    if row is None:
        return None
    db.execute(f"DELETE FROM follows WHERE chat_id = ? AND {column} = ?", [chat_id, value])
    return str(row[0])


def audit(db: Database, user_id: int | None, action: str, **details: Any) -> None:
    """Record an admin action (or a refused attempt)."""
    db.execute(
        "INSERT INTO audit_log (at, user_id, action, details) VALUES (?, ?, ?, ?)",
        [now_iso(), user_id, action, json.dumps(details, ensure_ascii=False, default=str)],
    )


# -- sources a chat reads ------------------------------------------------------------------

INBOX, ADMIN = "inbox", "admin"  # the inbox folder's files; admins' posts


def source_key(source: str) -> str:
    """What a reader turns on or off for a bulletin's `source`: a feed (its URL as
    configured), the inbox, or the admins' posts."""
    if source.startswith("feed:"):
        return source
    return ADMIN if source.startswith("admin:") else INBOX


def sources_off(db: Database, chat_ids: Sequence[int]) -> dict[int, frozenset[str]]:
    """The sources each of these chats turned off (a chat that turned none off is absent)."""
    found: dict[int, set[str]] = {}
    sql = "SELECT chat_id, source FROM sources_off WHERE chat_id IN ({marks})"
    for chat_id, source in rows_for(db, sql, chat_ids):
        found.setdefault(chat_id, set()).add(source)
    return {chat: frozenset(keys) for chat, keys in found.items()}


def set_source(db: Database, chat_id: int, source: str, on: bool) -> None:
    """Turn one source on (the default) or off for a chat."""
    if on:
        db.execute("DELETE FROM sources_off WHERE chat_id = ? AND source = ?", [chat_id, source])
    else:
        db.execute(
            "INSERT OR IGNORE INTO sources_off (chat_id, source) VALUES (?, ?)", [chat_id, source]
        )


def bulletin_sources(db: Database, bulletin_ids: Sequence[int]) -> dict[int, str]:
    """Each bulletin's `source_key`."""
    sql = "SELECT id, source FROM bulletins WHERE id IN ({marks})"
    return {b: source_key(source) for b, source in rows_for(db, sql, bulletin_ids)}


# -- forum topics: each one a reader of its own ------------------------------------------------

TOPIC_BASE = -(10**15)  # reader ids at or below: forum topics (no Telegram chat id is this low)


def is_topic(reader_id: int) -> bool:
    """The reader is a forum topic (its row is not a Telegram chat's)."""
    return reader_id <= TOPIC_BASE


def find_topic(db: Database, chat_id: int, thread_id: int) -> int | None:
    """The reader id of a forum's topic, or None if it never talked to the bot."""
    row = db.execute(
        "SELECT n FROM topics WHERE chat_id = ? AND thread_id = ?", [chat_id, thread_id]
    ).fetchone()
    return TOPIC_BASE - int(row[0]) if row else None


def topic_reader(db: Database, chat_id: int, thread_id: int) -> int:
    """The reader id of a forum's topic, made the first time."""
    db.execute(
        "INSERT OR IGNORE INTO topics (chat_id, thread_id) VALUES (?, ?)", [chat_id, thread_id]
    )
    found = find_topic(db, chat_id, thread_id)
    assert found is not None
    return found


def topic_addresses(db: Database, reader_ids: Sequence[int]) -> dict[int, tuple[int, int, str]]:
    """Where each topic reader's messages go: (chat id, thread id, the reader's language)."""
    sql = (f"SELECT t.n, t.chat_id, t.thread_id, coalesce(s.language, 'fr') FROM topics t "
           f"LEFT JOIN subscribers s ON s.chat_id = {TOPIC_BASE} - t.n "
           "WHERE t.n IN ({marks})")  # fmt: skip
    wanted = [TOPIC_BASE - r for r in reader_ids if is_topic(r)]
    return {TOPIC_BASE - n: (chat, thread, language)
            for n, chat, thread, language in rows_for(db, sql, wanted)}  # fmt: skip
