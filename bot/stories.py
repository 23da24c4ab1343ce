"""Stories: the bulletins that tell the same event, whoever published them, found as they
arrive and kept as they grow.

A bulletin is described by its *signature*: its most distinctive analysed terms (the
search index's forms, so `Kharkiv`, `Kharkov` and `Харків` are one term), each weighed by
its rarity in the archive (idf), and by its *anchors*, the names and numbers among them.
A new bulletin is compared only with the bulletins that share one of its most distinctive
terms (the first of its signature, by tf × idf) and were published within `WINDOW` of it
(an inverted index: near-linear, never n × n). It matches one when

- in the same language, the larger share of either signature's weight (idf²) that the
  other holds is at least `SAME_LANGUAGE` (a teaser is wholly inside its article: a
  cosine would punish the difference in length);
- in two languages, only names and numbers can meet: the same share of their weight is
  at least `CROSS_LANGUAGE`;

and in both cases they share at least `MIN_SHARED` terms. It joins the story whose reports
(those within `WINDOW`) it matches in the largest share; a second story it matches in half
its reports or more is merged in, when it matches half of the first too: the new report is
about both, they were one event told apart. A report that merely shares words with one
member of another story never links the two (single-link chaining made one story of 25
unrelated reports on the dev week). Otherwise it starts a story of its own. The thresholds
are round values read off the shape of the similarity distributions (bench/stories.py
prints them), not fitted to a score.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from sqlite_utils import Database

from bot.text.analyze import Analyzer
from storage.models import Terms
from storage.search import item_count, term_docs
from storage.stories import (
    file_member,
    new_topic_id,
    probe_hits,
    section_spans,
    stories_near,
    story_ids,
    unfiled,
)
from storage.stories import signatures as stored_signatures
from storage.tx import transaction

WINDOW = timedelta(days=3)  # a story's next report comes within this of an earlier one
SIGNATURE = 40  # the most distinctive terms kept of a bulletin
PROBES = 12  # its most distinctive terms, used to find candidates
MAX_POSTINGS = 100  # candidates one term may bring (its most recent bulletins)
MAX_CANDIDATES = 30  # compared with, those sharing the most probes first
SAME_LANGUAGE = 0.40
CROSS_LANGUAGE = 0.35
MIN_SHARED = 3
LONG_ROUND_UP = 3  # a bulletin of this many sections or more is a round-up: a story alone

_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-ZÀ-ÖØ-ÞА-ЯЁІЇЄҐ][\w'’-]+", re.MULTILINE)


@dataclass(frozen=True)
class Signature:
    """What a bulletin is compared on."""

    weights: dict[str, float]  # its most distinctive terms → idf
    anchors: frozenset[str]  # names and numbers among them
    language: str
    held: frozenset[str] = frozenset()  # every term it holds

    @cached_property
    def terms(self) -> frozenset[str]:
        return frozenset(self.weights)

    @cached_property
    def mass(self) -> tuple[float, float]:
        """Σ idf² of its terms, and of its anchors."""
        return (sum(w * w for w in self.weights.values()),
                sum(self.weights[t] ** 2 for t in self.anchors))  # fmt: skip

    def probes(self) -> list[str]:
        """The terms that describe it best (the first of its signature, by tf × idf): what
        another report of its event most likely holds too. (Not its rarest terms: those are
        the words no other document has — a typo, a name said once.)"""
        return list(self.weights)[:PROBES]


def text_terms(text: str, language: str, analyzer: Analyzer) -> Terms:
    """The terms of (the first `SIGNED_AT_MOST` characters of) a text."""
    text = text[:SIGNED_AT_MOST]
    counts: dict[str, int] = {}
    for term in analyzer.index_terms(text, language):
        counts[term] = counts.get(term, 0) + 1
    names = frozenset(analyzer.index_terms(" ".join(_CAPITALISED.findall(text)), language))
    return Terms(counts, names, language)


def weigh(
    terms: Terms, docs: Callable[[Iterable[str]], Mapping[str, int]], total: int
) -> Signature:
    """The signature: terms weighed by `idf = log(1 + total / docs)`, where `docs` gives
    how many documents of `total` hold each; the `SIGNATURE` with the highest `tf × idf`
    are kept, and the names and numbers among them are its anchors."""
    counts = terms.counts
    held = docs(counts)
    idf = {t: math.log(1 + total / max(1, held.get(t, 1))) for t in counts}
    kept = sorted(counts, key=lambda t: (-(1 + math.log(counts[t])) * idf[t], t))[:SIGNATURE]
    anchors = frozenset(t for t in kept if t in terms.names or (t.isdigit() and len(t) >= 2))
    return Signature({t: idf[t] for t in kept}, anchors, terms.language, frozenset(counts))


def signature(
    text: str,
    language: str,
    analyzer: Analyzer,
    docs: Callable[[Iterable[str]], Mapping[str, int]],
    total: int,
) -> Signature:
    """`weigh(text_terms(…))`: the signature of a text."""
    return weigh(text_terms(text, language, analyzer), docs, total)


def similarity(a: Signature, b: Signature) -> tuple[float, int]:
    """(overlap, shared terms): the larger share of either signature's weight (idf²) that
    the other text holds — a teaser is wholly inside its article, a half of an article
    too — over every term in one language, over names and numbers across two."""
    return max(_contained(a, b), _contained(b, a))


def _contained(a: Signature, b: Signature) -> tuple[float, int]:
    same = a.language == b.language
    found = (a.terms if same else a.anchors) & b.held
    mass = a.mass[0 if same else 1]
    if len(found) < MIN_SHARED or not mass:  # the rule's floor: not worth summing
        return 0.0, len(found)
    return sum(a.weights[t] ** 2 for t in found) / mass, len(found)


def same_story(a: Signature, b: Signature) -> bool:
    """The rule: enough of one found in the other, and enough in common."""
    overlap, shared = similarity(a, b)
    threshold = SAME_LANGUAGE if a.language == b.language else CROSS_LANGUAGE
    return overlap >= threshold and shared >= MIN_SHARED


def outlet(source: str) -> str:
    """Who published a bulletin: a feed's site (its host without `www.`: a site's section
    feeds are one outlet), else the source itself (the inbox, an admin)."""
    if source.startswith("feed:"):
        host = (urlsplit(source[5:]).hostname or source).lower()
        return host.removeprefix("www.")
    return source.split(":", 1)[0] if source.startswith("admin:") else source


@dataclass
class Clusters:
    """Stories found among bulletins added one at a time, oldest first (in memory: the
    same rule the database applies, for a batch or a benchmark). A bulletin that matches
    members of two stories joins them into one: it is the report that links them."""

    story_of: dict[int, int] = field(default_factory=dict)  # bulletin → story (its first)
    members: dict[int, list[int]] = field(default_factory=dict)  # story → bulletins
    _postings: dict[str, list[tuple[datetime, int]]] = field(default_factory=dict)
    _signatures: dict[int, Signature] = field(default_factory=dict)
    _published: dict[int, datetime] = field(default_factory=dict)

    def add(
        self, bulletin_id: int, published: datetime, sig: Signature, alone: bool = False
    ) -> int:
        """File a bulletin; return its story."""
        found = [] if alone else self._matches(published, sig)
        matched = Counter(self.story_of[m] for m in found)
        near = {
            s: sum(abs(self._published[m] - published) <= WINDOW for m in self.members[s])
            for s in matched
        }
        stories = joined(matched, near)
        story = min(stories) if stories else bulletin_id
        for other in sorted(stories - {story}):  # one event told apart: merged
            for member in self.members.pop(other):
                self.story_of[member] = story
                self.members[story].append(member)
        self.story_of[bulletin_id] = story
        self.members.setdefault(story, []).append(bulletin_id)
        self._signatures[bulletin_id] = sig
        self._published[bulletin_id] = published
        for term in sig.weights:
            self._postings.setdefault(term, []).append((published, bulletin_id))
        return story

    def _matches(self, published: datetime, sig: Signature) -> list[int]:
        hits: dict[int, int] = {}
        for term in sig.probes():
            for when, other in self._postings.get(term, [])[-MAX_POSTINGS:]:
                if abs(when - published) <= WINDOW:
                    hits[other] = hits.get(other, 0) + 1
        chosen = closest(hits)
        return matches(sig, ((c, self._signatures[c]) for c in chosen))


def closest(hits: dict[int, int]) -> list[int]:
    """The `MAX_CANDIDATES` bulletins that share the most probes (ties: the oldest)."""
    return sorted(hits, key=lambda c: (-hits[c], c))[:MAX_CANDIDATES]


def matches(sig: Signature, candidates: Iterable[tuple[int, Signature]]) -> list[int]:
    """The candidates that tell the same story by the rule."""
    return [other for other, theirs in candidates if same_story(sig, theirs)]


def joined(matched: Mapping[int, int], near: Mapping[int, int]) -> set[int]:
    """The stories a new report joins, given how many reports of each it matches
    (`matched`) of how many each has within `WINDOW` of it (`near`): the one it matches in
    the largest share (then the most reports, then the oldest story), and with it every
    other it matches in half its reports or more — when it matches half of the first too."""
    if not matched:
        return set()

    def share(story: int) -> float:
        return matched[story] / max(near.get(story, 0), matched[story])

    first = min(matched, key=lambda s: (-share(s), -matched[s], s))
    if share(first) < 0.5:
        return {first}
    return {first} | {s for s in matched if share(s) >= 0.5}


# -- in the database -----------------------------------------------------------------------

SIGNED_AT_MOST = 50_000  # characters of a bulletin read for its signature (its lead and more)
BACKFILL = timedelta(days=35)  # at start, bulletins this recent without a story are filed


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _saved(sig: Signature) -> dict[str, Any]:
    return {"w": sig.weights, "a": sorted(sig.anchors), "l": sig.language, "h": sorted(sig.held)}


def _loaded(saved: dict[str, Any]) -> Signature:
    return Signature(dict(saved["w"]), frozenset(saved["a"]), saved["l"], frozenset(saved["h"]))


def file_story(
    db: Database,
    bulletin_id: int,
    *,
    source: str,
    published_at: str,
    terms: Terms | None,
    topics: Sequence[tuple[int, Terms]] = (),
) -> int:
    """File a stored bulletin in its story (the rule above, against the reports of the
    database published within `WINDOW`); return the story's id. A bulletin without
    `terms` (a long round-up: several sections, several events) is a story alone, and
    each of its `topics` (section index, terms) is filed as a report of its own: the
    round-up's paragraph on an event joins the story other outlets tell of it."""
    if terms is None:
        report = _place(db, bulletin_id, Signature({}, frozenset(), ""), source, published_at)
    else:
        report = _place(db, bulletin_id, _weighed(db, terms), source, published_at)
    for section, topic in topics:
        _place(db, None, _weighed(db, topic), source, published_at, (bulletin_id, section))
    return report


