"""A site's address given for a feed: find the feed its page announces (`<link
rel="alternate" type="application/rss+xml" href="…">`), as feed readers do."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
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


# A name only where a name starts, a quoted value to its quote or the tag's end: every
# attempt fails or succeeds once, so a tag is read in linear time whatever it holds.
_ATTRIBUTE = re.compile(r"""(?<![\w:-])([a-zA-Z_:-]+)\s*=\s*("[^"]*"?|'[^']*'?|[^\s"'>]+)""")
MAX_TAG = 2000  # a <link> tag longer than this is not one we read


def _link_tags(text: str) -> Iterator[dict[str, str]]:
    """The attributes of each `<link …>` before `<body`, by a linear scan: each tag is found
    once and read within `MAX_TAG` characters (no parser re-reading an unclosed tag)."""
    lower = text.lower()
    body = lower.find("<body")
    stop = body if body >= 0 else len(lower)
    pos = 0
    while (start := lower.find("<link", pos, stop)) >= 0:
        end = lower.find(">", start, min(start + MAX_TAG, len(lower)))
        if end < 0:
            pos = start + 5
            continue
        values: dict[str, str] = {}
        for name, value in _ATTRIBUTE.findall(text, start + 5, end):
            values.setdefault(name.lower(), html.unescape(value.strip("\"'")))
        yield values
        pos = end + 1


def feed_links(page: bytes, base: str) -> list[tuple[str, str]]:
    """The feeds a page announces, as (absolute URL, title), in the page's order, RSS and
    Atom before the rest; only http(s) addresses."""
    found = []
    for values in _link_tags(page[:READ_AT_MOST].decode("utf-8", "replace")):
        rels = values.get("rel", "").lower().split()
        kind = values.get("type", "").lower().split(";")[0].strip()
        if "alternate" in rels and kind in FEED_TYPES and values.get("href"):
            found.append((values["href"].strip(), kind, values.get("title", "").strip()))
    ordered = sorted(found, key=lambda f: f[1] not in FEED_TYPES[:2])
    links: list[tuple[str, str]] = []
    for href, _, title in ordered:
        url = urljoin(base, href)
        if urlsplit(url).scheme in ("http", "https") and url not in (u for u, _ in links):
            links.append((url, title))
    return links
