"""Forgiving search: a query word the index has never seen is read as the closest indexed
term — by edit distance (a letter missing, extra, wrong or two swapped), then by how many
items hold it — so `Harkiv` finds Kharkiv and `Patriott` Patriot.

Candidates come from the vocabulary's trigrams (`storage.spelling`), a few dozen per word,
so a correction costs a couple of index look-ups and no scan of the vocabulary.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from sqlite_utils import Database

from bot.text.analyze import Analyzer, fold
from storage.search import term_docs
from storage.spelling import correctable, similar_terms


def allowed_edits(term: str) -> int:
    """How far a correction may be: none under 4 letters, 1 up to 5, then 2."""
    return 0 if len(term) < 4 else 1 if len(term) <= 5 else 2


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
    """For a query word's analysed forms none of which is indexed: the closest indexed term
    (fewest edits, then most items); None when a form is indexed or nothing is near."""
    if not forms or term_docs(db, forms):
        return None
    best: tuple[int, int, str] | None = None
    for form in sorted(f for f in forms if correctable(f)):
        limit = allowed_edits(form)
        if not limit:
            continue
        for term, docs in similar_terms(db, form):
            edits = distance(form, term, limit)
            if edits <= limit and (best is None or (edits, -docs, term) < best):
                best = (edits, -docs, term)
    return best[2] if best is not None else None


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
