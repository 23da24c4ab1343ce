"""Extractive headline picking: deterministic, language-aware, no model.

Each sentence gets a score from four signals, then a redundancy-aware selection (MMR)
picks the headline items:

- centrality: LexRank-style weighted PageRank over an idf-weighted cosine similarity
  graph of the sentences' analysed terms (stemmed, accent-folded, no stop words);
- position: early in its paragraph and its section (news leads with the news);
- title overlap: shared terms with the bulletin title and the section heading;
- facts: numbers, names and acts (`bot.text.facts.fact_score`).

Held back: very short sentences, sentences that only introduce a quotation (ending with
`:`), bare quotations, sentences that lean on the previous one ("Il a ajouté…") and
framing or background ("La semaine a été marquée…", "Pour rappel…": `is_framing`).

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
from bot.text.facts import fact_score, is_framing

SUMMARY_VERSION = 2
MAX_AUTO_ITEMS = 10
MIN_ITEMS = 3
STRONG_FACT = 0.35  # fact score from which a topic's second sentence is worth a place
FRAMING_FACTOR = 0.35  # scene-setting and background make poor headlines
REDUNDANT = 0.5  # cosine above which two sentences say the same thing
# centrality, position, title overlap, facts
WEIGHTS = (0.30, 0.35, 0.10, 0.25)
PARAGRAPH_DECAY = 0.5  # how fast later paragraphs of a section lose the position signal
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
    framing = [is_framing(p.text, p.language) for p in picks]
    bags: dict[int, frozenset[str]] = {}
    chosen: list[int] = []
    picked: set[int] = set()
    taken: Counter[Hashable] = Counter()

    def bag(i: int) -> frozenset[str]:
        if i not in bags:
            p = picks[i]
            bags[i] = frozenset(p.terms if p.terms is not None else terms(p.text, p.language))
        return bags[i]

    def allowed(i: int) -> bool:
        if i in picked or (per_group is not None and taken[picks[i].group] >= per_group):
            return False
        return all(_set_cosine(bag(i), bag(j)) < REDUNDANT for j in chosen)

    def take(i: int) -> None:
        chosen.append(i)
        picked.add(i)
        taken[picks[i].group] += 1

    by_value = sorted(range(len(picks)), key=lambda i: (-picks[i].score, i))
    queues: dict[Hashable, list[int]] = {}
    for i in by_value:
        if not framing[i]:
            queues.setdefault(picks[i].topic, []).append(i)
    heads = dict.fromkeys(queues, 0)
    first_round = True
    while len(chosen) < k and queues:
        offers: list[int] = []
        for topic, queue in queues.items():
            while heads[topic] < len(queue):
                i = queue[heads[topic]]
                heads[topic] += 1
                strong = first_round or fact_score(picks[i].text, picks[i].language) >= STRONG_FACT
                if strong and allowed(i):
                    offers.append(i)
                    break
        if not offers:
            break
        for i in sorted(offers, key=lambda i: (-picks[i].score, i)):
            if len(chosen) < k and allowed(i):
                take(i)
        first_round = False
    # a short text: the rest by value, facts before framing, up to MIN_ITEMS (`fill`: k)
    target = k if fill else min(k, MIN_ITEMS)
    for i in sorted(by_value, key=lambda i: framing[i]):
        if len(chosen) < target and allowed(i):
            take(i)
    return chosen


def _sparse_terms(
    bags: Sequence[Counter[str]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The idf-weighted, row-normalised sentence × term matrix in coordinate form."""
    n = len(bags)
    vocabulary: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    counts: list[int] = []
    for i, bag in enumerate(bags):
        rows.extend([i] * len(bag))
        cols.extend(vocabulary.setdefault(term, len(vocabulary)) for term in bag)
        counts.extend(bag.values())
    r = np.asarray(rows, dtype=np.int64)
    c = np.asarray(cols, dtype=np.int64)
    v = 1.0 + np.log(np.asarray(counts, dtype=float))
    vocab = max(1, len(vocabulary))
    df = np.bincount(c, minlength=vocab)
    v *= np.maximum(np.log((n + 1) / (df[c] + 0.5)), 0.0)
    norms = np.sqrt(np.bincount(r, weights=v * v, minlength=n))
    v /= np.where(norms > 0, norms, 1.0)[r]
    return r, c, v, vocab


class Similarity:
    """Cosine similarities of idf-weighted term vectors, never materialised as n × n:
    products go through the sentence × term matrix (memory and time linear in its size)."""

    def __init__(self, bags: Sequence[Counter[str]]) -> None:
        self.n = len(bags)
        self.rows, self.cols, self.values, self.vocab = _sparse_terms(bags)
        # a normalised row's similarity to itself (1, or 0 for a sentence with no terms)
        self.diagonal = np.bincount(self.rows, weights=self.values**2, minlength=self.n)

    def times(self, x: np.ndarray) -> np.ndarray:
        """S @ x, where S is the similarity matrix with a zero diagonal."""
        per_term = np.bincount(self.cols, weights=self.values * x[self.rows], minlength=self.vocab)
        full = np.bincount(self.rows, weights=self.values * per_term[self.cols], minlength=self.n)
        return np.asarray(full - self.diagonal * x)

    def dense(self) -> np.ndarray:
        """S itself, for small inputs and tests."""
        return np.stack([self.times(e) for e in np.eye(self.n)]) if self.n else np.zeros((0, 0))


def _centrality(sims: Similarity, damping: float = 0.85) -> np.ndarray:
    """Weighted PageRank over the similarity graph, scaled to a maximum of 1."""
    n = sims.n
    totals = sims.times(np.ones(n))
    linked = totals > 1e-12
    rank = np.full(n, 1.0 / n)
    for _ in range(100):
        # a sentence sharing nothing links to every sentence equally
        spread = rank[~linked].sum() / n
        new = (1 - damping) / n + damping * (
            sims.times(np.where(linked, rank / np.where(linked, totals, 1.0), 0.0)) + spread
        )
        done = np.abs(new - rank).sum() < 1e-6
        rank = new
        if done:
            break
    scaled: np.ndarray = rank / rank.max()
    return scaled


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
    elif n_words > 55:
        factor *= 0.85
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
    centrality = _centrality(Similarity(bags)).tolist()
    position = _position(sentences)
    title_terms = set(terms(title, language))
    anchors = [title_terms | set(terms(h, language)) for h in headings] or [title_terms]
    scores = []
    for i, s in enumerate(sentences):
        anchor = anchors[s.section] if s.section < len(anchors) else title_terms
        overlap = len(anchor & bags[i].keys()) / len(anchor) if anchor else 0.0
        raw = (
            WEIGHTS[0] * centrality[i]
            + WEIGHTS[1] * position[i]
            + WEIGHTS[2] * min(1.0, 2 * overlap)
            + WEIGHTS[3] * fact_score(s.text, language)
        )
        factor = _length_factor(s.text.count(" ") + 1, s.text)
        if is_framing(s.text, language):
            factor *= FRAMING_FACTOR
        scores.append(round(raw * factor, 6))
    picks = [
        Pick(s.text, language, topic_of(s.section, s.paragraph), 0, scores[i], tuple(bags[i]))
        for i, s in enumerate(sentences)
    ]
    if max_items is None:
        chosen = pick_for_coverage(picks, MAX_AUTO_ITEMS)
    else:
        chosen = pick_for_coverage(picks, max(0, min(max_items, n)), fill=True)
    return Summary(scores, chosen)