def _weighed(db: Database, terms: Terms) -> Signature:
    return weigh(terms, lambda wanted: term_docs(db, set(wanted)), max(1, item_count(db)))


def _place(
    db: Database,
    report: int | None,
    sig: Signature,
    source: str,
    published_at: str,
    topic: tuple[int, int] | None = None,
) -> int:
    """File one report (a bulletin, or with `topic` a round-up's section under a new id)
    by the rule; return its story."""
    found: list[int] = []
    when = datetime.fromisoformat(published_at)
    since, until = _iso(when - WINDOW), _iso(when + WINDOW)
    if sig.weights:
        hits = probe_hits(db, sig.probes(), since, until, MAX_POSTINGS)
        if report is not None:
            hits.pop(report, None)
        chosen = closest(hits)
        stored = stored_signatures(db, chosen)
        found = matches(sig, ((c, _loaded(stored[c])) for c in chosen if c in stored))
    matched = Counter(story_ids(db, found).values())
    stories = joined(matched, stories_near(db, list(matched), since, until))
    with transaction(db):
        if report is None:
            report = new_topic_id(db)
        story = min(stories) if stories else report
        file_member(db, report, story, outlet(source), published_at, _saved(sig), sig.weights,
                    sorted(stories - {story}), topic)  # fmt: skip
    return story


