"""Where a query's words are: per bulletin, which items hold which part of the query.

A query is a list of units (a word with its forms, or a phrase). Each unit is matched on
its own (newest items first, `UNIT_POOL` of them), so its words may sit in one sentence,
in one paragraph or anywhere in a bulletin. A bulletin's rank comes first from the units it
holds — rarer ones weigh more (idf) — then from how close they are (one sentence, one
paragraph, the bulletin), then from its best sentence's score. Its passage is the sentence
holding the most of them, and a second one from the same paragraph (or, failing that,
the bulletin) holding what the first lacks.

A unit found in so many items that its list was cut may still be in an older bulletin:
for the bulletins in contention, such a unit is looked for within the bulletin's own
item range (an index seek), so a candidate is never ranked low for a word it does hold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sqlite_utils import Database

from bot.query import Query
from storage.search import bulletin_ranges, item_count, term_docs, unit_matches

UNIT_POOL = 500  # newest items matched per unit
VERIFIED = 60  # bulletins in contention whose missing units are looked for in their range
ITEM, PARAGRAPH, BULLETIN = 0, 1, 2  # how close the units are


@dataclass
class Found:
    """One bulletin's matches: for each unit (by index), the items holding it."""

    bulletin_id: int
    units: dict[int, set[int]] = field(default_factory=dict)
    paragraph: dict[int, int] = field(default_factory=dict)  # item id → paragraph start
    weight: float = 0.0  # the idf of the units held, summed
    level: int = BULLETIN

    def items(self) -> set[int]:
        """Every item holding some unit."""
        return set().union(*self.units.values()) if self.units else set()

    def held_by(self, item: int) -> set[int]:
        """The units `item` holds."""
        return {u for u, items in self.units.items() if item in items}


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
            entry = found.setdefault(bulletin_id, Found(bulletin_id))
            entry.units.setdefault(u, set()).add(item)
            entry.paragraph[item] = paragraph
    for entry in found.values():
        _settle(entry, weights)
    if cut and within is None:
        _complete(db, query, found, cut, weights)
    return found


def _settle(entry: Found, weights: list[float]) -> None:
    """The weight and level of what `entry` holds."""
    held = set(entry.units)
    entry.weight = sum(weights[u] for u in held)
    items = entry.items()
    if any(entry.held_by(i) == held for i in items):
        entry.level = ITEM
        return
    by_paragraph: dict[int, set[int]] = {}
    for item in items:
        by_paragraph.setdefault(entry.paragraph[item], set()).update(entry.held_by(item))
    entry.level = PARAGRAPH if held in by_paragraph.values() else BULLETIN


def _complete(
    db: Database, query: Query, found: dict[int, Found], cut: dict[int, int], weights: list[float]
) -> None:
    """Look for cut units in the range of each bulletin in contention that lacks them."""
    contenders = sorted(found.values(), key=lambda f: (-f.weight, f.level, -f.bulletin_id))
    contenders = [f for f in contenders[:VERIFIED] if any(u not in f.units for u in cut)]
    ranges = bulletin_ranges(db, [f.bulletin_id for f in contenders])
    for entry in contenders:
        if entry.bulletin_id not in ranges:
            continue
        first, last, _ = ranges[entry.bulletin_id]
        for u, oldest in cut.items():
            if u in entry.units or first >= oldest:
                continue  # held already, or the list reached back past this bulletin
            rows = unit_matches(db, query.fts([query.units[u].fts]), limit=UNIT_POOL,
                                within=(first, min(last, oldest - 1)))  # fmt: skip
            for item, _, paragraph in rows:
                entry.units.setdefault(u, set()).add(item)
                entry.paragraph[item] = paragraph
        _settle(entry, weights)


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
