"""Known-item search: find an article again from a few words of its gist.

The 100 French articles of ../shared/eval (OrangeSum dev, CC BY-SA 4.0 — Kamal Eddine,
Tixier & Vazirgiannis, EMNLP 2021) are stored as bulletins through the real pipeline. Each
is then looked for, as a reader remembering it would, with the k most distinctive words of
its reference abstract: words of three letters or more that are not stop words, found in
at least one article, rarest in the set first (document frequency over the articles, on
plain lower-cased words: the same words for every system). For k = 1, 2, 3 and 4, prints
hit@1, hit@5 and MRR@5 of:

- Hebdo's search (`bot.search.search`, first page of 5, one result per bulletin);
- the floor: plain FTS5 (default tokenizer) over the whole articles, the same words
  quoted and OR-ed, ranked by FTS5's bm25 — a standard keyword search at its best here.

Then, as queries other than those the ranking was looked at with: for k = 2 and 3, five
draws an article of k words at random among its abstract's 8 rarest (seeded).

Each line also gives the share of articles whose query words all appear, as written, in
the article itself: words of an abstract often do not (31 of the 100 single rarest words
are not in their article), which bounds what any keyword search can find.

Then, on the search benchmark's 100,000-bulletin archive (bench/out/, built once), the
latency of Hebdo's search for 1,000 mixed queries (half of them two or three words) against
the raw FTS5 floor there. Targets: hit@5 at least the floor's and at least 0.9 at every k;
p99 under 20 ms at 100,000 bulletins.

    .venv/bin/python -m bench.known_item [--bulletins 100000] [--queries 1000]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bench.corpus import PLACES
from bench.search import WORDS, archive, percentiles, queries
from bot.ingest import Limits, Submission, ingest
from bot.running import settle_after_start
from bot.search import search
from bot.text.analyze import analyzer_for, is_stopword
from storage import open_db

EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "orangesum_fr_dev.jsonl"
WORD = re.compile(r"[^\W\d_]{3,}")


def articles() -> list[dict[str, str]]:
    return [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines()]


def distinctive(summary: str, df: Counter[str], k: int) -> list[str]:
    """The k rarest words of `summary` that are in some article (ties: first written)."""
    seen: dict[str, int] = {}
    for n, word in enumerate(WORD.findall(summary.lower())):
        if word not in seen and not is_stopword(word) and df[word] > 0:
            seen[word] = n
    return sorted(seen, key=lambda w: (df[w], seen[w]))[:k]


def rank_of(hits: list[Any], ids: dict[int | None, int], n: int) -> int | None:
    """The rank (from 1) of article `n` among the results, or None."""
    order = [ids.get(h.bulletin_id) for h in hits]
    return order.index(n) + 1 if n in order else None


def floor_rank(db: Database, words: list[str], n: int) -> int | None:
    """The rank of article `n` in plain FTS5 over whole articles, the words OR-ed."""
    expression = " OR ".join(f'"{w}"' for w in words)
    rows = db.execute("SELECT rowid FROM floor WHERE floor MATCH ? ORDER BY rank LIMIT 5",
                      [expression]).fetchall()  # fmt: skip
    order = [r[0] for r in rows]
    return order.index(n) + 1 if n in order else None


def scores(ranks: list[int | None]) -> str:
    hit1 = sum(r == 1 for r in ranks) / len(ranks)
    hit5 = sum(r is not None and r <= 5 for r in ranks) / len(ranks)
    mrr = sum(1 / r for r in ranks if r is not None and r <= 5) / len(ranks)
    return f"hit@1 {hit1:.2f}  hit@5 {hit5:.2f}  MRR@5 {mrr:.3f}"


def known_item() -> bool:
    docs = articles()
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(set(WORD.findall(doc["text"].lower())))
    analyzer = analyzer_for()
    met = True
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "known.db")
        ids = {}
        for n, doc in enumerate(docs):
            name = f"2020-{n // 28 + 1:02d}-{n % 28 + 1:02d}-article-{n}.txt"
            outcome = ingest(db, Submission("file", name, data=doc["text"].encode()), Limits())
            ids[outcome.bulletin_id] = n
        db.execute("CREATE VIRTUAL TABLE floor USING fts5(text)")
        db.conn.executemany("INSERT INTO floor (rowid, text) VALUES (?, ?)",
                            [(n, doc["text"]) for n, doc in enumerate(docs)])  # fmt: skip
        print(f"{len(docs)} articles stored as {len(ids)} bulletins")
        for k in (1, 2, 3, 4):
            hebdo: list[int | None] = []
            floor: list[int | None] = []
            for n, doc in enumerate(docs):
                words = distinctive(doc["summary"], df, k)
                hebdo.append(rank_of(search(db, " ".join(words), analyzer, per_page=5).hits,
                                     ids, n))  # fmt: skip
                floor.append(floor_rank(db, words, n))
            held = [
                all(w in set(WORD.findall(doc["text"].lower())) for w in words)
                for doc, words in ((d, distinctive(d["summary"], df, k)) for d in docs)
            ]
            inside = sum(held) / len(docs)
            ours = sum(r is not None and r <= 5 for r in hebdo) / len(hebdo)
            theirs = sum(r is not None and r <= 5 for r in floor) / len(floor)
            ok = ours >= theirs and ours >= 0.9
            met &= ok
            print(f"  {k} word(s)  hebdo: {scores(hebdo)}   floor: {scores(floor)}   "
                  f"hit@5 target {'met' if ok else 'MISS'}   (every word in its article, as "
                  f"written: {inside:.2f})")  # fmt: skip
            if k == 1:  # what any search matching words can reach: a form of the word inside
                formed = sum(
                    bool(set().union(*(f for _, f in analyzer.word_forms(words[0])))
                         & set(analyzer.index_terms(doc["text"], "fr")))
                    for doc, words in ((d, distinctive(d["summary"], df, 1)) for d in docs)
                ) / len(docs)  # fmt: skip
                print(
                    f"    the word in its article in any form the index knows (stems, "
                    f"variants): {formed:.2f} — the most any word-matching search can find"
                )
            if k == 1:  # the same, on the articles whose query word is in them
                mine = [r for r, h in zip(hebdo, held, strict=True) if h]
                theirs_in = [r for r, h in zip(floor, held, strict=True) if h]
                print(f"    of which the {len(mine)} whose word is in the article: "
                      f"hebdo {scores(mine)}   floor {scores(theirs_in)}")  # fmt: skip
        # other queries than the ones above: k words drawn at random among the 8 rarest
        rng = random.Random(7)
        for k in (2, 3):
            pools = [distinctive(doc["summary"], df, 8) for doc in docs]
            drawn = [(n, rng.sample(pool, min(k, len(pool))))
                     for n, pool in enumerate(pools) for _ in range(5)]  # fmt: skip
            ours_r = [rank_of(search(db, " ".join(w), analyzer, per_page=5).hits, ids, n)
                      for n, w in drawn]  # fmt: skip
            floor_r = [floor_rank(db, w, n) for n, w in drawn]
            print(f"  {k} of the 8 rarest, 5 draws an article ({len(drawn)} queries): "
                  f"hebdo {scores(ours_r)}   floor {scores(floor_r)}")  # fmt: skip
        db.close()
    return met


def latency(count: int, n: int) -> bool:
    db = open_db(archive(count))
    analyzer = analyzer_for()
    settle_after_start()  # as the bot does once started
    rng = random.Random(5)
    mixed = queries(n // 2, seed=13)
    multi = [
        " ".join(rng.sample(PLACES + WORDS, rng.choice((2, 3)))) for _ in range(n - len(mixed))
    ]
    qs = mixed + multi
    hebdo_ms, floor_ms = [], []
    for q in qs:
        start = time.perf_counter()
        search(db, q, analyzer, per_page=5)
        hebdo_ms.append((time.perf_counter() - start) * 1000)
        words = re.findall(r"[^\W_]+", re.sub(r"\b(since|until|lang):\S*", "", q))
        start = time.perf_counter()
        db.execute("SELECT rowid FROM raw_fts WHERE raw_fts MATCH ? ORDER BY rank LIMIT 5",
                   [" ".join(f'"{w}"' for w in words)]).fetchall()  # fmt: skip
        floor_ms.append((time.perf_counter() - start) * 1000)
    db.close()
    p99 = sorted(hebdo_ms)[min(len(hebdo_ms) - 1, int(0.99 * len(hebdo_ms)))]
    print(f"\n{count} bulletins, {len(qs)} queries ({len(multi)} of 2-3 names and words)")
    print(f"  hebdo search   {percentiles(hebdo_ms)}")
    print(f"  raw FTS5 floor {percentiles(floor_ms)}")
    ratio = statistics.median(hebdo_ms) / statistics.median(floor_ms)
    print(f"  ratio hebdo/floor p50 {ratio:.2f}x; target p99 < 20 ms: "
          f"{'met' if p99 < 20 else 'MISS'} ({p99:.2f} ms)")  # fmt: skip
    return p99 < 20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bulletins", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args()
    met = known_item()
    if args.bulletins > 0 and args.queries > 0:
        met &= latency(args.bulletins, args.queries)
    else:  # --bulletins 0 or --queries 0: the known-item table alone
        print("\nlatency not measured (--bulletins 0 or --queries 0)")
    print(f"\nall targets {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
