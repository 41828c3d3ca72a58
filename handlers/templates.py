"""/templates: a council's saved polls, shared with the other councils on the bot or not, and
per shared template how many councils used it and the median response rate of its rounds
(only from k councils on, k being the reader's threshold: nothing of any council's answers)."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.chat.buttons import TEMPLATES
from bot.chat.commands import names
from bot.chat.context import Ctx
from bot.chat.keyboards import keyboard
from bot.texts import Texts
from handlers.ui import acknowledge, allowed, council_ids, reply, stale_button
from storage import templates
from storage.councils import all_councils
from storage.models import Council, Template
from storage.templates import TemplateUse


async def list_templates(update: Update, ctx: Ctx) -> None:
    """/templates: each saved poll with a button to share it (or stop sharing)."""
    if not await allowed(update, ctx, "templates"):
        return
    async with ctx.db.begin() as session:
        ids = await council_ids(ctx, session)
        mine = await templates.own_templates(session, council_ids=ids)
        k = max(
            (c.privacy_threshold for c in await all_councils(session) if c.id in ids), default=5
        )
        shared = await templates.shared_templates(session)
        use = await templates.template_use(session, template_ids=[t.id for t, _ in shared])
    if not mine:
        await reply(update, ctx.t("templates.none"))
    else:
        await reply(update, ctx.t("templates.intro"), _keyboard(ctx, mine))
    if shared:
        await reply(update, _use_text(ctx.t, shared, use, k))


def _use_text(
    t: Texts, shared: list[tuple[Template, Council]], use: dict[int, TemplateUse], k: int
) -> str:
    """Per shared template: used by how many councils, the median response of its rounds."""
    lines = [t("hearing.templates_title")]
    for template, council in shared:
        found = use.get(template.id, TemplateUse(0, None))
        if found.councils < k:
            line = t("hearing.template_few", title=template.title, council=council.name, k=k)
        elif found.median_rate is None:
            line = t(
                "hearing.template_used",
                title=template.title,
                council=council.name,
                councils=found.councils,
            )
        else:
            line = t(
                "hearing.template_rate",
                title=template.title,
                council=council.name,
                councils=found.councils,
                rate=round(found.median_rate),
            )
        lines.append(line)
    return "\n".join(lines)


async def share_tapped(update: Update, ctx: Ctx) -> None:
    """Share a template with every council on this bot, or stop sharing it."""
    parts = TEMPLATES.parse(update.callback_query.data)
    if parts is None or parts[0] not in ("share", "unshare") or not parts[1].isdigit():
        await stale_button(update, ctx)
        return
    async with ctx.db.begin() as session:
        mine = await templates.own_templates(session, council_ids=await council_ids(ctx, session))
        template = next((item for item in mine if item.id == int(parts[1])), None)
        if template is not None:
            await templates.set_shared(session, template=template, shared=parts[0] == "share")
    if template is None:
        await stale_button(update, ctx)
        return
    await acknowledge(update.callback_query, ctx.t(f"templates.{parts[0]}d"))
    await update.callback_query.edit_message_reply_markup(_keyboard(ctx, mine))


def _keyboard(ctx: Ctx, mine: list[Template]) -> Any:
    return keyboard(
        (
            ctx.t.label(
                "templates.shared_line" if template.shared else "templates.private_line",
                title=template.title[:30],
            ),
            TEMPLATES.data("unshare" if template.shared else "share", template.id),
        )
        for template in mine
    )


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CommandHandler(names("templates"), list_templates))
    app.add_handler(CallbackQueryHandler(share_tapped, pattern=TEMPLATES.pattern))
