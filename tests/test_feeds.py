"""Feeds fetched over real HTTP from a local news site (devtools/feedsite.py) that behaves as
real servers and CDNs do: the tests check what a poll achieved, not what it sent."""

from __future__ import annotations

import itertools
import logging
import random
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import feedparser
import pytest
from sqlite_utils import Database

from bot.ingest import Limits
from bot.ingest.article import extract_article
from bot.ingest.feeds import discover, feed_state, poll_feeds, read_document
from bot.ingest.http import FeedRefused
from bot.ingest.urls import canonical_link
from devtools.feedsite import FeedSite, Page, bomb, feed, page, redirect
from storage.bulletins import get_bulletin, list_bulletins
from storage.feeds import set_expand

NOW = datetime(2025, 7, 11, 12, tzinfo=UTC)

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

INVALID_CHAR = RSS.replace(
    "</channel>", "<item><guid>rss-bad</guid><title>Odessa &#xD800; sous les frappes</title>"
    "<description>Un caractère &#xD800; interdit, puis &#1114112; et &#0;.</description></item>"
    "<item><guid>rss-4</guid><title>Bilan 4</title><description>Les défenses de Kyiv ont "
    "intercepté 30 drones.</description></item></channel>"
)  # fmt: skip

ARTICLE_WORDS = (
    "La défense antiaérienne ukrainienne a intercepté cette nuit 52 des 58 drones lancés "
    "par la Russie contre Kyiv et sa région, selon l'armée de l'air. Les débris ont "
    "endommagé trois immeubles d'habitation dans le quartier de Sviatochyn, où les secours "
    "ont évacué une centaine de personnes avant l'aube. Le maire Vitali Klitschko a annoncé "
    "que deux personnes avaient été blessées et qu'un abri temporaire était ouvert dans "
    "l'école numéro 12. Les autorités régionales ont également signalé des coupures "
    "d'électricité à Boryspil et à Brovary, rétablies en milieu de matinée. Cette attaque "
    "est la troisième de la semaine contre la capitale, alors que Kyiv réclame à ses alliés "
    "de nouveaux systèmes Patriot pour protéger ses villes."
)
ARTICLE = f"""<!doctype html><html lang="fr"><head><title>Nuit d'attaques sur Kyiv</title>
<link rel="canonical" href="https://news.example/kyiv-drones"></head><body>
<nav><a href="/">Accueil</a> <a href="/monde">Monde</a> <a href="/sport">Sport</a></nav>
<article><h1>Nuit d'attaques de drones sur Kyiv</h1>
<p>{ARTICLE_WORDS[:420]}</p><p>{ARTICLE_WORDS[420:]}</p></article>
<footer>Abonnez-vous à notre lettre d'information. Tous droits réservés.</footer>
</body></html>"""

