"""Extractive headline picking: deterministic, language-aware, no model.

Each sentence gets a score from four signals, then a redundancy-aware selection (MMR)
picks the headline items:

- centrality: how much a sentence announces what follows it in its section — its summed
  idf-weighted cosine similarity to the later sentences (directed centrality, after
  PacSum), on analysed terms (stemmed, accent-folded, no stop words), computed through
  the sparse sentence × term matrix (never n × n);
- position: early in its paragraph and its section (news leads with the news);
- title overlap: shared terms with the bulletin title and the section heading;
- facts: numbers, names and acts (`bot.text.facts.assess`).

Held back: very short sentences, sentences that only introduce a quotation (ending with
`:`), bare quotations, sentences that lean on the previous one ("Il a ajouté…") and
framing or background ("La semaine a été marquée…", "Pour rappel…": `assess`).

Picking (`pick_for_coverage`, the one rule for a bulletin's headline items and for a
digest's): every topic first — a paragraph of a bulletin's first section, or a whole later
section (an article under its own heading) — with its best fact; then further strong facts,
wherever they stand; framing only for a topic with nothing better, and only to reach
`MIN_ITEMS`. Never two near-duplicates (term-set cosine at or above `REDUNDANT`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from bot.text.analyze import terms
from bot.text.facts import Assessment, assess
from bot.text.similarity import Similarity

SUMMARY_VERSION = 2
MAX_AUTO_ITEMS = 10
MIN_ITEMS = 3
LOOKAHEAD = 4  # a topic's next sentence is the best of its next few still allowed
STRONG_FACT = 0.35  # fact score from which a topic's second sentence is worth a place
LONG_WORDS = 25  # words beyond which a sentence loses score in proportion
FRAMING_FACTOR = 0.35  # scene-setting and background make poor headlines
REDUNDANT = 0.5  # cosine above which two sentences say the same thing
# centrality, position, title overlap, facts
WEIGHTS = (0.60, 0.20, 0.05, 0.25)
PARAGRAPH_DECAY = 1.0  # how fast later paragraphs of a section lose the position signal
QUOTE_FACTOR = 0.5  # a quotation makes a poor headline on its own
DEPENDENT_FACTOR = 0.7  # nor does "Il a ajouté…" or "Pour rappel…"

# Sentences that lean on the previous one make poor headlines.
_DEPENDENT = re.compile(
    r"(?:il|elle|ils|elles|cela|ceci|ce|ça|pour rappel|rappelons|he|she|it|they|this|these|"
    r"він|вона|вони|це)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Sentence:
    """A sentence to score, with where it stands in the bulletin."""

    text: str
    section: int = 0
    paragraph: int = 0
    terms: tuple[str, ...] | None = None  # its analysed terms, when the caller has them


@dataclass(frozen=True)
class Summary:
    """A score for every sentence, and the picked indexes, best first."""

    scores: list[float]
    picks: list[int]


@dataclass(frozen=True)
class Pick:
    """A sentence offered to `pick_for_coverage`."""

    text: str
    language: str
    topic: Hashable  # sentences of one topic tell one story (see `topic_of`)
    group: Hashable  # a bulletin: at most `per_group` picks from one
    score: float
    terms: tuple[str, ...] | None = None
    assessed: Assessment | None = None  # facts and framing, when the caller has them


def topic_of(section: int, paragraph: int) -> tuple[int, int]:
    """A paragraph of the first section (a round-up's summary) is a topic of its own; a later
    section (an article under its own heading) is one topic."""
    return (section, paragraph) if section == 0 else (section, -1)


def _set_cosine(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return float(len(a & b) / (len(a) * len(b)) ** 0.5)


def pick_for_coverage(
    picks: Sequence[Pick], k: int, *, per_group: int | None = None, fill: bool = False
) -> list[int]:
    """Indexes of at most `k` picks, in the order chosen.

    Rounds over the topics: in the first, each topic gives its best fact; in each later one,
    each topic gives its next strong fact (`STRONG_FACT`), so no topic gets a third item
    before every topic with a second strong fact has two. Within a round, topics go by the
    value of what they offer. A short text is then topped up to `MIN_ITEMS` (with `fill`, to
    `k`) by value, facts before framing. Never two near-duplicates, never more than
    `per_group` from one group. Linear in the number of picks."""
    assessed = [p.assessed or assess(p.text, p.language) for p in picks]
    framing = [a.framing for a in assessed]
    bags: dict[int, frozenset[str]] = {}
    chosen: list[int] = []
    picked: set[int] = set()
    taken: Counter[Hashable] = Counter()

    def bag(i: int) -> frozenset[str]:
        if i not in bags:
            p = picks[i]
            bags[i] = frozenset(p.terms if p.terms is not None else terms(p.text, p.language))
        return bags[i]

    overlap: dict[int, tuple[int, float]] = {}  # i → (chosen items seen, highest cosine)

    def repeats(i: int) -> float:
        """How much of what is already chosen it says again (0–1), updated incrementally."""
        seen, highest = overlap.get(i, (0, 0.0))
        for j in chosen[seen:]:
            highest = max(highest, _set_cosine(bag(i), bag(j)))
        overlap[i] = (len(chosen), highest)
        return highest

    def allowed(i: int) -> bool:
        if i in picked or (per_group is not None and taken[picks[i].group] >= per_group):
            return False
        return repeats(i) < REDUNDANT

    def take(i: int) -> None:
        chosen.append(i)
        picked.add(i)
        taken[picks[i].group] += 1

    by_value = sorted(range(len(picks)), key=lambda i: (-picks[i].score, i))
    facts: dict[Hashable, list[int]] = {}
    for i in by_value:
        if not framing[i]:
            facts.setdefault(picks[i].topic, []).append(i)

    def offer(queue: list[int], strong: bool) -> int | None:
        """The topic's best next sentence among its first few still allowed ones."""
        best: int | None = None
        looked = 0
        for i in queue:
            if i in picked or (strong and assessed[i].fact < STRONG_FACT) or not allowed(i):
                continue
            if best is None or rank(i, strong) > rank(best, strong):
                best = i
            looked += 1
            if looked == LOOKAHEAD:
                break
        return best

    def rank(i: int, strong: bool) -> tuple[float, float]:
        """The score; for a headline's second item on (there to tell another fact), the
        strongest fact that repeats least first."""
        if strong and not fill:
            return (assessed[i].fact * (1 - repeats(i)), picks[i].score)
        return (picks[i].score, 0.0)

    def rounds(queues: dict[Hashable, list[int]], strong_only: bool) -> None:
        """Topic by topic, each round every topic's next sentence (from the second round on,
        with `strong_only`, only a strong fact); the best offers first."""
        first_round = True
        while len(chosen) < k:
            strong = strong_only and not first_round
            offers = [i for queue in queues.values() if (i := offer(queue, strong)) is not None]
            if not offers:
                return
            for i in sorted(offers, key=lambda i: (*(-x for x in rank(i, strong)), i)):
                if len(chosen) < k and allowed(i):
                    take(i)
            first_round = False

    # a ranking of k (`fill`) takes every fact topic by topic; headlines only strong ones
    rounds(facts, strong_only=not fill)
    if fill:  # then every other sentence by its score, still topic by topic
        everything: dict[Hashable, list[int]] = {}
        for i in by_value:
            everything.setdefault(picks[i].topic, []).append(i)
        rounds(everything, strong_only=False)
    # a short text: the rest by value, facts before framing, up to MIN_ITEMS (`fill`: k)
    target = k if fill else min(k, MIN_ITEMS)
    for i in sorted(by_value, key=lambda i: framing[i]):
        if len(chosen) < target and allowed(i):
            take(i)
    return chosen


def _centrality(sims: Similarity) -> np.ndarray:
    """Directed centrality (after Zheng & Lapata's PacSum): similarity to the sentences that
    follow in the same section, scaled to a maximum of 1 within each section."""
    forward = sims.forward()
    best = np.zeros(int(sims.groups.max()) + 1 if sims.n else 0)
    np.maximum.at(best, sims.groups, forward)
    scale = best[sims.groups]
    return np.where(scale > 0, forward / np.where(scale > 0, scale, 1.0), 0.0)


def _position(sentences: Sequence[Sentence]) -> list[float]:
    """1 for a section's first sentence, decaying within paragraphs and sections."""
    scores = []
    in_paragraph = 0
    paragraph_in_section = 0
    previous: Sentence | None = None
    for s in sentences:
        if previous is None or s.section != previous.section:
            in_paragraph, paragraph_in_section = 0, 0
        elif s.paragraph != previous.paragraph:
            in_paragraph = 0
            paragraph_in_section += 1
        else:
            in_paragraph += 1
        scores.append(
            0.65 / (1 + in_paragraph) + 0.35 / (1 + paragraph_in_section) ** PARAGRAPH_DECAY
        )
        previous = s
    return scores


def _length_factor(n_words: int, text: str) -> float:
    factor = 1.0
    if n_words < 6:
        factor *= 0.4 + 0.1 * n_words
    elif n_words > LONG_WORDS:  # a headline reads in one breath
        factor *= LONG_WORDS / n_words
    if text.rstrip().endswith(":"):
        factor *= 0.6
    if text[:1] in '«“"„—–-':
        factor *= QUOTE_FACTOR
    if _DEPENDENT.match(text):
        factor *= DEPENDENT_FACTOR
    return factor


def summarize(
    sentences: Sequence[Sentence],
    *,
    language: str,
    title: str = "",
    headings: Sequence[str] = (),
    max_items: int | None = None,
) -> Summary:
    """Score every sentence and pick the headline items (best first).

    With `max_items`, exactly that many when the text has them (a ranking); without, as many
    as the topics and facts call for, up to `MAX_AUTO_ITEMS`."""
    n = len(sentences)
    if n == 0:
        return Summary([], [])
    bags = [Counter(s.terms if s.terms is not None else terms(s.text, language)) for s in sentences]
    centrality = _centrality(Similarity(bags, [s.section for s in sentences])).tolist()
    position = _position(sentences)
    title_terms = set(terms(title, language))
    anchors = [title_terms | set(terms(h, language)) for h in headings] or [title_terms]
    assessed = [assess(s.text, language) for s in sentences]
    scores = []
    for i, s in enumerate(sentences):
        anchor = anchors[s.section] if s.section < len(anchors) else title_terms
        overlap = len(anchor & bags[i].keys()) / len(anchor) if anchor else 0.0
        raw = (
            WEIGHTS[0] * centrality[i]
            + WEIGHTS[1] * position[i]
            + WEIGHTS[2] * min(1.0, 2 * overlap)
            + WEIGHTS[3] * assessed[i].fact
        )
        factor = _length_factor(s.text.count(" ") + 1, s.text)
        if assessed[i].framing:
            factor *= FRAMING_FACTOR
        scores.append(round(raw * factor, 6))
    picks = [
        Pick(
            s.text,
            language,
            topic_of(s.section, s.paragraph),
            0,
            scores[i],
            tuple(bags[i]),
            assessed[i],
        )
        for i, s in enumerate(sentences)
    ]
    if max_items is None:
        chosen = pick_for_coverage(picks, MAX_AUTO_ITEMS)
    else:
        chosen = pick_for_coverage(picks, max(0, min(max_items, n)), fill=True)
    return Summary(scores, chosen)
