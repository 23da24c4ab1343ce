"""Digest editions over the fake Bot API: each chat gets its own edition, cut when its slot
comes, never a bulletin twice, nothing when there is nothing new; /preview is what
/send_digest then delivers, byte for byte. The bot's clock is the test's."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlite_utils import Database
from telegram.ext import Application, CallbackContext

from bot.ingest import Limits, Submission, ingest
from bot.jobs import tick_job
from devtools.fakeapi import FakeBotApi
from devtools.telegram_rules import Sent
from storage.people import update_settings
from tests import test_bot as kit
from tests.conftest import settled
from tests.test_bot import ADMIN, OTHER, USER, say, tap

# the bot over the fake Bot API, as in test_bot.py
settings, app, db = kit.settings, kit.app, kit.db

A, B = USER, OTHER  # A's slot: Friday 09:00 in Paris; B's: Saturday 09:00


class Clock:
    """The bot's "now", moved by the test."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def add_bulletin(db: Database, name: str, text: str, published: datetime) -> int:
    out = ingest(db, Submission("file", name, data=text.encode(), published=published), Limits())
    assert out.status == "added" and out.bulletin_id is not None
    return out.bulletin_id


def rows(db: Database, chat: int) -> list[tuple[str, str | None]]:
    return [
        (r[0], r[1])
        for r in db.execute(
            "SELECT status, last_error FROM outbox WHERE kind = 'digest' AND chat_id = ? "
            "ORDER BY id",
            [chat],
        ).fetchall()
    ]


