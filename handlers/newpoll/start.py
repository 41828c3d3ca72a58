"""Starting a poll (council, template), and stopping: /cancel, a timeout, stray text."""

from __future__ import annotations

from telegram import Update

from bot.chat.buttons import NEWPOLL
from bot.chat.context import Ctx
from bot.chat.keyboards import keyboard
from bot.polls.checking import MAX_QUESTIONS
from handlers.newpoll.states import (
    COUNCIL,
    END,
    KIND,
    TEMPLATE,
    TITLE,
    TRANSLATE,
    drop,
    expired,
    go,
    load,
    save,
    value_of,
)
from handlers.ui import allowed, replace, reply, stale_button
from storage import councils, templates
from storage.models import Role


async def new_poll(update: Update, ctx: Ctx) -> int:
    """/newpoll: council members and staff start writing; a council is chosen if needed."""
    if not await allowed(update, ctx, "newpoll"):
        return END
    async with ctx.db.begin() as session:
        choices = ctx.profile.councils_with(Role.council, await councils.all_councils(session))
    if not choices:
        await reply(update, ctx.t("newpoll.no_councils"))
        return END
    if len(choices) == 1:
        return await _offer_templates(update, ctx, choices[0].id)
    buttons = [(council.name, NEWPOLL.data("c", council.id)) for council in choices]
    await reply(update, ctx.t("newpoll.choose_council"), keyboard(buttons, footer=[_cancel(ctx)]))
    return await save(ctx, {}, COUNCIL)


async def council_chosen(update: Update, ctx: Ctx) -> int:
    value = value_of(ctx, update.callback_query.data)
    async with ctx.db.begin() as session:
        choices = ctx.profile.councils_with(Role.council, await councils.all_councils(session))
    if not value.isdigit() or int(value) not in {council.id for council in choices}:
        await stale_button(update, ctx)
        return COUNCIL
    return await _offer_templates(update, ctx, int(value))


async def template_chosen(update: Update, ctx: Ctx) -> int:
    """Start from a template (its title and questions) or empty."""
    data = await load(ctx)
    value = value_of(ctx, update.callback_query.data)
    if data is None or not value.isdigit():
        return await expired(update, ctx)
    if value == "0":
        return await go(TITLE, update, ctx, data)
    async with ctx.db.begin() as session:
        template = await templates.usable_template(
            session, template_id=int(value), council_id=data["council_id"]
        )
    if template is None:
        await stale_button(update, ctx)
        return TEMPLATE
    body = template.body
    data |= {
        "title": template.title,
        "questions": body["questions"],
        "template_id": template.id,
        "language": body.get("language", data.get("language", "nl")),
        "languages": body.get("languages", {}),
        "voices": body.get("voices", {}),
        "share_results": body.get("share_results", True),
        "recruit": body.get("recruit", False),
    }
    if len(data["questions"]) >= MAX_QUESTIONS:
        return await go(TRANSLATE, update, ctx, data)
    return await go(KIND, update, ctx, data)


async def cancelled(update: Update, ctx: Ctx) -> int:
    """/cancel or the Cancel button: drop the draft, nothing half-made stays behind."""
    await drop(ctx)
    await replace(update, ctx.t("common.cancelled"))
    return END


async def use_buttons(update: Update, ctx: Ctx) -> None:
    """Text where a button was expected: say so, keep everything."""
    await reply(update, ctx.t("newpoll.use_buttons"))


async def _offer_templates(update: Update, ctx: Ctx, council_id: int) -> int:
    async with ctx.db.begin() as session:
        usable = await templates.usable_templates(session, council_id=council_id)
        council = await councils.get_council(session, council_id=council_id)
    first = council.languages.split(",")[0]
    data = {"council_id": council_id, "language": first, "questions": []}
    if not usable:
        return await go(TITLE, update, ctx, data)
    buttons = [
        (
            template.title[:40]
            if council.id == council_id
            else ctx.t.label(
                "newpoll.template_shared", title=template.title[:30], council=council.name[:20]
            ),
            NEWPOLL.data("t", template.id),
        )
        for template, council in usable[:10]
    ]
    markup = keyboard(
        buttons,
        footer=[(ctx.t("newpoll.start_empty"), NEWPOLL.data("t", 0)), _cancel(ctx)],
    )
    await replace(update, ctx.t("newpoll.start_from"), markup)
    return await save(ctx, data, TEMPLATE)


def _cancel(ctx: Ctx) -> tuple[str, str]:
    return ctx.t("newpoll.cancel"), NEWPOLL.data("x", "-")
