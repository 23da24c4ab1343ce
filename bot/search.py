"""Search that understands French: safe query parsing, ranking, highlighted snippets.

User text never reaches FTS `MATCH` raw. A query is split into:

- words, each analysed like the index (accents, elisions, stems, variants) in every
  language, its forms OR-ed: `frappé` → `("frapp" OR "frappe")`;
- `"exact phrases"` (the analysed words, adjacent);
- `-word` or `-"phrase"` to exclude; `word*` for a prefix;
- filters `since:2025-07`, `until:2025-08-01`, `lang:fr`;

everything else is literal text. Admins may send raw FTS5 syntax with `raw:`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime

from sqlite_utils import Database

from bot.languages import BULLETIN_LANGUAGES
from bot.spelling import correction, surface
from bot.text.analyze import QUERY_LANGUAGES, Analyzer
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

HIGHLIGHT_START = "\ue000"
HIGHLIGHT_END = "\ue001"
MAX_TERMS = 12
RECENCY_WEIGHT = 0.3  # at most +30 % for an item published today
HEADLINE_BOOST = 1.25
PER_BULLETIN = 2  # items of one bulletin before others get their turn
USAGE = (
    'words to find, e.g. patriot kharkiv; "exact phrase"; -word to exclude; '
    "prefix*; since:2025-07 until:2025-08 lang:fr"
)

_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_FILTER = re.compile(r"(since|until|lang):(\S*)", re.IGNORECASE)
_DATE = re.compile(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?")


Expander = Callable[[str], list[str]]
Corrector = Callable[[set[str]], str | None]  # a word's forms → the indexed term to use


class QueryError(ValueError):
    """The query cannot be searched; the message says what to fix (in English, for the
    command line); `key` and `values` name it for the bot's catalogues (`qerr_KEY`)."""

    def __init__(self, key: str, message: str, **values: str) -> None:
        super().__init__(message)
        self.key, self.values = key, values


@dataclass
class Query:
    """A parsed query: FTS expression parts and what to highlight."""

    groups: list[str] = field(default_factory=list)  # AND-ed
    # for ranking: per AND-ed concept, its alternatives (a term, or a phrase's terms)
    concepts: list[set[tuple[str, ...]]] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    highlight: set[str] = field(default_factory=set)  # analysed forms to mark
    prefixes: set[str] = field(default_factory=set)
    language: str | None = None
    since: str | None = None
    until: str | None = None
    raw: str | None = None
    corrections: list[tuple[str, str]] = field(default_factory=list)  # (as typed, term)

    def fts(self) -> str:
        """The FTS5 expression: quoted terms only (or the admin's raw text)."""
        if self.raw is not None:
            return self.raw
        expression = " AND ".join(self.groups)
        for group in self.excluded:
            expression = f"({expression}) NOT {group}"
        return expression


def _quote(term: str) -> str:
    """A term or phrase as an FTS5 string: user text never reaches MATCH as syntax."""
    return '"' + term.replace('"', '""') + '"'


def _any_of(forms: set[str]) -> str:
    quoted = sorted(_quote(f) for f in forms)
    return quoted[0] if len(quoted) == 1 else "(" + " OR ".join(quoted) + ")"


def _day(text: str, *, end: bool) -> str:
    """`2025-07` → first day (or the first day after, for `until`) as ISO UTC."""
    found = _DATE.fullmatch(text)
    if not found:
        raise QueryError("bad_date", f"dates look like 2025-07 or 2025-07-11, not {text!r}",
                         value=text)  # fmt: skip
    year, month, day = int(found[1]), int(found[2] or 1), int(found[3] or 1)
    try:
        moment = date(year, month, day)
    except ValueError:
        raise QueryError("not_a_date", f"{text!r} is not a date", value=text) from None
    try:
        if end and not found[3]:  # until:2025-07 means to the end of July
            moment = (date(year + (month == 12), month % 12 + 1, 1) if found[2]
                      else date(year + 1, 1, 1))  # fmt: skip
        elif end:
            moment = date.fromordinal(moment.toordinal() + 1)
    except (ValueError, OverflowError):  # until:9999 has no day after it
        raise QueryError("future", f"{text!r} is too far in the future", value=text) from None
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC).isoformat(timespec="seconds")


