"""OPML, the feed readers' exchange format: export Hebdo's feeds, import another reader's."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

from sqlite_utils import Database

from storage.feeds import add_admin_feed, admin_feeds

MAX_OPML_BYTES = 1_000_000


class OpmlError(ValueError):
    """A document that is not OPML we can read; `key` names the problem for the bot's
    catalogues (`opml_KEY`), the message says it in English for the command line."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def export_opml(urls: list[str], title: str = "Hebdo feeds") -> str:
    """An OPML 2.0 document listing `urls`."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{title}</title></head>",
        "  <body>",
        *(f'    <outline type="rss" text={quoteattr(u)} xmlUrl={quoteattr(u)}/>' for u in urls),
        "  </body>",
        "</opml>",
    ]
    return "\n".join(lines) + "\n"


def import_opml(data: bytes) -> tuple[list[str], list[str]]:
    """(feed URLs, refused entries) of an OPML document: every `xmlUrl` in any outline, nested
    or not; a URL that is not http(s) is refused. Raises `OpmlError`."""
    if len(data) > MAX_OPML_BYTES:
        raise OpmlError("too_large", f"too large: over {MAX_OPML_BYTES:,} bytes")
    try:
        root = ET.fromstring(data)  # expat refuses entity expansion bombs
    except ET.ParseError as exc:
        raise OpmlError("not_xml", f"not XML: {exc}") from None
    if root.tag.lower() != "opml":
        raise OpmlError("not_opml", f"not OPML: the document is <{root.tag}>")
    urls: list[str] = []
    refused: list[str] = []
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url:
            continue
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc and len(url) <= 500:
            if url not in urls:
                urls.append(url)
        else:
            refused.append(url[:100])
    return urls, refused


@dataclass(frozen=True)
class Imported:
    """What importing an OPML document did."""

    added: list[str]
    already: list[str]  # polled before (configured or added earlier)
    refused: list[str]  # entries that are not http(s) URLs


def polled_feeds(db: Database, configured: Sequence[str]) -> list[str]:
    """Every feed polled: the configured ones (`FEED_URLS`), then those admins added."""
    return list(dict.fromkeys([*configured, *admin_feeds(db)]))


def import_feeds(db: Database, data: bytes, configured: Sequence[str]) -> Imported:
    """Add an OPML document's feeds as if by an admin (`FEED_URLS` stays as configured).
    Raises `OpmlError` for a document that is not OPML."""
    urls, refused = import_opml(data)
    added = [u for u in urls if u not in configured and add_admin_feed(db, u)]
    return Imported(added, [u for u in urls if u not in added], refused)
