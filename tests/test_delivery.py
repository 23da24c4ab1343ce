"""Delivery: slots from the database with a frozen clock, pushes and alerts, and the sender
against the fake Bot API over HTTP — 429, 5xx, timeouts, 403, bad HTML, crashes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlite_utils import Database
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.delivery.schedule import announce_new_bulletins, queue_due_digests, slot_of_week
from bot.delivery.sender import Sender
from bot.digest import titled_week
from bot.ingest import Limits, Submission, expand_paths, ingest, ingest_paths
from bot.text.analyze import analyzer_for
from devtools.fakeapi import FakeBotApi
from storage.people import add_follow, ensure_chat, set_subscribed, update_settings
from storage.store import Store
from tests.conftest import ROOT, SAMPLES

PARIS = ZoneInfo("Europe/Paris")
TOKEN = "123456:delivery-test-token-abcdefghij"
SAT_9 = datetime(2025, 7, 12, 7, 0, tzinfo=UTC)  # Saturday 09:00 in Paris (UTC+2)


def subscriber(db: Database, chat_id: int, *, tz: str = "Europe/Paris", day: int = 5, at: str = "09:00",
               mode: str = "weekly", language: str = "fr") -> None:  # fmt: skip
    ensure_chat(db, chat_id, "private" if chat_id > 0 else "group", None, language=language,
                timezone=tz, digest_day=day, digest_time=at)  # fmt: skip
    update_settings(db, chat_id, mode=mode, language=language)
    set_subscribed(db, chat_id, True)


def rows(db: Database, kind: str | None = None) -> list[tuple[int, str, str | None]]:
    sql = "SELECT chat_id, status, last_error FROM outbox"
    if kind:
        sql += f" WHERE kind = '{kind}'"
    return [tuple(r) for r in db.execute(sql + " ORDER BY chat_id").fetchall()]  # type: ignore[misc]


@pytest.fixture
def archive(db: Database, limits: Limits) -> Database:
    ingest_paths(db, list(expand_paths([SAMPLES])), limits)
    return db


# ---- slots ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "zone", "day", "at", "expected"),
    [
        # Saturday 09:00 in Paris, summer time (UTC+2)
        (SAT_9, "Europe/Paris", 5, time(9), "2025-07-12T07:00:00+00:00"),
        # Kathmandu is UTC+5:45
        (SAT_9, "Asia/Kathmandu", 5, time(9), "2025-07-12T03:15:00+00:00"),
        # St John's is UTC-2:30 in summer
        (SAT_9, "America/St_Johns", 5, time(9), "2025-07-12T11:30:00+00:00"),
        # Paris springs forward on 30 March 2025: 02:30 does not exist, it becomes 03:30 (01:30 UTC)
        (
            datetime(2025, 3, 30, 12, tzinfo=UTC),
            "Europe/Paris",
            6,
            time(2, 30),
            "2025-03-30T01:30:00+00:00",
        ),
        # and falls back on 26 October 2025: 02:30 happens twice, the first one (UTC+2) counts
        (
            datetime(2025, 10, 26, 12, tzinfo=UTC),
            "Europe/Paris",
            6,
            time(2, 30),
            "2025-10-26T00:30:00+00:00",
        ),
        # the week is the chat's own: Monday 00:30 in Kathmandu is still Sunday in UTC
        (
            datetime(2025, 7, 13, 19, tzinfo=UTC),
            "Asia/Kathmandu",
            0,
            time(0, 30),
            "2025-07-13T18:45:00+00:00",
        ),
    ],
)
def test_slot_of_week(now: datetime, zone: str, day: int, at: time, expected: str) -> None:
    assert slot_of_week(now, ZoneInfo(zone), day, at).astimezone(UTC).isoformat() == expected


def test_titled_week() -> None:
    # Saturday: this week; Monday: the week that just ended
    assert titled_week(datetime(2025, 7, 12, 9, tzinfo=PARIS), PARIS) == "2025-W28"
    assert titled_week(datetime(2025, 7, 14, 9, tzinfo=PARIS), PARIS) == "2025-W28"


def test_due_once_per_week(archive: Database) -> None:
    subscriber(archive, 1)
    subscriber(archive, 2, tz="Asia/Kathmandu")
    subscriber(archive, 3, tz="America/St_Johns")
    subscriber(archive, 4, mode="every")  # no weekly digest
    catch_up = timedelta(hours=6)
    assert queue_due_digests(archive, SAT_9 - timedelta(minutes=1), catch_up) == 1  # Kathmandu
    assert queue_due_digests(archive, SAT_9, catch_up) == 1  # Paris
    assert queue_due_digests(archive, SAT_9, catch_up) == 0  # the tick again: nothing
    assert queue_due_digests(archive, SAT_9 + timedelta(hours=5), catch_up) == 1  # St John's
    assert [r[:2] for r in rows(archive)] == [(1, "pending"), (2, "pending"), (3, "pending")]
    # one digest per week and language, built once
    assert archive.execute("SELECT week, language FROM digests").fetchall() == [("2025-W28", "fr")]
    # a chat that switches language after its digest does not get a second one
    update_settings(archive, 1, language="en")
    assert queue_due_digests(archive, SAT_9 + timedelta(hours=1), catch_up) == 0


def test_catch_up_window(archive: Database) -> None:
    subscriber(archive, 1)
    subscriber(archive, 2, at="15:00")
    # the bot was down from Friday to Saturday 19:00 (Paris): 09:00 is too old, 15:00 is not
    now = datetime(2025, 7, 12, 17, 0, tzinfo=UTC)
    assert queue_due_digests(archive, now, timedelta(hours=6)) == 1
    assert rows(archive) == [
        (1, "skipped", "slot missed by more than the catch-up window"),
        (2, "pending", None),
    ]
    assert queue_due_digests(archive, now + timedelta(hours=1), timedelta(hours=6)) == 0


def test_a_slot_read_once_a_tick_whatever_its_chats(
    archive: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """The tick reads the slots chosen, then only the chats of the slots that have come and
    are not served: a chat whose settings cannot be used costs its own digest only, and a
    chat joining a slot already served this week is still served."""
    subscriber(archive, 1)
    subscriber(archive, 2)
    subscriber(archive, 3, tz="Mars/Olympus_Mons")  # stored by an older version, say
    catch_up = timedelta(hours=6)
    assert queue_due_digests(archive, SAT_9, catch_up) == 2
    assert "('Mars/Olympus_Mons', 5, '09:00') has unusable settings" in caplog.text
    subscriber(archive, 4)  # joins the 09:00 slot after its tick
    assert queue_due_digests(archive, SAT_9 + timedelta(minutes=1), catch_up) == 1
    assert queue_due_digests(archive, SAT_9 + timedelta(minutes=2), catch_up) == 0
    assert [r[:2] for r in rows(archive)] == [(1, "pending"), (2, "pending"), (4, "pending")]


NEW = (
    "Bilan du jour\n\nL’OTAN promet des systèmes Patriot à Kyiv. Les frappes sur Odessa continuent."
)


def test_new_bulletin_pushes_and_alerts(db: Database, limits: Limits) -> None:
    subscriber(db, 1, mode="every")
    subscriber(db, 2, mode="weekly")
    subscriber(db, 3, mode="both")
    subscriber(db, 4, mode="weekly")
    for chat, term in ((2, "nato"), (2, "Odessa"), (3, "Patriot"), (4, "Kharkiv")):
        add_follow(db, chat, term, term.lower())
    now = SAT_9
    out = ingest(db, Submission("file", "2025-07-12-jour.txt", data=NEW.encode()), limits)
    assert announce_new_bulletins(db, analyzer_for(), now) == 3
    assert announce_new_bulletins(db, analyzer_for(), now) == 0  # announced once
    payloads = dict(
        db.execute(
            "SELECT chat_id, payload FROM outbox WHERE content_id = ?", [out.bulletin_id]
        ).fetchall()
    )
    assert sorted(payloads) == [1, 2, 3]  # one message each; chat 4's word is not there
    assert '"terms": ["nato", "Odessa"]' in payloads[2]
    assert '"terms": ["Patriot"]' in payloads[3]


def test_old_bulletins_are_not_pushed(db: Database, limits: Limits) -> None:
    subscriber(db, 1, mode="every")
    ingest(db, Submission("file", "2020-01-03-old.txt", data=NEW.encode()), limits)
    assert announce_new_bulletins(db, analyzer_for(), SAT_9) == 0
    assert db.execute("SELECT count(*) FROM bulletins WHERE announced_at IS NULL").fetchone() == (
        0,
    )


# ---- the sender, over HTTP ----------------------------------------------------------------------


@pytest.fixture
async def bot(fake: FakeBotApi) -> AsyncIterator[Bot]:
    b = Bot(
        TOKEN,
        base_url=f"{fake.url}/bot",
        request=HTTPXRequest(connection_pool_size=16, read_timeout=0.5),
    )
    async with b:
        yield b


class Clock:
    """The test's clock: wall time it moves by hand, and a monotonic time that sleeps advance.

    The sender asks it for "now" and sleeps on it, so pacing and RetryAfter waits are
    checked without waiting for real seconds."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.mono = 0.0
        self.slept = 0.0

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    async def sleep(self, seconds: float) -> None:
        self.mono += seconds
        self.slept += seconds
        await asyncio.sleep(0)


