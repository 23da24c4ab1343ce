"""Bot latency: 1,000 search messages from 50 simulated users, through the fake Bot API.

The real Application long-polls the fake server on 127.0.0.1 and answers over HTTP, with a
database of the sample bulletins plus generated ones. Each user sends a question, waits
for the answer, then sends the next (50 at once). Prints the median and p99 time from the
update being queued to the reply arriving at the server, and replies/s — without the
rate limiter (the bot's own speed) and with it (Telegram's 30 messages/s).

    .venv/bin/python -m bench.latency [--messages 1000] [--users 50] [--bulletins 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

from bench.corpus import bulletins
from bench.search import queries
from bot.app import build_application, start_app, stop_app
from bot.config import Settings
from bot.ingest import Limits, Submission, ingest
from devtools.fakeapi import FakeBotApi
from storage import open_db

TOKEN = "123456:bench-token-abcdefghijklmnop"


async def run(db_path: Path, messages: int, users: int, rate_limit: bool) -> None:
    fake = FakeBotApi()
    await fake.start()
    settings = Settings(
        telegram_bot_token=TOKEN,
        database_path=db_path,
        telegram_api_base_url=f"{fake.url}/bot",
        variants_file=db_path.with_name("none.txt"),
    )
    app = build_application(settings, rate_limit=rate_limit)
    await start_app(app, poll_timeout=5)
    texts = queries(messages, seed=11)
    rng = random.Random(3)
    latencies: list[float] = []

    async def user(uid: int, share: list[str]) -> None:
        for text in share:
            before = len(fake.messages_to(uid))
            start = time.perf_counter()
            fake.message(uid, text if rng.random() < 0.8 else f"/search {text}")
            await fake.reply(uid, before, timeout=120)
            latencies.append((time.perf_counter() - start) * 1000)

    start = time.perf_counter()
    await asyncio.gather(*(user(10_000 + u, texts[u::users]) for u in range(users)))
    elapsed = time.perf_counter() - start
    await stop_app(app)
    await fake.stop()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    label = "with rate limiter   " if rate_limit else "without rate limiter"
    print(
        f"  {label} {len(latencies)} replies: median {statistics.median(latencies):7.1f} ms"
        f"  p99 {p99:7.1f} ms  {len(latencies) / elapsed:6.1f} replies/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--bulletins", type=int, default=2000)
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
        db.close()
        print(f"{args.messages} messages from {args.users} users, {args.bulletins} bulletins")
        asyncio.run(run(db_path, args.messages, args.users, rate_limit=False))
        asyncio.run(run(db_path, args.messages, args.users, rate_limit=True))


if __name__ == "__main__":
    main()
