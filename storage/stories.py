"""Stories in SQLite: each report's story, outlet and signature, and the signatures' terms
by date (the candidates of a new report are found through them, never by a scan).

A report is a bulletin (filed under its own id) or a topic of a round-up: one of its
sections, filed under a negative id of its own with `of_bulletin` and `section` saying
whose it is. Report ids are what candidates, signatures and stories are kept by; a story's
id is its first report's."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from storage.batches import rows_for


@dataclass(frozen=True)
class Member:
    """A bulletin's place in its story."""

    bulletin_id: int
    story_id: int
    outlet: str


def probe_hits(
    db: Database, terms: Iterable[str], since: str, until: str, per_term: int
) -> dict[int, int]:
    """For each bulletin published in [since, until] whose signature holds some of `terms`
    (at most the `per_term` most recent for each term), how many of them it holds."""
    hits: dict[int, int] = {}
    for term in terms:
        rows = db.execute(
            "SELECT bulletin_id FROM story_postings WHERE term = ? AND published_at BETWEEN ? "
            "AND ? ORDER BY published_at DESC LIMIT ?",
            [term, since, until, per_term],
        ).fetchall()
        for (bulletin_id,) in rows:
            hits[bulletin_id] = hits.get(bulletin_id, 0) + 1
    return hits


def signatures(db: Database, bulletin_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The stored signatures (as saved) of these bulletins."""
    sql = "SELECT bulletin_id, signature FROM story_members WHERE bulletin_id IN ({marks})"
    return {b: json.loads(sig) for b, sig in rows_for(db, sql, bulletin_ids)}


def story_ids(db: Database, bulletin_ids: Sequence[int]) -> dict[int, int]:
    """The story of each of these bulletins that has one."""
    sql = "SELECT bulletin_id, story_id FROM story_members WHERE bulletin_id IN ({marks})"
    return {b: s for b, s in rows_for(db, sql, bulletin_ids)}


def stories_near(db: Database, story_ids: Sequence[int], since: str, until: str) -> dict[int, int]:
    """How many reports each of these stories has published in [since, until]."""
    if not story_ids:
        return {}
    marks = ",".join("?" * len(story_ids))
    rows = db.execute(
        f"SELECT story_id, count(*) FROM story_members WHERE story_id IN ({marks}) "
        "AND published_at BETWEEN ? AND ? GROUP BY story_id",
        [*story_ids, since, until],
    ).fetchall()
    return {int(s): int(n) for s, n in rows}


def members_of(db: Database, bulletin_ids: Sequence[int]) -> dict[int, Member]:
    """Each of these bulletins' story and outlet (a bulletin not filed yet is absent)."""
    sql = ("SELECT bulletin_id, story_id, outlet FROM story_members "
           "WHERE bulletin_id IN ({marks})")  # fmt: skip
    return {row[0]: Member(*row) for row in rows_for(db, sql, bulletin_ids)}


def topics_of(db: Database, bulletin_ids: Sequence[int]) -> dict[tuple[int, int], Member]:
    """The filed topics of these round-ups: (bulletin, section) → the topic's report id (as
    `bulletin_id`), story and outlet."""
    sql = ("SELECT of_bulletin, section, bulletin_id, story_id, outlet FROM story_members "
           "WHERE of_bulletin IN ({marks})")  # fmt: skip
    return {(r[0], r[1]): Member(*r[2:]) for r in rows_for(db, sql, bulletin_ids)}


def new_topic_id(db: Database) -> int:
    """A report id for a new topic: below every id used (bulletins' are positive)."""
    return int(db.execute("SELECT min(0, coalesce(min(bulletin_id), 0)) - 1 FROM story_members")
               .fetchone()[0])  # fmt: skip


def file_member(
    db: Database,
    bulletin_id: int,
    story_id: int,
    outlet: str,
    published_at: str,
    signature: dict[str, Any],
    postings: Iterable[str],
    merged: Sequence[int] = (),
    topic: tuple[int, int] | None = None,
) -> None:
    """File a report (a bulletin; or, with `topic` = (its bulletin, section), a round-up's
    topic under a `new_topic_id`) in its story; stories it links are merged into that one."""
    for other in merged:
        db.execute("UPDATE story_members SET story_id = ? WHERE story_id = ?", [story_id, other])
    of_bulletin, section = topic or (None, None)
    db.execute(
        "INSERT OR REPLACE INTO story_members (bulletin_id, story_id, outlet, published_at, "
        "signature, of_bulletin, section) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [bulletin_id, story_id, outlet, published_at, json.dumps(signature, ensure_ascii=False),
         of_bulletin, section],
    )  # fmt: skip
    db.conn.executemany(
        "INSERT OR IGNORE INTO story_postings (term, published_at, bulletin_id) VALUES (?, ?, ?)",
        [(term, published_at, bulletin_id) for term in postings],
    )


def section_spans(db: Database, bulletin_id: int) -> list[tuple[int, int, int]]:
    """A bulletin's sections that hold sentences (not a heading alone): (index, start, end)
    in its clean text."""
    rows = db.execute(
        'SELECT s.idx, s.start, s."end" FROM sections s WHERE s.bulletin_id = ? AND EXISTS '
        "(SELECT 1 FROM items i WHERE i.bulletin_id = s.bulletin_id AND i.section = s.idx) "
        "ORDER BY s.idx",
        [bulletin_id],
    ).fetchall()
    return [(int(i), int(s), int(e)) for i, s, e in rows]


def unfiled(db: Database, since: str) -> list[dict[str, Any]]:
    """Bulletins published since `since` without a story yet, oldest first."""
    return list(db.query(
        "SELECT b.id, b.source, b.published_at, b.language, b.title, b.clean_text, "
        "(SELECT count(*) FROM sections s WHERE s.bulletin_id = b.id) AS sections "
        "FROM bulletins b LEFT JOIN story_members m ON m.bulletin_id = b.id "
        "WHERE m.bulletin_id IS NULL AND b.published_at >= ? ORDER BY b.published_at, b.id",
        [since]))  # fmt: skip


def told_before(db: Database, bulletin_ids: Sequence[int]) -> dict[int, list[int]]:
    """For each story of these bulletins: its other members already announced (pushed or
    alerted) and not deleted — a story readers have heard of."""
    wanted = sorted(set(story_ids(db, bulletin_ids).values()))
    sql = ("SELECT m.story_id, m.bulletin_id FROM story_members m JOIN bulletins b "
           "ON b.id = m.bulletin_id WHERE b.announced_at IS NOT NULL AND b.deleted_at IS NULL "
           "AND m.story_id IN ({marks}) ORDER BY m.bulletin_id")  # fmt: skip
    found: dict[int, list[int]] = {}
    asked = set(bulletin_ids)
    for story_id, bulletin_id in rows_for(db, sql, wanted):
        if bulletin_id not in asked:
            found.setdefault(story_id, []).append(bulletin_id)
    return found