OPEN_STORES: list[Store] = []


@pytest.fixture(autouse=True)
def close_stores() -> Iterator[None]:
    yield
    while OPEN_STORES:
        OPEN_STORES.pop().close()


def make_sender(db: Database, bot: Bot, clock: Clock, **kwargs: object) -> Sender:
    """A sender on its own store of the test's database file, as the bot runs it."""
    options: dict[str, object] = {"rate": 500, "monotonic": clock.monotonic, "sleep": clock.sleep}
    options.update(kwargs)
    store = Store(db.execute("PRAGMA database_list").fetchone()[2])
    OPEN_STORES.append(store)
    return Sender(store, bot, now=clock, **options)  # type: ignore[arg-type]


def queue_digest(db: Database, chats: list[int]) -> None:
    for chat in chats:
        subscriber(db, chat)
    assert queue_due_digests(db, SAT_9, timedelta(hours=6)) == len(chats)


def copies(fake: FakeBotApi) -> Counter[int]:
    return Counter(s.chat_id for s in fake.sent if s.method == "sendMessage")


async def test_sends_each_digest_once(archive: Database, fake: FakeBotApi, bot: Bot) -> None:
    chats = [*range(1, 41), -100, -101]
    queue_digest(archive, chats)
    clock = Clock(SAT_9)
    sender = make_sender(archive, bot, clock, bot_username="hebdo_test_bot")
    assert await sender.drain_once() == len(chats)
    assert copies(fake) == Counter({c: 1 for c in chats})
    assert {r[1] for r in rows(archive)} == {"sent"}
    assert fake.sent[0].text.startswith("11 juillet 2025\n1 bulletin\n")  # its bulletin's day
    ids = archive.execute("SELECT message_ids FROM outbox WHERE chat_id = 1").fetchone()[0]
    assert ids == f"[{fake.messages_to(1)[0].message_id}]"
    assert await sender.drain_once() == 0  # nothing twice
    # paced: 42 messages at 500/s take about 42/500 s of (virtual) time
    assert clock.mono == pytest.approx(41 / 500, abs=0.01)


