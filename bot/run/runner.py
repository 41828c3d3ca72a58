"""Run the bot until SIGINT or SIGTERM: polling, or webhook behind aiohttp."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.chat.context import SERVICES
from bot.config import Settings
from bot.delivery.rate import SendLimiter
from bot.observe.server import KEY as METRICS
from bot.observe.server import MetricsServer
from bot.run import whatsapp
from bot.run.app import build_app, prepare
from bot.run.inbox import INBOX
from bot.run.polling import poll_until
from bot.run.webhook import webhook_server
from storage.db import Database

log = logging.getLogger(__name__)
App = Application[Any, Any, Any, Any, Any, Any]


@asynccontextmanager
async def running(settings: Settings, *, updates: bool = True) -> AsyncIterator[App]:
    """The application, initialised, prepared and started; stopped and closed afterwards.
    With `updates` (not a worker) the WhatsApp webhook is served too, when that channel is on."""
    db = Database(settings.database_url)
    try:
        await db.upgrade()
        app = build_app(settings, db)
        services = app.bot_data[SERVICES]
        alone = services.leadership.claim_sqlite()
        async with app:
            await prepare(app)
            await app.start()
            if isinstance(app.bot.rate_limiter, SendLimiter):
                app.bot.rate_limiter.be_patient()  # start-up failed fast; now replies wait
            taker = app.bot_data[INBOX]
            if alone:  # a second process on one SQLite file must not send or take too
                await services.outbox.start(only_process=db.is_sqlite)
                await taker.start(only_process=db.is_sqlite)
            metrics = app.bot_data[METRICS] = MetricsServer(db, settings.metrics)
            await metrics.start()
            parts = app.bot_data.get(whatsapp.KEY)
            try:
                if parts is not None and updates:
                    await whatsapp.start_webhook(parts)
                yield app
            finally:
                await metrics.stop()
                if parts is not None:
                    await whatsapp.stop_webhook(parts)
                if alone:
                    await taker.stop()
                await services.outbox.stop()
                if parts is not None:
                    await parts.channel.close()
                await app.stop()
                await services.leadership.release()
    finally:
        await db.dispose()


async def serve(
    settings: Settings, *, stop: asyncio.Event | None = None, worker: bool = False
) -> None:
    """Run the bot with `settings` until `stop` is set (by default: on SIGINT or SIGTERM).

    A worker takes no updates from Telegram or WhatsApp itself, but handles them from the
    inbox like every process, sends the outbox and runs scheduled jobs (when it leads); so
    several workers can share one PostgreSQL database beside one poller (or several webhook
    processes)."""
    stop = stop or _stop_on_signals()
    async with running(settings, updates=not worker) as app:
        mode = "worker" if worker else settings.telegram.mode
        log.info("achterban is running as @%s (%s mode)", app.bot.username, mode)
        if worker:
            await stop.wait()
        elif mode == "webhook":
            await _serve_webhook(app, settings, stop)
        else:
            await app.bot.delete_webhook()
            await poll_until(app, stop)


async def _serve_webhook(app: App, settings: Settings, stop: asyncio.Event) -> None:
    hook = settings.telegram.webhook
    db = app.bot_data[SERVICES].db
    runner = web.AppRunner(webhook_server(app, db=db, path=hook.path, secret=hook.secret_token))
    await runner.setup()
    await web.TCPSite(runner, hook.listen, hook.port).start()
    try:
        await app.bot.set_webhook(
            url=hook.public_url.rstrip("/") + hook.path,
            secret_token=hook.secret_token,
            allowed_updates=Update.ALL_TYPES,
        )
        await stop.wait()
    finally:
        await runner.cleanup()


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    return stop
