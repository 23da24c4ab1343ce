"""Search: the parsed query (`bot.query`) matched in the index, ranked, with snippets."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from sqlite_utils import Database

from bot.passages import (
    BULLETIN,
    K1,
    B,
    Found,
    bulletin_bm25,
    gather,
    occurrences,
    passage,
    unit_weights,
)
from bot.query import Query, QueryError, parse_query
from bot.spelling import correction, surface
from bot.text.analyze import Analyzer, fold, words
from storage.digests import bulletin_links
from storage.search import (
    HEAD_WEIGHT,
    MAX_CANDIDATES,
    Candidate,
    analysed_items,
    average_items,
    bulletin_ranges,
    expand_prefix,
    item_count,
    item_details,
    match,
    term_docs,
)
from storage.stories import members_of

__all__ = ["HIGHLIGHT_END", "HIGHLIGHT_START", "Hit", "QueryError", "Results", "search"]

Source = tuple[int, str, str]  # a story's report: (bulletin, outlet, link or "")
HIGHLIGHT_START = "\ue000"
HIGHLIGHT_END = "\ue001"
RECENCY_WEIGHT = 0.3  # at most +30 % for an item published today
READER_LANGUAGE_BOOST = 1.5  # a bulletin in the reader's language
DETAILED = 20  # bulletins scored sentence by sentence: the first 4 pages of 5


@dataclass(frozen=True)
class Hit(Candidate):
    """A ranked result: a bulletin's best matching item (and, in `snippet`, the second
    sentence of its passage, if any), its final score, and what else the bulletin holds."""

    score: float
    snippet: str
    passage: tuple[int, ...] = ()  # the items shown
    also: int = 0  # other matching items of the bulletin ("more from this bulletin")
    words: int = 0  # how many of the query's words (units) the bulletin holds
    sources: tuple[tuple[int, str, str], ...] = ()  # (bulletin, outlet, link) of each outlet
    # that told its story, its own first, when other outlets told it too

    @property
    def headline(self) -> bool:
        """Whether the item is one of its bulletin's headline items."""
        return self.headline_rank is not None


@dataclass(frozen=True)
class Results:
    """One page of results: one per bulletin (or, within one bulletin, one per item)."""

    hits: list[Hit]
    page: int
    per_page: int
    total: int  # candidates found (capped)
    corrections: list[tuple[str, str]] = field(default_factory=list)  # (as typed, read as)
    words: int = 0  # the query's words (units)
    best: int = 0  # the most of them one result holds: fewer than `words` is a partial match

    @property
    def has_next(self) -> bool:
        """Whether another page follows."""
        return (self.page + 1) * self.per_page < self.total

    @property
    def partial(self) -> bool:
        """No bulletin holds every word: these results hold `best` of them."""
        return bool(self.hits) and self.best < self.words