async def test_retry_after_is_honoured(archive: Database, fake: FakeBotApi, bot: Bot) -> None:
    queue_digest(archive, [1, 2, 3])
    fake.fail("sendMessage", 429, retry_after=1, chat_id=2)
    clock = Clock(SAT_9)
    sender = make_sender(archive, bot, clock)
    await sender.drain_once()
    assert dict((c, s) for c, s, _ in rows(archive)) == {1: "sent", 2: "pending", 3: "sent"}
    assert "429" in (rows(archive)[1][2] or "")
    paused_at = clock.mono
    clock.now += timedelta(seconds=1)
    await sender.drain_once()
    assert clock.mono >= paused_at + 0.9  # everything waited as told before sending again
    assert copies(fake) == Counter({1: 1, 2: 1, 3: 1})


async def test_5xx_bursts_and_timeouts_back_off(
    archive: Database, fake: FakeBotApi, bot: Bot
) -> None:
    queue_digest(archive, [1, 2, 3, 4])
    fake.fail("sendMessage", 502, count=2)
    fake.fail("sendMessage", 500, count=1)
    fake.stalls, fake.stall_seconds = 1, 0.8  # one request times out (read timeout 0.5 s)
    clock = Clock(SAT_9)
    sender = make_sender(archive, bot, clock)
    await sender.drain_once()
    waiting = [r for r in rows(archive) if r[1] == "pending"]
    assert len(waiting) == 4 - sum(copies(fake).values())
    for step in range(1, 8):  # 5 s, 10 s … of back-off, on the test's clock
        clock.now += timedelta(seconds=5 * 2**step)
        await sender.drain_once()
    assert copies(fake) == Counter({1: 1, 2: 1, 3: 1, 4: 1})
    assert {r[1] for r in rows(archive)} == {"sent"}


