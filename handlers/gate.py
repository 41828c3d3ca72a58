"""Runs before every feature: an update only once, not too many per person, who is this user,
and may the update go on?

An update comes once: the inbox stores each update id once (`storage.inbox.put`), so a
webhook retry or a batch fetched twice never reaches the features.

Flood control: each person may have FLOOD_LIMIT updates handled per FLOOD_WINDOW seconds
(40 a minute: the fastest real flows, every command in a row or a 5-question poll written
with mistakes, take about 30 updates, and people are slower than tests). The inbox says how
many updates the sender sent in the minute before this one, over every process (`BEFORE`).
Beyond the limit their updates are dropped before any database work; the first one beyond
it gets one friendly notice, the rest silence, until they pause for a minute; so a flood
costs the bot about 41 messages to that chat and nothing for everyone else. A group chat gets
the pointer to a private chat at most once per window and process (kept in memory: a pointer
more with several processes does no harm).
"""

from __future__ import annotations

import time
from typing import Any

from telegram import Chat, Update
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from bot.chat.context import AGAIN, BEFORE, RETRY, STEPS, Ctx
from bot.chat.keyboards import plain_number
from bot.chat.throttle import FLOOD_LIMIT, FLOOD_WINDOW, Throttle
from handlers.ui import reply, stale_button
from storage import drafts
from storage.db import is_outage
from storage.models import Address, Role
from storage.people import load_profile

FLOOD = "gate_flood_limit"
"""bot_data: the flood limit, when not FLOOD_LIMIT (tests that walk every feature lift it)."""
POINTERS = "gate_group_pointers"


async def identify(update: Update, ctx: Ctx) -> None:
    """Drop repeats and floods; load the user's profile and language; refuse button data with
    odd numbers; answer edits, and group chats with a pointer to a private one."""
    again = update.update_id in ctx.bot_data.get(AGAIN, ())  # the database was away before
    if not again and await _flooding(update, ctx):
        raise ApplicationHandlerStop  # one update too many
    try:
        await _load_profile(update, ctx)
    except Exception as error:
        if not is_outage(error):
            raise
        handle_again(update, ctx, error)  # and nothing else runs for it now
    if update.callback_query and _odd_numbers(update.callback_query.data):
        await stale_button(update, ctx)
        raise ApplicationHandlerStop
    if update.edited_message and update.effective_chat.type == Chat.PRIVATE:
        await reply(update, ctx.t("fallback.edited"))  # an edit is never run as a new command
        raise ApplicationHandlerStop
    chat = update.effective_chat
    if chat is not None and chat.type != Chat.PRIVATE:
        pointer = update.effective_message and not update.edited_message
        if pointer and chat.type != Chat.CHANNEL and _admitted(ctx, POINTERS, chat.id):
            await reply(update, ctx.t("common.private_only", bot=ctx.bot.username))
        raise ApplicationHandlerStop


async def _flooding(update: Update, ctx: Ctx) -> bool:
    """True when this person is over the limit (telling them once, at the first beyond it)."""
    before = ctx.bot_data.get(BEFORE, {}).get(update.update_id, 0)
    limit = ctx.bot_data.get(FLOOD, FLOOD_LIMIT)
    user = update.effective_user
    if user is None or before < limit:
        return False
    chat = update.effective_chat
    if chat is not None and chat.type == Chat.PRIVATE and before == limit:
        try:
            await _load_profile(update, ctx)
        except Exception as error:
            if not is_outage(error):
                raise
            ctx.settle_language(update)  # the notice in their Telegram language, then
        await reply(update, ctx.t("common.too_many"))
    return True


def handle_again(update: Update, ctx: Ctx, error: Exception) -> None:
    """The database is away: stop this update here, without a word to the person; the poller
    (or webhook) handles it again once the database answers, so nothing they did is lost."""
    ctx.bot_data.setdefault(RETRY, set()).add(update.update_id)
    ctx.services.health.database.failed(error)
    raise ApplicationHandlerStop


def _odd_numbers(data: str | None) -> bool:
    """True when a part of the button data passes for a number (str.isdigit) without being a
    plain id (see `plain_number`), like "²" or 25 nines: no button of ours makes one, and
    int() or the database would fail on it in the feature that checks the data."""
    for part in (data or "").split(":"):
        digits = part.lstrip("-")
        if digits.isdigit() and plain_number(digits) is None:
            return True
    return False


async def _load_profile(update: Update, ctx: Ctx) -> None:
    user = update.effective_user
    if user is not None:
        steps = ctx.bot_data.setdefault(STEPS, {})
        async with ctx.db.read() as session:
            ctx.profile = await load_profile(
                session, address=Address.telegram(user.id), is_admin=user.id in ctx.settings.admins
            )
            if ctx.profile.role in (Role.council, Role.staff):  # where they are in /newpoll
                steps[user.id] = await drafts.steps(session, address=ctx.profile.address)
            else:  # families: no read more
                steps.pop(user.id, None)
    ctx.settle_language(update)


def _admitted(ctx: Ctx, throttle: str, key: int) -> bool:
    return bool(ctx.bot_data[throttle].admit(key, now=time.monotonic()))


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.bot_data[POINTERS] = Throttle(limit=1, window=FLOOD_WINDOW)
    app.add_handler(TypeHandler(Update, identify), group=-1)
