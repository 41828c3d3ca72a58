"""A user blocks or unblocks the bot: stop sending to them, or start again."""

from __future__ import annotations

from typing import Any

from telegram import ChatMember, Update
from telegram.ext import Application, ChatMemberHandler

from bot.chat.context import Ctx
from storage import people
from storage.models import Address


async def membership_changed(update: Update, ctx: Ctx) -> None:
    """The user blocked the bot (no more sending) or unblocked it (active again)."""
    change = update.my_chat_member
    blocked = change.new_chat_member.status in (ChatMember.BANNED, ChatMember.LEFT)
    async with ctx.db.begin() as session:
        await people.mark_blocked(
            session, address=Address.telegram(change.from_user.id), blocked=blocked
        )


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(ChatMemberHandler(membership_changed, ChatMemberHandler.MY_CHAT_MEMBER))
