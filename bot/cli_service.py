"""Command line: the service — run, console, send, backup, check."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlite_utils import Database

from bot.cli_archive import output_file
from bot.config import Settings
from bot.i18n import counted
from bot.ingest import (
    expand_paths,
    ingest_paths,
    limits_for,
)
from bot.ingest.opml import MAX_OPML_BYTES, OpmlError, export_opml, import_feeds, polled_feeds
from bot.logs import redact
from bot.maintenance import prepare_database
from storage import open_db
from storage.bulletins import newest_published
from storage.db import StorageError, backup, check_writable, problems, single_instance


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
    print(f"{settings.database_path}: {'ok' if not found else counted(len(found), 'problem')}")
    return 1 if found else 0


def cmd_send(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    """Queue what is due now, then send every due outbox row; exit when none is left."""
    if not settings.telegram_bot_token:
        print("TELEGRAM_BOT_TOKEN is not set: nothing can be sent.", file=sys.stderr)
        return 2
    from bot.delivery.worker import send_pending

    done: list[tuple[dict[str, int], tuple[str, str] | None]] = []
    code = _telegram(
        lambda: done.append(asyncio.run(send_pending(settings, rate=args.rate, now=args.now))),
        settings,
    )
    if code == 0:
        counts, held = done[0]
        if held is not None:  # Telegram's limit is per bot: one sender at a time
            print(f"nothing sent: {held[0]} is sending this database's outbox (its lease runs "
                  f"until {held[1]}); it will send what is due")  # fmt: skip
        else:
            print(", ".join(f"{k} {v}" for k, v in counts.items()))
    return code


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot (polling) until interrupted. Without a token it refuses, touching nothing:
    a worker whose token went missing must not quietly become something else."""
    if not settings.telegram_bot_token:
        print("TELEGRAM_BOT_TOKEN is not set; try `python -m bot console` to try Hebdo offline.",
              file=sys.stderr)  # fmt: skip
        return 2
    from bot.running import run_bot

    try:  # a database that cannot be opened or written is one line, before Telegram is asked
        db = open_db(settings.database_path)
        try:
            check_writable(db, settings.database_path)
        finally:
            db.close()
        lock = single_instance(settings.database_path)
    except StorageError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    with lock:
        return _telegram(lambda: run_bot(settings), settings)


def cmd_health(args: argparse.Namespace, settings: Settings) -> int:
    """GET the running bot's /healthz on this machine (a container's health check): print
    the report, exit 0 when healthy, 1 when not or not answering."""
    import json
    import urllib.error
    import urllib.request

    if settings.http_port is None:
        print("HTTP_PORT is not set: the bot serves no /healthz.", file=sys.stderr)
        return 1
    url = f"http://127.0.0.1:{settings.http_port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            body, status = response.read(), response.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read(), exc.code
    except OSError as exc:
        print(f"{url}: no answer ({exc})", file=sys.stderr)
        return 1
    try:
        print(json.dumps(json.loads(body), ensure_ascii=False))
    except ValueError:
        print(f"{url}: HTTP {status}, not a health report", file=sys.stderr)
        return 1
    return 0 if status == 200 else 1


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
        start = prepare_console(own, settings.console_samples, args.now)
    except StorageError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    run_console(own, start)
    return 0


def prepare_console(
    settings: Settings, samples: Path | None, now: datetime | None
) -> datetime | None:
    """Open the console's database, load the sample bulletins (a missing folder is one
    line), and choose the console's clock: `now` if given, else the day after the newest
    bulletin — samples from July 2025 would otherwise be "nothing new" on any later day —
    else the wall clock (None)."""
    db = open_db(settings.database_path)
    try:
        if samples is not None and samples.is_dir():
            report = ingest_paths(db, list(expand_paths([samples])), limits_for(settings))
            print(f"Sample bulletins from {samples}: {report.summary()}", file=sys.stderr)
        elif samples is not None:
            print(f"CONSOLE_SAMPLES={samples}: no such folder; no sample bulletins loaded",
                  file=sys.stderr)  # fmt: skip
        newest = newest_published(db)
        start = now
        if start is None and newest is not None:
            start = datetime.fromisoformat(newest) + timedelta(days=1)
        prepare_database(db, settings, start)
    finally:
        db.close()
    return start


def cmd_opml(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    """Feeds in OPML: `opml export [PATH]` (all polled feeds), `opml import PATH` (added as
    if by an admin; FEED_URLS stays as configured)."""
    if args.action == "export":
        urls = polled_feeds(db, settings.feed_urls)
        document = export_opml(urls)
        if args.path:
            try:
                target = output_file(args.path)  # the check `--png` and `backup` get
            except argparse.ArgumentTypeError as exc:
                print(f"Usage: python -m bot opml export FILE — {exc}", file=sys.stderr)
                return 2
            try:
                target.write_text(document, encoding="utf-8")
            except OSError as exc:
                print(f"{args.path}: {exc.strerror or exc}", file=sys.stderr)
                return 1
            print(f"exported {counted(len(urls), 'feed')} to {args.path}")
        else:
            print(document, end="")
        return 0
    if not args.path:
        print("Usage: python -m bot opml import PATH", file=sys.stderr)
        return 2
    try:
        with open(args.path, "rb") as handle:
            done = import_feeds(db, handle.read(MAX_OPML_BYTES + 1), settings.feed_urls)
    except OSError as exc:
        print(f"{args.path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except OpmlError as exc:
        print(f"{args.path}: {exc}", file=sys.stderr)
        return 1
    for url in done.refused:
        print(f"refused (not an http or https URL): {url}")
    print(f"added {len(done.added)}, already polled {len(done.already)}, "
          f"refused {len(done.refused)}")  # fmt: skip
    return 0
