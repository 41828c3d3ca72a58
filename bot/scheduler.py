"""Jobs on the application's JobQueue (APScheduler underneath; one scheduler, not two).

Each job is a thin wrapper around a plain function that takes `now`, so tests can pass a
fixed clock.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from telegram.ext import Application

from bot.closing import close_due_polls, open_due_polls
from bot.context import Ctx
from storage import drafts
from storage.db import Database
from storage.models import utcnow

log = logging.getLogger(__name__)


async def clean_up(db: Database, *, now: datetime) -> int:
    """Remove drafts nobody finished; returns how many went."""
    async with db.begin() as session:
        return await drafts.drop_expired_drafts(session, now=now)


async def _clean_up_job(ctx: Ctx) -> None:
    removed = await clean_up(ctx.db, now=utcnow())
    if removed:
        log.info("removed %d expired drafts", removed)


async def _polls_job(ctx: Ctx) -> None:
    """Open planned polls whose moment came, close those past their deadline."""
    now = utcnow()
    if await open_due_polls(ctx.db, now=now):
        ctx.services.outbox.kick()
    await close_due_polls(ctx.bot, ctx.db, now=now)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    if app.job_queue is None:
        raise RuntimeError("install python-telegram-bot with the job-queue extra")
    app.job_queue.run_repeating(
        _clean_up_job, interval=timedelta(hours=1), first=timedelta(minutes=1), name="clean_up"
    )
    app.job_queue.run_repeating(
        _polls_job, interval=timedelta(seconds=30), first=timedelta(seconds=5), name="open_close"
    )
