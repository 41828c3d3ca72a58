"""Who gets the poll, whether it is anonymous, when it opens and closes, and changing answers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from telegram import Update

from bot.chat import formatting
from bot.chat.buttons import NEWPOLL
from bot.chat.context import Ctx
from bot.chat.keyboards import keyboard
from bot.polls.checking import Problem, check_moment, check_tags
from handlers.newpoll.states import (
    ANONYMITY,
    AUDIENCE,
    CHANGES,
    CLOSES,
    CLOSES_AT,
    OPENS,
    OPENS_AT,
    PREVIEW,
    TAGS,
    asks,
    council_of,
    go,
    save,
    value_of,
    with_draft,
)
from handlers.ui import replace, reply
from storage import people
from storage.models import utcnow

CLOSING_DAYS = (3, 7, 14)


@asks(AUDIENCE)
async def ask_audience(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    council = await council_of(ctx, data)
    buttons = [
        (
            ctx.t.label("newpoll.audience_all", council=council.name),
            NEWPOLL.data("a", "all"),
        ),
        (ctx.t("newpoll.audience_some"), NEWPOLL.data("a", "some")),
    ]
    await replace(update, ctx.t("newpoll.ask_audience"), keyboard(buttons))
    return await save(ctx, data, AUDIENCE)


@with_draft
async def audience_chosen(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    if value_of(ctx, update.callback_query.data) == "all":
        data["audience_tags"] = []
        return await _ask_anonymity(update, ctx, data)
    known = sorted(await _known_tags(ctx, data))
    example = known[0] if known else "locatie:noord"
    await replace(update, ctx.t("newpoll.ask_tags", example=example, known=", ".join(known) or "-"))
    return await save(ctx, data, TAGS)


@with_draft
async def tags_typed(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    tags = check_tags(update.effective_message.text, known=await _known_tags(ctx, data))
    if isinstance(tags, Problem):
        await reply(update, ctx.t(tags.key, **tags.values))
        return TAGS
    data["audience_tags"] = tags
    return await _ask_anonymity(update, ctx, data)


@with_draft
async def anonymity_chosen(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    data["anonymous"] = value_of(ctx, update.callback_query.data) != "no"
    buttons = [
        (ctx.t("newpoll.opens_now"), NEWPOLL.data("o", "now")),
        (ctx.t("newpoll.opens_pick"), NEWPOLL.data("o", "pick")),
    ]
    await replace(update, ctx.t("newpoll.ask_opens"), keyboard(buttons))
    return await save(ctx, data, OPENS)


@with_draft
async def opening_chosen(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    if value_of(ctx, update.callback_query.data) == "now":
        data["opens_at"] = None
        return await ask_closing(update, ctx, data)
    await replace(update, await _moment_question(ctx, data))
    return await save(ctx, data, OPENS_AT)


@with_draft
async def opening_typed(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    council = await council_of(ctx, data)
    moment = check_moment(update.effective_message.text, timezone=council.timezone, now=utcnow())
    if isinstance(moment, Problem):
        await reply(update, ctx.t(moment.key, example=await _example(ctx, data)))
        return OPENS_AT
    data["opens_at"] = moment.isoformat()
    return await ask_closing(update, ctx, data)


@with_draft
async def closing_chosen(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    value = value_of(ctx, update.callback_query.data)
    if value.isdigit() and int(value) in CLOSING_DAYS:
        data["closes_at"] = (_opening(data) + timedelta(days=int(value))).isoformat()
        return await _ask_changes(update, ctx, data)
    await replace(update, await _moment_question(ctx, data))
    return await save(ctx, data, CLOSES_AT)


@with_draft
async def closing_typed(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    council = await council_of(ctx, data)
    moment = check_moment(
        update.effective_message.text, timezone=council.timezone, now=utcnow(), after=_opening(data)
    )
    if isinstance(moment, Problem):
        await reply(update, ctx.t(moment.key, example=await _example(ctx, data)))
        return CLOSES_AT
    data["closes_at"] = moment.isoformat()
    return await _ask_changes(update, ctx, data)


@with_draft
async def changes_chosen(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    data["allow_change"] = value_of(ctx, update.callback_query.data) == "yes"
    data["ready"] = True
    return await go(PREVIEW, update, ctx, data)


async def _ask_anonymity(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    buttons = [
        (ctx.t("newpoll.anonymous_yes"), NEWPOLL.data("an", "yes")),
        (ctx.t("newpoll.anonymous_no"), NEWPOLL.data("an", "no")),
    ]
    await replace(update, ctx.t("newpoll.ask_anonymous"), keyboard(buttons))
    return await save(ctx, data, ANONYMITY)


@asks(CLOSES)
async def ask_closing(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    buttons = [
        (ctx.t("newpoll.closes_days", days=days), NEWPOLL.data("cl", days)) for days in CLOSING_DAYS
    ]
    buttons.append((ctx.t("newpoll.closes_pick"), NEWPOLL.data("cl", "pick")))
    await replace(update, ctx.t("newpoll.ask_closes"), keyboard(buttons))
    return await save(ctx, data, CLOSES)


async def _ask_changes(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    buttons = [
        (ctx.t("newpoll.changes_yes"), NEWPOLL.data("ch", "yes")),
        (ctx.t("newpoll.changes_no"), NEWPOLL.data("ch", "no")),
    ]
    await replace(update, ctx.t("newpoll.ask_changes"), keyboard(buttons))
    return await save(ctx, data, CHANGES)


def _opening(data: dict[str, Any]) -> Any:
    return datetime.fromisoformat(data["opens_at"]) if data.get("opens_at") else utcnow()


async def _known_tags(ctx: Ctx, data: dict[str, Any]) -> set[str]:
    async with ctx.db.begin() as session:
        return await people.council_tags(session, council_id=data["council_id"])


async def _example(ctx: Ctx, data: dict[str, Any]) -> str:
    council = await council_of(ctx, data)
    local = formatting.local(utcnow() + timedelta(days=7), council.timezone)
    return formatting.moment(local.replace(hour=19, minute=0), council.timezone)


async def _moment_question(ctx: Ctx, data: dict[str, Any]) -> str:
    council = await council_of(ctx, data)
    return ctx.t("newpoll.ask_moment", example=await _example(ctx, data), timezone=council.timezone)
