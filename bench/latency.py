"""Bot latency: search messages from 50 simulated users, through the fake Bot API.

The real Application long-polls the fake server on 127.0.0.1 and answers over HTTP, with a
database of the sample bulletins plus generated ones (no rate limiter unless said: the
bot's own speed). The fake server and the users run in a process of their own
(`bench.load_driver`), so a busy bot cannot delay the clock that times it. Each line
prints the median and p99 time from an update being queued at the server to the reply
arriving there, and replies/s:

- **open loop** (the latency a reader sees): the 50 users send 1,000 messages as Poisson
  arrivals at `--rate` messages/s overall (50/s: one a second each), whatever the bot's
  pace — how a bot's traffic arrives;
- the same **with the minute tick** running during the load for 10,000 subscribers
  following 20 words each: the tick is called every 10 seconds (six times as often as the
  bot does), and a new bulletin is ingested before each, so each tick matches it against
  the 200,000 followed words and queues an alert for every chat following one of its words
  (a few thousand) — the sender then sends them, paced, during the load;
- **closed loop** (throughput): each user sends its next message only after the reply
  to the last, 50 at once. Its median is, by Little's law, about 50 / replies per second:
  it measures capacity, not what one reader waits;
- closed loop with the rate limiter (Telegram's 30 messages/s).

    .venv/bin/python -m bench.latency [--messages 1000] [--users 50] [--bulletins 2000]
                                      [--rate 50] [--subscribers 10000] [--follows 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import socket
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from telegram.ext import CallbackContext

from bench.corpus import PLACES, WEAPONS, bulletins
from bench.search import WORDS
from bot.app import build_application
from bot.config import Settings
from bot.handlers.follow import normalize
from bot.ingest import Limits, Submission, ingest
from bot.jobs import tick_job
from bot.running import settle_after_start, start_app, stop_app
from storage import open_db
from storage.bulletins import mark_announced, unannounced
from storage.people import add_follow, ensure_chat, set_subscribed
from storage.tx import transaction

TOKEN = "123456:bench-token-abcdefghijklmnop"
NOW = datetime(2030, 1, 7, 10, 0, tzinfo=UTC)


def summary(label: str, latencies: list[float], elapsed: float) -> str:
    latencies = sorted(latencies)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    return (f"  {label:<34} {len(latencies)} replies: median {statistics.median(latencies):7.1f} ms"
            f"  p99 {p99:7.1f} ms  {len(latencies) / elapsed:6.1f} replies/s")  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run(
    db_path: Path, messages: int, users: int, *, rate_limit: bool = False,
    rate: float | None = None, tick_every: float | None = None,
) -> tuple[list[float], float]:  # fmt: skip
    """Send the messages (open loop at `rate`/s, or closed loop) from the load driver's
    process; return its latencies (ms) and elapsed seconds. With `tick_every`, the minute
    tick runs that often in the bot meanwhile."""
    port = free_port()
    driver = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.load_driver", str(port), str(messages), str(users),
        str(rate or 0), stdout=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert driver.stdout is not None
    assert (await driver.stdout.readline()).strip() == b"READY"
    settings = Settings(
        telegram_bot_token=TOKEN,
        database_path=db_path,
        telegram_api_base_url=f"http://127.0.0.1:{port}/bot",
        variants_file=db_path.with_name("none.txt"),
    )
    app = build_application(settings, rate_limit=rate_limit)
    app.bot_data.clock = lambda: NOW  # a Monday: the subscribers' Saturday slot is days away
    await start_app(app, poll_timeout=5)
    settle_after_start()

    async def ticking(stop: asyncio.Event) -> None:
        n = 0
        while not stop.is_set():
            text = f"Alerte {n}\n\nDes drones ont visé {PLACES[n % len(PLACES)]} cette nuit."
            name = f"2030-01-07-alert-{n}.txt"  # news of the day, ingested off the loop
            await app.bot_data.store.write(ingest, Submission("file", name, data=text.encode()),
                                           Limits())  # fmt: skip
            await tick_job(CallbackContext(app))
            n += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), tick_every)

    stop = asyncio.Event()
    ticker = asyncio.create_task(ticking(stop)) if tick_every else None
    result = json.loads(await driver.stdout.readline())
    stop.set()
    if ticker is not None:
        await ticker
    await stop_app(app)
    assert driver.stdin is not None
    driver.stdin.write(b"stopped\n")  # now the emulator may stop too
    await driver.wait()
    return list(result["latencies"]), float(result["elapsed"])


def seed_followers(db_path: Path, subscribers: int, follows: int) -> None:
    """`subscribers` weekly subscribers (Saturday 09:00, so no digest is due on a weekday
    run), each following `follows` words drawn from the archive's names and words."""
    db = open_db(db_path)
    rng = random.Random(17)
    pool = PLACES + WORDS + [w.split()[-1] for w in WEAPONS]
    with transaction(db):
        for n in range(subscribers):
            chat = 1_000_000 + n
            ensure_chat(db, chat, "private", None, language="fr", timezone="Europe/Paris",
                        digest_day=5, digest_time="09:00")  # fmt: skip
            set_subscribed(db, chat, True)
            for term in rng.sample(pool, follows):
                add_follow(db, chat, term, normalize(term))
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--bulletins", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=50.0, help="open-loop messages/s")
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--follows", type=int, default=20)
    parser.add_argument("--tick-every", type=float, default=10.0,
                        help="seconds between ticks (the bot: 60; here more often, to be sure "
                        "the load meets them)")  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "latency.db"
        db = open_db(db_path)
        for name, text in bulletins(args.bulletins, seed=5):
            ingest(db, Submission("file", name, data=text.encode()), Limits())
        for path in sorted(
            (Path(__file__).resolve().parents[2] / "shared/data/bulletins").glob("*.txt")
        ):
            ingest(db, Submission("file", path.name, data=path.read_bytes()), Limits())
        with transaction(db):  # the archive, not news: only the bulletins of the ticks alert
            mark_announced(db, [b for b, _ in unannounced(db)], "2020-01-01T00:00:00+00:00")
        db.close()
        print(f"{args.messages} messages from {args.users} users, {args.bulletins} bulletins")
        lat, took = asyncio.run(run(db_path, args.messages, args.users, rate=args.rate))
        print(summary(f"open loop, {args.rate:g} messages/s", lat, took))
        seed_followers(db_path, args.subscribers, args.follows)
        lat, took = asyncio.run(run(db_path, args.messages, args.users, rate=args.rate,
                                    tick_every=args.tick_every))  # fmt: skip
        print(summary(f"  with the tick, {args.subscribers} x {args.follows} follows", lat, took))
        lat, took = asyncio.run(run(db_path, args.messages, args.users))
        print(summary("closed loop, 50 at once", lat, took))
        lat, took = asyncio.run(run(db_path, args.messages, args.users, rate_limit=True))
        print(summary("closed loop, with the rate limiter", lat, took))


if __name__ == "__main__":
    main()
