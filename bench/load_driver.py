"""The load side of bench/latency.py, in a process of its own: the Bot API emulator and
the simulated users, so the bot under test never slows down the clock that times it
(a generator sharing the bot's event loop would send late whenever the bot is busy, and
hide exactly the waits it should measure).

    python -m bench.load_driver PORT MESSAGES USERS RATE   (RATE 0: closed loop)

Prints READY once serving, then, when every message has its reply, one JSON line:
{"latencies": [ms, …], "elapsed": seconds}; keeps serving until a line on its standard
input says the bot has stopped.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time

from bench.search import queries
from devtools.fakeapi import FakeBotApi


async def drive(port: int, messages: int, users: int, rate: float) -> None:
    fake = FakeBotApi()
    await fake.start(port)
    print("READY", flush=True)
    await fake.wait_calls("getUpdates", 1, timeout=300)  # the bot is polling
    texts = queries(messages, seed=11)
    rng = random.Random(3)
    latencies: list[float] = []
    sent: dict[int, list[float]] = {}

    async def send(uid: int, text: str) -> None:
        before = len(fake.messages_to(uid))
        sent.setdefault(uid, []).append(time.perf_counter())
        fake.message(uid, text if rng.random() < 0.8 else f"/search {text}")
        await fake.reply(uid, before, timeout=300)
        latencies.append((time.perf_counter() - sent[uid].pop(0)) * 1000)

    async def closed(uid: int, share: list[str]) -> None:
        for text in share:
            await send(uid, text)

    start = time.perf_counter()
    if rate <= 0:
        await asyncio.gather(*(closed(10_000 + u, texts[u::users]) for u in range(users)))
    else:
        pending = []
        for text in texts:  # Poisson arrivals, whatever the bot's pace
            await asyncio.sleep(rng.expovariate(rate))
            pending.append(asyncio.create_task(send(10_000 + rng.randrange(users), text)))
        await asyncio.gather(*pending)
    print(json.dumps({"latencies": latencies, "elapsed": time.perf_counter() - start}),
          flush=True)  # fmt: skip
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # bot stopped
    await fake.stop()


if __name__ == "__main__":
    port, count, people, pace = sys.argv[1:5]
    asyncio.run(drive(int(port), int(count), int(people), float(pace)))
