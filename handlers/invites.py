"""/invite: staff make an invite link in a few taps (council, role, tags, expiry, uses).

The answers so far live in a database draft, so a restart in the middle loses nothing. A family
invite also gets a WhatsApp link (when that channel is on) and can become a printable poster.
The code never reaches the database (only its hash does): it is shown once, in the staff
member's own chat, and the poster button carries it there too (in its data), so any process
draws the poster, for the one who made the invite only, while the invite can be used.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from telegram import InputFile, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.chat import formatting
from bot.chat.buttons import INVITE
from bot.chat.commands import names
from bot.chat.context import Ctx
from bot.chat.keyboards import keyboard
from bot.invites.links import telegram_link, whatsapp_link
from bot.invites.poster import make_poster
from bot.texts import LANGUAGES, Html, texts_for
from handlers.ui import acknowledge, allowed, on_text, quietly, replace, reply, stale_button
from storage import audit, councils, drafts, invites
from storage.invites import end_of_day
from storage.models import Council, Draft, Invite, Role, utcnow

KIND = "invite"
TAG = re.compile(r"^[\w-]{1,30}:[\w-]{1,30}$")
MAX_TAGS = 5
MAX_KIND_BYTES = 48
"""A tag's kind (before the colon) travels in the data of the results' "Per ..." button,
`rs:b:<poll id>:<kind>`, of at most 64 bytes: 48 bytes are left for it (48 letters a-z, 24
with accents or in Arabic)."""
MAX_TAGS_TEXT = 400
EXPIRY_DAYS = (1, 7, 30)
USES: dict[str, int | None] = {"1": 1, "10": 10, "100": 100, "1000": 1000, "none": None}
"""Button value → Invite.max_uses; None is no limit until the link expires (for a poster)."""


async def invite(update: Update, ctx: Ctx) -> None:
    """/invite: start a new invite (staff only); ask for the council when there are several."""
    if not await allowed(update, ctx, "invite"):
        return
    async with ctx.db.begin() as session:
        choices = ctx.profile.councils_with(Role.staff, await councils.all_councils(session))
        step = "role" if len(choices) == 1 else "council"
        data = {"council_id": choices[0].id} if len(choices) == 1 else {}
        await drafts.save_draft(
            session, address=ctx.profile.address, kind=KIND, step=step, data=data
        )
    if step == "council":
        buttons = [(council.name, INVITE.data("c", council.id)) for council in choices]
        await reply(update, ctx.t("invite.choose_council"), _with_cancel(ctx, buttons))
    else:
        await reply(update, ctx.t("invite.choose_role"), _role_keyboard(ctx))


async def step_tapped(update: Update, ctx: Ctx) -> None:
    """A tap on one of the invite buttons; only the button of the current step counts (the
    poster's button comes after the draft is gone)."""
    parts = INVITE.parse(update.callback_query.data)
    if parts is not None and parts[0] == "p":
        await poster_tapped(update, ctx, parts[1])
        return
    draft = await _draft(ctx)
    if parts is None or draft is None or parts[0] not in STEPS:
        await stale_button(update, ctx)
        return
    expected_step, handle = STEPS[parts[0]]
    if draft.step != expected_step and expected_step != "any":
        await stale_button(update, ctx)
        return
    await handle(update, ctx, draft, parts[1])


async def council_chosen(update: Update, ctx: Ctx, draft: Draft, value: str) -> None:
    async with ctx.db.begin() as session:
        choices = ctx.profile.councils_with(Role.staff, await councils.all_councils(session))
        allowed_here = value.isdigit() and int(value) in {council.id for council in choices}
        if allowed_here:
            await _advance(session, draft, "role", council_id=int(value))
    if not allowed_here:
        await stale_button(update, ctx)
        return
    await replace(update, ctx.t("invite.choose_role"), _role_keyboard(ctx))


async def role_chosen(update: Update, ctx: Ctx, draft: Draft, value: str) -> None:
    if value not in Role.__members__:
        await stale_button(update, ctx)
        return
    async with ctx.db.begin() as session:
        await _advance(session, draft, "tags", role=value)
    buttons = [(ctx.t("invite.no_tags"), INVITE.data("t", "none"))]
    await replace(update, ctx.t("invite.ask_tags"), _with_cancel(ctx, buttons))


async def no_tags(update: Update, ctx: Ctx, draft: Draft, value: str) -> None:
    await _ask_expiry(update, ctx, draft, tags=[])


async def tags_typed(update: Update, ctx: Ctx, draft: Draft) -> None:
    """The staff member typed segment tags; check each one and say exactly what is wrong."""
    text = update.effective_message.text or ""
    if len(text) > MAX_TAGS_TEXT:
        await reply(update, ctx.t("common.too_long", limit=MAX_TAGS_TEXT))
        return
    tags = [word.lower() for word in text.replace(",", " ").split()]
    wrong = next((tag for tag in tags if not TAG.match(tag)), None)
    long = next((tag for tag in tags if len(tag.split(":")[0].encode()) > MAX_KIND_BYTES), None)
    if wrong is not None:
        await reply(update, ctx.t("invite.bad_tag", tag=wrong[:40]))
    elif long is not None:
        await reply(update, ctx.t("invite.tag_too_long", tag=long))
    elif len(set(tags)) > MAX_TAGS:
        await reply(update, ctx.t("invite.too_many_tags", limit=MAX_TAGS))
    else:
        await _ask_expiry(update, ctx, draft, tags=sorted(set(tags)))


async def expiry_chosen(update: Update, ctx: Ctx, draft: Draft, value: str) -> None:
    if value not in {str(days) for days in EXPIRY_DAYS}:
        await stale_button(update, ctx)
        return
    async with ctx.db.begin() as session:
        await _advance(session, draft, "uses", days=int(value))
    few = [(_uses_label(ctx, USES[key]), INVITE.data("u", key)) for key in ("1", "10", "100")]
    many = [
        (_uses_label(ctx, 1000), INVITE.data("u", "1000")),
        (ctx.t("poster.uses_no_limit"), INVITE.data("u", "none")),
        (ctx.t("invite.cancel"), INVITE.data("x", "-")),
    ]
    await replace(update, ctx.t("invite.ask_uses"), keyboard(few, per_row=3, footer=many))


async def uses_chosen(update: Update, ctx: Ctx, draft: Draft, value: str) -> None:
    """Last step: make the invite and show the links to share (and a poster, for families)."""
    if value not in USES:
        await stale_button(update, ctx)
        return
    async with ctx.db.begin() as session:
        council = await councils.get_council(session, council_id=draft.data["council_id"])
        made, code = await invites.create_invite(
            session,
            council_id=council.id,
            role=Role(draft.data["role"]),
            tags=draft.data["tags"],
            expires_at=end_of_day(utcnow(), days=draft.data["days"], timezone=council.timezone),
            max_uses=USES[value],
            created_by=ctx.profile.person.id if ctx.profile.person else None,
        )
        await drafts.drop_drafts(session, address=draft.contact, kind=KIND)
        audit.record(
            session,
            action="invite",
            council_id=council.id,
            actor_id=made.created_by,
            detail=f"invite {made.id} role={made.role.value} uses={value}",
        )
    poster = None
    if made.role is Role.family:  # the code is in the message already: the button holds it too
        poster = keyboard([(ctx.t("poster.button"), INVITE.data("p", code))])
    await replace(update, _summary(ctx, council, made, code), poster)


async def poster_tapped(update: Update, ctx: Ctx, value: str) -> None:
    """Draw the poster of a family invite this staff member made (the code is the button's),
    send it as PNG and PDF, then take the button away."""
    code = value
    async with ctx.db.read() as session:
        made = await invites.by_code(session, code=code)
        mine = made is not None and await _made_here_by(session, ctx, made)
        council = await councils.get_council(session, council_id=made.council_id) if mine else None
    if made is None or council is None:
        await stale_button(update, ctx)
        return
    if made.revoked or made.expires_at <= utcnow():
        await _too_late(update, ctx)
        return
    await acknowledge(update.callback_query)
    await update.effective_chat.send_action("upload_document")
    png, pdf = await _poster(ctx, council, made, code)
    name = ctx.t.label("poster.filename", council=council.slug)
    expires = formatting.day(made.expires_at, council.timezone)
    chat = update.effective_chat
    await chat.send_document(InputFile(png, f"{name}.png"), caption=ctx.t("poster.caption_png"))
    await chat.send_document(
        InputFile(pdf, f"{name}.pdf"), caption=ctx.t("poster.caption_pdf", expires=expires)
    )
    await quietly(update.callback_query.edit_message_reply_markup(None))


async def cancelled(update: Update, ctx: Ctx, draft: Draft, value: str) -> None:
    async with ctx.db.begin() as session:
        await drafts.drop_drafts(session, address=draft.contact, kind=KIND)
    await replace(update, ctx.t("common.cancelled"))


STEPS = {
    "c": ("council", council_chosen),
    "r": ("role", role_chosen),
    "t": ("tags", no_tags),
    "e": ("expiry", expiry_chosen),
    "u": ("uses", uses_chosen),
    "x": ("any", cancelled),
}


async def _ask_expiry(update: Update, ctx: Ctx, draft: Draft, *, tags: list[str]) -> None:
    async with ctx.db.begin() as session:
        await _advance(session, draft, "expiry", tags=tags)
    buttons = [
        (
            ctx.t("invite.expiry_day") if days == 1 else ctx.t("invite.expiry_days", days=days),
            INVITE.data("e", days),
        )
        for days in EXPIRY_DAYS
    ]
    markup = _with_cancel(ctx, buttons, per_row=3)
    if update.callback_query:
        await replace(update, ctx.t("invite.ask_expiry"), markup)
    else:
        await reply(update, ctx.t("invite.ask_expiry"), markup)


async def _advance(session: Any, draft: Draft, step: str, **data: Any) -> None:
    await drafts.save_draft(
        session, address=draft.contact, kind=KIND, step=step, data=draft.data | data
    )


async def _draft(ctx: Ctx) -> Draft | None:
    async with ctx.db.read() as session:
        return await drafts.get_draft(session, address=ctx.profile.address, kind=KIND)


def _role_keyboard(ctx: Ctx) -> Any:
    buttons = [(ctx.t(f"invite.role_{role.value}"), INVITE.data("r", role.value)) for role in Role]
    return _with_cancel(ctx, buttons)


def _with_cancel(ctx: Ctx, buttons: list[tuple[str, str]], *, per_row: int = 1) -> Any:
    cancel = (ctx.t("invite.cancel"), INVITE.data("x", "-"))
    return keyboard(buttons, per_row=per_row, footer=[cancel])


def _uses_label(ctx: Ctx, uses: int | None) -> str:
    if uses is None:
        return ctx.t("poster.uses_everyone")
    if uses == 1000:
        return ctx.t("poster.uses_thousand")
    return ctx.t("invite.uses_one") if uses == 1 else ctx.t("invite.uses_many", count=uses)


def _summary(ctx: Ctx, council: Council, made: Invite, code: str) -> str:
    expires = formatting.day(made.expires_at, council.timezone)
    tags = ctx.t("invite.created_tags", tags=", ".join(made.tags)) if made.tags else ""
    telegram, whatsapp = telegram_link(ctx.bot.username, code), _whatsapp(ctx, council, made, code)
    both = whatsapp and Html(ctx.t("poster.links", telegram=telegram, whatsapp=whatsapp))
    return ctx.t(
        "invite.created",
        role=ctx.t(f"invite.for_{made.role.value}"),
        council=council.name,
        tags=Html(tags),
        expires=expires,
        uses=_uses_label(ctx, made.max_uses),
        links=both or telegram,
    )


async def _made_here_by(session: Any, ctx: Ctx, made: Invite) -> bool:
    """Whether the tapping staff member made this family invite, for a council they may still
    invite for."""
    allowed_here = ctx.profile.councils_with(Role.staff, await councils.all_councils(session))
    person = ctx.profile.person.id if ctx.profile.person else None
    return (
        made.role is Role.family
        and made.created_by == person
        and made.council_id in {council.id for council in allowed_here}
    )


async def _poster(ctx: Ctx, council: Council, made: Invite, code: str) -> tuple[bytes, bytes]:
    """The poster as PNG and PDF, drawn in a thread: a sentence in each of the council's
    languages, and a QR code for each channel a family can join on."""
    return await asyncio.to_thread(
        make_poster,
        council=council.name,
        sentences=[texts_for(language)("poster.sentence") for language in _languages(ctx, council)],
        telegram=telegram_link(ctx.bot.username, code),
        whatsapp=_whatsapp(ctx, council, made, code),
    )


async def _too_late(update: Update, ctx: Ctx) -> None:
    await acknowledge(update.callback_query, ctx.t("poster.too_late"), alert=True)


def _whatsapp(ctx: Ctx, council: Council, made: Invite, code: str) -> str | None:
    """The wa.me link of a family invite, in the council's first language; None while the
    WhatsApp channel is off."""
    settings = ctx.settings.whatsapp
    if made.role is not Role.family or not (settings.on and settings.business_number):
        return None
    return whatsapp_link(settings.business_number, code, _languages(ctx, council)[0])


def _languages(ctx: Ctx, council: Council) -> list[str]:
    """The council's languages, first one first: from the settings, else from its row."""
    configured = next((c.languages for c in ctx.settings.councils if c.slug == council.slug), ())
    named = configured or tuple(council.languages.split(","))
    found = [code for code in dict.fromkeys(name.strip() for name in named) if code in LANGUAGES]
    return found or [ctx.settings.default_language]


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CommandHandler(names("invite"), invite))
    app.add_handler(CallbackQueryHandler(step_tapped, pattern=INVITE.pattern))
    on_text(app, KIND, "tags", tags_typed)
