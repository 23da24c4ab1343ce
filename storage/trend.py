"""What a trend chart counts: per bulletin, the items matching a query, and when each
bulletin was published; and the archive's version, which keys the charts' cache."""

from __future__ import annotations

import json
import sqlite3

from sqlite_utils import Database

from storage.search import SearchSyntaxError

_LIVE = "b.deleted_at IS NULL AND b.published_at >= ? AND b.published_at < ?"


def bulletin_spans(db: Database, since: str, until: str) -> list[tuple[int, str, int, int]]:
    """(bulletin id, publication moment, first item id, last item id) of the live bulletins
    published in [since, until) that have items (a bulletin's items have consecutive ids)."""
    rows = db.execute(
        "SELECT b.id, b.published_at, (SELECT min(id) FROM items WHERE bulletin_id = b.id), "
        f"(SELECT max(id) FROM items WHERE bulletin_id = b.id) FROM bulletins b WHERE {_LIVE}",
        [since, until],
    ).fetchall()  # two index seeks a bulletin, not a walk through its items
    return [(int(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in rows if r[2] is not None]


def items_per_bulletin(db: Database, fts: str, spans: list[tuple[int, str, int, int]],
                       since: str, until: str, *, by_span: bool) -> dict[int, int]:  # fmt: skip
    """Bulletin id → how many of its items match `fts` (a safely quoted expression), for the
    bulletins of `spans` (those published in [since, until)), those with none left out.

    Two plans, the same answer: `by_span` asks the index for each bulletin's span of rows
    (its cost grows with the bulletins in range: best for a word in most items); otherwise
    every match in the archive is looked up and kept if its bulletin is in range (its cost
    grows with the word's matches: best for a rarer word)."""
    try:
        if by_span:
            rows = db.execute(
                "SELECT r.value ->> 0, (SELECT count(*) FROM search_fts WHERE search_fts MATCH ? "
                "AND rowid BETWEEN r.value ->> 2 AND r.value ->> 3) FROM json_each(?) r",
                [fts, json.dumps(spans)],
            ).fetchall()
        else:
            rows = db.execute(
                "SELECT i.bulletin_id, count(*) FROM search_fts s JOIN items i ON i.id = s.rowid "
                "WHERE search_fts MATCH ? AND i.bulletin_id IN (SELECT b.id FROM bulletins b "
                f"WHERE {_LIVE}) GROUP BY i.bulletin_id",
                [fts, since, until],
            ).fetchall()
    except sqlite3.OperationalError as exc:
        raise SearchSyntaxError(str(exc)) from None
    return {int(r[0]): int(r[1]) for r in rows if r[1]}


def first_published(db: Database) -> str | None:
    """When the oldest live bulletin was published."""
    row = db.execute("SELECT min(published_at) FROM bulletins WHERE deleted_at IS NULL").fetchone()
    return None if row is None or row[0] is None else str(row[0])


def archive_version(db: Database) -> str:
    """Changes whenever what a chart counts may change: a bulletin added (the newest id),
    deleted or restored (a counter kept by `set_deleted`), the index rebuilt with another
    analyzer. Three look-ups by key."""
    newest = db.execute("SELECT max(id) FROM bulletins").fetchone()[0]
    meta = dict(
        db.execute(
            "SELECT key, value FROM search_meta WHERE key IN ('analyzer', 'deletions')"
        ).fetchall()
    )
    return f"{newest or 0}:{meta.get('deletions', 0)}:{meta.get('analyzer', '')}"


def count_deletion(db: Database) -> None:
    """A bulletin was deleted or restored: charts counted before are stale."""
    db.execute(
        "INSERT INTO search_meta (key, value) VALUES ('deletions', '1') "
        "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
    )
