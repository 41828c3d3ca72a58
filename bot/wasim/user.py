"""Simulated WhatsApp users: what a test does as a person messaging the bot."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from bot.wasim.errors import JSON
from bot.wasim.ids import new_wamid
from bot.wasim.media import OGG_STUB
from bot.wasim.message import WaMessage
from bot.wasim.webhook import encode, envelope

if TYPE_CHECKING:
    from bot.wasim.server import LocalWhatsApp

WINDOW = 24 * 3600.0
# A tiny WebP stands in for a sticker.
WEBP_STUB = (
    b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00"
    b"\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
)


class WaUser:
    """A person on WhatsApp who messages the bot's business number."""

    def __init__(
        self, server: LocalWhatsApp, wa_id: str, name: str, bsuid: str | None, on_whatsapp: bool
    ) -> None:
        self._server = server
        self.wa_id = wa_id
        self.name = name
        self.bsuid = bsuid
        self.on_whatsapp = on_whatsapp
        self.messages: list[WaMessage] = []
        self.read_marks: list[str] = []
        self.last_message_at: float | None = None  # server clock, incl. clock_offset

    @property
    def last(self) -> WaMessage | None:
        """The newest message the bot sent this user."""
        return self.messages[-1] if self.messages else None

    @property
    def inbox(self) -> list[str]:
        """The bot's messages to this user as one line each, in order: texts, and voice notes
        as "[voice]" (audio files "[audio]")."""
        return [message.shown for message in self.messages]

    def window_open(self) -> bool:
        """Whether the 24-hour customer-service window is open (server clock)."""
        if self.last_message_at is None:
            return False
        return self._server.now() - self.last_message_at < WINDOW

    async def send(self, text: str, *, wait: bool = True) -> str:
        """Send a text message; the inbound wamid."""
        fields = {"type": "text", "text": {"body": text}}
        return await self._deliver("text", fields, text, wait=wait)

    async def tap(self, title: str, *, wait: bool = True) -> str:
        """Tap the choice with this title on the newest bot message that offers it."""
        for message in reversed(self.messages):
            for reply_id, choice in message.choices:
                if choice == title:
                    return await self._reply(message, reply_id, title, wait=wait)
        raise AssertionError(f"{self.name} sees no choice {title!r}; visible:\n{self.choices()}")

    async def tap_id(
        self, reply_id: str, title: str = "?", *, kind: str = "button_reply", wait: bool = True
    ) -> str:
        """Send a reply with any id (forged or stale): kind button_reply, list_reply or button."""
        if kind not in ("button_reply", "list_reply", "button"):
            raise AssertionError(f"kind must be button_reply, list_reply or button, not {kind!r}")
        fields: JSON
        if kind == "button":
            fields = {"type": "button", "button": {"payload": reply_id, "text": title}}
        else:
            reply = {"id": reply_id, "title": title}
            fields = {"type": "interactive", "interactive": {"type": kind, kind: reply}}
        if self.last is not None:
            fields["context"] = self._context(self.last)
        return await self._deliver("tap", fields, f"[{title}]", wait=wait)

    async def send_voice(self, *, wait: bool = True) -> str:
        """Send a voice note (its media can be fetched and downloaded)."""
        media = self._server.media.add(OGG_STUB, "audio/ogg; codecs=opus")
        audio = {"id": media.media_id, "mime_type": media.mime_type, "sha256": media.sha256}
        fields = {"type": "audio", "audio": audio | {"voice": True}}
        return await self._deliver("voice", fields, "", wait=wait)

    async def send_sticker(self, *, wait: bool = True) -> str:
        """Send a sticker, a type the bot does not use."""
        media = self._server.media.add(WEBP_STUB, "image/webp")
        sticker = {"id": media.media_id, "mime_type": "image/webp", "sha256": media.sha256}
        fields = {"type": "sticker", "sticker": sticker | {"animated": False}}
        return await self._deliver("sticker", fields, "", wait=wait)

    async def change_number(self, new_wa_id: str, *, wait: bool = True) -> str:
        """Move to a new number: a system message from the old one, then send from the new."""
        old = self.wa_id
        system = {
            "body": f"User {self.name} changed from {old} to {new_wa_id}",
            "wa_id": new_wa_id,
            "type": "user_changed_number",
        }
        self._server.renumber(self, new_wa_id)
        fields = {"type": "system", "system": system}
        return await self._deliver(
            "system", fields, f"changed number to {new_wa_id}", wait=wait, sender=old
        )

    def choices(self) -> str:
        """The choices on the bot's messages, newest first, for an assertion message."""
        lines = [
            f"{m.wamid[:18]}… ({m.kind}): " + " ".join(f"[{t}]" for t in m.titles)
            for m in reversed(self.messages)
            if m.choices
        ]
        return "\n".join(lines) or "(none)"

    def _context(self, message: WaMessage) -> JSON:
        """The context of a reply to one of the bot's messages."""
        return {"from": self._server.business_number, "id": message.wamid}

    async def _reply(self, message: WaMessage, reply_id: str, title: str, *, wait: bool) -> str:
        """A button reply, list reply or template quick reply to `message`."""
        fields: JSON
        if message.kind == "template":
            fields = {"type": "button", "button": {"payload": reply_id, "text": title}}
        elif message.kind == "list":
            row: JSON = {"id": reply_id, "title": title}
            description = message.description(reply_id)
            if description:
                row["description"] = description
            fields = {
                "type": "interactive",
                "interactive": {"type": "list_reply", "list_reply": row},
            }
        else:
            reply = {"id": reply_id, "title": title}
            fields = {
                "type": "interactive",
                "interactive": {"type": "button_reply", "button_reply": reply},
            }
        fields["context"] = self._context(message)
        return await self._deliver("tap", fields, f"[{title}]", wait=wait)

    async def _deliver(
        self, kind: str, fields: JSON, shown: str, *, wait: bool, sender: str | None = None
    ) -> str:
        """Post one inbound message to the bot's webhook (retried like Meta); wait for its read."""
        server = self._server
        wamid = new_wamid(sender or self.wa_id)
        message: JSON = {"from": sender or self.wa_id}
        if self.bsuid:
            message["from_user_id"] = self.bsuid
        message |= {"id": wamid, "timestamp": str(int(server.now()))} | fields
        value: JSON = {"messages": [message]}
        if kind != "system":
            contact: JSON = {"profile": {"name": self.name}, "wa_id": self.wa_id}
            if self.bsuid:
                contact["user_id"] = self.bsuid
            value = {"contacts": [contact]} | value
            self.last_message_at = server.now()
        body = encode(envelope(server.waba_id, server.metadata, value))
        server.inbound_owner[wamid] = self
        server.last_inbound = body
        server.note(self.name, "in", kind, shown)
        event = server.read_event(wamid)
        status = await server.delivery.deliver(body)
        if wait and status != 200:
            tried = server.webhook_statuses[-(len(server.delivery.retry_delays) + 1) :]
            raise AssertionError(f"the bot's webhook did not accept {wamid}: answered {tried}")
        if wait:
            await self._await_read(event, wamid)
        return wamid

    async def _await_read(self, event: asyncio.Event, wamid: str) -> None:
        """Wait until the bot marked the message as read."""
        started = time.monotonic()
        try:
            await asyncio.wait_for(event.wait(), self._server.read_timeout)
        except TimeoutError:
            waited = time.monotonic() - started
            raise AssertionError(
                f"the bot did not mark wamid {wamid} as read within {waited:.1f}s"
            ) from None
