"""/templates: a council's saved polls, shared with the other councils on the bot or not."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.chat.buttons import TEMPLATES
from bot.chat.commands import names
from bot.chat.context import Ctx
from bot.chat.keyboards import keyboard
from handlers.ui import acknowledge, allowed, council_ids, reply, stale_button
from storage import templates
from storage.models import Template


async def list_templates(update: Update, ctx: Ctx) -> None:
    """/templates: each saved poll with a button to share it (or stop sharing)."""
    if not await allowed(update, ctx, "templates"):
        return
    async with ctx.db.begin() as session:
        mine = await templates.own_templates(session, council_ids=await council_ids(ctx, session))
    if not mine:
        await reply(update, ctx.t("templates.none"))
        return
    await reply(update, ctx.t("templates.intro"), _keyboard(ctx, mine))


async def share_tapped(update: Update, ctx: Ctx) -> None:
    """Share a template with every council on this bot, or stop sharing it."""
    parts = TEMPLATES.parse(update.callback_query.data)
    if parts is None or parts[0] not in ("share", "unshare") or not parts[1].isdigit():
        await stale_button(update, ctx)
        return
    async with ctx.db.begin() as session:
        mine = await templates.own_templates(session, council_ids=await council_ids(ctx, session))
        template = next((item for item in mine if item.id == int(parts[1])), None)
        if template is not None:
            await templates.set_shared(session, template=template, shared=parts[0] == "share")
    if template is None:
        await stale_button(update, ctx)
        return
    await acknowledge(update.callback_query, ctx.t(f"templates.{parts[0]}d"))
    await update.callback_query.edit_message_reply_markup(_keyboard(ctx, mine))


def _keyboard(ctx: Ctx, mine: list[Template]) -> Any:
    return keyboard(
        (
            ctx.t.label(
                "templates.shared_line" if template.shared else "templates.private_line",
                title=template.title[:30],
            ),
            TEMPLATES.data("unshare" if template.shared else "share", template.id),
        )
        for template in mine
    )


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CommandHandler(names("templates"), list_templates))
    app.add_handler(CallbackQueryHandler(share_tapped, pattern=TEMPLATES.pattern))
