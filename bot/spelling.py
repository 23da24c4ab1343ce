"""Forgiving search: a query word the index has never seen is read as the indexed term
one edit away (a letter missing, extra, wrong, or two swapped) that most items hold — so
`Harkiv` finds Kharkiv and `Patriott` Patriot.

Candidates come from the vocabulary's one-letter deletions (`storage.spelling`): a handful
of exact index look-ups per word, never a scan of the vocabulary.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from sqlite_utils import Database

from bot.text.analyze import Analyzer, fold
from storage.search import term_docs
from storage.spelling import correctable, near_terms

MIN_LETTERS = 4  # a shorter word is too easily another word: never corrected


def distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (Damerau–Levenshtein without re-edits), or
    `limit + 1` as soon as it must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def correction(db: Database, forms: set[str]) -> str | None:
    """For a query word's analysed forms none of which is indexed: the indexed term one
    edit from one of them that most items hold; None when a form is indexed or none is near."""
    if not forms or term_docs(db, forms):
        return None
    best: tuple[int, str] | None = None
    for form in sorted(f for f in forms if correctable(f) and len(f) >= MIN_LETTERS):
        for term, docs in near_terms(db, form):
            if distance(form, term, 1) <= 1 and (best is None or (-docs, term) < best):
                best = (-docs, term)
    return best[1] if best is not None else None


def surface(typed: str, term: str, texts: Sequence[tuple[str, str]], analyzer: Analyzer) -> str:
    """How the archive writes the indexed `term` a typed word was read as (`frapp` →
    `frappes`): of the words in `texts` (text, language) that the index reads as `term`,
    the one nearest to what was typed, then the most frequent; the term itself if none."""
    seen: Counter[str] = Counter()
    for text, language in texts:
        for found in re.finditer(r"[^\W_]+(?:['’][^\W_]+)?", text):
            if term in analyzer.word_terms(found[0], language):
                seen[found[0]] += 1
    if not seen:
        return term
    wanted = fold(typed)
    return min(seen, key=lambda w: (distance(fold(w), wanted, 99), -seen[w], w))
