"""Feeds: what Hebdo remembers about each one between polls, and the admin-added list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlite_utils import Database

from storage.batches import rows_for
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
    fetch_url: str | None = None  # where it is fetched from now, if it moved
    moved_at: str | None = None
    moved_why: str | None = None  # "301", "308" or "page" (a page's feed link)
    gone_at: str | None = None  # answered 410 Gone: no longer polled
    title: str | None = None
    expand: str = "auto"  # teasers: "auto" (from the article page) or "off"

    @property
    def location(self) -> str:
        """The address to fetch."""
        return self.fetch_url or self.url


EXPAND_MODES = ("auto", "off")
_COLUMNS = ", ".join(FeedState.__dataclass_fields__)


def feed_state(db: Database, url: str) -> FeedState:
    """The stored state of a feed (a blank one if never polled)."""
    rows = db.query(f"SELECT {_COLUMNS} FROM feeds WHERE url = ?", [url])
    found = next(iter(rows), None)
    return FeedState(**found) if found else FeedState(url, None, None, 0, None, None, None)


def feed_titles(db: Database, urls: Sequence[str]) -> dict[str, str | None]:
    """Each known feed's own title (None until a document gave one), in one read."""
    sql = "SELECT url, title FROM feeds WHERE url IN ({marks})"
    return {url: title for url, title in rows_for(db, sql, urls)}


def record_moved(db: Database, url: str, location: str, at: str, why: str) -> None:
    """The feed is fetched from `location` from now on (a permanent redirect, or the feed a
    page links to); its identity, and its bulletins' source, stay `url`."""
    db.execute(
        "INSERT INTO feeds (url, fetch_url, moved_at, moved_why, failures) VALUES (?, ?, ?, ?, 0) "
        "ON CONFLICT(url) DO UPDATE SET fetch_url = excluded.fetch_url, "
        "moved_at = excluded.moved_at, moved_why = excluded.moved_why",
        [url, None if location == url else location, at, why],
    )


def record_gone(db: Database, url: str, at: str) -> None:
    """The server said 410 Gone: the feed is not polled again until an admin adds it again."""
    db.execute(
        "INSERT INTO feeds (url, gone_at, last_checked_at, last_error, failures) "
        "VALUES (?, ?, ?, 'HTTP 410 Gone', 0) ON CONFLICT(url) DO UPDATE SET "
        "gone_at = excluded.gone_at, last_checked_at = excluded.last_checked_at, "
        "last_error = excluded.last_error",
        [url, at, at],
    )


def record_title(db: Database, url: str, title: str) -> None:
    """The feed's own title, as its document gives it."""
    db.execute("UPDATE feeds SET title = ? WHERE url = ? AND title IS NOT ?", [title, url, title])


def set_expand(db: Database, url: str, mode: str) -> None:
    """Whether teaser entries of this feed are completed from their article page."""
    if mode not in EXPAND_MODES:
        raise ValueError(f"expand must be one of {EXPAND_MODES}")
    db.execute(
        "INSERT INTO feeds (url, expand, failures) VALUES (?, ?, 0) "
        "ON CONFLICT(url) DO UPDATE SET expand = excluded.expand",
        [url, mode],
    )


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
    state = db.execute("SELECT removed_at, gone_at FROM feeds WHERE url = ?", [url]).fetchone()
    if state is not None and state[0] is None and state[1] is None:
        return False
    db.execute(  # added again: a feed that was gone is tried again, from its own address
        "INSERT INTO feeds (url, origin, failures) VALUES (?, 'admin', 0) "
        "ON CONFLICT(url) DO UPDATE SET origin = 'admin', removed_at = NULL, gone_at = NULL, "
        "failures = 0, next_try_at = NULL, last_error = NULL, fetch_url = NULL, moved_at = NULL, "
        "moved_why = NULL",
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
