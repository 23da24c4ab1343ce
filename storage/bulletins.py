"""Bulletins and their items: insert (one transaction), find duplicates, list, show."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from storage.models import Bulletin, BulletinDetail, Item, NewBulletin
from storage.search import add_to_index
from storage.trend import count_deletion
from storage.tx import transaction


class DuplicateBulletin(Exception):
    """A bulletin with the same content or the same source entry is already stored.

    `merged` is true when the one stored came from another source (the same article from
    another feed, a copy of it): the new one is folded into it, not stored twice."""

    def __init__(self, existing_id: int, merged: bool = False) -> None:
        super().__init__(f"duplicate of bulletin {existing_id}")
        self.existing_id = existing_id
        self.merged = merged


def newest_published(db: Database) -> str | None:
    """When the newest live bulletin was published (UTC ISO), or None for an empty archive."""
    row = db.execute("SELECT max(published_at) FROM bulletins WHERE deleted_at IS NULL").fetchone()
    return row[0] if row else None


def now_iso() -> str:
    """The current UTC time as ISO 8601 with seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def find_duplicate(db: Database, new: NewBulletin) -> DuplicateBulletin | None:
    """A stored bulletin that `new` repeats: the same entry of the same source, the same
    text, the same article's address, or the same body under another title."""
    row = db.execute(
        "SELECT id, source FROM bulletins WHERE content_hash = ? "
        "OR (source_ref IS NOT NULL AND source = ? AND source_ref = ?) "
        "OR (canonical_link IS NOT NULL AND canonical_link = ?) "
        "OR (body_hash IS NOT NULL AND body_hash = ?) LIMIT 1",
        [new.content_hash, new.source, new.source_ref, new.canonical_link, new.body_hash],
    ).fetchone()
    return DuplicateBulletin(int(row[0]), row[1] != new.source) if row else None


def known_entries(
    db: Database, source: str, refs: list[str], links: list[str]
) -> tuple[set[str], set[str]]:
    """Of a feed's entry ids and canonical article addresses, those already stored (the
    ids from this source, the addresses from any): entries not worth preparing again."""
    seen_refs: set[str] = set()
    seen_links: set[str] = set()
    for start in range(0, len(refs), 500):
        part = refs[start : start + 500]
        sql = "SELECT source_ref FROM bulletins WHERE source = ? AND source_ref IN ({})"
        seen_refs.update(r[0] for r in db.execute(sql.format(",".join("?" * len(part))),
                                                  [source, *part]))  # fmt: skip
    for start in range(0, len(links), 500):
        part = links[start : start + 500]
        sql = "SELECT canonical_link FROM bulletins WHERE canonical_link IN ({})"
        seen_links.update(r[0] for r in db.execute(sql.format(",".join("?" * len(part))), part))
    return seen_refs, seen_links


def insert_bulletin(db: Database, new: NewBulletin) -> int:
    """Store a bulletin with its sections and items atomically; return its id.

    Raises `DuplicateBulletin` if the same content, source entry or article is already
    stored. The transaction takes the write lock before it reads (`transaction`), so
    another connection's commit never invalidates the duplicate check."""
    with transaction(db):
        existing = find_duplicate(db, new)
        if existing is not None:
            raise existing
        try:
            cursor = db.execute(
                "INSERT INTO bulletins (source, source_ref, title, published_at, language, "
                "raw_text, clean_text, content_hash, summary_version, created_at, link, "
                "canonical_link, body_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    new.source,
                    new.source_ref,
                    new.title,
                    new.published_at,
                    new.language,
                    new.raw_text,
                    new.clean_text,
                    new.content_hash,
                    new.summary_version,
                    now_iso(),
                    new.link,
                    new.canonical_link,
                    new.body_hash,
                ],
            )
        except sqlite3.IntegrityError:
            duplicate = find_duplicate(db, new)
            if duplicate is None:
                raise  # another constraint: the bulletin is refused, not a duplicate of nothing
            raise duplicate from None
        bulletin_id = int(cursor.lastrowid or 0)
        db.conn.executemany(
            'INSERT INTO sections (bulletin_id, idx, heading, start, "end") VALUES (?, ?, ?, ?, ?)',
            [(bulletin_id, i, s.heading, s.start, s.end) for i, s in enumerate(new.sections)],
        )
        headings = [s.heading for s in new.sections]
        first_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM items").fetchone()[0]
        db.conn.executemany(
            "INSERT INTO items (id, bulletin_id, seq, section, heading, paragraph, text, start, "
            '"end", paragraph_start, paragraph_end, headline_rank, score) '
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    first_id + seq,
                    bulletin_id,
                    seq,
                    it.section,
                    headings[it.section] if it.section < len(headings) else "",
                    it.paragraph,
                    it.text,
                    it.start,
                    it.end,
                    it.paragraph_start,
                    it.paragraph_end,
                    it.headline_rank,
                    it.score,
                )
                for seq, it in enumerate(new.items)
            ],
        )
        heads = [s.search_text for s in new.sections]
        rows = [
            (first_id + seq, it.search_text, heads[it.section] if it.section < len(heads) else "")
            for seq, it in enumerate(new.items)
        ]
        add_to_index(db, rows)
    return bulletin_id


