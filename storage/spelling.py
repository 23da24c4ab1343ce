"""The vocabulary's one-letter deletions, to find the indexed terms one edit from a word.

`term_deletes` holds, for every indexed term of 3 to `MAX_LETTERS` letters (no digits) that
at least `MIN_ITEMS` items hold, the term itself and each string made by deleting one of
its letters (`kharkiv` → `kharkiv`, `harkiv`, `karkiv`, …). A word and a term are at most
one edit apart (a letter dropped, added, changed, or two neighbours swapped) only if one
of the word's own deletions meets one of the term's: a handful of exact index look-ups,
whatever the vocabulary's size (the symmetric-delete method). Rows are added as terms
reach `MIN_ITEMS` items, and cleared with the index on a rebuild.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlite_utils import Database

_CHUNK = 5000  # bound parameters per statement
MAX_LETTERS = 30  # longer "words" are no one's slip of the finger


def deletions(term: str) -> set[str]:
    """`term` and every string one deleted letter away from it."""
    return {term} | {term[:i] + term[i + 1 :] for i in range(len(term))}


def correctable(term: str) -> bool:
    """Whether a term takes part in corrections: letters only, 3 to `MAX_LETTERS` of them."""
    return 3 <= len(term) <= MAX_LETTERS and term.isalpha()


MIN_ITEMS = 2  # a term becomes a correction once this many items hold it


def known_docs(db: Database, terms: Iterable[str]) -> dict[str, int]:
    """How many items already hold each of these terms (absent: not in the vocabulary)."""
    wanted = sorted(set(terms))
    known: dict[str, int] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        known.update((r[0], int(r[1])) for r in db.execute(
            f"SELECT term, docs FROM search_terms WHERE term IN ({marks})", chunk
        ))  # fmt: skip
    return known


def now_frequent(db: Database, added: Counter[str]) -> list[str]:
    """The terms that these new items make held by `MIN_ITEMS` items for the first time:
    only they become corrections (a word seen once — a one-off, or a file of junk words —
    is nobody's intended spelling, and would swell the table)."""
    before = known_docs(db, added)
    return [t for t, n in added.items() if before.get(t, 0) < MIN_ITEMS <= before.get(t, 0) + n]


def add_deletions(db: Database, terms: Iterable[str]) -> None:
    """Record the deletions of these (new) terms."""
    db.conn.executemany(
        "INSERT OR IGNORE INTO term_deletes (key, term) VALUES (?, ?)",
        ((key, term) for term in terms if correctable(term) for key in deletions(term)),
    )


def clear_deletions(db: Database) -> None:
    """Forget every deletion (the index is being rebuilt)."""
    db.execute("DELETE FROM term_deletes")


def near_terms(db: Database, word: str) -> list[tuple[str, int]]:
    """(term, items holding it) of the indexed terms that share a one-letter deletion with
    `word` — every term one edit away, and a few two edits away — most frequent first."""
    keys = sorted(deletions(word))
    marks = ",".join("?" * len(keys))
    rows = db.execute(
        "SELECT DISTINCT d.term, t.docs FROM term_deletes d JOIN search_terms t ON t.term = d.term "
        f"WHERE d.key IN ({marks}) ORDER BY t.docs DESC, d.term",
        keys,
    ).fetchall()
    return [(str(r[0]), int(r[1])) for r in rows]
