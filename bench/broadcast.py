"""Broadcast: a weekly digest to 10,000 subscribers through the fake Bot API.

The emulator runs in its own process (as Telegram would be elsewhere) and answers 429
above its rate limit (a token bucket: bursts of 5 % tolerated). Run 1: limit 30
messages/s, the sender at its default pace (`SEND_RATE`, 30); prints
the achieved rate as a fraction of the limit (target ≥ 0.95) and the 429s it caused
(target 0). Run 2: limit 1,000/s (Telegram's paid broadcast rate), the sender told to go
that fast. Both print the sender's CPU time per message and the process's peak memory.

    .venv/bin/python -m bench.broadcast [--subscribers 10000] [--skip-slow]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from telegram import Bot

from bot.config import Settings
from bot.delivery.schedule import queue_due_digests
from bot.delivery.sender import Sender
from bot.delivery.transport import AiohttpRequest
from bot.ingest import Limits, expand_paths, ingest_paths
from storage import open_db
from storage.people import ensure_chat, set_subscribed
from storage.store import Store

TOKEN = "123456:broadcast-bench-token-abcdefgh"
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "bulletins"
SLOT = datetime(2025, 7, 12, 7, 0, tzinfo=UTC)  # Saturday 09:00 in Paris


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(path: Path, subscribers: int) -> None:
    db = open_db(path)
    ingest_paths(db, list(expand_paths([SAMPLES])), Limits())
    with db.atomic():
        for chat in range(1, subscribers + 1):
            ensure_chat(db, chat, "private", None, language="fr", timezone="Europe/Paris",
                        digest_day=5, digest_time="09:00")  # fmt: skip
            set_subscribed(db, chat, True)
    queue_due_digests(db, SLOT, timedelta(hours=6))
    db.close()


async def broadcast(
    path: Path, url: str, rate: float, concurrency: int
) -> tuple[int, float, float]:
    store = Store(path)
    bot = Bot(TOKEN, base_url=f"{url}/bot", request=AiohttpRequest(concurrency))
    async with bot:
        sender = Sender(store, bot, rate=rate, concurrency=concurrency, now=lambda: SLOT)
        cpu = time.process_time()
        start = time.perf_counter()
        sent = await sender.drain_once()
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
    store.close()
    return sent, elapsed, cpu


def run(subscribers: int, limit: float, rate: float, concurrency: int) -> None:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "devtools.fakeapi", str(port), str(limit)],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "broadcast.db"
            prepare(path, subscribers)
            sent, elapsed, cpu = asyncio.run(broadcast(path, url, rate, concurrency))
            db = open_db(path)
            statuses = dict(
                db.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()
            )
            db.close()
        with urllib.request.urlopen(f"{url}/_stats") as answer:
            stats = json.load(answer)
    finally:
        server.kill()
        server.wait()
    span = (stats["last_at"] or 0) - (stats["first_at"] or 0)
    achieved = (stats["sent"] - 1) / span if span > 0 else float("nan")
    print(
        f"  limit {limit:6.0f}/s, sender at {rate:6.1f}/s: {stats['sent']} delivered to "
        f"{stats['chats']} chats; {elapsed:6.1f} s from the first query to the last answer; "
        f"rate at the server {achieved:7.1f} msg/s = {achieved / limit:.3f} of the limit "
        f"(overall {stats['sent'] / elapsed:.1f} msg/s); 429s: {stats['rejected_429']}; "
        f"outbox {statuses}"
    )
    print(
        f"  sender CPU {1000 * cpu / max(sent, 1):.3f} ms/message; "
        f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--skip-slow", action="store_true", help="only the 1,000/s run")
    parser.add_argument("--rate", type=float, default=None, help="sender pace for the 30/s run")
    args = parser.parse_args()
    print(f"{args.subscribers} subscribers, one digest each")
    if not args.skip_slow:
        run(args.subscribers, limit=30, rate=args.rate or Settings().send_rate, concurrency=32)
    run(args.subscribers, limit=1000, rate=1000, concurrency=64)


if __name__ == "__main__":
    main()
