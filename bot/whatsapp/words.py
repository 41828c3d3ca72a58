"""Typed words instead of commands (WhatsApp has no command menu): `hulp`, `stop`, `vergeet`,
... in every language we speak, whatever the person chose; a STOP-word always works."""

from __future__ import annotations

import re
from functools import cache

from bot.texts import LANGUAGES, texts_for

ACTIONS = ("help", "questions", "privacy", "language", "pause", "resume", "stop", "forget")
NOISE = re.compile(r"[\s!.?¡¿,;:'\"“”‘’„«»،؟؛*_~()/]+")


def normal(text: str) -> str:
    """`text` as a word to look up: lower case, without punctuation or extra spaces."""
    return " ".join(part for part in NOISE.split(text.casefold()) if part)


@cache
def vocabulary() -> dict[str, str]:
    """Every word of every language → its action (the file's order decides a clash)."""
    words: dict[str, str] = {}
    for language in LANGUAGES:
        t = texts_for(language)
        for action in ACTIONS:
            for word in t(f"whatsapp.words.{action}").split(","):
                words.setdefault(normal(word), action)
    return words


def action_of(text: str) -> str | None:
    """The action a message asks for, when the whole message is one of the words."""
    found = normal(text)
    return vocabulary().get(found) if found and len(found) <= 40 else None
