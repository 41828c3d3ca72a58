"""Webhook mode: updates arrive over HTTP with the secret header; /healthz reports the database."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import pytest

from bot.botapi import LocalBotApi
from bot.config import Settings, TelegramSettings, WebhookSettings
from bot.runner import serve

SECRET = "a-webhook-secret-of-enough-length"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
async def webhook_bot(api: LocalBotApi, settings: Settings) -> AsyncIterator[str]:
    port = free_port()
    hook = WebhookSettings(
        listen="127.0.0.1",
        port=port,
        path="/tg",
        secret_token=SECRET,
        public_url=f"http://127.0.0.1:{port}",
    )
    telegram = TelegramSettings(
        token=api.token, base_url=api.base_url, mode="webhook", webhook=hook
    )
    stop = asyncio.Event()
    task = asyncio.create_task(serve(replace(settings, telegram=telegram), stop=stop))
    for _ in range(200):
        if api.webhook.active:
            break
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    stop.set()
    await task


async def test_updates_arrive_through_the_webhook(api: LocalBotApi, webhook_bot: str) -> None:
    user = api.user(60)
    await user.command("start")
    assert "uitnodigingslink" in user.last.text
    assert api.webhook_statuses[-1] == 200
    assert not api.drop_pending_requested


@pytest.mark.parametrize("header", [None, "wrong-secret", SECRET + "x"])
async def test_wrong_or_missing_secret_is_refused(
    api: LocalBotApi, webhook_bot: str, header: str | None
) -> None:
    update = {
        "update_id": 999,
        "message": {
            "message_id": 1,
            "date": 1,
            "chat": {"id": 61, "type": "private"},
            "from": {"id": 61, "is_bot": False, "first_name": "Eve"},
            "text": "/start",
        },
    }
    headers = {"X-Telegram-Bot-Api-Secret-Token": header} if header else {}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{webhook_bot}/tg", json=update, headers=headers) as answer,
    ):
        assert answer.status == 403
    await asyncio.sleep(0.1)
    assert api.calls["sendMessage"] == 0, "the update was not processed"


async def test_healthz_reports_the_database(webhook_bot: str) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{webhook_bot}/healthz") as answer:
        assert answer.status == 200
        health = await answer.json()
    assert health["database"] == "ok"
    assert health["outbox_backlog"] == 0 and health["oldest_pending_seconds"] is None
