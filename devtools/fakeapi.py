"""A local Bot API emulator over real HTTP, for the tests and the offline console.

It implements what Hebdo uses — getMe, getUpdates (long polling with offsets) or a
webhook (setWebhook: updates POSTed with the secret header), sendMessage, sendDocument,
sendPhoto, editMessageMedia,
editMessageText, editMessageReplyMarkup, answerCallbackQuery, answerInlineQuery, getFile
and file download, setMyCommands, getChatMember, getChat (`devtools.fake_methods`) —
records every request, validates HTML the way Telegram does (`devtools.telegram_rules`:
unknown or unbalanced tags → 400 "can't parse entities", over 4096 UTF-16 units → 400
"message is too long"), and can be told to fail a call with 429, 403, 400 or 5xx.

Point python-telegram-bot at it with `base_url=f"{server.url}/bot"`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, web

from devtools.fake_methods import BotApiMethods
from devtools.telegram_rules import BOT_USER, ApiError, Failure, Sent


@dataclass
class FakeBotApi(BotApiMethods):
    """The emulator's state; `start()` serves it on 127.0.0.1 at a free port."""

    token_check: str | None = None
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    chat_admins: dict[int, set[int]] = field(default_factory=dict)
    delay: float = 0.0
    rate_limit: float | None = None  # messages/s before answering 429
    burst: float = 0.05  # seconds' worth of `rate_limit` tolerated at once (the bucket's size)
    stalls: int = 0  # the next N sendMessage calls hang without being delivered
    stall_seconds: float = 5.0
    # forum supergroups (topics on) and their topics' state, as Telegram keeps them
    forums: set[int] = field(default_factory=set)
    closed_topics: set[tuple[int, int]] = field(default_factory=set)
    deleted_topics: set[tuple[int, int]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._new_update = asyncio.Event()
        self._sent_event = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._tokens = max(2.0, (self.rate_limit or 0) * self.burst)
        self._refilled = time.monotonic()
        self.arrivals: list[float] = []
        self.rejected = 0
        self.url = ""
        # setWebhook: updates are then POSTed there (with the secret header), not polled
        self.webhook: tuple[str, str] | None = None
        self.webhook_answers: list[int] = []  # the HTTP status of each webhook delivery
        self.documents: list[
            tuple[int, str, bytes, str]
        ] = []  # sendDocument: chat, name, bytes, caption
        self.photos: dict[int, bytes] = {}  # sendPhoto, editMessageMedia: message id → picture
        self._posting: set[asyncio.Task[None]] = set()

    # ---- lifecycle -------------------------------------------------------------------
    async def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1 (at a free port by default); return the base URL."""
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.*}", self._file)
        app.router.add_get("/_stats", self._stats)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        """Stop serving; wakes pending long polls."""
        self._new_update.set()
        for task in list(self._posting):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ---- what users do -----------------------------------------------------------------
    def push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue an update of `kind` (message, callback_query, inline_query, …)."""
        update = {"update_id": next(self._update_ids), kind: payload}
        if self.webhook is not None:
            task = asyncio.get_running_loop().create_task(self._post(update, *self.webhook))
            self._posting.add(task)
            task.add_done_callback(self._posting.discard)
            return update
        self._updates.append(update)
        self._new_update.set()
        return update

    async def _post(self, update: dict[str, Any], url: str, secret: str) -> None:
        """Deliver one update to the webhook as Telegram does (JSON body, secret header)."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        async with ClientSession() as session, session.post(url, json=update, headers=headers) as r:
            self.webhook_answers.append(r.status)

    def message(
        self,
        user_id: int,
        text: str | None = None,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        language: str = "fr",
        document: dict[str, Any] | None = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        """A user's message (text or document) as an update; `thread_id`: written in that
        topic of a forum (`forums`), as Telegram marks it."""
        msg: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chat(chat_id if chat_id is not None else user_id, chat_type),
            "from": self.user(user_id, language),
        }
        if thread_id is not None:
            msg |= {"message_thread_id": thread_id, "is_topic_message": True}
        if text is not None:
            msg["text"] = text
            if text.startswith("/"):
                command = text.split()[0]
                msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if document is not None:
            msg["document"] = document
        return self.push("message", msg)

    def document(
        self, user_id: int, name: str, data: bytes, *, mime: str = "text/plain"
    ) -> dict[str, Any]:
        """A user sending a file."""
        file_id = f"file{len(self.files) + 1}"
        self.files[file_id] = data
        doc = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": name,
            "mime_type": mime,
            "file_size": len(data),
        }
        return self.message(user_id, None, document=doc)

    def tap(
        self, user_id: int, sent: Sent, data: str, language: str = "fr", chat_type: str = ""
    ) -> dict[str, Any]:
        """A user tapping a button (any callback data, even forged) under a bot message."""
        kind = chat_type or ("private" if sent.chat_id > 0 else "group")
        return self.push(
            "callback_query",
            {
                "id": str(next(self._update_ids)),
                "from": self.user(user_id, language),
                "chat_instance": "ci",
                "data": data,
                "message": {
                    "message_id": sent.message_id,
                    "date": int(time.time()),
                    "chat": self.chat(sent.chat_id, kind),
                    "from": BOT_USER,
                    **self._content(sent),
                    **(
                        {"message_thread_id": sent.thread_id, "is_topic_message": True}
                        if sent.thread_id is not None
                        else {}
                    ),
                },
            },
        )

    def _content(self, sent: Sent) -> dict[str, Any]:
        """A message's text, or its picture and caption."""
        if sent.message_id not in self.photos:
            return {"text": sent.text}
        photo = {"file_id": f"p{sent.message_id}", "file_unique_id": f"p{sent.message_id}",
                 "width": 1280, "height": 720}  # fmt: skip
        return {"photo": [photo], **({"caption": sent.text} if sent.text else {})}

    def inline(self, user_id: int, query: str, language: str = "fr") -> dict[str, Any]:
        """A user typing `@bot query` in any chat."""
        return self.push(
            "inline_query",
            {
                "id": str(next(self._update_ids)),
                "from": self.user(user_id, language),
                "query": query,
                "offset": "",
            },
        )

    def fail(self, method: str, code: int, description: str = "", **kwargs: Any) -> None:
        """Make the next call(s) of `method` fail with `code`."""
        defaults = {
            429: "Too Many Requests: retry after 1",
            403: "Forbidden: bot was blocked by the user",
            400: "Bad Request: chat not found",
            500: "Internal Server Error",
            502: "Bad Gateway",
        }
        self.failures.append(
            Failure(method, code, description or defaults.get(code, "Error"), **kwargs)
        )

    # ---- what tests read -----------------------------------------------------------------
    def calls(self, method: str) -> list[dict[str, Any]]:
        """Parameters of every request to `method`."""
        return [params for name, params in self.requests if name == method]

    def messages_to(self, chat_id: int) -> list[Sent]:
        """Messages sent (and edits) to a chat, in order."""
        return [s for s in self.sent if s.chat_id == chat_id]

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> Sent:
        """The first sent message (from now on or already) matching `predicate`."""
        seen = 0
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for s in self.sent[seen:]:
                if predicate(s):
                    return s
            seen = len(self.sent)
            self._sent_event.clear()
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError("the bot did not send the expected message")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._sent_event.wait(), remaining)

    async def reply(self, chat_id: int, after: int, timeout: float = 10.0) -> Sent:
        """The next message to `chat_id` after the first `after` recorded ones."""
        count = 0

        def nth(s: Sent) -> bool:
            nonlocal count
            if s.chat_id != chat_id:
                return False
            count += 1
            return count > after

        return await self.wait_for(nth, timeout)

    async def wait_calls(self, method: str, n: int, timeout: float = 10.0) -> None:
        """Until `method` has been called `n` times."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.calls(method)) < n:
            self._sent_event.clear()
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"{method} was not called {n} times")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._sent_event.wait(), remaining)

    # ---- HTTP ------------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        data = await request.post() if request.can_read_body else {}
        params: dict[str, Any] = dict(request.query)
        for key, value in data.items():
            if isinstance(value, str):
                params[key] = value
            elif isinstance(value, web.FileField):  # a file: its name and bytes (sendDocument)
                params[key] = "<file>"
                params.setdefault("_files", {})[key] = (value.filename, value.file.read())
            else:
                params[key] = "<file>"
        for key in ("reply_markup", "results", "commands", "allowed_updates", "media"):
            if isinstance(params.get(key), str):
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(params[key])
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if self.token_check is not None and request.match_info["token"] != self.token_check:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        params = await self._params(request)
        self.requests.append((method, params))
        self._sent_event.set()
        if self.delay and method != "getUpdates":
            await asyncio.sleep(self.delay)
        if method == "sendMessage" and self.stalls > 0:
            self.stalls -= 1
            await asyncio.sleep(self.stall_seconds)  # the client gives up first
            return web.json_response({"ok": False, "error_code": 504, "description": "stalled"})
        try:
            self._maybe_fail(method, params)
            result = await getattr(self, f"_api_{method}", self._api_unknown)(params)
        except ApiError as err:
            body: dict[str, Any] = {
                "ok": False,
                "error_code": err.code,
                "description": err.description,
            }
            if err.retry_after is not None:
                body["parameters"] = {"retry_after": err.retry_after}
            return web.json_response(body, status=err.code)
        return web.json_response({"ok": True, "result": result})

    def _maybe_fail(self, method: str, params: dict[str, Any]) -> None:
        for failure in self.failures:
            if failure.method != method or failure.count <= 0:
                continue
            if failure.chat_id is not None and str(params.get("chat_id")) != str(failure.chat_id):
                continue
            failure.count -= 1
            raise ApiError(failure.code, failure.description, failure.retry_after)
        if self.rate_limit and method in ("sendMessage", "editMessageText"):
            # a token bucket: `rate_limit` a second on average, bursts of `burst` s tolerated
            now = time.monotonic()
            capacity = max(2.0, self.rate_limit * self.burst)
            self._tokens = min(capacity, self._tokens + (now - self._refilled) * self.rate_limit)
            self._refilled = now
            if self._tokens < 1.0:
                self.rejected += 1
                raise ApiError(429, "Too Many Requests: retry after 1", 1)
            self._tokens -= 1.0
            self.arrivals.append(now)

    async def _stats(self, request: web.Request) -> web.Response:
        """Counts for a benchmark driving the emulator from another process."""
        sent = [s for s in self.sent if s.method == "sendMessage"]
        return web.json_response(
            {
                "sent": len(sent),
                "chats": len({s.chat_id for s in sent}),
                "rejected_429": self.rejected,
                "first_at": self.arrivals[0] if self.arrivals else None,
                "last_at": self.arrivals[-1] if self.arrivals else None,
            }
        )

    async def _file(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["path"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data)


async def _serve(port: int, rate_limit: float | None) -> None:
    api = FakeBotApi(rate_limit=rate_limit)
    print(await api.start(port), flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":  # python -m devtools.fakeapi PORT [RATE_LIMIT]: serve until killed
    limit = float(sys.argv[2]) if len(sys.argv) > 2 else None
    asyncio.run(_serve(int(sys.argv[1]), limit))
