"""Shared fixtures: a real SQLite file per test, the sample bulletins, settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path

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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--now",
        default=None,
        metavar="ISO",
        help="run every test with the wall clock set to this moment (it ticks on from there); "
        "the suite must pass whatever the date, weekday, hour or DST night",
    )


@pytest.fixture(autouse=True)
def frozen_wall_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    """With `--now`, the process's wall clock starts at that moment (monotonic time is real)."""
    moment = request.config.getoption("--now")
    if moment is None:
        yield
        return
    with time_machine.travel(datetime.fromisoformat(moment), tick=True):
        yield


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