async def test_gives_up_after_max_attempts(archive: Database, fake: FakeBotApi, bot: Bot) -> None:
    queue_digest(archive, [7])
    fake.fail("sendMessage", 500, count=100)
    clock = Clock(SAT_9)
    sender = make_sender(archive, bot, clock)
    for _ in range(8):
        await sender.drain_once()
        clock.now += timedelta(hours=1)
    status, error = archive.execute("SELECT status, last_error FROM outbox").fetchone()
    assert status == "failed" and "gave up after 5 attempts" in error


async def test_forbidden_and_missing_chats(archive: Database, fake: FakeBotApi, bot: Bot) -> None:
    queue_digest(archive, [1, 2, 3])
    fake.fail("sendMessage", 403, chat_id=1)
    fake.fail("sendMessage", 400, "Bad Request: chat not found", chat_id=3)
    await make_sender(archive, bot, Clock(SAT_9)).drain_once()
    assert [r[:2] for r in rows(archive)] == [(1, "skipped"), (2, "sent"), (3, "skipped")]
    active = dict(archive.execute("SELECT chat_id, active FROM subscribers").fetchall())
    assert active == {1: 0, 2: 1, 3: 0}
    # an inactive chat is not queued again next week
    assert queue_due_digests(archive, SAT_9 + timedelta(days=7), timedelta(hours=6)) == 1


