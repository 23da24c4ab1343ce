"""The minute tick at 100,000 subscribers: what the bot's writer thread spends every minute.

A database of the sample bulletins and `--subscribers` weekly subscribers, their slots
spread over the week (every day, 06:00 to 22:00, four time zones), then the tick
(`queue_what_is_due`, as the bot runs it every minute) at moments of one week:

- Monday 05:00 (Paris), the first tick: no Paris slot has come, but in Montreal it is
  still Sunday, and that week's slots have all come (most are past the catch-up window);
- Wednesday 12:00, the first tick after the slots of two and a half days have come: it
  cuts and queues their editions (or records them missed, past the catch-up window) — the
  work of the week, done once;
- Wednesday 12:01, and Sunday 23:30 after the rest: every slot that has come is served —
  what every other minute of the week costs.

Prints each tick's CPU time and the outbox rows it added. (Before the tick read only the
slots, at 100,000 subscribers an "all served" tick cost 1.4 to 2.1 s of CPU.)

    .venv/bin/python -m bench.tick [--subscribers 100000]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.delivery.schedule import queue_what_is_due
from bot.ingest import Limits, expand_paths, ingest_paths
from bot.text.analyze import analyzer_for
from storage import open_db
from storage.people import ensure_chat, set_subscribed
from storage.tx import transaction

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "bulletins"
ZONES = ["Europe/Paris", "Europe/Kyiv", "Europe/London", "America/Montreal"]
PARIS = ZoneInfo("Europe/Paris")
MOMENTS = [
    ("Monday 05:00, first tick", datetime(2025, 7, 14, 5, 0, tzinfo=PARIS)),
    ("Wednesday 12:00, first tick", datetime(2025, 7, 16, 12, 0, tzinfo=PARIS)),
    ("Wednesday 12:01, all served", datetime(2025, 7, 16, 12, 1, tzinfo=PARIS)),
    ("Sunday 23:30, first tick", datetime(2025, 7, 20, 23, 30, tzinfo=PARIS)),
    ("Sunday 23:31, all served", datetime(2025, 7, 20, 23, 31, tzinfo=PARIS)),
]


def seed(path: Path, subscribers: int) -> None:
    db = open_db(path)
    ingest_paths(db, list(expand_paths([SAMPLES])), Limits())
    db.execute("UPDATE bulletins SET announced_at = created_at")  # the archive, not news
    rng = random.Random(3)
    with transaction(db):
        for n in range(subscribers):
            chat = 1_000_000 + n
            ensure_chat(db, chat, "private", None, language="fr", timezone=rng.choice(ZONES),
                        digest_day=rng.randrange(7),
                        digest_time=f"{rng.randrange(6, 23):02d}:00")  # fmt: skip
            set_subscribed(db, chat, True)
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tick.db"
        seed(path, args.subscribers)
        db = open_db(path)
        settings, analyzer = Settings(database_path=path), analyzer_for()
        print(f"{args.subscribers} weekly subscribers, the sample bulletins")
        for label, moment in MOMENTS:
            rows = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
            start = time.process_time()
            queue_what_is_due(db, settings, analyzer, moment)
            cpu = time.process_time() - start
            added = db.execute("SELECT count(*) FROM outbox").fetchone()[0] - rows
            print(f"  {label:30s} {1000 * cpu:8.0f} ms of CPU, {added:6d} outbox rows added")
        db.close()


if __name__ == "__main__":
    main()
