"""A thin client of the WhatsApp Cloud API (Graph API) on aiohttp: send a message, mark one
read, upload a file (a voice note). Its base URL comes from the settings, so tests and the
demo point it at `bot.wasim.LocalWhatsApp`. Errors come back as `GraphError` with Meta's
code; a network fault or a page that is not Graph's JSON is `Unreachable`."""

from __future__ import annotations

import re
from typing import Any

import aiohttp

from storage.models import Address

BSUID = re.compile(r"^[A-Z]{2}\.")
"""A business-scoped user id (`NL.1349…`); a plain number is a wa_id."""
TIMEOUT = aiohttp.ClientTimeout(total=20, connect=5)


class GraphError(Exception):
    """The Cloud API refused a call: Meta's error code (131047, 130429, ...) and title."""

    def __init__(self, code: int, title: str, status: int) -> None:
        super().__init__(f"({code}) {title}"[:120])
        self.code = code
        self.title = title
        self.status = status


class Unreachable(Exception):
    """No answer from the Cloud API (connection, timeout, 5xx without Graph's JSON)."""


class CloudApi:
    """Calls for one business number."""

    def __init__(self, *, base_url: str, phone_number_id: str, token: str) -> None:
        self.url = f"{base_url.rstrip('/')}/{phone_number_id}/messages"
        self.media_url = f"{base_url.rstrip('/')}/{phone_number_id}/media"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._session: aiohttp.ClientSession | None = None

    async def send(self, address: Address, body: dict[str, Any]) -> str:
        """Send one message to `address`; its message id (wamid)."""
        to = {"recipient": address.id} if BSUID.match(address.id) else {"to": address.id}
        payload = {"messaging_product": "whatsapp", "recipient_type": "individual", **to, **body}
        answer = await self._post(payload)
        try:
            return str(answer["messages"][0]["id"])
        except (KeyError, IndexError, TypeError):
            raise Unreachable("no message id in the answer") from None

    async def mark_read(self, message_id: str) -> None:
        """Blue ticks: the person sees that we read (and handled) their message."""
        await self._post(
            {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
        )

    async def upload(self, data: bytes, mime: str) -> str:
        """Upload a file for messages to use (Meta keeps it 30 days); its media id."""
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", mime)
        extension = mime.split(";", 1)[0].rsplit("/", 1)[-1]
        form.add_field("file", data, filename=f"voice.{extension}", content_type=mime)
        answer = await self._post(None, url=self.media_url, form=form)
        media_id = answer.get("id")
        if not isinstance(media_id, str | int) or not str(media_id):
            raise Unreachable("no media id in the answer")
        return str(media_id)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _post(
        self,
        payload: dict[str, Any] | None,
        *,
        url: str | None = None,
        form: aiohttp.FormData | None = None,
    ) -> dict[str, Any]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT, headers=self._headers)
        try:
            async with self._session.post(url or self.url, json=payload, data=form) as response:
                try:
                    answer = await response.json(content_type=None)
                except ValueError:
                    answer = None
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as error:
            raise Unreachable(type(error).__name__) from None
        if status == 200 and isinstance(answer, dict):
            return answer
        error = answer.get("error") if isinstance(answer, dict) else None
        if isinstance(error, dict) and isinstance(error.get("code"), int):
            return _raise(error, status)
        if status == 429:
            raise GraphError(130429, "Rate limit hit", status)
        raise Unreachable(f"HTTP {status}")


def _raise(error: dict[str, Any], status: int) -> Any:
    title = str(error.get("error_user_title") or error.get("message") or "")
    raise GraphError(int(error["code"]), title[:80], status)
