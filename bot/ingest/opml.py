"""OPML, the feed readers' exchange format: export Hebdo's feeds, import another reader's."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

MAX_OPML_BYTES = 1_000_000


class OpmlError(ValueError):
    """A document that is not OPML we can read."""


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
        raise OpmlError(f"too large: over {MAX_OPML_BYTES:,} bytes")
    try:
        root = ET.fromstring(data)  # expat refuses entity expansion bombs
    except ET.ParseError as exc:
        raise OpmlError(f"not XML: {exc}") from None
    if root.tag.lower() != "opml":
        raise OpmlError(f"not OPML: the document is <{root.tag}>")
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
