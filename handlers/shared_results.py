"""Families on Telegram: the chart of a question under what others said (`bot.results.shared`).

Only a family that was sent the poll's results may have its charts; they show exactly what the
message showed (counts below k get no bar)."""

from __future__ import annotations

from typing import Any

from telegram import InputFile, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.chat.buttons import SHARED, plain_number
from bot.chat.context import Ctx
from bot.results import shared
from handlers.ui import acknowledge, stale_button
from storage import polls


async def chart_tapped(update: Update, ctx: Ctx) -> None:
    """📊 Chart of question N: the picture, in the family's language."""
    parts = SHARED.parse(update.callback_query.data) or ["", ""]
    poll_id, number = plain_number(parts[0]), plain_number(parts[1])
    person = ctx.profile.person if ctx.profile else None
    if person is None or poll_id is None or number is None:
        await stale_button(update, ctx)
        return
    async with ctx.db.read() as session:
        allowed = await polls.got_summary(session, poll_id=poll_id, person_id=person.id)
    picture = await shared.chart(ctx.db, ctx.t, poll_id=poll_id, number=number) if allowed else None
    if picture is None:
        await stale_button(update, ctx)
        return
    await acknowledge(update.callback_query)
    photo = InputFile(picture.png, filename=f"chart-{poll_id}-{number}.png")
    await update.effective_chat.send_photo(photo, caption=picture.caption)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CallbackQueryHandler(chart_tapped, pattern=SHARED.pattern))
