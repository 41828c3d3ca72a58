"""Inline keyboards and callback data, kept within Telegram's limits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.chat.buttons import MAX_CALLBACK_BYTES, MAX_ID, MAX_LABEL, callback_data, plain_number
from bot.chat.screens import Screen

__all__ = [
    "MAX_CALLBACK_BYTES",
    "MAX_ID",
    "MAX_LABEL",
    "callback_data",
    "keyboard",
    "markup",
    "plain_number",
]


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


def markup(screen: Screen) -> InlineKeyboardMarkup | None:
    """A screen's choices as an inline keyboard (None when it has none)."""
    if not screen.every_choice:
        return None
    return keyboard(
        ((choice.label, choice.data) for choice in screen.choices),
        per_row=screen.per_row,
        footer=((choice.label, choice.data) for choice in screen.footer),
    )
