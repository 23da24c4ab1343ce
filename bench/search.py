"""Search benchmark: 1,000 mixed queries over a 100,000-bulletin archive.

Builds (once, cached in bench/out/; a stopped build resumes) a database of generated French
bulletins with the ingest benchmark's generator, through the bulk import (`ingest --bulk`:
the real pipeline, prepared on every core, stored a batch a transaction, filed in stories),
and prints its size and build time. Then times, in this run and on the same data:

- Hebdo's search (`bot.search.search`, first page of 5): parsing, analysed FTS5 match,
  re-ranking and snippets;
- the floor: raw FTS5 `MATCH` with the default tokenizer over the same items, best 5 by
  bm25, with the query's words quoted;
- `rank-bm25` (BM25Okapi) over the same items' words, for a sample of the queries (it
  scores every item for every query, so it is slow at this size; it holds every item's
  words in memory, so it is left out above 100,000 bulletins).

Prints p50/p95/p99 latency and queries/s, and the ratio to the floor.

    .venv/bin/python -m bench.search [--bulletins 100000] [--queries 1000] [--bm25-queries 30]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.corpus import ACTORS, PLACES, WEAPONS
from bench.corpus import stream as corpus_stream
from bot.ingest import Limits, Submission
from bot.ingest.bulk import BATCH, ingest_bulk
from bot.ingest.pipeline import Outcome
from bot.running import settle_after_start
from bot.search import QueryError, search
from bot.text.analyze import analyzer_for
from storage import open_db
from storage.migrations import MIGRATIONS

OUT = Path(__file__).resolve().parent / "out"
WORDS = """frappe frappes missile drones accord livraison évacuation raffinerie sanctions record
blessés défense aérienne secouristes production Kharkov Zaporizhzhia Kiev nato Харків Patriot
Shahed HIMARS""".split()


def build(path: Path, count: int) -> None:
    """The archive: `count` generated bulletins through the bulk import (`ingest --bulk`:
    prepared on every core, stored 256 a transaction, filed in their stories), then the
    floor's plain FTS5 index over the same items.

    The build can be stopped and resumed (a million bulletins take hours on two cores): a
    sidecar file records how many bulletins were handed over (after each batch is committed)
    and the seconds spent; a resumed build skips that many of the generator's bulletins (a
    batch committed after its last record comes back as duplicates, and is kept once)."""
    progress = path.with_name(path.name + ".progress.json")
    done, seconds = 0, 0.0
    if progress.exists():
        saved = json.loads(progress.read_text())
        done, seconds = int(saved["done"]), float(saved["seconds"])
        print(f"  resuming at {done}/{count} ({seconds:.0f} s spent)", flush=True)
    db = open_db(path)
    start = time.perf_counter()
    handed = [done]  # bulletins whose batch is committed

    def committed(_source: object, _outcome: Outcome) -> None:
        handed[0] += 1
        n = handed[0]
        if n % BATCH == 0 or n == count:
            spent = seconds + time.perf_counter() - start
            progress.write_text(json.dumps({"done": n, "seconds": spent}))
            if n % (40 * BATCH) == 0:
                rate = (n - done) / (time.perf_counter() - start)
                print(f"  built {n}/{count} in {spent:.0f} s ({rate:.0f} bulletins/s this "
                      "sitting)", flush=True)  # fmt: skip

    docs = itertools.islice(corpus_stream(seed=2025), done, count)
    sources = (Submission("file", name, data=text.encode()) for name, text in docs)
    ingest_bulk(db, sources, Limits(), on_done=committed, batch=BATCH)
    bulk_s = seconds + time.perf_counter() - start
    indexed = time.perf_counter()
    db.execute("CREATE VIRTUAL TABLE raw_fts USING fts5(text, content='items', content_rowid='id')")
    db.execute("INSERT INTO raw_fts(raw_fts) VALUES ('rebuild')")
    db.execute(
        "INSERT OR REPLACE INTO search_meta (key, value) VALUES ('analyzer', ?)",
        [analyzer_for().fingerprint],
    )
    db.close()
    BuildInfo(count, bulk_s, time.perf_counter() - indexed).save(path)
    progress.unlink()


@dataclass(frozen=True)
class BuildInfo:
    """How an archive was built: the bulk import's time (over every sitting) and the
    floor's index's, printed by the benchmarks that use it."""

    bulletins: int
    bulk_seconds: float
    floor_index_seconds: float

    def save(self, path: Path) -> None:
        path.with_name(path.name + ".build.json").write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, path: Path) -> BuildInfo | None:
        info = path.with_name(path.name + ".build.json")
        return cls(**json.loads(info.read_text())) if info.exists() else None

    def line(self) -> str:
        return (f"built with ingest --bulk in {self.bulk_seconds:.0f} s "
                f"({self.bulletins / self.bulk_seconds:.0f} bulletins/s, {os.cpu_count()} cores), "
                f"the floor's plain index in {self.floor_index_seconds:.0f} s")  # fmt: skip


def archive(count: int) -> Path:
    """The benchmark archive of `count` bulletins for this schema and analyzer: built once
    (resumed where a stopped build left off), then reused from bench/out/."""
    OUT.mkdir(exist_ok=True)
    schema = f"v{len(MIGRATIONS)}{MIGRATIONS[-1].__name__.split('_', 2)[-1][:8]}"
    stamp = f"{schema}-{analyzer_for().fingerprint.replace(':', '-')}-bulk"
    path = OUT / f"search-{count}-{stamp}.db"
    if not path.exists():
        print(f"building {path.name} …", flush=True)
        partial = path.with_suffix(".partial")
        build(partial, count)
        for suffix in ("", ".build.json"):
            Path(str(partial) + suffix).rename(str(path) + suffix)
    return path


def describe(path: Path) -> str:
    """The archive's size on disk and how it was built."""
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file()
               and not p.name.endswith(".json"))  # fmt: skip
    info = BuildInfo.load(path)
    return f"{size / 1e9:.2f} GB on disk; " + (info.line() if info else "build time not recorded")


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
    print(f"{args.bulletins} bulletins, {items} items, {describe(path)}")
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

    if args.bm25_queries and args.bulletins > 100_000:
        print("\n  rank-bm25 left out: it would hold every item's words in memory")
    elif args.bm25_queries:
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
