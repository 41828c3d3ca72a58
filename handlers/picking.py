"""Choosing a poll: a list of buttons, or an id typed after the command; never another
council's poll."""

from __future__ import annotations

from telegram import Update

from bot.chat.buttons import Button
from bot.chat.context import Ctx
from bot.chat.keyboards import keyboard, plain_number
from handlers.ui import allowed, council_ids, reply
from storage import polls
from storage.models import Poll, PollStatus, Role


async def offer_polls(
    update: Update,
    ctx: Ctx,
    *,
    button: Button,
    action: str,
    statuses: list[PollStatus],
    ask: str,
    none: str,
) -> None:
    """Buttons for this user's polls with one of `statuses`, newest first (or `none`)."""
    async with ctx.db.read() as session:
        choices = await polls.polls_with_status(
            session, council_ids=await council_ids(ctx, session), statuses=statuses
        )
    if not choices:
        await reply(update, ctx.t(none))
        return
    buttons = [
        (poll.title_in(ctx.t.language)[:40], button.data(action, poll.id)) for poll in choices
    ]
    await reply(update, ctx.t(ask), keyboard(buttons))


async def pick(
    update: Update,
    ctx: Ctx,
    command: str,
    action: str,
    statuses: list[PollStatus],
    ask: str,
    none: str,
    *,
    button: Button,
) -> None:
    """A command that starts by choosing a poll: check the role, then offer the polls."""
    if await allowed(update, ctx, command):
        await offer_polls(
            update, ctx, button=button, action=action, statuses=statuses, ask=ask, none=none
        )


async def own_poll(ctx: Ctx, value: str, role: Role = Role.council) -> Poll | None:
    """The poll, if it belongs to a council where this user has at least `role`."""
    poll_id = plain_number(value)
    if poll_id is None or ctx.profile is None:
        return None
    async with ctx.db.read() as session:
        poll = await session.get(Poll, poll_id)
        mine = await council_ids(ctx, session, role)
    return poll if poll is not None and poll.council_id in mine else None
