"""Query parsing: user text into a safe FTS5 query that understands French.

User text never reaches FTS `MATCH` raw. A query is split into:

- words, each analysed like the index (accents, elisions, stems, variants) in every
  language, its forms OR-ed: `frappé` → `("frapp" OR "frappe")`;
- `"exact phrases"` (the analysed words, adjacent);
- `-word` or `-"phrase"` to exclude; `word*` for a prefix;
- filters `since:2025-07`, `until:2025-08-01`, `lang:fr`;

everything else is literal text. Admins may send raw FTS5 syntax with `raw:`. A word the
index has never seen may be read as its correction (`bot.spelling`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from bot.languages import BULLETIN_LANGUAGES
from bot.text.analyze import QUERY_LANGUAGES, Analyzer, fold, words

MAX_TERMS = 12
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


@dataclass(frozen=True)
class Unit:
    """One thing the reader looks for — a word (its forms and variants OR-ed) or a phrase —
    as an FTS5 expression, with its concepts for ranking."""

    fts: str
    concepts: list[set[tuple[str, ...]]]
    exact: tuple[str, ...] = ()  # a word as typed (its folded sub-words): a match kept as is


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
    units: list[Unit] = field(default_factory=list)  # the AND-ed groups, one by one

    def fts(self, groups: list[str] | None = None) -> str:
        """The FTS5 expression: quoted terms only (or the admin's raw text) — of every group,
        or of these; exclusions always apply."""
        if self.raw is not None:
            return self.raw
        expression = " AND ".join(self.groups if groups is None else groups)
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
        known = len(query.concepts)
        if phrase is not None:
            part = _phrase(phrase, analyzer, query, mark=not negative)
        else:
            negative = word.startswith("-") and len(word) > 1
            word = word[1:] if negative else word
            part = _word(word, analyzer, query, mark=not negative, expand=expand,
                         correct=None if negative else correct)  # fmt: skip
        if part:
            (query.excluded if negative else query.groups).append(part)
            if not negative:
                exact = tuple(fold(w) for w in words(word)) if phrase is None else ()
                query.units.append(Unit(part, query.concepts[known:], exact))
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


def follow_query(analyzer: Analyzer, term: str) -> str | None:
    """A safe FTS query for a followed word: every sub-word, in any of its forms."""
    parts = ["(" + " OR ".join(sorted(_quote(f) for f in forms)) + ")"
             for _typed, forms in analyzer.word_forms(term)]  # fmt: skip
    return " AND ".join(parts) or None
