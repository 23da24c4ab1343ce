"""RSS/Atom feeds: conditional GET with a timeout, entries become bulletins, failures back off."""

from __future__ import annotations

import calendar
import ipaddress
import logging
import socket
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import feedparser
import httpx
from sqlite_utils import Database

from bot.ingest.pipeline import Limits, Report, Submission, ingest
from storage.feeds import FeedState, admin_feeds, feed_state, record_failure, record_ok
from storage.store import Writes, writes_to

__all__ = ["FeedRefused", "admin_feeds", "feed_state", "fetch", "poll_feed", "poll_feeds"]

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=24)
USER_AGENT = "Hebdo/0.1 (+news digest bot)"


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


def _http_link(value: object) -> str | None:
    """An entry's link if it is a plain http(s) URL of sane length, else None."""
    if not isinstance(value, str) or len(value) > 2000:
        return None
    return value if urlsplit(value).scheme in ("http", "https") and urlsplit(value).netloc else None


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
                link=_http_link(entry.get("link")),
                title=entry.get("title") or None,
                published=_entry_time(entry),
            )
        )
    return subs


class FeedRefused(ValueError):
    """A feed answer we will not read: too large, too slow, or a redirect to a private host."""


MAX_REDIRECTS = 5
MAX_FEED_FACTOR = 10  # a feed document may be this many times MAX_BULLETIN_BYTES, decoded


def _private(host: str) -> bool:
    """The host is (or resolves to) a loopback, link-local or private address."""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False  # unresolvable: the request itself will fail
    addresses = {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos}
    return any(a.is_loopback or a.is_link_local or a.is_private or a.is_reserved
               or a.is_unspecified for a in addresses)  # fmt: skip


def fetch(
    client: httpx.Client,
    url: str,
    headers: dict[str, str],
    max_bytes: int,
    deadline: float,
    *,
    allow_private: bool | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """GET with redirects followed by hand — never to a loopback, link-local or private
    address, except back to the configured URL's own host and port when that is one (a feed
    on your own network may redirect within its server, not to another service) —, the
    body streamed and cut at `max_bytes` once decoded (a gzip bomb stops there), and the
    whole exchange bounded by `deadline` (a server dripping bytes is cut off too)."""
    home = httpx.URL(url)
    if allow_private is None:  # only a feed configured on a private address stays there
        allow_private = _private(home.host)
    for _ in range(MAX_REDIRECTS + 1):
        with client.stream("GET", url, headers=headers, follow_redirects=False) as response:
            if response.is_redirect:
                target = response.url.join(response.headers.get("Location", ""))
                if target.scheme not in ("http", "https"):
                    raise FeedRefused(f"redirect to {target.scheme}: refused")
                same_server = (target.host, target.port) == (home.host, home.port)
                if _private(target.host) and not (allow_private and same_server):
                    raise FeedRefused(
                        f"redirect to a private address ({target.host}:{target.port}): refused"
                    )
                url = str(target)
                continue
            if response.status_code >= 400 or response.status_code == 304:
                return response.status_code, dict(response.headers), b""
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise FeedRefused(f"feed document is too large (over {max_bytes:,} bytes)")
                if time.monotonic() > deadline:
                    raise FeedRefused("feed took too long to send")
            return response.status_code, dict(response.headers), bytes(body)
    raise FeedRefused(f"more than {MAX_REDIRECTS} redirects")


def _record_ok(
    db: Database,
    state: FeedState,
    now: datetime,
    poll_minutes: int,
    etag: str | None,
    last_modified: str | None,
) -> None:
    later = now + timedelta(minutes=poll_minutes)
    record_ok(db, state.url, now.isoformat(timespec="seconds"),
              later.isoformat(timespec="seconds"), etag, last_modified)  # fmt: skip


def _record_failure(
    db: Database, state: FeedState, now: datetime, poll_minutes: int, error: str
) -> None:
    failures = state.failures + 1
    delay = min(timedelta(minutes=poll_minutes) * 2 ** min(failures, 16), MAX_BACKOFF)
    log.warning("feed %s failed (%d in a row): %s", state.url, failures, error)
    record_failure(db, state.url, now.isoformat(timespec="seconds"),
                   (now + delay).isoformat(timespec="seconds"), failures, error)  # fmt: skip


def poll_feed(
    target: Database | Writes,
    client: httpx.Client,
    url: str,
    limits: Limits,
    *,
    poll_minutes: int,
    now: datetime | None = None,
    force: bool = False,
    timeout: float = 20.0,
) -> Report:
    """Fetch one feed if due; ingest its new entries; record success or back off.

    Any failure of the feed (network, HTTP, size, time, a document that is no feed, a
    parser error) is recorded with back-off; an entry that cannot be ingested is that
    entry's outcome and stops nothing. Fetching and parsing happen in the calling thread;
    only the feed's state and the new bulletins go where `target` writes."""
    now = now or datetime.now(UTC)
    write = writes_to(target)
    state = write(feed_state, url)
    if not force and state.next_try_at and datetime.fromisoformat(state.next_try_at) > now:
        return Report()
    headers = {"User-Agent": USER_AGENT}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    report = Report()
    try:
        deadline = time.monotonic() + timeout * 3
        status, answer, content = fetch(
            client, url, headers, limits.max_bytes * MAX_FEED_FACTOR, deadline
        )
        if status == 304:
            write(_record_ok, state, now, poll_minutes, state.etag, state.last_modified)
            return report
        if status >= 400:
            raise FeedRefused(f"HTTP {status}")
        subs = entry_submissions(url, content, answer)
    except sqlite3.OperationalError:
        raise
    except Exception as exc:  # whatever it was, this feed failed: back off, go on
        write(_record_failure, state, now, poll_minutes, _describe(exc))
        return report
    for sub in subs:
        report.outcomes.append(ingest(write, sub, limits))
    write(_record_ok, state, now, poll_minutes, answer.get("etag"), answer.get("last-modified"))
    return report


def _describe(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, FeedRefused):
        return str(exc)[:300]
    return f"{type(exc).__name__}: {exc}"[:300]


POLL_BUDGET = 5  # a whole poll of the feeds may take this many request timeouts


def poll_feeds(
    target: Database | Writes,
    urls: tuple[str, ...],
    limits: Limits,
    *,
    poll_minutes: int,
    timeout: float,
    force: bool = False,
) -> Report:
    """Poll every configured feed that is due, within a deadline for the whole poll (the
    feeds not reached are polled next time)."""
    report = Report()
    if not urls:
        return report
    deadline = time.monotonic() + max(60.0, timeout * POLL_BUDGET)
    with httpx.Client(timeout=timeout) as client:
        for n, url in enumerate(urls):
            if time.monotonic() > deadline:
                log.warning("feed poll out of time: %d feed(s) left for the next poll",
                            len(urls) - n)  # fmt: skip
                break
            report.outcomes += poll_feed(target, client, url, limits, poll_minutes=poll_minutes,
                                         force=force, timeout=timeout).outcomes  # fmt: skip
    return report
