"""Finding new council members on Telegram: the adapter for bot/family/members.py (a family's
taps under the invitation and what they type to be reached), and /invitation, with which a
council member sends the invitation on its own to all families or some groups. What a family
types to be reached is never logged."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.chat.buttons import CANDIDATES, JOINING, plain_number
from bot.chat.commands import names
from bot.chat.context import Ctx
from bot.chat.keyboards import keyboard, markup
from bot.chat.screens import Screen
from bot.family import members
from bot.polls.checking import Problem, check_tags
from handlers.answering import family
from handlers.ui import allowed, council_ids, on_text, replace, reply, show, stale_button
from storage import candidates, councils, drafts, people
from storage.models import TELEGRAM, Address, Draft, utcnow

log = logging.getLogger(__name__)
AUDIENCE = ("invitation", "audience")
"""The groups a council member typed after /invitation: {"tags": {council id: tags}}."""
AUDIENCE_LIFETIME = timedelta(minutes=15)
"""Short, so it never stands in the way of another step that waits for typed text."""


def notifier(bot: Bot) -> members.Notify:
    """Sends a request to join to one staff member on Telegram, with its buttons."""

    async def notify(address: Address, screen: Screen) -> bool:
        if address.channel != TELEGRAM:
            return False
        try:
            await bot.send_message(int(address.id), screen.text, reply_markup=markup(screen))
        except TelegramError as error:
            log.warning("a request to join did not reach a staff member (%s)", type(error).__name__)
            return False
        return True

    return notify


def _reach(update: Update) -> str:
    """How staff find this family on Telegram: their name, and their @username or a link."""
    user = update.effective_user
    found = f"@{user.username}" if user.username else f"tg://user?id={user.id}"
    return f"{user.full_name} ({found})"


async def tapped(update: Update, ctx: Ctx) -> None:
    """ "Yes, tell me more", "No, thanks", "Send me a Telegram message" or "Cancel"."""
    who = family(ctx)
    if who is None:
        await stale_button(update, ctx)
        return
    data, notify = update.callback_query.data, notifier(ctx.bot)
    answer = await members.tapped(ctx.services, who, data, reach=_reach(update), notify=notify)
    await show(update, answer)


async def typed(update: Update, ctx: Ctx, draft: Draft) -> None:
    """What a family typed after "Yes, tell me more": how the council may reach them."""
    who = family(ctx)
    if who is None:
        return
    text = update.effective_message.text or ""
    council_id = await members.expecting(ctx.services, who)
    notify = notifier(ctx.bot)
    await show(update, await members.contact_typed(ctx.services, who, council_id, text, notify))


async def invitation_command(update: Update, ctx: Ctx) -> None:
    """/invitation [tags]: to whom the invitation to join goes, on its own."""
    if not await allowed(update, ctx, "invitation"):
        return
    typed_tags = " ".join(ctx.args or [])
    async with ctx.db.read() as session:
        ids = await council_ids(ctx, session)
        found = [await councils.get_council(session, council_id=i) for i in ids]
        known = {i: await people.council_tags(session, council_id=i) for i in ids}
    buttons: list[tuple[str, str]] = []
    kept: dict[str, list[str]] = {}
    for council in (council for council in found if council is not None):
        tags = check_tags(typed_tags, known=known[council.id]) if typed_tags else None
        if tags is None:
            label = ctx.t.label("members.send_all", council=council.name)
            buttons.append((label, CANDIDATES.data("s", council.id)))
        elif not isinstance(tags, Problem):
            kept[str(council.id)] = tags
            label = ctx.t.label("members.send_some", tags=", ".join(tags), council=council.name)
            buttons.append((label, CANDIDATES.data("g", council.id)))
        elif len(found) == 1:
            await reply(update, ctx.t(tags.key, **tags.values))
            return
    if kept:
        await _keep_tags(ctx, kept)
    example = sorted(tag for tags in known.values() for tag in tags)[:1] or ["locatie:noord"]
    text = ctx.t("members.send_ask", text=ctx.t("members.invitation"), example=example[0])
    await reply(update, text, keyboard(buttons) if buttons else None)


async def _keep_tags(ctx: Ctx, kept: dict[str, list[str]]) -> None:
    """The groups typed, per council, for the button that sends to them."""
    async with ctx.db.begin() as session:
        await drafts.save_draft(
            session,
            address=ctx.profile.address,
            kind=AUDIENCE[0],
            step=AUDIENCE[1],
            data={"tags": kept},
            expires_at=utcnow() + AUDIENCE_LIFETIME,
        )


async def send_tapped(update: Update, ctx: Ctx) -> None:
    """Send the invitation on its own: a round to the families chosen."""
    parts = CANDIDATES.parse(update.callback_query.data)
    council_id = plain_number(parts[1]) if parts else None
    if parts is None or council_id is None or not await allowed(update, ctx, "invitation"):
        await stale_button(update, ctx)
        return
    async with ctx.db.begin() as session:
        council = await councils.get_council(session, council_id=council_id)
        if council is None or council.id not in await council_ids(ctx, session):
            council = None
        tags: list[str] = []
        if council is not None and parts[0] == "g":
            kept = await drafts.get_draft(session, address=ctx.profile.address, kind=AUDIENCE[0])
            typed = kept.data.get("tags", {}).get(str(council.id)) if kept else None
            if not typed:
                council = None
            else:
                tags = list(typed)
                await drafts.drop_drafts(session, address=ctx.profile.address, kind=AUDIENCE[0])
        sending = (
            await candidates.start_invitation(session, council_id=council.id, tags=tags)
            if council is not None
            else None
        )
    if council is None or sending is None:
        await stale_button(update, ctx)
        return
    ctx.services.outbox.kick()
    if not sending.total:
        await replace(update, ctx.t("members.send_nobody"))
        return
    await replace(update, ctx.t("members.send_done", count=sending.total, council=council.name))


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CallbackQueryHandler(tapped, pattern=JOINING.pattern))
    app.add_handler(CommandHandler(names("invitation"), invitation_command))
    for step in ("s", "g"):
        app.add_handler(CallbackQueryHandler(send_tapped, pattern=CANDIDATES.step_pattern(step)))
    on_text(app, *members.CONTACT, typed)