TEASER = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Teasers</title>
<item><guid>t-1</guid><title>Nuit d'attaques de drones sur Kyiv</title>
<link>{link}</link>
<description>La défense a intercepté 52 drones. Lire la suite.</description></item>
</channel></rss>"""

HOME = """<!doctype html><html><head><title>Le Site</title>
<link rel="stylesheet" href="/style.css">
<link rel="alternate" type="application/rss+xml" title="À la une" href="/rss">
<link rel="alternate" type="application/atom+xml" title="Atom" href="/atom">
</head><body><p>Bienvenue</p><link rel="alternate" type="application/rss+xml" href="/late">
</body></html>"""


@pytest.fixture
def site() -> Iterator[FeedSite]:
    news = FeedSite().start()
    news.pages |= {"/rss": feed(RSS), "/atom": feed(ATOM, content_type="application/atom+xml"),
                   "/junk": page("<html>not a feed</html>"), "/bad-entry": feed(BAD_ENTRY),
                   "/linked": feed(LINKED), "/broken": Page(status=500, validators=False),
                   "/hang": Page(hang=True)}  # fmt: skip
    yield news
    news.stop()


def poll(db: Database, limits: Limits, *urls: str, timeout: float = 1.0, **options: object):  # type: ignore[no-untyped-def]
    """One poll of `urls` as the bot does it, with a short deadline and no host spacing."""
    options = {"poll_minutes": 15, "now": NOW, "spacing": 0.0, "rng": random.Random(7)} | options
    return poll_feeds(db, tuple(urls), limits, timeout=timeout, **options)  # type: ignore[arg-type]


def test_rss_entries_become_bulletins(db: Database, limits: Limits, site: FeedSite) -> None:
    report = poll(db, limits, site.url("/rss"))
    assert report.summary() == "added 2, duplicates 0, rejected 0"
    by_title = {b.title: b for b in list_bulletins(db)}
    first = by_title["Bilan de la semaine 1230-1234"]
    assert first.published_at == "2025-07-11T07:00:00+00:00"
    assert first.source_ref == "rss-1"
    detail = get_bulletin(db, first.id)
    assert detail is not None
    assert "Les frappes sur Kharkiv ont continué." in detail.clean_text
    assert "x()" not in detail.clean_text
    assert feed_state(db, site.url("/rss")).title == "Hebdo test"


def test_atom_entry(db: Database, limits: Limits, site: FeedSite) -> None:
    report = poll(db, limits, site.url("/atom"))
    assert report.count("added") == 1
    (bulletin,) = list_bulletins(db)
    assert bulletin.title == "Weekly review 1230-1234"
    assert bulletin.language == "en"
    assert bulletin.source == f"feed:{site.url('/atom')}"


@pytest.mark.parametrize("validator", ["etag", "last-modified"])
def test_not_modified_is_a_success(
    db: Database, limits: Limits, site: FeedSite, validator: str
) -> None:
    """Three polls of an unchanged feed: each a success, the document read once."""
    url = site.url("/rss")
    if validator == "last-modified":  # a server that only knows Last-Modified
        site.pages["/rss"] = Page(body=RSS.encode(), headers={})
        state_etag = None
    for n in range(3):
        report = poll(db, limits, url, now=NOW + timedelta(hours=n), force=True)
        state = feed_state(db, url)
        assert state.failures == 0 and state.last_error is None, state
        assert state.last_ok_at == (NOW + timedelta(hours=n)).isoformat(timespec="seconds")
        assert report.count("added") == (2 if n == 0 else 0)
        assert report.outcomes == [] or n == 0  # 304: nothing parsed, nothing re-read
    first, *later = site.hits("/rss")
    assert "if-none-match" not in first.headers
    if validator == "etag":
        state_etag = feed_state(db, url).etag
        assert state_etag and all(r.headers["if-none-match"] == state_etag for r in later)
    assert all(r.headers["if-modified-since"] for r in later)
    assert len(site.hits("/rss")) == 3  # one request each: a 304 is no redirect
    assert len(list_bulletins(db)) == 2


def test_not_due_means_no_request_and_edited_entries_are_stored_once(
    db: Database, limits: Limits, site: FeedSite
) -> None:
    url = site.url("/rss")
    poll(db, limits, url)
    assert poll(db, limits, url, now=NOW + timedelta(minutes=5)).outcomes == []
    assert len(site.hits("/rss")) == 1
    # the document changes (new ETag) but entry ids repeat: stored once, even if edited
    site.pages["/rss"] = feed(RSS.replace("ont continué", "continuent"))
    edited = poll(db, limits, url, force=True)
    assert edited.count("duplicate") == 2 and edited.merged == 0
    assert len(list_bulletins(db)) == 2


@pytest.mark.parametrize(("path", "error"), [("/broken", "HTTP 500"), ("/missing", "HTTP 404"),
                                             ("/hang", "timed out")])  # fmt: skip
def test_failing_feed_backs_off_with_jitter(
    db: Database, limits: Limits, site: FeedSite, path: str, error: str
) -> None:
    url = site.url(path)
    delays = []
    for attempt in range(1, 4):
        poll(db, limits, url, force=True, timeout=0.3)
        state = feed_state(db, url)
        assert state.failures == attempt
        assert (state.last_error or "").startswith(error)
        assert state.next_try_at is not None
        delays.append(datetime.fromisoformat(state.next_try_at) - NOW)
    for delay, nominal in zip(delays, (30, 60, 120), strict=True):
        assert timedelta(minutes=nominal) <= delay <= timedelta(minutes=nominal * 1.25)
    assert len(set(delays)) == 3
    # not retried before its time
    count = len(site.requests)
    poll(db, limits, url, now=NOW + timedelta(minutes=100))
    assert len(site.requests) == count
    assert list_bulletins(db) == []


def test_jitter_spreads_feeds_that_fail_together(
    db: Database, limits: Limits, site: FeedSite
) -> None:
    urls = [site.url(f"/down-{n}") for n in range(6)]
    poll(db, limits, *urls, rng=random.Random())
    retries = {feed_state(db, u).next_try_at for u in urls}
    assert len(retries) > 1  # not all at the same second


def test_not_a_feed(db: Database, limits: Limits, site: FeedSite) -> None:
    url = site.url("/junk")
    poll(db, limits, url)
    assert "announces no feed" in (feed_state(db, url).last_error or "")


def test_a_bad_entry_or_feed_stops_nothing(db: Database, limits: Limits, site: FeedSite) -> None:
    report = poll(db, limits, site.url("/bad-entry"), site.url("/junk"), site.url("/atom"))
    assert [o.status for o in report.outcomes] == ["added", "rejected", "added", "added"]
    assert "empty" in (report.outcomes[1].reason or "")
    assert feed_state(db, site.url("/junk")).failures == 1
    assert feed_state(db, site.url("/atom")).last_ok_at is not None


def test_an_invalid_character_loses_only_its_own_text(
    db: Database, limits: Limits, site: FeedSite
) -> None:
    site.pages["/invalid"] = feed(INVALID_CHAR)
    report = poll(db, limits, site.url("/invalid"))
    assert report.count("added") == 4, report.outcomes
    titles = {b.title for b in list_bulletins(db)}
    assert {"Bilan de la semaine 1230-1234", "Bilan 4", "Odessa \ufffd sous les frappes"} <= titles


def _fails_on(marker: bytes):  # type: ignore[no-untyped-def]
    """feedparser.parse, broken by any document holding `marker` (as it breaks on some)."""
    real = feedparser.parse

    def fragile(document: bytes, **kwargs: object) -> object:
        if marker in document:
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
        return real(document, **kwargs)

    return fragile


def test_an_entry_the_parser_fails_on_is_refused_alone(
    db: Database, limits: Limits, site: FeedSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the parser raises on the whole document, each entry is read on its own."""
    monkeypatch.setattr(feedparser, "parse", _fails_on(b"rss-2"))
    report = poll(db, limits, site.url("/bad-entry"))
    statuses = [(o.status, o.reason) for o in report.outcomes]
    assert [s for s, _ in statuses].count("added") == 2  # rss-1 and rss-3
    assert [r for s, r in statuses if s == "rejected"] == [
        "unreadable entry (UnicodeEncodeError: 'utf-8' codec can't encode character '\\ud800' "
        "in position 0: surrogates not allowed)"]  # fmt: skip
    assert feed_state(db, site.url("/bad-entry")).failures == 0


