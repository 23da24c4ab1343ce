"""Command line: `trend WORDS` — a topic week by week, as text, JSON or a PNG chart."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from bot.cli_archive import query_or_usage
from bot.config import LANGUAGES, Settings
from bot.delivery.pacing import plain
from bot.text.analyze import analyzer_for
from bot.trend import caption, trend

USAGE = "Example: python -m bot trend drones, missiles, Patriot --weeks 26 --png trend.png"


def add_parser(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
    moment: Callable[[str], datetime],
    output_file: Callable[[str], Path],
) -> None:
    """The `trend` sub-command's arguments (`moment` reads `--now`, `output_file` a file to
    write)."""
    p = sub.add_parser("trend", help="a topic week by week (up to 3, separated by commas)")
    p.add_argument("words", nargs="+", metavar="WORDS")
    p.add_argument("--weeks", type=int, default=26,
                   help="weeks up to this one (0: the whole archive; default 26)")  # fmt: skip
    p.add_argument("--items", action="store_true",
                   help="count sentences, not bulletins (text and picture)")  # fmt: skip
    p.add_argument("--png", type=output_file, default=None, metavar="FILE",
                   help="draw the chart there")  # fmt: skip
    p.add_argument("--lang", choices=LANGUAGES, default=None,
                   help="labels' language (default: DEFAULT_LANGUAGE)")  # fmt: skip
    p.add_argument("--now", type=moment, default=None, metavar="ISO",
                   help="count up to the week of this moment (default: the clock)")  # fmt: skip
    p.add_argument("--json", action="store_true")


def cmd_trend(args: argparse.Namespace, settings: Settings, db: Database) -> int:
    """Count each topic per week; print it in words (or JSON); draw it with `--png`."""
    text = " ".join(args.words)
    if args.weeks < 0:
        print(f"Usage: --weeks is 0 (all) or more. {USAGE}", file=sys.stderr)
        return 2
    found = query_or_usage(lambda: trend(
        db, text, analyzer_for(settings.variants_file), weeks=args.weeks,
        now=args.now or datetime.now(UTC), tz=settings.tz,
    ), "trend", USAGE)  # fmt: skip
    if found is None:
        return 2
    mode = "i" if args.items else "b"
    language = args.lang or settings.default_language
    if args.png is not None:
        if found.empty(mode):
            print("Nothing to draw: no topic is mentioned in these weeks.", file=sys.stderr)
            return 1
        from bot.picture import render  # matplotlib: only when a picture is asked for

        try:
            args.png.write_bytes(render(found, mode, language))
        except OSError as exc:
            print(f"{args.png}: {exc.strerror or exc}", file=sys.stderr)
            return 1
    if args.json:
        print(json.dumps(found.to_json(), ensure_ascii=False, indent=2))
        return 0
    print(plain(caption(found, mode, "all" if args.weeks == 0 else "", language)))
    for n, week in enumerate(found.topics[0].weeks):
        counts = "  ".join(
            f"{'-' if s.weeks[n].value(mode) is None else s.weeks[n].value(mode):>4}"
            for s in found.topics
        )
        print(f"{week.week}  {week.monday.isoformat()}  {counts}")
    return 0
