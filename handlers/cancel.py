"""/cancel: drop whatever the user was in the middle of (an invite, later a new poll)."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.chat.commands import names
from bot.chat.context import Ctx
from handlers.ui import reply
from storage import drafts
from storage.models import Address


async def cancel(update: Update, ctx: Ctx) -> None:
    """Forget the user's half-finished drafts, leaving nothing half-made behind."""
    async with ctx.db.begin() as session:
        dropped = await drafts.drop_drafts(
            session, address=Address.telegram(update.effective_user.id)
        )
    await reply(update, ctx.t("common.cancelled" if dropped else "common.nothing_to_cancel"))


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CommandHandler(names("cancel"), cancel))