_BULLETIN_COLUMNS = (
    "b.id AS id, b.source AS source, b.source_ref AS source_ref, b.title AS title, "
    "b.published_at AS published_at, b.language AS language, b.created_at AS created_at, "
    "b.deleted_at AS deleted_at, b.link AS link, "
    "(SELECT count(*) FROM items i WHERE i.bulletin_id = b.id) AS item_count"
)
_ITEM_COLUMNS = (
    "i.id AS id, i.bulletin_id AS bulletin_id, i.seq AS seq, i.section AS section, "
    "i.heading AS heading, i.paragraph AS paragraph, i.text AS text, i.start AS start, "
    'i."end" AS "end", i.paragraph_start AS paragraph_start, '
    "i.paragraph_end AS paragraph_end, i.headline_rank AS headline_rank, i.score AS score"
)


def _pick(kind: Any, row: dict[str, Any]) -> Any:
    """A dataclass built from a row's named columns (never by position)."""
    return kind(**{name: row[name] for name in kind.__dataclass_fields__})


def _bulletin(row: dict[str, Any]) -> Bulletin:
    found: Bulletin = _pick(Bulletin, row)
    return found


def list_bulletins(
    db: Database, *, limit: int = 20, offset: int = 0, include_deleted: bool = False
) -> list[Bulletin]:
    """Bulletins, newest publication first."""
    where = "" if include_deleted else "WHERE b.deleted_at IS NULL"
    rows = db.query(
        f"SELECT {_BULLETIN_COLUMNS} FROM bulletins b {where} "
        "ORDER BY b.published_at DESC, b.id DESC LIMIT ? OFFSET ?",
        [limit, offset],
    )
    return [_bulletin(r) for r in rows]


def count_bulletins(
    db: Database, *, include_deleted: bool = False, since: str | None = None
) -> int:
    """How many bulletins are stored (published after `since`, when given)."""
    where = ["1"] if include_deleted else ["deleted_at IS NULL"]
    if since is not None:
        where.append("published_at >= ?")
    params = [since] if since is not None else []
    sql = f"SELECT count(*) FROM bulletins WHERE {' AND '.join(where)}"
    return int(db.execute(sql, params).fetchone()[0])


def get_bulletin(db: Database, bulletin_id: int) -> BulletinDetail | None:
    """One bulletin with its clean text and items, or None."""
    row = next(
        iter(
            db.query(
                f"SELECT {_BULLETIN_COLUMNS}, b.clean_text AS clean_text, "
                "b.content_hash AS content_hash FROM bulletins b WHERE b.id = ?",
                [bulletin_id],
            )
        ),
        None,
    )
    if row is None:
        return None
    items = db.query(
        f"SELECT {_ITEM_COLUMNS} FROM items i WHERE i.bulletin_id = ? ORDER BY i.seq",
        [bulletin_id],
    )
    return BulletinDetail(
        bulletin=_bulletin(row),
        clean_text=row["clean_text"],
        content_hash=row["content_hash"],
        items=[_pick(Item, r) for r in items],
    )