def test_a_document_is_read_up_to_its_first_500_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    big = RSS.replace("</channel>", "<item><title>x</title></item>" * 20_000 + "</channel>")
    parsed = read_document("feed:x", big.encode(), {})
    assert len(parsed.submissions) == 500
    assert parsed.submissions[-1].source_ref == "rss-1"  # the first, newest, stored last
    (beyond,) = parsed.refused
    assert beyond.reason == "19502 more entries not read: a document is read up to 500 entries"
    monkeypatch.setattr(feedparser, "parse", _fails_on(b"rss-2"))  # entry by entry: the same
    parsed = read_document("feed:x", big.encode(), {})
    assert len(parsed.submissions) == 499 and len(parsed.refused) == 2


def test_a_gzip_bomb_is_cut_off_decoded(db: Database, site: FeedSite) -> None:
    site.pages["/bomb"] = bomb(50_000_000)
    url = site.url("/bomb")
    tracemalloc.start()
    poll(db, Limits(max_bytes=100_000), url)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    state = feed_state(db, url)
    assert state.failures == 1 and "too large" in (state.last_error or "")
    assert peak < 20_000_000  # the cap is 1 MB decoded: nowhere near the 50 MB


def test_stacked_encodings_are_refused_and_memory_stays_bounded(
    db: Database, limits: Limits, site: FeedSite
) -> None:
    site.pages["/stacked"] = bomb(200_000_000, layers=2)  # a few KB that decode to 200 MB
    site.pages["/brotli"] = Page(body=RSS.encode(), encoding="br", compressed=True)
    tracemalloc.start()
    poll(db, limits, site.url("/stacked"), site.url("/brotli"), site.url("/atom"))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "stacked content encodings" in (feed_state(db, site.url("/stacked")).last_error or "")
    assert "unknown content encoding" in (feed_state(db, site.url("/brotli")).last_error or "")
    assert feed_state(db, site.url("/atom")).last_ok_at is not None
    assert peak < 30_000_000
    assert site.hits("/atom")[0].headers["accept-encoding"] == "gzip, deflate"


