"""Search: the parsed query (`bot.query`) matched in the index, ranked, with snippets."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from sqlite_utils import Database

from bot.query import Query, QueryError, parse_query
from bot.spelling import correction, surface
from bot.text.analyze import Analyzer
from storage.search import (
    HEAD_WEIGHT,
    MAX_CANDIDATES,
    Candidate,
    candidates,
    expand_prefix,
    item_count,
    match,
    newest_matches,
    term_docs,
)

__all__ = ["HIGHLIGHT_END", "HIGHLIGHT_START", "Hit", "QueryError", "Results", "search"]

HIGHLIGHT_START = "\ue000"
HIGHLIGHT_END = "\ue001"
RECENCY_WEIGHT = 0.3  # at most +30 % for an item published today
HEADLINE_BOOST = 1.25
PER_BULLETIN = 2  # items of one bulletin before others get their turn


@dataclass(frozen=True)
class Hit(Candidate):
    """A ranked result: the matched item, its final score, a snippet with markers."""

    score: float
    snippet: str

    @property
    def headline(self) -> bool:
        """Whether the item is one of its bulletin's headline items."""
        return self.headline_rank is not None


@dataclass(frozen=True)
class Results:
    """One page of results."""

    hits: list[Hit]
    page: int
    per_page: int
    total: int  # candidates found (capped)
    corrections: list[tuple[str, str]] = field(default_factory=list)  # (as typed, read as)

    @property
    def has_next(self) -> bool:
        """Whether another page follows."""
        return (self.page + 1) * self.per_page < self.total


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
) -> Results:
    """Search the archive. Raises `QueryError` (usage) or `SearchSyntaxError` (admin raw)."""
    query = parse_query(text, analyzer, admin=admin, expand=lambda p: expand_prefix(db, p),
                        correct=lambda forms: correction(db, forms))  # fmt: skip
    if query.raw is not None:
        found = match(
            db, query.fts(), language=query.language, since=query.since, until=query.until
        )
    else:
        pool = newest_matches(
            db, query.fts(), language=query.language, since=query.since, until=query.until
        )
        found = candidates(db, bm25_scores(db, query, pool))
    ranked = rank(found, now=now or datetime.now(UTC), half_life_days=half_life_days)
    chosen = ranked[page * per_page : (page + 1) * per_page]
    hits = [
        Hit(
            **asdict(c),
            score=round(score, 4),
            snippet=highlight(c.text, c.language, query, analyzer),
        )
        for c, score in chosen
    ]
    texts = [(h.text, h.language) for h in hits]
    shown = [(typed, surface(typed, term, texts, analyzer)) for typed, term in query.corrections]
    return Results(hits, page, per_page, len(ranked), shown)


K1, B = 1.2, 0.75


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
                    tf = _occurrences(field_terms, alternative)
                    if tf:
                        weight_idf = min(idf.get(t, 0.0) for t in alternative)
                        best = max(best, weight_idf * tf * (K1 + 1) / (tf + norm))
                score += weight * best
        scores[item_id] = score
    best_ids = sorted(scores, key=lambda i: (-scores[i], -i))[:keep]
    return {i: scores[i] for i in best_ids}


def _occurrences(tokens: list[str], phrase: tuple[str, ...]) -> int:
    """How many times `phrase` (one or more terms) appears in `tokens`."""
    if len(phrase) == 1:
        return tokens.count(phrase[0])
    n = len(phrase)
    return sum(1 for i in range(len(tokens) - n + 1) if tuple(tokens[i : i + n]) == phrase)


def rank(
    candidates: Sequence[Candidate], *, now: datetime, half_life_days: float
) -> list[tuple[Candidate, float]]:
    """bm25 with a mild recency boost and headline items first; one bulletin can't flood."""
    scored = []
    for c in candidates:
        try:
            age = (now - datetime.fromisoformat(c.published_at)).total_seconds() / 86400
        except ValueError:
            age = 10_000.0
        recency = 1 + RECENCY_WEIGHT * math.pow(0.5, max(age, 0.0) / half_life_days)
        headline = HEADLINE_BOOST if c.headline_rank is not None else 1.0
        scored.append((c, -c.bm25 * recency * headline))
    scored.sort(key=lambda pair: (-pair[1], pair[0].item_id))
    seen: dict[int, int] = {}
    first: list[tuple[Candidate, float]] = []
    later: list[tuple[Candidate, float]] = []
    for pair in scored:
        n = seen.get(pair[0].bulletin_id, 0)
        seen[pair[0].bulletin_id] = n + 1
        (first if n < PER_BULLETIN else later).append(pair)
    return first + later


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
