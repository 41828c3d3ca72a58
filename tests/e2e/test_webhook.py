"""Webhook mode: updates arrive over HTTP with the secret header; /healthz reports the database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.botapi import LocalBotApi
from bot.config import Settings
from tests.e2e.conftest import WEBHOOK_SECRET, webhook_bot

SECRET = WEBHOOK_SECRET


@pytest.fixture
async def webhook(api: LocalBotApi, settings: Settings) -> AsyncIterator[str]:
    async with webhook_bot(api, settings) as address:
        yield address


async def test_updates_arrive_through_the_webhook(api: LocalBotApi, webhook: str) -> None:
    user = api.user(60)
    await user.command("start")
    assert "uitnodigingslink" in user.last.text
    assert api.webhook_statuses[-1] == 200
    assert not api.drop_pending_requested


@pytest.mark.parametrize("header", [None, "wrong-secret", SECRET + "x"])
async def test_wrong_or_missing_secret_is_refused(
    api: LocalBotApi, webhook: str, header: str | None
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
        http.post(f"{webhook}/tg", json=update, headers=headers) as answer,
    ):
        assert answer.status == 403
    await asyncio.sleep(0.1)
    assert api.calls["sendMessage"] == 0, "the update was not processed"


async def test_healthz_reports_the_database(webhook: str) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{webhook}/healthz") as answer:
        assert answer.status == 200
        health = await answer.json()
    assert health["database"] == "ok"
    assert health["outbox_backlog"] == 0 and health["oldest_pending_seconds"] is None
