"""/candidates (/kandidaten), for staff: the open requests to join the council, each with
"Invite to the council" (a council-member invite, its link sent to that family on their
channel) and "Mark as handled"; and the requests as an audited CSV export. Contacts are never
logged; the audit log says only who exported or invited, and which request."""

from __future__ import annotations

import csv
import io
import logging
from datetime import timedelta
from typing import Any, Protocol

from telegram import InputFile, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.chat import formatting
from bot.chat.buttons import CANDIDATES, plain_number
from bot.chat.commands import names
from bot.chat.context import Ctx
from bot.chat.keyboards import keyboard, markup
from bot.chat.screens import Reply, Screen
from bot.family.members import staff_choices
from bot.invites.links import telegram_link
from bot.texts import Texts, texts_for
from handlers.ui import acknowledge, allowed, council_ids, reply, stale_button
from storage import audit, candidates, invites
from storage.invites import end_of_day
from storage.models import TELEGRAM, WHATSAPP, Address, Candidate, Council, Person, Role, utcnow

log = logging.getLogger(__name__)
SHOWN = 20
"""Requests shown one by one; the export has them all."""
INVITE_DAYS = 14
WINDOW = timedelta(hours=23, minutes=50)
"""WhatsApp: a free-form message only this soon after the family last wrote."""
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Channel(Protocol):
    """The WhatsApp channel (bot.whatsapp.channel.WhatsApp), when it is on."""

    async def show(self, t: Texts, address: Address, reply: Reply) -> None: ...


async def candidates_command(update: Update, ctx: Ctx) -> None:
    """/candidates: each open request with its buttons, per council an export button."""
    if not await allowed(update, ctx, "candidates"):
        return
    async with ctx.db.read() as session:
        ids = await council_ids(ctx, session, Role.staff)
        found = await candidates.open_candidates(session, council_ids=ids)
    if not found:
        await reply(update, ctx.t("members.none"))
        return
    by_council: dict[int, tuple[Council, list[Candidate]]] = {}
    for candidate, council in found:
        by_council.setdefault(council.id, (council, []))[1].append(candidate)
    for council, waiting in by_council.values():
        export = keyboard([(ctx.t("members.export_button"), CANDIDATES.data("e", council.id))])
        title = ctx.t("members.title", council=council.name, count=len(waiting))
        await reply(update, title, export)
        for candidate in waiting[:SHOWN]:
            screen = Screen(_text(ctx.t, candidate, council), staff_choices(ctx.t, candidate.id))
            await reply(update, screen.text, markup(screen))


def _text(t: Texts, candidate: Candidate, council: Council) -> str:
    date = formatting.day(candidate.created_at, council.timezone)
    text = t("members.candidate", date=date, contact=candidate.contact)
    if candidate.invited_at is not None:
        day = formatting.day(candidate.invited_at, council.timezone)
        text += "\n" + t("members.invited_on", date=day)
    return text


async def handled_tapped(update: Update, ctx: Ctx) -> None:
    """ "Mark as handled": the request goes at the next hourly clean-up."""
    candidate_id = _value(update)
    if candidate_id is None or not await allowed(update, ctx, "candidates"):
        await stale_button(update, ctx)
        return
    async with ctx.db.begin() as session:
        ids = await council_ids(ctx, session, Role.staff)
        found = await candidates.candidate_of(session, candidate_id=candidate_id, council_ids=ids)
        if found is not None:
            candidate, council, _ = found
            candidate.handled_at = utcnow()
            session.add(candidate)
            audit.record(
                session,
                action="candidate_handled",
                council_id=council.id,
                actor_id=_actor(ctx),
                detail=f"candidate {candidate.id}",
            )
    if found is None:
        await acknowledge(update.callback_query, ctx.t("members.gone"))
        return
    await acknowledge(update.callback_query, ctx.t("members.handled"))
    await update.callback_query.edit_message_reply_markup(None)


