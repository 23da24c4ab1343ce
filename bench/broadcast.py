"""Broadcast: a weekly digest to 10,000 and 100,000 subscribers through the fake Bot API.

The emulator runs in its own process (as Telegram would be elsewhere) and answers 429
above its rate limit (a token bucket: bursts of 5 % tolerated). Run 1: limit 30
messages/s, the sender at its default pace (`SEND_RATE`, 29.4), to the first size; prints
the achieved rate as a fraction of the limit (target ≥ 0.95) and the 429s it caused
(target 0). Then, for each size: limit 1,000/s (Telegram's paid broadcast rate), the
sender paced 2 % under it as the default is under 30 (980/s, `SEND_CONCURRENCY` 64).
Each run prints the sender's CPU time per message (target ≤ 0.3 ms) and the process's
peak memory; the paid runs end with the sizes side by side.

    .venv/bin/python -m bench.broadcast [--sizes 10000,100000] [--skip-slow]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
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
from bot.ingest import Limits, expand_paths, ingest_paths
from bot.transport import AiohttpRequest
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


def run(subscribers: int, limit: float, rate: float, concurrency: int) -> dict[str, float]:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "devtools.fakeapi", str(port), str(limit)],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "broadcast.db"
            # prepared in a process of its own: the peak memory printed is the sender's
            maker = multiprocessing.get_context("fork").Process(
                target=prepare, args=(path, subscribers)
            )
            maker.start()
            maker.join()
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
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  sender CPU {1000 * cpu / max(sent, 1):.3f} ms/message; peak memory {peak:.0f} MB")
    return {"share": achieved / limit, "429": stats["rejected_429"],
            "cpu_ms": 1000 * cpu / max(sent, 1), "peak_mb": peak, "seconds": elapsed}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000", help="subscribers, comma-separated")
    parser.add_argument("--skip-slow", action="store_true", help="only the 1,000/s runs")
    parser.add_argument("--rate", type=float, default=None, help="sender pace for the 30/s run")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    if not args.skip_slow:
        print(f"{sizes[0]} subscribers, one digest each, at 30/s")
        run(sizes[0], limit=30, rate=args.rate or Settings().send_rate, concurrency=32)
    paid = {}
    for size in sizes:
        print(f"{size} subscribers, one digest each, at the paid 1,000/s")
        paid[size] = run(size, limit=1000, rate=980, concurrency=64)
    print("\nat 1,000/s      " + "".join(f"{n:>14,}" for n in sizes))
    for key, label, form in (
        ("share", "share of limit", "{:.3f}"),
        ("429", "429 answers", "{:.0f}"),
        ("cpu_ms", "CPU ms/message", "{:.3f}"),
        ("peak_mb", "peak MB", "{:.0f}"),
        ("seconds", "seconds", "{:.1f}"),
    ):
        print(f"  {label:14s}" + "".join(f"{form.format(paid[n][key]):>14s}" for n in sizes))


if __name__ == "__main__":
    main()
