"""Shared fixtures: a real SQLite file per test, the sample bulletins, settings."""

from __future__ import annotations

import asyncio
import sys
import zlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlite_utils import Database

from bot.config import Settings
from bot.ingest import Limits
from devtools.fakeapi import FakeBotApi
from storage import open_db

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The editors' sample bulletins (../shared/data/bulletins), copied here so that the suite
# runs in a clone without ../shared; tests/test_docs.py checks the copies are current.
SAMPLES = FIXTURES / "samples"
SHARED_SAMPLES = ROOT.parent / "shared" / "data" / "bulletins"
SAMPLE_FR = SAMPLES / "2025-07-11-bilan-jours-1230-1234.txt"


# The moments the suite is played at besides the real clock: a Saturday afternoon, a Sunday
# night and a Monday morning (Paris), and both DST change nights.
FROZEN = {
    "sat-1500": "2026-11-28T15:00:00+00:00",
    "sun-2230": "2026-11-29T22:30:00+00:00",
    "mon-0630": "2026-11-30T06:30:00+00:00",
    "dst-spring": "2026-03-29T01:30:00+00:00",
    "dst-autumn": "2026-10-25T00:30:00+00:00",
}
# Wall-clock reads that stamp what happened (a bulletin's `added_at`) or file, at start-up,
# the bulletins a previous version left without a story: they decide nothing a test sees.
STAMPS = frozenset({"now_iso", "prepare_database"})


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--now",
        default=None,
        metavar="ISO",
        help="run every test (once) with the wall clock set to this moment (it ticks on from "
        "there); the suite must pass whatever the date, weekday, hour or DST night",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "wall_clock: the outcome may depend on the wall clock (the code under test reads it to "
        "decide); played at the real clock and at every FROZEN moment",
    )
    config.addinivalue_line(
        "markers", "timing: asserts on elapsed time or a rate; run alone, not beside other tests"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A `wall_clock` test is played once at the real clock and once at each FROZEN moment."""
    if metafunc.definition.get_closest_marker("wall_clock") is None:
        return
    if metafunc.config.getoption("--now") is not None:
        return
    metafunc.parametrize(
        "wall_moment", [None, *FROZEN.values()], ids=["real-clock", *FROZEN], indirect=True
    )


@pytest.fixture
def wall_moment(request: pytest.FixtureRequest) -> str | None:
    """The moment the wall clock starts at for this test (None: the real clock).

    `--now` sets it for every test; a `wall_clock` test gets each of its parameters; any
    other test gets one FROZEN moment, always the same for that test (by its name), so that
    its outcome cannot change with the day the suite runs and the five moments are all
    played somewhere in the suite."""
    given = request.config.getoption("--now")
    if given is not None:
        return str(given)
    if hasattr(request, "param"):
        return request.param  # type: ignore[no-any-return]
    names = sorted(FROZEN)
    return FROZEN[names[zlib.crc32(request.node.nodeid.encode()) % len(names)]]


class _ClockReads:
    """Where the code under test read the wall clock (function, module:line), for one test."""

    current: list[tuple[str, str]] | None = None


class _AuditedDatetime(datetime):
    """`datetime` as our modules see it in tests: the same values (plain `datetime`
    instances), but reading the clock is recorded for the running test."""

    def __new__(cls, *args: Any, **kwargs: Any) -> datetime:  # type: ignore[misc]
        return datetime(*args, **kwargs)

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        _record_read()
        return datetime.now(tz)

    @classmethod
    def today(cls) -> datetime:  # type: ignore[override]
        _record_read()
        return datetime.today()

    @classmethod
    def utcnow(cls) -> datetime:  # type: ignore[override]
        _record_read()
        return datetime.now(UTC).replace(tzinfo=None)


def _record_read() -> None:
    reads = _ClockReads.current
    if reads is None:
        return
    frame = sys._getframe(2)
    where = f"{frame.f_globals.get('__name__')}:{frame.f_lineno}"
    reads.append((frame.f_code.co_name, where))


def _audit_our_modules() -> None:
    """Our modules' `datetime` becomes the audited one (modules imported since last time)."""
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in ("bot", "storage") and vars(module).get("datetime") is datetime:
            module.datetime = _AuditedDatetime  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def frozen_wall_clock(request: pytest.FixtureRequest, wall_moment: str | None) -> Iterator[None]:
    """The wall clock starts at `wall_moment` (monotonic time is real), and a test not
    marked `wall_clock` whose code reads the wall clock to decide something fails loudly:
    its outcome could change with the day, and it is played at one moment only."""
    _audit_our_modules()
    reads: list[tuple[str, str]] = []
    _ClockReads.current = reads
    try:
        if wall_moment is None:
            yield
        else:
            with time_machine.travel(datetime.fromisoformat(wall_moment), tick=True):
                yield
    finally:
        _ClockReads.current = None
    deciding = sorted({where for function, where in reads if function not in STAMPS})
    if deciding and request.node.get_closest_marker("wall_clock") is None:
        pytest.fail(
            f"read the wall clock at {', '.join(deciding)}: give the code `now`, or mark the "
            "test @pytest.mark.wall_clock so it is played at every FROZEN moment",
            pytrace=False,
        )


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    """The Bot API emulator on 127.0.0.1, at a free port."""
    api = FakeBotApi()
    await api.start()
    yield api
    await api.stop()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "hebdo.db"


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    database = open_db(db_path)
    yield database
    database.close()


@pytest.fixture
def limits() -> Limits:
    return Limits(max_bytes=2_000_000, default_language="fr")


@pytest.fixture
def settings(tmp_path: Path, db_path: Path) -> Settings:
    return Settings(database_path=db_path, inbox_dir=tmp_path / "inbox")


def table_counts(db: Database) -> dict[str, int]:
    """Row counts of the tables ingestion writes, to show nothing else changed."""
    return {
        name: int(db.execute(f"SELECT count(*) FROM {name}").fetchone()[0])
        for name in ("bulletins", "sections", "items", "search_fts")
    }


async def settled(db: Database) -> None:
    """Until the sender has written the outcome of every queued row (a few ms)."""
    for _ in range(1000):
        waiting = db.execute(
            "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"
        ).fetchone()[0]
        if not waiting:
            return
        await asyncio.sleep(0.01)
    raise TimeoutError("the sender did not finish")
