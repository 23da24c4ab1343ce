"""Trend charts as PNG pictures, drawn (`bot.picture`) one at a time in a process of their
own, and a cache of the last charts asked for. matplotlib is imported in that process only.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from bot.digest import week_of
from bot.i18n import Html, t
from bot.text.analyze import Analyzer
from bot.trend import RANGES, Trend, caption, span_words
from bot.trend import trend as count_topics
from storage.store import Store
from storage.trend import archive_version

log = logging.getLogger(__name__)

# ---- off the loop, cached ------------------------------------------------------------------


class ChartError(RuntimeError):
    """A chart could not be drawn (the drawing process failed or stopped answering)."""


DRAW_TIMEOUT = 30.0  # seconds a chart may take to draw before its process is replaced
START_TIMEOUT = 60.0  # seconds the drawing process may take to start (matplotlib's import)
READY = b"ready"


def _write_frame(out: IO[bytes], payload: bytes) -> None:
    out.write(struct.pack(">I", len(payload)) + payload)
    out.flush()


def _read_frame(source: IO[bytes]) -> bytes | None:
    """One length-prefixed message, None at the end of the input (the drawing process's
    side: it waits for the bot as long as the bot lives)."""
    header = source.read(4)
    if len(header) < 4:
        return None
    size = struct.unpack(">I", header)[0]
    payload = source.read(size)
    return payload if len(payload) == size else None  # cut short: the other side ended


def _send(fd: int, payload: bytes, deadline: float) -> None:
    """A message to the drawing process by `deadline` (`time.monotonic()`), in pieces the
    pipe takes without blocking: a process that stopped reading cannot hold the bot."""
    data = memoryview(struct.pack(">I", len(payload)) + payload)
    while data:
        _wait(fd, deadline, writing=True)
        data = data[os.write(fd, data[: select.PIPE_BUF]) :]


def _receive(fd: int, deadline: float) -> bytes | None:
    """A message from the drawing process by `deadline`; None if it ended."""

    def exactly(size: int) -> bytes | None:
        chunks: list[bytes] = []
        while size:
            _wait(fd, deadline, writing=False)
            chunk = os.read(fd, min(size, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    header = exactly(4)
    return None if header is None else exactly(struct.unpack(">I", header)[0])


def _wait(fd: int, deadline: float, *, writing: bool) -> None:
    """Until `fd` can be written (or read); ChartError at `deadline`."""
    remaining = max(0.0, deadline - time.monotonic())
    watched = [fd]
    readable, writable, _ = select.select(
        [] if writing else watched, watched if writing else [], [], remaining
    )
    if not (writable if writing else readable):
        raise ChartError("no answer in time")


def serve(source: IO[bytes], out: IO[bytes]) -> None:
    """The drawing process: (trend, mode, language) in, a PNG out, until its input ends
    (the bot stopped). A chart that fails is answered with its error; the process goes on."""
    from bot.picture import render  # matplotlib: here, in the drawing process, only

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the bot, which stops us
    os.nice(10)  # on a busy machine, the bot's answers go first and the picture waits
    _write_frame(out, READY)  # matplotlib imported: the timeouts count drawing from here
    while (request := _read_frame(source)) is not None:
        try:
            trend, mode, language = pickle.loads(request)  # from the bot itself, trusted
            answer = b"\x00" + render(trend, mode, language)
        except Exception as exc:  # that chart's problem, not the process's
            answer = b"\x01" + f"{type(exc).__name__}: {exc}".encode()
        _write_frame(out, answer)


class Painter:
    """`render` in a process of its own (`python -m bot.chart`), from the one chart thread
    that talks to it. Drawing holds Python's lock for its whole ~60 ms: on a thread of the
    bot, every search beside it would wait that long (bench/trend.py). The process starts
    with the first chart (~1 s) and stays; if it dies or hangs, the chart is drawn again
    in a new one."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None

    def draw(self, trend: Trend, mode: str, language: str) -> bytes:
        """The chart as PNG bytes. Raises ChartError."""
        request = pickle.dumps((trend, mode, language))
        answer = self._ask(request)
        if answer is None:  # it died (killed, out of memory) or hung: once more, in a new one
            answer = self._ask(request)
        if answer is None:
            raise ChartError("the drawing process stopped twice")
        if answer[:1] != b"\x00":
            raise ChartError(answer[1:].decode(errors="replace"))
        return answer[1:]

    def _ask(self, request: bytes) -> bytes | None:
        """The process's answer to `request`; None (and the process ended) if none came."""
        process = self._running()
        assert process.stdin is not None and process.stdout is not None
        deadline = time.monotonic() + DRAW_TIMEOUT
        try:  # the pipes' file descriptors only: nothing waits in Python's buffers
            _send(process.stdin.fileno(), request, deadline)
            answer = _receive(process.stdout.fileno(), deadline)
        except (OSError, ChartError) as exc:
            log.warning("chart process: %s; starting another", exc)
            answer = None
        if answer is None:
            self.stop()
        return answer

    def _running(self) -> subprocess.Popen[bytes]:
        if self.process is None or self.process.poll() is not None:
            root = str(Path(__file__).resolve().parent.parent)  # where `bot` is importable
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(
                p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}  # fmt: skip
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.chart"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, env=env, close_fds=True,
            )  # fmt: skip
            assert self.process.stdout is not None
            try:
                ready = _receive(self.process.stdout.fileno(), time.monotonic() + START_TIMEOUT)
            except (OSError, ChartError):
                ready = None
            if ready != READY:
                self.stop()
                raise ChartError("the drawing process did not start")
        return self.process

    def stop(self) -> None:
        """End the process (it also ends by itself when the bot's process does)."""
        process, self.process = self.process, None
        if process is None:
            return
        process.kill()
        process.wait()
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()


