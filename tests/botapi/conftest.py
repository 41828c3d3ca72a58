"""Fixtures for testing the local Bot API server with the real python-telegram-bot client."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest_asyncio
from telegram import Bot

from bot.botapi import LocalBotApi

# httpx honours proxy variables; the server is local.
os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ["no_proxy"] = "127.0.0.1,localhost"


@pytest_asyncio.fixture
async def server() -> AsyncIterator[LocalBotApi]:
    """A running server with a short confirmation timeout."""
    async with LocalBotApi() as api:
        api.wait_timeout = 3.0
        yield api


@pytest_asyncio.fixture
async def bot(server: LocalBotApi) -> AsyncIterator[Bot]:
    """A real telegram.Bot talking to the local server."""
    async with Bot(server.token, base_url=server.base_url, base_file_url=server.base_file_url) as b:
        yield b
