"""Webhook mode: POST each pending update to the bot, in order, retrying failures."""

from __future__ import annotations

import asyncio
import contextlib
import time

import aiohttp

from bot.botapi.updates import UpdateQueue

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookDelivery:
    """One delivery worker for the webhook the bot set, like Telegram's."""

    def __init__(self, queue: UpdateQueue) -> None:
        self.queue = queue
        self.url = ""
        self.secret_token: str | None = None
        self.max_connections = 40
        self.statuses: list[int] = []
        self.retry_delay = 0.05
        self.max_attempts = 3
        self.request_timeout = 10.0
        self.last_error_date: int | None = None
        self.last_error_message: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def active(self) -> bool:
        """Whether a webhook is set."""
        return bool(self.url)

    async def set(self, url: str, secret_token: str | None, max_connections: int) -> None:
        """Point delivery at a new URL and (re)start the worker."""
        await self.clear()
        self.url, self.secret_token, self.max_connections = url, secret_token, max_connections
        self._session = aiohttp.ClientSession(trust_env=False)
        self._task = asyncio.create_task(self._run(), name="botapi-webhook")

    async def clear(self) -> None:
        """Stop delivering; pending updates stay for getUpdates."""
        self.url, self.secret_token = "", None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    def info(self) -> dict[str, object]:
        """The WebhookInfo object."""
        info: dict[str, object] = {
            "url": self.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.queue.pending),
        }
        if self.url:
            info["max_connections"] = self.max_connections
            if self.queue.allowed_updates:
                info["allowed_updates"] = self.queue.allowed_updates
        if self.last_error_date is not None:
            info["last_error_date"] = self.last_error_date
            info["last_error_message"] = self.last_error_message
        return info

    async def _run(self) -> None:
        """Deliver updates one at a time, oldest first."""
        while not self.queue.closed:
            await self.queue.wait_for_pending(3600)
            pending = self.queue.deliverable(1)
            if pending:
                await self._deliver(pending[0])

    async def _deliver(self, update: dict[str, object]) -> None:
        """POST one update until it is accepted or the attempts run out."""
        update_id = int(update["update_id"])  # type: ignore[call-overload]
        tried: list[int] = []
        for attempt in range(self.max_attempts):
            if attempt:
                await asyncio.sleep(self.retry_delay * attempt)
            status = await self._post(update)
            self.statuses.append(status)
            tried.append(status)
            if 200 <= status < 300:
                self.queue.confirm(update_id)
                return
            self.last_error_date = int(time.time())
            if status:
                self.last_error_message = f"Wrong response from the webhook: {status}"
        self.queue.drop([update], f"the webhook answered {tried}")

    async def _post(self, update: dict[str, object]) -> int:
        """One POST; the HTTP status, or 0 when the connection failed."""
        assert self._session is not None
        headers = {SECRET_HEADER: self.secret_token} if self.secret_token else {}
        timeout = aiohttp.ClientTimeout(total=self.request_timeout)
        try:
            async with self._session.post(
                self.url, json=update, headers=headers, timeout=timeout
            ) as response:
                await response.read()
                return response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.last_error_message = f"Connection failed: {exc!r}"
            return 0
