"""What a trend chart counts: per bulletin, the items matching a query, and when each
bulletin was published; and the archive's version, which keys the charts' cache."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlite_utils import Database

from storage.search import SearchSyntaxError

_LIVE = "b.deleted_at IS NULL AND b.published_at >= ? AND b.published_at < ?"


@dataclass(frozen=True)
class Spans:
    """The live bulletins published in a range that have items, in the order of their items,
    and the rows each holds in the index: a bulletin's items have consecutive ids (`first_id +
    seq`, stored together), so bulletin k holds the rows `firsts[k]` to `lasts[k]`."""

    rows: list[tuple[int, str, int, int]]  # (bulletin, published, first item, last item)
    bulletins: NDArray[np.int64]
    firsts: NDArray[np.int64]
    lasts: NDArray[np.int64]
    newest_item: int  # the archive's highest item id (live or not)

    def __len__(self) -> int:
        return len(self.rows)

    def share(self) -> float:
        """Which part of the archive's rows lies between the first row and the last one of
        these bulletins: a word's matches there are about that part of all its matches."""
        if not self.rows:
            return 0.0
        return (int(self.lasts.max()) - int(self.firsts[0]) + 1) / max(1, self.newest_item)


def bulletin_spans(db: Database, since: str, until: str) -> Spans:
    """The live bulletins published in [since, until) that have items, with their rows."""
    rows = db.execute(
        "SELECT b.id, b.published_at, "
        "(SELECT id FROM items WHERE bulletin_id = b.id ORDER BY seq LIMIT 1), "
        "(SELECT id FROM items WHERE bulletin_id = b.id ORDER BY seq DESC LIMIT 1) "
        f"FROM bulletins b WHERE {_LIVE}",
        [since, until],
    ).fetchall()  # two seeks a bulletin in (bulletin_id, seq), not a walk through its items
    spans = sorted(
        ((int(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in rows if r[2] is not None),
        key=lambda span: span[2],
    )
    newest = db.execute("SELECT max(id) FROM items").fetchone()[0]
    return Spans(
        spans,
        np.array([s[0] for s in spans], dtype=np.int64),
        np.array([s[2] for s in spans], dtype=np.int64),
        np.array([s[3] for s in spans], dtype=np.int64),
        int(newest or 0),
    )


def items_per_bulletin(db: Database, fts: str, spans: Spans, *, by_span: bool) -> dict[int, int]:
    """Bulletin id → how many of its items match `fts` (a safely quoted expression), for the
    bulletins of `spans`, those with none left out.

    Two plans, the same answer. `by_span` asks the index once for each bulletin's rows: its
    cost grows with the bulletins (7–25 µs each), whatever the word, which suits a word in
    most items. Otherwise the index lists, in one query, every matching row between the
    first row of the spans and the last, and each row is placed in its bulletin's span by a
    binary search (numpy, not a loop in Python): its cost grows with those matches (~0.075 µs
    each), which suits every rarer word, and the long ranges."""
    if not spans.rows:
        return {}
    try:
        if by_span:
            rows = db.execute(
                "SELECT r.value ->> 0, (SELECT count(*) FROM search_fts WHERE search_fts MATCH ? "
                "AND rowid BETWEEN r.value ->> 2 AND r.value ->> 3) FROM json_each(?) r",
                [fts, json.dumps(spans.rows)],
            ).fetchall()
            return {int(r[0]): int(r[1]) for r in rows if r[1]}
        listed = db.execute(
            "SELECT group_concat(rowid) FROM search_fts WHERE search_fts MATCH ? "
            "AND rowid BETWEEN ? AND ?",
            [fts, int(spans.firsts[0]), int(spans.lasts.max())],
        ).fetchone()[0]
    except sqlite3.OperationalError as exc:
        raise SearchSyntaxError(str(exc)) from None
    if not listed:
        return {}
    matches = np.fromstring(listed, dtype=np.int64, sep=",")
    at = np.searchsorted(spans.firsts, matches, side="right") - 1  # the span starting before
    inside = matches <= spans.lasts[at]  # not in a gap (a deleted or out-of-range bulletin)
    counts = np.bincount(at[inside], minlength=len(spans.rows))
    hit = np.flatnonzero(counts)
    return dict(zip(spans.bulletins[hit].tolist(), counts[hit].tolist(), strict=True))


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