def test_single_gzip_is_read(db: Database, limits: Limits, site: FeedSite) -> None:
    site.pages["/gz"] = feed(RSS, encoding="gzip")
    assert poll(db, limits, site.url("/gz")).count("added") == 2


@pytest.mark.timing
@pytest.mark.parametrize("drip", ["drip_headers", "drip_body"])
def test_a_dripping_server_meets_its_deadline_and_the_next_feed_is_polled(
    db: Database, limits: Limits, site: FeedSite, drip: str
) -> None:
    site.pages["/drip"] = feed(RSS, **{drip: 0.05})  # a byte every 50 ms: never a read timeout
    start = time.monotonic()
    report = poll(db, limits, site.url("/drip"), site.url("/atom"), timeout=0.6)
    elapsed = time.monotonic() - start
    assert "timed out" in (feed_state(db, site.url("/drip")).last_error or "")
    assert report.count("added") == 1 and feed_state(db, site.url("/atom")).failures == 0
    assert elapsed < 2.5  # the deadline, not the 30 s the whole drip would take


@pytest.mark.timing
def test_one_slow_feed_delays_only_itself(db: Database, limits: Limits) -> None:
    """Feeds on six hosts, two of them hanging: the poll takes one deadline, not two."""
    hosts = tuple(f"127.0.0.{n}" for n in range(1, 7))
    news = FeedSite(hosts).start()
    try:
        news.pages |= {"/rss": feed(RSS), "/hang": Page(hang=True)}
        urls = [news.url("/hang", hosts[0]), news.url("/hang", hosts[1])]
        urls += [news.url("/rss", h) for h in hosts[2:]]
        start = time.monotonic()
        report = poll(db, limits, *urls, timeout=1.0)
        elapsed = time.monotonic() - start
    finally:
        news.stop()
    assert 1.0 <= elapsed < 1.9
    assert all(feed_state(db, u).last_ok_at for u in urls[2:])
    assert report.count("added") == 2 and report.count("duplicate") == 6  # same entries


@pytest.mark.timing
def test_one_request_per_host_at_a_time_spaced_out(db: Database, limits: Limits) -> None:
    news = FeedSite().start()
    try:
        for n in range(4):
            news.pages[f"/f{n}"] = feed(RSS.replace("rss-", f"f{n}-"), drip_body=0.0005)
        poll(db, limits, *(news.url(f"/f{n}") for n in range(4)), spacing=0.2)
    finally:
        news.stop()
    times = sorted(r.at for r in news.requests)
    assert len(times) == 4
    assert all(b - a >= 0.2 for a, b in itertools.pairwise(times))


