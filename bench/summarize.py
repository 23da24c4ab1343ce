"""Summariser benchmark: speed against sumy (LexRank, TextRank) and LEAD, and ROUGE quality.

Speed: every bulletin in ../shared/data/bulletins plus 30 multi-section French round-ups
built from the OrangeSum articles in ../shared/eval. Each system starts from the raw text
and picks the same number of sentences (Hebdo's own count for that text); prints the
median ms per bulletin and the ratio to sumy LexRank, all measured in this run.

Quality, on ../shared/eval/orangesum_fr_dev.jsonl (OrangeSum, Kamal Eddine et al. 2021,
CC BY-SA 4.0), ROUGE-1/2/L F1 (rouge-score, Unicode words, French Snowball stems). Every
system ranks the text's sentences and is held to the same rules, the usual ones:

- reference length: ranked sentences are taken until the reference's word count is
  reached (the last one may run over), then shown in reading order — LEAD thus keeps its
  long first sentence, as its authors would have it;
- exactly 1 sentence and exactly 3 sentences (in reading order).

Round-ups: 30 texts of 3–5 dev articles each, every article a section under a neutral
heading ("Dépêche 2" — never a line of a reference summary, which would leak it); the
reference is the articles' reference summaries together, the budget their word count. The
ceiling is the best extract a greedy ROUGE oracle finds under the same budget.

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
from bot.summarize import Sentence, summarize
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
    """The first k sentences of the body (titles and headings are not sentences)."""
    body = [b for b in text_blocks(text) if b.kind == "paragraph"]
    return [s for b in body for s in split_sentences(b.text)][:k]


def hebdo(text: str, k: int | None) -> list[str]:
    """Hebdo: parse into sections and sentences, then pick (`None`: as many as it would)."""
    parsed = parse_text(text, "text")
    sentences = [Sentence(i.text, i.section, i.paragraph) for i in parsed.items]
    result = summarize(
        sentences,
        language=parsed.language,
        title=parsed.title,
        headings=[s.heading for s in parsed.sections],
        max_items=k,
    )  # with a number: a ranking of that many (fewer only where the rest repeat)
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


def composed_bulletins(articles: list[dict[str, str]], count: int = 30) -> list[tuple[str, str]]:
    """(text, reference) of French round-ups made of 3–5 real articles, one section each."""
    composed = []
    for b in range(count):
        chosen = [articles[(b * 7 + j * 13) % len(articles)] for j in range(3 + b % 3)]
        parts = [f"Revue de presse. Semaine {b + 1}"]
        for n, article in enumerate(chosen, start=1):
            parts.append(f"Dépêche {n}")
            body = split_sentences(article["text"])
            for start in range(0, len(body), 3):
                parts.append(" ".join(body[start : start + 3]))
        reference = " ".join(article["summary"] for article in chosen)
        composed.append(("\n\n".join(parts), reference))
    return composed


def speed(texts: list[str], repeat: int) -> dict[str, float]:
    print(f"\nSpeed: {len(texts)} bulletins, each system picks Hebdo's own count for the text")
    counts = [len(hebdo(t, None)) for t in texts]
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
    return medians


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


def reading_order(chosen: list[str], text: str) -> list[str]:
    """Sentences as they stand in the text (the usual way to show an extract)."""
    return sorted(chosen, key=lambda sentence: text.find(sentence) % (len(text) + 1))


def to_budget(ranked: list[str], budget: int) -> list[str]:
    """Ranked sentences until `budget` words are reached (the last may run over)."""
    chosen: list[str] = []
    used = 0
    for sentence in ranked:
        if used >= budget:
            break
        chosen.append(sentence)
        used += len(sentence.split())
    return chosen


def oracle(sentences: list[str], reference: str, scorer: Any, budget: int) -> list[str]:
    """Greedy ROUGE oracle: add the sentence that most raises R1+R2 F1, within the budget."""
    chosen: list[str] = []
    best = 0.0
    while sum(len(s.split()) for s in chosen) < budget:
        gains = []
        for sentence in sentences:
            if sentence in chosen:
                continue
            scores = scorer.score(reference, " ".join([*chosen, sentence]))
            gains.append((scores["rouge1"].fmeasure + scores["rouge2"].fmeasure, sentence))
        if not gains:
            break
        value, sentence = max(gains)
        if value <= best:
            break
        best = value
        chosen.append(sentence)
    return chosen


Rule = Callable[[list[str], str, str], list[str]]  # (ranked, text, reference) -> extract

RULES: dict[str, Rule] = {
    "reference length": lambda ranked, _text, ref: to_budget(ranked, len(ref.split())),
    "1 sentence": lambda ranked, _text, _ref: ranked[:1],
    "3 sentences": lambda ranked, _text, _ref: ranked[:3],
}


def evaluate(
    name: str, pairs: list[tuple[str, str]], rules: dict[str, Rule], *, with_oracle: bool = False
) -> dict[str, dict[str, dict[str, float]]]:
    """Mean ROUGE F1 (×100) per rule and system; prints a table with R1 against LEAD."""
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], tokenizer=FrenchTokenizer())
    systems: dict[str, Ranker] = dict(SYSTEMS)
    table: dict[str, dict[str, dict[str, float]]] = {}
    ranked = {name: [system(text, 10_000) for text, _ in pairs] for name, system in systems.items()}
    if with_oracle:
        sentences = [lead(text, 10_000) for text, _ in pairs]
    for rule_name, rule in rules.items():
        rows: dict[str, dict[str, float]] = {}
        names = [*systems, *(["oracle"] if with_oracle and rule_name == "reference length" else [])]
        for sys_name in names:
            totals = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
            for n, (text, reference) in enumerate(pairs):
                if sys_name == "oracle":
                    extract = oracle(sentences[n], reference, scorer, len(reference.split()))
                else:
                    extract = rule(ranked[sys_name][n], text, reference)
                summary = " ".join(reading_order(extract, text))
                scores = scorer.score(reference, summary)
                for key in totals:
                    totals[key] += scores[key].fmeasure
            rows[sys_name] = {k: 100 * v / len(pairs) for k, v in totals.items()}
        table[rule_name] = rows
        print(f"\n{name} — {rule_name} (n = {len(pairs)})")
        for sys_name, r in rows.items():
            delta = r["rouge1"] - rows["lead"]["rouge1"]
            print(f"  {sys_name:14s} R1 {r['rouge1']:5.2f}  R2 {r['rouge2']:5.2f}  "
                  f"RL {r['rougeL']:5.2f}   R1 vs LEAD {delta:+5.2f}")  # fmt: skip
    return table


def targets(single: dict[str, Any], roundups: dict[str, Any], speedup: float) -> None:
    """The issue's targets, each checked against figures of this run."""
    r1 = {rule: {s: v["rouge1"] for s, v in rows.items()} for rule, rows in single.items()}
    up = {s: v["rouge1"] for s, v in roundups["reference length"].items()}

    def over(rule: str, baseline: str) -> float:
        return float(r1[rule]["hebdo"] - r1[rule][baseline])

    checks = [
        ("articles, reference length: hebdo >= LEAD", over("reference length", "lead"), 0.0),
        ("articles, 3 sentences: hebdo >= LEAD", over("3 sentences", "lead"), 0.0),
        ("articles, 1 sentence: hebdo >= LEAD + 3 R1", over("1 sentence", "lead"), 3.0),
        ("round-ups: hebdo >= LEAD + 6 R1", up["hebdo"] - up["lead"], 6.0),
        ("round-ups: hebdo >= sumy LexRank + 5 R1", up["hebdo"] - up["sumy-lexrank"], 5.0),
        ("speed: hebdo >= 10x sumy LexRank (median ratio)", speedup, 10.0),
    ]
    print("\nTargets (this run)")
    for label, value, needed in checks:
        verdict = "met " if value >= needed else "MISS"
        print(f"  {verdict}  {label}: {value:+.2f} (needs {needed:+.1f})")
    print(f"  round-ups: hebdo is {up['oracle'] - up['hebdo']:.2f} R1 below the greedy oracle "
          f"({up['oracle']:.2f})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    articles = eval_articles()
    samples = [
        p.read_text(encoding="utf-8") for p in sorted((SHARED / "data" / "bulletins").iterdir())
    ]
    roundups = composed_bulletins(articles)
    medians = speed(samples + [text for text, _ in roundups], args.repeat)
    sample = samples[0]
    k = len(hebdo(sample, None))
    alone = {
        name: 1000 * min(_timed(SYSTEMS[name], sample, k) for _ in range(args.repeat * 4))
        for name in ("hebdo", "sumy-lexrank")
    }
    print(
        f"  on the French sample alone: hebdo {alone['hebdo']:.2f} ms, sumy-lexrank "
        f"{alone['sumy-lexrank']:.2f} ms, {alone['sumy-lexrank'] / alone['hebdo']:.1f}x"
    )
    pairs = [(a["text"], a["summary"]) for a in articles]
    single = evaluate("OrangeSum dev articles", pairs, RULES)
    at_length = {"reference length": RULES["reference length"]}
    composed = evaluate("Round-ups of 3–5 dev articles", roundups, at_length, with_oracle=True)
    targets(single, composed, medians["sumy-lexrank"] / medians["hebdo"])
    print("\nEval data: OrangeSum (Kamal Eddine, Tixier & Vazirgiannis, EMNLP 2021), CC BY-SA 4.0")


if __name__ == "__main__":
    main()