def file_recent(db: Database, analyzer: Analyzer, now: datetime) -> int:
    """File the recent bulletins that have no story yet (an archive from before stories,
    bulletins stored while filing failed); return how many."""
    rows = unfiled(db, _iso(now - BACKFILL))
    for row in rows:
        text, language = row["clean_text"], row["language"]
        terms = story_terms(text, language, row["sections"], analyzer)
        topics = [] if terms is not None else topic_terms(
            text, language, [(i, s, e) for i, s, e in section_spans(db, row["id"])], analyzer
        )  # fmt: skip
        file_story(db, row["id"], source=row["source"], published_at=row["published_at"],
                   terms=terms, topics=topics)  # fmt: skip
    return len(rows)


def story_terms(text: str, language: str, sections: int, analyzer: Analyzer) -> Terms | None:
    """What a bulletin's story is found from: its terms, or None for a long round-up."""
    return None if sections >= LONG_ROUND_UP else text_terms(text, language, analyzer)


MAX_TOPICS = 100  # a round-up's sections filed as topics (a round-up has tens)


def topic_terms(
    text: str, language: str, sections: Sequence[tuple[int, int, int]], analyzer: Analyzer
) -> list[tuple[int, Terms]]:
    """What a round-up's topics are found from: the terms (heading and text) of each of
    its sections that tell something, given as (index, start, end in `text`); the first
    `MAX_TOPICS`."""
    return [(index, text_terms(text[start:end], language, analyzer))
            for index, start, end in sections[:MAX_TOPICS]]  # fmt: skip
