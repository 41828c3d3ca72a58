"""A person's own account on Telegram: /privacy, /language, /pause, /resume, /stop, /forget.
The adapter between updates and the family core (bot/family/account.py)."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.chat.buttons import FORGET, LANGUAGE
from bot.chat.commands import names
from bot.chat.context import Ctx
from bot.family import account
from handlers.answering import family
from handlers.ui import show


async def show_privacy(update: Update, ctx: Ctx) -> None:
    """/privacy: exactly what is stored about this user, shown to them."""
    settings = ctx.settings
    reply = await account.privacy(
        ctx.services, ctx.t, ctx.profile, timezone=settings.timezone, key=settings.pseudonym_key
    )
    await show(update, reply, ctx)


async def choose_language(update: Update, ctx: Ctx) -> None:
    """/language: a big button per language."""
    await show(update, account.languages(ctx.t, family(ctx)), ctx)


async def language_tapped(update: Update, ctx: Ctx) -> None:
    """Store the chosen language and answer in it, menu included."""
    role = ctx.profile.role if ctx.profile else None
    data = update.callback_query.data
    await show(
        update, await account.language_chosen(ctx.services, ctx.t, family(ctx), data, role), ctx
    )


async def pause(update: Update, ctx: Ctx) -> None:
    """/pause: no questions until /resume."""
    await show(update, await account.move(ctx.services, ctx.t, family(ctx), "pause"), ctx)


async def resume(update: Update, ctx: Ctx) -> None:
    """/resume: questions again, also after /stop."""
    await show(update, await account.move(ctx.services, ctx.t, family(ctx), "resume"), ctx)


async def stop(update: Update, ctx: Ctx) -> None:
    """/stop: no more messages at all."""
    await show(update, await account.move(ctx.services, ctx.t, family(ctx), "stop"), ctx)


async def forget(update: Update, ctx: Ctx) -> None:
    """/forget: ask for confirmation first."""
    await show(update, account.forget_asked(ctx.t, family(ctx)), ctx)


async def forget_tapped(update: Update, ctx: Ctx) -> None:
    """Erase the person (yes) or keep everything (no)."""
    data = update.callback_query.data
    await show(update, await account.forget_answered(ctx.services, ctx.t, family(ctx), data), ctx)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    for command, callback in (
        ("privacy", show_privacy),
        ("language", choose_language),
        ("pause", pause),
        ("resume", resume),
        ("stop", stop),
        ("forget", forget),
    ):
        app.add_handler(CommandHandler(names(command), callback))
    app.add_handler(CallbackQueryHandler(language_tapped, pattern=LANGUAGE.pattern))
    app.add_handler(CallbackQueryHandler(forget_tapped, pattern=FORGET.pattern))
