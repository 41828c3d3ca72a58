"""Help lines on Telegram: the adapter for the family core's bot/family/helplines.py. It takes
a family's typed text while an open answer or a contact request waits (a contact request
first), the "Please contact me" / "No thanks" buttons, and sends the request to the
council's staff. The text a family types for staff is never logged."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler

from bot.chat.buttons import HELPLINE
from bot.chat.context import Ctx
from bot.family import answering, helplines
from bot.polls.asking import OPEN_ANSWER
from handlers.answering import family
from handlers.ui import on_text, reply, show, stale_button
from storage.models import TELEGRAM, Address, Draft

log = logging.getLogger(__name__)


def poster(bot: Bot) -> helplines.Post:
    """Sends a contact request to one staff member on Telegram (True when it went)."""

    async def post(address: Address, text: str) -> bool:
        if address.channel != TELEGRAM:
            return False
        try:
            await bot.send_message(int(address.id), text)
        except TelegramError as error:
            log.warning("a contact request did not reach a staff member (%s)", type(error).__name__)
            return False
        return True

    return post


async def tapped(update: Update, ctx: Ctx) -> None:
    """ "Please contact me" or "No thanks" under the help lines."""
    who = family(ctx)
    if who is None:
        await stale_button(update, ctx)
        return
    await show(update, await helplines.tapped(ctx.services, who, update.callback_query.data))


async def typed(update: Update, ctx: Ctx, draft: Draft) -> None:
    """Typed text of a family with a draft waiting: how to reach them (a contact request
    first), else the answer to an open question, else (a request that lapsed) nowhere."""
    who = family(ctx)
    if who is None:
        return
    text = update.effective_message.text or ""
    services = ctx.services
    waiting = await helplines.expecting(services, who)
    if waiting.contact is not None:
        post = poster(ctx.bot)
        await show(
            update, await helplines.contact_typed(services, who, waiting.contact, text, post)
        )
    elif waiting.answer is not None:
        desk = helplines.desk(ctx.settings.councils)
        await show(update, await answering.typed(services, who, waiting.answer, text, desk=desk))
    elif waiting.lapsed:
        await show(update, helplines.lapsed(ctx.t))
    else:
        await reply(update, ctx.t("fallback.stray_text"))


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CallbackQueryHandler(tapped, pattern=HELPLINE.pattern))
    for kind, step in (helplines.CONTACT, OPEN_ANSWER, (OPEN_ANSWER[0], helplines.PARKED)):
        on_text(app, kind, step, typed)