@pytest.mark.timing
def test_the_whole_poll_has_a_deadline(db: Database, limits: Limits) -> None:
    news = FeedSite(("127.0.0.1", "127.0.0.2")).start()
    try:
        news.pages |= {"/rss": feed(RSS), "/hang": Page(hang=True), "/hang?again": Page(hang=True)}
        hangs = [news.url("/hang"), news.url("/hang?again")]  # the second waits for the host
        start = time.monotonic()
        poll(db, limits, *hangs, news.url("/rss", "127.0.0.2"), timeout=5.0, budget=0.5)
        elapsed = time.monotonic() - start
    finally:
        news.stop()
    assert elapsed < 1.5
    assert feed_state(db, news.url("/rss", "127.0.0.2")).last_ok_at is not None
    assert all(feed_state(db, u).failures == 0 for u in hangs)  # left for the next poll


@pytest.mark.parametrize("status", [301, 308])
def test_a_permanent_redirect_moves_the_feed(
    db: Database, limits: Limits, site: FeedSite, status: int
) -> None:
    site.pages["/old"] = redirect(status, "/rss")
    url = site.url("/old")
    assert poll(db, limits, url).count("added") == 2
    state = feed_state(db, url)
    assert state.fetch_url == site.url("/rss") and state.moved_why == "redirect"
    assert state.failures == 0
    poll(db, limits, url, force=True)
    assert len(site.hits("/old")) == 1 and len(site.hits("/rss")) == 2  # straight to /rss
    assert all(b.source == f"feed:{url}" for b in list_bulletins(db))  # identity kept


@pytest.mark.parametrize("status", [302, 303, 307])
def test_a_temporary_redirect_keeps_the_address(
    db: Database, limits: Limits, site: FeedSite, status: int
) -> None:
    site.pages["/tmp"] = redirect(status, site.url("/rss"))
    url = site.url("/tmp")
    assert poll(db, limits, url).count("added") == 2
    assert feed_state(db, url).fetch_url is None
    poll(db, limits, url, force=True)
    assert len(site.hits("/tmp")) == 2


def test_a_redirect_loop_and_a_redirect_without_location_fail(
    db: Database, limits: Limits, site: FeedSite
) -> None:
    site.pages |= {"/loop": redirect(302, "/loop"), "/nowhere": Page(status=301, validators=False)}
    poll(db, limits, site.url("/loop"), site.url("/nowhere"))
    assert "more than 5 redirects" in (feed_state(db, site.url("/loop")).last_error or "")
    assert feed_state(db, site.url("/nowhere")).last_error == "HTTP 301"


def test_gone_stops_the_feed_and_tells_the_operator(
    db: Database, limits: Limits, site: FeedSite, caplog: pytest.LogCaptureFixture
) -> None:
    site.pages["/gone"] = Page(status=410, validators=False)
    url = site.url("/gone")
    with caplog.at_level(logging.WARNING, logger="bot"):
        poll(db, limits, url)
    assert feed_state(db, url).gone_at is not None
    assert any("410" in r.getMessage() and url in r.getMessage() for r in caplog.records)
    poll(db, limits, url, force=True, now=NOW + timedelta(days=3))
    assert len(site.hits("/gone")) == 1  # never asked again


