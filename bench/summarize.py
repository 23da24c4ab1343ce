"""Summariser benchmark: speed against sumy (LexRank, TextRank) and LEAD, and ROUGE quality.

Speed: every bulletin in ../shared/data/bulletins plus 30 multi-section French bulletins
built from the OrangeSum articles in ../shared/eval (3–5 real articles each, every article
a section under its own heading). Each system starts from the raw text and picks the same
number of sentences (Hebdo's automatic count); prints the median ms per bulletin and the
ratio to sumy LexRank, all measured in this run.

Quality: on ../shared/eval/orangesum_fr_dev.jsonl (OrangeSum, Kamal Eddine et al. 2021,
CC BY-SA 4.0), each system ranks the article's sentences; whole sentences are taken in rank
order up to a word budget equal to the reference's length. ROUGE-1/2/L F1 (rouge-score)
with a Unicode word tokenizer and French Snowball stems.

    .venv/bin/python -m bench.summarize [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import Stemmer
from rouge_score import rouge_scorer
from sumy.nlp.stemmers import Stemmer as SumyStemmer
from sumy.parsers.plaintext import PlaintextParser
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.summarizers.text_rank import TextRankSummarizer
from sumy.utils import get_stop_words

from bot.ingest.markup import text_blocks
from bot.ingest.parse import parse_text
from bot.summarize import Sentence, auto_count, summarize
from bot.text.sentences import split_sentences

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
Ranker = Callable[[str, int], list[str]]  # (text, k) -> sentences, best first


class OurTokenizer:
    """What sumy's parser needs: our sentence splitter and a Unicode word splitter."""

    language = "french"

    def to_sentences(self, paragraph: str) -> list[str]:
        return split_sentences(paragraph)

    def to_words(self, sentence: str) -> list[str]:
        return re.findall(r"[^\W_]+", sentence.lower())


def sumy_ranker(kind: str) -> Ranker:
    """A sumy summariser, returning its sentences in rating order."""
    summarizer: Any = (LexRankSummarizer if kind == "lexrank" else TextRankSummarizer)(
        SumyStemmer("french")
    )
    summarizer.stop_words = get_stop_words("french")
    tokenizer = OurTokenizer()

    def rank(text: str, k: int) -> list[str]:
        document = PlaintextParser(text, tokenizer).document
        order: list[str] = []

        def take(infos: Sequence[Any]) -> Sequence[Any]:
            order.extend(str(i.sentence) for i in infos)
            return infos[:k]

        summarizer(document, take)
        return order[:k]

    return rank


def lead(text: str, k: int) -> list[str]:
    """The first k sentences."""
    return [s for b in text_blocks(text) for s in split_sentences(b.text)][:k]


def hebdo(text: str, k: int) -> list[str]:
    """Hebdo: parse into sections and sentences, then pick."""
    parsed = parse_text(text, "text")
    sentences = [Sentence(i.text, i.section, i.paragraph) for i in parsed.items]
    result = summarize(
        sentences,
        language=parsed.language,
        title=parsed.title,
        headings=[s.heading for s in parsed.sections],
        max_items=k,
    )
    return [sentences[i].text for i in result.picks]


SYSTEMS: dict[str, Ranker] = {
    "hebdo": hebdo,
    "lead": lead,
    "sumy-lexrank": sumy_ranker("lexrank"),
    "sumy-textrank": sumy_ranker("textrank"),
}


def eval_articles() -> list[dict[str, str]]:
    path = SHARED / "eval" / "orangesum_fr_dev.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def composed_bulletins(articles: list[dict[str, str]], count: int = 30) -> list[str]:
    """Multi-section French bulletins made of real articles, each under its own heading."""
    bulletins = []
    for b in range(count):
        chosen = [articles[(b * 7 + j * 13) % len(articles)] for j in range(3 + b % 3)]
        parts = [f"Revue de presse. Semaine {b + 1}"]
        for article in chosen:
            heading = split_sentences(article["summary"])[0].rstrip(".!?…")
            parts.append(heading[:150])
            body = split_sentences(article["text"])
            for start in range(0, len(body), 3):
                parts.append(" ".join(body[start : start + 3]))
        bulletins.append("\n\n".join(parts))
    return bulletins


