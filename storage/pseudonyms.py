"""Keyed pseudonyms for anonymous answers: HMAC with a key that never enters the database."""

from __future__ import annotations

import hashlib
import hmac


def pseudonym(key: str, *, poll_id: int, telegram_id: int) -> str:
    """The same person gets the same pseudonym within one poll, and an unrelated one elsewhere."""
    message = f"{poll_id}:{telegram_id}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
