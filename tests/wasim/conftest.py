"""Fixtures: a running LocalWhatsApp, a Graph client and a tiny webhook receiver as the bot."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest_asyncio
from aiohttp import web

from bot.wasim import LocalWhatsApp


class Graph:
    """The bot's side of the Cloud API: POST /messages with the Bearer token."""

    def __init__(self, server: LocalWhatsApp, session: aiohttp.ClientSession) -> None:
        self.server = server
        self.session = session

    async def send(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST a message (messaging_product added); HTTP status and JSON answer."""
        body = {"messaging_product": "whatsapp", "recipient_type": "individual"} | payload
        url = f"{self.server.base_url}/{self.server.phone_number_id}/messages"
        async with self.session.post(url, json=body) as response:
            return response.status, await response.json()

    async def text(self, to: str, text: str) -> tuple[int, dict[str, Any]]:
        """A text message."""
        return await self.send({"to": to, "type": "text", "text": {"body": text}})


class Receiver:
    """The bot's webhook: checks signatures over the raw bytes, keeps bodies, marks reads."""

    def __init__(self, server: LocalWhatsApp, graph: Graph) -> None:
        self.server = server
        self.graph = graph
        self.bodies: list[dict[str, Any]] = []
        self.raw: list[bytes] = []
        self.answers: list[int] = []  # statuses to answer with first (then 200)
        self.mark_read = True

    async def handle(self, request: web.Request) -> web.Response:
        """Verify, record, mark inbound messages read, answer."""
        raw = await request.read()
        header = request.headers.get("X-Hub-Signature-256", "")
        secret = self.server.app_secret.encode()
        expected = "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(header, expected):
            return web.Response(status=401)
        if self.answers:
            return web.Response(status=self.answers.pop(0))
        body = json.loads(raw)
        self.raw.append(raw)
        self.bodies.append(body)
        values = [c["value"] for e in body.get("entry", []) for c in e["changes"]]
        for message in [m for v in values for m in v.get("messages", [])]:
            if self.mark_read:
                read = {"status": "read", "message_id": message["id"]}
                await self.graph.send(read)
        return web.Response(text="ok")

    def messages(self) -> list[dict[str, Any]]:
        """Inbound messages received, in order."""
        values = [b["entry"][0]["changes"][0]["value"] for b in self.bodies]
        return [m for v in values for m in v.get("messages", [])]

    def statuses(self, wamid: str) -> list[str]:
        """The statuses received for one message, in order."""
        values = [b["entry"][0]["changes"][0]["value"] for b in self.bodies]
        return [s["status"] for v in values for s in v.get("statuses", []) if s["id"] == wamid]


@pytest_asyncio.fixture
async def server() -> AsyncIterator[LocalWhatsApp]:
    """A running simulator with short retry delays."""
    async with LocalWhatsApp() as wa:
        wa.delivery.retry_delays = (0.01, 0.01)
        wa.read_timeout = 2.0
        yield wa


@pytest_asyncio.fixture
async def graph(server: LocalWhatsApp) -> AsyncIterator[Graph]:
    """A Graph client with the right token."""
    headers = {"Authorization": f"Bearer {server.token}"}
    async with aiohttp.ClientSession(headers=headers, trust_env=False) as session:
        yield Graph(server, session)


@pytest_asyncio.fixture
async def receiver(server: LocalWhatsApp, graph: Graph) -> AsyncIterator[Receiver]:
    """The bot's webhook, served locally and set as the server's webhook_url."""
    bot = Receiver(server, graph)
    app = web.Application()
    app.router.add_post("/webhook", bot.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.webhook_url = f"http://127.0.0.1:{runner.addresses[0][1]}/webhook"
    yield bot
    await server.settle()
    await runner.cleanup()
