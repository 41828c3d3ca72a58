"""What every feature shares: keyboards, callback data, replies, role checks, text steps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application

from bot.commands import COMMANDS
from bot.context import Ctx
from storage.models import Draft, Role

MAX_CALLBACK_BYTES = 64
TEXT_STEPS = "text_steps"
TextStep = Callable[[Update, Ctx, Draft], Awaitable[None]]


def callback_data(*parts: object) -> str:
    """`prefix:part:part`, checked against Telegram's 64-byte limit."""
    data = ":".join(str(part) for part in parts)
    if not 0 < len(data.encode()) <= MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data of {len(data.encode())} bytes")
    return data


def split_data(data: str | None, prefix: str, size: int) -> list[str] | None:
    """The parts after `prefix`, or None when the data is not exactly that shape."""
    parts = (data or "").split(":")
    if len(parts) != size + 1 or parts[0] != prefix:
        return None
    return parts[1:]


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


async def reply(
    update: Update, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Send `text` to the chat the update came from."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(text, reply_markup=markup)


async def replace(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Answer a button press by rewriting the message that carried the button."""
    query = update.callback_query
    if query is None:
        await reply(update, text, markup)
        return
    await query.answer()
    await query.edit_message_text(text, reply_markup=markup)


async def stale_button(update: Update, ctx: Ctx) -> None:
    """A button from an old, finished or forged message: say so briefly."""
    if update.callback_query:
        await update.callback_query.answer(ctx.t("common.stale_button"), show_alert=False)


async def allowed(update: Update, ctx: Ctx, command: str) -> bool:
    """True when the user may use `command`; otherwise explain who may."""
    needed = COMMANDS[command].role
    profile = ctx.profile
    if profile is not None and COMMANDS[command].allowed_for(profile.role):
        return True
    who = ctx.t("common.role_staff" if needed is Role.staff else "common.role_council")
    shown = COMMANDS[command].shown_as(ctx.t.language)
    await reply(update, ctx.t("common.not_allowed", role=who, command=shown))
    return False


def on_text(
    app: Application[Any, Any, Any, Any, Any, Any], kind: str, step: str, callback: TextStep
) -> None:
    """Let `callback` take the next plain message of a user whose draft is at (kind, step)."""
    app.bot_data.setdefault(TEXT_STEPS, {})[(kind, step)] = callback


def text_step(ctx: Ctx, draft: Draft) -> TextStep | None:
    return ctx.application.bot_data.get(TEXT_STEPS, {}).get((draft.kind, draft.step))
