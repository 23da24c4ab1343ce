"""Offline console: the real Application against the local Bot API emulator, in a terminal.

You type as a Telegram user; the bot's answers are printed with their formatting and
buttons. Console commands:

    /as admin | /as user   switch identity (the admin is in ADMIN_IDS for this session)
    /tap N                 press button N of the last message that has buttons
    /inline WORDS          what `@bot WORDS` would offer
    /file PATH             send a file (as an admin would for /post)
    /quit                  leave
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from telegram import Update
from telegram.ext import TypeHandler

from bot.app import build_application
from bot.config import Settings
from bot.delivery.worker import clock_from
from bot.running import start_app, stop_app
from devtools.fakeapi import FakeBotApi
from devtools.telegram_rules import Sent

CONSOLE_USER = 700001
CONSOLE_ADMIN = 700002
OFFLINE_TOKEN = "700000:offline-console-token-not-secret"
BANNER = (
    "<b>Hebdo offline console</b> — type as a Telegram user "
    "(try /start, /search patriot, /latest, /digest); "
    "/as admin, /as user, /tap N, /inline WORDS, /file PATH, /quit"
)
CLOCK = (
    "<i>The console's clock reads {} (unless --now said otherwise: the day after the newest "
    "bulletin, so that /digest and /trend show them; python -m bot console --now ISO to "
    "start elsewhere).</i>"
)
TIMEOUT = 30.0  # seconds to wait for the bot to finish with one update

_BOLD, _DIM, _ITALIC, _CYAN, _RESET = "\033[1m", "\033[2m", "\033[3m", "\033[36m", "\033[0m"


def to_terminal(text: str, color: bool = True) -> str:
    """Telegram HTML as terminal text (ANSI styles when `color`)."""
    styles = {"b": _BOLD, "strong": _BOLD, "i": _ITALIC, "em": _ITALIC, "code": _CYAN, "pre": _CYAN}

    def tag(match: re.Match[str]) -> str:
        closing, name = match[1] == "/", match[2].lower()
        if name == "a" and not closing:
            return _CYAN if color else ""
        if not color:
            return ""
        return _RESET if closing else styles.get(name, "")

    return html.unescape(re.sub(r"<(/?)(\w[\w-]*)[^>]*>", tag, text))


class Console:
    """A terminal chat with the bot; `run` reads lines until /quit or end of input."""

    def __init__(self, settings: Settings, out: TextIO = sys.stdout, color: bool = True,
                 clock: Callable[[], datetime] | None = None) -> None:  # fmt: skip
        self.fake = FakeBotApi()
        self.settings = settings
        self.clock = clock  # the bot's own (the wall clock) unless a test gives one
        self.out, self.color = out, color
        self.user = CONSOLE_USER
        self.buttons: tuple[Sent, list[tuple[str, str]]] | None = None
        self.shown = 0
        self.done: set[int] = set()
        self.progress = asyncio.Event()

    def _print(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def _show_new(self) -> None:
        for sent in self.fake.sent[self.shown :]:
            mark = "✏️ " if sent.method in ("editMessageText", "editMessageMedia") else ""
            if sent.method in ("sendPhoto", "editMessageMedia"):
                self._print(f"{mark}🖼 {self._save_picture(sent)}")
                mark = ""
            self._print(f"{mark}{to_terminal(sent.html, self.color)}")
            rows = (sent.reply_markup or {}).get("inline_keyboard", [])
            flat = [(b["text"], b.get("callback_data", "")) for row in rows for b in row]
            if flat:
                self.buttons = (sent, flat)
                self._print(
                    "  " + "  ".join(f"[{n}] {label}" for n, (label, _) in enumerate(flat, 1))
                )
            self._print()
        self.shown = len(self.fake.sent)

    def _save_picture(self, sent: Sent) -> str:
        """A picture the bot sent, written beside the console's database (a terminal
        cannot show it): where to open it."""
        data = self.fake.photos.get(sent.message_id, b"")
        path = self.settings.database_path.with_name(f"console-picture-{sent.message_id}.png")
        try:
            path.write_bytes(data)
        except OSError as exc:
            return f"(a picture of {len(data) // 1024} KB; cannot write {path}: {exc.strerror})"
        return f"{path} ({len(data) // 1024} KB)"

    async def _mark_done(self, update: object, context: object) -> None:
        """Runs last for every update: the bot has finished with it."""
        if isinstance(update, Update):
            self.done.add(update.update_id)
            self.progress.set()

    async def _settle(self, update: dict[str, Any]) -> None:
        """Wait until the bot has finished handling `update`."""
        update_id = update["update_id"]
        try:
            async with asyncio.timeout(TIMEOUT):
                while update_id not in self.done:
                    self.progress.clear()
                    await self.progress.wait()
        except TimeoutError:
            self._print("(the bot did not answer in time)")

    async def handle(self, line: str) -> bool:
        """One line typed by the user; False to stop."""
        line = line.strip()
        if not line:
            return True
        if line in ("/quit", "/exit"):
            return False
        if line.startswith("/as "):
            who = line[4:].strip()
            self.user = CONSOLE_ADMIN if who == "admin" else CONSOLE_USER
            self._print(f"(you are now the {'admin' if self.user == CONSOLE_ADMIN else 'user'})")
            return True
        if line.startswith("/tap"):
            number = line[4:].strip()
            if (
                self.buttons is None
                or not number.isdigit()
                or not 1 <= int(number) <= len(self.buttons[1])
            ):
                self._print("(no such button: /tap N, with N from the last message's buttons)")
                return True
            message, flat = self.buttons
            update = self.fake.tap(self.user, message, flat[int(number) - 1][1])
        elif line.startswith("/inline "):
            before = len(self.fake.calls("answerInlineQuery"))
            await self._settle(self.fake.inline(self.user, line[8:]))
            results = self.fake.calls("answerInlineQuery")[before:]
            for n, result in enumerate(results[-1]["results"] if results else [], 1):
                self._print(f"  ({n}) {result['title']}\n      {result['description']}")
            if not results or not results[-1]["results"]:
                self._print("  (no inline results)")
            return True
        elif line.startswith("/file "):
            path = Path(line[6:].strip()).expanduser()
            try:
                data = path.read_bytes()
            except OSError as exc:
                self._print(f"(cannot read {path}: {exc.strerror})")
                return True
            update = self.fake.document(self.user, path.name, data)
        else:
            update = self.fake.message(self.user, line, language="fr")
        await self._settle(update)
        self._show_new()
        return True

    async def run(self, lines: AsyncIterator[str]) -> None:
        """Start the bot on the emulator, chat until the lines end, stop cleanly."""
        await self.fake.start()
        settings = replace(
            self.settings,
            telegram_bot_token=OFFLINE_TOKEN,
            telegram_api_base_url=f"{self.fake.url}/bot",
            admin_ids=self.settings.admin_ids | {CONSOLE_ADMIN},
        )
        app = build_application(settings)
        app.add_handler(TypeHandler(Update, self._mark_done), group=1000)
        if self.clock is not None:
            app.bot_data.clock = self.clock
        await start_app(app, poll_timeout=5)
        self._print(to_terminal(BANNER, self.color))
        if self.clock is not None:
            self._print(to_terminal(CLOCK.format(self.clock().strftime("%A %d %B %Y, %H:%M UTC")),
                                    self.color))  # fmt: skip
        self.fake.sent.clear()
        try:
            async for line in lines:
                if not await self.handle(line):
                    break
        finally:
            await stop_app(app)
            await self.fake.stop()


async def stdin_lines(prompt: str = "you> ") -> AsyncIterator[str]:
    """Lines typed at the terminal, read without blocking the event loop."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            line = await loop.run_in_executor(None, input, prompt)
        except EOFError:
            return
        yield line


def run_console(settings: Settings, start: datetime | None = None) -> None:
    """`python -m bot console`; its clock starts at `start` (None: the wall clock)."""
    clock = clock_from(start) if start is not None else None
    console = Console(settings, color=sys.stdout.isatty(), clock=clock)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(console.run(stdin_lines()))
