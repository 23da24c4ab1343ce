"""Updates of different chats side by side, each chat's in order; SQLite off the loop."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from sqlite_utils import Database
from telegram import Chat, Message, Update, User

from bot.updates import ChatOrderedProcessor, order_key
from storage import open_db
from storage.store import Store


def update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, "private")
    message = Message(update_id, date=None, chat=chat, from_user=User(chat_id, "U", False))  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def test_one_chat_in_order_others_alongside() -> None:
    processor = ChatOrderedProcessor(max_concurrent_updates=8)
    done: list[str] = []
    release = asyncio.Event()

    async def work(name: str, wait: bool = False) -> None:
        if wait:
            await release.wait()
        done.append(name)

    async with processor:
        tasks = [
            asyncio.create_task(processor.process_update(update(1, 10), work("a1", wait=True))),
            asyncio.create_task(processor.process_update(update(2, 10), work("a2"))),
            asyncio.create_task(processor.process_update(update(3, 20), work("b1"))),
        ]
        await asyncio.wait_for(_until(lambda: "b1" in done), 5)
        assert done == ["b1"]  # chat 20 did not wait for chat 10's slow update
        release.set()
        await asyncio.gather(*tasks)
    assert done == ["b1", "a1", "a2"]  # chat 10's updates in the order they came
    assert processor._locks == {}  # nothing kept for chats with nothing queued


async def _until(condition: object) -> None:
    while not condition():  # type: ignore[operator]
        await asyncio.sleep(0)


def test_order_key_is_the_chat_else_the_user() -> None:
    assert order_key(update(1, 42)) == 42
    assert order_key(Update(5, inline_query=None)) is None
    assert order_key("not an update") is None


async def test_store_reads_on_reader_threads_and_writes_on_one(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    open_db(path).close()
    store = Store(path, readers=2)
    loop_thread = threading.get_ident()

    def where(db: Database) -> int:
        db.execute("SELECT 1").fetchone()
        return threading.get_ident()

    def add(db: Database, n: int) -> int:
        db.execute("CREATE TABLE IF NOT EXISTS t (n INTEGER)")
        db.execute("INSERT INTO t VALUES (?)", [n])
        db.conn.commit()
        return threading.get_ident()

    try:
        readers = set(await asyncio.gather(*(store.read(where) for _ in range(8))))
        writers = set(await asyncio.gather(*(store.write(add, n) for n in range(8))))
        assert loop_thread not in readers | writers
        assert len(writers) == 1  # one writer thread, one writing connection
        rows = await store.read(lambda db: [r[0] for r in db.execute("SELECT n FROM t")])
        assert rows == list(range(8))  # the writes, in the order they were queued
    finally:
        store.close()
