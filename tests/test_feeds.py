"""Feeds fetched over real HTTP from a local server on 127.0.0.1."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from sqlite_utils import Database

from bot.ingest import Limits
from bot.ingest.feeds import FeedRefused, feed_state, fetch, poll_feed, poll_feeds
from storage.bulletins import get_bulletin, list_bulletins

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Hebdo test</title>
<item><guid>rss-1</guid><title>Bilan de la semaine 1230-1234</title>
<pubDate>Fri, 11 Jul 2025 09:00:00 +0200</pubDate>
<description>&lt;p&gt;Les frappes sur Kharkiv ont continué.&lt;/p&gt;&lt;script&gt;x()&lt;/script&gt;&lt;p&gt;Trump promet des missiles Patriot.&lt;/p&gt;</description></item>
<item><guid>rss-2</guid><title>Bilan de la semaine 1235-1241</title>
<pubDate>Fri, 18 Jul 2025 09:00:00 +0200</pubDate>
<description>L'Allemagne financera des systèmes Patriot pour l'Ukraine.</description></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Weekly</title><id>urn:feed</id>
<updated>2025-07-11T10:00:00Z</updated>
<entry><id>urn:entry:1</id><title>Weekly review 1230-1234</title>
<updated>2025-07-11T10:00:00Z</updated>
<content type="html">&lt;p&gt;Russia launched 741 drones and missiles, a new record.&lt;/p&gt;</content>
</entry></feed>"""


def _bomb(decoded: int) -> bytes:
    """A gzip body of a few tens of KB that decodes to `decoded` bytes (built in chunks)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip container
    chunk = b"<" * 1_000_000
    return b"".join(packer.compress(chunk) for _ in range(decoded // len(chunk))) + packer.flush()


BOMB = _bomb(50_000_000)

LINKED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Linked</title>
<item><guid>l-1</guid><title>Bilan A</title><link>https://example.org/a?x=1&amp;y="2"</link>
<description>Kyiv a tenu face à 40 drones.</description></item>
<item><guid>l-2</guid><title>Bilan B</title><link>javascript:alert(1)</link>
<description>Odessa a été frappée par 12 missiles.</description></item>
</channel></rss>"""

BAD_ENTRY = RSS.replace(
    "<description>L'Allemagne", "<description></description></item>"
    "<item><guid>rss-3</guid><title>Bilan 3</title><description>L'Allemagne"
)  # an empty entry between two good ones  # fmt: skip


