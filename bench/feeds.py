"""Many feeds in one poll, some slow or hostile: total time and peak memory.

A news site of `--feeds` feeds, each on its own loopback address (127.0.1.N: a host of
its own, as distinct sites are), runs in a child process. One in ten is slow or hostile:
headers or body dripped a byte every half second, a server that never answers, a gzip bomb
(1 GB decoded), stacked gzip, 410 Gone, 429 with Retry-After, a redirect loop, HTTP 500, an
invalid character among valid entries. The rest are healthy RSS feeds of `--entries`
entries each (bulletin text from bench/corpus.py).

The bot's poll (`poll_feeds`, as the scheduler runs it) reads them all into a fresh
database. Printed: the poll's total time against the slowest single allowed request,
measured in the same run (the header-drip feed polled alone: it runs to the deadline),
peak memory of the polling process, and the share of healthy feeds polled successfully;
then a second poll, where every healthy feed answers 304.

Targets (issue 20): total ≤ 2 × the per-request deadline, peak ≤ 300 MB, 100 % healthy.

    .venv/bin/python -m bench.feeds [--feeds 200] [--entries 3] [--deadline 5]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.corpus import bulletin  # noqa: E402
from devtools.feedsite import FeedSite, Page, bomb, feed, redirect  # noqa: E402

HOSTILE: dict[str, Callable[[], Page]] = {
    "header drip": lambda: feed(_rss(0, 2), drip_headers=0.5),
    "body drip": lambda: feed(_rss(1, 2), drip_body=0.5),
    "never answers": lambda: Page(hang=True),
    "gzip bomb": lambda: bomb(1_000_000_000),
    "stacked gzip": lambda: bomb(200_000_000, layers=2),
    "410 Gone": lambda: Page(status=410, validators=False),
    "429 Retry-After": lambda: Page(status=429, headers={"Retry-After": "3600"}, validators=False),
    "redirect loop": lambda: redirect(302, "/feed"),
    "HTTP 500": lambda: Page(status=500, validators=False),
    "invalid character": lambda: feed(_rss(9, 3).replace("</title>", " &#xD800;</title>", 1)),
}
HEALTHY_ALSO = ("invalid character",)  # hostile in form, but its good entries must be read


def _rss(n: int, entries: int) -> str:
    rng = random.Random(n)
    items = []
    for e in range(entries):
        title, text = bulletin(rng, 1000 + n * 10 + e, target_bytes=1500)
        items.append(f"<item><guid>f{n}-{e}</guid><title>{escape(title)}</title>"
                     f"<pubDate>Fri, 11 Jul 2025 09:00:00 +0200</pubDate>"
                     f"<description>{escape(text)}</description></item>")  # fmt: skip
    return ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>Feed {n}</title>{''.join(items)}</channel></rss>")  # fmt: skip


def plan(feeds: int) -> list[str]:
    """Each feed's kind: 'healthy' or a hostile case, one in ten hostile."""
    kinds = list(HOSTILE)
    return [kinds[(n // 10) % len(kinds)] if n % 10 == 9 else "healthy" for n in range(feeds)]


def serve(hosts: tuple[str, ...], kinds: list[str], entries: int, pipe: Connection) -> None:
    """The site, in the child process: one feed per host at /feed."""
    site = FeedSite(hosts)
    for n, (host, kind) in enumerate(zip(hosts, kinds, strict=True)):
        made = HOSTILE[kind]() if kind != "healthy" else feed(_rss(n, entries))
        site.host_pages[host] = {"/feed": made}
    site.start()
    pipe.send(site.port)
    pipe.recv()  # until the parent is done
    site.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--entries", type=int, default=3)
    parser.add_argument("--deadline", type=float, default=5.0, help="seconds, one request")
    args = parser.parse_args()
    logging.getLogger("bot").setLevel(logging.ERROR)  # each failing feed is printed below
    from bot.ingest import Limits
    from bot.ingest.feeds import poll_feeds
    from storage import open_db
    from storage.feeds import feed_state

    hosts = tuple(f"127.0.1.{n + 1}" for n in range(args.feeds))
    kinds = plan(args.feeds)
    parent, child = multiprocessing.Pipe()
    site = multiprocessing.Process(target=serve, args=(hosts, kinds, args.entries, child))
    site.start()
    port = parent.recv()
    urls = tuple(f"http://{h}:{port}/feed" for h in hosts)
    limits = Limits()
    options = {"poll_minutes": 15, "timeout": args.deadline, "spacing": 1.0}
    try:
        with tempfile.TemporaryDirectory() as folder:
            db = open_db(Path(folder) / "feeds.db")
            alone = urls[kinds.index("header drip")]
            start = time.perf_counter()
            poll_feeds(db, (alone,), limits, **options)
            slowest = time.perf_counter() - start
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            start = time.perf_counter()
            report = poll_feeds(db, urls, limits, force=True, **options)
            total = time.perf_counter() - start
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            states = {u: feed_state(db, u) for u in urls}
            start = time.perf_counter()
            again = poll_feeds(db, urls, limits, force=True, **options)
            second = time.perf_counter() - start
            healthy = [u for u, k in zip(urls, kinds, strict=True)
                       if k == "healthy" or k in HEALTHY_ALSO]  # fmt: skip
            ok = sum(1 for u in healthy if states[u].failures == 0 and states[u].last_ok_at)
            ok_again = sum(1 for u in healthy if feed_state(db, u).failures == 0)
            db.close()
    finally:
        parent.send("done")
        site.join(30)
    print(f"{args.feeds} feeds on {args.feeds} hosts, {kinds.count('healthy')} healthy, "
          f"{args.entries} entries each; per-request deadline {args.deadline:g} s")  # fmt: skip
    print(f"slowest single allowed request (header drip, alone): {slowest:6.2f} s")
    print(f"first poll:  {total:6.2f} s = {total / slowest:4.2f} × the slowest request "
          f"(target ≤ 2 × the deadline: {total / args.deadline:4.2f}×)")  # fmt: skip
    print(f"             {report.summary()}")
    print(f"second poll: {second:6.2f} s (healthy feeds answer 304); {again.summary()}")
    print(f"peak memory: {peak:6.0f} MB (before the poll {before:.0f} MB; target 300 MB)")
    share = f"{ok}/{len(healthy)} ({100 * ok / len(healthy):.0f} %)"
    print(f"healthy feeds polled successfully: {share}, {ok_again} on the second poll")
    for kind in HOSTILE:
        url = urls[kinds.index(kind)] if kind in kinds else None
        if url:
            print(f"  {kind:18s} {states[url].last_error or 'ok'}")


if __name__ == "__main__":
    main()