_painter = Painter()
_chart_thread: ThreadPoolExecutor | None = None
_chart_thread_lock = threading.Lock()


async def paint(trend: Trend, mode: str, language: str) -> bytes:
    """`render`, in the drawing process, through the chart thread (one chart at a time);
    the event loop answers meanwhile. Raises ChartError."""
    global _chart_thread
    with _chart_thread_lock:
        if _chart_thread is None:
            _chart_thread = ThreadPoolExecutor(1, thread_name_prefix="hebdo-chart")
    return await asyncio.get_running_loop().run_in_executor(_chart_thread, _painter.draw, trend,
                                                             mode, language)  # fmt: skip


class ChartCache:
    """The last `size` charts and trends, by what they depend on (the topics, range, mode,
    language, the archive's version and the current week): a chart asked for again costs
    a look-up."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        # one chart counted at a time, on one reader thread: however many charts are asked
        # for at once, the other reader stays free for searches and the chats' own reads
        self.counting = asyncio.Lock()
        self.painting = asyncio.Lock()  # one picture at a time (the chart thread draws one)

    def get(self, key: Hashable) -> Any:
        """The value stored under `key`, or None."""
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        """Keep `value`; the least recently used entry goes when the cache is full."""
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


@dataclass(frozen=True)
class Chart:
    """What a chat is sent: the picture (None when nothing is mentioned) and its words."""

    png: bytes | None
    caption: str


async def make_chart(
    store: Store, cache: ChartCache, analyzer: Analyzer, tz: ZoneInfo, now: datetime,
    text: str, range_code: str, mode: str, language: str,
) -> Chart:  # fmt: skip
    """The chart of `text` — counted on a reader thread, drawn on the chart thread — or the
    cached one: the key holds all it depends on, the archive's version and this week too.
    Charts are counted one at a time, then drawn one at a time: a chart asked for again
    while it is being made waits for it instead of making it twice. Raises QueryError or
    SearchSyntaxError as search does."""
    version = await store.read(archive_version)
    topics = " ".join(text.split())
    counted = ("trend", topics, range_code, version, week_of(now, tz))
    key = (*counted, mode, language)
    cached = cache.get(key)
    if isinstance(cached, Chart):
        return cached
    found = cache.get(counted)  # the same counts serve both modes and every language
    if found is None:
        async with cache.counting:
            found = cache.get(counted)  # counted while this one waited its turn?
            if found is None:
                found = await store.read(count_topics, topics, analyzer,
                                         weeks=RANGES[range_code], now=now, tz=tz)  # fmt: skip
                cache.put(counted, found)
    if found.empty(mode):
        words = ", ".join(s.query for s in found.topics)
        chart = Chart(None, t(language, "trend_nothing", topics=words,
                              span=Html(span_words(found, range_code, language))))  # fmt: skip
        cache.put(key, chart)
        return chart
    async with cache.painting:
        cached = cache.get(key)  # drawn while this one waited its turn?
        if isinstance(cached, Chart):
            return cached
        chart = Chart(
            await paint(found, mode, language), caption(found, mode, range_code, language)
        )
        cache.put(key, chart)
    return chart


if __name__ == "__main__":  # the drawing process
    answers = os.fdopen(os.dup(1), "wb")  # the pipe to the bot is for answers only:
    os.dup2(2, 1)  # anything else written to the standard output goes to the error output
    sys.stdout = sys.stderr
    serve(sys.stdin.buffer, answers)