async def test_bad_html_is_resent_as_plain_text(archive: Database, fake: FakeBotApi, bot: Bot,
                                                 caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    queue_digest(archive, [1])
    fake.fail(
        "sendMessage", 400, "Bad Request: can't parse entities: unexpected end tag", chat_id=1
    )
    await make_sender(archive, bot, Clock(SAT_9)).drain_once()
    (message,) = fake.messages_to(1)
    assert "<b>" not in message.html and message.text.startswith("11 juillet 2025")
    assert "BUG: Telegram refused our HTML" in caplog.text
    assert rows(archive)[0][1] == "sent"


async def test_long_digest_parts_in_order_and_resumed(
    archive: Database, fake: FakeBotApi, bot: Bot
) -> None:
    queue_digest(archive, [1])
    archive.execute("UPDATE digests SET payload = json_set(payload, '$.items', json(?))",
                    ["[" + ",".join(['{"item_id": 1, "bulletin_id": 1, "bulletin_title": "T", '
                                     '"published_at": "2025-07-11", "text": "' + "mot " * 170 + '", "score": 1}'] * 30) + "]"])  # fmt: skip
    fake.fail("sendMessage", 500, count=1)
    fake.failures[-1].count = 0  # armed below, after the first part
    clock = Clock(SAT_9)
    sender = make_sender(archive, bot, clock)
    original = fake._maybe_fail
    armed = [True]

    def fail_second_part(method: str, params: dict[str, object]) -> None:
        if len(fake.sent) == 1 and armed[0]:
            armed[0] = False
            fake.failures[-1].count = 1
        original(method, params)

    fake._maybe_fail = fail_second_part  # type: ignore[method-assign]
    await sender.drain_once()
    assert len(fake.sent) == 1 and rows(archive)[0][1] == "pending"
    clock.now += timedelta(minutes=1)
    await sender.drain_once()
    parts = fake.messages_to(1)
    # the first part was not resent
    assert len(parts) >= 3 and parts[0].text.startswith("11 juillet 2025")
    numbers = [
        int(line.split(". ")[0])
        for p in parts
        for line in p.text.split("\n")
        if line.split(". ")[0].isdigit()
    ]
    assert numbers == list(range(1, 31))
    assert clock.slept >= len(parts) - 1  # parts to one private chat: one a second


async def test_cancelled_mid_run_then_restarted(
    archive: Database, fake: FakeBotApi, bot: Bot
) -> None:
    chats = list(range(1, 301))
    queue_digest(archive, chats)
    sender = make_sender(archive, bot, Clock(SAT_9), concurrency=8, private_interval=0.0)
    task = asyncio.create_task(sender.run())
    await fake.wait_calls("sendMessage", 100)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    in_flight = archive.execute("SELECT count(*) FROM outbox WHERE status = 'sending'").fetchone()[
        0
    ]
    restarted = make_sender(archive, bot, Clock(SAT_9))
    assert await restarted.recover() == in_flight
    await restarted.drain_once()
    counted = copies(fake)
    assert set(counted) == set(chats)
    duplicates = [c for c, n in counted.items() if n > 1]
    assert (
        all(counted[c] == 2 for c in duplicates) and len(duplicates) <= 8
    )  # at most the ones in flight
    assert {r[1] for r in rows(archive)} == {"sent"}


def send_process(
    fake: FakeBotApi, tmp_path: Path, database: Path, rate: int, **env: str
) -> tuple[list[str], dict[str, str]]:
    """The command and environment of a `python -m bot send` on the test's database and fake
    API, acting at the test's moment (never at the wall clock's)."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_PATH": str(database),
                   "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": f"{fake.url}/bot",
                   "VARIANTS_FILE": str(tmp_path / "none.txt"), **env}  # fmt: skip
    at = (SAT_9 + timedelta(minutes=1)).isoformat()
    command = [sys.executable, "-m", "bot", "--env-file", "/dev/null", "send", "--rate",
               str(rate), "--now", at]  # fmt: skip
    return command, environment


async def test_sigkill_and_restart(
    archive: Database, fake: FakeBotApi, tmp_path: Path, settings_path: Path
) -> None:
    chats = list(range(1, 401))
    queue_digest(archive, chats)
    command, env = send_process(fake, tmp_path, settings_path, 200)
    worker = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        await fake.wait_calls("sendMessage", 80, timeout=60)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL
    before = sum(copies(fake).values())
    assert before < len(chats)  # killed mid-run
    again = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0, again.stderr
    counted = copies(fake)
    assert set(counted) == set(chats)
    duplicates = [c for c, n in counted.items() if n > 1]
    assert all(counted[c] == 2 for c in duplicates) and len(duplicates) <= 32
    statuses = {s for (s,) in archive.execute("SELECT status FROM outbox")}
    assert statuses == {"sent"}


async def test_a_kill_loop_repeats_at_most_what_was_in_flight(
    archive: Database, fake: FakeBotApi, tmp_path: Path, settings_path: Path
) -> None:
    """N SIGKILLs of a sender at 300/s: at most N × SEND_CONCURRENCY messages twice. Each
    accepted message is written before its slot sends another (outcomes once waited up to
    0.1 s for a batched write: about 25 repeats a kill at this rate, with any concurrency)."""
    chats = list(range(1, 1201))
    queue_digest(archive, chats)
    command, env = send_process(fake, tmp_path, settings_path, 300, SEND_CONCURRENCY="4")
    kills = 4
    for _ in range(kills):
        reached = len(fake.calls("sendMessage"))
        worker = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            await fake.wait_calls("sendMessage", reached + 150, timeout=60)
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
        assert worker.returncode == -signal.SIGKILL
    assert sum(copies(fake).values()) < len(chats)  # every kill was mid-run
    again = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0, again.stderr
    counted = copies(fake)
    assert set(counted) == set(chats)
    assert sum(n - 1 for n in counted.values()) <= kills * 4
    assert {s for (s,) in archive.execute("SELECT status FROM outbox")} == {"sent"}


@pytest.mark.timing
async def test_two_senders_never_exceed_the_bots_rate(
    archive: Database, fake: FakeBotApi, tmp_path: Path, settings_path: Path
) -> None:
    """Telegram's limit is per bot: a second `send` beside a running one (a cron job beside
    the bot) finds the outbox held, says by whom, and sends nothing. Two senders each paced
    at 150/s against a 200/s limit once drew 429s (each one's pace was its own)."""
    fake.rate_limit = 200
    # The emulator reads requests when this process's loop gets a core: while the second
    # process starts on a 2-core machine it can stall ~70 ms and then read a backlog at once,
    # which a 10-token bucket counted as a burst from one sender alone (14 x 429 in CI). Half
    # a second of tolerance absorbs that and still overflows at two senders' 300/s.
    fake.burst = 0.5
    chats = list(range(1, 801))
    queue_digest(archive, chats)
    command, env = send_process(fake, tmp_path, settings_path, 150)
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)  # fmt: skip
    try:
        await fake.wait_calls("sendMessage", 30, timeout=60)
        second = await asyncio.to_thread(
            subprocess.run, command, env=env, capture_output=True, text=True, timeout=120
        )
        _, err = await asyncio.to_thread(first.communicate, timeout=120)
    finally:
        first.kill()
    assert second.returncode == 0 and first.returncode == 0, (second.stderr, err)
    assert "nothing sent" in second.stdout and f":{first.pid}:" in second.stdout
    assert fake.rejected == 0  # one rate for the bot
    assert copies(fake) == {c: 1 for c in chats}
    lease = archive.execute("SELECT count(*) FROM sender_lease").fetchone()[0]
    assert lease == 0  # given up when done: the next sender starts at once


