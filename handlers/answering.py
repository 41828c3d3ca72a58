"""Families answer a poll, on Telegram: the adapter between an update and the family core
(bot/family/answering.py), which checks and stores the answer and says what to show. Typed
open answers come in through handlers/helplines.py, which takes a contact request first."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot.chat.buttons import ANSWERING
from bot.chat.context import Ctx
from bot.family import answering
from bot.family.core import Family
from handlers.ui import show, stale_button

PATTERN = "|".join(button.pattern for button in ANSWERING)


def family(ctx: Ctx) -> Family | None:
    """The person behind the update, if they joined."""
    person = ctx.profile.person if ctx.profile else None
    return Family(person, ctx.t, ctx.settings.pseudonym_key) if person else None


async def tapped(update: Update, ctx: Ctx) -> None:
    """Any answer button."""
    who = family(ctx)
    if who is None:
        await stale_button(update, ctx)
        return
    await show(update, await answering.tap(ctx.services, who, update.callback_query.data))


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CallbackQueryHandler(tapped, pattern=PATTERN))
