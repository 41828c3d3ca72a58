"""Runs before every feature: who is this user, and may the update go on?"""

from __future__ import annotations

from typing import Any

from telegram import Chat, Update
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from bot.context import Ctx
from handlers.ui import reply
from storage.people import load_profile


async def identify(update: Update, ctx: Ctx) -> None:
    """Load the user's profile and language; answer group chats with a pointer to a private one."""
    user = update.effective_user
    if user is not None:
        async with ctx.db.read() as session:
            ctx.profile = await load_profile(
                session, telegram_id=user.id, is_admin=user.id in ctx.settings.admins
            )
    ctx.settle_language(update)
    if update.edited_message and update.effective_chat.type == Chat.PRIVATE:
        await reply(update, ctx.t("fallback.edited"))  # an edit is never run as a new command
        raise ApplicationHandlerStop
    chat = update.effective_chat
    if chat is not None and chat.type != Chat.PRIVATE:
        if update.effective_message and not update.edited_message and chat.type != Chat.CHANNEL:
            await reply(update, ctx.t("common.private_only", bot=ctx.bot.username))
        raise ApplicationHandlerStop


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(TypeHandler(Update, identify), group=-1)
