"""Where a query's words are: per bulletin, which items hold which part of the query.

A query is a list of units (a word with its forms, or a phrase). Each unit is matched on
its own (newest items first, `UNIT_POOL` of them), so its words may sit in one sentence,
in one paragraph or anywhere in a bulletin. Here each bulletin gets the units it holds,
their weight (idf: rarer ones weigh more) and how close they are (one sentence, one
paragraph, the bulletin); `bot.search` ranks them. A bulletin's passage is the sentence
holding the most of them, and a second one from the same paragraph (or, failing that,
the bulletin) holding what the first lacks.

A unit found in so many items that its list was cut may still be in an older bulletin:
for the bulletins in contention, such a unit is looked for in the bulletin's own items
(their analysed text, read by id range; or, when the query has exclusions or prefixes,
the index within that range), so a candidate is never ranked low for a word it holds.
"""

from __future__ import annotations

import math

from sqlite_utils import Database

from bot.query import Query
from storage.search import (
    analysed_range,
    bulletin_ranges,
    item_count,
    term_docs,
    unit_matches,
)

UNIT_POOL = 300  # newest items matched per unit
VERIFIED = 20  # bulletins in contention whose missing units are looked for in their range
ITEM, PARAGRAPH, BULLETIN = 0, 1, 2  # how close the units are


class Found:
    """One bulletin's matches: for each unit (by index), the items holding it. (A plain
    class with slots: a query may touch a thousand bulletins.)"""

    __slots__ = ("bulletin_id", "holds", "level", "paragraph", "units", "weight")

    def __init__(self, bulletin_id: int) -> None:
        self.bulletin_id = bulletin_id
        self.units: dict[int, set[int]] = {}
        self.paragraph: dict[int, int] = {}  # item id → paragraph start
        self.holds: dict[int, set[int]] = {}  # item id → its units
        self.weight = 0.0  # the idf of the units held, summed
        self.level = BULLETIN

    def add(self, unit: int, item: int, paragraph: int) -> None:
        """Record that `item` (in the paragraph starting at `paragraph`) holds `unit`."""
        self.units.setdefault(unit, set()).add(item)
        self.holds.setdefault(item, set()).add(unit)
        self.paragraph[item] = paragraph

    def items(self) -> set[int]:
        """Every item holding some unit."""
        return set(self.holds)

    def held_by(self, item: int) -> set[int]:
        """The units `item` holds."""
        return self.holds.get(item, set())


def unit_weights(db: Database, query: Query) -> list[float]:
    """Each unit's idf: how rare its commonest reading is among the items."""
    total = max(item_count(db), 1)
    weights = []
    for unit in query.units:
        terms = {t for concept in unit.concepts for alt in concept for t in alt}
        docs = term_docs(db, terms)
        per_concept = [sum(docs.get(t, 0) for alt in c for t in alt[:1]) for c in unit.concepts]
        n = min(per_concept) if per_concept else total
        weights.append(math.log(1 + (total - n + 0.5) / (n + 0.5)))
    return weights


def gather(
    db: Database, query: Query, weights: list[float], *, bulletin: int | None = None
) -> dict[int, Found]:
    """Each bulletin (or only `bulletin`) with the items holding each unit, its weight and
    level; a cut unit list is completed for the bulletins in contention."""
    within = None
    if bulletin is not None:
        ranges = bulletin_ranges(db, [bulletin])
        if bulletin not in ranges:
            return {}
        within = ranges[bulletin][:2]
    found: dict[int, Found] = {}
    cut: dict[int, int] = {}  # unit → the oldest item id its list reached
    for u, unit in enumerate(query.units):
        rows = unit_matches(db, query.fts([unit.fts]), language=query.language,
                            since=query.since, until=query.until, limit=UNIT_POOL,
                            within=within)  # fmt: skip
        if len(rows) == UNIT_POOL:
            cut[u] = rows[-1][0]
        for item, bulletin_id, paragraph in rows:
            found.setdefault(bulletin_id, Found(bulletin_id)).add(u, item, paragraph)
    for entry in found.values():
        _settle(entry, weights)
    if cut and within is None:
        _complete(db, query, found, cut, weights)
    return found