def parse_query(
    text: str,
    analyzer: Analyzer,
    *,
    admin: bool = False,
    expand: Expander | None = None,
    correct: Corrector | None = None,
) -> Query:
    """Parse user text into a safe query; raises `QueryError` when nothing is searchable.
    With `correct`, a plain word none of whose forms is indexed is read as its correction."""
    text = text.strip()
    if admin and text.lower().startswith("raw:"):
        raw = text[4:].strip()
        if not raw:
            raise QueryError("raw", "raw: needs an FTS5 expression")
        return Query(raw=raw)
    query = Query()

    def apply_filter(found: re.Match[str]) -> str:
        key, value = found[1].lower(), found[2]
        if key == "lang":
            if value.lower() not in BULLETIN_LANGUAGES:
                raise QueryError("lang", "lang: is fr, en or uk")
            query.language = value.lower()
        elif key == "since":
            query.since = _day(value, end=False)
        else:
            query.until = _day(value, end=True)
        return " "

    text = _FILTER.sub(apply_filter, text)
    for found in _TOKEN.finditer(text):
        if len(query.groups) + len(query.excluded) >= MAX_TERMS:
            break
        negative, phrase, word = found[1] == "-", found[2], found[3]
        if phrase is not None:
            part = _phrase(phrase, analyzer, query, mark=not negative)
        else:
            negative = word.startswith("-") and len(word) > 1
            word = word[1:] if negative else word
            part = _word(word, analyzer, query, mark=not negative, expand=expand,
                         correct=None if negative else correct)  # fmt: skip
        if part:
            (query.excluded if negative else query.groups).append(part)
    if not query.groups:
        if query.excluded:
            raise QueryError(
                "only_excluded", "add at least one word to look for, not only words to exclude"
            )
        raise QueryError("no_word", "no word to search for")
    return query


def _word(
    word: str,
    analyzer: Analyzer,
    query: Query,
    *,
    mark: bool,
    expand: Expander | None,
    correct: Corrector | None = None,
) -> str | None:
    prefix = word.endswith("*") and len(word.rstrip("*")) >= 2
    forms = analyzer.word_forms(word.rstrip("*"))
    if not forms:
        return None
    corrected = correct(forms[0][1]) if correct and not prefix and len(forms) == 1 else None
    if corrected is not None:
        forms = [(forms[0][0], {corrected})]
        query.corrections.append((word, corrected))
    parts = []
    for n, (typed, sub_forms) in enumerate(forms):
        if mark:
            query.highlight |= sub_forms
        alternatives = sub_forms
        if prefix and n == len(forms) - 1:
            starts = {typed, *sub_forms}
            if mark:
                query.prefixes |= starts
            expanded = {t for start in starts for t in expand(start)} if expand else set()
            alternatives = expanded or starts
            parts.append(_any_of(expanded) if expanded else _prefix_fts(starts))
        else:
            parts.append(_any_of(sub_forms))
        if mark:
            query.concepts.append({(a,) for a in alternatives})
    return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"


def _prefix_fts(starts: set[str]) -> str:
    """FTS5 prefix queries (when no vocabulary is at hand to expand them)."""
    return "(" + " OR ".join(sorted(f"{_quote(s)}*" for s in starts)) + ")"


def _phrase(phrase: str, analyzer: Analyzer, query: Query, *, mark: bool) -> str | None:
    """Adjacent analysed words, read as each language's index would store them."""
    readings = {r for lang in QUERY_LANGUAGES if (r := tuple(analyzer.index_terms(phrase, lang)))}
    if not readings:
        return None
    if mark:
        for reading in readings:
            query.highlight |= set(reading)
        query.concepts.append(readings)
    return _any_of({" ".join(r) for r in readings})


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


def follow_query(analyzer: Analyzer, term: str) -> str | None:
    """A safe FTS query for a followed word: every sub-word, in any of its forms."""
    parts = ["(" + " OR ".join(sorted(_quote(f) for f in forms)) + ")"
             for _typed, forms in analyzer.word_forms(term)]  # fmt: skip
    return " AND ".join(parts) or None
