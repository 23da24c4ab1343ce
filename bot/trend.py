"""Trends: how often the archive mentions a topic, week by week.

A topic is read as a search query is (`bot.search.read_query`: stems, accents, variants,
"phrases", -exclusions, corrections), so `Kharkov` counts Kharkiv. A bulletin **mentions**
a topic when each of its words (or phrases) is in one of the bulletin's items, the items
holding an excluded word not counting — the rule of alerts, not the sentence-by-sentence
match of a search result. Its **items** for that topic are the items holding at least one
of the topic's words. Weeks are ISO weeks (Monday to Sunday) in the bot's time zone; a
week in which the archive has no bulletin at all is a gap (`None`), not a zero.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from bot.digest import iso_week
from bot.i18n import Html, t
from bot.languages import FALLBACK, LANGUAGES
from bot.query import Query, QueryError
from bot.search import read_query
from bot.text.analyze import Analyzer
from storage.search import term_docs
from storage.trend import Spans, bulletin_spans, first_published, items_per_bulletin

MAX_TOPICS = 3
MAX_TOPIC_CHARS = 200
# the range buttons: their code in callback data → weeks (0: since the first bulletin)
RANGES = {"3m": 13, "6m": 26, "1y": 52, "all": 0}
DEFAULT_RANGE = "6m"
MAX_WEEKS = 520  # "all" goes back ten years at most
MODES = ("b", "i")  # bulletins mentioning the topic, or its items


@dataclass(frozen=True)
class Week:
    """One week of one topic: how many bulletins mention it and how many of their items
    do; both None when the archive has no bulletin that week."""

    week: str  # 2025-W28
    monday: date
    bulletins: int | None
    items: int | None

    def value(self, mode: str) -> int | None:
        """The count the chart shows in `mode` ("b" or "i")."""
        return self.bulletins if mode == "b" else self.items


@dataclass(frozen=True)
class Series:
    """One topic over the weeks."""

    query: str
    weeks: list[Week]

    def total(self, mode: str) -> int:
        """Mentions over all the weeks."""
        return sum(w.value(mode) or 0 for w in self.weeks)

    def peak(self, mode: str) -> Week | None:
        """The week with the most mentions (the latest of equals), None if there is none."""
        best: Week | None = None
        for w in self.weeks:
            v = w.value(mode)
            if v and (best is None or v >= (best.value(mode) or 0)):
                best = w
        return best


@dataclass(frozen=True)
class Trend:
    """Every topic asked for, over the same weeks."""

    topics: list[Series]
    weeks: int = 0
    gaps: list[str] = field(default_factory=list)  # weeks without any bulletin

    def empty(self, mode: str = "b") -> bool:
        """No topic is mentioned at all in these weeks."""
        return all(s.total(mode) == 0 for s in self.topics)

    def to_json(self) -> dict[str, Any]:
        """`{"topics": [{"query", "weeks": [{"week", "bulletins", "items"}]}]}`."""
        return {
            "topics": [
                {
                    "query": s.query,
                    "weeks": [
                        {"week": w.week, "bulletins": w.bulletins, "items": w.items}
                        for w in s.weeks
                    ],
                }
                for s in self.topics
            ]
        }


def split_topics(text: str) -> list[str]:
    """`drones, missiles, "Shahed, Geran"` → three topics: commas outside quotes separate
    them. Raises QueryError with no topic or more than `MAX_TOPICS`."""
    topics: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text[: MAX_TOPICS * MAX_TOPIC_CHARS * 2]:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            topics.append("".join(current))
            current = []
        else:
            current.append(char)
    topics.append("".join(current))
    topics = [" ".join(topic.split())[:MAX_TOPIC_CHARS] for topic in topics]
    topics = [topic for topic in topics if topic]
    if not topics:
        raise QueryError("no_word", "give a topic: /trend drones, missiles")
    if len(topics) > MAX_TOPICS:
        raise QueryError("topics", f"at most {MAX_TOPICS} topics, separated by commas",
                         n=str(MAX_TOPICS))  # fmt: skip
    return topics


def monday_of(moment: datetime, tz: ZoneInfo) -> date:
    """The Monday of a moment's ISO week, in `tz`."""
    day = moment.astimezone(tz).date()
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Frame:
    """The weeks a chart shows, and the bulletins published in them."""

    mondays: list[date]
    spans: Spans  # the bulletins published in them, with their rows in the index
    week_of: dict[int, date]  # bulletin → its week's Monday

    @property
    def live(self) -> set[date]:
        """The weeks with at least one bulletin."""
        return set(self.week_of.values())