async def test_the_bots_sender_waits_while_another_holds_the_outbox(
    archive: Database, fake: FakeBotApi, bot: Bot
) -> None:
    queue_digest(archive, [1, 2, 3])
    clock = Clock(SAT_9)
    until = (SAT_9 + timedelta(minutes=10)).isoformat()
    with archive.conn:  # a `send` on another machine holds it
        archive.execute("INSERT INTO sender_lease (id, holder, until) VALUES (1, ?, ?)",
                        ["elsewhere:4242:cafe", until])  # fmt: skip
    sender = make_sender(archive, bot, clock)
    assert await sender.drain_once() == 0 and sender.held_by == ("elsewhere:4242:cafe", until)
    assert fake.calls("sendMessage") == []
    clock.now += timedelta(minutes=11)  # its lease ran out: taken over
    assert await sender.drain_once() == 3 and sender.held_by is None
    assert copies(fake) == {1: 1, 2: 1, 3: 1}
    holder = archive.execute("SELECT holder FROM sender_lease").fetchone()[0]
    assert holder == sender.name
    await sender.release()
    assert archive.execute("SELECT count(*) FROM sender_lease").fetchone()[0] == 0


@pytest.fixture
def settings_path(db_path: Path) -> Path:
    return db_path


async def test_a_row_that_cannot_be_rendered_fails_alone(
    archive: Database, fake: FakeBotApi, bot: Bot
) -> None:
    queue_digest(archive, [1, 2])
    from storage.outbox import enqueue

    enqueue(archive, "bulletin", 999, [1], at=SAT_9.isoformat())  # a bulletin that does not exist
    await make_sender(archive, bot, Clock(SAT_9)).drain_once()
    statuses = archive.execute(
        "SELECT kind, chat_id, status, last_error FROM outbox ORDER BY id"
    ).fetchall()
    assert statuses[:2] == [("digest", 1, "sent", None), ("digest", 2, "sent", None)]
    assert statuses[2][:3] == ("bulletin", 1, "failed") and "gone" in statuses[2][3]


