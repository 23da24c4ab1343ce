"""A feed entry that is only a teaser is completed from its article page: the page's main
text, found by trafilatura (the reference of published main-text extraction benchmarks),
replaces the teaser when it says more."""

from __future__ import annotations

import logging

from bot.ingest.markup import html_blocks

log = logging.getLogger(__name__)

TEASER_WORDS = 80  # an entry under this many words is a teaser (most feeds' summaries)
# trafilatura's time grows with the page's elements (~4 s per MB of tiny paragraphs): a page
# of more tags than this is no article page we read (a heavy news page has ~5,000).
MAX_TAGS = 30_000


def word_count(text: str, fmt: str) -> int:
    """Words of an entry's text, its markup removed."""
    if fmt == "html":
        return sum(len(block.text.split()) for block in html_blocks(text))
    return len(text.split())


def is_teaser(text: str, fmt: str) -> bool:
    """Fewer than `TEASER_WORDS` words."""
    return word_count(text, fmt) < TEASER_WORDS


def extract_article(page: bytes, url: str) -> str | None:
    """The main text of an article page, paragraphs separated by blank lines; None if
    nothing article-like is found or the page has more than `MAX_TAGS` tags. trafilatura
    is imported on first use (a quarter of a second), so a bot whose feeds carry full text
    never pays for it."""
    import trafilatura

    if page.count(b"<") > MAX_TAGS:
        log.info("article %s: more than %d tags, not read", url[:200], MAX_TAGS)
        return None
    try:
        # not `deduplicate`: it counts paragraphs process-wide and drops those seen more than
        # twice, so the same article read a third time (re-published, in several feeds, a
        # bot up for weeks) lost its text
        text = trafilatura.extract(page, url=url, include_comments=False, include_tables=False,
                                   favor_precision=True, deduplicate=False)  # fmt: skip
    except Exception as exc:  # the library's failure on one page is that page's outcome
        log.info("article %s: extraction failed (%s)", url[:200], type(exc).__name__)
        return None
    if not text or not text.strip():
        return None
    paragraphs = [line.strip() for line in text.splitlines() if line.strip()]
    return "\n\n".join(paragraphs)
