"""RSS/Atom feeds: conditional GET with a timeout, entries become bulletins, failures back off."""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import httpx
from sqlite_utils import Database

from bot.ingest.pipeline import Limits, Report, Submission, ingest

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=24)
USER_AGENT = "Hebdo/0.1 (+news digest bot)"


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
    row = db.execute(
        "SELECT url, etag, last_modified, failures, next_try_at, last_error, last_ok_at "
        "FROM feeds WHERE url = ?",
        [url],
    ).fetchone()
    if row is None:
        return FeedState(url, None, None, 0, None, None, None)
    return FeedState(*row)


def _entry_time(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        parsed = entry.get(key)
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    return None


def _entry_body(entry: Any) -> tuple[str, str]:
    """(text, format) of an entry: full content if present, else its summary."""
    for content in entry.get("content") or []:
        if content.get("value"):
            kind = "html" if "html" in (content.get("type") or "html") else "text"
            return content["value"], kind
    detail = entry.get("summary_detail") or {}
    kind = "html" if "html" in (detail.get("type") or "text/html") else "text"
    return entry.get("summary") or "", kind


def entry_submissions(url: str, document: bytes, headers: dict[str, str]) -> list[Submission]:
    """Parse a feed document into one submission per entry, oldest first."""
    parsed = feedparser.parse(document, response_headers=headers)
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        raise ValueError(f"not a feed: {parsed.get('bozo_exception', 'unparseable document')}")
    subs = []
    for entry in reversed(parsed.entries):
        body, kind = _entry_body(entry)
        ref = entry.get("id") or entry.get("link") or entry.get("title")
        subs.append(
            Submission(
                source=f"feed:{url}",
                name=entry.get("title") or url,
                text=body,
                fmt="html" if kind == "html" else "text",
                source_ref=ref,
                title=entry.get("title") or None,
                published=_entry_time(entry),
            )
        )
    return subs


def poll_feed(
    db: Database,
    client: httpx.Client,
    url: str,
    limits: Limits,
    *,
    poll_minutes: int,
    now: datetime | None = None,
    force: bool = False,
) -> Report:
    """Fetch one feed if due; ingest its new entries; record success or back off."""
    now = now or datetime.now(UTC)
    state = feed_state(db, url)
    if not force and state.next_try_at and datetime.fromisoformat(state.next_try_at) > now:
        return Report()
    headers = {"User-Agent": USER_AGENT}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    report = Report()
    try:
        response = client.get(url, headers=headers, follow_redirects=True)
        if response.status_code == 304:
            _record_ok(db, state, now, poll_minutes, state.etag, state.last_modified)
            return report
        response.raise_for_status()
        if len(response.content) > limits.max_bytes * 10:
            raise ValueError("feed document is too large")
        subs = entry_submissions(url, response.content, dict(response.headers))
    except (httpx.HTTPError, ValueError) as exc:
        _record_failure(db, state, now, poll_minutes, _describe(exc))
        return report
    for sub in subs:
        report.outcomes.append(ingest(db, sub, limits))
    _record_ok(
        db,
        state,
        now,
        poll_minutes,
        response.headers.get("ETag"),
        response.headers.get("Last-Modified"),
    )
    return report


def _describe(exc: Exception) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    return f"{type(exc).__name__}: {exc}"[:300]


def _record_ok(
    db: Database,
    state: FeedState,
    now: datetime,
    poll_minutes: int,
    etag: str | None,
    last_modified: str | None,
) -> None:
    db.table("feeds").upsert(
        {
            "url": state.url,
            "etag": etag,
            "last_modified": last_modified,
            "last_checked_at": now.isoformat(timespec="seconds"),
            "last_ok_at": now.isoformat(timespec="seconds"),
            "last_error": None,
            "failures": 0,
            "next_try_at": (now + timedelta(minutes=poll_minutes)).isoformat(timespec="seconds"),
        },
        pk="url",
    )


def _record_failure(
    db: Database, state: FeedState, now: datetime, poll_minutes: int, error: str
) -> None:
    failures = state.failures + 1
    delay = min(timedelta(minutes=poll_minutes) * 2 ** min(failures, 16), MAX_BACKOFF)
    log.warning("feed %s failed (%d in a row): %s", state.url, failures, error)
    db.table("feeds").upsert(
        {
            "url": state.url,
            "last_checked_at": now.isoformat(timespec="seconds"),
            "last_error": error,
            "failures": failures,
            "next_try_at": (now + delay).isoformat(timespec="seconds"),
        },
        pk="url",
    )


def admin_feeds(db: Database) -> list[str]:
    """Feed URLs added by admins and not removed."""
    rows = db.execute(
        "SELECT url FROM feeds WHERE origin = 'admin' AND removed_at IS NULL ORDER BY url"
    ).fetchall()
    return [r[0] for r in rows]


def add_admin_feed(db: Database, url: str) -> bool:
    """Add (or restore) a feed; False if it is already polled."""
    state = db.execute("SELECT origin, removed_at FROM feeds WHERE url = ?", [url]).fetchone()
    if state is not None and state[1] is None:
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
        "UPDATE feeds SET removed_at = datetime('now') WHERE url = ? AND origin = 'admin' "
        "AND removed_at IS NULL",
        [url],
    )
    return cursor.rowcount > 0


def poll_feeds(
    db: Database,
    urls: tuple[str, ...],
    limits: Limits,
    *,
    poll_minutes: int,
    timeout: float,
    force: bool = False,
) -> Report:
    """Poll every configured feed that is due."""
    report = Report()
    if not urls:
        return report
    with httpx.Client(timeout=timeout) as client:
        for url in urls:
            report.outcomes += poll_feed(
                db, client, url, limits, poll_minutes=poll_minutes, force=force
            ).outcomes
    return report
