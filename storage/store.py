"""SQLite off the event loop: reads on a few threads, every write on one.

`await store.read(fn, *args)` runs `fn(db, *args)` on a reader thread, each with its own
connection (WAL lets readers run beside the writer); `await store.write(fn, *args)` runs it
on the single writer thread, whose connection is the only one that writes: a chat's
settings, the audit log, the sender's claims and outcomes, the tick's queueing, the
bulletins a poll stores. The event loop keeps answering meanwhile, and no two connections
of the bot ever compete for the write lock.

Work that is slow for other reasons (fetching feeds, parsing and summarising a bulletin)
runs on a thread of its own and hands only its writes to the writer: `Writes` is that
hand-over, `store.blocking_write` in the bot and `direct(db)` in a one-connection command.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlite_utils import Database

T = TypeVar("T")


class Writes(Protocol):
    """Run `fn(db, *args, **kwargs)` where this process writes, and return its result."""

    def __call__(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T: ...


def direct(db: Database) -> Writes:
    """Writes on `db` itself, in the calling thread (a command with one connection)."""

    def write(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        return fn(db, *args, **kwargs)

    return write


def writes_to(target: Database | Writes) -> Writes:
    """`target` as `Writes`: a connection is written directly."""
    return direct(target) if isinstance(target, Database) else target


class StoreClosed(RuntimeError):
    """The store was closed: nothing more can be read or written."""


class Store:
    """Reader threads and one writer thread over the database at `path`."""

    def __init__(self, path: str | Path, *, readers: int = 2) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._opened: list[Database] = []
        self._lock = threading.Lock()
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="hebdo-read")
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="hebdo-write")
        self.closed = False

    def _db(self) -> Database:
        db: Database | None = getattr(self._local, "db", None)
        if db is None:
            from storage.db import open_db  # the schema is current: this only connects

            db = open_db(self.path, check_same_thread=False)
            self._local.db = db
            with self._lock:
                self._opened.append(db)
        return db

    def _run(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        return fn(self._db(), *args, **kwargs)

    def _open(self) -> None:
        if self.closed:
            raise StoreClosed("the database is closed")

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(db, *args, **kwargs)` on a reader thread."""
        self._open()
        loop = asyncio.get_running_loop()
        call = functools.partial(self._run, fn, args, kwargs)
        return await loop.run_in_executor(self._readers, call)

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(db, *args, **kwargs)` on the writer thread, after the writes queued before."""
        self._open()
        loop = asyncio.get_running_loop()
        call = functools.partial(self._run, fn, args, kwargs)
        return await loop.run_in_executor(self._writer, call)

    def blocking_write(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """`write` for a worker thread (never the event loop's, never the writer's own):
        waits for the writer to run `fn` and returns its result. A `Writes`."""
        self._open()
        if threading.current_thread().name.startswith("hebdo-write"):
            raise RuntimeError("blocking_write on the writer thread would wait for itself")
        return self._writer.submit(self._run, fn, args, kwargs).result()

    def close(self) -> None:
        """Finish the queued work, then close every connection."""
        self.closed = True
        self._readers.shutdown(wait=True)
        self._writer.shutdown(wait=True)
        with self._lock:
            for db in self._opened:
                db.close()
            self._opened.clear()
