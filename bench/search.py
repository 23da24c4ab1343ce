"""Search benchmark: 1,000 mixed queries over a 100,000-bulletin archive.

Builds (once, cached in bench/out/) a database of generated French bulletins with the
ingest benchmark's generator, through the real pipeline (prepared on every core, stored in
order). Then times, in this run and on the same data:

- Hebdo's search (`bot.search.search`, first page of 5): parsing, analysed FTS5 match,
  re-ranking and snippets;
- the floor: raw FTS5 `MATCH` with the default tokenizer over the same items, best 5 by
  bm25, with the query's words quoted;
- `rank-bm25` (BM25Okapi) over the same items' words, for a sample of the queries (it
  scores every item for every query, so it is slow at this size).

Prints p50/p95/p99 latency and queries/s, and the ratio to the floor.

    .venv/bin/python -m bench.search [--bulletins 100000] [--queries 1000] [--bm25-queries 30]
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import re
import statistics
import time
from pathlib import Path

from bench.corpus import ACTORS, PLACES, WEAPONS, bulletins
from bot.ingest import Limits, Submission, prepare
from bot.running import settle_after_start
from bot.search import QueryError, search
from bot.text.analyze import analyzer_for
from storage import open_db
from storage.bulletins import insert_bulletin
from storage.migrations import MIGRATIONS
from storage.models import NewBulletin

OUT = Path(__file__).resolve().parent / "out"
WORDS = """frappe frappes missile drones accord livraison évacuation raffinerie sanctions record
blessés défense aérienne secouristes production Kharkov Zaporizhzhia Kiev nato Харків Patriot
Shahed HIMARS""".split()


def _prepare(item: tuple[str, str]) -> NewBulletin:
    name, text = item
    return prepare(Submission("file", name, data=text.encode()), Limits())


def build(path: Path, count: int) -> None:
    """The archive: `count` generated bulletins through the real pipeline."""
    docs = bulletins(count, seed=2025)
    # Make names unique so every generated bulletin is its own (dates repeat over 600 weeks).
    start = time.perf_counter()
    db = open_db(path)
    with multiprocessing.Pool() as pool:
        for n, bulletin in enumerate(pool.imap(_prepare, docs, chunksize=64), start=1):
            insert_bulletin(db, bulletin)
            if n % 10_000 == 0:
                print(f"  built {n}/{count} in {time.perf_counter() - start:.0f} s", flush=True)
    db.execute("CREATE VIRTUAL TABLE raw_fts USING fts5(text, content='items', content_rowid='id')")
    db.execute("INSERT INTO raw_fts(raw_fts) VALUES ('rebuild')")
    db.execute(
        "INSERT INTO search_meta (key, value) VALUES ('analyzer', ?)", [analyzer_for().fingerprint]
    )
    db.execute("VACUUM")
    db.close()


def archive(count: int) -> Path:
    """The benchmark archive of `count` bulletins for this schema and analyzer: built once,
    then reused from bench/out/."""
    OUT.mkdir(exist_ok=True)
    schema = f"v{len(MIGRATIONS)}{MIGRATIONS[-1].__name__.split('_', 2)[-1][:8]}"
    stamp = f"{schema}-{analyzer_for().fingerprint.replace(':', '-')}"
    path = OUT / f"search-{count}-{stamp}.db"
    if not path.exists():
        print(f"building {path.name} …", flush=True)
        tmp = path.with_suffix(".tmp")
        for leftover in OUT.glob(tmp.name + "*"):
            leftover.unlink()
        build(tmp, count)
        tmp.rename(path)
    return path


def queries(n: int, seed: int = 7) -> list[str]:
    """Mixed queries: names, words, pairs, variants, phrases, prefixes, exclusions, filters."""
    rng = random.Random(seed)
    weapons = [w.split()[-1] for w in WEAPONS]
    people = [a.split()[-1] for a in ACTORS if a[0].isupper()]
    out = []
    for _ in range(n):
        kind = rng.randrange(8)
        a, b = rng.choice(PLACES), rng.choice(WORDS + weapons)
        out.append(
            [
                a,
                b,
                f"{a} {b}",
                f"{rng.choice(people)} {rng.choice(weapons)}",
                f'"{rng.choice(["accord a été signé", "défense aérienne", "nouveau record"])}"',
                f"{b[:4]}* {a}",
                f"{b} -{rng.choice(PLACES).split()[0]}",
                f"{a} since:2021-{rng.randint(1, 12):02d}",
            ][kind]
        )
    return out


def percentiles(ms: list[float]) -> str:
    ms = sorted(ms)

    def pick(q: float) -> float:
        return ms[min(len(ms) - 1, int(q * len(ms)))]

    total = sum(ms) / 1000
    return (
        f"p50 {statistics.median(ms):7.2f} ms  p95 {pick(0.95):7.2f} ms  p99 {pick(0.99):7.2f} ms"
        f"  {len(ms) / total:8.1f} queries/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bulletins", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--bm25-queries", type=int, default=30)
    args = parser.parse_args()
    path = archive(args.bulletins)
    db = open_db(path)
    items = db.execute("SELECT count(*) FROM items").fetchone()[0]
    print(f"{args.bulletins} bulletins, {items} items, {path.stat().st_size / 1e6:.0f} MB")
    analyzer = analyzer_for()
    qs = queries(args.queries)
    settle_after_start()  # as the bot does once started

    hebdo_ms, errors = [], 0
    for q in qs:
        start = time.perf_counter()
        try:
            search(db, q, analyzer, per_page=5)
        except QueryError:
            errors += 1
        hebdo_ms.append((time.perf_counter() - start) * 1000)

    floor_ms = []
    for q in qs:
        words = [w for w in re.findall(r"[^\W_]+", re.sub(r"\b(since|until|lang):\S*", "", q))]
        fts = " ".join(f'"{w}"' for w in words)
        start = time.perf_counter()
        db.execute(
            "SELECT rowid FROM raw_fts WHERE raw_fts MATCH ? ORDER BY rank LIMIT 5", [fts]
        ).fetchall()
        floor_ms.append((time.perf_counter() - start) * 1000)

    print(f"\n{len(qs)} queries ({errors} answered with the usage line)")
    print(f"  hebdo search   {percentiles(hebdo_ms)}")
    print(f"  raw FTS5 floor {percentiles(floor_ms)}")
    print(
        f"  ratio hebdo/floor: p50 {statistics.median(hebdo_ms) / statistics.median(floor_ms):.2f}x"
        f", total time {sum(hebdo_ms) / sum(floor_ms):.2f}x"
    )

    if args.bm25_queries:
        from rank_bm25 import BM25Okapi

        start = time.perf_counter()
        corpus = [
            re.findall(r"[^\W_]+", t.lower()) for (t,) in db.execute("SELECT text FROM items")
        ]
        bm25 = BM25Okapi(corpus)
        built = time.perf_counter() - start
        print(f"\n  rank-bm25 index over {len(corpus)} items built in {built:.0f} s")
        sample = qs[: args.bm25_queries]
        bm25_ms = []
        for q in sample:
            tokens = re.findall(r"[^\W_]+", q.lower())
            start = time.perf_counter()
            bm25.get_top_n(tokens, corpus, n=5)
            bm25_ms.append((time.perf_counter() - start) * 1000)
        sub = hebdo_ms[: len(sample)]
        print(f"  rank-bm25 ({len(sample)} queries) {percentiles(bm25_ms)}")
        print(f"  hebdo, same queries    {percentiles(sub)}")
    db.close()


if __name__ == "__main__":
    main()
