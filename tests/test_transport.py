"""The Bot API transport (`bot.transport`): what PTB's httpx transport did, over aiohttp,
checked against the emulator on 127.0.0.1 through PTB's own `Bot`."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.transport import AiohttpRequest
from devtools.fakeapi import FakeBotApi
from devtools.telegram_rules import Failure

TOKEN = "123456:transport-test-token-abcdefgh"


@asynccontextmanager
async def bot_at(base: str, read_timeout: float | None = 5.0) -> AsyncIterator[Bot]:
    """A started PTB bot on the aiohttp transport (calls, and getUpdates on its own)."""
    bot = Bot(TOKEN, base_url=f"{base}/bot", request=AiohttpRequest(8, read_timeout),
              get_updates_request=AiohttpRequest(1, read_timeout))  # fmt: skip
    async with bot:
        yield bot


async def test_a_call_sends_its_objects_as_json_objects(fake: FakeBotApi) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Plus", callback_data="more:1")]])
    async with bot_at(fake.url) as bot:
        message = await bot.send_message(42, "<b>Bilan</b> de la semaine", parse_mode="HTML",
                                          reply_markup=markup)  # fmt: skip
    assert message.chat_id == 42 and message.text == "Bilan de la semaine"
    method, params = fake.requests[-1]
    assert method == "sendMessage"
    assert params["reply_markup"] == {"inline_keyboard": [[{"text": "Plus",
                                                            "callback_data": "more:1"}]]}  # fmt: skip
    assert params["parse_mode"] == "HTML" and params["chat_id"] == 42


async def test_files_are_uploaded_with_their_name_and_caption(fake: FakeBotApi) -> None:
    opml = b"<?xml version='1.0'?><opml version='2.0'><body/></opml>"
    async with bot_at(fake.url) as bot:
        await bot.send_document(7, InputFile(opml, filename="hebdo-feeds.opml"),
                                caption="Vos sources")  # fmt: skip
    assert fake.documents == [(7, "hebdo-feeds.opml", opml, "Vos sources")]


@pytest.mark.parametrize(("code", "description", "error"), [
    (429, "Too Many Requests: retry after 3", RetryAfter),
    (403, "Forbidden: bot was blocked by the user", Forbidden),
    (400, "Bad Request: chat not found", BadRequest),
    (502, "Bad Gateway", NetworkError),
])  # fmt: skip
async def test_telegram_refusals_become_ptb_errors(
    fake: FakeBotApi, code: int, description: str, error: type[Exception]
) -> None:
    fake.failures.append(Failure("sendMessage", code, description,
                                 retry_after=3 if code == 429 else None))  # fmt: skip
    async with bot_at(fake.url) as bot:
        with pytest.raises(error) as raised:
            await bot.send_message(5, "x")
        assert (await bot.send_message(5, "y")).text == "y"  # the next call goes through
    if isinstance(raised.value, RetryAfter):
        assert raised.value.retry_after in (3, 3.0) or raised.value.retry_after.seconds == 3


async def test_a_slow_answer_times_out_unless_the_call_allows_more(fake: FakeBotApi) -> None:
    async with bot_at(fake.url, read_timeout=0.05) as bot:
        fake.delay = 0.3
        with pytest.raises(TimedOut):
            await bot.send_message(5, "too slow")
        assert (await bot.send_message(5, "in time", read_timeout=5)).text == "in time"


async def test_long_polling_waits_longer_than_the_read_timeout(fake: FakeBotApi) -> None:
    # PTB asks getUpdates for `timeout` seconds more than the read timeout: honoured
    async with bot_at(fake.url, read_timeout=0.05) as bot:
        assert await bot.get_updates(timeout=1) == ()


async def test_an_unreachable_server_is_a_network_error(fake: FakeBotApi) -> None:
    async with bot_at(fake.url) as bot:
        with socket.socket() as probe:  # a port nothing listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        bot._base_url = f"http://127.0.0.1:{port}/bot{TOKEN}"  # the server went away
        with pytest.raises(NetworkError):
            await bot.send_message(5, "nobody there")


async def test_the_environments_proxy_is_used(
    fake: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", fake.url)  # the emulator answers as the proxy would
    async with bot_at("http://api.telegram.invalid") as bot:
        await bot.send_message(9, "through the proxy")
    assert [s.text for s in fake.sent] == ["through the proxy"]
