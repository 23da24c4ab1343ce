"""What is due, derived from the database alone: weekly digest editions, new-bulletin pushes,
alerts.

The minute tick calls `queue_due_digests` and `announce_new_bulletins`; both only add
outbox rows (idempotently: one digest row per chat and period), so running them twice,
late, after a restart or from a second process is harmless.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlite_utils import Database

from bot.config import Settings
from bot.digest import Digest, edition_for, items_for, store_edition, week_of
from bot.query import follow_query
from bot.text.analyze import Analyzer
from storage.bulletins import mark_announced, unannounced
from storage.outbox import EditionRow, enqueue, enqueue_editions, served_periods
from storage.people import (
    bulletin_sources,
    followed_terms,
    followers_of,
    push_chats,
    sources_off,
    unserved_at,
    weekly_slots,
    weekly_subscribers,
)
from storage.search import matching_items
from storage.stories import Member, members_of, told_before
from storage.tx import transaction

log = logging.getLogger(__name__)

MISSED = "slot missed by more than the catch-up window"
NOTHING_NEW = "nothing new"


@dataclass(frozen=True)
class Due:
    """A chat whose edition is due at `slot` (its weekly slot, or an admin's send)."""

    chat_id: int
    language: str
    zone: ZoneInfo
    slot: datetime
    length: str | None = None  # the chat's digest length (None: the operator's)

    @property
    def period(self) -> str:
        """The week of delivery in the chat's zone: one edition a chat and period."""
        return week_of(self.slot, self.zone)


def slot_of_week(now: datetime, zone: ZoneInfo, day: int, at: time) -> datetime:
    """This week's slot (Monday-based ISO week in `zone`) as an aware datetime.

    Daylight-saving gaps move a slot forward (02:30 on a spring-forward night is 03:30),
    folds take the first 02:30, as `zoneinfo` does with fold=0.
    """
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    wall = datetime.combine(monday + timedelta(days=day), at)
    aware = wall.replace(tzinfo=zone)
    # normalise a wall time that does not exist (spring forward)
    return aware.astimezone(ZoneInfo("UTC")).astimezone(zone)


def _zone_and_time(zone: str, at: str) -> tuple[ZoneInfo, time] | None:
    try:
        hour, minute = (int(x) for x in at.split(":"))
        return ZoneInfo(zone), time(hour, minute)
    except (ZoneInfoNotFoundError, ValueError, TypeError, AttributeError):
        return None


def due_chats(db: Database, now: datetime, catch_up: timedelta) -> tuple[list[Due], list[Due]]:
    """(due now, missed for longer than `catch_up`) among weekly subscribers, this week, of
    the chats that have no digest row for this week's period yet.

    Each slot chosen (time zone, day, time) is placed in its week once, and only the chats
    of the slots that have come, and are not served yet, are read: every minute of the
    week, with 100,000 subscribers served, this reads none, where reading every subscriber
    and every row of the period cost seconds a minute."""
    come: dict[tuple[str, int, str], tuple[ZoneInfo, datetime]] = {}
    for key in weekly_slots(db):
        zone_name, day, at = key
        settings = _zone_and_time(zone_name, at)
        if settings is None:
            log.warning("weekly slot %s has unusable settings: its chats get no digest", key)
            continue
        slot = slot_of_week(now, settings[0], day, settings[1])
        if slot <= now:
            come[key] = settings[0], slot
    due: list[Due] = []
    missed: list[Due] = []
    wanted = [(*key, week_of(slot, zone)) for key, (zone, slot) in come.items()]
    for chat_id, language, length, key in unserved_at(db, wanted):
        zone, slot = come[key]
        entry = Due(chat_id, language, zone, slot, length)
        (missed if now - slot > catch_up else due).append(entry)
    return due, missed


def due_now(db: Database, now: datetime) -> list[Due]:
    """Every weekly subscriber, due at `now` (an admin's "send the digest now")."""
    entries = []
    for chat in weekly_subscribers(db):
        settings = _zone_and_time(chat.timezone, chat.digest_time)
        if settings is None:
            log.warning("chat %s has unusable settings (%s, %s)", chat.chat_id, chat.timezone,
                        chat.digest_time)  # fmt: skip
        else:
            entries.append(Due(chat.chat_id, chat.language, settings[0], now, chat.digest_length))
    return entries


def unserved(db: Database, entries: list[Due], *, skips: bool = True) -> list[Due]:
    """The entries whose chat has no digest row for their period yet (without `skips`: no
    row but a skipped one — nothing new at its slot, or the slot missed)."""
    served = served_periods(db, {e.period for e in entries}, skips=skips)
    return [e for e in entries if (e.chat_id, e.period) not in served]


def queue_editions(
    db: Database,
    entries: list[Due],
    now: datetime,
    *,
    missed: list[Due] | None = None,
    send_empty: bool = False,
    per_bulletin: int | None = None,
    resend_skipped: bool = False,
    length: str = "normal",
) -> int:
    """Cut and queue each due chat's own edition (once a period); record the skips.

    A chat with nothing new gets nothing (a `skipped` row, "nothing new") unless
    `send_empty`; `missed` slots are recorded as skipped. With `resend_skipped` (an admin's
    send), a chat whose row this period was skipped is cut again: a skip is no digest.
    `length` is the operator's digest length, for chats that chose none. Returns how many
    were queued."""
    cut = now.astimezone(UTC).isoformat(timespec="seconds")
    rows = [
        EditionRow(e.chat_id, 0, e.period, cut, "skipped", MISSED)
        for e in unserved(db, missed or [])
    ]
    built: dict[str, Digest] = {}
    stored: dict[str, int] = {}
    waiting = unserved(db, entries, skips=not resend_skipped)
    offs = sources_off(db, [e.chat_id for e in waiting])
    for e in waiting:
        edition = edition_for(db, e.chat_id, e.language, e.zone, now, per_bulletin=per_bulletin,
                              built=built, items=items_for(e.length, length),
                              off=offs.get(e.chat_id, frozenset()))  # fmt: skip
        if edition.empty and not send_empty:
            rows.append(EditionRow(e.chat_id, 0, e.period, cut, "skipped", NOTHING_NEW))
            continue
        if edition.key not in stored:
            stored[edition.key] = store_edition(db, edition)
        rows.append(EditionRow(e.chat_id, stored[edition.key], e.period, cut))
    queued = enqueue_editions(db, rows, at=cut, replace_skipped=resend_skipped)
    skipped = sum(1 for r in rows if r.reason == MISSED)
    if skipped:
        log.warning("%d chats missed their digest slot by more than the catch-up window", skipped)
    return queued


def queue_what_is_due(db: Database, settings: Settings, analyzer: Analyzer, now: datetime) -> int:
    """Everything due at `now`: each chat's weekly edition whose slot has come, and the
    pushes and alerts for new bulletins (what the minute tick and `send` both do)."""
    queued = queue_due_digests(db, now, timedelta(hours=settings.catch_up_hours),
                               send_empty=settings.empty_digest_notice,
                               per_bulletin=settings.summary_items,
                               length=settings.digest_length)  # fmt: skip
    return queued + announce_new_bulletins(db, analyzer, now)


def queue_due_digests(
    db: Database,
    now: datetime,
    catch_up: timedelta,
    *,
    send_empty: bool = False,
    per_bulletin: int | None = None,
    length: str = "normal",
) -> int:
    """Queue the edition of every chat whose slot has come; return how many were queued."""
    due, missed = due_chats(db, now, catch_up)
    return queue_editions(db, due, now, missed=missed, send_empty=send_empty,
                          per_bulletin=per_bulletin, length=length)  # fmt: skip


MAX_PUSHED = 5  # bulletins named in one push; the rest are counted ("and 12 more")


def once_per_story(
    bulletins: list[int], members: dict[int, Member], heard: dict[int, set[str]]
) -> list[int]:
    """The bulletins that bring news: a story readers have not heard of, or a new bulletin
    of an outlet they heard it from (its own follow-up). A story heard from one outlet is
    not pushed or alerted again when another outlet tells it. `heard`: story → outlets."""
    told = {story: set(outlets) for story, outlets in heard.items()}
    kept = []
    for b in sorted(bulletins):
        member = members.get(b)
        if member is None:
            kept.append(b)
            continue
        outlets = told.get(member.story_id)
        if outlets is None or member.outlet in outlets:
            told.setdefault(member.story_id, set()).add(member.outlet)
            kept.append(b)
    return kept


def announce_new_bulletins(
    db: Database, analyzer: Analyzer, now: datetime, *, fresh: timedelta = timedelta(days=7)
) -> int:
    """Queue pushes for the bulletins not announced yet; return how many rows were queued.

    One message per chat for all that is new at once (five new bulletins are one push
    naming them): chats in "every bulletin" mode get the bulletins, chats following a word
    one of them mentions get an alert with the matching items; never a bulletin of a source
    the chat turned off. Only subscribed, reachable chats get anything. Bulletins published
    more than `fresh` ago (a feed's backlog, an archive loaded by hand) are marked announced
    without a push, and one push names at most the newest `MAX_PUSHED` (a feed of 10,000
    recent entries is one message, not 10,000)."""
    pending = unannounced(db)
    if not pending:
        return 0
    news = [b for b, published in pending if now - datetime.fromisoformat(published) <= fresh]
    payloads: dict[int, dict[str, Any]] = {}
    if news:
        earlier = told_before(db, news)
        members = members_of(db, [*news, *(b for ids in earlier.values() for b in ids)])
        heard_from = {s: {members[b].outlet for b in ids} for s, ids in earlier.items()}
        fresh_news = once_per_story(news, members, heard_from)
        source_of = bulletin_sources(db, news)
        pushed = push_chats(db)
        offs = sources_off(db, pushed)
        for chat_id in pushed:
            off = offs.get(chat_id, frozenset())
            if mine := [b for b in fresh_news if source_of.get(b) not in off]:
                payloads[chat_id] = {"bulletins": mine}
        matches: dict[str, dict[int, list[int]]] = {}
        heard = [b for ids in earlier.values() for b in ids]
        for term in followed_terms(db):  # each word once; then only the chats of those found
            fts = follow_query(analyzer, term)
            if not fts or not (hits := matching_items(db, fts, news)):
                continue
            alerted: dict[int, set[str]] = {}  # stories an earlier source of alerted with it
            for b in matching_items(db, fts, heard) if heard else {}:
                alerted.setdefault(members[b].story_id, set()).add(members[b].outlet)
            kept = once_per_story(sorted(hits), members, alerted)
            if kept:
                matches[term] = {b: hits[b] for b in kept}
        following = followers_of(db, sorted(matches))
        offs = sources_off(db, sorted({chat_id for chat_id, _ in following}))
        for chat_id, term in following:
            off = offs.get(chat_id, frozenset())
            kept_for = {b: f for b, f in matches[term].items() if source_of.get(b) not in off}
            if not kept_for:
                continue
            entry = payloads.setdefault(chat_id, {"bulletins": [], "alert": True})
            entry.setdefault("terms", []).append(term)
            items = entry.setdefault("items", {})
            for bulletin_id, found in kept_for.items():
                known = items.setdefault(str(bulletin_id), [])
                known.extend(i for i in found if i not in known)
                if bulletin_id not in entry["bulletins"]:
                    entry["bulletins"].append(bulletin_id)
    queued = 0
    with transaction(db):
        by_first: dict[int, list[int]] = {}
        for chat_id, entry in payloads.items():
            chosen = sorted(set(entry["bulletins"]), reverse=True)  # newest first
            entry["more"] = max(0, len(chosen) - MAX_PUSHED)
            entry["bulletins"] = chosen[:MAX_PUSHED]
            by_first.setdefault(entry["bulletins"][0], []).append(chat_id)
        for first, chats in by_first.items():
            own = {c: payloads[c] for c in chats}
            queued += enqueue(db, "bulletin", first, chats, payloads=own, at=now.isoformat())
        mark_announced(db, [b for b, _ in pending], now.isoformat(timespec="seconds"))
    return queued
