"""Choosing a poll: a list of buttons, or a number typed after the command (`/close 12`);
never another council's poll."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from telegram import Update

from bot.chat import formatting
from bot.chat.buttons import MAX_LABEL, Button
from bot.chat.context import Ctx
from bot.chat.keyboards import keyboard, plain_number
from handlers.ui import allowed, council_ids, reply
from storage import polls
from storage.models import Council, Poll, PollStatus, Role


def poll_label(poll: Poll, language: str, timezone: str) -> str:
    """A poll's button: its number, title and day (`#12 · Het eerste gesprek · 03-12-2026`),
    so two polls with the same title can be told apart; the title is cut to fit."""
    day = formatting.day(poll.opens_at or poll.created_at, timezone)
    number = f"#{poll.id} · "
    room = MAX_LABEL - len(number) - len(day) - 3
    title = poll.title_in(language)
    if len(title) > room:
        title = title[: room - 1].rstrip() + "…"
    return f"{number}{title} · {day}"


async def poll_buttons(
    ctx: Ctx, session: Any, choices: list[Poll], data: Callable[[Poll], str]
) -> list[tuple[str, str]]:
    """A labelled button per poll, its date in its council's timezone."""
    zones: dict[int, str] = {}
    for council_id in {poll.council_id for poll in choices}:
        council = await session.get(Council, council_id)
        zones[council_id] = council.timezone if council else "UTC"
    return [
        (poll_label(poll, ctx.t.language, zones[poll.council_id]), data(poll)) for poll in choices
    ]


async def offer_polls(
    update: Update,
    ctx: Ctx,
    *,
    button: Button,
    action: str,
    statuses: list[PollStatus],
    ask: str,
    none: str,
    before: str = "",
) -> None:
    """Buttons for this user's polls with one of `statuses`, newest first (or `none`);
    `action` is the button's step ("" for a button without steps), `before` a line to put
    above (why the poll named was not taken)."""
    async with ctx.db.read() as session:
        choices = await polls.polls_with_status(
            session, council_ids=await council_ids(ctx, session), statuses=statuses
        )
        buttons = await poll_buttons(
            ctx,
            session,
            choices,
            lambda poll: button.data(action, poll.id) if action else button.data(poll.id),
        )
    lead = f"{before}\n" if before else ""
    if not choices:
        await reply(update, lead + ctx.t(none))
        return
    await reply(update, lead + ctx.t(ask), keyboard(buttons))


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
) -> Poll | None:
    """A command that takes a poll: check the role; the poll numbered after the command when
    it is this user's and has one of `statuses`; else (a friendly line why, and) the polls to
    choose from, and None."""
    if not await allowed(update, ctx, command):
        return None
    before = ""
    if ctx.args:
        poll = await own_poll(ctx, ctx.args[0])
        if poll is not None and poll.status in statuses:
            return poll
        before = (
            ctx.t("picking.unknown", value=ctx.args[0][:12])
            if poll is None
            else ctx.t("picking.not_now", number=poll.id, title=poll.title_in(ctx.t.language))
        )
    await offer_polls(
        update,
        ctx,
        button=button,
        action=action,
        statuses=statuses,
        ask=ask,
        none=none,
        before=before,
    )
    return None


async def own_poll(ctx: Ctx, value: str, role: Role = Role.council) -> Poll | None:
    """The poll, if it belongs to a council where this user has at least `role`."""
    poll_id = plain_number(value)
    if poll_id is None or ctx.profile is None:
        return None
    async with ctx.db.read() as session:
        poll = await session.get(Poll, poll_id)
        mine = await council_ids(ctx, session, role)
    return poll if poll is not None and poll.council_id in mine else None
