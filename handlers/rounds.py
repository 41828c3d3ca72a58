"""/remind (a reminder to who has not answered) and /status (what is being sent right now)."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.chat import formatting
from bot.chat.buttons import REMIND
from bot.chat.commands import names
from bot.chat.context import Ctx
from bot.chat.keyboards import plain_number
from bot.delivery.progress import DAILY_LIMIT
from bot.delivery.progress import reason as described
from bot.scheduling.rounds import remind
from handlers.picking import pick
from handlers.ui import allowed, council_ids, replace, reply, stale_button
from storage import outbox
from storage.models import Council, DeliveryStatus, Poll, PollStatus, utcnow


async def remind_command(update: Update, ctx: Ctx) -> None:
    """/remind [poll]: only who has not answered an open poll gets a reminder (without its
    number: pick the poll)."""
    poll = await pick(
        update,
        ctx,
        "remind",
        "",
        [PollStatus.open],
        "remind.pick",
        "remind.none",
        button=REMIND,
    )
    if poll is not None:
        await _send_reminder(update, ctx, poll.id)


async def poll_chosen(update: Update, ctx: Ctx) -> None:
    """A poll of the picker: send its reminder."""
    parts = REMIND.parse(update.callback_query.data)
    poll_id = plain_number(parts[0]) if parts else None
    if poll_id is None:
        await stale_button(update, ctx)
        return
    await _send_reminder(update, ctx, poll_id)


async def _send_reminder(update: Update, ctx: Ctx, poll_id: int) -> None:
    """Send the reminder (at most two per poll)."""
    async with ctx.db.begin() as session:
        poll = await session.get(Poll, poll_id)
        mine = poll is not None and poll.council_id in await council_ids(ctx, session)
        sending = None
        if mine and poll.status is PollStatus.open:
            sending = await remind(session, poll=poll, pseudonym_key=ctx.settings.pseudonym_key)
            if sending is not None:
                sending.progress_chat_id = update.effective_chat.id
    if not mine or poll.status is not PollStatus.open:
        await stale_button(update, ctx)
        return
    if sending is None:
        await replace(update, ctx.t("remind.too_many"))
        return
    ctx.services.outbox.kick()
    await replace(
        update, ctx.t("remind.sent" if sending.total else "remind.nobody", count=sending.total)
    )


async def show_status(update: Update, ctx: Ctx) -> None:
    """/status: rounds still being sent, what waits to be tried again, and an outage."""
    if not await allowed(update, ctx, "status"):
        return
    async with ctx.db.read() as session:
        mine = await council_ids(ctx, session)
        busy = await outbox.rounds_in_progress(session, council_ids=mine)
        backlog, _ = await outbox.backlog(session, now=utcnow())
        retrying = {
            sending.id: await outbox.reasons(
                session, round_id=sending.id, status=DeliveryStatus.pending
            )
            for sending, _, _ in busy
        }
        council = await session.get(Council, mine[0]) if mine else None
    if not busy:
        await reply(update, ctx.t("sending.nothing"))
        return
    lines = [ctx.t("sending.intro", backlog=backlog)]
    for sending, poll, counts in busy:
        waiting = counts[DeliveryStatus.pending] + counts[DeliveryStatus.claimed]
        total = sum(counts.values())
        lines.append(
            ctx.t(
                "sending.line",
                title=poll.title_in(ctx.t.language),
                kind=ctx.t(f"sending.kind_{sending.kind.value}"),
                done=total - waiting,
                total=total,
                pending=waiting,
            )
        )
        for reason, count in retrying[sending.id].most_common(1):
            lines.append(ctx.t("sending.retrying", count=count, reason=described(ctx.t, reason)))
    held, resumes = await _held_back(ctx)
    if held and resumes is not None:
        at = formatting.short_moment(resumes, council.timezone if council else "UTC")
        lines.append(ctx.t("whatsapp.daily_limit", left=held, at=at))
    health = ctx.services.health
    for outage, key in (
        (health.telegram, "sending.away_telegram"),
        (health.database, "sending.away_db"),
    ):
        if outage.since is not None:
            lines.append(
                ctx.t(
                    key,
                    since=formatting.clock(outage.since, council.timezone if council else "UTC"),
                )
            )
    await reply(update, "\n".join(lines))


async def _held_back(ctx: Ctx) -> tuple[int, Any]:
    """WhatsApp rows waiting for the business's daily limit of new conversations."""
    async with ctx.db.read() as session:
        return await outbox.held_back(session, reason=DAILY_LIMIT)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CommandHandler(names("remind"), remind_command))
    app.add_handler(CommandHandler(names("status"), show_status))
    app.add_handler(CallbackQueryHandler(poll_chosen, pattern=REMIND.pattern))