async def invite_tapped(update: Update, ctx: Ctx) -> None:
    """ "Invite to the council": a council-member invite for this family, its link sent to
    them (on WhatsApp only within their 24-hour window)."""
    candidate_id = _value(update)
    if candidate_id is None or not await allowed(update, ctx, "candidates"):
        await stale_button(update, ctx)
        return
    async with ctx.db.read() as session:
        ids = await council_ids(ctx, session, Role.staff)
        found = await candidates.candidate_of(session, candidate_id=candidate_id, council_ids=ids)
        person = await session.get(Person, found[0].person_id) if found and found[2] else None
    if found is None or person is None:
        await acknowledge(update.callback_query, ctx.t("members.gone"), alert=True)
        return
    candidate, council, address = found
    whatsapp = _whatsapp(ctx)
    if address.channel == WHATSAPP and (
        whatsapp is None or person.window_at is None or utcnow() - person.window_at > WINDOW
    ):
        await acknowledge(update.callback_query, ctx.t("members.invite_not_sent"), alert=True)
        return
    async with ctx.db.begin() as session:
        made, code = await invites.create_invite(
            session,
            council_id=council.id,
            role=Role.council,
            tags=[],
            expires_at=end_of_day(utcnow(), days=INVITE_DAYS, timezone=council.timezone),
            max_uses=1,
            created_by=_actor(ctx),
        )
        audit.record(
            session,
            action="candidate_invited",
            council_id=council.id,
            actor_id=made.created_by,
            detail=f"candidate {candidate.id} invite {made.id} role=council",
        )
    t = texts_for(person.language, address.channel)
    link = telegram_link(ctx.bot.username, code)  # council members work on Telegram
    message = t("members.invite_message", council=council.name, link=link)
    if not await _send(ctx, whatsapp, t, address, message):
        await acknowledge(update.callback_query, ctx.t("members.invite_not_sent"), alert=True)
        return
    async with ctx.db.begin() as session:
        stored = await session.get(Candidate, candidate.id)
        if stored is not None:
            stored.invited_at = utcnow()
            session.add(stored)
    await acknowledge(update.callback_query, ctx.t("members.invite_sent"))
    shown = candidate.model_copy(update={"invited_at": utcnow()})
    screen = Screen(_text(ctx.t, shown, council), staff_choices(ctx.t, candidate.id))
    await update.callback_query.edit_message_text(screen.text, reply_markup=markup(screen))


async def _send(ctx: Ctx, whatsapp: Channel | None, t: Texts, address: Address, text: str) -> bool:
    """The invite link to the family, on their channel; False when it did not go."""
    try:
        if address.channel == TELEGRAM:
            await ctx.bot.send_message(int(address.id), text)
        elif whatsapp is not None:
            await whatsapp.show(t, address, Reply(then=[Screen(text)]))
        else:
            return False
    except (TelegramError, OSError) as error:
        log.warning("an invite to join the council did not go (%s)", type(error).__name__)
        return False
    return True


def _whatsapp(ctx: Ctx) -> Channel | None:
    parts = ctx.bot_data.get("whatsapp")  # bot.run.whatsapp.KEY, when the channel is on
    return getattr(parts, "channel", None)


async def export_tapped(update: Update, ctx: Ctx) -> None:
    """The council's open requests as CSV (audited): date, contact, when an invite went."""
    council_id = _value(update)
    if council_id is None or not await allowed(update, ctx, "candidates"):
        await stale_button(update, ctx)
        return
    async with ctx.db.begin() as session:
        ids = await council_ids(ctx, session, Role.staff)
        found = await candidates.open_candidates(
            session, council_ids=[council_id] if council_id in ids else []
        )
        if found:
            audit.record(
                session,
                action="export_candidates",
                council_id=council_id,
                actor_id=_actor(ctx),
                detail=f"{len(found)} requests",
            )
    await acknowledge(update.callback_query)
    if not found:
        await reply(update, ctx.t("members.none"))
        return
    council = found[0][1]
    data = candidates_csv(ctx.t, [candidate for candidate, _ in found], council.timezone)
    caption = ctx.t("members.export_caption", council=council.name, count=len(found))
    document = InputFile(data, filename=f"candidates-{council.slug}.csv")
    await update.effective_chat.send_document(document, caption=caption)


def candidates_csv(t: Texts, found: list[Candidate], timezone: str) -> bytes:
    """UTF-8 with a byte order mark, the export's delimiter; a cell that starts like a
    formula gets a quote first (a typed contact never runs in a spreadsheet)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=t("export.delimiter"), lineterminator="\r\n")
    header = ("members.column_date", "members.column_contact", "members.column_invited")
    writer.writerow([t(key) for key in header])
    for candidate in found:
        invited = candidate.invited_at
        writer.writerow(
            [
                formatting.day(candidate.created_at, timezone),
                _safe(candidate.contact),
                formatting.day(invited, timezone) if invited else "",
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")


def _safe(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def _value(update: Update) -> int | None:
    parts = CANDIDATES.parse(update.callback_query.data)
    return plain_number(parts[1]) if parts else None


def _actor(ctx: Ctx) -> int | None:
    person = ctx.profile.person if ctx.profile else None
    return person.id if person else None


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CommandHandler(names("candidates"), candidates_command))
    for step, callback in (("h", handled_tapped), ("i", invite_tapped), ("e", export_tapped)):
        app.add_handler(CallbackQueryHandler(callback, pattern=CANDIDATES.step_pattern(step)))
