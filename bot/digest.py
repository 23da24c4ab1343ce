"""The weekly digest: the week's headline items, ranked across bulletins, without repeats."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from bot.text.analyze import terms
from storage.digests import Candidate, save_digest, week_candidates, week_languages

MIN_ITEMS, MAX_ITEMS = 5, 10
DUPLICATE = 0.5  # term-set cosine above which two items tell the same news

_WEEK = re.compile(r"(\d{4})-?W(\d{1,2})", re.IGNORECASE)
_MONTHS = {
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "en": "January February March April May June July August September October November December",
    "uk": "січня лютого березня квітня травня червня липня серпня вересня жовтня листопада грудня",
}


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


@dataclass(frozen=True)
class Digest:
    """A week's digest in one language."""

    week: str
    language: str
    title: str
    start: str  # first day, ISO date
    end: str  # last day, ISO date
    bulletin_count: int
    items: list[DigestItem] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape (also what is stored)."""
        return asdict(self)


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


def week_of(moment: datetime, tz: ZoneInfo) -> str:
    """The ISO week (`YYYY-Www`) of a moment, in time zone `tz`."""
    year, week, _ = moment.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(week: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00 in `tz`, as aware datetimes."""
    year, number = parse_week(week)
    monday = date.fromisocalendar(year, number, 1)
    start = datetime.combine(monday, time(0), tzinfo=tz)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=tz)
    return start, end


def week_title(week: str, language: str) -> str:
    """`Semaine du 7 au 13 juillet 2025`, `Week of 7–13 July 2025`, `Тиждень 7–13 липня 2025`."""
    year, number = parse_week(week)
    first = date.fromisocalendar(year, number, 1)
    last = first + timedelta(days=6)
    months = _MONTHS.get(language, _MONTHS["fr"]).split()
    m1, m2 = months[first.month - 1], months[last.month - 1]
    same_month = first.month == last.month
    if language == "en":
        span = (
            f"{first.day}–{last.day} {m2}" if same_month else f"{first.day} {m1} – {last.day} {m2}"
        )
        return f"Week of {span} {last.year}"
    if language == "uk":
        span = (
            f"{first.day}–{last.day} {m2}" if same_month else f"{first.day} {m1} – {last.day} {m2}"
        )
        return f"Тиждень {span} {last.year}"
    span = (
        f"du {first.day} au {last.day} {m2}"
        if same_month
        else (f"du {first.day} {m1} au {last.day} {m2}")
    )
    return f"Semaine {span} {last.year}"


def _similar(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    shared = len(a.keys() & b.keys())
    return float(shared / (len(a) * len(b)) ** 0.5)


def pick_items(candidates: list[Candidate], language: str) -> list[Candidate]:
    """Rank across bulletins: every bulletin's best item first, then by score; no repeats."""
    bulletins = list(dict.fromkeys(c.bulletin_id for c in candidates))
    limit = min(MAX_ITEMS, max(MIN_ITEMS, 4 + 2 * len(bulletins)))
    leaders = [next(c for c in candidates if c.bulletin_id == b) for b in bulletins]
    leaders.sort(key=lambda c: -c.score)
    rest = sorted(
        (c for c in candidates if c not in leaders), key=lambda c: (c.headline_rank, -c.score)
    )
    chosen: list[Candidate] = []
    bags: list[Counter[str]] = []
    for candidate in leaders + rest:
        if len(chosen) >= limit:
            break
        bag = Counter(terms(candidate.text, language))
        if any(_similar(bag, other) >= DUPLICATE for other in bags):
            continue
        chosen.append(candidate)
        bags.append(bag)
    return chosen


def build_digest(db: Database, week: str, language: str, tz: ZoneInfo) -> Digest:
    """The digest of `week` for readers of `language` (all languages if none in it)."""
    start, end = week_bounds(week, tz)
    start_utc = start.astimezone(UTC).isoformat(timespec="seconds")
    end_utc = end.astimezone(UTC).isoformat(timespec="seconds")
    per_language = week_languages(db, start_utc, end_utc)
    source_language: str | None = language if per_language.get(language) else None
    candidates = week_candidates(db, start_utc, end_utc, source_language)
    chosen = pick_items(candidates, language)
    return Digest(
        week=week,
        language=language,
        title=week_title(week, language),
        start=start.date().isoformat(),
        end=(end.date() - timedelta(days=1)).isoformat(),
        bulletin_count=len({c.bulletin_id for c in candidates}),
        items=[
            DigestItem(c.item_id, c.bulletin_id, c.bulletin_title, c.published_at, c.text, c.score)
            for c in chosen
        ],
    )


def store_digest(db: Database, digest: Digest) -> int:
    """Save a digest (replacing an earlier build of the same week and language)."""
    return save_digest(
        db, digest.week, digest.language, digest.title, digest.to_json(), digest.bulletin_count
    )
