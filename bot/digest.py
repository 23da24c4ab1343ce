"""Digest editions: what each chat receives each week, built from the database alone.

A chat's edition covers the bulletins published since its previous digest (a new
subscriber: the last `LOOKBACK`; never more than `MAX_LOOKBACK`), up to the moment it is
cut (the chat's slot, or the moment an admin sends or a reader asks), less every bulletin
an earlier digest of that chat already covered. It is built when it is due, and stored
under a key of its content (the bulletins, their summary versions, the language and the
week in its title), so equal contents share one row and nothing rendered outlives the
data it came from.

Every edition's items are picked by `bot.summarize.pick_for_coverage`, the one rule for
headline items, and shown in reading order (oldest bulletin first, then as written).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlite_utils import Database

from bot.i18n import t
from bot.languages import FALLBACK, LANGUAGES
from bot.summarize import Pick, pick_for_coverage, topic_of
from storage.digests import (
    SourceItem,
    WindowBulletin,
    bulletin_links,
    covered_bulletins,
    digest_id_by_key,
    last_edition_cut,
    load_digest_by_id,
    save_digest,
    source_items,
    window_bulletins,
)
from storage.people import source_key
from storage.stories import Member, members_of, story_ids, topics_of

DIGEST_VERSION = 7  # bump when picking or the payload changes: new keys, new rows
MAX_ITEMS = 10
LENGTH_ITEMS = {"short": 5, "normal": MAX_ITEMS, "long": 20}  # a chat's digest length: stories


def items_for(length: str | None, default: str) -> int:
    """The stories a digest tells for a chat's length (None: the operator's `default`)."""
    return LENGTH_ITEMS.get(length or default, LENGTH_ITEMS.get(default, MAX_ITEMS))


ALL_ITEMS = 40  # `/digest all`: the week's stories, as many as this
MAX_SOURCES = 200  # newest bulletins an edition is built from (all in its window are covered)
LOOKBACK = timedelta(days=7)  # a new reader's first digest; late arrivals before the last one
MAX_LOOKBACK = timedelta(days=28)  # a chat back after a long pause is not sent a year of news

_WEEK = re.compile(r"(\d{4})-?W(\d{1,2})", re.IGNORECASE)


class BadWeek(ValueError):
    """A week that is not `YYYY-Www`."""


@dataclass(frozen=True)
class DigestItem:
    """One line of the digest, linked to its bulletin."""

    item_id: int
    bulletin_id: int
    bulletin_title: str
    published_at: str
    text: str
    score: float
    language: str = ""  # the bulletin's, shown when it is not the reader's
    link: str = ""  # the original (a feed entry's), else the bulletin opens in the bot
    sources: int = 1  # outlets that told its story
    others: list[tuple[int, str, str]] = field(default_factory=list)  # (bulletin, outlet, link)


@dataclass(frozen=True)
class Digest:
    """A digest in one language: its week, title, items and the bulletins it covers."""

    week: str
    language: str
    title: str
    start: str  # first day it tells of (an edition: its first bulletin's), ISO date
    end: str  # last day it tells of, ISO date
    bulletin_count: int
    items: list[DigestItem] = field(default_factory=list)
    bulletin_ids: list[int] = field(default_factory=list)
    more_stories: int = 0  # stories of its bulletins left out of its items

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape (also what is stored)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Digest:
        """The inverse of `to_json` (stored payloads of version 1 have no `bulletin_ids`)."""
        values = dict(data)
        values["items"] = [
            DigestItem(**{**item, "others": [tuple(o) for o in item.get("others", [])]})
            for item in values.get("items", [])
        ]
        values.setdefault("bulletin_ids", [])
        return cls(**values)


@dataclass(frozen=True)
class Edition:
    """What one chat receives when its edition is cut at `cut_at`."""

    chat_id: int  # 0 for a new reader
    period: str  # the ISO week of delivery in the chat's time zone: one edition each
    cut_at: datetime
    key: str  # the content key its digest is stored under
    digest: Digest
    covered: tuple[int, ...]  # every bulletin of its window, also those left out by language

    @property
    def empty(self) -> bool:
        """Nothing new for this chat."""
        return not self.digest.items


# ---- weeks ----------------------------------------------------------------------------------


def parse_week(text: str) -> tuple[int, int]:
    """`2025-W28` → (2025, 28); raises `BadWeek`."""
    match = _WEEK.fullmatch(text.strip())
    if not match:
        raise BadWeek(f"expected a week like 2025-W28, got {text!r}")
    year, week = int(match[1]), int(match[2])
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        raise BadWeek(f"{year} has no week {week}") from None
    return year, week


def iso_week(day: date) -> str:
    """The ISO week (`YYYY-Www`) a day belongs to."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_of(moment: datetime, tz: ZoneInfo) -> str:
    """The ISO week (`YYYY-Www`) of a moment, in time zone `tz`."""
    return iso_week(moment.astimezone(tz).date())