@pytest.mark.parametrize(("status", "header"), [
    (429, "3600"), (503, "Fri, 11 Jul 2025 14:00:00 GMT"),
])  # fmt: skip
def test_retry_after_is_honoured(
    db: Database, limits: Limits, site: FeedSite, status: int, header: str
) -> None:
    site.pages["/busy"] = Page(status=status, headers={"Retry-After": header}, validators=False)
    url = site.url("/busy")
    poll(db, limits, url)
    state = feed_state(db, url)
    assert state.failures == 1 and f"HTTP {status}" in (state.last_error or "")
    wanted = NOW + (timedelta(hours=1) if status == 429 else timedelta(hours=2))
    assert state.next_try_at == wanted.isoformat(timespec="seconds")
    poll(db, limits, url, now=wanted - timedelta(minutes=1))
    assert len(site.hits("/busy")) == 1
    site.pages["/busy"] = feed(RSS)
    assert poll(db, limits, url, now=wanted).count("added") == 2


def test_redirects_to_private_addresses_are_refused(
    db: Database, limits: Limits, site: FeedSite
) -> None:
    # a feed on a private address may redirect within its own server (above), not to
    # another port of the same host…
    site.pages["/other"] = redirect(302, "http://127.0.0.1:9/rss")
    poll(db, limits, site.url("/other"))
    assert "private address" in (feed_state(db, site.url("/other")).last_error or "")
    # …and a public feed's article link never reaches a private one
    from bot.ingest.http import Gate, fetch

    async def outside() -> None:
        import httpx

        async with httpx.AsyncClient() as client:
            await fetch(client, Gate(), site.url("/rss"), max_bytes=10_000, timeout=1,
                        home="https://news.example/rss")  # fmt: skip

    import asyncio

    with pytest.raises(FeedRefused, match="private address"):
        asyncio.run(outside())


def test_an_entry_keeps_its_link_to_the_original(
    db: Database, limits: Limits, site: FeedSite
) -> None:
    from bot.render import bulletin_link

    report = poll(db, limits, site.url("/linked"))
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


def test_a_home_page_leads_to_its_feed(db: Database, limits: Limits, site: FeedSite) -> None:
    site.pages["/"] = page(HOME)
    home = site.url("/")
    found = discover(home, timeout=1.0, max_bytes=1_000_000)
    assert (found.url, found.title, found.entries, found.announced) == (
        site.url("/rss"), "Hebdo test", 2, True)  # fmt: skip
    # a site address among the polled feeds (an OPML import, FEED_URLS) finds it too
    assert poll(db, limits, home).count("added") == 2
    state = feed_state(db, home)
    assert state.fetch_url == site.url("/rss") and state.moved_why == "page"
    asked = len(site.hits("/"))
    poll(db, limits, home, force=True)
    assert len(site.hits("/")) == asked  # from now on, the feed itself
    with pytest.raises(FeedRefused, match="announces no feed"):
        discover(site.url("/junk"), timeout=1.0, max_bytes=1_000_000)


def test_a_teaser_is_completed_from_its_article(
    db: Database, limits: Limits, site: FeedSite
) -> None:
    site.pages |= {"/teasers": feed(TEASER.format(link=site.url("/kyiv?utm_source=rss"))),
                   "/kyiv?utm_source=rss": page(ARTICLE)}  # fmt: skip
    report = poll(db, limits, site.url("/teasers"))
    assert report.count("added") == 1
    detail = get_bulletin(db, report.outcomes[0].bulletin_id or 0)
    assert detail is not None
    assert "Sviatochyn" in detail.clean_text and "Klitschko" in detail.clean_text
    assert "Abonnez-vous" not in detail.clean_text and "Accueil" not in detail.clean_text
    assert detail.bulletin.title == "Nuit d'attaques de drones sur Kyiv"
    assert detail.bulletin.link == site.url("/kyiv?utm_source=rss")  # "read the original"


def test_the_same_article_read_again_keeps_its_text() -> None:
    """An article page read for the fourth time in one process (a feed that re-publishes an
    entry, the same article in four feeds, a bot up for weeks) keeps its text. trafilatura's
    `deduplicate` counts paragraphs process-wide and drops any seen more than twice: the
    fourth reading of a teaser's page came back with the teaser alone."""
    first = extract_article(ARTICLE.encode(), "https://news.example/kyiv")
    assert first is not None and "Sviatochyn" in first
    for _ in range(5):
        assert extract_article(ARTICLE.encode(), "https://news.example/kyiv") == first