async def test_a_bulletin_deleted_after_the_cut_is_not_sent(
    archive: Database, fake: FakeBotApi, bot: Bot, limits: Limits
) -> None:
    extra = "Bilan du jeudi\n\nLe Parlement a nommé Oleksandr Kamychine ministre de la Défense."
    added = ingest(archive, Submission("file", "2025-07-10-jeudi.txt", data=extra.encode()), limits)
    queue_digest(archive, [1, 2])
    archive.execute("UPDATE bulletins SET deleted_at = 'x' WHERE id = ?", [added.bulletin_id])
    await make_sender(archive, bot, Clock(SAT_9)).drain_once()
    (message,) = fake.messages_to(1)
    assert "Kamychine" not in message.text and "741" in message.text
    # a digest whose every bulletin was deleted after the cut is not sent at all
    subscriber(archive, 3, language="en")
    assert queue_due_digests(archive, SAT_9, timedelta(hours=6)) == 1
    archive.execute("UPDATE bulletins SET deleted_at = 'x'")
    await make_sender(archive, bot, Clock(SAT_9)).drain_once()
    assert fake.messages_to(3) == []
    status, error = archive.execute(
        "SELECT status, last_error FROM outbox WHERE chat_id = 3"
    ).fetchone()
    assert status == "failed" and "deleted" in error


async def test_two_senders_never_send_a_row_twice(
    archive: Database, fake: FakeBotApi, tmp_path: Path, settings_path: Path
) -> None:
    """A cron `send` beside another sender: 3,000 chats, each served exactly once."""
    chats = list(range(1, 3001))
    archive.execute("UPDATE bulletins SET announced_at = created_at")
    for chat in chats:
        ensure_chat(archive, chat, "private", None, language="fr", timezone="Europe/Paris",
                    digest_day=5, digest_time="09:00")  # fmt: skip
    archive.execute("UPDATE subscribers SET subscribed = 1")
    assert queue_due_digests(archive, SAT_9, timedelta(hours=6)) == len(chats)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_PATH": str(settings_path),
           "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": f"{fake.url}/bot",
           "VARIANTS_FILE": str(tmp_path / "none.txt")}  # fmt: skip
    command = [sys.executable, "-m", "bot", "--env-file", "/dev/null", "send", "--rate", "600",
               "--now", (SAT_9 + timedelta(minutes=1)).isoformat()]  # fmt: skip
    first, second = (
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    )
    for worker in (first, second):
        code = await asyncio.to_thread(worker.wait, 120)
        assert code == 0, (worker.stderr.read() if worker.stderr else b"").decode()
    counted = copies(fake)
    assert set(counted) == set(chats) and max(counted.values()) == 1
    assert {r[1] for r in rows(archive)} == {"sent"}


