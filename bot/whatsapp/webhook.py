"""The WhatsApp webhook (aiohttp): Meta's GET handshake, and signed POSTs of messages and
statuses.

A POST is checked first: `X-Hub-Signature-256` must be the HMAC-SHA256 of the raw body with
the app secret (compared in constant time), else 403 and nothing is stored. Then each
message id is stored once (Meta retries for days, and duplicates are normal), statuses
update their deliveries (never backwards), and new messages go into the inbox in the
same unit of work, and the answer is 200 at once: any process takes them from there
(`bot.run.inbox`: one person's messages in order, people side by side). If the database is
away, the answer is 503, so Meta delivers the body again later.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict

from aiohttp import web

from bot.config import WhatsAppSettings
from bot.observe.metrics import count_error
from bot.whatsapp.inbound import Incoming, Status, read
from storage import inbox, whatsapp
from storage.db import Database, is_outage
from storage.inbox import Arrival, Taken
from storage.models import WHATSAPP, utcnow

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
Handle = Callable[..., Awaitable[None]]
"""`Families.handle(incoming, before=…)`."""


def signed(body: bytes, header: str | None, secret: str) -> bool:
    """True when `header` is `sha256=` and the HMAC of exactly these bytes."""
    if not header or not secret or len(header) != 71:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.encode())


def taking(handle: Handle) -> Callable[[Taken], Awaitable[bool]]:
    """How the inbox hands a WhatsApp row to the channel: one message, tried again every
    `AGAIN_EVERY` seconds while the database is away (False after `GIVE_UP_AFTER`: the row
    goes back to the inbox, to be handled later)."""

    async def handle_row(row: Taken) -> bool:
        incoming = Incoming(**json.loads(row.body or "{}"))
        waited = 0.0
        while True:
            try:
                await handle(incoming, before=row.before)
                return True
            except Exception as error:
                if not is_outage(error):
                    log.error("WhatsApp message not handled (%s)", type(error).__name__)
                    count_error(error)
                    return True
                if waited >= GIVE_UP_AFTER:
                    return False
            await asyncio.sleep(AGAIN_EVERY)
            waited += AGAIN_EVERY

    return handle_row


class Webhook:
    """The routes, and what happens to what arrives."""

    def __init__(
        self,
        settings: WhatsAppSettings,
        *,
        db: Database,
        kick: Callable[[], None],
        on_status: Callable[[list[whatsapp.Receipt]], None],
        on_outage: Callable[[BaseException], None],
        expects: Callable[[str], bool] = lambda message_id: True,
    ) -> None:
        self.settings = settings
        self._expects = expects
        self.db = db
        self._kick = kick
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
        if new:
            self._kick()  # this process takes them at once (any other may)
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
            arrivals = [
                Arrival(
                    key=whatsapp.message_key(incoming.message_id),
                    person=incoming.address.id,
                    body=json.dumps(asdict(incoming)),
                )
                for incoming in messages
                if incoming.message_id in new
            ]
            await inbox.put(session, channel=WHATSAPP, arrivals=arrivals, now=utcnow())
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
