"""Full-text search over items. User text is always quoted before it reaches MATCH."""

from __future__ import annotations

import re

from sqlite_utils import Database

from storage.models import SearchHit

HIGHLIGHT_START = "\ue000"
HIGHLIGHT_END = "\ue001"
MAX_QUERY_TERMS = 16

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


class EmptyQuery(ValueError):
    """The query holds no searchable word."""


def fts_query(text: str) -> str:
    """Turn free user text into a safe FTS5 query: every word quoted, all required.

    FTS operators (`AND`, `NEAR(`, `*`, `"`, `-`, column filters) become plain words or
    disappear. Raises `EmptyQuery` when nothing searchable is left.
    """
    words = _TOKEN.findall(text)[:MAX_QUERY_TERMS]
    if not words:
        raise EmptyQuery("no searchable word in the query")
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def search_items(db: Database, query: str, *, limit: int = 10, offset: int = 0) -> list[SearchHit]:
    """Items matching every word of `query`, best bm25 first (bulletins not deleted)."""
    match = fts_query(query)
    rows = db.execute(
        "SELECT i.id, i.bulletin_id, b.title, b.published_at, b.language, i.heading, i.text, "
        "snippet(items_fts, 0, ?, ?, '…', 24), bm25(items_fts, 1.0, 2.0) AS rank, "
        "i.paragraph_start, i.paragraph_end "
        "FROM items_fts JOIN items i ON i.id = items_fts.rowid "
        "JOIN bulletins b ON b.id = i.bulletin_id "
        "WHERE items_fts MATCH ? AND b.deleted_at IS NULL "
        "ORDER BY rank, b.published_at DESC LIMIT ? OFFSET ?",
        [HIGHLIGHT_START, HIGHLIGHT_END, match, limit, offset],
    ).fetchall()
    return [SearchHit(*row) for row in rows]
