"""Search storage: the analysed FTS5 index and the candidate query.

The index (`search_fts`) holds, for every item, the analysed terms of its text (`body`)
and of its section heading (`head`); its rowid is the item id. Query strings reaching
`match` are built by `bot.search` from quoted analysed terms; raw FTS syntax reaches it
only from admins, and syntax errors come back as `SearchSyntaxError`.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from storage.spelling import add_deletions, clear_deletions, now_frequent
from storage.tx import transaction

HEAD_WEIGHT = 2.5  # bm25 weight of the heading against the text (also the index's rank)
MAX_CANDIDATES = 100  # ranked in Python: 20 pages of 5
POOL = 500  # newest matches scored per query
MAX_EXPANSION = 16  # indexed terms a prefix query stands for
_POOL = """
SELECT rowid, rank FROM search_fts WHERE {where} ORDER BY rowid DESC LIMIT ?
"""
_POOL_FILTERED = """
SELECT search_fts.rowid, search_fts.rank FROM search_fts
JOIN items i ON i.id = search_fts.rowid JOIN bulletins b ON b.id = i.bulletin_id
WHERE {where} ORDER BY search_fts.rowid DESC LIMIT ?
"""
_DETAILS = """
SELECT i.id, b.id, b.title, b.published_at, b.language, i.heading, i.text, i.headline_rank,
       i.paragraph_start, i.paragraph_end
FROM items i JOIN bulletins b ON b.id = i.bulletin_id
WHERE i.id IN ({ids}) AND b.deleted_at IS NULL
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


def _filters(
    fts_query: str, language: str | None, since: str | None, until: str | None
) -> tuple[str, list[Any], bool]:
    """The WHERE clause and parameters for a match with filters; True if they need a join."""
    where = ["search_fts MATCH ?"]
    params: list[Any] = [fts_query]
    for column, op, value in (("language", "=", language), ("published_at", ">=", since),
                              ("published_at", "<", until)):  # fmt: skip
        if value:
            where.append(f"b.{column} {op} ?")
            params.append(value)
    return " AND ".join(where), params, len(where) > 1


def _newest(
    db: Database, templates: tuple[str, str], fts_query: str, pool: int,
    language: str | None, since: str | None, until: str | None,
) -> list[Any]:  # fmt: skip
    """Run a newest-first pool query, joined to bulletins only when filters need it."""
    where, params, joined = _filters(fts_query, language, since, until)
    sql = templates[joined].format(where=where)
    try:
        return db.execute(sql, [*params, pool]).fetchall()
    except sqlite3.OperationalError as exc:
        raise SearchSyntaxError(str(exc)) from None


def match(
    db: Database,
    fts_query: str,
    *,
    language: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = MAX_CANDIDATES,
    pool: int = POOL,
) -> list[Candidate]:
    """The `limit` best items by FTS5's own bm25 among the newest `pool` matches.

    For admins' raw queries, whose terms we cannot score ourselves."""
    best = _newest(db, (_POOL, _POOL_FILTERED), fts_query, pool, language, since, until)
    best.sort(key=lambda row: row[1])
    return candidates(db, {rowid: -rank for rowid, rank in best[:limit]})


def add_to_index(db: Database, rows: list[tuple[int, str, str]]) -> None:
    """Index (item id, analysed text, analysed heading) rows; count the items of each term."""
    db.conn.executemany("INSERT INTO search_fts (rowid, body, head) VALUES (?, ?, ?)", rows)
    docs: Counter[str] = Counter()
    for _, body, head in rows:
        docs.update(set(body.split()) | set(head.split()))
    add_deletions(db, now_frequent(db, docs))  # before the count is updated
    db.conn.executemany(
        "INSERT INTO search_terms (term, docs) VALUES (?, ?) "
        "ON CONFLICT(term) DO UPDATE SET docs = docs + excluded.docs",
        list(docs.items()),
    )


def term_docs(db: Database, terms: set[str]) -> dict[str, int]:
    """How many items hold each term."""
    if not terms:
        return {}
    marks = ",".join("?" * len(terms))
    rows = db.execute(
        f"SELECT term, docs FROM search_terms WHERE term IN ({marks})", list(terms)
    ).fetchall()
    return {term: n for term, n in rows}


def item_count(db: Database) -> int:
    """About how many items are indexed (the highest id: fast, and close enough for idf)."""
    return int(db.execute("SELECT coalesce(max(id), 0) FROM items").fetchone()[0])


def average_items(db: Database) -> float:
    """About how many items a bulletin has (from the highest ids: fast, and close enough for
    BM25's average document length)."""
    bulletins = db.execute("SELECT coalesce(max(id), 0) FROM bulletins").fetchone()[0]
    return max(item_count(db) / max(int(bulletins), 1), 1.0)


def candidates(db: Database, scored: dict[int, float]) -> list[Candidate]:
    """Details of scored items (bulletins not deleted), best score first."""
    if not scored:
        return []
    rows = db.execute(_DETAILS.format(ids=",".join("?" * len(scored))), list(scored)).fetchall()
    found = [Candidate(*[*row, -scored[row[0]]]) for row in rows]
    found.sort(key=lambda c: (c.bm25, c.item_id))
    return found


def expand_prefix(db: Database, prefix: str, limit: int = MAX_EXPANSION) -> list[str]:
    """Indexed terms starting with `prefix` (shortest first), at most `limit`."""
    rows = db.execute(
        "SELECT term FROM search_terms WHERE term >= ? AND term < ? "
        "ORDER BY length(term), term LIMIT ?",
        [prefix, prefix + "\U0010ffff", limit],
    ).fetchall()
    return [r[0] for r in rows]