class FeedServer:
    """Serves /rss and /atom with ETags; /broken answers 500; /slow never answers in time."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []
        self.documents = {"/rss": RSS, "/atom": ATOM, "/junk": "<html>not a feed</html>",
                          "/bad-entry": BAD_ENTRY, "/linked": LINKED}  # fmt: skip
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append((self.path, self.headers.get("If-None-Match")))
                if self.path == "/broken":
                    self.send_response(500)
                    self.end_headers()
                    return
                if self.path == "/slow":
                    outer.release.wait(5)
                    return
                if self.path == "/bomb":  # 50 KB of gzip that decodes to 50 MB
                    self.send_response(200)
                    self.send_header("Content-Encoding", "gzip")
                    self.send_header("Content-Length", str(len(BOMB)))
                    self.end_headers()
                    self.wfile.write(BOMB)
                    return
                if self.path == "/drip":  # a byte at a time, never done
                    self.send_response(200)
                    self.end_headers()
                    while not outer.release.wait(0.05):
                        try:
                            self.wfile.write(b" ")
                            self.wfile.flush()
                        except OSError:
                            return
                    return
                if self.path.startswith("/redirect"):
                    self.send_response(302)
                    elsewhere = "http://127.0.0.1:9/rss"  # another service of this host
                    self.send_header(
                        "Location", elsewhere if "other" in self.path else outer.base + "/rss"
                    )
                    self.end_headers()
                    return
                body = outer.documents.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                etag = f'"{hash(body) & 0xFFFF:x}"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/xml; charset=utf-8")
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    server = FeedServer()
    server.thread.start()
    yield server
    server.release.set()
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=0.3) as c:
        yield c


def test_rss_entries_become_bulletins(
    db: Database, limits: Limits, feeds: FeedServer, client: httpx.Client
) -> None:
    report = poll_feed(db, client, feeds.url("/rss"), limits, poll_minutes=15)
    assert report.summary() == "added 2, duplicates 0, rejected 0"
    by_title = {b.title: b for b in list_bulletins(db)}
    first = by_title["Bilan de la semaine 1230-1234"]
    assert first.published_at == "2025-07-11T07:00:00+00:00"
    assert first.source_ref == "rss-1"
    detail = get_bulletin(db, first.id)
    assert detail is not None
    assert "Les frappes sur Kharkiv ont continué." in detail.clean_text
    assert "x()" not in detail.clean_text


def test_atom_entry(db: Database, limits: Limits, feeds: FeedServer, client: httpx.Client) -> None:
    report = poll_feed(db, client, feeds.url("/atom"), limits, poll_minutes=15)
    assert report.count("added") == 1
    (bulletin,) = list_bulletins(db)
    assert bulletin.title == "Weekly review 1230-1234"
    assert bulletin.language == "en"
    assert bulletin.source == f"feed:{feeds.url('/atom')}"


def test_conditional_get_and_entry_dedupe(
    db: Database, limits: Limits, feeds: FeedServer, client: httpx.Client
) -> None:
    url = feeds.url("/rss")
    poll_feed(db, client, url, limits, poll_minutes=15)
    etag = feed_state(db, url).etag
    assert etag
    # not due yet: no request at all
    assert poll_feed(db, client, url, limits, poll_minutes=15).outcomes == []
    assert len(feeds.requests) == 1
    # forced: conditional GET, answered 304, nothing added
    again = poll_feed(db, client, url, limits, poll_minutes=15, force=True)
    assert again.outcomes == []
    assert feeds.requests[-1] == ("/rss", etag)
    # the document changes (new ETag) but entry ids repeat: stored once, even if edited
    feeds.documents["/rss"] = RSS.replace("ont continué", "continuent")
    edited = poll_feed(db, client, url, limits, poll_minutes=15, force=True)
    assert edited.count("duplicate") == 2
    assert len(list_bulletins(db)) == 2


@pytest.mark.parametrize(
    ("path", "error"), [("/broken", "HTTP 500"), ("/missing", "HTTP 404"), ("/slow", "timed out")]
)
def test_failing_feed_backs_off(
    db: Database, limits: Limits, feeds: FeedServer, client: httpx.Client, path: str, error: str
) -> None:
    url = feeds.url(path)
    now = datetime(2025, 7, 11, 12, tzinfo=UTC)
    delays = []
    for attempt in range(1, 4):
        poll_feed(db, client, url, limits, poll_minutes=15, now=now, force=True)
        state = feed_state(db, url)
        assert state.failures == attempt
        assert state.last_error == error
        assert state.next_try_at is not None
        delays.append(datetime.fromisoformat(state.next_try_at) - now)
    assert delays == [timedelta(minutes=30), timedelta(minutes=60), timedelta(minutes=120)]
    # not retried before its time
    count = len(feeds.requests)
    poll_feed(db, client, url, limits, poll_minutes=15, now=now + timedelta(minutes=100))
    assert len(feeds.requests) == count
    assert list_bulletins(db) == []


def test_not_a_feed(db: Database, limits: Limits, feeds: FeedServer, client: httpx.Client) -> None:
    url = feeds.url("/junk")
    poll_feed(db, client, url, limits, poll_minutes=15)
    assert "not a feed" in (feed_state(db, url).last_error or "")


def test_a_bad_entry_or_feed_stops_nothing(db: Database, limits: Limits, feeds: FeedServer) -> None:
    report = poll_feeds(db, (feeds.url("/bad-entry"), feeds.url("/junk"), feeds.url("/atom")),
                        limits, poll_minutes=15, timeout=0.5)  # fmt: skip
    assert [o.status for o in report.outcomes] == ["added", "rejected", "added", "added"]
    assert "empty" in (report.outcomes[1].reason or "")
    assert "not a feed" in (feed_state(db, feeds.url("/junk")).last_error or "")
    assert feed_state(db, feeds.url("/atom")).last_ok_at is not None


def test_a_gzip_bomb_is_cut_off_decoded(
    db: Database, feeds: FeedServer, client: httpx.Client
) -> None:
    url = feeds.url("/bomb")
    poll_feed(db, client, url, Limits(max_bytes=100_000), poll_minutes=15)
    state = feed_state(db, url)
    assert state.failures == 1 and "too large" in (state.last_error or "")


def test_a_dripping_server_meets_the_deadline(
    db: Database, limits: Limits, feeds: FeedServer
) -> None:
    url = feeds.url("/drip")
    with httpx.Client(timeout=0.2) as client:  # each byte comes well within the read timeout
        poll_feed(db, client, url, limits, poll_minutes=15, timeout=0.2)
    assert "too long" in (feed_state(db, url).last_error or "")


def test_redirects_to_private_addresses_are_refused(
    feeds: FeedServer, client: httpx.Client
) -> None:
    with pytest.raises(FeedRefused, match="private address"):
        fetch(client, feeds.url("/redirect"), {}, 10_000, deadline=1e12, allow_private=False)
    # a feed configured on a private address may redirect within its own server…
    status, _, body = fetch(client, feeds.url("/redirect"), {}, 10_000, deadline=1e12)
    assert status == 200 and b"<rss" in body
    # …but not to another port of the same host
    with pytest.raises(FeedRefused, match="private address"):
        fetch(client, feeds.url("/redirect-other"), {}, 10_000, deadline=1e12)


def test_an_entry_keeps_its_link_to_the_original(
    db: Database, limits: Limits, feeds: FeedServer, client: httpx.Client
) -> None:
    from bot.render import bulletin_link

    report = poll_feed(db, client, feeds.url("/linked"), limits, poll_minutes=15)
    assert [o.status for o in report.outcomes] == ["added", "added"]
    stored = {
        d.bulletin.title: d for o in report.outcomes if (d := get_bulletin(db, o.bulletin_id or 0))
    }
    first, second = stored["Bilan A"], stored["Bilan B"]
    assert first.bulletin.link == 'https://example.org/a?x=1&y="2"'
    assert second.bulletin.link is None  # not an http(s) link: never offered to readers
    html = bulletin_link(first.bulletin.id, "Bilan A", "hebdo_bot", first.bulletin.link)
    assert html == '<a href="https://example.org/a?x=1&amp;y=&quot;2&quot;">Bilan A</a>'
    assert "start=b" in bulletin_link(second.bulletin.id, "Bilan B", "hebdo_bot", None)