def test_a_teaser_stays_when_the_page_fails_or_says_less_or_expansion_is_off(
    db: Database, limits: Limits, site: FeedSite
) -> None:
    site.pages |= {"/t1": feed(TEASER.format(link=site.url("/dead"))),
                   "/t2": feed(TEASER.replace("t-1", "t-2").format(link=site.url("/thin"))),
                   "/t3": feed(TEASER.replace("t-1", "t-3").format(link=site.url("/kyiv"))),
                   "/thin": page("<html><body><p>Rien.</p></body></html>"),
                   "/kyiv": page(ARTICLE)}  # fmt: skip
    db.conn.execute("BEGIN")
    set_expand(db, site.url("/t3"), "off")
    db.conn.execute("COMMIT")
    report = poll(db, limits, site.url("/t1"), site.url("/t2"), site.url("/t3"))
    assert report.count("added") == 1 and report.count("duplicate") == 2  # the same teaser
    (bulletin,) = list_bulletins(db)
    detail = get_bulletin(db, bulletin.id)
    assert detail is not None and "52 drones" in detail.clean_text
    assert "Sviatochyn" not in detail.clean_text
    assert site.hits("/kyiv") == []  # expansion off: the page is never fetched


def test_the_same_article_from_two_feeds_is_stored_once(
    db: Database, limits: Limits, site: FeedSite
) -> None:
    main = LINKED.replace("l-2", "m-2")
    section = (
        LINKED.replace("l-1", "s-1")
        .replace("Bilan A", "Bilan A (section Monde)")
        .replace(
            'https://example.org/a?x=1&amp;y="2"',
            "http://www.Example.org/a/amp/?y=%222%22&amp;x=1&amp;utm_source=rss&amp;utm_medium=x",
        )
    )
    site.pages |= {"/main": feed(main), "/section": feed(section)}
    first = poll(db, limits, site.url("/main"))
    assert first.count("added") == 2
    second = poll(db, limits, site.url("/section"))
    assert second.merged == 2 and second.count("added") == 0  # the link, and the same text
    assert "2 merged" in second.summary()
    assert len(list_bulletins(db)) == 2


def test_a_copy_under_another_title_is_merged(db: Database, limits: Limits, site: FeedSite) -> None:
    body = ARTICLE_WORDS.replace("&", "&amp;")
    one = f"""<rss version="2.0"><channel><title>A</title><item><guid>a</guid>
<title>Kyiv sous les drones</title><description>{body}</description></item></channel></rss>"""
    two = one.replace("<guid>a</guid>", "<guid>b</guid>").replace("Kyiv sous les drones",
                                                                   "Nuit blanche à Kyiv")  # fmt: skip
    site.pages |= {"/one": feed(one), "/two": feed(two)}
    assert poll(db, limits, site.url("/one")).count("added") == 1
    assert poll(db, limits, site.url("/two")).merged == 1


@pytest.mark.parametrize(("url", "canonical"), [
    ("https://www.Example.org/a/b/?utm_source=x&utm_medium=y#top", "example.org/a/b"),
    ("http://example.org/a/b", "example.org/a/b"),
    ("https://example.org/a/b/amp", "example.org/a/b"),
    ("https://amp.example.org/a/b.amp.html", "example.org/a/b"),
    ("https://m.example.org:443/a?id=3&fbclid=z&b=2", "example.org/a?b=2&id=3"),
    ("https://example.org:8443/a", "example.org:8443/a"),
    ("https://example.org/", "example.org"),
    ("https://example.org/a?id=3", "example.org/a?id=3"),
    ("javascript:alert(1)", None),
    ("https://[::1", None),
    ("", None),
])  # fmt: skip
def test_canonical_link(url: str, canonical: str | None) -> None:
    assert canonical_link(url) == canonical
