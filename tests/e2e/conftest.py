"""End-to-end fixtures: the real bot, over HTTP, against the local Bot API server."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

import pytest
from telegram.ext import Application

from bot.botapi import LocalBotApi
from bot.chat.context import SERVICES
from bot.config import Settings, WebhookSettings, WhatsAppSettings
from bot.observe.server import KEY as METRICS
from bot.run.inbox import INBOX, attach
from bot.run.polling import poll_until
from bot.run.runner import running, serve
from bot.wasim import LocalWhatsApp
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

    async def handled(self, within: float = 30.0) -> None:
        """Wait until every update this process stored in the inbox was handled."""
        taker = self.app.bot_data[INBOX]
        deadline = asyncio.get_running_loop().time() + within
        while taker.busy:
            assert asyncio.get_running_loop().time() < deadline, "the inbox is still busy"
            await asyncio.sleep(0.01)

    @property
    def metrics_url(self) -> str:
        """Where this bot serves /healthz and /metrics (on a free port, see `settings`)."""
        return self.app.bot_data[METRICS].url


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


WEBHOOK_SECRET = "a-webhook-secret-of-enough-length"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@asynccontextmanager
async def webhook_bot(api: LocalBotApi, settings: Settings) -> AsyncIterator[str]:
    """The bot in webhook mode, as `achterban run` starts it with mode = "webhook", until the
    block ends; yields its address (the webhook is at /tg)."""
    port = free_port()
    hook = WebhookSettings(
        listen="127.0.0.1",
        port=port,
        path="/tg",
        secret_token=WEBHOOK_SECRET,
        public_url=f"http://127.0.0.1:{port}",
    )
    telegram = replace(settings.telegram, mode="webhook", webhook=hook)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(replace(settings, telegram=telegram), stop=stop))
    for _ in range(500):
        if api.webhook.active:
            break
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        await task


@pytest.fixture
async def api() -> AsyncIterator[LocalBotApi]:
    async with LocalBotApi() as server:
        attach(server.queue)  # a confirmed update is one handled, as before the inbox
        yield server


@pytest.fixture
def settings(api: LocalBotApi, db_url: str) -> Settings:
    """Metrics on any free port, so bots of tests side by side never collide."""
    return make_settings(api, db_url)


@pytest.fixture
async def bot(settings: Settings) -> AsyncIterator[RunningBot]:
    async with polling_bot(settings) as running_bot:
        yield running_bot


VERIFY_TOKEN = "a-verify-token-for-tests"


def with_whatsapp(settings: Settings, wa: LocalWhatsApp, **changes: object) -> Settings:
    """`settings` with the WhatsApp channel on, pointed at the local Cloud API, its webhook
    on a free port (and the local API told where that is)."""
    port = free_port()
    wa.webhook_url = f"http://127.0.0.1:{port}/whatsapp"
    channel = WhatsAppSettings(
        phone_number_id=wa.phone_number_id,
        token=wa.token,
        app_secret=wa.app_secret,
        verify_token=VERIFY_TOKEN,
        business_number=wa.business_number,
        base_url=wa.base_url,
        listen="127.0.0.1",
        port=port,
    )
    return replace(settings, whatsapp=replace(channel, **changes))


@pytest.fixture
async def wa() -> AsyncIterator[LocalWhatsApp]:
    async with LocalWhatsApp() as server:
        yield server


@pytest.fixture
async def wabot(settings: Settings, wa: LocalWhatsApp) -> AsyncIterator[RunningBot]:
    """The bot with both channels: Telegram (polling) and WhatsApp (its webhook)."""
    async with polling_bot(with_whatsapp(settings, wa)) as running_bot:
        yield running_bot
