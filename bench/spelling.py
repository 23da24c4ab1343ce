"""Spelling correction cost: misspelt words against the same words spelt right.

On the search benchmark's archive (100,000 generated bulletins, built once in bench/out/),
times Hebdo's search (first page of 5) for single names and words from the generator's
lists, spelt right and with one typing slip (a letter dropped, doubled, swapped with its
neighbour, or a vowel changed), and for two-word queries with one slip. The generated
archive has a small vocabulary, so the run is repeated after adding, inside a transaction
that is rolled back, 300,000 pseudo-words drawn from a letter-trigram model of the French
evaluation articles (../shared/eval): a vocabulary the size of years of real news, with
French spelling statistics, so the deletion index is as crowded as it would be.

Prints p50/p99 for each case, how many slips were corrected, and the ratio of corrected to
plain queries measured in the same run. Target: p99 under 20 ms (the search benchmark's).

    .venv/bin/python -m bench.spelling [--bulletins 100000] [--queries 300] [--vocabulary 300000]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path

from bench.corpus import ACTORS, PLACES, WEAPONS
from bench.search import WORDS, archive, percentiles
from bot.running import settle_after_start
from bot.search import search
from bot.text.analyze import analyzer_for, fold
from storage import open_db
from storage.spelling import add_deletions

EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "orangesum_fr_dev.jsonl"
VOWELS = "aeiouy"


def slip(word: str, rng: random.Random) -> str:
    """One typing slip in `word` (never at its first letter, so it stays recognisable)."""
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i] + word[i:]
    if kind == 2:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    vowels = [j for j in range(1, len(word)) if word[j] in VOWELS]
    j = rng.choice(vowels) if vowels else i
    return word[:j] + rng.choice([v for v in VOWELS if v != word[j]]) + word[j + 1 :]


def words() -> list[str]:
    """Single words of six letters or more from the generator's lists."""
    pool = PLACES + WORDS + [w.split()[-1] for w in WEAPONS] + [a.split()[-1] for a in ACTORS]
    return sorted({w for w in pool if len(w) >= 6 and w.isalpha() and w.isascii()})


def pseudo_words(n: int, seed: int = 3) -> list[str]:
    """`n` distinct letter strings drawn from a trigram model of French news text."""
    text = " ".join(json.loads(line)["text"] for line in EVAL.read_text().splitlines())
    model: dict[str, Counter[str]] = defaultdict(Counter)
    for token in re.findall(r"[^\W\d_]{3,}", fold(text)):
        padded = f"^^{token}$"
        for k in range(len(padded) - 2):
            model[padded[k : k + 2]][padded[k + 2]] += 1
    rng = random.Random(seed)
    choices = {key: (list(c), list(c.values())) for key, c in model.items()}
    out: set[str] = set()
    while len(out) < n:
        state, word = "^^", ""
        while len(word) < 16:
            letters, weights = choices[state]
            nxt = rng.choices(letters, weights)[0]
            if nxt == "$":
                break
            word += nxt
            state = state[1] + nxt
        if len(word) >= 4:
            out.add(word)
    return sorted(out)


def timed(db: object, qs: list[str]) -> tuple[list[float], int]:
    analyzer = analyzer_for()
    ms, corrected = [], 0
    for q in qs:
        start = time.perf_counter()
        results = search(db, q, analyzer, per_page=5)  # type: ignore[arg-type]
        ms.append((time.perf_counter() - start) * 1000)
        corrected += bool(results.corrections)
    return ms, corrected


def report(db: object, plain: list[str], slipped: list[str], label: str) -> None:
    print(f"\n{label}")
    right_ms, _ = timed(db, plain)
    wrong_ms, corrected = timed(db, slipped)
    print(f"  spelt right      {percentiles(right_ms)}")
    print(f"  with a slip      {percentiles(wrong_ms)}  ({corrected}/{len(slipped)} corrected)")
    ratio = statistics.median(wrong_ms) / statistics.median(right_ms)
    p99 = sorted(wrong_ms)[min(len(wrong_ms) - 1, int(0.99 * len(wrong_ms)))]
    print(f"  ratio slip/right: p50 {ratio:.2f}x; target p99 < 20 ms: "
          f"{'met' if p99 < 20 else 'MISS'} ({p99:.2f} ms)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bulletins", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--vocabulary", type=int, default=300_000)
    args = parser.parse_args()
    db = open_db(archive(args.bulletins))
    analyzer_for()
    settle_after_start()  # as the bot does once started
    rng = random.Random(11)
    pool = words()
    plain, slipped = [], []
    for _ in range(args.queries):
        word = rng.choice(pool)
        if rng.random() < 0.3:  # a two-word query with one slip
            other = rng.choice(pool)
            plain.append(f"{word} {other}")
            slipped.append(f"{slip(word, rng)} {other}")
        else:
            plain.append(word)
            slipped.append(slip(word, rng))
    terms = db.execute("SELECT count(*) FROM search_terms").fetchone()[0]
    report(db, plain, slipped, f"{args.bulletins} bulletins, vocabulary {terms} terms")
    extra = pseudo_words(args.vocabulary)
    db.execute("SAVEPOINT stress")
    db.conn.executemany("INSERT OR IGNORE INTO search_terms (term, docs) VALUES (?, 1)",
                        [(w,) for w in extra])  # fmt: skip
    add_deletions(db, extra)
    terms = db.execute("SELECT count(*) FROM search_terms").fetchone()[0]
    report(db, plain, slipped, f"the same with {len(extra)} pseudo-words: {terms} terms")
    db.execute("ROLLBACK TO stress")
    db.execute("RELEASE stress")
    db.close()


if __name__ == "__main__":
    main()