def speed(texts: list[str], repeat: int) -> None:
    print(f"\nSpeed: {len(texts)} bulletins, each system picks Hebdo's automatic count")
    counts = [auto_count(len(hebdo(t, 10_000))) for t in texts]
    medians = {}
    for name, system in SYSTEMS.items():
        per_bulletin = []
        for text, k in zip(texts, counts, strict=True):
            best = min(_timed(system, text, k) for _ in range(repeat))
            per_bulletin.append(best * 1000)
        medians[name] = statistics.median(per_bulletin)
    base = medians["sumy-lexrank"]
    for name, ms in medians.items():
        print(f"  {name:14s} median {ms:8.3f} ms/bulletin   sumy-lexrank/this = {base / ms:6.1f}x")


def _timed(system: Ranker, text: str, k: int) -> float:
    start = time.perf_counter()
    system(text, k)
    return time.perf_counter() - start


class FrenchTokenizer:
    """rouge-score tokenizer: Unicode words, lower-cased, French Snowball stems."""

    def __init__(self) -> None:
        self.stemmer = Stemmer.Stemmer("french")

    def tokenize(self, text: str) -> list[str]:
        return list(self.stemmer.stemWords(re.findall(r"[^\W_]+", text.lower())))


def budgeted(ranked: list[str], budget: int) -> str:
    """Whole sentences in rank order while they fit in `budget` words (at least one)."""
    chosen: list[str] = []
    used = 0
    for sentence in ranked:
        n = len(sentence.split())
        if used + n <= budget:
            chosen.append(sentence)
            used += n
    return " ".join(chosen or ranked[:1])


def quality(articles: list[dict[str, str]]) -> None:
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], tokenizer=FrenchTokenizer())
    print(f"\nQuality: ROUGE F1 on {len(articles)} OrangeSum articles (word budget = reference)")
    results = {}
    for name, system in SYSTEMS.items():
        totals = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
        for article in articles:
            ranked = system(article["text"], 10_000)
            summary = budgeted(ranked, len(article["summary"].split()))
            scores = scorer.score(article["summary"], summary)
            for key in totals:
                totals[key] += scores[key].fmeasure
        results[name] = {k: 100 * v / len(articles) for k, v in totals.items()}
    for name, r in results.items():
        delta = r["rouge1"] - results["lead"]["rouge1"]
        print(
            f"  {name:14s} R1 {r['rouge1']:5.2f}  R2 {r['rouge2']:5.2f}  RL {r['rougeL']:5.2f}"
            f"   R1 vs LEAD {delta:+5.2f}"
        )
    best_sumy = max(results[n]["rouge1"] for n in ("sumy-lexrank", "sumy-textrank"))
    print(f"  hebdo R1 minus best sumy R1: {results['hebdo']['rouge1'] - best_sumy:+.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    articles = eval_articles()
    samples = [
        p.read_text(encoding="utf-8") for p in sorted((SHARED / "data" / "bulletins").iterdir())
    ]
    speed(samples + composed_bulletins(articles), args.repeat)
    sample = samples[0]
    k = auto_count(len(hebdo(sample, 10_000)))
    alone = {
        name: 1000 * min(_timed(SYSTEMS[name], sample, k) for _ in range(args.repeat * 4))
        for name in ("hebdo", "sumy-lexrank")
    }
    print(
        f"  on the French sample alone: hebdo {alone['hebdo']:.2f} ms, sumy-lexrank "
        f"{alone['sumy-lexrank']:.2f} ms, {alone['sumy-lexrank'] / alone['hebdo']:.1f}x"
    )
    quality(articles)
    print("\nEval data: OrangeSum (Kamal Eddine, Tixier & Vazirgiannis, EMNLP 2021), CC BY-SA 4.0")


if __name__ == "__main__":
    main()
