"""Webhook POSTs to the bot: Meta's envelope, signed bytes, retries and pending deliveries."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable

import aiohttp

from bot.wasim.errors import JSON

SIGNATURE_HEADER = "X-Hub-Signature-256"
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0)


def envelope(waba_id: str, metadata: JSON, value: JSON) -> JSON:
    """The whatsapp_business_account object around one change's value."""
    change_value = {"messaging_product": "whatsapp", "metadata": metadata} | value
    change = {"field": "messages", "value": change_value}
    return {"object": "whatsapp_business_account", "entry": [{"id": waba_id, "changes": [change]}]}


def encode(payload: JSON) -> bytes:
    """Serialise like Meta: compact, non-ASCII and "/" escaped (re-serialising will not match)."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=True)
    return text.replace("/", "\\/").encode()


def sign(secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 value for these exact bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookDelivery:
    """POSTs to the bot's webhook, retried like Meta, with a log of what it answered."""

    def __init__(self, url: Callable[[], str | None], secret: Callable[[], str]) -> None:
        self._url = url
        self._secret = secret
        self.statuses: list[int] = []
        self.retry_delays: tuple[float, ...] = RETRY_DELAYS
        self.request_timeout = 10.0
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def open(self) -> None:
        """Create the HTTP client session."""
        self._session = aiohttp.ClientSession(trust_env=False)

    async def close(self) -> None:
        """Cancel pending deliveries and close the session."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(self, body: bytes, signature: str | None = "valid") -> int:
        """One POST of these bytes; the HTTP status, or 0 when the connection failed."""
        url = self._url()
        if not url:
            raise AssertionError("webhook_url is not set: the bot's webhook is unknown")
        if self._session is None:
            raise AssertionError("the server is not started")
        headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
        if signature == "valid":
            headers[SIGNATURE_HEADER] = sign(self._secret(), body)
        elif signature is not None:
            headers[SIGNATURE_HEADER] = signature
        timeout = aiohttp.ClientTimeout(total=self.request_timeout)
        try:
            async with self._session.post(
                url, data=body, headers=headers, timeout=timeout
            ) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            status = 0
        self.statuses.append(status)
        return status

    async def deliver(self, body: bytes) -> int:
        """POST until the bot answers 200 or the retries run out; the last status."""
        status = await self.post(body)
        for delay in self.retry_delays:
            if status == 200:
                break
            await asyncio.sleep(delay)
            status = await self.post(body)
        return status

    def later(self, job: Callable[[], Awaitable[None]]) -> None:
        """Run a delivery job in the background, tracked for settle()."""
        task = asyncio.create_task(job())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def pending(self) -> int:
        """How many background deliveries have not finished."""
        return len(self._tasks)

    async def settle(self, within: float) -> None:
        """Wait until no background delivery is pending."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while self._tasks:
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"{len(self._tasks)} webhook deliveries still pending")
            await asyncio.wait(set(self._tasks), timeout=left)
