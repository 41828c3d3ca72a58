"""Webhook mode on aiohttp: the secret header is checked before anything else; /healthz."""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any

from aiohttp import web
from telegram.ext import Application

from bot.run.polling import store
from storage import outbox
from storage.db import Database
from storage.models import utcnow

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DATABASE_PATIENCE = 20.0
"""Seconds a webhook request waits for the database to come back before answering 503."""


def webhook_server(
    app: Application[Any, Any, Any, Any, Any, Any], *, db: Database, path: str, secret: str
) -> web.Application:
    """An aiohttp app: POST `path` takes updates (403 without the right secret), GET /healthz."""

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return web.json_response({"ok": False, "error": "forbidden"}, status=403)
        try:
            data = await request.json()
        except ValueError:
            log.warning("webhook received a body that is not JSON; dropped")
            return web.json_response({"ok": False, "error": "not an update"}, status=400)
        # An update we cannot read is skipped with 200: a retry would not make it readable.
        # It is stored in the inbox before the 200 (any process handles it from there); while
        # the database is away it is tried for a while, then Telegram is asked (503) to
        # deliver it again later.
        patience = asyncio.Event()
        later = asyncio.get_running_loop().call_later(DATABASE_PATIENCE, patience.set)
        try:
            if not await store(app, [data], stop=patience):
                return web.json_response({"ok": False, "error": "try again"}, status=503)
        finally:
            later.cancel()
        return web.json_response({"ok": True})

    async def health(_request: web.Request) -> web.Response:
        """200 with the database status and the outbox backlog; 503 when the database is down."""
        if not await db.ping():
            return web.json_response({"status": "down", "database": "down"}, status=503)
        async with db.read() as session:
            waiting, oldest = await outbox.backlog(session, now=utcnow())
        return web.json_response(
            {
                "status": "ok",
                "database": "ok",
                "outbox_backlog": waiting,
                "oldest_pending_seconds": round(oldest) if oldest is not None else None,
            }
        )

    server = web.Application(client_max_size=1024 * 1024)
    server.router.add_post(path, receive)
    server.router.add_get("/healthz", health)
    return server
