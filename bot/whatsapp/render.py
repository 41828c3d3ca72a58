"""A screen (text and choices, in no channel's terms) as WhatsApp messages.

Up to 3 choices are reply buttons (titles of at most 20 characters), up to 10 a list (row
titles of at most 24, the rest of a long label in the row's description), more a numbered
text where the family types the number. Every limit of the Cloud API is kept here, so no
message is ever refused for its size: labels are cut cleanly at a word with "…", a text too
long for a message body goes first as a text of its own. Our texts are Telegram HTML; here
they become WhatsApp's own marks (*bold*, _italic_).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from bot.chat.screens import Choice, Screen
from bot.texts import Texts

TEXT_LIMIT = 4096
BODY_LIMIT = 1024
BUTTONS = 3
BUTTON_TITLE = 20
ROWS = 10
ROW_TITLE = 24
ROW_DESCRIPTION = 72
LIST_BUTTON = 20
ID_LIMIT = 200
TAGS = re.compile(r"<(/?)(\w+)[^>]*>")
MARKS = {"b": "*", "strong": "*", "i": "_", "em": "_", "s": "~", "code": "`"}


@dataclass(frozen=True)
class Outgoing:
    """One message to send: the Cloud API fields after `to`, and for a numbered list what
    each number stands for."""

    body: dict[str, Any]
    numbers: dict[str, str] = field(default_factory=dict)


def messages(t: Texts, screen: Screen) -> list[Outgoing]:
    """The messages that show `screen`, in order."""
    text = plain(screen.text)
    choices = [choice for choice in screen.every_choice if len(choice.data) <= ID_LIMIT]
    if not choices:
        return [_text(part) for part in split(text, TEXT_LIMIT)]
    if len(choices) > ROWS:
        return _numbered(t, text, choices)
    before: list[Outgoing] = []
    if len(text) > BODY_LIMIT:
        before = [_text(part) for part in split(text, TEXT_LIMIT)]
        text = t("whatsapp.choose")
    if len(choices) <= BUTTONS:
        return [*before, _buttons(text, choices)]
    return [*before, _list(t, text, choices)]


def plain(text: str) -> str:
    """Telegram HTML as WhatsApp text: bold and italic marks, links spelled out, no tags."""

    def mark(match: re.Match[str]) -> str:
        return MARKS.get(match.group(2).lower(), "")

    text = re.sub(r'<a\s+href="([^"]*)"[^>]*>(.*?)</a>', r"\2 (\1)", text, flags=re.S)
    return html.unescape(TAGS.sub(mark, text)).strip()


def cut(label: str, limit: int) -> str:
    """`label` in at most `limit` characters: whole words and "…" when it is longer."""
    label = " ".join(label.split())
    if len(label) <= limit:
        return label
    room = label[: limit - 1]
    space = room.rfind(" ")
    if space >= limit // 2:
        room = room[:space]
    return room.rstrip(" ,.;:-") + "…"


def split(text: str, limit: int) -> list[str]:
    """`text` in parts of at most `limit` characters, at line ends where possible."""
    parts: list[str] = []
    while len(text) > limit:
        end = text.rfind("\n", 0, limit)
        end = end if end > limit // 2 else limit
        parts.append(text[:end].rstrip())
        text = text[end:].lstrip("\n")
    return [*parts, text] if text else parts or [""]


def _text(body: str) -> Outgoing:
    return Outgoing({"type": "text", "text": {"body": body or "…", "preview_url": False}})


def _titles(choices: list[Choice], limit: int) -> list[str]:
    """Cut labels, made unique (WhatsApp refuses two equal titles in one message)."""
    titles: list[str] = []
    for number, choice in enumerate(choices, 1):
        title = cut(choice.label, limit)
        if title in titles:
            tail = f" {number}"
            title = cut(choice.label, limit - len(tail)) + tail
        titles.append(title)
    return titles


def _buttons(text: str, choices: list[Choice]) -> Outgoing:
    buttons = [
        {"type": "reply", "reply": {"id": choice.data, "title": title}}
        for choice, title in zip(choices, _titles(choices, BUTTON_TITLE), strict=True)
    ]
    body = {"type": "button", "body": {"text": text or "…"}, "action": {"buttons": buttons}}
    return Outgoing({"type": "interactive", "interactive": body})


def _list(t: Texts, text: str, choices: list[Choice]) -> Outgoing:
    rows = []
    for choice, title in zip(choices, _titles(choices, ROW_TITLE), strict=True):
        row = {"id": choice.data, "title": title}
        label = " ".join(choice.label.split())
        if title != label:
            row["description"] = cut(label, ROW_DESCRIPTION)
        rows.append(row)
    action = {"button": cut(t("whatsapp.list_button"), LIST_BUTTON), "sections": [{"rows": rows}]}
    body = {"type": "list", "body": {"text": text or "…"}, "action": action}
    return Outgoing({"type": "interactive", "interactive": body})


def _numbered(t: Texts, text: str, choices: list[Choice]) -> list[Outgoing]:
    """More choices than a list holds: a numbered text; the family types the number."""
    lines: list[str] = []
    plain_numbers: list[str] = []  # grades: "7" stands for itself, so one short line
    for number, choice in enumerate(choices, 1):
        label = " ".join(choice.label.split())
        if label == str(number):
            plain_numbers.append(f"*{number}*")
            continue
        if plain_numbers:
            lines.append("  ".join(plain_numbers))
            plain_numbers = []
        lines.append(f"*{number}* {label}")
    if plain_numbers:
        lines.append("  ".join(plain_numbers))
    full = "\n\n".join([text, "\n".join(lines), t("whatsapp.type_number")])
    numbers = {str(number): choice.data for number, choice in enumerate(choices, 1)}
    parts = split(full, TEXT_LIMIT)
    return [_text(part) for part in parts[:-1]] + [Outgoing(_text(parts[-1]).body, numbers)]
