"""Stories on a multi-source week: clustering quality against event labels, the week's
digest against random and "first 10 bulletins", and the time to cluster 10,000 bulletins.

The dev set (bench/data/README.md says how it is made and under which licence): the 100
French articles of ../shared/eval/orangesum_fr_dev.jsonl are 100 events; an event is told
by one to four "sources" — the article, its human-written abstract (another wording of
the same news), its second half, its first three sentences — each from an outlet of its
own, published within a day of one another, the events spread over one week. The labels
are the article ids. These are dev figures: the thresholds are not fitted to them.

    .venv/bin/python -m bench.stories [--scale 10000]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
EVAL = ROOT.parent / "shared" / "eval" / "orangesum_fr_dev.jsonl"
WEEK = datetime(2026, 11, 23, 6, tzinfo=UTC)  # a Monday

from bot.stories import Clusters, signature, similarity  # noqa: E402
from bot.text.analyze import analyzer_for  # noqa: E402

_SENTENCE = re.compile(r"(?<=[.!?»])\s*(?=[A-ZÀ-Ö«\"])")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


@dataclass(frozen=True)
class Doc:
    """One source's text of an event."""

    id: int
    event: str
    outlet: str
    published: datetime
    text: str


def dev_set() -> list[Doc]:
    """One document per source, in the order they are published."""
    rng = random.Random(1230)
    docs: list[Doc] = []
    for n, line in enumerate(EVAL.read_text(encoding="utf-8").splitlines()):
        article = json.loads(line)
        parts = sentences(article["text"])
        versions = [article["text"], article["summary"], " ".join(parts[len(parts) // 2 :]),
                    " ".join(parts[:3])][: 1 + n % 4]  # fmt: skip
        day = WEEK + timedelta(hours=rng.uniform(0, 24 * 6))
        for v, text in enumerate(versions):
            if len(text.split()) < 12:
                continue
            when = day + timedelta(hours=rng.uniform(0, 20))
            docs.append(Doc(len(docs) + 1, article["id"], f"outlet{v}.example", when, text))
    docs.sort(key=lambda d: (d.published, d.id))
    return docs


def pairwise(labels: dict[int, str], found: dict[int, int]) -> tuple[float, float, float]:
    """Pairwise precision, recall and F1 of `found` (doc → cluster) against `labels`."""

    def pairs(assign: dict[int, object]) -> set[tuple[int, int]]:
        groups: dict[object, list[int]] = {}
        for doc, group in assign.items():
            groups.setdefault(group, []).append(doc)
        return {(a, b) for g in groups.values() for i, a in enumerate(g) for b in g[i + 1 :]}

    truth, got = pairs(dict(labels)), pairs(dict(found))
    p = len(truth & got) / len(got) if got else 1.0
    r = len(truth & got) / len(truth) if truth else 1.0
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def bcubed(labels: dict[int, str], found: dict[int, int]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1."""
    by_label: dict[str, set[int]] = {}
    by_found: dict[int, set[int]] = {}
    for doc in labels:
        by_label.setdefault(labels[doc], set()).add(doc)
        by_found.setdefault(found[doc], set()).add(doc)
    right = {d: len(by_found[found[d]] & by_label[labels[d]]) for d in labels}
    p = sum(right[d] / len(by_found[found[d]]) for d in labels) / len(labels)
    r = sum(right[d] / len(by_label[labels[d]]) for d in labels) / len(labels)
    return p, r, 2 * p * r / (p + r)


def cluster(docs: list[Doc]) -> tuple[dict[int, int], list[tuple[float, bool]]]:
    """Stories of the dev set; and (overlap, same event) of every pair, for the report."""
    analyzer = analyzer_for()
    held: Counter[str] = Counter()
    for d in docs:
        held.update(set(analyzer.index_terms(d.text, "fr")))
    total = len(docs)
    clusters = Clusters()
    sigs = {}
    for d in docs:
        sig = signature(d.text, "fr", analyzer, lambda ts: {t: held[t] for t in ts}, total)
        sigs[d.id] = sig
        clusters.add(d.id, d.published, sig)
    events = {d.id: d.event for d in docs}
    seen = []
    ids = sorted(sigs)
    for i, a in enumerate(ids):  # the distribution, for the report only (n² on 200 docs)
        for b in ids[i + 1 :]:
            cosine, _ = similarity(sigs[a], sigs[b])
            if cosine > 0.05:
                seen.append((cosine, events[a] == events[b]))
    return clusters.story_of, seen


def histogram(seen: list[tuple[float, bool]]) -> None:
    print("overlap of pairs  same event   different events")
    for low in [x / 10 for x in range(0, 10)]:
        same = sum(1 for c, s in seen if s and low <= c < low + 0.1)
        other = sum(1 for c, s in seen if not s and low <= c < low + 0.1)
        print(f"  {low:.1f}–{low + 0.1:.1f}        {same:6d}      {other:8d}")


def scale(count: int) -> float:
    """Seconds to cluster `count` generated bulletins (bench/corpus.py), one at a time."""
    from bench.corpus import bulletins

    analyzer = analyzer_for()
    made = bulletins(count, target_bytes=1500)
    held: Counter[str] = Counter()
    start = time.perf_counter()
    clusters = Clusters()
    for n, (_, text) in enumerate(made):
        sig = signature(text, "fr", analyzer, lambda ts: {t: held[t] for t in ts}, n + 1)
        held.update(sig.held)
        clusters.add(n, WEEK + timedelta(minutes=n), sig)
    return time.perf_counter() - start


def digest_figures(docs: list[Doc]) -> None:
    """The dev week stored through the real ingestion path (feeds, one outlet each source),
    then its digest of 10 against random, "first 10 bulletins" and the digest without
    stories (coverage picks over every sentence), in the same run."""
    from zoneinfo import ZoneInfo

    from bot.digest import pick_items, week_digest
    from bot.ingest import Limits, Submission, ingest
    from storage import open_db
    from storage.digests import source_items, window_bulletins
    from storage.stories import story_ids

    with tempfile.TemporaryDirectory() as folder:
        db = open_db(Path(folder) / "week.db")
        event_of: dict[int, str] = {}
        for d in docs:
            sub = Submission(f"feed:https://{d.outlet}/rss", f"doc {d.id}", text=d.text,
                             fmt="text", source_ref=str(d.id), published=d.published)  # fmt: skip
            out = ingest(db, sub, Limits())
            if out.bulletin_id is not None and out.status == "added":
                event_of[out.bulletin_id] = d.event
        stories = story_ids(db, list(event_of))
        p, r, f = pairwise({b: e for b, e in event_of.items()}, stories)
        print(f"stored through ingestion: pairwise precision {p:.3f}, recall {r:.3f}, F1 {f:.3f}")
        size = Counter(event_of.values())
        tenth = sorted(size.values(), reverse=True)[9]
        top = {e for e, n in size.items() if n >= tenth}

        def score(bulletins: list[int]) -> tuple[int, int]:
            events = [event_of[b] for b in bulletins]
            return len(set(events)), len({e for e in events if e in top})

        week = f"{WEEK.isocalendar()[0]}-W{WEEK.isocalendar()[1]:02d}"
        digest = week_digest(db, week, "fr", ZoneInfo("Europe/Paris"))
        ours = score([i.bulletin_id for i in digest.items])
        window = window_bulletins(db, "2000-01-01", "2100-01-01")
        plain = score(
            [c.bulletin_id for c in pick_items(source_items(db, [b.id for b in window]), None)]
        )
        first = score([b.id for b in window[:10]])
        rng = random.Random(7)
        draws = [score(rng.sample([b.id for b in window], 10)) for _ in range(200)]
        rand = (sum(a for a, _ in draws) / len(draws), sum(b for _, b in draws) / len(draws))
        db.close()
    print(f"the week's digest of 10 (the most covered: {len(top)} events told by {tenth}+ outlets)")
    print("                               distinct stories   most-covered stories present")
    rows = [("stories (this digest)", ours), ("no stories (coverage picks)", plain),
            ("first 10 bulletins", first), ("random 10 (mean of 200)", rand)]  # fmt: skip
    for name, (distinct, covered) in rows:
        print(f"  {name:28s} {distinct:8.1f} / 10        {covered:6.1f} / 10")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=10_000)
    args = parser.parse_args()
    docs = dev_set()
    sizes = Counter(Counter(d.event for d in docs).values())
    print(f"dev set: {len(docs)} documents, {len({d.event for d in docs})} events, "
          f"sizes {dict(sorted(sizes.items()))}")  # fmt: skip
    found, seen = cluster(docs)
    labels = {d.id: d.event for d in docs}
    p, r, f = pairwise(labels, found)
    print(f"pairwise: precision {p:.3f}, recall {r:.3f}, F1 {f:.3f} (target F1 ≥ 0.9)")
    p, r, f = bcubed(labels, found)
    print(f"B-cubed:  precision {p:.3f}, recall {r:.3f}, F1 {f:.3f}")
    histogram(seen)
    digest_figures(docs)
    if args.scale:
        seconds = scale(args.scale)
        print(f"clustering {args.scale:,} bulletins one at a time: {seconds:.1f} s")


if __name__ == "__main__":
    main()
