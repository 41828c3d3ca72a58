"""Jobs on the application's JobQueue (APScheduler underneath; one scheduler, not two).

Each job is a thin wrapper around a plain function that takes `now`, so tests can pass a
fixed clock.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot
from telegram.ext import Application

from bot.chat.context import Ctx
from bot.results.closing import close_due_polls, open_due_polls
from bot.scheduling.rounds import run_schedules, send_reminders
from storage import candidates, drafts, inbox, retention, whatsapp
from storage.db import Database
from storage.models import utcnow

log = logging.getLogger(__name__)


async def clean_up(db: Database, *, now: datetime) -> int:
    """Remove drafts nobody finished, ids of WhatsApp messages too old to be sent to us
    again, handled inbox rows older than a day, and requests to join a council that were
    handled or are 90 days old; returns how many drafts went."""
    async with db.begin() as session:
        await whatsapp.forget_old_inbound(session, now=now)
        await inbox.forget_old(session, now=now)
        await candidates.forget_old_candidates(session, now=now)
        return await drafts.drop_expired_drafts(session, now=now)


async def delete_old_answers(db: Database, *, now: datetime, days: int) -> int:
    """The retention period: answers of polls closed more than `days` ago go; counts stay."""
    async with db.begin() as session:
        return await retention.purge_due(session, now=now, days=days)


async def _clean_up_job(ctx: Ctx) -> None:
    if not await ctx.services.leadership.held():
        return
    removed = await clean_up(ctx.db, now=utcnow())
    if removed:
        log.info("removed %d expired drafts", removed)
    purged = await delete_old_answers(ctx.db, now=utcnow(), days=ctx.settings.retention_days)
    if purged:
        log.info("deleted the answers of %d polls after the retention period", purged)


async def _polls_job(ctx: Ctx) -> None:
    """Only in the leading process: recurring rounds, planned polls, reminders, deadlines."""
    if not await ctx.services.leadership.held():
        return
    await run_due(ctx.bot, ctx.db, pseudonym_key=ctx.settings.pseudonym_key, now=utcnow())
    ctx.services.outbox.kick()


async def run_due(bot: Bot, db: Database, *, pseudonym_key: str, now: datetime) -> None:
    """Everything that is due at `now` (a plain function, so tests pass their own clock)."""
    await run_schedules(db, now=now)
    await open_due_polls(db, now=now)
    await send_reminders(db, pseudonym_key=pseudonym_key, now=now)
    await close_due_polls(bot, db, now=now)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    if app.job_queue is None:
        raise RuntimeError("install python-telegram-bot with the job-queue extra")
    app.job_queue.run_repeating(
        _clean_up_job, interval=timedelta(hours=1), first=timedelta(minutes=1), name="clean_up"
    )
    app.job_queue.run_repeating(
        _polls_job, interval=timedelta(seconds=30), first=timedelta(seconds=5), name="open_close"
    )
