"""Command line: the archive — ingest, poll, list, show, search, summarise, digest."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

from bot.config import Settings
from bot.digest import (
    BadWeek,
    Digest,
    chat_zone,
    edition_for,
    items_for,
    parse_week,
    week_digest,
)
from bot.i18n import counted, t
from bot.ingest import (
    Outcome,
    Rejected,
    expand_paths,
    ingest_paths,
    limits_for,
    poll_sources,
    prepare,
)
from bot.ingest.bulk import BULK_FROM, ingest_bulk
from bot.ingest.pipeline import read_file
from bot.query import USAGE
from bot.search import HIGHLIGHT_END, HIGHLIGHT_START, QueryError, search
from bot.text.analyze import analyzer_for
from storage.bulletins import get_bulletin, list_bulletins
from storage.models import Bulletin
from storage.people import get_subscriber, sources_off
from storage.search import SearchSyntaxError


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


class _Progress:
    """A one-line progress bar on stderr, shown only on a terminal and for many files."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done, self.enabled = total, 0, enabled and total > 1

    def __call__(self, _source: object, _outcome: Outcome) -> None:
        self.done += 1
        if self.enabled:
            width = 30
            filled = width * self.done // self.total
            bar = "#" * filled + "-" * (width - filled)
            print(f"\r[{bar}] {self.done}/{self.total}", end="", file=sys.stderr, flush=True)
            if self.done == self.total:
                print(file=sys.stderr)


