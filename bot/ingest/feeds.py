"""RSS/Atom feeds polled as a feed reader polls them (Miniflux is the model).

- Conditional GET with the stored `ETag`/`Last-Modified`; 304 is a success.
- A chain of permanent redirects (301/308) moves the feed: it is fetched from there on (its
  identity, and its bulletins' source, stay the configured address); a page's feed link
  (autodiscovery) moves it the same way. 410 Gone stops polling it and tells the operator.
  429/503 with `Retry-After` wait that long; other failures back off, with jitter.
- Feeds are fetched concurrently through a `Gate` (a few at once, one request per host,
  spaced out): one slow server delays only itself. One deadline bounds each request,
  another the whole poll.
- A document is read entry by entry when it cannot be read whole; a bad entry is that
  entry's outcome. Entries already stored are skipped before any work; a teaser is
  completed from its article page; the same article from two feeds is stored once.

The poll runs an event loop of its own in the calling (worker) thread; parsing and
summarising run on one more thread, so fetching goes on meanwhile; the writes go where
`target` writes, from the loop's thread.
"""

from __future__ import annotations

import asyncio
import calendar
import logging
import random
import re
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import feedparser
import httpx
from sqlite_utils import Database

from bot.ingest.article import extract_article, is_teaser, word_count
from bot.ingest.discover import feed_links, looks_like_html
from bot.ingest.http import Answer, FeedRefused, Gate, NotAFeed, describe, fetch, retry_after
from bot.ingest.pipeline import (
    Limits,
    Outcome,
    Report,
    Submission,
    prepare_or_reject,
    rejected,
    store_or_reject,
)
from bot.ingest.urls import canonical_link
from storage.bulletins import known_entries
from storage.feeds import (
    FeedState,
    admin_feeds,
    feed_state,
    record_failure,
    record_gone,
    record_moved,
    record_ok,
    record_title,
)
from storage.store import Writes, writes_to

__all__ = ["FeedRefused", "admin_feeds", "discover", "feed_state", "poll_feeds"]

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_BACKOFF = timedelta(hours=24)
JITTER = 0.25  # a back-off is stretched by up to this share, so failing feeds spread out
MAX_FEED_FACTOR = 10  # a feed document may be this many times MAX_BULLETIN_BYTES, decoded
PAGE_FACTOR = 2  # an article page may be this many times MAX_BULLETIN_BYTES
POLL_BUDGET = 5  # a whole poll may take this many request deadlines (at least a minute)
CONCURRENCY = 16  # requests at once, over all hosts
HOST_SPACING = 1.0  # seconds between two requests to one host
HEAD_AT_MOST = 65_536  # a document's head kept around each entry read on its own
MAX_ENTRIES = 500  # entries read from one document (a news feed carries 10 to 100)


@dataclass(frozen=True)
class PollOptions:
    """How a poll fetches: the request deadline, the gate, the whole poll's budget."""

    poll_minutes: int = 15
    timeout: float = 20.0  # one whole request: connect, headers, body, redirects
    force: bool = False  # poll feeds that are not due (an admin's "poll now")
    now: datetime | None = None
    concurrency: int = CONCURRENCY
    spacing: float = HOST_SPACING
    budget: float | None = None  # the whole poll, seconds; default POLL_BUDGET × timeout
    rng: random.Random = field(default_factory=random.Random)

    @property
    def poll_seconds(self) -> float:
        """The whole poll's deadline."""
        return self.budget if self.budget is not None else max(60.0, self.timeout * POLL_BUDGET)


# -- documents -----------------------------------------------------------------------------

_CHARREF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")


def _xml_char(code: int) -> bool:
    return (code in (9, 10, 13) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF)  # fmt: skip


def clean_charrefs(document: bytes) -> bytes:
    """Character references to what XML forbids (`&#xD800;`, `&#0;`, past U+10FFFF) become
    U+FFFD, as a recovering XML parser reads them (feedparser raises on some)."""

    def fix(match: re.Match[bytes]) -> bytes:
        code = int(match[1], 16) if match[1] else int(match[2])
        return match[0] if _xml_char(code) else b"&#xFFFD;"

    return _CHARREF.sub(fix, document)


