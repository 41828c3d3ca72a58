"""/help: the commands this user may use, in their language."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.chat.commands import menu_for, names
from bot.chat.context import Ctx
from bot.family import helplines
from handlers.ui import reply


async def show_help(update: Update, ctx: Ctx) -> None:
    """/help: the commands this user may use, in their language, then the help lines."""
    role = ctx.profile.role if ctx.profile else None
    lines = [ctx.t("help.intro")]
    for command in menu_for(role):
        description = ctx.t(f"commands.{command.name}")
        lines.append(
            ctx.t("help.line", command=command.shown_as(ctx.t.language), description=description)
        )
    councils = [council for _, council in ctx.profile.memberships] if ctx.profile else []
    desk = helplines.desk(ctx.settings.councils)
    lines += ["", helplines.help_screen(ctx.t, desk, councils).text]
    await reply(update, "\n".join(lines))


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CommandHandler(names("help"), show_help))
