"""Registered last: typed answers to a draft's question, voice messages refused (never kept,
never downloaded), and a kind word for everything else."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot.chat.context import Ctx
from bot.family import voice
from handlers.ui import reply, show, stale_button, text_step
from storage import drafts
from storage.models import Address

MAX_SHOWN_COMMAND = 32


async def unknown_command(update: Update, ctx: Ctx) -> None:
    """A command nobody handles: name it and point to /help."""
    word = (update.effective_message.text or "/").split()[0][1:].split("@")[0]
    await reply(update, ctx.t("fallback.unknown_command", command=word[:MAX_SHOWN_COMMAND]))


async def text_received(update: Update, ctx: Ctx) -> None:
    """Plain text: the answer to a draft's open question, or a pointer to the buttons."""
    async with ctx.db.read() as session:
        draft = await drafts.get_draft(session, address=Address.telegram(update.effective_user.id))
    step = text_step(ctx, draft) if draft else None
    if step is not None:
        await step(update, ctx, draft)
    else:
        await reply(update, ctx.t("fallback.stray_text"))


async def voice_received(update: Update, ctx: Ctx) -> None:
    """A voice message, audio file or video note: the family core says why it is not kept."""
    person = ctx.profile.person if ctx.profile else None
    address = Address.telegram(update.effective_user.id) if person else None
    await show(update, await voice.refused(ctx.services, ctx.t, address))


async def media_received(update: Update, ctx: Ctx) -> None:
    await reply(update, ctx.t("fallback.media"))


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(MessageHandler(filters.COMMAND, unknown_command))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, text_received))
    app.add_handler(
        MessageHandler(filters.VOICE | filters.AUDIO | filters.VIDEO_NOTE, voice_received)
    )
    app.add_handler(MessageHandler(filters.ALL, media_received))
    app.add_handler(CallbackQueryHandler(stale_button))
