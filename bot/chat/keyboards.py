"""Inline keyboards and callback data, kept within Telegram's limits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

MAX_CALLBACK_BYTES = 64
MAX_LABEL = 40
MAX_ID = 2**31 - 1
"""The largest id an INTEGER column holds (on PostgreSQL)."""


def callback_data(*parts: object) -> str:
    """`prefix:part:part`, checked against Telegram's 64-byte limit."""
    data = ":".join(str(part) for part in parts)
    if not 0 < len(data.encode()) <= MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data of {len(data.encode())} bytes")
    return data


def plain_number(text: str) -> int | None:
    """`text` as an id when it is plain ASCII digits up to MAX_ID; None otherwise (str.isdigit
    also takes "²" or "٣", and 25 nines, which int() or the database then refuse)."""
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(MAX_ID))):
        return None
    return int(text) if int(text) <= MAX_ID else None


def keyboard(
    buttons: Iterable[tuple[str, str]],
    *,
    per_row: int = 1,
    footer: Iterable[tuple[str, str]] = (),
) -> InlineKeyboardMarkup:
    """Big buttons: one per row unless told otherwise, then `footer` buttons on rows of their own.

    Each pair is (label, callback data)."""
    row: list[InlineKeyboardButton] = []
    rows: list[Sequence[InlineKeyboardButton]] = []
    for label, data in buttons:
        row.append(InlineKeyboardButton(label, callback_data=data))
        if len(row) == per_row:
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    rows.extend([InlineKeyboardButton(label, callback_data=data)] for label, data in footer)
    return InlineKeyboardMarkup(rows)
