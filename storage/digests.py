"""Digests: the bulletins a chat's edition may cover, their items, and stored editions.

A stored digest is immutable and keyed by its content (the bulletins it covers, their
summary versions, the language and the week it is titled with): two chats with the same
content share one row, and a rebuild with other content is another row, never an update.
`digest_bulletins` lists the bulletins each digest covers, so a chat is never sent a
bulletin twice in two digests.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from storage.bulletins import now_iso
from storage.tx import transaction

# digest rows that count as given to the chat (a failed or skipped one does not)
_DELIVERED = "('pending', 'sending', 'sent')"


@dataclass(frozen=True)
class WindowBulletin:
    """A bulletin a digest may cover."""

    id: int
    language: str
    summary_version: int | None
    published_at: str
    source: str = ""  # "file", "feed:<url>", "admin:<user id>"


@dataclass(frozen=True)
class SourceItem:
    """An item (sentence) of a bulletin a digest covers, with where it stands."""

    item_id: int
    bulletin_id: int
    bulletin_title: str
    published_at: str
    language: str
    text: str
    section: int
    paragraph: int
    heading: str
    headline_rank: int | None
    score: float
    link: str | None = None


def window_bulletins(db: Database, since_utc: str, until_utc: str) -> list[WindowBulletin]:
    """Bulletins published in (since, until], not deleted, oldest first."""
    rows = db.query(
        "SELECT id, language, summary_version, published_at, source FROM bulletins "
        "WHERE deleted_at IS NULL AND published_at > ? AND published_at <= ? "
        "ORDER BY published_at, id",
        [since_utc, until_utc],
    )
    return [WindowBulletin(**row) for row in rows]


def last_edition_cut(db: Database, chat_id: int) -> str | None:
    """When the chat's latest digest given to it (queued or sent) was cut, or None."""
    row = db.execute(
        f"SELECT max(cut_at) FROM outbox WHERE chat_id = ? AND kind = 'digest' "
        f"AND status IN {_DELIVERED}",
        [chat_id],
    ).fetchone()
    return row[0] if row else None


def covered_bulletins(db: Database, chat_id: int, since_utc: str) -> set[int]:
    """Bulletins already in a digest given to the chat that was cut after `since`."""
    rows = db.execute(
        "SELECT DISTINCT c.bulletin_id FROM outbox o "
        "JOIN digest_bulletins c ON c.digest_id = o.content_id "
        f"WHERE o.chat_id = ? AND o.kind = 'digest' AND o.status IN {_DELIVERED} "
        "AND o.cut_at > ?",
        [chat_id, since_utc],
    ).fetchall()
    return {r[0] for r in rows}


def source_items(db: Database, bulletin_ids: Sequence[int]) -> list[SourceItem]:
    """Every item of these bulletins, in bulletin then reading order."""
    if not bulletin_ids:
        return []
    marks = ", ".join("?" * len(bulletin_ids))
    rows = db.query(
        "SELECT i.id AS item_id, b.id AS bulletin_id, b.title AS bulletin_title, "
        "b.published_at, b.language, i.text, coalesce(i.section, 0) AS section, "
        "coalesce(i.paragraph, 0) AS paragraph, coalesce(i.heading, '') AS heading, "
        "i.headline_rank, coalesce(i.score, 0) AS score, b.link "
        "FROM items i JOIN bulletins b ON b.id = i.bulletin_id "
        f"WHERE b.id IN ({marks}) ORDER BY b.published_at, b.id, i.seq",
        list(bulletin_ids),
    )
    return [SourceItem(**row) for row in rows]


def bulletin_links(db: Database, bulletin_ids: Sequence[int]) -> dict[int, str | None]:
    """Each bulletin's original (a feed entry's link), or None."""
    found: dict[int, str | None] = {}
    for start in range(0, len(bulletin_ids), 500):
        part = list(bulletin_ids[start : start + 500])
        marks = ",".join("?" * len(part))
        found.update(db.execute(f"SELECT id, link FROM bulletins WHERE id IN ({marks})",
                                part).fetchall())  # fmt: skip
    return found


def digest_id_by_key(db: Database, key: str) -> int | None:
    """The stored digest with this content key, or None."""
    row = db.execute("SELECT id FROM digests WHERE key = ?", [key]).fetchone()
    return int(row[0]) if row else None


def save_digest(
    db: Database,
    key: str,
    week: str,
    language: str,
    title: str,
    payload: dict[str, Any],
    bulletin_ids: Iterable[int],
) -> int:
    """Store a digest under its content key (kept as it is if already there); return its id."""
    with transaction(db):
        db.execute(
            "INSERT OR IGNORE INTO digests (key, week, language, title, payload, bulletin_count, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [key, week, language, title, json.dumps(payload, ensure_ascii=False),
             payload.get("bulletin_count", 0), now_iso()],
        )  # fmt: skip
        digest_id = digest_id_by_key(db, key)
        assert digest_id is not None
        db.conn.executemany(
            "INSERT OR IGNORE INTO digest_bulletins (digest_id, bulletin_id) VALUES (?, ?)",
            [(digest_id, b) for b in bulletin_ids],
        )
    return digest_id


def load_digest_by_id(db: Database, digest_id: int) -> dict[str, Any] | None:
    """A stored digest's payload by id, or None."""
    row = db.execute("SELECT payload FROM digests WHERE id = ?", [digest_id]).fetchone()
    return json.loads(row[0]) if row else None
