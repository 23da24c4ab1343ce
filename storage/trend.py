"""What a trend chart counts: per bulletin, the items matching a query, and when each
bulletin was published; and the archive's version, which keys the charts' cache."""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database

from storage.search import SearchSyntaxError

_LIVE = "b.deleted_at IS NULL AND b.published_at >= ? AND b.published_at < ?"


def published_between(db: Database, since: str, until: str) -> dict[int, str]:
    """Bulletin id → publication moment, of the live bulletins published in [since, until)."""
    rows = db.execute(
        f"SELECT b.id, b.published_at FROM bulletins b WHERE {_LIVE}", [since, until]
    ).fetchall()
    return {int(r[0]): str(r[1]) for r in rows}


def item_span(db: Database, since: str, until: str) -> tuple[int, int] | None:
    """The first and last item ids of the live bulletins published in [since, until): the
    full-text index is then read over that span of rows only (None: no such bulletin)."""
    row = db.execute(
        "SELECT min(i.id), max(i.id) FROM items i JOIN bulletins b ON b.id = i.bulletin_id "
        f"WHERE {_LIVE}",
        [since, until],
    ).fetchone()
    return None if row is None or row[0] is None else (int(row[0]), int(row[1]))


def items_per_bulletin(
    db: Database, fts: str, since: str, until: str, span: tuple[int, int]
) -> dict[int, int]:
    """Bulletin id → how many of its items match `fts` (a safely quoted expression), for
    the live bulletins published in [since, until) whose items lie in `span`."""
    try:
        rows = db.execute(
            "SELECT i.bulletin_id, count(*) FROM search_fts s JOIN items i ON i.id = s.rowid "
            "JOIN bulletins b ON b.id = i.bulletin_id "
            f"WHERE search_fts MATCH ? AND s.rowid BETWEEN ? AND ? AND {_LIVE} "
            "GROUP BY i.bulletin_id",
            [fts, span[0], span[1], since, until],
        ).fetchall()
    except sqlite3.OperationalError as exc:
        raise SearchSyntaxError(str(exc)) from None
    return {int(r[0]): int(r[1]) for r in rows}


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