def entry_spans(document: bytes) -> list[tuple[int, int]]:
    """Where each `<item>…</item>` (RSS) or `<entry>…</entry>` (Atom) lies, by a linear scan."""
    lower = document.lower()
    for opening, closing in ((b"<item", b"</item>"), (b"<entry", b"</entry>")):
        spans: list[tuple[int, int]] = []
        pos = 0
        while (start := lower.find(opening, pos)) >= 0:
            after = lower[start + len(opening) : start + len(opening) + 1]
            if after not in (b">", b" ", b"\t", b"\n", b"\r", b"/"):
                pos = start + len(opening)  # <items>, <entryList>: not an entry
                continue
            end = lower.find(closing, start)
            if end < 0:
                break
            spans.append((start, end + len(closing)))
            pos = end + len(closing)
        if spans:
            return spans
    return []


@dataclass
class Parsed:
    """A feed document read: its title, one submission per entry, and the entries refused."""

    title: str | None
    submissions: list[Submission]
    refused: list[Outcome]


def read_document(source: str, document: bytes, headers: dict[str, str]) -> Parsed:
    """Parse a feed document into one submission per entry, oldest first. When the parser
    fails on the whole document, each entry is read on its own (with the document's head),
    and an entry it still fails on is refused with the reason; the rest are kept."""
    document = clean_charrefs(document)
    spans = entry_spans(document)
    if len(spans) > MAX_ENTRIES:  # the parser takes ~0.5 ms an entry: read only those kept
        tail = document[spans[-1][1] :]
        cut = spans[MAX_ENTRIES - 1][1]
        document = document[:cut] + (tail if len(tail) <= HEAD_AT_MOST else b"")
    try:
        whole = feedparser.parse(document, response_headers=headers)
    except Exception as exc:
        return _entry_by_entry(source, document, headers, exc, len(spans))
    if not whole.entries and (whole.bozo or not whole.get("version")):
        raise ValueError(f"not a feed: {whole.get('bozo_exception', 'unparseable document')}")
    subs = [_submission(source, entry) for entry in reversed(whole.entries[:MAX_ENTRIES])]
    entries = max(len(spans), len(whole.entries))
    return Parsed(whole.feed.get("title") or None, subs, _beyond(source, entries))


def _beyond(source: str, entries: int) -> list[Outcome]:
    """The entries past `MAX_ENTRIES` (the document's first ones, the newest, are read)."""
    if entries <= MAX_ENTRIES:
        return []
    return [rejected(f"{source} entries {MAX_ENTRIES + 1}–{entries}",
                     f"{entries - MAX_ENTRIES} more entries not read: a document is read up "
                     f"to {MAX_ENTRIES} entries")]  # fmt: skip


def _entry_by_entry(source: str, document: bytes, headers: dict[str, str],
                    error: Exception, entries: int) -> Parsed:  # fmt: skip
    spans = entry_spans(document)
    if not spans:
        raise ValueError(f"not a feed: {type(error).__name__}: {error}"[:300])
    head = document[: spans[0][0]]
    if len(head) > HEAD_AT_MOST:
        head = b'<rss version="2.0"><channel>' if b"<item" in document[:HEAD_AT_MOST * 4] \
            else b'<feed xmlns="http://www.w3.org/2005/Atom">'  # fmt: skip
    title: str | None = None
    subs: list[Submission] = []
    refused: list[Outcome] = _beyond(source, max(entries, len(spans)))
    for n, (start, end) in reversed(list(enumerate(spans[:MAX_ENTRIES], start=1))):
        try:
            one = feedparser.parse(head + document[start:end], response_headers=headers)
            title = title or one.feed.get("title") or None
            subs += [_submission(source, entry) for entry in one.entries]
        except Exception as exc:  # this entry only
            reason = f"unreadable entry ({type(exc).__name__}: {exc})"[:300]
            refused.append(rejected(f"{source} entry {n}", reason))
    return Parsed(title, subs, refused)


