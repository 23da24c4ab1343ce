"""Stories in SQLite: each bulletin's story, outlet and signature, and the signatures' terms
by date (the candidates of a new bulletin are found through them, never by a scan)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database


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
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(bulletin_ids), 500):
        part = list(bulletin_ids[start : start + 500])
        marks = ",".join("?" * len(part))
        for bulletin_id, signature in db.execute(
            f"SELECT bulletin_id, signature FROM story_members WHERE bulletin_id IN ({marks})", part
        ):
            found[bulletin_id] = json.loads(signature)
    return found


def story_ids(db: Database, bulletin_ids: Sequence[int]) -> dict[int, int]:
    """The story of each of these bulletins that has one."""
    found: dict[int, int] = {}
    for start in range(0, len(bulletin_ids), 500):
        part = list(bulletin_ids[start : start + 500])
        marks = ",".join("?" * len(part))
        found.update(db.execute(
            f"SELECT bulletin_id, story_id FROM story_members WHERE bulletin_id IN ({marks})",
            part).fetchall())  # fmt: skip
    return found


def members_of(db: Database, bulletin_ids: Sequence[int]) -> dict[int, Member]:
    """Each of these bulletins' story and outlet (a bulletin not filed yet is absent)."""
    found: dict[int, Member] = {}
    for start in range(0, len(bulletin_ids), 500):
        part = list(bulletin_ids[start : start + 500])
        marks = ",".join("?" * len(part))
        for row in db.execute(
            "SELECT bulletin_id, story_id, outlet FROM story_members "
            f"WHERE bulletin_id IN ({marks})",
            part,
        ):
            found[row[0]] = Member(*row)
    return found


def file_member(
    db: Database,
    bulletin_id: int,
    story_id: int,
    outlet: str,
    published_at: str,
    signature: dict[str, Any],
    postings: Iterable[str],
    merged: Sequence[int] = (),
) -> None:
    """File a bulletin in its story (stories it links are merged into that one)."""
    for other in merged:
        db.execute("UPDATE story_members SET story_id = ? WHERE story_id = ?", [story_id, other])
    db.execute(
        "INSERT OR REPLACE INTO story_members (bulletin_id, story_id, outlet, published_at, "
        "signature) VALUES (?, ?, ?, ?, ?)",
        [bulletin_id, story_id, outlet, published_at, json.dumps(signature, ensure_ascii=False)],
    )
    db.conn.executemany(
        "INSERT OR IGNORE INTO story_postings (term, published_at, bulletin_id) VALUES (?, ?, ?)",
        [(term, published_at, bulletin_id) for term in postings],
    )


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
    stories = story_ids(db, bulletin_ids)
    wanted = sorted(set(stories.values()))
    found: dict[int, list[int]] = {}
    for start in range(0, len(wanted), 500):
        part = wanted[start : start + 500]
        marks = ",".join("?" * len(part))
        for story_id, bulletin_id in db.execute(
            "SELECT m.story_id, m.bulletin_id FROM story_members m JOIN bulletins b "
            "ON b.id = m.bulletin_id WHERE b.announced_at IS NOT NULL AND b.deleted_at IS NULL "
            f"AND m.story_id IN ({marks}) ORDER BY m.bulletin_id",
            part,
        ):
            if bulletin_id not in bulletin_ids:
                found.setdefault(story_id, []).append(bulletin_id)
    return found