def week_bounds(week: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00 in `tz`, as aware datetimes."""
    year, number = parse_week(week)
    monday = date.fromisocalendar(year, number, 1)
    start = datetime.combine(monday, time(0), tzinfo=tz)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=tz)
    return start, end


def chat_zone(name: str | None, default: ZoneInfo) -> ZoneInfo:
    """A chat's time zone by name, or `default` if it has none or an unknown one."""
    try:
        return ZoneInfo(name) if name else default
    except (ZoneInfoNotFoundError, ValueError):
        return default


def titled_week(moment: datetime, tz: ZoneInfo) -> str:
    """The week an edition cut at `moment` is titled with: its own from Friday on, else the
    one before (a Monday edition tells of the week that just ended)."""
    local = moment.astimezone(tz)
    if local.weekday() >= 4:
        return week_of(local, tz)
    return week_of(local - timedelta(days=7), tz)


def week_title(week: str, language: str) -> str:
    """`Semaine du 7 au 13 juillet 2025`, `Week of 7–13 July 2025`, `Тиждень 7–13 липня 2025`."""
    year, number = parse_week(week)
    first = date.fromisocalendar(year, number, 1)
    last = first + timedelta(days=6)
    months = LANGUAGES.get(language, LANGUAGES[FALLBACK]).months
    m1, m2 = months[first.month - 1], months[last.month - 1]
    same_month = first.month == last.month
    key = "week_one_month" if same_month else "week_two_months"
    return t(language, key, first=first.day, last=last.day, m1=m1, m2=m2, year=last.year)


def period_title(first: date, last: date, language: str) -> str:
    """The days an edition's bulletins were published: `Du 26 novembre au 3 décembre 2026`,
    `3 December 2026`, `29 грудня 2025 – 4 січня 2026`."""
    months = LANGUAGES.get(language, LANGUAGES[FALLBACK]).months
    m1, m2 = months[first.month - 1], months[last.month - 1]
    if first == last:
        key = "period_day"
    elif first.year != last.year:
        key = "period_two_years"
    else:
        key = "period_one_month" if first.month == last.month else "period_two_months"
    return t(language, key, first=first.day, last=last.day, m1=m1, m2=m2, year=last.year,
             year1=first.year)  # fmt: skip


def edition_span(window: list[WindowBulletin], zone: ZoneInfo, now: datetime) -> tuple[date, date]:
    """The first and last days (in the chat's zone) of the bulletins an edition covers; the
    cut's day alone when it covers none."""
    days = [datetime.fromisoformat(b.published_at).astimezone(zone).date() for b in window]
    today = now.astimezone(zone).date()
    return (min(days), max(days)) if days else (today, today)


# ---- building -------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def sources_for(window: list[WindowBulletin], language: str) -> list[WindowBulletin]:
    """The bulletins in the reader's language if there are any, else all; the newest few."""
    own = [b for b in window if b.language == language]
    return (own or window)[-MAX_SOURCES:]


def content_key(
    week: str,
    language: str,
    sources: list[WindowBulletin],
    covered: list[int],
    per_bulletin: int | None,
    span: tuple[date, date] | None = None,
    stories: dict[int, int] | None = None,
    items: int = MAX_ITEMS,
) -> str:
    """What a digest depends on, hashed: equal keys, equal digests."""
    parts = [f"v{DIGEST_VERSION}", week, language, f"cap {per_bulletin}"]
    parts += [f"items {items}"] if items != MAX_ITEMS else []
    parts += [f"span {span[0]}–{span[1]}"] if span else []
    parts += [f"story {b}:{s}" for b, s in sorted((stories or {}).items())]
    parts += [f"{b.id}:{b.summary_version}" for b in sorted(sources, key=lambda b: b.id)]
    parts += ["covers", *map(str, sorted(covered))]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _picks(found: list[SourceItem]) -> list[Pick]:
    return [
        Pick(c.text, c.language, (c.bulletin_id, *topic_of(c.section, c.paragraph)),
             c.bulletin_id, c.score)
        for c in found
    ]  # fmt: skip


def pick_items(
    found: list[SourceItem], per_bulletin: int | None, k: int = MAX_ITEMS
) -> list[SourceItem]:
    """The digest's items among every sentence of its bulletins, in reading order."""
    chosen = pick_for_coverage(_picks(found), k, per_group=per_bulletin)
    return [found[i] for i in sorted(chosen)]


@dataclass(frozen=True)
class Story:
    """The reports of a digest's window that tell one event — bulletins, and round-ups'
    sections (topics) — and who published them."""

    id: int
    bulletins: list[WindowBulletin]
    outlets: dict[str, int]  # outlet → its first bulletin here
    topics: tuple[tuple[WindowBulletin, int], ...] = ()  # (round-up, section) telling it too

    @property
    def latest(self) -> str:
        return max(b.published_at for b in [*self.bulletins, *(b for b, _ in self.topics)])

    @property
    def reports(self) -> int:
        return len(self.bulletins) + len(self.topics)


def stories_of(
    sources: list[WindowBulletin],
    members: dict[int, Member],
    topics: dict[tuple[int, int], Member] | None = None,
) -> list[Story]:
    """The window's bulletins grouped by story (a bulletin not filed: a story alone). A
    round-up's topic is in the story it was filed in when that story has another report
    here (a bulletin, or another round-up's topic); else it is only part of its round-up."""
    by_id = {b.id: b for b in sources}
    grouped: dict[int | tuple[str, int], list[WindowBulletin]] = {}
    for b in sources:
        key = members[b.id].story_id if b.id in members else ("alone", b.id)
        grouped.setdefault(key, []).append(b)
    told: dict[int, list[tuple[WindowBulletin, int, str]]] = {}
    for (bulletin_id, section), topic in sorted((topics or {}).items()):
        if bulletin_id in by_id:
            told.setdefault(topic.story_id, []).append((by_id[bulletin_id], section, topic.outlet))
    for story_id, parts in told.items():
        if story_id not in grouped and len({b.id for b, _, _ in parts}) < 2:
            told[story_id] = []  # a topic alone: its round-up's
    stories = []
    for key in [*grouped, *(k for k in told if k not in grouped and told[k])]:
        bulletins = grouped.get(key, [])
        outlets: dict[str, int] = {}
        for b in bulletins:
            outlets.setdefault(members[b.id].outlet if b.id in members else f"#{b.id}", b.id)
        parts = told.get(key, []) if isinstance(key, int) else []
        for b, _, outlet in parts:
            outlets.setdefault(outlet, b.id)
        story_id = key if isinstance(key, int) else -key[1]
        stories.append(Story(story_id, bulletins, outlets,
                             tuple((b, section) for b, section, _ in parts)))  # fmt: skip
    return stories


def story_rank(story: Story) -> tuple[int, int, float, int]:
    """Most outlets first, then most reports, then the most recent (then the oldest id)."""
    latest = datetime.fromisoformat(story.latest).timestamp()
    return (-len(story.outlets), -story.reports, -latest, story.id)


def pick_story_items(
    found: list[SourceItem], stories: list[Story], per_bulletin: int | None, k: int = MAX_ITEMS
) -> tuple[list[tuple[SourceItem, Story | None]], int]:
    """The digest's items, and how many stories were left out. With no story told by two
    outlets (one editor's round-ups), the items are picked for coverage as always. Else
    each story told by two outlets or more gives one item, its best sentence, most-covered
    stories first; the rest of the `k` are picked for coverage among the others. Asked for
    `ALL_ITEMS` (`/digest all`), every story gives one item first, most-covered first, and
    the room left goes to the one-outlet bulletins' other items (a week of one editor's
    round-ups is more than one item). A long digest (20) is a normal one with more room.
    A round-up's section that tells a story told here is that story's, not the round-up's:
    never told twice."""
    every = k >= ALL_ITEMS
    if every:  # `/digest all`: every story once, most-covered first
        told = sorted(stories, key=story_rank)
    else:
        told = sorted((s for s in stories if len(s.outlets) >= 2), key=story_rank)
    if not told:
        return [(c, None) for c in pick_items(found, per_bulletin, k)], 0
    by_bulletin: dict[int, list[int]] = {}
    by_section: dict[tuple[int, int], list[int]] = {}
    for i, c in enumerate(found):
        by_bulletin.setdefault(c.bulletin_id, []).append(i)
        by_section.setdefault((c.bulletin_id, c.section), []).append(i)
    carved = {(b.id, section): id(s) for s in told[:k] for b, section in s.topics}
    chosen: list[tuple[SourceItem, Story | None]] = []
    for story in told[:k]:
        own = [i for b in story.bulletins for i in by_bulletin.get(b.id, [])
               if (b.id, found[i].section) not in carved]  # fmt: skip
        own += [i for b, section in story.topics for i in by_section.get((b.id, section), [])]
        best = pick_for_coverage(_picks([found[i] for i in own]), 1, fill=True)
        if best:
            chosen.append((found[own[best[0]]], story if len(story.outlets) >= 2 else None))
    alone = {b.id for s in stories if len(s.outlets) < 2 and (every or s not in told)
             for b in s.bulletins}  # fmt: skip
    taken = {c.item_id for c, _ in chosen}
    rest = [c for c in found if c.bulletin_id in alone and (c.bulletin_id, c.section) not in carved
            and c.item_id not in taken]  # fmt: skip
    room = k - len(chosen)
    extra = pick_items(rest, per_bulletin, room) if room > 0 else []
    chosen += [(c, None) for c in extra]
    story_of = {b.id: id(s) for s in stories for b in s.bulletins}  # by object: ids may repeat
    shown = {carved.get((c.bulletin_id, c.section), story_of.get(c.bulletin_id)) for c, _ in chosen}
    return chosen, len(stories) - len(shown)


def build_digest(
    db: Database,
    sources: list[WindowBulletin],
    week: str,
    language: str,
    *,
    covered: list[int] | None = None,
    per_bulletin: int | None = None,
    span: tuple[date, date] | None = None,
    items: int = MAX_ITEMS,
) -> Digest:
    """The digest of `sources` for readers of `language`: titled with the days of `span`
    (an edition: the days its bulletins were published), else with `week`; its items tell
    the stories most outlets told first (`pick_story_items`)."""
    ids = [b.id for b in sources]
    stories = stories_of(sources, members_of(db, ids), topics_of(db, ids))
    found = source_items(db, [b.id for b in sources])
    chosen, left = pick_story_items(found, stories, per_bulletin, items)
    links = bulletin_links(db, [b for s, story in chosen if story for b in story.outlets.values()])
    titles = {c.bulletin_id: c.bulletin_title for c in found}
    if span is None:
        year, number = parse_week(week)
        monday = date.fromisocalendar(year, number, 1)
        span, title = (monday, monday + timedelta(days=6)), week_title(week, language)
    else:
        title = period_title(*span, language)
    return Digest(
        week=week,
        language=language,
        title=title,
        start=span[0].isoformat(),
        end=span[1].isoformat(),
        bulletin_count=len(sources),
        items=[
            DigestItem(
                c.item_id,
                c.bulletin_id,
                c.bulletin_title,
                c.published_at,
                c.text,
                c.score,
                c.language,
                c.link or "",
                len(story.outlets) if story else 1,
                [
                    (b, outlet if "." in outlet else titles.get(b, outlet), links.get(b) or "")
                    for outlet, b in story.outlets.items()
                ]  # an inbox's or admin's: its title
                if story
                else [],
            )
            for c, story in chosen
        ],
        bulletin_ids=sorted(covered if covered is not None else [b.id for b in sources]),
        more_stories=left,
    )


def week_digest(
    db: Database, week: str, language: str, tz: ZoneInfo, *, per_bulletin: int | None = None
) -> Digest:
    """The digest of every bulletin published in a calendar week (the operator's view)."""
    start, end = week_bounds(week, tz)
    second = timedelta(seconds=1)  # the window is (since, until]: [start, end) of the week
    window = window_bulletins(db, _iso(start - second), _iso(end - second))
    sources = sources_for(window, language)
    return build_digest(db, sources, week, language, per_bulletin=per_bulletin)


def edition_for(
    db: Database,
    chat_id: int | None,
    language: str,
    zone: ZoneInfo,
    now: datetime,
    *,
    per_bulletin: int | None = None,
    built: dict[str, Digest] | None = None,
    items: int = MAX_ITEMS,
    off: frozenset[str] = frozenset(),
) -> Edition:
    """What `chat_id` (None: a new reader, the last 7 days) would receive if its edition
    were cut at `now`, of at most `items` items, leaving out the bulletins of the sources
    it turned `off` (`source_key`). Writes nothing. `built` caches digests by content key
    across calls (a tick)."""
    last = last_edition_cut(db, chat_id) if chat_id is not None else None
    since = max((datetime.fromisoformat(last) if last else now) - LOOKBACK, now - MAX_LOOKBACK)
    given = covered_bulletins(db, chat_id, _iso(since)) if chat_id is not None else set()
    window = [b for b in window_bulletins(db, _iso(since), _iso(now))
              if b.id not in given and source_key(b.source) not in off]  # fmt: skip
    sources = sources_for(window, language)
    week = titled_week(now, zone)
    covered = [b.id for b in window]
    span = edition_span(window, zone, now)
    stories = story_ids(db, [b.id for b in sources])  # and its round-ups' topics' (by report)
    stories.update({t.bulletin_id: t.story_id for t in topics_of(db, list(stories)).values()})
    key = content_key(week, language, sources, covered, per_bulletin, span, stories, items)
    cache = built if built is not None else {}
    digest = cache.get(key)
    if digest is None:
        stored = stored_digest(db, key)
        digest = stored or build_digest(
            db, sources, week, language, covered=covered, per_bulletin=per_bulletin, span=span,
            items=items,
        )  # fmt: skip
        cache[key] = digest
    return Edition(chat_id or 0, week_of(now, zone), now, key, digest, tuple(covered))


def stored_digest(db: Database, key: str) -> Digest | None:
    """The digest stored under a content key, if any."""
    digest_id = digest_id_by_key(db, key)
    payload = load_digest_by_id(db, digest_id) if digest_id is not None else None
    return Digest.from_json(payload) if payload is not None else None


def store_edition(db: Database, edition: Edition) -> int:
    """Store an edition's digest under its content key (once); return the digest's id."""
    d = edition.digest
    return save_digest(db, edition.key, d.week, d.language, d.title, d.to_json(), edition.covered)