def read_topics(db: Database, text: str, analyzer: Analyzer) -> list[tuple[str, Query]]:
    """Each topic of `text` as search reads it. Raises QueryError."""
    return [(topic, read_query(db, topic, analyzer)) for topic in split_topics(text)]


def frame(db: Database, *, weeks: int, now: datetime, tz: ZoneInfo) -> Frame:
    """The `weeks` weeks ending with the one of `now` (0: from the week of the oldest
    bulletin, at most `MAX_WEEKS`), and their bulletins."""
    this_monday = monday_of(now, tz)
    if weeks <= 0:
        oldest = first_published(db)
        start = monday_of(datetime.fromisoformat(oldest), tz) if oldest else this_monday
        weeks = (this_monday - start).days // 7 + 1
    weeks = max(1, min(weeks, MAX_WEEKS))
    mondays = [this_monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    since = datetime.combine(mondays[0], time(0), tzinfo=tz).astimezone(UTC).isoformat()
    end = datetime.combine(this_monday + timedelta(weeks=1), time(0), tzinfo=tz)
    until = end.astimezone(UTC).isoformat()
    spans = bulletin_spans(db, since, until)
    week_of: dict[int, date] = {}
    by_hour: dict[str, date] = {}  # bulletins share hours: each is converted once
    for bulletin_id, moment, _, _ in spans.rows:
        hour = moment[:13] + moment[19:]  # the date and hour, with the offset
        if hour not in by_hour:
            by_hour[hour] = monday_of(datetime.fromisoformat(moment), tz)
        week_of[bulletin_id] = by_hour[hour]
    return Frame(mondays, spans, week_of)


def topic_series(db: Database, topic: str, query: Query, where: Frame) -> Series:
    """One topic over the frame's weeks."""
    mentions, items = _mentions(db, query, where)
    per_week: dict[date, list[int]] = {}
    for bulletin_id in mentions:
        if bulletin_id not in where.week_of:  # stored since the frame was read
            continue
        counts = per_week.setdefault(where.week_of[bulletin_id], [0, 0])
        counts[0] += 1
        counts[1] += items.get(bulletin_id, 0)
    live = where.live
    return Series(topic, [
        Week(iso_week(monday), monday, *(per_week.get(monday, [0, 0])))
        if monday in live else Week(iso_week(monday), monday, None, None)
        for monday in where.mondays
    ])  # fmt: skip


def assemble(where: Frame, series: list[Series]) -> Trend:
    """The topics' series over one frame, and its weeks without any bulletin."""
    live = where.live
    return Trend(series, len(where.mondays), [iso_week(m) for m in where.mondays if m not in live])


def trend(
    db: Database, text: str, analyzer: Analyzer, *, weeks: int, now: datetime, tz: ZoneInfo
) -> Trend:
    """Each topic of `text`, week by week (the bot counts one chart at a time, on one reader
    thread: `bot.chart.make_chart`). Raises QueryError (or SearchSyntaxError)."""
    topics = read_topics(db, text, analyzer)
    where = frame(db, weeks=weeks, now=now, tz=tz)
    return assemble(where, [topic_series(db, topic, query, where) for topic, query in topics])


# Asking the index for one bulletin's rows costs as much as listing 100 to 330 matches
# (7–25 µs against ~0.075 µs at 100,000 bulletins, `python -m bench.trend` prints both; the
# more segments the index has, the dearer a span). Spans are asked for only where they
# clearly win: a word in most items, over a range whose bulletins are scattered through
# the archive's rows.
SPAN_COST = 300
_TERMS = re.compile(r'\(("[^" ]+"(?: OR "[^" ]+")*)\)|("[^" ]+")')  # forms OR-ed, nothing else
_QUOTED = re.compile(r'"([^" ]+)"')  # one quoted term of an expression


def _any(parts: list[str]) -> str:
    """An FTS5 expression matching any of `parts`."""
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def _pruned(fts: str, docs: dict[str, int]) -> str | None:
    """A word's forms without those no item holds (each costs the index a look-up per
    bulletin, for nothing): `("dron" OR "drone" OR "drones")` over French bulletins is
    `"dron"`. None if no form is held; any other expression (a phrase, a prefix) as is."""
    if not _TERMS.fullmatch(fts):
        return fts
    kept = [f'"{term}"' for term in _QUOTED.findall(fts) if docs.get(term, 0) > 0]
    return _any(kept) if kept else None


def _count(db: Database, query: Query, parts: list[str], where: Frame) -> dict[int, int]:
    """Bulletin → its items matching any of `parts` (the query's exclusions applied)."""
    docs = term_docs(db, {term for part in parts for term in _QUOTED.findall(part)})
    kept = [p for p in (_pruned(part, docs) for part in parts) if p is not None]
    if not kept:
        return {}
    matches = sum(docs.get(term, 0) for part in kept for term in _QUOTED.findall(part))
    fts = query.fts([_any(kept)])
    return items_per_bulletin(db, fts, where.spans, by_span=spans_cheaper(matches, where.spans))


def spans_cheaper(matches: int, spans: Spans) -> bool:
    """Whether asking for each bulletin's rows beats listing a word's matches, for a word
    in `matches` items of the archive (about `share` of them between the spans)."""
    return matches * spans.share() > SPAN_COST * len(spans)


def _mentions(db: Database, query: Query, where: Frame) -> tuple[set[int], dict[int, int]]:
    """The bulletins mentioning the query (each of its parts in one of their items), and
    per bulletin its items holding any part."""
    if not where.spans or not query.units:
        return set(), {}
    per_unit = [_count(db, query, [u.fts], where) for u in query.units]
    mentions = set(per_unit[0]).intersection(*per_unit[1:])
    if len(per_unit) == 1 or not mentions:
        return mentions, per_unit[0]
    return mentions, _count(db, query, [u.fts for u in query.units], where)


# ---- words -----------------------------------------------------------------------------------


def day_month(day: date, language: str) -> str:
    """`7 juillet`, `7 July`, `7 липня`."""
    months = LANGUAGES.get(language, LANGUAGES[FALLBACK]).months
    return f"{day.day} {months[day.month - 1]}"


def month_year(day: date, language: str) -> str:
    """`juillet 2025`, `July 2025`, `липень 2025`."""
    return f"{LANGUAGES.get(language, LANGUAGES[FALLBACK]).month_alone(day.month)} {day.year}"


def span_words(trend_: Trend, range_code: str, language: str) -> str:
    """`en 26 semaines`, or `depuis le 6 janvier 2020` for the whole archive."""
    if range_code == "all" and trend_.topics and trend_.topics[0].weeks:
        first = trend_.topics[0].weeks[0].monday
        return t(language, "trend_span_all", date=f"{day_month(first, language)} {first.year}")
    return t(language, "trend_span", n=trend_.weeks)


def caption(trend_: Trend, mode: str, range_code: str, language: str) -> str:
    """The chart in words, a line a topic: `drones : 14 bulletins en 26 semaines, au plus 4
    la semaine du 7 juillet`."""
    span = span_words(trend_, range_code, language)
    lines = []
    for s in trend_.topics:
        peak = s.peak(mode)
        if peak is None:
            lines.append(t(language, "trend_line_none", topic=s.query, span=Html(span)))
            continue
        unit = t(language, f"trend_unit_{mode}", n=s.total(mode))  # 1 bulletin, 3 bulletins
        lines.append(t(language, "trend_line", topic=s.query, n=s.total(mode), unit=unit,
                       span=Html(span), peak=peak.value(mode),
                       date=day_month(peak.monday, language)))  # fmt: skip
    if trend_.gaps:
        lines.append(t(language, "trend_gaps", n=len(trend_.gaps)))
    return "\n".join(lines)
