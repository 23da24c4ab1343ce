"""Sentence similarity for the summariser, linear in the input: cosines of idf-weighted
term vectors computed through the sparse sentence × term matrix, never n × n."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np


def _sparse_terms(
    bags: Sequence[Counter[str]], groups: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The idf-weighted, row-normalised sentence × term matrix in coordinate form, rows in
    order. A term of one group (section) is another column than the same term elsewhere,
    so sentences of two sections never count as similar."""
    n = len(bags)
    vocabulary: dict[tuple[int, str], int] = {}
    rows: list[int] = []
    cols: list[int] = []
    counts: list[int] = []
    for i, (bag, group) in enumerate(zip(bags, groups, strict=True)):
        rows.extend([i] * len(bag))
        cols.extend(vocabulary.setdefault((group, term), len(vocabulary)) for term in bag)
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
    """Cosine similarities of idf-weighted term vectors between sentences of one section,
    never materialised as n × n: products go through the sentence × term matrix, so memory
    and time are linear in its size."""

    def __init__(self, bags: Sequence[Counter[str]], groups: Sequence[int] | None = None) -> None:
        self.n = len(bags)
        self.groups = np.asarray(groups if groups is not None else [0] * self.n, dtype=np.int64)
        self.rows, self.cols, self.values, self.vocab = _sparse_terms(bags, self.groups.tolist())
        # a normalised row's similarity to itself (1, or 0 for a sentence with no terms)
        self.diagonal = np.bincount(self.rows, weights=self.values**2, minlength=self.n)

    def times(self, x: np.ndarray) -> np.ndarray:
        """S @ x, where S is the similarity matrix with a zero diagonal."""
        per_term = np.bincount(self.cols, weights=self.values * x[self.rows], minlength=self.vocab)
        full = np.bincount(self.rows, weights=self.values * per_term[self.cols], minlength=self.n)
        return np.asarray(full - self.diagonal * x)

    def forward(self) -> np.ndarray:
        """For each sentence, its summed similarity to the sentences after it: how much of
        what follows it announces (a news lead announces the rest)."""
        if not len(self.values):
            return np.zeros(self.n)
        order = np.lexsort((self.rows, self.cols))  # by term, then sentence
        cols, values = self.cols[order], self.values[order]
        running = np.cumsum(values)
        first = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])  # each term's first entry
        group_of = np.cumsum(np.r_[True, cols[1:] != cols[:-1]]) - 1
        before = (running - values)[first]  # the cumulative sum before each term's entries
        totals = np.r_[running[first[1:] - 1], running[-1]] - before
        upto = running - before[group_of]  # this term's weights up to this sentence, included
        after = np.empty_like(values)
        after[order] = totals[group_of] - upto
        return np.bincount(self.rows, weights=self.values * after, minlength=self.n)

    def dense(self) -> np.ndarray:
        """S itself, for small inputs and tests."""
        return np.stack([self.times(e) for e in np.eye(self.n)]) if self.n else np.zeros((0, 0))
