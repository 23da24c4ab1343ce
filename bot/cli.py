"""Command line: `python -m bot COMMAND` (also installed as `hebdo`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sqlite3
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bot.config import LANGUAGES, ConfigError, Settings, load_settings
from bot.digest import BadWeek, Digest, chat_zone, edition_for, parse_week, week_digest
from bot.ingest import (
    Outcome,
    Rejected,
    expand_paths,
    ingest_paths,
    limits_for,
    poll_sources,
    prepare,
)
from bot.ingest.pipeline import read_file
from bot.logs import redact, setup_logging
from bot.maintenance import prepare_database
from bot.search import HIGHLIGHT_END, HIGHLIGHT_START, USAGE, QueryError, search
from bot.text.analyze import analyzer_for
from storage import open_db
from storage.bulletins import get_bulletin, list_bulletins
from storage.db import StorageError, backup, check_writable, problems
from storage.models import Bulletin
from storage.people import get_subscriber
from storage.search import SearchSyntaxError

log = logging.getLogger("bot")


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


class _Progress:
    """A one-line progress bar on stderr, shown only on a terminal and for many files."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done, self.enabled = total, 0, enabled and total > 1

    def __call__(self, _path: Path, _outcome: Outcome) -> None:
        self.done += 1
        if self.enabled:
            width = 30
            filled = width * self.done // self.total
            bar = "#" * filled + "-" * (width - filled)
            print(f"\r[{bar}] {self.done}/{self.total}", end="", file=sys.stderr, flush=True)
            if self.done == self.total:
                print(file=sys.stderr)


def cmd_ingest(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    """Ingest files and folders; print a summary of added, duplicate and rejected."""
    paths = list(expand_paths(Path(p) for p in args.paths))
    progress = _Progress(
        len(paths), args.progress or (args.progress is None and sys.stderr.isatty())
    )
    report = ingest_paths(db, paths, limits_for(settings), on_done=progress)
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
    if not rows:
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


def cmd_search(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    """Search the archive (the operator may use raw FTS5 syntax after `raw:`)."""
    query = " ".join(args.query)
    try:
        results = search(
            db,
            query,
            analyzer_for(settings.variants_file),
            page=args.page,
            per_page=args.limit,
            admin=True,
            half_life_days=settings.search_half_life_days,
        )
    except QueryError as exc:
        print(f"Usage: python -m bot search WORDS ({exc}). {USAGE}", file=sys.stderr)
        return 2
    except SearchSyntaxError as exc:
        print(f"FTS syntax error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        _print_json(
            {
                "query": query,
                "page": results.page,
                "total": results.total,
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
                    }
                    for h in results.hits
                ],
            }
        )
        return 0
    if not results.hits:
        print(f"Nothing found for {query!r}.")
    for h in results.hits:
        snippet = h.snippet.replace(HIGHLIGHT_START, "[").replace(HIGHLIGHT_END, "]")
        print(f"#{h.bulletin_id} {h.published_at[:10]} {h.bulletin_title}\n  {snippet}")
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
        digest = edition_for(db, args.chat, language, zone, now,
                             per_bulletin=settings.summary_items).digest  # fmt: skip
    if args.json:
        _print_json(digest.to_json())
        return 0
    _print_digest(digest, args.week)
    return 0


def _print_digest(digest: Digest, week: str | None) -> None:
    print(f"{digest.title} — {digest.bulletin_count} bulletin(s)\n")
    for n, item in enumerate(digest.items, start=1):
        print(f"{n}. {item.text}\n   #{item.bulletin_id} {item.bulletin_title}")
    if not digest.items:
        print(f"Nothing published in {week}." if week else "Nothing new: no digest would be sent.")


