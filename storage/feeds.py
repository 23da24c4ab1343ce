"""Feeds: what Hebdo remembers about each one between polls, and the admin-added list."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from storage.bulletins import now_iso


@dataclass(frozen=True)
class FeedState:
    """What we remember about a feed between polls."""

    url: str
    etag: str | None
    last_modified: str | None
    failures: int
    next_try_at: str | None
    last_error: str | None
    last_ok_at: str | None


def feed_state(db: Database, url: str) -> FeedState:
    """The stored state of a feed (a blank one if never polled)."""
    rows = db.query(
        "SELECT url, etag, last_modified, failures, next_try_at, last_error, last_ok_at "
        "FROM feeds WHERE url = ?",
        [url],
    )
    found = next(iter(rows), None)
    return FeedState(**found) if found else FeedState(url, None, None, 0, None, None, None)


def record_ok(
    db: Database, url: str, checked_at: str, next_try_at: str, etag: str | None,
    last_modified: str | None,
) -> None:  # fmt: skip
    """A successful poll: validators kept, failures forgotten."""
    db.table("feeds").upsert(
        {"url": url, "etag": etag, "last_modified": last_modified, "last_checked_at": checked_at,
         "last_ok_at": checked_at, "last_error": None, "failures": 0, "next_try_at": next_try_at},
        pk="url",
    )  # fmt: skip


def record_failure(
    db: Database, url: str, checked_at: str, next_try_at: str, failures: int, error: str
) -> None:
    """A failed poll and when to try again."""
    db.table("feeds").upsert(
        {"url": url, "last_checked_at": checked_at, "last_error": error, "failures": failures,
         "next_try_at": next_try_at},
        pk="url",
    )  # fmt: skip


def admin_feeds(db: Database) -> list[str]:
    """Feed URLs added by admins and not removed."""
    rows = db.execute(
        "SELECT url FROM feeds WHERE origin = 'admin' AND removed_at IS NULL ORDER BY url"
    ).fetchall()
    return [r[0] for r in rows]


def add_admin_feed(db: Database, url: str) -> bool:
    """Add (or restore) a feed; False if it is already polled."""
    state = db.execute("SELECT removed_at FROM feeds WHERE url = ?", [url]).fetchone()
    if state is not None and state[0] is None:
        return False
    db.execute(
        "INSERT INTO feeds (url, origin, failures) VALUES (?, 'admin', 0) "
        "ON CONFLICT(url) DO UPDATE SET origin = 'admin', removed_at = NULL",
        [url],
    )
    return True


def remove_admin_feed(db: Database, url: str) -> bool:
    """Stop polling a feed added by an admin (its history is kept)."""
    cursor = db.execute(
        "UPDATE feeds SET removed_at = ? WHERE url = ? AND origin = 'admin' AND removed_at IS NULL",
        [now_iso(), url],
    )
    return cursor.rowcount > 0
