"""Opaque ids: message ids (wamid.…), media ids and the clock Meta stamps webhooks with."""

from __future__ import annotations

import base64
import secrets


def new_wamid(wa_id: str) -> str:
    """A message id shaped like Meta's: "wamid.HBgL" + base64 of the number and random bytes."""
    raw = wa_id.encode()[:11].ljust(11, b"0") + b"\x15\x02\x00\x12\x18" + secrets.token_bytes(16)
    return "wamid.HBgL" + base64.b64encode(raw).decode()


def new_media_id() -> str:
    """A numeric media id, 16 digits like Meta's."""
    return str(secrets.randbelow(9 * 10**15) + 10**15)


def digits(number: str) -> str:
    """A phone number as a wa_id: digits only (Meta accepts "+", spaces and dashes)."""
    return "".join(ch for ch in number if ch.isdigit())