def _entry_time(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        parsed = entry.get(key)
        if parsed:
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
            except (OverflowError, ValueError, OSError):
                return None
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
    return value if canonical_link(value) is not None else None


def _submission(source: str, entry: Any) -> Submission:
    body, kind = _entry_body(entry)
    title = entry.get("title") or None
    return Submission(
        source=source,
        name=title or source,
        text=body,
        fmt="html" if kind == "html" else "text",
        source_ref=entry.get("id") or entry.get("link") or title,
        link=_http_link(entry.get("link")),
        title=title,
        published=_entry_time(entry),
    )


# -- the poll ------------------------------------------------------------------------------


class _Poll:
    """One poll of many feeds: the HTTP client, the gate, the parsing thread, the writes."""

    def __init__(self, write: Writes, limits: Limits, options: PollOptions,
                 client: httpx.AsyncClient, cpu: ThreadPoolExecutor) -> None:  # fmt: skip
        self.write = write
        self.limits = limits
        self.options = options
        self.client = client
        self.cpu = cpu
        self.gate = Gate(options.concurrency, spacing=options.spacing)
        self.now = options.now or datetime.now(UTC)
        self.stamp = self.now.isoformat(timespec="seconds")

    async def in_cpu(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.cpu, fn, *args)

    async def get(self, url: str, *, home: str, max_bytes: int,
                  headers: dict[str, str] | None = None) -> Answer:  # fmt: skip
        return await fetch(self.client, self.gate, url, headers=headers, max_bytes=max_bytes,
                           timeout=self.options.timeout, home=home)  # fmt: skip

    async def guarded(self, url: str) -> Report:
        """`feed`, where a fault of ours on one feed is logged and stops no other."""
        try:
            return await self.feed(url)
        except sqlite3.OperationalError:
            raise  # the database: nothing else could be stored either
        except Exception:
            log.exception("feed %s: poll failed", url)
            return Report()

    async def feed(self, url: str) -> Report:
        """Poll one feed if due: fetch, read, store its new entries, record the outcome."""
        state = self.write(feed_state, url)
        if state.gone_at:
            return Report()
        due = state.next_try_at is None or datetime.fromisoformat(state.next_try_at) <= self.now
        if not (due or self.options.force):
            return Report()
        headers = {}
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        cap = self.limits.max_bytes * MAX_FEED_FACTOR
        try:
            answer = await self.get(state.location, home=url, max_bytes=cap, headers=headers)
            if answer.ok and _is_page(answer):
                answer = await self._announced_feed(state, answer, cap)
        except sqlite3.OperationalError:
            raise
        except Exception as exc:  # whatever it was, this feed failed: back off, go on
            self._failed(state, describe(exc))
            return Report()
        if answer.moved_to and answer.status in (200, 304):
            self.write(record_moved, url, answer.moved_to, self.stamp, "redirect")
            log.info("feed %s moved permanently to %s", url, answer.moved_to)
        if answer.status == 304:
            self._ok(state, state.etag, state.last_modified)
            return Report()
        if answer.status == 410:
            self.write(record_gone, url, self.stamp)
            log.warning("feed %s answered 410 Gone: it is no longer polled "
                        "(/sources add it again to retry)", url)  # fmt: skip
            return Report()
        if not answer.ok:
            wait = retry_after(answer.headers.get("retry-after"), self.now)
            later = f" (retry after {_duration(wait)})" if wait is not None else ""
            self._failed(state, f"HTTP {answer.status}{later}", wait)
            return Report()
        try:
            parsed = await self.in_cpu(read_document, f"feed:{url}", answer.body, answer.headers)
        except Exception as exc:  # whatever it was, this feed failed: back off, go on
            self._failed(state, f"{exc}"[:300] if isinstance(exc, ValueError) else describe(exc))
            return Report()
        report = await self._store(state, parsed)
        self._ok(state, answer.headers.get("etag"), answer.headers.get("last-modified"))
        if parsed.title:
            self.write(record_title, url, parsed.title[:200])
        return report

    async def _announced_feed(self, state: FeedState, page: Answer, cap: int) -> Answer:
        """A web page where a feed was expected: the feed it announces, which the feed
        follows from now on (said in /sources)."""
        for link, _ in feed_links(page.body, page.url)[:3]:
            answer = await self.get(link, home=state.url, max_bytes=cap)
            if answer.ok and not _is_page(answer):
                self.write(record_moved, state.url, answer.moved_to or link, self.stamp, "page")
                log.info("feed %s: the page announces %s, polled from now on", state.url, link)
                return replace(answer, moved_to=None)
        raise FeedRefused("a web page, not a feed, and it announces no feed we can read")

    async def _store(self, state: FeedState, parsed: Parsed) -> Report:
        """Skip what is stored already, complete teasers, store the rest in order."""
        source = f"feed:{state.url}"
        subs = [replace(s, received=self.now) for s in parsed.submissions]  # the poll's moment
        refs = [s.source_ref for s in subs if s.source_ref]
        links = [c for s in subs if (c := canonical_link(s.link))]
        seen_refs, seen_links = self.write(known_entries, source, refs, links)
        report = Report(list(parsed.refused))
        fresh: list[Submission] = []
        for sub in subs:
            if sub.source_ref in seen_refs:  # stored before, or earlier in this document
                report.outcomes.append(Outcome(sub.name, "duplicate", title=sub.title))
            elif canonical_link(sub.link) in seen_links:
                report.outcomes.append(Outcome(sub.name, "duplicate", title=sub.title, merged=True))
            else:
                fresh.append(sub)
                if sub.source_ref:
                    seen_refs.add(sub.source_ref)
        if state.expand == "auto":
            fresh = list(await asyncio.gather(*(self._complete(state, s) for s in fresh)))
        for sub in fresh:
            prepared = await self.in_cpu(prepare_or_reject, sub, self.limits)
            if isinstance(prepared, Outcome):
                report.outcomes.append(prepared)
                continue
            report.outcomes.append(store_or_reject(self.write, prepared, sub.name))
        return report

    async def _complete(self, state: FeedState, sub: Submission) -> Submission:
        """A teaser with a link, completed with its article page's main text when the page
        says more; the teaser as it is otherwise."""
        if not sub.link or sub.text is None or not is_teaser(sub.text, sub.fmt or "text"):
            return sub
        try:
            page = await self.get(sub.link, home=state.location,
                                  max_bytes=self.limits.max_bytes * PAGE_FACTOR)  # fmt: skip
        except Exception as exc:  # the teaser stays
            log.info("article %s not fetched: %s", sub.link[:200], describe(exc))
            return sub
        if not page.ok:
            log.info("article %s not fetched: HTTP %d", sub.link[:200], page.status)
            return sub
        text = await self.in_cpu(extract_article, page.body, page.url)
        if text is None or word_count(text, "text") <= word_count(sub.text, sub.fmt or "text"):
            return sub
        if len(text.encode("utf-8")) > self.limits.max_bytes:
            return sub
        return replace(sub, text=text, fmt="text")

    def _ok(self, state: FeedState, etag: str | None, last_modified: str | None) -> None:
        later = self.now + timedelta(minutes=self.options.poll_minutes)
        self.write(record_ok, state.url, self.stamp, later.isoformat(timespec="seconds"),
                   etag, last_modified)  # fmt: skip

    def _failed(self, state: FeedState, error: str, wait: timedelta | None = None) -> None:
        """Back off: `Retry-After` when the server gave one (at least one poll interval),
        else the interval doubled per failure up to a day, stretched by a random share."""
        failures = state.failures + 1
        interval = timedelta(minutes=self.options.poll_minutes)
        if wait is not None:
            delay = max(wait, interval)
        else:
            nominal = min(interval * 2 ** min(failures, 16), MAX_BACKOFF)
            delay = nominal * (1 + JITTER * self.options.rng.random())
        log.warning("feed %s failed (%d in a row): %s", state.url, failures, error)
        self.write(record_failure, state.url, self.stamp,
                   (self.now + delay).isoformat(timespec="seconds"), failures, error)  # fmt: skip


def _is_page(answer: Answer) -> bool:
    return looks_like_html(answer.body, answer.headers.get("content-type", ""))


def _duration(delay: timedelta) -> str:
    seconds = int(delay.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


async def _poll_all(write: Writes, urls: tuple[str, ...], limits: Limits,
                    options: PollOptions) -> Report:  # fmt: skip
    report = Report()
    timeout = httpx.Timeout(options.timeout)
    pool = httpx.Limits(max_connections=options.concurrency * 2)
    with ThreadPoolExecutor(1, thread_name_prefix="hebdo-feeds") as cpu:
        async with httpx.AsyncClient(
            timeout=timeout, follow_redirects=False, limits=pool
        ) as client:
            poll = _Poll(write, limits, options, client, cpu)
            tasks = [asyncio.create_task(poll.guarded(url), name=url) for url in urls]
            done, pending = await asyncio.wait(tasks, timeout=options.poll_seconds)
            for task in pending:
                task.cancel()
            if pending:
                log.warning("feed poll out of time: %d feed(s) left for the next poll",
                            len(pending))  # fmt: skip
                await asyncio.wait(pending)
            for task in tasks:  # in the configured order
                if task in done:
                    report.outcomes += task.result().outcomes  # the database failing raises
    return report


def poll_feeds(
    target: Database | Writes,
    urls: tuple[str, ...],
    limits: Limits,
    *,
    poll_minutes: int,
    timeout: float,
    force: bool = False,
    now: datetime | None = None,
    **gate: Any,
) -> Report:
    """Poll every feed of `urls` that is due, concurrently, within a deadline for the whole
    poll (feeds not done by then are polled next time). `gate` may set `concurrency`,
    `spacing`, `budget` and `rng` (see `PollOptions`). Only the database failing raises."""
    if not urls:
        return Report()
    options = PollOptions(poll_minutes, timeout, force, now, **gate)
    return asyncio.run(_poll_all(writes_to(target), urls, limits, options))


@dataclass(frozen=True)
class Discovery:
    """What an address given for a feed turned out to be."""

    url: str  # the feed's address (the one given, or the one its page announces)
    title: str | None
    entries: int
    announced: bool  # found through the page's feed link


def discover(url: str, *, timeout: float, max_bytes: int) -> Discovery:
    """Fetch `url` once: a feed is taken as it is; a web page, for the feed it announces.
    Raises `FeedRefused` (with the reason) or `httpx.HTTPError`."""

    async def run() -> Discovery:
        async with httpx.AsyncClient(timeout=httpx.Timeout(timeout)) as client:
            gate = Gate(4, spacing=0.0)
            answer = await fetch(client, gate, url, max_bytes=max_bytes, timeout=timeout)
            found, address, announced = answer, answer.moved_to or url, False
            if answer.ok and _is_page(answer):
                links = feed_links(answer.body, answer.url)
                if not links:
                    raise NotAFeed("a web page that announces no feed")
                address, announced = links[0][0], True
                found = await fetch(client, gate, address, max_bytes=max_bytes, timeout=timeout,
                                    home=url)  # fmt: skip
                address = found.moved_to or address
            if 400 <= found.status < 500 and found.status not in (408, 429):
                raise NotAFeed(f"HTTP {found.status}")
            if not found.ok:
                raise FeedRefused(f"HTTP {found.status}")
            try:
                parsed = read_document("feed:?", found.body, found.headers)
            except ValueError as exc:
                raise NotAFeed(str(exc)[:300]) from None
            return Discovery(address, parsed.title, len(parsed.submissions), announced)

    start = time.monotonic()
    try:
        return asyncio.run(run())
    finally:
        log.debug("discovery of %s took %.2f s", url, time.monotonic() - start)