def output_file(text: str) -> Path:
    """An argparse type: a file to write, in a folder that exists, not a folder itself."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give a file name in it")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"no folder {path.parent} to write {path.name} in")
    return path


def cmd_ingest(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    """Ingest files and folders; print a summary of added, duplicate and rejected."""
    paths = list(expand_paths(Path(p) for p in args.paths))
    progress = _Progress(
        len(paths), args.progress or (args.progress is None and sys.stderr.isatty())
    )
    quiet = logging.getLogger("bot.ingest")  # each rejection is printed below: not twice
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # (setLevel: the children's cached levels are cleared)
    try:
        if args.bulk or len(paths) >= BULK_FROM:
            report = ingest_bulk(db, paths, limits_for(settings), on_done=progress,
                                 known_suffix=True)  # fmt: skip
        else:
            report = ingest_paths(db, paths, limits_for(settings), on_done=progress,
                                  known_suffix=True)  # fmt: skip
    finally:
        quiet.setLevel(level)
    if args.json:
        _print_json(
            {
                "added": report.count("added"),
                "duplicates": report.count("duplicate"),
                "rejected": report.count("rejected"),
                "files": [_outcome_json(o) for o in report.outcomes],
            }
        )
    else:
        for o in report.outcomes:
            if o.status == "added":
                print(f"added     #{o.bulletin_id} {o.title}  ({o.name})")
            elif o.status == "duplicate":
                print(f"duplicate of #{o.bulletin_id}  ({o.name})")
            else:
                print(f"rejected  {o.name}: {o.reason}")
        print(report.summary())
    return 0 if report.count("rejected") == 0 else 1


def _outcome_json(o: Outcome) -> dict[str, Any]:
    return {
        "name": o.name,
        "status": o.status,
        "bulletin_id": o.bulletin_id,
        "title": o.title,
        "reason": o.reason,
    }


def cmd_poll(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    """Ingest the inbox folder and every configured feed once."""
    report = poll_sources(db, settings, force=True)
    if args.json:
        _print_json({"files": [_outcome_json(o) for o in report.outcomes]})
    else:
        print(report.summary())
    return 0


def _bulletin_json(b: Bulletin) -> dict[str, Any]:
    return {
        "id": b.id,
        "title": b.title,
        "published_at": b.published_at,
        "language": b.language,
        "source": b.source,
    }


def cmd_bulletins(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    """List stored bulletins, newest first."""
    rows = list_bulletins(db, limit=args.limit, offset=args.offset)
    if args.json:
        _print_json([{**_bulletin_json(b), "items": b.item_count} for b in rows])
        return 0
    if not rows and args.offset:
        print(f"No bulletins from offset {args.offset}: there are fewer.")
    elif not rows:
        print("No bulletins yet. Add some with: python -m bot ingest PATH")
    for b in rows:
        print(f"#{b.id:<5} {b.published_at[:10]}  {b.language}  {b.title}  ({b.item_count} items)")
    return 0


def cmd_show(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    """Show one bulletin with its sections and items."""
    detail = get_bulletin(db, args.id)
    if detail is None:
        print(f"No bulletin #{args.id}.", file=sys.stderr)
        return 1
    b = detail.bulletin
    if args.json:
        _print_json(
            {
                **_bulletin_json(b),
                "source_ref": b.source_ref,
                "deleted_at": b.deleted_at,
                "text": detail.clean_text,
                "items": [
                    {
                        "id": i.id,
                        "seq": i.seq,
                        "section": i.section,
                        "heading": i.heading,
                        "text": i.text,
                        "start": i.start,
                        "end": i.end,
                        "paragraph_start": i.paragraph_start,
                        "paragraph_end": i.paragraph_end,
                        "headline_rank": i.headline_rank,
                    }
                    for i in detail.items
                ],
            }
        )
        return 0
    print(f"#{b.id} {b.title}\n{b.published_at}  {b.language}  {b.source}\n")
    print(detail.clean_text)
    return 0


T = TypeVar("T")


def query_or_usage(run: Callable[[], T], command: str, usage: str) -> T | None:
    """`run()`, or None after saying on stderr why the words cannot be searched (the
    command then exits 2)."""
    try:
        return run()
    except QueryError as exc:
        print(f"Usage: python -m bot {command} WORDS ({exc}). {usage}", file=sys.stderr)
    except SearchSyntaxError as exc:
        print(f"FTS syntax error: {exc}", file=sys.stderr)
    return None


def cmd_search(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    """Search the archive (the operator may use raw FTS5 syntax after `raw:`)."""
    query = " ".join(args.query)
    results = query_or_usage(lambda: search(
        db, query, analyzer_for(settings.variants_file), page=args.page, per_page=args.limit,
        admin=True, half_life_days=settings.search_half_life_days, bulletin=args.bulletin,
    ), "search", USAGE)  # fmt: skip
    if results is None:
        return 2
    if args.json:
        _print_json(
            {
                "query": query,
                "page": results.page,
                "total": results.total,
                "words": results.words,
                "partial": results.partial,
                "corrections": [
                    {"typed": typed, "read_as": shown} for typed, shown in results.corrections
                ],
                "results": [
                    {
                        "item_id": h.item_id,
                        "bulletin_id": h.bulletin_id,
                        "bulletin_title": h.bulletin_title,
                        "published_at": h.published_at,
                        "language": h.language,
                        "heading": h.heading,
                        "text": h.text,
                        "snippet": h.snippet.replace(HIGHLIGHT_START, "**").replace(
                            HIGHLIGHT_END, "**"
                        ),
                        "headline": h.headline,
                        "score": h.score,
                        "passage": list(h.passage),
                        "more_in_bulletin": h.also,
                        "words": h.words,
                    }
                    for h in results.hits
                ],
            }
        )
        return 0
    if not results.hits and results.total:
        last = (results.total - 1) // results.per_page
        print(f"Page {results.page} is past the last one ({last}): "
              f"{counted(results.total, 'result')}.")  # fmt: skip
    elif not results.hits:
        print(f"Nothing found for {query!r}.")
    for typed, shown in results.corrections:
        print(f"(results for {shown!r} instead of {typed!r})")
    if results.partial:
        print(f"(no result has every word: results with {results.best} of {results.words})")
    for h in results.hits:
        snippet = h.snippet.replace(HIGHLIGHT_START, "[").replace(HIGHLIGHT_END, "]")
        more = f"  (+{h.also} more: --bulletin {h.bulletin_id})" if h.also else ""
        print(f"#{h.bulletin_id} {h.published_at[:10]} {h.bulletin_title}{more}\n  {snippet}")
    return 0


def cmd_summarize(args: argparse.Namespace, settings: Settings) -> int:
    """Summarise a file without touching the database."""
    path = Path(args.file)
    limits = limits_for(settings)
    if args.items is not None:
        limits = replace(limits, summary_items=args.items)
    try:
        bulletin = prepare(read_file(path, limits), limits)
    except Rejected as exc:
        print(f"{path.name}: {exc.reason}", file=sys.stderr)
        return 1
    picks = [i for i in bulletin.items if i.headline_rank]  # reading order, as everywhere
    headings = [s.heading for s in bulletin.sections]
    if args.json:
        _print_json(
            {
                "title": bulletin.title,
                "language": bulletin.language,
                "items": [
                    {
                        "text": i.text,
                        "section": headings[i.section] if i.section < len(headings) else "",
                        "sentence_start": i.start,
                        "sentence_end": i.end,
                        "paragraph_start": i.paragraph_start,
                        "paragraph_end": i.paragraph_end,
                        "score": i.score,
                    }
                    for i in picks
                ],
            }
        )
        return 0
    print(f"{bulletin.title}  ({bulletin.language}, {len(bulletin.items)} sentences)\n")
    for n, item in enumerate(picks, start=1):
        print(f"{n}. {item.text}")
    return 0


def cmd_digest(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    """Show a digest without storing anything: a chat's edition now, or a calendar week's."""
    language = args.lang or settings.default_language
    now = args.now or datetime.now(UTC)
    if args.week is not None:
        try:
            parse_week(args.week)
        except BadWeek as exc:
            print(f"Usage: python -m bot digest [--week 2025-W28 | --chat ID]: {exc}",
                  file=sys.stderr)  # fmt: skip
            return 2
        digest = week_digest(
            db, args.week, language, settings.tz, per_bulletin=settings.summary_items
        )
    else:
        chat = get_subscriber(db, args.chat) if args.chat is not None else None
        if args.chat is not None and chat is None:
            print(f"No chat {args.chat}: it never talked to the bot.", file=sys.stderr)
            return 1
        zone = chat_zone(chat.timezone, settings.tz) if chat else settings.tz
        language = args.lang or (chat.language if chat else language)
        items = items_for(chat.digest_length if chat else None, settings.digest_length)
        off = sources_off(db, [chat.chat_id]).get(chat.chat_id) if chat else None
        digest = edition_for(db, args.chat, language, zone, now,
                             per_bulletin=settings.summary_items, items=items,
                             off=off or frozenset()).digest  # fmt: skip
    if args.json:
        _print_json(digest.to_json())
        return 0
    _print_digest(digest, args.week)
    return 0


def _print_digest(digest: Digest, week: str | None) -> None:
    """The digest as the reader would read it, in its language; or, when there is none, the
    command's own one line, in English like every other line of the command line's."""
    if not digest.items:
        print(f"Nothing published in {week}." if week else "Nothing new: no digest would be sent.")
        return
    print(f"{digest.title} — {t(digest.language, 'digest_count', n=digest.bulletin_count)}\n")
    for n, item in enumerate(digest.items, start=1):
        print(f"{n}. {item.text}\n   #{item.bulletin_id} {item.bulletin_title}")
