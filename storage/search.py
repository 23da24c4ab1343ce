"""Search storage: the analysed FTS5 index and the candidate query.

The index (`search_fts`) holds, for every item, the analysed terms of its text (`body`)
and of its section heading (`head`); its rowid is the item id. Query strings reaching
`match` are built by `bot.search` from quoted analysed terms; raw FTS syntax reaches it
only from admins, and syntax errors come back as `SearchSyntaxError`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

HEAD_WEIGHT = 2.5  # bm25 weight of the heading column against the item's own text
MAX_CANDIDATES = 200
_CANDIDATES = """
SELECT i.id, b.id, b.title, b.published_at, b.language, i.heading, i.text, i.headline_rank,
       i.paragraph_start, i.paragraph_end, bm25(search_fts, 1.0, {weight}) AS r
FROM search_fts
JOIN items i ON i.id = search_fts.rowid
JOIN bulletins b ON b.id = i.bulletin_id
WHERE {where}
ORDER BY r LIMIT ?
"""


class SearchSyntaxError(ValueError):
    """An admin's raw FTS query that SQLite could not parse."""


@dataclass(frozen=True)
class Candidate:
    """A matching item before re-ranking."""

    item_id: int
    bulletin_id: int
    bulletin_title: str
    published_at: str
    language: str
    heading: str
    text: str
    headline_rank: int | None
    paragraph_start: int
    paragraph_end: int
    bm25: float


def match(
    db: Database,
    fts_query: str,
    *,
    language: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = MAX_CANDIDATES,
) -> list[Candidate]:
    """Best `limit` items by bm25 for an FTS5 query, bulletins not deleted, filters applied."""
    where = ["search_fts MATCH ?", "b.deleted_at IS NULL"]
    params: list[Any] = [fts_query]
    if language:
        where.append("b.language = ?")
        params.append(language)
    if since:
        where.append("b.published_at >= ?")
        params.append(since)
    if until:
        where.append("b.published_at < ?")
        params.append(until)
    sql = _CANDIDATES.format(weight=HEAD_WEIGHT, where=" AND ".join(where))
    params.append(limit)
    try:
        rows = db.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        raise SearchSyntaxError(str(exc)) from None
    return [Candidate(*row) for row in rows]


def index_fingerprint(db: Database) -> str | None:
    """The analyzer fingerprint the index was built with."""
    row = db.execute("SELECT value FROM search_meta WHERE key = 'analyzer'").fetchone()
    return row[0] if row else None


def index_is_current(db: Database, fingerprint: str) -> bool:
    """True when every item is indexed with this analyzer."""
    if index_fingerprint(db) != fingerprint:
        return False
    items = db.execute("SELECT count(*) FROM items").fetchone()[0]
    indexed = db.execute("SELECT count(*) FROM search_fts").fetchone()[0]
    return bool(items == indexed)


def _items_with_language(db: Database, batch: int) -> Iterator[list[Any]]:
    cursor = db.conn.execute(
        "SELECT i.id, i.text, i.heading, b.language FROM items i "
        "JOIN bulletins b ON b.id = i.bulletin_id ORDER BY i.id"
    )
    while rows := cursor.fetchmany(batch):
        yield rows


def rebuild_index(
    db: Database, fingerprint: str, analyse: Callable[[str, str], str], batch: int = 5000
) -> int:
    """Re-index every item with `analyse(text, language)`; one transaction; return the count."""
    rows = [
        (item_id, analyse(text, lang), analyse(heading or "", lang))
        for chunk in _items_with_language(db, batch)
        for item_id, text, heading, lang in chunk
    ]
    with db.atomic():
        db.execute("DELETE FROM search_fts")
        db.conn.executemany("INSERT INTO search_fts (rowid, body, head) VALUES (?, ?, ?)", rows)
        db.execute(
            "INSERT INTO search_meta (key, value) VALUES ('analyzer', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [fingerprint],
        )
    return len(rows)