def search(
    db: Database,
    text: str,
    analyzer: Analyzer,
    *,
    page: int = 0,
    per_page: int = 5,
    admin: bool = False,
    now: datetime | None = None,
    half_life_days: float = 90.0,
    bulletin: int | None = None,
    reader_language: str | None = None,
) -> Results:
    """Search the archive: one result per bulletin, best first (or, with `bulletin`, every
    matching item of that bulletin); among equals, bulletins in `reader_language` first.
    Raises `QueryError` (usage) or `SearchSyntaxError` (an admin's raw query)."""
    query = read_query(db, text, analyzer, admin=admin)
    now = now or datetime.now(UTC)
    if query.raw is not None:
        found = match(
            db, query.fts(), language=query.language, since=query.since, until=query.until
        )
        ranked: list[Ranked] = [(c, -c.bm25, (c.item_id,), 0, 0) for c in found]
    else:
        weights = unit_weights(db, query)
        entries = gather(db, query, weights, bulletin=bulletin)
        if bulletin is not None:
            ranked = _within(db, query, weights, entries.get(bulletin))
        else:
            ranked = _bulletins(db, query, weights, entries, now, half_life_days,
                                reader_language)  # fmt: skip
    others: dict[int, list[Source]] = {}
    if query.raw is None and bulletin is None:
        ranked, others = by_story(db, ranked)
    chosen = ranked[page * per_page : (page + 1) * per_page]
    details = item_details(db, [i for *_, items, _, _ in chosen for i in items])
    hits = []
    for c, score, items, also, held in chosen:
        snippet = _joined([
            highlight(details[i].text, c.language, query, analyzer, 240 // len(items))
            for i in sorted(items) if i in details
        ])  # fmt: skip
        sources = tuple(others.get(c.bulletin_id, []))
        hits.append(Hit(**asdict(c), score=round(score, 4), snippet=snippet, passage=items,
                        also=also, words=held, sources=sources))  # fmt: skip
    texts = [(h.text, h.language) for h in hits]
    shown = [(typed, surface(typed, term, texts, analyzer)) for typed, term in query.corrections]
    # partial: said on the first page of the results by bulletin (not within one bulletin,
    # whose sentences may each hold only some of the words the bulletin holds together)
    complete = page > 0 or bulletin is not None
    best = len(query.units) if complete else max((h.words for h in hits), default=0)
    return Results(hits, page, per_page, len(ranked), shown, len(query.units), best)


def by_story(db: Database, ranked: list[Ranked]) -> tuple[list[Ranked], dict[int, list[Source]]]:
    """One result per story and outlet: a story's best-ranked bulletin stands for it (its
    snippet is the best source's); the bulletins of other outlets that told it are listed
    under it, its own first, not shown again (an outlet's own follow-ups stay results of
    their own)."""
    members = members_of(db, [c.bulletin_id for c, *_ in ranked])
    kept: list[Ranked] = []
    lead_of: dict[int, int] = {}  # story → the bulletin of its result
    listed: dict[int, dict[str, int]] = {}  # the result's bulletin → outlet → bulletin
    for entry in ranked:
        member = members.get(entry[0].bulletin_id)
        if member is not None:
            lead = lead_of.setdefault(member.story_id, member.bulletin_id)
            outlets = listed.setdefault(lead, {members[lead].outlet: lead})
            if member.outlet not in outlets:  # another outlet: a source of the story
                outlets[member.outlet] = member.bulletin_id
                continue
        kept.append(entry)  # the story's result, or the same outlet's other bulletin
    folded = {lead: outlets for lead, outlets in listed.items() if len(outlets) > 1}
    links = bulletin_links(db, [b for outlets in folded.values() for b in outlets.values()])
    return kept, {lead: [(b, outlet, links.get(b) or "") for outlet, b in outlets.items()]
                  for lead, outlets in folded.items()}  # fmt: skip


def read_query(db: Database, text: str, analyzer: Analyzer, *, admin: bool = False) -> Query:
    """User text as search reads it: prefixes expanded from the index, a word the index
    never saw read as its correction. Raises `QueryError`."""
    return parse_query(text, analyzer, admin=admin, expand=lambda p: expand_prefix(db, p),
                       correct=lambda forms: correction(db, forms))  # fmt: skip


def _joined(pieces: list[str]) -> str:
    """A passage's sentences in one snippet, one "…" between two (not three when the
    sentences were themselves cut)."""
    if len(pieces) < 2:
        return "".join(pieces)
    head = "…" if pieces[0].startswith("…") else ""
    tail = "…" if pieces[-1].endswith("…") else ""
    return head + " … ".join(p.strip("…") for p in pieces) + tail


Ranked = tuple[Candidate, float, tuple[int, ...], int, int]  # item, score, passage, also, words


def _recency(c: Candidate, now: datetime, half_life_days: float) -> float:
    try:
        age = (now - datetime.fromisoformat(c.published_at)).total_seconds() / 86400
    except ValueError:
        age = 10_000.0
    return 1 + RECENCY_WEIGHT * math.pow(0.5, max(age, 0.0) / half_life_days)


def _bulletins(
    db: Database, query: Query, weights: list[float], entries: dict[int, Found],
    now: datetime, half_life_days: float, reader_language: str | None,
) -> list[Ranked]:  # fmt: skip
    """One result per bulletin, ranked by the bulletin's own BM25 over all the query's words
    (the words it holds, rarer ones weighing more, and how often; holding more of them
    scores more, so no order by completeness overrides it), where a word found as typed
    counts once more than one found only by its stem or a variant. Two preferences that
    need no data to explain scale it: the reader's language, and a mild recency. Among equal
    scores: the words in one sentence, then in one paragraph; a headline item; the newest."""
    contenders = sorted(entries.values(), key=lambda f: (-f.weight, f.level, -f.bulletin_id))
    contenders = contenders[:MAX_CANDIDATES]
    ranges = bulletin_ranges(db, [f.bulletin_id for f in contenders])
    lengths = {b: n for b, (_, _, n) in ranges.items()}
    average = average_items(db)  # over the archive, as BM25 has it

    def closeness(entry: Found) -> int:  # all the words in one sentence, paragraph, or not
        return entry.level if len(entry.units) == len(query.units) else BULLETIN + 1

    # a first order by the bulletins' own BM25; the best `DETAILED` get their typed forms
    # counted, their passages and their preferences
    whole = {f.bulletin_id: bulletin_bm25(f, weights, lengths.get(f.bulletin_id, 1), average)
             for f in contenders if f.bulletin_id in lengths}  # fmt: skip
    contenders = sorted(
        (f for f in contenders if f.bulletin_id in whole),
        key=lambda f: (-whole[f.bulletin_id], -f.bulletin_id),
    )
    detailed, rest = contenders[:DETAILED], contenders[DETAILED:]
    scored_items = {i for f in detailed for i in _best_items(f, weights)}
    item_score = bm25_scores(db, query, analysed_items(db, sorted(scored_items)), keep=10**9)
    passages = {f.bulletin_id: tuple(passage(f, weights, item_score)) for f in detailed}
    rest_leads = {f.bulletin_id: _best_items(f, weights, keep=1)[0] for f in rest}
    details = item_details(db, sorted(scored_items.union(*passages.values(), rest_leads.values())))
    ranked = []
    for entry in detailed:
        shown = passages[entry.bulletin_id]
        mine = [i for i in _best_items(entry, weights) if i in details]
        if not mine or any(i not in details for i in shown):
            continue  # deleted meanwhile
        lead = details[shown[0]]
        texts = [f"{details[i].heading} {details[i].text}" for i in {*mine, *shown}]
        exact = _exact(query, weights, entry, texts)
        boost = READER_LANGUAGE_BOOST if lead.language == reader_language else 1.0
        score = (whole[entry.bulletin_id] + exact) * boost * _recency(lead, now, half_life_days)
        headline = lead.headline_rank is None
        key = (-round(score, 9), closeness(entry), headline, -lead.item_id)
        ranked.append((key, (lead, score, shown, len(entry.items()) - len(shown),
                             len(entry.units))))  # fmt: skip
    ranked.sort(key=lambda pair: pair[0])
    out = [r for _, r in ranked]
    for entry in rest:  # beyond the first pages: in the first order, their best item shown
        if (first := details.get(rest_leads[entry.bulletin_id])) is not None:
            out.append((first, whole[entry.bulletin_id], (first.item_id,),
                        len(entry.items()) - 1, len(entry.units)))  # fmt: skip
    return out


def _exact(query: Query, weights: list[float], entry: Found, texts: list[str]) -> float:
    """The idf of the words found as typed (not only by stem or variant) in these texts."""
    written = {fold(w) for text in texts for w in words(text)}
    return sum(
        weights[u] for u in entry.units
        if query.units[u].exact and set(query.units[u].exact) <= written
    )  # fmt: skip


def _best_items(entry: Found, weights: list[float], keep: int = 4) -> list[int]:
    """The items of a bulletin holding the most (by weight), at most `keep`."""
    items = sorted(entry.items(), key=lambda i: (-sum(weights[u] for u in entry.held_by(i)), i))
    return items[:keep]


def _within(db: Database, query: Query, weights: list[float], entry: Found | None) -> list[Ranked]:
    """Every matching item of one bulletin, those holding the most first, in reading order."""
    if entry is None:
        return []
    items = sorted(entry.items())
    item_score = bm25_scores(db, query, analysed_items(db, items), keep=10**9)
    details = item_details(db, items)
    held = {i: sum(weights[u] for u in entry.held_by(i)) for i in items if i in details}
    order = sorted(held, key=lambda i: (-round(held[i], 6), i))
    return [(details[i], item_score.get(i, 0.0), (i,), 0, len(entry.held_by(i))) for i in order]


def bm25_scores(
    db: Database, query: Query, pool: Sequence[tuple[int, str, str]], keep: int = MAX_CANDIDATES
) -> dict[int, float]:
    """Okapi BM25 of the pool's items (text, and heading weighing `HEAD_WEIGHT`), best `keep`.

    Each query concept scores by its best alternative (a form, a variant, a phrase
    reading); document frequencies come from the index vocabulary.
    """
    if not pool:
        return {}
    terms = {t for concept in query.concepts for alt in concept for t in alt}
    docs = term_docs(db, terms)
    total = max(item_count(db), 1)
    idf = {t: math.log(1 + (total - n + 0.5) / (n + 0.5)) for t, n in docs.items()}
    bodies = [body.split() for _, body, _ in pool]
    heads = [head.split() for _, _, head in pool]
    avg_body = sum(map(len, bodies)) / len(bodies) or 1.0
    avg_head = sum(map(len, heads)) / len(heads) or 1.0
    scores = {}
    for (item_id, _, _), body, head in zip(pool, bodies, heads, strict=True):
        score = 0.0
        for field_terms, avg, weight in ((body, avg_body, 1.0), (head, avg_head, HEAD_WEIGHT)):
            norm = K1 * (1 - B + B * len(field_terms) / avg)
            for concept in query.concepts:
                best = 0.0
                for alternative in concept:
                    tf = occurrences(field_terms, alternative)
                    if tf:
                        weight_idf = min(idf.get(t, 0.0) for t in alternative)
                        best = max(best, weight_idf * tf * (K1 + 1) / (tf + norm))
                score += weight * best
        scores[item_id] = score
    best_ids = sorted(scores, key=lambda i: (-scores[i], -i))[:keep]
    return {i: scores[i] for i in best_ids}


def highlight(text: str, language: str, query: Query, analyzer: Analyzer, width: int = 240) -> str:
    """The text (cut around the first match if long) with matched words between markers."""
    marks: list[tuple[int, int]] = []
    for found in re.finditer(r"[^\W_]+(?:['’][^\W_]+)?", text):
        forms = set(analyzer.word_terms(found[0], language))
        hit = forms & query.highlight or any(f.startswith(p) for f in forms for p in query.prefixes)
        if hit:
            marks.append(found.span())
    start, end = 0, len(text)
    if len(text) > width:
        center = marks[0][0] if marks else 0
        start = max(0, min(center - width // 3, len(text) - width))
        end = min(len(text), start + width)
        # cut between words, not inside one
        if start > 0 and (space := text.find(" ", start, center)) != -1:
            start = space + 1
        if end < len(text) and (space := text.rfind(" ", max(start, center), end)) != -1:
            end = space
    out, pos = [], start
    for s, e in marks:
        if s < start or e > end:
            continue
        out += [text[pos:s], HIGHLIGHT_START, text[s:e], HIGHLIGHT_END]
        pos = e
    out.append(text[pos:end])
    return ("…" if start > 0 else "") + "".join(out) + ("…" if end < len(text) else "")
