"""The HTTP side: webhook mode (the fake Bot API posting updates, secret checked) and /healthz."""

from __future__ import annotations

import asyncio
import gc
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp import ClientSession
from telegram.ext import Application

from bot.app import build_application
from bot.config import ConfigError, Settings, from_mapping
from bot.running import serve, start_app, stop_app
from devtools.fakeapi import FakeBotApi
from tests.test_bot import NOW, TOKEN, USER

SECRET = "s3cret-token_for-the-webhook"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def settings(tmp_path: Path, fake: FakeBotApi) -> Settings:
    return Settings(
        telegram_bot_token=TOKEN,
        database_path=tmp_path / "bot.db",
        inbox_dir=tmp_path / "inbox",
        telegram_api_base_url=f"{fake.url}/bot",
        variants_file=tmp_path / "variants.txt",
        http_listen="127.0.0.1",
    )


@pytest.fixture
async def hooked(settings: Settings) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    port = free_port()
    webhook = replace(settings, webhook_url=f"http://127.0.0.1:{port}/telegram/hook",
                      webhook_secret=SECRET, http_port=port)  # fmt: skip
    application = build_application(webhook)
    application.bot_data.clock = lambda: NOW
    await start_app(application)
    yield application
    await stop_app(application)


async def get_json(url: str) -> tuple[int, dict[str, object]]:
    async with ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


async def test_webhook_receives_updates_with_the_secret(
    fake: FakeBotApi,
    hooked: Application,  # type: ignore[type-arg]
) -> None:
    port = hooked.bot_data.web.port
    assert fake.webhook == (f"http://127.0.0.1:{port}/telegram/hook", SECRET)
    assert not fake.calls("getUpdates")  # no polling beside the webhook
    fake.message(USER, "/help")
    answer = await fake.reply(USER, 0)
    assert "/search" in answer.text
    assert fake.webhook_answers == [200]


async def test_webhook_refuses_a_wrong_or_missing_secret(
    fake: FakeBotApi,
    hooked: Application,  # type: ignore[type-arg]
) -> None:
    url = fake.webhook[0] if fake.webhook else ""
    update = {"update_id": 77, "message": {
        "message_id": 1, "date": 0, "chat": fake.chat(USER), "from": fake.user(USER),
        "text": "/help",
    }}  # fmt: skip
    async with ClientSession() as session:
        for headers in ({"X-Telegram-Bot-Api-Secret-Token": "wrong-secret-wrong"}, {}):
            async with session.post(url, json=update, headers=headers) as response:
                assert response.status == 403
        async with session.post(url, data=b"{not json",
                                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:  # fmt: skip
            assert response.status == 400
    assert hooked.bot_data.web.refused == 2
    fake.message(USER, "/cancel")  # a real update still goes through…
    await fake.reply(USER, 0)
    assert len(fake.messages_to(USER)) == 1  # …and the refused /help was never answered


async def test_healthz_in_webhook_mode(
    fake: FakeBotApi,
    hooked: Application,  # type: ignore[type-arg]
) -> None:
    port = hooked.bot_data.web.port
    fake.message(USER, "/help")
    await fake.reply(USER, 0)
    status, report = await get_json(f"http://127.0.0.1:{port}/healthz")
    assert status == 200
    assert report["status"] == "ok" and report["mode"] == "webhook"
    assert report["database"] == "ok" and report["last_update"] == NOW.isoformat()


@pytest.mark.wall_clock
async def test_healthz_in_polling_mode_and_a_broken_database(
    fake: FakeBotApi, settings: Settings
) -> None:
    application = build_application(replace(settings, http_port=free_port()))
    await start_app(application, poll_timeout=5)
    try:
        url = f"http://127.0.0.1:{application.bot_data.web.port}/healthz"
        status, report = await get_json(url)
        assert status == 200 and report["mode"] == "long polling"
        assert report["last_send"] is None and report["last_feed_poll"] is None
        application.bot_data.store.close()  # the database no longer answers
        status, report = await get_json(url)
        assert status == 503 and report["status"] == "failing"
        assert "closed" in str(report["database"])
        sender = application.bot_data.sender_task
        assert sender is not None
        application.bot_data.sender.wake.set()  # type: ignore[union-attr]  # it reads the store
        await asyncio.wait_for(asyncio.shield(sender), 5)  # it stops, and says nothing more
        assert sender.done() and sender.exception() is None
    finally:
        await stop_app(application)


@pytest.mark.wall_clock
async def test_serve_runs_until_told_to_stop(fake: FakeBotApi, settings: Settings) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop))
    await fake.wait_calls("getUpdates", 1)
    fake.message(USER, "/help")
    assert "/search" in (await fake.reply(USER, 0)).text
    assert gc.get_freeze_count() > 0  # start-up objects are out of the collector's sight
    stop.set()
    await asyncio.wait_for(task, 10)
    gc.unfreeze()


def test_webhook_settings_are_checked() -> None:
    base = {"TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_URL": "https://bot.example.org/tg"}
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET"):
        from_mapping(base)
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET"):
        from_mapping({**base, "WEBHOOK_SECRET": "short"})
    with pytest.raises(ConfigError, match="https"):
        from_mapping({**base, "WEBHOOK_URL": "http://bot.example.org/tg", "WEBHOOK_SECRET": SECRET})
    settings = from_mapping({**base, "WEBHOOK_SECRET": SECRET})
    assert settings.mode == "webhook" and settings.http_port == 8080
    assert SECRET not in repr(settings)
    assert from_mapping({"HTTP_PORT": "9000"}).http_port == 9000
    assert from_mapping({}).serves_http is False