def cmd_backup(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    """A consistent copy of the database, taken while the bot may be running."""
    target = Path(args.path)
    if target.resolve() == Path(settings.database_path).resolve():
        print("Usage: python -m bot backup PATH — a path other than the database itself.",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        saved = backup(db, target)
    except (OSError, sqlite3.Error) as exc:
        print(f"backup to {target} failed: {exc}", file=sys.stderr)
        return 1
    print(f"backed up {settings.database_path} to {saved} ({saved.stat().st_size:,} bytes)")
    return 0


def cmd_check(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    """Integrity and search-index consistency; exit 1 and list what is wrong, if anything."""
    found = problems(db)
    for problem in found:
        print(problem)
    print(f"{settings.database_path}: {'ok' if not found else f'{len(found)} problem(s)'}")
    return 1 if found else 0


def cmd_send(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    """Queue what is due now, then send every due outbox row; exit when none is left."""
    if not settings.telegram_bot_token:
        print("TELEGRAM_BOT_TOKEN is not set: nothing can be sent.", file=sys.stderr)
        return 2
    from bot.delivery.worker import send_pending

    counts: dict[str, int] = {}
    code = _telegram(
        lambda: counts.update(
            asyncio.run(send_pending(db, settings, rate=args.rate, now=args.now))
        ),
        settings,
    )
    if code == 0:
        print(", ".join(f"{k} {v}" for k, v in counts.items()))
    return code


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot (polling) until interrupted. Without a token it refuses, touching nothing:
    a worker whose token went missing must not quietly become something else."""
    if not settings.telegram_bot_token:
        print("TELEGRAM_BOT_TOKEN is not set; try `python -m bot console` to try Hebdo offline.",
              file=sys.stderr)  # fmt: skip
        return 2
    from bot.app import run_bot

    try:  # a database that cannot be opened or written is one line, before Telegram is asked
        db = open_db(settings.database_path)
        try:
            check_writable(db, settings.database_path)
        finally:
            db.close()
    except StorageError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return _telegram(lambda: run_bot(settings), settings)


def _telegram(action: Callable[[], object], settings: Settings) -> int:
    """Run something that talks to Telegram; its failure to do so is one line, the token
    never shown (it is part of every Bot API URL)."""
    from telegram.error import InvalidToken, NetworkError

    try:
        action()
    except InvalidToken:
        print("Telegram refused TELEGRAM_BOT_TOKEN: check it with @BotFather (/token).",
              file=sys.stderr)  # fmt: skip
        return 2
    except NetworkError as exc:
        message = redact(str(exc), [settings.telegram_bot_token])
        print(f"Telegram could not be reached at {settings.telegram_api_base_url}: {message}",
              file=sys.stderr)  # fmt: skip
        return 2
    return 0


def cmd_console(args: argparse.Namespace, settings: Settings) -> int:
    """The real bot against the local Bot API emulator, in this terminal, on its own database
    (`CONSOLE_DATABASE_PATH`): the bot's database is never touched."""
    try:
        from devtools.console import run_console
    except ImportError:
        print("The offline console is a development tool: run it from a clone of the "
              "repository (make run).", file=sys.stderr)  # fmt: skip
        return 2

    logging.getLogger().setLevel(logging.WARNING)  # the conversation, not the logs
    own = replace(settings, database_path=settings.console_database_path)
    try:
        db = open_db(own.database_path)
    except StorageError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        prepare_database(db, own)
        samples = settings.console_samples
        if samples is not None and samples.is_dir():
            report = ingest_paths(db, list(expand_paths([samples])), limits_for(own))
            print(f"Sample bulletins from {samples}: {report.summary()}", file=sys.stderr)
    finally:
        db.close()
    run_console(own)
    return 0


def moment(text: str) -> datetime:
    """An ISO 8601 moment with its UTC offset (argparse turns ValueError into a usage line)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("give a UTC offset, e.g. 2025-07-12T09:00+02:00")
    return moment


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with one sub-command per action."""
    parser = argparse.ArgumentParser(prog="hebdo", description="Hebdo news-digest bot")
    parser.add_argument("--env-file", default=".env", help="settings file (default: .env)")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("run", help="run the Telegram bot (needs TELEGRAM_BOT_TOKEN)")
    sub.add_parser("console", help="chat with the bot offline, in this terminal (own database)")

    p = sub.add_parser("ingest", help="ingest bulletin files or folders")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--json", action="store_true")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)

    p = sub.add_parser("poll", help="ingest the inbox folder and the feeds once")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("bulletins", help="list bulletins")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("show", help="show one bulletin")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("summarize", help="pick a file's headline items (no database)")
    p.add_argument("file")
    p.add_argument("--items", type=int, default=None, help="how many (default: by length)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("digest", help="show a digest (stores nothing)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--week", help="every bulletin of an ISO week such as 2025-W28")
    which.add_argument("--chat", type=int, help="what this chat would receive now")
    p.add_argument(
        "--lang", choices=LANGUAGES, help="readers' language (default: the chat's, else "
        "DEFAULT_LANGUAGE)"
    )  # fmt: skip
    p.add_argument("--now", type=moment, default=None, metavar="ISO",
                   help="the moment of the edition (default: the clock)")  # fmt: skip
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("send", help="queue what is due and send the outbox now, then exit")
    p.add_argument("--rate", type=float, default=None, help="messages/s (default: SEND_RATE)")
    p.add_argument("--now", type=moment, default=None, metavar="ISO",
                   help="act as if it were this moment, e.g. 2025-07-12T09:00+02:00 "
                   "(replays and tests; default: the clock)")  # fmt: skip

    p = sub.add_parser("backup", help="copy the database consistently (the bot may run)")
    p.add_argument("path", metavar="PATH")

    sub.add_parser("check", help="integrity and search-index consistency of the database")

    p = sub.add_parser("search", help="search the archive")
    p.add_argument("query", nargs="+")
    p.add_argument("--limit", type=int, default=10, help="results per page")
    p.add_argument("--page", type=int, default=0, help="page number, from 0")
    p.add_argument("--json", action="store_true")
    return parser


_DB_COMMANDS = {
    "ingest": cmd_ingest,
    "poll": cmd_poll,
    "bulletins": cmd_bulletins,
    "show": cmd_show,
    "search": cmd_search,
    "digest": cmd_digest,
    "send": cmd_send,
    "backup": cmd_backup,
    "check": cmd_check,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, load settings, dispatch."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.env_file)
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    level = settings.log_level if args.command == "run" else "WARNING"
    setup_logging(level, secrets=[settings.telegram_bot_token])
    if args.command == "run":
        return cmd_run(args, settings)
    if args.command == "console":
        return cmd_console(args, settings)
    if args.command == "summarize":
        return cmd_summarize(args, settings)
    try:
        db = open_db(settings.database_path)
        prepare_database(db, settings)
    except StorageError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        return _DB_COMMANDS[args.command](args, settings, db)
    except sqlite3.OperationalError as exc:  # read-only file, full disk, locked too long
        print(f"database {settings.database_path}: {exc}", file=sys.stderr)
        return 1
    finally:
        db.close()
