"""Headline items for stored and new bulletins: run the summariser over a bulletin's items."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from sqlite_utils import Database

from bot.summarize import SUMMARY_VERSION, Sentence, summarize
from bot.text.analyze import Analyzer, terms
from storage.bulletins import get_bulletin, section_headings, set_headlines, stale_summaries
from storage.models import NewItem

log = logging.getLogger(__name__)


def rank_items(
    texts: Sequence[tuple[str, int, int]],
    *,
    language: str,
    title: str,
    headings: Sequence[str],
    max_items: int | None,
) -> list[tuple[int | None, float]]:
    """(headline rank or None, score) for each (text, section, paragraph)."""
    result = summarize(
        [Sentence(t, s, p) for t, s, p in texts],
        language=language,
        title=title,
        headings=headings,
        max_items=max_items,
    )
    ranks: dict[int, int] = {index: rank for rank, index in enumerate(result.picks, start=1)}
    return [(ranks.get(i), score) for i, score in enumerate(result.scores)]


def analyse_items(
    items: Sequence[NewItem],
    *,
    language: str,
    title: str,
    headings: Sequence[str],
    max_items: int | None,
    analyzer: Analyzer,
) -> list[NewItem]:
    """A new bulletin's items with headline rank, score and indexed text, analysed once."""
    analysed = [tuple(terms(i.text, language)) for i in items]
    result = summarize(
        [Sentence(i.text, i.section, i.paragraph, t) for i, t in zip(items, analysed, strict=True)],
        language=language,
        title=title,
        headings=headings,
        max_items=max_items,
    )
    ranks = {index: rank for rank, index in enumerate(result.picks, start=1)}
    return [
        replace(item, headline_rank=ranks.get(n), score=result.scores[n],
                search_text=analyzer.index_text_of(analysed[n]))
        for n, item in enumerate(items)
    ]  # fmt: skip


def refresh_summaries(db: Database, *, max_items: int | None = None) -> int:
    """Recompute headlines of bulletins summarised by another summariser version."""
    ids = stale_summaries(db, SUMMARY_VERSION)
    for bulletin_id in ids:
        detail = get_bulletin(db, bulletin_id)
        if detail is None:
            continue
        headings = section_headings(db, bulletin_id)
        ranked = rank_items(
            [(i.text, i.section, i.paragraph) for i in detail.items],
            language=detail.bulletin.language,
            title=detail.bulletin.title,
            headings=headings,
            max_items=max_items,
        )
        set_headlines(
            db,
            bulletin_id,
            [
                (item.id, rank, score)
                for item, (rank, score) in zip(detail.items, ranked, strict=True)
            ],
            SUMMARY_VERSION,
        )
    if ids:
        log.info("recomputed headlines of %d bulletins (summariser v%d)", len(ids), SUMMARY_VERSION)
    return len(ids)
