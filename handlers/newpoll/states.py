"""The steps of writing a poll, and the shared draft they fill in."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot.chat.buttons import NEWPOLL
from bot.chat.context import STEPS, Ctx
from handlers.ui import acknowledge, reply
from storage import councils, drafts
from storage.models import Council, utcnow

(
    COUNCIL,
    TEMPLATE,
    TITLE,
    KIND,
    TEXT,
    OPTIONS,
    AUDIENCE,
    TAGS,
    ANONYMITY,
    OPENS,
    OPENS_AT,
    CLOSES,
    CLOSES_AT,
    CHANGES,
    PREVIEW,
    EDIT,
    TRANSLATE,
    VOICE_PART,
    VOICE_LANGUAGE,
    VOICE,
    NOTE,
) = range(21)
END = -1
"""The flow ends (the draft goes)."""
KIND_NAME = "poll"
TIMEOUT_SECONDS = 60 * 60
"""A poll being written lives this long after its last step."""


Ask = Callable[[Update, Ctx, dict[str, Any]], Awaitable[int]]
ASKS: dict[int, Ask] = {}
"""The step that asks for each state, so the modules of the conversation go to one another's
steps by state (`go`) instead of importing one another."""


def asks(state: int) -> Callable[[Ask], Ask]:
    """Declare `step` as the one that asks for `state`."""

    def declare(step: Ask) -> Ask:
        ASKS[state] = step
        return step

    return declare


async def go(state: int, update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    """Ask for `state` (a step of another module: `handlers.newpoll` imports them all)."""
    return await ASKS[state](update, ctx, data)


def button(step: str, callback: Any) -> CallbackQueryHandler:
    """A handler for this conversation's buttons of one step (`np:<step>:<value>`)."""
    return CallbackQueryHandler(callback, pattern=NEWPOLL.step_pattern(step))


def typed(callback: Any) -> MessageHandler:
    return MessageHandler(filters.TEXT & ~filters.COMMAND, callback)


def value_of(ctx: Ctx, data: str | None) -> str:
    """The value of a `np:<step>:<value>` button ("" when the data has another shape)."""
    parts = NEWPOLL.parse(data)
    return parts[1] if parts else ""


async def load(ctx: Ctx) -> dict[str, Any] | None:
    """The poll being written, or None when it expired or was dropped."""
    async with ctx.db.read() as session:
        draft = await drafts.get_draft(session, address=ctx.profile.address, kind=KIND_NAME)
        return dict(draft.data) if draft else None


async def save(ctx: Ctx, data: dict[str, Any], step: int) -> int:
    """Store the poll so far and move to `step` (returned, for the conversation table)."""
    expires = utcnow() + timedelta(seconds=TIMEOUT_SECONDS)
    async with ctx.db.begin() as session:
        await drafts.save_draft(
            session,
            address=ctx.profile.address,
            kind=KIND_NAME,
            step=str(step),
            data=data,
            expires_at=expires,
        )
    _steps(ctx)[KIND_NAME] = str(step)  # stored: the flow need not store it again
    return step


def _steps(ctx: Ctx) -> dict[str, str]:
    """This member's steps as the gate read them (`bot.chat.context.STEPS`)."""
    steps: dict[int, dict[str, str]] = ctx.bot_data.setdefault(STEPS, {})
    return steps.setdefault(int(ctx.profile.address.id), {})


async def drop(ctx: Ctx) -> None:
    async with ctx.db.begin() as session:
        await drafts.drop_drafts(session, address=ctx.profile.address, kind=KIND_NAME)
    _steps(ctx).pop(KIND_NAME, None)


async def council_of(ctx: Ctx, data: dict[str, Any]) -> Council:
    async with ctx.db.read() as session:
        return await councils.get_council(session, council_id=data["council_id"])


Step = Callable[[Update, Ctx, dict[str, Any]], Awaitable[int]]


def with_draft(step: Step) -> Callable[[Update, Ctx], Awaitable[int]]:
    """Give a step the poll written so far; when it is gone, say so and end the conversation."""

    @functools.wraps(step)
    async def run(update: Update, ctx: Ctx) -> int:
        data = await load(ctx)
        if data is None:
            return await expired(update, ctx)
        return await step(update, ctx, data)

    return run


async def expired(update: Update, ctx: Ctx) -> int:
    """The draft is gone (no step for an hour): say so and end; nothing was sent."""
    await drop(ctx)
    if update.callback_query:
        await acknowledge(update.callback_query)
    await reply(update, ctx.t("newpoll.timed_out"))
    return END
