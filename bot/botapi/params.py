"""Decoding a Bot API request (form, multipart or JSON) into typed parameters."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from aiohttp import web

from bot.botapi.errors import bad_request

# Parameters that clients send JSON-encoded in form data; every other parameter stays raw.
JSON_FIELDS = frozenset(
    {
        "allow_sending_without_reply",
        "allowed_updates",
        "cache_time",
        "caption_entities",
        "chat_id",
        "commands",
        "disable_content_type_detection",
        "disable_notification",
        "disable_web_page_preview",
        "drop_pending_updates",
        "entities",
        "for_channels",
        "from_chat_id",
        "has_spoiler",
        "limit",
        "link_preview_options",
        "max_connections",
        "menu_button",
        "message_id",
        "message_ids",
        "message_thread_id",
        "offset",
        "protect_content",
        "reply_markup",
        "reply_parameters",
        "reply_to_message_id",
        "rights",
        "scope",
        "show_alert",
        "show_caption_above_media",
        "timeout",
        "user_id",
    }
)


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str | None
    data: bytes
    content_type: str | None


@dataclass
class Params:
    """The decoded parameters of one call, with Telegram-style typed getters."""

    values: dict[str, object] = field(default_factory=dict)
    uploads: dict[str, Upload] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        """Whether the parameter was sent."""
        return name in self.values or name in self.uploads

    def raw(self, name: str) -> object:
        """The decoded value, or None when absent."""
        return self.values.get(name)

    def opt_str(self, name: str) -> str | None:
        """An optional string parameter."""
        value = self.values.get(name)
        return None if value is None else str(value)

    def opt_int(self, name: str) -> int | None:
        """An optional integer parameter; 400 when it is not an integer."""
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise bad_request(f"invalid {name} specified")
        try:
            return int(value)
        except ValueError:
            raise bad_request(f"invalid {name} specified") from None

    def req_int(self, name: str) -> int:
        """A required integer parameter; Telegram's "<name> is empty" when absent."""
        value = self.opt_int(name)
        if value is None:
            raise bad_request(f"{name} is empty")
        return value

    def flag(self, name: str) -> bool:
        """A boolean parameter, false when absent."""
        value = self.values.get(name)
        if isinstance(value, str):
            return value.lower() in {"true", "1"}
        return bool(value)

    def chat_id(self, name: str = "chat_id") -> int | str:
        """A chat id: an integer or an @username."""
        value = self.values.get(name)
        if value is None or value == "":
            raise bad_request(f"{name} is empty")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.startswith("@"):
            return value
        raise bad_request("chat not found")


def decode_value(name: str, value: object) -> object:
    """JSON-decode a known non-string parameter sent as a string; keep the rest raw."""
    if name in JSON_FIELDS and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


async def read_params(request: web.Request) -> Params:
    """Read query string, form, multipart or JSON body into Params."""
    params = Params()
    for name, value in request.query.items():
        params.values[name] = decode_value(name, value)
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise bad_request("can't parse JSON object")
        for name, value in body.items():
            params.values[name] = decode_value(name, value)
    elif request.content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                upload = Upload(value.filename, value.file.read(), value.content_type)
                params.uploads[name] = upload
            else:
                params.values[name] = decode_value(name, value)
    return params
