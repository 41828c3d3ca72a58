"""What a WhatsApp webhook POST carries, read into plain records (no I/O here).

A body holds entries, each with changes; a change of field "messages" has `contacts`,
`messages` (what people sent) and `statuses` (what happened to what we sent). Only the fields
the bot needs are read; anything else, or anything malformed, is passed over."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from storage.models import Address

WA_ID = re.compile(r"[1-9]\d{5,19}")
"""A number with its country code, digits only (as `wa_id` and `from` carry it)."""
BSUID = re.compile(r"[A-Z]{2}(\.ENT)?\.[A-Za-z0-9]{1,128}")
"""A business-scoped user id: country, optionally ENT, and up to 128 letters and digits."""
MESSAGE_ID = re.compile(r"[\x21-\x7e]{1,4096}")


@dataclass(frozen=True)
class Incoming:
    """One message a person sent (or a system message about them)."""

    message_id: str
    wa_id: str | None
    """Their number (digits with country code), when the webhook carries it."""
    user_id: str | None
    """Their business-scoped user id (BSUID), when the webhook carries it."""
    kind: str
    """text, reply (a reply button, list row or template quick reply), audio, number_changed,
    or what WhatsApp called it (sticker, image, ...)."""
    text: str = ""
    reply_id: str | None = None
    new_wa_id: str | None = None
    new_user_id: str | None = None

    @property
    def address(self) -> Address:
        """How we know this person: by the BSUID when there is one, else by the number."""
        return Address.whatsapp(self.user_id or self.wa_id or "")

    @property
    def others(self) -> list[Address]:
        """Other addresses the same person may have been stored under before."""
        if self.user_id and self.wa_id:
            return [Address.whatsapp(self.wa_id)]
        return []


@dataclass(frozen=True)
class Status:
    """What happened to a message we sent."""

    message_id: str
    status: str
    codes: tuple[int, ...] = ()


def read(body: Any, *, phone_number_id: str) -> tuple[list[Incoming], list[Status]]:
    """The messages and statuses of a webhook body addressed to our number."""
    messages: list[Incoming] = []
    statuses: list[Status] = []
    if not isinstance(body, dict):
        return messages, statuses
    for entry in _list(body.get("entry")):
        for change in _list(_dict(entry).get("changes")):
            value = _dict(_dict(change).get("value"))
            metadata = _dict(value.get("metadata"))
            if str(metadata.get("phone_number_id", "")) != phone_number_id:
                continue  # another number of the same business account
            users = _users(value)
            for message in _list(value.get("messages")):
                found = _incoming(_dict(message), users)
                if found is not None:
                    messages.append(found)
            for status in _list(value.get("statuses")):
                found_status = _status(_dict(status))
                if found_status is not None:
                    statuses.append(found_status)
    return messages, statuses


def _users(value: dict[str, Any]) -> dict[str, str]:
    """wa_id → BSUID, from the change's contacts."""
    users = {}
    for contact in _list(value.get("contacts")):
        contact = _dict(contact)
        wa_id = _id(contact.get("wa_id"), WA_ID)
        user_id = _id(contact.get("user_id"), BSUID)
        if wa_id and user_id:
            users[wa_id] = user_id
    return users


def _incoming(message: dict[str, Any], users: dict[str, str]) -> Incoming | None:
    message_id = _id(message.get("id"), MESSAGE_ID)
    wa_id = _id(message.get("from"), WA_ID)
    user_id = _id(message.get("from_user_id"), BSUID) or (users.get(wa_id) if wa_id else None)
    if message_id is None or not (wa_id or user_id):
        return None  # not something Meta sends: nobody to answer
    kind = str(message.get("type", ""))
    base = {"message_id": message_id, "wa_id": wa_id, "user_id": user_id}
    if kind == "text":
        return Incoming(**base, kind="text", text=_text(_dict(message.get("text")).get("body")))
    if kind == "interactive":
        interactive = _dict(message.get("interactive"))
        reply = _dict(interactive.get(str(interactive.get("type", ""))))
        return Incoming(**base, kind="reply", reply_id=_text(reply.get("id")) or None)
    if kind == "button":  # a template's quick reply
        payload = _text(_dict(message.get("button")).get("payload"))
        return Incoming(**base, kind="reply", reply_id=payload or None)
    if kind in ("audio", "voice"):
        return Incoming(**base, kind="audio")
    if kind == "system":
        system = _dict(message.get("system"))
        change = system.get("type")
        if change == "user_changed_number":
            new_wa_id = _id(system.get("wa_id"), WA_ID)
            return Incoming(**base, kind="number_changed", new_wa_id=new_wa_id)
        if change == "user_changed_user_id":
            new = _id(system.get("user_id"), BSUID) or _id(system.get("new_user_id"), BSUID)
            return Incoming(**base, kind="number_changed", new_user_id=new)
        return None
    return Incoming(**base, kind=kind or "unsupported")


def _status(status: dict[str, Any]) -> Status | None:
    message_id, state = _id(status.get("id"), MESSAGE_ID), status.get("status")
    if message_id is None or not isinstance(state, str):
        return None
    codes = tuple(
        code
        for error in _list(status.get("errors"))
        if isinstance(error, dict) and (code := _code(error.get("code"))) is not None
    )
    return Status(message_id, state[:16], codes)


def _code(value: Any) -> int | None:
    """Meta's error code: an int, or plain ASCII digits (not "²", not thousands of them)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 <= value < 10**9 else None
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def _id(value: Any, shape: re.Pattern[str]) -> str | None:
    return value if isinstance(value, str) and shape.fullmatch(value) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
