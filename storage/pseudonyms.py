"""Keyed pseudonyms for anonymous answers: HMAC with a key that never enters the database."""

from __future__ import annotations

import hashlib
import hmac

from storage.models import TELEGRAM, Address


def pseudonym(key: str, *, poll_id: int, address: Address) -> str:
    """The same person gets the same pseudonym within one poll, and an unrelated one elsewhere.

    Telegram's keep the message they had before there were channels ("poll:user id"), so
    every pseudonym stored since stays valid; other channels name themselves in it.
    """
    who = address.id if address.channel == TELEGRAM else f"{address.channel}:{address.id}"
    message = f"{poll_id}:{who}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
