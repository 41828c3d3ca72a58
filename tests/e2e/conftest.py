"""End-to-end fixtures: the real bot, over HTTP, against the local Bot API server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from telegram.ext import Application

from bot.botapi import LocalBotApi
from bot.config import Settings
from bot.context import SERVICES
from bot.polling import poll_until
from bot.runner import running
from storage.db import Database
from tests.builders import make_settings


@dataclass
class RunningBot:
    app: Application
    db: Database
    settings: Settings

    async def deliver(self) -> int:
        """Send what the outbox holds now (as its background task would), and wait for it."""
        return await self.app.bot_data[SERVICES].outbox.drain()


@asynccontextmanager
async def polling_bot(settings: Settings) -> AsyncIterator[RunningBot]:
    """The bot in polling mode, as `achterban run` starts it, until the block ends."""
    async with running(settings) as app:
        stop = asyncio.Event()
        task = asyncio.create_task(poll_until(app, stop, long_poll=1))
        try:
            yield RunningBot(app=app, db=app.bot_data[SERVICES].db, settings=settings)
        finally:
            stop.set()
            await task


@pytest.fixture
async def api() -> AsyncIterator[LocalBotApi]:
    async with LocalBotApi() as server:
        yield server


@pytest.fixture
def settings(api: LocalBotApi, db_url: str) -> Settings:
    return make_settings(api, db_url)


@pytest.fixture
async def bot(settings: Settings) -> AsyncIterator[RunningBot]:
    async with polling_bot(settings) as running_bot:
        yield running_bot
