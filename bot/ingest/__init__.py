"""Ingestion: files, feeds and admin posts become stored bulletins."""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from bot.config import Settings
from bot.ingest.errors import Rejected
from bot.ingest.feeds import poll_feeds
from bot.ingest.pipeline import (
    Limits,
    Outcome,
    Report,
    Submission,
    expand_paths,
    ingest,
    ingest_inbox,
    ingest_paths,
    prepare,
    store,
)
from bot.text.analyze import analyzer_for
from storage.feeds import admin_feeds
from storage.store import Writes, writes_to

__all__ = [
    "Limits",
    "Outcome",
    "Rejected",
    "Report",
    "Submission",
    "expand_paths",
    "ingest",
    "ingest_inbox",
    "ingest_paths",
    "limits_for",
    "poll_sources",
    "prepare",
    "store",
]


def limits_for(settings: Settings) -> Limits:
    """Ingestion limits from the settings."""
    return Limits(
        max_bytes=settings.max_bulletin_bytes,
        default_language=settings.default_language,
        summary_items=settings.summary_items,
        analyzer=analyzer_for(settings.variants_file),
    )


def poll_sources(
    target: Database | Writes, settings: Settings, *, force: bool = False,
    now: datetime | None = None,
) -> Report:  # fmt: skip
    """What the scheduler runs: the inbox folder, then every feed that is due (at `now`,
    default the wall clock). Reading, fetching and parsing happen in the calling thread; the
    stored results go where `target` writes (the bot's writer thread, or a command's own
    connection)."""
    limits = limits_for(settings)
    write = writes_to(target)
    report = ingest_inbox(write, settings.inbox_dir, limits)
    urls = tuple(dict.fromkeys([*settings.feed_urls, *write(admin_feeds)]))
    feeds = poll_feeds(
        write,
        urls,
        limits,
        poll_minutes=settings.poll_minutes,
        timeout=settings.feed_timeout_seconds,
        force=force,
        now=now,
    )
    report.outcomes += feeds.outcomes
    return report
