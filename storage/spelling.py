"""The vocabulary's letter trigrams, to find the indexed terms closest to a misspelt word.

`term_grams` holds, for every indexed term of three letters or more (no digits), its
trigrams with `^` and `$` marking the ends (`kharkiv` → `^kh`, `kha`, …, `iv$`). Terms are
added as the index learns them and cleared with it on a rebuild.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlite_utils import Database

_CHUNK = 5000  # bound parameters per statement


def grams(term: str) -> set[str]:
    """The padded trigrams of `term`."""
    padded = f"^{term}$"
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


MAX_LETTERS = 30  # longer "words" are no one's slip of the finger


def correctable(term: str) -> bool:
    """Whether a term takes part in corrections: letters only, 3 to `MAX_LETTERS` of them."""
    return 3 <= len(term) <= MAX_LETTERS and term.isalpha()


def unknown_terms(db: Database, terms: Iterable[str]) -> set[str]:
    """The terms not yet in the vocabulary (`search_terms`)."""
    wanted = sorted(set(terms))
    known: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        known.update(r[0] for r in db.execute(
            f"SELECT term FROM search_terms WHERE term IN ({marks})", chunk
        ))  # fmt: skip
    return set(wanted) - known


def add_grams(db: Database, terms: Iterable[str]) -> None:
    """Record the trigrams of these (new) terms."""
    db.conn.executemany(
        "INSERT OR IGNORE INTO term_grams (gram, term) VALUES (?, ?)",
        ((g, term) for term in terms if correctable(term) for g in grams(term)),
    )


def clear_grams(db: Database) -> None:
    """Forget every trigram (the index is being rebuilt)."""
    db.execute("DELETE FROM term_grams")


def similar_terms(db: Database, term: str, limit: int = 30) -> list[tuple[str, int]]:
    """(term, items holding it) of the indexed terms sharing the most trigrams with `term`,
    of a length within two of it, most shared first, then most frequent."""
    wanted = sorted(grams(term))
    marks = ",".join("?" * len(wanted))
    rows = db.execute(
        "SELECT g.term, t.docs, count(*) AS shared FROM term_grams g "
        "JOIN search_terms t ON t.term = g.term "
        f"WHERE g.gram IN ({marks}) AND length(g.term) BETWEEN ? AND ? "
        "GROUP BY g.term ORDER BY shared DESC, t.docs DESC LIMIT ?",
        [*wanted, len(term) - 2, len(term) + 2, limit],
    ).fetchall()
    return [(str(r[0]), int(r[1])) for r in rows]