def section_headings(db: Database, bulletin_id: int) -> list[str]:
    """The headings of a bulletin's sections, in order."""
    rows = db.execute(
        "SELECT heading FROM sections WHERE bulletin_id = ? ORDER BY idx", [bulletin_id]
    ).fetchall()
    return [r[0] for r in rows]


def stale_summaries(db: Database, version: int) -> list[int]:
    """Ids of bulletins whose headlines were not computed by summariser `version`."""
    rows = db.execute(
        "SELECT id FROM bulletins WHERE summary_version IS NULL OR summary_version != ? "
        "ORDER BY id",
        [version],
    ).fetchall()
    return [r[0] for r in rows]


def set_headlines(
    db: Database,
    bulletin_id: int,
    ranks: list[tuple[int, int | None, float]],
    version: int,
) -> None:
    """Store (item id, headline rank, score) for a bulletin's items, in one transaction."""
    with transaction(db):
        db.conn.executemany(
            "UPDATE items SET headline_rank = ?, score = ? WHERE id = ? AND bulletin_id = ?",
            [(rank, score, item_id, bulletin_id) for item_id, rank, score in ranks],
        )
        db.execute("UPDATE bulletins SET summary_version = ? WHERE id = ?", [version, bulletin_id])


def unannounced(db: Database) -> list[tuple[int, str]]:
    """(id, published_at) of the bulletins not announced to subscribers yet."""
    rows = db.execute(
        "SELECT id, published_at FROM bulletins WHERE announced_at IS NULL "
        "AND deleted_at IS NULL ORDER BY id"
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def mark_announced(db: Database, bulletin_ids: list[int], at: str) -> None:
    """These bulletins have been announced (or will never be)."""
    db.conn.executemany(
        "UPDATE bulletins SET announced_at = ? WHERE id = ?", [(at, b) for b in bulletin_ids]
    )


def deleted_among(db: Database, bulletin_ids: Iterable[int]) -> set[int]:
    """Which of these bulletins are deleted (or gone)."""
    wanted = sorted(set(bulletin_ids))
    if not wanted:
        return set()
    marks = ", ".join("?" * len(wanted))
    live = db.execute(
        f"SELECT id FROM bulletins WHERE deleted_at IS NULL AND id IN ({marks})", wanted
    ).fetchall()
    return set(wanted) - {r[0] for r in live}


def set_deleted(db: Database, bulletin_id: int, deleted: bool) -> bool:
    """Soft-delete (or restore) a bulletin; False if there was nothing to change."""
    if deleted:
        cursor = db.execute(
            "UPDATE bulletins SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
            [now_iso(), bulletin_id],
        )
    else:
        cursor = db.execute(
            "UPDATE bulletins SET deleted_at = NULL WHERE id = ? AND deleted_at IS NOT NULL",
            [bulletin_id],
        )
    if cursor.rowcount > 0:
        count_deletion(db)
    return cursor.rowcount > 0


def latest_bulletin_id(db: Database) -> int | None:
    """The newest published bulletin that is not deleted."""
    row = db.execute(
        "SELECT id FROM bulletins WHERE deleted_at IS NULL ORDER BY published_at DESC, id DESC "
        "LIMIT 1"
    ).fetchone()
    return int(row[0]) if row else None


def get_item(db: Database, item_id: int) -> tuple[Item, str, str] | None:
    """An item with its paragraph's text and its bulletin's title."""
    rows = db.query(
        f"SELECT {_ITEM_COLUMNS}, "
        "substr(b.clean_text, i.paragraph_start + 1, i.paragraph_end - i.paragraph_start) "
        "AS paragraph_text, b.title AS bulletin_title FROM items i "
        "JOIN bulletins b ON b.id = i.bulletin_id WHERE i.id = ? AND b.deleted_at IS NULL",
        [item_id],
    )
    row = next(iter(rows), None)
    if row is None:
        return None
    return _pick(Item, row), row["paragraph_text"], row["bulletin_title"]