async def test_outcomes_survive_a_locked_database(
    archive: Database, fake: FakeBotApi, bot: Bot, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Another connection holds the write lock while messages go out: every outcome is
    still written once the lock is released, none is lost, nothing is sent twice."""
    import sqlite3
    import threading

    queue_digest(archive, list(range(1, 61)))
    locker = sqlite3.connect(db_path, check_same_thread=False)
    release, locked = threading.Event(), threading.Event()

    def hold_lock() -> None:
        locker.execute("BEGIN IMMEDIATE")
        locked.set()
        release.wait(0.5)  # a long transaction elsewhere, then it ends
        locker.execute("COMMIT")

    holder: threading.Thread | None = None
    original = fake._maybe_fail

    def lock_after_first_send(method: str, params: dict[str, object]) -> None:
        nonlocal holder
        if holder is None and method == "sendMessage":  # rows are claimed: now lock
            holder = threading.Thread(target=hold_lock)
            holder.start()
            locked.wait(5)
        original(method, params)

    fake._maybe_fail = lock_after_first_send  # type: ignore[method-assign]
    clock = Clock(SAT_9)
    sender = make_sender(archive, bot, clock, private_interval=0.0)
    await sender.store.write(lambda db: db.execute("PRAGMA busy_timeout = 50"))  # fail fast
    await sender.drain_once()
    assert holder is not None
    holder.join()
    assert copies(fake) == Counter({c: 1 for c in range(1, 61)})
    assert {r[1] for r in rows(archive)} == {"sent"}
    assert "could not record" in caplog.text  # the lock was met, and waited out
    assert sender.stats["sent"] == 60
    locker.close()


@pytest.mark.timing
async def test_a_slow_chat_does_not_hold_the_others(
    archive: Database, fake: FakeBotApi, bot: Bot, limits: Limits
) -> None:
    """200 messages queued for one chat ahead of 300 digests: the digests flow at once."""
    from storage.outbox import enqueue

    subscriber(archive, 999, mode="every")
    early = (SAT_9 - timedelta(hours=1)).isoformat()
    for n in range(200):  # old bulletins (not in the digests), each pushed to chat 999
        text = f"Bilan {n}\n\nLa ville numéro {n} a été frappée par {n + 2} drones."
        out = ingest(archive, Submission("file", f"2025-06-01-{n}.txt", data=text.encode()), limits)
        enqueue(archive, "bulletin", out.bulletin_id or 0, [999], at=early)
    queue_digest(archive, list(range(1, 301)))
    clock = Clock(SAT_9)
    sender = make_sender(archive, bot, clock)
    drained = asyncio.create_task(sender.drain_once())
    await fake.wait_for(lambda s: s.chat_id == 300)  # the last digest is out…
    assert len(fake.messages_to(999)) < 20  # …while the slow chat has had only a few
    drained.cancel()
    with pytest.raises(asyncio.CancelledError):
        await drained


async def test_many_new_bulletins_are_one_push_and_unsubscribed_chats_get_nothing(
    db: Database, limits: Limits, fake: FakeBotApi, bot: Bot
) -> None:
    subscriber(db, 1, mode="every")
    subscriber(db, 2, mode="weekly")
    add_follow(db, 2, "Patriot", "patriot")
    subscriber(db, 3, mode="every")
    add_follow(db, 3, "Patriot", "patriot")
    set_subscribed(db, 3, False)  # unsubscribed: no push, no alert
    for n in range(7):  # a feed's burst: seven bulletins at once
        text = f"Bilan {n}\n\nLa ville numéro {n} a reçu {n + 2} systèmes Patriot."
        ingest(db, Submission("file", f"2025-07-1{n % 3}-{n}.txt", data=text.encode()), limits)
    assert announce_new_bulletins(db, analyzer_for(), SAT_9) == 2  # one row per chat
    payload = json.loads(db.execute("SELECT payload FROM outbox WHERE chat_id = 1").fetchone()[0])
    assert len(payload["bulletins"]) == 5 and payload["more"] == 2
    await make_sender(db, bot, Clock(SAT_9)).drain_once()
    (push,) = fake.messages_to(1)
    assert push.text.startswith("🆕 7 nouveaux bulletins") and "et 2 de plus" in push.text
    (alert,) = fake.messages_to(2)
    assert alert.text.startswith("👀 Patriot") and alert.text.count("Patriot") >= 5
    assert fake.messages_to(3) == []
