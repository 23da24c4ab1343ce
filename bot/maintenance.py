"""Start-up upkeep shared by the bot and the CLI: headlines and search index up to date."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlite_utils import Database

from bot.config import Settings
from bot.headlines import refresh_summaries
from bot.stories import file_recent
from bot.text.analyze import analyzer_for
from storage.search import index_is_current, rebuild_index

log = logging.getLogger(__name__)


def prepare_database(db: Database, settings: Settings, now: datetime | None = None) -> None:
    """Recompute stale headlines; rebuild the search index if the analyzer changed; file
    the recent bulletins that have no story yet."""
    refresh_summaries(db, max_items=settings.summary_items)
    analyzer = analyzer_for(settings.variants_file)
    if not index_is_current(db, analyzer.fingerprint):
        count = rebuild_index(db, analyzer.fingerprint, analyzer.index_text)
        log.info("search index rebuilt: %d items (analyzer %s)", count, analyzer.fingerprint)
    filed = file_recent(db, analyzer, now or datetime.now(UTC))
    if filed:
        log.info("stories: %d recent bulletins filed", filed)