def index_fingerprint(db: Database) -> str | None:
    """The analyzer fingerprint the index was built with."""
    row = db.execute("SELECT value FROM search_meta WHERE key = 'analyzer'").fetchone()
    return row[0] if row else None


def index_is_current(db: Database, fingerprint: str) -> bool:
    """True when the index was built with this analyzer and holds the newest item.

    Items and their index rows are written in one transaction, so comparing the highest
    ids is enough, and costs two index look-ups instead of two table scans at start-up."""
    if index_fingerprint(db) != fingerprint:
        return False
    newest_item = db.execute("SELECT max(id) FROM items").fetchone()[0]
    newest_indexed = db.execute(
        "SELECT rowid FROM search_fts ORDER BY rowid DESC LIMIT 1"
    ).fetchone()
    return bool(newest_item == (newest_indexed[0] if newest_indexed else None))


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
    with transaction(db):
        db.execute("DELETE FROM search_fts")
        db.execute("DELETE FROM search_terms")
        clear_deletions(db)
        for start in range(0, len(rows), batch):
            add_to_index(db, rows[start : start + batch])
        db.execute(
            "INSERT INTO search_meta (key, value) VALUES ('analyzer', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [fingerprint],
        )
    return len(rows)


_UNIT = """
SELECT search_fts.rowid, i.bulletin_id, i.paragraph_start FROM search_fts
JOIN items i ON i.id = search_fts.rowid{join}
WHERE {where} ORDER BY search_fts.rowid DESC LIMIT ?
"""


def unit_matches(
    db: Database,
    fts_query: str,
    *,
    language: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = POOL,
    within: tuple[int, int] | None = None,
) -> list[tuple[int, int, int]]:
    """(item id, bulletin id, paragraph start) of the newest `limit` items matching one
    part of a query, filtered; `within` bounds the item ids (one bulletin's range)."""
    where, params, joined = _filters(fts_query, language, since, until)
    if within is not None:
        where += " AND search_fts.rowid BETWEEN ? AND ?"
        params += list(within)
    join = " JOIN bulletins b ON b.id = i.bulletin_id" if joined else ""
    try:
        rows = db.execute(_UNIT.format(join=join, where=where), [*params, limit]).fetchall()
    except sqlite3.OperationalError as exc:
        raise SearchSyntaxError(str(exc)) from None
    return [(int(r[0]), int(r[1]), int(r[2])) for r in rows]


def analysed_items(db: Database, item_ids: list[int]) -> list[tuple[int, str, str]]:
    """(item id, analysed text, analysed heading) of these items, from the index."""
    if not item_ids:
        return []
    marks = ",".join("?" * len(item_ids))
    rows = db.execute(
        f"SELECT rowid, body, head FROM search_fts WHERE rowid IN ({marks})", item_ids
    ).fetchall()
    return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]


def analysed_range(db: Database, first: int, last: int) -> list[tuple[int, str, str, int]]:
    """(item id, analysed text, analysed heading, paragraph start) of the items whose ids
    are in [first, last] (one bulletin's), read from the index's stored columns."""
    rows = db.execute(
        "SELECT s.rowid, s.body, s.head, i.paragraph_start FROM search_fts s "
        "JOIN items i ON i.id = s.rowid WHERE s.rowid BETWEEN ? AND ?",
        [first, last],
    ).fetchall()
    return [(int(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]


def bulletin_ranges(db: Database, bulletin_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """For each live (not deleted) bulletin: its first and last item ids and item count.

    A bulletin's items are stored together (`insert_bulletin`: seq 0..n-1, consecutive ids,
    never deleted one by one), so two seeks in the (bulletin_id, seq) index give its first
    and last item: counting them one by one cost ~10 ms for a search's 500 candidates."""
    if not bulletin_ids:
        return {}
    marks = ",".join("?" * len(bulletin_ids))
    rows = db.execute(
        "SELECT b.id, f.id, l.id, l.seq + 1 FROM bulletins b "
        "JOIN items f ON f.bulletin_id = b.id AND f.seq = 0 "
        "JOIN items l ON l.bulletin_id = b.id "
        "AND l.seq = (SELECT max(seq) FROM items m WHERE m.bulletin_id = b.id) "
        f"WHERE b.id IN ({marks}) AND b.deleted_at IS NULL",
        bulletin_ids,
    ).fetchall()
    return {int(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in rows}


def item_details(db: Database, item_ids: list[int]) -> dict[int, Candidate]:
    """Details of these items (of bulletins not deleted), by id; `bm25` is 0."""
    if not item_ids:
        return {}
    rows = db.execute(_DETAILS.format(ids=",".join("?" * len(item_ids))), item_ids).fetchall()
    return {int(row[0]): Candidate(*[*row, 0.0]) for row in rows}


def matching_items(db: Database, fts: str, bulletin_ids: list[int]) -> dict[int, list[int]]:
    """Items of these bulletins that match a (safely quoted) FTS query, by bulletin."""
    if not bulletin_ids:
        return {}
    marks = ", ".join("?" * len(bulletin_ids))
    rows = db.execute(
        "SELECT i.bulletin_id, s.rowid FROM search_fts s JOIN items i ON i.id = s.rowid "
        f"WHERE search_fts MATCH ? AND i.bulletin_id IN ({marks}) ORDER BY s.rowid",
        [fts, *bulletin_ids],
    ).fetchall()
    found: dict[int, list[int]] = {}
    for bulletin_id, item_id in rows:
        found.setdefault(bulletin_id, []).append(item_id)
    return found