def _settle(entry: Found, weights: list[float]) -> None:
    """The weight and level of what `entry` holds."""
    held = set(entry.units)
    entry.weight = sum(weights[u] for u in held)
    if len(held) == 1 or any(units == held for units in entry.holds.values()):
        entry.level = ITEM
        return
    by_paragraph: dict[int, set[int]] = {}
    for item, units in entry.holds.items():
        by_paragraph.setdefault(entry.paragraph[item], set()).update(units)
    entry.level = PARAGRAPH if held in by_paragraph.values() else BULLETIN


def _complete(
    db: Database, query: Query, found: dict[int, Found], cut: dict[int, int], weights: list[float]
) -> None:
    """Look for cut units in each bulletin in contention that lacks them: in its items'
    analysed text (one read of the bulletin's range), or — when the query excludes words or
    has a prefix, whose rules only the index applies — with the index, within the range."""
    contenders = sorted(found.values(), key=lambda f: (-f.weight, f.level, -f.bulletin_id))
    contenders = [f for f in contenders[:VERIFIED] if any(u not in f.units for u in cut)]
    ranges = bulletin_ranges(db, [f.bulletin_id for f in contenders])
    by_index = bool(query.excluded) or any("*" in query.units[u].fts for u in cut)
    for entry in contenders:
        if entry.bulletin_id not in ranges:
            continue
        first, last, _ = ranges[entry.bulletin_id]
        missing = [u for u, oldest in cut.items() if u not in entry.units and first < oldest]
        if not missing:
            continue  # held already, or the lists reached back past this bulletin
        if by_index:
            for u in missing:
                rows = unit_matches(db, query.fts([query.units[u].fts]), limit=UNIT_POOL,
                                    within=(first, last))  # fmt: skip
                for item, _, paragraph in rows:
                    entry.add(u, item, paragraph)
        else:
            for item, body, head, paragraph in analysed_range(db, first, last):
                tokens = [body.split(), head.split()]
                for u in missing:
                    if all(any(occurrences(t, alt) for t in tokens for alt in concept)
                           for concept in query.units[u].concepts):  # fmt: skip
                        entry.add(u, item, paragraph)
        _settle(entry, weights)


def occurrences(tokens: list[str], phrase: tuple[str, ...]) -> int:
    """How many times `phrase` (one term, or terms next to each other) appears in `tokens`."""
    if len(phrase) == 1:
        return tokens.count(phrase[0])
    n = len(phrase)
    return sum(1 for i in range(len(tokens) - n + 1) if tuple(tokens[i : i + n]) == phrase)


def passage(entry: Found, weights: list[float], item_score: dict[int, float]) -> list[int]:
    """One or two items showing the bulletin's match: the one holding the most (by weight,
    then its own score, then the earliest), and, if it lacks some unit, the item of the
    same paragraph — else of the bulletin — that adds the most of what is missing. The best
    item comes first (shown in reading order)."""

    def value(item: int, wanted: set[int]) -> tuple[float, float, int]:
        held = entry.held_by(item) & wanted
        return (sum(weights[u] for u in held), item_score.get(item, 0.0), -item)

    held = set(entry.units)
    items = sorted(entry.items())
    first = max(items, key=lambda i: value(i, held))
    missing = held - entry.held_by(first)
    if not missing:
        return [first]
    helpers = [i for i in items if entry.held_by(i) & missing]
    same = [i for i in helpers if entry.paragraph[i] == entry.paragraph[first]]
    second = max(same or helpers, key=lambda i: value(i, missing))
    return [first, second]


K1, B = 1.2, 0.75  # Okapi BM25's usual constants, for sentences and bulletins alike


def bulletin_bm25(entry: Found, weights: list[float], length: int, average: float) -> float:
    """Okapi BM25 of the bulletin as one document: each unit's idf, its frequency being the
    number of the bulletin's items holding it, the length its number of items."""
    norm = K1 * (1 - B + B * length / (average or 1.0))
    return sum(
        weights[u] * len(items) * (K1 + 1) / (len(items) + norm) for u, items in entry.units.items()
    )
