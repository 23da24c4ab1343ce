"""Command line: `python -m bot COMMAND` (also installed as `hebdo`)."""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from bot.cli_archive import (
    cmd_bulletins,
    cmd_digest,
    cmd_ingest,
    cmd_poll,
    cmd_search,
    cmd_show,
    cmd_summarize,
    output_file,
)
from bot.cli_service import (
    cmd_backup,
    cmd_check,
    cmd_console,
    cmd_health,
    cmd_opml,
    cmd_run,
    cmd_send,
)
from bot.cli_trend import add_parser as add_trend_parser
from bot.cli_trend import cmd_trend
from bot.config import LANGUAGES, ConfigError, Settings, load_settings
from bot.ingest.bulk import BATCH, BULK_FROM
from bot.logs import setup_logging
from bot.maintenance import prepare_database
from storage import open_db
from storage.db import StorageError

log = logging.getLogger("bot")


def count(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high` (else a usage line, exit 2)."""

    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"from {low} to {high}, not {value}")
        return value

    parse.__name__ = "number"  # argparse's message: "invalid number value"
    return parse


def moment(text: str) -> datetime:
    """An ISO 8601 moment with its UTC offset (argparse turns ValueError into a usage line)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("give a UTC offset, e.g. 2025-07-12T09:00+02:00")
    return moment


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with one sub-command per action."""
    parser = argparse.ArgumentParser(prog="hebdo", description="Hebdo news-digest bot")
    parser.add_argument("--env-file", default=None,
                        help="settings file (default: .env, if there is one)")  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("run", help="run the Telegram bot (needs TELEGRAM_BOT_TOKEN)")
    p = sub.add_parser("console", help="chat with the bot offline, in this terminal (own database)")
    p.add_argument("--now", type=moment, default=None, metavar="ISO",
                   help="the console's clock starts there (default: the day after the "
                   "newest bulletin)")  # fmt: skip
    sub.add_parser("health", help="ask the running bot's /healthz (HTTP_PORT); exit 0 if healthy")

    p = sub.add_parser("ingest", help="ingest bulletin files or folders")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--json", action="store_true")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--bulk", action="store_true",
                   help=f"prepare on every core, store {BATCH} bulletins a transaction "
                        f"(automatic from {BULK_FROM:,} files)")  # fmt: skip

    p = sub.add_parser("poll", help="ingest the inbox folder and the feeds once")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("bulletins", help="list bulletins")
    p.add_argument("--limit", type=count(1, 1000), default=20)
    p.add_argument("--offset", type=count(0, 10**9), default=0)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("show", help="show one bulletin")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("summarize", help="pick a file's headline items (no database)")
    p.add_argument("file")
    p.add_argument("--items", type=count(1, 20), default=None,
                   help="how many, 1 to 20 (default: by length)")  # fmt: skip
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
    p.add_argument("path", metavar="PATH", type=output_file)

    sub.add_parser("check", help="integrity and search-index consistency of the database")

    p = sub.add_parser("opml", help="feeds in OPML: export [PATH], or import PATH")
    p.add_argument("action", choices=["export", "import"])
    p.add_argument("path", nargs="?", metavar="PATH")

    p = sub.add_parser("search", help="search the archive")
    p.add_argument("query", nargs="+")
    p.add_argument("--limit", type=count(1, 100), default=10, help="results per page (1-100)")
    p.add_argument("--page", type=count(0, 10**6), default=0, help="page number, from 0")
    p.add_argument("--bulletin", type=int, default=None, metavar="ID",
                   help="every match within this bulletin, item by item")  # fmt: skip
    p.add_argument("--json", action="store_true")

    add_trend_parser(sub, moment, output_file)
    return parser


_DB_COMMANDS = {
    "ingest": cmd_ingest,
    "poll": cmd_poll,
    "bulletins": cmd_bulletins,
    "show": cmd_show,
    "search": cmd_search,
    "trend": cmd_trend,
    "digest": cmd_digest,
    "send": cmd_send,
    "backup": cmd_backup,
    "check": cmd_check,
    "opml": cmd_opml,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, load settings, dispatch."""
    args = build_parser().parse_args(argv)
    if args.env_file is not None and not Path(args.env_file).exists():
        print(f"--env-file {args.env_file}: no such file", file=sys.stderr)
        return 2
    try:
        settings = load_settings(args.env_file if args.env_file is not None else ".env")
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        return _dispatch(args, settings)
    except BrokenPipeError:  # `… | head`: the reader left; end quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    level = settings.log_level if args.command == "run" else "WARNING"
    setup_logging(level, secrets=[settings.telegram_bot_token, settings.webhook_secret],
                  json_format=settings.log_format == "json")  # fmt: skip
    if args.command == "run":
        return cmd_run(args, settings)
    if args.command == "console":
        return cmd_console(args, settings)
    if args.command == "health":
        return cmd_health(args, settings)
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
