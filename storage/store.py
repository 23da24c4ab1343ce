"""SQLite off the event loop: reads on a few threads, heavy writes on one.

`await store.read(fn, *args)` runs `fn(db, *args)` on a reader thread, each with its own
connection (WAL lets readers run beside a writer); `await store.write(fn, *args)` runs it
on the single writer thread, whose connection does the long writing jobs (queueing the
digests and alerts that are due, ingesting the inbox and the feeds) one after the other.
The event loop keeps answering meanwhile.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

T = TypeVar("T")


class Store:
    """Reader threads and one writer thread over the database at `path`."""

    def __init__(self, path: str | Path, *, readers: int = 2) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._opened: list[Database] = []
        self._lock = threading.Lock()
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="hebdo-read")
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="hebdo-write")

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

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(db, *args, **kwargs)` on a reader thread."""
        loop = asyncio.get_running_loop()
        call = functools.partial(self._run, fn, args, kwargs)
        return await loop.run_in_executor(self._readers, call)

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(db, *args, **kwargs)` on the writer thread, after the writes queued before."""
        loop = asyncio.get_running_loop()
        call = functools.partial(self._run, fn, args, kwargs)
        return await loop.run_in_executor(self._writer, call)

    def close(self) -> None:
        """Finish the queued work, then close every connection."""
        self._readers.shutdown(wait=True)
        self._writer.shutdown(wait=True)
        with self._lock:
            for db in self._opened:
                db.close()
            self._opened.clear()
