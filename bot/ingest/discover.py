"""A site's address given for a feed: find the feed its page announces (`<link
rel="alternate" type="application/rss+xml" href="…">`), as feed readers do."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json",
              "application/rdf+xml", "application/xml", "text/xml")  # fmt: skip
READ_AT_MOST = 512_000  # feed links live in <head>: the start of a page is enough


def looks_like_html(document: bytes, content_type: str = "") -> bool:
    """A web page rather than a feed: by its type, else by how it starts."""
    if "html" in content_type.lower():
        return True
    start = document[:1024].lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html")) or b"<html" in start[:300]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, str]] = []  # (href, type, title)
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.done = True
        if tag != "link" or self.done:
            return
        values = {k.lower(): (v or "") for k, v in attrs}
        rels = values.get("rel", "").lower().split()
        kind = values.get("type", "").lower().split(";")[0].strip()
        if "alternate" in rels and kind in FEED_TYPES and values.get("href"):
            self.found.append((values["href"].strip(), kind, values.get("title", "").strip()))


def feed_links(page: bytes, base: str) -> list[tuple[str, str]]:
    """The feeds a page announces, as (absolute URL, title), in the page's order, RSS and
    Atom before the rest; only http(s) addresses."""
    parser = _Links()
    text = page[:READ_AT_MOST].decode("utf-8", "replace")
    for start in range(0, len(text), 8192):  # fed in pieces: stop at <body>
        parser.feed(text[start : start + 8192])
        if parser.done:
            break
    ordered = sorted(parser.found, key=lambda f: f[1] not in FEED_TYPES[:2])
    links: list[tuple[str, str]] = []
    for href, _, title in ordered:
        url = urljoin(base, href)
        if urlsplit(url).scheme in ("http", "https") and url not in (u for u, _ in links):
            links.append((url, title))
    return links
