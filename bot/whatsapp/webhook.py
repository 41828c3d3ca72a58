"""The WhatsApp webhook (aiohttp): Meta's GET handshake, and signed POSTs of messages and
statuses.

A POST is checked first: `X-Hub-Signature-256` must be the HMAC-SHA256 of the raw body with
the app secret (compared in constant time), else 403 and nothing is stored. Then each
message id is stored once (Meta retries for days, and duplicates are normal), statuses
update their deliveries (never backwards), and the answer is 200 at once: the messages are
handled in their person's lane afterwards (one person's messages in order, people side by
side). If the database is away, the answer is 503, so Meta delivers the body again later.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.config import WhatsAppSettings
from bot.whatsapp.inbound import Incoming, Status, read
from storage import whatsapp
from storage.db import Database, is_outage
from storage.models import Address

log = logging.getLogger(__name__)
MAX_BODY = 3 * 1024 * 1024
AGAIN_EVERY = 2.0
"""Seconds between tries of a message the database could not take."""
GIVE_UP_AFTER = 600.0
EARLY_TRIES = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
"""Seconds to wait before a status about a message we have not recorded yet is tried again:
it can arrive before the send's own outcome is stored (a fraction of a second later). Only
statuses of messages this process's outbox just sent are tried again; those of replies (no
outbox row) and of strangers' ids are dropped at once."""
Handle = Callable[[Incoming], Awaitable[None]]


def signed(body: bytes, header: str | None, secret: str) -> bool:
    """True when `header` is `sha256=` and the HMAC of exactly these bytes."""
    if not header or not secret or len(header) != 71:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.encode())


class Lanes:
    """One lane per person: their messages in order, one at a time; people side by side."""

    def __init__(self, handle: Handle, *, on_outage: Callable[[BaseException], None]) -> None:
        self._handle = handle
        self._on_outage = on_outage
        self._queues: dict[Address, deque[Incoming]] = {}
        self._tasks: dict[Address, asyncio.Task[None]] = {}

    def put(self, incoming: Incoming) -> None:
        address = incoming.address
        self._queues.setdefault(address, deque()).append(incoming)
        if address not in self._tasks:
            self._tasks[address] = asyncio.create_task(self._run(address), name="whatsapp-lane")

    @property
    def busy(self) -> int:
        return sum(len(queue) for queue in self._queues.values())

    async def idle(self) -> None:
        """Wait until every lane is done (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def _run(self, address: Address) -> None:
        queue = self._queues[address]
        try:
            while queue:
                await self._one(queue[0])
                queue.popleft()
        finally:
            self._queues.pop(address, None)
            self._tasks.pop(address, None)

    async def _one(self, incoming: Incoming) -> None:
        """Handle one message; while the database is away, wait and try again."""
        waited = 0.0
        while True:
            try:
                await self._handle(incoming)
                return
            except Exception as error:
                if not is_outage(error) or waited >= GIVE_UP_AFTER:
                    log.error("WhatsApp message not handled (%s)", type(error).__name__)
                    return
                self._on_outage(error)
            await asyncio.sleep(AGAIN_EVERY)
            waited += AGAIN_EVERY


class Webhook:
    """The routes, and what happens to what arrives."""

    def __init__(
        self,
        settings: WhatsAppSettings,
        *,
        db: Database,
        lanes: Lanes,
        on_status: Callable[[list[whatsapp.Receipt]], None],
        on_outage: Callable[[BaseException], None],
        expects: Callable[[str], bool] = lambda message_id: True,
    ) -> None:
        self.settings = settings
        self._expects = expects
        self.db = db
        self.lanes = lanes
        self._on_status = on_status
        self._on_outage = on_outage
        self._early: set[asyncio.Task[None]] = set()

    def routes(self, app: web.Application) -> None:
        app.router.add_get(self.settings.path, self.verify)
        app.router.add_post(self.settings.path, self.receive)

    async def verify(self, request: web.Request) -> web.StreamResponse:
        """Meta's handshake: the challenge back, only with our verify token."""
        query = request.query
        token = query.get("hub.verify_token", "")
        mode_ok = query.get("hub.mode") == "subscribe"
        token_ok = hmac.compare_digest(token.encode(), self.settings.verify_token.encode())
        if not (mode_ok and token_ok and self.settings.verify_token):
            return web.Response(status=403, text="forbidden")
        return web.Response(text=query.get("hub.challenge", ""))

    async def receive(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if not signed(body, request.headers.get("X-Hub-Signature-256"), self.settings.app_secret):
            log.warning("WhatsApp webhook: a POST without a valid signature was refused")
            return web.Response(status=403, text="forbidden")
        try:
            payload = json.loads(body)
        except ValueError:
            return web.Response(text="ok")  # signed, but not JSON: nothing to do, no retries
        messages, statuses = read(payload, phone_number_id=self.settings.phone_number_id)
        try:
            new, receipts = await self._store(messages, statuses)
        except Exception as error:
            if not is_outage(error):
                raise
            self._on_outage(error)
            return web.Response(status=503, text="database not reachable")
        for incoming in messages:
            if incoming.message_id in new:
                new.discard(incoming.message_id)  # twice in one body: once
                self.lanes.put(incoming)
        if receipts:
            self._on_status(receipts)
        return web.Response(text="ok")

    async def _store(
        self, messages: list[Incoming], statuses: list[Status]
    ) -> tuple[set[str], list[whatsapp.Receipt]]:
        receipts, early = [], []
        async with self.db.begin() as session:
            new = await whatsapp.first_time(
                session, message_ids=[incoming.message_id for incoming in messages]
            )
            for status in statuses:
                receipt = await whatsapp.record_status(
                    session, message_id=status.message_id, status=status.status, codes=status.codes
                )
                if receipt is not None:
                    receipts.append(receipt)
                elif self._expects(status.message_id):
                    early.append(status)  # a broadcast whose outcome is not recorded yet
        for status in early:
            task = asyncio.create_task(self._later(status))
            self._early.add(task)
            task.add_done_callback(self._early.discard)
        return new, receipts

    async def _later(self, status: Status) -> None:
        """A status that came before its send was recorded: try it again a few times (one
        about a message that is not ours, or of a row forgotten since, is dropped)."""
        for wait in EARLY_TRIES:
            await asyncio.sleep(wait)
            try:
                async with self.db.begin() as session:
                    receipt = await whatsapp.record_status(
                        session,
                        message_id=status.message_id,
                        status=status.status,
                        codes=status.codes,
                    )
            except Exception as error:
                if not is_outage(error):
                    log.error("WhatsApp status not recorded (%s)", type(error).__name__)
                    return
                continue
            if receipt is not None:
                self._on_status([receipt])
                return

    async def close(self) -> None:
        for task in list(self._early):
            task.cancel()
        await asyncio.gather(*self._early, return_exceptions=True)


def server(webhook: Webhook) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    webhook.routes(app)
    return app
