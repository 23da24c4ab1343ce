"""Extractive headline picking: deterministic, language-aware, no model.

Each sentence gets a score from four signals, then a redundancy-aware selection (MMR)
picks the headline items:

- centrality: LexRank-style weighted PageRank over an idf-weighted cosine similarity
  graph of the sentences' analysed terms (stemmed, accent-folded, no stop words);
- position: early in its paragraph and its section (news leads with the news);
- title overlap: shared terms with the bulletin title and the section heading;
- informative tokens: numbers and capitalised names inside the sentence.

Held back: very short sentences, sentences that only introduce a quotation (ending with
`:`), bare quotations, sentences that lean on the previous one ("Il a ajouté…") or give
background ("Pour rappel…"), and a sentence too similar to one already picked (cosine of
their term vectors at or above `REDUNDANT`: never picked).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.text.analyze import terms

SUMMARY_VERSION = 1
MAX_AUTO_ITEMS = 8
REDUNDANT = 0.5  # cosine above which two sentences say the same thing
# centrality, position, title overlap, informative tokens
WEIGHTS = (0.30, 0.35, 0.10, 0.25)
PARAGRAPH_DECAY = 0.5  # how fast later paragraphs of a section lose the position signal
QUOTE_FACTOR = 0.5  # a quotation makes a poor headline on its own
DEPENDENT_FACTOR = 0.7  # nor does "Il a ajouté…" or "Pour rappel…"
OVER_QUOTA = 0.15  # redundancy added once a section has its share of the picks

_NUMBER = re.compile(r"\d")
_NAME = re.compile(r"(?<=\s)[A-ZÀ-ÖØ-ÞА-ЯЄІЇҐ]")  # a capital starting a word, not the first
# Sentences that lean on the previous one or give background make poor headlines.
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


def auto_count(n_sentences: int) -> int:
    """About 3 items for a short article, 5–8 for a weekly round-up."""
    if n_sentences <= 12:
        return min(n_sentences, 3)
    return min(MAX_AUTO_ITEMS, max(4, round(n_sentences / 3)))


def similarity_matrix(bags: Sequence[Counter[str]]) -> np.ndarray:
    """Cosine similarities of idf-weighted term vectors (zero diagonal)."""
    n = len(bags)
    vocabulary: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    counts: list[int] = []
    for i, bag in enumerate(bags):
        rows.extend([i] * len(bag))
        cols.extend(vocabulary.setdefault(term, len(vocabulary)) for term in bag)
        counts.extend(bag.values())
    matrix = np.zeros((n, max(1, len(vocabulary))))
    matrix[rows, cols] = 1.0 + np.log(np.asarray(counts, dtype=float))
    df = np.count_nonzero(matrix, axis=0)
    matrix *= np.maximum(np.log((n + 1) / (df + 0.5)), 0.0)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix /= np.where(norms > 0, norms, 1.0)
    sims = matrix @ matrix.T
    np.fill_diagonal(sims, 0.0)
    return sims


def _centrality(sims: np.ndarray, damping: float = 0.85) -> np.ndarray:
    """Weighted PageRank over the similarity graph, scaled to a maximum of 1."""
    n = sims.shape[0]
    totals = sims.sum(axis=1, keepdims=True)
    # a sentence sharing nothing links to every sentence equally
    transition = np.where(totals > 0, sims / np.where(totals > 0, totals, 1.0), 1.0 / n)
    rank = np.full(n, 1.0 / n)
    for _ in range(100):
        new = (1 - damping) / n + damping * (rank @ transition)
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


def _informative(text: str) -> float:
    """Numbers and capitalised names (not the sentence's first word) carry news."""
    number = 0.5 if _NUMBER.search(text) else 0.0
    return min(1.0, number + 0.2 * len(_NAME.findall(text)))


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
    """Score every sentence and pick the headline items (best first)."""
    n = len(sentences)
    if n == 0:
        return Summary([], [])
    bags = [Counter(s.terms if s.terms is not None else terms(s.text, language)) for s in sentences]
    sims = similarity_matrix(bags)
    centrality = _centrality(sims).tolist()
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
            + WEIGHTS[3] * _informative(s.text)
        )
        scores.append(round(raw * _length_factor(s.text.count(" ") + 1, s.text), 6))
    k = auto_count(n) if max_items is None else max(0, min(max_items, n))
    return Summary(scores, select(scores, sims, sentences, k))


def select(
    scores: Sequence[float],
    sims: np.ndarray,
    sentences: Sequence[Sentence],
    k: int,
    *,
    trade_off: float = 0.75,
) -> list[int]:
    """Maximal marginal relevance; never two near-duplicates; each section represented and
    held back once it has its share of the picks (by its number of sentences)."""
    n = len(scores)
    score = np.asarray(scores, dtype=float)
    redundancy = np.zeros(n)  # highest similarity to a picked sentence
    penalty = np.zeros(n)  # for sections that already have their share
    available = np.ones(n, dtype=bool)
    section_of = np.array([s.section for s in sentences])
    sections = sorted(set(section_of.tolist()))
    quota = {sec: math.ceil(k * int((section_of == sec).sum()) / n) for sec in sections}
    taken: Counter[int] = Counter()
    picks: list[int] = []

    def take(i: int) -> None:
        picks.append(i)
        available[i] = False
        np.maximum(redundancy, sims[i], out=redundancy)
        section = int(section_of[i])
        taken[section] += 1
        if taken[section] == quota[section]:
            penalty[section_of == section] = OVER_QUOTA

    if 1 < len(sections) <= k:
        for section in sections:
            members = np.flatnonzero(section_of == section)
            best = int(members[np.argmax(score[members])])
            if redundancy[best] < REDUNDANT:
                take(best)
    while len(picks) < k:
        value = trade_off * score - (1 - trade_off) * redundancy - penalty
        value[~available | (redundancy >= REDUNDANT)] = -np.inf
        best = int(np.argmax(value))
        if value[best] == -np.inf:
            break
        take(best)
    return picks