async def tick(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    await tick_job(CallbackContext(app))


async def digest_number(fake: FakeBotApi, chat: int, n: int) -> Sent:
    """The n-th message to `chat` that is a digest (its title, then its bulletin count)."""
    seen = 0

    def nth(s: Sent) -> bool:
        nonlocal seen
        lines = s.text.split("\n", 2)
        if (s.chat_id == chat and s.method == "sendMessage" and len(lines) > 1
                and re.fullmatch(r"\d+ bulletins?", lines[1]) is not None):  # fmt: skip
            seen += 1
        return seen == n

    return await fake.wait_for(nth)


async def subscribe(fake: FakeBotApi, db: Database, chat: int, day: int) -> None:
    await say(fake, chat, "/subscribe")
    update_settings(db, chat, digest_day=day, digest_time="09:00")


X = "Bilan du mercredi\n\nLa Russie a lancé 500 drones contre Lviv dans la nuit de mercredi."
Y = "Bilan du vendredi\n\nLe Parlement a nommé Oleksandr Kamychine ministre de la Défense."


async def test_each_chat_gets_its_own_edition_never_a_bulletin_twice(
    fake: FakeBotApi,
    app: Application,
    db: Database,  # type: ignore[type-arg]
) -> None:
    clock = Clock(datetime(2025, 9, 10, 6, tzinfo=UTC))
    app.bot_data.clock = clock
    await subscribe(fake, db, A, 4)
    await subscribe(fake, db, B, 5)
    add_bulletin(db, "2025-09-10-x.txt", X, datetime(2025, 9, 10, 12, tzinfo=UTC))
    before_a, before_b = len(fake.messages_to(A)), len(fake.messages_to(B))

    clock.now = datetime(2025, 9, 12, 7, 0, tzinfo=UTC)  # Friday 09:00 in Paris: A's slot
    await tick(app)
    first_a = await fake.reply(A, before_a)
    assert "Lviv" in first_a.text and "Kamychine" not in first_a.text
    # a bulletin published between the two slots: Friday 15:00
    add_bulletin(db, "2025-09-12-y.txt", Y, datetime(2025, 9, 12, 13, tzinfo=UTC))

    clock.now = datetime(2025, 9, 13, 7, 0, tzinfo=UTC)  # Saturday 09:00: B's slot
    await tick(app)
    first_b = await fake.reply(B, before_b)
    assert "Lviv" in first_b.text and "Kamychine" in first_b.text
    assert first_b.text.startswith("Du 10 au 12 septembre 2025\n2 bulletins\n")  # its days
    await settled(db)
    assert rows(db, A) == [("sent", None)]  # A is not served twice this week

    clock.now = datetime(2025, 9, 19, 7, 0, tzinfo=UTC)  # next Friday: A gets Y, not X again
    await tick(app)
    second_a = await fake.reply(A, before_a + 1)
    assert "Kamychine" in second_a.text and "Lviv" not in second_a.text

    clock.now = datetime(2025, 9, 20, 7, 0, tzinfo=UTC)  # next Saturday: nothing new for B
    await tick(app)
    await settled(db)
    assert rows(db, B) == [("sent", None), ("skipped", "nothing new")]
    assert rows(db, A) == [("sent", None), ("sent", None)]
    stats = await say(fake, ADMIN, "/stats")
    assert "rien de nouveau 1" in stats.text


async def test_an_empty_week_sends_nothing_and_records_the_skip(
    fake: FakeBotApi,
    app: Application,
    db: Database,  # type: ignore[type-arg]
) -> None:
    app.bot_data.clock = Clock(datetime(2026, 3, 7, 8, 30, tzinfo=UTC))  # Saturday 09:30
    await subscribe(fake, db, A, 5)
    await subscribe(fake, db, -1001, 5)  # a channel: no "nothing this week" post either
    count = len(fake.calls("sendMessage"))
    await tick(app)
    assert rows(db, A) == [("skipped", "nothing new")]
    assert rows(db, -1001) == [("skipped", "nothing new")]
    digest = await say(fake, A, "/digest")
    assert digest.text.startswith("Rien de nouveau depuis votre dernier résumé")
    assert len(fake.calls("sendMessage")) == count + 1  # only the answer to /digest


async def test_preview_is_what_send_digest_delivers_and_new_readers_get_current_text(
    fake: FakeBotApi,
    app: Application,
    db: Database,  # type: ignore[type-arg]
) -> None:
    clock = Clock(datetime(2025, 7, 18, 20, 0, tzinfo=UTC))  # Friday 22:00, after bulletin 3
    app.bot_data.clock = clock
    await subscribe(fake, db, ADMIN, 6)  # Sunday: not due yet, so /send_digest serves it
    count = len(fake.messages_to(ADMIN))
    fake.message(ADMIN, "/preview")
    header = await fake.reply(ADMIN, count)
    assert header.text.startswith("Aperçu : ce que ce chat recevrait maintenant")
    preview = await fake.reply(ADMIN, count + 1)
    assert db.execute("SELECT count(*) FROM digests").fetchone() == (0,)  # wrote nothing

    confirm = await say(fake, ADMIN, "/send_digest")
    done = await tap(fake, ADMIN, confirm, "ad:send:2025-W29")
    assert "Résumés en file d’envoi : 1 ;" in done.text
    delivered = await digest_number(fake, ADMIN, 2)  # the first was the preview
    assert delivered.html == preview.html  # byte for byte

    # a new bulletin, then a new subscriber: the edition they get is the current one
    add_bulletin(db, "2025-07-18-z.txt", Y, datetime(2025, 7, 18, 19, tzinfo=UTC))
    await subscribe(fake, db, OTHER, 6)
    before = len(fake.messages_to(OTHER))
    confirm = await say(fake, ADMIN, "/send_digest")
    assert "<b>1</b> abonné hebdomadaire" in confirm.html
    await tap(fake, ADMIN, confirm, "ad:send:2025-W29")
    fresh: Sent = await fake.reply(OTHER, before)
    assert "Kamychine" in fresh.text and "1235-1241" in fresh.text
    assert "Kamychine" not in delivered.text


async def test_the_nothing_new_note_when_the_setting_asks_for_it(
    fake: FakeBotApi,
    app: Application,
    db: Database,  # type: ignore[type-arg]
) -> None:
    from dataclasses import replace

    app.bot_data.settings = replace(app.bot_data.settings, empty_digest_notice=True)
    app.bot_data.clock = Clock(datetime(2026, 3, 7, 8, 30, tzinfo=UTC))  # nothing that week
    await subscribe(fake, db, A, 5)
    before = len(fake.messages_to(A))
    await tick(app)
    note = await fake.reply(A, before)
    assert "Rien de nouveau depuis votre dernier résumé." in note.text
    await settled(db)
    assert rows(db, A) == [("sent", None)]


async def test_send_digest_reaches_a_chat_whose_slot_found_nothing_new(
    fake: FakeBotApi,
    app: Application,
    db: Database,  # type: ignore[type-arg]
) -> None:
    """A skip is no digest: news published after a chat's empty slot reaches it when an
    admin sends the digest now, in the same week."""
    clock = Clock(datetime(2026, 11, 30, 8, 30, tzinfo=UTC))  # Monday 09:30 in Paris
    app.bot_data.clock = clock
    await subscribe(fake, db, A, 0)  # Monday 09:00: due now, nothing new
    await tick(app)
    assert rows(db, A) == [("skipped", "nothing new")]
    add_bulletin(db, "2026-12-02-x.txt", X, datetime(2026, 12, 2, 10, tzinfo=UTC))
    clock.now = datetime(2026, 12, 2, 12, tzinfo=UTC)  # Wednesday
    before = len(fake.messages_to(A))
    confirm = await say(fake, ADMIN, "/send_digest")
    assert "<b>1</b> abonné hebdomadaire" in confirm.html
    done = await tap(fake, ADMIN, confirm, "ad:send:2026-W49")
    assert "Résumés en file d’envoi : 1 ;" in done.text
    digest = await fake.reply(A, before)
    assert digest.text.startswith("2 décembre 2026\n1 bulletin\n") and "Lviv" in digest.text
    await settled(db)
    assert rows(db, A) == [("sent", None)]  # the skipped row became the digest
    again = await say(fake, ADMIN, "/send_digest")  # now A has its digest this week
    assert again.text.startswith("Chaque abonné hebdomadaire a déjà son résumé")


def test_an_edition_is_titled_with_its_bulletins_days(db: Database) -> None:
    from zoneinfo import ZoneInfo

    from bot.digest import edition_for

    add_bulletin(db, "a.txt", X, datetime(2026, 11, 27, 9, tzinfo=UTC))  # within 7 days
    add_bulletin(db, "b.txt", Y, datetime(2026, 12, 3, 8, tzinfo=UTC))
    paris = ZoneInfo("Europe/Paris")
    now = datetime(2026, 12, 3, 17, tzinfo=UTC)  # a Thursday: the ISO week before is W48
    titles = {lang: edition_for(db, None, lang, paris, now).digest.title
              for lang in ("fr", "en", "uk")}  # fmt: skip
    assert titles == {"fr": "Du 27 novembre au 3 décembre 2026",
                      "en": "27 November – 3 December 2026",
                      "uk": "27 листопада – 3 грудня 2026"}  # fmt: skip
    edition = edition_for(db, None, "fr", paris, now)
    assert (edition.digest.start, edition.digest.end) == ("2026-11-27", "2026-12-03")


def test_period_titles_across_a_year() -> None:
    from datetime import date

    from bot.digest import period_title

    assert period_title(date(2025, 12, 29), date(2026, 1, 4), "fr") == (
        "Du 29 décembre 2025 au 4 janvier 2026")  # fmt: skip
    assert period_title(date(2026, 7, 7), date(2026, 7, 13), "en") == "7–13 July 2026"
    assert period_title(date(2026, 7, 7), date(2026, 7, 7), "uk") == "7 липня 2026"


async def test_digest_all_tells_every_story_of_the_week(
    fake: FakeBotApi,
    app: Application,
    db: Database,  # type: ignore[type-arg]
) -> None:
    """`/digest all` through the bot: every story of the last 7 days, beyond the 10."""
    from tests.stories_week import STORY_THREE, UNRELATED
    from tests.test_stories import MONDAY, add

    for n, text in enumerate(UNRELATED[:20]):
        add(db, text, f"site{n}.example", MONDAY + timedelta(hours=n), f"Article {n}")
    for n, text in enumerate(STORY_THREE):
        add(db, text, f"outlet{n}.example", MONDAY + timedelta(days=1, hours=n))
    app.bot_data.clock = Clock(MONDAY + timedelta(days=3))
    short = await say(fake, USER, "/digest")
    assert "autres sujets dans ces bulletins : /digest all" in short.text
    assert "📰 3 sources" in short.text
    before = len(fake.messages_to(USER))
    fake.message(USER, "/digest all")
    parts = [await fake.reply(USER, before), await fake.reply(USER, before + 1)]  # 21 items
    whole = "\n\n".join(p.text for p in parts)
    assert "autres sujets" not in whole and "\n\n21. " in whole and "\n\n22. " not in whole
    assert (await say(fake, USER, "/digest tout")).text.startswith("Utilisation : /digest")
