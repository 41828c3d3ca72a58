"""Joining with an invite on Telegram: /start with a code, then one tap per step. The adapter
between updates and the family core (bot/family/joining.py)."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.chat.buttons import SIGNUP
from bot.chat.commands import names
from bot.chat.context import Ctx
from bot.chat.throttle import Throttle
from bot.family import joining
from handlers.ui import show
from storage.models import Address

GUESSES = "signup_guesses"


def joiner(update: Update, ctx: Ctx) -> joining.Joiner:
    address = Address.telegram(update.effective_user.id)
    return joining.Joiner(address, ctx.profile, ctx.application.bot_data[GUESSES])


async def start(update: Update, ctx: Ctx) -> None:
    """/start: with a code, begin joining; without, welcome back or explain how to join."""
    code = ctx.args[0] if ctx.args else None
    admin = bool(ctx.profile and ctx.profile.is_admin)
    reply = await joining.start(ctx.services, ctx.t, joiner(update, ctx), code, admin=admin)
    await show(update, reply, ctx)


async def step_tapped(update: Update, ctx: Ctx) -> None:
    """One tap in the sign-up: move to the next question, or finish."""
    data = update.callback_query.data
    await show(update, await joining.step(ctx.services, ctx.t, joiner(update, ctx), data), ctx)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.bot_data[GUESSES] = Throttle(limit=5, window=15 * 60)
    app.add_handler(CommandHandler(names("start"), start))
    app.add_handler(CallbackQueryHandler(step_tapped, pattern=SIGNUP.pattern))
