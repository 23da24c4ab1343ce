"""Digests: the week's candidate items, and stored digests (one per week and language)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from storage.bulletins import now_iso


@dataclass(frozen=True)
class Candidate:
    """A headline item of a bulletin published in the digest's window."""

    item_id: int
    bulletin_id: int
    bulletin_title: str
    published_at: str
    language: str
    text: str
    headline_rank: int
    score: float


def week_candidates(
    db: Database, start_utc: str, end_utc: str, language: str | None
) -> list[Candidate]:
    """Headline items of bulletins published in [start, end), not deleted."""
    sql = (
        "SELECT i.id, b.id, b.title, b.published_at, b.language, i.text, i.headline_rank, "
        "coalesce(i.score, 0) FROM items i JOIN bulletins b ON b.id = i.bulletin_id "
        "WHERE b.deleted_at IS NULL AND b.published_at >= ? AND b.published_at < ? "
        "AND i.headline_rank IS NOT NULL"
    )
    params: list[Any] = [start_utc, end_utc]
    if language is not None:
        sql += " AND b.language = ?"
        params.append(language)
    sql += " ORDER BY b.published_at, b.id, i.headline_rank"
    return [Candidate(*row) for row in db.execute(sql, params).fetchall()]


def week_languages(db: Database, start_utc: str, end_utc: str) -> dict[str, int]:
    """Number of bulletins per language published in [start, end)."""
    rows = db.execute(
        "SELECT language, count(*) FROM bulletins WHERE deleted_at IS NULL "
        "AND published_at >= ? AND published_at < ? GROUP BY language",
        [start_utc, end_utc],
    ).fetchall()
    return {lang: n for lang, n in rows}


def save_digest(
    db: Database, week: str, language: str, title: str, payload: dict[str, Any], count: int
) -> int:
    """Store (or replace) the digest of a week and language; return its id."""
    with db.atomic():
        db.execute(
            "INSERT INTO digests (week, language, title, payload, bulletin_count, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(week, language) DO UPDATE SET "
            "title = excluded.title, payload = excluded.payload, "
            "bulletin_count = excluded.bulletin_count, created_at = excluded.created_at",
            [week, language, title, json.dumps(payload, ensure_ascii=False), count, now_iso()],
        )
        row = db.execute(
            "SELECT id FROM digests WHERE week = ? AND language = ?", [week, language]
        ).fetchone()
    return int(row[0])


def load_digest(db: Database, week: str, language: str) -> dict[str, Any] | None:
    """The stored payload of a week's digest, or None."""
    row = db.execute(
        "SELECT payload FROM digests WHERE week = ? AND language = ?", [week, language]
    ).fetchone()
    return json.loads(row[0]) if row else None


def load_digest_by_id(db: Database, digest_id: int) -> dict[str, Any] | None:
    """A stored digest's payload by id, or None."""
    row = db.execute("SELECT payload FROM digests WHERE id = ?", [digest_id]).fetchone()
    return json.loads(row[0]) if row else None
