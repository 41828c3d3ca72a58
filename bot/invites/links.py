"""The links an invite code travels in, and finding a code again in a family's first message.

A Telegram link hands the code over in `/start <code>`; WhatsApp has no such thing, so its link
opens a chat with the business number and a ready-made first message in which the code is a
word of its own. The WhatsApp adapter finds it there with `find_code`.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from bot.texts import texts_for

CODE_IN_TEXT: re.Pattern[str] = re.compile(
    r"(?<![\w-])"  # a whole word: no letter, digit, _ or - just before
    r"(?=[A-Za-z0-9_-]{22}(?![\w-]))"  # exactly 22 characters, as secrets.token_urlsafe(16)
    r"(?![A-Za-z][a-z]{21})"  # not a plain word ("Hoogspanningsleidingen")
    r"(?![A-Z]{22})"  # nor one in capitals
    r"[A-Za-z0-9_-]{22}"
)
"""An invite code in free text. A random code that looks like a plain word is one in a few
hundred million, so plain words are passed over rather than taken for a code."""


def telegram_link(bot_username: str, code: str) -> str:
    """The deep link that starts the bot with the code: t.me/<bot>?start=<code>."""
    return f"https://t.me/{bot_username}?start={code}"


def whatsapp_link(business_number: str, code: str, language: str) -> str:
    """A wa.me link that opens a chat with the business number and a short first message,
    in `language`, with the code as a word of its own."""
    number = business_number.strip().lstrip("+")
    text = texts_for(language).label("poster.whatsapp_text", code=code)
    return f"https://wa.me/{number}?text={quote(text, safe='')}"


def find_code(text: str) -> str | None:
    """The first invite code in `text` (a family's first WhatsApp message), or None."""
    found = CODE_IN_TEXT.search(text)
    return found.group(0) if found else None
